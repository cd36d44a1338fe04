/*
 * Reading NCCL-format topology XML into the system graph.
 *
 * Accepted: everything NCCL writes (<system>, <cpu>, nested <pci>, <gpu> with <nvlink> and
 * <c2c>, <nic> with <net>), partial files that list only PCI devices by class (0x03xxxx GPUs,
 * 0x02xxxx NICs: probing fills the rest), and braid's extensions, which NCCL ignores: <host>,
 * <network> and <nvswitch> elements, and host/rack/clique/rail/link_layer/gen/mem attributes.
 * Unknown elements are skipped with an INFO line, as NCCL does, so newer files still load.
 * Bus ids are looked up in a hash table so that files with 100k elements load in linear time.
 */
#include "topology/topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "topology/topo_attr.h"
#include "topology/topo_xml.h"

struct busmap_entry {
    char *key; /* "host/busid" */
    int node;
    int line;
};

struct pending_nvlink {
    int gpu, line, count, gen, tclass;
    char target[32];
};

struct loader {
    struct braid_topo *topo;
    const char *file;
    struct busmap_entry *map;
    size_t map_cap, map_used;
    struct pending_nvlink *nvl;
    int nnvl, nvl_cap;
};

/* ---- bus id hash table ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static braid_result_t map_grow(struct loader *ld)
{
    size_t cap = ld->map_cap ? ld->map_cap * 2 : 256;
    struct busmap_entry *m = calloc(cap, sizeof(*m));
    if (!m)
        return braid__err(BRAID_ERR_NO_MEMORY, "topology file %s: out of memory", ld->file);
    for (size_t i = 0; i < ld->map_cap; i++) {
        if (!ld->map[i].key)
            continue;
        size_t j = hash_str(ld->map[i].key) & (cap - 1);
        while (m[j].key)
            j = (j + 1) & (cap - 1);
        m[j] = ld->map[i];
    }
    free(ld->map);
    ld->map = m;
    ld->map_cap = cap;
    return BRAID_SUCCESS;
}

static struct busmap_entry *map_find(struct loader *ld, const char *key)
{
    if (!ld->map_cap)
        return NULL;
    size_t j = hash_str(key) & (ld->map_cap - 1);
    while (ld->map[j].key) {
        if (strcmp(ld->map[j].key, key) == 0)
            return &ld->map[j];
        j = (j + 1) & (ld->map_cap - 1);
    }
    return NULL;
}

static void map_key(char *key, size_t len, int host, const char *busid)
{
    snprintf(key, len, "%d/%s", host, busid);
}

/* Registers a bus id; a repeated one is an error: a device cannot appear twice, and a bus id
 * nested under itself would make the PCIe tree a cycle. */
static braid_result_t map_add(struct loader *ld, int host, const char *busid, int node, int line)
{
    char key[64];
    map_key(key, sizeof(key), host, busid);
    struct busmap_entry *old = map_find(ld, key);
    if (old)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology file %s, line %d: <pci> attribute busid=\"%s\" repeats the "
                          "device of line %d (a PCI device may appear once per host, and never "
                          "inside itself); remove one of them",
                          ld->file, line, busid, old->line);
    if ((ld->map_used + 1) * 2 > ld->map_cap)
        BRAID_CHECK(map_grow(ld));
    size_t j = hash_str(key) & (ld->map_cap - 1);
    while (ld->map[j].key)
        j = (j + 1) & (ld->map_cap - 1);
    ld->map[j].key = strdup(key);
    if (!ld->map[j].key)
        return braid__err(BRAID_ERR_NO_MEMORY, "topology file %s: out of memory", ld->file);
    ld->map[j].node = node;
    ld->map[j].line = line;
    ld->map_used++;
    return BRAID_SUCCESS;
}

/* ---- helpers ---- */

static braid_result_t misplaced(struct loader *ld, const struct braid_xml_elem *e,
                                const char *where)
{
    return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                      "topology file %s, line %d: <%s> is not allowed inside <%s>; it belongs "
                      "%s",
                      ld->file, e->line, e->name, e->parent ? e->parent->name : "(top)", where);
}

static void skip_unknown(struct loader *ld, const struct braid_xml_elem *e)
{
    BRAID_INFO(TOPO, "topology file %s, line %d: ignoring unknown element <%s> inside <%s>",
               ld->file, e->line, e->name, e->parent ? e->parent->name : "(top)");
}

