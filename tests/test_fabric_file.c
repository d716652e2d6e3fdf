/* test_fabric_file.c - topology.kind = file (topo/fabric_file.c,
 * fabric_graphml.c, fabric_htsim.c): a GraphML leaf-spine builds the ports
 * and routes of topology.kind = leaf_spine; an htsim .topo fat-tree the
 * spec and ports of topology.kind = fat_tree, its tiers' latencies and
 * switch latencies on the right ports; on an irregular GraphML mesh every
 * route is a shortest path, a lone flow finishes exactly at its route's
 * store-and-forward time (on the one route, and on whichever of three
 * unequal equal-hop routes ECMP picks, and on a 6-switch-link chain, the
 * longest route a file may have), every switch forwards the bytes it
 * receives under every path mode, and nothing finishes below the ideal
 * bound. The shipped files are read from data/fabrics/ (make test runs in
 * the repository). */
#include "testutil.h"

#include "sim/eng.h"
#include "topo/fabric_file.h"
#include "topo/topo.h"

#define LS_GML  "data/fabrics/leaf_spine_4x4.graphml"
#define FT_TOPO "data/fabrics/fat_tree_16.topo"
#define MESH    "data/fabrics/ring_mesh.graphml"

#include "fabric_run.h"

/* The GraphML leaf-spine equals topology.kind = leaf_spine at its
 * defaults: the same spec after resolve, ports, names and routes. */
static void test_graphml_leaf_spine(void **state)
{
    (void)state;
    struct cfg f, l;
    file_spec(&f, LS_GML);
    cfg_defaults(&l);
    assert_int_equal(f.topo.info.shape, TOPO_FILE);
    assert_int_equal(f.topo.leaves, l.topo.leaves);
    assert_int_equal(f.topo.hosts_per_leaf, l.topo.hosts_per_leaf);
    assert_int_equal(f.topo.spines, l.topo.spines);
    struct topo *a, *b;
    struct err e;
    assert_int_equal(topo_build(&f.topo, &a, &e), 0);
    assert_int_equal(topo_build(&l.topo, &b, &e), 0);
    assert_int_equal(a->nports, b->nports);
    assert_int_equal(a->npaths, b->npaths);
    for (uint32_t p = 0; p < a->nports; p++) {
        assert_int_equal(a->ports[p].kind, b->ports[p].kind);
        assert_int_equal(a->ports[p].src, b->ports[p].src);
        assert_int_equal(a->ports[p].dst, b->ports[p].dst);
        assert_int_equal(a->ports[p].bps, b->ports[p].bps);
        assert_int_equal(a->ports[p].lat_ps, b->ports[p].lat_ps);
    }
    for (uint32_t n = 0; n < a->hosts + a->nswitches; n++) {
        char x[TOPO_NAME_MAX], y[TOPO_NAME_MAX];
        topo_node_name(a, n, x, sizeof x);
        topo_node_name(b, n, y, sizeof y);
        assert_string_equal(x, y);
    }
    for (uint32_t s = 0; s < a->hosts; s++)
        for (uint32_t d = 0; d < a->hosts; d++)
            for (uint32_t k = 0; k < a->npaths && s != d; k++) {
                uint32_t x[TOPO_ROUTE_MAX_PORTS], y[TOPO_ROUTE_MAX_PORTS];
                uint32_t n = topo_route_ports(a, s, d, k, x);
                assert_int_equal(topo_route_ports(b, s, d, k, y), n);
                assert_memory_equal(x, y, n * sizeof *x);
            }
    topo_destroy(a);
    topo_destroy(b);
}

