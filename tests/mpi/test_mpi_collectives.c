/*
 * braid under MPI, bootstrapped the way MPI jobs do it: rank 0 creates the unique id and
 * MPI_Bcast sends it. Every collective runs on the same random inputs through braid and
 * through MPI's own MPI_Allreduce / MPI_Allgather / MPI_Reduce_scatter_block / MPI_Alltoall /
 * MPI_Bcast / MPI_Reduce / MPI_Sendrecv, and the results must agree. Inputs are random small
 * integers (also for floats), so every reduction order gives the same exact result.
 * dtypes MPI lacks (float16, bfloat16, fp8) are covered by the multiproc suite instead.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braid.h"

struct dtype_map {
    braid_dtype_t braid;
    MPI_Datatype mpi;
    size_t size;
    int is_signed;
    int is_float;
};

static struct dtype_map dtypes[8];

static void init_dtypes(void)
{
    struct dtype_map d[8] = {
        {BRAID_INT8, MPI_INT8_T, 1, 1, 0},   {BRAID_UINT8, MPI_UINT8_T, 1, 0, 0},
        {BRAID_INT32, MPI_INT32_T, 4, 1, 0}, {BRAID_UINT32, MPI_UINT32_T, 4, 0, 0},
        {BRAID_INT64, MPI_INT64_T, 8, 1, 0}, {BRAID_UINT64, MPI_UINT64_T, 8, 0, 0},
        {BRAID_FLOAT32, MPI_FLOAT, 4, 1, 1}, {BRAID_FLOAT64, MPI_DOUBLE, 8, 1, 1},
    };
    memcpy(dtypes, d, sizeof(d));
}

static MPI_Op mpi_op(braid_op_t op)
{
    return op == BRAID_SUM    ? MPI_SUM
           : op == BRAID_PROD ? MPI_PROD
           : op == BRAID_MIN  ? MPI_MIN
                              : MPI_MAX;
}

/* A random value that keeps every reduction over 8 ranks exact and in range. */
static void fill(void *buf, size_t n, const struct dtype_map *d, braid_op_t op, unsigned *seed)
{
    for (size_t i = 0; i < n; i++) {
        int v = op == BRAID_PROD ? 1 + (rand_r(seed) % 2) : (int)(rand_r(seed) % 15);
        if (d->is_signed && op != BRAID_PROD)
            v -= 7;
        switch (d->size * 2 + d->is_float) {
        case 2:
            ((int8_t *)buf)[i] = (int8_t)v;
            break;
        case 8:
            ((int32_t *)buf)[i] = v;
            break;
        case 9:
            ((float *)buf)[i] = (float)v;
            break;
        case 16:
            ((int64_t *)buf)[i] = v;
            break;
        default:
            ((double *)buf)[i] = v;
            break;
        }
    }
}

static int compare(const void *got, const void *want, size_t bytes, const char *what, int rank)
{
    if (memcmp(got, want, bytes) == 0)
        return 0;
    const unsigned char *g = got, *w = want;
    size_t at = 0;
    while (at < bytes && g[at] == w[at])
        at++;
    fprintf(stderr, "rank %d: %s differs from MPI at byte %zu of %zu\n", rank, what, at, bytes);
    return 1;
}

struct ctx {
    braid_comm_t comm;
    int rank, nranks;
    unsigned seed;
};

static int check_reductions(struct ctx *c, const struct dtype_map *d, braid_op_t op, size_t n)
{
    int bad = 0, root = (int)(n % (size_t)c->nranks);
    size_t bytes = n * d->size, all = bytes * (size_t)c->nranks;
    char *in = malloc(all + 1), *a = malloc(all + 1), *b = malloc(all + 1);
    char what[96];
    fill(in, n * (size_t)c->nranks, d, op, &c->seed);
    snprintf(what, sizeof(what), "all_reduce %s %s n=%zu", braid_dtype_name(d->braid),
             braid_op_name(op), n);
    braid_all_reduce(in, a, n, d->braid, op, c->comm, NULL);
    MPI_Allreduce(in, b, (int)n, d->mpi, mpi_op(op), MPI_COMM_WORLD);
    bad += compare(a, b, bytes, what, c->rank);
    snprintf(what, sizeof(what), "reduce_scatter %s %s n=%zu", braid_dtype_name(d->braid),
             braid_op_name(op), n);
    braid_reduce_scatter(in, a, n, d->braid, op, c->comm, NULL);
    MPI_Reduce_scatter_block(in, b, (int)n, d->mpi, mpi_op(op), MPI_COMM_WORLD);
    bad += compare(a, b, bytes, what, c->rank);
    snprintf(what, sizeof(what), "reduce %s %s n=%zu root %d", braid_dtype_name(d->braid),
             braid_op_name(op), n, root);
    braid_reduce(in, a, n, d->braid, op, root, c->comm, NULL);
    MPI_Reduce(in, b, (int)n, d->mpi, mpi_op(op), root, MPI_COMM_WORLD);
    if (c->rank == root)
        bad += compare(a, b, bytes, what, c->rank);
    free(in);
    free(a);
    free(b);
    return bad;
}

