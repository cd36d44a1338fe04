/*
 * braid-perf's command line (tools/perf/perf_args.c): nccl-tests' defaults and flags, size
 * suffixes, collective spellings, the sweep, and launcher detection from the environment.
 */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perf_args.h"
#include "check_run.h"

/* Parses a NULL-terminated list of arguments after a fixed program name. */
static int parse(perf_args_t *a, char *err, const char *prog, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    argv[argc++] = (char *)prog;
    va_start(ap, prog);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL && argc < 31;)
        argv[argc++] = (char *)s;
    va_end(ap);
    argv[argc] = NULL;
    perf_args_defaults(a);
    return perf_args_parse(a, argc, argv, err, 256);
}

START_TEST(sizes_take_suffixes)
{
    size_t v;

    ck_assert_int_eq(perf_parse_size("8", &v), 0);
    ck_assert_uint_eq(v, 8);
    ck_assert_int_eq(perf_parse_size("32M", &v), 0);
    ck_assert_uint_eq(v, 32u << 20);
    ck_assert_int_eq(perf_parse_size("1k", &v), 0);
    ck_assert_uint_eq(v, 1024);
    ck_assert_int_eq(perf_parse_size("2G", &v), 0);
    ck_assert_uint_eq(v, (size_t)2 << 30);
    ck_assert_int_eq(perf_parse_size("1.5M", &v), 0);
    ck_assert_uint_eq(v, 3u << 19);
    ck_assert_int_eq(perf_parse_size("64KiB", &v), 0);
    ck_assert_uint_eq(v, 64u << 10);
    ck_assert_int_eq(perf_parse_size("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(perf_parse_size("-1", &v), -1);
    ck_assert_int_eq(perf_parse_size("12X", &v), -1);
    ck_assert_int_eq(perf_parse_size("", &v), -1);
    ck_assert_int_eq(perf_parse_size("M", &v), -1);
}
END_TEST

START_TEST(defaults_match_nccl_tests)
{
    perf_args_t a;
    char err[256];

    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", NULL), 0);
    ck_assert_int_eq(a.coll, PERF_ALL_REDUCE);
    ck_assert_uint_eq(a.min_bytes, 32u << 20);
    ck_assert_uint_eq(a.max_bytes, 32u << 20);
    ck_assert_uint_eq(a.step_bytes, 1u << 20);
    ck_assert_uint_eq(a.step_factor, 1);
    ck_assert_int_eq(a.iters, 20);
    ck_assert_int_eq(a.warmup_iters, 5);
    ck_assert_int_eq(a.check, 1);
    ck_assert_int_eq(a.op, BRAID_SUM);
    ck_assert_int_eq(a.dtype, BRAID_FLOAT32);
    ck_assert_int_eq(a.root, 0);
    ck_assert_int_eq(a.blocking, 0);
    ck_assert_int_eq(a.average, PERF_AVERAGE_MEAN);
    ck_assert_int_eq(a.nprocs, 0);
    ck_assert_ptr_null(a.json_path);
}
END_TEST

START_TEST(flags_in_every_spelling)
{
    perf_args_t a;
    char err[256];

    ck_assert_int_eq(parse(&a, err, "braid-perf", "-b", "8", "-e128M", "--stepfactor=2", "-n", "50",
                           "--warmup_iters", "2", "-c", "0", "-o", "max", "-d", "half", "-r", "1",
                           "-z", "1", "-a", "3", "-np", "4", "--json", "x.json",
                           "--id-file=/tmp/id", "--progress", "reduce", NULL),
                     0);
    ck_assert_int_eq(a.coll, PERF_REDUCE);
    ck_assert_uint_eq(a.min_bytes, 8);
    ck_assert_uint_eq(a.max_bytes, 128u << 20);
    ck_assert_uint_eq(a.step_factor, 2);
    ck_assert_int_eq(a.iters, 50);
    ck_assert_int_eq(a.warmup_iters, 2);
    ck_assert_int_eq(a.check, 0);
    ck_assert_int_eq(a.op, BRAID_MAX);
    ck_assert_int_eq(a.dtype, BRAID_FLOAT16);
    ck_assert_int_eq(a.root, 1);
    ck_assert_int_eq(a.blocking, 1);
    ck_assert_int_eq(a.average, PERF_AVERAGE_MAX);
    ck_assert_int_eq(a.nprocs, 4);
    ck_assert_str_eq(a.json_path, "x.json");
    ck_assert_str_eq(a.id_file, "/tmp/id");
    ck_assert_int_eq(a.progress, 1);
    /* "-np4" is -np 4, not -n p4; "--warmup-iters" equals "--warmup_iters". */
    ck_assert_int_eq(parse(&a, err, "braid-perf", "-np4", "--warmup-iters", "3", "sendrecv", NULL),
                     0);
    ck_assert_int_eq(a.nprocs, 4);
    ck_assert_int_eq(a.warmup_iters, 3);
}
END_TEST

START_TEST(collective_names)
{
    static const struct {
        const char *name;
        perf_coll_t coll;
    } names[] = {
        {"all_reduce", PERF_ALL_REDUCE},
        {"allreduce", PERF_ALL_REDUCE},
        {"all_reduce_perf", PERF_ALL_REDUCE},
        {"all_gather_perf", PERF_ALL_GATHER},
        {"reduce_scatter", PERF_REDUCE_SCATTER},
        {"alltoall_perf", PERF_ALLTOALL},
        {"all_to_all", PERF_ALLTOALL},
        {"broadcast_perf", PERF_BROADCAST},
        {"bcast", PERF_BROADCAST},
        {"reduce_perf", PERF_REDUCE},
        {"sendrecv_perf", PERF_SENDRECV},
        {"SendRecv", PERF_SENDRECV},
    };
    perf_coll_t c;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_msg(perf_coll_from_name(names[i].name, &c) == 0, "%s", names[i].name);
        ck_assert_int_eq(c, names[i].coll);
    }
    ck_assert_int_eq(perf_coll_from_name("gather", &c), -1);
    ck_assert_str_eq(perf_coll_name(PERF_ALLTOALL), "alltoall");
}
END_TEST

START_TEST(program_name_picks_collective)
{
    perf_args_t a;
    char err[256];

    ck_assert_int_eq(parse(&a, err, "/opt/bin/all_gather_perf", "-b", "1K", "-e", "1K", NULL), 0);
    ck_assert_int_eq(a.coll, PERF_ALL_GATHER);
}
END_TEST

START_TEST(errors_are_explained)
{
    perf_args_t a;
    char err[256];

    ck_assert_int_eq(parse(&a, err, "braid-perf", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "no collective"));
    ck_assert_int_eq(parse(&a, err, "braid-perf", "gather", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown collective"));
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-b", "2M", "-e", "1M", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "minbytes"));
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-o", "mulsum", NULL), -1);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-d", "complex", NULL), -1);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-a", "4", NULL), -1);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-n", "0", NULL), -1);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-g", "2", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "-np"));
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-b", NULL), -1);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "--bogus", NULL), -1);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "sendrecv", NULL), -1);
    ck_assert_int_eq(
        parse(&a, err, "braid-perf", "all_reduce", "-b", "0", "-e", "8", "-i", "0", NULL), -1);
    /* GPU-only flags at their defaults are accepted, so nccl-tests command lines run. */
    ck_assert_int_eq(
        parse(&a, err, "braid-perf", "all_reduce", "-g", "1", "-t", "1", "-G", "0", NULL), 0);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "--help", NULL), 0);
    ck_assert_int_eq(a.help, 1);
}
END_TEST

