/*
 * Memory kinds. Every call's buffers are classified once, per pointer, so that the call goes
 * to the executor that can touch them (host or device) and each connector knows whether its
 * transport may read them in place or must stage them.
 */
#ifndef BRAID_BASE_MEMKIND_H
#define BRAID_BASE_MEMKIND_H

#include <stdint.h>

#include "braid.h"

enum braid_mem_kind {
    BRAID_MEM_HOST = 0,        /* ordinary host memory (malloc, mmap, stack) */
    BRAID_MEM_HOST_PINNED = 1, /* host memory the CUDA driver pinned or allocated (host-mapped) */
    BRAID_MEM_MANAGED = 2,     /* CUDA managed memory: reachable from the host and the GPUs */
    BRAID_MEM_DEVICE = 3,      /* GPU memory: only kernels and copies may touch it */
    BRAID_MEM_KINDS = 4
};

#define BRAID_MEM_BIT(kind) (1u << (kind))
/* The kinds the CPU may load and store directly. */
#define BRAID_MEM_HOST_ACCESSIBLE                                                                  \
    (BRAID_MEM_BIT(BRAID_MEM_HOST) | BRAID_MEM_BIT(BRAID_MEM_HOST_PINNED) |                        \
     BRAID_MEM_BIT(BRAID_MEM_MANAGED))

struct braid_mem_info {
    enum braid_mem_kind kind;
    int device; /* CUDA device of DEVICE and MANAGED memory, -1 otherwise */
};

/* "host", "host-pinned", "managed", "device". */
const char *braid__mem_kind_name(enum braid_mem_kind kind);

/* Pages recently found mapped (the no-driver check); owned by whoever calls, e.g. one per
 * comm, used by one thread at a time. Zero-initialised is empty. */
#define BRAID_MEM_CACHE_PAGES 8
struct braid_mem_cache {
    uintptr_t page[BRAID_MEM_CACHE_PAGES]; /* page numbers + 1 (0: empty) */
    unsigned next;
};

/*
 * Classifies the memory at ptr. With a working CUDA driver the driver answers; without one a
 * pointer this process has not mapped cannot be host memory, so it fails with
 * BRAID_ERR_INVALID_ARGUMENT naming the argument ("<fn>: <arg>"), the reason the driver is
 * unavailable and what to do. NULL is host memory (callers check NULL themselves). cache (may
 * be NULL) remembers pages found mapped, so that buffers passed again cost no system call.
 * Thread-safe for distinct caches.
 */
braid_result_t braid__mem_query(struct braid_mem_cache *cache, const void *ptr, const char *fn,
                                const char *arg, struct braid_mem_info *out);

#endif