static braid_result_t get_int(struct loader *ld, const struct braid_xml_elem *e, const char *name,
                              int64_t min, int64_t max, int dflt, int *out)
{
    int64_t v;
    BRAID_CHECK(braid__attr_int(ld->file, e, name, min, max, dflt, &v));
    *out = (int)v;
    return BRAID_SUCCESS;
}

static braid_result_t get_str(struct loader *ld, const struct braid_xml_elem *e, const char *name,
                              char **dst)
{
    const char *v = braid__xml_get(e, name);
    return v ? braid__topo_strset(dst, v) : BRAID_SUCCESS;
}

static int class_is_gpu(int cls)
{
    return cls >= 0 && ((cls >> 16) == 0x03 || (cls >> 16) == 0x12);
}

static int class_is_nic(int cls)
{
    return cls >= 0 && (cls >> 16) == 0x02;
}

static void copy_pci(struct braid_topo_node *n, const struct braid_topo_node *attrs)
{
    n->pci_class = attrs->pci_class;
    n->vendor = attrs->vendor;
    n->device = attrs->device;
    n->subsys_vendor = attrs->subsys_vendor;
    n->subsys_device = attrs->subsys_device;
    n->link_speed = attrs->link_speed;
    n->link_width = attrs->link_width;
}

/* Connects a node to its PCIe parent with the node's own link speed and width. */
static braid_result_t link_up(struct loader *ld, int node, int parent)
{
    struct braid_topo_node *n = &ld->topo->nodes[node];
    float gts = n->link_speed;
    int width = n->link_width;
    n->parent = parent;
    return braid__topo_connect(ld->topo, node, parent, BRAID_LINK_PCI, width, braid__pcie_gen(gts),
                               braid__topo_pcie_bw(gts, width));
}

/* ---- elements ---- */

static braid_result_t read_pci_attrs(struct loader *ld, const struct braid_xml_elem *e,
                                     struct braid_topo_node *n)
{
    char busid[32];
    int64_t v;
    BRAID_CHECK(braid__attr_busid(ld->file, e, "busid", busid));
    if (busid[0])
        BRAID_CHECK(braid__topo_strset(&n->busid, busid));
    BRAID_CHECK(braid__attr_int(ld->file, e, "class", 0, 0xffffff, -1, &v));
    n->pci_class = (int)v;
    BRAID_CHECK(get_int(ld, e, "vendor", 0, 0xffff, -1, &n->vendor));
    BRAID_CHECK(get_int(ld, e, "device", 0, 0xffff, -1, &n->device));
    BRAID_CHECK(get_int(ld, e, "subsystem_vendor", 0, 0xffff, -1, &n->subsys_vendor));
    BRAID_CHECK(get_int(ld, e, "subsystem_device", 0, 0xffff, -1, &n->subsys_device));
    BRAID_CHECK(braid__attr_speed(ld->file, e, &n->link_speed));
    BRAID_CHECK(get_int(ld, e, "link_width", 0, 64, 0, &n->link_width));
    return BRAID_SUCCESS;
}

static braid_result_t read_nvlink(struct loader *ld, const struct braid_xml_elem *e, int gpu)
{
    struct pending_nvlink p = {.gpu = gpu, .line = e->line};
    int64_t cls;
    BRAID_CHECK(braid__attr_busid(ld->file, e, "target", p.target));
    BRAID_CHECK(braid__attr_int(ld->file, e, "tclass", 0, 0xffffff, 0x030200, &cls));
    BRAID_CHECK(get_int(ld, e, "count", 1, 1024, 1, &p.count));
    BRAID_CHECK(get_int(ld, e, "gen", 0, 32, 0, &p.gen));
    p.tclass = (int)cls;
    if (!p.target[0] && p.tclass != BRAID_PCI_CLASS_NVSWITCH)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology file %s, line %d: <nvlink> has no target attribute; give "
                          "the PCI bus id of the GPU or NVSwitch at the other end",
                          ld->file, e->line);
    if (ld->nnvl == ld->nvl_cap) {
        int cap = ld->nvl_cap ? ld->nvl_cap * 2 : 64;
        void *q = realloc(ld->nvl, (size_t)cap * sizeof(*ld->nvl));
        if (!q)
            return braid__err(BRAID_ERR_NO_MEMORY, "topology file %s: out of memory", ld->file);
        ld->nvl = q;
        ld->nvl_cap = cap;
    }
    ld->nvl[ld->nnvl++] = p;
    return BRAID_SUCCESS;
}