/* The .topo fat-tree resolves to fat_tree's counts and builds its ports. */
static void test_topo_fat_tree(void **state)
{
    (void)state;
    struct cfg f, k;
    file_spec(&f, FT_TOPO);
    assert_int_equal(f.topo.info.shape, TOPO_FAT_TREE);
    cfg_defaults(&k);
    k.topo.kind = TOPO_FAT_TREE;
    k.topo.pods = 2, k.topo.leaves_per_pod = 2, k.topo.aggs_per_pod = 2, k.topo.cores = 4;
    k.topo.hosts_per_leaf = 4;
    topo_spec_resolve(&k.topo);
    assert_int_equal(f.topo.pods, 2);
    assert_int_equal(f.topo.leaves_per_pod, 2);
    assert_int_equal(f.topo.aggs_per_pod, 2);
    assert_int_equal(f.topo.cores, 4);
    assert_int_equal(f.topo.hosts_per_leaf, 4);
    assert_int_equal(f.topo.leaves, k.topo.leaves);
    assert_int_equal(topo_port_count(&f.topo), topo_port_count(&k.topo));
    assert_int_equal(topo_memory_bytes(&f.topo), topo_memory_bytes(&k.topo));
    struct topo *a, *b;
    struct err e;
    assert_int_equal(topo_build(&f.topo, &a, &e), 0);
    assert_int_equal(topo_build(&k.topo, &b, &e), 0);
    assert_int_equal(a->kind, TOPO_FAT_TREE);
    assert_int_equal(a->nports, b->nports);
    assert_int_equal(a->npaths, b->npaths);
    assert_memory_equal(a->ports, b->ports, a->nports * sizeof *a->ports);
    topo_destroy(a);
    topo_destroy(b);
}

/* A two-tier .topo (one pod) is the leaf_spine it describes: 4 leaves of 8
 * hosts at 200 Gb/s, 2 spines at 400 Gb/s (2:1 oversubscribed), its
 * ports those of topology.kind = leaf_spine with those keys. */
static void test_topo_leaf_spine(void **state)
{
    (void)state;
    char path[] = "/tmp/moesim_ls_XXXXXX.topo";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    const char *text = "# two tiers\nNodes 32\nTiers 2\nPodsize 32\n\ntier 0\n"
                       "downlink_speed_gbps 200\nDownlink_Latency_ns 600\nRadix_Down 8\n"
                       "Radix_Up 2\nOversubscribed 2\n"
                       "Tier 1\nDownlink_speed_Gbps 400\nDownlink_Latency_ns 600\nRadix_Down 4\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct cfg f, l;
    file_spec(&f, path);
    unlink(path);
    assert_int_equal(f.topo.info.shape, TOPO_LEAF_SPINE);
    cfg_defaults(&l);
    l.topo.leaves = 4, l.topo.spines = 2, l.topo.hosts_per_leaf = 8;
    l.topo.host_gbps = 200, l.topo.fabric_gbps = 400, l.topo.link_latency_ns = 600;
    assert_int_equal(f.topo.leaves, 4);
    assert_int_equal(f.topo.spines, 2);
    assert_int_equal(f.topo.hosts_per_leaf, 8);
    struct topo *a, *b;
    struct err e;
    assert_int_equal(topo_build(&f.topo, &a, &e), 0);
    assert_int_equal(topo_build(&l.topo, &b, &e), 0);
    assert_non_null(a->up); /* the factored leaf-spine, as the engine reads it */
    assert_int_equal(a->nports, b->nports);
    assert_memory_equal(a->ports, b->ports, a->nports * sizeof *a->ports);
    topo_destroy(a);
    topo_destroy(b);
}

/* Per-tier latencies, switch latencies charged on the ports out of each
 * switch: a lone flow across pods ends at its route's time by hand, and
 * the spec's zero-load route delay is the built route's. */
