#include "base/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/parse.h"

/* Poll slices: waits wake at least this often to look at the abort flag. */
#define NET_POLL_SLICE_MS 100

socklen_t braid__addr_len(const union braid_sockaddr *addr)
{
    return addr->sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                          : sizeof(struct sockaddr_in);
}

const char *braid__addr_str(const union braid_sockaddr *addr, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr->sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &addr->sin6.sin6_addr, host, sizeof(host));
        snprintf(buf, len, "[%s]:%u", host, ntohs(addr->sin6.sin6_port));
    } else if (addr->sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &addr->sin.sin_addr, host, sizeof(host));
        snprintf(buf, len, "%s:%u", host, ntohs(addr->sin.sin_port));
    } else {
        snprintf(buf, len, "(no address)");
    }
    return buf;
}

int braid__addr_is_loopback(const union braid_sockaddr *addr)
{
    if (addr->sa.sa_family == AF_INET)
        return (ntohl(addr->sin.sin_addr.s_addr) >> 24) == 127;
    if (addr->sa.sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&addr->sin6.sin6_addr);
    return 0;
}

braid_result_t braid__addr_parse(const char *text, union braid_sockaddr *out)
{
    char host[256];
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return braid__err(BRAID_ERR_INVALID_ARGUMENT, "address \"%s\" is not [ipv6]:port",
                              text);
        snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || colon == text)
            return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                              "address \"%s\" is not host:port (e.g. 10.0.0.1:29500)", text);
        snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
    }
    int64_t port;
    if (braid__parse_i64(colon + 1, 0, 1, 65535, &port) != BRAID_PARSE_OK)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT, "address \"%s\": port must be 1..65535",
                          text);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT, "address \"%s\": cannot resolve \"%s\": %s",
                          text, host, gai_strerror(rc));
    memset(out, 0, sizeof(*out));
    memcpy(out, res->ai_addr, res->ai_addrlen < sizeof(*out) ? res->ai_addrlen : sizeof(*out));
    freeaddrinfo(res);
    if (out->sa.sa_family == AF_INET6)
        out->sin6.sin6_port = htons((uint16_t)port);
    else
        out->sin.sin_port = htons((uint16_t)port);
    return BRAID_SUCCESS;
}

static void sock_tune(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

braid_result_t braid__sock_listen(const union braid_sockaddr *addr, int *fd,
                                  union braid_sockaddr *bound)
{
    char name[BRAID_ADDR_STRLEN];
    int s = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return braid__err(BRAID_ERR_SYSTEM, "socket() for listening failed: %s", strerror(errno));
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, &addr->sa, braid__addr_len(addr)) != 0) {
        int e = errno;
        close(s);
        return braid__err(BRAID_ERR_SYSTEM, "cannot listen on %s: %s%s",
                          braid__addr_str(addr, name, sizeof(name)), strerror(e),
                          e == EADDRINUSE ? "; pick another port" : "");
    }
    if (listen(s, 1024) != 0) {
        int e = errno;
        close(s);
        return braid__err(BRAID_ERR_SYSTEM, "listen() failed: %s", strerror(e));
    }
    socklen_t len = sizeof(*bound);
    getsockname(s, &bound->sa, &len);
    *fd = s;
    return BRAID_SUCCESS;
}

static int aborted(const atomic_int *flag)
{
    return flag && atomic_load_explicit(flag, memory_order_relaxed);
}

/* Waits for events on fd; returns 1 ready, 0 timeout, <0 error (recorded). */
static braid_result_t wait_fd(int fd, short events, uint64_t deadline, const atomic_int *abort_flag,
                              const char *what)
{
    for (;;) {
        if (aborted(abort_flag))
            return braid__err(BRAID_ERR_ABORTED, "%s: the comm was aborted", what);
        uint64_t now = braid__now_ms();
        if (now >= deadline)
            return BRAID_ERR_TIMEOUT;
        int slice = (int)(deadline - now < NET_POLL_SLICE_MS ? deadline - now : NET_POLL_SLICE_MS);
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, slice);
        if (rc > 0)
            return BRAID_SUCCESS;
        if (rc < 0 && errno != EINTR)
            return braid__err(BRAID_ERR_SYSTEM, "%s: poll failed: %s", what, strerror(errno));
    }
}

