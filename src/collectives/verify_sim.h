/*
 * The symbolic simulator behind braid__plan_verify (verify.c: entry points, rank sets and
 * messages; verify_sim.c: setup, execution, postconditions). Internal to the verifier.
 */
#ifndef BRAID_COLLECTIVES_VERIFY_SIM_H
#define BRAID_COLLECTIVES_VERIFY_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "collectives/plan.h"

/* A symbolic value: the sum over `ranks` of piece `piece` of input block `block`. 28 bytes. */
struct vval {
    uint32_t block;
    uint32_t piece;  /* global: channel * npieces + piece */
    uint16_t nint;   /* intervals in the rank set */
    uint8_t final;   /* the post-op was applied */
    uint8_t written; /* for output cells: a step stored a value here */
    uint32_t iv[4];  /* nint <= 2: [lo, hi) pairs; else iv[0] = offset in the arena */
};

/* A FIFO from one (rank, channel) to another, as a ring buffer of the minimum depth. */
struct vfifo {
    struct vval slot[BRAID_PLAN_MIN_SLOTS];
    uint8_t head;
    uint8_t count;
    int32_t sender; /* runner ids */
    int32_t receiver;
    int32_t waiting; /* runner blocked on this FIFO, or -1 */
};

/* One sender-side FIFO key, sorted to find a receiver's FIFO by binary search. */
struct vkey {
    uint32_t src;
    uint32_t ch;
    uint32_t dst;
    uint32_t fifo;
};

/* One (plan, channel): runs its steps in order. */
struct vrunner {
    uint32_t pc;
    int32_t inst;
    int32_t ch;
    uint8_t queued;
    uint8_t wait_send; /* blocked on a full FIFO (else on an empty one) */
    int32_t wait_fifo; /* -1 when not blocked */
    uint32_t ent;      /* first peer entry: nsend send entries, then nrecv recv entries */
    uint32_t nsend;
    uint32_t nrecv;
};

/* Peer rank -> FIFO, sorted by rank within a runner's send or recv list. */
struct vent {
    uint32_t rank;
    uint32_t fifo;
};

/* One plan being run: a rank of a collective, or one side of a send/recv pair. */
struct vinst {
    const struct braid_plan *plan;
    int rank;
    struct vval *cells; /* [out_blocks][nchannels * npieces] */
};

struct vsim {
    enum braid_coll coll;
    int p2p;
    int nranks, nchannels, npieces, in_blocks, out_blocks, root, inplace;
    uint32_t npc; /* nchannels * npieces */
    int ninst;
    struct vinst *inst;
    int nrunners;
    struct vrunner *runners;
    struct vent *ents;
    struct vfifo *fifos;
    struct vkey *keys;
    size_t nfifos;
    uint32_t *queue; /* ring buffer of runner ids */
    uint32_t qhead, qcount;
    uint32_t *arena; /* rank sets longer than two intervals */
    size_t arena_len, arena_cap;
    uint32_t *tmp;
    uint32_t tmp_cap;
    int failed;
    char msg[1024];
};

static inline const uint32_t *braid__vsim_iv(const struct vsim *s, const struct vval *v)
{
    return v->nint <= 2 ? v->iv : s->arena + v->iv[0];
}

/* verify.c */
braid_result_t braid__vsim_fail(struct vsim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
braid_result_t braid__vsim_fail_at(struct vsim *s, const struct vrunner *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void braid__vsim_value_str(const struct vsim *s, const struct vval *v, char *buf, size_t len);
int braid__vsim_union(struct vsim *s, const struct vval *a, const struct vval *b, struct vval *out,
                      uint32_t *dup, braid_result_t *res);
int braid__vsim_set_is(const struct vsim *s, const struct vval *v, uint32_t lo, uint32_t hi);
uint32_t braid__vsim_set_size(const struct vsim *s, const struct vval *v, uint32_t n,
                              uint32_t *missing);

/* verify_sim.c */
braid_result_t braid__vsim_setup(struct vsim *s, struct braid_plan *const *plans, int n,
                                 int inplace);
braid_result_t braid__vsim_run(struct vsim *s);
braid_result_t braid__vsim_check(struct vsim *s);
void braid__vsim_free(struct vsim *s);

#endif
