/*
 * The executor table: which executor runs which memory kind. Adding an executor is one new
 * file and one line here.
 */
#include <stdlib.h>

#include "base/check.h"
#include "exec/executor.h"
#include "exec/host_exec.h"

/* In order of preference: the first whose mem_kinds has the call's kind runs it. */
static const struct braid_executor *const executors[] = {
    &braid__host_executor,
};

#define NEXECUTORS (sizeof(executors) / sizeof(executors[0]))

braid_result_t braid__executor_for(const struct braid_mem_info *mem, const char *what,
                                   const struct braid_executor **out)
{
    for (size_t i = 0; i < NEXECUTORS; i++)
        if (executors[i]->version == BRAID_EXECUTOR_VERSION &&
            (executors[i]->mem_kinds & BRAID_MEM_BIT(mem->kind))) {
            *out = executors[i];
            return BRAID_SUCCESS;
        }
    return braid__err(BRAID_ERR_NOT_SUPPORTED,
                      "%s: the buffers are %s memory (CUDA device %d), and this build of braid "
                      "has no executor for them (it runs host, pinned and managed memory); pass "
                      "host buffers, or use a braid built with the device executor",
                      what, braid__mem_kind_name(mem->kind), mem->device);
}

void braid__exec_ctx_fini(struct braid_exec_ctx *ctx)
{
    free(ctx->spare);
    ctx->spare = NULL;
    ctx->spare_bytes = 0;
}
