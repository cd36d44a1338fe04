/*
 * braid_ext.h: the experimental API for tools and tuners.
 *
 * What braid sees of a machine (topology: load a file, probe this host, paths between GPUs
 * and NICs) and what it would run there (plans: build, print and verify the plan of one rank
 * of a built-in algorithm). braid-topo and braid-plan are written with nothing else, and a
 * script that tunes a cluster can do what they do.
 *
 * Experimental: names, structs and enum members may change in any minor release (compare
 * braid_version() with BRAID_VERSION_CODE at run time); braid.h alone is the stable API.
 *
 * Conventions, as in braid.h:
 *   - every call that can fail returns a braid_result_t; on failure braid_last_error(NULL)
 *     gives the detail in words (the file and line of a bad topology file, the argument that
 *     is wrong, the verifier's first violation), valid until this thread's next braid call
 *     other than a free function or a name lookup, which leave it alone;
 *   - handles (braid_topo_t, braid_plan_t) are opaque; each has one free function, for which
 *     NULL is a no-op; strings a query returns belong to the handle and live until it is
 *     freed;
 *   - nothing here blocks on other processes or ranks; probing reads this host's devices;
 *   - a topo is used by one thread at a time (its path queries fill a cache); a built plan is
 *     read-only, so several threads may query and print it at once (and free it once they
 *     are done); different handles are independent. The name functions are thread-safe.
 */
#ifndef BRAID_EXT_H
#define BRAID_EXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "braid.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Topology: nodes (GPUs, CPUs, PCIe switches, NICs, NVSwitch fabrics, the network) joined by
 * links, over one host or a whole cluster. Nodes are numbered 0..nodes-1; GPUs and NICs are
 * also numbered among their own type (GPU 0..gpus-1, NIC 0..nics-1), which is how the path
 * queries name them.
 * ------------------------------------------------------------------------------------------- */

/** An opaque topology handle. */
typedef struct braid_topo *braid_topo_t;

typedef enum {
    BRAID_TOPO_NODE_GPU = 0,
    BRAID_TOPO_NODE_CPU = 1, /**< one per NUMA node: the root complex and its cores */
    BRAID_TOPO_NODE_PCI = 2, /**< a PCIe switch (or bridge) */
    BRAID_TOPO_NODE_NIC = 3, /**< one port of a network adapter */
    BRAID_TOPO_NODE_NVS = 4, /**< the NVSwitch fabric of one NVLink domain */
    BRAID_TOPO_NODE_NET = 5, /**< the network between hosts */
    BRAID_TOPO_NUM_NODE_TYPES = 6
} braid_topo_node_type_t;

typedef enum {
    BRAID_TOPO_LINK_NVL = 0, /**< NVLink: `count` links of generation `gen` */
    BRAID_TOPO_LINK_C2C = 1, /**< NVLink-C2C between a GPU and its Grace CPU */
    BRAID_TOPO_LINK_PCI = 2, /**< PCIe: `count` lanes of generation `gen` */
    BRAID_TOPO_LINK_SYS = 3, /**< between the CPUs (NUMA nodes) of one host */
    BRAID_TOPO_LINK_NET = 4, /**< between a NIC and the network node */
    BRAID_TOPO_NUM_LINK_TYPES = 5
} braid_topo_link_type_t;

/** Path types, best first; NCCL's order, so that BRAID_P2P_LEVEL reads the same. */
typedef enum {
    BRAID_PATH_TYPE_LOC = 0,  /**< the same device */
    BRAID_PATH_TYPE_NVL = 1,  /**< NVLink, directly or through NVSwitch */
    BRAID_PATH_TYPE_NVB = 2,  /**< NVLink through one intermediate GPU */
    BRAID_PATH_TYPE_C2C = 3,  /**< NVLink-C2C */
    BRAID_PATH_TYPE_PIX = 4,  /**< through at most one PCIe switch */
    BRAID_PATH_TYPE_PXB = 5,  /**< through several PCIe switches, not the CPU */
    BRAID_PATH_TYPE_P2C = 6,  /**< GPU over C2C to its CPU, then PCIe to the NIC (Grace) */
    BRAID_PATH_TYPE_PXN = 7,  /**< GPU to NIC through a peer GPU over NVLink, then PCIe */
    BRAID_PATH_TYPE_PHB = 8,  /**< through a CPU's PCIe host bridge */
    BRAID_PATH_TYPE_SYS = 9,  /**< across the CPU interconnect (QPI/UPI/xGMI) */
    BRAID_PATH_TYPE_NET = 10, /**< across the network, between hosts */
    BRAID_PATH_TYPE_DIS = 11, /**< disconnected */
    BRAID_NUM_PATH_TYPES = 12
} braid_path_type_t;

