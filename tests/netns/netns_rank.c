/*
 * One rank of a multi-host test (netns_run.sh starts one per rank, each inside the network
 * namespace that plays its host). It joins through braid_comm_init_env (BRAID_ROOT,
 * BRAID_RANK, BRAID_NRANKS, BRAID_SECRET), then runs every collective at sizes from one element
 * to 64 MiB, rotating dtypes and ops, and checks every output element against values.c, which
 * computes them independently of braid. Exit code: 0 all right, 1 a wrong result or failed
 * call, 2 the comm could not be created (the message says why, e.g. a wrong
 * BRAID_SOCKET_IFNAME and the interfaces this host has).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braid.h"
#include "cases.h"
#include "values.h"

struct pick {
    braid_dtype_t dt;
    braid_op_t op;
};

/* Rotated over the calls so every collective meets several dtypes and ops; the 64 MiB calls
 * use float32 sum, the case that matters for bandwidth. */
static const struct pick picks[] = {{BRAID_INT32, BRAID_MAX},    {BRAID_BFLOAT16, BRAID_SUM},
                                    {BRAID_FLOAT64, BRAID_PROD}, {BRAID_UINT8, BRAID_MIN},
                                    {BRAID_FLOAT16, BRAID_AVG},  {BRAID_INT64, BRAID_SUM},
                                    {BRAID_FLOAT32, BRAID_SUM}};
#define NPICKS (sizeof(picks) / sizeof(picks[0]))

struct call {
    int coll, size_class, root;
    braid_dtype_t dt;
    braid_op_t op;
    size_t count, in_blocks, out_blocks;
    char *send, *recv;
};

static int input_op(const struct call *c)
{
    int reduces = c->coll == TC_ALL_REDUCE || c->coll == TC_REDUCE_SCATTER || c->coll == TC_REDUCE;
    return reduces ? c->op : BRAID_SUM;
}

static int prepare(struct call *c, int rank, int n)
{
    size_t es = braid_dtype_size(c->dt);
    c->count = tc_count(c->coll, c->size_class, n, es);
    c->in_blocks = c->coll == TC_REDUCE_SCATTER || c->coll == TC_ALL_TO_ALL ? (size_t)n : 1;
    c->out_blocks = c->coll == TC_ALL_GATHER || c->coll == TC_ALL_TO_ALL ? (size_t)n : 1;
    c->send = malloc(c->in_blocks * c->count * es + 1);
    c->recv = malloc(c->out_blocks * c->count * es + 1);
    if (!c->send || !c->recv)
        return -1;
    memset(c->recv, 0x5a, c->out_blocks * c->count * es + 1);
    for (size_t b = 0; b < c->in_blocks; b++)
        for (size_t i = 0; i < c->count; i++)
            tv_store(c->send, c->dt, b * c->count + i,
                     tv_input(c->dt, (braid_op_t)input_op(c), rank, b, i));
    return 0;
}

static braid_result_t run(const struct call *c, braid_comm_t comm, int rank, int n)
{
    switch (c->coll) {
    case TC_ALL_REDUCE:
        return braid_all_reduce(c->send, c->recv, c->count, c->dt, c->op, comm, NULL);
    case TC_ALL_GATHER:
        return braid_all_gather(c->send, c->recv, c->count, c->dt, comm, NULL);
    case TC_REDUCE_SCATTER:
        return braid_reduce_scatter(c->send, c->recv, c->count, c->dt, c->op, comm, NULL);
    case TC_ALL_TO_ALL:
        return braid_all_to_all(c->send, c->recv, c->count, c->dt, comm, NULL);
    case TC_BROADCAST:
        return braid_broadcast(c->send, c->recv, c->count, c->dt, c->root, comm, NULL);
    case TC_REDUCE:
        return braid_reduce(c->send, c->recv, c->count, c->dt, c->op, c->root, comm, NULL);
    default: {
        braid_result_t res = braid_group_start();
        if (res == BRAID_SUCCESS)
            res = braid_send(c->send, c->count, c->dt, (rank + 1) % n, comm, NULL);
        if (res == BRAID_SUCCESS)
            res = braid_recv(c->recv, c->count, c->dt, (rank + n - 1) % n, comm, NULL);
        braid_result_t end = braid_group_end();
        return res != BRAID_SUCCESS ? res : end;
    }
    }
}

