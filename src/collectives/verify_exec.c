/*
 * The verifier's execution: runs every (plan, channel) over symbolic values with a work queue,
 * then checks for deadlock, leftover messages and the collective's postcondition.
 */
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "collectives/verify_sim.h"

#define SLOTS BRAID_PLAN_MIN_SLOTS

static void enqueue(struct vsim *s, int32_t id)
{
    struct vrunner *r = &s->runners[id];
    if (r->queued)
        return;
    r->queued = 1;
    s->queue[(s->qhead + s->qcount++) % (uint32_t)s->nrunners] = (uint32_t)id;
}

/* Wakes whoever waits on FIFO f, now that it changed. */
static void wake(struct vsim *s, int32_t f)
{
    int32_t w = s->fifos[f].waiting;
    if (w >= 0) {
        s->fifos[f].waiting = -1;
        s->runners[w].wait_fifo = -1;
        enqueue(s, w);
    }
}

/* The FIFO a runner uses to send to (send = 1) or receive from `rank`. */
static int32_t find_fifo(const struct vsim *s, const struct vrunner *r, int send, uint32_t rank)
{
    const struct vent *e = &s->ents[r->ent + (send ? 0 : r->nsend)];
    uint32_t lo = 0, hi = send ? r->nsend : r->nrecv;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (e[mid].rank < rank)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)e[lo].fifo; /* present: the entries were made from these very steps */
}

/* ---- Buffers ----------------------------------------------------------------------------- */

/* The output block that input block b aliases in place, or -1. */
static int in_alias(const struct vsim *s, const struct vinst *in, uint32_t b)
{
    if (!s->inplace)
        return -1;
    if (s->coll == BRAID_COLL_ALL_GATHER)
        return b == 0 ? in->rank : -1;
    if (s->coll == BRAID_COLL_REDUCE_SCATTER)
        return b == (uint32_t)in->rank ? 0 : -1;
    return (int)b;
}

/* The input block that output block a aliases in place, or -1. */
static int out_alias(const struct vsim *s, const struct vinst *in, uint32_t a)
{
    if (!s->inplace)
        return -1;
    if (s->coll == BRAID_COLL_ALL_GATHER)
        return a == (uint32_t)in->rank ? 0 : -1;
    if (s->coll == BRAID_COLL_REDUCE_SCATTER)
        return a == 0 ? in->rank : -1;
    return (int)a;
}

/* What input block b of this rank held before the call. */
static struct vval input_value(const struct vinst *in, uint32_t b, uint32_t gp)
{
    struct vval v = {.block = b, .piece = gp, .nint = 1, .written = 1};
    v.iv[0] = (uint32_t)in->rank;
    v.iv[1] = (uint32_t)in->rank + 1;
    return v;
}

/* Reads output block a, which must have been written (or alias an input). */
static braid_result_t read_output(struct vsim *s, const struct vrunner *r, uint32_t a, uint32_t gp,
                                  struct vval *v)
{
    const struct vinst *in = &s->inst[r->inst];
    if (in->plan->coll == BRAID_COLL_SEND)
        return braid__vsim_fail_at(s, r,
                                   "a send plan uses OUTPUT, but send has no receive "
                                   "buffer");
    *v = in->cells[a * s->npc + gp];
    if (v->written)
        return BRAID_SUCCESS;
    int b = out_alias(s, in, a);
    if (b < 0)
        return braid__vsim_fail_at(s, r,
                                   "reads output block %u piece %u before any step "
                                   "wrote it",
                                   a, gp);
    *v = input_value(in, (uint32_t)b, gp);
    return BRAID_SUCCESS;
}

static braid_result_t read_input(struct vsim *s, const struct vrunner *r, uint32_t b, uint32_t gp,
                                 struct vval *v)
{
    const struct vinst *in = &s->inst[r->inst];
    if (in->plan->coll == BRAID_COLL_RECV)
        return braid__vsim_fail_at(s, r, "a recv plan reads INPUT, but recv has no send buffer");
    if (s->coll == BRAID_COLL_BROADCAST && in->rank != s->root)
        return braid__vsim_fail_at(s, r,
                                   "reads INPUT on a non-root rank; broadcast reads the "
                                   "send buffer on the root only");
    int a = in_alias(s, in, b);
    if (a >= 0)
        return read_output(s, r, (uint32_t)a, gp, v);
    *v = input_value(in, b, gp);
    return BRAID_SUCCESS;
}

