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
 *
 * A caller blocked in a host collective whose steps all wait on network connectors may drive
 * the passes itself (braid__proxy_drive_begin/drive/drive_end) while it has a core to spare:
 * handing every slot between two threads costs more than the copy it hands over when ranks and
 * proxies share few cores. Meanwhile the proxy thread stands by. One driver at a time; its
 * passes progress every item of the process. A driver whose call returns with nothing left to
 * send lingers: the proxy thread stays asleep, so back-to-back calls pay no wake-up, until
 * something needs it (another thread posts work or waits on the bell, a connector is added or
 * closed: braid__proxy_wake) or 50 ms pass. A driver that leaves sends behind hands back at
 * once.
 */
#ifndef BRAID_TRANSPORT_PROXY_H
#define BRAID_TRANSPORT_PROXY_H

#include <stdatomic.h>

#include "braid.h"

#define BRAID_PROXY_NAP_MS 50

/* What an item's progress pass did (bits of its return value). */
#define BRAID_PROXY_MOVED     1 /* moved bytes or changed state: pass again soon */
#define BRAID_PROXY_PUBLISHED 2 /* published a FIFO counter or an error the executor awaits */
#define BRAID_PROXY_PENDING   4 /* holds posted data it could not send yet */

struct braid_proxy_item {
    /* Moves what it can without blocking; returns BRAID_PROXY_* bits, 0 when it found nothing
     * to do. Runs on the proxy thread or on a driving caller (below), one pass at a time. */
    int (*progress)(struct braid_proxy_item *item);
    const int *fds; /* descriptors whose readiness should wake the proxy */
    int nfds;
    /* Set by the proxy when one of fds reported an event since the item last looked; the
     * item clears it. Lets an item check rarely-used directions (a peer's control frames)
     * only when something arrived. */
    atomic_int events;
    /* Owned by the proxy: 1 while a pass runs the item's progress. */
    atomic_int in_pass;
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

/* Wakes the proxy if it sleeps, and takes the passes back from a lingering driver. Lock-free
 * and cheap while it runs. Thread-safe; callable from any thread. */
void braid__proxy_wake(void);

/* What a transport's notify hook calls after the executor published a FIFO counter
 * (posted_send: a slot to send; 0: a received slot freed). braid__proxy_wake(), except on the
 * thread that drives or lingers, whose own passes or hand-back cover it. */
void braid__proxy_notify(int posted_send);

/*
 * The executor's doorbell: an executor whose every pending step waits on proxy-served
 * connectors sleeps on it instead of yielding the core the proxy needs, and the proxy rings
 * it after a pass that published something (only when someone sleeps: a ring costs one load
 * otherwise). Protocol, free of lost wake-ups:
 *     seq = braid__proxy_bell_arm();   // announce the sleeper, read the bell
 *     ... poll the ops once more ...   // sees whatever was published before the ring
 *     if (nothing moved) braid__proxy_bell_wait(seq, timeout_ns);
 *     braid__proxy_bell_disarm();
 * Thread-safe; any number of executor threads may sleep on it at once.
 */
uint32_t braid__proxy_bell_arm(void);
void braid__proxy_bell_disarm(void);
/* Sleeps until the bell rang since braid__proxy_bell_arm() returned seq, or timeout_ns. */
void braid__proxy_bell_wait(uint32_t seq, uint64_t timeout_ns);
/* Wakes every sleeper; cheap when none sleeps. Called by the proxy, and by abort. */
void braid__proxy_bell_ring(void);

/* Returns once no pass that began before the call is running the item's progress. A comm that
 * broke poisons its connectors and then calls this for each of them: passes after it see the
 * poison and no longer read the caller's buffers (direct sends, transport.h), so the call may
 * return them. Waits on this item only, never on other comms' items. Thread-safe. */
void braid__proxy_item_quiesce(struct braid_proxy_item *item);

/* Makes the calling thread the driver; 0 if another thread drives. */
int braid__proxy_drive_begin(void);
/* One pass over every item on the driver's thread, if one could find anything (fresh: the
 * caller's executor progressed since its last pass); returns whether it moved anything. */
int braid__proxy_drive(int fresh);

/* Whether the driver owes a full pass to work another thread posted (cheap: one load); a
 * driver whose own steps keep progressing checks it now and then. */
int braid__proxy_kicked(void);
/* How a thread that may drive stops (braid__proxy_drive_end). */
enum braid_drive_end {
    BRAID_DRIVE_HAND_BACK = 0, /* the call waits on network connectors it will not drive */
    BRAID_DRIVE_RETURN = 1,    /* the call returns */
    BRAID_DRIVE_LOCAL = 2,     /* the call waits on local connectors only */
};

/* Hands the passes back to the proxy thread, or keeps them lingering where nothing was left to
 * send and the call returns or waits only on local connectors; does nothing on a thread that
 * neither drives nor lingers. Wakes callers asleep on the bell. */
void braid__proxy_drive_end(int how);

#endif
