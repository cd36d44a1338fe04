/*
 * This host's topology: the probes (one table, run in order), an optional topology file
 * (BRAID_TOPO_FILE) that the probes complete, and the optional dump (BRAID_TOPO_DUMP_FILE).
 * A file wins where it says something; probing fills only what it leaves out, so a user can
 * correct a wrong probe and a partial file (GPUs and NICs listed by PCI class only) still gets
 * SM versions, NVLinks and NIC names from the machine.
 */
#include "topology/topo_probe.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "core/params.h"

static const struct braid_topo_probe *const probes[] = {
    &braid__probe_sysfs,
    &braid__probe_cuda,
    &braid__probe_verbs,
    &braid__probe_netdev,
};

braid_result_t braid__topo_probe(struct braid_topo **out)
{
    struct braid_topo *topo;
    BRAID_CHECK(braid__topo_create(&topo));
    braid_result_t res = braid__topo_host_ensure(topo, 0);
    if (res >= 0)
        res = braid__topo_strset(&topo->hosts[0].name, braid__hostname());
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]) && res >= 0; i++) {
        res = probes[i]->run(topo, 0);
        BRAID_TRACE(TOPO, "probe %s: %d nodes so far", probes[i]->name, topo->nnodes);
    }
    if (res >= 0)
        res = braid__topo_finish(topo);
    if (res < 0) {
        braid__topo_free(topo);
        return res;
    }
    char summary[256];
    braid__topo_summary(topo, summary, sizeof(summary));
    BRAID_INFO(TOPO, "probe: %s", summary);
    *out = topo;
    return BRAID_SUCCESS;
}

/* The CPU of `file` on host 0 matching the NUMA node of probed node `n`, else its first CPU. */
static int file_cpu(const struct braid_topo *file, const struct braid_topo *probed, int n)
{
    int c = probed->nodes[n].parent;
    while (c >= 0 && probed->nodes[c].type != BRAID_TOPO_CPU)
        c = probed->nodes[c].parent;
    int numa = c >= 0 ? probed->nodes[c].numa : 0;
    int cpu = braid__topo_find_cpu(file, 0, numa);
    for (int i = 0; cpu < 0 && i < file->nnodes; i++)
        if (file->nodes[i].type == BRAID_TOPO_CPU && file->nodes[i].host == 0)
            cpu = i;
    return cpu;
}

static braid_result_t fill_fields(struct braid_topo_node *f, const struct braid_topo_node *p)
{
    if (f->dev < 0)
        f->dev = p->dev;
    if (f->sm < 0)
        f->sm = p->sm;
    if (f->gdr < 0)
        f->gdr = p->gdr;
    if (f->mem_mb <= 0)
        f->mem_mb = p->mem_mb;
    if (f->port < 0)
        f->port = p->port;
    if (f->nic_dev < 0)
        f->nic_dev = p->nic_dev;
    if (f->speed <= 0)
        f->speed = p->speed;
    if (!f->guid)
        f->guid = p->guid;
    if (!f->link_layer)
        f->link_layer = p->link_layer;
    if (f->link_width <= 0) {
        f->link_width = p->link_width;
        f->link_speed = p->link_speed;
    }
    if (!f->clique)
        BRAID_CHECK(braid__topo_strset(&f->clique, p->clique));
    if (!f->gid)
        BRAID_CHECK(braid__topo_strset(&f->gid, p->gid));
    if (!f->name)
        BRAID_CHECK(braid__topo_strset(&f->name, p->name));
    return BRAID_SUCCESS;
}

/* The file's node matching probed device p: same bus id (and port for NICs), or same name. */
static int match(const struct braid_topo *file, const struct braid_topo_node *p)
{
    for (int i = 0; i < file->nnodes; i++) {
        const struct braid_topo_node *f = &file->nodes[i];
        if (f->type != p->type || f->host != 0)
            continue;
        if (f->busid && p->busid && strcmp(f->busid, p->busid) == 0 &&
            (p->type != BRAID_TOPO_NIC || f->port < 0 || f->port == p->port))
            return i;
        if (p->type == BRAID_TOPO_NIC && !f->busid && f->name && p->name &&
            strcmp(f->name, p->name) == 0)
            return i;
    }
    return -1;
}

/* Adds a probed device the file does not list, below the file's CPU of the same NUMA node. */
static braid_result_t add_missing(struct braid_topo *file, const struct braid_topo *probed, int n,
                                  int *index)
{
    int cpu = file_cpu(file, probed, n);
    if (cpu < 0)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "BRAID_TOPO_FILE lists no <cpu> for this host, so the probed %s %s "
                          "has nowhere to go; add a <cpu numaid=\"0\"> element",
                          braid__topo_node_name(probed->nodes[n].type),
                          probed->nodes[n].busid ? probed->nodes[n].busid : "");
    BRAID_CHECK(braid__topo_copy_node(file, &probed->nodes[n], 0, index));
    struct braid_topo_node *f = &file->nodes[*index];
    f->parent = cpu;
    f->line = 0;
    return braid__topo_connect(file, *index, cpu, BRAID_LINK_PCI, f->link_width,
                               0, braid__topo_pcie_bw(f->link_speed, f->link_width));
}
