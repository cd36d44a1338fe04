/*
 * Several comms at once: split comms, comms used concurrently, one thread driving all the
 * comms of braid_comm_init_all() through a group, non-blocking init, abort of a blocked call,
 * point-to-point exchanges in groups.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "braid.h"
#include "harness.h"
#include "check_run.h"

static int sum_to(int n)
{
    return n * (n - 1) / 2;
}

/* all-reduce of the rank on comm; returns failures. */
static int check_rank_sum(braid_comm_t comm, int expect)
{
    int failures = 0;
    int rank, n;
    braid_comm_user_rank(comm, &rank);
    braid_comm_count(comm, &n);
    int32_t v[5] = {rank, rank, rank, rank, rank}, out[5];
    braid_result_t r = braid_all_reduce(v, out, 5, BRAID_INT32, BRAID_SUM, comm, NULL);
    HARNESS_EXPECT(r == BRAID_SUCCESS, "all_reduce: %s", braid_last_error(comm));
    for (int i = 0; i < 5 && r == BRAID_SUCCESS; i++)
        HARNESS_EXPECT(out[i] == expect, "got %d expected %d", out[i], expect);
    return failures;
}

static int split_rank(braid_comm_t comm, int rank, int n, void *arg)
{
    int failures = 0;
    braid_comm_t sub = NULL, none = NULL;
    /* Colors by parity; keys reverse the order inside each color. */
    braid_result_t r = braid_comm_split(comm, rank % 2, -rank, &sub, NULL);
    HARNESS_EXPECT(r == BRAID_SUCCESS, "split: %s", braid_last_error(comm));
    if (r != BRAID_SUCCESS)
        return failures;
    int sub_rank, sub_n;
    braid_comm_user_rank(sub, &sub_rank);
    braid_comm_count(sub, &sub_n);
    int members = (n - rank % 2 + 1) / 2;
    HARNESS_EXPECT(sub_n == members, "sub size %d expected %d", sub_n, members);
    /* Reverse order: the highest parent rank of this color is sub rank 0. */
    int higher = 0;
    for (int p = rank + 2; p < n; p += 2)
        higher++;
    HARNESS_EXPECT(sub_rank == higher, "sub rank %d expected %d", sub_rank, higher);
    /* Parent and child used alternately, each with its own traffic. */
    for (int it = 0; it < 3; it++) {
        failures += check_rank_sum(sub, sum_to(sub_n));
        failures += check_rank_sum(comm, sum_to(n));
    }
    r = braid_comm_split(comm, rank == 0 ? BRAID_SPLIT_NOCOLOR : 7, 0, &none, NULL);
    HARNESS_EXPECT(r == BRAID_SUCCESS, "split 2: %s", braid_last_error(comm));
    if (rank == 0)
        HARNESS_EXPECT(none == NULL, "NOCOLOR should give NULL");
    else if (none)
        failures += check_rank_sum(none, sum_to(n - 1)), braid_comm_destroy(none);
    HARNESS_EXPECT(braid_comm_destroy(sub) == BRAID_SUCCESS, "destroy sub");
    return failures;
}

START_TEST(split_threads)
{
    ck_assert_int_eq(harness_run(6, HARNESS_THREADS, split_rank, NULL, 60, NULL), 0);
}
END_TEST

START_TEST(split_procs)
{
    ck_assert_int_eq(harness_run(5, HARNESS_PROCS, split_rank, NULL, 60, NULL), 0);
}
END_TEST

struct two_ids {
    braid_unique_id_t second;
};

/* Two independent comms over the same ranks, used from two threads of each rank at once. */
struct dual {
    braid_comm_t comm;
    int n;
    int failures;
};

static void *dual_main(void *p)
{
    struct dual *d = p;
    for (int it = 0; it < 20; it++)
        d->failures += check_rank_sum(d->comm, sum_to(d->n));
    return NULL;
}

