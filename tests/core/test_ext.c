/*
 * braid_ext.h, through the public API only: a reference topology's counts, paths and NIC
 * affinity; a bad file's message; building, printing and verifying plans; the public enums
 * against the names braid-topo prints; and NULL arguments named in the error.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "braid_ext.h"
#include "check_run.h"

/* The reference topologies: $BRAID_TEST_TOPO_DIR, else ../../topologies from this file. */
static void topo_path(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("BRAID_TEST_TOPO_DIR");
    if (dir) {
        snprintf(buf, len, "%s/%s", dir, name);
        return;
    }
    snprintf(buf, len, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    size_t at = slash ? (size_t)(slash - buf) + 1 : 0;
    snprintf(buf + at, len - at, "../../topologies/%s", name);
}

static braid_topo_t load(const char *name)
{
    char path[PATH_MAX];
    braid_topo_t topo = NULL;
    topo_path(name, path, sizeof(path));
    braid_result_t res = braid_topo_load_file(&topo, path);
    ck_assert_msg(res == BRAID_SUCCESS, "loading %s: %s", path, braid_last_error(NULL));
    ck_assert_ptr_nonnull(topo);
    return topo;
}

START_TEST(dgx_h100_counts)
{
    braid_topo_t t = load("dgx-h100.xml");
    braid_topo_counts_t c;
    ck_assert_int_eq(braid_topo_counts(t, &c), BRAID_SUCCESS);
    ck_assert_int_eq(c.hosts, 1);
    ck_assert_int_eq(c.gpus, 8);
    ck_assert_int_eq(c.cpus, 2);
    ck_assert_int_eq(c.pci_switches, 8);
    ck_assert_int_eq(c.nics, 8);
    ck_assert_int_eq(c.nvswitches, 1);
    ck_assert_int_eq(c.networks, 1);
    ck_assert_int_eq(c.nodes, 8 + 2 + 8 + 8 + 1 + 1);
    char summary[BRAID_TOPO_SUMMARY_MAX];
    ck_assert_int_eq(braid_topo_summary(t, summary, sizeof(summary)), BRAID_SUCCESS);
    ck_assert_str_eq(summary, "1 host, 8 GPU, 2 CPU, 8 PCI switch, 8 NIC, 1 NVSwitch, 1 NET");
    ck_assert_int_eq(braid_topo_free(t), BRAID_SUCCESS);
    /* A rack: 18 hosts of 4 GPUs and 2 Grace CPUs, a NIC per GPU, no PCIe switch. */
    t = load("gb200-nvl72.xml");
    ck_assert_int_eq(braid_topo_counts(t, &c), BRAID_SUCCESS);
    ck_assert_int_eq(c.hosts, 18);
    ck_assert_int_eq(c.gpus, 72);
    ck_assert_int_eq(c.cpus, 36);
    ck_assert_int_eq(c.pci_switches, 0);
    ck_assert_int_eq(c.nics, 72);
    ck_assert_int_eq(c.nvswitches, 1);
    braid_path_t p;
    ck_assert_int_eq(braid_topo_gpu_path(t, 0, 71, &p), BRAID_SUCCESS);
    ck_assert_int_eq(p.type, BRAID_PATH_TYPE_NVL);
    braid_topo_free(t);
}
END_TEST

START_TEST(dgx_h100_paths)
{
    braid_topo_t t = load("dgx-h100.xml");
    braid_path_t p = {.type = BRAID_PATH_TYPE_DIS};
    ck_assert_int_eq(braid_topo_gpu_path(t, 0, 7, &p), BRAID_SUCCESS);
    ck_assert_int_eq(p.type, BRAID_PATH_TYPE_NVL);
    ck_assert_float_eq_tol(p.bw, 450.0f, 0.5f);
    ck_assert_int_gt(p.hops, 0);
    ck_assert_int_eq(braid_topo_gpu_path(t, 3, 3, &p), BRAID_SUCCESS);
    ck_assert_int_eq(p.type, BRAID_PATH_TYPE_LOC);
    int direct = -1;
    ck_assert_int_eq(braid_topo_p2p_direct(t, 1, 6, &direct), BRAID_SUCCESS);
    ck_assert_int_eq(direct, 1);
    /* Each GPU shares a PCIe switch with its own NIC: GPU g -> NIC g, PIX, rail g. */
    for (int g = 0; g < 8; g++) {
        int nic = -1, rail = -1;
        ck_assert_int_eq(braid_topo_gpu_nic(t, g, &nic), BRAID_SUCCESS);
        ck_assert_int_eq(nic, g);
        ck_assert_int_eq(braid_topo_gpu_nic_path(t, g, nic, &p), BRAID_SUCCESS);
        ck_assert_int_eq(p.type, BRAID_PATH_TYPE_PIX);
        ck_assert_int_eq(braid_topo_gpu_rail(t, g, &rail), BRAID_SUCCESS);
        ck_assert_int_eq(rail, g);
    }
    braid_topo_free(t);
}
END_TEST

START_TEST(dgx_h100_nodes_and_links)
{
    braid_topo_t t = load("dgx-h100.xml");
    int node = -1;
    braid_topo_node_info_t n;
    ck_assert_int_eq(braid_topo_node_find(t, BRAID_TOPO_NODE_GPU, 0, &node), BRAID_SUCCESS);
    ck_assert_int_eq(braid_topo_node_get(t, node, &n), BRAID_SUCCESS);
    ck_assert_int_eq(n.type, BRAID_TOPO_NODE_GPU);
    ck_assert_int_eq(n.type_index, 0);
    ck_assert_str_eq(n.busid, "0000:14:00.0");
    ck_assert_int_eq(n.sm, 90);
    ck_assert_int_eq(n.pcie_width, 16);
    /* Its parent is a PCIe switch, and it has an 18-link NVLink 4 link to the NVSwitch. */
    braid_topo_node_info_t parent;
    ck_assert_int_eq(braid_topo_node_get(t, n.parent, &parent), BRAID_SUCCESS);
    ck_assert_int_eq(parent.type, BRAID_TOPO_NODE_PCI);
    int nvl = 0;
    for (int l = 0; l < n.nlinks; l++) {
        braid_topo_link_info_t k;
        braid_topo_node_info_t r;
        ck_assert_int_eq(braid_topo_link_get(t, node, l, &k), BRAID_SUCCESS);
        ck_assert_int_eq(braid_topo_node_get(t, k.remote, &r), BRAID_SUCCESS);
        if (k.type == BRAID_TOPO_LINK_NVL && r.type == BRAID_TOPO_NODE_NVS)
            nvl += k.count == 18 && k.gen == 4;
    }
    ck_assert_int_eq(nvl, 1);
    ck_assert_int_eq(braid_topo_node_find(t, BRAID_TOPO_NODE_NIC, 5, &node), BRAID_SUCCESS);
    ck_assert_int_eq(braid_topo_node_get(t, node, &n), BRAID_SUCCESS);
    ck_assert_str_eq(n.name, "mlx5_5");
    ck_assert_int_eq(n.link_layer, BRAID_NIC_LINK_IB);
    ck_assert_int_eq(n.speed_mbps, 400000);
    braid_topo_free(t);
}
END_TEST

START_TEST(dump_and_reload)
{
    braid_topo_t t = load("dgx-h100.xml"), u = NULL;
    char *xml = NULL;
    size_t len = 0;
    ck_assert_int_eq(braid_topo_dump_string(t, &xml, &len), BRAID_SUCCESS);
    ck_assert_ptr_nonnull(xml);
    ck_assert_uint_eq(len, strlen(xml));
    ck_assert_ptr_nonnull(strstr(xml, "<system"));
    ck_assert_int_eq(braid_topo_load_buffer(&u, xml, len, "dumped"), BRAID_SUCCESS);
    braid_topo_counts_t a, b;
    braid_topo_counts(t, &a);
    braid_topo_counts(u, &b);
    ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
    free(xml);
    braid_topo_free(u);
    braid_topo_free(t);
}
END_TEST

START_TEST(bad_file_names_file_and_line)
{
    char path[] = "/tmp/braid-test-ext-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text =
        "<system version=\"1\">\n  <cpu numaid=\"0\">\n    <pci busid=\"0000:01:00.0\">\n"
        "      <gpu dev=\"x\"/>\n    </pci>\n  </cpu>\n</system>\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    braid_topo_t good = load("dgx-h100.xml"), t = good; /* a failed load sets t to NULL */
    braid_result_t res = braid_topo_load_file(&t, path);
    unlink(path);
    braid_topo_free(good);
    ck_assert_int_eq(res, BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(t);
    const char *msg = braid_last_error(NULL);
    ck_assert_msg(strstr(msg, path) != NULL, "no file name in \"%s\"", msg);
    ck_assert_msg(strstr(msg, "line 4") != NULL, "no line in \"%s\"", msg);
    /* A buffer is named as the caller says. */
    ck_assert_int_eq(braid_topo_load_buffer(&t, text, strlen(text), "inline.xml"),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(braid_last_error(NULL), "inline.xml, line 4"));
    ck_assert_int_ne(braid_topo_load_file(&t, "/nonexistent/braid.xml"), BRAID_SUCCESS);
    ck_assert_ptr_nonnull(strstr(braid_last_error(NULL), "/nonexistent/braid.xml"));
    /* Cleanup before reading the error keeps it. */
    ck_assert_int_eq(braid_topo_free(t), BRAID_SUCCESS);
    ck_assert_int_eq(braid_plan_free(NULL), BRAID_SUCCESS);
    ck_assert_ptr_nonnull(strstr(braid_last_error(NULL), "/nonexistent/braid.xml"));
}
END_TEST

START_TEST(ring_all_reduce_plan)
{
    int ring = -1;
    ck_assert_int_eq(braid_algo_find("ring", &ring), BRAID_SUCCESS);
    braid_plan_t plan = NULL;
    ck_assert_int_eq(braid_plan_build(&plan, BRAID_ALL_REDUCE, ring, 8, 3, 0, 2), BRAID_SUCCESS);
    braid_plan_info_t info;
    ck_assert_int_eq(braid_plan_get_info(plan, &info), BRAID_SUCCESS);
    ck_assert_int_eq(info.coll, BRAID_ALL_REDUCE);
    ck_assert_int_eq(info.algo, ring);
    ck_assert_int_eq(info.nranks, 8);
    ck_assert_int_eq(info.rank, 3);
    ck_assert_int_eq(info.nchannels, 2);
    ck_assert_int_eq(info.inplace_safe, 1);
    /* A ring all_reduce over n ranks: n-1 reduce-scatter and n-1 all-gather steps, + 1 send. */
    int nsteps = 0;
    ck_assert_int_eq(braid_plan_steps(plan, 1, &nsteps), BRAID_SUCCESS);
    ck_assert_int_eq(nsteps, 2 * 8 - 1);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(braid_plan_print(plan, f), BRAID_SUCCESS);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "plan all_reduce/ring rank 3 of 8: 2 channels"));
    ck_assert_ptr_nonnull(strstr(text, "recv-reduce-copy-send"));
    free(text);
    ck_assert_int_eq(braid_plan_free(plan), BRAID_SUCCESS);
    ck_assert_int_eq(braid_plan_verify(BRAID_ALL_REDUCE, ring, 8, 0, 2, 0), BRAID_SUCCESS);
    ck_assert_int_eq(braid_plan_verify(BRAID_ALL_REDUCE, ring, 8, 0, 2, 1), BRAID_SUCCESS);
}
END_TEST

