/*
 * The socket transport's data path, run by the proxy thread (socket_io.h has the wire format).
 *
 * Send side: the executor fills slots (or points at its own memory, transport.h) and publishes
 * head; each stream walks the slots
 * [tail, head) in order and sends the frames it carries (socket_stripe.h); once every part of
 * the oldest slot is on the wire the proxy publishes tail. Receive side: each stream reads
 * frame headers and, when the frame's slot lies within head - tail < nslots, its payload
 * straight into the slot; the proxy publishes head for every slot, in order, whose bytes have
 * all arrived.
 *
 * A peer that closes, resets or breaks is not failed at once on the receive side: the slots it
 * completed before are valid data, so the error is published only once the executor consumed
 * them, which is when it would otherwise wait forever.
 */
#include "transport/socket_io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/log.h"
#include "transport/socket_stripe.h"

/* How often a busy sender reads its peer's direction when no socket event said to. */
#define SOCK_CHECK_NS 100000000ull

void braid__sock_fail(struct sock_conn *sc, const char *fmt, ...)
{
    struct braid_conn *conn = sc->conn;
    pthread_mutex_lock(&sc->lock);
    if (!atomic_load_explicit(&conn->failed, memory_order_relaxed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(conn->error, sizeof(conn->error), fmt, ap);
        va_end(ap);
        atomic_store_explicit(&conn->failed, 1, memory_order_release);
        BRAID_WARN(NET, "%s", conn->error);
    }
    pthread_mutex_unlock(&sc->lock);
}

/* Notes that the peer went away. A more telling kind replaces a less telling one seen first on
 * another stream: a POISON report says why, a reset says more than an orderly BYE. */
static void peer_gone(struct sock_conn *sc, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void peer_gone(struct sock_conn *sc, int kind, const char *fmt, ...)
{
    pthread_mutex_lock(&sc->lock);
    int was = atomic_load_explicit(&sc->peer_gone, memory_order_relaxed);
    if (!was || was < kind) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sc->gone_msg, sizeof(sc->gone_msg), fmt, ap);
        va_end(ap);
        atomic_store_explicit(&sc->peer_gone, kind, memory_order_release);
    }
    pthread_mutex_unlock(&sc->lock);
}

/* Publishes the peer's departure as this connector's error. An orderly close is routine at
 * comm destruction (nobody waits on the connector then), so it is logged quietly. */
static void publish_gone(struct sock_conn *sc)
{
    char msg[sizeof(sc->gone_msg)];
    pthread_mutex_lock(&sc->lock);
    int kind = atomic_load_explicit(&sc->peer_gone, memory_order_relaxed);
    memcpy(msg, sc->gone_msg, sizeof(msg));
    if (kind == SOCK_GONE_BYE && !atomic_load_explicit(&sc->conn->failed, memory_order_relaxed)) {
        BRAID_INFO(NET, "%s", msg);
        snprintf(sc->conn->error, sizeof(sc->conn->error), "%s", msg);
        atomic_store_explicit(&sc->conn->failed, 1, memory_order_release);
    }
    pthread_mutex_unlock(&sc->lock);
    if (kind != SOCK_GONE_BYE)
        braid__sock_fail(sc, "%s", msg);
}

static void peer_lost(struct sock_conn *sc, int err)
{
    const char *dir = sc->conn->dir == BRAID_CONN_SEND ? "to" : "from";
    if (err == 0)
        peer_gone(sc, SOCK_GONE_LOST,
                  "socket: %s closed the connection %s this rank (channel %d) without an "
                  "orderly goodbye: that rank exited or was killed; see its log",
                  sc->peer_desc, dir, sc->conn->channel);
    else
        peer_gone(sc, SOCK_GONE_LOST,
                  "socket: the connection %s %s (channel %d) failed: %s; that rank exited, "
                  "was killed or its host is unreachable",
                  dir, sc->peer_desc, sc->conn->channel, strerror(err));
}

