#include "core/bootstrap.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/ifaces.h"
#include "base/log.h"

#define BS_MAGIC    0x42425350u /* "BBSP" */
#define BS_WIRE     1
#define BS_SLICE_MS 100

/* First frame on every connection between two ranks. */
struct bs_hello {
    uint32_t magic;
    uint32_t wire;
    uint8_t secret[BRAID_SECRET_BYTES];
    int32_t from;
    int32_t nranks;
};

struct bs_header {
    uint32_t magic;
    uint32_t pad;
    uint64_t tag;
    uint64_t len;
};

struct bs_msg {
    struct bs_msg *next;
    int peer;
    uint64_t tag;
    size_t len;
    char data[];
};

struct bs_in {
    int fd;
    int peer;
};

struct braid_bootstrap {
    int rank;
    int nranks;
    uint8_t secret[BRAID_SECRET_BYTES];
    int timeout_ms;
    const atomic_int *abort_flag;
    int listen_fd;
    union braid_sockaddr addr;
    union braid_sockaddr *peer_addrs; /* [nranks] */
    int *out_fds;                     /* [nranks], -1 until used */
    uint8_t *closed;                  /* [nranks]: its incoming connection ended */
    struct bs_in *in;
    int nin;
    struct bs_msg *queue; /* received, not yet asked for */
    uint64_t seq;         /* collective sequence (all-gather, barrier) */
};

static const char *peer_name(const struct braid_bootstrap *bs, int peer, char *buf, size_t len)
{
    char addr[BRAID_ADDR_STRLEN];
    snprintf(buf, len, "rank %d (%s)", peer,
             braid__addr_str(&bs->peer_addrs[peer], addr, sizeof(addr)));
    return buf;
}

braid_result_t braid__bootstrap_create(int rank, int nranks, const uint8_t *secret,
                                       const union braid_sockaddr *toward, int timeout_ms,
                                       const atomic_int *abort_flag, struct braid_bootstrap **out)
{
    braid_result_t res;
    struct braid_bootstrap *bs = calloc(1, sizeof(*bs));
    if (!bs)
        return braid__err(BRAID_ERR_NO_MEMORY, "bootstrap: out of memory");
    bs->rank = rank;
    bs->nranks = nranks;
    memcpy(bs->secret, secret, BRAID_SECRET_BYTES);
    bs->timeout_ms = timeout_ms;
    bs->abort_flag = abort_flag;
    bs->listen_fd = -1;
    bs->peer_addrs = calloc((size_t)nranks, sizeof(*bs->peer_addrs));
    bs->out_fds = malloc((size_t)nranks * sizeof(int));
    bs->closed = calloc((size_t)nranks, 1);
    bs->in = calloc((size_t)nranks + 1, sizeof(*bs->in));
    if (!bs->peer_addrs || !bs->out_fds || !bs->closed || !bs->in) {
        res = braid__err(BRAID_ERR_NO_MEMORY, "bootstrap: out of memory for %d ranks", nranks);
        goto err;
    }
    for (int i = 0; i < nranks; i++)
        bs->out_fds[i] = -1;
    union braid_sockaddr local;
    char ifname[BRAID_IFNAME_MAX];
    BRAID_CHECK_GOTO(braid__iface_select(toward, &local, ifname), res, err);
    BRAID_CHECK_GOTO(braid__sock_listen(&local, &bs->listen_fd, &bs->addr), res, err);
    *out = bs;
    return BRAID_SUCCESS;
err:
    braid__bootstrap_destroy(bs);
    return res;
}

const union braid_sockaddr *braid__bootstrap_addr(const struct braid_bootstrap *bs)
{
    return &bs->addr;
}

void braid__bootstrap_set_peers(struct braid_bootstrap *bs, const struct braid_peer_info *all)
{
    for (int i = 0; i < bs->nranks; i++)
        bs->peer_addrs[i] = all[i].addr;
}

void braid__bootstrap_destroy(struct braid_bootstrap *bs)
{
    if (!bs)
        return;
    if (bs->listen_fd >= 0)
        close(bs->listen_fd);
    for (int i = 0; bs->out_fds && i < bs->nranks; i++)
        if (bs->out_fds[i] >= 0)
            close(bs->out_fds[i]);
    for (int i = 0; i < bs->nin; i++)
        close(bs->in[i].fd);
    while (bs->queue) {
        struct bs_msg *m = bs->queue;
        bs->queue = m->next;
        free(m);
    }
    free(bs->peer_addrs);
    free(bs->out_fds);
    free(bs->closed);
    free(bs->in);
    free(bs);
}

