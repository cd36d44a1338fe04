/*
 * Exchange between hosts: each rank's host topology travels through the bootstrap as topology
 * XML (one format, one validated reader, fuzzed), and the receivers merge the hosts into one
 * system graph. Merging renumbers hosts, keeps one network node for all NICs, and makes the
 * NVSwitch fabrics of one multi-node NVLink domain (an NVL72 rack) a single node, so that GPUs
 * of different trays of a rack see each other over NVLink.
 */
#include "topology/topo.h"

#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"

braid_result_t braid__topo_serialize(const struct braid_topo *topo, void **buf, size_t *len)
{
    char *text = NULL;
    BRAID_CHECK(braid__topo_dump_buffer(topo, &text, len));
    if (*len > BRAID_TOPO_SERIAL_MAX) {
        free(text);
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology: this host's topology is %zu bytes, over the %u MiB "
                          "exchange limit; check BRAID_TOPO_FILE describes one host",
                          *len, BRAID_TOPO_SERIAL_MAX >> 20);
    }
    *buf = text;
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_deserialize(const void *buf, size_t len, struct braid_topo **out)
{
    *out = NULL;
    if (!buf || len == 0 || len > BRAID_TOPO_SERIAL_MAX)
        return braid__err(BRAID_ERR_REMOTE,
                          "topology: a peer sent a topology of %zu bytes (limit %u MiB); the "
                          "peer runs a different braid or the bootstrap data is corrupt",
                          len, BRAID_TOPO_SERIAL_MAX >> 20);
    braid_result_t res = braid__topo_load_buffer(buf, len, "(topology received from a peer)", out);
    if (res < 0)
        return braid__err(BRAID_ERR_REMOTE, "%s", braid__err_text());
    return BRAID_SUCCESS;
}

struct merger {
    struct braid_topo *out;
    int net;  /* the shared network node, -1 until a NIC needs it */
    int *map; /* input node index -> output node index */
    size_t map_cap;
};

static int find_domain(const struct braid_topo *topo, const char *domain)
{
    for (int i = 0; i < topo->nnodes; i++)
        if (topo->nodes[i].type == BRAID_TOPO_NVS && topo->nodes[i].domain &&
            strcmp(topo->nodes[i].domain, domain) == 0)
            return i;
    return -1;
}

/* Maps one input node to the output: shared nodes (network, NVLink domain) are reused. */
static braid_result_t map_node(struct merger *m, const struct braid_topo *in, int i, int base,
                               int *index)
{
    const struct braid_topo_node *n = &in->nodes[i];
    struct braid_topo *out = m->out;
    if (n->type == BRAID_TOPO_NET && m->net >= 0) {
        *index = m->net;
        struct braid_topo_node *net = &out->nodes[m->net];
        net->tiers = net->tiers ? net->tiers : n->tiers;
        net->rails_total = net->rails_total ? net->rails_total : n->rails_total;
        return BRAID_SUCCESS;
    }
    if (n->type == BRAID_TOPO_NVS && n->domain) {
        *index = find_domain(out, n->domain);
        if (*index >= 0)
            return BRAID_SUCCESS;
    }
    int shared = n->host < 0;
    BRAID_CHECK(braid__topo_copy_node(out, n, shared ? -1 : n->host + base, index));
    if (n->type == BRAID_TOPO_NET)
        m->net = *index;
    return BRAID_SUCCESS;
}

static braid_result_t merge_one(struct merger *m, const struct braid_topo *in, int base)
{
    struct braid_topo *out = m->out;
    if ((size_t)in->nnodes > m->map_cap) {
        int *p = realloc(m->map, (size_t)in->nnodes * sizeof(int));
        if (!p)
            return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory merging hosts");
        m->map = p;
        m->map_cap = (size_t)in->nnodes;
    }
    for (int h = 0; h < in->nhosts; h++) {
        BRAID_CHECK(braid__topo_host_ensure(out, base + h));
        BRAID_CHECK(braid__topo_strset(&out->hosts[base + h].name, in->hosts[h].name));
        out->hosts[base + h].rack = in->hosts[h].rack;
    }
    if (in->nhosts == 0) /* a graph with no node yet still occupies its host slot */
        BRAID_CHECK(braid__topo_host_ensure(out, base));
    if (!out->net_name && in->net_name)
        BRAID_CHECK(braid__topo_strset(&out->net_name, in->net_name));
    for (int i = 0; i < in->nnodes; i++)
        BRAID_CHECK(map_node(m, in, i, base, &m->map[i]));
    for (int i = 0; i < in->nnodes; i++) {
        const struct braid_topo_node *n = &in->nodes[i];
        if (n->parent >= 0)
            out->nodes[m->map[i]].parent = m->map[n->parent];
        for (int l = 0; l < n->nlinks; l++) {
            const struct braid_topo_link *k = &n->links[l];
            BRAID_CHECK(braid__topo_connect(out, m->map[i], m->map[k->remote], k->type, k->count,
                                            k->gen, k->bw));
        }
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_merge(struct braid_topo *const *hosts, int nhosts,
                                 struct braid_topo **out)
{
    BRAID_ARG_CHECK(hosts && nhosts > 0 && out, "topology: merge needs at least one host");
    struct merger m = {.net = -1};
    *out = NULL;
    BRAID_CHECK(braid__topo_create(&m.out));
    braid_result_t res = BRAID_SUCCESS;
    int base = 0;
    for (int h = 0; h < nhosts && res >= 0; h++) {
        if (!hosts[h]) {
            res =
                braid__err(BRAID_ERR_INVALID_ARGUMENT, "topology: host %d of the merge is NULL", h);
            break;
        }
        res = merge_one(&m, hosts[h], base);
        base = m.out->nhosts;
    }
    if (res >= 0)
        res = braid__topo_finish(m.out);
    free(m.map);
    if (res < 0) {
        braid__topo_free(m.out);
        return res;
    }
    char summary[256];
    braid__topo_summary(m.out, summary, sizeof(summary));
    BRAID_INFO(TOPO, "merged %d host topologies: %s", nhosts, summary);
    *out = m.out;
    return BRAID_SUCCESS;
}
