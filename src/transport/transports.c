/*
 * The transport table, the defaults for the hooks a transport leaves out, and the per-comm
 * transport context (its connector table, poison and quiesce).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"
#include "transport/transport.h"

extern const struct braid_transport braid__shm_transport;
extern const struct braid_transport braid__socket_transport;

/* In order of preference; adding a transport is one file and one line here. */
static const struct braid_transport *const registered[] = {
    &braid__shm_transport,
    &braid__socket_transport,
};

#define NREGISTERED (sizeof(registered) / sizeof(registered[0]))

/* Defaults for optional hooks (libfabric's "enosys" idea): callers never test for NULL. */
static braid_result_t nop_ready(struct braid_transport_ctx *ctx, struct braid_conn *conn)
{
    return BRAID_SUCCESS;
}

static void nop_notify(struct braid_conn *conn) {}

static void nop_quiesce(struct braid_transport_ctx *ctx) {}

static braid_result_t nosys_reg_mem(struct braid_transport_ctx *ctx,
                                    const struct braid_mem_region *mem, void **handle)
{
    (void)handle;
    return braid__err(BRAID_ERR_NOT_SUPPORTED,
                      "memory registration: this transport cannot register %zu bytes of %s "
                      "memory at %p; its connectors stage buffers through their FIFOs",
                      mem->bytes, braid__mem_kind_name(mem->kind), mem->ptr);
}

static void nop_dereg_mem(struct braid_transport_ctx *ctx, void *handle) {}

/* The registered tables with their empty hooks filled; only tables of this build's layout. */
static struct braid_transport filled[NREGISTERED];
static const struct braid_transport *usable[NREGISTERED];
static int nusable;
static pthread_once_t fill_once = PTHREAD_ONCE_INIT;

int braid__transport_complete(const struct braid_transport *in, struct braid_transport *out)
{
    if (in->version != BRAID_TRANSPORT_VERSION || !in->name || !in->can_connect || !in->setup ||
        !in->connect || !in->close)
        return 0;
    *out = *in;
    if (!out->ready)
        out->ready = nop_ready;
    if (!out->notify)
        out->notify = nop_notify;
    if (!out->quiesce)
        out->quiesce = nop_quiesce;
    if (!out->reg_mem)
        out->reg_mem = nosys_reg_mem;
    if (!out->dereg_mem)
        out->dereg_mem = nop_dereg_mem;
    return 1;
}

static void fill_defaults(void)
{
    for (size_t i = 0; i < NREGISTERED; i++) {
        if (!braid__transport_complete(registered[i], &filled[nusable])) {
            BRAID_WARN(NET,
                       "transport %s: its ops table (version %u) is not this build's (%u) or "
                       "lacks a required hook; not used",
                       registered[i]->name ? registered[i]->name : "?", registered[i]->version,
                       BRAID_TRANSPORT_VERSION);
            continue;
        }
        usable[nusable] = &filled[nusable];
        nusable++;
    }
}

const struct braid_transport *const *braid__transports(int *count)
{
    pthread_once(&fill_once, fill_defaults);
    *count = nusable;
    return usable;
}

braid_result_t braid__transport_select(const struct braid_peer_info *self,
                                       const struct braid_peer_info *peer,
                                       const struct braid_transport **out)
{
    int n;
    const struct braid_transport *const *transports = braid__transports(&n);
    const char *forced = braid__param_str("BRAID_TRANSPORT");
    char names[128] = "";
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "", transports[i]->name);
    }
    for (int i = 0; i < n; i++) {
        const struct braid_transport *t = transports[i];
        if (forced && strcasecmp(forced, t->name) != 0)
            continue;
        if (!forced && !t->can_connect(self, peer))
            continue;
        if (forced && !t->can_connect(self, peer))
            return braid__err(BRAID_ERR_INVALID_USAGE,
                              "BRAID_TRANSPORT=%s cannot reach rank %d on host %s from host %s",
                              forced, peer->rank, peer->hostname, self->hostname);
        BRAID_INFO(NET, "rank %d (%s pid %d): transport %s (%s)", peer->rank, peer->hostname,
                   peer->pid, t->name,
                   forced ? "BRAID_TRANSPORT"
                   : self->host_hash == peer->host_hash
                       ? "same host: first transport that can connect"
                       : "other host: first transport that can connect");
        *out = t;
        return BRAID_SUCCESS;
    }
    if (forced)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "BRAID_TRANSPORT=%s is not a transport "
                          "of this build; choose one of: %s",
                          forced, names);
    return braid__err(BRAID_ERR_NOT_SUPPORTED,
                      "no transport can reach rank %d on host %s from host %s (this build has: "
                      "%s; shm needs both ranks on one host)",
                      peer->rank, peer->hostname, self->hostname, names);
}

braid_result_t braid__transport_ctx_init(struct braid_transport_ctx *ctx, int nranks)
{
    ctx->nranks = nranks;
    ctx->conns = calloc(braid__conn_slots(ctx), sizeof(*ctx->conns));
    ctx->connect_seq = calloc((size_t)nranks, sizeof(*ctx->connect_seq));
    if (!ctx->conns || !ctx->connect_seq) {
        braid__transport_ctx_fini(ctx);
        return braid__err(BRAID_ERR_NO_MEMORY, "transport: out of memory for %d ranks' connectors",
                          nranks);
    }
    return BRAID_SUCCESS;
}

void braid__conn_drop(struct braid_conn *conn)
{
    if (!conn)
        return;
    if (conn->transport && conn->priv)
        conn->transport->close(conn);
    free(conn);
}

void braid__transport_ctx_fini(struct braid_transport_ctx *ctx)
{
    if (ctx->conns)
        for (size_t i = 0; i < braid__conn_slots(ctx); i++)
            braid__conn_drop(ctx->conns[i]);
    free(ctx->conns);
    free(ctx->connect_seq);
    ctx->conns = NULL;
    ctx->connect_seq = NULL;
}

void braid__transport_ctx_poison(struct braid_transport_ctx *ctx)
{
    if (!ctx->conns)
        return;
    for (size_t i = 0; i < braid__conn_slots(ctx); i++)
        if (ctx->conns[i] && ctx->conns[i]->fifo)
            atomic_store(&ctx->conns[i]->fifo->poisoned, 1);
}

void braid__transport_ctx_quiesce(struct braid_transport_ctx *ctx)
{
    int n;
    const struct braid_transport *const *transports = braid__transports(&n);
    for (int i = 0; i < n; i++)
        transports[i]->quiesce(ctx);
}
