#include "exec/host_exec.h"

#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "exec/reduce_host.h"

/* Takes the ctx's spare op memory when it is large enough, else allocates; zeroes the head. */
static struct braid_host_op *op_memory(struct braid_exec_ctx *ctx, size_t head, size_t bytes)
{
    struct braid_host_op *e = ctx->spare;
    if (e && ctx->spare_bytes >= bytes) {
        ctx->spare = NULL;
        memset(e, 0, head);
        e->alloc_bytes = ctx->spare_bytes;
        return e;
    }
    e = calloc(1, bytes);
    if (e)
        e->alloc_bytes = bytes;
    return e;
}

/* Copies the input aside (in place, plan not in-place safe) and gives non-roots of a reduce
 * scratch output. */
static braid_result_t own_buffers(struct braid_host_op *e, const struct braid_exec_args *a,
                                  void *inline_stage, size_t stage_bytes)
{
    if (inline_stage) {
        memcpy(inline_stage, a->in, stage_bytes);
        e->in = inline_stage;
    } else if (stage_bytes > 0) {
        e->staging = malloc(stage_bytes);
        if (!e->staging)
            return braid__err(BRAID_ERR_NO_MEMORY, "exec: no memory to stage %zu input bytes",
                              stage_bytes);
        memcpy(e->staging, a->in, stage_bytes);
        e->in = e->staging;
    }
    if (!a->out && a->count > 0) {
        size_t out_bytes = (size_t)e->plan->out_blocks * a->count * e->esize;
        e->scratch_out = malloc(out_bytes);
        if (!e->scratch_out)
            return braid__err(BRAID_ERR_NO_MEMORY, "exec: no memory for %zu scratch bytes",
                              out_bytes);
        e->out = e->scratch_out;
    }
    return BRAID_SUCCESS;
}

/* Gives every channel its connector uses and draws a ticket on each connector. An op with
 * nothing to move draws none, so none is left unserved. */
static void draw_tickets(struct braid_host_op *e, const struct braid_bound_plan *bp,
                         struct braid_conn_use *uses)
{
    for (int c = 0; c < e->plan->nchannels && e->iters > 0; c++) {
        e->ch[c].uses = uses + bp->use_start[c];
        e->ch[c].nuses = bp->use_start[c + 1] - bp->use_start[c];
        for (int i = 0; i < e->ch[c].nuses; i++) {
            struct braid_conn *conn = bp->conns[bp->use_start[c] + i];
            e->ch[c].uses[i].conn = conn;
            e->ch[c].uses[i].ticket = conn->next_ticket++;
        }
    }
}

static void host_destroy(struct braid_exec_op *op);

static braid_result_t host_create(struct braid_exec_ctx *ctx, const struct braid_exec_args *a,
                                  struct braid_exec_op **out_op)
{
    const struct braid_plan *plan = a->bp->plan;
    int nch = plan->nchannels, nuses = a->bp->use_start[nch];
    /* One allocation: the op, its channels, and their connector uses. */
    size_t head = sizeof(struct braid_host_op) + (size_t)nch * sizeof(struct braid_exec_chan);
    size_t uses_bytes = (size_t)nuses * sizeof(struct braid_conn_use);
    size_t esize = braid_dtype_size(a->dtype);
    size_t stage_bytes = a->stage_input && a->in ? (size_t)plan->in_blocks * a->count * esize : 0;
    /* A small staged input travels inside the op's own memory, so a small in-place call
     * allocates nothing either (the ctx's spare op is reused). */
    size_t inline_stage = stage_bytes <= BRAID_EXEC_INLINE_STAGE ? stage_bytes : 0;
    struct braid_host_op *e = op_memory(ctx, head + uses_bytes, head + uses_bytes + inline_stage);
    if (!e)
        return braid__err(BRAID_ERR_NO_MEMORY, "exec: out of memory");
    e->base.exec = &braid__host_executor;
    e->base.coll = plan->coll;
    e->base.wait_channel = -1;
    e->ctx = ctx;
    e->plan = plan;
    e->in = a->in;
    e->out = a->out;
    e->count = a->count;
    e->dtype = a->dtype;
    e->op = a->op;
    e->esize = esize;
    e->elems = ctx->slot_bytes / esize;
    e->iters = braid__plan_iterations(plan, a->count, e->elems);
    e->base.remaining = e->iters > 0 ? nch : 0;
    e->mem_bit = BRAID_MEM_BIT(a->mem.kind);
    braid_result_t res =
        own_buffers(e, a, inline_stage ? (char *)e + head + uses_bytes : NULL, stage_bytes);
    if (res != BRAID_SUCCESS) {
        host_destroy(&e->base);
        return res;
    }
    draw_tickets(e, a->bp, (struct braid_conn_use *)((char *)e + head));
    *out_op = &e->base;
    return BRAID_SUCCESS;
}

