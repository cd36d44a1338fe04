/*
 * The socket transport's I/O helper threads (see socket_helpers.h). Locking: each helper's
 * `lock` guards its connector list and is held for a whole pass, so removing a connector (which
 * takes every helper's lock) waits for passes to end. `life` serialises adding and removing
 * connectors and starting and stopping threads.
 */
#include "transport/socket_helpers.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "base/net.h"
#include "transport/proxy.h"
#include "transport/socket_io.h"
#include "transport/wakeup.h"

/* How long an idle helper keeps polling before it sleeps, where the host has cores to spare
 * (at least twice the process's helpers, executor and proxy: otherwise spinning helpers only
 * delay the threads they wait for), and its longest sleep (so a flag set without a wake-up,
 * like a poisoned FIFO, is seen within that bound). */
#define HELPER_SPIN_NS  20000ull
#define HELPER_NAP_MS   50
#define HELPER_MAX_EVTS 64

struct helper {
    int id;
    pthread_t thread;
    pthread_mutex_t lock;
    struct sock_conn **conns;
    int nconns;
    int cap;
    int epfd;
    int evfd;
    atomic_int sleeping;
    atomic_int stop;
};

static struct {
    pthread_mutex_t life;
    /* Read without the lock by braid__sock_helpers_wake(), hence atomic. */
    _Atomic(struct helper *) h[SOCK_MAX_HELPERS];
    int started;     /* threads running: helpers [0, started) */
    atomic_int spin; /* whether idle helpers spin before sleeping */
    int users;       /* connectors registered */
} pool = {.life = PTHREAD_MUTEX_INITIALIZER};

/* Moves every owned stream of every connector once; returns whether anything moved. */
static int helper_pass(struct helper *h)
{
    int moved = 0, ring = 0, gone = 0;
    pthread_mutex_lock(&h->lock);
    for (int c = 0; c < h->nconns; c++) {
        struct sock_conn *sc = h->conns[c];
        struct braid_conn *conn = sc->conn;
        /* Announced before looking at the FIFO (braid__sock_helpers_quiesce()). */
        atomic_fetch_add(&sc->helpers_in, 1);
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&conn->failed, memory_order_relaxed)) {
            atomic_fetch_sub_explicit(&sc->helpers_in, 1, memory_order_release);
            continue;
        }
        int here = 0;
        if (conn->dir == BRAID_CONN_SEND) {
            uint64_t head = atomic_load_explicit(&conn->fifo->head, memory_order_acquire);
            for (int i = h->id; i < sc->nstreams; i += sc->nhelpers)
                here |= braid__sock_stream_send(sc, i, head) > 0;
        } else {
            uint64_t tail = atomic_load_explicit(&conn->fifo->tail, memory_order_acquire);
            for (int i = h->id; i < sc->nstreams; i += sc->nhelpers)
                here |= braid__sock_stream_recv(sc, i, tail);
        }
        /* Publish at once: a caller waiting on this connector sleeps on the doorbell. */
        if (here && braid__sock_publish(sc))
            ring = 1;
        if (atomic_load_explicit(&sc->peer_gone, memory_order_relaxed))
            gone = 1; /* the proxy reports it */
        moved |= here;
        atomic_fetch_sub_explicit(&sc->helpers_in, 1, memory_order_release);
    }
    pthread_mutex_unlock(&h->lock);
    if (ring)
        braid__proxy_bell_ring();
    if (gone)
        braid__proxy_wake();
    return moved;
}

static void helper_sleep(struct helper *h)
{
    atomic_store(&h->sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    /* A wake-up that raced with the announcement either saw sleeping == 1 or published its
     * work before this last look. */
    if (helper_pass(h) || atomic_load(&h->stop)) {
        atomic_store(&h->sleeping, 0);
        return;
    }
    struct epoll_event ev[HELPER_MAX_EVTS];
    int n = epoll_wait(h->epfd, ev, HELPER_MAX_EVTS, HELPER_NAP_MS);
    for (int i = 0; i < n; i++)
        if (ev[i].data.ptr == NULL)
            braid__eventfd_drain(h->evfd);
    atomic_store(&h->sleeping, 0);
}

static void *helper_main(void *arg)
{
    struct helper *h = arg;
    braid__log_set_rank(-1);
    uint64_t idle_since = braid__now_ns();
    while (!atomic_load(&h->stop)) {
        if (helper_pass(h)) {
            idle_since = braid__now_ns();
            continue;
        }
        if (atomic_load_explicit(&pool.spin, memory_order_relaxed) &&
            braid__now_ns() - idle_since < HELPER_SPIN_NS)
            continue;
        helper_sleep(h);
        idle_since = braid__now_ns();
    }
    return NULL;
}

static void helper_free(struct helper *h)
{
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->evfd >= 0)
        close(h->evfd);
    pthread_mutex_destroy(&h->lock);
    free(h->conns);
    free(h);
}