static braid_result_t read_c2c(struct loader *ld, const struct braid_xml_elem *e, int gpu, int cpu)
{
    int count;
    double bw;
    BRAID_CHECK(get_int(ld, e, "count", 1, 1024, 1, &count));
    BRAID_CHECK(braid__attr_float(ld->file, e, "bw", 0.0, 1e6, 45.0, &bw));
    return braid__topo_connect(ld->topo, gpu, cpu, BRAID_LINK_C2C, count, 0, (float)(bw * count));
}

static braid_result_t read_gpu_attrs(struct loader *ld, const struct braid_xml_elem *e, int gpu)
{
    struct braid_topo_node *n = &ld->topo->nodes[gpu];
    int64_t mem;
    n->line = e->line;
    BRAID_CHECK(get_int(ld, e, "dev", 0, 1 << 20, -1, &n->dev));
    BRAID_CHECK(get_int(ld, e, "sm", 0, 10000, -1, &n->sm));
    BRAID_CHECK(get_int(ld, e, "rank", 0, 1 << 30, -1, &n->rank));
    BRAID_CHECK(get_int(ld, e, "gdr", 0, 1, -1, &n->gdr));
    BRAID_CHECK(braid__attr_int(ld->file, e, "mem", 0, (int64_t)1 << 40, 0, &mem));
    n->mem_mb = mem;
    BRAID_CHECK(get_str(ld, e, "p2p", &n->p2p));
    return get_str(ld, e, "clique", &n->clique);
}

static braid_result_t read_gpu(struct loader *ld, const struct braid_xml_elem *e, int gpu, int cpu)
{
    BRAID_CHECK(read_gpu_attrs(ld, e, gpu));
    for (int k = 0; k < e->nkids; k++) {
        const struct braid_xml_elem *c = e->kids[k];
        if (strcmp(c->name, "nvlink") == 0)
            BRAID_CHECK(read_nvlink(ld, c, gpu));
        else if (strcmp(c->name, "c2c") == 0)
            BRAID_CHECK(read_c2c(ld, c, gpu, cpu));
        else
            skip_unknown(ld, c);
    }
    return BRAID_SUCCESS;
}

static const char *const link_layers[] = {NULL, "IB", "RoCE", "ETH"};

static braid_result_t read_net_attrs(struct loader *ld, const struct braid_xml_elem *e,
                                     struct braid_topo_node *n)
{
    int64_t v;
    double lat;
    n->line = e->line;
    BRAID_CHECK(get_str(ld, e, "name", &n->name));
    BRAID_CHECK(get_int(ld, e, "dev", 0, 1 << 20, -1, &n->nic_dev));
    BRAID_CHECK(get_int(ld, e, "port", 0, 1 << 16, -1, &n->port));
    BRAID_CHECK(braid__attr_int(ld->file, e, "speed", 0, (int64_t)1 << 40, 0, &v));
    n->speed = v;
    BRAID_CHECK(braid__attr_float(ld->file, e, "latency", 0.0, 1e9, 0.0, &lat));
    n->latency = (float)lat;
    BRAID_CHECK(braid__attr_u64(ld->file, e, "guid", &n->guid));
    BRAID_CHECK(get_int(ld, e, "maxconn", 0, 1 << 30, -1, &n->maxconn));
    BRAID_CHECK(get_int(ld, e, "gdr", 0, 1, -1, &n->gdr));
    BRAID_CHECK(get_int(ld, e, "coll", 0, 1, -1, &n->coll));
    BRAID_CHECK(get_int(ld, e, "rail", 0, 1 << 20, -1, &n->rail));
    BRAID_CHECK(get_str(ld, e, "gid", &n->gid));
    return braid__attr_enum(ld->file, e, "link_layer", link_layers, 4, 0, &n->link_layer);
}

/* One NIC node per <net> (a multi-port adapter has several); copies the PCI identity. */
static braid_result_t add_nic(struct loader *ld, const struct braid_xml_elem *net,
                              const struct braid_topo_node *pci, int host, int parent, int line)
{
    int nic;
    BRAID_CHECK(braid__topo_add_node(ld->topo, BRAID_TOPO_NIC, host, &nic));
    struct braid_topo_node *n = &ld->topo->nodes[nic];
    n->line = line;
    if (pci) {
        BRAID_CHECK(braid__topo_strset(&n->busid, pci->busid));
        copy_pci(n, pci);
    }
    if (net)
        BRAID_CHECK(read_net_attrs(ld, net, n));
    return link_up(ld, nic, parent);
}

