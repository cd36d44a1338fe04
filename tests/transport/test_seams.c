/*
 * The seams below the orchestrator: transport ops tables (versions, defaults for the hooks a
 * transport leaves out), per-connector quiesce that never waits on another comm's connectors,
 * executor choice by memory kind, and memory kinds per pointer.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/memkind.h"
#include "check_run.h"
#include "exec/executor.h"
#include "transport/proxy.h"
#include "transport/transport.h"

static int fake_can_connect(const struct braid_peer_info *a, const struct braid_peer_info *b)
{
    return 1;
}

static braid_result_t fake_setup(struct braid_transport_ctx *ctx, struct braid_conn *conn,
                                 void *blob, size_t *len)
{
    return BRAID_SUCCESS;
}

static braid_result_t fake_connect(struct braid_transport_ctx *ctx, struct braid_conn *conn,
                                   const void *blob, size_t len)
{
    return BRAID_SUCCESS;
}

static void fake_close(struct braid_conn *conn) {}

static const struct braid_transport minimal = {
    .version = BRAID_TRANSPORT_VERSION,
    .name = "minimal",
    .can_connect = fake_can_connect,
    .setup = fake_setup,
    .connect = fake_connect,
    .close = fake_close,
};

START_TEST(defaults_fill_optional_hooks)
{
    struct braid_transport t;
    memset(&t, 0, sizeof(t));
    ck_assert(braid__transport_complete(&minimal, &t));
    ck_assert_ptr_nonnull(t.ready);
    ck_assert_ptr_nonnull(t.notify);
    ck_assert_ptr_nonnull(t.quiesce);
    ck_assert_ptr_nonnull(t.reg_mem);
    ck_assert_ptr_nonnull(t.dereg_mem);
    ck_assert_int_eq(t.ready(NULL, NULL), BRAID_SUCCESS);
    t.notify(NULL);
    t.quiesce(NULL);
    int x;
    struct braid_mem_region mem = {.ptr = &x, .bytes = sizeof(x), .kind = BRAID_MEM_HOST};
    void *handle = &x;
    braid__err_clear();
    ck_assert_int_eq(t.reg_mem(NULL, &mem, &handle), BRAID_ERR_NOT_SUPPORTED);
    ck_assert_ptr_nonnull(strstr(braid__err_text(), "cannot register 4 bytes of host memory"));
    ck_assert_ptr_eq(handle, &x); /* untouched */
    t.dereg_mem(NULL, handle);
}
END_TEST

START_TEST(wrong_version_or_missing_hook_refused)
{
    struct braid_transport in = minimal, out;
    memset(&out, 0x5a, sizeof(out));
    in.version = BRAID_TRANSPORT_VERSION + 1;
    ck_assert(!braid__transport_complete(&in, &out));
    ck_assert_uint_eq(out.version, 0x5a5a5a5au); /* untouched */
    in = minimal;
    in.close = NULL;
    ck_assert(!braid__transport_complete(&in, &out));
}
END_TEST

START_TEST(registered_tables_complete)
{
    int n = 0;
    const struct braid_transport *const *t = braid__transports(&n);
    ck_assert_int_ge(n, 2);
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(t[i]->version, BRAID_TRANSPORT_VERSION);
        ck_assert(t[i]->ready && t[i]->notify && t[i]->quiesce && t[i]->reg_mem &&
                  t[i]->dereg_mem && t[i]->close);
    }
    ck_assert_str_eq(t[0]->name, "shm");
    ck_assert_str_eq(t[1]->name, "socket");
    /* The socket transport reads host buffers in place (direct sends); shm never does. */
    ck_assert_uint_eq(t[1]->mem_kinds, BRAID_MEM_HOST_ACCESSIBLE);
    ck_assert_uint_eq(t[0]->mem_kinds, 0);
}
END_TEST

/* An item whose pass takes long: another comm's connector in the middle of a big send. */
static atomic_int slow_inside;

static int slow_progress(struct braid_proxy_item *item)
{
    atomic_store(&slow_inside, 1);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&slow_inside, 0);
    return 0;
}

static int idle_progress(struct braid_proxy_item *item)
{
    return 0;
}

