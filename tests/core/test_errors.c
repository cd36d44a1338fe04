/*
 * Bad input gets a specific negative code and a message naming the argument; nothing crashes.
 * Each Check test runs in its own forked process with a timeout.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "braid.h"
#include "core/bootstrap.h"
#include "core/comm.h"
#include "harness.h"
#include "check_run.h"

static braid_comm_t solo(void)
{
    braid_unique_id_t id;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    braid_comm_t comm = NULL;
    ck_assert_int_eq(braid_comm_init_rank(&comm, 1, id, 0), BRAID_SUCCESS);
    ck_assert_ptr_nonnull(comm);
    return comm;
}

#define ASSERT_ERR(call, code, comm, needle)                                                       \
    do {                                                                                           \
        braid_result_t r_ = (call);                                                                \
        ck_assert_msg(r_ == (code), "%s returned %d (%s), expected %d: %s", #call, r_,             \
                      braid_result_string(r_), (code), braid_last_error(comm));                    \
        ck_assert_msg(strstr(braid_last_error(comm), (needle)) != NULL,                            \
                      "message \"%s\" does not mention \"%s\"", braid_last_error(comm), (needle)); \
    } while (0)

START_TEST(null_buffers)
{
    braid_comm_t c = solo();
    float x[4];
    ASSERT_ERR(braid_all_reduce(NULL, x, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "sendbuf is NULL");
    ASSERT_ERR(braid_all_reduce(x, NULL, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "recvbuf is NULL");
    ASSERT_ERR(braid_all_gather(NULL, x, 4, BRAID_FLOAT32, c, NULL), BRAID_ERR_INVALID_ARGUMENT, c,
               "sendbuf");
    ASSERT_ERR(braid_recv(NULL, 4, BRAID_FLOAT32, 0, c, NULL), BRAID_ERR_INVALID_ARGUMENT, c,
               "recvbuf");
    /* count 0 with NULL buffers is a valid no-op */
    ck_assert_int_eq(braid_all_reduce(NULL, NULL, 0, BRAID_FLOAT32, BRAID_SUM, c, NULL),
                     BRAID_SUCCESS);
    ck_assert_int_eq(braid_comm_destroy(c), BRAID_SUCCESS);
}
END_TEST

/* Without a CUDA driver braid cannot ask whether a pointer is GPU memory; an address the
 * process never mapped is refused, naming the argument, instead of crashing the executor. */
