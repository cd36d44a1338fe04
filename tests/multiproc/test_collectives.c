/*
 * Every collective x dtype x op x size x in-place x algorithm, on nranks ranks run as threads
 * or forked processes (see cases.h for how the space is covered). Expected values come from
 * values.c, computed independently of braid.
 *
 *   test_collectives --nranks N --mode threads|procs [--exhaustive] [--list]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cases.h"
#include "harness.h"
#include "values.h"

struct run {
    struct tcase *cases;
    int ncases;
    int *failed; /* [ncases]: ranks that failed each case; shared across fork */
};

struct layout {
    size_t count, in_blocks, out_blocks, esize;
    int root;
    char *send, *recv;         /* what the call gets */
    char *send_mem, *recv_mem; /* what was allocated */
};

static void describe(const struct tcase *t, int rank, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s %s size#%d %s algo=%s nranks=%d %s (rank %d)",
             tc_coll_names[t->v[AX_COLL]], braid_dtype_name((braid_dtype_t)t->v[AX_DTYPE]),
             braid_op_name((braid_op_t)t->v[AX_OP]), t->v[AX_SIZE],
             t->v[AX_INPLACE] ? "in-place" : "out-of-place", tc_algo_names[t->v[AX_ALGO]],
             t->v[AX_NRANKS] + 1, t->v[AX_MODE] ? "procs" : "threads", rank);
}

static int input_op(const struct tcase *t)
{
    int coll = t->v[AX_COLL];
    int reduces = coll == TC_ALL_REDUCE || coll == TC_REDUCE_SCATTER || coll == TC_REDUCE;
    return reduces ? t->v[AX_OP] : BRAID_SUM;
}

static void setup(const struct tcase *t, int rank, int n, int case_index, struct layout *l)
{
    int coll = t->v[AX_COLL];
    braid_dtype_t dt = (braid_dtype_t)t->v[AX_DTYPE];
    l->esize = braid_dtype_size(dt);
    l->count = tc_count(coll, t->v[AX_SIZE], n, l->esize);
    l->in_blocks = coll == TC_REDUCE_SCATTER || coll == TC_ALL_TO_ALL ? (size_t)n : 1;
    l->out_blocks = coll == TC_ALL_GATHER || coll == TC_ALL_TO_ALL ? (size_t)n : 1;
    l->root = case_index % n;
    size_t block = l->count * l->esize;
    int inplace = t->v[AX_INPLACE] && coll != TC_SENDRECV;
    /* One extra byte keeps malloc(0) distinct from NULL. */
    l->recv_mem = malloc(l->out_blocks * block + 1);
    memset(l->recv_mem, 0x5a, l->out_blocks * block + 1);
    l->send_mem = inplace && coll != TC_REDUCE_SCATTER ? NULL : malloc(l->in_blocks * block + 1);
    l->recv = l->recv_mem;
    l->send = l->send_mem;
    if (inplace) {
        if (coll == TC_ALL_GATHER)
            l->send = l->recv + (size_t)rank * block;
        else if (coll == TC_REDUCE_SCATTER)
            l->recv = l->send + (size_t)rank * block;
        else
            l->send = l->recv;
    }
    for (size_t b = 0; b < l->in_blocks; b++)
        for (size_t i = 0; i < l->count; i++)
            tv_store(l->send, dt, b * l->count + i,
                     tv_input(dt, (braid_op_t)input_op(t), rank, b, i));
    if (coll == TC_REDUCE && rank != l->root && !inplace)
        l->recv = NULL; /* recvbuf is only significant at the root */
}

static braid_result_t call(const struct tcase *t, struct layout *l, braid_comm_t comm, int rank,
                           int n)
{
    braid_dtype_t dt = (braid_dtype_t)t->v[AX_DTYPE];
    braid_op_t op = (braid_op_t)t->v[AX_OP];
    switch (t->v[AX_COLL]) {
    case TC_ALL_REDUCE:
        return braid_all_reduce(l->send, l->recv, l->count, dt, op, comm, NULL);
    case TC_ALL_GATHER:
        return braid_all_gather(l->send, l->recv, l->count, dt, comm, NULL);
    case TC_REDUCE_SCATTER:
        return braid_reduce_scatter(l->send, l->recv, l->count, dt, op, comm, NULL);
    case TC_ALL_TO_ALL:
        return braid_all_to_all(l->send, l->recv, l->count, dt, comm, NULL);
    case TC_BROADCAST:
        return braid_broadcast(l->send, l->recv, l->count, dt, l->root, comm, NULL);
    case TC_REDUCE:
        return braid_reduce(l->send, l->recv, l->count, dt, op, l->root, comm, NULL);
    default: {
        braid_result_t res = braid_group_start();
        if (res == BRAID_SUCCESS)
            res = braid_send(l->send, l->count, dt, (rank + 1) % n, comm, NULL);
        if (res == BRAID_SUCCESS)
            res = braid_recv(l->recv, l->count, dt, (rank + n - 1) % n, comm, NULL);
        braid_result_t end = braid_group_end();
        return res != BRAID_SUCCESS ? res : end;
    }
    }
}