static braid_result_t connect_once(const union braid_sockaddr *addr, uint64_t deadline,
                                   const atomic_int *abort_flag, int *fd, int *retry)
{
    char name[BRAID_ADDR_STRLEN];
    int s = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return braid__err(BRAID_ERR_SYSTEM, "socket() failed: %s", strerror(errno));
    *retry = 0;
    int rc = connect(s, &addr->sa, braid__addr_len(addr));
    int e = rc == 0 ? 0 : errno;
    if (e == EINPROGRESS) {
        braid_result_t res = wait_fd(s, POLLOUT, deadline, abort_flag, "connect");
        if (res != BRAID_SUCCESS) {
            close(s);
            return res;
        }
        socklen_t len = sizeof(e);
        getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len);
    }
    if (e != 0) {
        close(s);
        *retry = e == ECONNREFUSED || e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH ||
                 e == ECONNRESET || e == EAGAIN;
        return braid__err(BRAID_ERR_SYSTEM, "cannot connect to %s: %s",
                          braid__addr_str(addr, name, sizeof(name)), strerror(e));
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
    sock_tune(s);
    *fd = s;
    return BRAID_SUCCESS;
}

braid_result_t braid__sock_connect(const union braid_sockaddr *addr, int timeout_ms,
                                   const atomic_int *abort_flag, int *fd)
{
    char name[BRAID_ADDR_STRLEN];
    uint64_t deadline = braid__now_ms() + (uint64_t)timeout_ms;
    unsigned backoff_ms = 1;
    int attempts = 0;
    for (;;) {
        int retry = 0;
        attempts++;
        braid_result_t res = connect_once(addr, deadline, abort_flag, fd, &retry);
        if (res == BRAID_SUCCESS || res == BRAID_ERR_ABORTED)
            return res;
        if (res == BRAID_ERR_TIMEOUT || braid__now_ms() + backoff_ms >= deadline)
            return braid__err(BRAID_ERR_TIMEOUT,
                              "could not connect to %s within %d ms (%d attempts; last: %s); is "
                              "the peer running and reachable? raise BRAID_CONNECT_TIMEOUT_MS "
                              "if ranks start far apart",
                              braid__addr_str(addr, name, sizeof(name)), timeout_ms, attempts,
                              braid__err_text());
        if (!retry)
            return res;
        struct timespec ts = {0, (long)backoff_ms * 1000000L};
        nanosleep(&ts, NULL);
        if (backoff_ms < 100)
            backoff_ms *= 2;
    }
}

braid_result_t braid__sock_accept(int lfd, int timeout_ms, const atomic_int *abort_flag, int *fd)
{
    uint64_t deadline = braid__now_ms() + (uint64_t)timeout_ms;
    braid_result_t res = wait_fd(lfd, POLLIN, deadline, abort_flag, "accept");
    if (res != BRAID_SUCCESS)
        return res;
    int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (s < 0)
        return braid__err(BRAID_ERR_SYSTEM, "accept() failed: %s", strerror(errno));
    sock_tune(s);
    *fd = s;
    return BRAID_SUCCESS;
}

braid_result_t braid__sock_send(int fd, const void *buf, size_t len, int timeout_ms,
                                const atomic_int *abort_flag, const char *what)
{
    uint64_t deadline = braid__now_ms() + (uint64_t)timeout_ms;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return braid__err(BRAID_ERR_REMOTE, "sending to %s failed: %s", what, strerror(errno));
        braid_result_t res = wait_fd(fd, POLLOUT, deadline, abort_flag, what);
        if (res == BRAID_ERR_TIMEOUT)
            return braid__err(res, "sending to %s timed out after %d ms", what, timeout_ms);
        BRAID_CHECK(res);
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__sock_recv(int fd, void *buf, size_t len, int timeout_ms,
                                const atomic_int *abort_flag, const char *what)
{
    uint64_t deadline = braid__now_ms() + (uint64_t)timeout_ms;
    char *p = buf;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0)
            return braid__err(BRAID_ERR_REMOTE,
                              "%s closed the connection (process exited or "
                              "failed; see its log)",
                              what);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return braid__err(BRAID_ERR_REMOTE, "receiving from %s failed: %s", what,
                              strerror(errno));
        braid_result_t res = wait_fd(fd, POLLIN, deadline, abort_flag, what);
        if (res == BRAID_ERR_TIMEOUT)
            return braid__err(res, "receiving from %s timed out after %d ms", what, timeout_ms);
        BRAID_CHECK(res);
    }
    return BRAID_SUCCESS;
}
