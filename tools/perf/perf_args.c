/*
 * braid-perf command line. The option table keeps nccl-tests' letters, long names, defaults
 * and meanings, so a command line copied from an nccl-tests run means the same thing here.
 * Options nccl-tests has for GPU-only features (-t, -g, -p, -y, -G) are accepted where their
 * value is the default, so existing scripts keep working, and refused otherwise.
 */
#include "perf_args.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    OPT_SIZE,   /* byte count with K/M/G suffix, stored as size_t */
    OPT_COUNT,  /* integer stored as size_t (-f) */
    OPT_INT,    /* integer in [min, max] stored as int; offset NO_FIELD only validates */
    OPT_ONLY,   /* integer that must equal min (GPU-only features at their default) */
    OPT_OP,     /* reduction name */
    OPT_DTYPE,  /* dtype name */
    OPT_STRING, /* kept as a pointer into argv */
    OPT_FLAG    /* no value; sets the int field to 1 */
} opt_kind_t;

#define NO_FIELD ((size_t)-1)

typedef struct {
    const char *short_name; /* after one dash: "b", "np"; NULL when long only */
    const char *long_name;  /* after two dashes; '-' and '_' are interchangeable */
    opt_kind_t kind;
    size_t offset;
    long min, max;
    const char *why; /* for OPT_ONLY: why other values are refused */
} perf_option_t;

#define FIELD(f) offsetof(perf_args_t, f)

static const char gpu_only[] = "braid-perf runs one rank per process: use -np N or a launcher";

static const perf_option_t options[] = {
    {"b", "minbytes", OPT_SIZE, FIELD(min_bytes), 0, 0, NULL},
    {"e", "maxbytes", OPT_SIZE, FIELD(max_bytes), 0, 0, NULL},
    {"i", "stepbytes", OPT_SIZE, FIELD(step_bytes), 0, 0, NULL},
    {"f", "stepfactor", OPT_COUNT, FIELD(step_factor), 1, 1 << 20, NULL},
    {"n", "iters", OPT_INT, FIELD(iters), 1, INT_MAX, NULL},
    {"w", "warmup_iters", OPT_INT, FIELD(warmup_iters), 0, INT_MAX, NULL},
    {"m", "agg_iters", OPT_INT, FIELD(agg_iters), 1, 1 << 16, NULL},
    {"c", "check", OPT_INT, FIELD(check), 0, 1 << 16, NULL},
    {"o", "op", OPT_OP, FIELD(op), 0, 0, NULL},
    {"d", "datatype", OPT_DTYPE, FIELD(dtype), 0, 0, NULL},
    {"r", "root", OPT_INT, FIELD(root), 0, INT_MAX, NULL},
    {"z", "blocking", OPT_INT, FIELD(blocking), 0, 1, NULL},
    {"a", "average", OPT_INT, FIELD(average), 0, 3, NULL},
    {"T", "timeout", OPT_INT, FIELD(timeout_s), 0, INT_MAX / 1000, NULL},
    {"C", "report_cputime", OPT_INT, FIELD(report_cputime), 0, 1, NULL},
    {"t", "nthreads", OPT_ONLY, NO_FIELD, 1, 1, gpu_only},
    {"g", "ngpus", OPT_ONLY, NO_FIELD, 1, 1, gpu_only},
    {"p", "parallel_init", OPT_INT, NO_FIELD, 0, 1, NULL},
    {"y", "stream_null", OPT_INT, NO_FIELD, 0, 1, NULL},
    {"G", "cudagraph", OPT_ONLY, NO_FIELD, 0, 0, "CUDA graphs do not apply to host memory"},
    {"np", "np", OPT_INT, FIELD(nprocs), 1, 4096, NULL},
    {NULL, "launch-timeout", OPT_INT, FIELD(launch_timeout_s), 1, INT_MAX, NULL},
    {NULL, "json", OPT_STRING, FIELD(json_path), 0, 0, NULL},
    {NULL, "id-file", OPT_STRING, FIELD(id_file), 0, 0, NULL},
    {NULL, "progress", OPT_FLAG, FIELD(progress), 0, 0, NULL},
    {"h", "help", OPT_FLAG, FIELD(help), 0, 0, NULL},
};

#define NUM_OPTIONS (sizeof(options) / sizeof(options[0]))

/* ---- names ---------------------------------------------------------------------------------- */

