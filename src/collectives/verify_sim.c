/*
 * The verifier's simulator: checks plan headers and steps, wires FIFOs between the runners,
 * runs every (plan, channel) over symbolic values, and checks the collective's postcondition.
 * The first violation stops it, with a message naming the rank, channel and step.
 */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "collectives/verify_sim.h"

#define SLOTS BRAID_PLAN_MIN_SLOTS

/* ---- Plan headers and steps -------------------------------------------------------------- */

/* Blocks per buffer, from the table in plan.h. */
static void coll_blocks(enum braid_coll coll, int n, int *in, int *out)
{
    *in = (coll == BRAID_COLL_REDUCE_SCATTER || coll == BRAID_COLL_ALL_TO_ALL) ? n : 1;
    *out = (coll == BRAID_COLL_ALL_GATHER || coll == BRAID_COLL_ALL_TO_ALL) ? n : 1;
}

static int is_p2p(enum braid_coll coll)
{
    return coll == BRAID_COLL_SEND || coll == BRAID_COLL_RECV;
}

/* Checks what must hold of one plan alone, and that it agrees with plans[0]. */
static braid_result_t check_plan(struct vsim *s, const struct braid_plan *p, int i)
{
    const char *kind = s->p2p ? "plan" : "rank";
    int in, out;
    if (!p || !p->channels)
        return braid__vsim_fail(s, "%s %d: no plan (NULL or never built)", kind, i);
    coll_blocks(p->coll, p->nranks, &in, &out);
    if (s->p2p ? !is_p2p(p->coll) : p->coll != s->coll)
        return braid__vsim_fail(s, "%s %d's plan is for %s, %s 0's for %s: plans disagree", kind, i,
                                braid__coll_name(p->coll), kind, braid__coll_name(s->coll));
    if (p->nranks != s->nranks || p->nchannels != s->nchannels || p->npieces != s->npieces)
        return braid__vsim_fail(s,
                                "%s %d's plan has %d ranks, %d channels, %d pieces; %s 0's has "
                                "%d, %d, %d: plans disagree",
                                kind, i, p->nranks, p->nchannels, p->npieces, kind, s->nranks,
                                s->nchannels, s->npieces);
    if (p->rank < 0 || p->rank >= p->nranks || (!s->p2p && p->rank != i))
        return braid__vsim_fail(s, "plan %d says it is rank %d of %d; plans[r] must be rank r's", i,
                                p->rank, p->nranks);
    if (p->in_blocks != in || p->out_blocks != out)
        return braid__vsim_fail(s,
                                "rank %d's %s plan has %d input and %d output blocks; %s takes "
                                "%d and %d",
                                p->rank, braid__coll_name(p->coll), p->in_blocks, p->out_blocks,
                                braid__coll_name(p->coll), in, out);
    int rooted = s->p2p || p->coll == BRAID_COLL_BROADCAST || p->coll == BRAID_COLL_REDUCE;
    if (rooted && (p->root < 0 || p->root >= p->nranks))
        return braid__vsim_fail(s, "rank %d's plan has root/peer %d, outside [0, %d)", p->rank,
                                p->root, p->nranks);
    if (!s->p2p && rooted && p->root != s->root)
        return braid__vsim_fail(s, "rank %d's plan has root %d, rank 0's %d: plans disagree",
                                p->rank, p->root, s->root);
    return BRAID_SUCCESS;
}

/* Whether a source or destination names a block or rank that exists. */
static int ref_ok(const struct vsim *s, struct braid_ref ref)
{
    switch (ref.kind) {
    case BRAID_REF_INPUT:
        return ref.index < (uint32_t)s->in_blocks;
    case BRAID_REF_OUTPUT:
        return ref.index < (uint32_t)s->out_blocks;
    case BRAID_REF_PEER:
        return ref.index < (uint32_t)s->nranks;
    default:
        return 1;
    }
}

/* The reason a step is malformed, or NULL. */
static const char *step_problem(const struct vsim *s, const struct braid_step *st)
{
    int reduce = (st->flags & BRAID_STEP_REDUCE) != 0;
    if (st->flags & ~(BRAID_STEP_REDUCE | BRAID_STEP_FINAL))
        return "unknown flags";
    if (st->piece >= (uint32_t)s->npieces)
        return "piece index beyond npieces";
    if (st->src[0].kind == BRAID_REF_NONE)
        return "no source";
    if (reduce && st->src[1].kind == BRAID_REF_NONE)
        return "REDUCE with one source";
    if (!reduce && st->src[1].kind != BRAID_REF_NONE)
        return "a second source without REDUCE";
    if (st->src[0].kind == BRAID_REF_PEER && st->src[1].kind == BRAID_REF_PEER)
        return "two peer sources (at most one allowed)";
    if (st->dst[0].kind == BRAID_REF_INPUT || st->dst[1].kind == BRAID_REF_INPUT)
        return "a write to INPUT (inputs are read-only)";
    if (st->dst[0].kind == BRAID_REF_NONE && st->dst[1].kind == BRAID_REF_NONE)
        return "no destination";
    for (int k = 0; k < 2; k++)
        if (!ref_ok(s, st->src[k]) || !ref_ok(s, st->dst[k]))
            return "a block or peer index out of range";
    return NULL;
}