/* Every algorithm x collective it supports verifies at 5 ranks, in place too where safe; the
 * others are refused as not supported, both when building and verifying. */
START_TEST(verify_everything_at_5)
{
    int verified = 0;
    ck_assert_int_ge(braid_algo_count(), 4);
    for (int a = 0; a < braid_algo_count(); a++) {
        braid_algo_info_t ai;
        ck_assert_int_eq(braid_algo_get(a, &ai), BRAID_SUCCESS);
        for (int c = 0; c < BRAID_NUM_COLLECTIVES; c++) {
            int yes = -1;
            braid_plan_t plan = NULL;
            ck_assert_int_eq(braid_algo_supports(a, (braid_coll_t)c, &yes), BRAID_SUCCESS);
            braid_result_t built = braid_plan_build(&plan, (braid_coll_t)c, a, 5, 0, 2, 2);
            if (!yes) {
                ck_assert_int_eq(built, BRAID_ERR_NOT_SUPPORTED);
                ck_assert_int_eq(braid_plan_verify((braid_coll_t)c, a, 5, 2, 2, 0),
                                 BRAID_ERR_NOT_SUPPORTED);
                continue;
            }
            ck_assert_int_eq(built, BRAID_SUCCESS);
            braid_plan_info_t info;
            braid_plan_get_info(plan, &info);
            braid_plan_free(plan);
            for (int inplace = 0; inplace <= (c < BRAID_SEND && info.inplace_safe); inplace++) {
                braid_result_t res = braid_plan_verify((braid_coll_t)c, a, 5, 2, 2, inplace);
                ck_assert_msg(res == BRAID_SUCCESS, "%s %s%s: %s", ai.name,
                              braid_coll_name((braid_coll_t)c), inplace ? " in place" : "",
                              braid_last_error(NULL));
                verified++;
            }
        }
    }
    ck_assert_int_ge(verified, 20);
}
END_TEST

