/*
 * The host probe from sysfs: CPUs and NUMA nodes, and the PCIe tree above each device with its
 * link speeds. hwloc reads the same files; reading them directly keeps libbraid free of a link
 * dependency and gives identical results in containers, where hwloc is often absent.
 *
 * PCIe switches appear in sysfs as an upstream port followed by downstream ports; the graph
 * keeps one node per switch (the upstream port), as NCCL's topology files do, and the root
 * port belongs to the CPU.
 */
#include "topology/topo_probe.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "topology/topo_attr.h"

int braid__sysfs_read(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    return n > 0;
}

static long sysfs_long(const char *dir, const char *file, int base, long dflt)
{
    char path[PATH_MAX], buf[64];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (!braid__sysfs_read(path, buf, sizeof(buf)))
        return dflt;
    char *end;
    long v = strtol(buf, &end, base);
    return end == buf ? dflt : v;
}

/* Fills vendor/family/model from /proc/cpuinfo (x86 names; other architectures keep -1). */
static braid_result_t cpu_identity(struct braid_topo_node *cpu)
{
    struct utsname u;
    if (uname(&u) == 0)
        BRAID_CHECK(braid__topo_strset(&cpu->arch, u.machine));
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return BRAID_SUCCESS;
    char line[512];
    braid_result_t res = BRAID_SUCCESS;
    while (fgets(line, sizeof(line), f) && res >= 0) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *v = colon + 1;
        while (*v == ' ')
            v++;
        v[strcspn(v, "\n")] = '\0';
        if (!strncmp(line, "vendor_id", 9) && !cpu->cpu_vendor)
            res = braid__topo_strset(&cpu->cpu_vendor, v);
        else if (!strncmp(line, "cpu family", 10) && cpu->family < 0)
            cpu->family = atoi(v);
        else if (!strncmp(line, "model\t", 6) && cpu->model < 0)
            cpu->model = atoi(v);
    }
    fclose(f);
    return res;
}

static braid_result_t add_cpu(struct braid_topo *topo, int host, int numa, const char *affinity)
{
    int idx;
    BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_CPU, host, &idx));
    struct braid_topo_node *cpu = &topo->nodes[idx];
    cpu->numa = numa;
    BRAID_CHECK(braid__topo_strset(&cpu->affinity, affinity));
    return cpu_identity(cpu);
}

braid_result_t braid__probe_cpus(struct braid_topo *topo, int host)
{
    const char *root = "/sys/devices/system/node";
    DIR *d = opendir(root);
    int found = 0;
    braid_result_t res = BRAID_SUCCESS;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && res >= 0) {
        if (strncmp(e->d_name, "node", 4) != 0 || !isdigit((unsigned char)e->d_name[4]))
            continue;
        char path[PATH_MAX], mask[4096];
        snprintf(path, sizeof(path), "%s/%s/cpumap", root, e->d_name);
        if (!braid__sysfs_read(path, mask, sizeof(mask)))
            mask[0] = '\0';
        res = add_cpu(topo, host, atoi(e->d_name + 4), mask[0] ? mask : NULL);
        found++;
    }
    if (d)
        closedir(d);
    BRAID_CHECK(res);
    if (!found) {
        BRAID_INFO(TOPO, "probe: %s is missing (no NUMA support); one CPU node for the host", root);
        BRAID_CHECK(add_cpu(topo, host, 0, NULL));
    }
    return BRAID_SUCCESS;
}

/* The CPU of a device: its numa_node, else the first CPU of the host. */
static int device_cpu(const struct braid_topo *topo, int host, const char *devdir)
{
    long numa = devdir ? sysfs_long(devdir, "numa_node", 10, -1) : -1;
    int cpu = braid__topo_find_cpu(topo, host, numa < 0 ? 0 : (int)numa);
    if (cpu >= 0)
        return cpu;
    for (int i = 0; i < topo->nnodes; i++)
        if (topo->nodes[i].type == BRAID_TOPO_CPU && topo->nodes[i].host == host)
            return i;
    return -1;
}

