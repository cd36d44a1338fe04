/*
 * Ring arithmetic shared by the ring builders and their tests. A ring order is an array
 * order[i] = rank at ring position i (the same on every rank), or NULL for 0, 1, ..., n-1.
 * Everything here is pure and O(1), except braid__ring_pos on an explicit order, which scans it
 * once (builders call it once per plan).
 */
#ifndef BRAID_COLLECTIVES_RING_MATH_H
#define BRAID_COLLECTIVES_RING_MATH_H

/* a mod n in [0, n), for any sign of a (n >= 1). */
static inline int braid__mod(long a, int n)
{
    long m = a % n;
    return (int)(m < 0 ? m + n : m);
}

/* The rank at ring position pos (any integer; positions wrap around). */
static inline int braid__ring_rank(const int *order, int n, long pos)
{
    int p = braid__mod(pos, n);
    return order ? order[p] : p;
}

/* The position of rank in the ring, or -1 if it does not occur. */
static inline int braid__ring_pos(const int *order, int n, int rank)
{
    if (!order)
        return (rank >= 0 && rank < n) ? rank : -1;
    for (int i = 0; i < n; i++)
        if (order[i] == rank)
            return i;
    return -1;
}

/* The rank after / before the one at position pos. */
static inline int braid__ring_next(const int *order, int n, int pos)
{
    return braid__ring_rank(order, n, (long)pos + 1);
}

static inline int braid__ring_prev(const int *order, int n, int pos)
{
    return braid__ring_rank(order, n, (long)pos - 1);
}

/* How many hops rank at position `to` is after the one at position `from` (0..n-1). */
static inline int braid__ring_dist(int n, int from, int to)
{
    return braid__mod((long)to - from, n);
}

#endif
