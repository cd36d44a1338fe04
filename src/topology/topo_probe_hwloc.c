/*
 * The host probe from hwloc: CPUs and NUMA nodes, and the PCIe switches above each GPU and NIC.
 * libhwloc.so.15 (the hwloc 2.x ABI) is loaded with dlopen and only the few entry points and
 * the stable prefix of its object structure used here are declared, so one binary runs with or
 * without hwloc; without it the sysfs probe gives the same nodes (topo_local.c picks).
 *
 * The library is loaded RTLD_LOCAL so that its symbols stay out of the application's namespace;
 * hwloc's own plugins (libpciaccess, OpenCL, GL, libxml2) then fail to resolve them and are
 * silently left out, which costs nothing here: the core Linux backend reads CPUs, NUMA nodes
 * and the PCI tree from sysfs, and the core reads XML.
 *
 * hwloc honours HWLOC_XMLFILE itself (a topology exported by lstopo on another machine); the
 * probe then describes that machine's CPUs and switches, and says so.
 *
 * What this probe leaves to others, and why:
 * - GPU and NIC nodes come from the cuda, verbs and netdev probes, which know the CUDA device
 *   index, SM version and interface names and attach below the switches made here (found by
 *   bus id). Adding them here by PCI class would list each device twice, and list GPUs that
 *   CUDA cannot use.
 * - hwloc 2.x reports one number per PCIe link, the bandwidth of the link as currently trained
 *   (an idle GPU trains down to Gen1) with speed and width folded together. Links are sized by
 *   their maximum speed and width, as NCCL does, so on this machine those are read from sysfs;
 *   for a topology from HWLOC_XMLFILE hwloc's bandwidth is all there is.
 */
#include "topology/topo_probe.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "topology/topo_attr.h"

#define HWLOC_LIB_NAME "libhwloc.so.15"

/* hwloc_obj_type_t, enum hwloc_get_type_depth_e and enum hwloc_type_filter_e of hwloc 2.x. */
#define HW_OBJ_MACHINE      0
#define HW_OBJ_PACKAGE      1
#define HW_OBJ_NUMANODE     13
#define HW_OBJ_BRIDGE       14
#define HW_OBJ_PCI_DEVICE   15
#define HW_OBJ_OS_DEVICE    16
#define HW_OBJ_MISC         17
#define HW_DEPTH_UNKNOWN    (-1)
#define HW_FILTER_IMPORTANT 3
#define HW_BRIDGE_PCI       1 /* hwloc_obj_bridge_type_t: the PCI side of a bridge */
#define HW_MAX_BRIDGES      64

struct hw_pcidev { /* struct hwloc_pcidev_attr_s, 16-bit PCI domains (the default ABI) */
    unsigned short domain;
    unsigned char bus, dev, func;
    unsigned short class_id, vendor_id, device_id, subvendor_id, subdevice_id;
    unsigned char revision;
    float linkspeed; /* GB/s, as currently trained */
};

struct hw_bridge { /* the leading fields of struct hwloc_bridge_attr_s */
    struct hw_pcidev upstream;
    int upstream_type;
};

union hw_attr {
    struct hw_pcidev pcidev;
    struct hw_bridge bridge;
};

struct hw_info {
    char *name, *value;
};

/* The leading fields of struct hwloc_obj, up to the last one read here. */
struct hw_obj {
    int type;
    char *subtype;
    unsigned os_index;
    char *name;
    uint64_t total_memory;
    union hw_attr *attr;
    int depth;
    unsigned logical_index;
    struct hw_obj *next_cousin, *prev_cousin, *parent;
    unsigned sibling_rank;
    struct hw_obj *next_sibling, *prev_sibling;
    unsigned arity;
    struct hw_obj **children, *first_child, *last_child;
    int symmetric_subtree;
    unsigned memory_arity;
    struct hw_obj *memory_first_child;
    unsigned io_arity;
    struct hw_obj *io_first_child;
    unsigned misc_arity;
    struct hw_obj *misc_first_child;
    void *cpuset, *complete_cpuset, *nodeset, *complete_nodeset;
    struct hw_info *infos;
    unsigned infos_count;
};

