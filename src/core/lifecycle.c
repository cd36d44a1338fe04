/*
 * Comm lifecycle after init: queries, finalize, destroy, abort.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "base/log.h"
#include "core/comm.h"
#include "transport/proxy.h"

int braid__comm_unregister(struct braid_comm *comm, int force);

#define ABORT_DRAIN_MS 5000

/* Waits for a non-blocking init to end (it is bounded by the connect timeout and the abort
 * flag); returns its result. */
static braid_result_t join_init_thread(struct braid_comm *comm)
{
    if (comm->init_thread_live) {
        pthread_join(comm->init_thread, NULL);
        comm->init_thread_live = 0;
    }
    return (braid_result_t)atomic_load(&comm->async_error);
}

#define QUERY(fn, type, expr)                                                                      \
    braid_result_t fn(braid_comm_t comm, type *out)                                                \
    {                                                                                              \
        braid__err_clear();                                                                        \
        BRAID_CHECK(braid__comm_acquire(comm));                                                    \
        if (!out)                                                                                  \
            return braid__comm_release(                                                            \
                comm, braid__err(BRAID_ERR_INVALID_ARGUMENT, #fn ": the output pointer is NULL")); \
        *out = (expr);                                                                             \
        return braid__comm_release(comm, BRAID_SUCCESS);                                           \
    }

QUERY(braid_comm_count, int, comm->nranks)
QUERY(braid_comm_user_rank, int, comm->rank)
QUERY(braid_comm_cu_device, int, comm->cuda_dev)
QUERY(braid_comm_get_async_error, braid_result_t, (braid_result_t)atomic_load(&comm->async_error))

braid_result_t braid_comm_finalize(braid_comm_t comm)
{
    braid__err_clear();
    BRAID_CHECK(braid__comm_acquire(comm));
    braid_result_t res = join_init_thread(comm);
    if (res == BRAID_SUCCESS && !comm->finalized) {
        comm->finalized = 1;
        res = braid__bootstrap_barrier(comm->bs);
        if (res != BRAID_SUCCESS)
            braid__comm_set_error(comm, res);
    } else if (res != BRAID_SUCCESS) {
        res = braid__err(res, "finalize: the comm is broken (%s); destroy or abort it",
                         braid_result_string(res));
    }
    return braid__comm_release(comm, res);
}

braid_result_t braid_comm_destroy(braid_comm_t comm)
{
    braid__err_clear();
    if (!comm)
        return BRAID_SUCCESS;
    BRAID_CHECK(braid__comm_acquire(comm));
    int others = atomic_load(&comm->busy) - 1;
    if (others > 0)
        return braid__comm_release(comm, braid__err(BRAID_ERR_INVALID_USAGE,
                                                    "destroy: %d other thread(s) are inside calls "
                                                    "on this comm; wait for them or use "
                                                    "braid_comm_abort()",
                                                    others));
    /* Local: no talk with other ranks, so one thread can destroy the many comms of
     * braid_comm_init_all() and a rank can leave a failed job. braid_comm_finalize() is the
     * collective synchronisation for those who want one. */
    braid_result_t res = BRAID_SUCCESS;
    join_init_thread(comm);
    braid__comm_release(comm, res);
    if (braid__comm_unregister(comm, 0) != 1)
        return braid__err(BRAID_ERR_INVALID_USAGE, "destroy: another thread entered a call on "
                                                   "the comm meanwhile; nothing was freed");
    braid__comm_free(comm);
    return res;
}

braid_result_t braid_comm_abort(braid_comm_t comm)
{
    braid__err_clear();
    if (!comm)
        return BRAID_SUCCESS;
    if (braid__comm_unregister(comm, 1) != 1)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "abort: comm %p is not a live "
                          "communicator",
                          (void *)comm);
    /* From here no new call can enter; calls inside notice the flag within a poll slice. */
    atomic_store(&comm->abort_flag, 1);
    braid__proxy_bell_ring(); /* a call asleep on the doorbell looks at the flag now */
    braid__comm_set_error(comm, BRAID_ERR_ABORTED);
    for (int waited = 0; atomic_load(&comm->busy) > 0; waited++) {
        if (waited >= ABORT_DRAIN_MS)
            return braid__err(BRAID_ERR_TIMEOUT,
                              "abort: %d call(s) still inside the comm after "
                              "%d ms; the comm was left allocated",
                              atomic_load(&comm->busy), ABORT_DRAIN_MS);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    join_init_thread(comm);
    /* Peers waiting on this rank fail now, not at their timeout. */
    braid__transport_ctx_poison(&comm->tp);
    BRAID_INFO(INIT, "comm rank %d aborted", comm->rank);
    braid__comm_free(comm);
    return BRAID_SUCCESS;
}
