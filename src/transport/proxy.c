/*
 * The proxy thread (see proxy.h). Locking: `lock` guards the item list and is held for a whole
 * progress pass (by the proxy thread or a driving caller), so removing an item (which takes the
 * lock) waits for the pass to end and the caller may free the item at once. `life` serialises
 * starting and stopping the thread. An executor takes `lock` only while it drives or quiesces.
 */
#include "transport/proxy.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>

#include "base/check.h"
#include "base/log.h"
#include "base/net.h"
#include "transport/wakeup.h"

/* How long an idle proxy keeps polling its items before it sleeps: long enough to catch the
 * next slot of a pipelined transfer without a wake-up, short enough to leave the core to the
 * ranks when they outnumber the cores. */
#define PROXY_SPIN_NS 20000ull
/* How long a driver that left keeps the passes for its next call before the proxy thread
 * takes them back on its own (anything that needs the proxy sooner takes them back at once). */
#define PROXY_LINGER_NS 50000000ull
/* While busy, the proxy still collects socket events this often (they tell items to look at
 * their peers' control frames). */
#define PROXY_HARVEST_NS 1000000ull
#define PROXY_MAX_EVENTS 64

/* The driver word: the state in the low 2 bits, the driving or lingering thread's id above,
 * so that taking over changes both at once (one compare-and-swap). */
enum { DRIVER_NONE = 0, DRIVER_ACTIVE = 1, DRIVER_LINGER = 2 };
#define DRIVER_STATE(w) ((w)&3u)
#define DRIVER_OWNER(w) ((w) >> 2)

/* Per thread: its driver id (never reused), and whether it left work a lingering driver must
 * not sit on (`posted` sends since its last pass, data its last pass could not send). */
static _Thread_local struct {
    uint32_t id;
    int posted;
    int pending;
    int touched; /* it published a FIFO counter since its last pass */
    int moved;   /* its last pass moved something */
} drive_self;
static atomic_uint next_driver_id = 1;

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
    /* Who runs the passes (proxy.h): the driver word, a futex the proxy thread sleeps on
     * while a caller drives or lingers. left_ns: when the lingering driver left.
     * drive_harvest: when the driver last collected socket events. kick: the driver must run
     * a full pass (another thread posted work, or the proxy thread took socket events). */
    _Atomic uint32_t driver;
    _Atomic uint64_t left_ns;
    uint64_t drive_harvest;
    atomic_int kick;
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