#ifdef BRAID_HAVE_HWLOC
/* Where the header is installed, the declarations above are checked against it. */
#include <hwloc.h>
#include <stddef.h>
_Static_assert(HWLOC_API_VERSION >= 0x20000 && HWLOC_API_VERSION < 0x30000, "hwloc 2.x");
_Static_assert(HWLOC_OBJ_PACKAGE == HW_OBJ_PACKAGE && HWLOC_OBJ_NUMANODE == HW_OBJ_NUMANODE &&
                   HWLOC_OBJ_BRIDGE == HW_OBJ_BRIDGE && HWLOC_OBJ_PCI_DEVICE == HW_OBJ_PCI_DEVICE &&
                   HWLOC_OBJ_OS_DEVICE == HW_OBJ_OS_DEVICE && HWLOC_OBJ_MISC == HW_OBJ_MISC,
               "hwloc object types");
_Static_assert(offsetof(struct hwloc_obj, attr) == offsetof(struct hw_obj, attr) &&
                   offsetof(struct hwloc_obj, parent) == offsetof(struct hw_obj, parent) &&
                   offsetof(struct hwloc_obj, cpuset) == offsetof(struct hw_obj, cpuset) &&
                   offsetof(struct hwloc_obj, nodeset) == offsetof(struct hw_obj, nodeset) &&
                   offsetof(struct hwloc_obj, infos_count) == offsetof(struct hw_obj, infos_count),
               "struct hwloc_obj layout");
_Static_assert(sizeof(struct hwloc_pcidev_attr_s) == sizeof(struct hw_pcidev) &&
                   offsetof(struct hwloc_pcidev_attr_s, class_id) ==
                       offsetof(struct hw_pcidev, class_id) &&
                   offsetof(struct hwloc_pcidev_attr_s, linkspeed) ==
                       offsetof(struct hw_pcidev, linkspeed) &&
                   offsetof(struct hwloc_bridge_attr_s, upstream_type) ==
                       offsetof(struct hw_bridge, upstream_type),
               "hwloc PCI attribute layout");
#endif

struct hwloc_api {
    void *lib;
    void *topo;
    int thissystem;
    unsigned (*version)(void);
    int (*init)(void **);
    int (*io_filter)(void *, int);
    int (*load)(void *);
    void (*destroy)(void *);
    int (*is_thissystem)(void *);
    int (*type_depth)(void *, int);
    unsigned (*nbobjs)(void *, int);
    struct hw_obj *(*obj)(void *, int, unsigned);
    int (*bit_first)(const void *);
    int (*bit_last)(const void *);
    int (*bit_isset)(const void *, unsigned);
};

static void hwloc_close(struct hwloc_api *h)
{
    if (h->topo)
        h->destroy(h->topo);
    if (h->lib)
        dlclose(h->lib);
    memset(h, 0, sizeof(*h));
}

static int hwloc_symbols(struct hwloc_api *h)
{
    *(void **)&h->version = dlsym(h->lib, "hwloc_get_api_version");
    *(void **)&h->init = dlsym(h->lib, "hwloc_topology_init");
    *(void **)&h->io_filter = dlsym(h->lib, "hwloc_topology_set_io_types_filter");
    *(void **)&h->load = dlsym(h->lib, "hwloc_topology_load");
    *(void **)&h->destroy = dlsym(h->lib, "hwloc_topology_destroy");
    *(void **)&h->is_thissystem = dlsym(h->lib, "hwloc_topology_is_thissystem");
    *(void **)&h->type_depth = dlsym(h->lib, "hwloc_get_type_depth");
    *(void **)&h->nbobjs = dlsym(h->lib, "hwloc_get_nbobjs_by_depth");
    *(void **)&h->obj = dlsym(h->lib, "hwloc_get_obj_by_depth");
    *(void **)&h->bit_first = dlsym(h->lib, "hwloc_bitmap_first");
    *(void **)&h->bit_last = dlsym(h->lib, "hwloc_bitmap_last");
    *(void **)&h->bit_isset = dlsym(h->lib, "hwloc_bitmap_isset");
    return h->version && h->init && h->io_filter && h->load && h->destroy && h->is_thissystem &&
           h->type_depth && h->nbobjs && h->obj && h->bit_first && h->bit_last && h->bit_isset;
}