START_TEST(verify_failures_carry_the_message)
{
    int tree = -1;
    ck_assert_int_eq(braid_algo_find("TREE", &tree), BRAID_SUCCESS);
    /* Tree all_gather does not exist: the skip case, with the builder's reason. */
    ck_assert_int_eq(braid_plan_verify(BRAID_ALL_GATHER, tree, 4, 0, 1, 0),
                     BRAID_ERR_NOT_SUPPORTED);
    ck_assert_ptr_nonnull(strstr(braid_last_error(NULL), "does not build all_gather"));
    /* Ring all_to_all is too large to verify past about 300 ranks (the skip case). */
    int ring = -1;
    braid_algo_find("ring", &ring);
    ck_assert_int_eq(braid_plan_verify(BRAID_ALL_TO_ALL, ring, 2000, 0, 1, 0),
                     BRAID_ERR_NOT_SUPPORTED);
    /* Word for word the verifier's message: no trail of where it was passed on. */
    const char *msg = braid_last_error(NULL);
    ck_assert_msg(strncmp(msg, "plan verify: ring all_to_all over 2000 ranks", 44) == 0, "%s", msg);
    const char *tail = "too large to verify in bounded memory, try fewer ranks or channels";
    ck_assert_msg(strlen(msg) > strlen(tail) && strcmp(msg + strlen(msg) - strlen(tail), tail) == 0,
                  "%s", msg);
    /* A plan that is not in-place safe cannot be verified in place. */
    int oneshot = -1;
    ck_assert_int_eq(braid_algo_find("oneshot", &oneshot), BRAID_SUCCESS);
    ck_assert_int_eq(braid_plan_verify(BRAID_ALL_REDUCE, oneshot, 3, 0, 1, 1),
                     BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(braid_last_error(NULL), "not in-place safe"));
    /* Success leaves no error behind. */
    ck_assert_int_eq(braid_plan_verify(BRAID_ALL_REDUCE, oneshot, 3, 0, 1, 0), BRAID_SUCCESS);
    ck_assert_str_eq(braid_last_error(NULL), "");
}
END_TEST

