/*
 * Plan helpers shared by every builder and reader: construction (init, push, free), argument
 * validation and dispatch (braid__plan_build), tiling, peer sets and printing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "base/error.h"
#include "base/log.h"
#include "collectives/algos.h"
#include "collectives/plan.h"

/* Collective names, indexed by enum braid_coll; they match the public function names. */
static const char *const coll_names[BRAID_NUM_COLLS] = {
    [BRAID_COLL_ALL_REDUCE] = "all_reduce",
    [BRAID_COLL_ALL_GATHER] = "all_gather",
    [BRAID_COLL_REDUCE_SCATTER] = "reduce_scatter",
    [BRAID_COLL_ALL_TO_ALL] = "all_to_all",
    [BRAID_COLL_BROADCAST] = "broadcast",
    [BRAID_COLL_REDUCE] = "reduce",
    [BRAID_COLL_SEND] = "send",
    [BRAID_COLL_RECV] = "recv",
};

const char *braid__coll_name(enum braid_coll coll)
{
    if ((unsigned)coll >= BRAID_NUM_COLLS)
        return "invalid";
    return coll_names[coll];
}

/* Compares names ignoring case and underscores, so "allreduce" finds "all_reduce". */
static int name_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_' || *a == '-')
            a++;
        while (*b == '_' || *b == '-')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if ((*a | 0x20) != (*b | 0x20))
            return 0;
        a++;
        b++;
    }
}

enum braid_coll braid__coll_find(const char *name)
{
    for (int c = 0; name && c < BRAID_NUM_COLLS; c++)
        if (name_eq(name, coll_names[c]))
            return (enum braid_coll)c;
    return BRAID_NUM_COLLS;
}

int braid__coll_reduces(enum braid_coll coll)
{
    return coll == BRAID_COLL_ALL_REDUCE || coll == BRAID_COLL_REDUCE_SCATTER ||
           coll == BRAID_COLL_REDUCE;
}

/* Which collectives take a root (or, for p2p, a peer). */
static int coll_has_root(enum braid_coll coll)
{
    return coll == BRAID_COLL_BROADCAST || coll == BRAID_COLL_REDUCE || coll == BRAID_COLL_SEND ||
           coll == BRAID_COLL_RECV;
}

braid_result_t braid__plan_init(struct braid_plan *plan, const struct braid_plan_args *args,
                                enum braid_algo algo, int npieces, int in_blocks, int out_blocks)
{
    memset(plan, 0, sizeof(*plan));
    plan->coll = args->coll;
    plan->algo = algo;
    plan->nranks = args->nranks;
    plan->rank = args->rank;
    plan->root = coll_has_root(args->coll) ? args->root : -1;
    plan->nchannels = args->nchannels;
    plan->npieces = npieces;
    plan->in_blocks = in_blocks;
    plan->out_blocks = out_blocks;
    plan->inplace_safe = 1;
    plan->channels = calloc((size_t)args->nchannels, sizeof(*plan->channels));
    if (!plan->channels)
        return braid__err(BRAID_ERR_NO_MEMORY,
                          "plan init: cannot allocate %d channels for rank %d of %d",
                          args->nchannels, args->rank, args->nranks);
    return BRAID_SUCCESS;
}

braid_result_t braid__plan_push(struct braid_plan *plan, int channel, struct braid_step step)
{
    struct braid_channel_plan *ch = &plan->channels[channel];
    if (ch->nsteps == ch->capacity) {
        /* Doubling keeps pushes amortised O(1) for the n * n / 2 steps of ring all_to_all. */
        uint32_t cap = ch->capacity ? ch->capacity * 2 : 16;
        struct braid_step *steps = realloc(ch->steps, cap * sizeof(*steps));
        if (!steps)
            return braid__err(BRAID_ERR_NO_MEMORY,
                              "plan push: cannot grow channel %d of rank %d to %u steps", channel,
                              plan->rank, cap);
        ch->steps = steps;
        ch->capacity = cap;
    }
    ch->steps[ch->nsteps++] = step;
    return BRAID_SUCCESS;
}

void braid__plan_free(struct braid_plan *plan)
{
    if (!plan)
        return;
    if (plan->channels)
        for (int c = 0; c < plan->nchannels; c++)
            free(plan->channels[c].steps);
    free(plan->channels);
    memset(plan, 0, sizeof(*plan));
}

