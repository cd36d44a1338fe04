/*
 * Comm objects: allocation, the registry of live handles, peer checks and the plan cache.
 */
#include "core/comm.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "topology/topo.h"

int braid__test_version_override;

/* Live comms. Handles are checked here before use, so a destroyed or bogus handle fails with
 * an error instead of a crash. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct braid_comm **registry;
static size_t registry_len, registry_cap;

static int registry_find(const struct braid_comm *comm)
{
    for (size_t i = 0; i < registry_len; i++)
        if (registry[i] == comm)
            return (int)i;
    return -1;
}

braid_result_t braid__comm_register(struct braid_comm *comm)
{
    pthread_mutex_lock(&registry_lock);
    if (registry_len == registry_cap) {
        size_t cap = registry_cap ? registry_cap * 2 : 16;
        struct braid_comm **grown = realloc(registry, cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&registry_lock);
            return braid__err(BRAID_ERR_NO_MEMORY, "comm registry: out of memory");
        }
        registry = grown;
        registry_cap = cap;
    }
    registry[registry_len++] = comm;
    pthread_mutex_unlock(&registry_lock);
    return BRAID_SUCCESS;
}

/* Removes comm from the registry if it has no thread inside (or if force); returns 1 if
 * removed, 0 if busy, -1 if not registered. */
int braid__comm_unregister(struct braid_comm *comm, int force)
{
    pthread_mutex_lock(&registry_lock);
    int i = registry_find(comm);
    int verdict = -1;
    if (i >= 0) {
        verdict = 0;
        if (force || atomic_load(&comm->busy) == 0) {
            registry[i] = registry[--registry_len];
            verdict = 1;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return verdict;
}

braid_result_t braid__comm_acquire(struct braid_comm *comm)
{
    if (!comm)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT, "comm is NULL; pass a communicator from "
                                                      "braid_comm_init_rank()");
    pthread_mutex_lock(&registry_lock);
    int live = registry_find(comm) >= 0;
    if (live)
        atomic_fetch_add(&comm->busy, 1);
    pthread_mutex_unlock(&registry_lock);
    if (!live)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "comm %p is not a live communicator (it "
                          "was destroyed or aborted, or never created)",
                          (void *)comm);
    braid__log_set_rank(comm->rank);
    return BRAID_SUCCESS;
}

braid_result_t braid__comm_release(struct braid_comm *comm, braid_result_t res)
{
    if (res < 0)
        braid__err_copy(comm->last_error);
    atomic_fetch_sub(&comm->busy, 1);
    return res;
}

braid_result_t braid__comm_alloc(int nranks, int rank, const struct braid_settings *settings,
                                 struct braid_comm **out)
{
    struct braid_comm *comm = calloc(1, sizeof(*comm));
    if (!comm)
        return braid__err(BRAID_ERR_NO_MEMORY, "comm: out of memory");
    comm->magic = BRAID_COMM_MAGIC;
    comm->rank = rank;
    comm->nranks = nranks;
    comm->cuda_dev = -1;
    comm->settings = *settings;
    atomic_init(&comm->abort_flag, 0);
    atomic_init(&comm->busy, 0);
    atomic_init(&comm->async_error, BRAID_SUCCESS);
    comm->peers = calloc((size_t)nranks, sizeof(*comm->peers));
    if (!comm->peers) {
        braid__comm_free(comm);
        return braid__err(BRAID_ERR_NO_MEMORY, "comm: out of memory for %d ranks", nranks);
    }
    braid_result_t res = braid__transport_ctx_init(&comm->tp, nranks);
    if (res != BRAID_SUCCESS) {
        braid__comm_free(comm);
        return res;
    }
    *out = comm;
    return BRAID_SUCCESS;
}

void braid__comm_self_info(struct braid_comm *comm, struct braid_peer_info *info)
{
    memset(info, 0, sizeof(*info));
    info->magic = BRAID_PEER_MAGIC;
    info->version_code =
        braid__test_version_override ? braid__test_version_override : braid_version();
    snprintf(info->build, sizeof(info->build), "%s", braid_version_string());
    info->rank = comm->rank;
    info->nranks = comm->nranks;
    info->cuda_dev = comm->cuda_dev;
    braid__peer_identity(info);
    if (comm->bs)
        info->addr = *braid__bootstrap_addr(comm->bs);
    info->settings = comm->settings.shared;
}

static const char *shared_diff(const struct braid_shared_settings *a,
                               const struct braid_shared_settings *b, int *va, int *vb)
{
#define DIFF(field, name)                                                                          \
    if (a->field != b->field) {                                                                    \
        *va = a->field;                                                                            \
        *vb = b->field;                                                                            \
        return name;                                                                               \
    }
    DIFF(nchannels, "BRAID_NCHANNELS");
    DIFF(slot_size, "BRAID_SLOT_SIZE");
    DIFF(nslots, "BRAID_NSLOTS");
    DIFF(algo, "BRAID_ALGO");
    DIFF(tree_max_bytes, "BRAID_TREE_MAX_BYTES");
    DIFF(oneshot_max_bytes, "BRAID_ONESHOT_MAX_BYTES");
    DIFF(slot_size_chosen, "BRAID_SLOT_SIZE (set on some ranks only)");
#undef DIFF
    return NULL;
}

