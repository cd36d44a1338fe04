/*
 * The wake-up both kinds of I/O thread use (the proxy, socket I/O helpers): a thread that runs
 * out of work announces `sleeping = 1`, fences, looks for work once more, then sleeps in
 * epoll_wait on its descriptors and an eventfd. Whoever publishes work fences and writes the
 * eventfd only if it flips `sleeping` back to 0: either the sleeper's last look saw the work, or
 * the publisher sees the announcement. Only the publisher that flips the flag writes.
 */
#ifndef BRAID_TRANSPORT_WAKEUP_H
#define BRAID_TRANSPORT_WAKEUP_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

/* Makes the eventfd readable (whether or not anyone sleeps on it). */
static inline void braid__eventfd_signal(int fd)
{
    uint64_t one = 1;
    while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

/* Resets the (non-blocking) eventfd after it woke its sleeper. */
static inline void braid__eventfd_drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
}

/* Wakes the thread sleeping on fd if it announced it sleeps (protocol above). */
static inline void braid__wake_sleeper(atomic_int *sleeping, int fd)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(sleeping, memory_order_relaxed) && atomic_exchange(sleeping, 0))
        braid__eventfd_signal(fd);
}

#endif
