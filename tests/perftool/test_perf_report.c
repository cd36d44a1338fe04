/*
 * braid-perf's arithmetic and output (tools/perf/perf_report.c) and its data check
 * (tools/perf/perf_data.c): busbw factors and size semantics as nccl-tests defines them, the
 * table byte for byte against nccl-tests' own output, and a check that accepts every correct
 * reduction and rejects a wrong one, for every dtype and op.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf_data.h"
#include "perf_report.h"
#include "check_run.h"

/* Runs a printer into a string. */
#define CAPTURE(buf, call)                                                                         \
    do {                                                                                           \
        FILE *f_ = fmemopen((buf), sizeof(buf), "w");                                              \
        FILE *out = f_;                                                                            \
        call;                                                                                      \
        fclose(f_);                                                                                \
    } while (0)

START_TEST(busbw_factors)
{
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_ALL_REDUCE, 4), 1.5, 1e-12);
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_ALL_REDUCE, 1), 0.0, 1e-12);
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_ALL_GATHER, 4), 0.75, 1e-12);
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_REDUCE_SCATTER, 8), 0.875, 1e-12);
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_ALLTOALL, 2), 0.5, 1e-12);
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_BROADCAST, 8), 1.0, 1e-12);
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_REDUCE, 8), 1.0, 1e-12);
    ck_assert_double_eq_tol(perf_busbw_factor(PERF_SENDRECV, 8), 1.0, 1e-12);
}
END_TEST

START_TEST(counts_follow_nccl_tests)
{
    perf_counts_t c;

    /* all_gather of a 1 KiB row on 4 ranks: each sends 64 floats, receives 256. */
    perf_coll_counts(PERF_ALL_GATHER, 256, 4, &c);
    ck_assert_uint_eq(c.param_count, 64);
    ck_assert_uint_eq(c.send_count, 64);
    ck_assert_uint_eq(c.recv_count, 256);
    ck_assert_uint_eq(c.send_inplace_offset, 64);
    ck_assert_uint_eq(perf_row_bytes(&c, 4), 1024);
    perf_coll_counts(PERF_REDUCE_SCATTER, 256, 4, &c);
    ck_assert_uint_eq(c.param_count, 64);
    ck_assert_uint_eq(c.send_count, 256);
    ck_assert_uint_eq(c.recv_inplace_offset, 64);
    ck_assert_uint_eq(perf_row_bytes(&c, 4), 1024);
    /* Rows that do not divide evenly shrink to a multiple of the rank count. */
    perf_coll_counts(PERF_ALLTOALL, 10, 4, &c);
    ck_assert_uint_eq(c.param_count, 2);
    ck_assert_uint_eq(perf_row_bytes(&c, 4), 32);
    perf_coll_counts(PERF_ALL_GATHER, 2, 4, &c);
    ck_assert_uint_eq(perf_row_bytes(&c, 4), 0);
    perf_coll_counts(PERF_ALL_REDUCE, 2, 4, &c);
    ck_assert_uint_eq(c.param_count, 2);
    ck_assert_uint_eq(c.send_inplace_offset + c.recv_inplace_offset, 0);
}
END_TEST

START_TEST(bandwidth_in_gb_per_s)
{
    double alg, bus;

    /* 1e9 bytes in one second is 1 GB/s algbw; all_reduce on 2 ranks moves it once more. */
    perf_bandwidth(PERF_ALL_REDUCE, 250000000, 4, 1.0, 2, &alg, &bus);
    ck_assert_double_eq_tol(alg, 1.0, 1e-12);
    ck_assert_double_eq_tol(bus, 1.0, 1e-12);
    /* all_gather counts the whole output: param_count * nranks elements. */
    perf_bandwidth(PERF_ALL_GATHER, 62500000, 4, 1.0, 4, &alg, &bus);
    ck_assert_double_eq_tol(alg, 1.0, 1e-12);
    ck_assert_double_eq_tol(bus, 0.75, 1e-12);
    perf_bandwidth(PERF_SENDRECV, 1000, 1, 0.0, 2, &alg, &bus);
    ck_assert_double_eq_tol(alg, 0.0, 1e-12);
}
END_TEST

START_TEST(row_columns)
{
    ck_assert_str_eq(perf_row_op_name(PERF_ALL_REDUCE, BRAID_SUM), "sum");
    ck_assert_str_eq(perf_row_op_name(PERF_ALL_GATHER, BRAID_SUM), "none");
    ck_assert_str_eq(perf_row_op_name(PERF_BROADCAST, BRAID_MAX), "none");
    ck_assert_str_eq(perf_row_op_name(PERF_REDUCE, BRAID_PROD), "prod");
    ck_assert_int_eq(perf_row_root(PERF_ALL_REDUCE, 3), -1);
    ck_assert_int_eq(perf_row_root(PERF_BROADCAST, 3), 3);
    ck_assert_int_eq(perf_row_root(PERF_REDUCE, 0), 0);
}
END_TEST

