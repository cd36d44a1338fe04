/*
 * Clocks: monotonic time for deadlines, timeouts and benchmarks of the runtime itself.
 */
#ifndef BRAID_BASE_CLOCK_H
#define BRAID_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC (vDSO: no system call). */
static inline uint64_t braid__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
static inline uint64_t braid__now_ms(void)
{
    return braid__now_ns() / 1000000ull;
}

#endif
