/*
 * The root: introduces the ranks of one job to each other. Each rank connects, presents the
 * job secret and its peer info; once all have arrived the root sends everyone the full table
 * and exits. Inconsistent ranks (wrong secret, disagreeing rank counts, duplicates) are
 * refused with a reply that says why, so every rank fails with the same explanation.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "core/bootstrap.h"

#define ROOT_MAGIC 0x42524f54u /* "BROT" */
#define ROOT_WIRE  1

struct root_hello {
    uint32_t magic;
    uint32_t wire;
    uint8_t secret[BRAID_SECRET_BYTES];
    int32_t rank;
    int32_t nranks;
    uint32_t info_len;
};

struct root_reply {
    uint32_t magic;
    int32_t status; /* braid_result_t */
    int32_t nranks;
    uint32_t info_len;
    char message[384];
};

struct root_state {
    int listen_fd;
    int timeout_ms;
    uint8_t secret[BRAID_SECRET_BYTES];
    int nranks; /* -1 until the first rank says */
    int arrived;
    int *fds; /* [nranks] */
    struct braid_peer_info *infos;
};

/* Replies to one connection; failures to reply are only logged (the rank will time out). */
static void reply(int fd, braid_result_t status, int nranks, const struct braid_peer_info *infos,
                  const char *message)
{
    struct root_reply r = {.magic = ROOT_MAGIC,
                           .status = status,
                           .nranks = nranks,
                           .info_len = sizeof(struct braid_peer_info)};
    snprintf(r.message, sizeof(r.message), "%s", message ? message : "");
    if (braid__sock_send(fd, &r, sizeof(r), 5000, NULL, "a rank") != BRAID_SUCCESS ||
        (status == BRAID_SUCCESS && braid__sock_send(fd, infos, (size_t)nranks * sizeof(*infos),
                                                     5000, NULL, "a rank") != BRAID_SUCCESS))
        BRAID_WARN(BOOT, "root: could not reply to a rank: %s", braid__err_text());
}

static void fail_all(struct root_state *st, braid_result_t status, const char *message)
{
    BRAID_WARN(BOOT, "root: %s", message);
    for (int i = 0; st->fds && i < st->nranks; i++)
        if (st->fds[i] >= 0) {
            reply(st->fds[i], status, 0, NULL, message);
            close(st->fds[i]);
            st->fds[i] = -1;
        }
}

/* Checks one hello against the job; returns 0 to keep the connection, -1 to drop it, -2 to
 * fail the whole job (message filled). */
static int check_hello(struct root_state *st, int fd, const struct root_hello *h, char *msg,
                       size_t len)
{
    if (h->magic != ROOT_MAGIC || h->wire != ROOT_WIRE ||
        h->info_len != sizeof(struct braid_peer_info)) {
        snprintf(msg, len,
                 "the root speaks bootstrap wire %d with %zu-byte peer info; this rank "
                 "sent wire %u with %u bytes: every rank must run the same braid build",
                 ROOT_WIRE, sizeof(struct braid_peer_info), h->wire, h->info_len);
        reply(fd, BRAID_ERR_VERSION_MISMATCH, 0, NULL, msg);
        return -1;
    }
    if (memcmp(h->secret, st->secret, BRAID_SECRET_BYTES) != 0) {
        snprintf(msg, len,
                 "the root refused rank %d: its unique id carries a different job "
                 "secret (an id from another job, or a damaged one)",
                 h->rank);
        BRAID_WARN(BOOT, "root: %s", msg);
        reply(fd, BRAID_ERR_AUTH, 0, NULL, msg);
        return -1;
    }
    if (st->nranks < 0) {
        if (h->nranks < 1)
            return snprintf(msg, len, "rank %d asked for %d ranks", h->rank, h->nranks), -2;
        st->nranks = h->nranks;
        st->fds = malloc((size_t)h->nranks * sizeof(int));
        st->infos = calloc((size_t)h->nranks, sizeof(*st->infos));
        if (!st->fds || !st->infos)
            return snprintf(msg, len, "root: out of memory for %d ranks", h->nranks), -2;
        for (int i = 0; i < h->nranks; i++)
            st->fds[i] = -1;
    }
    if (h->nranks != st->nranks)
        return snprintf(msg, len,
                        "rank %d was created with nranks=%d but an earlier rank with "
                        "nranks=%d: pass the same count everywhere",
                        h->rank, h->nranks, st->nranks),
               -2;
    if (h->rank < 0 || h->rank >= st->nranks)
        return snprintf(msg, len, "a rank joined as rank %d, outside [0, %d)", h->rank, st->nranks),
               -2;
    if (st->fds[h->rank] >= 0)
        return snprintf(msg, len, "two processes joined as rank %d: every rank must be unique",
                        h->rank),
               -2;
    return 0;
}

/* Accepts and registers one rank; returns -2 if the job must fail. */
static int admit_one(struct root_state *st, int fd, char *msg, size_t len)
{
    struct root_hello h;
    struct braid_peer_info info;
    if (braid__sock_recv(fd, &h, sizeof(h), 5000, NULL, "a joining rank") != BRAID_SUCCESS) {
        BRAID_WARN(BOOT, "root: dropped a connection without a valid hello");
        close(fd);
        return -1;
    }
    int verdict = check_hello(st, fd, &h, msg, len);
    if (verdict == 0 &&
        braid__sock_recv(fd, &info, sizeof(info), 5000, NULL, "a joining rank") != BRAID_SUCCESS)
        verdict = -1;
    if (verdict == -2)
        reply(fd, BRAID_ERR_INVALID_USAGE, 0, NULL, msg);
    if (verdict != 0) {
        close(fd);
        return verdict;
    }
    st->fds[h.rank] = fd;
    st->infos[h.rank] = info;
    st->arrived++;
    return 0;
}