static const char *const coll_names[PERF_NUM_COLLS] = {
    "all_reduce", "all_gather", "reduce_scatter", "alltoall", "broadcast", "reduce", "sendrecv",
};

/* Lowercases and drops '_', '-' and a "_perf" suffix, so all spellings compare equal. */
static void squash_name(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    size_t len = strlen(in);

    if (len > 5 && strcmp(in + len - 5, "_perf") == 0)
        len -= 5;
    for (size_t i = 0; i < len && n + 1 < outlen; i++) {
        if (in[i] != '_' && in[i] != '-')
            out[n++] = (char)tolower((unsigned char)in[i]);
    }
    out[n] = '\0';
}

const char *perf_coll_name(perf_coll_t coll)
{
    return (unsigned)coll < PERF_NUM_COLLS ? coll_names[coll] : "invalid";
}

int perf_coll_from_name(const char *name, perf_coll_t *coll)
{
    char want[64], have[64];

    squash_name(name, want, sizeof(want));
    if (strcmp(want, "bcast") == 0)
        strcpy(want, "broadcast");
    for (int c = 0; c < PERF_NUM_COLLS; c++) {
        squash_name(coll_names[c], have, sizeof(have));
        if (strcmp(want, have) == 0) {
            *coll = (perf_coll_t)c;
            return 0;
        }
    }
    return -1;
}

typedef struct {
    const char *name;
    int value;
} name_value_t;

/* The first name of each dtype is the one nccl-tests prints; the others are accepted. */
static const name_value_t dtype_names[] = {
    {"int8", BRAID_INT8},       {"char", BRAID_INT8},       {"uint8", BRAID_UINT8},
    {"int32", BRAID_INT32},     {"int", BRAID_INT32},       {"uint32", BRAID_UINT32},
    {"int64", BRAID_INT64},     {"uint64", BRAID_UINT64},   {"half", BRAID_FLOAT16},
    {"float16", BRAID_FLOAT16}, {"fp16", BRAID_FLOAT16},    {"bfloat16", BRAID_BFLOAT16},
    {"bf16", BRAID_BFLOAT16},   {"float", BRAID_FLOAT32},   {"float32", BRAID_FLOAT32},
    {"fp32", BRAID_FLOAT32},    {"double", BRAID_FLOAT64},  {"float64", BRAID_FLOAT64},
    {"fp64", BRAID_FLOAT64},    {"f8e4m3", BRAID_FP8_E4M3}, {"fp8_e4m3", BRAID_FP8_E4M3},
    {"e4m3", BRAID_FP8_E4M3},   {"f8e5m2", BRAID_FP8_E5M2}, {"fp8_e5m2", BRAID_FP8_E5M2},
    {"e5m2", BRAID_FP8_E5M2},
};

static const name_value_t op_names[] = {
    {"sum", BRAID_SUM}, {"prod", BRAID_PROD}, {"min", BRAID_MIN},
    {"max", BRAID_MAX}, {"avg", BRAID_AVG},
};

static int lookup(const name_value_t *table, size_t n, const char *name, int *value)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(table[i].name, name) == 0) {
            *value = table[i].value;
            return 0;
        }
    }
    return -1;
}

static const char *reverse_lookup(const name_value_t *table, size_t n, int value)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].value == value)
            return table[i].name;
    }
    return "invalid";
}

const char *perf_dtype_name(braid_dtype_t dtype)
{
    return reverse_lookup(dtype_names, sizeof(dtype_names) / sizeof(dtype_names[0]), dtype);
}

int perf_dtype_from_name(const char *name, braid_dtype_t *dtype)
{
    int v;

    if (lookup(dtype_names, sizeof(dtype_names) / sizeof(dtype_names[0]), name, &v) != 0)
        return -1;
    *dtype = (braid_dtype_t)v;
    return 0;
}

const char *perf_op_name(braid_op_t op)
{
    return reverse_lookup(op_names, sizeof(op_names) / sizeof(op_names[0]), op);
}

int perf_op_from_name(const char *name, braid_op_t *op)
{
    int v;

    if (lookup(op_names, sizeof(op_names) / sizeof(op_names[0]), name, &v) != 0)
        return -1;
    *op = (braid_op_t)v;
    return 0;
}

/* ---- values --------------------------------------------------------------------------------- */