static void host_destroy(struct braid_exec_op *op)
{
    struct braid_host_op *e = (struct braid_host_op *)op;
    if (!e)
        return;
    free(e->staging);
    free(e->scratch_out);
    if (!e->ctx->spare) {
        e->ctx->spare = e;
        e->ctx->spare_bytes = e->alloc_bytes;
        return;
    }
    free(e);
}

static void host_abort(struct braid_exec_op *op, braid_result_t why)
{
    if (op->status == BRAID_SUCCESS && !braid__exec_done(op))
        op->status = why;
}

/* The connector for a PEER ref, if this channel holds the turn on it. */
static struct braid_conn *turn(struct braid_exec_chan *ch, const struct braid_transport_ctx *tp,
                               int dir, int channel, int peer)
{
    struct braid_conn *conn = *braid__conn_slot(tp, dir, channel, peer);
    for (int i = 0; i < ch->nuses; i++)
        if (ch->uses[i].conn == conn)
            return conn->serving == ch->uses[i].ticket ? conn : NULL;
    return NULL;
}

static int recv_ready(const struct braid_conn *conn)
{
    return atomic_load_explicit(&conn->fifo->head, memory_order_acquire) > conn->pos;
}

static int send_ready(const struct braid_conn *conn)
{
    return conn->pos - atomic_load_explicit(&conn->fifo->tail, memory_order_acquire) < conn->nslots;
}

static char *slot_of(const struct braid_conn *conn)
{
    return conn->slots + (conn->pos % conn->nslots) * conn->slot_bytes;
}

struct step_io {
    struct braid_conn *recv;
    struct braid_conn *send[2];
    size_t start, len; /* the step's piece, in elements */
};

static void note_wait(struct braid_host_op *op, int c, int peer, int send)
{
    op->base.wait_channel = c;
    op->base.wait_peer = peer;
    op->base.wait_send = send;
    const struct braid_conn *conn =
        *braid__conn_slot(op->ctx->tp, send ? BRAID_CONN_SEND : BRAID_CONN_RECV, c, peer);
    if (!conn || !conn->transport || !conn->transport->proxied)
        op->base.wait_kinds |= BRAID_WAIT_LOCAL;
    else
        op->base.wait_kinds |= conn->own_threads ? BRAID_WAIT_HELPED : BRAID_WAIT_PROXY;
}

static const char *buffer_at(const struct braid_host_op *op, struct braid_ref ref, size_t start)
{
    const char *base = ref.kind == BRAID_REF_INPUT ? op->in : op->out;
    return base + ((size_t)ref.index * op->count + start) * op->esize;
}

/* A send connector of the channel with a direct send still in flight that reads [p, p + n);
 * NULL when none does. */
static struct braid_conn *direct_in_flight(const struct braid_exec_chan *ch, const char *p,
                                           size_t n)
{
    for (int i = 0; i < ch->nuses; i++) {
        struct braid_conn *conn = ch->uses[i].conn;
        if (conn->dir != BRAID_CONN_SEND || !conn->can_direct)
            continue;
        uint64_t tail = atomic_load_explicit(&conn->fifo->tail, memory_order_acquire);
        for (uint64_t q = tail; q < conn->pos; q++) {
            const char *d = conn->direct[q % conn->nslots];
            if (d && d < p + n && p < d + conn->fifo->sizes[q % conn->nslots])
                return conn;
        }
    }
    return NULL;
}

