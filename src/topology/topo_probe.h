/*
 * Probes of this host. Each one is optional and degrades gracefully: what it cannot see (no
 * library, no device, no permission) is logged at INFO with the reason, and the probe returns
 * success with nothing added. Probes are entries of one table (topo_local.c).
 */
#ifndef BRAID_TOPOLOGY_TOPO_PROBE_H
#define BRAID_TOPOLOGY_TOPO_PROBE_H

#include <stddef.h>

#include "topology/topo.h"

struct braid_topo_probe {
    const char *name;
    /* Adds what it finds on `host` to topo. */
    braid_result_t (*run)(struct braid_topo *topo, int host);
    /* An alternative source of the same nodes, later in the table, skipped when this probe adds
     * any node (hwloc replaces sysfs); NULL for none. */
    const struct braid_topo_probe *replaces;
};

extern const struct braid_topo_probe braid__probe_hwloc;  /* CPUs, NUMA, PCIe switches */
extern const struct braid_topo_probe braid__probe_sysfs;  /* CPUs, NUMA (topo_probe_sys.c) */
extern const struct braid_topo_probe braid__probe_cuda;   /* GPUs, NVLink (topo_probe_gpu.c) */
extern const struct braid_topo_probe braid__probe_verbs;  /* RDMA NICs (topo_probe_net.c) */
extern const struct braid_topo_probe braid__probe_netdev; /* Ethernet NICs (topo_probe_net.c) */

/* Runs the probes of `table` in order on host 0 of a new topo and finishes it (tests pass
 * their own tables; braid__topo_probe() passes braid's). */
braid_result_t braid__topo_probe_table(const struct braid_topo_probe *const *table, size_t n,
                                       struct braid_topo **out);
/* The hwloc probe with the library file name given (tests name one that does not exist). */
braid_result_t braid__probe_hwloc_lib(struct braid_topo *topo, int host, const char *lib);
braid_result_t braid__probe_cpus(struct braid_topo *topo, int host);
/* The node (switch or CPU) the PCI device `busid` hangs from, creating switch nodes on the
 * way; a device without a PCI path is attached to its CPU with a warning. */
braid_result_t braid__probe_pci_parent(struct braid_topo *topo, int host, const char *busid,
                                       int *parent);
/* Reads class, ids and max link speed/width of a sysfs PCI device directory into n. */
void braid__probe_pci_link(const char *devdir, struct braid_topo_node *n);
/* Reads a small sysfs file into buf without its trailing newline; 0 when unreadable. */
int braid__sysfs_read(const char *path, char *buf, size_t len);
/* Attaches device node `node` (bus id set) below its PCI parent with its own link. */
braid_result_t braid__probe_attach(struct braid_topo *topo, int host, int node);

#endif
