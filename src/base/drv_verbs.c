/*
 * The libibverbs loader: libibverbs.so.1 is opened once per process and its entry points
 * resolved by name into one table, handed out only when every required one is there; otherwise
 * the reason is kept in words for the callers' messages. Without verbs.h at build time there is
 * no table to fill, and the reason says so.
 */
#include "base/drv_verbs.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/dl.h"
#include "base/log.h"

#define VERBS_LIB_NAME "libibverbs.so.1"

/* Written once, inside verbs_once, and only read afterwards: pthread_once orders the writes
 * before every later reader's return from it. */
static struct {
#ifdef BRAID_HAVE_VERBS
    struct braid_verbs_api api;
#endif
    int usable;
    char why[512];
} verbs;
static pthread_once_t verbs_once = PTHREAD_ONCE_INIT;

#ifdef BRAID_HAVE_VERBS
/* The table's entry points, from the one list in the header. */
static const struct braid_dl_sym verbs_syms[] = {
#define VERBS_REQUIRED(name) {#name, offsetof(struct braid_verbs_api, name), 1},
#define VERBS_OPTIONAL(name) {#name, offsetof(struct braid_verbs_api, name), 0},
    BRAID_VERBS_ENTRY_POINTS(VERBS_REQUIRED, VERBS_OPTIONAL)
#undef VERBS_REQUIRED
#undef VERBS_OPTIONAL
};

/* Returns 1 when the table is usable, else 0 with verbs.why set. */
static int verbs_open(void)
{
    if (!braid__dl_open(VERBS_LIB_NAME, verbs_syms, sizeof(verbs_syms) / sizeof(verbs_syms[0]),
                        &verbs.api, "rdma-core too old?", verbs.why, sizeof(verbs.why)))
        return 0;
    return 1;
}

int braid__verbs_query_port(const struct braid_verbs_api *v, struct ibv_context *ctx, uint8_t port,
                            struct ibv_port_attr *attr)
{
    struct verbs_context *vctx = verbs_get_ctx_op(ctx, query_port);
    if (vctx)
        return vctx->query_port(ctx, port, attr, sizeof(*attr));
    /* Parenthesised, because verbs.h makes ibv_query_port a function-like macro. */
    memset(attr, 0, sizeof(*attr));
    return (v->ibv_query_port)(ctx, port, (struct _compat_ibv_port_attr *)attr);
}
#else
static int verbs_open(void)
{
    snprintf(verbs.why, sizeof(verbs.why),
             "built without libibverbs headers (install libibverbs-dev and rebuild)");
    return 0;
}
#endif

static void verbs_load(void)
{
    verbs.usable = verbs_open();
    if (verbs.usable)
        BRAID_INFO(INIT, "driver verbs: loaded " VERBS_LIB_NAME);
    else
        BRAID_INFO(INIT, "driver verbs: not used: %s", verbs.why);
}

const struct braid_verbs_api *braid__verbs(void)
{
    pthread_once(&verbs_once, verbs_load);
#ifdef BRAID_HAVE_VERBS
    return verbs.usable ? &verbs.api : NULL;
#else
    return NULL;
#endif
}

const char *braid__verbs_why(void)
{
    pthread_once(&verbs_once, verbs_load);
    return verbs.why;
}