static void test_topo_tier_latencies(void **state)
{
    (void)state;
    char path[] = "/tmp/moesim_ft_XXXXXX.topo";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    const char *text = "Nodes 16\nTiers 3\nPodsize 8\n"
                       "Tier 0\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 500\nRadix_Down 4\n"
                       "Radix_Up 2\nOversubscribed 1\nSwitch_Latency_ns 10\n"
                       "Tier 1\nDownlink_speed_Gbps 200\nDownlink_Latency_ns 700\nRadix_Down 2\n"
                       "Radix_Up 4\nSwitch_Latency_ns 20\n"
                       "Tier 2\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 900.5\nRadix_Down 2\n"
                       "Switch_Latency_ns 30\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct cfg c;
    file_spec(&c, path);
    unlink(path);
    assert_int_equal(c.topo.info.shape, TOPO_FAT_TREE);
    assert_int_equal(c.topo.cores, 8);
    assert_true(c.topo.fabric_gbps == 200 && c.topo.core_gbps == 100);
    c.tr.window_bytes = 1 << 30;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    const simtime_t want_lat[TP_KIND_COUNT] = {
        [TP_HOST_UP] = 500000,  [TP_HOST_DOWN] = 510000, [TP_LEAF_UP] = 710000,
        [TP_AGG_DOWN] = 720000, [TP_AGG_UP] = 920500,    [TP_CORE_DOWN] = 930500};
    for (uint32_t p = 0; p < t->nports; p++)
        assert_int_equal(t->ports[p].lat_ps, want_lat[t->ports[p].kind]);
    uint32_t a = 0, b = t->hosts - 1, ports[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = topo_route_ports(t, a, b, 0, ports);
    assert_int_equal(n, 6);
    assert_int_equal(topo_spec_route_prop_ps(&c.topo, TOPO_ROUTE_FABRIC),
                     topo_path_latency(t, a, b, 0));
    c.tr.path = PATH_ECMP;
    struct topo_demand d = {a, b, 300000};
    assert_int_equal(run(t, &c, &d, 1), by_hand(t, ports, n, d.bytes, (uint64_t)c.tr.mtu));
    topo_destroy(t);
}

/* The irregular mesh: its shape, kinds by tier, shortest routes. */
static void test_mesh_routes(void **state)
{
    (void)state;
    struct cfg c;
    file_spec(&c, MESH);
    assert_int_equal(c.topo.info.shape, TOPO_FILE);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    /* the limits' numbers: the spec's port count is the build's, and the
     * memory estimate holds at least its ports, names and routing rows */
    assert_int_equal(topo_port_count(&c.topo), t->nports);
    assert_true(topo_memory_bytes(&c.topo) >=
                t->nports * sizeof *t->ports + (t->hosts + t->nswitches) * sizeof *t->names +
                    (size_t)t->nswitches * t->leaves * sizeof *t->route);
    assert_int_equal(t->hosts, 8);
    assert_int_equal(t->leaves, 4);
    assert_int_equal(t->nswitches, 5);
    /* a0..a3 are tier 0 (ring links: across), t0 tier 1 */
    char s[TOPO_NAME_MAX], d[TOPO_NAME_MAX];
    for (uint32_t p = 2 * t->hosts; p < t->nports; p++) {
        topo_node_name(t, t->ports[p].src, s, sizeof s);
        topo_node_name(t, t->ports[p].dst, d, sizeof d);
        int want = !strcmp(s, "t0") ? TP_SPINE_DOWN : !strcmp(d, "t0") ? TP_LEAF_UP : TP_ACROSS;
        assert_int_equal(t->ports[p].kind, want);
    }
    /* hop counts between leaves: a0-a2 and a1-a3 two, the rest one */
    static const uint32_t hops[4][4] = {{0, 1, 2, 1}, {1, 0, 1, 2}, {2, 1, 0, 1}, {1, 2, 1, 0}};
    assert_int_equal(t->npaths, 3); /* a0 to a2: via a1, a3 or t0 */
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++)
            for (uint32_t p = 0; p < 2 * t->npaths && a != b; p++) {
                uint32_t ports[TOPO_ROUTE_MAX_PORTS];
                uint32_t n = topo_route_ports(t, a, b, p, ports);
                uint32_t la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b);
                assert_int_equal(n, hops[la][lb] + 2);
                assert_int_equal(t->ports[ports[0]].src, a);
                assert_int_equal(t->ports[ports[n - 1]].dst, b);
                for (uint32_t j = 1; j < n; j++)
                    assert_int_equal(t->ports[ports[j]].src, t->ports[ports[j - 1]].dst);
            }
    /* the three routes a0 to a2 are distinct: path numbers 0, 1, 2 */
    uint32_t x[3][TOPO_ROUTE_MAX_PORTS];
    for (uint32_t p = 0; p < 3; p++)
        assert_int_equal(topo_route_ports(t, 0, 4, p, x[p]), 4);
    assert_true(x[0][1] != x[1][1] && x[1][1] != x[2][1] && x[0][1] != x[2][1]);
    topo_destroy(t);
}

