/*
 * The proxy thread (see proxy.h). Locking: `lock` guards the item list and is held by the
 * proxy for a whole progress pass, so removing an item (which takes the lock) waits for the
 * pass to end and the caller may free the item at once. `life` serialises starting and
 * stopping the thread. The executor never takes either: it only calls braid__proxy_wake().
 */
#include "transport/proxy.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>

#include "core/check.h"
#include "core/log.h"
#include "core/net.h"

/* How long an idle proxy keeps polling its items before it sleeps: long enough to catch the
 * next slot of a pipelined transfer without a wake-up, short enough to leave the core to the
 * ranks when they outnumber the cores. */
#define PROXY_SPIN_NS 20000ull
/* While busy, the proxy still collects socket events this often (they tell items to look at
 * their peers' control frames). */
#define PROXY_HARVEST_NS 1000000ull
#define PROXY_MAX_EVENTS 64

static struct {
    pthread_mutex_t life;
    pthread_mutex_t lock;
    struct braid_proxy_item *items;
    int count;
    int epfd;
    int evfd;
    int running;
    pthread_t thread;
    atomic_int stop;
    atomic_int sleeping;
    /* The doorbell (proxy.h): a futex word and how many executors sleep on it. */
    _Atomic uint32_t bell;
    atomic_int bell_waiters;
    /* 1 while a caller's thread drives the passes (proxy.h); a futex word the proxy thread
     * sleeps on meanwhile. drive_harvest: when the driver last collected socket events. */
    _Atomic uint32_t driver;
    uint64_t drive_harvest;
} proxy = {
    .life = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .epfd = -1,
    .evfd = -1,
};

/* Marks the items whose descriptors reported events. Called with the lock held; an event may
 * name an item removed since epoll_wait returned, so only listed items are touched. */
static void mark_events(const struct epoll_event *ev, int n)
{
    for (int i = 0; i < n; i++) {
        if (!ev[i].data.ptr)
            continue; /* the eventfd */
        for (struct braid_proxy_item *it = proxy.items; it; it = it->next)
            if (it == ev[i].data.ptr) {
                atomic_store_explicit(&it->events, 1, memory_order_relaxed);
                break;
            }
    }
}

