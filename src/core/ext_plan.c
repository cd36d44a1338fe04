/*
 * braid_ext.h, plan half: the built-in algorithms, building one rank's plan, printing it and
 * verifying an algorithm symbolically, for braid-plan and for tuners.
 *
 * As in ext_topo.c, each entry point clears the thread's error, checks its arguments and
 * leaves the internal message untouched (no trail frame from here), so braid_last_error(NULL)
 * reads as the collectives layer wrote it. A public plan handle is a struct braid_plan of its
 * own, allocated here.
 *
 * Simulation on a topology and custom plan files, when they come, are added beside these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/error.h"
#include "braid_ext.h"
#include "collectives/plan.h"

/* The public collective enum is the internal one under public names. */
#define SAME_VALUE(pub, internal)                                                                  \
    _Static_assert((int)(pub) == (int)(internal), #pub " must equal " #internal)

SAME_VALUE(BRAID_ALL_REDUCE, BRAID_COLL_ALL_REDUCE);
SAME_VALUE(BRAID_ALL_GATHER, BRAID_COLL_ALL_GATHER);
SAME_VALUE(BRAID_REDUCE_SCATTER, BRAID_COLL_REDUCE_SCATTER);
SAME_VALUE(BRAID_ALL_TO_ALL, BRAID_COLL_ALL_TO_ALL);
SAME_VALUE(BRAID_BROADCAST, BRAID_COLL_BROADCAST);
SAME_VALUE(BRAID_REDUCE, BRAID_COLL_REDUCE);
SAME_VALUE(BRAID_SEND, BRAID_COLL_SEND);
SAME_VALUE(BRAID_RECV, BRAID_COLL_RECV);
SAME_VALUE(BRAID_NUM_COLLECTIVES, BRAID_NUM_COLLS);

static braid_result_t check_algo(const char *fn, int algo)
{
    BRAID_ARG_CHECK(algo >= 0 && algo < BRAID_NUM_ALGOS,
                    "%s: algo is %d; algorithms are numbered 0..%d (braid_algo_count(), "
                    "braid_algo_find())",
                    fn, algo, BRAID_NUM_ALGOS - 1);
    return BRAID_SUCCESS;
}

static braid_result_t check_coll(const char *fn, braid_coll_t coll)
{
    BRAID_ARG_CHECK((unsigned)coll < BRAID_NUM_COLLECTIVES,
                    "%s: coll is %d, not a braid_coll_t (0..%d)", fn, (int)coll,
                    BRAID_NUM_COLLECTIVES - 1);
    return BRAID_SUCCESS;
}

/* ---- collectives and algorithms ---- */

const char *braid_coll_name(braid_coll_t coll)
{
    return braid__coll_name((enum braid_coll)coll);
}

braid_result_t braid_coll_find(const char *name, braid_coll_t *coll)
{
    braid__err_clear();
    BRAID_ARG_CHECK(name, "braid_coll_find: name is NULL");
    BRAID_ARG_CHECK(coll, "braid_coll_find: coll is NULL");
    enum braid_coll c = braid__coll_find(name);
    BRAID_ARG_CHECK(c != BRAID_NUM_COLLS,
                    "braid_coll_find: '%s' is not a collective (all_reduce, all_gather, "
                    "reduce_scatter, all_to_all, broadcast, reduce, send, recv)",
                    name);
    *coll = (braid_coll_t)c;
    return BRAID_SUCCESS;
}

int braid_algo_count(void)
{
    return BRAID_NUM_ALGOS;
}

braid_result_t braid_algo_get(int algo, braid_algo_info_t *info)
{
    braid__err_clear();
    BRAID_ARG_CHECK(info, "braid_algo_get: info is NULL");
    BRAID_CHECK(check_algo("braid_algo_get", algo));
    const struct braid_algo_desc *d = braid__algo_get((enum braid_algo)algo);
    info->name = d->name;
    info->desc = d->desc;
    return BRAID_SUCCESS;
}

braid_result_t braid_algo_find(const char *name, int *algo)
{
    braid__err_clear();
    BRAID_ARG_CHECK(name, "braid_algo_find: name is NULL");
    BRAID_ARG_CHECK(algo, "braid_algo_find: algo is NULL");
    const struct braid_algo_desc *d = braid__algo_find(name);
    if (!d) {
        char known[256] = "";
        for (int a = 0; a < BRAID_NUM_ALGOS; a++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", a ? ", " : "",
                     braid__algo_get((enum braid_algo)a)->name);
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "braid_algo_find: '%s' is not an algorithm (%s)", name, known);
    }
    *algo = (int)d->id;
    return BRAID_SUCCESS;
}