typedef enum {
    BRAID_NIC_LINK_UNKNOWN = 0,
    BRAID_NIC_LINK_IB = 1,   /**< InfiniBand */
    BRAID_NIC_LINK_ROCE = 2, /**< RDMA over Converged Ethernet */
    BRAID_NIC_LINK_ETH = 3,  /**< plain Ethernet (sockets) */
} braid_nic_link_layer_t;

/** Node counts of a topology, by type. */
typedef struct {
    int nodes, hosts;
    int gpus, cpus, pci_switches, nics, nvswitches, networks;
} braid_topo_counts_t;

/** One host: its name (NULL if unknown) and rack (-1 if unknown). */
typedef struct {
    const char *name;
    int rack;
} braid_topo_host_info_t;

/**
 * One node. Fields that do not apply to its type hold their "unknown" value: -1 for indices
 * and ids, 0 for numbers, NULL for strings. Strings belong to the topo.
 */
typedef struct {
    braid_topo_node_type_t type;
    int type_index; /**< rank among the nodes of its type ("GPU 3", "NIC 5") */
    int host;       /**< host index; -1 for nodes hosts share (network, multi-host NVSwitch) */
    int parent;     /**< PCIe upstream node (a CPU or PCI switch), -1 for none */
    int nlinks;     /**< links, for braid_topo_link_get() */
    int line;       /**< line of the topology file it came from, 0 if probed */
    /* PCI identity (GPU, NIC, PCI switch, NVSwitch) */
    const char *busid;  /**< "0000:07:00.0" */
    float pcie_speed;   /**< GT/s per lane of its upstream PCIe link, 0 if unknown */
    int pcie_width;     /**< lanes of that link, 0 if unknown */
    int vendor, device; /**< PCI ids */
    /* GPU */
    int dev;            /**< CUDA device number on its host */
    int rank;           /**< the rank that uses it, -1 if none */
    int sm;             /**< compute capability x 10 (90 for Hopper) */
    int gdr;            /**< GPUDirect RDMA supported */
    int64_t mem_mb;     /**< memory, MB */
    const char *clique; /**< multi-node NVLink domain, NULL if none */
    /* CPU */
    int numa;               /**< NUMA node id */
    const char *arch;       /**< "x86_64", "arm64" */
    const char *cpu_vendor; /**< "GenuineIntel", "AuthenticAMD", ... */
    const char *affinity;   /**< CPU mask of the NUMA node, hex */
    /* NIC (and NET: the network's name) */
    const char *name; /**< "mlx5_0", "eth0"; the network's name for the NET node */
    int port;
    int64_t speed_mbps;
    braid_nic_link_layer_t link_layer;
    int rail; /**< rail attribute of the file, -1 if none */
    /* NVSwitch */
    const char *domain; /**< NVLink domain, NULL for the switches of one host */
    int chips, trays, nvl_gen;
} braid_topo_node_info_t;

/** One link, seen from the node that has it (every link is stored both ways). */
typedef struct {
    braid_topo_link_type_t type;
    int remote; /**< node at the other end */
    int count;  /**< NVLink/C2C links or PCIe lanes */
    int gen;    /**< NVLink or PCIe generation, 0 if unknown */
    float bw;   /**< GB/s per direction, all `count` together */
    float latency_us;
} braid_topo_link_info_t;

/** The best path between two devices: its type, bottleneck bandwidth and hop count. */
typedef struct {
    braid_path_type_t type;
    float bw; /**< GB/s per direction */
    int hops;
} braid_path_t;

/** Room braid_topo_summary() needs at most. */
#define BRAID_TOPO_SUMMARY_MAX 256

/**
 * Loads an NCCL-format topology XML file (braid's reference systems are in topologies/).
 * @param topo receives the new handle (the caller frees it with braid_topo_free()); NULL on
 *             failure, whose message names the file, line and attribute.
 * @param path the file. Blocking (file I/O).
 */
BRAID_API braid_result_t braid_topo_load_file(braid_topo_t *topo, const char *path);

/**
 * Loads topology XML from memory.
 * @param topo receives the new handle, as braid_topo_load_file().
 * @param text len bytes of XML (need not be NUL-terminated; not kept).
 * @param name what error messages call the text (a file name), or NULL for "(buffer)".
 */
BRAID_API braid_result_t braid_topo_load_buffer(braid_topo_t *topo, const char *text, size_t len,
                                                const char *name);

/**
 * Probes this host (sysfs or hwloc, CUDA and NVML, verbs; what is missing is left out) and
 * ignores BRAID_TOPO_FILE. Blocking: reads devices, typically well under a second.
 * @param topo receives the new handle, as braid_topo_load_file().
 */
BRAID_API braid_result_t braid_topo_probe(braid_topo_t *topo);

/** Frees a topo and every string its queries returned. NULL is a no-op. Never fails, and
 *  leaves braid_last_error(NULL) as it was, so cleanup may come before reading it. */
