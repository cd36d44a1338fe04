/*
 * NIC probes. RDMA adapters come from libibverbs, through the base layer's loader
 * (base/drv_verbs.h, which needs the verbs header at build time): each active port with its link
 * layer (InfiniBand or RoCE), rate (active speed x width) and GID table. Plain Ethernet interfaces,
 * which the socket transport uses, come from /sys/class/net. A NIC with no PCI address (USB,
 * virtual) is attached to its CPU with a warning.
 */
#include "topology/topo_probe.h"

#include <dirent.h>
#include <endian.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/drv_verbs.h"
#include "base/log.h"
#include "topology/topo_attr.h"

/* The PCI bus id of the device behind a sysfs device link; "" when it is not on PCI directly
 * (USB adapters sit behind a USB controller, which is not their own link). */
static void sysfs_busid(const char *devlink, char *busid, size_t len)
{
    char real[PATH_MAX];
    busid[0] = '\0';
    if (!realpath(devlink, real) || strstr(real, "/usb"))
        return;
    /* The last PCI-looking component is the adapter's function (virtio devices hang one level
     * below theirs). */
    for (char *p = strtok(real, "/"); p; p = strtok(NULL, "/")) {
        char norm[32];
        if (braid__busid_normalize(p, norm, sizeof(norm)))
            snprintf(busid, len, "%s", norm);
    }
}

static int gdr_supported(void)
{
    return access("/sys/kernel/mm/memory_peers/nv_mem/version", F_OK) == 0 ||
           access("/sys/module/nvidia_peermem/version", F_OK) == 0;
}

static braid_result_t add_nic(struct braid_topo *topo, int host, const char *name, int port,
                              const char *busid, int64_t mbps, int layer, int *index)
{
    BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_NIC, host, index));
    struct braid_topo_node *n = &topo->nodes[*index];
    BRAID_CHECK(braid__topo_strset(&n->name, name));
    BRAID_CHECK(braid__topo_strset(&n->busid, busid[0] ? busid : NULL));
    n->port = port;
    n->speed = mbps;
    n->link_layer = layer;
    int count = 0;
    for (int i = 0; i < *index; i++)
        count += topo->nodes[i].type == BRAID_TOPO_NIC && topo->nodes[i].host == host;
    n->nic_dev = count;
    return braid__probe_attach(topo, host, *index);
}

#ifdef BRAID_HAVE_VERBS
/* Port rate in Mb/s from the IB active_speed and active_width codes. */
static int64_t port_mbps(const struct ibv_port_attr *a)
{
    int64_t lane;
    switch (a->active_speed) {
    case 1:
        lane = 2500;
        break; /* SDR */
    case 2:
        lane = 5000;
        break; /* DDR */
    case 4:
    case 8:
        lane = 10000;
        break; /* QDR, FDR10 */
    case 16:
        lane = 14000;
        break; /* FDR */
    case 32:
        lane = 25000;
        break; /* EDR */
    case 64:
        lane = 50000;
        break; /* HDR */
    case 128:
        lane = 100000;
        break; /* NDR */
    default:
        lane = 200000;
        break; /* XDR and later */
    }
    int width = a->active_width == 1    ? 1
                : a->active_width == 2  ? 4
                : a->active_width == 4  ? 8
                : a->active_width == 8  ? 12
                : a->active_width == 16 ? 2
                                        : 1;
    return lane * width;
}

static braid_result_t port_gids(struct braid_topo *topo, int nic, const struct braid_verbs_api *v,
                                struct ibv_context *ctx, int port, int len)
{
    struct braid_topo_node *n = &topo->nodes[nic];
    for (int i = 0; i < len && i < 4096; i++) {
        union ibv_gid gid;
        if (v->ibv_query_gid(ctx, (uint8_t)port, i, &gid) != 0)
            break;
        if (gid.global.subnet_prefix == 0 && gid.global.interface_id == 0)
            continue;
        n->ngids++;
        if (!n->gid) {
            char text[48];
            int o = 0;
            for (int b = 0; b < 16; b++)
                o += snprintf(text + o, sizeof(text) - (size_t)o, "%02x%s", gid.raw[b],
                              b % 2 && b < 15 ? ":" : "");
            BRAID_CHECK(braid__topo_strset(&n->gid, text));
        }
    }
    return BRAID_SUCCESS;
}

