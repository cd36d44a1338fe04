#include "base/peer.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/params.h"

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static uint64_t ns_inode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

void braid__peer_identity(struct braid_peer_info *info)
{
    snprintf(info->hostname, sizeof(info->hostname), "%s", braid__hostname());
    info->pid = (int32_t)getpid();
    info->pidns = ns_inode("/proc/self/ns/pid");
    const char *override = braid__param_str("BRAID_HOSTID");
    uint64_t h = 14695981039346656037ull;
    if (override) {
        info->host_hash = hash_str(h, override);
        return;
    }
    /* Same hostname, same boot and same network namespace: shared memory and loopback work.
     * Ranks in different network namespaces count as different hosts. */
    char boot_id[64] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(boot_id, sizeof(boot_id), f))
            boot_id[0] = '\0';
        fclose(f);
    }
    char netns[32];
    snprintf(netns, sizeof(netns), "%llu", (unsigned long long)ns_inode("/proc/self/ns/net"));
    h = hash_str(h, info->hostname);
    h = hash_str(h, boot_id);
    info->host_hash = hash_str(h, netns);
}
