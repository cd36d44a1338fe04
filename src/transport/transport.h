/*
 * Transports connect two ranks with connectors: one FIFO per (peer, channel, direction). A
 * transport is a `const struct braid_transport` registered in transports.c; the comm picks
 * the first whose can_connect() accepts a peer (or the one BRAID_TRANSPORT names).
 * Setting a connector up is a two-sided exchange run by connect.c:
 *   setup()   on both sides: create the local end, fill a blob for the peer;
 *   connect() on both sides with the peer's blob;
 *   ready()   on both sides once both have connected (e.g. unlink names);
 *   close()   at any point after setup, including after a failure part way.
 */
#ifndef BRAID_TRANSPORT_TRANSPORT_H
#define BRAID_TRANSPORT_TRANSPORT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/peer.h"
#include "braid.h"
#include "transport/fifo.h"

#define BRAID_CONN_BLOB_MAX 256

enum braid_conn_dir { BRAID_CONN_SEND = 0, BRAID_CONN_RECV = 1 };

struct braid_comm;
struct braid_transport;

struct braid_conn {
    int peer;
    int channel;
    enum braid_conn_dir dir;
    uint32_t nslots;
    size_t slot_bytes;
    struct braid_fifo_ctrl *fifo; /* set by connect(): the FIFO the executor uses */
    char *slots;
    uint64_t pos; /* sender: next head to publish; receiver: next tail */
    const struct braid_peer_info *peer_info;
    const struct braid_transport *transport;
    void *priv; /* the transport's own state */
    int connected;
    /* Set (with a message) by a transport whose connection broke, e.g. a peer reset seen by
     * the proxy; the executor fails the waiting call with this text. */
    atomic_int failed;
    char error[256];
    /* Sender only, set by transports that can send from the caller's memory (socket, unless
     * BRAID_NET_DIRECT=0): the executor may then post a slot whose payload lies at direct[i]
     * instead of in the slot, saving the copy. It sets direct[i] (NULL: in the slot) with
     * sizes[i] before publishing head, and keeps the memory unchanged until tail passes i: its
     * own later steps that write there wait, and the call returns only after. */
    int can_direct;
    const char *direct[BRAID_FIFO_MAX_SLOTS];
    /* Set by transports whose own threads move this connector's bytes and publish its
     * counters (socket I/O helpers): a caller waiting on it sleeps, never drives the proxy. */
    int own_threads;
    /* Ordering among operations of one group that use this connector: an operation may use
     * it while `serving` equals the ticket it drew from `next_ticket`. */
    uint64_t next_ticket;
    uint64_t serving;
};

struct braid_transport {
    const char *name;
    /* The far end of its FIFOs is this process's proxy thread, which rings the executor's
     * doorbell (proxy.h) when it publishes: a waiting executor may sleep instead of yield. */
    int proxied;
    int (*can_connect)(const struct braid_peer_info *self, const struct braid_peer_info *peer);
    braid_result_t (*setup)(struct braid_comm *comm, struct braid_conn *conn, void *blob,
                            size_t *bloblen);
    braid_result_t (*connect)(struct braid_comm *comm, struct braid_conn *conn, const void *blob,
                              size_t bloblen);
    braid_result_t (*ready)(struct braid_comm *comm, struct braid_conn *conn);
    /* Optional: called by the executor after it published a slot (send) or freed one (recv),
     * so a proxy that sleeps can wake; NULL when nothing must be woken (shm). */
    void (*notify)(struct braid_conn *conn);
    /* Closes the connector. For network transports this first lets the proxy finish sending
     * what the executor already posted (bounded by the comm's timeout), since a call returns
     * once its data is in the FIFO, not on the wire. */
    void (*close)(struct braid_conn *conn);
    /* Optional: called after a comm's connectors were poisoned. Returns once no thread of the
     * transport still reads memory the executor pointed it at (direct sends), and makes sure
     * the peers are told of the break soon. Thread-safe. */
    void (*quiesce)(void);
};

/* Chooses the transport for a peer (BRAID_TRANSPORT, else the first that can connect) and
 * logs the choice and its reason at INFO. */
braid_result_t braid__transport_select(const struct braid_peer_info *self,
                                       const struct braid_peer_info *peer,
                                       const struct braid_transport **out);

/* Makes sure every connector a set of plans needs exists and is connected. Collective among
 * the ranks the plans connect (each side calls it for the same plans in the same order).
 * flags[c * nranks + r] has bit 1 for "send to r on channel c", 2 for "receive from r". */
braid_result_t braid__connect(struct braid_comm *comm, const uint8_t *flags, int nchannels);

/* Runs every transport's quiesce hook (after a comm's connectors were poisoned). */
void braid__transports_quiesce(void);

/* Closes every connector of the comm. */
void braid__disconnect_all(struct braid_comm *comm);

#endif
