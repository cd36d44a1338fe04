/*
 * Memory kinds through a CUDA driver: run with a fake libcuda.so.1 on the library path whose
 * region (fake_cuda_region) it calls device memory of GPU 1, pinned host memory and managed
 * memory of GPU 2 by quarters. Checks the classification per pointer (through
 * cuPointerGetAttribute alone, or cuPointerGetAttributes where the variant exports it), and
 * what the public calls make of it: mixed kinds refused naming both buffers, device buffers
 * refused by a build without a device executor, pinned and managed memory run on the host.
 */
#include <check.h>
#include <dlfcn.h>
#include <string.h>

#include "base/drv_cuda.h"
#include "base/error.h"
#include "base/memkind.h"
#include "braid.h"
#include "check_run.h"

static char *region(size_t *quarter)
{
    ck_assert_msg(braid__cuda() != NULL, "the fake driver did not load: %s", braid__cuda_why());
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(lib);
    void *(*get)(size_t *) = (void *(*)(size_t *))dlsym(lib, "fake_cuda_region");
    ck_assert_ptr_nonnull(get);
    size_t bytes = 0;
    char *r = get(&bytes);
    ck_assert_ptr_nonnull(r);
    *quarter = bytes / 4;
    return r;
}

START_TEST(classified_by_the_driver)
{
    size_t q;
    char *r = region(&q);
    struct braid_mem_info m;
    ck_assert_int_eq(braid__mem_query(NULL, r + 64, "f", "x", &m), BRAID_SUCCESS);
    ck_assert_int_eq(m.kind, BRAID_MEM_DEVICE);
    ck_assert_int_eq(m.device, 1);
    ck_assert_int_eq(braid__mem_query(NULL, r + q + 8, "f", "x", &m), BRAID_SUCCESS);
    ck_assert_int_eq(m.kind, BRAID_MEM_HOST_PINNED);
    ck_assert_int_eq(m.device, -1);
    ck_assert_int_eq(braid__mem_query(NULL, r + 2 * q, "f", "x", &m), BRAID_SUCCESS);
    ck_assert_int_eq(m.kind, BRAID_MEM_MANAGED);
    ck_assert_int_eq(m.device, 2);
    int local = 0;
    ck_assert_int_eq(braid__mem_query(NULL, &local, "f", "x", &m), BRAID_SUCCESS);
    ck_assert_int_eq(m.kind, BRAID_MEM_HOST); /* the driver does not know it */
    ck_assert_int_eq(braid__mem_query(NULL, r + 3 * q, "f", "x", &m), BRAID_SUCCESS);
    ck_assert_int_eq(m.kind, BRAID_MEM_HOST);
}
END_TEST

static braid_comm_t solo(void)
{
    braid_unique_id_t id;
    ck_assert_int_eq(braid_get_unique_id(&id), BRAID_SUCCESS);
    braid_comm_t comm = NULL;
    ck_assert_int_eq(braid_comm_init_rank(&comm, 1, id, 0), BRAID_SUCCESS);
    return comm;
}

START_TEST(calls_route_by_kind)
{
    size_t q;
    char *r = region(&q);
    braid_comm_t c = solo();
    float host[4] = {1, 2, 3, 4};
    float *dev = (float *)r, *pinned = (float *)(r + q), *managed = (float *)(r + 2 * q);
    braid_result_t res = braid_all_reduce(dev, host, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL);
    ck_assert_int_eq(res, BRAID_ERR_INVALID_ARGUMENT);
    const char *msg = braid_last_error(c);
    ck_assert_msg(strstr(msg, "sendbuf") && strstr(msg, "device memory (device 1)") &&
                      strstr(msg, "recvbuf") && strstr(msg, "host memory"),
                  "message names neither buffer's kind: %s", msg);
    res = braid_all_reduce(dev, dev + 64, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL);
    ck_assert_int_eq(res, BRAID_ERR_NOT_SUPPORTED);
    ck_assert_ptr_nonnull(strstr(braid_last_error(c), "device memory (CUDA device 1)"));
    /* Pinned and managed memory are host-reachable: the host executor runs them, and may mix
     * them with ordinary host memory. */
    memcpy(pinned, host, sizeof(host));
    ck_assert_int_eq(braid_all_reduce(pinned, managed, 4, BRAID_FLOAT32, BRAID_SUM, c, NULL),
                     BRAID_SUCCESS);
    ck_assert(managed[3] == 4.0f);
    ck_assert_int_eq(braid_broadcast(managed, host, 4, BRAID_FLOAT32, 0, c, NULL), BRAID_SUCCESS);
    ck_assert(host[2] == 3.0f);
    ck_assert_int_eq(braid_comm_destroy(c), BRAID_SUCCESS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memkind");
    TCase *tc = tcase_create("memkind");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, classified_by_the_driver);
    tcase_add_test(tc, calls_route_by_kind);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
