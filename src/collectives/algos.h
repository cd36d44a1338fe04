/*
 * Entry points of the built-in algorithms, one file each, gathered into the table in algos.c.
 * Adding an algorithm: a new file defining its supports/build pair, two lines here, one table
 * entry and one enum value in plan.h.
 */
#ifndef BRAID_COLLECTIVES_ALGOS_H
#define BRAID_COLLECTIVES_ALGOS_H

#include "collectives/plan.h"

int braid__ring_supports(enum braid_coll coll);
braid_result_t braid__ring_build(const struct braid_plan_args *args, struct braid_plan *plan);

int braid__tree_supports(enum braid_coll coll);
braid_result_t braid__tree_build(const struct braid_plan_args *args, struct braid_plan *plan);

int braid__pairwise_supports(enum braid_coll coll);
braid_result_t braid__pairwise_build(const struct braid_plan_args *args, struct braid_plan *plan);

int braid__oneshot_supports(enum braid_coll coll);
braid_result_t braid__oneshot_build(const struct braid_plan_args *args, struct braid_plan *plan);

/* The one step of a send (input -> peer) or recv (peer -> output) plan on channel c, shared
 * by the builders that offer point-to-point. */
braid_result_t braid__p2p_step(struct braid_plan *plan, const struct braid_plan_args *args, int c);

/* Small constructors the builders share, so that a step reads like the primitive it is. */
static inline struct braid_ref braid__in(uint32_t block)
{
    return braid__ref(BRAID_REF_INPUT, block);
}

static inline struct braid_ref braid__out(uint32_t block)
{
    return braid__ref(BRAID_REF_OUTPUT, block);
}

static inline struct braid_ref braid__peer(int rank)
{
    return braid__ref(BRAID_REF_PEER, (uint32_t)rank);
}

/* A step src0 [op src1] -> dst0 [, dst1]; pass BRAID_NOREF for absent operands. */
static inline struct braid_step braid__step(uint32_t flags, int piece, struct braid_ref src0,
                                            struct braid_ref src1, struct braid_ref dst0,
                                            struct braid_ref dst1)
{
    struct braid_step s = {
        .flags = flags, .piece = (uint32_t)piece, .src = {src0, src1}, .dst = {dst0, dst1}};
    return s;
}

#endif