/* Checks that ring_order holds every rank exactly once. */
static braid_result_t check_ring_order(const int *order, int n)
{
    if (!order)
        return BRAID_SUCCESS;
    unsigned char *seen = calloc((size_t)n, 1);
    if (!seen)
        return braid__err(BRAID_ERR_NO_MEMORY, "plan build: cannot check a ring of %d ranks", n);
    braid_result_t res = BRAID_SUCCESS;
    for (int i = 0; i < n && res == BRAID_SUCCESS; i++) {
        if (order[i] < 0 || order[i] >= n || seen[order[i]])
            res = braid__err(BRAID_ERR_INVALID_ARGUMENT,
                             "plan build: ring_order[%d] = %d is %s; the ring order must list "
                             "each rank 0..%d exactly once",
                             i, order[i],
                             (order[i] < 0 || order[i] >= n) ? "out of range" : "a repeat", n - 1);
        else
            seen[order[i]] = 1;
    }
    free(seen);
    return res;
}

static braid_result_t check_args(const struct braid_plan_args *a)
{
    BRAID_ARG_CHECK((unsigned)a->coll < BRAID_NUM_COLLS,
                    "plan build: collective %d is not one of the %d known ones", (int)a->coll,
                    BRAID_NUM_COLLS);
    BRAID_ARG_CHECK(a->nranks >= 1, "plan build: nranks is %d; it must be at least 1", a->nranks);
    BRAID_ARG_CHECK(a->rank >= 0 && a->rank < a->nranks,
                    "plan build: rank %d is outside [0, %d); pass this caller's rank", a->rank,
                    a->nranks);
    BRAID_ARG_CHECK(a->nchannels >= 1 && a->nchannels <= 64,
                    "plan build: %d channels; use 1 to 64 (BRAID_NCHANNELS)", a->nchannels);
    if (coll_has_root(a->coll))
        BRAID_ARG_CHECK(a->root >= 0 && a->root < a->nranks,
                        "plan build: %s %s %d is outside [0, %d)", braid__coll_name(a->coll),
                        a->coll >= BRAID_COLL_SEND ? "peer" : "root", a->root, a->nranks);
    return check_ring_order(a->ring_order, a->nranks);
}

braid_result_t braid__plan_build(enum braid_algo algo, const struct braid_plan_args *args,
                                 struct braid_plan *plan)
{
    BRAID_ARG_CHECK(args && plan, "plan build: args and plan must not be NULL");
    const struct braid_algo_desc *desc = braid__algo_get(algo);
    BRAID_ARG_CHECK(desc, "plan build: algorithm %d is not one of the %d known ones", (int)algo,
                    BRAID_NUM_ALGOS);
    BRAID_CHECK(check_args(args));
    if (!desc->supports(args->coll))
        return braid__err(BRAID_ERR_NOT_SUPPORTED,
                          "plan build: algorithm %s does not build %s; choose another (ring "
                          "builds every collective)",
                          desc->name, braid__coll_name(args->coll));
    memset(plan, 0, sizeof(*plan));
    BRAID_CHECK(desc->build(args, plan));
    BRAID_TRACE(PLAN, "built %s %s plan for rank %d of %d: %d channels, %u steps on channel 0",
                desc->name, braid__coll_name(args->coll), args->rank, args->nranks, args->nchannels,
                plan->channels[0].nsteps);
    return BRAID_SUCCESS;
}

size_t braid__plan_iterations(const struct braid_plan *plan, size_t count, size_t elems)
{
    /* A slot of 0 elements would never make progress; treat it as 1 rather than divide by 0. */
    size_t per_iter = (size_t)plan->nchannels * (size_t)plan->npieces * (elems ? elems : 1);
    return count == 0 ? 0 : (count + per_iter - 1) / per_iter;
}

void braid__plan_piece(const struct braid_plan *plan, size_t count, size_t elems, size_t iter,
                       int channel, int piece, size_t *start, size_t *len)
{
    size_t npc = (size_t)plan->nchannels * (size_t)plan->npieces;
    size_t per_iter = npc * (elems ? elems : 1);
    size_t base = iter * per_iter;
    size_t rem = base < count ? count - base : 0;
    if (rem > per_iter)
        rem = per_iter;
    size_t each = (rem + npc - 1) / npc;
    size_t off = ((size_t)channel * (size_t)plan->npieces + (size_t)piece) * each;
    if (off > rem)
        off = rem;
    *start = base + off;
    *len = rem - off < each ? rem - off : each;
}

