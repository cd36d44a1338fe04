/*
 * What every rank tells the others at init (gathered by the root, checked by everyone).
 */
#ifndef BRAID_BASE_PEER_H
#define BRAID_BASE_PEER_H

#include <stdint.h>

#include "base/net.h"

#define BRAID_PEER_MAGIC   0x42504552u /* "BPER" */
#define BRAID_HOSTNAME_MAX 64

/* Settings that every rank must agree on, or plans and FIFOs would not match. */
struct braid_shared_settings {
    int32_t nchannels;
    int32_t slot_size;
    int32_t nslots;
    int32_t algo; /* -1: chosen per call */
    int32_t tree_max_bytes;
    int32_t oneshot_max_bytes;
    int32_t slot_size_chosen; /* 1 if the slot size was set, 0 if braid may pick it */
};

struct braid_peer_info {
    uint32_t magic;
    int32_t version_code;
    char build[48]; /* braid_version_string() */
    int32_t rank;
    int32_t nranks;
    int32_t pid;
    int32_t cuda_dev;
    uint64_t host_hash; /* hostname + boot id + network namespace, or BRAID_HOSTID */
    uint64_t pidns;     /* pid namespace inode: pids compare only within one */
    char hostname[BRAID_HOSTNAME_MAX];
    union braid_sockaddr addr; /* this rank's bootstrap listener */
    struct braid_shared_settings settings;
};

/* Fills the host identity fields (hostname, host_hash, pid, pidns). */
void braid__peer_identity(struct braid_peer_info *info);

#endif
