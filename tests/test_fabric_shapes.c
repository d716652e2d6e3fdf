/* test_fabric_shapes.c - the shapes topology.kind = file reads beyond one
 * link each way per pair and equal leaves (topo/fabric_graphml.c,
 * fabric_htsim.c, ideal.c): GraphML one-way links (edgedefault="directed"
 * and per-edge directed="true"), whose routes differ each way, with every
 * leaf pair reachable both ways or an error; leaves of different host
 * counts (hosts_per_leaf the gcd of the counts); htsim .topo bundles of
 * parallel links (capacity and ECMP group per link, as htsim builds them);
 * and the leaf cuts of the GraphML ideal bound. On each: a lone flow ends
 * exactly at its route's store-and-forward time, every switch forwards the
 * bytes it receives, every byte is delivered, and nothing finishes below
 * the ideal bound. */
#include "testutil.h"

#include "sim/eng.h"
#include "topo/fabric_file.h"
#include "topo/ideal_lp.h"
#include "topo/topo.h"

#include "fabric_run.h"

/* Writes text to a temporary file ending in ext; its path into path. */
static void write_tmp(char *path, size_t n, const char *ext, const char *text)
{
    snprintf(path, n, "/tmp/moesim_shape_XXXXXX%s", ext);
    int fd = mkstemps(path, (int)strlen(ext));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Every route is a chain of ports from its source to its destination. */
static void check_chains(const struct topo *t)
{
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++)
            for (uint32_t p = 0; p < t->npaths && a != b; p++) {
                uint32_t ports[TOPO_ROUTE_MAX_PORTS];
                uint32_t n = topo_route_ports(t, a, b, p, ports);
                assert_int_equal(t->ports[ports[0]].src, a);
                assert_int_equal(t->ports[ports[n - 1]].dst, b);
                for (uint32_t j = 1; j < n; j++)
                    assert_int_equal(t->ports[ports[j]].src, t->ports[ports[j - 1]].dst);
            }
}

/* All-to-all under every path mode: conserved, delivered, cct >= ideal. */
static void check_all_to_all(const struct topo *t, struct cfg *c, uint64_t base)
{
    struct topo_demand *d = xcalloc((size_t)t->hosts * t->hosts, sizeof *d);
    size_t n = all_to_all(t, base, 977, 31, d);
    for (int i = 0; i < 5; i++) {
        c->tr.path = paths[i];
        uint32_t sub = c->tr.path == PATH_SPLIT ? (uint32_t)c->tr.subflows : 1;
        simtime_t got = run(t, c, d, n);
        simtime_t lo = topo_ideal_ps(t, d, n, (uint32_t)c->tr.mtu, sub);
        int kind;
        simtime_t lp = topo_ideal_bound_ps(t, d, n, (uint32_t)c->tr.mtu, sub, 100000, &kind);
        assert_true(lo <= lp);
        assert_true(got >= lp);
    }
    free(d);
}

#define GML_HEAD                                                                                   \
    "<?xml version=\"1.0\"?>\n<graphml>\n"                                                         \
    "<key id=\"r\" for=\"node\" attr.name=\"role\" attr.type=\"string\"><default>switch</default>" \
    "</key>\n"                                                                                     \
    "<key id=\"g\" for=\"edge\" attr.name=\"gbps\" attr.type=\"double\"/>\n"                       \
    "<key id=\"d\" for=\"edge\" attr.name=\"latency_ns\" attr.type=\"double\"/>\n"
#define H_(x) "<node id=\"" x "\"><data key=\"r\">host</data></node>\n"
#define S_(x) "<node id=\"" x "\"/>\n"
#define E_(a, b, g, d)                                                                             \
    "<edge source=\"" a "\" target=\"" b "\"><data key=\"g\">" g "</data><data key=\"d\">" d       \
    "</data></edge>\n"

/* A directed ring of three leaves, l0 -> l1 -> l2 -> l0, each with two
 * hosts (an edge each way): l0 to l2 is two switch links, l2 to l0 one. */