/* Accepts one connection and checks its hello; a stranger is refused and logged. */
static braid_result_t accept_peer(struct braid_bootstrap *bs)
{
    int fd;
    BRAID_CHECK(braid__sock_accept(bs->listen_fd, bs->timeout_ms, bs->abort_flag, &fd));
    struct bs_hello hello;
    braid_result_t res = braid__sock_recv(fd, &hello, sizeof(hello), bs->timeout_ms, bs->abort_flag,
                                          "a connecting rank");
    if (res == BRAID_ERR_ABORTED) {
        close(fd);
        return res;
    }
    if (res != BRAID_SUCCESS || hello.magic != BS_MAGIC || hello.wire != BS_WIRE ||
        memcmp(hello.secret, bs->secret, BRAID_SECRET_BYTES) != 0 || hello.from < 0 ||
        hello.from >= bs->nranks || bs->nin >= bs->nranks + 1) {
        BRAID_WARN(BOOT, "refused a bootstrap connection: %s",
                   res != BRAID_SUCCESS ? "no valid hello"
                   : hello.magic != BS_MAGIC || hello.wire != BS_WIRE
                       ? "not a braid peer of this version"
                   : memcmp(hello.secret, bs->secret, BRAID_SECRET_BYTES) != 0
                       ? "wrong job secret (another job, or a forged id)"
                       : "rank out of range");
        close(fd);
        braid__err_clear();
        return BRAID_SUCCESS;
    }
    bs->in[bs->nin].fd = fd;
    bs->in[bs->nin].peer = hello.from;
    bs->nin++;
    return BRAID_SUCCESS;
}

/* Reads one framed message from incoming connection i into the queue. */
static braid_result_t read_message(struct braid_bootstrap *bs, int i)
{
    char what[128];
    int peer = bs->in[i].peer;
    peer_name(bs, peer, what, sizeof(what));
    struct bs_header h;
    ssize_t probe = recv(bs->in[i].fd, &h, 1, MSG_PEEK | MSG_DONTWAIT);
    if (probe == 0) {
        /* The peer closed: it finished or died. Later receives from it fail fast. */
        close(bs->in[i].fd);
        bs->in[i] = bs->in[--bs->nin];
        bs->closed[peer] = 1;
        return BRAID_SUCCESS;
    }
    BRAID_CHECK(
        braid__sock_recv(bs->in[i].fd, &h, sizeof(h), bs->timeout_ms, bs->abort_flag, what));
    if (h.magic != BS_MAGIC || h.len > BRAID_BOOTSTRAP_MAX_MSG)
        return braid__err(BRAID_ERR_REMOTE,
                          "bootstrap frame from %s is malformed (magic %#x, "
                          "length %llu, bound %u)",
                          what, h.magic, (unsigned long long)h.len, BRAID_BOOTSTRAP_MAX_MSG);
    struct bs_msg *m = malloc(sizeof(*m) + h.len);
    if (!m)
        return braid__err(BRAID_ERR_NO_MEMORY, "bootstrap: no memory for %llu bytes from %s",
                          (unsigned long long)h.len, what);
    m->peer = peer;
    m->tag = h.tag;
    m->len = h.len;
    braid_result_t res =
        braid__sock_recv(bs->in[i].fd, m->data, h.len, bs->timeout_ms, bs->abort_flag, what);
    if (res != BRAID_SUCCESS) {
        free(m);
        BRAID_CHECK(res);
    }
    m->next = bs->queue;
    bs->queue = m;
    return BRAID_SUCCESS;
}

/* Waits up to slice_ms for incoming connections or messages and absorbs them. With out_fd
 * >= 0 it also returns (with *writable = 1) when that fd can take more bytes. */