START_TEST(time_format)
{
    char buf[32];

    perf_format_time(41.344, buf, sizeof(buf));
    ck_assert_str_eq(buf, "  41.34");
    perf_format_time(253.94, buf, sizeof(buf));
    ck_assert_str_eq(buf, "  253.9");
    perf_format_time(20403.5, buf, sizeof(buf));
    ck_assert_str_eq(buf, "  20404");
}
END_TEST

/* The expected strings are nccl-tests' output, character for character. */
START_TEST(table_matches_nccl_tests)
{
    char buf[2048];
    perf_result_t oop = {41.34, 0.0, 0.0, 0}, ip = {40.19, 0.0, 0.0, 0}, na = {5.0, 1, 1, -1};

    CAPTURE(buf, perf_print_table_header(out, 0));
    ck_assert_str_eq(buf,
                     "#                                                              out-of-place "
                     "                      in-place          \n"
                     "#       size         count      type   redop    root     time   algbw   "
                     "busbw #wrong     time   algbw   busbw #wrong\n"
                     "#        (B)    (elements)                               (us)  (GB/s)  "
                     "(GB/s)            (us)  (GB/s)  (GB/s)       \n");
    CAPTURE(buf, (perf_print_row_params(out, 8, 2, "float", "sum", -1),
                  perf_print_row_result(out, &oop), perf_print_row_result(out, &ip)));
    ck_assert_str_eq(buf, "           8             2     float     sum      -1    41.34    0.00 "
                          "   0.00      0    40.19    0.00    0.00      0");
    CAPTURE(buf, perf_print_row_result(out, &na));
    ck_assert_str_eq(buf, "     5.00    1.00    1.00    N/A");
    CAPTURE(buf, perf_print_footer(out, 0, 12.5));
    ck_assert_str_eq(buf, "# Out of bounds values : 0 OK\n# Avg bus bandwidth    : 12.5 \n#\n");
    CAPTURE(buf, perf_print_footer(out, 2, 0.25));
    ck_assert_ptr_nonnull(strstr(buf, ": 2 FAILED"));
}
END_TEST

START_TEST(settings_line)
{
    char buf[1024];
    perf_args_t a;

    perf_args_defaults(&a);
    a.min_bytes = 8;
    a.max_bytes = 8589934592ull;
    a.step_factor = 2;
    CAPTURE(buf, perf_print_settings(out, &a));
    ck_assert_str_eq(buf, "# nThread 1 nGpus 1 minBytes 8 maxBytes 8589934592 step: 2(factor) "
                          "warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0\n#\n");
}
END_TEST

START_TEST(json_is_complete)
{
    char buf[4096];
    perf_args_t a;
    perf_result_t r = {1.5, 2.0, 3.0, 0}, na = {1.5, 2.0, 3.0, -1};

    perf_args_defaults(&a);
    CAPTURE(buf,
            (perf_json_begin(out, &a, 2, "0.1.0 \"x\""),
             perf_json_row(out, 1, 8, 2, "float", "sum", -1, &r, &na),
             perf_json_row(out, 0, 32, 8, "float", "sum", -1, &r, &r), perf_json_end(out, 0, 3.0)));
    ck_assert_ptr_nonnull(strstr(buf, "\"braid_version\": \"0.1.0 \\\"x\\\"\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"wrong\": null"));
    ck_assert_ptr_nonnull(strstr(buf, "},\n    {\"size\": 32"));
    ck_assert_ptr_nonnull(strstr(buf, "\"avg_busbw\": 3\n}\n"));
}
END_TEST

/* ---- data check ----------------------------------------------------------------------------- */

START_TEST(small_float_encodings)
{
    uint16_t h;
    uint8_t q;

    perf_store(&h, 0, BRAID_FLOAT16, 1.0);
    ck_assert_uint_eq(h, 0x3c00);
    perf_store(&h, 0, BRAID_BFLOAT16, 1.0);
    ck_assert_uint_eq(h, 0x3f80);
    perf_store(&q, 0, BRAID_FP8_E4M3, 1.0);
    ck_assert_uint_eq(q, 0x38);
    perf_store(&q, 0, BRAID_FP8_E4M3, 448.0);
    ck_assert_uint_eq(q, 0x7e);
    perf_store(&q, 0, BRAID_FP8_E5M2, 1.0);
    ck_assert_uint_eq(q, 0x3c);
    q = 0x7f;
    ck_assert(isnan(perf_load(&q, 0, BRAID_FP8_E4M3)));
    q = 0x7c;
    ck_assert(isinf(perf_load(&q, 0, BRAID_FP8_E5M2)));
    h = 0x0001; /* the smallest half subnormal */
    ck_assert_double_eq(perf_load(&h, 0, BRAID_FLOAT16), ldexp(1.0, -24));
    for (int dt = 0; dt < BRAID_NUM_DTYPES; dt++) {
        double buf[1];
        for (int v = 0; v <= 8; v++) {
            perf_store(buf, 0, (braid_dtype_t)dt, v);
            ck_assert_double_eq(perf_load(buf, 0, (braid_dtype_t)dt), v);
        }
    }
}
END_TEST

