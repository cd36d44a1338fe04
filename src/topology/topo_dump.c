/*
 * Writing the system graph as NCCL-format topology XML. The output reads back into the same
 * graph (dump, load, dump gives the same bytes), and NCCL can read it: braid's additions are
 * extra attributes (host, rack, clique, rail, link_layer, gen, mem, gid) and extra elements
 * (<host>, <network>, <nvswitch>), which NCCL's reader skips.
 */
#include "topology/topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "topology/topo_attr.h"
#include "topology/topo_xml.h"

/* Children of each node in the PCIe tree, as index lists built once per dump. */
struct tree {
    int *first; /* offset of node i's children in kids */
    int *kids;
};

static braid_result_t tree_build(const struct braid_topo *topo, struct tree *t)
{
    size_t n = (size_t)topo->nnodes;
    t->first = calloc(n + 1, sizeof(int));
    t->kids = malloc((n ? n : 1) * sizeof(int));
    int *fill = calloc(n + 1, sizeof(int));
    if (!t->first || !t->kids || !fill) {
        free(fill);
        return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory writing XML");
    }
    for (int i = 0; i < topo->nnodes; i++)
        if (topo->nodes[i].parent >= 0)
            t->first[topo->nodes[i].parent + 1]++;
    for (size_t i = 0; i < n; i++)
        t->first[i + 1] += t->first[i];
    for (int i = 0; i < topo->nnodes; i++) {
        int p = topo->nodes[i].parent;
        if (p >= 0)
            t->kids[t->first[p] + fill[p]++] = i;
    }
    free(fill);
    return BRAID_SUCCESS;
}

static void indent(struct braid_xml_out *o, int depth)
{
    braid__xml_printf(o, "%*s", depth * 2, "");
}

static void pci_attrs(struct braid_xml_out *o, const struct braid_topo_node *n)
{
    braid__xml_attr_str(o, "busid", n->busid);
    braid__xml_attr_hex(o, "class", n->pci_class, 6);
    braid__xml_attr_hex(o, "vendor", n->vendor, 4);
    braid__xml_attr_hex(o, "device", n->device, 4);
    braid__xml_attr_hex(o, "subsystem_vendor", n->subsys_vendor, 4);
    braid__xml_attr_hex(o, "subsystem_device", n->subsys_device, 4);
    if (n->link_speed > 0.0f)
        braid__xml_printf(o, " link_speed=\"%.1f GT/s PCIe\"", (double)n->link_speed);
    braid__xml_attr_int(o, "link_width", n->link_width, 0);
}

static void write_nvlinks(struct braid_xml_out *o, const struct braid_topo *topo, int g, int d)
{
    const struct braid_topo_node *n = &topo->nodes[g];
    for (int l = 0; l < n->nlinks; l++) {
        const struct braid_topo_link *k = &n->links[l];
        const struct braid_topo_node *r = &topo->nodes[k->remote];
        if (k->type == BRAID_LINK_C2C) {
            indent(o, d);
            braid__xml_printf(o, "<c2c count=\"%d\" bw=\"%g\"/>\n", k->count,
                              (double)(k->bw / (float)(k->count ? k->count : 1)));
            continue;
        }
        if (k->type != BRAID_LINK_NVL)
            continue;
        indent(o, d);
        braid__xml_printf(o, "<nvlink");
        if (r->type == BRAID_TOPO_GPU) {
            braid__xml_attr_str(o, "target", r->busid);
            braid__xml_attr_hex(o, "tclass", r->pci_class >= 0 ? r->pci_class : 0x030200, 6);
        } else if (r->type == BRAID_TOPO_NVS) {
            braid__xml_attr_str(o, "target", r->busid ? r->busid : "ffff:ff:00.0");
            braid__xml_attr_hex(o, "tclass", BRAID_PCI_CLASS_NVSWITCH, 6);
        } else {
            braid__xml_attr_str(o, "target", "0000:00:00.0");
            braid__xml_attr_hex(o, "tclass", BRAID_PCI_CLASS_NVLCPU, 6);
        }
        braid__xml_attr_int(o, "count", k->count, -1);
        braid__xml_attr_int(o, "gen", k->gen, 0);
        braid__xml_printf(o, "/>\n");
    }
}

