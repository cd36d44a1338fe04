/*
 * TCP helpers for the bootstrap (and later the socket transport): addresses, listen, connect
 * with retries, and whole-buffer transfers, every one bounded by a timeout and an abort flag.
 */
#ifndef BRAID_BASE_NET_H
#define BRAID_BASE_NET_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "braid.h"

union braid_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
};

#define BRAID_ADDR_STRLEN 64

/* "10.0.0.1:4242" or "[fe80::1]:4242". Returns buf. */
const char *braid__addr_str(const union braid_sockaddr *addr, char *buf, size_t len);
socklen_t braid__addr_len(const union braid_sockaddr *addr);
int braid__addr_is_loopback(const union braid_sockaddr *addr);
/* Parses "host:port" or "[v6]:port" (host may be a name); fails naming the text. */
braid_result_t braid__addr_parse(const char *text, union braid_sockaddr *out);

/* Listens on addr (port 0 picks one); *bound gets the real address. */
braid_result_t braid__sock_listen(const union braid_sockaddr *addr, int *fd,
                                  union braid_sockaddr *bound);
/* Connects, retrying refused or unreachable attempts with backoff until timeout_ms. */
braid_result_t braid__sock_connect(const union braid_sockaddr *addr, int timeout_ms,
                                   const atomic_int *abort_flag, int *fd);
/* Accepts one connection within timeout_ms (BRAID_ERR_TIMEOUT otherwise). */
braid_result_t braid__sock_accept(int lfd, int timeout_ms, const atomic_int *abort_flag, int *fd);
/* Sends / receives exactly len bytes within timeout_ms; `what` names the peer in errors. */
braid_result_t braid__sock_send(int fd, const void *buf, size_t len, int timeout_ms,
                                const atomic_int *abort_flag, const char *what);
braid_result_t braid__sock_recv(int fd, void *buf, size_t len, int timeout_ms,
                                const atomic_int *abort_flag, const char *what);

#endif
