/*
 * Network interface selection for the bootstrap (BRAID_SOCKET_IFNAME). The filter syntax is
 * NCCL's: a comma list of name prefixes ("eth,ib"), "^" in front excludes instead, "=" in front
 * matches names exactly.
 */
#ifndef BRAID_BASE_IFACES_H
#define BRAID_BASE_IFACES_H

#include "base/net.h"

#define BRAID_IFNAME_MAX 64

/* Whether interface `name` passes `filter` (pure; NULL or "" passes everything). */
int braid__iface_match(const char *filter, const char *name);

/*
 * Chooses this host's address for the bootstrap. With BRAID_SOCKET_IFNAME set, the first up
 * interface it matches (an error listing the host's interfaces if none does). Otherwise, if
 * `toward` is given (the root's address), the interface on the same subnet, or loopback if the
 * root is on loopback; else the first up non-loopback, non-docker interface (InfiniBand IPoIB
 * first), else loopback. *addr gets the address with port 0.
 */
braid_result_t braid__iface_select(const union braid_sockaddr *toward, union braid_sockaddr *addr,
                                   char *ifname);

/* Writes "lo (127.0.0.1), eth0 (10.0.0.2)" for messages. */
void braid__iface_list(char *buf, size_t len);

#endif