static braid_result_t progress_incoming(struct braid_bootstrap *bs, int slice_ms, int out_fd,
                                        int *writable)
{
    struct pollfd p[bs->nranks + 3];
    int n = 0;
    p[n++] = (struct pollfd){.fd = bs->listen_fd, .events = POLLIN};
    for (int i = 0; i < bs->nin; i++)
        p[n++] = (struct pollfd){.fd = bs->in[i].fd, .events = POLLIN};
    if (out_fd >= 0)
        p[n++] = (struct pollfd){.fd = out_fd, .events = POLLOUT};
    int rc = poll(p, (nfds_t)n, slice_ms);
    if (rc <= 0)
        return BRAID_SUCCESS;
    if (out_fd >= 0 && (p[n - 1].revents & (POLLOUT | POLLERR | POLLHUP)))
        *writable = 1;
    int nin = bs->nin;
    /* Read from the end so that removing a closed connection keeps earlier indices valid. */
    for (int i = nin - 1; i >= 0; i--)
        if (p[1 + i].revents & (POLLIN | POLLHUP | POLLERR))
            BRAID_CHECK(read_message(bs, i));
    if (p[0].revents & POLLIN)
        BRAID_CHECK(accept_peer(bs));
    return BRAID_SUCCESS;
}

static braid_result_t connect_peer(struct braid_bootstrap *bs, int peer)
{
    int fd;
    BRAID_CHECK(braid__sock_connect(&bs->peer_addrs[peer], bs->timeout_ms, bs->abort_flag, &fd));
    struct bs_hello hello = {
        .magic = BS_MAGIC, .wire = BS_WIRE, .from = bs->rank, .nranks = bs->nranks};
    memcpy(hello.secret, bs->secret, BRAID_SECRET_BYTES);
    char what[128];
    braid_result_t res = braid__sock_send(fd, &hello, sizeof(hello), bs->timeout_ms, bs->abort_flag,
                                          peer_name(bs, peer, what, sizeof(what)));
    if (res != BRAID_SUCCESS) {
        close(fd);
        BRAID_CHECK(res);
    }
    bs->out_fds[peer] = fd;
    return BRAID_SUCCESS;
}

/* Writes all of buf to the peer while absorbing incoming traffic, so that two ranks sending
 * large messages to each other cannot deadlock on full socket buffers. */
