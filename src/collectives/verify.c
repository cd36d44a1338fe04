/*
 * Symbolic verification of plans. Every rank's plan runs over abstract values instead of
 * data: a value is (origin block, piece, set of ranks whose inputs it sums, finalized flag).
 * Rank sets are exact, as sorted disjoint intervals, so a contribution counted twice is caught
 * at the reduction that repeats it, with no hashing and no false passes. Ring and in-order
 * tree plans produce one or two intervals per set, stored inline; longer sets (custom ring
 * orders) spill into an arena. Each (rank, channel) runs its steps in order; FIFOs hold
 * BRAID_PLAN_MIN_SLOTS messages. Since a FIFO has one sender and one receiver, a step that can
 * run stays runnable, so the order runners are tried in cannot hide or cause a deadlock: a
 * work queue wakes a runner only when the FIFO it waits on changes, keeping the cost linear in
 * the number of steps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "collectives/plan.h"
#include "collectives/verify_sim.h"

/* ---- Reporting ---------------------------------------------------------------------------- */

braid_result_t braid__vsim_fail(struct vsim *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!s->failed)
        vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    s->failed = 1;
    return BRAID_ERR_INTERNAL;
}

/* "rank 3 channel 1 step 7 (recv-reduce-send piece 2 peer2 + in0 -> peer4)" */
static const char *where(struct vsim *s, const struct vrunner *r, char *buf, size_t len)
{
    const struct vinst *in = &s->inst[r->inst];
    char step[160] = "end of plan";
    const struct braid_channel_plan *ch = &in->plan->channels[r->ch];
    if (r->pc < ch->nsteps)
        braid__plan_step_str(&ch->steps[r->pc], step, sizeof(step));
    /* Send/recv pairs may hold two plans of one rank: say which. */
    snprintf(buf, len, "%s%srank %d channel %d step %u (%s)",
             s->p2p ? braid__coll_name(in->plan->coll) : "", s->p2p ? " plan on " : "", in->rank,
             r->ch, r->pc, step);
    return buf;
}

braid_result_t braid__vsim_fail_at(struct vsim *s, const struct vrunner *r, const char *fmt, ...)
{
    char ctx[256], what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return braid__vsim_fail(s, "%s: %s", where(s, r, ctx, sizeof(ctx)), what);
}

/* "block 0 piece 3 ranks {0-5,7} final" */
void braid__vsim_value_str(const struct vsim *s, const struct vval *v, char *buf, size_t len)
{
    const uint32_t *iv = braid__vsim_iv(s, v);
    size_t off = (size_t)snprintf(buf, len, "block %u piece %u ranks {", v->block, v->piece);
    for (uint32_t k = 0; k < v->nint && off < len; k++) {
        if (k == 4) {
            off += (size_t)snprintf(buf + off, len - off, ",... %u intervals", v->nint);
            break;
        }
        const char *sep = k ? "," : "";
        if (iv[2 * k + 1] - iv[2 * k] == 1)
            off += (size_t)snprintf(buf + off, len - off, "%s%u", sep, iv[2 * k]);
        else
            off += (size_t)snprintf(buf + off, len - off, "%s%u-%u", sep, iv[2 * k],
                                    iv[2 * k + 1] - 1);
    }
    if (off < len)
        snprintf(buf + off, len - off, "}%s", v->final ? " final" : "");
}

/* ---- Rank sets ---------------------------------------------------------------------------- */

/* Stores nint intervals into v: inline when they fit, else appended to the arena. */
static braid_result_t set_store(struct vsim *s, struct vval *v, const uint32_t *iv, uint32_t nint)
{
    v->nint = nint;
    if (nint <= 2) {
        memcpy(v->iv, iv, 2 * nint * sizeof(*iv));
        return BRAID_SUCCESS;
    }
    if (s->arena_len + 2 * nint > s->arena_cap) {
        size_t cap = s->arena_cap ? s->arena_cap * 2 : 4096;
        while (cap < s->arena_len + 2 * nint)
            cap *= 2;
        uint32_t *a = realloc(s->arena, cap * sizeof(*a));
        if (!a)
            return braid__err(BRAID_ERR_NO_MEMORY, "plan verify: no memory for %zu rank sets", cap);
        s->arena = a;
        s->arena_cap = cap;
    }
    v->iv[0] = (uint32_t)s->arena_len;
    memcpy(s->arena + s->arena_len, iv, 2 * nint * sizeof(*iv));
    s->arena_len += 2 * nint;
    return BRAID_SUCCESS;
}