START_TEST(names_and_lookups)
{
    /* braid-topo prints these names; the enum values index them. */
    static const char *const nodes[] = {"GPU", "CPU", "PCI", "NIC", "NVS", "NET"};
    static const char *const links[] = {"NVL", "C2C", "PCI", "SYS", "NET"};
    static const char *const paths[] = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB",
                                        "P2C", "PXN", "PHB", "SYS", "NET", "DIS"};
    ck_assert_int_eq(BRAID_TOPO_NUM_NODE_TYPES, 6);
    ck_assert_int_eq(BRAID_TOPO_NUM_LINK_TYPES, 5);
    ck_assert_int_eq(BRAID_NUM_PATH_TYPES, 12);
    for (int i = 0; i < BRAID_TOPO_NUM_NODE_TYPES; i++)
        ck_assert_str_eq(braid_topo_node_type_name((braid_topo_node_type_t)i), nodes[i]);
    for (int i = 0; i < BRAID_TOPO_NUM_LINK_TYPES; i++)
        ck_assert_str_eq(braid_topo_link_type_name((braid_topo_link_type_t)i), links[i]);
    for (int i = 0; i < BRAID_NUM_PATH_TYPES; i++)
        ck_assert_str_eq(braid_path_type_name((braid_path_type_t)i), paths[i]);
    ck_assert_str_eq(braid_topo_node_type_name(BRAID_TOPO_NODE_NVS), "NVS");
    ck_assert_str_eq(braid_path_type_name(BRAID_PATH_TYPE_PXN), "PXN");
    ck_assert_str_eq(braid_path_type_name(BRAID_NUM_PATH_TYPES), "invalid");
    /* Collectives: names round-trip through braid_coll_find. */
    for (int c = 0; c < BRAID_NUM_COLLECTIVES; c++) {
        braid_coll_t found = BRAID_NUM_COLLECTIVES;
        ck_assert_int_eq(braid_coll_find(braid_coll_name((braid_coll_t)c), &found), BRAID_SUCCESS);
        ck_assert_int_eq(found, c);
    }
    braid_coll_t coll = BRAID_NUM_COLLECTIVES;
    ck_assert_int_eq(braid_coll_find("allreduce", &coll), BRAID_SUCCESS);
    ck_assert_int_eq(coll, BRAID_ALL_REDUCE);
    ck_assert_str_eq(braid_coll_name(BRAID_REDUCE_SCATTER), "reduce_scatter");
    ck_assert_int_eq(braid_coll_find("allsum", &coll), BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(braid_last_error(NULL), "'allsum'"));
    int algo = 99;
    ck_assert_int_eq(braid_algo_find("spiral", &algo), BRAID_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(braid_last_error(NULL), "ring, tree"));
    ck_assert_int_eq(algo, 99);
}
END_TEST