static const char ring_gml[] = GML_HEAD "<graph edgedefault=\"directed\">\n" H_("h0") H_("h1")
    H_("h2") H_("h3") H_("h4") H_("h5") S_("l0") S_("l1") S_("l2") E_("h0", "l0", "100", "500")
        E_("l0", "h0", "100", "500") E_("h1", "l0", "100", "500") E_("l0", "h1", "100", "500")
            E_("h2", "l1", "100", "500") E_("l1", "h2", "100", "500") E_("h3", "l1", "100", "500")
                E_("l1", "h3", "100", "500") E_("h4", "l2", "100", "500")
                    E_("l2", "h4", "50", "250") E_("h5", "l2", "100", "500")
                        E_("l2", "h5", "100", "500") E_("l0", "l1", "200", "1000")
                            E_("l1", "l2", "400", "700")
                                E_("l2", "l0", "100", "300") "</graph>\n</graphml>\n";

static void test_directed_ring(void **state)
{
    (void)state;
    char path[64];
    write_tmp(path, sizeof path, ".graphml", ring_gml);
    struct cfg c;
    file_spec(&c, path);
    assert_int_equal(c.topo.info.shape, TOPO_FILE);
    assert_int_equal(c.topo.info.fabric_links, 3);
    assert_int_equal(c.topo.info.fabric_ports, 3);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    unlink(path);
    assert_int_equal(t->nports, topo_port_count(&c.topo));
    assert_int_equal(t->nports, 2 * 6 + 3);
    /* host 4's down link is its own (50 Gb/s, 250 ns), its up link 100 */
    assert_int_equal(t->ports[t->host_down[4]].bps, 50000000000ull);
    assert_int_equal(t->ports[t->host_down[4]].lat_ps, 250000);
    assert_int_equal(t->ports[t->host_up[4]].bps, 100000000000ull);
    check_chains(t);
    uint32_t fwd[TOPO_ROUTE_MAX_PORTS], back[TOPO_ROUTE_MAX_PORTS];
    assert_int_equal(topo_route_ports(t, 0, 4, 0, fwd), 4);  /* l0 -> l1 -> l2 */
    assert_int_equal(topo_route_ports(t, 4, 0, 0, back), 3); /* l2 -> l0 */
    c.tr.window_bytes = 1 << 30;
    uint64_t mtu = (uint64_t)c.tr.mtu;
    for (int i = 0; i < 5; i++) {
        c.tr.path = paths[i];
        if (c.tr.path == PATH_SPLIT) continue;
        struct topo_demand d = {0, 4, 700000}, r = {4, 0, 700000};
        assert_int_equal(run(t, &c, &d, 1), by_hand(t, fwd, 4, d.bytes, mtu));
        assert_int_equal(run(t, &c, &r, 1), by_hand(t, back, 3, r.bytes, mtu));
        /* the bound is exact for a lone flow where the switch links are
         * alike; here they are not, so it is at most the time */
        assert_true(topo_ideal_ps(t, &d, 1, (uint32_t)mtu, 1) <= by_hand(t, fwd, 4, d.bytes, mtu));
    }
    check_all_to_all(t, &c, 50000);
    topo_destroy(t);
}

/* An undirected graph with one edge marked directed="true": the other way
 * goes around. */
static void test_directed_edge(void **state)
{
    (void)state;
    char path[64];
    write_tmp(path, sizeof path, ".graphml",
              GML_HEAD "<graph edgedefault=\"undirected\">\n" H_("a") H_("b") S_("x") S_("y")
                  S_("z") E_("a", "x", "100", "100") E_(
                      "b", "y", "100",
                      "100") "<edge source=\"x\" target=\"y\" directed=\"true\"><data key=\"g\">100"
                             "</data><data key=\"d\">100</data></edge>\n" E_("y", "z", "100", "100")
                                 E_("z", "x", "100", "100") "</graph>\n</graphml>\n");
    struct cfg c;
    file_spec(&c, path);
    assert_int_equal(c.topo.info.fabric_ports, 5);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    unlink(path);
    uint32_t p[TOPO_ROUTE_MAX_PORTS];
    assert_int_equal(topo_route_ports(t, 0, 1, 0, p), 3);
    assert_int_equal(topo_route_ports(t, 1, 0, 0, p), 4); /* y -> z -> x */
    check_chains(t);
    check_all_to_all(t, &c, 30000);
    topo_destroy(t);
}