void braid__plan_peers(const struct braid_plan *plan, int channel, uint8_t *flags)
{
    const struct braid_channel_plan *ch = &plan->channels[channel];
    for (uint32_t i = 0; i < ch->nsteps; i++) {
        const struct braid_step *s = &ch->steps[i];
        /* Out-of-range peers are the verifier's to report; here they are only skipped. */
        for (int k = 0; k < 2; k++) {
            if (s->src[k].kind == BRAID_REF_PEER && s->src[k].index < (uint32_t)plan->nranks)
                flags[s->src[k].index] |= 2;
            if (s->dst[k].kind == BRAID_REF_PEER && s->dst[k].index < (uint32_t)plan->nranks)
                flags[s->dst[k].index] |= 1;
        }
    }
}

/* "in0", "out3", "peer7" or "-". */
static void ref_str(struct braid_ref ref, char *buf, size_t len)
{
    static const char *const kind[] = {"-", "in", "out", "peer"};
    if (ref.kind == BRAID_REF_NONE)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%s%u", kind[ref.kind], (unsigned)ref.index);
}

/* The primitive a step implements, in NCCL's words ("recv-reduce-copy-send"). */
static const char *step_primitive(const struct braid_step *s)
{
    int recv = s->src[0].kind == BRAID_REF_PEER || s->src[1].kind == BRAID_REF_PEER;
    int send = s->dst[0].kind == BRAID_REF_PEER || s->dst[1].kind == BRAID_REF_PEER;
    int copy = s->dst[0].kind == BRAID_REF_OUTPUT || s->dst[1].kind == BRAID_REF_OUTPUT;
    int reduce = (s->flags & BRAID_STEP_REDUCE) != 0;
    static const char *const names[2][2][2][2] = {
        /* [recv][reduce][copy][send] */
        {{{"nop", "send"}, {"copy", "copy-send"}},
         {{"reduce", "reduce-send"}, {"reduce-copy", "reduce-copy-send"}}},
        {{{"recv-drop", "recv-send"}, {"recv", "recv-copy-send"}},
         {{"recv-reduce", "recv-reduce-send"}, {"recv-reduce-copy", "recv-reduce-copy-send"}}},
    };
    return names[recv][reduce][copy][send];
}

void braid__plan_step_str(const struct braid_step *s, char *buf, size_t len)
{
    char a[24], b[24], c[24], d[24];
    ref_str(s->src[0], a, sizeof(a));
    ref_str(s->src[1], b, sizeof(b));
    ref_str(s->dst[0], c, sizeof(c));
    ref_str(s->dst[1], d, sizeof(d));
    snprintf(buf, len, "%-21s piece %-4u %s%s%s -> %s%s%s%s", step_primitive(s), (unsigned)s->piece,
             a, s->src[1].kind ? (s->flags & BRAID_STEP_REDUCE ? " + " : " , ") : "",
             s->src[1].kind ? b : "", c, s->dst[1].kind ? ", " : "", s->dst[1].kind ? d : "",
             (s->flags & BRAID_STEP_FINAL) ? "  [final]" : "");
}

void braid__plan_print(const struct braid_plan *plan, void *file)
{
    FILE *f = file ? (FILE *)file : stdout;
    const struct braid_algo_desc *desc = braid__algo_get(plan->algo);
    fprintf(f, "plan %s/%s rank %d of %d", braid__coll_name(plan->coll), desc ? desc->name : "?",
            plan->rank, plan->nranks);
    if (plan->root >= 0)
        fprintf(f, " %s %d", plan->coll >= BRAID_COLL_SEND ? "peer" : "root", plan->root);
    fprintf(f, ": %d channels, %d pieces, blocks in %d out %d, inplace_safe %d\n", plan->nchannels,
            plan->npieces, plan->in_blocks, plan->out_blocks, plan->inplace_safe);
    for (int c = 0; c < plan->nchannels; c++) {
        const struct braid_channel_plan *ch = &plan->channels[c];
        fprintf(f, "  channel %d: %u steps\n", c, ch->nsteps);
        for (uint32_t i = 0; i < ch->nsteps; i++) {
            char buf[160];
            braid__plan_step_str(&ch->steps[i], buf, sizeof(buf));
            fprintf(f, "    %4u  %s\n", i, buf);
        }
    }
}