static void write_gpu(struct braid_xml_out *o, const struct braid_topo *topo, int g, int d)
{
    const struct braid_topo_node *n = &topo->nodes[g];
    int has_links = 0;
    for (int l = 0; l < n->nlinks; l++)
        has_links |= n->links[l].type == BRAID_LINK_NVL || n->links[l].type == BRAID_LINK_C2C;
    int known = n->dev >= 0 || n->sm >= 0 || n->rank >= 0 || n->gdr >= 0 || n->mem_mb > 0 ||
                n->clique || n->p2p || has_links;
    if (!known) /* a partial entry: the <pci> element alone says "a GPU is here" */
        return;
    indent(o, d);
    braid__xml_printf(o, "<gpu");
    braid__xml_attr_int(o, "dev", n->dev, -1);
    braid__xml_attr_int(o, "sm", n->sm, -1);
    braid__xml_attr_int(o, "rank", n->rank, -1);
    braid__xml_attr_int(o, "gdr", n->gdr, -1);
    braid__xml_attr_int(o, "mem", n->mem_mb, 0);
    braid__xml_attr_str(o, "clique", n->clique);
    braid__xml_attr_str(o, "p2p", n->p2p);
    if (!has_links) {
        braid__xml_printf(o, "/>\n");
        return;
    }
    braid__xml_printf(o, ">\n");
    write_nvlinks(o, topo, g, d + 1);
    indent(o, d);
    braid__xml_printf(o, "</gpu>\n");
}

static const char *const layer_names[] = {NULL, "IB", "RoCE", "ETH"};

static void write_net(struct braid_xml_out *o, const struct braid_topo_node *n, int d)
{
    indent(o, d);
    braid__xml_printf(o, "<net");
    braid__xml_attr_str(o, "name", n->name);
    braid__xml_attr_int(o, "dev", n->nic_dev, -1);
    braid__xml_attr_int(o, "speed", n->speed, 0);
    braid__xml_attr_int(o, "port", n->port, -1);
    if (n->latency > 0.0f)
        braid__xml_printf(o, " latency=\"%g\"", (double)n->latency);
    if (n->guid)
        braid__xml_printf(o, " guid=\"0x%llx\"", (unsigned long long)n->guid);
    braid__xml_attr_int(o, "maxconn", n->maxconn, -1);
    braid__xml_attr_int(o, "gdr", n->gdr, -1);
    braid__xml_attr_int(o, "coll", n->coll, -1);
    if (n->link_layer > 0 && n->link_layer < 4)
        braid__xml_attr_str(o, "link_layer", layer_names[n->link_layer]);
    braid__xml_attr_int(o, "rail", n->rail, -1);
    braid__xml_attr_str(o, "gid", n->gid);
    braid__xml_printf(o, "/>\n");
}

/* Writes the NICs kids[*k...] that share one adapter (bus id) as one <nic>; advances *k. */
static void write_nic_group(struct braid_xml_out *o, const struct braid_topo *topo, const int *kids,
                            int nkids, int *k, int d)
{
    const struct braid_topo_node *first = &topo->nodes[kids[*k]];
    int end = *k + 1;
    while (end < nkids && topo->nodes[kids[end]].type == BRAID_TOPO_NIC && first->busid &&
           topo->nodes[kids[end]].busid && strcmp(topo->nodes[kids[end]].busid, first->busid) == 0)
        end++;
    int in_pci = first->busid != NULL;
    if (in_pci) {
        indent(o, d);
        braid__xml_printf(o, "<pci");
        pci_attrs(o, first);
        braid__xml_printf(o, ">\n");
    }
    int named = 0;
    for (int i = *k; i < end; i++)
        named |= topo->nodes[kids[i]].name != NULL || topo->nodes[kids[i]].speed > 0;
    if (named || !in_pci || first->pci_class < 0) {
        indent(o, d + in_pci);
        braid__xml_printf(o, "<nic>\n");
        for (int i = *k; i < end; i++)
            write_net(o, &topo->nodes[kids[i]], d + in_pci + 1);
        indent(o, d + in_pci);
        braid__xml_printf(o, "</nic>\n");
    }
    if (in_pci) {
        indent(o, d);
        braid__xml_printf(o, "</pci>\n");
    }
    *k = end;
}

static void write_children(struct braid_xml_out *o, const struct braid_topo *topo,
                           const struct tree *t, int node, int d);

static void write_child(struct braid_xml_out *o, const struct braid_topo *topo,
                        const struct tree *t, int c, int d)
{
    const struct braid_topo_node *n = &topo->nodes[c];
    if (n->type == BRAID_TOPO_GPU && !n->busid) {
        write_gpu(o, topo, c, d);
        return;
    }
    indent(o, d);
    braid__xml_printf(o, "<pci");
    pci_attrs(o, n);
    braid__xml_printf(o, ">\n");
    if (n->type == BRAID_TOPO_GPU)
        write_gpu(o, topo, c, d + 1);
    else
        write_children(o, topo, t, c, d + 1);
    indent(o, d);
    braid__xml_printf(o, "</pci>\n");
}