START_TEST(quiesce_waits_on_own_item_only)
{
    struct braid_proxy_item slow = {.progress = slow_progress};
    struct braid_proxy_item mine = {.progress = idle_progress};
    ck_assert_int_eq(braid__proxy_add(&slow), BRAID_SUCCESS);
    ck_assert_int_eq(braid__proxy_add(&mine), BRAID_SUCCESS);
    uint64_t deadline = braid__now_ns() + 5000000000ull;
    while (!atomic_load(&slow_inside) && braid__now_ns() < deadline)
        sched_yield();
    ck_assert_msg(atomic_load(&slow_inside), "the proxy never ran the slow item");
    /* The slow item is inside a 300 ms pass: quiescing mine must not wait for it. */
    uint64_t t0 = braid__now_ns();
    braid__proxy_item_quiesce(&mine);
    uint64_t waited_ms = (braid__now_ns() - t0) / 1000000ull;
    ck_assert_msg(atomic_load(&slow_inside), "the slow pass ended before the check");
    ck_assert_msg(waited_ms < 150, "quiescing one item waited %llu ms on another's pass",
                  (unsigned long long)waited_ms);
    /* Quiescing the slow item itself waits for its pass to end. */
    braid__proxy_item_quiesce(&slow);
    ck_assert(!atomic_load(&slow_inside));
    braid__proxy_remove(&mine);
    braid__proxy_remove(&slow);
}
END_TEST

START_TEST(executor_by_memory_kind)
{
    const struct braid_executor *e = NULL;
    struct braid_mem_info host = {BRAID_MEM_HOST, -1}, pinned = {BRAID_MEM_HOST_PINNED, -1};
    struct braid_mem_info device = {BRAID_MEM_DEVICE, 2};
    ck_assert_int_eq(braid__executor_for(&host, "t", &e), BRAID_SUCCESS);
    ck_assert_str_eq(e->name, "host");
    ck_assert_uint_eq(e->version, BRAID_EXECUTOR_VERSION);
    ck_assert(e->create && e->progress && e->abort && e->destroy);
    e = NULL;
    ck_assert_int_eq(braid__executor_for(&pinned, "t", &e), BRAID_SUCCESS);
    ck_assert_str_eq(e->name, "host");
    braid__err_clear();
    ck_assert_int_eq(braid__executor_for(&device, "braid_all_reduce", &e), BRAID_ERR_NOT_SUPPORTED);
    ck_assert_ptr_nonnull(strstr(braid__err_text(), "braid_all_reduce"));
    ck_assert_ptr_nonnull(strstr(braid__err_text(), "device memory (CUDA device 2)"));
}
END_TEST

START_TEST(memory_kind_per_pointer)
{
    struct braid_mem_info info = {BRAID_MEM_DEVICE, 7};
    int on_stack = 0;
    ck_assert_int_eq(braid__mem_query(NULL, &on_stack, "f", "x", &info), BRAID_SUCCESS);
    ck_assert_int_eq(info.kind, BRAID_MEM_HOST);
    ck_assert_int_eq(info.device, -1);
    ck_assert_int_eq(braid__mem_query(NULL, NULL, "f", "x", &info), BRAID_SUCCESS);
    ck_assert_int_eq(info.kind, BRAID_MEM_HOST);
    /* An address this process never mapped (what a GPU pointer is to a process without a
     * driver) is refused, naming the argument. */
    long page = sysconf(_SC_PAGESIZE);
    char *hole = mmap(NULL, (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(hole != MAP_FAILED);
    ck_assert_int_eq(munmap(hole, (size_t)page), 0);
    braid__err_clear();
    ck_assert_int_eq(braid__mem_query(NULL, hole + 16, "braid_broadcast", "recvbuf", &info),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(braid__err_text(), "braid_broadcast: recvbuf"));
    ck_assert_ptr_nonnull(strstr(braid__err_text(), "not memory of this process"));
    ck_assert_str_eq(braid__mem_kind_name(BRAID_MEM_MANAGED), "managed");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seams");
    TCase *tc = tcase_create("seams");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, defaults_fill_optional_hooks);
    tcase_add_test(tc, wrong_version_or_missing_hook_refused);
    tcase_add_test(tc, registered_tables_complete);
    tcase_add_test(tc, quiesce_waits_on_own_item_only);
    tcase_add_test(tc, executor_by_memory_kind);
    tcase_add_test(tc, memory_kind_per_pointer);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
