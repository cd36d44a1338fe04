/*
 * Binary-tree arithmetic for the double binary tree (tree.c), pure and O(log n).
 *
 * Tree 0 is an in-order binary tree over nodes 0..n-1: node 0 is the root and has one child,
 * the largest power of two below n (its "top"); below it, a node v > 0 whose lowest set bit
 * is b has children v - b/2 and v + h, where h is the largest of b/2, b/4, ... with v + h < n.
 * Odd nodes are exactly the leaves, every subtree covers a contiguous range of nodes, and the
 * depth is about log2(n) + 1.
 *
 * Tree 1 maps ranks onto the same shape so that tree 0's leaves become interior nodes: for
 * even n rank x sits at node n-1-x (the mirror), for odd n at node x-1 mod n (a shift by one).
 * Either way no rank is a leaf in both trees, so each rank forwards data in at most one of
 * them and a pair of channels, one per tree, balances the links.
 */
#ifndef BRAID_COLLECTIVES_BTREE_H
#define BRAID_COLLECTIVES_BTREE_H

/* The lowest set bit of v > 0. */
static inline int braid__btree_lowbit(int v)
{
    return v & -v;
}

/* The single child of root 0: the largest power of two <= n-1, or -1 when n == 1. */
static inline int braid__btree_top(int n)
{
    if (n <= 1)
        return -1;
    int p = 1;
    while (p <= (n - 1) / 2)
        p <<= 1;
    return p;
}

/* Parent of node v in tree 0 over n nodes (-1 for the root). */
static inline int braid__btree_parent(int n, int v)
{
    if (v == 0)
        return -1;
    if (v == braid__btree_top(n))
        return 0;
    int b = braid__btree_lowbit(v);
    /* v is the left child of v + b unless bit 2b is set (then the right child of v - b); a
     * left parent beyond n-1 does not exist, and v hangs off the right of v - b instead. */
    int up = (v & (b << 1)) ? v - b : v + b;
    return up < n ? up : v - b;
}

/* Children of node v in tree 0: child[0] (smaller) and child[1] (larger), -1 where absent. */
static inline void braid__btree_children(int n, int v, int child[2])
{
    child[0] = child[1] = -1;
    if (v == 0) {
        child[1] = braid__btree_top(n);
        return;
    }
    int b = braid__btree_lowbit(v);
    if (b == 1)
        return;
    child[0] = v - b / 2;
    int h = b / 2;
    while (h >= 1 && v + h >= n)
        h /= 2;
    if (h >= 1)
        child[1] = v + h;
}

/* The nodes of the subtree under v form [*lo, *hi] (inclusive). */
static inline void braid__btree_subtree(int n, int v, int *lo, int *hi)
{
    if (v == 0) {
        *lo = 0;
        *hi = n - 1;
        return;
    }
    int b = braid__btree_lowbit(v);
    *lo = v - b + 1;
    *hi = v + b - 1 < n - 1 ? v + b - 1 : n - 1;
}

/* Node of rank x in tree t (0 or 1) of the double binary tree over n ranks. */
static inline int braid__dtree_node(int n, int t, int x)
{
    if (t == 0)
        return x;
    return (n % 2 == 0) ? n - 1 - x : (x - 1 + n) % n;
}

/* Rank at node v of tree t: the inverse of braid__dtree_node. */
static inline int braid__dtree_rank(int n, int t, int v)
{
    if (t == 0)
        return v;
    return (n % 2 == 0) ? n - 1 - v : (v + 1) % n;
}

#endif
