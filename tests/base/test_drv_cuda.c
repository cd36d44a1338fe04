/*
 * The CUDA driver loader (base/drv_cuda.h) against fake drivers (fake_cuda.c). Each run is one
 * variant, named by argv[1], in which the process sees exactly one libcuda.so.1 through the
 * LD_LIBRARY_PATH CMake sets: ok (a driver with 3 GPUs), nodev (cuInit fails with
 * CUDA_ERROR_NO_DEVICE), partial (a required entry point missing), and absent (no libcuda.so.1
 * at all, which is skipped where a real driver is installed).
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "base/drv_cuda.h"
#include "check_run.h"
#include "drv_test.h"

#define SKIPPED 77

static const void *get_cuda(void)
{
    return braid__cuda();
}

/* How many times the loaded fake's cuInit ran: -1 when no fake is loaded. */
static int fake_init_calls(void)
{
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!lib)
        return -1;
    int (*calls)(void);
    *(void **)&calls = dlsym(lib, "fake_cuda_init_calls");
    int n = calls ? calls() : -1;
    dlclose(lib); /* only drops the reference RTLD_NOLOAD took */
    return n;
}

START_TEST(ok_calls_into_the_driver)
{
    const struct braid_cuda_api *cu = braid__cuda();
    ck_assert_ptr_nonnull(cu);
    ck_assert_str_eq(braid__cuda_why(), "");
    ck_assert_int_eq(fake_init_calls(), 1);
    int count = 0, version = 0, major = 0;
    ck_assert_int_eq(cu->cuDeviceGetCount(&count), 0);
    ck_assert_int_eq(count, 3);
    ck_assert_int_eq(cu->cuDriverGetVersion(&version), 0);
    ck_assert_int_eq(version, 13000);
    braid_cu_device_t dev = -1;
    char busid[32];
    ck_assert_int_eq(cu->cuDeviceGet(&dev, 1), 0);
    ck_assert_int_eq(cu->cuDeviceGetPCIBusId(busid, sizeof(busid), dev), 0);
    ck_assert_str_eq(busid, "0000:18:00.0");
    ck_assert_int_eq(cu->cuDeviceGetAttribute(&major, BRAID_CU_ATTR_CC_MAJOR, dev), 0);
    ck_assert_int_eq(major, 9);
    size_t mem = 0;
    ck_assert_int_eq(cu->cuDeviceTotalMem_v2(&mem, dev), 0);
    ck_assert(mem == (size_t)80 << 30);
    ck_assert_int_ne(cu->cuDeviceGet(&dev, 3), 0);
    /* Optional entry points: present where exported, NULL where not. */
    ck_assert_ptr_nonnull(cu->cuDeviceCanAccessPeer);
    ck_assert_ptr_nonnull(cu->cuDevicePrimaryCtxRelease_v2);
    ck_assert_ptr_null(cu->cuPointerGetAttributes);
}
END_TEST

START_TEST(ok_names_results)
{
    char text[64];
    ck_assert_str_eq(braid__cuda_result_text(100, text, sizeof(text)),
                     "CUDA_ERROR_NO_DEVICE (100)");
    ck_assert_str_eq(braid__cuda_result_text(12345, text, sizeof(text)), "CUDA error 12345");
}
END_TEST

START_TEST(ok_loads_once_across_threads)
{
    FILE *log = drv_test_capture_log();
    const void *got[DRV_TEST_THREADS];
    drv_test_race(get_cuda, got);
    for (int i = 0; i < DRV_TEST_THREADS; i++) {
        ck_assert_ptr_nonnull(got[i]);
        ck_assert_ptr_eq(got[i], got[0]);
    }
    ck_assert_ptr_eq(braid__cuda(), got[0]);
    ck_assert_int_eq(fake_init_calls(), 1);
    ck_assert_int_eq(drv_test_log_lines(log, "driver cuda:"), 1);
    ck_assert_int_eq(
        drv_test_log_lines(log, "driver cuda: loaded libcuda.so.1, driver API 13.0 (13000)"), 1);
    fclose(log);
}
END_TEST

START_TEST(nodev_names_the_error)
{
    ck_assert_ptr_null(braid__cuda());
    ck_assert_str_eq(braid__cuda_why(), "cuInit failed: CUDA_ERROR_NO_DEVICE (100)");
    ck_assert_int_eq(fake_init_calls(), 1);
}
END_TEST

START_TEST(nodev_fails_once_across_threads)
{
    FILE *log = drv_test_capture_log();
    const void *got[DRV_TEST_THREADS];
    drv_test_race(get_cuda, got);
    for (int i = 0; i < DRV_TEST_THREADS; i++)
        ck_assert_ptr_null(got[i]);
    ck_assert_int_eq(fake_init_calls(), 1);
    ck_assert_int_eq(drv_test_log_lines(log, "driver cuda:"), 1);
    ck_assert_int_eq(drv_test_log_lines(log, "driver cuda: not used: cuInit failed: "
                                             "CUDA_ERROR_NO_DEVICE (100)"),
                     1);
    fclose(log);
}
END_TEST

START_TEST(partial_names_the_missing_symbol)
{
    ck_assert_ptr_null(braid__cuda());
    ck_assert_str_eq(braid__cuda_why(), "libcuda.so.1 lacks cuDeviceGetPCIBusId (driver too old?)");
    /* A driver that lacks what braid needs is not initialised at all. */
    ck_assert_int_eq(fake_init_calls(), 0);
}
END_TEST

START_TEST(absent_says_it_cannot_load)
{
    ck_assert_ptr_null(braid__cuda());
    const char *why = braid__cuda_why();
    ck_assert_msg(strncmp(why, "cannot load libcuda.so.1 (", 26) == 0, "why: %s", why);
    ck_assert_msg(strstr(why, "libcuda.so.1: cannot open shared object file"), "why: %s", why);
}
END_TEST

int main(int argc, char **argv)
{
    const char *variant = argc > 1 ? argv[1] : "absent";
    Suite *s = suite_create("drv_cuda");
    TCase *tc = tcase_create(variant);
    if (strcmp(variant, "ok") == 0) {
        tcase_add_test(tc, ok_calls_into_the_driver);
        tcase_add_test(tc, ok_names_results);
        tcase_add_test(tc, ok_loads_once_across_threads);
    } else if (strcmp(variant, "nodev") == 0) {
        tcase_add_test(tc, nodev_names_the_error);
        tcase_add_test(tc, nodev_fails_once_across_threads);
    } else if (strcmp(variant, "partial") == 0) {
        tcase_add_test(tc, partial_names_the_missing_symbol);
    } else if (strcmp(variant, "absent") == 0) {
        void *real = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (real) {
            printf("skipped: a libcuda.so.1 is installed here, so its absence cannot be tested\n");
            return SKIPPED;
        }
        tcase_add_test(tc, absent_says_it_cannot_load);
    } else {
        fprintf(stderr, "usage: %s ok|nodev|partial|absent\n", argv[0]);
        return 2;
    }
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
