/*
 * Groups and the run loop. A call outside a group runs at once; inside one it waits for the
 * outermost braid_group_end(). Running calls together means: choose and build their plans,
 * connect what they need (in parallel across comms, so one thread can drive many), then
 * progress all of them in one loop that backs off when idle and watches timeouts, abort
 * flags and the liveness of peer processes.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "base/log.h"
#include "base/net.h"
#include "core/enqueue.h"
#include "exec/executor.h"
#include "transport/proxy.h"
#include "transport/transport.h"

static _Thread_local struct {
    int depth;
    struct braid_call *calls;
    int ncalls;
    int cap;
} group;

/* The queue outlives groups (it is reused); a thread-exit destructor frees it. */
static pthread_key_t group_key;
static pthread_once_t group_key_once = PTHREAD_ONCE_INIT;

static void group_key_create(void)
{
    pthread_key_create(&group_key, free);
}

braid_result_t braid__enqueue(const struct braid_call *call)
{
    if (group.depth > 0) {
        if (group.ncalls == group.cap) {
            int cap = group.cap ? group.cap * 2 : 16;
            struct braid_call *grown = realloc(group.calls, (size_t)cap * sizeof(*grown));
            if (!grown)
                return braid__err(BRAID_ERR_NO_MEMORY, "group: out of memory");
            group.calls = grown;
            group.cap = cap;
            pthread_once(&group_key_once, group_key_create);
            pthread_setspecific(group_key, grown);
        }
        group.calls[group.ncalls++] = *call;
        return BRAID_SUCCESS;
    }
    struct braid_call copy = *call;
    return braid__run_calls(&copy, 1);
}

braid_result_t braid_group_start(void)
{
    braid__err_clear();
    group.depth++;
    return BRAID_SUCCESS;
}

braid_result_t braid_group_end(void)
{
    braid__err_clear();
    if (group.depth == 0)
        return braid__err(BRAID_ERR_INVALID_USAGE, "braid_group_end without a matching "
                                                   "braid_group_start");
    if (--group.depth > 0)
        return BRAID_SUCCESS;
    int n = group.ncalls;
    group.ncalls = 0;
    braid_result_t res = BRAID_SUCCESS;
    int acquired = 0;
    for (; acquired < n && res == BRAID_SUCCESS; acquired++)
        res = braid__comm_acquire(group.calls[acquired].comm);
    if (res != BRAID_SUCCESS)
        acquired--;
    else
        res = braid__run_calls(group.calls, n);
    for (int i = 0; i < acquired; i++)
        braid__comm_release(group.calls[i].comm, res);
    if (n == group.cap && n > 64) {
        free(group.calls);
        group.calls = NULL;
        group.cap = 0;
        pthread_setspecific(group_key, NULL);
    }
    return res;
}

struct run_state {
    uint64_t spin_ns; /* the least of the comms' */
    struct braid_call *calls;
    struct braid_exec_op **ops;
    struct braid_plan_entry **plans;
    int ncalls;
};

struct connect_job {
    struct braid_comm *comm;
    uint8_t *flags; /* [BRAID_MAX_CHANNELS * nranks] */
    int nchannels;
    braid_result_t res;
    char error[BRAID_ERR_MSG_MAX];
    pthread_t thread;
};

static void *connect_main(void *arg)
{
    struct connect_job *job = arg;
    braid__log_set_rank(job->comm->rank);
    job->res = braid__connect(&job->comm->tp, job->flags, job->nchannels);
    if (job->res != BRAID_SUCCESS)
        braid__err_copy(job->error);
    return NULL;
}

/* Fills jobs (one per distinct comm that lacks connectors); returns how many. */
static braid_result_t collect_connect_jobs(struct run_state *st, struct connect_job *jobs,
                                           int *njobs)
{
    *njobs = 0;
    for (int i = 0; i < st->ncalls; i++) {
        if (!st->plans[i] || st->plans[i]->bound)
            continue;
        struct braid_comm *comm = st->calls[i].comm;
        struct connect_job *job = NULL;
        for (int j = 0; j < *njobs; j++)
            if (jobs[j].comm == comm)
                job = &jobs[j];
        if (!job) {
            job = &jobs[(*njobs)++];
            job->comm = comm;
            job->flags = calloc((size_t)BRAID_MAX_CHANNELS * (size_t)comm->nranks, 1);
            if (!job->flags)
                return braid__err(BRAID_ERR_NO_MEMORY, "connect: out of memory");
        }
        const struct braid_plan *plan = &st->plans[i]->plan;
        for (int c = 0; c < plan->nchannels; c++)
            braid__plan_peers(plan, c, job->flags + (size_t)c * (size_t)comm->nranks);
        if (plan->nchannels > job->nchannels)
            job->nchannels = plan->nchannels;
    }
    return BRAID_SUCCESS;
}

