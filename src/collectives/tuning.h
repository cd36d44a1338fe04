/*
 * The per-call choice of algorithm and channel count. Every rank makes the same choice from
 * the same inputs (the call and the shared settings), so plans match without talking.
 * This is the host-memory cost model; the topology-aware planner replaces its inside.
 */
#ifndef BRAID_COLLECTIVES_TUNING_H
#define BRAID_COLLECTIVES_TUNING_H

#include <stddef.h>

#include "base/peer.h"
#include "collectives/plan.h"

struct braid_tuning {
    enum braid_algo algo;
    int nchannels;
};

/* bytes: the size of one block of the call (count * dtype size). */
braid_result_t braid__tune(enum braid_coll coll, int nranks, size_t bytes,
                           const struct braid_shared_settings *settings, struct braid_tuning *out);

#endif
