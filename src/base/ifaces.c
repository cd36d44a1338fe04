#include "base/ifaces.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"

int braid__iface_match(const char *filter, const char *name)
{
    if (!filter || !filter[0])
        return 1;
    int exclude = filter[0] == '^';
    const char *list = filter + exclude;
    int exact = list[0] == '=';
    list += exact;
    int matched = 0;
    while (*list && !matched) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        if (len > 0) {
            if (exact)
                matched = strlen(name) == len && strncmp(name, list, len) == 0;
            else
                matched = strncmp(name, list, len) == 0;
        }
        list += len + (comma ? 1 : 0);
    }
    return exclude ? !matched : matched;
}

static int usable(const struct ifaddrs *ifa)
{
    if (!ifa->ifa_addr || !(ifa->ifa_flags & IFF_UP))
        return 0;
    int family = ifa->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6)
        return 0;
    /* Link-local IPv6 addresses need a scope id on every peer: skip them. */
    if (family == AF_INET6 &&
        IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr))
        return 0;
    return 1;
}

void braid__iface_list(char *buf, size_t len)
{
    struct ifaddrs *ifs = NULL;
    buf[0] = '\0';
    if (getifaddrs(&ifs) != 0)
        return;
    size_t used = 0;
    for (struct ifaddrs *ifa = ifs; ifa; ifa = ifa->ifa_next) {
        if (!usable(ifa))
            continue;
        char host[INET6_ADDRSTRLEN] = "";
        union braid_sockaddr a;
        memcpy(&a, ifa->ifa_addr,
               ifa->ifa_addr->sa_family == AF_INET6 ? sizeof(a.sin6) : sizeof(a.sin));
        inet_ntop(a.sa.sa_family,
                  a.sa.sa_family == AF_INET6 ? (void *)&a.sin6.sin6_addr : (void *)&a.sin.sin_addr,
                  host, sizeof(host));
        int n =
            snprintf(buf + used, len - used, "%s%s (%s)", used ? ", " : "", ifa->ifa_name, host);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    freeifaddrs(ifs);
}

static int same_subnet(const struct ifaddrs *ifa, const union braid_sockaddr *toward)
{
    if (!ifa->ifa_netmask || ifa->ifa_addr->sa_family != toward->sa.sa_family)
        return 0;
    if (toward->sa.sa_family == AF_INET) {
        uint32_t mask = ((struct sockaddr_in *)ifa->ifa_netmask)->sin_addr.s_addr;
        uint32_t mine = ((struct sockaddr_in *)ifa->ifa_addr)->sin_addr.s_addr;
        return (mine & mask) == (toward->sin.sin_addr.s_addr & mask);
    }
    const uint8_t *m = ((struct sockaddr_in6 *)ifa->ifa_netmask)->sin6_addr.s6_addr;
    const uint8_t *a = ((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr.s6_addr;
    const uint8_t *b = toward->sin6.sin6_addr.s6_addr;
    for (int i = 0; i < 16; i++)
        if ((a[i] & m[i]) != (b[i] & m[i]))
            return 0;
    return 1;
}

/* Ranking of candidates when nothing says which: 0 is best. */
static int default_rank(const struct ifaddrs *ifa)
{
    if (ifa->ifa_flags & IFF_LOOPBACK)
        return 3;
    if (strncmp(ifa->ifa_name, "docker", 6) == 0 || strncmp(ifa->ifa_name, "virbr", 5) == 0)
        return -1;
    if (strncmp(ifa->ifa_name, "ib", 2) == 0)
        return 0;
    return ifa->ifa_addr->sa_family == AF_INET ? 1 : 2;
}

static const struct ifaddrs *pick(struct ifaddrs *ifs, const char *filter,
                                  const union braid_sockaddr *toward)
{
    const struct ifaddrs *best = NULL;
    int best_rank = 99;
    for (struct ifaddrs *ifa = ifs; ifa; ifa = ifa->ifa_next) {
        if (!usable(ifa))
            continue;
        if (filter && filter[0]) {
            if (braid__iface_match(filter, ifa->ifa_name))
                return ifa;
            continue;
        }
        if (toward && braid__addr_is_loopback(toward)) {
            if (ifa->ifa_flags & IFF_LOOPBACK && ifa->ifa_addr->sa_family == toward->sa.sa_family)
                return ifa;
            continue;
        }
        if (toward && !(ifa->ifa_flags & IFF_LOOPBACK) && same_subnet(ifa, toward))
            return ifa;
        int rank = default_rank(ifa);
        if (rank >= 0 && rank < best_rank) {
            best = ifa;
            best_rank = rank;
        }
    }
    return best;
}

braid_result_t braid__iface_select(const union braid_sockaddr *toward, union braid_sockaddr *addr,
                                   char *ifname)
{
    const char *filter = braid__param_str("BRAID_SOCKET_IFNAME");
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return braid__err(BRAID_ERR_SYSTEM, "getifaddrs failed: %s", strerror(errno));
    const struct ifaddrs *ifa = pick(ifs, filter, toward);
    if (!ifa) {
        char list[512];
        freeifaddrs(ifs);
        braid__iface_list(list, sizeof(list));
        if (filter && filter[0])
            return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                              "BRAID_SOCKET_IFNAME=%s matches no interface that is up; this "
                              "host has: %s",
                              filter, list[0] ? list : "(none)");
        return braid__err(BRAID_ERR_SYSTEM,
                          "no usable network interface (up, with an IP "
                          "address); this host has: %s",
                          list[0] ? list : "(none)");
    }
    memset(addr, 0, sizeof(*addr));
    memcpy(addr, ifa->ifa_addr,
           ifa->ifa_addr->sa_family == AF_INET6 ? sizeof(addr->sin6) : sizeof(addr->sin));
    snprintf(ifname, BRAID_IFNAME_MAX, "%s", ifa->ifa_name);
    freeifaddrs(ifs);
    char name[BRAID_ADDR_STRLEN];
    BRAID_INFO(BOOT, "bootstrap interface %s address %s%s", ifname,
               braid__addr_str(addr, name, sizeof(name)), filter ? " (BRAID_SOCKET_IFNAME)" : "");
    return BRAID_SUCCESS;
}
