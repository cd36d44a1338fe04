/*
 * Plans for calls: the tuning choice, the comm's plan cache, binding to connectors.
 */
#include "core/plans.h"

#include <stdlib.h>

#include "base/check.h"
#include "base/log.h"
#include "collectives/tuning.h"
#include "core/comm.h"
#include "core/enqueue.h"

static braid_result_t cached_plan(struct braid_comm *comm, enum braid_coll coll,
                                  enum braid_algo algo, int nchannels, int root,
                                  struct braid_plan_entry **out)
{
    struct braid_plan_cache *cache = &comm->plans;
    for (int i = 0; i < cache->n; i++) {
        struct braid_plan_entry *e = cache->entries[i];
        if (e->coll == coll && e->algo == algo && e->nchannels == nchannels && e->root == root) {
            *out = e;
            return BRAID_SUCCESS;
        }
    }
    if (cache->n == cache->cap) {
        int cap = cache->cap ? cache->cap * 2 : 16;
        struct braid_plan_entry **grown = realloc(cache->entries, (size_t)cap * sizeof(*grown));
        if (!grown)
            return braid__err(BRAID_ERR_NO_MEMORY, "plan cache: out of memory");
        cache->entries = grown;
        cache->cap = cap;
    }
    struct braid_plan_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return braid__err(BRAID_ERR_NO_MEMORY, "plan cache: out of memory");
    struct braid_plan_args args = {.coll = coll,
                                   .nranks = comm->nranks,
                                   .rank = comm->rank,
                                   .root = root,
                                   .nchannels = nchannels};
    braid_result_t res = braid__plan_build(algo, &args, &e->plan);
    if (res != BRAID_SUCCESS) {
        free(e);
        BRAID_CHECK(res);
    }
    cache->entries[cache->n] = e;
    e->coll = coll;
    e->algo = algo;
    e->nchannels = nchannels;
    e->root = root;
    cache->n++;
    BRAID_INFO(PLAN, "built %s plan for %s: %d channel(s), root %d", braid__algo_get(algo)->name,
               braid__coll_name(coll), nchannels, root);
    *out = e;
    return BRAID_SUCCESS;
}

braid_result_t braid__plan_entry_bind(struct braid_comm *comm, struct braid_plan_entry *e)
{
    int n = comm->nranks, nch = e->plan.nchannels, total = 0;
    uint8_t *flags = calloc((size_t)nch * (size_t)n, 1);
    struct braid_bound_plan *bp = &e->bp;
    bp->plan = &e->plan;
    bp->use_start = calloc((size_t)nch + 1, sizeof(int));
    if (!flags || !bp->use_start) {
        free(flags);
        return braid__err(BRAID_ERR_NO_MEMORY, "plan: out of memory");
    }
    for (int c = 0; c < nch; c++) {
        braid__plan_peers(&e->plan, c, flags + (size_t)c * n);
        for (int r = 0; r < n; r++)
            total += (flags[(size_t)c * n + r] & 1) + ((flags[(size_t)c * n + r] >> 1) & 1);
    }
    bp->conns = calloc((size_t)total + 1, sizeof(*bp->conns));
    if (!bp->conns) {
        free(flags);
        return braid__err(BRAID_ERR_NO_MEMORY, "plan: out of memory");
    }
    int k = 0;
    for (int c = 0; c < nch; c++) {
        bp->use_start[c] = k;
        for (int r = 0; r < n; r++)
            for (int dir = 0; dir < 2; dir++)
                if (flags[(size_t)c * n + r] & (1 << dir)) {
                    bp->conns[k] = *braid__conn_slot(&comm->tp, dir, c, r);
                    if (!bp->conns[k]) {
                        free(flags);
                        return braid__err(BRAID_ERR_INTERNAL,
                                          "plan: channel %d has no %s "
                                          "connector for rank %d",
                                          c, dir ? "receive" : "send", r);
                    }
                    k++;
                }
    }
    bp->use_start[nch] = k;
    e->bound = 1;
    free(flags);
    return BRAID_SUCCESS;
}

braid_result_t braid__call_plan(const struct braid_call *c, struct braid_plan_entry **out)
{
    struct braid_tuning t;
    size_t bytes = c->count * braid_dtype_size(c->dtype);
    BRAID_CHECK(braid__tune(c->coll, c->comm->nranks, bytes, &c->comm->settings.shared, &t));
    BRAID_CHECK(cached_plan(c->comm, c->coll, t.algo, t.nchannels, c->root, out));
    BRAID_TRACE(COLL, "%s count %zu %s: %s, %d channel(s)", braid__coll_name(c->coll), c->count,
                braid_dtype_name(c->dtype), braid__algo_get(t.algo)->name, t.nchannels);
    return BRAID_SUCCESS;
}

void braid__plan_cache_free(struct braid_plan_cache *cache)
{
    for (int i = 0; i < cache->n; i++) {
        braid__plan_free(&cache->entries[i]->plan);
        free(cache->entries[i]->bp.conns);
        free(cache->entries[i]->bp.use_start);
        free(cache->entries[i]);
    }
    free(cache->entries);
    cache->entries = NULL;
    cache->n = cache->cap = 0;
}
