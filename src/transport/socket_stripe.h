/*
 * How a slot's payload is split over a connector's streams: pure arithmetic, shared by the
 * sender (which decides) and the unit tests. The receiver never needs it (frames say where
 * their bytes go).
 */
#ifndef BRAID_TRANSPORT_SOCKET_STRIPE_H
#define BRAID_TRANSPORT_SOCKET_STRIPE_H

#include <stdint.h>

/* Below SOCK_STRIPE_MIN, a slot travels whole on one stream, and consecutive slots take turns
 * over the streams, which already keeps them all busy in a pipelined transfer; striping a
 * default 128 KiB slot measured no faster and costs a header and two more system calls per
 * part. Below SOCK_ROTATE_MIN, a slot always takes stream 0: small messages are latency-bound,
 * and one stream carrying them all answered an 8-byte all-reduce in 13 us where taking turns
 * over two took 16 us (2 namespaces on a veth). */
#define SOCK_STRIPE_MIN  262144u
#define SOCK_ROTATE_MIN  65536u
#define SOCK_STRIPE_GRAN 4096u

/* Bytes per part of a striped slot of `size` bytes over n streams (page multiple). */
static inline uint32_t braid__stripe_chunk(uint32_t size, int n)
{
    uint32_t chunk = (size + (uint32_t)n - 1) / (uint32_t)n;
    chunk = (chunk + SOCK_STRIPE_GRAN - 1) / SOCK_STRIPE_GRAN * SOCK_STRIPE_GRAN;
    return chunk < SOCK_STRIPE_MIN / 2 ? SOCK_STRIPE_MIN / 2 : chunk;
}

/* Number of frames (parts) slot `size` is sent as; at least 1, even for an empty slot. */
static inline int braid__stripe_parts(uint32_t size, int n)
{
    if (n <= 1 || size < SOCK_STRIPE_MIN)
        return 1;
    uint32_t chunk = braid__stripe_chunk(size, n);
    return (int)((size + chunk - 1) / chunk);
}

/* Whether stream s carries a part of slot seq (of `size` bytes, n streams); if so, *off and
 * *len get the part's place in the slot. */
static inline int braid__stripe_part(uint64_t seq, uint32_t size, int n, int s, uint32_t *off,
                                     uint32_t *len)
{
    if (braid__stripe_parts(size, n) == 1) {
        *off = 0;
        *len = size;
        return (size < SOCK_ROTATE_MIN ? 0 : (int)(seq % (uint64_t)n)) == s;
    }
    uint32_t chunk = braid__stripe_chunk(size, n);
    if ((uint64_t)s * chunk >= size)
        return 0;
    *off = (uint32_t)s * chunk;
    *len = size - *off < chunk ? size - *off : chunk;
    return 1;
}

#endif
