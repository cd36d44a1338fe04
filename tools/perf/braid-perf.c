/*
 * braid-perf: braid's bandwidth test, a drop-in for nccl-tests' *_perf binaries on host memory.
 * Same flags, same table, same exit status, so an nccl-tests user needs no manual:
 *
 *   braid-perf all_reduce -np 4 -b 8 -e 128M -f 2
 *
 * This file only parses the command line and hands over to the launcher (perf_launch.c), which
 * creates the ranks, each of which runs the sweep (perf_run.c).
 */
#include <stdio.h>
#include <string.h>

#include "perf_args.h"
#include "perf_launch.h"
#include "perf_run.h"

int main(int argc, char **argv)
{
    perf_args_t args;
    char err[512] = "";
    const char *prog = strrchr(argv[0], '/');

    prog = prog ? prog + 1 : argv[0];
    /* Rows must appear as they are measured, also when stdout is a pipe or a file. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    perf_args_defaults(&args);
    if (perf_args_parse(&args, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        fprintf(stderr, "Try '%s --help'.\n", prog);
        return PERF_EXIT_ERROR;
    }
    if (args.help) {
        perf_usage(stdout, prog);
        return PERF_EXIT_OK;
    }
    return perf_launch(&args, perf_run);
}
