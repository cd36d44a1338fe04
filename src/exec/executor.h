/*
 * The executor interface. An executor runs one rank's plan of one call on buffers of the memory
 * kinds it can touch: the host executor (host_exec.c) on memory the CPU can load and store, a
 * device executor on GPU memory. Each is a `const struct braid_executor` of function pointers
 * registered in executors.c; the orchestrator picks one per call from the kind of the call's
 * buffers and then only calls through the table. Adding an executor is one new file and one
 * table line.
 *
 * Executors never see the comm: they get a struct braid_exec_ctx (ranks, slot size, the
 * comm's connectors through its transport context, and a cache the executor owns), filled by
 * the orchestrator.
 *
 * An op is driven by the caller's run loop: progress() runs whatever is ready and returns
 * without waiting, so one thread can drive many ops (a group, several comms) and none blocks
 * another. The loop reads the op's common part (struct braid_exec_op) to learn whether it is
 * done and what it waits on; everything else is the executor's own.
 */
#ifndef BRAID_EXEC_EXECUTOR_H
#define BRAID_EXEC_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/memkind.h"
#include "braid.h"
#include "collectives/plan.h"
#include "transport/transport.h"

/* The layout of struct braid_executor this build expects (its `version`). */
#define BRAID_EXECUTOR_VERSION 1

/* What an op that could not step waits on (bits of braid_exec_op.wait_kinds). */
#define BRAID_WAIT_LOCAL  1 /* a connector no proxy serves (shm) */
#define BRAID_WAIT_PROXY  2 /* a network connector the proxy, or a driving caller, progresses */
#define BRAID_WAIT_HELPED 4 /* a network connector the transport's own threads progress */

/* What an executor may know of one comm; filled by the orchestrator, owned by the comm. */
struct braid_exec_ctx {
    int rank;
    int nranks;
    size_t slot_bytes;              /* bytes per connector slot (the tiling unit) */
    struct braid_transport_ctx *tp; /* the comm's connectors */
    /* The executor's own per-comm cache (the host executor keeps one finished op's memory
     * for the next call); released by braid__exec_ctx_fini(). */
    void *spare;
    size_t spare_bytes;
};

/* Frees what executors cached in ctx. */
void braid__exec_ctx_fini(struct braid_exec_ctx *ctx);

/* A plan with the connectors each of its channels uses, looked up once when the plan is first
 * used, so that a call needs no lookup on the fast path. */
struct braid_bound_plan {
    const struct braid_plan *plan;
    struct braid_conn **conns; /* conns[use_start[c] .. use_start[c + 1]) for channel c */
    int *use_start;            /* [nchannels + 1] */
};

/* One call, as an executor needs it. */
struct braid_exec_args {
    const struct braid_bound_plan *bp;
    const void *in;
    void *out;    /* NULL: the plan's output goes to scratch memory (reduce on a non-root rank) */
    size_t count; /* elements per block (plan.h) */
    braid_dtype_t dtype;
    braid_op_t op;
    int stage_input;           /* copy the input first (in place, plan not in-place safe) */
    struct braid_mem_info mem; /* the kind of in and out (one kind per call) */
    braid_stream_t stream;     /* the caller's stream (device executors) */
};

/* The part of every executor's op that the run loop reads. An executor's op starts with it. */
struct braid_exec_op {
    const struct braid_executor *exec;
    enum braid_coll coll;
    int remaining; /* channels not done: 0 when the op is complete */
    braid_result_t status;
    /* For the run loop's watchdog, which reads the clock only when idle: steps run so far, and
     * when it last saw that number change (0: not yet looked). */
    uint64_t steps_done;
    uint64_t watched_steps;
    uint64_t last_progress_ns;
    /* What the op waits for, for timeout and liveness messages: the last wait noted
     * (wait_channel -1: none yet). */
    int wait_channel;
    int wait_peer;
    int wait_send;
    /* BRAID_WAIT_* bits of every wait the last progress call noted, over all channels: how
     * the caller may wait. */
    int wait_kinds;
};

struct braid_executor {
    uint32_t version; /* BRAID_EXECUTOR_VERSION */
    const char *name;
    unsigned mem_kinds; /* BRAID_MEM_BIT()s of the buffers it runs on */
    /* Creates the op; the plan must be bound (its connectors exist). Draws tickets on every
     * connector it uses, so ops of one comm must be created in the order they were posted. */
    braid_result_t (*create)(struct braid_exec_ctx *ctx, const struct braid_exec_args *args,
                             struct braid_exec_op **out);
    /* Runs every ready step; returns the number of steps run (0: nothing was ready), or a
     * negative result on error (also kept in op->status). Never waits. */
    int (*progress)(struct braid_exec_op *op);
    /* Stops the op for good with `why` (its comm broke): progress() does nothing more and
     * the op's buffers are no longer touched once the transports were quiesced. */
    void (*abort)(struct braid_exec_op *op, braid_result_t why);
    /* Frees the op (NULL is a no-op). */
    void (*destroy)(struct braid_exec_op *op);
};

/*
 * The executor that runs buffers of mem's kind. A kind no executor of this build runs fails
 * with BRAID_ERR_NOT_SUPPORTED naming the kind, the call (`what`) and what to do.
 */
braid_result_t braid__executor_for(const struct braid_mem_info *mem, const char *what,
                                   const struct braid_executor **out);

static inline int braid__exec_done(const struct braid_exec_op *op)
{
    return op->remaining == 0;
}

#endif