int perf_parse_size(const char *text, size_t *bytes)
{
    char *end;
    double value, unit = 1.0;

    if (text == NULL || (!isdigit((unsigned char)text[0]) && text[0] != '.'))
        return -1;
    errno = 0;
    value = strtod(text, &end);
    if (errno != 0 || end == text)
        return -1;
    switch (toupper((unsigned char)*end)) {
    case 'K':
        unit = 1024.0;
        end++;
        break;
    case 'M':
        unit = 1024.0 * 1024.0;
        end++;
        break;
    case 'G':
        unit = 1024.0 * 1024.0 * 1024.0;
        end++;
        break;
    case 'T':
        unit = 1024.0 * 1024.0 * 1024.0 * 1024.0;
        end++;
        break;
    default:
        break;
    }
    if (unit > 1.0 && *end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0')
        return -1;
    value *= unit;
    if (value < 0.0 || value >= 18446744073709551616.0 /* 2^64 */)
        return -1;
    *bytes = (size_t)value;
    return 0;
}

static int parse_long(const char *text, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(text, &end, 0);
    return (errno != 0 || end == text || *end != '\0') ? -1 : 0;
}

/* ---- the parser ----------------------------------------------------------------------------- */

static int same_long_name(const char *given, size_t len, const char *want)
{
    if (strlen(want) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char a = given[i] == '-' ? '_' : given[i];
        char b = want[i] == '-' ? '_' : want[i];
        if (a != b)
            return 0;
    }
    return 1;
}

static int apply_option(perf_args_t *args, const perf_option_t *opt, const char *value, char *err,
                        size_t errlen)
{
    char *base = (char *)args;
    long v = 0;
    size_t bytes;

    switch (opt->kind) {
    case OPT_SIZE:
        if (perf_parse_size(value, &bytes) != 0)
            goto bad;
        *(size_t *)(base + opt->offset) = bytes;
        return 0;
    case OPT_COUNT:
    case OPT_INT:
    case OPT_ONLY:
        if (parse_long(value, &v) != 0 || v < opt->min || v > opt->max)
            goto bad;
        if (opt->kind == OPT_COUNT)
            *(size_t *)(base + opt->offset) = (size_t)v;
        else if (opt->offset != NO_FIELD)
            *(int *)(base + opt->offset) = (int)v;
        return 0;
    case OPT_OP:
        if (perf_op_from_name(value, &args->op) == 0)
            return 0;
        snprintf(err, errlen, "--op: unknown '%s' (sum, prod, min, max, avg)", value);
        return -1;
    case OPT_DTYPE:
        if (perf_dtype_from_name(value, &args->dtype) == 0)
            return 0;
        snprintf(err, errlen,
                 "--datatype: unknown '%s' (int8, uint8, int32, uint32, int64, uint64, half, "
                 "bfloat16, float, double, f8e4m3, f8e5m2)",
                 value);
        return -1;
    case OPT_STRING:
        *(const char **)(base + opt->offset) = value;
        return 0;
    case OPT_FLAG:
        *(int *)(base + opt->offset) = 1;
        return 0;
    }
bad:
    if (opt->kind == OPT_ONLY)
        snprintf(err, errlen, "--%s %s is not supported: %s", opt->long_name, value, opt->why);
    else if (opt->kind == OPT_SIZE)
        snprintf(err, errlen, "--%s: '%s' is not a size (examples: 8, 64K, 1.5M, 2G)",
                 opt->long_name, value);
    else
        snprintf(err, errlen, "--%s: '%s' is not an integer in [%ld, %ld]", opt->long_name, value,
                 opt->min, opt->max);
    return -1;
}

/* Finds the option an argument names; *value_out gets an attached value ("-b8", "--op=sum"). */
static const perf_option_t *find_option(const char *arg, const char **value_out)
{
    *value_out = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < NUM_OPTIONS; i++) {
            if (same_long_name(name, len, options[i].long_name)) {
                *value_out = eq ? eq + 1 : NULL;
                return &options[i];
            }
        }
        return NULL;
    }
    /* One dash: an exact short name first ("-np"), then a short name with its value glued on
     * ("-np4", "-b8"), longest name first so "-np4" is not read as "-n p4". */
    for (size_t i = 0; i < NUM_OPTIONS; i++) {
        if (options[i].short_name && strcmp(arg + 1, options[i].short_name) == 0)
            return &options[i];
    }
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < NUM_OPTIONS; i++) {
            const char *sn = options[i].short_name;
            size_t len = sn ? strlen(sn) : 0;
            if (sn && (len > 1) == (pass == 0) && options[i].kind != OPT_FLAG &&
                strncmp(arg + 1, sn, len) == 0) {
                *value_out = arg + 1 + len;
                return &options[i];
            }
        }
    }
    return NULL;
}