void braid__sock_send_control(struct sock_conn *sc, uint32_t type)
{
    struct sock_frame f = {.magic = SOCK_FRAME_MAGIC, .type = type};
    for (int i = 0; i < sc->nstreams; i++) {
        struct sock_stream *s = &sc->streams[i];
        if (s->fd < 0 || (s->in_frame && s->hdr_done > 0))
            continue; /* mid-frame: closing the stream will tell the peer instead */
        ssize_t n;
        do {
            n = send(s->fd, &f, sizeof(f), MSG_DONTWAIT | MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
    }
}

/* Sends POISON on stream i if it sits between frames, then shuts it so the peer sees the break
 * at once (mid-frame, the shutdown alone tells it). Once per stream, by its owner. */
static void poison_stream(struct sock_conn *sc, int i)
{
    struct sock_stream *s = &sc->streams[i];
    if (s->poisoned || s->fd < 0)
        return;
    s->poisoned = 1;
    if (!(s->in_frame && s->hdr_done > 0)) {
        struct sock_frame f = {.magic = SOCK_FRAME_MAGIC, .type = SOCK_FRAME_POISON};
        ssize_t n;
        do {
            n = send(s->fd, &f, sizeof(f), MSG_DONTWAIT | MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
    }
    shutdown(s->fd, SHUT_RDWR);
}

/* Tells the peer the comm broke: on every stream here, or (helpers) by each stream's helper. */
static void send_poison(struct sock_conn *sc)
{
    for (int i = 0; i < sc->nstreams && !sc->nhelpers; i++)
        poison_stream(sc, i);
    sc->poison_sent = 1;
    BRAID_INFO(NET, "socket: comm broken, telling %s (channel %d)", sc->peer_desc,
               sc->conn->channel);
}

/* Reads the control frames a receiver sends back to its sender (BYE, POISON) or its close. */
static void check_peer(struct sock_conn *sc)
{
    /* Until the most telling report is in: a helper may have seen the loss first. */
    for (int i = 0; i < sc->nstreams && atomic_load(&sc->peer_gone) < SOCK_GONE_POISON; i++) {
        struct sock_frame f;
        ssize_t n = recv(sc->streams[i].fd, &f, sizeof(f), MSG_DONTWAIT | MSG_PEEK);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n <= 0) {
            peer_lost(sc, n < 0 ? errno : 0);
        } else if ((size_t)n == sizeof(f)) {
            recv(sc->streams[i].fd, &f, sizeof(f), MSG_DONTWAIT);
            if (f.magic == SOCK_FRAME_MAGIC && f.type == SOCK_FRAME_POISON)
                peer_gone(sc, SOCK_GONE_POISON,
                          "socket: %s failed and broke the comm (channel %d); see its error",
                          sc->peer_desc, sc->conn->channel);
            else
                peer_gone(
                    sc, 0,
                    "socket: %s closed its end of the connection (channel %d) while "
                    "this rank still sends: the ranks called different collectives or that rank "
                    "destroyed its comm early",
                    sc->peer_desc, sc->conn->channel);
        }
    }
}

/* Starts stream i's next frame among slots [s->seq, head); 0 when it carries none yet. */
static int next_frame(struct sock_conn *sc, int i, uint64_t head)
{
    struct sock_stream *s = &sc->streams[i];
    struct braid_conn *conn = sc->conn;
    while (s->seq < head) {
        /* Slots below tail are all sent: nothing of them is this stream's. With helpers a
         * stream that carries nothing of a slot may lag while the others finish it and the
         * executor refills it, so a size read must be checked against tail afterwards: the
         * executor writes a slot's size (release) only after it saw tail pass the slot's
         * previous use. */
        uint64_t tail = atomic_load_explicit(&conn->fifo->tail, memory_order_acquire);
        if (s->seq < tail) {
            s->seq = tail;
            continue;
        }
        uint32_t size = (uint32_t)__atomic_load_n(&conn->fifo->sizes[s->seq % conn->nslots],
                                                  __ATOMIC_ACQUIRE),
                 off, len;
        if (atomic_load_explicit(&conn->fifo->tail, memory_order_acquire) > s->seq)
            continue; /* sent meanwhile, maybe refilled: look again from the new tail */
        if (!braid__stripe_part(s->seq, size, sc->nstreams, i, &off, &len)) {
            s->seq++;
            continue;
        }
        s->hdr = (struct sock_frame){.magic = SOCK_FRAME_MAGIC,
                                     .type = SOCK_FRAME_DATA,
                                     .seq = s->seq,
                                     .total = size,
                                     .offset = off,
                                     .len = len};
        s->hdr_done = s->body_done = 0;
        s->in_frame = 1;
        return 1;
    }
    return 0;
}

/* Moves the part of a send that n bytes completed; returns whether the frame is done. */
static int sent_bytes(struct sock_stream *s, size_t n)
{
    size_t h = sizeof(s->hdr) - s->hdr_done;
    if (n < h) {
        s->hdr_done += n;
        return 0;
    }
    s->hdr_done = sizeof(s->hdr);
    s->body_done += n - h;
    return s->body_done == s->hdr.len;
}

int braid__sock_stream_send(struct sock_conn *sc, int i, uint64_t head)
{
    struct sock_stream *s = &sc->streams[i];
    struct braid_conn *conn = sc->conn;
    int moved = 0;
    if (atomic_load_explicit(&conn->fifo->poisoned, memory_order_relaxed)) {
        poison_stream(sc, i);
        return 0;
    }
    if (s->bye)
        return 0; /* broke before: reported then */
    for (;;) {
        if (!s->in_frame && !next_frame(sc, i, head))
            return moved;
        struct iovec iov[2];
        int niov = 0;
        if (s->hdr_done < sizeof(s->hdr))
            iov[niov++] =
                (struct iovec){(char *)&s->hdr + s->hdr_done, sizeof(s->hdr) - s->hdr_done};
        uint32_t idx = (uint32_t)(s->seq % conn->nslots);
        /* The payload is in the slot, or where the executor posted it (transport.h). */
        char *payload =
            conn->direct[idx] ? (char *)conn->direct[idx] : conn->slots + idx * conn->slot_bytes;
        if (s->body_done < s->hdr.len)
            iov[niov++] =
                (struct iovec){payload + s->hdr.offset + s->body_done, s->hdr.len - s->body_done};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
        ssize_t n = sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return moved;
        if (n < 0) {
            int err = errno;
            s->bye = 1;
            if (!sc->nhelpers)  /* helpers leave the peer's direction to the proxy */
                check_peer(sc); /* a POISON frame from the peer explains the error better */
            peer_lost(sc, err);
            return -1;
        }
        moved = 1;
        if (sent_bytes(s, (size_t)n)) {
            s->in_frame = 0;
            atomic_fetch_add_explicit(&sc->slot_done[s->seq % conn->nslots], 1,
                                      memory_order_release);
            s->seq++;
        }
    }
}

/* Ends advance_head/advance_tail: publishes the count in *counter if it moved from start, and
 * lets go of the lock the advance took with helpers; returns whether it moved. */
static int end_publish(struct sock_conn *sc, uint64_t start, _Atomic uint64_t *counter)
{
    int moved = sc->count != start;
    if (moved)
        atomic_store_explicit(counter, sc->count, memory_order_release);
    if (sc->nhelpers)
        pthread_mutex_unlock(&sc->lock);
    return moved;
}

/* Publishes tail past every slot whose parts are all on the wire. */
static int advance_tail(struct sock_conn *sc, uint64_t head)
{
    struct braid_conn *conn = sc->conn;
    if (sc->nhelpers)
        pthread_mutex_lock(&sc->lock);
    uint64_t start = sc->count;
    while (sc->count < head) {
        uint32_t idx = (uint32_t)(sc->count % conn->nslots);
        int parts = braid__stripe_parts((uint32_t)conn->fifo->sizes[idx], sc->nstreams);
        if ((int)atomic_load_explicit(&sc->slot_done[idx], memory_order_acquire) < parts)
            break;
        atomic_store_explicit(&sc->slot_done[idx], 0, memory_order_relaxed);
        sc->count++;
    }
    return end_publish(sc, start, &conn->fifo->tail);
}

/* A progress result for a pass that published a counter or an error (proxy.h). */
#define PUBLISHED (BRAID_PROXY_MOVED | BRAID_PROXY_PUBLISHED)

/* The part of a progress pass both directions share: a connector that failed or already told
 * its peer does nothing (0); one whose comm broke tells the peer (MOVED). -1: carry on. */
static int settle_broken(struct sock_conn *sc)
{
    struct braid_conn *conn = sc->conn;
    if (sc->poison_sent || atomic_load_explicit(&conn->failed, memory_order_relaxed))
        return 0;
    if (atomic_load_explicit(&conn->fifo->poisoned, memory_order_relaxed)) {
        send_poison(sc);
        return BRAID_PROXY_MOVED;
    }
    return -1;
}

int braid__sock_send_progress(struct braid_proxy_item *item)
{
    struct sock_conn *sc = (struct sock_conn *)item;
    struct braid_conn *conn = sc->conn;
    int settled = settle_broken(sc);
    if (settled >= 0)
        return settled;
    uint64_t now = braid__now_ns();
    if (atomic_exchange_explicit(&item->events, 0, memory_order_relaxed) ||
        now - sc->last_check_ns > SOCK_CHECK_NS) {
        sc->last_check_ns = now;
        check_peer(sc);
    }
    uint64_t head = atomic_load_explicit(&conn->fifo->head, memory_order_acquire);
    int gone = atomic_load_explicit(&sc->peer_gone, memory_order_acquire);
    if (gone) {
        if (head > atomic_load_explicit(&conn->fifo->tail, memory_order_relaxed) ||
            gone == SOCK_GONE_POISON) {
            publish_gone(sc);
            return PUBLISHED;
        }
        return 0;
    }
    int work = 0;
    for (int i = 0; i < sc->nstreams && !sc->nhelpers; i++) {
        int r = braid__sock_stream_send(sc, i, head);
        if (r < 0) {
            publish_gone(sc);
            return PUBLISHED;
        }
        work |= r ? BRAID_PROXY_MOVED : 0;
    }
    work |= advance_tail(sc, head) ? PUBLISHED : 0;
    uint64_t sent = atomic_load_explicit(&conn->fifo->tail, memory_order_relaxed);
    return work | (sent < head ? BRAID_PROXY_PENDING : 0);
}

/* Checks a complete header; returns 1 for a data frame to read, 0 otherwise. */
static int accept_header(struct sock_conn *sc, struct sock_stream *s)
{
    struct braid_conn *conn = sc->conn;
    const struct sock_frame *h = &s->hdr;
    s->hdr_done = 0;
    if (h->magic == SOCK_FRAME_MAGIC && h->type == SOCK_FRAME_BYE) {
        s->bye = 1;
        if (atomic_fetch_add(&sc->byes, 1) + 1 == sc->nstreams)
            peer_gone(sc, SOCK_GONE_BYE,
                      "socket: %s closed its connector (channel %d) while this rank "
                      "waits for its data: the ranks called different collectives or that rank "
                      "destroyed its comm early",
                      sc->peer_desc, conn->channel);
        return 0;
    }
    if (h->magic == SOCK_FRAME_MAGIC && h->type == SOCK_FRAME_POISON) {
        s->bye = 1;
        peer_gone(sc, SOCK_GONE_POISON,
                  "socket: %s failed and broke the comm (channel %d); see its error", sc->peer_desc,
                  conn->channel);
        return 0;
    }
    uint64_t published = atomic_load_explicit(&conn->fifo->head, memory_order_relaxed);
    if (h->magic != SOCK_FRAME_MAGIC || h->type != SOCK_FRAME_DATA || h->seq < published ||
        h->total > conn->slot_bytes || h->len > h->total || h->offset > h->total - h->len) {
        s->bye = 1;
        braid__sock_fail(sc,
                         "socket: %s sent a malformed frame (type %u, slot %llu, %u bytes "
                         "at %u of %u) on channel %d: a different braid version or not a braid "
                         "peer",
                         sc->peer_desc, h->type, (unsigned long long)h->seq, h->len, h->offset,
                         h->total, conn->channel);
        return 0;
    }
    s->hdr_done = sizeof(s->hdr);
    return 1;
}

/* Claims the frame's slot (first part to arrive) and checks the parts agree on its size. */
static int claim_slot(struct sock_conn *sc, struct sock_stream *s)
{
    uint32_t idx = (uint32_t)(s->hdr.seq % sc->conn->nslots);
    if (sc->nhelpers)
        pthread_mutex_lock(&sc->lock);
    if (sc->slot_seq[idx] != s->hdr.seq) {
        sc->slot_seq[idx] = s->hdr.seq;
        atomic_store_explicit(&sc->slot_done[idx], 0, memory_order_relaxed);
        sc->slot_total[idx] = s->hdr.total;
    }
    int ok = sc->slot_total[idx] == s->hdr.total &&
             atomic_load_explicit(&sc->slot_done[idx], memory_order_relaxed) + s->hdr.len -
                     s->body_done <=
                 s->hdr.total;
    if (sc->nhelpers)
        pthread_mutex_unlock(&sc->lock);
    if (ok)
        return 1;
    s->bye = 1;
    braid__sock_fail(sc, "socket: %s sent inconsistent parts for slot %llu on channel %d",
                     sc->peer_desc, (unsigned long long)s->hdr.seq, sc->conn->channel);
    return 0;
}

/* recv() with the transport's handling of EOF and errors; > 0 bytes, 0 would block, < 0 lost. */
static ssize_t recv_some(struct sock_conn *sc, struct sock_stream *s, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, MSG_DONTWAIT);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        s->bye = 1;
        peer_lost(sc, n < 0 ? errno : 0);
        return -1;
    }
}

/* Reads up to want bytes of the stream into dst: read-ahead bytes first; then a small read
 * refills the read-ahead buffer (one recv() for a header and what follows it), a large one
 * goes straight to dst. Same results as recv_some(). */
static ssize_t stream_read(struct sock_conn *sc, struct sock_stream *s, void *dst, size_t want)
{
    if (s->rpos == s->rlen) {
        s->rpos = s->rlen = 0;
        if (want >= sizeof(s->rbuf))
            return recv_some(sc, s, dst, want);
        ssize_t n = recv_some(sc, s, s->rbuf, sizeof(s->rbuf));
        if (n <= 0)
            return n;
        s->rlen = (uint32_t)n;
    }
    size_t n = s->rlen - s->rpos < want ? s->rlen - s->rpos : want;
    memcpy(dst, s->rbuf + s->rpos, n);
    s->rpos += (uint32_t)n;
    return (ssize_t)n;
}

int braid__sock_stream_recv(struct sock_conn *sc, int i, uint64_t tail)
{
    struct braid_conn *conn = sc->conn;
    struct sock_stream *s = &sc->streams[i];
    int moved = 0;
    if (atomic_load_explicit(&conn->fifo->poisoned, memory_order_relaxed)) {
        poison_stream(sc, i); /* the receiver tells its sender back */
        return 0;
    }
    while (!s->bye) {
        if (s->hdr_done < sizeof(s->hdr)) {
            ssize_t n =
                stream_read(sc, s, (char *)&s->hdr + s->hdr_done, sizeof(s->hdr) - s->hdr_done);
            if (n <= 0)
                return moved;
            moved = 1;
            s->hdr_done += (size_t)n;
            if (s->hdr_done < sizeof(s->hdr) || !accept_header(sc, s))
                continue;
        }
        if (s->hdr.seq - tail >= conn->nslots)
            return moved; /* no free slot yet: the executor's notify wakes the proxy */
        if (s->body_done == 0 && !claim_slot(sc, s))
            return moved;
        uint32_t idx = (uint32_t)(s->hdr.seq % conn->nslots);
        if (s->body_done < s->hdr.len) {
            char *dst = conn->slots + idx * conn->slot_bytes + s->hdr.offset + s->body_done;
            ssize_t n = stream_read(sc, s, dst, s->hdr.len - s->body_done);
            if (n <= 0)
                return moved;
            moved = 1;
            s->body_done += (size_t)n;
            if (s->body_done < s->hdr.len)
                continue;
        }
        atomic_fetch_add_explicit(&sc->slot_done[idx], s->hdr.len, memory_order_release);
        s->hdr_done = s->body_done = 0;
        moved = 1;
    }
    return moved;
}

/* Publishes head past every complete slot, in order. */
static int advance_head(struct sock_conn *sc)
{
    struct braid_conn *conn = sc->conn;
    if (sc->nhelpers)
        pthread_mutex_lock(&sc->lock);
    uint64_t start = sc->count;
    for (;;) {
        uint32_t idx = (uint32_t)(sc->count % conn->nslots);
        if (sc->slot_seq[idx] != sc->count ||
            atomic_load_explicit(&sc->slot_done[idx], memory_order_acquire) != sc->slot_total[idx])
            break;
        conn->fifo->sizes[idx] = sc->slot_total[idx];
        sc->count++;
    }
    return end_publish(sc, start, &conn->fifo->head);
}

int braid__sock_publish(struct sock_conn *sc)
{
    struct braid_conn *conn = sc->conn;
    if (conn->dir == BRAID_CONN_RECV)
        return advance_head(sc);
    return advance_tail(sc, atomic_load_explicit(&conn->fifo->head, memory_order_acquire));
}

int braid__sock_recv_progress(struct braid_proxy_item *item)
{
    struct sock_conn *sc = (struct sock_conn *)item;
    struct braid_conn *conn = sc->conn;
    int settled = settle_broken(sc);
    if (settled >= 0)
        return settled;
    atomic_store_explicit(&item->events, 0, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&conn->fifo->tail, memory_order_acquire);
    int work = 0;
    for (int i = 0; i < sc->nstreams && !sc->nhelpers; i++)
        work |= braid__sock_stream_recv(sc, i, tail) ? BRAID_PROXY_MOVED : 0;
    work |= advance_head(sc) ? PUBLISHED : 0;
    /* The executor has consumed every slot that arrived: now the loss matters. */
    if (atomic_load_explicit(&sc->peer_gone, memory_order_acquire) &&
        atomic_load_explicit(&conn->fifo->tail, memory_order_acquire) ==
            atomic_load_explicit(&conn->fifo->head, memory_order_relaxed)) {
        publish_gone(sc);
        work |= PUBLISHED;
    }
    return work;
}
