/*
 * libibverbs (rdma-core's libibverbs.so.1), loaded with dlopen once per process so that one
 * binary runs with and without RDMA NICs: the NIC probe and the verbs transport call it
 * through one table.
 *
 * Unlike CUDA and NVML, verbs' structures are large and change between rdma-core releases, so
 * the table needs the real header: with BRAID_HAVE_VERBS (the build found infiniband/verbs.h)
 * each member has the type verbs.h declares for its function, and without it the table is an
 * incomplete type and braid__verbs() returns NULL, saying the build lacked the header.
 *
 * Calls that are not in the table, and why:
 * - ibv_post_send, ibv_post_recv, ibv_poll_cq and ibv_req_notify_cq are static inline functions
 *   in verbs.h that call through the context's provider ops; they are no library symbols, and
 *   are called from the header as they are.
 * - ibv_query_port is a macro in verbs.h, an inline wrapper that uses the provider's extended
 *   query where it has one and the library's compatibility symbol otherwise. The table holds
 *   the compatibility symbol; call braid__verbs_query_port(), which does what the wrapper does.
 * - ibv_reg_mr is also a function-like macro (it picks ibv_reg_mr_iova2 for some access flags),
 *   so the table's member must be called with the name in parentheses, (v->ibv_reg_mr)(...),
 *   which calls the library's ibv_reg_mr itself.
 */
#ifndef BRAID_BASE_DRV_VERBS_H
#define BRAID_BASE_DRV_VERBS_H

#ifdef BRAID_HAVE_VERBS
#include <infiniband/verbs.h>
#include <stdint.h>

/*
 * The entry points braid uses: REQUIRED ones must all be exported or the library counts as
 * unusable; OPTIONAL ones are NULL in the table where the library lacks them (those of the
 * verbs transport are optional until it exists). Adding an entry point is one line here.
 */
/* clang-format off */
#define BRAID_VERBS_ENTRY_POINTS(REQUIRED, OPTIONAL)                                               \
    REQUIRED(ibv_get_device_list)                                                                  \
    REQUIRED(ibv_free_device_list)                                                                 \
    REQUIRED(ibv_get_device_name)                                                                  \
    OPTIONAL(ibv_get_device_guid)                                                                  \
    REQUIRED(ibv_open_device)                                                                      \
    REQUIRED(ibv_close_device)                                                                     \
    REQUIRED(ibv_query_device)                                                                     \
    REQUIRED(ibv_query_port)                                                                       \
    REQUIRED(ibv_query_gid)                                                                        \
    OPTIONAL(ibv_alloc_pd)                                                                         \
    OPTIONAL(ibv_dealloc_pd)                                                                       \
    OPTIONAL(ibv_reg_mr)                                                                           \
    OPTIONAL(ibv_dereg_mr)                                                                         \
    OPTIONAL(ibv_create_cq)                                                                        \
    OPTIONAL(ibv_destroy_cq)                                                                       \
    OPTIONAL(ibv_create_qp)                                                                        \
    OPTIONAL(ibv_destroy_qp)                                                                       \
    OPTIONAL(ibv_modify_qp)                                                                        \
    OPTIONAL(ibv_query_qp)
/* clang-format on */

/* libibverbs' entry points, named as the symbols and typed as verbs.h declares them, so the
 * two cannot disagree. */
struct braid_verbs_api {
#define BRAID_VERBS_MEMBER(name) __typeof__(&name) name;
    BRAID_VERBS_ENTRY_POINTS(BRAID_VERBS_MEMBER, BRAID_VERBS_MEMBER)
#undef BRAID_VERBS_MEMBER
};

/* ibv_query_port through the table, as verbs.h's inline wrapper does it: the provider's
 * extended query fills all of attr; the compatibility symbol fills the older prefix of it and
 * the rest is zeroed. v must be braid__verbs()'s table. Returns 0 or an errno value. */
int braid__verbs_query_port(const struct braid_verbs_api *v, struct ibv_context *ctx, uint8_t port,
                            struct ibv_port_attr *attr);
#else
/* Built without verbs.h: nothing can be called, and braid__verbs() returns NULL. */
struct braid_verbs_api;
#endif

/*
 * libibverbs, loaded, or NULL when libibverbs.so.1 is absent, lacks a required entry point, or
 * the build had no verbs header; braid__verbs_why() then says which. The first call in the
 * process loads it and logs one INFO line (INIT); later calls only read. Thread safe. The table
 * lives until the process exits; the library is never unloaded, like the CUDA driver.
 */
const struct braid_verbs_api *braid__verbs(void);

/* Why braid__verbs() returns NULL, in words, e.g. "built without libibverbs headers (install
 * libibverbs-dev and rebuild)"; "" when it does not. Never NULL. */
const char *braid__verbs_why(void);

#endif