static braid_result_t read_peer(struct vsim *s, const struct vrunner *r, int32_t f, uint32_t peer,
                                uint32_t gp, struct vval *v)
{
    struct vfifo *q = &s->fifos[f];
    *v = q->slot[q->head];
    q->head = (uint8_t)((q->head + 1) % SLOTS);
    q->count--;
    if (v->piece == gp)
        return BRAID_SUCCESS;
    char got[160];
    braid__vsim_value_str(s, v, got, sizeof(got));
    return braid__vsim_fail_at(s, r,
                               "mismatched message: expects piece %u from rank %u but "
                               "receives %s (sender and receiver disagree on the order)",
                               gp, peer, got);
}

/* ---- Values ------------------------------------------------------------------------------- */

/* Formats two values for a message; only on failure, as it costs more than a step. */
static void two_str(const struct vsim *s, const struct vval *a, const struct vval *b, char *x,
                    char *y, size_t len)
{
    braid__vsim_value_str(s, a, x, len);
    if (b)
        braid__vsim_value_str(s, b, y, len);
}

static braid_result_t reduce(struct vsim *s, const struct vrunner *r, const struct vval *a,
                             const struct vval *b, struct vval *out)
{
    char x[160], y[160];
    if (!braid__coll_reduces(s->coll))
        return braid__vsim_fail_at(s, r, "REDUCE in %s, which combines no values",
                                   braid__coll_name(s->coll));
    if (a->final || b->final) {
        two_str(s, a, b, x, y, sizeof(x));
        return braid__vsim_fail_at(s, r,
                                   "reduces a finalized value (%s + %s): the post-op "
                                   "would run before the sum is complete",
                                   x, y);
    }
    if (a->block != b->block || a->piece != b->piece) {
        two_str(s, a, b, x, y, sizeof(x));
        return braid__vsim_fail_at(s, r, "adds different data: %s + %s", x, y);
    }
    uint32_t dup = 0;
    braid_result_t res = BRAID_SUCCESS;
    if (braid__vsim_union(s, a, b, out, &dup, &res)) {
        two_str(s, a, b, x, y, sizeof(x));
        return braid__vsim_fail_at(s, r,
                                   "duplicated contribution: rank %u's input would be "
                                   "counted twice (%s + %s)",
                                   dup, x, y);
    }
    return res;
}

static braid_result_t finalize(struct vsim *s, const struct vrunner *r, struct vval *v)
{
    char x[160];
    uint32_t missing;
    if (!braid__coll_reduces(s->coll))
        return braid__vsim_fail_at(s, r, "FINAL in %s, which has no post-op",
                                   braid__coll_name(s->coll));
    if (v->final) {
        two_str(s, v, NULL, x, NULL, sizeof(x));
        return braid__vsim_fail_at(s, r,
                                   "finalizes %s a second time (the post-op would run "
                                   "twice)",
                                   x);
    }
    uint32_t size = braid__vsim_set_size(s, v, (uint32_t)s->nranks, &missing);
    if (size != (uint32_t)s->nranks) {
        two_str(s, v, NULL, x, NULL, sizeof(x));
        return braid__vsim_fail_at(s, r,
                                   "finalizes %s with %u of %d contributions (rank %u "
                                   "missing)",
                                   x, size, s->nranks, missing);
    }
    v->final = 1;
    return BRAID_SUCCESS;
}

/* ---- Steps -------------------------------------------------------------------------------- */

/* Whether the step must wait: for a message on fin, or for room in fout[]. Registers the wait. */
static int must_wait(struct vsim *s, int32_t id, int32_t fin, const int32_t fout[2])
{
    struct vrunner *r = &s->runners[id];
    int32_t f = -1;
    if (fin >= 0 && s->fifos[fin].count == 0)
        f = fin;
    for (int k = 0; k < 2 && f < 0; k++) {
        if (fout[k] < 0)
            continue;
        int pushes = 1 + (k == 0 && fout[1] == fout[0]);
        int pops = fin == fout[k];
        if (s->fifos[fout[k]].count - pops + pushes > SLOTS)
            f = fout[k];
    }
    if (f < 0)
        return 0;
    r->wait_fifo = f;
    r->wait_send = f != fin;
    s->fifos[f].waiting = id;
    return 1;
}

