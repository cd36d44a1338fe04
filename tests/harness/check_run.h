/*
 * The main() tail every Check-based braid test shares: run the suite, report, exit 1 if any
 * test failed.
 */
#ifndef BRAID_TESTS_CHECK_RUN_H
#define BRAID_TESTS_CHECK_RUN_H

#include <check.h>

/* Runs every test of s (Check's default fork mode and output), frees the runner, and returns
 * the process exit status: 0 when all passed, 1 otherwise. */
static inline int harness_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#endif
