/*
 * Creating comms: from a unique id (one rank, one rank with config, all ranks of a process),
 * or from launcher environment variables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/ifaces.h"
#include "base/log.h"
#include "base/params.h"
#include "base/random.h"
#include "core/comm.h"

int braid__comm_unregister(struct braid_comm *comm, int force);

braid_result_t braid_get_unique_id(braid_unique_id_t *id)
{
    braid__err_clear();
    BRAID_ARG_CHECK(id != NULL, "id is NULL; pass the address of a braid_unique_id_t");
    struct braid_id_layout layout;
    memset(&layout, 0, sizeof(layout));
    BRAID_CHECK(braid__random_bytes(layout.secret, sizeof(layout.secret)));
    union braid_sockaddr addr;
    char ifname[64];
    BRAID_CHECK(braid__iface_select(NULL, &addr, ifname));
    long timeout;
    BRAID_CHECK(braid__param_int("BRAID_CONNECT_TIMEOUT_MS", 1, 0x7fffffff, &timeout));
    BRAID_CHECK(braid__root_start(&addr, layout.secret, (int)timeout, &layout.root));
    braid__id_encode(&layout, id);
    char name[BRAID_ADDR_STRLEN];
    BRAID_INFO(BOOT, "unique id: root listening on %s (%s)",
               braid__addr_str(&layout.root, name, sizeof(name)), ifname);
    return BRAID_SUCCESS;
}

/* Joins the job: listener, root handshake, checks. */
static braid_result_t join_job(struct braid_comm *comm, const union braid_sockaddr *root)
{
    const struct braid_settings *s = &comm->settings;
    BRAID_CHECK(braid__bootstrap_create(comm->rank, comm->nranks, comm->secret, root,
                                        s->connect_timeout_ms, &comm->abort_flag, &comm->bs));
    struct braid_peer_info self;
    braid__comm_self_info(comm, &self);
    BRAID_CHECK(braid__root_join(root, comm->secret, comm->rank, comm->nranks,
                                 s->connect_timeout_ms, &comm->abort_flag, &self, comm->peers));
    braid__bootstrap_set_peers(comm->bs, comm->peers);
    BRAID_CHECK(braid__comm_check_peers(comm));
    const struct braid_peer_info *me = &comm->peers[comm->rank];
    for (int r = 0; r < comm->nranks; r++)
        if (comm->peers[r].host_hash != me->host_hash &&
            (braid__addr_is_loopback(&me->addr) || braid__addr_is_loopback(&comm->peers[r].addr)))
            return braid__err(BRAID_ERR_INVALID_USAGE,
                              "rank %d (host %s) and rank %d (host %s) are on different hosts but "
                              "one bootstrap address is loopback; set BRAID_SOCKET_IFNAME to an "
                              "interface the hosts share",
                              comm->rank, me->hostname, r, comm->peers[r].hostname);
    BRAID_CHECK(braid__comm_system(comm));
    BRAID_INFO(INIT, "comm %s rank %d of %d ready", s->name[0] ? s->name : "(unnamed)", comm->rank,
               comm->nranks);
    return BRAID_SUCCESS;
}

struct async_init {
    struct braid_comm *comm;
    union braid_sockaddr root;
};

static void *async_init_main(void *arg)
{
    struct async_init *a = arg;
    braid__log_set_rank(a->comm->rank);
    braid_result_t res = join_job(a->comm, &a->root);
    if (res != BRAID_SUCCESS)
        braid__err_copy(a->comm->last_error);
    atomic_store(&a->comm->async_error, (int)res);
    free(a);
    return NULL;
}

static braid_result_t init_common(braid_comm_t *out, int nranks, const union braid_sockaddr *root,
                                  const uint8_t *secret, int rank, const braid_config_t *config)
{
    struct braid_settings settings;
    BRAID_CHECK(braid__settings_resolve(config, NULL, &settings));
    struct braid_comm *comm;
    BRAID_CHECK(braid__comm_alloc(nranks, rank, &settings, &comm));
    memcpy(comm->secret, secret, BRAID_SECRET_BYTES);
    braid_result_t res;
    if (!settings.blocking) {
        struct async_init *a = malloc(sizeof(*a));
        if (!a) {
            braid__comm_free(comm);
            return braid__err(BRAID_ERR_NO_MEMORY, "init: out of memory");
        }
        a->comm = comm;
        a->root = *root;
        atomic_store(&comm->async_error, BRAID_IN_PROGRESS);
        BRAID_CHECK_GOTO(braid__comm_register(comm), res, err);
        int rc = pthread_create(&comm->init_thread, NULL, async_init_main, a);
        if (rc != 0) {
            free(a);
            braid__comm_unregister(comm, 1);
            res = braid__err(BRAID_ERR_SYSTEM, "init: cannot start a thread: %s", strerror(rc));
            goto err;
        }
        comm->init_thread_live = 1;
        *out = comm;
        return BRAID_IN_PROGRESS;
    }
    BRAID_CHECK_GOTO(join_job(comm, root), res, err);
    BRAID_CHECK_GOTO(braid__comm_register(comm), res, err);
    *out = comm;
    return BRAID_SUCCESS;
err:
    braid__comm_free(comm);
    return res;
}