static braid_result_t read_src(struct vsim *s, const struct vrunner *r, struct braid_ref ref,
                               uint32_t gp, int32_t fin, struct vval *v)
{
    switch (ref.kind) {
    case BRAID_REF_INPUT:
        return read_input(s, r, ref.index, gp, v);
    case BRAID_REF_OUTPUT:
        return read_output(s, r, ref.index, gp, v);
    default:
        return read_peer(s, r, fin, ref.index, gp, v);
    }
}

static braid_result_t write_dst(struct vsim *s, const struct vrunner *r, struct braid_ref ref,
                                int32_t f, const struct vval *v)
{
    const struct vinst *in = &s->inst[r->inst];
    if (ref.kind == BRAID_REF_OUTPUT) {
        if (in->plan->coll == BRAID_COLL_SEND)
            return braid__vsim_fail_at(s, r,
                                       "a send plan writes OUTPUT, but send has no "
                                       "receive buffer");
        struct vval *cell = &in->cells[ref.index * s->npc + v->piece];
        *cell = *v;
        cell->written = 1;
        return BRAID_SUCCESS;
    }
    struct vfifo *q = &s->fifos[f];
    q->slot[(q->head + q->count) % SLOTS] = *v;
    q->count++;
    wake(s, f);
    return BRAID_SUCCESS;
}

/* Runs runner id's next step, or registers what it waits for (*blocked = 1). */
static braid_result_t step_once(struct vsim *s, int32_t id, int *blocked)
{
    struct vrunner *r = &s->runners[id];
    const struct vinst *in = &s->inst[r->inst];
    const struct braid_step *st = &in->plan->channels[r->ch].steps[r->pc];
    uint32_t gp = (uint32_t)r->ch * (uint32_t)s->npieces + st->piece;
    int32_t fin = -1, fout[2] = {-1, -1};
    for (int k = 0; k < 2; k++) {
        if (st->src[k].kind == BRAID_REF_PEER)
            fin = find_fifo(s, r, 0, st->src[k].index);
        if (st->dst[k].kind == BRAID_REF_PEER)
            fout[k] = find_fifo(s, r, 1, st->dst[k].index);
    }
    *blocked = must_wait(s, id, fin, fout);
    if (*blocked)
        return BRAID_SUCCESS;
    struct vval v[2], val;
    for (int k = 0; k < 2; k++)
        if (st->src[k].kind != BRAID_REF_NONE)
            BRAID_CHECK(read_src(s, r, st->src[k], gp, fin, &v[k]));
    val = v[0];
    if (st->flags & BRAID_STEP_REDUCE)
        BRAID_CHECK(reduce(s, r, &v[0], &v[1], &val));
    if (st->flags & BRAID_STEP_FINAL)
        BRAID_CHECK(finalize(s, r, &val));
    /* A copy of an input or output cell becomes a written value wherever it lands. */
    val.written = 1;
    for (int k = 0; k < 2; k++)
        if (st->dst[k].kind != BRAID_REF_NONE)
            BRAID_CHECK(write_dst(s, r, st->dst[k], fout[k], &val));
    if (fin >= 0)
        wake(s, fin);
    r->pc++;
    return BRAID_SUCCESS;
}

braid_result_t braid__vsim_run(struct vsim *s)
{
    for (int32_t id = 0; id < s->nrunners; id++)
        enqueue(s, id);
    while (s->qcount) {
        int32_t id = (int32_t)s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % (uint32_t)s->nrunners;
        s->qcount--;
        struct vrunner *r = &s->runners[id];
        r->queued = 0;
        uint32_t nsteps = s->inst[r->inst].plan->channels[r->ch].nsteps;
        int blocked = 0;
        while (r->pc < nsteps && !blocked)
            BRAID_CHECK(step_once(s, id, &blocked));
    }
    return BRAID_SUCCESS;
}

/* ---- After the run ------------------------------------------------------------------------ */

