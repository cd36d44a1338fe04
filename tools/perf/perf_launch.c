/*
 * Starting braid-perf's ranks. With -np the parent creates the unique id (its root thread must
 * outlive the children's init, so the parent stays and waits) and forks one child per rank.
 * Under a launcher the rank and size come from its environment and the ranks meet either at
 * BRAID_ROOT (braid_comm_init_env) or through an id file that rank 0 writes. No MPI library is
 * linked: braid-perf must run where only braid is installed.
 */
#include "perf_launch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "perf_run.h"

#define ID_FILE_MAGIC   "braid-unique-id-v1"
#define ID_FILE_WAIT_S  120 /* how long ranks wait for rank 0's id file */
#define ID_FILE_STALE_S 30  /* an id file older than our start by this much is a previous job's */
#define FAIL_GRACE_S    5   /* after one -np rank fails, how long the others may take to notice */

static time_t start_time;

static void config_from_args(const perf_args_t *a, braid_config_t *cfg)
{
    braid_config_t init = BRAID_CONFIG_INIT;

    *cfg = init;
    if (a->timeout_s > 0)
        cfg->timeout_ms = a->timeout_s * 1000;
    cfg->name = "braid-perf";
}

static int init_failed(const char *what, int rank, braid_result_t res)
{
    fprintf(stderr, "braid-perf: rank %d: %s failed: %s\n", rank, what, braid_result_string(res));
    fprintf(stderr, "braid-perf: rank %d: %s\n", rank, braid_last_error(NULL));
    return PERF_EXIT_ERROR;
}

/* A rank that failed aborts its comm instead of destroying it: destroy is collective, and the
 * other ranks may never reach it. */
static int run_rank(const perf_args_t *a, braid_comm_t comm, perf_rank_main_t rank_main)
{
    int rc = rank_main(a, comm), rank = -1;
    braid_result_t res;

    braid_comm_user_rank(comm, &rank);
    if (rc == PERF_EXIT_ERROR) {
        braid_comm_abort(comm);
        return rc;
    }
    res = braid_comm_destroy(comm);
    if (res != BRAID_SUCCESS) {
        fprintf(stderr, "braid-perf: rank %d: braid_comm_destroy failed: %s: %s\n", rank,
                braid_result_string(res), braid_last_error(NULL));
        rc = PERF_EXIT_ERROR;
    }
    return rc;
}

/* ---- -np: forked ranks ---------------------------------------------------------------------- */