BRAID_API braid_result_t braid_topo_free(braid_topo_t topo);

/** Writes the topo as NCCL-format XML (with braid's extensions) to `path`, replacing it. */
BRAID_API braid_result_t braid_topo_dump_file(braid_topo_t topo, const char *path);

/**
 * Writes the topo as NCCL-format XML into a new string.
 * @param text receives a NUL-terminated malloc'ed string the caller releases with free().
 * @param len  receives its length without the NUL; may be NULL.
 */
BRAID_API braid_result_t braid_topo_dump_string(braid_topo_t topo, char **text, size_t *len);

/**
 * One line of counts, "1 host, 8 GPU, 2 CPU, 8 PCI switch, 8 NIC, 1 NVSwitch, 1 NET", into
 * buf (len bytes, BRAID_TOPO_SUMMARY_MAX always suffice; a shorter buf gets it truncated).
 */
BRAID_API braid_result_t braid_topo_summary(braid_topo_t topo, char *buf, size_t len);

/** Fills *counts with the number of nodes of each type and of hosts. */
BRAID_API braid_result_t braid_topo_counts(braid_topo_t topo, braid_topo_counts_t *counts);

/** Fills *info for host `host` in [0, counts.hosts). */
BRAID_API braid_result_t braid_topo_host_get(braid_topo_t topo, int host,
                                             braid_topo_host_info_t *info);

/** Fills *info for node `node` in [0, counts.nodes). */
BRAID_API braid_result_t braid_topo_node_get(braid_topo_t topo, int node,
                                             braid_topo_node_info_t *info);

/** The node index of the n-th node of `type` (GPU n, NIC n, ...) into *node. */
BRAID_API braid_result_t braid_topo_node_find(braid_topo_t topo, braid_topo_node_type_t type, int n,
                                              int *node);

/** Fills *info for link `link` in [0, nlinks) of node `node`. */
BRAID_API braid_result_t braid_topo_link_get(braid_topo_t topo, int node, int link,
                                             braid_topo_link_info_t *info);

/** The best path between GPUs gpu_a and gpu_b (numbered among GPUs); LOC when they are one. */
BRAID_API braid_result_t braid_topo_gpu_path(braid_topo_t topo, int gpu_a, int gpu_b,
                                             braid_path_t *path);

/**
 * The NIC (numbered among NICs) nearest GPU `gpu` on its own host into *nic, or -1 when the
 * host has none. GPUs tied for the same NICs are spread over them in order.
 */
BRAID_API braid_result_t braid_topo_gpu_nic(braid_topo_t topo, int gpu, int *nic);

/** The path from GPU `gpu` to NIC `nic`; PXN where an NVLink peer reaches the NIC better. */
BRAID_API braid_result_t braid_topo_gpu_nic_path(braid_topo_t topo, int gpu, int nic,
                                                 braid_path_t *path);

/** The rail of GPU `gpu` into *rail: its nearest NIC's rail attribute, else that NIC's order
 *  among its host's NICs; -1 without a NIC. */
BRAID_API braid_result_t braid_topo_gpu_rail(braid_topo_t topo, int gpu, int *rail);

/**
 * Whether GPUs gpu_a and gpu_b would talk directly (peer access) in a comm: *direct = 1 when
 * their path is no farther than BRAID_P2P_LEVEL (default PXB) and the driver, where the topo
 * records its answer, allows it; 0 otherwise (always across hosts outside an NVLink domain).
 */
BRAID_API braid_result_t braid_topo_p2p_direct(braid_topo_t topo, int gpu_a, int gpu_b,
                                               int *direct);

/** "GPU", "CPU", "PCI", "NIC", "NVS", "NET"; "invalid" for other values. */
BRAID_API const char *braid_topo_node_type_name(braid_topo_node_type_t type);
/** "NVL", "C2C", "PCI", "SYS", "NET"; "invalid" for other values. */
BRAID_API const char *braid_topo_link_type_name(braid_topo_link_type_t type);
/** "LOC", "NVL", "NVB", ... "DIS"; "invalid" for other values. */
BRAID_API const char *braid_path_type_name(braid_path_type_t type);

/* ---------------------------------------------------------------------------------------------
 * Plans: what one rank does in one collective, per channel an ordered list of steps over
 * abstract chunks, independent of the buffer size (the IR between planner and executors).
 * Algorithms are numbered 0..braid_algo_count()-1 in this library; across versions, name
 * them (braid_algo_find()), as BRAID_ALGO does.
 *
 * Later releases add here: simulating a plan's time on a topology (braid-plan simulate), and
 * loading custom plans from a file, to verify and run like the built-in ones.
 * ------------------------------------------------------------------------------------------- */

/** An opaque plan handle. */
typedef struct braid_plan *braid_plan_t;

