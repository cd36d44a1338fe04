/*
 * mpi_allreduce: Open MPI's (or any MPI's) float32 sum all-reduce, timed exactly as braid-perf
 * times braid's, so perf/allreduce_vs_mpi.sh can put the two side by side.
 *
 *   mpirun -np N braid_mpi_allreduce [-b min] [-e max] [-f factor] [-n iters] [-w warmup]
 *                                    [-R repeats]
 *
 * Per size: `warmup` calls, a barrier, `iters` back-to-back calls timed on each rank; the mean
 * per-call time is averaged over ranks (braid-perf's default -a 1). This repeats R times and the
 * median is printed, in braid-perf's (nccl-tests') columns and units: size (B), count, time
 * (us), algbw and busbw (GB/s, busbw = algbw * 2(n-1)/n). One checked call per size makes sure
 * MPI's numbers are for a correct result.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

typedef struct {
    size_t min_bytes, max_bytes, factor;
    int iters, warmup, repeats;
} opts_t;

static size_t parse_size(const char *text)
{
    char *end;
    double v = strtod(text, &end);

    if (*end == 'K' || *end == 'k')
        v *= 1024.0;
    else if (*end == 'M' || *end == 'm')
        v *= 1024.0 * 1024.0;
    else if (*end == 'G' || *end == 'g')
        v *= 1024.0 * 1024.0 * 1024.0;
    return v > 0 ? (size_t)v : 0;
}

static int parse_opts(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){32u << 20, 32u << 20, 2, 20, 5, 1};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *f = argv[i], *v = argv[i + 1];
        if (strcmp(f, "-b") == 0)
            o->min_bytes = parse_size(v);
        else if (strcmp(f, "-e") == 0)
            o->max_bytes = parse_size(v);
        else if (strcmp(f, "-f") == 0)
            o->factor = (size_t)atol(v);
        else if (strcmp(f, "-n") == 0)
            o->iters = atoi(v);
        else if (strcmp(f, "-w") == 0)
            o->warmup = atoi(v);
        else if (strcmp(f, "-R") == 0)
            o->repeats = atoi(v);
        else
            return -1;
    }
    if (argc % 2 == 0 || o->min_bytes < 4 || o->max_bytes < o->min_bytes || o->factor < 2 ||
        o->iters < 1 || o->warmup < 0 || o->repeats < 1)
        return -1;
    return 0;
}

/* Mean seconds per call of `iters` back-to-back all-reduces, averaged over ranks. */
static double time_once(const float *send, float *recv, int count, const opts_t *o, int nranks)
{
    double t0, t;

    for (int i = 0; i < o->warmup; i++)
        MPI_Allreduce(send, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    for (int i = 0; i < o->iters; i++)
        MPI_Allreduce(send, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    t = (MPI_Wtime() - t0) / o->iters;
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return t / nranks;
}

/* Inputs rank + (i % 7): small integers, so the float sum is exact in any order. */
static long check(float *send, float *recv, int count, int rank, int nranks)
{
    long wrong = 0;
    double base = (double)nranks * (nranks - 1) / 2;

    for (int i = 0; i < count; i++)
        send[i] = (float)(rank + i % 7);
    MPI_Allreduce(send, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < count; i++)
        wrong += recv[i] != (float)(base + (double)nranks * (i % 7));
    MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    return wrong;
}

static long run_size(size_t bytes, float *send, float *recv, const opts_t *o, int rank, int nranks,
                     double *times)
{
    int count = (int)(bytes / sizeof(float));
    long wrong = check(send, recv, count, rank, nranks);
    double sec, algbw;

    for (int r = 0; r < o->repeats; r++)
        times[r] = time_once(send, recv, count, o, nranks);
    qsort(times, (size_t)o->repeats, sizeof(*times), bench_cmp_double);
    sec = times[o->repeats / 2];
    algbw = (double)count * sizeof(float) / 1e9 / sec;
    /* nccl-tests' time format: fewer decimals as the number grows, same column width. */
    if (rank == 0)
        printf("%12zu  %12d  %8s  %6s  %6d  %7.*f  %6.2f  %6.2f  %5ld\n",
               (size_t)count * sizeof(float), count, "float", "sum", -1,
               sec >= 1e-2   ? 0
               : sec >= 1e-4 ? 1
                             : 2,
               sec * 1e6, algbw, algbw * 2.0 * (nranks - 1) / nranks, wrong);
    return wrong;
}

int main(int argc, char **argv)
{
    opts_t o;
    int rank, nranks, version, subversion;
    long wrong = 0;
    float *send, *recv;
    double *times;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (parse_opts(argc, argv, &o) != 0) {
        if (rank == 0)
            fprintf(stderr, "usage: %s [-b 32M] [-e 32M] [-f 2] [-n 20] [-w 5] [-R 1]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    send = calloc(o.max_bytes / sizeof(float) + 1, sizeof(float));
    recv = calloc(o.max_bytes / sizeof(float) + 1, sizeof(float));
    times = calloc((size_t)o.repeats, sizeof(double));
    if (!send || !recv || !times)
        MPI_Abort(MPI_COMM_WORLD, 2);
    MPI_Get_version(&version, &subversion);
    if (rank == 0)
        printf("# mpi_allreduce: MPI %d.%d, %d ranks, iters %d warmup %d, median of %d\n"
               "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s %6s\n",
               version, subversion, nranks, o.iters, o.warmup, o.repeats, "size", "count", "type",
               "redop", "root", "time", "algbw", "busbw", "#wrong");
    for (size_t b = o.min_bytes; b <= o.max_bytes; b *= o.factor)
        wrong += run_size(b, send, recv, &o, rank, nranks, times);
    free(times);
    free(send);
    free(recv);
    MPI_Finalize();
    return wrong ? 1 : 0;
}
