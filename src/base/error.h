/*
 * Error detail. A failure is recorded once, where it is understood (what failed, the resource,
 * the likely fix), into a per-thread buffer; BRAID_CHECK adds the file:line trail on the way
 * up, and the public entry points copy the final text into the comm's last error.
 */
#ifndef BRAID_BASE_ERROR_H
#define BRAID_BASE_ERROR_H

#include <string.h>

#include "braid.h"

#define BRAID_ERR_MSG_MAX 1024

/* Records `code` with a printf-style detail as this thread's current error and returns code.
 * A later braid__err replaces the detail; the trail restarts. Logged at INFO (WARN would
 * duplicate what the caller reports). */
braid_result_t braid__err(braid_result_t code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends " < file:line" to the current error's trail (at most a few frames are kept). */
void braid__err_trail(const char *file, int line);

/* This thread's current error text (detail plus trail), "" if none. */
const char *braid__err_text(void);

/* Forgets this thread's current error (at the start of a public call). */
void braid__err_clear(void);

/* Copies this thread's current error text into dst (size BRAID_ERR_MSG_MAX). */
void braid__err_copy(char *dst);

#endif
