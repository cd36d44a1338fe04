/*
 * I/O helper threads of the socket transport (BRAID_SOCKET_NTHREADS > 1): one TCP stream costs
 * one core's copy rate, so a fast NIC needs several threads moving a connector's streams at
 * once. The process keeps a pool of helpers (as many as the largest BRAID_SOCKET_NTHREADS any
 * connector asked for); stream i of a connector belongs to helper i % nhelpers, which alone
 * moves its bytes (socket_io.c's per-stream functions) and publishes head or tail right after,
 * ringing the doorbell; the proxy still watches the peer and reports failures, and a helper
 * that saw the peer go wakes it. A helper spins briefly when idle, then sleeps in epoll_wait on its
 * own streams and an eventfd the executor's notify writes while it sleeps.
 */
#ifndef BRAID_TRANSPORT_SOCKET_HELPERS_H
#define BRAID_TRANSPORT_SOCKET_HELPERS_H

#include "braid.h"

#define SOCK_MAX_HELPERS 16

struct sock_conn;

/* Hands sc's streams to its sc->nhelpers helpers, starting threads as needed. Thread-safe. */
braid_result_t braid__sock_helpers_add(struct sock_conn *sc);

/* Takes sc's streams back: when it returns no helper touches sc, and the last connector's
 * removal stops the threads. Thread-safe; blocks for at most one helper pass. */
void braid__sock_helpers_remove(struct sock_conn *sc);

/* Wakes the helpers of sc if they sleep (the executor published a counter). Lock-free. */
void braid__sock_helpers_wake(struct sock_conn *sc);

/* Wakes sc's helpers and returns once none is inside sc in a pass that began before the call
 * (after sc's comm was poisoned: later passes see the poison). Waits on sc only, never on
 * other connectors' helpers. Thread-safe. */
void braid__sock_helpers_quiesce(struct sock_conn *sc);

#endif
