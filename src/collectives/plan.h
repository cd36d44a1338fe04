/*
 * The plan: braid's IR between the planner and the executors.
 *
 * A plan is plain data describing what ONE rank does in one collective, independent of the
 * buffer size. Each channel holds an ordered list of fused steps over abstract chunks. The
 * executor tiles the call's buffers and replays every channel's step list once per loop
 * iteration (see "Tiling" below), and the verifier replays all ranks' plans symbolically.
 *
 * Buffers. The input and the output buffer are each viewed as `in_blocks` / `out_blocks` equal
 * blocks of `count` elements (count is the call's per-block count: the all-reduce count, the
 * all-gather send count, the reduce-scatter receive count, the all-to-all per-peer count).
 *   all_reduce, broadcast, reduce, send, recv:  in 1,      out 1
 *   all_gather:                                 in 1,      out nranks  (out block r = rank r)
 *   reduce_scatter:                             in nranks, out 1       (in block r -> rank r)
 *   all_to_all:                                 in nranks, out nranks  (in block r -> rank r,
 *                                                                       out block r <- rank r)
 * Each block is cut into pieces: one loop iteration covers nchannels * npieces pieces of every
 * block, and piece p of channel c is piece number c * npieces + p of that iteration.
 *
 * Steps. A step reads up to two sources and writes up to two destinations, all over the same
 * piece index (blocks may differ):
 *   - a source is INPUT block b, OUTPUT block b, or PEER r (the next message in the FIFO from
 *     rank r on this channel); at most one source is a PEER;
 *   - a destination is OUTPUT block b or PEER r (a new message into the FIFO to rank r);
 *     INPUT is never written;
 *   - without BRAID_STEP_REDUCE, src[1] is NONE and the value of src[0] is copied to every
 *     destination; with it, the value is src[0] op src[1] (both present);
 *   - BRAID_STEP_FINAL marks the value as a complete reduction: the post-op (division for
 *     BRAID_AVG) is applied once, here, before it is written.
 * All sources are read before any destination is written, so a step may write where it reads.
 * A step starts only when its PEER source has a message and its PEER destinations have a free
 * slot; FIFOs hold at least BRAID_PLAN_MIN_SLOTS messages.
 *
 * Tiling (executor and verifier agree on it through braid__plan_piece()): with `elems` the
 * most elements a slot holds, one iteration covers per_iter = nchannels * npieces * elems
 * elements of each block; iterations = ceil(count / per_iter); in an iteration with rem
 * elements left, each of the nchannels * npieces pieces gets ceil(rem / (nchannels * npieces))
 * elements, the last ones fewer or none. Empty pieces are still sent (as empty messages), so
 * the FIFOs of both sides stay in step.
 */
#ifndef BRAID_COLLECTIVES_PLAN_H
#define BRAID_COLLECTIVES_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "braid.h"

enum braid_coll {
    BRAID_COLL_ALL_REDUCE = 0,
    BRAID_COLL_ALL_GATHER,
    BRAID_COLL_REDUCE_SCATTER,
    BRAID_COLL_ALL_TO_ALL,
    BRAID_COLL_BROADCAST,
    BRAID_COLL_REDUCE,
    BRAID_COLL_SEND,
    BRAID_COLL_RECV,
    BRAID_NUM_COLLS
};

enum braid_algo {
    BRAID_ALGO_RING = 0,
    BRAID_ALGO_TREE,
    BRAID_ALGO_PAIRWISE,
    BRAID_ALGO_ONESHOT,
    BRAID_NUM_ALGOS
};

enum braid_ref_kind {
    BRAID_REF_NONE = 0,
    BRAID_REF_INPUT = 1,
    BRAID_REF_OUTPUT = 2,
    BRAID_REF_PEER = 3,
};

/* A source or destination: a block of the input or output buffer, or a peer's FIFO. */
struct braid_ref {
    uint32_t kind : 2;   /* enum braid_ref_kind */
    uint32_t index : 30; /* block for INPUT/OUTPUT, rank for PEER */
};

#define BRAID_STEP_REDUCE 0x1u
#define BRAID_STEP_FINAL  0x2u

struct braid_step {
    uint32_t flags; /* BRAID_STEP_* */
    uint32_t piece; /* in [0, npieces) */
    struct braid_ref src[2];
    struct braid_ref dst[2];
};

struct braid_channel_plan {
    uint32_t nsteps;
    uint32_t capacity; /* allocated steps (builder bookkeeping) */
    struct braid_step *steps;
};

/* FIFOs may not be shallower than this; plans are verified against it. */
#define BRAID_PLAN_MIN_SLOTS 2

struct braid_plan {
    enum braid_coll coll;
    enum braid_algo algo;
    int nranks;
    int rank;
    int root; /* broadcast/reduce root; the peer for send/recv; -1 otherwise */
    int nchannels;
    int npieces;   /* pieces per block per channel per iteration */
    int in_blocks; /* see the table above */
    int out_blocks;
    /* 1 if the plan is also right when input and output alias as the collective's in-place
     * form says; 0 makes the executor stage the input in scratch memory first. */
    int inplace_safe;
    struct braid_channel_plan *channels; /* [nchannels] */
};

