/*
 * braid: collective communication for GPU and host memory.
 *
 * This is the only header a user includes. Every function returns a braid_result_t: zero is
 * success, a positive value means "still in progress", a negative value is an error whose name
 * braid_result_string() gives and whose detail (what failed, where, which peer, what to do)
 * braid_last_error() gives in words.
 *
 * Threading: a communicator may be used by one thread at a time, except braid_comm_abort(),
 * which any thread may call at any time. Different communicators are independent.
 */
#ifndef BRAID_H
#define BRAID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BRAID_API __attribute__((visibility("default")))
#else
#define BRAID_API
#endif

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */

#define BRAID_VERSION_MAJOR 0
#define BRAID_VERSION_MINOR 1
#define BRAID_VERSION_PATCH 0
/** One integer that orders versions: major * 10000 + minor * 100 + patch. */
#define BRAID_VERSION_CODE                                                                         \
    (BRAID_VERSION_MAJOR * 10000 + BRAID_VERSION_MINOR * 100 + BRAID_VERSION_PATCH)

/** The version code of the library linked at run time (compare with BRAID_VERSION_CODE). */
BRAID_API int braid_version(void);

/** The version as text, with the build it came from, e.g. "0.1.0 (git 1a2b3c4, cuda off)". */
BRAID_API const char *braid_version_string(void);

/* ---------------------------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    BRAID_SUCCESS = 0,
    BRAID_IN_PROGRESS = 1,            /**< non-blocking init or split not finished yet */
    BRAID_ERR_INVALID_ARGUMENT = -1,  /**< a parameter is wrong (NULL, range, dtype, ...) */
    BRAID_ERR_INVALID_USAGE = -2,     /**< calls in the wrong order or on a broken comm */
    BRAID_ERR_SYSTEM = -3,            /**< the OS refused (memory, sockets, shm, ...) */
    BRAID_ERR_INTERNAL = -4,          /**< a bug in braid: please report it */
    BRAID_ERR_REMOTE = -5,            /**< another rank failed, died or disagreed */
    BRAID_ERR_TIMEOUT = -6,           /**< a wait ran past its configured timeout */
    BRAID_ERR_NOT_SUPPORTED = -7,     /**< valid, but not supported by this build/machine */
    BRAID_ERR_NO_MEMORY = -8,         /**< an allocation failed */
    BRAID_ERR_ABORTED = -9,           /**< braid_comm_abort() was called on the comm */
    BRAID_ERR_VERSION_MISMATCH = -10, /**< ranks run different braid versions */
    BRAID_ERR_AUTH = -11,             /**< a peer did not present this job's secret */
} braid_result_t;

/** Returns the name of a result code ("BRAID_ERR_TIMEOUT: ..."); never NULL. Thread-safe. */
BRAID_API const char *braid_result_string(braid_result_t result);

/* ---------------------------------------------------------------------------------------------
 * Data types and reduction operators
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    BRAID_INT8 = 0,
    BRAID_UINT8 = 1,
    BRAID_INT32 = 2,
    BRAID_UINT32 = 3,
    BRAID_INT64 = 4,
    BRAID_UINT64 = 5,
    BRAID_FLOAT16 = 6,  /**< IEEE binary16 */
    BRAID_BFLOAT16 = 7, /**< bfloat16 (8-bit exponent, 7-bit mantissa) */
    BRAID_FLOAT32 = 8,
    BRAID_FLOAT64 = 9,
    BRAID_FP8_E4M3 = 10, /**< OCP fp8 E4M3 (no infinities, max 448) */
    BRAID_FP8_E5M2 = 11, /**< OCP fp8 E5M2 (IEEE-like, max 57344) */
    BRAID_NUM_DTYPES = 12
} braid_dtype_t;

/*
 * Reductions. Integer types wrap on overflow (two's complement); BRAID_AVG on integers divides
 * the wrapped sum by the rank count, truncating towards zero. float16, bfloat16 and fp8 are
 * widened to float32 for each pairwise combination and rounded back to nearest-even; fp8 E4M3
 * saturates to +-448 instead of overflowing, E5M2 overflows to infinity.
 */
typedef enum {
    BRAID_SUM = 0,
    BRAID_PROD = 1,
    BRAID_MIN = 2,
    BRAID_MAX = 3,
    BRAID_AVG = 4,
    BRAID_NUM_OPS = 5
} braid_op_t;

