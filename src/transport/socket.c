/*
 * Socket transport: ranks on any hosts, over TCP. Each connector is BRAID_SOCKET_NTHREADS x
 * BRAID_NSOCKS_PERTHREAD non-blocking TCP streams; the FIFO lives in this process's own
 * page-aligned memory on both sides and the proxy thread (proxy.h) moves slots between it and
 * the streams (socket_io.c). With BRAID_SOCKET_NTHREADS > 1, that many I/O helper threads move
 * the streams' bytes instead (socket_helpers.h) and the proxy only publishes; with 1 (the
 * default) the proxy, or the caller driving it, moves them itself, which fills a 10-25 Gb/s
 * link and costs no hand-off between threads.
 *
 * Setup: the receiver listens on its bootstrap interface (BRAID_SOCKET_IFNAME) in setup() and
 * sends host:port, a random per-connector token and the stream count in its blob; the sender
 * connects every stream in connect() and presents the token; the receiver accepts in ready(),
 * when the handshake exchange guarantees the sender has connected, so no rank waits on a peer
 * that is itself waiting. Every wait is bounded by the comm's connect timeout and abort flag.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"
#include "base/random.h"
#include "transport/socket_helpers.h"
#include "transport/socket_io.h"

struct sock_blob {
    uint32_t magic;
    uint32_t nstreams;
    uint32_t nslots;
    uint32_t slot_bytes;
    union braid_sockaddr addr;
    uint8_t token[SOCK_TOKEN_BYTES];
};

struct sock_hello {
    uint32_t magic;
    int32_t stream;
    int32_t rank;
    int32_t channel;
    uint8_t token[SOCK_TOKEN_BYTES];
};

_Static_assert(sizeof(struct sock_blob) <= BRAID_CONN_BLOB_MAX, "socket blob too large");

static int sock_can_connect(const struct braid_peer_info *self, const struct braid_peer_info *peer)
{
    (void)self;
    (void)peer;
    return 1; /* TCP reaches any host; shm comes first in the table within a host */
}

/* Streams per connector, and I/O threads (1: the proxy moves the streams itself). */
static braid_result_t stream_count(int *out, int *threads_out)
{
    long threads, socks;
    BRAID_CHECK(braid__param_int("BRAID_SOCKET_NTHREADS", 1, SOCK_MAX_HELPERS, &threads));
    BRAID_CHECK(braid__param_int("BRAID_NSOCKS_PERTHREAD", 1, 16, &socks));
    *out = (int)(threads * socks);
    *threads_out = (int)threads;
    return BRAID_SUCCESS;
}

static braid_result_t alloc_streams(struct sock_conn *sc, int n)
{
    sc->streams = calloc((size_t)n, sizeof(*sc->streams));
    sc->fds = calloc((size_t)n, sizeof(*sc->fds));
    if (!sc->streams || !sc->fds)
        return braid__err(BRAID_ERR_NO_MEMORY, "socket: out of memory for %d streams", n);
    for (int i = 0; i < n; i++)
        sc->streams[i].fd = sc->fds[i] = -1;
    sc->nstreams = n;
    return BRAID_SUCCESS;
}

static void describe_peer(struct sock_conn *sc, const union braid_sockaddr *addr)
{
    char name[BRAID_ADDR_STRLEN];
    const struct braid_peer_info *p = sc->conn->peer_info;
    snprintf(sc->peer_desc, sizeof(sc->peer_desc), "rank %d (host %s, %s)", sc->conn->peer,
             p->hostname, braid__addr_str(addr, name, sizeof(name)));
}

/* Listens on this rank's bootstrap interface and fills the blob the sender needs. */
static braid_result_t listen_for_peer(struct braid_transport_ctx *ctx, struct sock_conn *sc,
                                      struct sock_blob *b)
{
    int n, threads;
    BRAID_CHECK(stream_count(&n, &threads));
    BRAID_CHECK(alloc_streams(sc, n));
    union braid_sockaddr addr = ctx->peers[ctx->rank].addr, bound;
    if (addr.sa.sa_family == AF_INET6)
        addr.sin6.sin6_port = 0;
    else
        addr.sin.sin_port = 0;
    BRAID_CHECK(braid__sock_listen(&addr, &sc->listen_fd, &bound));
    BRAID_CHECK(braid__random_bytes(sc->token, sizeof(sc->token)));
    *b = (struct sock_blob){.magic = SOCK_HELLO_MAGIC,
                            .nstreams = (uint32_t)n,
                            .nslots = sc->conn->nslots,
                            .slot_bytes = (uint32_t)sc->conn->slot_bytes,
                            .addr = bound};
    memcpy(b->token, sc->token, sizeof(sc->token));
    return BRAID_SUCCESS;
}