/* out = a's set plus b's; returns 1 and the first repeated rank in *dup if they overlap. */
int braid__vsim_union(struct vsim *s, const struct vval *a, const struct vval *b, struct vval *out,
                      uint32_t *dup, braid_result_t *res)
{
    const uint32_t *x = braid__vsim_iv(s, a), *y = braid__vsim_iv(s, b);
    uint32_t nx = a->nint, ny = b->nint, i = 0, j = 0, n = 0;
    uint32_t need = 2 * (nx + ny);
    if (need > s->tmp_cap) {
        uint32_t *t = realloc(s->tmp, need * sizeof(*t));
        if (!t) {
            *res = braid__err(BRAID_ERR_NO_MEMORY, "plan verify: no memory to merge rank sets");
            return 0;
        }
        s->tmp = t;
        s->tmp_cap = need;
    }
    while (i < nx || j < ny) {
        const uint32_t *next =
            (j >= ny || (i < nx && x[2 * i] < y[2 * j])) ? &x[2 * i++] : &y[2 * j++];
        if (n && next[0] < s->tmp[2 * n - 1]) {
            *dup = next[0];
            return 1;
        }
        if (n && next[0] == s->tmp[2 * n - 1]) {
            s->tmp[2 * n - 1] = next[1]; /* adjacent: extend */
        } else {
            s->tmp[2 * n] = next[0];
            s->tmp[2 * n + 1] = next[1];
            n++;
        }
    }
    *out = *a;
    *res = set_store(s, out, s->tmp, n);
    return 0;
}

/* Whether v's set is exactly [lo, hi). */
int braid__vsim_set_is(const struct vsim *s, const struct vval *v, uint32_t lo, uint32_t hi)
{
    const uint32_t *iv = braid__vsim_iv(s, v);
    return v->nint == 1 && iv[0] == lo && iv[1] == hi;
}

/* The number of ranks in v's set and the first rank missing from [0, n) (or n). */
uint32_t braid__vsim_set_size(const struct vsim *s, const struct vval *v, uint32_t n,
                              uint32_t *missing)
{
    const uint32_t *iv = braid__vsim_iv(s, v);
    uint32_t size = 0, expect = 0;
    *missing = n;
    for (uint32_t k = 0; k < v->nint; k++) {
        if (iv[2 * k] != expect && *missing == n)
            *missing = expect;
        size += iv[2 * k + 1] - iv[2 * k];
        expect = iv[2 * k + 1];
    }
    if (expect != n && *missing == n)
        *missing = expect;
    return size;
}

/* ---- Entry points ------------------------------------------------------------------------- */

static void copy_msg(const struct vsim *s, char *msg, size_t msglen)
{
    if (msg && msglen)
        snprintf(msg, msglen, "%s", s->msg);
}

braid_result_t braid__plan_verify_plans(struct braid_plan *const *plans, int nranks, int inplace,
                                        char *msg, size_t msglen)
{
    struct vsim *s = calloc(1, sizeof(*s));
    if (!s)
        return braid__err(BRAID_ERR_NO_MEMORY, "plan verify: no memory");
    braid_result_t res = braid__vsim_setup(s, plans, nranks, inplace);
    if (res == BRAID_SUCCESS)
        res = braid__vsim_run(s);
    if (res == BRAID_SUCCESS)
        res = braid__vsim_check(s);
    if (res != BRAID_SUCCESS && !s->failed)
        braid__vsim_fail(s, "%s", braid__err_text());
    copy_msg(s, msg, msglen);
    if (s->failed && res == BRAID_ERR_INTERNAL)
        braid__err(BRAID_ERR_INTERNAL, "plan verify: %s", s->msg);
    braid__vsim_free(s);
    free(s);
    return res;
}

static void free_plans(struct braid_plan *plans, int n)
{
    for (int r = 0; r < n; r++)
        braid__plan_free(&plans[r]);
    free(plans);
}

