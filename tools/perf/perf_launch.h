/*
 * How braid-perf's ranks come to exist and meet: forked by braid-perf itself (-np N), started
 * by a launcher (mpirun, srun, torchrun) and introduced through BRAID_ROOT or an id file, or a
 * single rank alone.
 */
#ifndef BRAID_PERF_LAUNCH_H
#define BRAID_PERF_LAUNCH_H

#include "braid.h"
#include "perf_args.h"

/* What each rank runs once its comm exists; returns the rank's exit code. */
typedef int (*perf_rank_main_t)(const perf_args_t *args, braid_comm_t comm);

/*
 * Creates this process's rank(s) as args says, runs rank_main on each and returns the exit
 * code of the whole run: the first non-zero code of any rank, PERF_EXIT_ERROR when a comm could
 * not be created, 124 when -np ranks ran past --launch-timeout. With -np the parent waits for
 * its children, and stops the survivors a few seconds after one of them fails.
 */
int perf_launch(const perf_args_t *args, perf_rank_main_t rank_main);

/* The id file format, exposed for tests: text, one line, "braid-unique-id-v1 <256 hex>". */
int perf_id_encode(const braid_unique_id_t *id, char *text, size_t len);
int perf_id_decode(const char *text, braid_unique_id_t *id);

#endif /* BRAID_PERF_LAUNCH_H */