/* A lone flow on the mesh: g4 (50 Gb/s, 250.5 ns) to g2 has one route, over
 * three links of different speeds and latencies, and ends exactly at its
 * store-and-forward time under every path mode but split; g0 to g4 has
 * three equal-hop routes of different speeds: ECMP's time is one of them. */
static void test_mesh_lone_flow(void **state)
{
    (void)state;
    struct cfg c;
    file_spec(&c, MESH);
    c.tr.window_bytes = 1 << 30;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    /* hosts leaf by leaf: g4 is host 4 (a2's first), g2 host 2 (a1's first) */
    char name[TOPO_NAME_MAX];
    topo_node_name(t, 4, name, sizeof name);
    assert_string_equal(name, "g4");
    uint32_t n = topo_route_ports(t, 4, 2, 0, ports);
    assert_int_equal(n, 3);
    uint64_t size = 1000000, mtu = (uint64_t)c.tr.mtu;
    simtime_t want = by_hand(t, ports, n, size, mtu);
    for (int i = 0; i < 5; i++) {
        c.tr.path = paths[i];
        struct topo_demand d = {4, 2, size};
        simtime_t got = run(t, &c, &d, 1);
        simtime_t lo = topo_ideal_ps(t, &d, 1, (uint32_t)mtu,
                                     c.tr.path == PATH_SPLIT ? (uint32_t)c.tr.subflows : 1);
        if (c.tr.path != PATH_SPLIT) assert_int_equal(got, want);
        assert_true(got >= lo);
    }
    c.tr.path = PATH_ECMP;
    simtime_t opt[3];
    for (uint32_t p = 0; p < 3; p++) {
        n = topo_route_ports(t, 0, 4, p, ports);
        opt[p] = by_hand(t, ports, n, size, mtu);
    }
    struct topo_demand d = {0, 4, size};
    simtime_t got = run(t, &c, &d, 1);
    assert_true(got == opt[0] || got == opt[1] || got == opt[2]);
    topo_destroy(t);
}

/* An all-to-all on the mesh under every path mode: bytes conserved at every
 * switch (run), no completion below the ideal bound. */
static void test_mesh_all_to_all(void **state)
{
    (void)state;
    struct cfg c;
    file_spec(&c, MESH);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct topo_demand *d = xcalloc((size_t)t->hosts * t->hosts, sizeof *d);
    size_t n = all_to_all(t, 100000, 977, 31, d);
    for (int i = 0; i < 5; i++) {
        c.tr.path = paths[i];
        simtime_t got = run(t, &c, d, n);
        simtime_t lo = topo_ideal_ps(t, d, n, (uint32_t)c.tr.mtu,
                                     c.tr.path == PATH_SPLIT ? (uint32_t)c.tr.subflows : 1);
        assert_true(got >= lo);
    }
    free(d);
    topo_destroy(t);
}

/* NVLink on a GraphML fabric: servers of two GPUs under each leaf. */
static void test_mesh_nvlink(void **state)
{
    (void)state;
    struct cfg c;
    file_spec(&c, MESH);
    c.topo.gpus_per_host = 2;
    const struct opt_def *bad;
    struct err e;
    assert_int_equal(topo_check(&c.topo, &bad, &e), 0);
    struct topo *t;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_int_equal(t->nports, topo_port_count(&c.topo));
    assert_true(topo_same_server(t, 0, 1));
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    assert_int_equal(topo_route_ports(t, 0, 1, 0, ports), 2);
    assert_int_equal(t->ports[ports[0]].kind, TP_NVL_UP);
    topo_destroy(t);
    c.topo.gpus_per_host = 3;
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(e.msg, "topology.gpus_per_host: 3 does not divide the 2 hosts of each edge "
                               "switch of " MESH ": a server's GPUs sit under one leaf");
}