/* Loads the library and this machine's topology (or HWLOC_XMLFILE's); 0 with the reason logged
 * when hwloc cannot be used, and *h closed. */
static int hwloc_open(struct hwloc_api *h, const char *lib)
{
    memset(h, 0, sizeof(*h));
    h->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h->lib) {
        BRAID_INFO(TOPO, "probe hwloc: skipped: cannot load %s (%s); using sysfs", lib, dlerror());
        return 0;
    }
    const char *why = NULL;
    if (!hwloc_symbols(h))
        why = "lacks a needed entry point";
    else if (h->version() >> 16 != 2)
        why = "is not hwloc 2.x";
    else if (h->init(&h->topo) != 0)
        why = "failed in hwloc_topology_init";
    else if (h->io_filter(h->topo, HW_FILTER_IMPORTANT) != 0 || h->load(h->topo) != 0)
        why = "failed to load the topology";
    if (why) {
        BRAID_INFO(TOPO, "probe hwloc: skipped: %s %s; using sysfs", lib, why);
        hwloc_close(h);
        return 0;
    }
    h->thissystem = h->is_thissystem(h->topo);
    const char *xml = getenv("HWLOC_XMLFILE");
    if (!h->thissystem)
        BRAID_INFO(TOPO, "probe hwloc: the topology is not this machine's (HWLOC_XMLFILE=%s)",
                   xml ? xml : "unset");
    return 1;
}

static unsigned count_type(const struct hwloc_api *h, int type)
{
    int depth = h->type_depth(h->topo, type);
    return depth == HW_DEPTH_UNKNOWN ? 0 : h->nbobjs(h->topo, depth);
}

static struct hw_obj *nth_type(const struct hwloc_api *h, int type, unsigned n)
{
    int depth = h->type_depth(h->topo, type);
    return depth == HW_DEPTH_UNKNOWN ? NULL : h->obj(h->topo, depth, n);
}

static const char *info(const struct hw_obj *o, const char *name)
{
    for (unsigned i = 0; o && i < o->infos_count; i++)
        if (o->infos[i].name && strcmp(o->infos[i].name, name) == 0)
            return o->infos[i].value;
    return NULL;
}

/* Writes a cpuset as the kernel writes a sysfs cpumap: 32-bit hex words, most significant
 * first, over `nbits` CPUs (the possible ones), the first word only as wide as it needs. */
static void cpu_mask(const struct hwloc_api *h, const void *set, int nbits, char *buf, size_t len)
{
    int words = nbits > 0 ? (nbits + 31) / 32 : 1;
    size_t o = 0;
    buf[0] = '\0';
    for (int w = words - 1; w >= 0 && o < len; w--) {
        unsigned v = 0;
        for (int b = 0; b < 32; b++)
            if (set && h->bit_isset(set, (unsigned)(w * 32 + b)))
                v |= 1u << b;
        int top = nbits % 32 ? (nbits % 32 + 3) / 4 : 8;
        int width = w == words - 1 ? top : 8;
        o += (size_t)snprintf(buf + o, len - o, "%s%0*x", w == words - 1 ? "" : ",", width, v);
    }
}

/* The package holding NUMA node `numa`, else the first package. */
static const struct hw_obj *numa_package(const struct hwloc_api *h, const struct hw_obj *numa)
{
    for (const struct hw_obj *p = numa->parent; p; p = p->parent)
        if (p->type == HW_OBJ_PACKAGE)
            return p;
    return nth_type(h, HW_OBJ_PACKAGE, 0);
}

