/*
 * The public collective and point-to-point calls: argument checks with messages that name
 * the argument, then braid__enqueue().
 */
#include "core/enqueue.h"

#include <stdint.h>
#include <stdio.h>

#include "base/check.h"

static const char *coll_api_name(enum braid_coll coll)
{
    static const char *names[] = {"braid_all_reduce", "braid_all_gather", "braid_reduce_scatter",
                                  "braid_all_to_all", "braid_broadcast",  "braid_reduce",
                                  "braid_send",       "braid_recv"};
    return names[coll];
}

static int reduces(enum braid_coll coll)
{
    return coll == BRAID_COLL_ALL_REDUCE || coll == BRAID_COLL_REDUCE_SCATTER ||
           coll == BRAID_COLL_REDUCE;
}

/* Blocks of the send and receive buffers, per the table in plan.h. */
static void block_counts(enum braid_coll coll, int nranks, size_t *in, size_t *out)
{
    *in = coll == BRAID_COLL_REDUCE_SCATTER || coll == BRAID_COLL_ALL_TO_ALL ? (size_t)nranks : 1;
    *out = coll == BRAID_COLL_ALL_GATHER || coll == BRAID_COLL_ALL_TO_ALL ? (size_t)nranks : 1;
}

static int needs_send(const struct braid_call *c)
{
    if (c->coll == BRAID_COLL_RECV)
        return 0;
    return c->coll != BRAID_COLL_BROADCAST || c->root == c->comm->rank;
}

static int needs_recv(const struct braid_call *c)
{
    if (c->coll == BRAID_COLL_SEND)
        return 0;
    return c->coll != BRAID_COLL_REDUCE || c->root == c->comm->rank;
}

/* Whether the buffers are the collective's in-place form; other overlaps are errors. */
static braid_result_t check_overlap(struct braid_call *c, size_t in_bytes, size_t out_bytes,
                                    size_t block_bytes)
{
    const char *s = c->sendbuf, *r = c->recvbuf;
    if (!s || !r || !needs_send(c) || !needs_recv(c) || c->count == 0)
        return BRAID_SUCCESS;
    const char *inplace_send = r;
    if (c->coll == BRAID_COLL_ALL_GATHER)
        inplace_send = r + (size_t)c->comm->rank * block_bytes;
    if (c->coll == BRAID_COLL_REDUCE_SCATTER)
        inplace_send = r - (size_t)c->comm->rank * block_bytes;
    if (s == inplace_send) {
        c->inplace = 1;
        return BRAID_SUCCESS;
    }
    if (s < r + out_bytes && r < s + in_bytes)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s: sendbuf and recvbuf overlap without being the in-place form; "
                          "use separate buffers or the in-place layout documented in braid.h",
                          coll_api_name(c->coll));
    return BRAID_SUCCESS;
}

/* Finds the memory kind of the call's buffers: one kind for both, or an error naming both. */
static braid_result_t classify(struct braid_call *c, const char *fn)
{
    struct braid_mem_cache *cache = &c->comm->mem_cache;
    struct braid_mem_info in = {BRAID_MEM_HOST, -1}, out = {BRAID_MEM_HOST, -1};
    int has_in = c->count > 0 && needs_send(c), has_out = c->count > 0 && needs_recv(c);
    if (has_in)
        BRAID_CHECK(braid__mem_query(cache, c->sendbuf, fn, "sendbuf", &in));
    if (has_out && (!has_in || c->recvbuf != c->sendbuf)) {
        BRAID_CHECK(braid__mem_query(cache, c->recvbuf, fn, "recvbuf", &out));
    } else {
        out = in;
    }
    c->mem = has_in ? in : out;
    int host_in = (BRAID_MEM_BIT(in.kind) & BRAID_MEM_HOST_ACCESSIBLE) != 0;
    int host_out = (BRAID_MEM_BIT(out.kind) & BRAID_MEM_HOST_ACCESSIBLE) != 0;
    if (has_in && has_out && (host_in != host_out || (!host_in && in.device != out.device)))
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s: sendbuf %p is %s memory (device %d) but recvbuf %p is %s memory "
                          "(device %d); one call takes buffers of one kind, on one device: copy "
                          "one of them first",
                          fn, c->sendbuf, braid__mem_kind_name(in.kind), in.device, c->recvbuf,
                          braid__mem_kind_name(out.kind), out.device);
    return braid__executor_for(&c->mem, fn, &c->exec);
}

