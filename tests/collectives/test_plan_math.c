/*
 * Unit tests of the plan's pure arithmetic: ring order (ring_math.h), the double binary tree
 * (btree.h), tiling (braid__plan_iterations / braid__plan_piece), names and argument checks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectives/btree.h"
#include "collectives/plan.h"
#include "collectives/ring_math.h"
#include "check_run.h"

/* Check records every passing assertion through a pipe; in hot loops that costs more than the
 * test, so loops check with plain ifs and report only failures. */
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg("%s:%d: expected %s", __FILE__, __LINE__, #cond);                         \
    } while (0)

/* A deterministic shuffle of 0..n-1. */
static void shuffle(int *order, int n, unsigned seed)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int j = (int)((seed >> 8) % (unsigned)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

START_TEST(ring_neighbours)
{
    int order[97];
    for (int n = 1; n <= 97; n += 3) {
        for (int custom = 0; custom < 2; custom++) {
            shuffle(order, n, (unsigned)n);
            const int *o = custom ? order : NULL;
            for (int pos = 0; pos < n; pos++) {
                int r = braid__ring_rank(o, n, pos);
                EXPECT((braid__ring_pos(o, n, r)) == (pos));
                int next = braid__ring_next(o, n, pos), prev = braid__ring_prev(o, n, pos);
                EXPECT((braid__ring_prev(o, n, braid__ring_pos(o, n, next))) == (r));
                EXPECT((braid__ring_next(o, n, braid__ring_pos(o, n, prev))) == (r));
                EXPECT((braid__ring_rank(o, n, pos + n)) == (r));
                EXPECT((braid__ring_rank(o, n, pos - 3L * n)) == (r));
                EXPECT((braid__ring_dist(n, pos, braid__mod(pos + 5, n))) == (5 % n));
            }
            EXPECT((braid__ring_pos(o, n, n)) == (-1));
        }
    }
}
END_TEST

/* Walks tree 0 from its root: returns the number of nodes reached and their maximum depth,
 * checking on the way that parent and child links agree. */
static int walk(int n, int v, int depth, int *maxdepth, unsigned char *seen)
{
    int kids[2], count = 1;
    EXPECT(!seen[v]);
    seen[v] = 1;
    if (depth > *maxdepth)
        *maxdepth = depth;
    braid__btree_children(n, v, kids);
    for (int k = 0; k < 2; k++) {
        if (kids[k] < 0)
            continue;
        EXPECT((kids[k]) < (n));
        EXPECT((braid__btree_parent(n, kids[k])) == (v));
        count += walk(n, kids[k], depth + 1, maxdepth, seen);
    }
    return count;
}

START_TEST(btree_shape)
{
    unsigned char *seen = malloc(2048);
    for (int n = 1; n <= 2048; n = n < 80 ? n + 1 : n * 5 / 4) {
        memset(seen, 0, (size_t)n);
        int maxdepth = 0, roots = 0, log2n = 0;
        while ((1 << (log2n + 1)) <= n)
            log2n++;
        EXPECT((walk(n, 0, 0, &maxdepth, seen)) == (n));
        EXPECT((maxdepth) <= (log2n + 1));
        for (int v = 0; v < n; v++) {
            int kids[2], lo, hi;
            roots += braid__btree_parent(n, v) < 0;
            braid__btree_children(n, v, kids);
            /* Odd nodes are leaves; others (but a lone root) have a child. */
            EXPECT((kids[0] < 0 && kids[1] < 0) == (v % 2 == 1 || n == 1));
            braid__btree_subtree(n, v, &lo, &hi);
            EXPECT(lo <= v && v <= hi && hi < n);
            for (int k = 0; k < 2; k++) {
                int clo, chi;
                if (kids[k] < 0)
                    continue;
                braid__btree_subtree(n, kids[k], &clo, &chi);
                EXPECT(clo >= lo && chi <= hi);
                EXPECT(k == 0 ? chi < v : clo > v);
            }
        }
        EXPECT((roots) == (1));
    }
    free(seen);
}
END_TEST

/* Tree 1 is a relabelling of tree 0 in which tree 0's leaves become interior ranks. */
START_TEST(dtree_complementary)
{
    for (int n = 1; n <= 600; n++) {
        int both_leaf = 0, both_inner = 0;
        for (int x = 0; x < n; x++) {
            for (int t = 0; t < 2; t++)
                EXPECT((braid__dtree_rank(n, t, braid__dtree_node(n, t, x))) == (x));
            int kids[2], leaf[2];
            for (int t = 0; t < 2; t++) {
                braid__btree_children(n, braid__dtree_node(n, t, x), kids);
                leaf[t] = kids[0] < 0 && kids[1] < 0;
            }
            both_leaf += leaf[0] && leaf[1];
            both_inner += !leaf[0] && !leaf[1];
        }
        ck_assert_msg(both_leaf == 0 || n == 1, "n=%d: %d ranks are leaves in both trees", n,
                      both_leaf);
        /* With an odd count, rank 0 is the root of tree 0 and an inner node of tree 1. */
        ck_assert_msg(both_inner <= (n % 2 == 1 && n > 1), "n=%d: %d ranks inner in both", n,
                      both_inner);
    }
}
END_TEST

/* Every element of [0, count) lies in exactly one piece, pieces hold at most elems, and the
 * pieces of an iteration come in order. */
static void check_tiling(size_t count, size_t elems, int nchannels, int npieces)
{
    struct braid_plan plan = {.nchannels = nchannels, .npieces = npieces};
    size_t iters = braid__plan_iterations(&plan, count, elems);
    size_t per_iter = (size_t)nchannels * (size_t)npieces * elems;
    EXPECT((iters) == (count ? (count + per_iter - 1) / per_iter : 0));
    size_t next = 0;
    for (size_t it = 0; it < iters; it++) {
        for (int c = 0; c < nchannels; c++) {
            for (int p = 0; p < npieces; p++) {
                size_t start, len;
                braid__plan_piece(&plan, count, elems, it, c, p, &start, &len);
                EXPECT((len) <= (elems));
                if (len) {
                    EXPECT((start) == (next));
                    next += len;
                }
            }
        }
    }
    EXPECT((next) == (count));
}

START_TEST(tiling_covers_once)
{
    static const size_t elems[] = {1, 2, 3, 7, 64, 1000};
    static const int npieces[] = {1, 2, 5, 8};
    for (size_t count = 0; count <= 300; count++)
        for (size_t e = 0; e < sizeof(elems) / sizeof(*elems); e++)
            for (int nc = 1; nc <= 3; nc++)
                for (size_t p = 0; p < sizeof(npieces) / sizeof(*npieces); p++)
                    check_tiling(count, elems[e], nc, npieces[p]);
    check_tiling(1000003, 4096, 2, 8);
    check_tiling((size_t)1 << 28, 1 << 16, 4, 72);
}
END_TEST

START_TEST(names)
{
    ck_assert_ptr_nonnull(braid__algo_find("RING"));
    ck_assert_ptr_null(braid__algo_find("nosuch"));
    for (int a = 0; a < BRAID_NUM_ALGOS; a++) {
        const struct braid_algo_desc *d = braid__algo_get((enum braid_algo)a);
        ck_assert_int_eq(d->id, a);
        ck_assert_ptr_eq(braid__algo_find(d->name), d);
    }
    ck_assert_ptr_null(braid__algo_get(BRAID_NUM_ALGOS));
    for (int c = 0; c < BRAID_NUM_COLLS; c++)
        ck_assert_int_eq(braid__coll_find(braid__coll_name((enum braid_coll)c)), c);
    ck_assert_int_eq(braid__coll_find("AllReduce"), BRAID_COLL_ALL_REDUCE);
    ck_assert_int_eq(braid__coll_find("bogus"), BRAID_NUM_COLLS);
}
END_TEST

static braid_result_t try_build(enum braid_algo algo, enum braid_coll coll, int n, int rank,
                                int root, int nch, const int *order)
{
    struct braid_plan plan;
    struct braid_plan_args a = {coll, n, rank, root, nch, order};
    braid_result_t res = braid__plan_build(algo, &a, &plan);
    if (res == BRAID_SUCCESS)
        braid__plan_free(&plan);
    return res;
}

START_TEST(build_checks_args)
{
    int bad_order[4] = {0, 1, 1, 3}, good_order[4] = {2, 0, 3, 1};
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 0, 0, 0, 1, NULL),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 4, 4, 0, 1, NULL),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_BROADCAST, 4, 0, 4, 1, NULL),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_SEND, 4, 0, -1, 1, NULL),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 4, 0, 0, 0, NULL),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 4, 0, 0, 65, NULL),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 4, 0, 0, 1, bad_order),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 4, 0, 0, 64, good_order),
                     BRAID_SUCCESS);
    ck_assert_int_eq(try_build(BRAID_ALGO_TREE, BRAID_COLL_REDUCE_SCATTER, 4, 0, 0, 1, NULL),
                     BRAID_ERR_NOT_SUPPORTED);
    ck_assert_int_eq(try_build(BRAID_NUM_ALGOS, BRAID_COLL_ALL_REDUCE, 4, 0, 0, 1, NULL),
                     BRAID_ERR_INVALID_ARGUMENT);
    /* Roots are ignored where the collective has none. */
    ck_assert_int_eq(try_build(BRAID_ALGO_RING, BRAID_COLL_ALL_GATHER, 4, 0, 99, 1, NULL),
                     BRAID_SUCCESS);
}
END_TEST