static int concurrent_rank(braid_comm_t comm, int rank, int n, void *arg)
{
    struct two_ids *ids = arg;
    int failures = 0;
    braid_comm_t other;
    braid_result_t r = braid_comm_init_rank(&other, n, ids->second, rank);
    HARNESS_EXPECT(r == BRAID_SUCCESS, "second init: %s", braid_last_error(NULL));
    if (r != BRAID_SUCCESS)
        return failures;
    struct dual a = {comm, n, 0}, b = {other, n, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, dual_main, &a);
    pthread_create(&tb, NULL, dual_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    failures += a.failures + b.failures;
    HARNESS_EXPECT(braid_comm_destroy(other) == BRAID_SUCCESS, "destroy other");
    return failures;
}

START_TEST(concurrent_comms)
{
    struct two_ids ids;
    ck_assert_int_eq(braid_get_unique_id(&ids.second), BRAID_SUCCESS);
    ck_assert_int_eq(harness_run(4, HARNESS_THREADS, concurrent_rank, &ids, 60, NULL), 0);
}
END_TEST

START_TEST(init_all_group)
{
    enum { N = 4, COUNT = 1000 };
    braid_comm_t comms[N];
    ck_assert_int_eq(braid_comm_init_all(comms, N, NULL), BRAID_SUCCESS);
    static float in[N][COUNT], out[N][COUNT];
    for (int r = 0; r < N; r++)
        for (int i = 0; i < COUNT; i++)
            in[r][i] = (float)(r + i % 7);
    for (int rep = 0; rep < 3; rep++) {
        ck_assert_int_eq(braid_group_start(), BRAID_SUCCESS);
        for (int r = 0; r < N; r++)
            ck_assert_int_eq(
                braid_all_reduce(in[r], out[r], COUNT, BRAID_FLOAT32, BRAID_MAX, comms[r], NULL),
                BRAID_SUCCESS);
        ck_assert_int_eq(braid_group_end(), BRAID_SUCCESS);
        for (int r = 0; r < N; r++)
            for (int i = 0; i < COUNT; i++)
                ck_assert_float_eq(out[r][i], (float)(N - 1 + i % 7));
    }
    int dev;
    ck_assert_int_eq(braid_comm_cu_device(comms[0], &dev), BRAID_SUCCESS);
    ck_assert_int_eq(dev, -1);
    for (int r = 0; r < N; r++)
        ck_assert_int_eq(braid_comm_destroy(comms[r]), BRAID_SUCCESS);
}
END_TEST

/* Every rank exchanges with every other rank inside one group: sends before receives would
 * deadlock without groups once messages exceed the FIFOs. */
static int alltoall_p2p_rank(braid_comm_t comm, int rank, int n, void *arg)
{
    int failures = 0;
    enum { COUNT = 300000 };
    int32_t *in = malloc((size_t)n * COUNT * sizeof(int32_t));
    int32_t *out = malloc((size_t)n * COUNT * sizeof(int32_t));
    for (int p = 0; p < n; p++)
        for (int i = 0; i < COUNT; i++)
            in[(size_t)p * COUNT + i] = rank * 1000000 + p * 1000 + i % 1000;
    braid_group_start();
    for (int p = 0; p < n; p++) {
        braid_send(in + (size_t)p * COUNT, COUNT, BRAID_INT32, p, comm, NULL);
        braid_recv(out + (size_t)p * COUNT, COUNT, BRAID_INT32, p, comm, NULL);
    }
    braid_result_t r = braid_group_end();
    HARNESS_EXPECT(r == BRAID_SUCCESS, "group: %s", braid_last_error(comm));
    for (int p = 0; p < n && r == BRAID_SUCCESS; p++)
        for (int i = 0; i < COUNT; i += 997)
            HARNESS_EXPECT(out[(size_t)p * COUNT + i] == p * 1000000 + rank * 1000 + i % 1000,
                           "from %d element %d", p, i);
    free(in);
    free(out);
    return failures;
}

START_TEST(p2p_group_exchange)
{
    ck_assert_int_eq(harness_run(4, HARNESS_THREADS, alltoall_p2p_rank, NULL, 60, NULL), 0);
}
END_TEST

START_TEST(nonblocking_init)
{
    enum { N = 3 };
    braid_unique_id_t id;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    braid_config_t cfg = BRAID_CONFIG_INIT;
    cfg.blocking = 0;
    braid_comm_t comms[N];
    for (int r = 0; r < N; r++) {
        braid_result_t res = braid_comm_init_rank_config(&comms[r], N, id, r, &cfg);
        ck_assert_msg(res == BRAID_IN_PROGRESS, "expected in progress, got %d", res);
    }
    for (int r = 0; r < N; r++) {
        braid_result_t state = BRAID_IN_PROGRESS;
        for (int spins = 0; state == BRAID_IN_PROGRESS && spins < 10000; spins++) {
            ck_assert_int_eq(braid_comm_get_async_error(comms[r], &state), BRAID_SUCCESS);
            usleep(1000);
        }
        ck_assert_int_eq(state, BRAID_SUCCESS);
    }
    int32_t v[N], out[N];
    braid_group_start();
    for (int r = 0; r < N; r++) {
        v[r] = r + 1;
        braid_all_reduce(&v[r], &out[r], 1, BRAID_INT32, BRAID_PROD, comms[r], NULL);
    }
    ck_assert_int_eq(braid_group_end(), BRAID_SUCCESS);
    for (int r = 0; r < N; r++)
        ck_assert_int_eq(out[r], 6);
    for (int r = 0; r < N; r++)
        ck_assert_int_eq(braid_comm_abort(comms[r]), BRAID_SUCCESS);
}
END_TEST

struct abort_arg {
    braid_comm_t comm;
    braid_result_t res;
    char error[1024];
};

static void *blocked_main(void *p)
{
    struct abort_arg *a = p;
    float x[16] = {0}, y[16];
    a->res = braid_all_reduce(x, y, 16, BRAID_FLOAT32, BRAID_SUM, a->comm, NULL);
    snprintf(a->error, sizeof(a->error), "%s", braid_last_error(NULL));
    return NULL;
}

/* Rank 0 calls all_reduce while rank 1 never does; another thread aborts rank 0. */
START_TEST(abort_unblocks)
{
    braid_comm_t comms[2];
    ck_assert_int_eq(braid_comm_init_all(comms, 2, NULL), BRAID_SUCCESS);
    struct abort_arg a = {.comm = comms[0]};
    pthread_t t;
    pthread_create(&t, NULL, blocked_main, &a);
    usleep(300000);
    ck_assert_int_eq(braid_comm_destroy(comms[0]), BRAID_ERR_INVALID_USAGE);
    ck_assert_int_eq(braid_comm_abort(comms[0]), BRAID_SUCCESS);
    pthread_join(t, NULL);
    ck_assert_int_eq(a.res, BRAID_ERR_ABORTED);
    ck_assert_int_eq(braid_comm_abort(comms[1]), BRAID_SUCCESS);
}
END_TEST

/* Rank 1 aborts while rank 0 waits for it in a collective: rank 0 must fail at once with
 * BRAID_ERR_REMOTE (the abort poisons rank 1's connectors), not at its 60 s timeout. Run over
 * shm and over the socket transport. */
static void abort_poisons_peer(const char *transport)
{
    if (transport)
        setenv("BRAID_TRANSPORT", transport, 1);
    setenv("BRAID_TIMEOUT_MS", "60000", 1);
    braid_comm_t comms[2];
    ck_assert_int_eq(braid_comm_init_all(comms, 2, NULL), BRAID_SUCCESS);
    float x[2][4096] = {{0}}, y[2][4096];
    braid_group_start(); /* connect first: a poison needs live connectors */
    for (int r = 0; r < 2; r++)
        braid_all_reduce(x[r], y[r], 4096, BRAID_FLOAT32, BRAID_SUM, comms[r], NULL);
    ck_assert_int_eq(braid_group_end(), BRAID_SUCCESS);
    struct abort_arg a = {.comm = comms[0]};
    pthread_t t;
    pthread_create(&t, NULL, blocked_main, &a);
    usleep(200000);
    time_t start = time(NULL);
    ck_assert_int_eq(braid_comm_abort(comms[1]), BRAID_SUCCESS);
    pthread_join(t, NULL);
    ck_assert_msg(a.res == BRAID_ERR_REMOTE, "expected BRAID_ERR_REMOTE, got %d: %s", a.res,
                  a.error);
    ck_assert_msg(time(NULL) - start < 10, "the peer's failure took %d s to notice",
                  (int)(time(NULL) - start));
    ck_assert_int_eq(braid_comm_abort(comms[0]), BRAID_SUCCESS);
    unsetenv("BRAID_TRANSPORT");
}

START_TEST(abort_poisons_peer_shm)
{
    abort_poisons_peer(NULL);
}
END_TEST

START_TEST(abort_poisons_peer_socket)
{
    abort_poisons_peer("socket");
}
END_TEST

static int finalize_rank(braid_comm_t comm, int rank, int n, void *arg)
{
    int failures = check_rank_sum(comm, sum_to(n));
    HARNESS_EXPECT(braid_comm_finalize(comm) == BRAID_SUCCESS, "finalize: %s",
                   braid_last_error(comm));
    return failures;
}

START_TEST(finalize_then_destroy)
{
    ck_assert_int_eq(harness_run(3, HARNESS_PROCS, finalize_rank, NULL, 60, NULL), 0);
}
END_TEST

/* A free TCP port on loopback (a race with other programs is possible but harmless here). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* braid_comm_init_env: no unique id; BRAID_ROOT, BRAID_RANK and BRAID_NRANKS as a launcher
 * would set them, rank 0 listening at the root address. */
START_TEST(init_from_environment)
{
    enum { N = 3 };
    char root[64];
    snprintf(root, sizeof(root), "127.0.0.1:%d", free_port());
    setenv("BRAID_ROOT", root, 1);
    setenv("BRAID_SECRET", "test-job-42", 1);
    setenv("BRAID_NRANKS", "3", 1);
    pid_t pids[N];
    for (int r = 0; r < N; r++) {
        if ((pids[r] = fork()) == 0) {
            char rank[8];
            snprintf(rank, sizeof(rank), "%d", r);
            setenv("BRAID_RANK", rank, 1);
            braid_comm_t comm;
            if (braid_comm_init_env(&comm, NULL) != BRAID_SUCCESS) {
                fprintf(stderr, "init_env rank %d: %s\n", r, braid_last_error(NULL));
                _exit(1);
            }
            int failures = check_rank_sum(comm, sum_to(N));
            int got;
            braid_comm_user_rank(comm, &got);
            braid_comm_destroy(comm);
            _exit(failures || got != r);
        }
    }
    for (int r = 0; r < N; r++) {
        int status;
        waitpid(pids[r], &status, 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rank %d failed", r);
    }
    unsetenv("BRAID_RANK");
    unsetenv("BRAID_NRANKS");
    ck_assert_int_eq(braid_comm_init_env(&(braid_comm_t){NULL}, NULL), BRAID_ERR_INVALID_USAGE);
    ck_assert(strstr(braid_last_error(NULL), "BRAID_RANK") != NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("comms");
    TCase *tc = tcase_create("comms");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, split_threads);
    tcase_add_test(tc, split_procs);
    tcase_add_test(tc, concurrent_comms);
    tcase_add_test(tc, init_all_group);
    tcase_add_test(tc, p2p_group_exchange);
    tcase_add_test(tc, nonblocking_init);
    tcase_add_test(tc, abort_unblocks);
    tcase_add_test(tc, finalize_then_destroy);
    tcase_add_test(tc, init_from_environment);
    tcase_add_test(tc, abort_poisons_peer_shm);
    tcase_add_test(tc, abort_poisons_peer_socket);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    harness_raise_fd_limit();
    return harness_run_suite(suite());
}