static int set_collective(perf_args_t *args, const char *name, int *have_coll, char *err,
                          size_t errlen)
{
    if (*have_coll) {
        snprintf(err, errlen, "unexpected argument '%s' (the collective is already %s)", name,
                 perf_coll_name(args->coll));
        return -1;
    }
    if (perf_coll_from_name(name, &args->coll) != 0) {
        snprintf(err, errlen,
                 "unknown collective '%s' (all_reduce, all_gather, reduce_scatter, alltoall, "
                 "broadcast, reduce, sendrecv)",
                 name);
        return -1;
    }
    *have_coll = 1;
    return 0;
}

/* Checks the combination of values once every option is read. */
static int validate(const perf_args_t *args, int have_coll, char *err, size_t errlen)
{
    if (args->help)
        return 0;
    if (!have_coll) {
        snprintf(err, errlen, "no collective given (try: all_reduce -b 8 -e 128M -f 2)");
        return -1;
    }
    if (args->min_bytes > args->max_bytes) {
        snprintf(err, errlen, "invalid sizes for 'minbytes' and 'maxbytes': %zu > %zu",
                 args->min_bytes, args->max_bytes);
        return -1;
    }
    if (args->step_factor <= 1 && args->step_bytes == 0 && args->min_bytes < args->max_bytes) {
        snprintf(err, errlen, "-i 0 with -f 1 never reaches -e: give -i > 0 or -f > 1");
        return -1;
    }
    return 0;
}

int perf_args_parse(perf_args_t *args, int argc, char **argv, char *err, size_t errlen)
{
    int have_coll = 0, options_done = 0;
    const char *prog = argc > 0 ? strrchr(argv[0], '/') : NULL;

    prog = prog ? prog + 1 : (argc > 0 ? argv[0] : "");
    /* Installed as all_reduce_perf (a link to braid-perf), the name picks the collective. */
    if (strstr(prog, "_perf") != NULL && perf_coll_from_name(prog, &args->coll) == 0)
        have_coll = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value;
        const perf_option_t *opt;
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (set_collective(args, arg, &have_coll, err, errlen) != 0)
                return -1;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = 1;
            continue;
        }
        opt = find_option(arg, &value);
        if (opt == NULL) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", arg);
            return -1;
        }
        if (opt->kind == OPT_FLAG && value != NULL) {
            snprintf(err, errlen, "option '%s' takes no value", arg);
            return -1;
        }
        if (opt->kind != OPT_FLAG && value == NULL) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option '%s' needs a value", arg);
                return -1;
            }
            value = argv[++i];
        }
        if (apply_option(args, opt, value, err, errlen) != 0)
            return -1;
    }
    return validate(args, have_coll, err, errlen);
}

void perf_args_defaults(perf_args_t *args)
{
    memset(args, 0, sizeof(*args));
    args->coll = PERF_ALL_REDUCE;
    args->min_bytes = 32u << 20;
    args->max_bytes = 32u << 20;
    args->step_bytes = 1u << 20;
    args->step_factor = 1;
    args->iters = 20;
    args->warmup_iters = 5;
    args->agg_iters = 1;
    args->check = 1;
    args->op = BRAID_SUM;
    args->dtype = BRAID_FLOAT32;
    args->root = 0;
    args->average = PERF_AVERAGE_MEAN;
    args->launch_timeout_s = 3600;
}

/* ---- sweep ---------------------------------------------------------------------------------- */

size_t perf_next_size(const perf_args_t *args, size_t size)
{
    if (args->step_factor > 1) {
        /* nccl-tests would loop forever on 0 * factor; continuing at 1 byte is what a sweep
         * from 0 means. */
        if (size == 0)
            return 1;
        return size > SIZE_MAX / args->step_factor ? SIZE_MAX : size * args->step_factor;
    }
    if (args->step_bytes == 0)
        return SIZE_MAX;
    return size > SIZE_MAX - args->step_bytes ? SIZE_MAX : size + args->step_bytes;
}

size_t perf_sweep_length(const perf_args_t *args)
{
    size_t n = 0;

    for (size_t s = args->min_bytes; s <= args->max_bytes; s = perf_next_size(args, s)) {
        n++;
        if (s == SIZE_MAX)
            break;
    }
    return n;
}

