/*
 * The socket transport's striping arithmetic: for every slot size and stream count, the parts
 * that streams carry cover the slot exactly once, a mid-size slot goes whole on exactly one
 * stream (rotating with the sequence number), a small one on stream 0, and an empty slot still
 * travels.
 */
#include <check.h>

#include "transport/socket_stripe.h"
#include "check_run.h"

/* Checks one (size, streams, seq): the parts, taken in stream order, must tile [0, size)
 * without gap or overlap. Returns the number of streams carrying a part. */
static int check_cover(uint32_t size, int n, uint64_t seq)
{
    int carriers = 0;
    uint32_t next = 0; /* where the next part must start */
    for (int s = 0; s < n; s++) {
        uint32_t off = 0, len = 0;
        if (!braid__stripe_part(seq, size, n, s, &off, &len))
            continue;
        carriers++;
        if (off != next || off + len > size)
            ck_abort_msg("size %u n %d stream %d: part [%u,+%u) should start at %u", size, n, s,
                         off, len, next);
        next = off + len;
    }
    if (next != size)
        ck_abort_msg("size %u n %d: parts cover %u bytes", size, n, next);
    ck_assert_int_eq(carriers, braid__stripe_parts(size, n));
    return carriers;
}

START_TEST(parts_cover_slot_once)
{
    static const uint32_t sizes[] = {0,      1,      4095,   4096,    131072,  262143,
                                     262144, 262145, 524288, 1048573, 4194304, 16777216};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        for (int n = 1; n <= 32; n++)
            for (uint64_t seq = 0; seq < 3; seq++)
                check_cover(sizes[k], n, seq);
}
END_TEST

START_TEST(small_slots_rotate)
{
    for (int n = 1; n <= 8; n++)
        for (uint64_t seq = 0; seq < 16; seq++) {
            uint32_t off, len;
            for (int s = 0; s < n; s++) {
                ck_assert_int_eq(braid__stripe_part(seq, 131072, n, s, &off, &len),
                                 (int)(seq % (uint64_t)n) == s);
                ck_assert_int_eq(braid__stripe_part(seq, 1000, n, s, &off, &len), s == 0);
                ck_assert_int_eq(braid__stripe_part(seq, SOCK_ROTATE_MIN - 1, n, s, &off, &len),
                                 s == 0);
            }
        }
    ck_assert_int_eq(braid__stripe_parts(0, 4), 1); /* empty slots still travel */
    ck_assert_int_eq(braid__stripe_parts(SOCK_STRIPE_MIN - 1, 4), 1);
    ck_assert_int_gt(braid__stripe_parts(SOCK_STRIPE_MIN, 4), 1);
    ck_assert_int_eq(braid__stripe_chunk(1u << 20, 4) % SOCK_STRIPE_GRAN, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stripe");
    TCase *tc = tcase_create("stripe");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, parts_cover_slot_once);
    tcase_add_test(tc, small_slots_rotate);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
