/*
 * Multi-rank test harness: runs a function on N ranks of one job, as threads of this process
 * or as forked processes, each rank with its own comm, all under one timeout so that a hang
 * fails the case instead of the suite.
 */
#ifndef BRAID_TEST_HARNESS_H
#define BRAID_TEST_HARNESS_H

#include <stdio.h>

#include "braid.h"

enum harness_mode { HARNESS_THREADS = 0, HARNESS_PROCS = 1 };

/* Returns the number of failures seen by this rank (0 = pass). Print what failed. */
typedef int (*harness_fn)(braid_comm_t comm, int rank, int nranks, void *arg);

/* Runs fn on nranks ranks; returns the number of ranks that failed, timed out or crashed.
 * config may be NULL. */
int harness_run(int nranks, enum harness_mode mode, harness_fn fn, void *arg, int timeout_s,
                const braid_config_t *config);

const char *harness_mode_name(enum harness_mode mode);

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
