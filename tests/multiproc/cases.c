#include "cases.h"

#include <stdlib.h>
#include <string.h>

const int tc_axis_size[AX_N] = {TC_NCOLLS, 12, 5, TC_NSIZES, 2, TC_NALGOS, TC_MAX_RANKS, 2};
const char *const tc_coll_names[TC_NCOLLS] = {
    "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "reduce", "sendrecv"};
const char *const tc_algo_names[TC_NALGOS] = {"auto", "ring", "tree", "pairwise", "oneshot"};

size_t tc_count(int coll, int size_class, int nranks, size_t esize)
{
    static const size_t fixed[] = {0, 1, 7};
    if (size_class < 3)
        return fixed[size_class];
    if (size_class == 3)
        return (size_t)nranks * 13 + 5; /* not a multiple of nranks */
    /* 1 MiB and 64 MiB: the size of the larger buffer of the call on each rank. */
    size_t bytes = size_class == 4 ? (1u << 20) : (64u << 20);
    size_t elems = bytes / esize;
    if (coll == TC_ALL_GATHER || coll == TC_REDUCE_SCATTER || coll == TC_ALL_TO_ALL)
        elems /= (size_t)nranks;
    return elems;
}

/* covered[a][b][va][vb] for a < b, flattened. */
struct pairs {
    unsigned char *bits;
    size_t offset[AX_N][AX_N];
    size_t left;
};

static void pairs_init(struct pairs *p)
{
    size_t total = 0;
    for (int a = 0; a < AX_N; a++)
        for (int b = a + 1; b < AX_N; b++) {
            p->offset[a][b] = total;
            total += (size_t)tc_axis_size[a] * (size_t)tc_axis_size[b];
        }
    p->bits = calloc(total, 1);
    p->left = total;
}

static unsigned char *pair_at(struct pairs *p, int a, int va, int b, int vb)
{
    if (a > b) {
        int t = a;
        a = b;
        b = t;
        t = va;
        va = vb;
        vb = t;
    }
    return &p->bits[p->offset[a][b] + (size_t)va * (size_t)tc_axis_size[b] + (size_t)vb];
}

/* New pairs the value v of axis `axis` would cover against the axes already set. */
static int gain(struct pairs *p, const struct tcase *t, const int *set, int axis, int v)
{
    int g = 0;
    for (int b = 0; b < AX_N; b++)
        if (b != axis && set[b] && !*pair_at(p, axis, v, b, t->v[b]))
            g++;
    return g;
}

static void cover(struct pairs *p, const struct tcase *t)
{
    for (int a = 0; a < AX_N; a++)
        for (int b = a + 1; b < AX_N; b++) {
            unsigned char *c = pair_at(p, a, t->v[a], b, t->v[b]);
            if (!*c) {
                *c = 1;
                p->left--;
            }
        }
}

/* Builds one case around the first uncovered pair, filling the other axes greedily. */
static int next_case(struct pairs *p, struct tcase *t)
{
    for (int a = 0; a < AX_N; a++)
        for (int b = a + 1; b < AX_N; b++)
            for (int va = 0; va < tc_axis_size[a]; va++)
                for (int vb = 0; vb < tc_axis_size[b]; vb++) {
                    if (*pair_at(p, a, va, b, vb))
                        continue;
                    int set[AX_N] = {0};
                    memset(t, 0, sizeof(*t));
                    t->v[a] = va, t->v[b] = vb, set[a] = set[b] = 1;
                    for (int x = 0; x < AX_N; x++) {
                        if (set[x])
                            continue;
                        int best = 0, best_gain = -1;
                        for (int v = 0; v < tc_axis_size[x]; v++) {
                            int g = gain(p, t, set, x, v);
                            if (g > best_gain)
                                best = v, best_gain = g;
                        }
                        t->v[x] = best, set[x] = 1;
                    }
                    return 1;
                }
    return 0;
}

int tc_pairwise(struct tcase **out)
{
    struct pairs p;
    pairs_init(&p);
    int n = 0, cap = 256;
    struct tcase *cases = malloc((size_t)cap * sizeof(*cases));
    struct tcase t;
    while (p.left > 0 && next_case(&p, &t)) {
        if (n == cap)
            cases = realloc(cases, (size_t)(cap *= 2) * sizeof(*cases));
        cases[n++] = t;
        cover(&p, &t);
    }
    free(p.bits);
    /* On top of the pairs: every collective x algorithm for every nranks and mode, at a small
     * size that is not a multiple of nranks, cycling dtypes and ops. */
    int extra = TC_NCOLLS * TC_NALGOS * TC_MAX_RANKS * 2;
    cases = realloc(cases, (size_t)(n + extra) * sizeof(*cases));
    int k = 0;
    for (int r = 0; r < TC_MAX_RANKS; r++)
        for (int m = 0; m < 2; m++)
            for (int c = 0; c < TC_NCOLLS; c++)
                for (int a = 0; a < TC_NALGOS; a++, k++)
                    cases[n++] = (struct tcase){.v = {c, k % 12, k % 5, 3, k % 2, a, r, m}};
    *out = cases;
    return n;
}

int tc_exhaustive(int nranks, int mode, struct tcase **out)
{
    int total = TC_NCOLLS * 12 * 5 * (TC_NSIZES - 1) * 2 * TC_NALGOS;
    struct tcase *cases = malloc((size_t)total * sizeof(*cases));
    int n = 0;
    for (int c = 0; c < TC_NCOLLS; c++)
        for (int d = 0; d < 12; d++)
            for (int o = 0; o < 5; o++)
                for (int s = 0; s < TC_NSIZES - 1; s++)
                    for (int ip = 0; ip < 2; ip++)
                        for (int al = 0; al < TC_NALGOS; al++)
                            cases[n++] =
                                (struct tcase){.v = {c, d, o, s, ip, al, nranks - 1, mode}};
    *out = cases;
    return n;
}
