/*
 * Pairwise exchange: at step j every rank sends to the rank j after it and receives from the
 * rank j before it, so each step is a permutation and no link is shared within a step. Used
 * for all_to_all and for point-to-point send/recv (one step).
 */
#include "base/check.h"
#include "collectives/algos.h"
#include "collectives/ring_math.h"

#define NO                 BRAID_NOREF
#define PUSH(plan, c, ...) BRAID_CHECK(braid__plan_push((plan), (c), braid__step(__VA_ARGS__)))

static braid_result_t all_to_all(struct braid_plan *plan, int n, int r, int c)
{
    PUSH(plan, c, 0, 0, braid__in((uint32_t)r), NO, braid__out((uint32_t)r), NO);
    for (int j = 1; j < n; j++) {
        int to = braid__mod((long)r + j, n), from = braid__mod((long)r - j, n);
        PUSH(plan, c, 0, 0, braid__in((uint32_t)to), NO, braid__peer(to), NO);
        PUSH(plan, c, 0, 0, braid__peer(from), NO, braid__out((uint32_t)from), NO);
    }
    return BRAID_SUCCESS;
}

static braid_result_t build_channel(const struct braid_plan_args *a, struct braid_plan *plan, int c)
{
    switch (a->coll) {
    case BRAID_COLL_ALL_TO_ALL:
        return all_to_all(plan, a->nranks, a->rank, c);
    case BRAID_COLL_SEND:
    case BRAID_COLL_RECV:
        return braid__p2p_step(plan, a, c);
    default:
        return braid__err(BRAID_ERR_INTERNAL, "pairwise build: %s is not a pairwise collective",
                          braid__coll_name(a->coll));
    }
}

int braid__pairwise_supports(enum braid_coll coll)
{
    return coll == BRAID_COLL_ALL_TO_ALL || coll == BRAID_COLL_SEND || coll == BRAID_COLL_RECV;
}

braid_result_t braid__pairwise_build(const struct braid_plan_args *a, struct braid_plan *plan)
{
    int blocks = a->coll == BRAID_COLL_ALL_TO_ALL ? a->nranks : 1;
    braid_result_t res;
    BRAID_CHECK(braid__plan_init(plan, a, BRAID_ALGO_PAIRWISE, 1, blocks, blocks));
    /* Step j writes output block r-j, which aliases input block r-j, still to be sent at
     * step n-j: in place needs staging. Send/recv have no in-place form. */
    plan->inplace_safe = a->coll != BRAID_COLL_ALL_TO_ALL;
    for (int c = 0; c < a->nchannels; c++)
        BRAID_CHECK_GOTO(build_channel(a, plan, c), res, err_free);
    return BRAID_SUCCESS;
err_free:
    braid__plan_free(plan);
    return res;
}