START_TEST(unmapped_buffers)
{
    braid_comm_t c = solo();
    long page = sysconf(_SC_PAGESIZE);
    char *hole = mmap(NULL, 2 * (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(hole != MAP_FAILED);
    ck_assert_int_eq(munmap(hole, 2 * (size_t)page), 0);
    float x[4] = {1, 2, 3, 4}, y[4];
    ASSERT_ERR(braid_all_reduce(hole, y, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "braid_all_reduce: sendbuf");
    ASSERT_ERR(braid_all_gather(x, hole + page, 4, BRAID_FLOAT32, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "braid_all_gather: recvbuf");
    ASSERT_ERR(braid_broadcast(hole, hole, 4, BRAID_FLOAT32, 0, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "not memory of this process");
    /* The comm is not broken by it. */
    ck_assert_int_eq(braid_all_reduce(x, y, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL), BRAID_SUCCESS);
    ck_assert(y[3] == 4.0f);
    ck_assert_int_eq(braid_comm_destroy(c), BRAID_SUCCESS);
}
END_TEST

START_TEST(bad_dtype_op_root)
{
    braid_comm_t c = solo();
    float x[4] = {0}, y[4];
    ASSERT_ERR(braid_all_reduce(x, y, 4, (braid_dtype_t)99, BRAID_SUM, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "dtype 99");
    ASSERT_ERR(braid_all_reduce(x, y, 4, BRAID_FLOAT32, (braid_op_t)-3, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "op -3");
    ASSERT_ERR(braid_broadcast(x, y, 4, BRAID_FLOAT32, 1, c, NULL), BRAID_ERR_INVALID_ARGUMENT, c,
               "root 1");
    ASSERT_ERR(braid_reduce(x, y, 4, BRAID_FLOAT32, BRAID_SUM, -1, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "root -1");
    ASSERT_ERR(braid_send(x, 4, BRAID_FLOAT32, 5, c, NULL), BRAID_ERR_INVALID_ARGUMENT, c,
               "peer 5");
    /* The comm stays usable after argument errors. */
    ck_assert_int_eq(braid_all_reduce(x, y, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL), BRAID_SUCCESS);
    ck_assert_int_eq(braid_comm_destroy(c), BRAID_SUCCESS);
}
END_TEST

START_TEST(count_overflow)
{
    braid_comm_t c = solo();
    float x[1], y[1];
    ASSERT_ERR(braid_all_reduce(x, y, SIZE_MAX / 2, BRAID_FLOAT32, BRAID_SUM, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "overflows");
    ASSERT_ERR(braid_all_to_all(x, y, SIZE_MAX / 4, BRAID_FLOAT64, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "overflows");
    ck_assert_int_eq(braid_comm_destroy(c), BRAID_SUCCESS);
}
END_TEST

START_TEST(destroyed_comm)
{
    braid_comm_t c = solo();
    ck_assert_int_eq(braid_comm_destroy(c), BRAID_SUCCESS);
    float x[4] = {0}, y[4];
    ASSERT_ERR(braid_all_reduce(x, y, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, NULL, "not a live communicator");
    int n;
    ASSERT_ERR(braid_comm_count(c, &n), BRAID_ERR_INVALID_ARGUMENT, NULL, "not a live");
    ASSERT_ERR(braid_comm_destroy(c), BRAID_ERR_INVALID_ARGUMENT, NULL, "not a live");
    ck_assert_int_eq(braid_comm_destroy(NULL), BRAID_SUCCESS);
    ck_assert_int_eq(braid_comm_abort(NULL), BRAID_SUCCESS);
}
END_TEST

START_TEST(overlap_and_usage)
{
    braid_comm_t c = solo();
    float x[8] = {0};
    ASSERT_ERR(braid_all_reduce(x, x + 1, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL),
               BRAID_ERR_INVALID_ARGUMENT, c, "overlap");
    ASSERT_ERR(braid_group_end(), BRAID_ERR_INVALID_USAGE, NULL, "without a matching");
    ASSERT_ERR(braid_comm_split(c, -5, 0, NULL, NULL), BRAID_ERR_INVALID_ARGUMENT, c, "newcomm");
    braid_comm_t sub;
    ASSERT_ERR(braid_comm_split(c, -5, 0, &sub, NULL), BRAID_ERR_INVALID_ARGUMENT, c, "color -5");
    ck_assert_int_eq(braid_comm_destroy(c), BRAID_SUCCESS);
}
END_TEST

START_TEST(bad_config)
{
    braid_unique_id_t id;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    braid_comm_t c;
    braid_config_t cfg = BRAID_CONFIG_INIT;
    cfg.nslots = 1;
    ASSERT_ERR(braid_comm_init_rank_config(&c, 1, id, 0, &cfg), BRAID_ERR_INVALID_ARGUMENT, NULL,
               "config.nslots = 1");
    ck_assert_ptr_null(c);
    braid_config_t cfg2 = BRAID_CONFIG_INIT;
    cfg2.algorithm = "bogus";
    ASSERT_ERR(braid_comm_init_rank_config(&c, 1, id, 0, &cfg2), BRAID_ERR_INVALID_ARGUMENT, NULL,
               "\"bogus\" is not an algorithm");
    braid_config_t cfg3 = BRAID_CONFIG_INIT;
    cfg3.size = 8;
    ASSERT_ERR(braid_comm_init_rank_config(&c, 1, id, 0, &cfg3), BRAID_ERR_INVALID_ARGUMENT, NULL,
               "BRAID_CONFIG_INIT");
    setenv("BRAID_TIMEOUT_MS", "soon", 1);
    ASSERT_ERR(braid_comm_init_rank(&c, 1, id, 0), BRAID_ERR_INVALID_ARGUMENT, NULL,
               "BRAID_TIMEOUT_MS=\"soon\"");
    unsetenv("BRAID_TIMEOUT_MS");
    ASSERT_ERR(braid_comm_init_rank(&c, 0, id, 0), BRAID_ERR_INVALID_ARGUMENT, NULL, "nranks");
    ASSERT_ERR(braid_comm_init_rank(&c, 2, id, 2), BRAID_ERR_INVALID_ARGUMENT, NULL, "rank = 2");
}
END_TEST

START_TEST(garbage_and_damaged_id)
{
    braid_unique_id_t id;
    memset(&id, 0x11, sizeof(id));
    braid_comm_t c;
    ASSERT_ERR(braid_comm_init_rank(&c, 1, id, 0), BRAID_ERR_INVALID_ARGUMENT, NULL,
               "not a braid unique id");
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    id.internal[30] ^= 0x40; /* inside the root address */
    ASSERT_ERR(braid_comm_init_rank(&c, 1, id, 0), BRAID_ERR_INVALID_ARGUMENT, NULL, "damaged");
}
END_TEST

START_TEST(bad_ifname)
{
    setenv("BRAID_SOCKET_IFNAME", "nosuchif0", 1);
    braid_unique_id_t id;
    ASSERT_ERR(braid_get_unique_id(&id), BRAID_ERR_INVALID_ARGUMENT, NULL,
               "BRAID_SOCKET_IFNAME=nosuchif0 matches no interface");
    ck_assert_msg(strstr(braid_last_error(NULL), "lo (127.0.0.1)") != NULL,
                  "the message should list the host's interfaces: %s", braid_last_error(NULL));
}
END_TEST

/* Two ranks of a 2-rank job that were handed different unique ids. */
START_TEST(mismatched_ids)
{
    setenv("BRAID_CONNECT_TIMEOUT_MS", "1500", 1); /* the roots' wait */
    braid_unique_id_t a, b;
    ck_assert_int_eq(braid_get_unique_id(&a), BRAID_SUCCESS);
    ck_assert_int_eq(braid_get_unique_id(&b), BRAID_SUCCESS);
    braid_config_t cfg = BRAID_CONFIG_INIT;
    cfg.connect_timeout_ms = 1500;
    pid_t pid = fork();
    if (pid == 0) {
        braid_comm_t c;
        braid_result_t r = braid_comm_init_rank_config(&c, 2, b, 1, &cfg);
        _exit(r == BRAID_ERR_TIMEOUT && strstr(braid_last_error(NULL), "rank(s) 0") ? 0 : 1);
    }
    braid_comm_t c;
    ASSERT_ERR(braid_comm_init_rank_config(&c, 2, a, 0, &cfg), BRAID_ERR_TIMEOUT, NULL,
               "waiting for rank(s) 1");
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the other rank should time out naming rank 0 as missing");
}
END_TEST

START_TEST(wrong_secret)
{
    braid_unique_id_t id, forged;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    struct braid_id_layout layout;
    ck_assert_int_eq(braid__id_decode(&id, &layout), BRAID_SUCCESS);
    layout.secret[3] ^= 0x5a;
    braid__id_encode(&layout, &forged);
    braid_comm_t c;
    ASSERT_ERR(braid_comm_init_rank(&c, 2, forged, 1), BRAID_ERR_AUTH, NULL,
               "different job secret");
}
END_TEST

START_TEST(nranks_disagree)
{
    braid_unique_id_t id;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    braid_config_t cfg = BRAID_CONFIG_INIT;
    cfg.connect_timeout_ms = 5000;
    pid_t pid = fork();
    if (pid == 0) {
        braid_comm_t c;
        _exit(braid_comm_init_rank_config(&c, 3, id, 1, &cfg) == BRAID_ERR_INVALID_USAGE ? 0 : 1);
    }
    usleep(200000);
    braid_comm_t c;
    ASSERT_ERR(braid_comm_init_rank_config(&c, 2, id, 0, &cfg), BRAID_ERR_INVALID_USAGE, NULL,
               "nranks");
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

struct mismatch_arg {
    int version;
};

static int init_with_override(int rank, braid_unique_id_t id, int version, char *msg)
{
    braid__test_version_override = rank == 1 ? version : 0;
    braid_comm_t c;
    braid_result_t r = braid_comm_init_rank(&c, 2, id, rank);
    snprintf(msg, 1024, "%s", braid_last_error(NULL));
    return r;
}

START_TEST(version_mismatch)
{
    braid_unique_id_t id;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    char msg[1024];
    pid_t pid = fork();
    if (pid == 0)
        _exit(init_with_override(1, id, 999, msg) == BRAID_ERR_VERSION_MISMATCH ? 0 : 1);
    braid_result_t r = init_with_override(0, id, 999, msg);
    ck_assert_int_eq(r, BRAID_ERR_VERSION_MISMATCH);
    ck_assert_msg(strstr(msg, "rank 0 runs braid version") &&
                      strstr(msg, "rank 1 runs version 999"),
                  "message should name both ranks and versions: %s", msg);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

static int settings_rank(braid_comm_t comm, int rank, int nranks, void *arg)
{
    return 0;
}

START_TEST(settings_disagree)
{
    braid_unique_id_t id;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    pid_t pid = fork();
    if (pid == 0) {
        braid_config_t cfg = BRAID_CONFIG_INIT;
        cfg.nchannels = 3;
        braid_comm_t c;
        _exit(braid_comm_init_rank_config(&c, 2, id, 1, &cfg) == BRAID_ERR_INVALID_USAGE ? 0 : 1);
    }
    braid_comm_t c;
    ASSERT_ERR(braid_comm_init_rank(&c, 2, id, 0), BRAID_ERR_INVALID_USAGE, NULL,
               "BRAID_NCHANNELS differs");
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    (void)settings_rank;
}
END_TEST

START_TEST(names_and_strings)
{
    ck_assert_int_eq(braid_dtype_size(BRAID_BFLOAT16), 2);
    ck_assert_int_eq(braid_dtype_size(BRAID_FP8_E5M2), 1);
    ck_assert_int_eq(braid_dtype_size((braid_dtype_t)77), 0);
    ck_assert_str_eq(braid_dtype_name(BRAID_FLOAT64), "float64");
    ck_assert_str_eq(braid_op_name(BRAID_AVG), "avg");
    ck_assert(strstr(braid_result_string(BRAID_ERR_TIMEOUT), "TIMEOUT") != NULL);
    ck_assert(strstr(braid_result_string((braid_result_t)-77), "unknown") != NULL);
    ck_assert_int_eq(braid_version(), BRAID_VERSION_CODE);
    ck_assert(braid_param_count() > 10);
    braid_param_t p;
    ck_assert_int_eq(braid_param_get(0, &p), BRAID_SUCCESS);
    ck_assert_str_eq(p.name, "BRAID_DEBUG");
    ck_assert_int_eq(braid_param_get(-1, &p), BRAID_ERR_INVALID_ARGUMENT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, null_buffers);
    tcase_add_test(tc, unmapped_buffers);
    tcase_add_test(tc, bad_dtype_op_root);
    tcase_add_test(tc, count_overflow);
    tcase_add_test(tc, destroyed_comm);
    tcase_add_test(tc, overlap_and_usage);
    tcase_add_test(tc, bad_config);
    tcase_add_test(tc, garbage_and_damaged_id);
    tcase_add_test(tc, bad_ifname);
    tcase_add_test(tc, mismatched_ids);
    tcase_add_test(tc, wrong_secret);
    tcase_add_test(tc, nranks_disagree);
    tcase_add_test(tc, version_mismatch);
    tcase_add_test(tc, settings_disagree);
    tcase_add_test(tc, names_and_strings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_run_suite(suite());
}
