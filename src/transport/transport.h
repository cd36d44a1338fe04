/*
 * Transports connect two ranks with connectors: one FIFO per (peer, channel, direction). A
 * transport is a `const struct braid_transport` of function pointers registered in one table
 * (transports.c); the comm picks the first whose can_connect() accepts a peer (or the one
 * BRAID_TRANSPORT names). Adding a transport is one new file and one table line.
 *
 * A transport never sees the comm: it gets a struct braid_transport_ctx, the narrow view the
 * orchestrator fills for each comm (ranks, peers, FIFO geometry, timeouts, the abort flag and
 * out-of-band messages), which also owns the comm's connectors.
 *
 * Setting a connector up is a two-sided exchange run by connect.c:
 *   setup()   on both sides: create the local end, fill a blob for the peer;
 *   connect() on both sides with the peer's blob;
 *   ready()   on both sides once both have connected (e.g. unlink names);
 *   close()   at any point after setup, including after a failure part way.
 * Optional hooks a transport leaves out get defaults (transports.c) that do nothing or answer
 * BRAID_ERR_NOT_SUPPORTED, so call sites never test for NULL.
 */
#ifndef BRAID_TRANSPORT_TRANSPORT_H
#define BRAID_TRANSPORT_TRANSPORT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/memkind.h"
#include "base/peer.h"
#include "braid.h"
#include "transport/fifo.h"

#define BRAID_CONN_BLOB_MAX 256
/* Channels per comm; connectors are indexed by (direction, channel, peer). */
#define BRAID_MAX_CHANNELS 64
/* The layout of struct braid_transport this build expects (its `version`). */
#define BRAID_TRANSPORT_VERSION 1

enum braid_conn_dir { BRAID_CONN_SEND = 0, BRAID_CONN_RECV = 1 };

struct braid_transport;

/*
 * What the transport layer may know of one comm, filled by the orchestrator before the first
 * connector is set up and owned by the comm. Transports read it; connect.c and the executors
 * reach the connectors through it.
 */
struct braid_transport_ctx {
    int rank;
    int nranks;
    const struct braid_peer_info *peers; /* [nranks], this rank's included */
    uint32_t nslots;                     /* slots per FIFO */
    size_t slot_bytes;                   /* bytes per slot */
    int timeout_ms;                      /* bound on a wait for data (BRAID_TIMEOUT_MS) */
    int connect_timeout_ms;              /* bound on connection setup */
    const atomic_int *abort_flag;        /* set by braid_comm_abort(): every wait gives up */
    /* Out-of-band messages to any rank of the comm (the bootstrap), reliable and ordered per
     * (peer, tag); the transport layer owns the low 56 bits of the tag, the comm keeps its
     * messages apart from its own. send does not wait for the peer's recv. */
    braid_result_t (*oob_send)(void *oob, int peer, uint64_t tag, const void *data, size_t len);
    braid_result_t (*oob_recv)(void *oob, int peer, uint64_t tag, void *data, size_t len);
    void *oob;
    /* The comm's connectors, created as its plans need them (braid__connect):
     * [2][BRAID_MAX_CHANNELS][nranks], NULL where none exists yet. */
    struct braid_conn **conns;
    uint32_t *connect_seq; /* [nranks]: setup exchanges done with each peer */
};

/* Allocates the connector table of ctx, whose scalar fields the caller fills. */
braid_result_t braid__transport_ctx_init(struct braid_transport_ctx *ctx, int nranks);
/* Closes every connector and frees the table (the ctx may be zeroed or half made). */
void braid__transport_ctx_fini(struct braid_transport_ctx *ctx);
/* Marks every connector of the comm poisoned, so peers waiting on them fail at once. */
void braid__transport_ctx_poison(struct braid_transport_ctx *ctx);
/* After a poison: returns once no thread of any transport still reads memory the comm's
 * executor pointed its connectors at (direct sends), and the peers will hear of the break
 * soon. Touches only this comm's connectors; other comms carry on undisturbed. */
void braid__transport_ctx_quiesce(struct braid_transport_ctx *ctx);

/* Closes and frees one connector (NULL is a no-op). */
void braid__conn_drop(struct braid_conn *conn);

