/*
 * The connector FIFO: a ring of slots between one sender and one receiver, with the sender's
 * head and the receiver's tail counters on separate cache lines. It lives wherever both sides
 * can reach it (shared memory between processes, host memory staged by the proxy for network
 * peers, GPU memory for p2p); the executors only ever see this structure.
 *
 * Protocol: the sender waits until head - tail < nslots, fills slot head % nslots, writes its
 * size, then publishes head + 1 (release). The receiver waits until head > tail (acquire),
 * consumes slot tail % nslots, then publishes tail + 1 (release).
 */
#ifndef BRAID_TRANSPORT_FIFO_H
#define BRAID_TRANSPORT_FIFO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define BRAID_FIFO_MAX_SLOTS 64
#define BRAID_CACHELINE      64

struct braid_fifo_ctrl {
    _Alignas(BRAID_CACHELINE) _Atomic uint64_t head; /* written by the sender */
    _Alignas(BRAID_CACHELINE) _Atomic uint64_t tail; /* written by the receiver */
    _Alignas(BRAID_CACHELINE) uint64_t sizes[BRAID_FIFO_MAX_SLOTS];
    /* Set by either side when its comm breaks, so the other side fails at once instead of
     * waiting for its timeout. */
    _Alignas(BRAID_CACHELINE) _Atomic uint32_t poisoned;
};

/* Bytes of a FIFO's memory: the control block, then the slots, page aligned. */
static inline size_t braid__fifo_bytes(uint32_t nslots, size_t slot_bytes)
{
    size_t ctrl = (sizeof(struct braid_fifo_ctrl) + 4095) & ~(size_t)4095;
    return ctrl + (size_t)nslots * slot_bytes;
}

static inline char *braid__fifo_slots(struct braid_fifo_ctrl *ctrl)
{
    return (char *)ctrl + ((sizeof(struct braid_fifo_ctrl) + 4095) & ~(size_t)4095);
}

#endif