static braid_result_t helper_start(int id, struct helper **out)
{
    struct helper *h = calloc(1, sizeof(*h));
    if (!h)
        return braid__err(BRAID_ERR_NO_MEMORY, "socket: out of memory for an I/O helper");
    h->id = id;
    pthread_mutex_init(&h->lock, NULL);
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (h->epfd < 0 || h->evfd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->evfd, &ev) != 0) {
        braid_result_t res =
            braid__err(BRAID_ERR_SYSTEM, "socket: cannot create an I/O helper's epoll/eventfd: %s",
                       strerror(errno));
        helper_free(h);
        return res;
    }
    int rc = pthread_create(&h->thread, NULL, helper_main, h);
    if (rc != 0) {
        helper_free(h);
        return braid__err(BRAID_ERR_SYSTEM, "socket: cannot start I/O helper thread %d: %s", id,
                          strerror(rc));
    }
    *out = h;
    return BRAID_SUCCESS;
}

static void stop_all(void)
{
    for (int i = 0; i < pool.started; i++) {
        struct helper *h = atomic_load(&pool.h[i]);
        atomic_store(&h->stop, 1);
        braid__eventfd_signal(h->evfd);
        pthread_join(h->thread, NULL);
        atomic_store(&pool.h[i], NULL);
        helper_free(h);
    }
    BRAID_INFO(NET, "socket: %d I/O helper thread(s) stopped", pool.started);
    pool.started = 0;
}

/* Adds or removes sc's streams of helper h in its epoll set. */
static void watch_streams(struct helper *h, struct sock_conn *sc, int op)
{
    for (int i = h->id; i < sc->nstreams; i += sc->nhelpers) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = sc};
        epoll_ctl(h->epfd, op, sc->streams[i].fd, op == EPOLL_CTL_DEL ? NULL : &ev);
    }
}

static braid_result_t attach(struct helper *h, struct sock_conn *sc)
{
    pthread_mutex_lock(&h->lock);
    if (h->nconns == h->cap) {
        int cap = h->cap ? 2 * h->cap : 8;
        struct sock_conn **grown = realloc(h->conns, (size_t)cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&h->lock);
            return braid__err(BRAID_ERR_NO_MEMORY, "socket: out of memory for I/O helper lists");
        }
        h->conns = grown;
        h->cap = cap;
    }
    h->conns[h->nconns++] = sc;
    watch_streams(h, sc, EPOLL_CTL_ADD);
    pthread_mutex_unlock(&h->lock);
    return BRAID_SUCCESS;
}

static void detach(struct helper *h, struct sock_conn *sc)
{
    pthread_mutex_lock(&h->lock);
    for (int c = 0; c < h->nconns; c++)
        if (h->conns[c] == sc) {
            h->conns[c] = h->conns[--h->nconns];
            watch_streams(h, sc, EPOLL_CTL_DEL);
            break;
        }
    pthread_mutex_unlock(&h->lock);
}

braid_result_t braid__sock_helpers_add(struct sock_conn *sc)
{
    braid_result_t res = BRAID_SUCCESS;
    pthread_mutex_lock(&pool.life);
    int n = sc->nhelpers < sc->nstreams ? sc->nhelpers : sc->nstreams;
    int started = pool.started;
    while (pool.started < sc->nhelpers && res == BRAID_SUCCESS) {
        struct helper *h = NULL;
        res = helper_start(pool.started, &h);
        if (res == BRAID_SUCCESS)
            atomic_store(&pool.h[pool.started++], h);
    }
    if (pool.started > started) {
        cpu_set_t set;
        int cores = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
        atomic_store(&pool.spin, cores >= 2 * (pool.started + 2));
        BRAID_INFO(NET, "socket: %d I/O helper thread(s) running, %s when idle (%d cores)",
                   pool.started, atomic_load(&pool.spin) ? "spinning 20 us" : "sleeping at once",
                   cores);
    }
    int attached = 0;
    for (; attached < n && res == BRAID_SUCCESS; attached++)
        res = attach(atomic_load(&pool.h[attached]), sc);
    if (res == BRAID_SUCCESS) {
        pool.users++;
    } else {
        for (int i = 0; i < attached; i++)
            detach(atomic_load(&pool.h[i]), sc);
        if (pool.users == 0)
            stop_all();
    }
    pthread_mutex_unlock(&pool.life);
    return res;
}

void braid__sock_helpers_remove(struct sock_conn *sc)
{
    pthread_mutex_lock(&pool.life);
    for (int i = 0; i < pool.started && i < sc->nhelpers; i++)
        detach(atomic_load(&pool.h[i]), sc);
    if (--pool.users == 0)
        stop_all();
    pthread_mutex_unlock(&pool.life);
}

void braid__sock_helpers_quiesce(struct sock_conn *sc)
{
    /* Its helpers move its streams briefly and never block inside; wake them so the streams'
     * POISON goes out now, then wait until none is inside this connector (pairs with the
     * fence in helper_pass()). */
    braid__sock_helpers_wake(sc);
    atomic_thread_fence(memory_order_seq_cst);
    while (atomic_load(&sc->helpers_in) > 0)
        sched_yield();
}

void braid__sock_helpers_wake(struct sock_conn *sc)
{
    for (int i = 0; i < sc->nhelpers && i < SOCK_MAX_HELPERS; i++) {
        struct helper *h = atomic_load_explicit(&pool.h[i], memory_order_acquire);
        if (h)
            braid__wake_sleeper(&h->sleeping, h->evfd);
    }
}