/** Size in bytes of one element of dtype, or 0 for an invalid dtype. */
BRAID_API size_t braid_dtype_size(braid_dtype_t dtype);
/** Name of a dtype ("float32"), or "invalid". */
BRAID_API const char *braid_dtype_name(braid_dtype_t dtype);
/** Name of an op ("sum"), or "invalid". */
BRAID_API const char *braid_op_name(braid_op_t op);

/* ---------------------------------------------------------------------------------------------
 * Settings: every BRAID_* environment variable, self-documented (`braid-info -e` lists them)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    const char *name;          /**< "BRAID_TIMEOUT_MS" */
    const char *default_value; /**< NULL when unset by default */
    const char *value;         /**< the value in force now (environment or default), or NULL */
    const char *help;          /**< one line */
} braid_param_t;

/** Number of settings. */
BRAID_API int braid_param_count(void);
/** Fills *param with setting `index` in [0, braid_param_count()); strings are static. */
BRAID_API braid_result_t braid_param_get(int index, braid_param_t *param);

/* ---------------------------------------------------------------------------------------------
 * Communicators
 * ------------------------------------------------------------------------------------------- */

/** An opaque communicator handle. */
typedef struct braid_comm *braid_comm_t;

/** A CUDA stream (cudaStream_t) for GPU buffers; ignored for host buffers. */
typedef void *braid_stream_t;

#define BRAID_UNIQUE_ID_BYTES 128
/**
 * Identifies one communicator being created: the root's address and a random 128-bit job
 * secret. Created by one process with braid_get_unique_id() and passed unchanged to all ranks
 * (MPI_Bcast, a file, ...). Treat it as a password: whoever holds it may join the job.
 */
typedef struct {
    char internal[BRAID_UNIQUE_ID_BYTES];
} braid_unique_id_t;

/** Value of an unset config field; the BRAID_* environment variable or the default applies. */
#define BRAID_CONFIG_UNSET   (-0x7fffffff)
#define BRAID_CONFIG_VERSION 1

/**
 * Options for creating a communicator. Start from BRAID_CONFIG_INIT and set what you need;
 * an unset field takes its BRAID_* environment variable, else the default (see the README
 * table or `braid-info -e`).
 */
typedef struct {
    size_t size;            /**< sizeof(braid_config_t), set by BRAID_CONFIG_INIT */
    unsigned int version;   /**< BRAID_CONFIG_VERSION, set by BRAID_CONFIG_INIT */
    int blocking;           /**< 0: init/split return BRAID_IN_PROGRESS (BRAID_BLOCKING) */
    int timeout_ms;         /**< bound on any wait in a call (BRAID_TIMEOUT_MS) */
    int connect_timeout_ms; /**< bound on bootstrap and connection setup (BRAID_CONNECT_TIMEOUT_MS)
                             */
    int nchannels;          /**< upper bound on channels per call (BRAID_NCHANNELS) */
    int slot_size;          /**< bytes per connector FIFO slot (BRAID_SLOT_SIZE) */
    int nslots;             /**< slots per connector FIFO, at least 2 (BRAID_NSLOTS) */
    const char *algorithm;  /**< NULL, or "ring", "tree", "pairwise", "oneshot" (BRAID_ALGO) */
    const char *protocol;   /**< NULL, or "simple" (BRAID_PROTO) */
    const char *name;       /**< a name shown in logs and errors (BRAID_COMM_NAME) */
} braid_config_t;

#define BRAID_CONFIG_INIT                                                                          \
    {                                                                                              \
        sizeof(braid_config_t), BRAID_CONFIG_VERSION, BRAID_CONFIG_UNSET, BRAID_CONFIG_UNSET,      \
            BRAID_CONFIG_UNSET, BRAID_CONFIG_UNSET, BRAID_CONFIG_UNSET, BRAID_CONFIG_UNSET, NULL,  \
            NULL, NULL                                                                             \
    }

/**
 * Creates a unique id and starts its root: a background thread of this process that listens
 * on the interface chosen by BRAID_SOCKET_IFNAME and introduces the ranks to each other. This
 * process must stay alive until every rank's init returned. The root thread exits by itself
 * once the ranks are introduced, or after BRAID_CONNECT_TIMEOUT_MS without them.
 * Blocking: no. Thread-safe: yes.
 */
BRAID_API braid_result_t braid_get_unique_id(braid_unique_id_t *id);