static braid_result_t add_cpu(struct braid_topo *topo, int host, const struct hwloc_api *h,
                              const struct hw_obj *numa, int nbits)
{
    int idx;
    char mask[4096];
    BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_CPU, host, &idx));
    struct braid_topo_node *cpu = &topo->nodes[idx];
    cpu->numa = numa ? (int)numa->os_index : 0;
    if (numa) {
        cpu_mask(h, numa->cpuset, nbits, mask, sizeof(mask));
        BRAID_CHECK(braid__topo_strset(&cpu->affinity, mask));
    }
    const struct hw_obj *pkg = numa ? numa_package(h, numa) : nth_type(h, HW_OBJ_PACKAGE, 0);
    const char *family = info(pkg, "CPUFamilyNumber"), *model = info(pkg, "CPUModelNumber");
    BRAID_CHECK(
        braid__topo_strset(&cpu->arch, info(nth_type(h, HW_OBJ_MACHINE, 0), "Architecture")));
    BRAID_CHECK(braid__topo_strset(&cpu->cpu_vendor, info(pkg, "CPUVendor")));
    if (family)
        cpu->family = atoi(family);
    if (model)
        cpu->model = atoi(model);
    return BRAID_SUCCESS;
}

static braid_result_t add_cpus(struct braid_topo *topo, int host, const struct hwloc_api *h)
{
    const struct hw_obj *root = nth_type(h, HW_OBJ_MACHINE, 0);
    int nbits = root && root->complete_cpuset ? h->bit_last(root->complete_cpuset) + 1 : 0;
    unsigned n = count_type(h, HW_OBJ_NUMANODE);
    for (unsigned i = 0; i < n; i++)
        BRAID_CHECK(add_cpu(topo, host, h, nth_type(h, HW_OBJ_NUMANODE, i), nbits));
    if (n == 0) {
        BRAID_INFO(TOPO, "probe hwloc: no NUMA node listed; one CPU node for the host");
        BRAID_CHECK(add_cpu(topo, host, h, NULL, nbits));
    }
    return BRAID_SUCCESS;
}

static int is_io(int type)
{
    return type == HW_OBJ_BRIDGE || type == HW_OBJ_PCI_DEVICE || type == HW_OBJ_OS_DEVICE ||
           type == HW_OBJ_MISC;
}

/* The CPU node of a PCI object: the first NUMA node near its first non-I/O ancestor (where
 * sysfs says numa_node -1, hwloc attaches to the machine and this gives NUMA node 0 too). */
static int pci_cpu(const struct braid_topo *topo, int host, const struct hwloc_api *h,
                   const struct hw_obj *o)
{
    while (o && is_io(o->type))
        o = o->parent;
    int numa = o && o->nodeset ? h->bit_first(o->nodeset) : -1;
    int cpu = braid__topo_find_cpu(topo, host, numa < 0 ? 0 : numa);
    for (int i = 0; cpu < 0 && i < topo->nnodes; i++)
        if (topo->nodes[i].type == BRAID_TOPO_CPU && topo->nodes[i].host == host)
            cpu = i;
    return cpu;
}

/* PCIe attributes of a switch's upstream port: sysfs's maximum speed and width on this
 * machine, else only hwloc's bandwidth (returned in *bw, 0 if unknown). */
static void switch_link(const struct hwloc_api *h, const struct hw_pcidev *p,
                        struct braid_topo_node *n, float *bw)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", n->busid);
    n->pci_class = p->class_id << 8;
    n->vendor = p->vendor_id;
    n->device = p->device_id;
    n->subsys_vendor = p->subvendor_id;
    n->subsys_device = p->subdevice_id;
    *bw = 0.0f;
    if (h->thissystem && access(dir, F_OK) == 0)
        braid__probe_pci_link(dir, n);
    else
        *bw = p->linkspeed;
}

