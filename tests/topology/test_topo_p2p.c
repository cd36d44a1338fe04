/*
 * Peer access reported by the driver (cuDeviceCanAccessPeer, the <gpu p2p="..."> attribute):
 * a refusal overrides a path that BRAID_P2P_LEVEL would allow, and the attribute survives the
 * trip through the bootstrap (serialize, deserialize, merge).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topo.h"
#include "check_run.h"

/* Two GPUs under one PCIe switch (a PIX path): the driver lets GPU 1 reach GPU 0, not back. */
static const char *pair =
    "<system version=\"1\">\n"
    "<cpu numaid=\"0\"><pci busid=\"0000:10:00.0\" class=\"0x060400\">\n"
    "<pci busid=\"0000:11:00.0\" class=\"0x030200\"><gpu dev=\"0\" sm=\"90\" p2p=\"-\"/></pci>\n"
    "<pci busid=\"0000:12:00.0\" class=\"0x030200\"><gpu dev=\"1\" sm=\"90\" p2p=\"0\"/></pci>\n"
    "<pci busid=\"0000:13:00.0\" class=\"0x030200\"><gpu dev=\"2\" sm=\"90\"/></pci>\n"
    "</pci></cpu></system>\n";

static struct braid_topo *load_pair(void)
{
    struct braid_topo *t = NULL;
    ck_assert_int_eq(braid__topo_load_buffer(pair, strlen(pair), "pair", &t), 0);
    return t;
}

START_TEST(driver_refusal_wins)
{
    unsetenv("BRAID_P2P_LEVEL");
    struct braid_topo *t = load_pair();
    ck_assert(!braid__topo_p2p_direct(t, 0, 1)); /* PIX, but the driver said no */
    ck_assert(braid__topo_p2p_direct(t, 1, 0));  /* listed */
    ck_assert(!braid__topo_p2p_direct(t, 1, 2)); /* not listed */
    ck_assert(braid__topo_p2p_direct(t, 2, 0));  /* no driver answer: the path decides */
    braid__topo_free(t);
}
END_TEST

START_TEST(survives_exchange)
{
    struct braid_topo *t = load_pair(), *u = NULL, *merged = NULL;
    void *buf;
    size_t len;
    ck_assert_int_eq(braid__topo_serialize(t, &buf, &len), 0);
    ck_assert_int_eq(braid__topo_deserialize(buf, len, &u), 0);
    struct braid_topo *hosts[2] = {u, t};
    ck_assert_int_eq(braid__topo_merge(hosts, 2, &merged), 0);
    ck_assert_int_eq(braid__topo_ngpus(merged), 6);
    ck_assert(!braid__topo_p2p_direct(merged, 0, 1));
    ck_assert(braid__topo_p2p_direct(merged, 1, 0));
    ck_assert(!braid__topo_p2p_direct(merged, 3, 4)); /* the second host's GPU 0 -> GPU 1 */
    free(buf);
    braid__topo_free(merged);
    braid__topo_free(u);
    braid__topo_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topo_p2p");
    TCase *tc = tcase_create("p2p");
    tcase_add_test(tc, driver_refusal_wins);
    tcase_add_test(tc, survives_exchange);
    suite_add_tcase(s, tc);
    return harness_run_suite(s);
}