static braid_result_t validate(struct braid_call *c)
{
    const char *fn = coll_api_name(c->coll);
    int n = c->comm->nranks;
    braid_result_t state = (braid_result_t)atomic_load(&c->comm->async_error);
    if (state == BRAID_IN_PROGRESS)
        return braid__err(BRAID_ERR_INVALID_USAGE,
                          "%s: the comm's non-blocking init has not "
                          "finished; poll braid_comm_get_async_error() first",
                          fn);
    if (state != BRAID_SUCCESS)
        return braid__err(BRAID_ERR_INVALID_USAGE,
                          "%s: the comm is broken by an earlier error "
                          "(%s: %s); abort or destroy it",
                          fn, braid_result_string(state), c->comm->last_error);
    if ((unsigned)c->dtype >= BRAID_NUM_DTYPES)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s: dtype %d is not a braid_dtype_t "
                          "(valid: 0..%d)",
                          fn, (int)c->dtype, BRAID_NUM_DTYPES - 1);
    if (reduces(c->coll) && (unsigned)c->op >= BRAID_NUM_OPS)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s: op %d is not a braid_op_t (valid: "
                          "0..%d)",
                          fn, (int)c->op, BRAID_NUM_OPS - 1);
    int takes_root = c->coll == BRAID_COLL_BROADCAST || c->coll == BRAID_COLL_REDUCE ||
                     c->coll == BRAID_COLL_SEND || c->coll == BRAID_COLL_RECV;
    if (takes_root && (c->root < 0 || c->root >= n))
        return braid__err(
            BRAID_ERR_INVALID_ARGUMENT, "%s: %s %d is outside [0, %d)", fn,
            c->coll == BRAID_COLL_SEND || c->coll == BRAID_COLL_RECV ? "peer" : "root", c->root, n);
    size_t esize = braid_dtype_size(c->dtype), in_blocks, out_blocks;
    block_counts(c->coll, n, &in_blocks, &out_blocks);
    size_t most = in_blocks > out_blocks ? in_blocks : out_blocks;
    if (c->count > SIZE_MAX / esize / most)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s: count %zu x %zu-byte %s x %zu blocks "
                          "overflows the address space",
                          fn, c->count, esize, braid_dtype_name(c->dtype), most);
    if (c->count > 0 && needs_send(c) && !c->sendbuf)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT, "%s: sendbuf is NULL with count %zu", fn,
                          c->count);
    if (c->count > 0 && needs_recv(c) && !c->recvbuf)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT, "%s: recvbuf is NULL with count %zu", fn,
                          c->count);
    size_t block = c->count * esize;
    BRAID_CHECK(check_overlap(c, in_blocks * block, out_blocks * block, block));
    return classify(c, fn);
}

static braid_result_t post(enum braid_coll coll, const void *sendbuf, void *recvbuf, size_t count,
                           braid_dtype_t dtype, braid_op_t op, int root, braid_comm_t comm,
                           braid_stream_t stream)
{
    braid__err_clear();
    BRAID_CHECK(braid__comm_acquire(comm));
    struct braid_call call = {.comm = comm,
                              .coll = coll,
                              .sendbuf = sendbuf,
                              .recvbuf = recvbuf,
                              .count = count,
                              .dtype = dtype,
                              .op = op,
                              .root = root,
                              .stream = stream};
    braid_result_t res = validate(&call);
    if (res == BRAID_SUCCESS)
        res = braid__enqueue(&call);
    return braid__comm_release(comm, res);
}

braid_result_t braid_all_reduce(const void *sendbuf, void *recvbuf, size_t count,
                                braid_dtype_t dtype, braid_op_t op, braid_comm_t comm,
                                braid_stream_t stream)
{
    return post(BRAID_COLL_ALL_REDUCE, sendbuf, recvbuf, count, dtype, op, -1, comm, stream);
}

braid_result_t braid_all_gather(const void *sendbuf, void *recvbuf, size_t sendcount,
                                braid_dtype_t dtype, braid_comm_t comm, braid_stream_t stream)
{
    return post(BRAID_COLL_ALL_GATHER, sendbuf, recvbuf, sendcount, dtype, BRAID_SUM, -1, comm,
                stream);
}

braid_result_t braid_reduce_scatter(const void *sendbuf, void *recvbuf, size_t recvcount,
                                    braid_dtype_t dtype, braid_op_t op, braid_comm_t comm,
                                    braid_stream_t stream)
{
    return post(BRAID_COLL_REDUCE_SCATTER, sendbuf, recvbuf, recvcount, dtype, op, -1, comm,
                stream);
}

braid_result_t braid_all_to_all(const void *sendbuf, void *recvbuf, size_t count,
                                braid_dtype_t dtype, braid_comm_t comm, braid_stream_t stream)
{
    return post(BRAID_COLL_ALL_TO_ALL, sendbuf, recvbuf, count, dtype, BRAID_SUM, -1, comm, stream);
}

braid_result_t braid_broadcast(const void *sendbuf, void *recvbuf, size_t count,
                               braid_dtype_t dtype, int root, braid_comm_t comm,
                               braid_stream_t stream)
{
    return post(BRAID_COLL_BROADCAST, sendbuf, recvbuf, count, dtype, BRAID_SUM, root, comm,
                stream);
}

braid_result_t braid_reduce(const void *sendbuf, void *recvbuf, size_t count, braid_dtype_t dtype,
                            braid_op_t op, int root, braid_comm_t comm, braid_stream_t stream)
{
    return post(BRAID_COLL_REDUCE, sendbuf, recvbuf, count, dtype, op, root, comm, stream);
}

braid_result_t braid_send(const void *sendbuf, size_t count, braid_dtype_t dtype, int peer,
                          braid_comm_t comm, braid_stream_t stream)
{
    return post(BRAID_COLL_SEND, sendbuf, NULL, count, dtype, BRAID_SUM, peer, comm, stream);
}

braid_result_t braid_recv(void *recvbuf, size_t count, braid_dtype_t dtype, int peer,
                          braid_comm_t comm, braid_stream_t stream)
{
    return post(BRAID_COLL_RECV, NULL, recvbuf, count, dtype, BRAID_SUM, peer, comm, stream);
}
