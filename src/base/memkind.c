/*
 * Memory kinds, per pointer. With a working CUDA driver, cuPointerGetAttributes answers (host
 * memory the driver does not know is plain host memory). Without one there is no GPU memory in
 * this process that braid could use, so every pointer is host memory; but a pointer the
 * process has not even mapped is then a user error worth naming (a GPU pointer handed to a
 * braid that cannot see the driver, a pointer from another process), so the first page is
 * checked with mincore(), which fails with ENOMEM on unmapped addresses. The check costs a
 * system call (about 0.3 us), more than a small all-reduce takes, so the caller's cache (one
 * per comm) remembers the last pages found mapped: a training loop passes the same buffers
 * again and again.
 */
#include "base/memkind.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/drv_cuda.h"
#include "base/error.h"

const char *braid__mem_kind_name(enum braid_mem_kind kind)
{
    switch (kind) {
    case BRAID_MEM_HOST:
        return "host";
    case BRAID_MEM_HOST_PINNED:
        return "host-pinned";
    case BRAID_MEM_MANAGED:
        return "managed";
    case BRAID_MEM_DEVICE:
        return "device";
    default:
        return "unknown";
    }
}

/* cuda.h's CUpointer_attribute and CUmemorytype values used here. */
#define CU_PTR_MEMORY_TYPE    2
#define CU_PTR_IS_MANAGED     8
#define CU_PTR_DEVICE_ORDINAL 9
#define CU_MEMTYPE_HOST       1
#define CU_MEMTYPE_DEVICE     2
#define CU_MEMTYPE_UNIFIED    4

/* Asks the driver; 1 when it answered (host memory it does not know is plain host memory). */
static int cuda_kind(const void *ptr, struct braid_mem_info *out)
{
    const struct braid_cuda_api *cu = braid__cuda();
    if (!cu)
        return 0;
    unsigned memtype = 0, managed = 0;
    int ordinal = -1;
    braid_cu_deviceptr_t p = (braid_cu_deviceptr_t)(uintptr_t)ptr;
    if (cu->cuPointerGetAttributes) {
        /* Answers CUDA_SUCCESS with zeros for pointers the driver does not know. */
        braid_cu_pointer_attribute_t attrs[3] = {CU_PTR_MEMORY_TYPE, CU_PTR_IS_MANAGED,
                                                 CU_PTR_DEVICE_ORDINAL};
        void *data[3] = {&memtype, &managed, &ordinal};
        if (cu->cuPointerGetAttributes(3, attrs, data, p) != BRAID_CU_SUCCESS)
            memtype = 0;
    } else if (cu->cuPointerGetAttribute(&memtype, CU_PTR_MEMORY_TYPE, p) != BRAID_CU_SUCCESS) {
        memtype = 0; /* CUDA_ERROR_INVALID_VALUE: not a pointer the driver knows */
    } else {
        cu->cuPointerGetAttribute(&managed, CU_PTR_IS_MANAGED, p);
        cu->cuPointerGetAttribute(&ordinal, CU_PTR_DEVICE_ORDINAL, p);
    }
    if (managed) {
        out->kind = BRAID_MEM_MANAGED;
        out->device = ordinal;
    } else if (memtype == CU_MEMTYPE_DEVICE || memtype == CU_MEMTYPE_UNIFIED) {
        out->kind = BRAID_MEM_DEVICE;
        out->device = ordinal;
    } else if (memtype == CU_MEMTYPE_HOST) {
        out->kind = BRAID_MEM_HOST_PINNED;
    } else {
        return 0; /* unknown to the driver: host memory, checked like any other */
    }
    return 1;
}

static int page_known(const struct braid_mem_cache *cache, uintptr_t page)
{
    for (unsigned i = 0; cache && i < BRAID_MEM_CACHE_PAGES; i++)
        if (cache->page[i] == page + 1)
            return 1;
    return 0;
}

/* Whether the page holding ptr is mapped in this process (the no-driver check). */
static braid_result_t check_mapped(struct braid_mem_cache *cache, const void *ptr, const char *fn,
                                   const char *arg)
{
    static int page_shift; /* a power of two: a shift, not a division, on the fast path */
    if (!page_shift)
        page_shift = __builtin_ctzl((unsigned long)sysconf(_SC_PAGESIZE));
    uintptr_t page = (uintptr_t)ptr >> page_shift;
    if (page_known(cache, page))
        return BRAID_SUCCESS;
    unsigned char v;
    if (mincore((void *)(page << page_shift), 1, &v) != 0 && errno == ENOMEM) {
        if (braid__cuda())
            return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                              "%s: %s = %p is not memory of this process: neither mapped host "
                              "memory nor a pointer the CUDA driver knows (freed, or from "
                              "another process?)",
                              fn, arg, ptr);
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s: %s = %p is not memory of this process, and braid has no CUDA "
                          "driver to ask whether it is a GPU pointer (%s); pass host memory, or "
                          "run where the NVIDIA driver is installed and a GPU is visible",
                          fn, arg, ptr, braid__cuda_why());
    }
    if (cache)
        cache->page[cache->next++ % BRAID_MEM_CACHE_PAGES] = page + 1;
    return BRAID_SUCCESS;
}

braid_result_t braid__mem_query(struct braid_mem_cache *cache, const void *ptr, const char *fn,
                                const char *arg, struct braid_mem_info *out)
{
    out->kind = BRAID_MEM_HOST;
    out->device = -1;
    if (!ptr)
        return BRAID_SUCCESS;
    if (cuda_kind(ptr, out))
        return BRAID_SUCCESS;
    return check_mapped(cache, ptr, fn, arg);
}