/* Resolves the step's connectors and checks they are ready, and that no direct send still
 * reads the output the step writes; 0 if it must wait. */
static int step_ready(struct braid_host_op *op, int c, const struct braid_step *s,
                      struct step_io *io)
{
    struct braid_exec_chan *ch = &op->ch[c];
    io->recv = io->send[0] = io->send[1] = NULL;
    for (int i = 0; i < 2; i++)
        if (s->src[i].kind == BRAID_REF_PEER) {
            io->recv = turn(ch, op->ctx->tp, BRAID_CONN_RECV, c, (int)s->src[i].index);
            if (!io->recv || !recv_ready(io->recv)) {
                note_wait(op, c, (int)s->src[i].index, 0);
                return 0;
            }
        }
    for (int i = 0; i < 2; i++)
        if (s->dst[i].kind == BRAID_REF_PEER) {
            io->send[i] = turn(ch, op->ctx->tp, BRAID_CONN_SEND, c, (int)s->dst[i].index);
            if (!io->send[i] || !send_ready(io->send[i])) {
                note_wait(op, c, (int)s->dst[i].index, 1);
                return 0;
            }
        }
    braid__plan_piece(op->plan, op->count, op->elems, ch->iter, c, (int)s->piece, &io->start,
                      &io->len);
    for (int i = 0; i < 2 && ch->direct; i++)
        if (s->dst[i].kind == BRAID_REF_OUTPUT) {
            struct braid_conn *busy =
                direct_in_flight(ch, buffer_at(op, s->dst[i], io->start), io->len * op->esize);
            if (busy) {
                note_wait(op, c, busy->peer, 1);
                return 0;
            }
        }
    return 1;
}

/* Where a step's sends can take their payload from without a copy: the output it also writes,
 * or the buffer a plain copy reads (the op's own memory either way). NULL: only in a slot. */
static const char *payload_at(const struct braid_host_op *op, const struct braid_step *s,
                              const void *const src[2], void *const dst[2])
{
    for (int i = 0; i < 2; i++)
        if (s->dst[i].kind == BRAID_REF_OUTPUT)
            return dst[i];
    int transforms = (s->flags & BRAID_STEP_FINAL) && op->op == BRAID_AVG;
    if (!(s->flags & BRAID_STEP_REDUCE) && !transforms &&
        (s->src[0].kind == BRAID_REF_INPUT || s->src[0].kind == BRAID_REF_OUTPUT))
        return src[0];
    return NULL;
}

