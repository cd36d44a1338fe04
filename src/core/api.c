/*
 * Small public entry points: version, result names, last error, settings listing.
 */
#include <stdio.h>

#include "base/check.h"
#include "base/params.h"
#include "core/comm.h"

#ifndef BRAID_GIT_HASH
#define BRAID_GIT_HASH "unknown"
#endif
/* The device executor is its own build option; until it is compiled in, buffers are host
 * memory only. */
#ifdef BRAID_WITH_DEVICE_EXEC
#define BRAID_CUDA_STATE "host + cuda executors"
#else
#define BRAID_CUDA_STATE "host executor"
#endif

int braid_version(void)
{
    return BRAID_VERSION_CODE;
}

const char *braid_version_string(void)
{
#define STR2(x) #x
#define STR(x)  STR2(x)
    return STR(BRAID_VERSION_MAJOR) "." STR(BRAID_VERSION_MINOR) "." STR(
        BRAID_VERSION_PATCH) " (git " BRAID_GIT_HASH ", " BRAID_CUDA_STATE ")";
#undef STR
#undef STR2
}

const char *braid_result_string(braid_result_t result)
{
    switch (result) {
    case BRAID_SUCCESS:
        return "BRAID_SUCCESS: no error";
    case BRAID_IN_PROGRESS:
        return "BRAID_IN_PROGRESS: operation still in progress";
    case BRAID_ERR_INVALID_ARGUMENT:
        return "BRAID_ERR_INVALID_ARGUMENT: invalid argument";
    case BRAID_ERR_INVALID_USAGE:
        return "BRAID_ERR_INVALID_USAGE: invalid usage";
    case BRAID_ERR_SYSTEM:
        return "BRAID_ERR_SYSTEM: system error";
    case BRAID_ERR_INTERNAL:
        return "BRAID_ERR_INTERNAL: internal error (a bug in braid)";
    case BRAID_ERR_REMOTE:
        return "BRAID_ERR_REMOTE: a remote rank failed or disagreed";
    case BRAID_ERR_TIMEOUT:
        return "BRAID_ERR_TIMEOUT: timed out";
    case BRAID_ERR_NOT_SUPPORTED:
        return "BRAID_ERR_NOT_SUPPORTED: not supported";
    case BRAID_ERR_NO_MEMORY:
        return "BRAID_ERR_NO_MEMORY: out of memory";
    case BRAID_ERR_ABORTED:
        return "BRAID_ERR_ABORTED: the comm was aborted";
    case BRAID_ERR_VERSION_MISMATCH:
        return "BRAID_ERR_VERSION_MISMATCH: ranks run different "
               "braid versions";
    case BRAID_ERR_AUTH:
        return "BRAID_ERR_AUTH: job secret mismatch";
    }
    return "unknown braid result code";
}

/* The registry check avoids reading a freed comm; fall back to this thread's error. */
int braid__comm_is_live(const struct braid_comm *comm);

const char *braid_last_error(braid_comm_t comm)
{
    if (comm && braid__comm_is_live(comm))
        return comm->last_error;
    return braid__err_text();
}

int braid_param_count(void)
{
    int n;
    braid__param_table(&n);
    return n;
}

braid_result_t braid_param_get(int index, braid_param_t *param)
{
    int n;
    const struct braid_param_def *table = braid__param_table(&n);
    BRAID_ARG_CHECK(param != NULL, "param is NULL");
    BRAID_ARG_CHECK(index >= 0 && index < n, "index %d is outside [0, %d)", index, n);
    param->name = table[index].name;
    param->default_value = table[index].default_value;
    param->value = braid__param_str(table[index].name);
    param->help = table[index].help;
    return BRAID_SUCCESS;
}