/* The longest route a fabric may have: a chain of 7 switches, 6 switch
 * links, 8 ports with the host links; a lone flow along it ends exactly at
 * its store-and-forward time. */
static void test_longest_route(void **state)
{
    (void)state;
    char path[] = "/tmp/moesim_chain_XXXXXX.graphml";
    int fd = mkstemps(path, 8);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("<?xml version=\"1.0\"?>\n<graphml>\n"
          "<key id=\"r\" for=\"node\" attr.name=\"role\" attr.type=\"string\"/>\n"
          "<key id=\"g\" for=\"edge\" attr.name=\"gbps\" attr.type=\"double\"/>\n"
          "<key id=\"d\" for=\"edge\" attr.name=\"latency_ns\" attr.type=\"double\"/>\n"
          "<graph edgedefault=\"undirected\">\n",
          f);
    fputs("<node id=\"h0\"><data key=\"r\">host</data></node>\n"
          "<node id=\"h1\"><data key=\"r\">host</data></node>\n",
          f);
    for (int i = 0; i < 7; i++)
        fprintf(f, "<node id=\"c%d\"><data key=\"r\">switch</data></node>\n", i);
    fputs("<edge source=\"h0\" target=\"c0\"><data key=\"g\">100</data><data "
          "key=\"d\">100</data></edge>\n"
          "<edge source=\"h1\" target=\"c6\"><data key=\"g\">100</data><data "
          "key=\"d\">100</data></edge>\n",
          f);
    for (int i = 0; i < 6; i++)
        fprintf(f,
                "<edge source=\"c%d\" target=\"c%d\"><data key=\"g\">%d</data><data "
                "key=\"d\">%d</data></edge>\n",
                i, i + 1, 100 * (i + 1), 10 * i);
    fputs("</graph>\n</graphml>\n", f);
    fclose(f);
    struct cfg c;
    file_spec(&c, path);
    assert_int_equal(c.topo.info.shape, TOPO_FILE);
    c.tr.window_bytes = 1 << 30;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0); /* reads the file again */
    unlink(path);
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = topo_route_ports(t, 0, 1, 0, ports);
    assert_int_equal(n, TOPO_ROUTE_MAX_PORTS);
    assert_int_equal(t->ports[ports[n - 1]].dst, 1);
    /* c3 is 3 hops from both leaves: kinds up to tier 3 */
    assert_int_equal(t->ports[ports[1]].kind, TP_LEAF_UP);
    assert_int_equal(t->ports[ports[2]].kind, TP_AGG_UP);
    assert_int_equal(t->ports[ports[3]].kind, TP_UP);
    assert_int_equal(t->ports[ports[4]].kind, TP_DOWN);
    assert_int_equal(t->ports[ports[5]].kind, TP_CORE_DOWN);
    assert_int_equal(t->ports[ports[6]].kind, TP_AGG_DOWN);
    struct topo_demand d = {0, 1, 500000};
    c.tr.path = PATH_SPRAY;
    assert_int_equal(run(t, &c, &d, 1), by_hand(t, ports, n, d.bytes, (uint64_t)c.tr.mtu));
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_graphml_leaf_spine), cmocka_unit_test(test_topo_fat_tree),
        cmocka_unit_test(test_topo_leaf_spine),    cmocka_unit_test(test_topo_tier_latencies),
        cmocka_unit_test(test_mesh_routes),        cmocka_unit_test(test_mesh_lone_flow),
        cmocka_unit_test(test_mesh_all_to_all),    cmocka_unit_test(test_mesh_nvlink),
        cmocka_unit_test(test_longest_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
