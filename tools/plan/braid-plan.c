/*
 * braid-plan: print and verify the plans of the built-in algorithms (braid_ext.h).
 *
 *   braid-plan show   --coll all_reduce --algo ring --nranks 8 [--channels 2] [--rank 3]
 *                     [--root 0]
 *   braid-plan verify --coll all_reduce --algo ring --nranks 8 [--channels 2] [--root 0]
 *                     [--inplace]
 *   braid-plan verify --all --nranks 72 [--channels 2]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "braid.h"
#include "braid_ext.h"

struct opts {
    const char *cmd;
    braid_coll_t coll;
    int algo; /* -1 until --algo */
    int nranks, nchannels, rank, root, all, inplace;
};

/* The name and description of algorithm a (every index below braid_algo_count() has one). */
static braid_algo_info_t algo_info(int a)
{
    braid_algo_info_t info = {"?", ""};
    braid_algo_get(a, &info);
    return info;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: braid-plan show   --coll C --algo A --nranks N [--channels K] [--rank R] "
               "[--root R]\n"
               "       braid-plan verify --coll C --algo A --nranks N [--channels K] [--root R] "
               "[--inplace]\n"
               "       braid-plan verify --all --nranks N [--channels K]\n"
               "\n"
               "  show      print the plan of one rank (--rank), or of every rank\n"
               "  verify    run every rank's plan symbolically and check that each output holds\n"
               "            every contribution exactly once; exits 1 on the first violation\n"
               "  simulate  (timing on a topology file) comes in a later release\n"
               "\n"
               "  --coll C      all_reduce, all_gather, reduce_scatter, all_to_all, broadcast,\n"
               "                reduce, send, recv (send/recv verify every ordered pair)\n"
               "  --algo A      ");
    for (int a = 0; a < braid_algo_count(); a++)
        fprintf(f, "%s%s", a ? ", " : "", algo_info(a).name);
    fprintf(f, "\n");
    for (int a = 0; a < braid_algo_count(); a++) {
        braid_algo_info_t d = algo_info(a);
        fprintf(f, "                  %-9s %s\n", d.name, d.desc);
    }
    fprintf(f,
            "  --nranks N    number of ranks (>= 1)\n"
            "  --channels K  channels, 1..64 (default 1)\n"
            "  --rank R      show only rank R\n"
            "  --root R      root of broadcast/reduce, peer of send/recv (default 0)\n"
            "  --inplace     verify with input and output aliased as the in-place call does\n"
            "  --all         verify every algorithm x collective it supports (out of place, and\n"
            "                in place where the plan says it is safe)\n"
            "  --help        this text\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"coll", required_argument, 0, 'c'},   {"algo", required_argument, 0, 'a'},
        {"nranks", required_argument, 0, 'n'}, {"channels", required_argument, 0, 'k'},
        {"rank", required_argument, 0, 'r'},   {"root", required_argument, 0, 'R'},
        {"all", no_argument, 0, 'A'},          {"inplace", no_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    *o = (struct opts){.coll = BRAID_NUM_COLLECTIVES, .algo = -1, .nchannels = 1, .rank = -1};
    int ch;
    while ((ch = getopt_long(argc, argv, "c:a:n:k:r:R:Aih", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            if (braid_coll_find(optarg, &o->coll) != BRAID_SUCCESS)
                return fprintf(stderr, "braid-plan: unknown collective '%s'\n", optarg), 2;
            break;
        case 'a':
            if (braid_algo_find(optarg, &o->algo) != BRAID_SUCCESS)
                return fprintf(stderr, "braid-plan: unknown algorithm '%s'\n", optarg), 2;
            break;
        case 'n':
            o->nranks = atoi(optarg);
            break;
        case 'k':
            o->nchannels = atoi(optarg);
            break;
        case 'r':
            o->rank = atoi(optarg);
            break;
        case 'R':
            o->root = atoi(optarg);
            break;
        case 'A':
            o->all = 1;
            break;
        case 'i':
            o->inplace = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return 2;
        }
    }
    if (optind >= argc)
        return fprintf(stderr, "braid-plan: no command (show or verify); see --help\n"), 2;
    o->cmd = argv[optind];
    if (o->nranks < 1)
        return fprintf(stderr, "braid-plan: --nranks N (N >= 1) is required\n"), 2;
    if (!o->all && (o->coll == BRAID_NUM_COLLECTIVES || o->algo < 0))
        return fprintf(stderr, "braid-plan: --coll and --algo are required (or --all)\n"), 2;
    return 0;
}

static int show(const struct opts *o)
{
    for (int r = 0; r < o->nranks; r++) {
        if (o->rank >= 0 && r != o->rank)
            continue;
        braid_plan_t plan;
        if (braid_plan_build(&plan, o->coll, o->algo, o->nranks, r, o->root, o->nchannels) !=
            BRAID_SUCCESS) {
            fprintf(stderr, "braid-plan: %s\n", braid_last_error(NULL));
            return 1;
        }
        braid_plan_print(plan, stdout);
        braid_plan_free(plan);
    }
    return 0;
}

/* Verifies one (algorithm, collective, in place) and prints one line; returns 1 on failure. */
static int verify_one(const struct opts *o, int algo, braid_coll_t coll, int inplace)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    braid_result_t res = braid_plan_verify(coll, algo, o->nranks, o->root, o->nchannels, inplace);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    const char *status = res == BRAID_SUCCESS             ? "OK"
                         : res == BRAID_ERR_NOT_SUPPORTED ? "SKIPPED"
                                                          : "FAILED";
    printf("%-7s %-8s %-14s nranks %d channels %d%s  (%.1f ms)%s%s\n", status, algo_info(algo).name,
           braid_coll_name(coll), o->nranks, o->nchannels, inplace ? " in-place" : "", ms,
           res == BRAID_SUCCESS ? "" : ": ", res == BRAID_SUCCESS ? "" : braid_last_error(NULL));
    return res != BRAID_SUCCESS && res != BRAID_ERR_NOT_SUPPORTED;
}

/* Whether algo's plans for coll may run in place (build rank 0's plan to ask it). */
static int inplace_safe(const struct opts *o, int algo, braid_coll_t coll)
{
    braid_plan_t plan;
    braid_plan_info_t info = {.inplace_safe = 0};
    if (coll == BRAID_SEND || coll == BRAID_RECV)
        return 0; /* no in-place form */
    if (braid_plan_build(&plan, coll, algo, o->nranks, 0, o->root, o->nchannels) != BRAID_SUCCESS)
        return 0;
    braid_plan_get_info(plan, &info);
    braid_plan_free(plan);
    return info.inplace_safe;
}

static int verify(const struct opts *o)
{
    if (!o->all) {
        if (o->inplace && !inplace_safe(o, o->algo, o->coll))
            fprintf(stderr,
                    "braid-plan: note: %s %s is not in-place safe (the executor stages "
                    "the input)\n",
                    algo_info(o->algo).name, braid_coll_name(o->coll));
        return verify_one(o, o->algo, o->coll, o->inplace);
    }
    int failed = 0;
    for (int a = 0; a < braid_algo_count(); a++) {
        for (int c = 0; c < BRAID_NUM_COLLECTIVES; c++) {
            int supported = 0;
            if (braid_algo_supports(a, (braid_coll_t)c, &supported) != BRAID_SUCCESS || !supported)
                continue;
            failed |= verify_one(o, a, (braid_coll_t)c, 0);
            if (inplace_safe(o, a, (braid_coll_t)c))
                failed |= verify_one(o, a, (braid_coll_t)c, 1);
        }
    }
    printf("%s\n", failed ? "FAILED" : "all plans verified");
    return failed;
}

int main(int argc, char **argv)
{
    struct opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (strcmp(o.cmd, "show") == 0)
        return show(&o);
    if (strcmp(o.cmd, "verify") == 0)
        return verify(&o);
    if (strcmp(o.cmd, "simulate") == 0) {
        fprintf(stderr, "braid-plan: simulate is not implemented yet (a later release)\n");
        return 2;
    }
    fprintf(stderr, "braid-plan: unknown command '%s'; see --help\n", o.cmd);
    return 2;
}
