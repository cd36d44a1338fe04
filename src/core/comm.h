/*
 * The communicator. Public handles point at this struct; every public entry point validates
 * the handle against the registry of live comms before touching it.
 */
#ifndef BRAID_CORE_COMM_H
#define BRAID_CORE_COMM_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/error.h"
#include "base/memkind.h"
#include "base/peer.h"
#include "braid.h"
#include "collectives/plan.h"
#include "core/bootstrap.h"
#include "core/plans.h"
#include "exec/executor.h"
#include "transport/transport.h"

struct braid_topo;

/* Settings in force for one comm: config fields, else BRAID_* variables, else defaults. */
struct braid_settings {
    int blocking;
    int timeout_ms;
    int connect_timeout_ms;
    struct braid_shared_settings shared; /* must agree on every rank */
    int proto;                           /* 0: simple */
    char name[64];
};

struct braid_comm {
    uint64_t magic;
    int rank;
    int nranks;
    int cuda_dev;
    struct braid_settings settings;
    uint8_t secret[BRAID_SECRET_BYTES];
    struct braid_bootstrap *bs;
    struct braid_peer_info *peers; /* [nranks] */
    struct braid_topo *topo;       /* the merged system of the comm's hosts */
    /* What the layers below see of this comm: the transports (and the connectors they own)
     * and the executors. Filled once the peers are known (braid__comm_check_peers). */
    struct braid_transport_ctx tp;
    struct braid_exec_ctx exec;
    struct braid_mem_cache mem_cache; /* pages of the comm's buffers found mapped */
    struct braid_plan_cache plans;    /* the plans its calls used (plans.h) */
    atomic_int abort_flag;
    atomic_int busy;        /* threads inside a public call on this comm */
    atomic_int async_error; /* BRAID_SUCCESS, BRAID_IN_PROGRESS, or what broke the comm */
    int finalized;
    /* How long an idle wait spins before yielding the core: 0 when this host runs more ranks
     * of the comm than it has cores, since spinning then only delays the rank we wait for. */
    uint64_t spin_ns;
    uint64_t ncalls;
    pthread_t init_thread; /* non-blocking init */
    int init_thread_live;
    char last_error[BRAID_ERR_MSG_MAX];
};

#define BRAID_COMM_MAGIC 0x627261696463ull

/* Registry of live comms (lifecycle.c). acquire validates the handle and marks the comm busy;
 * release undoes it and keeps the error detail as the comm's last error. */
braid_result_t braid__comm_acquire(struct braid_comm *comm);
braid_result_t braid__comm_release(struct braid_comm *comm, braid_result_t res);
braid_result_t braid__comm_register(struct braid_comm *comm);

/* Resolves config + environment + defaults into settings; errors name the bad field. */
braid_result_t braid__settings_resolve(const braid_config_t *config,
                                       const struct braid_settings *inherit,
                                       struct braid_settings *out);

/* Creates a comm object (not yet joined) with resolved settings. */
braid_result_t braid__comm_alloc(int nranks, int rank, const struct braid_settings *settings,
                                 struct braid_comm **out);
/* Fills this rank's peer info. */
void braid__comm_self_info(struct braid_comm *comm, struct braid_peer_info *info);
/* Checks every rank's version and shared settings against this rank's, settles the settings
 * that depend on where the peers are, and fills the layers' contexts (tp, exec). */
braid_result_t braid__comm_check_peers(struct braid_comm *comm);
/* Builds comm->topo: every host's topology through the bootstrap, merged (system.c). */
braid_result_t braid__comm_system(struct braid_comm *comm);
/* Frees everything (local; no communication). */
void braid__comm_free(struct braid_comm *comm);
/* Marks the comm broken by `res` (first error wins). */
void braid__comm_set_error(struct braid_comm *comm, braid_result_t res);

/* Test hook: a version code other than 0 replaces this build's in peer info. */
extern int braid__test_version_override;

#endif