START_TEST(sweeps_follow_step_rules)
{
    perf_args_t a;
    char err[256];

    ck_assert_int_eq(
        parse(&a, err, "braid-perf", "all_reduce", "-b", "8", "-e", "1M", "-f", "4", NULL), 0);
    ck_assert_uint_eq(perf_sweep_length(&a), 9); /* 8, 32, ..., 512K */
    ck_assert_uint_eq(perf_next_size(&a, 8), 32);
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", "-b", "1M", "-e", "4M", NULL), 0);
    ck_assert_uint_eq(perf_sweep_length(&a), 4); /* additive 1M steps */
    ck_assert_int_eq(
        parse(&a, err, "braid-perf", "all_reduce", "-b", "0", "-e", "4", "-f", "2", NULL), 0);
    ck_assert_uint_eq(perf_sweep_length(&a), 4); /* 0, 1, 2, 4 */
    ck_assert_int_eq(parse(&a, err, "braid-perf", "all_reduce", NULL), 0);
    ck_assert_uint_eq(perf_sweep_length(&a), 1); /* 32M only */
}
END_TEST

/* ---- launcher detection through a fake environment ------------------------------------------ */

static const char *const *fake_env;

static char *fake_getenv(const char *name)
{
    for (size_t i = 0; fake_env[i]; i += 2) {
        if (strcmp(fake_env[i], name) == 0)
            return (char *)fake_env[i + 1];
    }
    return NULL;
}