static braid_result_t connect_all(struct run_state *st)
{
    struct connect_job *jobs = calloc((size_t)st->ncalls, sizeof(*jobs));
    if (!jobs)
        return braid__err(BRAID_ERR_NO_MEMORY, "connect: out of memory");
    int njobs = 0;
    braid_result_t res = collect_connect_jobs(st, jobs, &njobs);
    if (res == BRAID_SUCCESS && njobs == 1) {
        res = braid__connect(&jobs[0].comm->tp, jobs[0].flags, jobs[0].nchannels);
    } else if (res == BRAID_SUCCESS && njobs > 1) {
        /* Each comm's setup waits on its peers, which may be driven by this same thread in
         * other comms of the group: set them up side by side. */
        int started = 0;
        for (; started < njobs; started++)
            if (pthread_create(&jobs[started].thread, NULL, connect_main, &jobs[started]) != 0)
                break;
        for (int j = 0; j < started; j++)
            pthread_join(jobs[j].thread, NULL);
        if (started < njobs)
            res = braid__err(BRAID_ERR_SYSTEM, "connect: could not start setup threads");
        for (int j = 0; j < started && res == BRAID_SUCCESS; j++)
            if (jobs[j].res != BRAID_SUCCESS)
                res = braid__err(jobs[j].res, "%s", jobs[j].error);
    }
    for (int j = 0; j < njobs; j++)
        free(jobs[j].flags);
    free(jobs);
    return res;
}

static braid_result_t prepare(struct run_state *st)
{
    for (int i = 0; i < st->ncalls; i++)
        if (st->calls[i].count > 0)
            BRAID_CHECK(braid__call_plan(&st->calls[i], &st->plans[i]));
    int unbound = 0;
    for (int i = 0; i < st->ncalls; i++)
        unbound |= st->plans[i] && !st->plans[i]->bound;
    if (unbound) {
        BRAID_CHECK(connect_all(st));
        for (int i = 0; i < st->ncalls; i++)
            if (st->plans[i] && !st->plans[i]->bound)
                BRAID_CHECK(braid__plan_entry_bind(st->calls[i].comm, st->plans[i]));
    }
    for (int i = 0; i < st->ncalls; i++) {
        struct braid_call *c = &st->calls[i];
        if (!st->plans[i])
            continue;
        /* A reduce leaves non-root recvbufs alone: their plans work in scratch memory. */
        int scratch = c->coll == BRAID_COLL_REDUCE && c->root != c->comm->rank;
        int stage = c->inplace && !st->plans[i]->plan.inplace_safe && !scratch;
        struct braid_exec_args args = {.bp = &st->plans[i]->bp,
                                       .in = c->sendbuf,
                                       .out = scratch ? NULL : c->recvbuf,
                                       .count = c->count,
                                       .dtype = c->dtype,
                                       .op = c->op,
                                       .stage_input = stage,
                                       .mem = c->mem,
                                       .stream = c->stream};
        BRAID_CHECK(c->exec->create(&c->comm->exec, &args, &st->ops[i]));
    }
    return BRAID_SUCCESS;
}

/* How an idle poll waits: spin while a quick answer is likely, then yield the core (ranks often
 * outnumber cores), then nap in growing steps so a long wait costs no CPU. When everything
 * pending waits on network connectors, the poll drives the proxy's passes itself while it has
 * a core to spare (proxy.h) and otherwise sleeps on the proxy's doorbell: yielding would only
 * take turns on the core with the proxy that has the work to do. */
enum wait_mode { WAIT_SPIN, WAIT_YIELD, WAIT_NAP, WAIT_BELL };

/* How long an idle wait stays in its busy modes (spinning, yielding, driving the proxy). */
#define BUSY_WAIT_NS 20000000ull
/* The longest doorbell sleep: bounds how late a timeout or a dead peer is noticed (abort rings
 * the bell itself). */
#define BELL_MAX_NS 10000000ull

