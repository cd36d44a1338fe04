/*
 * braid-perf's measurement on one rank: warm-up, the timed sweep, the data check and, on rank
 * 0, the table. Every rank of the comm calls perf_run() with the same arguments.
 */
#ifndef BRAID_PERF_RUN_H
#define BRAID_PERF_RUN_H

#include "braid.h"
#include "perf_args.h"

/* Exit codes of a rank and of braid-perf as a whole. */
#define PERF_EXIT_OK    0
#define PERF_EXIT_WRONG 1 /* a checked value was wrong (nccl-tests also exits 1) */
#define PERF_EXIT_ERROR 2 /* a braid call, an allocation or the usage failed */

/*
 * Runs the whole sweep on `comm` (owned by the caller, who destroys it). Rank 0 prints to
 * stdout and writes args->json_path. Returns PERF_EXIT_OK, PERF_EXIT_WRONG when any value was
 * wrong on any rank, or PERF_EXIT_ERROR after printing braid_last_error() to stderr.
 * Blocking and collective.
 */
int perf_run(const perf_args_t *args, braid_comm_t comm);

#endif /* BRAID_PERF_RUN_H */
