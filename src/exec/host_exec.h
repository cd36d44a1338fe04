/*
 * The host executor: interprets a plan on buffers the CPU can load and store (host, pinned and
 * managed memory). An op is a state machine per channel (iteration, step); progress runs every
 * step whose FIFOs are ready and returns without waiting, so one thread can drive many
 * operations (a group, several comms) and channels never block each other. Registered in
 * executors.c as braid__host_executor; nothing outside exec/ calls it directly.
 */
#ifndef BRAID_EXEC_HOST_EXEC_H
#define BRAID_EXEC_HOST_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "braid.h"
#include "exec/executor.h"

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

struct braid_host_op {
    struct braid_exec_op base; /* first: the run loop's view */
    size_t alloc_bytes;        /* size of this allocation, for reuse */
    struct braid_exec_ctx *ctx;
    const struct braid_plan *plan;
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
    /* Whether the call's buffers are a kind its connectors' transports may read in place
     * (direct sends), per connector through the transport's mem_kinds. */
    unsigned mem_bit;
    struct braid_exec_chan ch[];
};

extern const struct braid_executor braid__host_executor;

#endif