static void drain_eventfd(void)
{
    uint64_t v;
    while (read(proxy.evfd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
}

/* One pass over every item; returns whether any moved data. Rings the doorbell when an item
 * published something an executor may wait for. */
static int run_pass(int harvest)
{
    int work = 0;
    pthread_mutex_lock(&proxy.lock);
    if (harvest) {
        struct epoll_event ev[PROXY_MAX_EVENTS];
        int n = epoll_wait(proxy.epfd, ev, PROXY_MAX_EVENTS, 0);
        if (n > 0)
            mark_events(ev, n);
    }
    for (struct braid_proxy_item *it = proxy.items; it; it = it->next)
        work |= it->progress(it);
    pthread_mutex_unlock(&proxy.lock);
    if (work & BRAID_PROXY_PUBLISHED)
        braid__proxy_bell_ring();
    return work != 0;
}

static void sleep_on_events(void)
{
    struct epoll_event ev[PROXY_MAX_EVENTS];
    int n = epoll_wait(proxy.epfd, ev, PROXY_MAX_EVENTS, BRAID_PROXY_NAP_MS);
    if (n <= 0)
        return;
    int woken = 0;
    for (int i = 0; i < n; i++)
        woken |= ev[i].data.ptr == NULL;
    if (woken)
        drain_eventfd();
    pthread_mutex_lock(&proxy.lock);
    mark_events(ev, n);
    pthread_mutex_unlock(&proxy.lock);
}

/* Announces sleep, then looks once more: a wake-up that raced with the announcement either
 * finds sleeping == 1 (and writes the eventfd) or published its work before this last look. */
static int try_sleep(void)
{
    atomic_store(&proxy.sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (run_pass(1) || atomic_load(&proxy.stop)) {
        atomic_store(&proxy.sleeping, 0);
        return 0;
    }
    sleep_on_events();
    atomic_store(&proxy.sleeping, 0);
    return 1;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t timeout_ns)
{
    struct timespec ts = {(time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull)};
    /* Returns at once if *word != val; EINTR and spurious wake-ups only shorten the sleep. */
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static void *proxy_main(void *arg)
{
    (void)arg;
    braid__log_set_rank(-1);
    uint64_t idle_since = braid__now_ns(), last_harvest = idle_since;
    while (!atomic_load(&proxy.stop)) {
        if (atomic_load_explicit(&proxy.driver, memory_order_acquire)) {
            /* A caller drives: stand by without touching the items until it stops. */
            futex_wait(&proxy.driver, 1, BRAID_PROXY_NAP_MS * 1000000ull);
            idle_since = last_harvest = braid__now_ns();
            continue;
        }
        uint64_t now = braid__now_ns();
        int harvest = now - last_harvest > PROXY_HARVEST_NS;
        if (harvest)
            last_harvest = now;
        if (run_pass(harvest)) {
            idle_since = now;
            continue;
        }
        if (now - idle_since < PROXY_SPIN_NS)
            continue;
        if (try_sleep())
            last_harvest = braid__now_ns();
        idle_since = braid__now_ns();
    }
    return NULL;
}

static braid_result_t start_thread(void)
{
    braid_result_t res = BRAID_SUCCESS;
    proxy.epfd = epoll_create1(EPOLL_CLOEXEC);
    proxy.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (proxy.epfd < 0 || proxy.evfd < 0) {
        res = braid__err(BRAID_ERR_SYSTEM, "proxy: epoll/eventfd creation failed: %s",
                         strerror(errno));
        goto err_close;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(proxy.epfd, EPOLL_CTL_ADD, proxy.evfd, &ev) != 0) {
        res = braid__err(BRAID_ERR_SYSTEM, "proxy: epoll_ctl failed: %s", strerror(errno));
        goto err_close;
    }
    atomic_store(&proxy.stop, 0);
    atomic_store(&proxy.sleeping, 0);
    int rc = pthread_create(&proxy.thread, NULL, proxy_main, NULL);
    if (rc != 0) {
        res =
            braid__err(BRAID_ERR_SYSTEM, "proxy: cannot start the proxy thread: %s", strerror(rc));
        goto err_close;
    }
    proxy.running = 1;
    BRAID_INFO(PROXY, "proxy thread started");
    return BRAID_SUCCESS;
err_close:
    if (proxy.epfd >= 0)
        close(proxy.epfd);
    if (proxy.evfd >= 0)
        close(proxy.evfd);
    proxy.epfd = proxy.evfd = -1;
    return res;
}

static void stop_thread(void)
{
    atomic_store(&proxy.stop, 1);
    futex_wake(&proxy.driver);
    uint64_t one = 1;
    while (write(proxy.evfd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
    pthread_join(proxy.thread, NULL);
    close(proxy.epfd);
    close(proxy.evfd);
    proxy.epfd = proxy.evfd = -1;
    proxy.running = 0;
    BRAID_INFO(PROXY, "proxy thread stopped (no network connectors left)");
}

static braid_result_t watch_fds(struct braid_proxy_item *item, int op)
{
    for (int i = 0; i < item->nfds; i++) {
        /* Edge triggered: one event per change of readiness is enough, since every pass
         * retries each item until its sockets say EAGAIN. */
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = item};
        if (epoll_ctl(proxy.epfd, op, item->fds[i], op == EPOLL_CTL_DEL ? NULL : &ev) != 0 &&
            op == EPOLL_CTL_ADD)
            return braid__err(BRAID_ERR_SYSTEM, "proxy: epoll_ctl(ADD, fd %d) failed: %s",
                              item->fds[i], strerror(errno));
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__proxy_add(struct braid_proxy_item *item)
{
    braid_result_t res = BRAID_SUCCESS;
    pthread_mutex_lock(&proxy.life);
    if (!proxy.running)
        BRAID_CHECK_GOTO(start_thread(), res, out);
    pthread_mutex_lock(&proxy.lock);
    res = watch_fds(item, EPOLL_CTL_ADD);
    if (res == BRAID_SUCCESS) {
        atomic_store(&item->events, 1);
        item->prev = NULL;
        item->next = proxy.items;
        if (proxy.items)
            proxy.items->prev = item;
        proxy.items = item;
        proxy.count++;
    } else {
        watch_fds(item, EPOLL_CTL_DEL);
    }
    pthread_mutex_unlock(&proxy.lock);
    if (res != BRAID_SUCCESS && proxy.count == 0)
        stop_thread();
out:
    pthread_mutex_unlock(&proxy.life);
    if (res == BRAID_SUCCESS)
        braid__proxy_wake();
    return res;
}

void braid__proxy_remove(struct braid_proxy_item *item)
{
    pthread_mutex_lock(&proxy.life);
    pthread_mutex_lock(&proxy.lock);
    watch_fds(item, EPOLL_CTL_DEL);
    if (item->prev)
        item->prev->next = item->next;
    else
        proxy.items = item->next;
    if (item->next)
        item->next->prev = item->prev;
    item->next = item->prev = NULL;
    int left = --proxy.count;
    pthread_mutex_unlock(&proxy.lock);
    if (left == 0)
        stop_thread();
    pthread_mutex_unlock(&proxy.life);
}

void braid__proxy_wake(void)
{
    /* Pairs with the fence in try_sleep(): either the proxy sees the counter the caller just
     * published, or the caller sees sleeping == 1. Only the caller that flips it writes. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&proxy.sleeping, memory_order_relaxed) &&
        atomic_exchange(&proxy.sleeping, 0)) {
        uint64_t one = 1;
        while (write(proxy.evfd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
    }
}

uint32_t braid__proxy_bell_arm(void)
{
    atomic_fetch_add(&proxy.bell_waiters, 1);
    /* Pairs with the fence in braid__proxy_bell_ring(): either the ringer sees this waiter, or
     * the poll that follows the arming sees what the ringer published. */
    atomic_thread_fence(memory_order_seq_cst);
    return atomic_load_explicit(&proxy.bell, memory_order_acquire);
}

void braid__proxy_bell_disarm(void)
{
    atomic_fetch_sub(&proxy.bell_waiters, 1);
}

void braid__proxy_bell_wait(uint32_t seq, uint64_t timeout_ns)
{
    futex_wait(&proxy.bell, seq, timeout_ns);
}

void braid__proxy_bell_ring(void)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&proxy.bell_waiters, memory_order_relaxed) == 0)
        return;
    atomic_fetch_add_explicit(&proxy.bell, 1, memory_order_release);
    futex_wake(&proxy.bell);
}

int braid__proxy_drive_begin(void)
{
    uint32_t none = 0;
    if (!atomic_compare_exchange_strong(&proxy.driver, &none, 1))
        return 0;
    proxy.drive_harvest = braid__now_ns();
    return 1;
}

int braid__proxy_drive(void)
{
    uint64_t now = braid__now_ns();
    int harvest = now - proxy.drive_harvest > PROXY_HARVEST_NS;
    if (harvest)
        proxy.drive_harvest = now;
    return run_pass(harvest);
}

void braid__proxy_drive_end(void)
{
    atomic_store_explicit(&proxy.driver, 0, memory_order_release);
    futex_wake(&proxy.driver);
    /* Callers asleep on the bell may want to drive now. */
    braid__proxy_bell_ring();
}

void braid__proxy_quiesce(void)
{
    pthread_mutex_lock(&proxy.lock);
    pthread_mutex_unlock(&proxy.lock);
}