static braid_result_t sock_setup(struct braid_transport_ctx *ctx, struct braid_conn *conn,
                                 void *blob, size_t *bloblen)
{
    struct sock_conn *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return braid__err(BRAID_ERR_NO_MEMORY, "socket: out of memory");
    sc->conn = conn;
    sc->listen_fd = -1;
    pthread_mutex_init(&sc->lock, NULL);
    sc->timeout_ms = ctx->timeout_ms;
    conn->priv = sc;
    *bloblen = 0;
    for (int i = 0; i < BRAID_FIFO_MAX_SLOTS; i++)
        sc->slot_seq[i] = UINT64_MAX;
    /* Anonymous memory is page aligned and zeroed: head, tail and poisoned start at 0. */
    sc->mem_bytes = braid__fifo_bytes(conn->nslots, conn->slot_bytes);
    sc->mem = mmap(NULL, sc->mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sc->mem == MAP_FAILED) {
        sc->mem = NULL;
        return braid__err(BRAID_ERR_NO_MEMORY, "socket: cannot map a %zu-byte FIFO for rank %d: %s",
                          sc->mem_bytes, conn->peer, strerror(errno));
    }
    if (conn->dir == BRAID_CONN_SEND) {
        long direct;
        BRAID_CHECK(braid__param_int("BRAID_NET_DIRECT", 0, 1, &direct));
        conn->can_direct = (int)direct;
        return BRAID_SUCCESS;
    }
    struct sock_blob b;
    BRAID_CHECK(listen_for_peer(ctx, sc, &b));
    memcpy(blob, &b, sizeof(b));
    *bloblen = sizeof(b);
    return BRAID_SUCCESS;
}

static braid_result_t check_blob(const struct braid_conn *conn, const void *blob, size_t bloblen,
                                 struct sock_blob *b)
{
    if (bloblen != sizeof(*b))
        return braid__err(BRAID_ERR_REMOTE,
                          "socket: rank %d sent a %zu-byte connect blob, expected %zu (a "
                          "different braid version?)",
                          conn->peer, bloblen, sizeof(*b));
    memcpy(b, blob, sizeof(*b));
    if (b->magic != SOCK_HELLO_MAGIC || b->nstreams < 1 || b->nstreams > SOCK_MAX_STREAMS)
        return braid__err(BRAID_ERR_REMOTE, "socket: rank %d sent a malformed connect blob",
                          conn->peer);
    if (b->nslots != conn->nslots || b->slot_bytes != conn->slot_bytes)
        return braid__err(BRAID_ERR_REMOTE,
                          "socket: rank %d uses %u slots of %u bytes, this rank %u of %zu: "
                          "BRAID_NSLOTS/BRAID_SLOT_SIZE differ between ranks",
                          conn->peer, b->nslots, b->slot_bytes, conn->nslots, conn->slot_bytes);
    return BRAID_SUCCESS;
}

/* Connects stream i to the receiver and presents the token. */
static braid_result_t connect_stream(struct braid_transport_ctx *ctx, struct sock_conn *sc,
                                     const struct sock_blob *b, int i)
{
    struct sock_stream *s = &sc->streams[i];
    int timeout = ctx->connect_timeout_ms;
    BRAID_CHECK(braid__sock_connect(&b->addr, timeout, ctx->abort_flag, &s->fd));
    sc->fds[i] = s->fd;
    struct sock_hello h = {
        .magic = SOCK_HELLO_MAGIC, .stream = i, .rank = ctx->rank, .channel = sc->conn->channel};
    memcpy(h.token, b->token, sizeof(h.token));
    BRAID_CHECK(braid__sock_send(s->fd, &h, sizeof(h), timeout, ctx->abort_flag, sc->peer_desc));
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    return BRAID_SUCCESS;
}