/* The one-way errors: one line naming the file, the element and its line. */
static void test_directed_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {GML_HEAD "<graph edgedefault=\"directed\">\n" H_("h0") H_("h1") S_("l0") S_("l1")
             E_("h0", "l0", "1", "1") E_("l0", "h0", "1", "1") E_("h1", "l1", "1", "1")
                 E_("l1", "h1", "1", "1") E_("l0", "l1", "1", "1") "</graph></graphml>\n",
         ":7: node 'h0': host not reachable from node 'h1'"},
        {GML_HEAD "<graph edgedefault=\"directed\">\n" H_("h0") H_("h1") S_("l0")
             E_("h0", "l0", "1", "1") E_("h1", "l0", "1", "1")
                 E_("l0", "h1", "1", "1") "</graph></graphml>\n",
         ":7: node 'h0': a one-way link to its edge switch (line 10) and none back (a host "
         "needs a link each way)"},
        {GML_HEAD "<graph edgedefault=\"directed\">\n" H_("h0") H_("h1") S_("l0")
             E_("l0", "h0", "1", "1") E_("h1", "l0", "1", "1")
                 E_("l0", "h1", "1", "1") "</graph></graphml>\n",
         ":7: node 'h0': a one-way link from its edge switch (line 10) and none to it (a host "
         "needs a link each way)"},
        {GML_HEAD "<graph edgedefault=\"directed\">\n" H_("h0") H_("h1") S_("l0") S_("l1")
             E_("h0", "l0", "1", "1") E_("l1", "h0", "1", "1") "</graph></graphml>\n",
         ":7: node 'h0': a second link (line 12); a host has one, to its edge switch "
         "(multi-homed hosts are not modelled)"},
        {GML_HEAD "<graph edgedefault=\"sideways\">\n</graph></graphml>\n",
         ":6: <graph>: edgedefault 'sideways' is not directed or undirected"},
        {GML_HEAD "<graph>\n" H_("h0")
             S_("l0") "<edge source=\"h0\" target=\"l0\" directed=\"yes\"/>\n</graph></graphml>\n",
         ":9: edge 'h0'-'l0': directed 'yes' is not true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64], want[256];
        write_tmp(path, sizeof path, ".graphml", cases[i].text);
        struct cfg c;
        file_spec(&c, path);
        assert_int_equal(c.topo.info.shape, -1);
        const struct opt_def *bad;
        struct err e;
        assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
        snprintf(want, sizeof want, "topology.file: %s%s", path, cases[i].want);
        assert_string_equal(e.msg, want);
        unlink(path);
    }
}

/* Leaves of 1, 2 and 3 hosts: hosts_per_leaf 1 (the gcd), 6 groups of it;
 * the real leaves in the built fabric; hosts leaf by leaf. */
