#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct rank_arg {
    int rank;
    int nranks;
    braid_unique_id_t id;
    const braid_config_t *config;
    harness_fn fn;
    void *arg;
    int failures;
};

const char *harness_mode_name(enum harness_mode mode)
{
    return mode == HARNESS_THREADS ? "threads" : "procs";
}

void harness_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int run_rank(struct rank_arg *a)
{
    braid_comm_t comm = NULL;
    braid_result_t res = braid_comm_init_rank_config(&comm, a->nranks, a->id, a->rank, a->config);
    if (res != BRAID_SUCCESS) {
        fprintf(stderr, "rank %d: init failed: %s: %s\n", a->rank, braid_result_string(res),
                braid_last_error(NULL));
        return 1;
    }
    int failures = a->fn(comm, a->rank, a->nranks, a->arg);
    res = braid_comm_destroy(comm);
    if (res != BRAID_SUCCESS) {
        fprintf(stderr, "rank %d: destroy failed: %s: %s\n", a->rank, braid_result_string(res),
                braid_last_error(NULL));
        failures++;
    }
    return failures;
}

static void *thread_main(void *p)
{
    struct rank_arg *a = p;
    a->failures = run_rank(a);
    return NULL;
}

static int run_threads(struct rank_arg *args, int nranks, int timeout_s)
{
    pthread_t *threads = calloc((size_t)nranks, sizeof(*threads));
    int failed = 0;
    for (int r = 0; r < nranks; r++)
        if (pthread_create(&threads[r], NULL, thread_main, &args[r]) != 0) {
            fprintf(stderr, "cannot start thread for rank %d\n", r);
            exit(2);
        }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_s;
    for (int r = 0; r < nranks; r++) {
        if (pthread_timedjoin_np(threads[r], NULL, &deadline) != 0) {
            /* A hung rank cannot be cancelled safely: report and leave the process. */
            fprintf(stderr, "FAIL: rank %d (thread) did not finish within %d s\n", r, timeout_s);
            fflush(stderr);
            _exit(3);
        }
        failed += args[r].failures > 0;
    }
    free(threads);
    return failed;
}

static int read_id(int fd, braid_unique_id_t *id)
{
    size_t got = 0;
    while (got < sizeof(*id)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 60000) <= 0)
            return -1;
        ssize_t n = read(fd, (char *)id + got, sizeof(*id) - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

int harness_fork_ranks(int n, int (*child_main)(braid_unique_id_t id, int rank, void *arg),
                       void *arg, pid_t *pids)
{
    int *pipes = calloc((size_t)n, sizeof(*pipes));
    for (int r = 0; r < n; r++) {
        int fds[2];
        if (pipe(fds) != 0) {
            perror("pipe");
            exit(2);
        }
        fflush(NULL);
        pids[r] = fork();
        if (pids[r] == 0) {
            braid_unique_id_t id;
            close(fds[1]);
            _exit(read_id(fds[0], &id) == 0 ? child_main(id, r, arg) : 3);
        }
        close(fds[0]);
        pipes[r] = fds[1];
    }
    braid_unique_id_t id;
    int ok = braid_get_unique_id(&id) == BRAID_SUCCESS;
    if (!ok)
        fprintf(stderr, "braid_get_unique_id failed: %s\n", braid_last_error(NULL));
    for (int r = 0; r < n; r++) {
        if (ok && write(pipes[r], &id, sizeof(id)) != (ssize_t)sizeof(id))
            ok = 0;
        close(pipes[r]);
    }
    free(pipes);
    if (!ok)
        for (int r = 0; r < n; r++) {
            kill(pids[r], SIGKILL);
            waitpid(pids[r], NULL, 0);
        }
    return ok ? 0 : -1;
}

static int proc_rank(braid_unique_id_t id, int rank, void *arg)
{
    struct rank_arg *a = &((struct rank_arg *)arg)[rank];
    a->id = id;
    return run_rank(a) ? 1 : 0;
}

static int run_procs(struct rank_arg *args, int nranks, int timeout_s)
{
    pid_t *pids = calloc((size_t)nranks, sizeof(*pids));
    if (harness_fork_ranks(nranks, proc_rank, args, pids) != 0) {
        free(pids);
        return nranks;
    }
    int failed = 0, left = nranks;
    time_t deadline = time(NULL) + timeout_s;
    while (left > 0) {
        for (int r = 0; r < nranks; r++) {
            int status;
            if (pids[r] <= 0 || waitpid(pids[r], &status, WNOHANG) != pids[r])
                continue;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "FAIL: rank %d (pid %d) %s %d\n", r, (int)pids[r],
                        WIFEXITED(status) ? "exited with" : "killed by signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                failed++;
            }
            pids[r] = 0;
            left--;
        }
        if (left > 0 && time(NULL) > deadline) {
            for (int r = 0; r < nranks; r++)
                if (pids[r] > 0) {
                    fprintf(stderr, "FAIL: rank %d (pid %d) did not finish within %d s\n", r,
                            (int)pids[r], timeout_s);
                    kill(pids[r], SIGKILL);
                    waitpid(pids[r], NULL, 0);
                    failed++;
                    left--;
                    pids[r] = 0;
                }
        }
        if (left > 0)
            usleep(2000);
    }
    free(pids);
    return failed;
}

int harness_run(int nranks, enum harness_mode mode, harness_fn fn, void *arg, int timeout_s,
                const braid_config_t *config)
{
    braid_unique_id_t id;
    memset(&id, 0, sizeof(id));
    /* Processes get their id after the fork (harness_fork_ranks); threads get it here. */
    if (mode == HARNESS_THREADS && braid_get_unique_id(&id) != BRAID_SUCCESS) {
        fprintf(stderr, "braid_get_unique_id failed: %s\n", braid_last_error(NULL));
        return nranks;
    }
    struct rank_arg *args = calloc((size_t)nranks, sizeof(*args));
    for (int r = 0; r < nranks; r++)
        args[r] = (struct rank_arg){
            .rank = r, .nranks = nranks, .id = id, .config = config, .fn = fn, .arg = arg};
    int failed = mode == HARNESS_THREADS ? run_threads(args, nranks, timeout_s)
                                         : run_procs(args, nranks, timeout_s);
    free(args);
    return failed;
}