static braid_result_t sock_connect(struct braid_transport_ctx *ctx, struct braid_conn *conn,
                                   const void *blob, size_t bloblen)
{
    struct sock_conn *sc = conn->priv;
    if (conn->dir == BRAID_CONN_SEND) {
        struct sock_blob b;
        BRAID_CHECK(check_blob(conn, blob, bloblen, &b));
        BRAID_CHECK(alloc_streams(sc, (int)b.nstreams));
        describe_peer(sc, &b.addr);
        for (int i = 0; i < sc->nstreams; i++)
            BRAID_CHECK(connect_stream(ctx, sc, &b, i));
    }
    conn->fifo = sc->mem;
    conn->slots = braid__fifo_slots(conn->fifo);
    return BRAID_SUCCESS;
}

/* Reads one connection's hello and files it as its stream; a stranger is turned away. */
static braid_result_t admit_stream(struct braid_transport_ctx *ctx, struct sock_conn *sc, int fd,
                                   int timeout_ms, int *admitted)
{
    struct sock_hello h;
    char what[BRAID_ADDR_STRLEN + 64];
    snprintf(what, sizeof(what), "rank %d's data connection", sc->conn->peer);
    *admitted = 0;
    braid_result_t res = braid__sock_recv(fd, &h, sizeof(h), timeout_ms, ctx->abort_flag, what);
    if (res == BRAID_ERR_ABORTED)
        return res;
    if (res != BRAID_SUCCESS || h.magic != SOCK_HELLO_MAGIC || h.rank != sc->conn->peer ||
        h.channel != sc->conn->channel || h.stream < 0 || h.stream >= sc->nstreams ||
        sc->streams[h.stream].fd >= 0 || memcmp(h.token, sc->token, sizeof(h.token)) != 0) {
        BRAID_WARN(NET,
                   "socket: turned away a connection that did not present rank %d's token "
                   "for channel %d",
                   sc->conn->peer, sc->conn->channel);
        return BRAID_SUCCESS;
    }
    sc->streams[h.stream].fd = sc->fds[h.stream] = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    *admitted = 1;
    return BRAID_SUCCESS;
}

static braid_result_t accept_streams(struct braid_transport_ctx *ctx, struct sock_conn *sc)
{
    uint64_t deadline = braid__now_ms() + (uint64_t)ctx->connect_timeout_ms;
    for (int got = 0; got < sc->nstreams;) {
        uint64_t now = braid__now_ms();
        int left = now < deadline ? (int)(deadline - now) : 0;
        int fd = -1, admitted = 0;
        braid_result_t res = braid__sock_accept(sc->listen_fd, left, ctx->abort_flag, &fd);
        if (res == BRAID_ERR_TIMEOUT)
            return braid__err(BRAID_ERR_TIMEOUT,
                              "socket: rank %d (host %s) connected %d of %d streams for channel "
                              "%d within %d ms; is a firewall in the way?",
                              sc->conn->peer, sc->conn->peer_info->hostname, got, sc->nstreams,
                              sc->conn->channel, ctx->connect_timeout_ms);
        BRAID_CHECK(res);
        res = admit_stream(ctx, sc, fd, left, &admitted);
        if (!admitted)
            close(fd);
        BRAID_CHECK(res);
        got += admitted;
    }
    union braid_sockaddr peer;
    socklen_t len = sizeof(peer);
    getpeername(sc->streams[0].fd, &peer.sa, &len);
    describe_peer(sc, &peer);
    close(sc->listen_fd);
    sc->listen_fd = -1;
    return BRAID_SUCCESS;
}

static braid_result_t sock_ready(struct braid_transport_ctx *ctx, struct braid_conn *conn)
{
    struct sock_conn *sc = conn->priv;
    if (conn->dir == BRAID_CONN_RECV)
        BRAID_CHECK(accept_streams(ctx, sc));
    int n, threads;
    BRAID_CHECK(stream_count(&n, &threads));
    sc->nhelpers = threads > 1 ? (threads < sc->nstreams ? threads : sc->nstreams) : 0;
    sc->item.progress =
        conn->dir == BRAID_CONN_SEND ? braid__sock_send_progress : braid__sock_recv_progress;
    /* With helpers, they watch the streams and wake the proxy when they moved bytes. */
    sc->item.fds = sc->fds;
    sc->item.nfds = sc->nhelpers ? 0 : sc->nstreams;
    if (sc->nhelpers) {
        BRAID_CHECK(braid__sock_helpers_add(sc));
        sc->helped = 1;
        conn->own_threads = 1;
    }
    BRAID_CHECK(braid__proxy_add(&sc->item));
    sc->registered = 1;
    BRAID_INFO(NET, "socket: channel %d %s %s over %d stream(s)%s", conn->channel,
               conn->dir == BRAID_CONN_SEND ? "sends to" : "receives from", sc->peer_desc,
               sc->nstreams, sc->nhelpers ? " moved by I/O helper threads" : "");
    return BRAID_SUCCESS;
}