void braid__probe_pci_link(const char *devdir, struct braid_topo_node *n)
{
    char path[PATH_MAX], buf[64];
    snprintf(path, sizeof(path), "%s/max_link_speed", devdir);
    if (braid__sysfs_read(path, buf, sizeof(buf)))
        n->link_speed = strtof(buf, NULL);
    n->link_width = (int)sysfs_long(devdir, "max_link_width", 10, 0);
    n->pci_class = (int)sysfs_long(devdir, "class", 16, -1);
    n->vendor = (int)sysfs_long(devdir, "vendor", 16, -1);
    n->device = (int)sysfs_long(devdir, "device", 16, -1);
    n->subsys_vendor = (int)sysfs_long(devdir, "subsystem_vendor", 16, -1);
    n->subsys_device = (int)sysfs_long(devdir, "subsystem_device", 16, -1);
}

/* Finds or creates the switch node of one upstream port. */
static braid_result_t switch_node(struct braid_topo *topo, int host, const char *busid,
                                  const char *dir, int parent, int *out)
{
    *out = braid__topo_find_busid(topo, BRAID_TOPO_PCI, host, busid);
    if (*out >= 0)
        return BRAID_SUCCESS;
    BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_PCI, host, out));
    struct braid_topo_node *n = &topo->nodes[*out];
    BRAID_CHECK(braid__topo_strset(&n->busid, busid));
    braid__probe_pci_link(dir, n);
    n->parent = parent;
    return braid__topo_connect(topo, *out, parent, BRAID_LINK_PCI, n->link_width,
                               braid__pcie_gen(n->link_speed),
                               braid__topo_pcie_bw(n->link_speed, n->link_width));
}

/* Walks the sysfs path of a device (/sys/devices/pci0000:00/<root port>/<up>/<down>/...) and
 * returns the node its own link hangs from: the nearest switch, or its CPU. */
braid_result_t braid__probe_pci_parent(struct braid_topo *topo, int host, const char *busid,
                                       int *parent)
{
    char link[PATH_MAX], real[PATH_MAX];
    snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s", busid);
    if (!realpath(link, real)) {
        *parent = device_cpu(topo, host, NULL);
        BRAID_WARN(TOPO, "probe: %s has no PCI path in sysfs (a VM?); attaching it to CPU %d",
                   busid, topo->nodes[*parent].numa);
        return BRAID_SUCCESS;
    }
    *parent = device_cpu(topo, host, real);
    /* Components after "/sys/devices/pciDDDD:BB/": root port, then switch up/down pairs. */
    char *p = strstr(real, "/pci");
    p = p ? strchr(p + 1, '/') : NULL;
    char prefix[PATH_MAX];
    int depth = 0;
    while (p && *p == '/') {
        char *next = strchr(p + 1, '/');
        if (!next) /* the device itself */
            break;
        char comp[64];
        snprintf(comp, sizeof(comp), "%.*s", (int)(next - p - 1), p + 1);
        snprintf(prefix, sizeof(prefix), "%.*s", (int)(next - real), real);
        char norm[32];
        if (braid__busid_normalize(comp, norm, sizeof(norm)) && depth % 2 == 1)
            BRAID_CHECK(switch_node(topo, host, norm, prefix, *parent, parent));
        depth++;
        p = next;
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__probe_attach(struct braid_topo *topo, int host, int node)
{
    int parent;
    struct braid_topo_node *n = &topo->nodes[node];
    if (n->busid) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", n->busid);
        braid__probe_pci_link(dir, n);
        BRAID_CHECK(braid__probe_pci_parent(topo, host, n->busid, &parent));
    } else {
        parent = device_cpu(topo, host, NULL);
        BRAID_WARN(TOPO, "probe: %s %s has no PCI address; attaching it to CPU %d",
                   braid__topo_node_name(n->type), n->name ? n->name : "",
                   parent >= 0 ? topo->nodes[parent].numa : -1);
    }
    if (parent < 0)
        return braid__err(BRAID_ERR_INTERNAL, "probe: host %d has no CPU node", host);
    n = &topo->nodes[node];
    n->parent = parent;
    return braid__topo_connect(topo, node, parent, BRAID_LINK_PCI, n->link_width,
                               braid__pcie_gen(n->link_speed),
                               braid__topo_pcie_bw(n->link_speed, n->link_width));
}

const struct braid_topo_probe braid__probe_sysfs = {
    .name = "sysfs",
    .run = braid__probe_cpus,
};
