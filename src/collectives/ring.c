/*
 * Ring algorithms: every rank talks only to its ring neighbours, so each link carries the
 * same load and the ring is bandwidth-optimal. Every channel runs the same schedule on its own
 * pieces. Positions below are ring positions (ring_math.h); `i` is this rank's.
 */
#include "base/check.h"
#include "collectives/algos.h"
#include "collectives/ring_math.h"

struct ring {
    const int *order;
    int n;
    int i; /* this rank's position */
    int next;
    int prev;
};

#define NO                 BRAID_NOREF
#define PUSH(plan, c, ...) BRAID_CHECK(braid__plan_push((plan), (c), braid__step(__VA_ARGS__)))

/* The rank `k` positions after this one (negative k: before). */
static int at(const struct ring *g, long k)
{
    return braid__ring_rank(g->order, g->n, (long)g->i + k);
}

/*
 * all_reduce, NCCL-style, npieces = n. Reduce-scatter: at step s the rank at position i adds
 * its input to piece i - s coming from prev; at step n-1 it completes piece i + 1, finalizes
 * it and starts the all-gather, in which each finished piece is copied around the ring once.
 * Each piece is reduced and finalized on one rank only, so all ranks get identical bits.
 */
static braid_result_t all_reduce(struct braid_plan *plan, const struct ring *g, int c)
{
    int n = g->n, i = g->i;
    if (n == 1) {
        PUSH(plan, c, BRAID_STEP_FINAL, 0, braid__in(0), NO, braid__out(0), NO);
        return BRAID_SUCCESS;
    }
    struct braid_ref next = braid__peer(g->next), prev = braid__peer(g->prev);
    PUSH(plan, c, 0, i, braid__in(0), NO, next, NO);
    for (int s = 1; s < n - 1; s++)
        PUSH(plan, c, BRAID_STEP_REDUCE, braid__mod(i - s, n), prev, braid__in(0), next, NO);
    PUSH(plan, c, BRAID_STEP_REDUCE | BRAID_STEP_FINAL, braid__mod(i + 1, n), prev, braid__in(0),
         braid__out(0), next);
    /* Receipt k carries the piece finalized k positions behind; the last one stops here. */
    for (int k = 1; k < n; k++)
        PUSH(plan, c, 0, braid__mod(i + 1 - k, n), prev, NO, braid__out(0), k < n - 1 ? next : NO);
    return BRAID_SUCCESS;
}

/* all_gather: each block travels n-1 hops; the receiver keeps a copy and passes it on. */
static braid_result_t all_gather(struct braid_plan *plan, const struct ring *g, int c)
{
    int n = g->n;
    struct braid_ref next = braid__peer(g->next), prev = braid__peer(g->prev);
    PUSH(plan, c, 0, 0, braid__in(0), NO, braid__out((uint32_t)at(g, 0)), n > 1 ? next : NO);
    for (int k = 1; k < n; k++)
        PUSH(plan, c, 0, 0, prev, NO, braid__out((uint32_t)at(g, -k)), k < n - 1 ? next : NO);
    return BRAID_SUCCESS;
}

/* reduce_scatter: the partial sum of block at(i - 1 - s) moves one hop per step and is
 * complete, with this rank's own block, after n-1 hops. */
static braid_result_t reduce_scatter(struct braid_plan *plan, const struct ring *g, int c)
{
    int n = g->n;
    struct braid_ref next = braid__peer(g->next), prev = braid__peer(g->prev);
    if (n > 1)
        PUSH(plan, c, 0, 0, braid__in((uint32_t)at(g, -1)), NO, next, NO);
    for (int s = 1; s < n - 1; s++)
        PUSH(plan, c, BRAID_STEP_REDUCE, 0, prev, braid__in((uint32_t)at(g, -1 - s)), next, NO);
    if (n > 1)
        PUSH(plan, c, BRAID_STEP_REDUCE | BRAID_STEP_FINAL, 0, prev, braid__in((uint32_t)at(g, 0)),
             braid__out(0), NO);
    else
        PUSH(plan, c, BRAID_STEP_FINAL, 0, braid__in(0), NO, braid__out(0), NO);
    return BRAID_SUCCESS;
}

/*
 * all_to_all by store-and-forward: a block for the rank d positions ahead takes d hops. The
 * stream on each link is grouped by distance d = n-1 .. 1: this rank sends its own block for
 * d, forwards the d-1 blocks of distance d that pass through it (hops 1 .. d-1 of blocks
 * from the d-1 ranks behind), and keeps the one that has arrived. Within a group sends and
 * receives alternate, so at most one message per link is in flight: no deadlock with 2 slots.
 * Plans hold about n * n / 2 steps per channel; for large n use pairwise.
 */
