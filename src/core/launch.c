/*
 * braid_comm_init_env: rendezvous without a unique id, for launchers (mpirun, srun, torchrun)
 * and tools that do not link MPI. Rank 0 runs the root at BRAID_ROOT; everyone joins it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"
#include "base/parse.h"
#include "core/comm.h"

/* Rank and size variables of the launchers we know, most specific first. */
static const struct {
    const char *rank;
    const char *size;
    const char *who;
} launchers[] = {
    {"BRAID_RANK", "BRAID_NRANKS", "braid"},
    {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI"},
    {"PMI_RANK", "PMI_SIZE", "PMI (MPICH, Intel MPI)"},
    {"SLURM_PROCID", "SLURM_NTASKS", "Slurm"},
    {"RANK", "WORLD_SIZE", "torchrun"},
};

/* Variables whose value identifies one job, from which a shared secret is derived. */
static const char *job_vars[] = {"SLURM_JOB_ID", "PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid",
                                 "TORCHELASTIC_RUN_ID", "MASTER_ADDR"};

static braid_result_t env_int(const char *var, int *out)
{
    const char *text = getenv(var);
    int64_t v;
    if (braid__parse_i64(text, 0, 0, 0x7fffffff, &v) != BRAID_PARSE_OK)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT, "%s=\"%s\" is not a non-negative integer",
                          var, text);
    *out = (int)v;
    return BRAID_SUCCESS;
}

static braid_result_t env_rank_size(int *rank, int *nranks, const char **who)
{
    for (size_t i = 0; i < sizeof(launchers) / sizeof(launchers[0]); i++) {
        if (!getenv(launchers[i].rank) || !getenv(launchers[i].size))
            continue;
        BRAID_CHECK(env_int(launchers[i].rank, rank));
        BRAID_CHECK(env_int(launchers[i].size, nranks));
        *who = launchers[i].who;
        return BRAID_SUCCESS;
    }
    return braid__err(BRAID_ERR_INVALID_USAGE,
                      "braid_comm_init_env: no rank/size in the environment; set BRAID_RANK and "
                      "BRAID_NRANKS, or launch with mpirun, srun or torchrun");
}

static void derive_secret(uint8_t *secret)
{
    const char *text = braid__param_str("BRAID_SECRET");
    char buf[512];
    if (!text) {
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(job_vars) / sizeof(job_vars[0]); i++) {
            const char *v = getenv(job_vars[i]);
            if (v && used < sizeof(buf))
                used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s=%s;", job_vars[i], v);
        }
        if (!buf[0])
            BRAID_INFO(BOOT, "init_env: no BRAID_SECRET and no launcher job id; using the "
                             "default secret (any process that reaches BRAID_ROOT may join)");
        text = buf;
    }
    /* Two FNV-1a passes with different seeds fill 128 bits. */
    uint64_t h[2] = {14695981039346656037ull, 0x9e3779b97f4a7c15ull};
    for (int k = 0; k < 2; k++)
        for (const char *p = text; *p; p++)
            h[k] = (h[k] ^ (uint8_t)*p) * 1099511628211ull;
    memcpy(secret, h, BRAID_SECRET_BYTES);
}

braid_result_t braid_comm_init_env(braid_comm_t *comm, const braid_config_t *config)
{
    braid__err_clear();
    BRAID_ARG_CHECK(comm != NULL, "comm is NULL; pass the address of a braid_comm_t");
    *comm = NULL;
    const char *root_text = braid__param_str("BRAID_ROOT");
    if (!root_text)
        return braid__err(BRAID_ERR_INVALID_USAGE,
                          "braid_comm_init_env needs BRAID_ROOT=host:port "
                          "(a port on rank 0's host that every rank can reach)");
    int rank, nranks;
    const char *who = NULL;
    BRAID_CHECK(env_rank_size(&rank, &nranks, &who));
    if (rank >= nranks)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT, "%s gives rank %d of %d ranks", who, rank,
                          nranks);
    union braid_sockaddr root;
    BRAID_CHECK(braid__addr_parse(root_text, &root));
    braid_unique_id_t id;
    struct braid_id_layout layout;
    memset(&layout, 0, sizeof(layout));
    derive_secret(layout.secret);
    layout.root = root;
    if (rank == 0) {
        /* Listen on every address at that port: the name may resolve to a local alias. */
        union braid_sockaddr any = root;
        if (any.sa.sa_family == AF_INET6)
            any.sin6.sin6_addr = in6addr_any;
        else
            any.sin.sin_addr.s_addr = htonl(INADDR_ANY);
        long timeout;
        BRAID_CHECK(braid__param_int("BRAID_CONNECT_TIMEOUT_MS", 1, 0x7fffffff, &timeout));
        union braid_sockaddr bound;
        BRAID_CHECK(braid__root_start(&any, layout.secret, (int)timeout, &bound));
    }
    BRAID_INFO(BOOT, "init_env: rank %d of %d from %s, root %s", rank, nranks, who, root_text);
    braid__id_encode(&layout, &id);
    return braid_comm_init_rank_config(comm, nranks, id, rank, config);
}