static void test_uneven_leaves(void **state)
{
    (void)state;
    char path[64];
    write_tmp(path, sizeof path, ".graphml",
              GML_HEAD "<graph edgedefault=\"undirected\">\n" H_("a0") H_("b0") H_("b1") H_("c0")
                  H_("c1") H_("c2") S_("la") S_("lb") S_("lc") S_("sp") E_("a0", "la", "100", "500")
                      E_("b0", "lb", "100", "500") E_("b1", "lb", "100", "500")
                          E_("c0", "lc", "100", "500") E_("c1", "lc", "100", "500")
                              E_("c2", "lc", "100", "500") E_("la", "sp", "100", "500")
                                  E_("lb", "sp", "100", "500")
                                      E_("lc", "sp", "100", "500") "</graph>\n</graphml>\n");
    struct cfg c;
    file_spec(&c, path);
    assert_int_equal(c.topo.info.shape, TOPO_FILE);
    assert_int_equal(c.topo.hosts_per_leaf, 1);
    assert_int_equal(c.topo.leaves, 6);
    assert_int_equal(c.topo.info.leaves, 3);
    char shape[160];
    topo_spec_shape(&c.topo, shape, sizeof shape);
    assert_non_null(strstr(shape, ": 6 hosts, 3 leaves, 4 switches"));
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    unlink(path);
    assert_int_equal(t->leaves, 3);
    assert_int_equal(topo_place_leaves(t), 6);
    static const uint32_t leaf[6] = {0, 1, 1, 2, 2, 2};
    for (uint32_t h = 0; h < 6; h++)
        assert_int_equal(t->host_leaf[h], leaf[h]);
    check_chains(t);
    c.tr.window_bytes = 1 << 30;
    c.tr.path = PATH_ECMP;
    uint32_t p[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = topo_route_ports(t, 0, 5, 0, p);
    assert_int_equal(n, 4);
    struct topo_demand d = {0, 5, 400000};
    simtime_t want = by_hand(t, p, n, d.bytes, (uint64_t)c.tr.mtu);
    assert_int_equal(run(t, &c, &d, 1), want);
    assert_int_equal(topo_ideal_ps(t, &d, 1, (uint32_t)c.tr.mtu, 1), want);
    check_all_to_all(t, &c, 40000);
    topo_destroy(t);
    /* servers of 2 GPUs need every count even */
    c.topo.gpus_per_host = 2;
    const struct opt_def *bad;
    write_tmp(path, sizeof path, ".graphml",
              GML_HEAD "<graph>\n" H_("a0") H_("a1") H_("b0") H_("b1") H_("b2") H_("b3") S_("la")
                  S_("lb") E_("a0", "la", "1", "1") E_("a1", "la", "1", "1")
                      E_("b0", "lb", "1", "1") E_("b1", "lb", "1", "1") E_("b2", "lb", "1", "1")
                          E_("b3", "lb", "1", "1")
                              E_("la", "lb", "1", "1") "</graph>\n</graphml>\n");
    snprintf(c.topo.file, sizeof c.topo.file, "%s", path);
    topo_spec_resolve(&c.topo);
    assert_int_equal(c.topo.hosts_per_leaf, 2);
    assert_int_equal(c.topo.leaves, 3);
    assert_int_equal(topo_check(&c.topo, &bad, &e), 0);
    c.topo.gpus_per_host = 4;
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    char msg[256];
    snprintf(msg, sizeof msg,
             "topology.gpus_per_host: 4 does not divide every edge switch's host count in %s "
             "(their greatest common divisor is 2): a server's GPUs sit under one leaf",
             path);
    assert_string_equal(e.msg, msg);
    unlink(path);
}

/* The leaf cut: two leaves of 4 hosts joined by one 100 Gb/s switch link
 * each way (through a spine, 200 Gb/s down): 4 hosts at 100 Gb/s each
 * sending to the other leaf put 4x the bytes on l0's one uplink; the bound
 * counts it (the host links alone would give a quarter of it). */
static void test_leaf_cut(void **state)
{
    (void)state;
    char path[64];
    write_tmp(path, sizeof path, ".graphml",
              GML_HEAD "<graph>\n" H_("a0") H_("a1") H_("a2") H_("a3") H_("b0") H_("b1") H_("b2")
                  H_("b3") S_("l0") S_("l1") S_("s0") E_("a0", "l0", "100", "0")
                      E_("a1", "l0", "100", "0") E_("a2", "l0", "100", "0")
                          E_("a3", "l0", "100", "0") E_("b0", "l1", "100", "0")
                              E_("b1", "l1", "100", "0") E_("b2", "l1", "100", "0")
                                  E_("b3", "l1", "100", "0") E_("l0", "s0", "100", "0")
                                      E_("l1", "s0", "400", "0") "</graph>\n</graphml>\n");
    struct cfg c;
    file_spec(&c, path);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    unlink(path);
    struct topo_demand d[4];
    uint64_t B = 1000000;
    for (uint32_t i = 0; i < 4; i++)
        d[i] = (struct topo_demand){i, 4 + i, B};
    uint32_t mtu = (uint32_t)c.tr.mtu;
    simtime_t lo = topo_ideal_ps(t, d, 4, mtu, 1);
    /* 4 MB over l0's 100 Gb/s uplink: at least 320 us */
    assert_true(lo >= ser_ps(4 * B, 100000000000ull));
    c.tr.window_bytes = 1 << 30;
    for (int i = 0; i < 5; i++) {
        c.tr.path = paths[i];
        assert_true(run(t, &c, d, 4) >= lo);
    }
    topo_destroy(t);
}

/* The group of next hops at leaf row la toward leaf row lb. */
static const struct topo_hop *row(const struct topo *t, uint32_t la, uint32_t lb)
{
    return topo_hop_at(t, la, lb);
}

/* A two-tier .topo with Bundle 2: 2 leaves of 4 hosts, 2 spines, each leaf
 * with 2 parallel links to each spine: 4 ports in every leaf's group and 2
 * in a spine's way down (one ECMP next hop per link, as htsim's routes
 * are), 8 switch links, 8 path numbers. */
static void test_bundle_two_tier(void **state)
{
    (void)state;
    char path[64];
    write_tmp(path, sizeof path, ".topo",
              "Nodes 8\nTiers 2\nPodsize 8\nTier 0\nDownlink_speed_Gbps 100\n"
              "Downlink_Latency_ns 500\nRadix_Down 4\nRadix_Up 4\nSwitch_Latency_ns 10\n"
              "Tier 1\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 700\nRadix_Down 4\n"
              "Bundle 2\nSwitch_Latency_ns 20\n");
    struct cfg c;
    file_spec(&c, path);
    assert_int_equal(c.topo.info.shape, TOPO_FILE);
    assert_int_equal(c.topo.leaves, 2);
    assert_int_equal(c.topo.hosts_per_leaf, 4);
    assert_int_equal(c.topo.spines, 4); /* a leaf's uplinks */
    assert_int_equal(c.topo.info.switches, 4);
    assert_int_equal(c.topo.info.fabric_links, 8);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    unlink(path);
    assert_int_equal(t->nports, topo_port_count(&c.topo));
    assert_int_equal(t->npaths, 8); /* 4 links up, then a bundle of 2 down */
    assert_int_equal(topo_hop_at(t, 2, 1)->n, 2);
    const struct topo_hop *g = row(t, 0, 1);
    assert_int_equal(g->n, 4);
    uint64_t cap = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        const struct topo_port *p = &t->ports[t->route_ports[g->off + i]];
        assert_int_equal(p->kind, TP_LEAF_UP);
        assert_int_equal(p->lat_ps, 710000); /* link + the leaf's switch latency */
        cap += p->bps;
    }
    assert_int_equal(cap, 400000000000ull); /* 2 spines x 2 links x 100 Gb/s */
    char name[TOPO_NAME_MAX];
    topo_node_name(t, t->hosts + 2, name, sizeof name);
    assert_string_equal(name, "s0");
    check_chains(t);
    c.tr.window_bytes = 1 << 30;
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    for (uint32_t k = 0; k < 8; k++) {
        uint32_t n = topo_route_ports(t, 0, 7, k, ports);
        assert_int_equal(n, 4);
        assert_int_equal(t->ports[ports[2]].lat_ps, 720000); /* spine down: + its latency */
        assert_int_equal(t->ports[ports[3]].lat_ps, 510000);
    }
    uint32_t n = topo_route_ports(t, 0, 7, 0, ports);
    struct topo_demand d = {0, 7, 300000};
    simtime_t want = by_hand(t, ports, n, d.bytes, (uint64_t)c.tr.mtu);
    c.tr.path = PATH_ECMP;
    assert_int_equal(run(t, &c, &d, 1), want);
    c.tr.path = PATH_SPRAY;
    assert_int_equal(run(t, &c, &d, 1), want);
    check_all_to_all(t, &c, 60000);
    topo_destroy(t);
}

