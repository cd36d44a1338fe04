/*
 * braid-perf's numbers and table. Every format string here reproduces nccl-tests' columns and
 * widths on purpose: operators diff our output against theirs, and scripts that scrape
 * nccl-tests tables (column 8 is the out-of-place busbw) must work unchanged.
 */
#include "perf_report.h"

#include <math.h>
#include <string.h>

void perf_coll_counts(perf_coll_t coll, size_t count, int nranks, perf_counts_t *c)
{
    size_t n = (size_t)nranks;

    memset(c, 0, sizeof(*c));
    switch (coll) {
    case PERF_ALL_GATHER:
        /* The row size is the gathered output; each rank contributes count / n of it. */
        c->param_count = count / n;
        c->send_count = c->param_count;
        c->recv_count = c->param_count * n;
        c->send_inplace_offset = c->param_count;
        break;
    case PERF_REDUCE_SCATTER:
        c->param_count = count / n;
        c->send_count = c->param_count * n;
        c->recv_count = c->param_count;
        c->recv_inplace_offset = c->param_count;
        break;
    case PERF_ALLTOALL:
        c->param_count = count / n;
        c->send_count = c->param_count * n;
        c->recv_count = c->param_count * n;
        break;
    default: /* all_reduce, broadcast, reduce, sendrecv: one buffer of count elements */
        c->param_count = count;
        c->send_count = count;
        c->recv_count = count;
        break;
    }
}

size_t perf_row_bytes(const perf_counts_t *c, size_t type_size)
{
    size_t n = c->send_count > c->recv_count ? c->send_count : c->recv_count;
    return n * type_size;
}

double perf_busbw_factor(perf_coll_t coll, int nranks)
{
    double n = (double)nranks;

    switch (coll) {
    case PERF_ALL_REDUCE:
        return 2.0 * (n - 1.0) / n;
    case PERF_ALL_GATHER:
    case PERF_REDUCE_SCATTER:
    case PERF_ALLTOALL:
        return (n - 1.0) / n;
    default:
        return 1.0;
    }
}

void perf_bandwidth(perf_coll_t coll, size_t param_count, size_t type_size, double seconds,
                    int nranks, double *algbw, double *busbw)
{
    /* algbw is the bytes of the row (the size column) over the time. */
    double bytes = (double)param_count * (double)type_size;

    if (coll == PERF_ALL_GATHER || coll == PERF_REDUCE_SCATTER || coll == PERF_ALLTOALL)
        bytes *= (double)nranks;
    *algbw = seconds > 0.0 ? bytes / 1.0e9 / seconds : 0.0;
    *busbw = *algbw * perf_busbw_factor(coll, nranks);
}

const char *perf_row_op_name(perf_coll_t coll, braid_op_t op)
{
    switch (coll) {
    case PERF_ALL_GATHER:
    case PERF_ALLTOALL:
    case PERF_BROADCAST:
        return "none";
    default:
        return perf_op_name(op);
    }
}

int perf_row_root(perf_coll_t coll, int root)
{
    return (coll == PERF_BROADCAST || coll == PERF_REDUCE) ? root : -1;
}

void perf_format_time(double usec, char *buf, size_t len)
{
    if (usec >= 10000.0)
        snprintf(buf, len, "%7.0f", usec);
    else if (usec >= 100.0)
        snprintf(buf, len, "%7.1f", usec);
    else
        snprintf(buf, len, "%7.2f", usec);
}

void perf_print_settings(FILE *out, const perf_args_t *a)
{
    int factor = a->step_factor > 1;

    fprintf(out,
            "# nThread 1 nGpus 1 minBytes %zu maxBytes %zu step: %zu(%s) warmup iters: %d "
            "iters: %d agg iters: %d validation: %d graph: 0\n",
            a->min_bytes, a->max_bytes, factor ? a->step_factor : a->step_bytes,
            factor ? "factor" : "bytes", a->warmup_iters, a->iters, a->agg_iters, a->check);
    if (a->blocking)
        fprintf(out,
                "# Blocking Enabled: wait for completion and barrier after each collective \n");
    fprintf(out, "#\n");
}