static braid_result_t check_steps(struct vsim *s)
{
    for (int i = 0; i < s->ninst; i++) {
        for (int c = 0; c < s->nchannels; c++) {
            const struct braid_channel_plan *ch = &s->inst[i].plan->channels[c];
            for (uint32_t k = 0; k < ch->nsteps; k++) {
                const char *why = step_problem(s, &ch->steps[k]);
                struct vrunner at = {.pc = k, .inst = i, .ch = c};
                if (why)
                    return braid__vsim_fail_at(s, &at, "malformed step: %s", why);
            }
        }
    }
    return BRAID_SUCCESS;
}

/* ---- FIFO wiring -------------------------------------------------------------------------- */

static braid_result_t grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return BRAID_SUCCESS;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return braid__err(BRAID_ERR_NO_MEMORY, "plan verify: no memory for %zu entries", c);
    *p = q;
    *cap = c;
    return BRAID_SUCCESS;
}

static int key_cmp(const void *a, const void *b)
{
    const struct vkey *x = a, *y = b;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    if (x->ch != y->ch)
        return x->ch < y->ch ? -1 : 1;
    return x->dst < y->dst ? -1 : x->dst > y->dst;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The distinct peers of a runner, each as rank * 2 + (0 send, 1 recv), sorted into *out.
 * Gathered from the steps rather than a per-rank table, so the cost does not grow with n. */
static braid_result_t runner_peers(struct vsim *s, const struct vrunner *r, uint32_t **out,
                                   size_t *cap, size_t *count)
{
    const struct braid_channel_plan *ch = &s->inst[r->inst].plan->channels[r->ch];
    size_t n = 0;
    for (uint32_t i = 0; i < ch->nsteps; i++) {
        const struct braid_step *st = &ch->steps[i];
        BRAID_CHECK(grow((void **)out, cap, n + 4, sizeof(**out)));
        for (int k = 0; k < 2; k++) {
            if (st->dst[k].kind == BRAID_REF_PEER)
                (*out)[n++] = st->dst[k].index * 2;
            if (st->src[k].kind == BRAID_REF_PEER)
                (*out)[n++] = st->src[k].index * 2 + 1;
        }
    }
    qsort(*out, n, sizeof(**out), u32_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || (*out)[u - 1] != (*out)[i])
            (*out)[u++] = (*out)[i];
    *count = u;
    return BRAID_SUCCESS;
}

/* Lists a runner's peers (sends first, then receives, each by rank) and opens one FIFO per
 * send. */
static braid_result_t add_runner_peers(struct vsim *s, struct vrunner *r, uint32_t **peers,
                                       size_t *peer_cap, size_t *nents, size_t *ent_cap,
                                       size_t *fifo_cap)
{
    size_t np;
    BRAID_CHECK(runner_peers(s, r, peers, peer_cap, &np));
    BRAID_CHECK(grow((void **)&s->ents, ent_cap, *nents + np, sizeof(*s->ents)));
    r->ent = (uint32_t)*nents;
    for (uint32_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < np; i++) {
            if (((*peers)[i] & 1) != pass)
                continue;
            struct vent *e = &s->ents[(*nents)++];
            e->rank = (*peers)[i] >> 1;
            e->fifo = UINT32_MAX;
            if (pass == 1) {
                r->nrecv++;
                continue;
            }
            r->nsend++;
            BRAID_CHECK(grow((void **)&s->keys, fifo_cap, s->nfifos + 1, sizeof(*s->keys)));
            e->fifo = (uint32_t)s->nfifos;
            s->keys[s->nfifos++] =
                (struct vkey){(uint32_t)s->inst[r->inst].rank, (uint32_t)r->ch, e->rank, e->fifo};
        }
    }
    return BRAID_SUCCESS;
}

/* Connects every receive to the FIFO its sender opened. */
static braid_result_t wire_receivers(struct vsim *s)
{
    for (int id = 0; id < s->nrunners; id++) {
        struct vrunner *r = &s->runners[id];
        uint32_t me = (uint32_t)s->inst[r->inst].rank;
        for (uint32_t k = 0; k < r->nrecv; k++) {
            struct vent *e = &s->ents[r->ent + r->nsend + k];
            struct vkey want = {e->rank, (uint32_t)r->ch, me, 0};
            struct vkey *hit = bsearch(&want, s->keys, s->nfifos, sizeof(want), key_cmp);
            if (!hit)
                return braid__vsim_fail(s,
                                        "rank %u receives from rank %u on channel %d, but rank %u "
                                        "never sends to rank %u there (mismatched peers)",
                                        me, e->rank, r->ch, e->rank, me);
            struct vfifo *f = &s->fifos[hit->fifo];
            if (f->receiver >= 0)
                return braid__vsim_fail(s,
                                        "two plans of rank %u receive from rank %u on channel "
                                        "%d; messages could not be matched",
                                        me, e->rank, r->ch);
            f->receiver = id;
            e->fifo = hit->fifo;
        }
    }
    for (size_t k = 0; k < s->nfifos; k++)
        if (s->fifos[s->keys[k].fifo].receiver < 0)
            return braid__vsim_fail(s,
                                    "rank %u sends to rank %u on channel %u, but rank %u never "
                                    "receives from rank %u there (mismatched peers)",
                                    s->keys[k].src, s->keys[k].dst, s->keys[k].ch, s->keys[k].dst,
                                    s->keys[k].src);
    return BRAID_SUCCESS;
}