/* What a library computes: op over ranks' inputs except `skip` (-1: none, the right answer),
 * rounded once to the dtype. */
static void reference_reduce(const perf_pattern_t *p, void *out, size_t count, int skip)
{
    int is_int = p->dtype <= BRAID_UINT64, first = skip == 0 ? 1 : 0;

    for (size_t i = 0; i < count; i++) {
        double acc = perf_pattern_value(p, first, i);
        for (int r = first + 1; r < p->nranks; r++) {
            double v = perf_pattern_value(p, r, i);
            if (r == skip)
                continue;
            acc = p->op == BRAID_PROD  ? acc * v
                  : p->op == BRAID_MIN ? fmin(acc, v)
                  : p->op == BRAID_MAX ? fmax(acc, v)
                                       : acc + v;
        }
        if (p->op == BRAID_AVG)
            acc = is_int ? trunc(acc / p->nranks) : acc / p->nranks;
        perf_store(out, i, p->dtype, acc);
    }
}

START_TEST(check_accepts_right_and_rejects_wrong)
{
    static const int rank_counts[] = {1, 2, 3, 8};
    enum { COUNT = 257 };
    uint64_t buf[COUNT];

    for (int dt = 0; dt < BRAID_NUM_DTYPES; dt++) {
        for (int op = 0; op < BRAID_NUM_OPS; op++) {
            for (size_t k = 0; k < sizeof(rank_counts) / sizeof(rank_counts[0]); k++) {
                perf_pattern_t p;
                perf_pattern_init(&p, (braid_dtype_t)dt, (braid_op_t)op, 1, rank_counts[k], 7);
                reference_reduce(&p, buf, COUNT, -1);
                ck_assert_msg(perf_check_reduce(&p, buf, COUNT, 0) == 0, "dtype %d op %d n %d", dt,
                              op, rank_counts[k]);
                /* A result that lacks the last rank's contribution is caught (fp8's avg is
                 * too coarse to tell n from n - 1 ranks reliably). */
                int coarse = op == BRAID_AVG && dt >= BRAID_FP8_E4M3;
                if (p.nranks > 1 && !coarse) {
                    reference_reduce(&p, buf, COUNT, p.nranks - 1);
                    ck_assert_msg(perf_check_reduce(&p, buf, COUNT, 0) > 0,
                                  "missing rank: dtype %d op %d n %d", dt, op, rank_counts[k]);
                }
                memset(buf, 0xff, sizeof(buf));
                ck_assert_msg(perf_check_reduce(&p, buf, COUNT, 0) == COUNT, "poison dt %d", dt);
            }
        }
    }
}
END_TEST

START_TEST(copy_check_sees_misplacement)
{
    enum { COUNT = 64 };
    float buf[COUNT];
    perf_pattern_t p;

    perf_pattern_init(&p, BRAID_FLOAT32, BRAID_SUM, 0, 4, 3);
    perf_pattern_fill(&p, buf, COUNT, 2, 100);
    ck_assert_uint_eq(perf_check_copy(&p, buf, COUNT, 2, 100), 0);
    ck_assert_uint_gt(perf_check_copy(&p, buf, COUNT, 1, 100), COUNT / 2); /* wrong rank */
    ck_assert_uint_gt(perf_check_copy(&p, buf, COUNT, 2, 101), COUNT / 2); /* shifted */
    buf[5] += 1.0f;
    ck_assert_uint_eq(perf_check_copy(&p, buf, COUNT, 2, 100), 1);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("perf_report");
    TCase *tc = tcase_create("report");
    TCase *data = tcase_create("data");

    tcase_add_test(tc, busbw_factors);
    tcase_add_test(tc, counts_follow_nccl_tests);
    tcase_add_test(tc, bandwidth_in_gb_per_s);
    tcase_add_test(tc, row_columns);
    tcase_add_test(tc, time_format);
    tcase_add_test(tc, table_matches_nccl_tests);
    tcase_add_test(tc, settings_line);
    tcase_add_test(tc, json_is_complete);
    tcase_add_test(data, small_float_encodings);
    tcase_add_test(data, check_accepts_right_and_rejects_wrong);
    tcase_add_test(data, copy_check_sees_misplacement);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, data);
    return s;
}

int main(void)
{
    return harness_run_suite(report_suite());
}