/* One pass over every item; returns the BRAID_PROXY_* bits of all of them. Rings the doorbell
 * when an item published something an executor may wait for. */
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
    for (struct braid_proxy_item *it = proxy.items; it; it = it->next) {
        /* Announced before the item looks at its FIFO (braid__proxy_item_quiesce()). */
        atomic_store(&it->in_pass, 1);
        atomic_thread_fence(memory_order_seq_cst);
        work |= it->progress(it);
        atomic_store_explicit(&it->in_pass, 0, memory_order_release);
    }
    pthread_mutex_unlock(&proxy.lock);
    if (work & BRAID_PROXY_PUBLISHED)
        braid__proxy_bell_ring();
    return work;
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
        braid__eventfd_drain(proxy.evfd);
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
    if ((run_pass(1) & ~BRAID_PROXY_PENDING) || atomic_load(&proxy.stop)) {
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

static uint32_t my_driver_id(void)
{
    while (drive_self.id == 0)
        drive_self.id = atomic_fetch_add(&next_driver_id, 1) & 0x3fffffffu;
    return drive_self.id;
}

/* Whether driver word w says this thread drives or lingers. */
static int mine(uint32_t w)
{
    return DRIVER_STATE(w) != DRIVER_NONE && DRIVER_OWNER(w) == my_driver_id();
}

/* Wakes the proxy thread if it sleeps in epoll_wait (wakeup.h; pairs with try_sleep()). */
static void wake_sleeper(void)
{
    braid__wake_sleeper(&proxy.sleeping, proxy.evfd);
}

/* Hands the passes to the proxy thread, wherever it waits: on the driver word (standing by)
 * or in epoll_wait (it slept before a driver took over and may have had its events taken). */
static void wake_for_hand_back(void)
{
    futex_wake(&proxy.driver);
    wake_sleeper();
}

/* Takes the passes back from a lingering driver and wakes the proxy thread for them. */
static void end_linger(void)
{
    uint32_t w = atomic_load(&proxy.driver);
    if (DRIVER_STATE(w) == DRIVER_LINGER &&
        atomic_compare_exchange_strong(&proxy.driver, &w, DRIVER_NONE))
        wake_for_hand_back();
}

static void *proxy_main(void *arg)
{
    (void)arg;
    braid__log_set_rank(-1);
    uint64_t idle_since = braid__now_ns(), last_harvest = idle_since;
    while (!atomic_load(&proxy.stop)) {
        uint32_t driver = atomic_load_explicit(&proxy.driver, memory_order_acquire);
        if (DRIVER_STATE(driver) == DRIVER_ACTIVE) {
            /* A caller drives: stand by without touching the items until it stops. Socket
             * events this thread may have taken while it slept are gone from epoll: the
             * driver must look at every item once. */
            atomic_store(&proxy.kick, 1);
            futex_wait(&proxy.driver, driver, BRAID_PROXY_NAP_MS * 1000000ull);
            idle_since = last_harvest = braid__now_ns();
            continue;
        }
        uint64_t now = braid__now_ns();
        if (DRIVER_STATE(driver) == DRIVER_LINGER) {
            uint64_t left = atomic_load(&proxy.left_ns);
            uint64_t gone = now > left ? now - left : 0;
            if (gone < PROXY_LINGER_NS)
                futex_wait(&proxy.driver, driver, PROXY_LINGER_NS - gone);
            else
                end_linger();
            idle_since = last_harvest = braid__now_ns();
            continue;
        }
        int harvest = now - last_harvest > PROXY_HARVEST_NS;
        if (harvest)
            last_harvest = now;
        /* A pass that only holds data it could not send (socket full) is idle: the socket's
         * writability wakes the proxy again. */
        if (run_pass(harvest) & ~BRAID_PROXY_PENDING) {
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
    braid__eventfd_signal(proxy.evfd);
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
    uint32_t driver = atomic_load_explicit(&proxy.driver, memory_order_relaxed);
    if (DRIVER_STATE(driver) == DRIVER_LINGER) {
        end_linger();
    } else if (DRIVER_STATE(driver) == DRIVER_ACTIVE) {
        atomic_store(&proxy.kick, 1);
        /* Pairs with the fence in braid__proxy_drive_end(): a driver that turned to linger
         * meanwhile either sees the kick or is seen lingering here. */
        atomic_thread_fence(memory_order_seq_cst);
        if (DRIVER_STATE(atomic_load(&proxy.driver)) == DRIVER_LINGER)
            end_linger();
    }
    wake_sleeper();
}

uint32_t braid__proxy_bell_arm(void)
{
    /* A sleeper needs the proxy thread; a driver that left would not come back for it. */
    if (DRIVER_STATE(atomic_load_explicit(&proxy.driver, memory_order_relaxed)) == DRIVER_LINGER)
        end_linger();
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
    uint32_t cur = atomic_load(&proxy.driver);
    if (DRIVER_STATE(cur) == DRIVER_ACTIVE ||
        !atomic_compare_exchange_strong(&proxy.driver, &cur, my_driver_id() << 2 | DRIVER_ACTIVE))
        return 0;
    /* Work posted before the take-over (by a lingering owner, say) told nobody: look at every
     * item first. */
    atomic_store(&proxy.kick, 1);
    proxy.drive_harvest = braid__now_ns();
    return 1;
}

int braid__proxy_kicked(void)
{
    return atomic_load_explicit(&proxy.kick, memory_order_relaxed);
}

/* Whether an idle driver's pass could find anything: its own thread published a counter or
 * its last pass moved data (fresh, touched, moved), another thread posted work (kick), or a
 * socket reported an event. One epoll_wait instead of a recv() per stream while it waits. */
static int worth_a_pass(int fresh)
{
    int kicked = atomic_exchange(&proxy.kick, 0); /* consumed by any pass */
    if (fresh || kicked || drive_self.touched || drive_self.moved)
        return 1;
    struct epoll_event ev[PROXY_MAX_EVENTS];
    int n = epoll_wait(proxy.epfd, ev, PROXY_MAX_EVENTS, 0);
    if (n <= 0)
        return 0;
    /* A wake-up meant for the proxy thread's sleep is spent here. */
    for (int i = 0; i < n; i++)
        if (!ev[i].data.ptr)
            braid__eventfd_drain(proxy.evfd);
    pthread_mutex_lock(&proxy.lock);
    mark_events(ev, n);
    pthread_mutex_unlock(&proxy.lock);
    proxy.drive_harvest = braid__now_ns();
    return 1;
}

int braid__proxy_drive(int fresh)
{
    if (!worth_a_pass(fresh))
        return 0;
    uint64_t now = braid__now_ns();
    int harvest = now - proxy.drive_harvest > PROXY_HARVEST_NS;
    if (harvest)
        proxy.drive_harvest = now;
    drive_self.posted = drive_self.touched = 0;
    int work = run_pass(harvest);
    drive_self.pending = (work & BRAID_PROXY_PENDING) != 0;
    drive_self.moved = (work & ~BRAID_PROXY_PENDING) != 0;
    return drive_self.moved;
}

void braid__proxy_drive_end(int how)
{
    int left_work = drive_self.posted || drive_self.pending;
    drive_self.posted = drive_self.pending = drive_self.touched = drive_self.moved = 0;
    uint32_t w = atomic_load(&proxy.driver);
    if (!mine(w))
        return;
    if (DRIVER_STATE(w) == DRIVER_LINGER) {
        /* A call of its own posted sends, or waits on network connectors it does not drive:
         * the proxy takes over. A call that waits only on local connectors keeps a clean
         * linger for the next network call. */
        if (left_work || how == BRAID_DRIVE_HAND_BACK)
            end_linger();
        return;
    }
    if (how != BRAID_DRIVE_HAND_BACK && !left_work) {
        atomic_store(&proxy.left_ns, braid__now_ns());
        atomic_store_explicit(&proxy.driver, my_driver_id() << 2 | DRIVER_LINGER,
                              memory_order_release);
        /* Pairs with the fence in braid__proxy_wake(): a kick from a thread that still saw
         * this driver active must not be lost to the linger. */
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_exchange(&proxy.kick, 0))
            end_linger();
    } else {
        atomic_store_explicit(&proxy.driver, DRIVER_NONE, memory_order_release);
        wake_for_hand_back();
    }
    /* Callers asleep on the bell may want to drive now. */
    braid__proxy_bell_ring();
}

void braid__proxy_notify(int posted_send)
{
    if (mine(atomic_load_explicit(&proxy.driver, memory_order_relaxed))) {
        drive_self.posted |= posted_send; /* its own next pass, or its hand-back, covers it */
        drive_self.touched = 1;
        /* Unless another thread took the passes over just now, without seeing the counter
         * published before this call: then it must hear of it. */
        atomic_thread_fence(memory_order_seq_cst);
        if (!mine(atomic_load(&proxy.driver)))
            braid__proxy_wake();
        return;
    }
    braid__proxy_wake();
}

void braid__proxy_item_quiesce(struct braid_proxy_item *item)
{
    /* A pass over the item is short and never blocks; one seen outside a pass means every
     * pass after it starts after the caller's poison, whose store came first (seq_cst on
     * both sides, with the fence in run_pass()). */
    atomic_thread_fence(memory_order_seq_cst);
    while (atomic_load(&item->in_pass))
        sched_yield();
}
