/*
 * Topology: the system graph of one host or of a whole job, and the paths between its GPUs and
 * NICs. Nodes are GPUs, CPUs (one per NUMA node), PCIe switches, NICs, NVSwitch fabrics (one node
 * per NVLink domain, which may span many hosts as in an NVL72 rack) and one network node that
 * joins the NICs of all hosts. Links carry a type, a count (NVLink/C2C links, PCIe lanes), a
 * generation and a bandwidth per direction in GB/s; every link is stored in both directions.
 *
 * Sources: the probes (sysfs for CPUs, NUMA and the PCIe tree; CUDA and NVML for GPUs and
 * NVLink; libibverbs for RDMA NICs), NCCL-format topology XML files, and the serialized graphs
 * of other hosts gathered by the bootstrap (braid__topo_merge()).
 *
 * Nothing here has a fixed capacity: arrays grow as needed. A topo is not thread-safe; path
 * queries fill a cache, so two threads querying one topo must serialise.
 */
#ifndef BRAID_TOPOLOGY_TOPO_H
#define BRAID_TOPOLOGY_TOPO_H

#include <stddef.h>
#include <stdint.h>

#include "braid.h"

enum braid_topo_node_type {
    BRAID_TOPO_GPU = 0,
    BRAID_TOPO_CPU = 1, /* one per NUMA node: the root complex and its cores */
    BRAID_TOPO_PCI = 2, /* a PCIe switch (or bridge) */
    BRAID_TOPO_NIC = 3, /* one port of a network adapter */
    BRAID_TOPO_NVS = 4, /* the NVSwitch fabric of one NVLink domain */
    BRAID_TOPO_NET = 5, /* the network between hosts */
    BRAID_TOPO_NODE_TYPES = 6
};

enum braid_topo_link_type {
    BRAID_LINK_NVL = 0, /* NVLink: count links of generation gen */
    BRAID_LINK_C2C = 1, /* NVLink-C2C between a GPU and its Grace CPU */
    BRAID_LINK_PCI = 2, /* PCIe: count lanes of generation gen */
    BRAID_LINK_SYS = 3, /* between the CPUs (NUMA nodes) of one host */
    BRAID_LINK_NET = 4, /* between a NIC and the network node */
    BRAID_LINK_TYPES = 5
};

/* Path types, best first; the order is NCCL's so that BRAID_P2P_LEVEL reads the same. */
enum braid_topo_path_type {
    BRAID_PATH_LOC = 0,  /* the same device */
    BRAID_PATH_NVL = 1,  /* NVLink, directly or through NVSwitch */
    BRAID_PATH_NVB = 2,  /* NVLink through one intermediate GPU */
    BRAID_PATH_C2C = 3,  /* NVLink-C2C */
    BRAID_PATH_PIX = 4,  /* through at most one PCIe switch */
    BRAID_PATH_PXB = 5,  /* through several PCIe switches, not the CPU */
    BRAID_PATH_P2C = 6,  /* GPU over C2C to its CPU, then PCIe to the NIC (Grace systems) */
    BRAID_PATH_PXN = 7,  /* GPU to NIC through a peer GPU over NVLink, then PCIe */
    BRAID_PATH_PHB = 8,  /* through a CPU's PCIe host bridge */
    BRAID_PATH_SYS = 9,  /* across the CPU interconnect (QPI/UPI/xGMI) */
    BRAID_PATH_NET = 10, /* across the network, between hosts */
    BRAID_PATH_DIS = 11, /* disconnected */
    BRAID_PATH_TYPES = 12
};

enum braid_topo_link_layer {
    BRAID_NIC_UNKNOWN = 0,
    BRAID_NIC_IB = 1,   /* InfiniBand */
    BRAID_NIC_ROCE = 2, /* RDMA over Converged Ethernet */
    BRAID_NIC_ETH = 3,  /* plain Ethernet (sockets) */
};

struct braid_topo_link {
    int remote;     /* index of the node at the other end */
    uint8_t type;   /* enum braid_topo_link_type */
    uint8_t gen;    /* NVLink or PCIe generation, 0 if unknown */
    uint16_t count; /* NVLink/C2C links or PCIe lanes */
    float bw;       /* GB/s per direction, all `count` together */
    float lat;      /* microseconds */
};

/* One node. Fields that do not apply to a node's type stay at their "unknown" value: -1 for
 * indices and ids, 0 for numbers, NULL for strings. Strings are owned by the node. */
struct braid_topo_node {
    int type;   /* enum braid_topo_node_type */
    int host;   /* host index, -1 for nodes shared by hosts (network, multi-host NVSwitch) */
    int parent; /* PCIe upstream node (CPU or PCI switch), -1 for none */
    int line;   /* line of the topology file it came from, 0 if probed */
    int nlinks, links_cap;
    struct braid_topo_link *links;

