/*
 * The host executor: interprets a plan on CPU buffers. An operation is a state machine per
 * channel (iteration, step); braid__exec_progress() runs every step whose FIFOs are ready and
 * returns without waiting, so one thread can drive many operations (a group, several comms)
 * and channels never block each other.
 */
#ifndef BRAID_EXEC_HOST_EXEC_H
#define BRAID_EXEC_HOST_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "braid.h"
#include "collectives/plan.h"
#include "core/comm.h"
#include "transport/transport.h"

/* What an op that could not step waits on. */
#define BRAID_WAIT_LOCAL  1 /* a connector no proxy serves (shm) */
#define BRAID_WAIT_PROXY  2 /* a network connector the proxy, or a driving caller, progresses */
#define BRAID_WAIT_HELPED 4 /* a network connector the transport's own threads progress */

/* Staged inputs up to this size live inside the op's allocation. */
#define BRAID_EXEC_INLINE_STAGE 65536

struct braid_conn_use {
    struct braid_conn *conn;
    uint64_t ticket;
};

struct braid_exec_chan {
    size_t iter;
    uint32_t step;
    int done;
    /* Some send posted the caller's memory instead of a copy (transport.h, direct): the
     * channel's writes to that memory and its completion wait until the proxy sent it. */
    int direct;
    int draining; /* every step ran; waiting for direct sends to leave */
    int nuses;
    struct braid_conn_use *uses; /* connectors this channel uses, with their tickets */
};

struct braid_exec_op {
    size_t alloc_bytes; /* size of this allocation, for reuse */
    struct braid_comm *comm;
    const struct braid_plan *plan;
    enum braid_coll coll;
    const char *in;
    char *out;
    void *staging;     /* owned copy of the input when the plan is not in-place safe */
    void *scratch_out; /* owned output where the caller's is not to be touched */
    size_t count;      /* elements per block */
    braid_dtype_t dtype;
    braid_op_t op;
    size_t esize;
    size_t elems; /* elements per slot */
    size_t iters;
    int remaining; /* channels not done */
    braid_result_t status;
    /* For the watchdog, which reads the clock only when idle: steps run so far, and when it
     * last saw that number change (0: not yet looked). */
    uint64_t steps_done;
    uint64_t watched_steps;
    uint64_t last_progress_ns;
    /* What the op waits for, for timeout and liveness messages: the last wait noted. */
    int wait_channel;
    int wait_peer;
    int wait_send;
    /* BRAID_WAIT_* bits of every wait the last progress call noted, over all channels: how
     * the caller may wait (group.c). */
    int wait_kinds;
    struct braid_exec_chan ch[];
};

/* Creates the op; connectors must already exist. Draws tickets on every connector it uses,
 * so ops must be created in the order they were posted; the entry must be bound. With stage_input
 * the input is copied first (plans that are not in-place safe, called in place); with out == NULL
 * the plan's output goes to owned scratch memory (reduce on a non-root, whose recvbuf is not
 * touched). */
braid_result_t braid__exec_create(struct braid_comm *comm, const struct braid_plan_entry *entry,
                                  const void *in, void *out, size_t count, braid_dtype_t dtype,
                                  braid_op_t op, int stage_input, struct braid_exec_op **out_op);

/* Runs every ready step; returns the number of steps run (0: nothing was ready), or a
 * negative result on error (also kept in op->status). */
int braid__exec_progress(struct braid_exec_op *op);

static inline int braid__exec_done(const struct braid_exec_op *op)
{
    return op->remaining == 0;
}

void braid__exec_destroy(struct braid_exec_op *op);

#endif
