/*
 * The comm's system graph: every host's topology (BRAID_TOPO_FILE or the probes), sent through
 * the bootstrap by the first rank of each host and merged by every rank into one graph, the
 * picture the planner works from. BRAID_TOPO_DUMP_FILE gets the merged system (rank 0 writes).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"
#include "core/comm.h"
#include "topology/topo.h"

static int first_of_host(const struct braid_comm *comm, int rank)
{
    for (int r = 0; r < rank; r++)
        if (comm->peers[r].host_hash == comm->peers[rank].host_hash)
            return 0;
    return 1;
}

/* This process's host topology, serialized, kept for the next comm: probing is slow next to
 * an init, and the probes' libraries (hwloc, libudev) are not safe to run from several threads
 * at once, as the ranks of one process would. Keyed by BRAID_TOPO_FILE, which may change. */
static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;
static char *local_key;
static void *local_buf;
static size_t local_len;

static braid_result_t probe_serialized(const char *key)
{
    struct braid_topo *local;
    void *buf;
    size_t len;
    BRAID_CHECK(braid__topo_local(&local));
    braid_result_t res = braid__topo_serialize(local, &buf, &len);
    braid__topo_free(local);
    BRAID_CHECK(res);
    char *copy = strdup(key);
    if (!copy) {
        free(buf);
        return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory");
    }
    free(local_key);
    free(local_buf);
    local_key = copy;
    local_buf = buf;
    local_len = len;
    return BRAID_SUCCESS;
}

/* This rank's contribution: its host's topology, serialized, if it speaks for the host. */
static braid_result_t local_part(struct braid_comm *comm, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!first_of_host(comm, comm->rank))
        return BRAID_SUCCESS;
    const char *file = braid__param_str("BRAID_TOPO_FILE");
    const char *key = file ? file : "";
    braid_result_t res = BRAID_SUCCESS;
    pthread_mutex_lock(&local_lock);
    if (!local_buf || strcmp(local_key, key) != 0)
        res = probe_serialized(key);
    if (res == BRAID_SUCCESS) {
        *buf = malloc(local_len ? local_len : 1);
        if (*buf) {
            memcpy(*buf, local_buf, local_len);
            *len = local_len;
        } else {
            res = braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory");
        }
    }
    pthread_mutex_unlock(&local_lock);
    return res;
}

static braid_result_t merge_parts(struct braid_comm *comm, void **parts, const uint64_t *lens)
{
    int n = comm->nranks, nhosts = 0;
    struct braid_topo **hosts = calloc((size_t)n, sizeof(*hosts));
    if (!hosts)
        return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory");
    braid_result_t res = BRAID_SUCCESS;
    for (int r = 0; r < n && res == BRAID_SUCCESS; r++)
        if (lens[r] > 0)
            res = braid__topo_deserialize(parts[r], (size_t)lens[r], &hosts[nhosts++]);
    if (res == BRAID_SUCCESS)
        res = braid__topo_merge(hosts, nhosts, &comm->topo);
    for (int h = 0; h < nhosts; h++)
        braid__topo_free(hosts[h]);
    free(hosts);
    return res;
}

braid_result_t braid__comm_system(struct braid_comm *comm)
{
    int n = comm->nranks;
    void **parts = calloc((size_t)n, sizeof(*parts));
    uint64_t *lens = calloc((size_t)n, sizeof(*lens));
    braid_result_t res = BRAID_SUCCESS;
    if (!parts || !lens) {
        res = braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory");
        goto out;
    }
    size_t mine = 0;
    BRAID_CHECK_GOTO(local_part(comm, &parts[comm->rank], &mine), res, out);
    lens[comm->rank] = mine;
    BRAID_CHECK_GOTO(braid__bootstrap_allgather(comm->bs, lens, sizeof(*lens)), res, out);
    for (int r = 0; r < n; r++)
        if (lens[r] > BRAID_TOPO_SERIAL_MAX) {
            res = braid__err(BRAID_ERR_REMOTE,
                             "rank %d announced a %llu-byte topology, over "
                             "the %u-byte bound",
                             r, (unsigned long long)lens[r], BRAID_TOPO_SERIAL_MAX);
            goto out;
        }
    BRAID_CHECK_GOTO(braid__bootstrap_allgatherv(comm->bs, parts, lens), res, out);
    BRAID_CHECK_GOTO(merge_parts(comm, parts, lens), res, out);
    BRAID_INFO(TOPO, "system: %d GPU(s), %d NIC(s) over the comm's hosts",
               braid__topo_ngpus(comm->topo), braid__topo_nnics(comm->topo));
    const char *dump = braid__param_str("BRAID_TOPO_DUMP_FILE");
    if (dump && comm->rank == 0 && braid__topo_dump_file(comm->topo, dump) < 0)
        BRAID_WARN(TOPO, "%s", braid__err_text());
out:
    for (int r = 0; parts && r < n; r++)
        free(parts[r]);
    free(parts);
    free(lens);
    return res;
}