/* The expected value of output element i of block b on this rank. */
static double expected(const struct tcase *t, const struct layout *l, int rank, int n, size_t b,
                       size_t i)
{
    braid_dtype_t dt = (braid_dtype_t)t->v[AX_DTYPE];
    braid_op_t op = (braid_op_t)t->v[AX_OP];
    switch (t->v[AX_COLL]) {
    case TC_ALL_REDUCE:
    case TC_REDUCE:
        return tv_expected(dt, op, n, 0, i);
    case TC_REDUCE_SCATTER:
        return tv_expected(dt, op, n, (size_t)rank, i);
    case TC_ALL_GATHER:
        return tv_input(dt, BRAID_SUM, (int)b, 0, i);
    case TC_ALL_TO_ALL:
        return tv_input(dt, BRAID_SUM, (int)b, (size_t)rank, i);
    case TC_BROADCAST:
        return tv_input(dt, BRAID_SUM, l->root, 0, i);
    default:
        return tv_input(dt, BRAID_SUM, (rank + n - 1) % n, 0, i);
    }
}

static int check(const struct tcase *t, const struct layout *l, int rank, int n, const char *what)
{
    if (t->v[AX_COLL] == TC_REDUCE && rank != l->root)
        return 0;
    braid_dtype_t dt = (braid_dtype_t)t->v[AX_DTYPE];
    braid_op_t op = (braid_op_t)t->v[AX_OP];
    size_t wrong = 0;
    for (size_t b = 0; b < l->out_blocks; b++)
        for (size_t i = 0; i < l->count; i++) {
            double want = expected(t, l, rank, n, b, i);
            double got = tv_load(l->recv, dt, b * l->count + i);
            if (tv_match(dt, op, got, want))
                continue;
            if (wrong++ < 3)
                fprintf(stderr, "FAIL %s: block %zu element %zu: got %g, expected %g\n", what, b, i,
                        got, want);
        }
    if (wrong > 3)
        fprintf(stderr, "FAIL %s: %zu wrong elements in all\n", what, wrong);
    return wrong > 0;
}

static int run_cases(braid_comm_t comm, int rank, int n, void *arg)
{
    struct run *run = arg;
    int failures = 0;
    for (int k = 0; k < run->ncases; k++) {
        const struct tcase *t = &run->cases[k];
        char what[256];
        describe(t, rank, what, sizeof(what));
        struct layout l;
        setup(t, rank, n, k, &l);
        braid_result_t res = call(t, &l, comm, rank, n);
        int bad = 0;
        if (res != BRAID_SUCCESS) {
            fprintf(stderr, "FAIL %s: %s: %s\n", what, braid_result_string(res),
                    braid_last_error(comm));
            bad = 1;
        } else {
            bad = check(t, &l, rank, n, what);
        }
        free(l.send_mem);
        free(l.recv_mem);
        if (bad) {
            __atomic_add_fetch(&run->failed[k], 1, __ATOMIC_RELAXED);
            failures++;
            if (res != BRAID_SUCCESS)
                return failures; /* the comm is broken after a failed call */
        }
    }
    return failures;
}

static int parse_args(int argc, char **argv, int *nranks, int *mode, int *exhaustive, int *list)
{
    *nranks = 0, *mode = -1, *exhaustive = 0, *list = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--nranks") && i + 1 < argc)
            *nranks = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            *mode = strcmp(argv[++i], "procs") == 0;
        else if (!strcmp(argv[i], "--exhaustive"))
            *exhaustive = 1;
        else if (!strcmp(argv[i], "--list"))
            *list = 1;
        else
            return -1;
    }
    return *nranks >= 1 && *nranks <= TC_MAX_RANKS && *mode >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int nranks, mode, exhaustive, list;
    if (parse_args(argc, argv, &nranks, &mode, &exhaustive, &list) != 0) {
        fprintf(stderr, "usage: %s --nranks 1..%d --mode threads|procs [--exhaustive] [--list]\n",
                argv[0], TC_MAX_RANKS);
        return 2;
    }
    harness_raise_fd_limit();
    struct tcase *all;
    int nall = exhaustive ? tc_exhaustive(nranks, mode, &all) : tc_pairwise(&all);
    int passed = 0, failed = 0;
    for (int algo = 0; algo < TC_NALGOS; algo++) {
        struct run run = {.cases = malloc((size_t)nall * sizeof(struct tcase))};
        for (int k = 0; k < nall; k++)
            if (all[k].v[AX_NRANKS] == nranks - 1 && all[k].v[AX_MODE] == mode &&
                all[k].v[AX_ALGO] == algo)
                run.cases[run.ncases++] = all[k];
        if (run.ncases == 0) {
            free(run.cases);
            continue;
        }
        run.failed = mmap(NULL, (size_t)run.ncases * sizeof(int), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        for (int k = 0; list && k < run.ncases; k++) {
            char what[256];
            describe(&run.cases[k], 0, what, sizeof(what));
            printf("%s\n", what);
        }
        braid_config_t config = BRAID_CONFIG_INIT;
        config.algorithm = algo == 0 ? NULL : tc_algo_names[algo];
        int bad_ranks =
            list ? 0 : harness_run(nranks, (enum harness_mode)mode, run_cases, &run, 600, &config);
        for (int k = 0; k < run.ncases; k++)
            run.failed[k] || bad_ranks ? failed++ : passed++;
        munmap(run.failed, (size_t)run.ncases * sizeof(int));
        free(run.cases);
    }
    free(all);
    printf("nranks %d %s: %d passed, %d failed\n", nranks, harness_mode_name(mode), passed, failed);
    return failed ? 1 : 0;
}
