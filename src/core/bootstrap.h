/*
 * Bootstrap: the out-of-band TCP network of one comm. It introduces the ranks (through the
 * root, or through a parent comm for split), then carries small tagged messages between any
 * two ranks, all-gathers and barriers. Every wait is bounded by the comm's connect timeout and
 * the abort flag. Every frame is bounded: a length over the receiver's bound is an error.
 * Not thread-safe: one thread uses a bootstrap at a time (the comm's).
 */
#ifndef BRAID_CORE_BOOTSTRAP_H
#define BRAID_CORE_BOOTSTRAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/net.h"
#include "base/peer.h"

#define BRAID_SECRET_BYTES      16
#define BRAID_BOOTSTRAP_MAX_MSG (256u << 20)

/* Message tags: the purpose in the top byte, a sequence below. */
#define BRAID_TAG_ALLGATHER (1ull << 56)
#define BRAID_TAG_BARRIER   (2ull << 56)
#define BRAID_TAG_CONNECT   (3ull << 56)
#define BRAID_TAG_SPLIT     (4ull << 56)
#define BRAID_TAG_SEQ_MASK  ((1ull << 56) - 1)

/* The unique id's layout inside braid_unique_id_t. */
struct braid_id_layout {
    uint32_t magic;
    uint32_t format;
    uint8_t secret[BRAID_SECRET_BYTES];
    union braid_sockaddr root;
    uint32_t checksum; /* over the bytes above */
};

struct braid_bootstrap;

/* Decodes and checks an id (magic, format, checksum); errors say how it was damaged. */
braid_result_t braid__id_decode(const braid_unique_id_t *id, struct braid_id_layout *out);
void braid__id_encode(const struct braid_id_layout *layout, braid_unique_id_t *id);

/* Starts a root thread listening on `addr` (port 0 picks one) for one job with `secret`;
 * *bound gets the address to put in the id. The thread exits once it has introduced the ranks
 * or after timeout_ms without a new arrival. */
braid_result_t braid__root_start(const union braid_sockaddr *addr, const uint8_t *secret,
                                 int timeout_ms, union braid_sockaddr *bound);

/* Joins the job at the root: sends `self`, receives every rank's info into all[nranks]. */
braid_result_t braid__root_join(const union braid_sockaddr *root, const uint8_t *secret, int rank,
                                int nranks, int timeout_ms, const atomic_int *abort_flag,
                                const struct braid_peer_info *self, struct braid_peer_info *all);

/* Creates this rank's listener on the interface that reaches `toward` (may be NULL). */
braid_result_t braid__bootstrap_create(int rank, int nranks, const uint8_t *secret,
                                       const union braid_sockaddr *toward, int timeout_ms,
                                       const atomic_int *abort_flag, struct braid_bootstrap **out);
/* This rank's listener address (goes into its peer info). */
const union braid_sockaddr *braid__bootstrap_addr(const struct braid_bootstrap *bs);
/* Sets the peers' listener addresses (from the root's table, or through a parent comm). */
void braid__bootstrap_set_peers(struct braid_bootstrap *bs, const struct braid_peer_info *all);

braid_result_t braid__bootstrap_send(struct braid_bootstrap *bs, int peer, uint64_t tag,
                                     const void *data, size_t len);
/* Receives the message with `tag` from `peer`, which must be exactly len bytes. */
braid_result_t braid__bootstrap_recv(struct braid_bootstrap *bs, int peer, uint64_t tag, void *data,
                                     size_t len);
/* Ring all-gather: all[rank * each .. +each) is this rank's part on entry. */
braid_result_t braid__bootstrap_allgather(struct braid_bootstrap *bs, void *all, size_t each);
/* Ring all-gather of parts of different sizes, known to every rank: parts[r] (lens[r] bytes)
 * is rank r's; on entry only this rank's is set, the others are allocated here (malloc). */
braid_result_t braid__bootstrap_allgatherv(struct braid_bootstrap *bs, void **parts,
                                           const uint64_t *lens);
braid_result_t braid__bootstrap_barrier(struct braid_bootstrap *bs);
void braid__bootstrap_destroy(struct braid_bootstrap *bs);

#endif