/* Every ordered pair (a, b), a == b included: a SEND plan on a and a RECV plan on b. */
static braid_result_t verify_p2p(enum braid_algo algo, int nranks, int nchannels, char *msg,
                                 size_t msglen)
{
    for (int a = 0; a < nranks; a++) {
        for (int b = 0; b < nranks; b++) {
            struct braid_plan pl[2];
            struct braid_plan_args sa = {BRAID_COLL_SEND, nranks, a, b, nchannels, NULL};
            struct braid_plan_args ra = {BRAID_COLL_RECV, nranks, b, a, nchannels, NULL};
            BRAID_CHECK(braid__plan_build(algo, &sa, &pl[0]));
            braid_result_t res = braid__plan_build(algo, &ra, &pl[1]);
            if (res == BRAID_SUCCESS) {
                struct braid_plan *pp[2] = {&pl[0], &pl[1]};
                res = braid__plan_verify_plans(pp, 2, 0, msg, msglen);
                braid__plan_free(&pl[1]);
            }
            braid__plan_free(&pl[0]);
            if (res != BRAID_SUCCESS)
                return res;
        }
    }
    return BRAID_SUCCESS;
}

/* Builds every rank's plan, refusing past BRAID_PLAN_VERIFY_MAX_STEPS steps in all. */
static braid_result_t build_all(enum braid_algo algo, const struct braid_plan_args *args,
                                struct braid_plan *plans, char *msg, size_t msglen)
{
    size_t total = 0;
    for (int r = 0; r < args->nranks; r++) {
        struct braid_plan_args a = *args;
        a.rank = r;
        BRAID_CHECK(braid__plan_build(algo, &a, &plans[r]));
        for (int c = 0; c < plans[r].nchannels; c++)
            total += plans[r].channels[c].nsteps;
        /* Rank 0's plan predicts the others' size closely; refuse before allocating them. */
        size_t guess = r == 0 ? total * (size_t)args->nranks : total;
        if (guess > BRAID_PLAN_VERIFY_MAX_STEPS) {
            braid_result_t res =
                braid__err(BRAID_ERR_NOT_SUPPORTED,
                           "plan verify: %s %s over %d ranks has more than %u steps (about %zu); "
                           "too large to verify in bounded memory, try fewer ranks or channels",
                           braid__algo_get(algo)->name, braid__coll_name(args->coll), args->nranks,
                           BRAID_PLAN_VERIFY_MAX_STEPS, guess);
            if (msg && msglen)
                snprintf(msg, msglen, "%s", braid__err_text());
            return res;
        }
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__plan_verify(enum braid_algo algo, enum braid_coll coll, int nranks,
                                  int nchannels, int root, int inplace, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = '\0';
    BRAID_ARG_CHECK(nranks >= 1, "plan verify: nranks is %d; it must be at least 1", nranks);
    if (coll == BRAID_COLL_SEND || coll == BRAID_COLL_RECV)
        return verify_p2p(algo, nranks, nchannels, msg, msglen);
    struct braid_plan *plans = calloc((size_t)nranks, sizeof(*plans));
    struct braid_plan **ptrs = calloc((size_t)nranks, sizeof(*ptrs));
    braid_result_t res = BRAID_ERR_NO_MEMORY;
    if (!plans || !ptrs) {
        braid__err(res, "plan verify: no memory for %d plans", nranks);
        goto out_free;
    }
    struct braid_plan_args args = {coll, nranks, 0, root, nchannels, NULL};
    BRAID_CHECK_GOTO(build_all(algo, &args, plans, msg, msglen), res, out_free);
    for (int r = 0; r < nranks; r++)
        ptrs[r] = &plans[r];
    if (inplace && !plans[0].inplace_safe) {
        res = braid__err(BRAID_ERR_INVALID_ARGUMENT,
                         "plan verify: %s %s plans are not in-place safe (the executor stages "
                         "the input); verify them out of place",
                         braid__algo_get(algo)->name, braid__coll_name(coll));
        goto out_free;
    }
    res = braid__plan_verify_plans(ptrs, nranks, inplace, msg, msglen);
out_free:
    if (res != BRAID_SUCCESS && msg && msglen && !msg[0])
        snprintf(msg, msglen, "%s", braid__err_text());
    if (plans)
        free_plans(plans, nranks);
    free(ptrs);
    return res;
}
