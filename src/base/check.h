/*
 * Result propagation. Every internal function that can fail returns braid_result_t; callers
 * wrap it in BRAID_CHECK, which returns the failure upwards and appends "file:line" to the
 * thread's error trail, so the final message shows where the failure travelled.
 */
#ifndef BRAID_BASE_CHECK_H
#define BRAID_BASE_CHECK_H

#include <errno.h>

#include "base/error.h"
#include "braid.h"

#define BRAID_CHECK(call)                                                                          \
    do {                                                                                           \
        braid_result_t braid_res_ = (call);                                                        \
        if (braid_res_ < 0) {                                                                      \
            braid__err_trail(__FILE__, __LINE__);                                                  \
            return braid_res_;                                                                     \
        }                                                                                          \
    } while (0)

#define BRAID_CHECK_GOTO(call, res, label)                                                         \
    do {                                                                                           \
        (res) = (call);                                                                            \
        if ((res) < 0) {                                                                           \
            braid__err_trail(__FILE__, __LINE__);                                                  \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

/* Evaluates a system call that returns -1 and sets errno, retrying on EINTR. On failure it
 * records "<what>: <strerror>" as a BRAID_ERR_SYSTEM error and returns it. */
#define SYS_CHECK(call, what)                                                                      \
    do {                                                                                           \
        int sys_ret_;                                                                              \
        do {                                                                                       \
            sys_ret_ = (int)(call);                                                                \
        } while (sys_ret_ == -1 && errno == EINTR);                                                \
        if (sys_ret_ == -1)                                                                        \
            return braid__err(BRAID_ERR_SYSTEM, "%s failed: %s (%s:%d)", (what), strerror(errno),  \
                              __FILE__, __LINE__);                                                 \
    } while (0)

/* Validates a user argument: fails with BRAID_ERR_INVALID_ARGUMENT and a message naming it. */
#define BRAID_ARG_CHECK(cond, ...)                                                                 \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return braid__err(BRAID_ERR_INVALID_ARGUMENT, __VA_ARGS__);                            \
    } while (0)

#endif