static void sock_close(struct braid_conn *conn);

/* Waits for the passes over this comm's socket connectors only. */
static void sock_quiesce(struct braid_transport_ctx *ctx)
{
    braid__proxy_wake(); /* it tells the peers */
    for (size_t i = 0; i < braid__conn_slots(ctx); i++) {
        struct braid_conn *conn = ctx->conns[i];
        struct sock_conn *sc = conn && conn->transport->close == sock_close ? conn->priv : NULL;
        if (!sc)
            continue;
        if (sc->registered)
            braid__proxy_item_quiesce(&sc->item);
        if (sc->helped)
            braid__sock_helpers_quiesce(sc);
    }
}

static void sock_notify(struct braid_conn *conn)
{
    struct sock_conn *sc = conn->priv;
    if (sc->nhelpers)
        braid__sock_helpers_wake(sc); /* they move the bytes and publish; the proxy need not */
    else
        braid__proxy_notify(conn->dir == BRAID_CONN_SEND);
}

/* Waits until the proxy has put every posted slot on the wire, bounded by the comm timeout. */
static void drain_sends(struct sock_conn *sc)
{
    struct braid_fifo_ctrl *f = sc->conn->fifo;
    uint64_t deadline = braid__now_ms() + (uint64_t)sc->timeout_ms;
    while (atomic_load(&f->tail) < atomic_load(&f->head)) {
        if (atomic_load(&sc->conn->failed) || atomic_load(&f->poisoned))
            return;
        if (braid__now_ms() >= deadline) {
            BRAID_WARN(NET,
                       "socket: closing the connector to %s with %llu slot(s) unsent "
                       "after %d ms (BRAID_TIMEOUT_MS)",
                       sc->peer_desc,
                       (unsigned long long)(atomic_load(&f->head) - atomic_load(&f->tail)),
                       sc->timeout_ms);
            return;
        }
        braid__proxy_wake();
        if (sc->nhelpers)
            braid__sock_helpers_wake(sc);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

/* Tells the peer how this end goes away: POISON when the comm broke, BYE otherwise. */
static void say_goodbye(struct sock_conn *sc)
{
    struct braid_fifo_ctrl *f = sc->conn->fifo;
    if (!f || sc->poison_sent || atomic_load(&sc->conn->failed))
        return;
    braid__sock_send_control(sc, atomic_load(&f->poisoned) ? SOCK_FRAME_POISON : SOCK_FRAME_BYE);
}

static void sock_close(struct braid_conn *conn)
{
    struct sock_conn *sc = conn->priv;
    if (!sc)
        return;
    if (sc->registered && conn->dir == BRAID_CONN_SEND)
        drain_sends(sc);
    /* Helpers first: they wake the proxy about this connector until they let go of it. */
    if (sc->helped)
        braid__sock_helpers_remove(sc);
    if (sc->registered)
        braid__proxy_remove(&sc->item);
    say_goodbye(sc);
    for (int i = 0; i < sc->nstreams; i++)
        if (sc->streams[i].fd >= 0) {
            /* FIN after the data still queued in the kernel: the peer reads it all first. */
            shutdown(sc->streams[i].fd, SHUT_WR);
            close(sc->streams[i].fd);
        }
    if (sc->listen_fd >= 0)
        close(sc->listen_fd);
    if (sc->mem)
        munmap(sc->mem, sc->mem_bytes);
    free(sc->streams);
    free(sc->fds);
    pthread_mutex_destroy(&sc->lock);
    free(sc);
    conn->priv = NULL;
    conn->fifo = NULL;
}

const struct braid_transport braid__socket_transport = {
    .version = BRAID_TRANSPORT_VERSION,
    .name = "socket",
    .mem_kinds = BRAID_MEM_HOST_ACCESSIBLE, /* direct sends read the caller's memory */
    .proxied = 1,
    .can_connect = sock_can_connect,
    .setup = sock_setup,
    .connect = sock_connect,
    .ready = sock_ready,
    .notify = sock_notify,
    .close = sock_close,
    .quiesce = sock_quiesce,
};