static double expected(const struct call *c, int rank, int n, size_t b, size_t i)
{
    switch (c->coll) {
    case TC_ALL_REDUCE:
    case TC_REDUCE:
        return tv_expected(c->dt, c->op, n, 0, i);
    case TC_REDUCE_SCATTER:
        return tv_expected(c->dt, c->op, n, (size_t)rank, i);
    case TC_ALL_GATHER:
        return tv_input(c->dt, BRAID_SUM, (int)b, 0, i);
    case TC_ALL_TO_ALL:
        return tv_input(c->dt, BRAID_SUM, (int)b, (size_t)rank, i);
    case TC_BROADCAST:
        return tv_input(c->dt, BRAID_SUM, c->root, 0, i);
    default:
        return tv_input(c->dt, BRAID_SUM, (rank + n - 1) % n, 0, i);
    }
}

static size_t count_wrong(const struct call *c, int rank, int n, const char *what)
{
    if (c->coll == TC_REDUCE && rank != c->root)
        return 0;
    size_t wrong = 0;
    for (size_t b = 0; b < c->out_blocks; b++)
        for (size_t i = 0; i < c->count; i++) {
            double want = expected(c, rank, n, b, i);
            double got = tv_load(c->recv, c->dt, b * c->count + i);
            if (!tv_match(c->dt, c->op, got, want) && wrong++ < 3)
                fprintf(stderr, "FAIL %s: block %zu element %zu: got %g, expected %g\n", what, b, i,
                        got, want);
        }
    return wrong;
}

/* Runs one call and checks it; returns 0 right, 1 wrong, 2 failed (the comm is broken). */
static int one_call(struct call *c, braid_comm_t comm, int rank, int n)
{
    char what[160];
    snprintf(what, sizeof(what), "%s %s %s size#%d nranks=%d root=%d (rank %d)",
             tc_coll_names[c->coll], braid_dtype_name(c->dt), braid_op_name(c->op), c->size_class,
             n, c->root, rank);
    if (prepare(c, rank, n) != 0) {
        fprintf(stderr, "FAIL %s: out of memory\n", what);
        return 2;
    }
    braid_result_t res = run(c, comm, rank, n);
    int status = 0;
    if (res != BRAID_SUCCESS) {
        fprintf(stderr, "FAIL %s: %s: %s\n", what, braid_result_string(res),
                braid_last_error(comm));
        status = 2;
    } else if (count_wrong(c, rank, n, what) > 0) {
        status = 1;
    }
    free(c->send);
    free(c->recv);
    return status;
}

int main(void)
{
    braid_comm_t comm = NULL;
    braid_result_t res = braid_comm_init_env(&comm, NULL);
    if (res != BRAID_SUCCESS) {
        fprintf(stderr, "netns_rank: init failed: %s: %s\n", braid_result_string(res),
                braid_last_error(NULL));
        return 2;
    }
    int rank = 0, n = 1, failures = 0, calls = 0;
    braid_comm_user_rank(comm, &rank);
    braid_comm_count(comm, &n);
    static const int sizes[] = {1, 3, 4, 5}; /* 1 element, 13n+5, 1 MiB, 64 MiB */
    for (int coll = 0; coll < TC_NCOLLS; coll++)
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++, calls++) {
            struct pick p = sizes[s] == 5 ? picks[NPICKS - 1] : picks[calls % NPICKS];
            struct call c = {
                .coll = coll, .size_class = sizes[s], .root = calls % n, .dt = p.dt, .op = p.op};
            int st = one_call(&c, comm, rank, n);
            failures += st != 0;
            if (st == 2)
                goto out;
        }
    res = braid_comm_finalize(comm);
    if (res != BRAID_SUCCESS) {
        fprintf(stderr, "FAIL finalize: %s: %s\n", braid_result_string(res),
                braid_last_error(comm));
        failures++;
    }
out:
    braid_comm_destroy(comm);
    printf("netns_rank %d of %d: %d calls, %d failed\n", rank, n, calls, failures);
    return failures ? 1 : 0;
}
