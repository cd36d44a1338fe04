/*
 * braid-perf's measurement loop, following nccl-tests step by step so its numbers mean the
 * same: warm-up at the largest then the smallest size; per size and placement one untimed call
 * and a barrier, `iters` timed calls whose mean time per call is combined across ranks per -a,
 * then -c checked runs on fresh inputs. Only braid's public API is used; the counters of the
 * check and the times travel through braid's own all-reduce.
 */
#include "perf_run.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perf_data.h"
#include "perf_report.h"

typedef struct {
    const perf_args_t *args;
    braid_comm_t comm;
    int rank, nranks;
    size_t tsize; /* bytes per element */
    char *send, *recv;
    size_t buf_bytes; /* each of send and recv */
    perf_counts_t counts;
    uint64_t salt; /* next salt for a checked run */
    double bw_sum;
    int bw_count;
    long errors; /* results with a wrong value, as nccl-tests' "Out of bounds values" */
    FILE *out;   /* rank 0: stdout; elsewhere NULL */
    FILE *json;  /* rank 0 with --json */
    int json_rows;
    int progress; /* 0 off, 1 terminal (rewritten line), 2 plain lines */
} bench_t;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Names the failed call and gives braid's own account of it, then fails the rank. */
static int call_failed(const bench_t *b, const char *what, braid_result_t res)
{
    fprintf(stderr, "braid-perf: rank %d: %s failed: %s\n", b->rank, what,
            braid_result_string(res));
    fprintf(stderr, "braid-perf: rank %d: %s\n", b->rank, braid_last_error(b->comm));
    return -1;
}

