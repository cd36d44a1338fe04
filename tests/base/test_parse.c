/*
 * The one integer parser: decimal unless "0x" is allowed and given, the whole text or nothing,
 * ranges enforced, overflow detected, and settings read through it.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/params.h"
#include "base/parse.h"
#include "check_run.h"

START_TEST(decimal_is_decimal)
{
    int64_t v = -1;
    ck_assert_int_eq(braid__parse_i64("010", 0, 0, 100, &v), BRAID_PARSE_OK);
    ck_assert_int_eq(v, 10); /* not octal 8 */
    ck_assert_int_eq(braid__parse_i64("-42", 0, -100, 100, &v), BRAID_PARSE_OK);
    ck_assert_int_eq(v, -42);
    ck_assert_int_eq(braid__parse_i64("+7", 0, 0, 100, &v), BRAID_PARSE_OK);
    ck_assert_int_eq(v, 7);
    /* Hexadecimal only where allowed, and only with 0x. */
    ck_assert_int_eq(braid__parse_i64("0x10", 0, 0, 100, &v), BRAID_PARSE_MALFORMED);
    ck_assert_int_eq(braid__parse_i64("0x10", BRAID_PARSE_HEX, 0, 100, &v), BRAID_PARSE_OK);
    ck_assert_int_eq(v, 16);
    ck_assert_int_eq(braid__parse_i64("0X1f", BRAID_PARSE_HEX, 0, 100, &v), BRAID_PARSE_OK);
    ck_assert_int_eq(v, 31);
    ck_assert_int_eq(braid__parse_i64("1f", BRAID_PARSE_HEX, 0, 100, &v), BRAID_PARSE_MALFORMED);
}
END_TEST

START_TEST(whole_text_only)
{
    int64_t v = 5;
    const char *bad[] = {"", " ", "12abc", "1 2", "--1", "0x", "+", "1.5", " 3", "3 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(braid__parse_i64(bad[i], 0, INT64_MIN, INT64_MAX, &v) ==
                          BRAID_PARSE_MALFORMED,
                      "\"%s\" parsed", bad[i]);
        ck_assert_int_eq(v, 5); /* untouched */
    }
    ck_assert_int_eq(braid__parse_i64(NULL, 0, 0, 1, &v), BRAID_PARSE_MALFORMED);
    ck_assert_int_eq(braid__parse_i64(" 3 ", BRAID_PARSE_TRIM, 0, 9, &v), BRAID_PARSE_OK);
    ck_assert_int_eq(v, 3);
}
END_TEST

START_TEST(ranges_and_overflow)
{
    int64_t v = 0;
    ck_assert_int_eq(braid__parse_i64("101", 0, 0, 100, &v), BRAID_PARSE_RANGE);
    ck_assert_int_eq(braid__parse_i64("-1", 0, 0, 100, &v), BRAID_PARSE_RANGE);
    ck_assert_int_eq(braid__parse_i64("9223372036854775807", 0, INT64_MIN, INT64_MAX, &v),
                     BRAID_PARSE_OK);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(braid__parse_i64("-9223372036854775808", 0, INT64_MIN, INT64_MAX, &v),
                     BRAID_PARSE_OK);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(braid__parse_i64("9223372036854775808", 0, INT64_MIN, INT64_MAX, &v),
                     BRAID_PARSE_RANGE);
    ck_assert_int_eq(braid__parse_i64("99999999999999999999999", 0, INT64_MIN, INT64_MAX, &v),
                     BRAID_PARSE_RANGE);
    uint64_t u = 0;
    ck_assert_int_eq(braid__parse_u64("0xffffffffffffffff", BRAID_PARSE_HEX, &u), BRAID_PARSE_OK);
    ck_assert(u == UINT64_MAX);
    ck_assert_int_eq(braid__parse_u64("18446744073709551616", 0, &u), BRAID_PARSE_RANGE);
    ck_assert_int_eq(braid__parse_u64("-1", 0, &u), BRAID_PARSE_MALFORMED);
}
END_TEST

START_TEST(settings_use_it)
{
    long v = 0;
    setenv("BRAID_NSLOTS", "010", 1);
    ck_assert_int_eq(braid__param_int("BRAID_NSLOTS", 2, 64, &v), BRAID_SUCCESS);
    ck_assert_int_eq(v, 10);
    setenv("BRAID_NSLOTS", "0x10", 1);
    ck_assert_int_eq(braid__param_int("BRAID_NSLOTS", 2, 64, &v), BRAID_SUCCESS);
    ck_assert_int_eq(v, 16);
    setenv("BRAID_NSLOTS", "8 slots", 1);
    ck_assert_int_eq(braid__param_int("BRAID_NSLOTS", 2, 64, &v), BRAID_ERR_INVALID_ARGUMENT);
    setenv("BRAID_NSLOTS", "65", 1);
    ck_assert_int_eq(braid__param_int("BRAID_NSLOTS", 2, 64, &v), BRAID_ERR_INVALID_ARGUMENT);
    unsetenv("BRAID_NSLOTS");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, decimal_is_decimal);
    tcase_add_test(tc, whole_text_only);
    tcase_add_test(tc, ranges_and_overflow);
    tcase_add_test(tc, settings_use_it);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
