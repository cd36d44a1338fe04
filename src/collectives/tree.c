/*
 * Double binary tree (btree.h): channel c runs on tree c % 2, whose leaves are the other
 * tree's interior ranks, so two channels use every rank's links about evenly. Data is reduced
 * up to the tree's root, which finalizes it, and broadcast back down; the root computes each
 * piece once and everyone receives a copy, so all ranks get identical bits. For broadcast and
 * reduce the ranks are relabelled (rotated) so that the root is the tree's root.
 */
#include "base/check.h"
#include "collectives/algos.h"
#include "collectives/btree.h"
#include "collectives/ring_math.h"

#define NO                 BRAID_NOREF
#define PUSH(plan, c, ...) BRAID_CHECK(braid__plan_push((plan), (c), braid__step(__VA_ARGS__)))

/* This rank's links in one tree, as ranks; -1 where absent. */
struct links {
    int parent;
    int child[2];
    int nchild;
};

/* Links of `rank` in tree t over n ranks, rotated so that rank `root` sits at node 0. */
static struct links tree_links(int n, int t, int root, int rank)
{
    /* shift turns a rank into the rank that plays its part in the unrotated tree. */
    int shift = braid__dtree_rank(n, t, 0) - root;
    int node = braid__dtree_node(n, t, braid__mod((long)rank + shift, n));
    int up = braid__btree_parent(n, node), kids[2];
    braid__btree_children(n, node, kids);
    struct links l = {.parent = -1, .child = {-1, -1}, .nchild = 0};
    if (up >= 0)
        l.parent = braid__mod((long)braid__dtree_rank(n, t, up) - shift, n);
    for (int k = 0; k < 2; k++)
        if (kids[k] >= 0)
            l.child[l.nchild++] = braid__mod((long)braid__dtree_rank(n, t, kids[k]) - shift, n);
    return l;
}

/*
 * Reduce up: this rank's input plus its children's partial sums go to the parent, or, on the
 * root, are finalized into the output. With two children the first partial is parked in the
 * output buffer: a step has one peer source, so it cannot add two incoming partials at once.
 */
static braid_result_t reduce_up(struct braid_plan *plan, int c, const struct links *l)
{
    uint32_t last = l->parent < 0 ? BRAID_STEP_FINAL : 0;
    struct braid_ref up = l->parent < 0 ? braid__out(0) : braid__peer(l->parent);
    struct braid_ref acc = braid__in(0);
    if (l->nchild == 0) {
        PUSH(plan, c, last, 0, acc, NO, up, NO);
        return BRAID_SUCCESS;
    }
    if (l->nchild == 2) {
        PUSH(plan, c, BRAID_STEP_REDUCE, 0, braid__peer(l->child[0]), acc, braid__out(0), NO);
        acc = braid__out(0);
    }
    PUSH(plan, c, BRAID_STEP_REDUCE | last, 0, braid__peer(l->child[l->nchild - 1]), acc, up, NO);
    return BRAID_SUCCESS;
}

/* Broadcast down: take the value from src (the parent, or the root's own buffer), keep it in
 * the output and pass it to the children. */
static braid_result_t bcast_down(struct braid_plan *plan, int c, const struct links *l,
                                 struct braid_ref src)
{
    struct braid_ref first = l->nchild > 0 ? braid__peer(l->child[0]) : NO;
    if (src.kind != BRAID_REF_OUTPUT)
        PUSH(plan, c, 0, 0, src, NO, braid__out(0), first);
    else if (l->nchild > 0)
        PUSH(plan, c, 0, 0, src, NO, first, NO);
    if (l->nchild == 2)
        PUSH(plan, c, 0, 0, braid__out(0), NO, braid__peer(l->child[1]), NO);
    return BRAID_SUCCESS;
}

static braid_result_t build_channel(const struct braid_plan_args *a, struct braid_plan *plan, int c)
{
    int root = a->coll == BRAID_COLL_ALL_REDUCE ? braid__dtree_rank(a->nranks, c % 2, 0) : a->root;
    struct links l = tree_links(a->nranks, c % 2, root, a->rank);
    struct braid_ref from_parent = l.parent >= 0 ? braid__peer(l.parent) : braid__in(0);
    switch (a->coll) {
    case BRAID_COLL_ALL_REDUCE:
        BRAID_CHECK(reduce_up(plan, c, &l));
        return bcast_down(plan, c, &l, l.parent >= 0 ? from_parent : braid__out(0));
    case BRAID_COLL_BROADCAST:
        return bcast_down(plan, c, &l, from_parent);
    case BRAID_COLL_REDUCE:
        return reduce_up(plan, c, &l);
    default:
        return braid__err(BRAID_ERR_INTERNAL, "tree build: %s is not a tree collective",
                          braid__coll_name(a->coll));
    }
}

int braid__tree_supports(enum braid_coll coll)
{
    return coll == BRAID_COLL_ALL_REDUCE || coll == BRAID_COLL_BROADCAST ||
           coll == BRAID_COLL_REDUCE;
}

braid_result_t braid__tree_build(const struct braid_plan_args *a, struct braid_plan *plan)
{
    braid_result_t res;
    BRAID_CHECK(braid__plan_init(plan, a, BRAID_ALGO_TREE, 1, 1, 1));
    for (int c = 0; c < a->nchannels; c++)
        BRAID_CHECK_GOTO(build_channel(a, plan, c), res, err_free);
    return BRAID_SUCCESS;
err_free:
    braid__plan_free(plan);
    return res;
}