static enum wait_mode wait_mode(uint64_t idle_ns, uint64_t spin_ns, int proxied)
{
    if (idle_ns < spin_ns)
        return WAIT_SPIN;
    if (proxied)
        return WAIT_BELL;
    return idle_ns < BUSY_WAIT_NS ? WAIT_YIELD : WAIT_NAP;
}

/* bell: the doorbell sequence if this poll armed it (mode was WAIT_BELL), else -1. */
static void idle_wait(enum wait_mode mode, uint64_t idle_ns, int64_t bell)
{
    if (mode == WAIT_SPIN) {
        __builtin_ia32_pause();
    } else if (mode == WAIT_YIELD) {
        sched_yield();
    } else if (mode == WAIT_NAP) {
        long nap = (long)(idle_ns / 64) < 1000000 ? (long)(idle_ns / 64) : 1000000;
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
    } else if (bell >= 0) {
        braid__proxy_bell_wait((uint32_t)bell, BELL_MAX_NS);
    } /* WAIT_BELL not armed yet: poll again at once, armed */
}

static const char *wait_text(const struct braid_comm *comm, const struct braid_exec_op *op,
                             char *buf, size_t len)
{
    if (op->wait_channel < 0) {
        snprintf(buf, len, "before its first step");
        return buf;
    }
    const struct braid_peer_info *p = &comm->peers[op->wait_peer];
    snprintf(buf, len, "on channel %d, waiting %s rank %d (host %s, pid %d)", op->wait_channel,
             op->wait_send ? "for FIFO space to send to" : "for data from", op->wait_peer,
             p->hostname, p->pid);
    return buf;
}

