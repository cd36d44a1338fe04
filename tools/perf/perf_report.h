/*
 * braid-perf's arithmetic and output: buffer counts per collective, algbw/busbw, and the table,
 * footer and JSON in nccl-tests' format so that numbers compare line by line. Pure: writes to
 * the FILE it is given, never calls braid.
 */
#ifndef BRAID_PERF_REPORT_H
#define BRAID_PERF_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "perf_args.h"

/* Element counts of one call, derived as nccl-tests does from the size of the row. */
typedef struct {
    size_t send_count;          /* elements read from the send buffer */
    size_t recv_count;          /* elements written to the receive buffer */
    size_t param_count;         /* the count argument of the braid call */
    size_t send_inplace_offset; /* in place: sendbuf = recvbuf + rank * this (elements) */
    size_t recv_inplace_offset; /* in place: recvbuf = recvbuf + rank * this (elements) */
} perf_counts_t;

/* One measured half of a row (out-of-place or in-place). */
typedef struct {
    double time_us;
    double algbw;    /* GB/s, 1e9 bytes */
    double busbw;    /* GB/s */
    long long wrong; /* wrong elements summed over ranks; < 0 when not checked ("N/A") */
} perf_result_t;

/* `count` is size / dtype size; nranks >= 1. */
void perf_coll_counts(perf_coll_t coll, size_t count, int nranks, perf_counts_t *counts);

/* The bytes the Size column shows: max(send, recv) bytes (all_gather: the full output). */
size_t perf_row_bytes(const perf_counts_t *counts, size_t type_size);

/* busbw = algbw * factor: 2(n-1)/n for all_reduce, (n-1)/n for all_gather, reduce_scatter and
 * alltoall, 1 for broadcast, reduce and sendrecv. */
double perf_busbw_factor(perf_coll_t coll, int nranks);

/* algbw and busbw in GB/s of a call with `param_count` elements that took `seconds`. */
void perf_bandwidth(perf_coll_t coll, size_t param_count, size_t type_size, double seconds,
                    int nranks, double *algbw, double *busbw);

/* What the redop and root columns show: "none" and -1 where the collective has neither. */
const char *perf_row_op_name(perf_coll_t coll, braid_op_t op);
int perf_row_root(perf_coll_t coll, int root);

/* The time column: "%7.2f" below 100 us, "%7.1f" below 10 ms, "%7.0f" above, as nccl-tests. */
void perf_format_time(double usec, char *buf, size_t len);

/* The "# nThread 1 nGpus 1 minBytes ..." line and the blocking note. */
void perf_print_settings(FILE *out, const perf_args_t *args);
/* The three header lines of the table. */
void perf_print_table_header(FILE *out, int report_cputime);
/* The start of a row: size, count, type, redop, root. */
void perf_print_row_params(FILE *out, size_t bytes, size_t count, const char *type, const char *op,
                           int root);
/* One half of a row: time, algbw, busbw, #wrong. */
void perf_print_row_result(FILE *out, const perf_result_t *result);
/* "# Out of bounds values : N OK" and "# Avg bus bandwidth    : X". */
void perf_print_footer(FILE *out, long errors, double avg_busbw);

/* JSON: one document per run, one object per row, written as the sweep goes. */
void perf_json_begin(FILE *out, const perf_args_t *args, int nranks, const char *version);
void perf_json_row(FILE *out, int first, size_t bytes, size_t count, const char *type,
                   const char *op, int root, const perf_result_t *oop, const perf_result_t *ip);
void perf_json_end(FILE *out, long errors, double avg_busbw);

#endif /* BRAID_PERF_REPORT_H */