static braid_result_t wire(struct vsim *s)
{
    size_t nents = 0, ent_cap = 0, fifo_cap = 0, peer_cap = 0;
    uint32_t *peers = NULL;
    braid_result_t res = BRAID_SUCCESS;
    for (int id = 0; id < s->nrunners && res == BRAID_SUCCESS; id++)
        res = add_runner_peers(s, &s->runners[id], &peers, &peer_cap, &nents, &ent_cap, &fifo_cap);
    free(peers);
    BRAID_CHECK(res);
    s->fifos = calloc(s->nfifos ? s->nfifos : 1, sizeof(*s->fifos));
    if (!s->fifos)
        return braid__err(BRAID_ERR_NO_MEMORY, "plan verify: no memory for %zu FIFOs", s->nfifos);
    for (size_t k = 0; k < s->nfifos; k++) {
        s->fifos[k].receiver = s->fifos[k].waiting = -1;
        s->fifos[k].sender = -1;
    }
    /* Keys come out sorted when plans are in rank order; p2p pairs may not be. */
    for (size_t k = 1; k < s->nfifos; k++)
        if (key_cmp(&s->keys[k - 1], &s->keys[k]) >= 0) {
            qsort(s->keys, s->nfifos, sizeof(*s->keys), key_cmp);
            break;
        }
    for (size_t k = 1; k < s->nfifos; k++)
        if (key_cmp(&s->keys[k - 1], &s->keys[k]) == 0)
            return braid__vsim_fail(s,
                                    "two plans of rank %u send to rank %u on channel %u; "
                                    "messages could not be matched",
                                    s->keys[k].src, s->keys[k].dst, s->keys[k].ch);
    for (int id = 0; id < s->nrunners; id++)
        for (uint32_t k = 0; k < s->runners[id].nsend; k++)
            s->fifos[s->ents[s->runners[id].ent + k].fifo].sender = id;
    return wire_receivers(s);
}

braid_result_t braid__vsim_setup(struct vsim *s, struct braid_plan *const *plans, int n,
                                 int inplace)
{
    if (!plans || n < 1 || !plans[0])
        return braid__vsim_fail(s, "no plans to verify (%d given)", n);
    const struct braid_plan *p0 = plans[0];
    s->coll = p0->coll;
    s->p2p = is_p2p(p0->coll);
    s->nranks = p0->nranks;
    s->nchannels = p0->nchannels;
    s->npieces = p0->npieces;
    s->root = p0->root;
    s->inplace = inplace && !s->p2p;
    coll_blocks(s->coll, s->nranks, &s->in_blocks, &s->out_blocks);
    if (s->nchannels < 1 || s->nchannels > 64 || s->npieces < 1 || s->nranks < 1)
        return braid__vsim_fail(s,
                                "plan 0 has %d ranks, %d channels and %d pieces; each must be "
                                "at least 1 (channels at most 64)",
                                s->nranks, s->nchannels, s->npieces);
    if (!s->p2p && n != s->nranks)
        return braid__vsim_fail(s, "%d plans given for %d ranks; pass one per rank", n, s->nranks);
    s->npc = (uint32_t)s->nchannels * (uint32_t)s->npieces;
    s->ninst = n;
    s->nrunners = n * s->nchannels;
    s->inst = calloc((size_t)n, sizeof(*s->inst));
    s->runners = calloc((size_t)s->nrunners, sizeof(*s->runners));
    s->queue = calloc((size_t)s->nrunners, sizeof(*s->queue));
    if (!s->inst || !s->runners || !s->queue)
        return braid__err(BRAID_ERR_NO_MEMORY, "plan verify: no memory for %d plans", n);
    for (int i = 0; i < n; i++) {
        BRAID_CHECK(check_plan(s, plans[i], i));
        s->inst[i].plan = plans[i];
        s->inst[i].rank = plans[i]->rank;
        s->inst[i].cells = calloc((size_t)s->out_blocks * s->npc, sizeof(struct vval));
        if (!s->inst[i].cells)
            return braid__err(BRAID_ERR_NO_MEMORY, "plan verify: no memory for outputs");
    }
    for (int id = 0; id < s->nrunners; id++)
        s->runners[id] =
            (struct vrunner){.inst = id / s->nchannels, .ch = id % s->nchannels, .wait_fifo = -1};
    BRAID_CHECK(check_steps(s));
    return wire(s);
}

void braid__vsim_free(struct vsim *s)
{
    for (int i = 0; s->inst && i < s->ninst; i++)
        free(s->inst[i].cells);
    free(s->inst);
    free(s->runners);
    free(s->queue);
    free(s->ents);
    free(s->fifos);
    free(s->keys);
    free(s->arena);
    free(s->tmp);
}