static braid_result_t check_deadlock(struct vsim *s)
{
    char buf[sizeof(s->msg)];
    size_t off = 0;
    int stuck = 0;
    for (int32_t id = 0; id < s->nrunners; id++) {
        const struct vrunner *r = &s->runners[id];
        if (r->pc >= s->inst[r->inst].plan->channels[r->ch].nsteps)
            continue;
        if (stuck++ >= 4 || off >= sizeof(buf) - 1)
            continue;
        const struct vfifo *f = &s->fifos[r->wait_fifo];
        int peer = s->inst[s->runners[r->wait_send ? f->receiver : f->sender].inst].rank;
        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                "%srank %d channel %d step %u waits %s rank %d",
                                stuck > 1 ? "; " : "", s->inst[r->inst].rank, r->ch, r->pc,
                                r->wait_send ? "for a free slot to" : "for a message from", peer);
    }
    if (!stuck)
        return BRAID_SUCCESS;
    return braid__vsim_fail(s,
                            "deadlock: %d (rank, channel) step lists cannot progress with "
                            "%d-slot FIFOs: %s%s",
                            stuck, SLOTS, buf, stuck > 4 ? "; ..." : "");
}

static braid_result_t check_leftovers(struct vsim *s)
{
    for (size_t k = 0; k < s->nfifos; k++) {
        const struct vkey *key = &s->keys[k];
        const struct vfifo *f = &s->fifos[key->fifo];
        if (!f->count)
            continue;
        char v[160];
        braid__vsim_value_str(s, &f->slot[f->head], v, sizeof(v));
        return braid__vsim_fail(s,
                                "leftover messages: rank %u sent %u message(s) to rank %u on "
                                "channel %u that were never received (first: %s)",
                                key->src, f->count, key->dst, key->ch, v);
    }
    return BRAID_SUCCESS;
}

/* The value output block a must hold at global piece gp; returns 0 where nothing is owed. */
static int expected(const struct vsim *s, const struct vinst *in, uint32_t a, uint32_t gp,
                    struct vval *e, uint32_t *lo, uint32_t *hi)
{
    enum braid_coll coll = in->plan->coll;
    int full = braid__coll_reduces(coll);
    uint32_t from = a; /* the one contributor, for copying collectives */
    *e = (struct vval){.block = 0, .piece = gp, .final = (uint8_t)full};
    if (coll == BRAID_COLL_SEND || (coll == BRAID_COLL_REDUCE && in->rank != s->root))
        return 0;
    if (coll == BRAID_COLL_REDUCE_SCATTER || coll == BRAID_COLL_ALL_TO_ALL)
        e->block = (uint32_t)in->rank;
    if (coll == BRAID_COLL_BROADCAST || coll == BRAID_COLL_RECV)
        from = (uint32_t)in->plan->root;
    *lo = full ? 0 : from;
    *hi = full ? (uint32_t)s->nranks : from + 1;
    e->nint = 1;
    e->iv[0] = *lo;
    e->iv[1] = *hi;
    return 1;
}

static braid_result_t check_output(struct vsim *s, const struct vinst *in, uint32_t a, uint32_t gp)
{
    struct vval want, got;
    uint32_t lo, hi;
    if (!expected(s, in, a, gp, &want, &lo, &hi))
        return BRAID_SUCCESS;
    got = in->cells[a * s->npc + gp];
    if (!got.written) {
        int b = out_alias(s, in, a);
        if (b < 0)
            return braid__vsim_fail(s,
                                    "rank %d output block %u piece %u (channel %u piece %u) "
                                    "is never written",
                                    in->rank, a, gp, gp / (uint32_t)s->npieces,
                                    gp % (uint32_t)s->npieces);
        got = input_value(in, (uint32_t)b, gp);
    }
    if (got.block == want.block && got.piece == want.piece && got.final == want.final &&
        braid__vsim_set_is(s, &got, lo, hi))
        return BRAID_SUCCESS;
    char g[160], w[160];
    braid__vsim_value_str(s, &got, g, sizeof(g));
    braid__vsim_value_str(s, &want, w, sizeof(w));
    return braid__vsim_fail(s, "rank %d output block %u piece %u holds %s; expected %s%s", in->rank,
                            a, gp, g, w,
                            want.final && !got.final ? " (a FINAL flag is missing)" : "");
}

braid_result_t braid__vsim_check(struct vsim *s)
{
    BRAID_CHECK(check_deadlock(s));
    BRAID_CHECK(check_leftovers(s));
    for (int i = 0; i < s->ninst; i++)
        for (uint32_t a = 0; a < (uint32_t)s->out_blocks; a++)
            for (uint32_t gp = 0; gp < s->npc; gp++)
                BRAID_CHECK(check_output(s, &s->inst[i], a, gp));
    return BRAID_SUCCESS;
}