    /* PCI identity (GPU, NIC, PCI switch, NVSwitch). */
    char *busid; /* "0000:07:00.0", lower case */
    int pci_class, vendor, device, subsys_vendor, subsys_device;
    float link_speed; /* GT/s per lane, 0 if unknown */
    int link_width;   /* lanes, 0 if unknown */

    /* GPU */
    int dev, rank, sm, gdr;
    int64_t mem_mb;
    char *clique; /* multi-node NVLink domain ("<cluster uuid>/<clique id>"), NULL if none */
    /* Devices of this host the GPU can access directly (cuDeviceCanAccessPeer), as "1,2,3";
     * "-" for none; NULL when unknown (files without it, hosts without a driver). */
    char *p2p;

    /* CPU */
    int numa, family, model;
    char *arch, *cpu_vendor, *affinity;

    /* NIC */
    char *name; /* "mlx5_0", "eth0" */
    int port, nic_dev, link_layer, rail, maxconn, coll;
    int64_t speed; /* Mb/s */
    uint64_t guid;
    float latency; /* microseconds, as NCCL's net attribute */
    char *gid;     /* the first valid GID, text form */
    int ngids;

    /* NVSwitch */
    char *domain; /* NVLink domain of the fabric (NULL: the switches of one host) */
    int chips, trays, nvl_gen;

    /* Network */
    int tiers, rails_total;
};

struct braid_topo_host {
    char *name; /* host name, may be NULL */
    int rack;   /* -1 if unknown */
};

struct braid_topo_path {
    uint8_t type; /* enum braid_topo_path_type */
    uint8_t hops;
    float bw; /* bottleneck GB/s per direction */
};

struct braid_topo {
    int nnodes, nodes_cap;
    struct braid_topo_node *nodes;
    int nhosts, hosts_cap;
    struct braid_topo_host *hosts;
    char *net_name; /* name of the network ("ib0", "roce"), NULL if none */
    /* Path cache: one row per source node, filled on first query; nearest NIC per GPU
     * (-2: not computed yet). */
    struct braid_topo_path **paths;
    int paths_cap;
    int *gpu_nic;
    /* GPUs and NICs of each host: host h owns list[off[h] .. off[h+1]). */
    int *host_gpu_off, *host_gpu_list, *host_nic_off, *host_nic_list;
    /* Index lists by type, rebuilt by braid__topo_index(). */
    int ntype[BRAID_TOPO_NODE_TYPES];
    int *by_type[BRAID_TOPO_NODE_TYPES];
};

/* ---- lifecycle and building (topo_graph.c) ---- */

braid_result_t braid__topo_create(struct braid_topo **out);
/* Frees a topo and everything it owns; NULL is a no-op. */
void braid__topo_free(struct braid_topo *topo);
/* Appends a node of `type` on `host`, all fields unknown; *index receives its index. Node
 * pointers are invalidated by the next add. */
braid_result_t braid__topo_add_node(struct braid_topo *topo, int type, int host, int *index);
/* Links a and b both ways (a link of the same type between them is replaced). */
braid_result_t braid__topo_connect(struct braid_topo *topo, int a, int b, int type, int count,
                                   int gen, float bw);
/* Makes sure host `host` exists. */
braid_result_t braid__topo_host_ensure(struct braid_topo *topo, int host);
/* Links the CPUs of each host pairwise with SYS links. */
braid_result_t braid__topo_connect_cpus(struct braid_topo *topo);
/* Completes a built graph: one network node joined to every NIC, SYS links between the CPUs
 * of each host, and the indexes (braid__topo_index()). */
braid_result_t braid__topo_finish(struct braid_topo *topo);
/* Appends a deep copy of src (strings duplicated, no links, no parent) on `host`. */
braid_result_t braid__topo_copy_node(struct braid_topo *topo, const struct braid_topo_node *src,
                                     int host, int *index);
/* Rebuilds the by-type index lists and drops the path cache; call after building. */
braid_result_t braid__topo_index(struct braid_topo *topo);
/* Duplicates a string into *dst (freeing the old one); NULL copies as NULL. */
braid_result_t braid__topo_strset(char **dst, const char *src);

/* Node of a type by its rank among the nodes of that type (after braid__topo_index()). */
int braid__topo_nth(const struct braid_topo *topo, int type, int n);
/* The n-th node's rank among nodes of its type, -1 if none. */
int braid__topo_type_rank(const struct braid_topo *topo, int node);
/* Node of `type` on `host` with this bus id, -1 if none. */
int braid__topo_find_busid(const struct braid_topo *topo, int type, int host, const char *busid);
/* The CPU node of host with NUMA id numa, -1 if none. */
int braid__topo_find_cpu(const struct braid_topo *topo, int host, int numa);

