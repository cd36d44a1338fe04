/*
 * The collective test space: collective x dtype x op x size x in-place x algorithm x nranks x
 * mode. The default suite covers every pair of values of any two axes (a pairwise covering
 * array, generated deterministically); --exhaustive runs the full product for one nranks and
 * mode, sizes up to 1 MiB.
 */
#ifndef BRAID_TEST_CASES_H
#define BRAID_TEST_CASES_H

#include <stddef.h>

enum tc_axis { AX_COLL, AX_DTYPE, AX_OP, AX_SIZE, AX_INPLACE, AX_ALGO, AX_NRANKS, AX_MODE, AX_N };

enum tc_coll {
    TC_ALL_REDUCE,
    TC_ALL_GATHER,
    TC_REDUCE_SCATTER,
    TC_ALL_TO_ALL,
    TC_BROADCAST,
    TC_REDUCE,
    TC_SENDRECV,
    TC_NCOLLS
};

#define TC_NSIZES    6
#define TC_NALGOS    5 /* auto, ring, tree, pairwise, oneshot */
#define TC_MAX_RANKS 8

struct tcase {
    int v[AX_N]; /* value index per axis */
};

extern const int tc_axis_size[AX_N];
extern const char *const tc_coll_names[TC_NCOLLS];
extern const char *const tc_algo_names[TC_NALGOS];

/* Generates the pairwise covering array plus every collective x algorithm for each nranks and
 * mode; returns the count (*out malloc'd). */
int tc_pairwise(struct tcase **out);
/* Generates the full product for one nranks and mode, without the 64 MiB size. */
int tc_exhaustive(int nranks, int mode, struct tcase **out);
/* Element count per block for size class s (see test_collectives.c). */
size_t tc_count(int coll, int size_class, int nranks, size_t esize);

#endif