static braid_result_t switch_node(struct braid_topo *topo, int host, const struct hwloc_api *h,
                                  const struct hw_obj *bridge, int parent, int *out)
{
    const struct hw_pcidev *p = &bridge->attr->bridge.upstream;
    char busid[32];
    float bw;
    snprintf(busid, sizeof(busid), "%04x:%02x:%02x.%x", p->domain, p->bus, p->dev, p->func);
    *out = braid__topo_find_busid(topo, BRAID_TOPO_PCI, host, busid);
    if (*out >= 0)
        return BRAID_SUCCESS;
    BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_PCI, host, out));
    struct braid_topo_node *n = &topo->nodes[*out];
    BRAID_CHECK(braid__topo_strset(&n->busid, busid));
    switch_link(h, p, n, &bw);
    n->parent = parent;
    if (bw <= 0.0f)
        bw = braid__topo_pcie_bw(n->link_speed, n->link_width);
    return braid__topo_connect(topo, *out, parent, BRAID_LINK_PCI, n->link_width,
                               braid__pcie_gen(n->link_speed), bw);
}

/* Makes the switch nodes above one PCI device. As in sysfs, the PCI-to-PCI bridges from the
 * host bridge down are the root port (the CPU's), then upstream and downstream ports of each
 * switch in turn; a switch is one node, named by its upstream port. */
static braid_result_t device_switches(struct braid_topo *topo, int host, const struct hwloc_api *h,
                                      const struct hw_obj *dev, int *nswitches)
{
    const struct hw_obj *chain[HW_MAX_BRIDGES];
    int n = 0, parent = pci_cpu(topo, host, h, dev);
    if (parent < 0)
        return braid__err(BRAID_ERR_INTERNAL, "probe hwloc: host %d has no CPU node", host);
    for (const struct hw_obj *o = dev->parent; o && o->type == HW_OBJ_BRIDGE; o = o->parent)
        if (o->attr->bridge.upstream_type == HW_BRIDGE_PCI && n < HW_MAX_BRIDGES)
            chain[n++] = o;
    for (int depth = 1; depth < n; depth += 2) {
        int before = topo->nnodes;
        BRAID_CHECK(switch_node(topo, host, h, chain[n - 1 - depth], parent, &parent));
        *nswitches += topo->nnodes > before;
    }
    return BRAID_SUCCESS;
}

static braid_result_t add_pci(struct braid_topo *topo, int host, const struct hwloc_api *h)
{
    unsigned n = count_type(h, HW_OBJ_PCI_DEVICE);
    int gpus = 0, nics = 0, switches = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct hw_obj *dev = nth_type(h, HW_OBJ_PCI_DEVICE, i);
        int base = dev ? dev->attr->pcidev.class_id >> 8 : 0;
        if (base != 0x03 && base != 0x02)
            continue;
        gpus += base == 0x03;
        nics += base == 0x02;
        BRAID_CHECK(device_switches(topo, host, h, dev, &switches));
    }
    BRAID_INFO(TOPO,
               "probe hwloc: %u NUMA node(s), %d PCIe switch(es) above %d GPU and %d NIC "
               "functions (their nodes come from the device probes)",
               count_type(h, HW_OBJ_NUMANODE), switches, gpus, nics);
    return BRAID_SUCCESS;
}

braid_result_t braid__probe_hwloc_lib(struct braid_topo *topo, int host, const char *lib)
{
    struct hwloc_api h;
    if (!hwloc_open(&h, lib))
        return BRAID_SUCCESS;
    braid_result_t res = add_cpus(topo, host, &h);
    if (res >= 0)
        res = add_pci(topo, host, &h);
    hwloc_close(&h);
    return res;
}

static braid_result_t probe_hwloc(struct braid_topo *topo, int host)
{
    return braid__probe_hwloc_lib(topo, host, HWLOC_LIB_NAME);
}

const struct braid_topo_probe braid__probe_hwloc = {
    .name = "hwloc",
    .run = probe_hwloc,
    .replaces = &braid__probe_sysfs,
};