/**
 * Creates the communicator of rank `rank` among `nranks`, all of which call it with the same
 * id. Collective and blocking: returns once every rank has joined (or with an error naming the
 * ranks that did not, after BRAID_CONNECT_TIMEOUT_MS).
 * @param comm   receives the new handle; set to NULL on failure.
 * @param nranks number of ranks, >= 1.
 * @param id     the id from braid_get_unique_id(), unchanged.
 * @param rank   this caller's rank in [0, nranks).
 */
BRAID_API braid_result_t braid_comm_init_rank(braid_comm_t *comm, int nranks, braid_unique_id_t id,
                                              int rank);

/** As braid_comm_init_rank(), with options. `config` may be NULL; it is not kept. With
 *  config->blocking == 0 this returns BRAID_IN_PROGRESS at once and the comm becomes usable
 *  when braid_comm_get_async_error() stops returning BRAID_IN_PROGRESS. */
BRAID_API braid_result_t braid_comm_init_rank_config(braid_comm_t *comm, int nranks,
                                                     braid_unique_id_t id, int rank,
                                                     const braid_config_t *config);

/**
 * Creates `ndev` communicators, ranks 0..ndev-1 of one job, all in this process, so that one
 * thread can drive them with braid_group_start()/braid_group_end().
 * @param devlist CUDA devices for each rank, or NULL for host-only ranks (device -1).
 */
BRAID_API braid_result_t braid_comm_init_all(braid_comm_t *comms, int ndev, const int *devlist);

/**
 * Creates this process's rank without a unique id, for launchers: the rendezvous address comes
 * from BRAID_ROOT=host:port (rank 0 listens there), the rank and size from BRAID_RANK and
 * BRAID_NRANKS or from Open MPI (OMPI_COMM_WORLD_*), PMI (PMI_RANK/PMI_SIZE), Slurm
 * (SLURM_PROCID/SLURM_NTASKS) or torchrun (RANK/WORLD_SIZE), and the job secret from
 * BRAID_SECRET (any text every rank shares). Collective and blocking.
 */
BRAID_API braid_result_t braid_comm_init_env(braid_comm_t *comm, const braid_config_t *config);

/**
 * Completes every operation the comm has started and synchronises with the other ranks, after
 * which braid_comm_destroy() is local. Collective; blocking up to BRAID_TIMEOUT_MS.
 */
BRAID_API braid_result_t braid_comm_finalize(braid_comm_t comm);

/**
 * Frees the comm and everything it holds. Local: it does not wait for other ranks (call
 * braid_comm_finalize() first for a collective synchronisation), so one thread can destroy all
 * the comms of braid_comm_init_all() and a rank can leave a failed job. Every call on the comm
 * must have returned. Refuses with BRAID_ERR_INVALID_USAGE, freeing nothing, while another
 * thread is inside a call on the comm. braid_comm_destroy(NULL) is a no-op. The handle is
 * invalid afterwards; a later call with it returns BRAID_ERR_INVALID_ARGUMENT.
 */
BRAID_API braid_result_t braid_comm_destroy(braid_comm_t comm);

/**
 * Stops every operation on the comm and frees it, without talking to other ranks: the way out
 * of a failed or hung job. Thread-safe (any thread, while others are blocked in calls on the
 * comm, which then return BRAID_ERR_ABORTED); returns within about a second. NULL is a no-op.
 */
BRAID_API braid_result_t braid_comm_abort(braid_comm_t comm);

/**
 * Splits the comm: ranks that pass the same `color` form a new comm, ordered by `key` and then
 * by their rank in `comm`. A rank that passes BRAID_SPLIT_NOCOLOR gets *newcomm = NULL.
 * Collective over `comm`; `config` may be NULL (the new comm inherits comm's settings).
 */
#define BRAID_SPLIT_NOCOLOR (-1)
BRAID_API braid_result_t braid_comm_split(braid_comm_t comm, int color, int key,
                                          braid_comm_t *newcomm, const braid_config_t *config);

/** Number of ranks in the comm. */
BRAID_API braid_result_t braid_comm_count(braid_comm_t comm, int *count);
/** This caller's rank in the comm. */
BRAID_API braid_result_t braid_comm_user_rank(braid_comm_t comm, int *rank);
/** The CUDA device of the comm, or -1 for a host-only comm. */
BRAID_API braid_result_t braid_comm_cu_device(braid_comm_t comm, int *device);
/**
 * The comm's state without blocking: BRAID_SUCCESS when healthy, BRAID_IN_PROGRESS while a
 * non-blocking init is running, or the error that broke it (a broken comm accepts only
 * braid_comm_abort(), braid_comm_destroy() and the queries).
 */