static int forked_rank(const perf_args_t *a, perf_rank_main_t rank_main, braid_unique_id_t id,
                       int rank, pid_t parent)
{
    braid_config_t cfg;
    braid_comm_t comm = NULL;
    braid_result_t res;
    int rc;

    /* Die with the parent, so that a killed braid-perf leaves no ranks behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return PERF_EXIT_ERROR;
    config_from_args(a, &cfg);
    res = braid_comm_init_rank_config(&comm, a->nprocs, id, rank, &cfg);
    if (res != BRAID_SUCCESS)
        return init_failed("braid_comm_init_rank", rank, res);
    rc = run_rank(a, comm, rank_main);
    fflush(NULL);
    return rc;
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : PERF_EXIT_ERROR;
}

static void stop_ranks(pid_t *pids, int n, int sig)
{
    for (int r = 0; r < n; r++) {
        if (pids[r] > 0)
            kill(pids[r], sig);
    }
}

/* Reaps ranks that exited; returns how many are still running. */
static int reap(pid_t *pids, int n, int *rc, time_t *failed_at)
{
    int running = 0, status;

    for (int r = 0; r < n; r++) {
        if (pids[r] <= 0)
            continue;
        pid_t p = waitpid(pids[r], &status, WNOHANG);
        if (p == 0 || (p < 0 && errno == EINTR)) {
            running++;
            continue;
        }
        pids[r] = 0;
        int code = p < 0 ? PERF_EXIT_ERROR : exit_code(status);
        if (code != 0 && *rc == 0) {
            *rc = code;
            *failed_at = time(NULL);
            if (code > 128)
                fprintf(stderr, "braid-perf: rank %d killed by signal %d\n", r, code - 128);
        }
    }
    return running;
}

/* Waits for every rank, bounded by --launch-timeout, and a few seconds more once one failed. */
static int wait_ranks(pid_t *pids, int n, int timeout_s)
{
    time_t deadline = time(NULL) + timeout_s, failed_at = 0;
    int rc = 0, stopping = 0;
    const struct timespec tick = {0, 20 * 1000 * 1000};

    while (reap(pids, n, &rc, &failed_at) > 0) {
        time_t t = time(NULL);
        if (!stopping && rc != 0 && t - failed_at >= FAIL_GRACE_S) {
            fprintf(stderr, "braid-perf: a rank failed (exit %d); stopping the others\n", rc);
            stopping = 1;
        } else if (!stopping && t >= deadline) {
            fprintf(stderr,
                    "braid-perf: ranks still running after %d s (--launch-timeout); stopping "
                    "them\n",
                    timeout_s);
            rc = 124;
            stopping = 1;
        }
        if (stopping)
            stop_ranks(pids, n, SIGKILL);
        nanosleep(&tick, NULL);
    }
    return rc;
}

/* Reads the unique id the parent sends after forking every rank (bounded wait). */
static int read_id(int fd, braid_unique_id_t *id)
{
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (got < sizeof(*id)) {
        if (poll(&p, 1, 60000) <= 0)
            return -1;
        ssize_t n = read(fd, (char *)id + got, sizeof(*id) - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* The ranks are forked first and the id is created afterwards and sent through pipes: the id's
 * root is a thread, and a process should not fork while another of its threads may hold a
 * lock (sanitizer allocators are not fork-safe, for one). */
static int launch_forked(const perf_args_t *a, perf_rank_main_t rank_main)
{
    pid_t parent = getpid();
    pid_t *pids = calloc((size_t)a->nprocs, sizeof(*pids));
    int *pipes = calloc((size_t)a->nprocs, sizeof(*pipes));
    int rc = 0;

    if (pids == NULL || pipes == NULL) {
        fprintf(stderr, "braid-perf: out of memory\n");
        free(pids);
        free(pipes);
        return PERF_EXIT_ERROR;
    }
    fflush(NULL); /* or buffered output would be printed once per child */
    for (int r = 0; r < a->nprocs && rc == 0; r++) {
        int fds[2];
        if (pipe(fds) != 0) {
            fprintf(stderr, "braid-perf: pipe for rank %d failed: %m\n", r);
            rc = PERF_EXIT_ERROR;
            break;
        }
        pid_t pid = fork();
        if (pid == 0) {
            braid_unique_id_t id;
            close(fds[1]);
            if (read_id(fds[0], &id) != 0)
                _exit(PERF_EXIT_ERROR);
            _exit(forked_rank(a, rank_main, id, r, parent)); /* no atexit handlers of ours */
        }
        close(fds[0]);
        pipes[r] = fds[1];
        if (pid < 0) {
            fprintf(stderr, "braid-perf: fork of rank %d failed: %m\n", r);
            rc = PERF_EXIT_ERROR;
            break;
        }
        pids[r] = pid;
    }
    braid_unique_id_t id;
    braid_result_t res = rc == 0 ? braid_get_unique_id(&id) : BRAID_ERR_SYSTEM;
    if (rc == 0 && res != BRAID_SUCCESS)
        rc = init_failed("braid_get_unique_id", -1, res);
    for (int r = 0; r < a->nprocs; r++) {
        if (pipes[r] > 0) {
            if (rc == 0 && write(pipes[r], &id, sizeof(id)) != (ssize_t)sizeof(id))
                rc = PERF_EXIT_ERROR;
            close(pipes[r]);
        }
    }
    if (rc != 0)
        stop_ranks(pids, a->nprocs, SIGKILL);
    int waited = wait_ranks(pids, a->nprocs, rc != 0 ? 5 : a->launch_timeout_s);
    free(pids);
    free(pipes);
    return rc != 0 ? rc : waited;
}

/* ---- id file -------------------------------------------------------------------------------- */

int perf_id_encode(const braid_unique_id_t *id, char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t need = sizeof(ID_FILE_MAGIC) + 2 * BRAID_UNIQUE_ID_BYTES + 1;
    size_t n = (size_t)snprintf(text, len, "%s ", ID_FILE_MAGIC);

    if (len < need + 1)
        return -1;
    for (size_t i = 0; i < BRAID_UNIQUE_ID_BYTES; i++) {
        unsigned char b = (unsigned char)id->internal[i];
        text[n++] = hex[b >> 4];
        text[n++] = hex[b & 15];
    }
    text[n++] = '\n';
    text[n] = '\0';
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int perf_id_decode(const char *text, braid_unique_id_t *id)
{
    size_t m = strlen(ID_FILE_MAGIC);

    if (strncmp(text, ID_FILE_MAGIC, m) != 0 || text[m] != ' ')
        return -1;
    text += m + 1;
    for (size_t i = 0; i < BRAID_UNIQUE_ID_BYTES; i++) {
        int hi = hex_value(text[2 * i]), lo = hi < 0 ? -1 : hex_value(text[2 * i + 1]);
        if (lo < 0)
            return -1;
        id->internal[i] = (char)(hi << 4 | lo);
    }
    return 0;
}

/* Writes to a temporary name and renames, so readers never see half an id. */
static int write_id_file(const char *path, const braid_unique_id_t *id)
{
    char text[512], tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    if (perf_id_encode(id, text, sizeof(text)) != 0 || (f = fopen(tmp, "w")) == NULL)
        goto err;
    if (fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        goto err;
    return 0;
err:
    fprintf(stderr, "braid-perf: cannot write the id file %s: %m\n", path);
    unlink(tmp);
    return -1;
}

/* One attempt: the file exists, is no older than this job, and holds a whole id. */
static int try_read_id_file(const char *path, braid_unique_id_t *id)
{
    char text[512] = "";
    struct stat st;
    FILE *f;
    int ok;

    if (stat(path, &st) != 0 || st.st_mtime < start_time - ID_FILE_STALE_S)
        return -1;
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    ok = fgets(text, sizeof(text), f) != NULL && perf_id_decode(text, id) == 0;
    fclose(f);
    return ok ? 0 : -1;
}

static int read_id_file(const char *path, braid_unique_id_t *id, int rank)
{
    const struct timespec tick = {0, 50 * 1000 * 1000};
    time_t deadline = time(NULL) + ID_FILE_WAIT_S;

    while (try_read_id_file(path, id) != 0) {
        if (time(NULL) >= deadline) {
            fprintf(stderr,
                    "braid-perf: rank %d: no id in %s after %d s: is rank 0 running, and is "
                    "the path on a filesystem every rank shares?\n",
                    rank, path, ID_FILE_WAIT_S);
            return -1;
        }
        nanosleep(&tick, NULL);
    }
    return 0;
}

static int launch_with_id_file(const perf_args_t *a, perf_rank_main_t rank_main, int rank,
                               int nranks)
{
    braid_unique_id_t id;
    braid_config_t cfg;
    braid_comm_t comm = NULL;
    braid_result_t res;

    if (rank == 0) {
        res = braid_get_unique_id(&id);
        if (res != BRAID_SUCCESS)
            return init_failed("braid_get_unique_id", rank, res);
        if (write_id_file(a->id_file, &id) != 0)
            return PERF_EXIT_ERROR;
    } else if (read_id_file(a->id_file, &id, rank) != 0) {
        return PERF_EXIT_ERROR;
    }
    config_from_args(a, &cfg);
    res = braid_comm_init_rank_config(&comm, nranks, id, rank, &cfg);
    if (res != BRAID_SUCCESS)
        return init_failed("braid_comm_init_rank", rank, res);
    if (rank == 0)
        unlink(a->id_file); /* every rank has joined, so it has read it; next job starts clean */
    return run_rank(a, comm, rank_main);
}

/* ---- launcher environments and single rank -------------------------------------------------- */

static int launch_with_env(const perf_args_t *a, perf_rank_main_t rank_main, int rank, int nranks,
                           const char *source)
{
    braid_config_t cfg;
    braid_comm_t comm = NULL;
    braid_result_t res;

    if (getenv("BRAID_ROOT") == NULL) {
        fprintf(stderr,
                "braid-perf: started by %s as rank %d of %d, but the ranks have no way to "
                "meet: export BRAID_ROOT=<rank 0's host>:<free port> (and BRAID_SECRET) to "
                "every rank, or pass --id-file PATH on a filesystem they share\n",
                source, rank, nranks);
        return PERF_EXIT_ERROR;
    }
    config_from_args(a, &cfg);
    res = braid_comm_init_env(&comm, &cfg);
    if (res != BRAID_SUCCESS)
        return init_failed("braid_comm_init_env", rank, res);
    return run_rank(a, comm, rank_main);
}

static int launch_alone(const perf_args_t *a, perf_rank_main_t rank_main)
{
    braid_unique_id_t id;
    braid_config_t cfg;
    braid_comm_t comm = NULL;
    braid_result_t res = braid_get_unique_id(&id);

    if (res != BRAID_SUCCESS)
        return init_failed("braid_get_unique_id", 0, res);
    config_from_args(a, &cfg);
    res = braid_comm_init_rank_config(&comm, 1, id, 0, &cfg);
    if (res != BRAID_SUCCESS)
        return init_failed("braid_comm_init_rank", 0, res);
    return run_rank(a, comm, rank_main);
}

int perf_launch(const perf_args_t *a, perf_rank_main_t rank_main)
{
    int rank = 0, nranks = 1;
    const char *source = NULL;
    int launched = perf_detect_launcher(getenv, &rank, &nranks, &source);

    start_time = time(NULL);
    if (a->nprocs > 0) {
        if (launched && nranks > 1 && rank == 0)
            fprintf(stderr,
                    "braid-perf: warning: -np %d under %s: each of its %d processes starts "
                    "its own separate %d-rank job\n",
                    a->nprocs, source, nranks, a->nprocs);
        return launch_forked(a, rank_main);
    }
    if (launched && nranks > 1)
        return a->id_file ? launch_with_id_file(a, rank_main, rank, nranks)
                          : launch_with_env(a, rank_main, rank, nranks, source);
    return launch_alone(a, rank_main);
}