/* Three tiers, Bundle 2 at tiers 1 and 2: 2 pods of 2 leaves, 2
 * aggregation switches per pod with 2 links to each leaf, 4 cores with 2
 * links to each pod; a leaf's group has 4 ports, an aggregation switch's
 * up group 4 (2 cores x 2), a core's way down 2, and 64 path numbers. */
static void test_bundle_three_tier(void **state)
{
    (void)state;
    char path[64];
    write_tmp(path, sizeof path, ".topo",
              "Nodes 16\nTiers 3\nPodsize 8\nTier 0\nDownlink_speed_Gbps 100\n"
              "Downlink_Latency_ns 500\nRadix_Down 4\nRadix_Up 4\n"
              "Tier 1\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 600\nRadix_Down 4\n"
              "Radix_Up 4\nBundle 2\n"
              "Tier 2\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 700\nRadix_Down 4\n"
              "Bundle 2\n");
    struct cfg c;
    file_spec(&c, path);
    assert_int_equal(c.topo.info.shape, TOPO_FILE);
    assert_int_equal(c.topo.pods, 2);
    assert_int_equal(c.topo.aggs_per_pod, 2);
    assert_int_equal(c.topo.cores, 4);
    assert_int_equal(c.topo.info.switches, 4 + 4 + 4);
    assert_int_equal(c.topo.info.fabric_links, 4 * 4 + 4 * 4);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    unlink(path);
    assert_int_equal(t->npaths, 64);
    assert_int_equal(row(t, 0, 2)->n, 4);         /* leaf l0 toward pod 1 */
    assert_int_equal(row(t, 4, 2)->n, 4);         /* a0 up: 2 cores x 2 */
    assert_int_equal(topo_hop_at(t, 8, 2)->n, 2); /* c0 down into pod 1 */
    assert_int_equal(topo_hop_at(t, 6, 2)->n, 2); /* a2 (pod 1) into l2 */
    assert_int_equal(t->ports[t->route_ports[topo_hop_at(t, 8, 2)->off]].kind, TP_CORE_DOWN);
    check_chains(t);
    c.tr.window_bytes = 1 << 30;
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = topo_route_ports(t, 0, 15, 0, ports);
    assert_int_equal(n, 6);
    struct topo_demand d = {0, 15, 250000};
    c.tr.path = PATH_ECMP;
    assert_int_equal(run(t, &c, &d, 1), by_hand(t, ports, n, d.bytes, (uint64_t)c.tr.mtu));
    /* the bound counts every switch link at the least latency (600 ns):
     * the two core links' 100 ns more each are all it misses */
    assert_int_equal(topo_ideal_ps(t, &d, 1, (uint32_t)c.tr.mtu, 1),
                     by_hand(t, ports, n, d.bytes, (uint64_t)c.tr.mtu) - 200000);
    check_all_to_all(t, &c, 20000);
    topo_destroy(t);
}