/* ---- launchers ------------------------------------------------------------------------------ */

static int env_int(char *(*getenv_fn)(const char *), const char *name, int *out)
{
    const char *text = getenv_fn(name);
    long v;

    if (text == NULL || parse_long(text, &v) != 0 || v < 0 || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

int perf_detect_launcher(char *(*getenv_fn)(const char *), int *rank, int *nranks,
                         const char **source)
{
    /* Slurm's batch shell also has SLURM_PROCID and SLURM_NTASKS; only a step started by srun
     * has SLURM_STEP_NUM_TASKS, which is what makes the ranks real. */
    static const struct {
        const char *rank, *size, *source;
    } envs[] = {
        {"BRAID_RANK", "BRAID_NRANKS", "BRAID_RANK/BRAID_NRANKS"},
        {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI"},
        {"PMI_RANK", "PMI_SIZE", "PMI"},
        {"SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "Slurm"},
        {"RANK", "WORLD_SIZE", "torchrun"},
    };

    for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
        int r, n;
        if (env_int(getenv_fn, envs[i].rank, &r) == 0 &&
            env_int(getenv_fn, envs[i].size, &n) == 0 && n >= 1 && r < n) {
            *rank = r;
            *nranks = n;
            *source = envs[i].source;
            return 1;
        }
    }
    return 0;
}

/* ---- help ----------------------------------------------------------------------------------- */

void perf_usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s <collective> [options]\n"
            "  collectives: all_reduce all_gather reduce_scatter alltoall broadcast reduce "
            "sendrecv\n"
            "               (also all_reduce_perf, ... as nccl-tests names its binaries)\n"
            "\n"
            "nccl-tests options (same meanings and defaults):\n"
            "  -b,--minbytes <size>       smallest size, default 32M (suffixes K, M, G)\n"
            "  -e,--maxbytes <size>       largest size, default 32M\n"
            "  -i,--stepbytes <size>      additive step when -f is 1, default 1M\n"
            "  -f,--stepfactor <n>        multiplicative step, default 1 (use -i)\n"
            "  -n,--iters <n>             timed iterations per size, default 20\n"
            "  -w,--warmup_iters <n>      warm-up iterations, default 5\n"
            "  -m,--agg_iters <n>         calls grouped per iteration, default 1\n"
            "  -c,--check <n>             checked runs per size (0 = off), default 1\n"
            "  -o,--op <op>               sum prod min max avg, default sum\n"
            "  -d,--datatype <type>       int8 uint8 int32 uint32 int64 uint64 half bfloat16\n"
            "                             float double f8e4m3 f8e5m2, default float\n"
            "  -r,--root <rank>           root of broadcast and reduce, default 0\n"
            "  -z,--blocking <0/1>        barrier after every call, default 0\n"
            "  -a,--average <0/1/2/3>     time across ranks: 0 rank 0, 1 mean, 2 min, 3 max;\n"
            "                             default 1\n"
            "  -T,--timeout <s>           bound on any wait in braid (BRAID_TIMEOUT_MS)\n"
            "  -C,--report_cputime <0/1>  title the time column cputime, default 0\n"
            "  -t, -g, -p, -y, -G         accepted at their defaults only (GPU threading)\n"
            "\n"
            "braid options:\n"
            "  -np <n>                    start n ranks on this host (fork), no launcher\n"
            "  --launch-timeout <s>       kill -np ranks still running after s, default 3600\n"
            "  --id-file <path>           under mpirun/srun/torchrun: rank 0 writes the unique\n"
            "                             id there, the others read it (shared filesystem);\n"
            "                             without it, BRAID_ROOT=host:port is used\n"
            "  --json <file>              also write every row as JSON (for perf/plot)\n"
            "  --progress                 progress line on stderr even when not a terminal\n"
            "  -h,--help                  this text\n"
            "\n"
            "Examples:\n"
            "  %s all_reduce -np 4 -b 8 -e 128M -f 2\n"
            "  mpirun -np 8 %s all_gather -b 1M -e 1G -f 2 --id-file /shared/braid.id\n"
            "  BRAID_ROOT=node0:29500 srun -n 16 %s alltoall -b 64K -e 256M -f 4\n"
            "Exit status: 0 when every call succeeded and every checked value was right.\n",
            prog, prog, prog, prog);
}