static braid_result_t read_nic(struct loader *ld, const struct braid_xml_elem *e,
                               const struct braid_topo_node *pci, int host, int parent)
{
    int nets = 0;
    for (int k = 0; k < e->nkids; k++) {
        const struct braid_xml_elem *c = e->kids[k];
        if (strcmp(c->name, "net") != 0) {
            skip_unknown(ld, c);
            continue;
        }
        BRAID_CHECK(add_nic(ld, c, pci, host, parent, c->line));
        nets++;
    }
    if (nets == 0) /* an adapter listed without ports: probing names it */
        BRAID_CHECK(add_nic(ld, NULL, pci, host, parent, e->line));
    return BRAID_SUCCESS;
}

static braid_result_t read_pci(struct loader *ld, const struct braid_xml_elem *e, int host, int cpu,
                               int parent);

/* Decides what one <pci> element is: a GPU, a NIC, a switch, or another endpoint. */
static braid_result_t pci_kind(const struct braid_xml_elem *e, int cls, int *kind)
{
    int has_gpu = 0, has_nic = 0, has_pci = 0;
    for (int k = 0; k < e->nkids; k++) {
        has_gpu |= strcmp(e->kids[k]->name, "gpu") == 0;
        has_nic |= strcmp(e->kids[k]->name, "nic") == 0;
        has_pci |= strcmp(e->kids[k]->name, "pci") == 0;
    }
    if (has_gpu || (class_is_gpu(cls) && !has_pci))
        *kind = BRAID_TOPO_GPU;
    else if (has_nic || (class_is_nic(cls) && !has_pci))
        *kind = BRAID_TOPO_NIC;
    else if (has_pci || (cls >> 8) == BRAID_PCI_CLASS_BRIDGE)
        *kind = BRAID_TOPO_PCI;
    else
        *kind = -1;
    return BRAID_SUCCESS;
}

static braid_result_t read_pci_gpu(struct loader *ld, const struct braid_xml_elem *e,
                                   const struct braid_topo_node *attrs, int host, int cpu,
                                   int parent)
{
    int gpu;
    BRAID_CHECK(braid__topo_add_node(ld->topo, BRAID_TOPO_GPU, host, &gpu));
    struct braid_topo_node *n = &ld->topo->nodes[gpu];
    n->line = e->line;
    copy_pci(n, attrs);
    BRAID_CHECK(braid__topo_strset(&n->busid, attrs->busid));
    BRAID_CHECK(map_add(ld, host, attrs->busid, gpu, e->line));
    BRAID_CHECK(link_up(ld, gpu, parent));
    for (int k = 0; k < e->nkids; k++) {
        const struct braid_xml_elem *c = e->kids[k];
        if (strcmp(c->name, "gpu") == 0)
            BRAID_CHECK(read_gpu(ld, c, gpu, cpu));
        else
            skip_unknown(ld, c);
    }
    return BRAID_SUCCESS;
}

static braid_result_t read_pci_switch(struct loader *ld, const struct braid_xml_elem *e,
                                      const struct braid_topo_node *attrs, int host, int cpu,
                                      int parent)
{
    int sw;
    BRAID_CHECK(braid__topo_add_node(ld->topo, BRAID_TOPO_PCI, host, &sw));
    struct braid_topo_node *n = &ld->topo->nodes[sw];
    n->line = e->line;
    copy_pci(n, attrs);
    BRAID_CHECK(braid__topo_strset(&n->busid, attrs->busid));
    if (attrs->busid)
        BRAID_CHECK(map_add(ld, host, attrs->busid, sw, e->line));
    BRAID_CHECK(link_up(ld, sw, parent));
    for (int k = 0; k < e->nkids; k++) {
        const struct braid_xml_elem *c = e->kids[k];
        if (strcmp(c->name, "pci") == 0)
            BRAID_CHECK(read_pci(ld, c, host, cpu, sw));
        else if (strcmp(c->name, "nic") == 0)
            BRAID_CHECK(read_nic(ld, c, NULL, host, sw));
        else if (strcmp(c->name, "gpu") == 0 || strcmp(c->name, "cpu") == 0)
            return misplaced(ld, c, "in the <pci> element of its own device");
        else
            skip_unknown(ld, c);
    }
    return BRAID_SUCCESS;
}