static braid_result_t all_to_all(struct braid_plan *plan, const struct ring *g, int c)
{
    int n = g->n;
    struct braid_ref next = braid__peer(g->next), prev = braid__peer(g->prev);
    uint32_t self = (uint32_t)at(g, 0);
    PUSH(plan, c, 0, 0, braid__in(self), NO, braid__out(self), NO);
    for (int d = n - 1; d >= 1; d--) {
        PUSH(plan, c, 0, 0, braid__in((uint32_t)at(g, d)), NO, next, NO);
        for (int k = 1; k < d; k++)
            PUSH(plan, c, 0, 0, prev, NO, next, NO);
        PUSH(plan, c, 0, 0, prev, NO, braid__out((uint32_t)at(g, -d)), NO);
    }
    return BRAID_SUCCESS;
}

/* broadcast: a pipeline down the ring from the root; the executor's loop iterations and the
 * FIFO slots keep every link busy. */
static braid_result_t broadcast(struct braid_plan *plan, const struct ring *g, int c, int e)
{
    struct braid_ref next = e < g->n - 1 ? braid__peer(g->next) : NO;
    struct braid_ref src = e == 0 ? braid__in(0) : braid__peer(g->prev);
    PUSH(plan, c, 0, 0, src, NO, braid__out(0), next);
    return BRAID_SUCCESS;
}

/* reduce: a chain that starts after the root and ends at it, each rank adding its input. */
static braid_result_t reduce(struct braid_plan *plan, const struct ring *g, int c, int e)
{
    struct braid_ref next = braid__peer(g->next), prev = braid__peer(g->prev);
    if (g->n == 1)
        PUSH(plan, c, BRAID_STEP_FINAL, 0, braid__in(0), NO, braid__out(0), NO);
    else if (e == 1)
        PUSH(plan, c, 0, 0, braid__in(0), NO, next, NO);
    else if (e == 0)
        PUSH(plan, c, BRAID_STEP_REDUCE | BRAID_STEP_FINAL, 0, prev, braid__in(0), braid__out(0),
             NO);
    else
        PUSH(plan, c, BRAID_STEP_REDUCE, 0, prev, braid__in(0), next, NO);
    return BRAID_SUCCESS;
}

int braid__ring_supports(enum braid_coll coll)
{
    return (unsigned)coll < BRAID_NUM_COLLS;
}

static int ring_npieces(const struct braid_plan_args *a)
{
    return a->coll == BRAID_COLL_ALL_REDUCE ? a->nranks : 1;
}

/* One channel of the plan. */
static braid_result_t build_channel(const struct braid_plan_args *a, struct braid_plan *plan,
                                    const struct ring *g, int c)
{
    /* The root's distance along the ring, for the rooted collectives. */
    int e =
        a->root >= 0 ? braid__ring_dist(g->n, braid__ring_pos(g->order, g->n, a->root), g->i) : 0;
    switch (a->coll) {
    case BRAID_COLL_ALL_REDUCE:
        return all_reduce(plan, g, c);
    case BRAID_COLL_ALL_GATHER:
        return all_gather(plan, g, c);
    case BRAID_COLL_REDUCE_SCATTER:
        return reduce_scatter(plan, g, c);
    case BRAID_COLL_ALL_TO_ALL:
        return all_to_all(plan, g, c);
    case BRAID_COLL_BROADCAST:
        return broadcast(plan, g, c, e);
    case BRAID_COLL_REDUCE:
        return reduce(plan, g, c, e);
    case BRAID_COLL_SEND:
    case BRAID_COLL_RECV:
        return braid__p2p_step(plan, a, c);
    default:
        return braid__err(BRAID_ERR_INTERNAL, "ring build: collective %d unknown", (int)a->coll);
    }
}

braid_result_t braid__ring_build(const struct braid_plan_args *a, struct braid_plan *plan)
{
    int n = a->nranks;
    int blocks_in =
        (a->coll == BRAID_COLL_REDUCE_SCATTER || a->coll == BRAID_COLL_ALL_TO_ALL) ? n : 1;
    int blocks_out = (a->coll == BRAID_COLL_ALL_GATHER || a->coll == BRAID_COLL_ALL_TO_ALL) ? n : 1;
    struct ring g = {.order = a->ring_order, .n = n};
    g.i = braid__ring_pos(a->ring_order, n, a->rank);
    g.next = braid__ring_next(a->ring_order, n, g.i);
    g.prev = braid__ring_prev(a->ring_order, n, g.i);
    braid_result_t res;
    BRAID_CHECK(braid__plan_init(plan, a, BRAID_ALGO_RING, ring_npieces(a), blocks_in, blocks_out));
    /* all_to_all overwrites output block at(-d) before it reads input block at(n - d) for
     * d < n/2, so aliased buffers need staging. */
    plan->inplace_safe = a->coll != BRAID_COLL_ALL_TO_ALL;
    for (int c = 0; c < a->nchannels; c++)
        BRAID_CHECK_GOTO(build_channel(a, plan, &g, c), res, err_free);
    return BRAID_SUCCESS;
err_free:
    braid__plan_free(plan);
    return res;
}
