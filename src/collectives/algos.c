/*
 * The algorithm table, indexed by enum braid_algo. Each entry is defined by its own file;
 * this table is the one place that lists them (tuning, braid-plan and the tests iterate it).
 */
#include <stddef.h>
#include <strings.h>

#include "collectives/algos.h"

static const struct braid_algo_desc algos[BRAID_NUM_ALGOS] = {
    [BRAID_ALGO_RING] =
        {
            .id = BRAID_ALGO_RING,
            .name = "ring",
            .desc = "ring of all ranks; bandwidth-optimal, every collective",
            .supports = braid__ring_supports,
            .build = braid__ring_build,
        },
    [BRAID_ALGO_TREE] =
        {
            .id = BRAID_ALGO_TREE,
            .name = "tree",
            .desc = "double binary tree; log-depth all_reduce, broadcast, reduce",
            .supports = braid__tree_supports,
            .build = braid__tree_build,
        },
    [BRAID_ALGO_PAIRWISE] =
        {
            .id = BRAID_ALGO_PAIRWISE,
            .name = "pairwise",
            .desc = "direct exchange with every peer; all_to_all, send/recv",
            .supports = braid__pairwise_supports,
            .build = braid__pairwise_build,
        },
    [BRAID_ALGO_ONESHOT] =
        {
            .id = BRAID_ALGO_ONESHOT,
            .name = "oneshot",
            .desc = "every rank sends its input to all; small all_reduce, one hop",
            .supports = braid__oneshot_supports,
            .build = braid__oneshot_build,
        },
};

const struct braid_algo_desc *braid__algo_get(enum braid_algo id)
{
    if ((unsigned)id >= BRAID_NUM_ALGOS)
        return NULL;
    return &algos[id];
}

const struct braid_algo_desc *braid__algo_find(const char *name)
{
    for (int i = 0; name && i < BRAID_NUM_ALGOS; i++)
        if (strcasecmp(name, algos[i].name) == 0)
            return &algos[i];
    return NULL;
}

braid_result_t braid__p2p_step(struct braid_plan *plan, const struct braid_plan_args *a, int c)
{
    struct braid_step step =
        a->coll == BRAID_COLL_SEND
            ? braid__step(0, 0, braid__in(0), BRAID_NOREF, braid__peer(a->root), BRAID_NOREF)
            : braid__step(0, 0, braid__peer(a->root), BRAID_NOREF, braid__out(0), BRAID_NOREF);
    return braid__plan_push(plan, c, step);
}