/* A NULL (or out-of-range) argument fails with BRAID_ERR_INVALID_ARGUMENT and a message
 * naming it. */
#define NULL_ARG(call, name)                                                                       \
    do {                                                                                           \
        ck_assert_int_eq((call), BRAID_ERR_INVALID_ARGUMENT);                                      \
        ck_assert_msg(strstr(braid_last_error(NULL), name) != NULL,                                \
                      #call ": \"%s\" does not name " name, braid_last_error(NULL));               \
    } while (0)

START_TEST(null_arguments)
{
    braid_topo_t t = load("dgx-h100.xml"), out;
    braid_topo_counts_t counts;
    braid_topo_node_info_t node;
    braid_path_t path;
    braid_plan_t plan;
    int value;
    NULL_ARG(braid_topo_load_file(NULL, "x.xml"), "topo is NULL");
    NULL_ARG(braid_topo_load_file(&out, NULL), "path is NULL");
    NULL_ARG(braid_topo_load_buffer(&out, NULL, 0, "x"), "text is NULL");
    NULL_ARG(braid_topo_probe(NULL), "topo is NULL");
    NULL_ARG(braid_topo_dump_file(t, NULL), "path is NULL");
    NULL_ARG(braid_topo_dump_string(t, NULL, NULL), "text is NULL");
    NULL_ARG(braid_topo_counts(NULL, &counts), "topo is NULL");
    NULL_ARG(braid_topo_counts(t, NULL), "counts is NULL");
    NULL_ARG(braid_topo_node_get(t, 0, NULL), "info is NULL");
    NULL_ARG(braid_topo_node_get(t, 28, &node), "node is 28");
    NULL_ARG(braid_topo_gpu_path(t, 0, 8, &path), "gpu_b is 8");
    NULL_ARG(braid_topo_gpu_path(t, 0, 1, NULL), "path is NULL");
    NULL_ARG(braid_topo_gpu_nic(t, 0, NULL), "nic is NULL");
    NULL_ARG(braid_topo_gpu_nic_path(t, 0, -1, &path), "nic is -1");
    NULL_ARG(braid_topo_p2p_direct(t, 0, 1, NULL), "direct is NULL");
    NULL_ARG(braid_plan_build(NULL, BRAID_ALL_REDUCE, 0, 4, 0, 0, 1), "plan is NULL");
    NULL_ARG(braid_plan_build(&plan, BRAID_ALL_REDUCE, 0, 4, 4, 0, 1), "rank 4");
    NULL_ARG(braid_plan_build(&plan, BRAID_ALL_REDUCE, -1, 4, 0, 0, 1), "algo is -1");
    NULL_ARG(braid_plan_print(NULL, stdout), "plan is NULL");
    ck_assert_int_eq(braid_plan_build(&plan, BRAID_BROADCAST, 0, 4, 0, 1, 1), BRAID_SUCCESS);
    NULL_ARG(braid_plan_print(plan, NULL), "file is NULL");
    NULL_ARG(braid_plan_steps(plan, 1, &value), "channel is 1");
    braid_plan_free(plan);
    NULL_ARG(braid_plan_steps(NULL, 0, &value), "plan is NULL");
    NULL_ARG(braid_coll_find(NULL, NULL), "name is NULL");
    NULL_ARG(braid_algo_find("ring", NULL), "algo is NULL");
    NULL_ARG(braid_algo_get(0, NULL), "info is NULL");
    ck_assert_int_eq(braid_topo_free(NULL), BRAID_SUCCESS);
    ck_assert_int_eq(braid_plan_free(NULL), BRAID_SUCCESS);
    braid_topo_free(t);
}
END_TEST

static Suite *ext_suite(void)
{
    Suite *s = suite_create("ext");
    TCase *tc = tcase_create("ext");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, dgx_h100_counts);
    tcase_add_test(tc, dgx_h100_paths);
    tcase_add_test(tc, dgx_h100_nodes_and_links);
    tcase_add_test(tc, dump_and_reload);
    tcase_add_test(tc, bad_file_names_file_and_line);
    tcase_add_test(tc, ring_all_reduce_plan);
    tcase_add_test(tc, verify_everything_at_5);
    tcase_add_test(tc, verify_failures_carry_the_message);
    tcase_add_test(tc, names_and_lookups);
    tcase_add_test(tc, null_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_run_suite(ext_suite());
}