typedef enum {
    BRAID_ALL_REDUCE = 0,
    BRAID_ALL_GATHER = 1,
    BRAID_REDUCE_SCATTER = 2,
    BRAID_ALL_TO_ALL = 3,
    BRAID_BROADCAST = 4,
    BRAID_REDUCE = 5,
    BRAID_SEND = 6, /**< one side of a point-to-point transfer; root is the peer */
    BRAID_RECV = 7,
    BRAID_NUM_COLLECTIVES = 8
} braid_coll_t;

/** An algorithm's name ("ring") and one-line description; static strings. */
typedef struct {
    const char *name;
    const char *desc;
} braid_algo_info_t;

/** What a plan is: how it was built and the shape it has. */
typedef struct {
    braid_coll_t coll;
    int algo;
    int nranks, rank;
    int root; /**< broadcast/reduce root, send/recv peer; -1 otherwise */
    int nchannels;
    int npieces;               /**< pieces per block per channel per loop iteration */
    int in_blocks, out_blocks; /**< blocks of `count` elements in the input and output */
    int inplace_safe; /**< 1: right with input and output aliased as the in-place call does */
} braid_plan_info_t;

/** Name of a collective ("all_reduce", as the braid.h function), or "invalid". Thread-safe. */
BRAID_API const char *braid_coll_name(braid_coll_t coll);

/** Finds a collective by name into *coll (case-insensitive; "allreduce" matches too). */
BRAID_API braid_result_t braid_coll_find(const char *name, braid_coll_t *coll);

/** Number of built-in algorithms. Thread-safe. */
BRAID_API int braid_algo_count(void);

/** Fills *info for algorithm `algo` in [0, braid_algo_count()). Thread-safe. */
BRAID_API braid_result_t braid_algo_get(int algo, braid_algo_info_t *info);

/** Finds an algorithm by name (case-insensitive) into *algo. Thread-safe. */
BRAID_API braid_result_t braid_algo_find(const char *name, int *algo);

/** Whether algorithm `algo` builds plans for `coll`: *supported = 1 or 0. Thread-safe. */
BRAID_API braid_result_t braid_algo_supports(int algo, braid_coll_t coll, int *supported);

/**
 * Builds the plan of one rank. Pure computation, no I/O; thread-safe.
 * @param plan      receives the new handle (the caller frees it with braid_plan_free()); NULL
 *                  on failure. BRAID_ERR_NOT_SUPPORTED: `algo` does not build `coll`.
 * @param nranks    ranks in the collective, >= 1; rank in [0, nranks).
 * @param root      root of broadcast/reduce, peer of send/recv, in [0, nranks); ignored by
 *                  the others.
 * @param nchannels channels, 1..64.
 */
BRAID_API braid_result_t braid_plan_build(braid_plan_t *plan, braid_coll_t coll, int algo,
                                          int nranks, int rank, int root, int nchannels);

/** Frees a plan. NULL is a no-op. Never fails; leaves braid_last_error(NULL) as it was. */
BRAID_API braid_result_t braid_plan_free(braid_plan_t plan);

/** Prints the plan in readable form (braid-plan show's format) to `file`, which stays open. */
BRAID_API braid_result_t braid_plan_print(braid_plan_t plan, FILE *file);

/** Fills *info with what the plan is. */
BRAID_API braid_result_t braid_plan_get_info(braid_plan_t plan, braid_plan_info_t *info);

/** Number of steps on channel `channel` in [0, info.nchannels) into *nsteps. */
BRAID_API braid_result_t braid_plan_steps(braid_plan_t plan, int channel, int *nsteps);

/**
 * Verifies an algorithm symbolically: builds every rank's plan and runs them over abstract
 * contributions with the shallowest FIFOs allowed, checking that steps are well formed, that
 * messages match, that nothing deadlocks or is left over, and that every output holds every
 * required contribution exactly once. Send and recv verify every ordered pair of ranks.
 * Blocking, CPU only (milliseconds at 72 ranks); thread-safe.
 * @param inplace 1: with input and output aliased as the in-place call does (only for plans
 *                that are in-place safe; others fail with BRAID_ERR_INVALID_ARGUMENT).
 * @return BRAID_SUCCESS when the plans are right; BRAID_ERR_NOT_SUPPORTED when `algo` does not
 *         build `coll` or the plans are too large to verify in bounded memory (skip them);
 *         BRAID_ERR_INTERNAL at the first violation (rank, channel, step, what) and
 *         BRAID_ERR_INVALID_ARGUMENT for bad arguments, either with braid_last_error(NULL)
 *         giving exactly the verifier's message.
 */
BRAID_API braid_result_t braid_plan_verify(braid_coll_t coll, int algo, int nranks, int root,
                                           int nchannels, int inplace);

#ifdef __cplusplus
}
#endif

#endif /* BRAID_EXT_H */
