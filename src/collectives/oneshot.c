/*
 * One-shot all_reduce for small messages: every rank sends its input to every other rank,
 * then reduces all n inputs itself. Latency is one hop, at n times the traffic of a ring. Every
 * rank combines the inputs in the same order, rank 0 first, so floating-point results are
 * bitwise identical everywhere even though each rank computes its own.
 */
#include "base/check.h"
#include "collectives/algos.h"
#include "collectives/ring_math.h"

#define NO                 BRAID_NOREF
#define PUSH(plan, c, ...) BRAID_CHECK(braid__plan_push((plan), (c), braid__step(__VA_ARGS__)))

static braid_result_t build_channel(struct braid_plan *plan, int n, int r, int c)
{
    if (n == 1) {
        PUSH(plan, c, BRAID_STEP_FINAL, 0, braid__in(0), NO, braid__out(0), NO);
        return BRAID_SUCCESS;
    }
    /* Sends go out first, in rotated order so that not every rank hits rank 0 at once. */
    for (int j = 1; j < n; j++)
        PUSH(plan, c, 0, 0, braid__in(0), NO, braid__peer(braid__mod((long)r + j, n)), NO);
        /* Rank k's value, read from this rank's own input when k is this rank. */
#define FROM(k) ((k) == r ? braid__in(0) : braid__peer(k))
    PUSH(plan, c, 0, 0, FROM(0), NO, braid__out(0), NO);
    for (int k = 1; k < n; k++)
        PUSH(plan, c, BRAID_STEP_REDUCE | (k == n - 1 ? BRAID_STEP_FINAL : 0), 0, braid__out(0),
             FROM(k), braid__out(0), NO);
#undef FROM
    return BRAID_SUCCESS;
}

int braid__oneshot_supports(enum braid_coll coll)
{
    return coll == BRAID_COLL_ALL_REDUCE;
}

braid_result_t braid__oneshot_build(const struct braid_plan_args *a, struct braid_plan *plan)
{
    braid_result_t res;
    BRAID_CHECK(braid__plan_init(plan, a, BRAID_ALGO_ONESHOT, 1, 1, 1));
    /* The output accumulates from rank 0's input before this rank's own input is read. */
    plan->inplace_safe = 0;
    for (int c = 0; c < a->nchannels; c++)
        BRAID_CHECK_GOTO(build_channel(plan, a->nranks, a->rank, c), res, err_free);
    return BRAID_SUCCESS;
err_free:
    braid__plan_free(plan);
    return res;
}
