#include "collectives/tuning.h"

#include "base/check.h"
#include "base/log.h"

static enum braid_algo default_algo(enum braid_coll coll, int nranks, size_t total,
                                    const struct braid_shared_settings *s)
{
    switch (coll) {
    case BRAID_COLL_ALL_REDUCE:
        if (nranks > 1 && total <= (size_t)s->oneshot_max_bytes && nranks <= 16)
            return BRAID_ALGO_ONESHOT;
        return total <= (size_t)s->tree_max_bytes && nranks > 2 ? BRAID_ALGO_TREE : BRAID_ALGO_RING;
    case BRAID_COLL_BROADCAST:
    case BRAID_COLL_REDUCE:
        return total <= (size_t)s->tree_max_bytes && nranks > 2 ? BRAID_ALGO_TREE : BRAID_ALGO_RING;
    case BRAID_COLL_ALL_TO_ALL:
    case BRAID_COLL_SEND:
    case BRAID_COLL_RECV:
        return BRAID_ALGO_PAIRWISE;
    default:
        return BRAID_ALGO_RING;
    }
}

braid_result_t braid__tune(enum braid_coll coll, int nranks, size_t bytes,
                           const struct braid_shared_settings *s, struct braid_tuning *out)
{
    enum braid_algo algo = default_algo(coll, nranks, bytes, s);
    if (s->algo >= 0) {
        const struct braid_algo_desc *forced = braid__algo_get((enum braid_algo)s->algo);
        if (forced->supports(coll))
            algo = forced->id;
        else
            BRAID_TRACE(PLAN, "BRAID_ALGO=%s does not build %s; using %s", forced->name,
                        braid__coll_name(coll), braid__algo_get(algo)->name);
    }
    /* A channel is worth its synchronisation only with a few slots of data to move: small
     * calls use one, large ones up to the configured bound. */
    size_t per_channel = 4 * (size_t)s->slot_size;
    size_t want = bytes / (per_channel ? per_channel : 1);
    int nch = want < 1 ? 1 : want > (size_t)s->nchannels ? s->nchannels : (int)want;
    /* The double binary tree needs two channels to use both trees. */
    if (algo == BRAID_ALGO_TREE && s->nchannels >= 2 && bytes > 0 && nch < 2)
        nch = 2;
    out->algo = algo;
    out->nchannels = nch;
    return BRAID_SUCCESS;
}
