/*
 * memcpy_rate: this machine's single-core memcpy rate, the yardstick for host-memory busbw
 * (perf/allreduce_vs_mpi.sh reports braid's 64 MiB all-reduce busbw as a fraction of it).
 *
 *   braid_memcpy_rate [-s size (default 64M)] [-r repeats (default 21)]
 *
 * Buffers are larger than any cache so the copy runs at memory speed, pages are touched before
 * timing so faults are not counted, and the median of the repeats resists a noisy neighbour.
 * The rate counts bytes copied (the size of one buffer per copy), as nccl-tests counts bytes.
 * Output: a human line, then "bytes_per_sec <n>" for scripts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

/* Sizes as braid-perf takes them: a number with an optional K, M or G (powers of 1024). */
static int parse_size(const char *text, size_t *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || v <= 0)
        return -1;
    switch (*end) {
    case 'K':
    case 'k':
        v *= 1024.0;
        end++;
        break;
    case 'M':
    case 'm':
        v *= 1024.0 * 1024.0;
        end++;
        break;
    case 'G':
    case 'g':
        v *= 1024.0 * 1024.0 * 1024.0;
        end++;
        break;
    default:
        break;
    }
    if (*end != '\0')
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_args(int argc, char **argv, size_t *bytes, int *repeats)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            if (parse_size(argv[++i], bytes) != 0)
                return -1;
        } else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            *repeats = atoi(argv[++i]);
            if (*repeats < 1)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t bytes = 64u << 20;
    int repeats = 21;
    double *rates;
    char *src, *dst;
    volatile char sink;

    if (parse_args(argc, argv, &bytes, &repeats) != 0) {
        fprintf(stderr, "usage: %s [-s size (64M)] [-r repeats (21)]\n", argv[0]);
        return 2;
    }
    src = malloc(bytes);
    dst = malloc(bytes);
    rates = calloc((size_t)repeats, sizeof(*rates));
    if (!src || !dst || !rates) {
        fprintf(stderr, "%s: cannot allocate 2 x %zu bytes\n", argv[0], bytes);
        return 2;
    }
    memset(src, 1, bytes);
    memset(dst, 2, bytes);
    memcpy(dst, src, bytes); /* warm-up: TLB, and the first pass of any lazy allocation */
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_now();
        memcpy(dst, src, bytes);
        rates[r] = (double)bytes / (bench_now() - t0);
    }
    qsort(rates, (size_t)repeats, sizeof(*rates), bench_cmp_double);
    printf("memcpy_rate: %zu MiB buffers, median of %d: %.2f GB/s (min %.2f, max %.2f)\n",
           bytes >> 20, repeats, rates[repeats / 2] / 1e9, rates[0] / 1e9,
           rates[repeats - 1] / 1e9);
    printf("bytes_per_sec %.0f\n", rates[repeats / 2]);
    sink = dst[bytes / 2]; /* the copies' results are used, so none can be optimised away */
    free(rates);
    free(src);
    free(dst);
    return sink == 42 && repeats < 0; /* always 0 */
}
