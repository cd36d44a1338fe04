/*
 * The NVML loader (base/drv_nvml.h) against fake NVMLs (fake_nvml.c). Each run is one variant,
 * named by argv[1], in which the process sees exactly one libnvidia-ml.so.1 through the
 * LD_LIBRARY_PATH CMake sets: ok, fail (nvmlInit_v2 fails with NVML_ERROR_DRIVER_NOT_LOADED),
 * and absent (none at all, which is skipped where a real NVML is installed).
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "base/drv_nvml.h"
#include "check_run.h"
#include "drv_test.h"

#define SKIPPED 77

static const void *get_nvml(void)
{
    return braid__nvml();
}

START_TEST(ok_calls_into_nvml)
{
    const struct braid_nvml_api *nv = braid__nvml();
    ck_assert_ptr_nonnull(nv);
    ck_assert_str_eq(braid__nvml_why(), "");
    braid_nvml_device_t dev = NULL;
    ck_assert_int_eq(nv->nvmlDeviceGetHandleByPciBusId_v2("0000:18:00.0", &dev), 0);
    ck_assert_ptr_nonnull(dev);
    braid_nvml_enable_state_t active = 0;
    ck_assert_int_eq(nv->nvmlDeviceGetNvLinkState(dev, 0, &active), 0);
    ck_assert_int_eq(active, 1);
    ck_assert_int_ne(nv->nvmlDeviceGetNvLinkState(dev, 4, &active), 0);
    braid_nvml_pci_info_t pci;
    ck_assert_int_eq(nv->nvmlDeviceGetNvLinkRemotePciInfo_v2(dev, 0, &pci), 0);
    ck_assert_str_eq(pci.bus_id, "00000000:19:00.0");
    braid_nvml_fabric_info_t fabric;
    ck_assert_int_eq(nv->nvmlDeviceGetGpuFabricInfo(dev, &fabric), 0);
    ck_assert_int_eq(fabric.state, BRAID_NVML_FABRIC_COMPLETED);
    ck_assert_int_eq(fabric.clique, 7);
    braid_nvml_field_value_t field = {.field = BRAID_NVML_FI_C2C_COUNT};
    ck_assert_int_eq(nv->nvmlDeviceGetFieldValues(dev, 1, &field), 0);
    ck_assert_int_eq(field.ret, 0);
    ck_assert_int_eq(field.value.u, 2);
}
END_TEST

START_TEST(ok_loads_once_across_threads)
{
    FILE *log = drv_test_capture_log();
    const void *got[DRV_TEST_THREADS];
    drv_test_race(get_nvml, got);
    for (int i = 0; i < DRV_TEST_THREADS; i++) {
        ck_assert_ptr_nonnull(got[i]);
        ck_assert_ptr_eq(got[i], got[0]);
    }
    ck_assert_int_eq(drv_test_log_lines(log, "driver nvml:"), 1);
    ck_assert_int_eq(
        drv_test_log_lines(log, "driver nvml: loaded libnvidia-ml.so.1, NVIDIA driver 999.99"), 1);
    fclose(log);
}
END_TEST

START_TEST(fail_names_the_error)
{
    ck_assert_ptr_null(braid__nvml());
    ck_assert_str_eq(braid__nvml_why(), "nvmlInit_v2 failed: Driver Not Loaded (9)");
}
END_TEST

START_TEST(absent_says_it_cannot_load)
{
    ck_assert_ptr_null(braid__nvml());
    const char *why = braid__nvml_why();
    ck_assert_msg(strncmp(why, "cannot load libnvidia-ml.so.1 (", 31) == 0, "why: %s", why);
}
END_TEST

int main(int argc, char **argv)
{
    const char *variant = argc > 1 ? argv[1] : "absent";
    Suite *s = suite_create("drv_nvml");
    TCase *tc = tcase_create(variant);
    if (strcmp(variant, "ok") == 0) {
        tcase_add_test(tc, ok_calls_into_nvml);
        tcase_add_test(tc, ok_loads_once_across_threads);
    } else if (strcmp(variant, "fail") == 0) {
        tcase_add_test(tc, fail_names_the_error);
    } else if (strcmp(variant, "absent") == 0) {
        void *real = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
        if (real) {
            printf("skipped: a libnvidia-ml.so.1 is installed here, so its absence cannot be "
                   "tested\n");
            return SKIPPED;
        }
        tcase_add_test(tc, absent_says_it_cannot_load);
    } else {
        fprintf(stderr, "usage: %s ok|fail|absent\n", argv[0]);
        return 2;
    }
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