/* What a builder needs to know. */
struct braid_plan_args {
    enum braid_coll coll;
    int nranks;
    int rank;
    int root; /* or peer for send/recv */
    int nchannels;
    /* Ring order for ring-based builders: ring_order[i] is the rank at ring position i, the
     * same array on every rank. NULL means 0, 1, ..., nranks-1. Not owned. */
    const int *ring_order;
};

/* One algorithm: a `const` table entry in algos.c. */
struct braid_algo_desc {
    enum braid_algo id;
    const char *name; /* "ring" */
    const char *desc; /* one line */
    /* Whether this algorithm can build plans for coll. */
    int (*supports)(enum braid_coll coll);
    /* Builds the plan of args->rank into *plan (zeroed by the caller); on error nothing needs
     * freeing. Pure: no I/O, no globals. */
    braid_result_t (*build)(const struct braid_plan_args *args, struct braid_plan *plan);
};

/* The algorithm table, indexed by enum braid_algo. */
const struct braid_algo_desc *braid__algo_get(enum braid_algo id);
/* Finds an algorithm by name (case-insensitive); NULL if none. */
const struct braid_algo_desc *braid__algo_find(const char *name);
const char *braid__coll_name(enum braid_coll coll);

/* Validates args, then builds with the given algorithm. Fails with BRAID_ERR_NOT_SUPPORTED
 * when the algorithm does not build that collective. */
braid_result_t braid__plan_build(enum braid_algo algo, const struct braid_plan_args *args,
                                 struct braid_plan *plan);
void braid__plan_free(struct braid_plan *plan);

/* Builder helpers (plan_util.c). */
braid_result_t braid__plan_init(struct braid_plan *plan, const struct braid_plan_args *args,
                                enum braid_algo algo, int npieces, int in_blocks, int out_blocks);
braid_result_t braid__plan_push(struct braid_plan *plan, int channel, struct braid_step step);
static inline struct braid_ref braid__ref(enum braid_ref_kind kind, uint32_t index)
{
    struct braid_ref ref = {.kind = (uint32_t)kind, .index = index};
    return ref;
}
#define BRAID_NOREF braid__ref(BRAID_REF_NONE, 0)

/* Tiling: the element range [*start, *start + *len) of block-relative piece `piece` of channel
 * `channel` in iteration `iter`, for a block of `count` elements and `elems` elements per
 * slot. Returns the number of iterations. Pure. */
size_t braid__plan_iterations(const struct braid_plan *plan, size_t count, size_t elems);
void braid__plan_piece(const struct braid_plan *plan, size_t count, size_t elems, size_t iter,
                       int channel, int piece, size_t *start, size_t *len);

/* Peers the plan sends to / receives from on a channel: fills flags[r] |= 1 (send), 2 (recv)
 * for every rank r (flags has nranks entries, zeroed by the caller). */
void braid__plan_peers(const struct braid_plan *plan, int channel, uint8_t *flags);

/* Prints the plan in readable form (braid-plan show, logs). */
void braid__plan_print(const struct braid_plan *plan, void *file /* FILE* */);

/*
 * Symbolic verification (verify.c). Builds the plans of every rank with `algo` and runs them
 * over abstract contributions with FIFOs of BRAID_PLAN_MIN_SLOTS messages, checking: every
 * step is well formed; messages match (sizes, pieces); no deadlock; no message left over; and
 * the collective's postcondition exactly: each output piece holds the right value, and for
 * reductions every rank's contribution exactly once, finalized once. With inplace = 1 (for
 * plans that declare inplace_safe) input and output alias as the in-place form says.
 * On failure returns BRAID_ERR_INTERNAL with the first violation (rank, channel, step, what)
 * in msg. nchannels >= 1; root is the root (or, for p2p, ignored).
 */
braid_result_t braid__plan_verify(enum braid_algo algo, enum braid_coll coll, int nranks,
                                  int nchannels, int root, int inplace, char *msg, size_t msglen);

/* The same over plans already built: plans[r] is rank r's plan (all of one collective). */
braid_result_t braid__plan_verify_plans(struct braid_plan *const *plans, int nranks, int inplace,
                                        char *msg, size_t msglen);

/* Additions (plan_util.c, verify.c). */

/* Finds a collective by name ("all_reduce", case-insensitive; "allreduce" also matches);
 * returns BRAID_NUM_COLLS if none. */
enum braid_coll braid__coll_find(const char *name);

/* Whether collective coll reduces (all_reduce, reduce_scatter, reduce). */
int braid__coll_reduces(enum braid_coll coll);

/* braid__plan_verify refuses (BRAID_ERR_NOT_SUPPORTED, with the size in msg) plans whose steps
 * over all ranks exceed this, to bound its memory (about 24 bytes a step): for example ring
 * all_to_all, whose plans hold n * n / 2 steps per rank, past about 300 ranks. */
#define BRAID_PLAN_VERIFY_MAX_STEPS (32u << 20)

/* For BRAID_COLL_SEND / BRAID_COLL_RECV, braid__plan_verify_plans takes `nranks` plans of
 * either kind (for example a SEND plan on rank a with root b and the RECV plan on rank b with
 * root a; a == b is allowed), matched by (rank, peer, channel); `inplace` is ignored. */

/* One step in readable form ("recv-reduce-send  piece 3  peer2 + in0 -> peer4"), for
 * braid__plan_print and the verifier's messages. */
void braid__plan_step_str(const struct braid_step *step, char *buf, size_t len);

#endif