static braid_result_t read_pci_nic(struct loader *ld, const struct braid_xml_elem *e,
                                   const struct braid_topo_node *attrs, int host, int parent)
{
    int nics = 0;
    BRAID_CHECK(map_add(ld, host, attrs->busid, -1, e->line));
    for (int k = 0; k < e->nkids; k++) {
        if (strcmp(e->kids[k]->name, "nic") != 0) {
            skip_unknown(ld, e->kids[k]);
            continue;
        }
        BRAID_CHECK(read_nic(ld, e->kids[k], attrs, host, parent));
        nics++;
    }
    if (nics == 0) /* a partial file: class 0x02xxxx only */
        BRAID_CHECK(add_nic(ld, NULL, attrs, host, parent, e->line));
    return BRAID_SUCCESS;
}

static braid_result_t read_pci(struct loader *ld, const struct braid_xml_elem *e, int host, int cpu,
                               int parent)
{
    struct braid_topo_node attrs = {0};
    int kind;
    braid_result_t res = read_pci_attrs(ld, e, &attrs);
    if (res >= 0)
        res = pci_kind(e, attrs.pci_class, &kind);
    if (res >= 0 && kind != BRAID_TOPO_PCI && kind != -1 && !attrs.busid)
        res = braid__err(BRAID_ERR_INVALID_ARGUMENT,
                         "topology file %s, line %d: <pci> of a %s has no busid attribute; add "
                         "its PCI bus id (lspci -D)",
                         ld->file, e->line, braid__topo_node_name(kind));
    if (res >= 0 && kind == BRAID_TOPO_GPU)
        res = read_pci_gpu(ld, e, &attrs, host, cpu, parent);
    else if (res >= 0 && kind == BRAID_TOPO_NIC)
        res = read_pci_nic(ld, e, &attrs, host, parent);
    else if (res >= 0 && kind == BRAID_TOPO_PCI)
        res = read_pci_switch(ld, e, &attrs, host, cpu, parent);
    else if (res >= 0)
        BRAID_TRACE(TOPO, "topology file %s, line %d: skipping PCI device of class 0x%06x",
                    ld->file, e->line, attrs.pci_class);
    free(attrs.busid);
    return res;
}

/* A GPU or NIC found directly under <cpu> (a VM without a PCI tree, a USB NIC) is attached to
 * that CPU, as NCCL does for virtual NICs. */
static braid_result_t read_cpu_gpu(struct loader *ld, const struct braid_xml_elem *e, int host,
                                   int cpu)
{
    int gpu;
    BRAID_WARN(TOPO,
               "topology file %s, line %d: <gpu> without a <pci> parent; attaching it to its "
               "CPU (give it a <pci busid=...> parent for correct paths)",
               ld->file, e->line);
    BRAID_CHECK(braid__topo_add_node(ld->topo, BRAID_TOPO_GPU, host, &gpu));
    BRAID_CHECK(link_up(ld, gpu, cpu));
    return read_gpu(ld, e, gpu, cpu);
}

static braid_result_t read_cpu_attrs(struct loader *ld, const struct braid_xml_elem *e, int *host,
                                     int *numa)
{
    BRAID_CHECK(get_int(ld, e, "host", 0, 1 << 24, 0, host));
    BRAID_CHECK(get_int(ld, e, "numaid", -1, 1 << 20, 0, numa));
    if (*numa < 0) /* sysfs reports -1 on machines without NUMA */
        *numa = 0;
    if (braid__topo_find_cpu(ld->topo, *host, *numa) >= 0)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology file %s, line %d: <cpu> attribute numaid=\"%d\" repeats a "
                          "CPU of host %d; give each NUMA node one <cpu>",
                          ld->file, e->line, *numa, *host);
    return BRAID_SUCCESS;
}

