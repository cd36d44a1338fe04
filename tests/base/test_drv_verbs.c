/*
 * The libibverbs loader (base/drv_verbs.h) with this machine's libibverbs.so.1. Built twice:
 * test_drv_verbs, with BRAID_HAVE_VERBS where the build found verbs.h, calls the real library
 * through the table; test_drv_verbs_noheaders.c includes this file after the loader's source
 * compiled without BRAID_HAVE_VERBS, as a build on a machine without the header has it, and
 * expects the loader to say so.
 */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "base/drv_verbs.h"
#include "check_run.h"
#include "drv_test.h"

static const void *get_verbs(void)
{
    return braid__verbs();
}

#ifdef BRAID_HAVE_VERBS
/* The number of RDMA devices the kernel shows, which the library's list should match. */
static int sysfs_rdma_devices(void)
{
    DIR *d = opendir("/sys/class/infiniband");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

START_TEST(loads_and_lists_devices)
{
    void *lib = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_LOCAL);
    const struct braid_verbs_api *v = braid__verbs();
    if (!lib) {
        /* The header is here but the library is not: the loader must say it cannot load it. */
        ck_assert_ptr_null(v);
        ck_assert_msg(strncmp(braid__verbs_why(), "cannot load libibverbs.so.1 (", 29) == 0,
                      "why: %s", braid__verbs_why());
        return;
    }
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(braid__verbs_why(), "");
    ck_assert_ptr_nonnull(v->ibv_query_port);
    /* Every rdma-core exports what the verbs transport will need. */
    ck_assert_ptr_nonnull(v->ibv_alloc_pd);
    ck_assert_ptr_nonnull(v->ibv_reg_mr);
    ck_assert_ptr_nonnull(v->ibv_create_qp);
    ck_assert_ptr_nonnull(v->ibv_modify_qp);
    int n = -1;
    struct ibv_device **list = v->ibv_get_device_list(&n);
    ck_assert_int_ge(n, 0);
    if (sysfs_rdma_devices() == 0)
        ck_assert_int_eq(n, 0);
    if (list)
        v->ibv_free_device_list(list);
}
END_TEST
#else
START_TEST(says_it_was_built_without_headers)
{
    ck_assert_ptr_null(braid__verbs());
    ck_assert_str_eq(braid__verbs_why(),
                     "built without libibverbs headers (install libibverbs-dev and rebuild)");
}
END_TEST
#endif

START_TEST(loads_once_across_threads)
{
    FILE *log = drv_test_capture_log();
    const void *got[DRV_TEST_THREADS];
    drv_test_race(get_verbs, got);
    for (int i = 0; i < DRV_TEST_THREADS; i++)
        ck_assert_ptr_eq(got[i], got[0]);
    ck_assert_ptr_eq(braid__verbs(), got[0]);
    ck_assert_int_eq(drv_test_log_lines(log, "driver verbs:"), 1);
    fclose(log);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drv_verbs");
    TCase *tc = tcase_create("verbs");
#ifdef BRAID_HAVE_VERBS
    tcase_add_test(tc, loads_and_lists_devices);
#else
    tcase_add_test(tc, says_it_was_built_without_headers);
#endif
    tcase_add_test(tc, loads_once_across_threads);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
