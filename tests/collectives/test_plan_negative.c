/*
 * A verifier that cannot fail proves nothing: each test here corrupts correct plans by hand
 * and checks that verification fails with a message naming the problem.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectives/plan.h"
#include "check_run.h"

#define MAXR 16

/* All ranks' plans of one collective. */
struct plans {
    int n;
    struct braid_plan p[MAXR];
    struct braid_plan *ptr[MAXR];
    char msg[1024];
};

static void build(struct plans *ps, enum braid_algo algo, enum braid_coll coll, int n, int nch,
                  int root)
{
    ps->n = n;
    for (int r = 0; r < n; r++) {
        struct braid_plan_args a = {coll, n, r, root, nch, NULL};
        ck_assert_int_eq(braid__plan_build(algo, &a, &ps->p[r]), BRAID_SUCCESS);
        ps->ptr[r] = &ps->p[r];
    }
}

static void release(struct plans *ps)
{
    for (int r = 0; r < ps->n; r++)
        braid__plan_free(&ps->p[r]);
}

/* Verifies, expects failure, and checks that the message contains every given word. */
static void expect_failure(struct plans *ps, int inplace, const char *const *words)
{
    braid_result_t res =
        braid__plan_verify_plans(ps->ptr, ps->n, inplace, ps->msg, sizeof(ps->msg));
    ck_assert_msg(res == BRAID_ERR_INTERNAL, "corrupted plan passed verification (res %d)", res);
    if (getenv("BRAID_TEST_VERBOSE")) /* to read the messages a user would see */
        printf("%s\n", ps->msg);
    for (; *words; words++)
        ck_assert_msg(strstr(ps->msg, *words), "message lacks \"%s\": %s", *words, ps->msg);
    release(ps);
}
#define EXPECT_FAIL(ps, inplace, ...)                                                              \
    expect_failure((ps), (inplace), (const char *const[]){__VA_ARGS__, NULL})

static struct braid_step *step(struct plans *ps, int rank, int ch, uint32_t i)
{
    ck_assert_uint_lt(i, ps->p[rank].channels[ch].nsteps);
    return &ps->p[rank].channels[ch].steps[i];
}

static void drop_step(struct plans *ps, int rank, int ch, uint32_t i)
{
    struct braid_channel_plan *c = &ps->p[rank].channels[ch];
    memmove(&c->steps[i], &c->steps[i + 1], (c->nsteps - i - 1) * sizeof(*c->steps));
    c->nsteps--;
}

START_TEST(correct_plans_pass)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 5, 2, 0);
    ck_assert_int_eq(braid__plan_verify_plans(ps.ptr, ps.n, 0, ps.msg, sizeof(ps.msg)), 0);
    release(&ps);
}
END_TEST

/* Rank 2 skips one recv-reduce-send: its neighbours' streams no longer line up. */
START_TEST(dropped_step)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 5, 1, 0);
    drop_step(&ps, 2, 0, 2);
    EXPECT_FAIL(&ps, 0, "rank 2 channel 0 step 2", "mismatched message", "expects piece 4");
}
END_TEST

/* Rank 1 adds its own input a second time (the reduction step is duplicated). */
START_TEST(duplicated_reduction)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_ONESHOT, BRAID_COLL_ALL_REDUCE, 3, 1, 0);
    struct braid_channel_plan *c = &ps.p[1].channels[0];
    /* Steps: 2 sends, out = peer0, out += in0, out += peer2 (final); repeat out += in0. */
    ck_assert_int_eq(step(&ps, 1, 0, 3)->src[1].kind, BRAID_REF_INPUT);
    ck_assert_int_eq(braid__plan_push(&ps.p[1], 0, c->steps[4]), 0);
    c->steps[4] = c->steps[3];
    EXPECT_FAIL(&ps, 0, "rank 1 channel 0 step 4", "duplicated contribution",
                "rank 1's input would be counted twice");
}
END_TEST

/* Rank 1 sends its first piece to rank 3 instead of its ring neighbour 2. */
START_TEST(swapped_peer)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 4, 1, 0);
    step(&ps, 1, 0, 0)->dst[0] = braid__ref(BRAID_REF_PEER, 3);
    EXPECT_FAIL(&ps, 0, "mismatched peers", "rank 1", "rank 3");
}
END_TEST

/* The rank that completes a piece forgets to finalize it (AVG would never divide). */
START_TEST(missing_final)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 4, 1, 0);
    struct braid_step *s = step(&ps, 2, 0, 3);
    ck_assert(s->flags & BRAID_STEP_FINAL);
    s->flags &= ~BRAID_STEP_FINAL;
    EXPECT_FAIL(&ps, 0, "FINAL flag is missing", "piece 3");
}
END_TEST