const char *braid__topo_node_name(int type);
const char *braid__topo_link_name(int type);
const char *braid__topo_path_name(int type);
/* Parses "NVL", "PIX", ... (case-insensitive); -1 if unknown. */
int braid__topo_path_parse(const char *text);

/* Bandwidths in GB/s per direction, from public specifications. */
float braid__topo_nvlink_bw(int gen, int count);
float braid__topo_pcie_bw(float gts, int width);
int braid__topo_nvlink_gen_of_sm(int sm);
float braid__topo_sys_bw(const struct braid_topo_node *cpu);

/* ---- files (topo_load.c, topo_dump.c) ---- */

/* Loads an NCCL-format topology XML file. Errors name the file, line and attribute. */
braid_result_t braid__topo_load_file(const char *path, struct braid_topo **out);
/* Parses XML text of len bytes; `name` is used in error messages. */
braid_result_t braid__topo_load_buffer(const char *text, size_t len, const char *name,
                                       struct braid_topo **out);
/* Writes the topo as NCCL-format XML (with braid's extensions) to path. */
braid_result_t braid__topo_dump_file(const struct braid_topo *topo, const char *path);
/* Writes the XML into a new malloc'ed buffer *out of *len bytes (NUL-terminated). */
braid_result_t braid__topo_dump_buffer(const struct braid_topo *topo, char **out, size_t *len);

/* ---- exchange between hosts (topo_merge.c) ---- */

/* Upper bound on a serialized host topology accepted from the network. */
#define BRAID_TOPO_SERIAL_MAX (64u << 20)
/* Serializes a topo into a malloc'ed buffer (*buf, *len); the caller frees it. */
braid_result_t braid__topo_serialize(const struct braid_topo *topo, void **buf, size_t *len);
/* Rebuilds a topo from bytes received from another host; every field is validated. */
braid_result_t braid__topo_deserialize(const void *buf, size_t len, struct braid_topo **out);
/* Joins the topos of nhosts hosts (each one host, or already merged) into one system: hosts
 * are renumbered in order, NICs share one network node and NVSwitch fabrics of the same NVLink
 * domain become one. The inputs are not modified. */
braid_result_t braid__topo_merge(struct braid_topo *const *hosts, int nhosts,
                                 struct braid_topo **out);

/* ---- this host (topo_local.c) ---- */

/* This host's system: BRAID_TOPO_FILE if set, with probing filling in what a partial file
 * leaves out, else the probes alone. (The comm writes BRAID_TOPO_DUMP_FILE after merging.) */
braid_result_t braid__topo_local(struct braid_topo **out);
/* Runs the probes only (no file, no dump). */
braid_result_t braid__topo_probe(struct braid_topo **out);
/* Fills what the nodes of `file` lack from `probed` (same host), matching GPUs and NICs by PCI
 * bus id, and adds probed devices the file does not list. */
braid_result_t braid__topo_fill(struct braid_topo *file, const struct braid_topo *probed);

/* ---- paths (topo_paths.c) ---- */

int braid__topo_ngpus(const struct braid_topo *topo);
int braid__topo_nnics(const struct braid_topo *topo);
/* Path between GPU a and GPU b (indices among GPUs, 0..ngpus-1). */
braid_result_t braid__topo_gpu_path(struct braid_topo *topo, int gpu_a, int gpu_b,
                                    struct braid_topo_path *path);
/* Path from GPU g to NIC n (indices among GPUs and among NICs). PXN is reported where the
 * GPU reaches the NIC better through an NVLink peer on the same host. */
braid_result_t braid__topo_gpu_nic_path(struct braid_topo *topo, int gpu, int nic,
                                        struct braid_topo_path *path);
/* The NIC (index among NICs) nearest GPU g on its own host, -1 if the host has none. GPUs tied
 * for the same NICs are spread over them in order. */
int braid__topo_gpu_nic(struct braid_topo *topo, int gpu);
/* The rail of GPU g: the `rail` attribute of its nearest NIC, else that NIC's order among the
 * NICs of its host; -1 without a NIC. */
int braid__topo_gpu_rail(struct braid_topo *topo, int gpu);
/* 1 when GPUs a and b may talk directly (peer access): their path type is no farther than
 * BRAID_P2P_LEVEL (NVL, NVB, C2C, PIX, PXB, PHB or SYS, or NCCL's numbers 0-5; default PXB),
 * which can only hold within a host or an NVLink domain. 0 otherwise. A malformed
 * BRAID_P2P_LEVEL is reported once and the default applies. */
int braid__topo_p2p_direct(struct braid_topo *topo, int gpu_a, int gpu_b);

/* Counts and a one-line summary ("72 GPU, 36 CPU, ...") into buf. */
void braid__topo_summary(const struct braid_topo *topo, char *buf, size_t len);

#endif