static void missing_ranks(const struct root_state *st, char *buf, size_t len)
{
    size_t used = 0;
    int shown = 0;
    buf[0] = '\0';
    for (int i = 0; i < st->nranks && used < len; i++)
        if (st->fds[i] < 0 && shown++ < 16)
            used += (size_t)snprintf(buf + used, len - used, "%s%d", shown > 1 ? ", " : "", i);
    if (shown > 16 && used < len)
        snprintf(buf + used, len - used, ", ...");
}

static void *root_main(void *arg)
{
    struct root_state *st = arg;
    char msg[384];
    braid__log_set_rank(-1);
    while (st->nranks < 0 || st->arrived < st->nranks) {
        int fd;
        braid_result_t res = braid__sock_accept(st->listen_fd, st->timeout_ms, NULL, &fd);
        if (res == BRAID_ERR_TIMEOUT) {
            char missing[160];
            if (st->nranks < 0) {
                BRAID_INFO(BOOT, "root: no rank joined within %d ms; exiting", st->timeout_ms);
                goto out;
            }
            missing_ranks(st, missing, sizeof(missing));
            snprintf(msg, sizeof(msg),
                     "timed out after %d ms waiting for rank(s) %s (%d of %d "
                     "missing) to join: they failed, were not started, or use another unique id",
                     st->timeout_ms, missing, st->nranks - st->arrived, st->nranks);
            fail_all(st, BRAID_ERR_TIMEOUT, msg);
            goto out;
        }
        if (res != BRAID_SUCCESS)
            continue;
        if (admit_one(st, fd, msg, sizeof(msg)) == -2) {
            fail_all(st, BRAID_ERR_INVALID_USAGE, msg);
            goto out;
        }
    }
    for (int i = 0; i < st->nranks; i++) {
        reply(st->fds[i], BRAID_SUCCESS, st->nranks, st->infos, NULL);
        close(st->fds[i]);
    }
    BRAID_INFO(BOOT, "root: introduced %d ranks", st->nranks);
out:
    close(st->listen_fd);
    free(st->fds);
    free(st->infos);
    free(st);
    return NULL;
}

braid_result_t braid__root_start(const union braid_sockaddr *addr, const uint8_t *secret,
                                 int timeout_ms, union braid_sockaddr *bound)
{
    struct root_state *st = calloc(1, sizeof(*st));
    if (!st)
        return braid__err(BRAID_ERR_NO_MEMORY, "root: out of memory");
    st->nranks = -1;
    st->timeout_ms = timeout_ms;
    memcpy(st->secret, secret, BRAID_SECRET_BYTES);
    braid_result_t res = braid__sock_listen(addr, &st->listen_fd, bound);
    if (res != BRAID_SUCCESS) {
        free(st);
        BRAID_CHECK(res);
    }
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, root_main, st);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        close(st->listen_fd);
        free(st);
        return braid__err(BRAID_ERR_SYSTEM, "cannot start the root thread: %s", strerror(rc));
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__root_join(const union braid_sockaddr *root, const uint8_t *secret, int rank,
                                int nranks, int timeout_ms, const atomic_int *abort_flag,
                                const struct braid_peer_info *self, struct braid_peer_info *all)
{
    char what[BRAID_ADDR_STRLEN + 16], addr[BRAID_ADDR_STRLEN];
    snprintf(what, sizeof(what), "the root at %s", braid__addr_str(root, addr, sizeof(addr)));
    int fd;
    BRAID_CHECK(braid__sock_connect(root, timeout_ms, abort_flag, &fd));
    struct root_hello h = {.magic = ROOT_MAGIC,
                           .wire = ROOT_WIRE,
                           .rank = rank,
                           .nranks = nranks,
                           .info_len = sizeof(*self)};
    memcpy(h.secret, secret, BRAID_SECRET_BYTES);
    struct root_reply r;
    braid_result_t res;
    BRAID_CHECK_GOTO(braid__sock_send(fd, &h, sizeof(h), timeout_ms, abort_flag, what), res, out);
    BRAID_CHECK_GOTO(braid__sock_send(fd, self, sizeof(*self), timeout_ms, abort_flag, what), res,
                     out);
    /* The root answers once every rank has joined: wait a little longer than it does. */
    BRAID_CHECK_GOTO(braid__sock_recv(fd, &r, sizeof(r), timeout_ms + 5000, abort_flag, what), res,
                     out);
    r.message[sizeof(r.message) - 1] = '\0';
    if (r.magic != ROOT_MAGIC) {
        res = braid__err(BRAID_ERR_REMOTE, "%s sent a malformed reply", what);
        goto out;
    }
    if (r.status != BRAID_SUCCESS) {
        res =
            braid__err(r.status < 0 ? (braid_result_t)r.status : BRAID_ERR_REMOTE, "%s", r.message);
        goto out;
    }
    if (r.nranks != nranks || r.info_len != sizeof(*all)) {
        res = braid__err(BRAID_ERR_REMOTE, "%s answered for %d ranks, expected %d", what, r.nranks,
                         nranks);
        goto out;
    }
    BRAID_CHECK_GOTO(
        braid__sock_recv(fd, all, (size_t)nranks * sizeof(*all), timeout_ms, abort_flag, what), res,
        out);
out:
    close(fd);
    return res;
}
