/*
 * This host's topology: the probes (one table, run in order), an optional topology file
 * (BRAID_TOPO_FILE) that the probes complete.
 * A file wins where it says something; probing fills only what it leaves out, so a user can
 * correct a wrong probe and a partial file (GPUs and NICs listed by PCI class only) still gets
 * SM versions, NVLinks and NIC names from the machine.
 */
#include "topology/topo_probe.h"

#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"

static const struct braid_topo_probe *const probes[] = {
    &braid__probe_hwloc, /* replaces sysfs when libhwloc loads */
    &braid__probe_sysfs, &braid__probe_cuda, &braid__probe_verbs, &braid__probe_netdev,
};

/* Runs one probe unless an earlier one replaced it; *skip is what this probe replaces. */
static braid_result_t run_probe(struct braid_topo *topo, const struct braid_topo_probe *p,
                                const struct braid_topo_probe **skip, const char **by)
{
    if (p == *skip) {
        BRAID_INFO(TOPO, "probe %s: skipped: probe %s gave the CPUs, NUMA nodes and PCIe tree",
                   p->name, *by);
        return BRAID_SUCCESS;
    }
    int before = topo->nnodes;
    BRAID_CHECK(p->run(topo, 0));
    BRAID_TRACE(TOPO, "probe %s: %d nodes so far", p->name, topo->nnodes);
    if (p->replaces && topo->nnodes > before) {
        *skip = p->replaces;
        *by = p->name;
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_probe(struct braid_topo **out)
{
    return braid__topo_probe_table(probes, sizeof(probes) / sizeof(probes[0]), out);
}

braid_result_t braid__topo_probe_table(const struct braid_topo_probe *const *table, size_t n,
                                       struct braid_topo **out)
{
    struct braid_topo *topo;
    const struct braid_topo_probe *skip = NULL;
    const char *by = NULL;
    BRAID_CHECK(braid__topo_create(&topo));
    braid_result_t res = braid__topo_host_ensure(topo, 0);
    if (res >= 0)
        res = braid__topo_strset(&topo->hosts[0].name, braid__hostname());
    for (size_t i = 0; i < n && res >= 0; i++)
        res = run_probe(topo, table[i], &skip, &by);
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
    return braid__topo_connect(file, *index, cpu, BRAID_LINK_PCI, f->link_width, 0,
                               braid__topo_pcie_bw(f->link_speed, f->link_width));
}

static braid_result_t file_nvs(struct braid_topo *file, const struct braid_topo_node *p, int *out)
{
    for (int i = 0; i < file->nnodes; i++) {
        const struct braid_topo_node *f = &file->nodes[i];
        if (f->type == BRAID_TOPO_NVS &&
            (p->domain ? f->domain && !strcmp(f->domain, p->domain) : !f->domain && f->host == 0)) {
            *out = i;
            return BRAID_SUCCESS;
        }
    }
    return braid__topo_copy_node(file, p, p->domain ? -1 : 0, out);
}

/* Gives file GPU fg the NVLinks and C2C links of probed GPU pg when the file lists none. */
static braid_result_t copy_links(struct braid_topo *file, const struct braid_topo *probed, int pg,
                                 int fg)
{
    int has_nvl = 0, has_c2c = 0;
    for (int l = 0; l < file->nodes[fg].nlinks; l++) {
        has_nvl |= file->nodes[fg].links[l].type == BRAID_LINK_NVL;
        has_c2c |= file->nodes[fg].links[l].type == BRAID_LINK_C2C;
    }
    const struct braid_topo_node *p = &probed->nodes[pg];
    for (int l = 0; l < p->nlinks; l++) {
        const struct braid_topo_link *k = &p->links[l];
        const struct braid_topo_node *r = &probed->nodes[k->remote];
        int remote = -1;
        if (k->type == BRAID_LINK_NVL && !has_nvl && r->type == BRAID_TOPO_GPU)
            remote = match(file, r);
        else if (k->type == BRAID_LINK_NVL && !has_nvl && r->type == BRAID_TOPO_NVS)
            BRAID_CHECK(file_nvs(file, r, &remote));
        else if (k->type == BRAID_LINK_C2C && !has_c2c)
            remote = file_cpu(file, probed, pg);
        if (remote >= 0 && remote != fg)
            BRAID_CHECK(braid__topo_connect(file, fg, remote, k->type, k->count, k->gen, k->bw));
    }
    return BRAID_SUCCESS;
}

/* Links from partial files have no generation until the SM version is known. */
static void nvlink_bandwidths(struct braid_topo *topo)
{
    for (int i = 0; i < topo->nnodes; i++) {
        struct braid_topo_node *n = &topo->nodes[i];
        for (int l = 0; l < n->nlinks; l++) {
            struct braid_topo_link *k = &n->links[l];
            if (k->type != BRAID_LINK_NVL || k->gen != 0)
                continue;
            int sa = n->type == BRAID_TOPO_GPU ? n->sm : -1;
            int sb = topo->nodes[k->remote].type == BRAID_TOPO_GPU ? topo->nodes[k->remote].sm : -1;
            int sm = sa > 0 && (sb <= 0 || sa < sb) ? sa : sb;
            if (sm <= 0)
                continue;
            k->gen = (uint8_t)braid__topo_nvlink_gen_of_sm(sm);
            k->bw = braid__topo_nvlink_bw(k->gen, k->count);
        }
    }
}

braid_result_t braid__topo_fill(struct braid_topo *file, const struct braid_topo *probed)
{
    int n = probed->nnodes;
    int *map = malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!map)
        return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory filling the file");
    braid_result_t res = BRAID_SUCCESS;
    for (int i = 0; i < n && res >= 0; i++) {
        const struct braid_topo_node *p = &probed->nodes[i];
        map[i] = -1;
        if (p->type != BRAID_TOPO_GPU && p->type != BRAID_TOPO_NIC)
            continue;
        map[i] = match(file, p);
        if (map[i] < 0) {
            BRAID_INFO(TOPO, "BRAID_TOPO_FILE does not list the probed %s %s; adding it",
                       braid__topo_node_name(p->type), p->busid ? p->busid : p->name);
            res = add_missing(file, probed, i, &map[i]);
        } else {
            res = fill_fields(&file->nodes[map[i]], p);
        }
    }
    for (int i = 0; i < n && res >= 0; i++)
        if (probed->nodes[i].type == BRAID_TOPO_GPU && map[i] >= 0)
            res = copy_links(file, probed, i, map[i]);
    free(map);
    if (res < 0)
        return res;
    nvlink_bandwidths(file);
    return braid__topo_finish(file);
}

static braid_result_t with_file(const char *path, struct braid_topo *probed,
                                struct braid_topo **out)
{
    struct braid_topo *file;
    BRAID_CHECK(braid__topo_load_file(path, &file));
    braid_result_t res = braid__topo_fill(file, probed);
    if (res < 0) {
        braid__topo_free(file);
        return res;
    }
    char summary[256];
    braid__topo_summary(file, summary, sizeof(summary));
    BRAID_INFO(TOPO, "BRAID_TOPO_FILE=%s: %s", path, summary);
    *out = file;
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_local(struct braid_topo **out)
{
    struct braid_topo *probed;
    *out = NULL;
    BRAID_CHECK(braid__topo_probe(&probed));
    const char *path = braid__param_str("BRAID_TOPO_FILE");
    braid_result_t res = BRAID_SUCCESS;
    if (path) {
        res = with_file(path, probed, out);
        braid__topo_free(probed);
    } else {
        *out = probed;
    }
    /* BRAID_TOPO_DUMP_FILE is written by the comm, once the hosts are merged. */
    return res < 0 ? res : BRAID_SUCCESS;
}