#define PERF_CALL(b, call)                                                                         \
    do {                                                                                           \
        braid_result_t perf_res_ = (call);                                                         \
        if (perf_res_ != BRAID_SUCCESS)                                                            \
            return call_failed((b), #call, perf_res_);                                             \
    } while (0)

static braid_result_t barrier(const bench_t *b)
{
    int32_t token = 0;
    return braid_all_reduce(&token, &token, 1, BRAID_INT32, BRAID_SUM, b->comm, NULL);
}

/* The buffers of one call, placed as nccl-tests places them for in-place runs. */
static void call_buffers(const bench_t *b, int in_place, char **send, char **recv)
{
    size_t r = (size_t)b->rank;

    *recv = b->recv;
    *send = b->send;
    if (in_place) {
        *send = b->recv + b->counts.send_inplace_offset * r * b->tsize;
        *recv = b->recv + b->counts.recv_inplace_offset * r * b->tsize;
    }
}

static braid_result_t sendrecv(const bench_t *b, const void *send, void *recv, size_t count)
{
    int next = (b->rank + 1) % b->nranks, prev = (b->rank - 1 + b->nranks) % b->nranks;
    braid_dtype_t dt = b->args->dtype;
    braid_result_t res = braid_group_start(), end;

    if (res != BRAID_SUCCESS)
        return res;
    res = braid_send(send, count, dt, next, b->comm, NULL);
    if (res == BRAID_SUCCESS)
        res = braid_recv(recv, count, dt, prev, b->comm, NULL);
    end = braid_group_end(); /* always closes the group, even after a failed post */
    return res != BRAID_SUCCESS ? res : end;
}

static braid_result_t run_coll(const bench_t *b, int in_place)
{
    const perf_args_t *a = b->args;
    size_t n = b->counts.param_count;
    char *send, *recv;

    call_buffers(b, in_place, &send, &recv);
    switch (a->coll) {
    case PERF_ALL_REDUCE:
        return braid_all_reduce(send, recv, n, a->dtype, a->op, b->comm, NULL);
    case PERF_ALL_GATHER:
        return braid_all_gather(send, recv, n, a->dtype, b->comm, NULL);
    case PERF_REDUCE_SCATTER:
        return braid_reduce_scatter(send, recv, n, a->dtype, a->op, b->comm, NULL);
    case PERF_ALLTOALL:
        return braid_all_to_all(send, recv, n, a->dtype, b->comm, NULL);
    case PERF_BROADCAST:
        return braid_broadcast(send, recv, n, a->dtype, a->root, b->comm, NULL);
    case PERF_REDUCE:
        return braid_reduce(send, recv, n, a->dtype, a->op, a->root, b->comm, NULL);
    case PERF_SENDRECV:
        return sendrecv(b, send, recv, n);
    default:
        return BRAID_ERR_INVALID_ARGUMENT;
    }
}

/* run_coll() with a failure report that names the braid call and its arguments. */
static int run_checked(const bench_t *b, int in_place)
{
    static const char *const api[PERF_NUM_COLLS] = {
        "braid_all_reduce", "braid_all_gather", "braid_reduce_scatter",  "braid_all_to_all",
        "braid_broadcast",  "braid_reduce",     "braid_send/braid_recv",
    };
    braid_result_t res = run_coll(b, in_place);
    char what[160];

    if (res == BRAID_SUCCESS)
        return 0;
    snprintf(what, sizeof(what), "%s of %zu %s elements, %s", api[b->args->coll],
             b->counts.param_count, perf_dtype_name(b->args->dtype),
             in_place ? "in place" : "out of place");
    return call_failed(b, what, res);
}

static void set_size(bench_t *b, size_t bytes)
{
    perf_coll_counts(b->args->coll, bytes / b->tsize, b->nranks, &b->counts);
}

/* ---- the data check ------------------------------------------------------------------------- */

static int coll_reduces(perf_coll_t coll)
{
    return coll == PERF_ALL_REDUCE || coll == PERF_REDUCE_SCATTER || coll == PERF_REDUCE;
}

/* Poisons the output (all-ones bytes are NaN or far out of the pattern's range) and writes
 * this rank's inputs where the call will read them. */
static void fill_inputs(const bench_t *b, const perf_pattern_t *p, int in_place)
{
    const perf_args_t *a = b->args;
    size_t pc = b->counts.param_count, n = (size_t)b->nranks, r = (size_t)b->rank;
    size_t span =
        b->counts.send_count > b->counts.recv_count ? b->counts.send_count : b->counts.recv_count;
    char *send, *recv;

    memset(b->recv, 0xff, span * b->tsize);
    call_buffers(b, in_place, &send, &recv);
    switch (a->coll) {
    case PERF_ALL_GATHER:
        perf_pattern_fill(p, send, pc, b->rank, r * pc);
        break;
    case PERF_REDUCE_SCATTER:
    case PERF_ALLTOALL:
        perf_pattern_fill(p, send, pc * n, b->rank, 0);
        break;
    case PERF_BROADCAST:
        if (b->rank == a->root)
            perf_pattern_fill(p, send, pc, b->rank, 0);
        break;
    default: /* all_reduce, reduce, sendrecv */
        perf_pattern_fill(p, send, pc, b->rank, 0);
        break;
    }
}

/* Wrong elements of this rank's output, against values computed from the pattern alone. */
static size_t count_wrong(const bench_t *b, const perf_pattern_t *p, int in_place)
{
    const perf_args_t *a = b->args;
    size_t pc = b->counts.param_count, r = (size_t)b->rank, wrong = 0;
    size_t block = pc * b->tsize;
    char *send, *recv;

    call_buffers(b, in_place, &send, &recv);
    switch (a->coll) {
    case PERF_ALL_REDUCE:
        return perf_check_reduce(p, recv, pc, 0);
    case PERF_ALL_GATHER:
        for (int src = 0; src < b->nranks; src++)
            wrong += perf_check_copy(p, recv + (size_t)src * block, pc, src, (size_t)src * pc);
        return wrong;
    case PERF_REDUCE_SCATTER:
        return perf_check_reduce(p, recv, pc, r * pc);
    case PERF_ALLTOALL:
        for (int src = 0; src < b->nranks; src++)
            wrong += perf_check_copy(p, recv + (size_t)src * block, pc, src, r * pc);
        return wrong;
    case PERF_BROADCAST:
        return perf_check_copy(p, recv, pc, a->root, 0);
    case PERF_REDUCE:
        return b->rank == a->root ? perf_check_reduce(p, recv, pc, 0) : 0;
    case PERF_SENDRECV:
        return perf_check_copy(p, recv, pc, (b->rank - 1 + b->nranks) % b->nranks, 0);
    default:
        return 0;
    }
}

/* -c runs on fresh inputs; *wrong gets the wrong elements summed over ranks. */
static int check_results(bench_t *b, int in_place, long long *wrong)
{
    const perf_args_t *a = b->args;
    perf_pattern_t p;
    int64_t total = 0;

    for (int c = 0; c < a->check; c++) {
        perf_pattern_init(&p, a->dtype, a->op, coll_reduces(a->coll), b->nranks, ++b->salt);
        fill_inputs(b, &p, in_place);
        if (run_checked(b, in_place) != 0)
            return -1;
        total = (int64_t)count_wrong(b, &p, in_place);
        PERF_CALL(b, braid_all_reduce(&total, &total, 1, BRAID_INT64, BRAID_SUM, b->comm, NULL));
        if (total != 0)
            break;
    }
    *wrong = total;
    return 0;
}

/* ---- timing --------------------------------------------------------------------------------- */

static int timed_iters(bench_t *b, int in_place, double *seconds)
{
    const perf_args_t *a = b->args;
    double start = now_seconds();

    for (int it = 0; it < a->iters; it++) {
        if (a->agg_iters > 1)
            PERF_CALL(b, braid_group_start());
        for (int g = 0; g < a->agg_iters; g++) {
            if (run_checked(b, in_place) != 0)
                return -1;
        }
        if (a->agg_iters > 1)
            PERF_CALL(b, braid_group_end());
        if (a->blocking)
            PERF_CALL(b, barrier(b));
    }
    *seconds = (now_seconds() - start) / ((double)a->iters * a->agg_iters);
    return 0;
}

/* Combines the per-rank mean times as -a says (0 rank 0, 1 mean, 2 min, 3 max). */
static int combine_time(bench_t *b, double *seconds)
{
    braid_op_t op = BRAID_SUM;
    double t = *seconds;

    if (b->args->average == PERF_AVERAGE_RANK0 && b->rank != 0)
        t = 0.0;
    else if (b->args->average == PERF_AVERAGE_MIN)
        op = BRAID_MIN;
    else if (b->args->average == PERF_AVERAGE_MAX)
        op = BRAID_MAX;
    PERF_CALL(b, braid_all_reduce(&t, &t, 1, BRAID_FLOAT64, op, b->comm, NULL));
    if (b->args->average == PERF_AVERAGE_MEAN)
        t /= b->nranks;
    *seconds = t;
    return 0;
}

static int bench_one(bench_t *b, int in_place, perf_result_t *res)
{
    const perf_args_t *a = b->args;
    double seconds = 0.0;
    perf_pattern_t p;

    if (a->check) {
        /* Timed runs start from valid values: garbage could hold denormals or NaNs, which
         * make CPU reductions slower than real data does. */
        perf_pattern_init(&p, a->dtype, a->op, coll_reduces(a->coll), b->nranks, 99);
        fill_inputs(b, &p, in_place);
    }
    if (run_checked(b, in_place) != 0)
        return -1;
    PERF_CALL(b, barrier(b));
    if (timed_iters(b, in_place, &seconds) != 0 || combine_time(b, &seconds) != 0)
        return -1;
    res->time_us = seconds * 1e6;
    perf_bandwidth(a->coll, b->counts.param_count, b->tsize, seconds, b->nranks, &res->algbw,
                   &res->busbw);
    res->wrong = 0;
    if (a->check && check_results(b, in_place, &res->wrong) != 0)
        return -1;
    if (a->check == 0 || (a->coll == PERF_SENDRECV && in_place))
        res->wrong = -1; /* nccl-tests: in-place sendrecv is not checked */
    if (res->wrong > 0)
        b->errors++;
    b->bw_sum += res->busbw;
    b->bw_count++;
    return 0;
}

static int warm_up(bench_t *b)
{
    size_t sizes[2] = {b->args->max_bytes, b->args->min_bytes};

    for (int s = 0; s < 2; s++) {
        set_size(b, sizes[s]);
        for (int it = 0; it < b->args->warmup_iters; it++) {
            if (run_checked(b, 0) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- output --------------------------------------------------------------------------------- */

static void show_progress(const bench_t *b, size_t index, size_t total, size_t bytes)
{
    if (b->progress == 1)
        fprintf(stderr, "\r\033[Kbraid-perf: size %zu/%zu (%zu B)", index + 1, total, bytes);
    else if (b->progress == 2)
        fprintf(stderr, "braid-perf: size %zu/%zu (%zu B)\n", index + 1, total, bytes);
    if (b->progress == 1 && index == total)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

static void print_row(bench_t *b, const perf_result_t res[2])
{
    const perf_args_t *a = b->args;
    size_t bytes = perf_row_bytes(&b->counts, b->tsize);
    const char *type = perf_dtype_name(a->dtype), *op = perf_row_op_name(a->coll, a->op);
    int root = perf_row_root(a->coll, a->root);

    if (b->progress == 1)
        fprintf(stderr, "\r\033[K"); /* the row replaces the progress line on a shared tty */
    perf_print_row_params(b->out, bytes, b->counts.param_count, type, op, root);
    perf_print_row_result(b->out, &res[0]);
    perf_print_row_result(b->out, &res[1]);
    fprintf(b->out, "\n");
    fflush(b->out);
    if (b->json) {
        perf_json_row(b->json, b->json_rows == 0, bytes, b->counts.param_count, type, op, root,
                      &res[0], &res[1]);
        b->json_rows++;
    }
}

/* "#  Rank  0 Group  0 Pid ..." for every rank: each writes its line into its own slot of a
 * zeroed table and a max-reduction assembles it, so only all_reduce is needed. */
static int print_ranks(bench_t *b)
{
    enum { LINE = 160 };
    size_t bytes = (size_t)b->nranks * LINE;
    unsigned char *table = calloc(1, bytes);
    char host[64] = "?";
    int device = -1;
    braid_result_t res;

    if (table == NULL)
        return call_failed(b, "calloc(rank table)", BRAID_ERR_NO_MEMORY);
    gethostname(host, sizeof(host) - 1);
    braid_comm_cu_device(b->comm, &device);
    snprintf((char *)table + (size_t)b->rank * LINE, LINE,
             "#  Rank %2d Group %2d Pid %6d on %10s device %2d [%s] %s\n", b->rank, 0,
             (int)getpid(), host, device, device < 0 ? "host" : "cuda",
             device < 0 ? "host memory" : "GPU memory");
    res = braid_all_reduce(table, table, bytes, BRAID_UINT8, BRAID_MAX, b->comm, NULL);
    if (res != BRAID_SUCCESS) {
        free(table);
        return call_failed(b, "braid_all_reduce(rank table)", res);
    }
    if (b->out) {
        fprintf(b->out, "# Using devices\n");
        for (int r = 0; r < b->nranks; r++)
            fprintf(b->out, "%s", (char *)table + (size_t)r * LINE);
        fprintf(b->out, "#\n");
    }
    free(table);
    return 0;
}

static void print_header(const bench_t *b)
{
    fprintf(b->out, "# Collective test starting: %s_perf\n", perf_coll_name(b->args->coll));
    fprintf(b->out, "# braid-perf: braid %s, %d ranks, host memory\n", braid_version_string(),
            b->nranks);
    perf_print_settings(b->out, b->args);
}

/* ---- the run -------------------------------------------------------------------------------- */

static int sweep(bench_t *b)
{
    const perf_args_t *a = b->args;
    size_t total = perf_sweep_length(a), index = 0;
    perf_result_t res[2];

    for (size_t size = a->min_bytes; size <= a->max_bytes; size = perf_next_size(a, size)) {
        set_size(b, size);
        if (b->progress)
            show_progress(b, index, total, size);
        for (int in_place = 0; in_place < 2; in_place++) {
            if (bench_one(b, in_place, &res[in_place]) != 0)
                return -1;
        }
        if (b->out)
            print_row(b, res);
        index++;
        if (size == SIZE_MAX)
            break;
    }
    if (b->progress == 1)
        show_progress(b, total, total, 0);
    return 0;
}

/* Checks what only the comm can tell, allocates, and opens rank 0's outputs. */
static int setup(bench_t *b, const perf_args_t *a, braid_comm_t comm)
{
    memset(b, 0, sizeof(*b));
    b->args = a;
    b->comm = comm;
    PERF_CALL(b, braid_comm_user_rank(comm, &b->rank));
    PERF_CALL(b, braid_comm_count(comm, &b->nranks));
    b->tsize = perf_dtype_size(a->dtype);
    if (a->root >= b->nranks) {
        if (b->rank == 0) /* every rank sees it; one message is enough */
            fprintf(stderr, "braid-perf: root %d is not a rank of this %d-rank job (-r)\n", a->root,
                    b->nranks);
        return -1;
    }
    /* Both buffers hold the largest row; at least one element so pointers are never NULL. */
    b->buf_bytes = (a->max_bytes / b->tsize + 1) * b->tsize;
    if (posix_memalign((void **)&b->send, 4096, b->buf_bytes) != 0 ||
        posix_memalign((void **)&b->recv, 4096, b->buf_bytes) != 0) {
        fprintf(stderr, "braid-perf: rank %d: cannot allocate 2 x %zu bytes (lower -e)\n", b->rank,
                b->buf_bytes);
        return -1;
    }
    /* Touch every page now, so that first-touch faults are not timed. */
    memset(b->send, 0, b->buf_bytes);
    memset(b->recv, 0, b->buf_bytes);
    if (b->rank != 0)
        return 0;
    b->out = stdout;
    if (a->json_path && (b->json = fopen(a->json_path, "w")) == NULL) {
        fprintf(stderr, "braid-perf: cannot write --json %s: %m\n", a->json_path);
        return -1;
    }
    if (a->progress)
        b->progress = isatty(STDERR_FILENO) ? 1 : 2;
    else if (isatty(STDERR_FILENO) && perf_sweep_length(a) > 1)
        b->progress = 1;
    return 0;
}

int perf_run(const perf_args_t *args, braid_comm_t comm)
{
    bench_t b;
    int rc = PERF_EXIT_ERROR;
    double avg;

    if (setup(&b, args, comm) != 0)
        goto out;
    if (b.out)
        print_header(&b);
    if (print_ranks(&b) != 0)
        goto out;
    if (b.out)
        perf_print_table_header(b.out, args->report_cputime);
    if (b.json)
        perf_json_begin(b.json, args, b.nranks, braid_version_string());
    if (warm_up(&b) != 0 || sweep(&b) != 0)
        goto out;
    avg = b.bw_count ? b.bw_sum / b.bw_count : 0.0;
    if (b.out)
        perf_print_footer(b.out, b.errors, avg);
    if (b.json)
        perf_json_end(b.json, b.errors, avg);
    rc = b.errors ? PERF_EXIT_WRONG : PERF_EXIT_OK;
out:
    if (b.json && fclose(b.json) != 0 && rc == PERF_EXIT_OK) {
        fprintf(stderr, "braid-perf: writing --json %s failed: %m\n", args->json_path);
        rc = PERF_EXIT_ERROR;
    }
    free(b.send);
    free(b.recv);
    return rc;
}