START_TEST(writes_input)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_GATHER, 4, 1, 0);
    step(&ps, 3, 0, 1)->dst[0] = braid__ref(BRAID_REF_INPUT, 0);
    EXPECT_FAIL(&ps, 0, "rank 3 channel 0 step 1", "write to INPUT");
}
END_TEST

/* FINAL on a partial sum: the post-op would divide too early. */
START_TEST(early_final)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_REDUCE_SCATTER, 4, 1, 0);
    step(&ps, 1, 0, 1)->flags |= BRAID_STEP_FINAL;
    EXPECT_FAIL(&ps, 0, "rank 1 channel 0 step 1", "with 2 of 4 contributions");
}
END_TEST

/* Both ranks of a pairwise exchange receive before they send. */
START_TEST(deadlock)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_PAIRWISE, BRAID_COLL_ALL_TO_ALL, 2, 1, 0);
    for (int r = 0; r < 2; r++) {
        struct braid_step *s = step(&ps, r, 0, 1), t = *s;
        *s = *step(&ps, r, 0, 2);
        *step(&ps, r, 0, 2) = t;
    }
    EXPECT_FAIL(&ps, 0, "deadlock", "rank 0 channel 0 step 1 waits for a message from rank 1");
}
END_TEST

/* Three sends in a row to a FIFO of two slots, before the receiver is ready: deadlock. */
START_TEST(fifo_depth_deadlock)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_TO_ALL, 4, 1, 0);
    /* Move rank 0's first receive behind its next two sends. */
    struct braid_channel_plan *c = &ps.p[0].channels[0];
    struct braid_step recv = c->steps[3]; /* copy, send d=3, fwd, fwd, keep, ... */
    ck_assert_int_eq(recv.dst[0].kind, BRAID_REF_PEER);
    for (int r = 0; r < 4; r++) {
        /* Every rank sends its own blocks for d = 3, 2, 1 first: 3 messages, 2 slots. */
        struct braid_channel_plan *k = &ps.p[r].channels[0];
        struct braid_step own[3] = {k->steps[1], k->steps[5], k->steps[8]};
        drop_step(&ps, r, 0, 8);
        drop_step(&ps, r, 0, 5);
        drop_step(&ps, r, 0, 1);
        memmove(&k->steps[4], &k->steps[1], (k->nsteps - 1) * sizeof(*k->steps));
        k->nsteps += 3;
        memcpy(&k->steps[1], own, sizeof(own));
    }
    EXPECT_FAIL(&ps, 0, "deadlock", "waits for a free slot");
}
END_TEST

START_TEST(leftover_message)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_BROADCAST, 3, 1, 0);
    /* The last rank of the chain passes the data on, but nobody receives it. */
    step(&ps, 2, 0, 0)->dst[1] = braid__ref(BRAID_REF_PEER, 0);
    EXPECT_FAIL(&ps, 0, "rank 2 sends to rank 0 on channel 0", "never receives");
}
END_TEST

/* A step reads an output block before anything was stored there. */
START_TEST(read_before_write)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_GATHER, 4, 1, 0);
    struct braid_channel_plan *c = &ps.p[1].channels[0];
    ck_assert_int_eq(braid__plan_push(&ps.p[1], 0, c->steps[0]), 0);
    memmove(&c->steps[1], &c->steps[0], (c->nsteps - 1) * sizeof(*c->steps));
    c->steps[0] = (struct braid_step){.src = {braid__ref(BRAID_REF_OUTPUT, 0)},
                                      .dst = {braid__ref(BRAID_REF_OUTPUT, 2)}};
    EXPECT_FAIL(&ps, 0, "rank 1 channel 0 step 0", "reads output block 0 piece 0 before");
}
END_TEST

START_TEST(output_never_written)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_BROADCAST, 3, 1, 1);
    step(&ps, 1, 0, 0)->dst[0] = BRAID_NOREF; /* the root keeps nothing */
    step(&ps, 1, 0, 0)->dst[0] = step(&ps, 1, 0, 0)->dst[1];
    step(&ps, 1, 0, 0)->dst[1] = BRAID_NOREF;
    EXPECT_FAIL(&ps, 0, "rank 1 output block 0 piece 0", "never written");
}
END_TEST

/* all_gather receives a block into the wrong output slot. */
START_TEST(wrong_block)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_GATHER, 4, 1, 0);
    step(&ps, 2, 0, 1)->dst[0] = braid__ref(BRAID_REF_OUTPUT, 3);
    EXPECT_FAIL(&ps, 0, "rank 2 output block");
}
END_TEST