static braid_result_t send_bytes(struct braid_bootstrap *bs, int peer, const void *buf, size_t len)
{
    char what[128];
    peer_name(bs, peer, what, sizeof(what));
    const char *p = buf;
    int fd = bs->out_fds[peer];
    uint64_t deadline = braid__now_ms() + (uint64_t)bs->timeout_ms;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            deadline = braid__now_ms() + (uint64_t)bs->timeout_ms;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return braid__err(BRAID_ERR_REMOTE, "bootstrap send to %s failed: %s", what,
                              strerror(errno));
        if (bs->abort_flag && atomic_load(bs->abort_flag))
            return braid__err(BRAID_ERR_ABORTED, "bootstrap send to %s: comm aborted", what);
        if (braid__now_ms() > deadline)
            return braid__err(BRAID_ERR_TIMEOUT, "bootstrap send to %s stalled for %d ms", what,
                              bs->timeout_ms);
        int writable = 0;
        BRAID_CHECK(progress_incoming(bs, BS_SLICE_MS, fd, &writable));
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__bootstrap_send(struct braid_bootstrap *bs, int peer, uint64_t tag,
                                     const void *data, size_t len)
{
    if (peer < 0 || peer >= bs->nranks || len > BRAID_BOOTSTRAP_MAX_MSG)
        return braid__err(BRAID_ERR_INTERNAL, "bootstrap send: bad peer %d or length %zu", peer,
                          len);
    if (bs->out_fds[peer] < 0)
        BRAID_CHECK(connect_peer(bs, peer));
    struct bs_header h = {.magic = BS_MAGIC, .tag = tag, .len = len};
    BRAID_CHECK(send_bytes(bs, peer, &h, sizeof(h)));
    BRAID_CHECK(send_bytes(bs, peer, data, len));
    return BRAID_SUCCESS;
}

static struct bs_msg *take_queued(struct braid_bootstrap *bs, int peer, uint64_t tag)
{
    /* The queue is LIFO; the oldest match is the last one in it. */
    struct bs_msg **found = NULL;
    for (struct bs_msg **pp = &bs->queue; *pp; pp = &(*pp)->next)
        if ((*pp)->peer == peer && (*pp)->tag == tag)
            found = pp;
    if (!found)
        return NULL;
    struct bs_msg *m = *found;
    *found = m->next;
    return m;
}

braid_result_t braid__bootstrap_recv(struct braid_bootstrap *bs, int peer, uint64_t tag, void *data,
                                     size_t len)
{
    char what[128];
    uint64_t deadline = braid__now_ms() + (uint64_t)bs->timeout_ms;
    for (;;) {
        struct bs_msg *m = take_queued(bs, peer, tag);
        if (m) {
            braid_result_t res = BRAID_SUCCESS;
            if (m->len != len)
                res = braid__err(BRAID_ERR_REMOTE,
                                 "bootstrap message from %s (tag %#llx) has "
                                 "%zu bytes, expected %zu: the ranks disagree on the call",
                                 peer_name(bs, peer, what, sizeof(what)), (unsigned long long)tag,
                                 m->len, len);
            else
                memcpy(data, m->data, len);
            free(m);
            return res;
        }
        if (bs->closed[peer])
            return braid__err(BRAID_ERR_REMOTE,
                              "%s closed its bootstrap connection before "
                              "sending what this rank waits for: it exited or failed",
                              peer_name(bs, peer, what, sizeof(what)));
        if (bs->abort_flag && atomic_load(bs->abort_flag))
            return braid__err(BRAID_ERR_ABORTED, "bootstrap receive: comm aborted");
        if (braid__now_ms() > deadline)
            return braid__err(BRAID_ERR_TIMEOUT,
                              "waited %d ms for a bootstrap message from %s; "
                              "it may have failed, hung, or be in a different call",
                              bs->timeout_ms, peer_name(bs, peer, what, sizeof(what)));
        int writable = 0;
        BRAID_CHECK(progress_incoming(bs, BS_SLICE_MS, -1, &writable));
    }
}

braid_result_t braid__bootstrap_allgather(struct braid_bootstrap *bs, void *all, size_t each)
{
    int n = bs->nranks, next = (bs->rank + 1) % n, prev = (bs->rank + n - 1) % n;
    uint64_t tag = BRAID_TAG_ALLGATHER | (bs->seq++ & 0xffffffffffffull);
    char *base = all;
    /* Step s forwards the part of rank (rank - s) and receives that of (rank - s - 1). */
    for (int s = 0; s < n - 1; s++) {
        int send_part = (bs->rank - s + n) % n, recv_part = (bs->rank - s - 1 + n) % n;
        BRAID_CHECK(braid__bootstrap_send(bs, next, tag, base + (size_t)send_part * each, each));
        BRAID_CHECK(braid__bootstrap_recv(bs, prev, tag, base + (size_t)recv_part * each, each));
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__bootstrap_allgatherv(struct braid_bootstrap *bs, void **parts,
                                           const uint64_t *lens)
{
    int n = bs->nranks, next = (bs->rank + 1) % n, prev = (bs->rank + n - 1) % n;
    uint64_t tag = BRAID_TAG_ALLGATHER | (bs->seq++ & 0xffffffffffffull);
    for (int s = 0; s < n - 1; s++) {
        int send_part = (bs->rank - s + n) % n, recv_part = (bs->rank - s - 1 + n) % n;
        BRAID_CHECK(braid__bootstrap_send(bs, next, tag, parts[send_part], lens[send_part]));
        if (lens[recv_part] > BRAID_BOOTSTRAP_MAX_MSG)
            return braid__err(BRAID_ERR_REMOTE,
                              "all-gather: part of rank %d has %llu bytes, "
                              "over the bound",
                              recv_part, (unsigned long long)lens[recv_part]);
        parts[recv_part] = malloc(lens[recv_part] ? lens[recv_part] : 1);
        if (!parts[recv_part])
            return braid__err(BRAID_ERR_NO_MEMORY, "all-gather: out of memory");
        BRAID_CHECK(braid__bootstrap_recv(bs, prev, tag, parts[recv_part], lens[recv_part]));
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__bootstrap_barrier(struct braid_bootstrap *bs)
{
    /* Dissemination barrier: log2(n) rounds of one send and one receive. */
    int n = bs->nranks;
    uint64_t tag = BRAID_TAG_BARRIER | (bs->seq++ & 0xffffffffffffull);
    char token = 1;
    for (int dist = 1; dist < n; dist *= 2) {
        BRAID_CHECK(braid__bootstrap_send(bs, (bs->rank + dist) % n, tag, &token, 1));
        BRAID_CHECK(braid__bootstrap_recv(bs, (bs->rank - dist % n + n) % n, tag, &token, 1));
    }
    return BRAID_SUCCESS;
}
