/*
 * The socket transport's connector state and wire format, shared by socket.c (setup and
 * teardown) and socket_io.c (the data path the proxy runs).
 *
 * Wire: a connector is `nstreams` TCP connections. Each carries frames: a 32-byte header,
 * then `len` payload bytes that belong at `offset` of FIFO slot `seq`, whose whole payload is
 * `total` bytes. A small slot travels whole on stream seq % nstreams; a large one is striped,
 * part i on stream i (socket_stripe.h). The receiver needs no knowledge of the split: it counts
 * the bytes of each slot and publishes the slot once it has `total`. Control frames (BYE on
 * an orderly close, POISON when the sender's comm broke) have no payload; the receiver sends
 * them back the other way when it closes or breaks, since it has nothing else to say.
 */
#ifndef BRAID_TRANSPORT_SOCKET_IO_H
#define BRAID_TRANSPORT_SOCKET_IO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/net.h"
#include "transport/proxy.h"
#include "transport/transport.h"

#define SOCK_FRAME_MAGIC 0x42534b46u /* "BSKF" */
#define SOCK_HELLO_MAGIC 0x42534b48u /* "BSKH" */
#define SOCK_TOKEN_BYTES 16
#define SOCK_MAX_STREAMS 256
#define SOCK_RBUF_BYTES  4096

/* Why a peer went away, least telling first. */
enum sock_gone { SOCK_GONE_BYE = 1, SOCK_GONE_LOST = 2, SOCK_GONE_POISON = 3 };

enum sock_frame_type { SOCK_FRAME_DATA = 1, SOCK_FRAME_BYE = 2, SOCK_FRAME_POISON = 3 };

/* Host byte order: braid assumes every rank of a job has the same endianness. */
struct sock_frame {
    uint32_t magic;
    uint32_t type;
    uint64_t seq;
    uint32_t total;
    uint32_t offset;
    uint32_t len;
    uint32_t pad;
};

/* Owned by whichever thread moves its bytes: the proxy, or its I/O helper (socket_helpers.h). */
struct sock_stream {
    int fd;
    uint64_t seq; /* sender: next slot to look at; receiver: slot of the frame being read */
    struct sock_frame hdr;
    size_t hdr_done;  /* header bytes moved so far */
    size_t body_done; /* payload bytes moved so far */
    int in_frame;     /* sender: hdr describes a frame being sent */
    int bye;          /* a BYE or POISON frame was read on it, or it broke */
    int poisoned;     /* sender: POISON sent (or the stream shut) after the comm broke */
    /* Receiver: bytes read ahead of where they go, so one recv() takes a header with the small
     * payload (and the headers) behind it; large payloads are read straight into the slot. */
    uint32_t rpos, rlen;
    char rbuf[SOCK_RBUF_BYTES];
};

struct sock_conn {
    struct braid_proxy_item item; /* first: the proxy hands this back */
    struct braid_conn *conn;
    int nstreams;
    struct sock_stream *streams;
    int *fds; /* [nstreams], for the proxy */
    int listen_fd;
    uint8_t token[SOCK_TOKEN_BYTES];
    char peer_desc[160]; /* "rank 3 (host b, 10.250.0.3:4242)" for errors */
    void *mem;           /* the FIFO, page aligned */
    size_t mem_bytes;
    int timeout_ms;
    int registered;
    /* BRAID_SOCKET_NTHREADS > 1: helper threads move the streams' bytes (stream i belongs to
     * helper i % nhelpers) and the proxy only publishes; 0: the proxy moves them too. */
    int nhelpers;
    int helped;            /* registered with the helpers */
    atomic_int helpers_in; /* helpers inside a pass over this connector */
    /* Guards the per-slot receive bookkeeping and the peer-gone report where several threads
     * touch them (nhelpers > 0); uncontended otherwise. */
    pthread_mutex_t lock;
    /* Per-slot bookkeeping. `count` is touched only while publishing (under lock with
     * helpers); elsewhere the FIFO's published head or tail says the same. */
    uint64_t count; /* sender: slots fully sent; receiver: slots published */
    uint64_t slot_seq[BRAID_FIFO_MAX_SLOTS]; /* receiver: the seq a slot currently holds */
    /* sender: parts sent; receiver: bytes received */
    _Atomic uint32_t slot_done[BRAID_FIFO_MAX_SLOTS];
    uint32_t slot_total[BRAID_FIFO_MAX_SLOTS];
    uint64_t last_check_ns; /* sender: when the peer's direction was last read */
    int poison_sent;
    atomic_int byes;      /* receiver: streams that read a BYE */
    atomic_int peer_gone; /* enum sock_gone, or 0; receiver: fail once the FIFO has drained */
    char gone_msg[256];   /* written under lock */
};

/* The proxy's progress functions for a send and a receive connector. */
int braid__sock_send_progress(struct braid_proxy_item *item);
int braid__sock_recv_progress(struct braid_proxy_item *item);

/* Records a broken connector: the executor fails its waiting call with this text. */
void braid__sock_fail(struct sock_conn *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends one control frame on every stream that sits between frames, without blocking. Only
 * while no other thread moves the streams (no helpers, or after they let go). */
void braid__sock_send_control(struct sock_conn *sc, uint32_t type);

/* The per-stream data path, for whichever thread owns stream i (proxy or helper). Sending: > 0
 * moved bytes, 0 nothing to do, < 0 the connection broke (reported). Receiving: whether it
 * moved bytes. After the comm broke, a sender's stream sends POISON and shuts (once). */
int braid__sock_stream_send(struct sock_conn *sc, int i, uint64_t head);
int braid__sock_stream_recv(struct sock_conn *sc, int i, uint64_t tail);

/* Publishes head (receiver) or tail (sender) past every slot the streams completed; returns
 * whether it moved. The proxy's passes call it; so do helpers, right after moving bytes. */
int braid__sock_publish(struct sock_conn *sc);

#endif