START_TEST(nonroot_reads_input)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_BROADCAST, 3, 1, 0);
    /* Rank 1 also copies its own input, which a non-root may not even have. */
    ck_assert_int_eq(
        braid__plan_push(&ps.p[1], 0,
                         (struct braid_step){.src = {braid__ref(BRAID_REF_INPUT, 0)},
                                             .dst = {braid__ref(BRAID_REF_OUTPUT, 0)}}),
        0);
    EXPECT_FAIL(&ps, 0, "non-root", "broadcast");
}
END_TEST

/* Pairwise all_to_all says it is not in-place safe; aliasing the buffers shows why. */
START_TEST(inplace_clobber)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_PAIRWISE, BRAID_COLL_ALL_TO_ALL, 3, 1, 0);
    ck_assert_int_eq(ps.p[0].inplace_safe, 0);
    EXPECT_FAIL(&ps, 1, "holds block", "expected block");
}
END_TEST

START_TEST(plans_disagree)
{
    struct plans ps;
    build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 3, 1, 0);
    ps.p[2].npieces = 2;
    EXPECT_FAIL(&ps, 0, "rank 2's plan", "plans disagree");
}
END_TEST

START_TEST(malformed_steps)
{
    static const struct {
        int field;
        const char *word;
    } cases[] = {{0, "unknown flags"},          {1, "piece index"},  {2, "two peer sources"},
                 {3, "REDUCE with one source"}, {4, "out of range"}, {5, "no destination"}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
        struct plans ps;
        build(&ps, BRAID_ALGO_RING, BRAID_COLL_ALL_REDUCE, 3, 1, 0);
        struct braid_step *s = step(&ps, 1, 0, 1);
        switch (cases[k].field) {
        case 0:
            s->flags |= 0x80;
            break;
        case 1:
            s->piece = 3;
            break;
        case 2:
            s->src[1] = braid__ref(BRAID_REF_PEER, 2);
            break;
        case 3:
            s->src[1] = BRAID_NOREF;
            break;
        case 4:
            s->dst[0] = braid__ref(BRAID_REF_PEER, 7);
            break;
        default:
            s->dst[0] = s->dst[1] = BRAID_NOREF;
            break;
        }
        EXPECT_FAIL(&ps, 0, "malformed step", cases[k].word, "rank 1 channel 0 step 1");
    }
}
END_TEST

/* A send to b answered by a receive from someone else. */
START_TEST(p2p_mismatch)
{
    struct braid_plan send, recv;
    struct braid_plan_args sa = {BRAID_COLL_SEND, 4, 0, 2, 1, NULL};
    struct braid_plan_args ra = {BRAID_COLL_RECV, 4, 2, 1, 1, NULL};
    ck_assert_int_eq(braid__plan_build(BRAID_ALGO_PAIRWISE, &sa, &send), 0);
    ck_assert_int_eq(braid__plan_build(BRAID_ALGO_PAIRWISE, &ra, &recv), 0);
    struct braid_plan *pp[2] = {&send, &recv};
    char msg[1024];
    ck_assert_int_eq(braid__plan_verify_plans(pp, 2, 0, msg, sizeof(msg)), BRAID_ERR_INTERNAL);
    ck_assert_msg(strstr(msg, "mismatched peers"), "%s", msg);
    /* The right pair, a == b included, passes. */
    braid__plan_free(&recv);
    ra.root = 0;
    ck_assert_int_eq(braid__plan_build(BRAID_ALGO_PAIRWISE, &ra, &recv), 0);
    ck_assert_int_eq(braid__plan_verify_plans(pp, 2, 0, msg, sizeof(msg)), 0);
    braid__plan_free(&send);
    braid__plan_free(&recv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plan_negative");
    TCase *tc = tcase_create("corrupted");
    tcase_add_test(tc, correct_plans_pass);
    tcase_add_test(tc, dropped_step);
    tcase_add_test(tc, duplicated_reduction);
    tcase_add_test(tc, swapped_peer);
    tcase_add_test(tc, missing_final);
    tcase_add_test(tc, writes_input);
    tcase_add_test(tc, early_final);
    tcase_add_test(tc, deadlock);
    tcase_add_test(tc, fifo_depth_deadlock);
    tcase_add_test(tc, leftover_message);
    tcase_add_test(tc, read_before_write);
    tcase_add_test(tc, output_never_written);
    tcase_add_test(tc, wrong_block);
    tcase_add_test(tc, nonroot_reads_input);
    tcase_add_test(tc, inplace_clobber);
    tcase_add_test(tc, plans_disagree);
    tcase_add_test(tc, malformed_steps);
    tcase_add_test(tc, p2p_mismatch);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