void perf_print_table_header(FILE *out, int report_cputime)
{
    const char *t = report_cputime ? "cputime" : "time";

    fprintf(out,
            "# %10s  %12s  %8s  %6s  %6s           out-of-place                       "
            "in-place          \n",
            "", "", "", "", "");
    fprintf(out, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s %6s  %7s  %6s  %6s %6s\n", "size",
            "count", "type", "redop", "root", t, "algbw", "busbw", "#wrong", t, "algbw", "busbw",
            "#wrong");
    fprintf(out, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %5s  %7s  %6s  %6s  %5s\n", "(B)",
            "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)",
            "");
}

void perf_print_row_params(FILE *out, size_t bytes, size_t count, const char *type, const char *op,
                           int root)
{
    fprintf(out, "%12zu  %12zu  %8s  %6s  %6d", bytes, count, type, op, root);
}

void perf_print_row_result(FILE *out, const perf_result_t *r)
{
    char time[32];

    perf_format_time(r->time_us, time, sizeof(time));
    if (r->wrong < 0)
        fprintf(out, "  %7s  %6.2f  %6.2f  %5s", time, r->algbw, r->busbw, "N/A");
    else
        fprintf(out, "  %7s  %6.2f  %6.2f  %5lld", time, r->algbw, r->busbw, r->wrong);
}

void perf_print_footer(FILE *out, long errors, double avg_busbw)
{
    fprintf(out, "# Out of bounds values : %ld %s\n", errors, errors ? "FAILED" : "OK");
    fprintf(out, "# Avg bus bandwidth    : %g \n", avg_busbw);
    fprintf(out, "#\n");
}

/* ---- JSON ----------------------------------------------------------------------------------- */

/* Paths and names come from the user; escape what JSON requires. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

/* JSON has no NaN or infinity; a time of zero gives an infinite rate. */
static void json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.6g", v);
    else
        fprintf(out, "null");
}

void perf_json_begin(FILE *out, const perf_args_t *a, int nranks, const char *version)
{
    fprintf(out, "{\n  \"tool\": \"braid-perf\",\n  \"braid_version\": ");
    json_string(out, version);
    fprintf(out, ",\n  \"collective\": ");
    json_string(out, perf_coll_name(a->coll));
    fprintf(out, ",\n  \"nranks\": %d,\n  \"type\": ", nranks);
    json_string(out, perf_dtype_name(a->dtype));
    fprintf(out, ",\n  \"op\": ");
    json_string(out, perf_op_name(a->op));
    fprintf(out,
            ",\n  \"settings\": {\"minbytes\": %zu, \"maxbytes\": %zu, \"stepbytes\": %zu, "
            "\"stepfactor\": %zu, \"iters\": %d, \"warmup_iters\": %d, \"agg_iters\": %d, "
            "\"check\": %d, \"root\": %d, \"blocking\": %d, \"average\": %d},\n  \"rows\": [",
            a->min_bytes, a->max_bytes, a->step_bytes, a->step_factor, a->iters, a->warmup_iters,
            a->agg_iters, a->check, a->root, a->blocking, a->average);
}

static void json_result(FILE *out, const perf_result_t *r)
{
    fprintf(out, "{\"time_us\": ");
    json_number(out, r->time_us);
    fprintf(out, ", \"algbw\": ");
    json_number(out, r->algbw);
    fprintf(out, ", \"busbw\": ");
    json_number(out, r->busbw);
    if (r->wrong < 0)
        fprintf(out, ", \"wrong\": null}");
    else
        fprintf(out, ", \"wrong\": %lld}", r->wrong);
}

void perf_json_row(FILE *out, int first, size_t bytes, size_t count, const char *type,
                   const char *op, int root, const perf_result_t *oop, const perf_result_t *ip)
{
    fprintf(out, "%s\n    {\"size\": %zu, \"count\": %zu, \"type\": ", first ? "" : ",", bytes,
            count);
    json_string(out, type);
    fprintf(out, ", \"redop\": ");
    json_string(out, op);
    fprintf(out, ", \"root\": %d,\n     \"out_of_place\": ", root);
    json_result(out, oop);
    fprintf(out, ",\n     \"in_place\": ");
    json_result(out, ip);
    fprintf(out, "}");
}

void perf_json_end(FILE *out, long errors, double avg_busbw)
{
    fprintf(out, "\n  ],\n  \"out_of_bounds\": %ld,\n  \"avg_busbw\": ", errors);
    json_number(out, avg_busbw);
    fprintf(out, "\n}\n");
}