static void write_children(struct braid_xml_out *o, const struct braid_topo *topo,
                           const struct tree *t, int node, int d)
{
    const int *kids = t->kids + t->first[node];
    int nkids = t->first[node + 1] - t->first[node];
    for (int k = 0; k < nkids;) {
        int c = kids[k];
        if (topo->nodes[c].type == BRAID_TOPO_NIC) {
            write_nic_group(o, topo, kids, nkids, &k, d);
            continue;
        }
        write_child(o, topo, t, c, d);
        k++;
    }
}

static void write_cpu(struct braid_xml_out *o, const struct braid_topo *topo, const struct tree *t,
                      int c)
{
    const struct braid_topo_node *n = &topo->nodes[c];
    braid__xml_printf(o, "  <cpu");
    if (topo->nhosts > 1)
        braid__xml_attr_int(o, "host", n->host, -1);
    braid__xml_attr_int(o, "numaid", n->numa, -1);
    braid__xml_attr_str(o, "affinity", n->affinity);
    braid__xml_attr_str(o, "arch", n->arch);
    braid__xml_attr_str(o, "vendor", n->cpu_vendor);
    braid__xml_attr_int(o, "familyid", n->family, -1);
    braid__xml_attr_int(o, "modelid", n->model, -1);
    braid__xml_printf(o, ">\n");
    write_children(o, topo, t, c, 2);
    braid__xml_printf(o, "  </cpu>\n");
}

static void write_extensions(struct braid_xml_out *o, const struct braid_topo *topo)
{
    for (int h = 0; h < topo->nhosts; h++) {
        if (!topo->hosts[h].name && topo->hosts[h].rack < 0)
            continue;
        braid__xml_printf(o, "  <host id=\"%d\"", h);
        braid__xml_attr_str(o, "name", topo->hosts[h].name);
        braid__xml_attr_int(o, "rack", topo->hosts[h].rack, -1);
        braid__xml_printf(o, "/>\n");
    }
    for (int i = 0; i < topo->nnodes; i++) {
        const struct braid_topo_node *n = &topo->nodes[i];
        if (n->type == BRAID_TOPO_NET && (topo->net_name || n->tiers || n->rails_total)) {
            braid__xml_printf(o, "  <network");
            braid__xml_attr_str(o, "name", topo->net_name);
            braid__xml_attr_int(o, "tiers", n->tiers, 0);
            braid__xml_attr_int(o, "rails", n->rails_total, 0);
            braid__xml_printf(o, "/>\n");
        } else if (n->type == BRAID_TOPO_NVS) {
            braid__xml_printf(o, "  <nvswitch");
            braid__xml_attr_str(o, "busid", n->busid ? n->busid : "ffff:ff:00.0");
            braid__xml_attr_str(o, "domain", n->domain);
            if (!n->domain)
                braid__xml_attr_int(o, "host", n->host, -1);
            braid__xml_attr_int(o, "chips", n->chips, 0);
            braid__xml_attr_int(o, "trays", n->trays, 0);
            braid__xml_attr_int(o, "gen", n->nvl_gen, 0);
            braid__xml_printf(o, "/>\n");
        }
    }
}

braid_result_t braid__topo_dump_buffer(const struct braid_topo *topo, char **out, size_t *len)
{
    struct tree t = {0};
    struct braid_xml_out o = {0};
    braid_result_t res = tree_build(topo, &t);
    if (res >= 0) {
        braid__xml_printf(&o, "<system version=\"1\">\n");
        write_extensions(&o, topo);
        for (int i = 0; i < topo->nnodes; i++)
            if (topo->nodes[i].type == BRAID_TOPO_CPU)
                write_cpu(&o, topo, &t, i);
        braid__xml_printf(&o, "</system>\n");
        res = braid__xml_out_finish(&o, out, len);
    }
    free(t.first);
    free(t.kids);
    return res;
}

braid_result_t braid__topo_dump_file(const struct braid_topo *topo, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    BRAID_CHECK(braid__topo_dump_buffer(topo, &text, &len));
    FILE *f = fopen(path, "w");
    if (!f) {
        free(text);
        return braid__err(BRAID_ERR_SYSTEM,
                          "topology dump %s: cannot create it: %s; check BRAID_TOPO_DUMP_FILE "
                          "and that the directory is writable",
                          path, strerror(errno));
    }
    size_t n = fwrite(text, 1, len, f);
    int closed = fclose(f);
    free(text);
    if (n != len || closed != 0)
        return braid__err(BRAID_ERR_SYSTEM, "topology dump %s: write failed: %s (disk full?)", path,
                          strerror(errno));
    return BRAID_SUCCESS;
}
