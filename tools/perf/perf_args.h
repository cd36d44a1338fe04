/*
 * braid-perf command line: the flags of nccl-tests with the same meanings and defaults, plus
 * the braid-specific launch flags (-np, --id-file, --json, --progress). Pure: no I/O beyond the
 * usage text, no braid calls, so tests/perftool can check every rule.
 */
#ifndef BRAID_PERF_ARGS_H
#define BRAID_PERF_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "braid.h"

typedef enum {
    PERF_ALL_REDUCE = 0,
    PERF_ALL_GATHER,
    PERF_REDUCE_SCATTER,
    PERF_ALLTOALL,
    PERF_BROADCAST,
    PERF_REDUCE,
    PERF_SENDRECV,
    PERF_NUM_COLLS
} perf_coll_t;

/* How per-rank times are combined into the reported one (nccl-tests' -a). */
typedef enum {
    PERF_AVERAGE_RANK0 = 0,
    PERF_AVERAGE_MEAN = 1,
    PERF_AVERAGE_MIN = 2,
    PERF_AVERAGE_MAX = 3
} perf_average_t;

typedef struct {
    perf_coll_t coll;
    size_t min_bytes;      /* -b, default 32M */
    size_t max_bytes;      /* -e, default 32M */
    size_t step_bytes;     /* -i, default 1M, used when step_factor == 1 */
    size_t step_factor;    /* -f, default 1 (additive steps of -i) */
    int iters;             /* -n, default 20 */
    int warmup_iters;      /* -w, default 5 */
    int agg_iters;         /* -m, default 1: calls grouped per timed iteration */
    int check;             /* -c, default 1: number of checked runs per size */
    braid_op_t op;         /* -o, default sum */
    braid_dtype_t dtype;   /* -d, default float (float32) */
    int root;              /* -r, default 0 */
    int blocking;          /* -z, default 0: 1 adds a barrier after every call */
    int average;           /* -a, default 1 (mean over ranks) */
    int timeout_s;         /* -T, default 0: the library's own timeout applies */
    int report_cputime;    /* -C, default 0: only changes the column title on host memory */
    int nprocs;            /* -np, default 0: do not fork; use a launcher or run alone */
    int launch_timeout_s;  /* --launch-timeout, default 3600: bound on a -np run */
    int progress;          /* --progress: 1 forces the stderr progress line */
    int help;              /* -h / --help was given */
    const char *json_path; /* --json FILE, or NULL */
    const char *id_file;   /* --id-file PATH, or NULL */
} perf_args_t;

/* Fills *args with nccl-tests' defaults and no collective chosen (PERF_ALL_REDUCE). */
void perf_args_defaults(perf_args_t *args);

/*
 * Parses argv into *args (which perf_args_defaults() must have filled). argv[0]'s basename may
 * name the collective ("all_reduce_perf", as nccl-tests binaries do); otherwise the first
 * operand does. Returns 0, or -1 with a one-line reason in err. A --help sets args->help and
 * returns 0 without requiring a collective.
 */
int perf_args_parse(perf_args_t *args, int argc, char **argv, char *err, size_t errlen);

/*
 * Parses a byte count with an optional K, M or G suffix (powers of 1024, nccl-tests'
 * convention; a trailing "B" or "iB" is allowed, "1.5M" too). Returns 0 or -1.
 */
int perf_parse_size(const char *text, size_t *bytes);

/* Collective names: canonical ("all_reduce"), and lookup of both spellings. */
const char *perf_coll_name(perf_coll_t coll);
int perf_coll_from_name(const char *name, perf_coll_t *coll);

/* nccl-tests' names for dtypes and ops as printed in the table ("float", "sum"). */
const char *perf_dtype_name(braid_dtype_t dtype);
int perf_dtype_from_name(const char *name, braid_dtype_t *dtype);
const char *perf_op_name(braid_op_t op);
int perf_op_from_name(const char *name, braid_op_t *op);

/* The next size of a sweep after `size`, following -f or -i; > max_bytes ends the sweep. */
size_t perf_next_size(const perf_args_t *args, size_t size);

/* Number of sizes a sweep visits (for the progress line). */
size_t perf_sweep_length(const perf_args_t *args);

/*
 * Where the rank and size come from when braid-perf was started by a launcher, read through
 * `getenv_fn` (getenv in the tool, a fake in tests). Returns 1 and fills rank/nranks/source
 * when one of Open MPI, PMI, Slurm, torchrun or BRAID_RANK/BRAID_NRANKS is found, else 0.
 */
int perf_detect_launcher(char *(*getenv_fn)(const char *), int *rank, int *nranks,
                         const char **source);

/* Prints the --help text. */
void perf_usage(FILE *out, const char *prog);

#endif /* BRAID_PERF_ARGS_H */