static braid_result_t read_cpu(struct loader *ld, const struct braid_xml_elem *e)
{
    int host, numa, cpu;
    BRAID_CHECK(read_cpu_attrs(ld, e, &host, &numa));
    BRAID_CHECK(braid__topo_add_node(ld->topo, BRAID_TOPO_CPU, host, &cpu));
    struct braid_topo_node *n = &ld->topo->nodes[cpu];
    n->line = e->line;
    n->numa = numa;
    BRAID_CHECK(get_str(ld, e, "affinity", &n->affinity));
    BRAID_CHECK(get_str(ld, e, "arch", &n->arch));
    BRAID_CHECK(get_str(ld, e, "vendor", &n->cpu_vendor));
    BRAID_CHECK(get_int(ld, e, "familyid", 0, 1 << 20, -1, &n->family));
    BRAID_CHECK(get_int(ld, e, "modelid", 0, 1 << 20, -1, &n->model));
    for (int k = 0; k < e->nkids; k++) {
        const struct braid_xml_elem *c = e->kids[k];
        if (strcmp(c->name, "pci") == 0)
            BRAID_CHECK(read_pci(ld, c, host, cpu, cpu));
        else if (strcmp(c->name, "nic") == 0)
            BRAID_CHECK(read_nic(ld, c, NULL, host, cpu));
        else if (strcmp(c->name, "gpu") == 0)
            BRAID_CHECK(read_cpu_gpu(ld, c, host, cpu));
        else if (strcmp(c->name, "cpu") == 0)
            return misplaced(ld, c, "directly inside <system>");
        else
            skip_unknown(ld, c);
    }
    return BRAID_SUCCESS;
}

static int find_nvs(const struct braid_topo *topo, int host, const char *domain)
{
    for (int i = 0; i < topo->nnodes; i++) {
        const struct braid_topo_node *n = &topo->nodes[i];
        if (n->type != BRAID_TOPO_NVS)
            continue;
        if (domain ? (n->domain && strcmp(n->domain, domain) == 0)
                   : (!n->domain && n->host == host))
            return i;
    }
    return -1;
}

static braid_result_t read_nvswitch(struct loader *ld, const struct braid_xml_elem *e)
{
    char busid[32];
    const char *domain = braid__xml_get(e, "domain");
    int host, nvs;
    BRAID_CHECK(braid__attr_busid(ld->file, e, "busid", busid));
    BRAID_CHECK(get_int(ld, e, "host", -1, 1 << 24, domain ? -1 : 0, &host));
    if (find_nvs(ld->topo, host, domain) >= 0)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology file %s, line %d: <nvswitch> repeats the NVLink domain "
                          "\"%s\"; list each domain once",
                          ld->file, e->line, domain ? domain : "(host-local)");
    BRAID_CHECK(braid__topo_add_node(ld->topo, BRAID_TOPO_NVS, host, &nvs));
    struct braid_topo_node *n = &ld->topo->nodes[nvs];
    n->line = e->line;
    BRAID_CHECK(braid__topo_strset(&n->domain, domain));
    if (busid[0])
        BRAID_CHECK(braid__topo_strset(&n->busid, busid));
    BRAID_CHECK(get_int(ld, e, "chips", 0, 1 << 20, 0, &n->chips));
    BRAID_CHECK(get_int(ld, e, "trays", 0, 1 << 20, 0, &n->trays));
    return get_int(ld, e, "gen", 0, 32, 0, &n->nvl_gen);
}

static braid_result_t read_network(struct loader *ld, const struct braid_xml_elem *e)
{
    if (ld->topo->ntype[BRAID_TOPO_NET] > 0)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology file %s, line %d: a second <network>; list it once", ld->file,
                          e->line);
    int net;
    BRAID_CHECK(braid__topo_add_node(ld->topo, BRAID_TOPO_NET, -1, &net));
    ld->topo->ntype[BRAID_TOPO_NET] = 1;
    struct braid_topo_node *n = &ld->topo->nodes[net];
    n->line = e->line;
    BRAID_CHECK(get_int(ld, e, "tiers", 0, 64, 0, &n->tiers));
    BRAID_CHECK(get_int(ld, e, "rails", 0, 1 << 20, 0, &n->rails_total));
    return get_str(ld, e, "name", &ld->topo->net_name);
}

static braid_result_t read_host(struct loader *ld, const struct braid_xml_elem *e)
{
    int id, rack;
    BRAID_CHECK(get_int(ld, e, "id", 0, 1 << 24, 0, &id));
    BRAID_CHECK(get_int(ld, e, "rack", -1, 1 << 24, -1, &rack));
    BRAID_CHECK(braid__topo_host_ensure(ld->topo, id));
    ld->topo->hosts[id].rack = rack;
    return get_str(ld, e, "name", &ld->topo->hosts[id].name);
}

