/*
 * One collective or point-to-point call, validated, waiting to run (alone, or at the end of
 * its group).
 */
#ifndef BRAID_CORE_ENQUEUE_H
#define BRAID_CORE_ENQUEUE_H

#include "base/memkind.h"
#include "collectives/plan.h"
#include "core/comm.h"

struct braid_call {
    struct braid_comm *comm;
    enum braid_coll coll;
    const void *sendbuf;
    void *recvbuf;
    size_t count; /* elements per block (see plan.h) */
    braid_dtype_t dtype;
    braid_op_t op;
    int root; /* root, or peer for send/recv; -1 otherwise */
    int inplace;
    struct braid_mem_info mem;         /* the kind of sendbuf and recvbuf (one kind per call) */
    braid_stream_t stream;             /* the caller's stream, for device buffers */
    const struct braid_executor *exec; /* runs buffers of that kind */
};

/* Queues the call in this thread's group, or runs it now outside a group. */
braid_result_t braid__enqueue(const struct braid_call *call);

/* Runs calls together until all complete or fail; returns the first error. */
braid_result_t braid__run_calls(struct braid_call *calls, int ncalls);

#endif