static int detect(const char *const *env, int *rank, int *nranks, const char **source)
{
    fake_env = env;
    return perf_detect_launcher(fake_getenv, rank, nranks, source);
}

START_TEST(launchers_are_detected)
{
    static const char *const ompi[] = {"OMPI_COMM_WORLD_RANK", "3", "OMPI_COMM_WORLD_SIZE", "8",
                                       NULL};
    static const char *const pmi[] = {"PMI_RANK", "1", "PMI_SIZE", "2", NULL};
    static const char *const slurm[] = {"SLURM_PROCID", "5", "SLURM_STEP_NUM_TASKS", "16", NULL};
    static const char *const batch[] = {"SLURM_PROCID", "0", "SLURM_NTASKS", "16", NULL};
    static const char *const torch[] = {"RANK", "0", "WORLD_SIZE", "4", NULL};
    static const char *const bad[] = {"RANK", "4", "WORLD_SIZE", "4", NULL};
    static const char *const none[] = {NULL};
    int rank, nranks;
    const char *source;

    ck_assert_int_eq(detect(ompi, &rank, &nranks, &source), 1);
    ck_assert_int_eq(rank, 3);
    ck_assert_int_eq(nranks, 8);
    ck_assert_str_eq(source, "Open MPI");
    ck_assert_int_eq(detect(pmi, &rank, &nranks, &source), 1);
    ck_assert_str_eq(source, "PMI");
    ck_assert_int_eq(detect(slurm, &rank, &nranks, &source), 1);
    ck_assert_int_eq(nranks, 16);
    /* An sbatch shell is not a rank of a job step. */
    ck_assert_int_eq(detect(batch, &rank, &nranks, &source), 0);
    ck_assert_int_eq(detect(torch, &rank, &nranks, &source), 1);
    ck_assert_str_eq(source, "torchrun");
    ck_assert_int_eq(detect(bad, &rank, &nranks, &source), 0);
    ck_assert_int_eq(detect(none, &rank, &nranks, &source), 0);
}
END_TEST

static Suite *args_suite(void)
{
    Suite *s = suite_create("perf_args");
    TCase *tc = tcase_create("args");

    tcase_add_test(tc, sizes_take_suffixes);
    tcase_add_test(tc, defaults_match_nccl_tests);
    tcase_add_test(tc, flags_in_every_spelling);
    tcase_add_test(tc, collective_names);
    tcase_add_test(tc, program_name_picks_collective);
    tcase_add_test(tc, errors_are_explained);
    tcase_add_test(tc, sweeps_follow_step_rules);
    tcase_add_test(tc, launchers_are_detected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_run_suite(args_suite());
}
