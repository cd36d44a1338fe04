/*
 * Memory kinds, per pointer. With a working CUDA driver, cuPointerGetAttributes answers (host
 * memory the driver does not know is plain host memory). Without one there is no GPU memory in
 * this process that braid could use, so every pointer is host memory; but a pointer the
 * process has not even mapped is then a user error worth naming (a GPU pointer handed to a
 * braid that cannot see the driver, a pointer from another process), so the first page is
 * checked with mincore(), which fails with ENOMEM on unmapped addresses. The check costs a
 * system call (about 0.3 us), more than a small all-reduce takes, so each thread remembers the
 * last pages it found mapped: a training loop passes the same buffers again and again.
 */
#include "base/memkind.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"

#define PAGE_CACHE 8

static _Thread_local struct {
    uintptr_t page[PAGE_CACHE]; /* page numbers + 1 (0: empty) */
    unsigned next;
} mapped;

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

/* Filled in with the CUDA loader (pending): 1 when the driver classified ptr. */
static int cuda_kind(const void *ptr, struct braid_mem_info *out)
{
    (void)ptr;
    (void)out;
    return 0;
}

static const char *cuda_why(void)
{
    return "the CUDA driver is not loaded";
}

static int page_known(uintptr_t page)
{
    for (unsigned i = 0; i < PAGE_CACHE; i++)
        if (mapped.page[i] == page + 1)
            return 1;
    return 0;
}

/* Whether the page holding ptr is mapped in this process (the no-driver check). */
static braid_result_t check_mapped(const void *ptr, const char *what)
{
    static long page_bytes;
    if (!page_bytes)
        page_bytes = sysconf(_SC_PAGESIZE);
    uintptr_t page = (uintptr_t)ptr / (uintptr_t)page_bytes;
    if (page_known(page))
        return BRAID_SUCCESS;
    unsigned char v;
    if (mincore((void *)(page * (uintptr_t)page_bytes), 1, &v) != 0 && errno == ENOMEM)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s = %p is not memory of this process, and braid has no CUDA driver "
                          "to ask whether it is a GPU pointer (%s); pass host memory, or run "
                          "where the NVIDIA driver is installed and a GPU is visible",
                          what, ptr, cuda_why());
    mapped.page[mapped.next++ % PAGE_CACHE] = page + 1;
    return BRAID_SUCCESS;
}

braid_result_t braid__mem_query(const void *ptr, const char *what, struct braid_mem_info *out)
{
    out->kind = BRAID_MEM_HOST;
    out->device = -1;
    if (!ptr)
        return BRAID_SUCCESS;
    if (cuda_kind(ptr, out))
        return BRAID_SUCCESS;
    return check_mapped(ptr, what);
}