/* Whether the peer the op waits for is a process on this host that no longer exists. */
static int peer_dead(const struct braid_comm *comm, const struct braid_exec_op *op)
{
    if (op->wait_channel < 0)
        return 0;
    const struct braid_peer_info *me = &comm->peers[comm->rank];
    const struct braid_peer_info *p = &comm->peers[op->wait_peer];
    if (p->host_hash != me->host_hash || p->pidns != me->pidns || p->pid == me->pid)
        return 0;
    if (kill(p->pid, 0) != 0 && errno == ESRCH)
        return 1;
    /* A killed process stays a zombie until its parent reaps it: read its state. */
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t len = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[len] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* The connector the op last waited on, if any. */
static struct braid_conn *waited_conn(const struct braid_comm *comm, const struct braid_exec_op *op)
{
    if (op->wait_channel < 0)
        return NULL;
    return *braid__conn_slot(&comm->tp, op->wait_send ? BRAID_CONN_SEND : BRAID_CONN_RECV,
                             op->wait_channel, op->wait_peer);
}

/* Checks abort, liveness and timeout for an op that made no progress. */
static braid_result_t watch(struct braid_comm *comm, struct braid_exec_op *op, uint64_t now,
                            int check_liveness)
{
    char wait[192];
    if (atomic_load_explicit(&comm->abort_flag, memory_order_relaxed))
        return braid__err(BRAID_ERR_ABORTED, "%s: the comm was aborted",
                          braid__coll_name(op->coll));
    if (check_liveness && peer_dead(comm, op))
        return braid__err(BRAID_ERR_REMOTE,
                          "%s on rank %d: rank %d (pid %d on %s) has exited "
                          "(%s); the job cannot continue: abort the comm",
                          braid__coll_name(op->coll), comm->rank, op->wait_peer,
                          comm->peers[op->wait_peer].pid, comm->peers[op->wait_peer].hostname,
                          wait_text(comm, op, wait, sizeof(wait)));
    const struct braid_peer_info *peer = op->wait_channel < 0 ? NULL : &comm->peers[op->wait_peer];
    struct braid_conn *conn = waited_conn(comm, op);
    if (conn && atomic_load_explicit(&conn->failed, memory_order_acquire))
        return braid__err(BRAID_ERR_REMOTE, "%s on rank %d: %s", braid__coll_name(op->coll),
                          comm->rank, conn->error);
    /* The peer poisons its connectors when its comm breaks: fail now, not at the timeout. */
    if (conn && conn->fifo && atomic_load_explicit(&conn->fifo->poisoned, memory_order_relaxed))
        return braid__err(BRAID_ERR_REMOTE,
                          "%s on rank %d: rank %d (pid %d on %s) failed and broke the comm (%s); "
                          "see that rank's error",
                          braid__coll_name(op->coll), comm->rank, op->wait_peer, peer->pid,
                          peer->hostname, wait_text(comm, op, wait, sizeof(wait)));
    if (op->last_progress_ns == 0 || op->steps_done != op->watched_steps) {
        op->watched_steps = op->steps_done;
        op->last_progress_ns = now;
    }
    uint64_t idle_ms = (now - op->last_progress_ns) / 1000000ull;
    if (idle_ms >= (uint64_t)comm->settings.timeout_ms)
        return braid__err(BRAID_ERR_TIMEOUT,
                          "%s on rank %d made no progress for %llu ms %s; that "
                          "rank may have died, hung, or called a different collective (raise "
                          "BRAID_TIMEOUT_MS if it is only slow)",
                          braid__coll_name(op->coll), comm->rank, (unsigned long long)idle_ms,
                          wait_text(comm, op, wait, sizeof(wait)));
    return BRAID_SUCCESS;
}

/* Fails op and every unfinished op of the same comm (their FIFOs are now out of step). */
static void fail_comm_ops(struct run_state *st, int i, braid_result_t res)
{
    struct braid_comm *comm = st->calls[i].comm;
    braid__err_copy(comm->last_error);
    braid__comm_set_error(comm, res);
    braid__transport_ctx_poison(&comm->tp);
    /* The proxy thread takes the passes back (a driver or linger of this thread would sit on
     * the poison), tells the peers, and no pass or helper reads this call's buffers any more. */
    braid__proxy_drive_end(BRAID_DRIVE_HAND_BACK);
    braid__transport_ctx_quiesce(&comm->tp);
    for (int j = 0; j < st->ncalls; j++)
        if (st->ops[j] && st->calls[j].comm == comm)
            st->ops[j]->exec->abort(st->ops[j], res);
}

/* Polls look at the clock (timeouts, liveness, how to wait) every LOOK_EVERY idle polls:
 * microseconds apart while spinning, and a spinning poll stays a few loads. A poll after a
 * doorbell sleep always looks. */
#define LOOK_EVERY  64
#define LIVENESS_NS 200000000ull

/* One idle poll's turn at driving the proxy, while everything pending waits on connectors the
 * proxy progresses; returns whether the pass moved anything. Drives only with a core to spare
 * (spin_ns > 0) and for the first BUSY_WAIT_NS of an idle spell; otherwise hands back at once,
 * since the proxy thread stands by while anyone drives or lingers. */
static int drive_proxy(int *driving, uint64_t spin_ns, uint64_t idle_ns, int fresh)
{
    if (spin_ns == 0 || idle_ns >= BUSY_WAIT_NS) {
        braid__proxy_drive_end(BRAID_DRIVE_HAND_BACK);
        *driving = 0;
        return 0;
    }
    if (!*driving)
        *driving = braid__proxy_drive_begin();
    return *driving && braid__proxy_drive(fresh);
}

static braid_result_t progress_all(struct run_state *st)
{
    braid_result_t first = BRAID_SUCCESS;
    uint64_t idle_since = 0, last_live = 0, idle_ns = 0;
    unsigned polls = 0; /* idle polls since the last progress */
    enum wait_mode mode = WAIT_SPIN;
    int driving = 0;
    for (;;) {
        /* Armed before the poll, so a ring after it cannot be missed (proxy.h). */
        int64_t bell = mode == WAIT_BELL ? (int64_t)braid__proxy_bell_arm() : -1;
        int pending = 0, progressed = 0, proxied = 1, drivable = 1, netwait = 0;
        int look = bell >= 0 || (polls > 0 && polls % LOOK_EVERY == 0);
        uint64_t now = look ? braid__now_ns() : 0;
        for (int i = 0; i < st->ncalls; i++) {
            struct braid_exec_op *op = st->ops[i];
            if (!op || braid__exec_done(op) || op->status != BRAID_SUCCESS)
                continue;
            int r = op->exec->progress(op);
            if (r == 0 && look)
                r = watch(st->calls[i].comm, op, now,
                          last_live != 0 && now - last_live > LIVENESS_NS);
            if (r < 0) {
                if (first == BRAID_SUCCESS)
                    first = (braid_result_t)r;
                fail_comm_ops(st, i, (braid_result_t)r);
                driving = 0; /* fail_comm_ops handed the passes back */
                continue;
            }
            progressed |= r > 0;
            pending += !braid__exec_done(op);
            if (r == 0 && !braid__exec_done(op)) {
                /* An op that noted nothing to wait on counts as local: yield, never sleep. */
                int kinds = op->wait_kinds ? op->wait_kinds : BRAID_WAIT_LOCAL;
                proxied &= !(kinds & BRAID_WAIT_LOCAL);
                drivable &= !(kinds & BRAID_WAIT_HELPED);
                netwait |= (kinds & (BRAID_WAIT_PROXY | BRAID_WAIT_HELPED)) != 0;
            }
        }
        if (!pending) {
            if (bell >= 0)
                braid__proxy_bell_disarm();
            braid__proxy_drive_end(BRAID_DRIVE_RETURN); /* also a linger of an earlier call */
            return first;
        }
        /* Drive only while everything waits on proxy-progressed connectors; anything else
         * (shm, helper threads) hands the passes back, a linger of this thread's included, so
         * its posted network sends are not held up. Data the driver moved makes the wait not
         * idle; polls still count towards the next look (abort, timeout) until an op itself
         * progresses. */
        int drove = 0;
        if (!proxied || !drivable) {
            braid__proxy_drive_end(driving || netwait ? BRAID_DRIVE_HAND_BACK : BRAID_DRIVE_LOCAL);
            driving = 0;
        } else if (!progressed) {
            drove = drive_proxy(&driving, st->spin_ns, idle_ns, polls == 0);
        } else if (driving && braid__proxy_kicked()) {
            braid__proxy_drive(1); /* other threads' work while this one keeps stepping */
        }
        if (progressed || drove) {
            if (bell >= 0)
                braid__proxy_bell_disarm();
            polls = progressed ? 0 : polls + 1;
            idle_since = idle_ns = 0;
            mode = st->spin_ns || !proxied ? WAIT_SPIN : WAIT_BELL;
            continue;
        }
        if (polls++ == 0 && mode != WAIT_BELL)
            mode = st->spin_ns ? WAIT_SPIN : proxied ? WAIT_BELL : WAIT_YIELD;
        if (look) {
            /* The idle spell began at most LOOK_EVERY polls before its first look. */
            if (idle_since == 0)
                idle_since = now;
            if (last_live == 0 || now - last_live > LIVENESS_NS)
                last_live = now;
            idle_ns = now - idle_since;
            mode = wait_mode(idle_ns, st->spin_ns, proxied && !driving);
            if (driving && mode != WAIT_SPIN)
                mode = WAIT_YIELD;
        }
        idle_wait(mode, idle_ns, bell);
        if (bell >= 0)
            braid__proxy_bell_disarm();
    }
}

braid_result_t braid__run_calls(struct braid_call *calls, int ncalls)
{
    if (ncalls <= 0)
        return BRAID_SUCCESS;
    struct run_state st = {.calls = calls, .ncalls = ncalls, .spin_ns = UINT64_MAX};
    for (int i = 0; i < ncalls; i++)
        if (calls[i].comm->spin_ns < st.spin_ns)
            st.spin_ns = calls[i].comm->spin_ns;
    /* A lone call (the common case) needs no allocation here. */
    struct braid_exec_op *op_one = NULL;
    struct braid_plan_entry *plan_one = NULL;
    st.ops = ncalls == 1 ? &op_one : calloc((size_t)ncalls, sizeof(*st.ops));
    st.plans = ncalls == 1 ? &plan_one : calloc((size_t)ncalls, sizeof(*st.plans));
    braid_result_t res;
    if (!st.ops || !st.plans) {
        res = braid__err(BRAID_ERR_NO_MEMORY, "out of memory for %d calls", ncalls);
        goto out;
    }
    res = prepare(&st);
    if (res == BRAID_SUCCESS)
        res = progress_all(&st);
    else if (res != BRAID_ERR_INVALID_ARGUMENT && res != BRAID_ERR_NOT_SUPPORTED)
        for (int i = 0; i < ncalls; i++)
            braid__comm_set_error(calls[i].comm, res);
    for (int i = 0; i < ncalls; i++)
        calls[i].comm->ncalls++;
out:
    for (int i = 0; st.ops && i < ncalls; i++)
        if (st.ops[i])
            st.ops[i]->exec->destroy(st.ops[i]);
    if (ncalls > 1) {
        free(st.ops);
        free(st.plans);
    }
    return res;
}
