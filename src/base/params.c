#include "base/params.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/parse.h"

/* Keep in step with the README's settings table (tests/unit/test_docs checks it). */
static const struct braid_param_def params[] = {
    {"BRAID_DEBUG", "WARN", "log level: NONE, WARN, INFO or TRACE"},
    {"BRAID_DEBUG_SUBSYS", "ALL",
     "comma list of log subsystems (INIT,BOOT,TOPO,PLAN,COLL,SHM,NET,PROXY,ENV,TUNING,DEVICE), ^ "
     "excludes"},
    {"BRAID_TIMEOUT_MS", "300000",
     "bound in ms on any wait inside a call; a peer silent this long fails the call"},
    {"BRAID_CONNECT_TIMEOUT_MS", "120000",
     "bound in ms on rendezvous and connection setup (init, split, first use of a peer)"},
    {"BRAID_BLOCKING", "1", "0 makes init and split return BRAID_IN_PROGRESS at once"},
    {"BRAID_NCHANNELS", "2", "upper bound on channels (parallel pipelines) per call, 1..64"},
    {"BRAID_SLOT_SIZE", "131072",
     "bytes per connector FIFO slot (4096..16777216); unset, a comm spanning hosts uses 524288"},
    {"BRAID_NSLOTS", "8", "slots per connector FIFO (2..64)"},
    {"BRAID_ALGO", NULL, "force an algorithm: ring, tree, pairwise or oneshot"},
    {"BRAID_PROTO", NULL, "force a protocol: simple"},
    {"BRAID_TREE_MAX_BYTES", "65536",
     "all-reduce, broadcast and reduce of at most this many bytes use the tree (oneshot "
     "all-reduce below BRAID_ONESHOT_MAX_BYTES)"},
    {"BRAID_ONESHOT_MAX_BYTES", "4096",
     "all-reduce of at most this many bytes sends every input to every rank (one hop)"},
    {"BRAID_COMM_NAME", NULL, "a name for the comm in logs and errors"},
    {"BRAID_SOCKET_IFNAME", NULL,
     "interfaces for bootstrap and sockets: prefix list (eth,ib), ^ excludes, = exact"},
    {"BRAID_ROOT", NULL, "host:port of the rendezvous for braid_comm_init_env (rank 0 listens)"},
    {"BRAID_RANK", NULL, "this process's rank for braid_comm_init_env"},
    {"BRAID_NRANKS", NULL, "the job's rank count for braid_comm_init_env"},
    {"BRAID_SECRET", NULL,
     "job secret shared by all ranks of braid_comm_init_env (default: derived from the "
     "launcher's job id)"},
    {"BRAID_TRANSPORT", NULL,
     "force a transport for every peer: shm (same host only) or socket (any host)"},
    {"BRAID_SOCKET_NTHREADS", "1",
     "socket transport: I/O helper threads moving the streams (1..16; 1: the proxy "
     "does); streams = threads x sockets"},
    {"BRAID_NSOCKS_PERTHREAD", "2",
     "socket transport: TCP streams per I/O thread (1..16); large messages are striped"},
    {"BRAID_NET_DIRECT", "1",
     "1: network sends read the caller's buffers directly; 0: copy every payload into the "
     "connector FIFO first"},
    {"BRAID_HOSTID", NULL, "override this host's identity (ranks with equal ids share memory)"},
    {"BRAID_TOPO_FILE", NULL,
     "load this host's topology from an NCCL-format XML file; probing fills what it leaves out"},
    {"BRAID_TOPO_DUMP_FILE", NULL, "write the merged system topology to this XML file"},
    {"BRAID_P2P_LEVEL", NULL,
     "farthest path type used for direct GPU peer access: LOC (never), NVL, PIX, PXB, PHB, "
     "SYS or NCCL's 0-5 (unset: PXB)"},
};

const struct braid_param_def *braid__param_table(int *count)
{
    *count = (int)(sizeof(params) / sizeof(params[0]));
    return params;
}

static const struct braid_param_def *find_param(const char *name)
{
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
        if (strcmp(params[i].name, name) == 0)
            return &params[i];
    return NULL;
}

const char *braid__param_str(const char *name)
{
    const struct braid_param_def *def = find_param(name);
    if (!def)
        return NULL;
    const char *env = getenv(name);
    if (env && env[0])
        return env;
    return def->default_value;
}

braid_result_t braid__param_int(const char *name, long min, long max, long *out)
{
    const char *text = braid__param_str(name);
    if (!text)
        return braid__err(BRAID_ERR_INTERNAL, "setting %s has no value and no default", name);
    int64_t value;
    enum braid_parse_status st = braid__parse_i64(text, BRAID_PARSE_HEX, min, max, &value);
    if (st == BRAID_PARSE_MALFORMED)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s=\"%s\" is not an integer; unset it or "
                          "give a number in [%ld, %ld]",
                          name, text, min, max);
    if (st == BRAID_PARSE_RANGE)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s=%s is out of range; give a number "
                          "in [%ld, %ld]",
                          name, text, min, max);
    *out = (long)value;
    return BRAID_SUCCESS;
}
