/*
 * braid_comm_split: ranks of a parent comm that pass the same color form a new comm, ordered
 * by key then parent rank. Two all-gathers over the parent's bootstrap: first colors and keys
 * (so each member learns its new rank and size), then the members' new peer info (with their
 * new listener addresses). No root is involved.
 */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "core/comm.h"

struct split_key {
    int32_t color;
    int32_t key;
};

/* New rank and size of parent rank `me` among the ranks sharing its color. */
static void place(const struct split_key *keys, int n, int me, int *rank, int *size)
{
    *rank = 0;
    *size = 0;
    for (int r = 0; r < n; r++) {
        if (keys[r].color != keys[me].color)
            continue;
        (*size)++;
        if (keys[r].key < keys[me].key || (keys[r].key == keys[me].key && r < me))
            (*rank)++;
    }
}

static braid_result_t build_child(struct braid_comm *parent, const struct split_key *keys,
                                  const braid_config_t *config, struct braid_comm **out)
{
    int rank, size;
    place(keys, parent->nranks, parent->rank, &rank, &size);
    struct braid_settings settings;
    BRAID_CHECK(braid__settings_resolve(config, &parent->settings, &settings));
    settings.blocking = 1;
    BRAID_CHECK(braid__comm_alloc(size, rank, &settings, out));
    struct braid_comm *child = *out;
    memcpy(child->secret, parent->secret, BRAID_SECRET_BYTES);
    child->cuda_dev = parent->cuda_dev;
    BRAID_CHECK(
        braid__bootstrap_create(rank, size, child->secret, braid__bootstrap_addr(parent->bs),
                                settings.connect_timeout_ms, &child->abort_flag, &child->bs));
    return BRAID_SUCCESS;
}

/* Gathers every parent rank's child peer info and keeps the members' in child order. */
static braid_result_t exchange_infos(struct braid_comm *parent, struct braid_comm *child,
                                     const struct split_key *keys)
{
    int n = parent->nranks;
    struct braid_peer_info *all = calloc((size_t)n, sizeof(*all));
    if (!all)
        return braid__err(BRAID_ERR_NO_MEMORY, "split: out of memory");
    if (child)
        braid__comm_self_info(child, &all[parent->rank]);
    braid_result_t res = braid__bootstrap_allgather(parent->bs, all, sizeof(*all));
    if (res == BRAID_SUCCESS && child) {
        for (int r = 0; r < n; r++) {
            if (keys[r].color != keys[parent->rank].color)
                continue;
            int rank, size;
            place(keys, n, r, &rank, &size);
            child->peers[rank] = all[r];
        }
        braid__bootstrap_set_peers(child->bs, child->peers);
        res = braid__comm_check_peers(child);
        if (res == BRAID_SUCCESS)
            res = braid__comm_system(child);
    }
    free(all);
    return res;
}

static braid_result_t split(struct braid_comm *parent, int color, int key, braid_comm_t *newcomm,
                            const braid_config_t *config)
{
    braid_result_t res = (braid_result_t)atomic_load(&parent->async_error);
    if (res != BRAID_SUCCESS)
        return braid__err(BRAID_ERR_INVALID_USAGE, "split: the parent comm is not usable (%s)",
                          braid_result_string(res));
    int n = parent->nranks;
    struct split_key *keys = calloc((size_t)n, sizeof(*keys));
    if (!keys)
        return braid__err(BRAID_ERR_NO_MEMORY, "split: out of memory");
    struct braid_comm *child = NULL;
    keys[parent->rank] = (struct split_key){.color = color, .key = key};
    BRAID_CHECK_GOTO(braid__bootstrap_allgather(parent->bs, keys, sizeof(*keys)), res, err);
    /* A member that fails locally still takes part in the second all-gather (with an empty
     * entry), so the others fail on the check instead of hanging. */
    braid_result_t local = BRAID_SUCCESS;
    if (color != BRAID_SPLIT_NOCOLOR)
        local = build_child(parent, keys, config, &child);
    BRAID_CHECK_GOTO(exchange_infos(parent, local == BRAID_SUCCESS ? child : NULL, keys), res, err);
    BRAID_CHECK_GOTO(local, res, err);
    if (child) {
        BRAID_CHECK_GOTO(braid__comm_register(child), res, err);
        BRAID_INFO(INIT, "split: color %d -> rank %d of %d", color, child->rank, child->nranks);
    }
    *newcomm = child;
    free(keys);
    return BRAID_SUCCESS;
err:
    braid__comm_free(child);
    free(keys);
    return res;
}

braid_result_t braid_comm_split(braid_comm_t comm, int color, int key, braid_comm_t *newcomm,
                                const braid_config_t *config)
{
    braid__err_clear();
    BRAID_CHECK(braid__comm_acquire(comm));
    braid_result_t res;
    if (!newcomm)
        res = braid__err(BRAID_ERR_INVALID_ARGUMENT, "split: newcomm is NULL");
    else if (color < 0 && color != BRAID_SPLIT_NOCOLOR)
        res = braid__err(BRAID_ERR_INVALID_ARGUMENT,
                         "split: color %d is negative; use a color "
                         ">= 0 or BRAID_SPLIT_NOCOLOR",
                         color);
    else {
        *newcomm = NULL;
        res = split(comm, color, key, newcomm, config);
    }
    return braid__comm_release(comm, res);
}