/* Executes one ready step: all sources are read before any destination is written. */
static braid_result_t run_step(struct braid_host_op *op, int c, const struct braid_step *s,
                               const struct step_io *io)
{
    size_t start = io->start, len = io->len;
    size_t bytes = len * op->esize;
    const void *src[2] = {NULL, NULL};
    void *dst[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        if (s->src[i].kind == BRAID_REF_PEER) {
            uint64_t got = io->recv->fifo->sizes[io->recv->pos % io->recv->nslots];
            if (got != bytes)
                return braid__err(BRAID_ERR_REMOTE,
                                  "%s: rank %d sent %llu bytes where rank %d expected %zu "
                                  "(channel %d): the ranks called different collectives or "
                                  "passed different counts, dtypes or roots",
                                  braid__coll_name(op->base.coll), io->recv->peer,
                                  (unsigned long long)got, op->ctx->rank, bytes, c);
            src[i] = slot_of(io->recv);
        } else if (s->src[i].kind != BRAID_REF_NONE) {
            src[i] = buffer_at(op, s->src[i], start);
        }
        if (s->dst[i].kind == BRAID_REF_OUTPUT)
            dst[i] = (void *)buffer_at(op, s->dst[i], start);
    }
    /* Sends whose connector can read the payload where it lies skip the copy into a slot. */
    const char *payload = payload_at(op, s, src, dst);
    const char *direct[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++)
        if (io->send[i]) {
            if (payload && io->send[i]->can_direct && len > 0 &&
                (io->send[i]->transport->mem_kinds & op->mem_bit))
                direct[i] = payload;
            else
                dst[i] = slot_of(io->send[i]);
        }
    if (!dst[0]) {
        dst[0] = dst[1];
        dst[1] = NULL;
    }
    int final_nranks = (s->flags & BRAID_STEP_FINAL) ? op->ctx->nranks : 0;
    if (len > 0 && dst[0]) {
        if (s->flags & BRAID_STEP_REDUCE)
            braid__reduce_host(dst[0], dst[1], src[0], src[1], len, op->dtype, op->op,
                               final_nranks);
        else
            braid__copy_host(dst[0], dst[1], src[0], len, op->dtype, op->op, final_nranks);
    }
    if (io->recv) {
        atomic_store_explicit(&io->recv->fifo->tail, io->recv->pos + 1, memory_order_release);
        io->recv->pos++;
        io->recv->transport->notify(io->recv);
    }
    for (int i = 0; i < 2; i++)
        if (io->send[i]) {
            struct braid_conn *conn = io->send[i];
            uint32_t idx = (uint32_t)(conn->pos % conn->nslots);
            /* Release: a proxy-side reader that sees this size must also see the tail that
             * freed the slot (socket_io.c, next_frame). */
            __atomic_store_n(&conn->fifo->sizes[idx], bytes, __ATOMIC_RELEASE);
            if (conn->can_direct)
                conn->direct[idx] = direct[i];
            op->ch[c].direct |= direct[i] != NULL;
            atomic_store_explicit(&conn->fifo->head, conn->pos + 1, memory_order_release);
            conn->pos++;
            conn->transport->notify(conn);
        }
    return BRAID_SUCCESS;
}

/* Whether every direct send of the channel has left; notes what it waits for if not. */
static int drained(struct braid_host_op *op, int c)
{
    struct braid_exec_chan *ch = &op->ch[c];
    for (int i = 0; i < ch->nuses; i++) {
        struct braid_conn *conn = ch->uses[i].conn;
        if (conn->dir == BRAID_CONN_SEND && conn->can_direct &&
            atomic_load_explicit(&conn->fifo->tail, memory_order_acquire) < conn->pos) {
            note_wait(op, c, conn->peer, 1);
            return 0;
        }
    }
    return 1;
}

static void finish_channel(struct braid_host_op *op, int c)
{
    struct braid_exec_chan *ch = &op->ch[c];
    ch->done = 1;
    op->base.remaining--;
    for (int i = 0; i < ch->nuses; i++)
        ch->uses[i].conn->serving++;
}

static int host_progress(struct braid_exec_op *base)
{
    struct braid_host_op *op = (struct braid_host_op *)base;
    if (op->base.status < 0)
        return op->base.status;
    int steps = 0;
    op->base.wait_kinds = 0;
    for (int c = 0; c < op->plan->nchannels; c++) {
        struct braid_exec_chan *ch = &op->ch[c];
        const struct braid_channel_plan *cp = &op->plan->channels[c];
        while (!ch->done) {
            if (ch->draining) {
                if (!drained(op, c))
                    break;
                finish_channel(op, c);
                steps++;
                break;
            }
            if (cp->nsteps == 0) {
                finish_channel(op, c);
                break;
            }
            const struct braid_step *s = &cp->steps[ch->step];
            struct step_io io;
            if (!step_ready(op, c, s, &io))
                break;
            braid_result_t res = run_step(op, c, s, &io);
            if (res != BRAID_SUCCESS) {
                op->base.status = res;
                return res;
            }
            steps++;
            op->base.steps_done++;
            if (++ch->step == cp->nsteps) {
                ch->step = 0;
                if (++ch->iter == op->iters) {
                    if (ch->direct)
                        ch->draining = 1;
                    else
                        finish_channel(op, c);
                }
            }
        }
    }
    return steps;
}

const struct braid_executor braid__host_executor = {
    .version = BRAID_EXECUTOR_VERSION,
    .name = "host",
    .mem_kinds = BRAID_MEM_HOST_ACCESSIBLE,
    .create = host_create,
    .progress = host_progress,
    .abort = host_abort,
    .destroy = host_destroy,
};
