/*
 * The plans a comm's calls run: which algorithm and channel count a call gets (the tuning
 * choice), the comm's cache of built plans, and their binding to the comm's connectors.
 */
#ifndef BRAID_CORE_PLANS_H
#define BRAID_CORE_PLANS_H

#include "braid.h"
#include "collectives/plan.h"
#include "exec/executor.h"

struct braid_comm;
struct braid_call;

struct braid_plan_entry {
    enum braid_coll coll;
    enum braid_algo algo;
    int nchannels;
    int root;
    struct braid_plan plan;
    /* Filled once the plan's connectors exist (bound = 1): the connectors each channel uses,
     * so a call needs no lookup or setup on the fast path. */
    int bound;
    struct braid_bound_plan bp;
};

/* A comm's built plans; entries never move once made. */
struct braid_plan_cache {
    struct braid_plan_entry **entries;
    int n;
    int cap;
};

/* The plan call c runs: chooses algorithm and channels for its size, then returns the cached
 * plan, building it on first use. Not yet bound when new. */
braid_result_t braid__call_plan(const struct braid_call *c, struct braid_plan_entry **out);

/* Records the connectors the plan uses (they must exist): sets entry->bound. */
braid_result_t braid__plan_entry_bind(struct braid_comm *comm, struct braid_plan_entry *entry);

/* Frees every entry (local). */
void braid__plan_cache_free(struct braid_plan_cache *cache);

#endif