static braid_result_t read_system(struct loader *ld, const struct braid_xml_elem *root)
{
    int version;
    if (strcmp(root->name, "system") != 0)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology file %s, line %d: the top element is <%s>, not <system>; "
                          "is this an NCCL topology file?",
                          ld->file, root->line, root->name);
    BRAID_CHECK(get_int(ld, root, "version", 1, 1, 1, &version));
    /* Extensions first, so that CPUs find their NVSwitch domains and network defined. */
    for (int k = 0; k < root->nkids; k++) {
        const struct braid_xml_elem *c = root->kids[k];
        if (strcmp(c->name, "nvswitch") == 0)
            BRAID_CHECK(read_nvswitch(ld, c));
        else if (strcmp(c->name, "network") == 0)
            BRAID_CHECK(read_network(ld, c));
        else if (strcmp(c->name, "host") == 0)
            BRAID_CHECK(read_host(ld, c));
    }
    for (int k = 0; k < root->nkids; k++) {
        const struct braid_xml_elem *c = root->kids[k];
        if (strcmp(c->name, "cpu") == 0)
            BRAID_CHECK(read_cpu(ld, c));
        else if (strcmp(c->name, "pci") == 0 || strcmp(c->name, "gpu") == 0 ||
                 strcmp(c->name, "nic") == 0)
            return misplaced(ld, c, "inside the <cpu> of its NUMA node");
        else if (strcmp(c->name, "nvswitch") && strcmp(c->name, "network") &&
                 strcmp(c->name, "host"))
            skip_unknown(ld, c);
    }
    return BRAID_SUCCESS;
}

static int cpu_of(const struct braid_topo *topo, int node)
{
    /* Parents always point to nodes created earlier, so this walk ends. */
    while (node >= 0 && topo->nodes[node].type != BRAID_TOPO_CPU)
        node = topo->nodes[node].parent;
    return node;
}

/* Finds the node at the far end of one <nvlink>; -1 (with a warning) when it is not listed. */
static braid_result_t nvlink_remote(struct loader *ld, const struct pending_nvlink *p, int *remote)
{
    struct braid_topo *topo = ld->topo;
    const struct braid_topo_node *g = &topo->nodes[p->gpu];
    *remote = -1;
    if (p->tclass == BRAID_PCI_CLASS_NVSWITCH) {
        *remote = find_nvs(topo, g->host, g->clique);
        if (*remote < 0) {
            BRAID_CHECK(
                braid__topo_add_node(topo, BRAID_TOPO_NVS, g->clique ? -1 : g->host, remote));
            struct braid_topo_node *n = &topo->nodes[*remote];
            g = &topo->nodes[p->gpu];
            BRAID_CHECK(braid__topo_strset(&n->domain, g->clique));
            BRAID_CHECK(braid__topo_strset(&n->busid, p->target[0] ? p->target : NULL));
        }
        return BRAID_SUCCESS;
    }
    if (p->tclass == BRAID_PCI_CLASS_NVLCPU) {
        *remote = cpu_of(topo, p->gpu);
        return BRAID_SUCCESS;
    }
    char key[64];
    map_key(key, sizeof(key), g->host, p->target);
    struct busmap_entry *m = map_find(ld, key);
    if (m && m->node >= 0 && topo->nodes[m->node].type == BRAID_TOPO_GPU)
        *remote = m->node;
    else
        BRAID_WARN(TOPO,
                   "topology file %s, line %d: <nvlink> attribute target=\"%s\" names no GPU "
                   "of this host; the link is ignored",
                   ld->file, p->line, p->target);
    return BRAID_SUCCESS;
}

struct nvl_edge {
    int a, b, count, gen, line;
};