BRAID_API braid_result_t braid_comm_get_async_error(braid_comm_t comm, braid_result_t *async_error);

/**
 * The detail of the last failure of a call on `comm`, in words; with comm == NULL, of the last
 * failed call of this thread (for init failures, where no comm exists). Never NULL; "" when
 * nothing failed. Valid until the next call on the same comm (or thread).
 */
BRAID_API const char *braid_last_error(braid_comm_t comm);

/* ---------------------------------------------------------------------------------------------
 * Collectives. On host buffers each call returns once the operation is complete on this rank;
 * the stream is ignored. Every rank of the comm must call the same collectives in the same
 * order with matching counts, dtypes, ops and roots. Buffers may coincide where noted
 * ("in place"); otherwise they must not overlap.
 * ------------------------------------------------------------------------------------------- */

/** recvbuf[i] = op over ranks of sendbuf[i], i < count. In place: sendbuf == recvbuf. */
BRAID_API braid_result_t braid_all_reduce(const void *sendbuf, void *recvbuf, size_t count,
                                          braid_dtype_t dtype, braid_op_t op, braid_comm_t comm,
                                          braid_stream_t stream);

/** recvbuf[r * sendcount + i] = sendbuf of rank r [i]. In place: sendbuf == recvbuf + rank *
 *  sendcount elements. */
BRAID_API braid_result_t braid_all_gather(const void *sendbuf, void *recvbuf, size_t sendcount,
                                          braid_dtype_t dtype, braid_comm_t comm,
                                          braid_stream_t stream);

/** recvbuf[i] = op over ranks of sendbuf[rank * recvcount + i]. In place: recvbuf == sendbuf
 *  + rank * recvcount elements. */
BRAID_API braid_result_t braid_reduce_scatter(const void *sendbuf, void *recvbuf, size_t recvcount,
                                              braid_dtype_t dtype, braid_op_t op, braid_comm_t comm,
                                              braid_stream_t stream);

/** recvbuf[r * count + i] = sendbuf of rank r [rank * count + i]. In place: sendbuf ==
 *  recvbuf. */
BRAID_API braid_result_t braid_all_to_all(const void *sendbuf, void *recvbuf, size_t count,
                                          braid_dtype_t dtype, braid_comm_t comm,
                                          braid_stream_t stream);

/** recvbuf[i] = sendbuf of `root` [i]; sendbuf is read on the root only. In place: sendbuf ==
 *  recvbuf. */
BRAID_API braid_result_t braid_broadcast(const void *sendbuf, void *recvbuf, size_t count,
                                         braid_dtype_t dtype, int root, braid_comm_t comm,
                                         braid_stream_t stream);

/** On `root`, recvbuf[i] = op over ranks of sendbuf[i]; recvbuf is not touched elsewhere and
 *  may be NULL there. In place: sendbuf == recvbuf. */
BRAID_API braid_result_t braid_reduce(const void *sendbuf, void *recvbuf, size_t count,
                                      braid_dtype_t dtype, braid_op_t op, int root,
                                      braid_comm_t comm, braid_stream_t stream);

/** Sends count elements to `peer`, which calls braid_recv() with the same count and dtype.
 *  Outside a group this blocks until the peer has received; put a send and a recv that must
 *  overlap in one group. Messages between two ranks match in the order they were posted. */
BRAID_API braid_result_t braid_send(const void *sendbuf, size_t count, braid_dtype_t dtype,
                                    int peer, braid_comm_t comm, braid_stream_t stream);

/** Receives count elements from `peer` (see braid_send()). */
BRAID_API braid_result_t braid_recv(void *recvbuf, size_t count, braid_dtype_t dtype, int peer,
                                    braid_comm_t comm, braid_stream_t stream);

/**
 * Groups: calls between braid_group_start() and braid_group_end() are checked and queued, and
 * braid_group_end() runs them all together, so that sends and receives to each other cannot
 * deadlock and one thread can drive several comms (for example those of braid_comm_init_all()).
 * Groups nest; only the outermost end runs the calls. The group state is per thread.
 * braid_group_end() returns the first error of any queued call.
 */
BRAID_API braid_result_t braid_group_start(void);
BRAID_API braid_result_t braid_group_end(void);

#ifdef __cplusplus
}
#endif

#endif /* BRAID_H */