static braid_result_t verbs_device(struct braid_topo *topo, int host,
                                   const struct braid_verbs_api *v, struct ibv_device *dev)
{
    struct ibv_context *ctx = v->ibv_open_device(dev);
    struct ibv_device_attr attr;
    if (!ctx || v->ibv_query_device(ctx, &attr) != 0) {
        BRAID_INFO(TOPO, "probe verbs: cannot open %s; skipped", v->ibv_get_device_name(dev));
        if (ctx)
            v->ibv_close_device(ctx);
        return BRAID_SUCCESS;
    }
    char link[PATH_MAX], busid[32];
    snprintf(link, sizeof(link), "%s/device", dev->ibdev_path);
    sysfs_busid(link, busid, sizeof(busid));
    braid_result_t res = BRAID_SUCCESS;
    for (int p = 1; p <= attr.phys_port_cnt && res >= 0; p++) {
        struct ibv_port_attr pa;
        memset(&pa, 0, sizeof(pa));
        if (braid__verbs_query_port(v, ctx, (uint8_t)p, &pa) != 0 || pa.state != IBV_PORT_ACTIVE)
            continue;
        int nic;
        int layer = pa.link_layer == IBV_LINK_LAYER_ETHERNET ? BRAID_NIC_ROCE : BRAID_NIC_IB;
        res =
            add_nic(topo, host, v->ibv_get_device_name(dev), p, busid, port_mbps(&pa), layer, &nic);
        if (res >= 0 && v->ibv_get_device_guid)
            topo->nodes[nic].guid = be64toh(v->ibv_get_device_guid(dev));
        if (res >= 0) {
            topo->nodes[nic].gdr = gdr_supported();
            res = port_gids(topo, nic, v, ctx, p, pa.gid_tbl_len);
        }
    }
    v->ibv_close_device(ctx);
    return res;
}

static braid_result_t probe_verbs(struct braid_topo *topo, int host)
{
    const struct braid_verbs_api *v = braid__verbs();
    int n = 0;
    if (!v) {
        BRAID_INFO(TOPO, "probe verbs: skipped, no RDMA NICs: %s", braid__verbs_why());
        return BRAID_SUCCESS;
    }
    struct ibv_device **list = v->ibv_get_device_list(&n);
    if (!list || n == 0)
        BRAID_INFO(TOPO, "probe verbs: no RDMA device");
    braid_result_t res = BRAID_SUCCESS;
    for (int i = 0; list && i < n && res >= 0; i++)
        res = verbs_device(topo, host, v, list[i]);
    if (list)
        v->ibv_free_device_list(list);
    return res;
}
#else
/* Without the verbs header there is no table to call; the loader's reason says so. */
static braid_result_t probe_verbs(struct braid_topo *topo, int host)
{
    BRAID_INFO(TOPO, "probe verbs: skipped, no RDMA NICs: %s", braid__verbs_why());
    return BRAID_SUCCESS;
}
#endif

static braid_result_t netdev_one(struct braid_topo *topo, int host, const char *name)
{
    char path[PATH_MAX], buf[64], busid[32];
    snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
    if (access(path, F_OK) != 0)
        return BRAID_SUCCESS; /* virtual: bridges, veth, bonds, loopback */
    snprintf(path, sizeof(path), "/sys/class/net/%s/device/infiniband", name);
    if (access(path, F_OK) == 0)
        return BRAID_SUCCESS; /* an RDMA port: the verbs probe lists it */
    snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
    sysfs_busid(path, busid, sizeof(busid));
    snprintf(path, sizeof(path), "/sys/class/net/%s/speed", name);
    long mbps = braid__sysfs_read(path, buf, sizeof(buf)) ? atol(buf) : 0;
    int nic;
    return add_nic(topo, host, name, 1, busid, mbps > 0 ? mbps : 0, BRAID_NIC_ETH, &nic);
}

static braid_result_t probe_netdev(struct braid_topo *topo, int host)
{
    DIR *d = opendir("/sys/class/net");
    if (!d) {
        BRAID_INFO(TOPO, "probe netdev: skipped: /sys/class/net is not readable");
        return BRAID_SUCCESS;
    }
    braid_result_t res = BRAID_SUCCESS;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && res >= 0)
        if (e->d_name[0] != '.')
            res = netdev_one(topo, host, e->d_name);
    closedir(d);
    return res;
}

const struct braid_topo_probe braid__probe_verbs = {
    .name = "verbs",
    .run = probe_verbs,
};

const struct braid_topo_probe braid__probe_netdev = {
    .name = "netdev",
    .run = probe_netdev,
};
