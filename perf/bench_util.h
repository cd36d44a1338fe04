/*
 * What the benchmark programs share: a monotonic clock in seconds and a comparator for taking
 * medians with qsort.
 */
#ifndef BRAID_PERF_BENCH_UTIL_H
#define BRAID_PERF_BENCH_UTIL_H

#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

#endif
