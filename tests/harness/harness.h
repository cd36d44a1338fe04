/*
 * Multi-rank test harness: runs a function on N ranks of one job, as threads of this process
 * or as forked processes, each rank with its own comm, all under one timeout so that a hang
 * fails the case instead of the suite.
 */
#ifndef BRAID_TEST_HARNESS_H
#define BRAID_TEST_HARNESS_H

#include <stdio.h>
#include <sys/types.h>

#include "braid.h"

enum harness_mode { HARNESS_THREADS = 0, HARNESS_PROCS = 1 };

/* Returns the number of failures seen by this rank (0 = pass). Print what failed. */
typedef int (*harness_fn)(braid_comm_t comm, int rank, int nranks, void *arg);

/* Runs fn on nranks ranks; returns the number of ranks that failed, timed out or crashed.
 * config may be NULL. */
int harness_run(int nranks, enum harness_mode mode, harness_fn fn, void *arg, int timeout_s,
                const braid_config_t *config);

const char *harness_mode_name(enum harness_mode mode);

/* Forks n processes, then creates a unique id and sends it to them through pipes (a process
 * must not fork while the id's root thread may hold a lock), each child running
 * child_main(id, rank, arg) and exiting with its result. pids gets the children. Returns 0,
 * or -1 if the id could not be made (the children are then killed and reaped). */
int harness_fork_ranks(int n, int (*child_main)(braid_unique_id_t id, int rank, void *arg),
                       void *arg, pid_t *pids);

/* Raises the open-file limit (many ranks in one process use many sockets). */
void harness_raise_fd_limit(void);

#define HARNESS_EXPECT(cond, ...)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
