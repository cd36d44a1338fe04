/*
 * Connector setup, run when a call needs connectors that do not exist yet. For each peer,
 * both sides exchange one message of transport blobs (one entry per connector between them),
 * connect, then exchange an acknowledgement before ready(), so that e.g. shm names are only
 * unlinked once both sides have mapped them.
 */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "transport/transport.h"

struct conn_entry {
    int32_t channel;
    int32_t dir; /* the sender's direction */
    uint32_t bloblen;
    char blob[BRAID_CONN_BLOB_MAX];
};

struct peer_work {
    int peer;
    int count;
    struct braid_conn *conns[2 * BRAID_MAX_CHANNELS];
    struct conn_entry *entries; /* [count] */
};

static braid_result_t new_conn(struct braid_transport_ctx *ctx, int peer, int channel, int dir,
                               struct braid_conn **out)
{
    struct braid_conn *conn = calloc(1, sizeof(*conn));
    if (!conn)
        return braid__err(BRAID_ERR_NO_MEMORY, "connect: out of memory");
    conn->peer = peer;
    conn->channel = channel;
    conn->dir = (enum braid_conn_dir)dir;
    conn->nslots = ctx->nslots;
    conn->slot_bytes = ctx->slot_bytes;
    conn->peer_info = &ctx->peers[peer];
    braid_result_t res =
        braid__transport_select(&ctx->peers[ctx->rank], &ctx->peers[peer], &conn->transport);
    if (res != BRAID_SUCCESS) {
        free(conn);
        BRAID_CHECK(res);
    }
    *out = conn;
    return BRAID_SUCCESS;
}

/* Creates and sets up the missing connectors to one peer; fills w. */
static braid_result_t prepare_peer(struct braid_transport_ctx *ctx, const uint8_t *flags,
                                   int nchannels, int peer, struct peer_work *w)
{
    w->peer = peer;
    for (int c = 0; c < nchannels; c++)
        for (int dir = 0; dir < 2; dir++) {
            if (!(flags[c * ctx->nranks + peer] & (1 << dir)))
                continue;
            if (*braid__conn_slot(ctx, dir, c, peer))
                continue;
            struct braid_conn *conn = NULL;
            BRAID_CHECK(new_conn(ctx, peer, c, dir, &conn));
            w->conns[w->count++] = conn;
        }
    if (w->count == 0)
        return BRAID_SUCCESS;
    w->entries = calloc((size_t)w->count, sizeof(*w->entries));
    if (!w->entries)
        return braid__err(BRAID_ERR_NO_MEMORY, "connect: out of memory");
    for (int i = 0; i < w->count; i++) {
        struct braid_conn *conn = w->conns[i];
        size_t len = 0;
        BRAID_CHECK(conn->transport->setup(ctx, conn, w->entries[i].blob, &len));
        w->entries[i].channel = conn->channel;
        w->entries[i].dir = conn->dir;
        w->entries[i].bloblen = (uint32_t)len;
    }
    return BRAID_SUCCESS;
}

static struct braid_conn *find_mate(struct peer_work *w, const struct conn_entry *e)
{
    for (int i = 0; i < w->count; i++)
        if (w->conns[i]->channel == e->channel && (int)w->conns[i]->dir == 1 - e->dir)
            return w->conns[i];
    return NULL;
}

static braid_result_t connect_peer(struct braid_transport_ctx *ctx, struct peer_work *w)
{
    size_t bytes = (size_t)w->count * sizeof(struct conn_entry);
    struct conn_entry *theirs = malloc(bytes);
    if (!theirs)
        return braid__err(BRAID_ERR_NO_MEMORY, "connect: out of memory");
    uint64_t tag = ctx->connect_seq[w->peer];
    braid_result_t res;
    BRAID_CHECK_GOTO(ctx->oob_recv(ctx->oob, w->peer, tag, theirs, bytes), res, out);
    for (int i = 0; i < w->count; i++) {
        struct braid_conn *mine = find_mate(w, &theirs[i]);
        if (!mine || theirs[i].bloblen > BRAID_CONN_BLOB_MAX) {
            res = braid__err(BRAID_ERR_REMOTE,
                             "rank %d set up a connector (channel %d) this "
                             "rank's call does not need: the ranks called different "
                             "collectives or the same one with different arguments",
                             w->peer, theirs[i].channel);
            goto out;
        }
        BRAID_CHECK_GOTO(mine->transport->connect(ctx, mine, theirs[i].blob, theirs[i].bloblen),
                         res, out);
    }
out:
    free(theirs);
    return res;
}

static braid_result_t run_exchange(struct braid_transport_ctx *ctx, struct peer_work *work,
                                   int nwork)
{
    /* Sends first, then receives: out-of-band sends never wait for the peer's receive. */
    for (int i = 0; i < nwork; i++)
        BRAID_CHECK(ctx->oob_send(ctx->oob, work[i].peer, ctx->connect_seq[work[i].peer],
                                  work[i].entries,
                                  (size_t)work[i].count * sizeof(struct conn_entry)));
    for (int i = 0; i < nwork; i++)
        BRAID_CHECK(connect_peer(ctx, &work[i]));
    char ack = 1;
    for (int i = 0; i < nwork; i++)
        BRAID_CHECK(
            ctx->oob_send(ctx->oob, work[i].peer, ctx->connect_seq[work[i].peer] + 1, &ack, 1));
    for (int i = 0; i < nwork; i++) {
        BRAID_CHECK(
            ctx->oob_recv(ctx->oob, work[i].peer, ctx->connect_seq[work[i].peer] + 1, &ack, 1));
        for (int j = 0; j < work[i].count; j++)
            BRAID_CHECK(work[i].conns[j]->transport->ready(ctx, work[i].conns[j]));
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__connect(struct braid_transport_ctx *ctx, const uint8_t *flags, int nchannels)
{
    struct peer_work *work = calloc((size_t)ctx->nranks, sizeof(*work));
    if (!work)
        return braid__err(BRAID_ERR_NO_MEMORY, "connect: out of memory");
    int nwork = 0;
    braid_result_t res = BRAID_SUCCESS;
    for (int p = 0; p < ctx->nranks; p++) {
        BRAID_CHECK_GOTO(prepare_peer(ctx, flags, nchannels, p, &work[nwork]), res, fail);
        if (work[nwork].count > 0)
            nwork++;
    }
    if (nwork > 0)
        BRAID_CHECK_GOTO(run_exchange(ctx, work, nwork), res, fail);
    for (int i = 0; i < nwork; i++) {
        ctx->connect_seq[work[i].peer] += 2;
        for (int j = 0; j < work[i].count; j++) {
            struct braid_conn *conn = work[i].conns[j];
            conn->connected = 1;
            *braid__conn_slot(ctx, conn->dir, conn->channel, conn->peer) = conn;
        }
        free(work[i].entries);
    }
    free(work);
    return BRAID_SUCCESS;
fail:
    for (int i = 0; i <= nwork && i < ctx->nranks; i++) {
        for (int j = 0; j < work[i].count; j++)
            braid__conn_drop(work[i].conns[j]);
        free(work[i].entries);
    }
    free(work);
    return res;
}
