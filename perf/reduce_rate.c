/*
 * reduce_rate: throughput of the host reduction loops against memcpy, to show that the
 * executor's reduce steps run at memory speed.
 *
 *   braid_reduce_rate [MiB per buffer, default 64] [iterations, default 20]
 *
 * Each line gives the best and median time over the iterations and two rates: "elem GB/s"
 * counts the bytes of one buffer (n * elemsize, what nccl-tests calls the size), "traffic
 * GB/s" counts every byte read and written (3 buffers for a two-input reduce, 2 for a copy),
 * which is what the memory system actually moves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "braid.h"
#include "exec/dtype_math.h"
#include "exec/reduce_host.h"

typedef enum { K_MEMCPY, K_REDUCE, K_REDUCE_INPLACE, K_COPY_AVG } kind_t;

static void run_once(kind_t kind, void *dst, void *a, void *b, size_t n, braid_dtype_t dt)
{
    switch (kind) {
    case K_MEMCPY:
        memcpy(dst, a, n * braid_dtype_size(dt));
        break;
    case K_REDUCE:
        braid__reduce_host(dst, NULL, a, b, n, dt, BRAID_SUM, 0);
        break;
    case K_REDUCE_INPLACE:
        braid__reduce_host(a, NULL, a, b, n, dt, BRAID_SUM, 0);
        break;
    case K_COPY_AVG:
        braid__copy_host(dst, NULL, a, n, dt, BRAID_AVG, 4);
        break;
    }
}

static void measure(const char *label, kind_t kind, void *dst, void *a, void *b, size_t bytes,
                    braid_dtype_t dt, int iters, int streams)
{
    size_t n = bytes / braid_dtype_size(dt);
    double *t = malloc(sizeof(double) * (size_t)iters);
    if (t == NULL)
        return;
    run_once(kind, dst, a, b, n, dt); /* warm-up: page faults, caches */
    for (int i = 0; i < iters; i++) {
        double t0 = bench_now();
        run_once(kind, dst, a, b, n, dt);
        t[i] = bench_now() - t0;
    }
    qsort(t, (size_t)iters, sizeof(double), bench_cmp_double);
    double best = t[0], median = t[iters / 2];
    printf("%-26s %-9s %10zu  best %9.3f ms  median %9.3f ms  elem %7.2f GB/s  traffic %7.2f "
           "GB/s\n",
           label, braid_dtype_name(dt), bytes, best * 1e3, median * 1e3,
           (double)bytes / median / 1e9, (double)bytes * streams / median / 1e9);
    free(t);
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
    int iters = argc > 2 ? atoi(argv[2]) : 20;
    if (mib == 0 || iters <= 0) {
        fprintf(stderr, "usage: %s [MiB per buffer] [iterations]\n", argv[0]);
        return 2;
    }
    size_t bytes = mib << 20;
    char *a = aligned_alloc(64, bytes), *b = aligned_alloc(64, bytes),
         *d = aligned_alloc(64, bytes);
    if (a == NULL || b == NULL || d == NULL) {
        fprintf(stderr, "cannot allocate 3 x %zu MiB\n", mib);
        return 1;
    }
    /* Small finite values, so the float loops never meet NaN or overflow. */
    for (size_t i = 0; i < bytes / sizeof(float); i++) {
        ((float *)a)[i] = (float)(i % 1000) * 0.5f;
        ((float *)b)[i] = (float)(i % 777) * 0.25f;
    }
    memset(d, 0, bytes);
    printf("# %zu MiB per buffer, %d iterations\n", mib, iters);
    measure("memcpy", K_MEMCPY, d, a, b, bytes, BRAID_FLOAT32, iters, 2);
    measure("reduce sum d=a+b", K_REDUCE, d, a, b, bytes, BRAID_FLOAT32, iters, 3);
    measure("reduce sum a+=b (in place)", K_REDUCE_INPLACE, d, a, b, bytes, BRAID_FLOAT32, iters,
            3);
    measure("reduce sum d=a+b", K_REDUCE, d, a, b, bytes, BRAID_FLOAT64, iters, 3);
    measure("copy avg d=a/4", K_COPY_AVG, d, a, b, bytes, BRAID_FLOAT32, iters, 2);
    measure("reduce sum d=a+b", K_REDUCE, d, a, b, bytes, BRAID_INT32, iters, 3);
    /* The narrow floats get values of their own type (the float32 bits above would read as
     * a random mix of NaNs and subnormals, which is not what a model's gradients look like). */
    for (size_t i = 0; i < bytes / sizeof(uint16_t); i++) {
        ((uint16_t *)a)[i] = braid__f32_to_bf16((float)(i % 1000) * 0.5f);
        ((uint16_t *)b)[i] = braid__f32_to_bf16((float)(i % 777) * 0.25f);
    }
    measure("reduce sum d=a+b", K_REDUCE, d, a, b, bytes, BRAID_BFLOAT16, iters, 3);
    for (size_t i = 0; i < bytes / sizeof(uint16_t); i++) {
        ((uint16_t *)a)[i] = braid__f32_to_f16((float)(i % 1000) * 0.5f);
        ((uint16_t *)b)[i] = braid__f32_to_f16((float)(i % 777) * 0.25f);
    }
    measure("reduce sum d=a+b", K_REDUCE, d, a, b, bytes, BRAID_FLOAT16, iters, 3);
    free(a);
    free(b);
    free(d);
    return 0;
}