static int edge_cmp(const void *x, const void *y)
{
    const struct nvl_edge *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

static int nvl_gen(const struct braid_topo *topo, const struct pending_nvlink *p, int remote)
{
    if (p->gen > 0)
        return p->gen;
    int sm = topo->nodes[p->gpu].sm;
    const struct braid_topo_node *r = &topo->nodes[remote];
    if (r->type == BRAID_TOPO_GPU && r->sm > 0 && (sm <= 0 || r->sm < sm))
        sm = r->sm;
    if (r->type == BRAID_TOPO_NVS && r->nvl_gen > 0)
        return r->nvl_gen;
    return sm > 0 ? braid__topo_nvlink_gen_of_sm(sm) : 0;
}

/* Both ends of a GPU-GPU NVLink list it, so the counts of each direction are summed separately
 * and the link gets the larger sum rather than twice the links. */
static braid_result_t connect_edges(struct loader *ld, struct nvl_edge *edges, int n)
{
    qsort(edges, (size_t)n, sizeof(*edges), edge_cmp);
    int out = 0;
    for (int i = 0; i < n; i++) {
        if (out > 0 && edges[out - 1].a == edges[i].a && edges[out - 1].b == edges[i].b)
            edges[out - 1].count += edges[i].count;
        else
            edges[out++] = edges[i];
    }
    for (int i = 0; i < out; i++) {
        struct nvl_edge key = {.a = edges[i].b, .b = edges[i].a};
        struct nvl_edge *rev = bsearch(&key, edges, (size_t)out, sizeof(*edges), edge_cmp);
        int count = edges[i].count;
        if (rev && rev->count > count)
            count = rev->count;
        int gen = edges[i].gen;
        BRAID_CHECK(braid__topo_connect(ld->topo, edges[i].a, edges[i].b, BRAID_LINK_NVL, count,
                                        gen, braid__topo_nvlink_bw(gen, count)));
    }
    return BRAID_SUCCESS;
}

static braid_result_t resolve_nvlinks(struct loader *ld)
{
    if (ld->nnvl == 0)
        return BRAID_SUCCESS;
    struct nvl_edge *edges = malloc((size_t)ld->nnvl * sizeof(*edges));
    if (!edges)
        return braid__err(BRAID_ERR_NO_MEMORY, "topology file %s: out of memory", ld->file);
    braid_result_t res = BRAID_SUCCESS;
    int n = 0;
    for (int i = 0; i < ld->nnvl && res >= 0; i++) {
        const struct pending_nvlink *p = &ld->nvl[i];
        int remote;
        res = nvlink_remote(ld, p, &remote);
        if (res >= 0 && remote == p->gpu)
            res = braid__err(BRAID_ERR_INVALID_ARGUMENT,
                             "topology file %s, line %d: <nvlink> attribute target=\"%s\" is the "
                             "GPU itself (a cycle); give the bus id of the peer",
                             ld->file, p->line, p->target);
        if (res >= 0 && remote >= 0)
            edges[n++] =
                (struct nvl_edge){p->gpu, remote, p->count, nvl_gen(ld->topo, p, remote), p->line};
    }
    if (res >= 0)
        res = connect_edges(ld, edges, n);
    free(edges);
    return res;
}

static void loader_free(struct loader *ld)
{
    for (size_t i = 0; i < ld->map_cap; i++)
        free(ld->map[i].key);
    free(ld->map);
    free(ld->nvl);
}

braid_result_t braid__topo_load_buffer(const char *text, size_t len, const char *name,
                                       struct braid_topo **out)
{
    struct braid_xml_elem *root = NULL;
    struct loader ld = {.file = name ? name : "(buffer)"};
    *out = NULL;
    BRAID_CHECK(braid__xml_parse(text, len, ld.file, &root));
    braid_result_t res = braid__topo_create(&ld.topo);
    if (res >= 0)
        res = read_system(&ld, root);
    if (res >= 0)
        res = resolve_nvlinks(&ld);
    if (res >= 0)
        res = braid__topo_finish(ld.topo);
    braid__xml_free(root);
    loader_free(&ld);
    if (res < 0) {
        braid__topo_free(ld.topo);
        return res;
    }
    *out = ld.topo;
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_load_file(const char *path, struct braid_topo **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology file %s: cannot open it: %s; check BRAID_TOPO_FILE or the "
                          "path given",
                          path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    braid_result_t res = BRAID_SUCCESS;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *t = cap <= (size_t)BRAID_XML_MAX_BYTES + (1 << 21) ? realloc(text, cap) : NULL;
            if (!t) {
                res = braid__err(BRAID_ERR_INVALID_ARGUMENT,
                                 "topology file %s: too large or out of memory (limit %u MiB)",
                                 path, BRAID_XML_MAX_BYTES >> 20);
                break;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (res >= 0 && ferror(f))
        res = braid__err(BRAID_ERR_SYSTEM, "topology file %s: read failed: %s", path,
                         strerror(errno));
    fclose(f);
    if (res >= 0)
        res = braid__topo_load_buffer(text, len, path, out);
    free(text);
    return res;
}