START_TEST(print_names_primitives)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct braid_plan plan;
    struct braid_plan_args a = {BRAID_COLL_ALL_REDUCE, 4, 1, 0, 2, NULL};
    ck_assert_int_eq(braid__plan_build(BRAID_ALGO_RING, &a, &plan), BRAID_SUCCESS);
    braid__plan_print(&plan, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "plan all_reduce/ring rank 1 of 4"));
    ck_assert_ptr_nonnull(strstr(text, "recv-reduce-send"));
    ck_assert_ptr_nonnull(strstr(text, "recv-reduce-copy-send"));
    ck_assert_ptr_nonnull(strstr(text, "[final]"));
    ck_assert_ptr_nonnull(strstr(text, "channel 1: 7 steps"));
    uint8_t flags[4] = {0};
    braid__plan_peers(&plan, 0, flags);
    ck_assert(flags[2] == 1 && flags[0] == 2 && flags[1] == 0 && flags[3] == 0);
    braid__plan_free(&plan);
    braid__plan_free(&plan); /* a freed plan is zeroed: freeing again is harmless */
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plan_math");
    TCase *tc = tcase_create("math");
    tcase_add_test(tc, ring_neighbours);
    tcase_add_test(tc, btree_shape);
    tcase_add_test(tc, dtree_complementary);
    tcase_add_test(tc, tiling_covers_once);
    tcase_add_test(tc, names);
    tcase_add_test(tc, build_checks_args);
    tcase_add_test(tc, print_names_primitives);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