static int check_movement(struct ctx *c, const struct dtype_map *d, size_t n)
{
    int bad = 0, n_r = c->nranks, root = (int)((n / 3) % (size_t)n_r);
    size_t bytes = n * d->size, all = bytes * (size_t)n_r;
    char *in = malloc(all + 1), *a = malloc(all + 1), *b = malloc(all + 1);
    char what[96];
    fill(in, n * (size_t)n_r, d, BRAID_SUM, &c->seed);
    snprintf(what, sizeof(what), "all_gather %s n=%zu", braid_dtype_name(d->braid), n);
    braid_all_gather(in, a, n, d->braid, c->comm, NULL);
    MPI_Allgather(in, (int)n, d->mpi, b, (int)n, d->mpi, MPI_COMM_WORLD);
    bad += compare(a, b, all, what, c->rank);
    snprintf(what, sizeof(what), "all_to_all %s n=%zu", braid_dtype_name(d->braid), n);
    braid_all_to_all(in, a, n, d->braid, c->comm, NULL);
    MPI_Alltoall(in, (int)n, d->mpi, b, (int)n, d->mpi, MPI_COMM_WORLD);
    bad += compare(a, b, all, what, c->rank);
    snprintf(what, sizeof(what), "broadcast %s n=%zu root %d", braid_dtype_name(d->braid), n, root);
    memcpy(b, in, bytes);
    braid_broadcast(in, a, n, d->braid, root, c->comm, NULL);
    MPI_Bcast(b, (int)n, d->mpi, root, MPI_COMM_WORLD);
    bad += compare(a, b, bytes, what, c->rank);
    snprintf(what, sizeof(what), "send/recv ring %s n=%zu", braid_dtype_name(d->braid), n);
    int next = (c->rank + 1) % n_r, prev = (c->rank + n_r - 1) % n_r;
    braid_group_start();
    braid_send(in, n, d->braid, next, c->comm, NULL);
    braid_recv(a, n, d->braid, prev, c->comm, NULL);
    braid_result_t r = braid_group_end();
    MPI_Sendrecv(in, (int)n, d->mpi, next, 7, b, (int)n, d->mpi, prev, 7, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    bad += r != BRAID_SUCCESS || compare(a, b, bytes, what, c->rank);
    free(in);
    free(a);
    free(b);
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    init_dtypes();
    struct ctx c;
    MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c.nranks);
    c.seed = 12345u + (unsigned)c.rank * 7919u;
    braid_unique_id_t id;
    if (c.rank == 0 && braid_get_unique_id(&id) != BRAID_SUCCESS) {
        fprintf(stderr, "braid_get_unique_id: %s\n", braid_last_error(NULL));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
    if (braid_comm_init_rank(&c.comm, c.nranks, id, c.rank) != BRAID_SUCCESS) {
        fprintf(stderr, "rank %d: init: %s\n", c.rank, braid_last_error(NULL));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    static const size_t counts[] = {1, 7, 1000, 65539, 1u << 20};
    int cases = 0, bad = 0;
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
        for (int d = 0; d < 8; d++) {
            /* The largest count runs with one dtype per op to keep the suite short. */
            if (counts[k] > 100000 && d % 4 != 2)
                continue;
            for (int op = BRAID_SUM; op <= BRAID_MAX; op++, cases++)
                bad += check_reductions(&c, &dtypes[d], (braid_op_t)op, counts[k]) != 0;
            bad += check_movement(&c, &dtypes[d], counts[k]) != 0;
            cases++;
        }
    int total_bad = 0;
    MPI_Allreduce(&bad, &total_bad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    braid_comm_destroy(c.comm);
    if (c.rank == 0)
        printf("mpi %d ranks: %d passed, %d failed\n", c.nranks, cases - total_bad, total_bad);
    MPI_Finalize();
    return total_bad ? 1 : 0;
}
