/*
 * Random bytes from the kernel's CSPRNG, for secrets, tokens and unguessable names.
 */
#ifndef BRAID_BASE_RANDOM_H
#define BRAID_BASE_RANDOM_H

#include <stddef.h>

#include "braid.h"

/* Fills buf with len cryptographically random bytes (getrandom, retried on EINTR). Fails with
 * BRAID_ERR_SYSTEM naming errno. Thread-safe. */
braid_result_t braid__random_bytes(void *buf, size_t len);

#endif
