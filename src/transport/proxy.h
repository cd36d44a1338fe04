/*
 * The proxy: one thread per process that progresses every network connector of every comm in
 * the process. The executor never touches a socket; it fills and drains connector FIFOs in
 * local memory and calls the transport's notify hook, and the proxy moves the slots between
 * those FIFOs and the wire.
 *
 * Items (one per connector) register a progress function and the descriptors it uses. The
 * proxy calls every item's progress function in turn while any of them moves data; once a
 * short spin finds nothing to do it sleeps in epoll_wait on the items' descriptors (edge
 * triggered, so a socket becoming readable or writable wakes it) and on an eventfd that
 * braid__proxy_wake() writes only while the proxy is asleep. A sleeping proxy also wakes every
 * BRAID_PROXY_NAP_MS, so that flags set without a wake-up (a poisoned FIFO, a close request)
 * are seen within that bound.
 */
#ifndef BRAID_TRANSPORT_PROXY_H
#define BRAID_TRANSPORT_PROXY_H

#include <stdatomic.h>

#include "braid.h"

#define BRAID_PROXY_NAP_MS 50

struct braid_proxy_item {
    /* Moves what it can without blocking; returns > 0 when it moved data or changed state,
     * 0 when it found nothing to do. Runs on the proxy thread only, one item at a time. */
    int (*progress)(struct braid_proxy_item *item);
    const int *fds; /* descriptors whose readiness should wake the proxy */
    int nfds;
    /* Set by the proxy when one of fds reported an event since the item last looked; the
     * item clears it. Lets an item check rarely-used directions (a peer's control frames)
     * only when something arrived. */
    atomic_int events;
    /* Owned by the proxy. */
    struct braid_proxy_item *next;
    struct braid_proxy_item *prev;
};

/*
 * Registers an item, starting the proxy thread if it is the first one. The item and its fds
 * must stay valid until braid__proxy_remove() returns. Blocking: briefly (a mutex). Thread-safe.
 */
braid_result_t braid__proxy_add(struct braid_proxy_item *item);

/*
 * Deregisters an item: when it returns, the proxy is not running the item's progress and
 * never will again, so the caller may close its fds and free it. Stops the proxy thread when
 * the last item leaves. Blocking: up to one progress pass. Thread-safe.
 */
void braid__proxy_remove(struct braid_proxy_item *item);

/* Wakes the proxy if it sleeps. Lock-free and cheap while it runs: call it after publishing a
 * FIFO counter. Thread-safe; callable from any thread. */
void braid__proxy_wake(void);

#endif