braid_result_t braid_comm_init_rank_config(braid_comm_t *comm, int nranks, braid_unique_id_t id,
                                           int rank, const braid_config_t *config)
{
    braid__err_clear();
    braid__log_set_rank(rank);
    BRAID_ARG_CHECK(comm != NULL, "comm is NULL; pass the address of a braid_comm_t");
    *comm = NULL;
    BRAID_ARG_CHECK(nranks >= 1, "nranks = %d; it must be at least 1", nranks);
    BRAID_ARG_CHECK(rank >= 0 && rank < nranks, "rank = %d is outside [0, nranks = %d)", rank,
                    nranks);
    struct braid_id_layout layout;
    BRAID_CHECK(braid__id_decode(&id, &layout));
    BRAID_CHECK(init_common(comm, nranks, &layout.root, layout.secret, rank, config));
    return *comm && atomic_load(&(*comm)->async_error) == BRAID_IN_PROGRESS ? BRAID_IN_PROGRESS
                                                                            : BRAID_SUCCESS;
}

braid_result_t braid_comm_init_rank(braid_comm_t *comm, int nranks, braid_unique_id_t id, int rank)
{
    return braid_comm_init_rank_config(comm, nranks, id, rank, NULL);
}

struct init_all_arg {
    braid_comm_t *comm;
    int nranks;
    int rank;
    int device;
    braid_unique_id_t id;
    braid_result_t res;
    char error[BRAID_ERR_MSG_MAX];
};

static void *init_all_main(void *p)
{
    struct init_all_arg *a = p;
    braid_config_t config = BRAID_CONFIG_INIT;
    config.blocking = 1;
    a->res = braid_comm_init_rank_config(a->comm, a->nranks, a->id, a->rank, &config);
    if (a->res != BRAID_SUCCESS)
        braid__err_copy(a->error);
    if (a->res == BRAID_SUCCESS)
        (*a->comm)->cuda_dev = a->device;
    return NULL;
}

braid_result_t braid_comm_init_all(braid_comm_t *comms, int ndev, const int *devlist)
{
    braid__err_clear();
    BRAID_ARG_CHECK(comms != NULL, "comms is NULL; pass an array of ndev braid_comm_t");
    BRAID_ARG_CHECK(ndev >= 1, "ndev = %d; it must be at least 1", ndev);
    braid_unique_id_t id;
    BRAID_CHECK(braid_get_unique_id(&id));
    struct init_all_arg *args = calloc((size_t)ndev, sizeof(*args));
    pthread_t *threads = calloc((size_t)ndev, sizeof(*threads));
    if (!args || !threads) {
        free(args);
        free(threads);
        return braid__err(BRAID_ERR_NO_MEMORY, "init_all: out of memory");
    }
    int started = 0;
    for (int i = 0; i < ndev; i++) {
        args[i] = (struct init_all_arg){.comm = &comms[i],
                                        .nranks = ndev,
                                        .rank = i,
                                        .device = devlist ? devlist[i] : -1,
                                        .id = id};
        if (pthread_create(&threads[i], NULL, init_all_main, &args[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    braid_result_t res = started == ndev ? BRAID_SUCCESS
                                         : braid__err(BRAID_ERR_SYSTEM,
                                                      "init_all: could not "
                                                      "start %d threads",
                                                      ndev);
    for (int i = 0; i < started && res == BRAID_SUCCESS; i++)
        if (args[i].res != BRAID_SUCCESS)
            res = braid__err(args[i].res, "init_all: rank %d: %s", i, args[i].error);
    if (res != BRAID_SUCCESS)
        for (int i = 0; i < started; i++) {
            braid_comm_abort(comms[i]);
            comms[i] = NULL;
        }
    free(args);
    free(threads);
    return res;
}