/* Ranks of the comm on this host against the cores this process may run on. */
static void choose_spin(struct braid_comm *comm)
{
    int local = 0;
    for (int r = 0; r < comm->nranks; r++)
        local += comm->peers[r].host_hash == comm->peers[comm->rank].host_hash;
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    comm->spin_ns = local > cores ? 0 : 20000;
    BRAID_INFO(INIT, "%d rank(s) on this host, %d core(s): %s before yielding", local, cores,
               comm->spin_ns ? "spin 20 us" : "no spinning (oversubscribed)");
}

/* Network peers move data through a proxy per slot: bigger slots amortise the per-slot
 * system calls. Every rank sees the same hosts, so every rank makes the same choice. */
#define BRAID_NET_SLOT_SIZE (512 << 10)

static void choose_slot_size(struct braid_comm *comm)
{
    if (comm->settings.shared.slot_size_chosen)
        return;
    for (int r = 0; r < comm->nranks; r++)
        if (comm->peers[r].host_hash != comm->peers[comm->rank].host_hash) {
            comm->settings.shared.slot_size = BRAID_NET_SLOT_SIZE;
            BRAID_INFO(INIT,
                       "ranks on several hosts: slot size %d bytes (set BRAID_SLOT_SIZE "
                       "to choose)",
                       BRAID_NET_SLOT_SIZE);
            return;
        }
}

/* The transport layer's messages travel on the comm's bootstrap under their own tag. */
static braid_result_t tp_oob_send(void *oob, int peer, uint64_t tag, const void *data, size_t len)
{
    struct braid_comm *comm = oob;
    return braid__bootstrap_send(comm->bs, peer, BRAID_TAG_CONNECT | (tag & BRAID_TAG_SEQ_MASK),
                                 data, len);
}

static braid_result_t tp_oob_recv(void *oob, int peer, uint64_t tag, void *data, size_t len)
{
    struct braid_comm *comm = oob;
    return braid__bootstrap_recv(comm->bs, peer, BRAID_TAG_CONNECT | (tag & BRAID_TAG_SEQ_MASK),
                                 data, len);
}

/* What the transports and executors see of the comm, once its settings are final. */
static void fill_layer_contexts(struct braid_comm *comm)
{
    struct braid_transport_ctx *tp = &comm->tp;
    tp->rank = comm->rank;
    tp->peers = comm->peers;
    tp->nslots = (uint32_t)comm->settings.shared.nslots;
    tp->slot_bytes = (size_t)comm->settings.shared.slot_size;
    tp->timeout_ms = comm->settings.timeout_ms;
    tp->connect_timeout_ms = comm->settings.connect_timeout_ms;
    tp->abort_flag = &comm->abort_flag;
    tp->oob_send = tp_oob_send;
    tp->oob_recv = tp_oob_recv;
    tp->oob = comm;
    comm->exec.rank = comm->rank;
    comm->exec.nranks = comm->nranks;
    comm->exec.slot_bytes = (size_t)comm->settings.shared.slot_size;
    comm->exec.tp = tp;
}

braid_result_t braid__comm_check_peers(struct braid_comm *comm)
{
    const struct braid_peer_info *me = &comm->peers[comm->rank];
    choose_spin(comm);
    for (int r = 0; r < comm->nranks; r++) {
        const struct braid_peer_info *p = &comm->peers[r];
        if (p->magic != BRAID_PEER_MAGIC || p->rank != r)
            return braid__err(BRAID_ERR_REMOTE, "rank %d's peer information is malformed", r);
        if (p->version_code != me->version_code)
            return braid__err(BRAID_ERR_VERSION_MISMATCH,
                              "rank %d runs braid version %d (%s) but rank %d runs version %d "
                              "(%s); run the same braid build on every rank",
                              comm->rank, me->version_code, me->build, r, p->version_code,
                              p->build);
        int va, vb;
        const char *what = shared_diff(&me->settings, &p->settings, &va, &vb);
        if (what)
            return braid__err(BRAID_ERR_INVALID_USAGE,
                              "%s differs between ranks: %d on rank %d, %d on rank %d; set it "
                              "the same way on every rank (environment or config)",
                              what, va, comm->rank, vb, r);
    }
    choose_slot_size(comm);
    fill_layer_contexts(comm);
    return BRAID_SUCCESS;
}

void braid__comm_set_error(struct braid_comm *comm, braid_result_t res)
{
    int expected = BRAID_SUCCESS;
    atomic_compare_exchange_strong(&comm->async_error, &expected, (int)res);
}

void braid__comm_free(struct braid_comm *comm)
{
    if (!comm)
        return;
    braid__transport_ctx_fini(&comm->tp);
    braid__exec_ctx_fini(&comm->exec);
    braid__bootstrap_destroy(comm->bs);
    braid__topo_free(comm->topo);
    braid__plan_cache_free(&comm->plans);
    free(comm->peers);
    comm->magic = 0;
    free(comm);
}

int braid__comm_is_live(const struct braid_comm *comm)
{
    pthread_mutex_lock(&registry_lock);
    int live = registry_find(comm) >= 0;
    pthread_mutex_unlock(&registry_lock);
    return live;
}