braid_result_t braid_algo_supports(int algo, braid_coll_t coll, int *supported)
{
    braid__err_clear();
    BRAID_ARG_CHECK(supported, "braid_algo_supports: supported is NULL");
    BRAID_CHECK(check_algo("braid_algo_supports", algo));
    BRAID_CHECK(check_coll("braid_algo_supports", coll));
    *supported = braid__algo_get((enum braid_algo)algo)->supports((enum braid_coll)coll) != 0;
    return BRAID_SUCCESS;
}

/* ---- plans ---- */

braid_result_t braid_plan_build(braid_plan_t *plan, braid_coll_t coll, int algo, int nranks,
                                int rank, int root, int nchannels)
{
    braid__err_clear();
    BRAID_ARG_CHECK(plan, "braid_plan_build: plan is NULL (it receives the new handle)");
    *plan = NULL;
    BRAID_CHECK(check_algo("braid_plan_build", algo));
    struct braid_plan *p = calloc(1, sizeof(*p));
    if (!p)
        return braid__err(BRAID_ERR_NO_MEMORY, "braid_plan_build: no memory for a plan");
    struct braid_plan_args args = {(enum braid_coll)coll, nranks, rank, root, nchannels, NULL};
    braid_result_t res = braid__plan_build((enum braid_algo)algo, &args, p);
    if (res != BRAID_SUCCESS) {
        free(p);
        return res;
    }
    *plan = p;
    return BRAID_SUCCESS;
}

/* Leaves the thread's error alone, as braid_topo_free() does. */
braid_result_t braid_plan_free(braid_plan_t plan)
{
    braid__plan_free(plan);
    free(plan);
    return BRAID_SUCCESS;
}

braid_result_t braid_plan_print(braid_plan_t plan, FILE *file)
{
    braid__err_clear();
    BRAID_ARG_CHECK(plan, "braid_plan_print: plan is NULL");
    BRAID_ARG_CHECK(file, "braid_plan_print: file is NULL");
    braid__plan_print(plan, file);
    return BRAID_SUCCESS;
}

braid_result_t braid_plan_get_info(braid_plan_t plan, braid_plan_info_t *info)
{
    braid__err_clear();
    BRAID_ARG_CHECK(plan, "braid_plan_get_info: plan is NULL");
    BRAID_ARG_CHECK(info, "braid_plan_get_info: info is NULL");
    *info = (braid_plan_info_t){
        .coll = (braid_coll_t)plan->coll,
        .algo = (int)plan->algo,
        .nranks = plan->nranks,
        .rank = plan->rank,
        .root = plan->root,
        .nchannels = plan->nchannels,
        .npieces = plan->npieces,
        .in_blocks = plan->in_blocks,
        .out_blocks = plan->out_blocks,
        .inplace_safe = plan->inplace_safe,
    };
    return BRAID_SUCCESS;
}

braid_result_t braid_plan_steps(braid_plan_t plan, int channel, int *nsteps)
{
    braid__err_clear();
    BRAID_ARG_CHECK(plan, "braid_plan_steps: plan is NULL");
    BRAID_ARG_CHECK(nsteps, "braid_plan_steps: nsteps is NULL");
    BRAID_ARG_CHECK(channel >= 0 && channel < plan->nchannels,
                    "braid_plan_steps: channel is %d, but the plan has %d channels (numbered "
                    "from 0)",
                    channel, plan->nchannels);
    *nsteps = (int)plan->channels[channel].nsteps;
    return BRAID_SUCCESS;
}

braid_result_t braid_plan_verify(braid_coll_t coll, int algo, int nranks, int root, int nchannels,
                                 int inplace)
{
    braid__err_clear();
    BRAID_CHECK(check_algo("braid_plan_verify", algo));
    BRAID_CHECK(check_coll("braid_plan_verify", coll));
    char msg[BRAID_ERR_MSG_MAX];
    braid_result_t res = braid__plan_verify((enum braid_algo)algo, (enum braid_coll)coll, nranks,
                                            nchannels, root, inplace, msg, sizeof(msg));
    /* The verifier's message is the detail: make it the thread's error word for word (the
     * recorded error may carry a prefix or a trail). */
    if (res != BRAID_SUCCESS && msg[0] != '\0' && strcmp(msg, braid__err_text()) != 0)
        braid__err(res, "%s", msg);
    return res;
}