/* The connector slot of (dir, channel, peer). */
static inline struct braid_conn **braid__conn_slot(const struct braid_transport_ctx *ctx, int dir,
                                                   int channel, int peer)
{
    return &ctx->conns[((size_t)dir * BRAID_MAX_CHANNELS + (size_t)channel) * ctx->nranks + peer];
}

/* Number of connector slots of the table (for walks over all of them). */
static inline size_t braid__conn_slots(const struct braid_transport_ctx *ctx)
{
    return 2 * (size_t)BRAID_MAX_CHANNELS * (size_t)ctx->nranks;
}

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

/* Memory registered with a transport (reg_mem): what it is and where. */
struct braid_mem_region {
    const void *ptr;
    size_t bytes;
    enum braid_mem_kind kind;
    int device; /* CUDA device of DEVICE and MANAGED memory, -1 otherwise */
};

struct braid_transport {
    uint32_t version; /* BRAID_TRANSPORT_VERSION; a table of another layout is not used */
    const char *name;
    /* BRAID_MEM_BIT()s of the buffer kinds its connectors may read and write in place: direct
     * sends from the caller's memory, registration. Others are staged through the FIFO. */
    unsigned mem_kinds;
    /* The far end of its FIFOs is this process's proxy thread, which rings the executor's
     * doorbell (proxy.h) when it publishes: a waiting executor may sleep instead of yield. */
    int proxied;
    int (*can_connect)(const struct braid_peer_info *self, const struct braid_peer_info *peer);
    braid_result_t (*setup)(struct braid_transport_ctx *ctx, struct braid_conn *conn, void *blob,
                            size_t *bloblen);
    braid_result_t (*connect)(struct braid_transport_ctx *ctx, struct braid_conn *conn,
                              const void *blob, size_t bloblen);
    /* Optional (default: nothing to do). */
    braid_result_t (*ready)(struct braid_transport_ctx *ctx, struct braid_conn *conn);
    /* Optional (default: nothing): called by the executor after it published a slot (send) or
     * freed one (recv), so a proxy that sleeps can wake. */
    void (*notify)(struct braid_conn *conn);
    /* Closes the connector. For network transports this first lets the proxy finish sending
     * what the executor already posted (bounded by the comm's timeout), since a call returns
     * once its data is in the FIFO, not on the wire. */
    void (*close)(struct braid_conn *conn);
    /* Optional (default: nothing): called after the ctx's connectors were poisoned. Returns
     * once no thread of the transport still reads memory the executor pointed this ctx's
     * connectors at (direct sends), and makes sure the peers are told of the break soon.
     * Thread-safe; must not wait on other comms' connectors. */
    void (*quiesce)(struct braid_transport_ctx *ctx);
    /* Optional (default: BRAID_ERR_NOT_SUPPORTED): registers memory the transport's hardware
     * will read or write in place (verbs: a memory region; p2p: an IPC handle); *handle is the
     * transport's, released with dereg_mem. */
    braid_result_t (*reg_mem)(struct braid_transport_ctx *ctx, const struct braid_mem_region *mem,
                              void **handle);
    void (*dereg_mem)(struct braid_transport_ctx *ctx, void *handle);
};

/* Chooses the transport for a peer (BRAID_TRANSPORT, else the first that can connect) and
 * logs the choice and its reason at INFO. *out has every hook filled (defaults above). */
braid_result_t braid__transport_select(const struct braid_peer_info *self,
                                       const struct braid_peer_info *peer,
                                       const struct braid_transport **out);

/* Copies `in` into `out` with every optional hook it leaves NULL set to its default; 0 (out
 * untouched) when `in` is of another version or lacks a required hook. Pure. */
int braid__transport_complete(const struct braid_transport *in, struct braid_transport *out);

/* The registered transports with their defaults filled, in order of preference; *count gets
 * how many. */
const struct braid_transport *const *braid__transports(int *count);

/* Makes sure every connector a set of plans needs exists and is connected. Collective among
 * the ranks the plans connect (each side calls it for the same plans in the same order).
 * flags[c * nranks + r] has bit 1 for "send to r on channel c", 2 for "receive from r". */
braid_result_t braid__connect(struct braid_transport_ctx *ctx, const uint8_t *flags, int nchannels);

#endif