/* A bundle's errors, and queue sizes: one line naming the file, the line
 * and the key. */
static void test_bundle_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"Nodes 8\nTiers 2\nPodsize 8\nTier 0\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 1\n"
         "Radix_Down 4\nRadix_Up 4\nBundle 2\nTier 1\nDownlink_speed_Gbps 100\n"
         "Downlink_Latency_ns 1\nRadix_Down 2\n",
         ":9: Bundle: Tier 0's 2 would give a host parallel links (a host has one link, to its "
         "leaf: use 1)"},
        {"Nodes 8\nTiers 2\nPodsize 8\nTier 0\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 1\n"
         "Radix_Down 4\nRadix_Up 3\nOversubscribed 1\nTier 1\nDownlink_speed_Gbps 133\n"
         "Downlink_Latency_ns 1\nRadix_Down 4\nBundle 2\n",
         ":8: Radix_Up: Tier 0's 3 is not a multiple of Tier 1's Bundle (2)"},
        {"Nodes 8\nTiers 2\nPodsize 8\nTier 0\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 1\n"
         "Radix_Down 4\nRadix_Up 4\nTier 1\nDownlink_speed_Gbps 100\n"
         "Downlink_Latency_ns 1\nRadix_Down 6\nBundle 2\n",
         ":12: Radix_Down: Tier 1's 6 / Bundle is not the 2 leaves (Nodes / Tier 0's "
         "Radix_Down): each spine links to every leaf"},
        {"Nodes 8\nTiers 2\nPodsize 8\nTier 0\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 1\n"
         "Radix_Down 4\nRadix_Up 4\nQueue_Up 100000\n",
         ":9: Queue_Up: queue sizes are not read from a .topo file (moesim's buffer is one size "
         "for every switch port: set switch.buffer_bytes)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64], want[320];
        write_tmp(path, sizeof path, ".topo", cases[i].text);
        struct cfg c;
        file_spec(&c, path);
        assert_int_equal(c.topo.info.shape, -1);
        const struct opt_def *bad;
        struct err e;
        assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
        snprintf(want, sizeof want, "topology.file: %s%s", path, cases[i].want);
        assert_string_equal(e.msg, want);
        unlink(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directed_ring),     cmocka_unit_test(test_directed_edge),
        cmocka_unit_test(test_directed_errors),   cmocka_unit_test(test_uneven_leaves),
        cmocka_unit_test(test_leaf_cut),          cmocka_unit_test(test_bundle_two_tier),
        cmocka_unit_test(test_bundle_three_tier), cmocka_unit_test(test_bundle_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
