/* test_fat_tree.c - the routing tables (topo/route.c) and topology.kind =
 * fat_tree (topo/fat_tree.c): on a leaf-spine the table forwards exactly as
 * the factored up/down paths; a fat-tree's routes are up-down, six ports
 * between pods; a lone flow across pods finishes at size over rate plus its
 * route's latency, to the picosecond; every switch forwards the bytes it
 * receives; spraying finishes an all-to-all within 10% of the ideal bound;
 * the bound stays below every completion on random fat-trees and traffic,
 * every path mode; bad shapes are refused with the key at fault. */
#include "fabric_run.h"

#include <gsl/gsl_rng.h>

/* On a leaf-spine the table's next hops are the factored paths: path k
 * from leaf a goes up to spine k, then down into the destination's leaf;
 * and topo_route_build's search finds the same rows. */
static void test_leaf_spine_table(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 5;
    c.topo.spines = 3;
    c.topo.hosts_per_leaf = 2;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_int_equal(t->npaths, 3);
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++) {
            uint32_t la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b);
            if (la == lb) continue;
            for (uint32_t k = 0; k < t->npaths; k++) {
                uint32_t ports[TOPO_ROUTE_MAX_PORTS];
                assert_int_equal(topo_route_ports(t, a, b, k, ports), 4);
                assert_int_equal(ports[0], t->host_up[a]);
                assert_int_equal(ports[1], topo_up(t, la, k));
                assert_int_equal(ports[2], topo_down(t, k, lb));
                assert_int_equal(ports[3], t->host_down[b]);
            }
        }
    /* the generic search (igraph) finds the same rows as leaf_spine.c's fill */
    struct topo_hop *rows = t->route;
    uint32_t *rports = t->route_ports;
    assert_int_equal(topo_route_build(t, &e), 0);
    assert_int_equal(t->npaths, 3);
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++)
            for (uint32_t k = 0; k < t->npaths && a != b; k++) {
                uint32_t x[TOPO_ROUTE_MAX_PORTS], y[TOPO_ROUTE_MAX_PORTS];
                uint32_t n = topo_route_ports(t, a, b, k, x);
                struct topo_hop *g = t->route;
                uint32_t *gp = t->route_ports;
                t->route = rows, t->route_ports = rports;
                assert_int_equal(topo_route_ports(t, a, b, k, y), n);
                t->route = g, t->route_ports = gp;
                assert_memory_equal(x, y, n * sizeof *x);
            }
    free(rows);
    free(rports);
    topo_destroy(t);
}

/* Routes are up-down: under one leaf two ports, across a pod four (leaf_up,
 * agg_down), across pods six; path numbers [0, npaths) between pods name
 * every (aggregation, core) pair once; the links carry their tier's kind. */
static void test_fat_tree_routes(void **state)
{
    (void)state;
    struct cfg c;
    ft_spec(&c, 3, 2, 2, 4, 2);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_int_equal(t->leaves, 6);
    assert_int_equal(t->hosts, 12);
    assert_int_equal(t->nswitches, 6 + 6 + 4);
    assert_int_equal(t->npaths, 4);
    assert_int_equal(t->nports, 2 * 12 + 2 * 6 * 2 + 2 * 3 * 4);
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    assert_int_equal(topo_route_ports(t, 0, 1, 0, ports), 2);
    assert_int_equal(topo_route_ports(t, 0, 2, 0, ports), 4);
    assert_int_equal(t->ports[ports[1]].kind, TP_LEAF_UP);
    assert_int_equal(t->ports[ports[2]].kind, TP_AGG_DOWN);
    static const int want[] = {TP_HOST_UP,   TP_LEAF_UP,  TP_AGG_UP,
                               TP_CORE_DOWN, TP_AGG_DOWN, TP_HOST_DOWN};
    int seen_core[4] = {0};
    for (uint32_t k = 0; k < t->npaths; k++) {
        assert_int_equal(topo_route_ports(t, 0, 11, k, ports), 6);
        for (int i = 0; i < 6; i++)
            assert_int_equal(t->ports[ports[i]].kind, want[i]);
        for (int i = 0; i < 5; i++)
            assert_int_equal(t->ports[ports[i]].dst, t->ports[ports[i + 1]].src);
        uint32_t core = t->ports[ports[2]].dst - t->hosts - t->leaves - 6;
        seen_core[core]++;
        /* the acknowledgement's route, same path number, crosses the same core */
        uint32_t back[TOPO_ROUTE_MAX_PORTS];
        assert_int_equal(topo_route_ports(t, 11, 0, k, back), 6);
        assert_int_equal(t->ports[back[2]].dst - t->hosts - t->leaves - 6, core);
    }
    for (int m = 0; m < 4; m++)
        assert_int_equal(seen_core[m], 1);
    char name[16];
    topo_node_name(t, t->hosts + 6, name, sizeof name);
    assert_string_equal(name, "a0");
    topo_node_name(t, t->hosts + 12 + 3, name, sizeof name);
    assert_string_equal(name, "c3");
    assert_string_equal(topo_port_kind_name(TP_AGG_UP), "agg_up");
    assert_string_equal(topo_port_kind_name(TP_CORE_DOWN), "core_down");
    assert_string_equal(topo_port_kind_name(TP_AGG_DOWN), "agg_down");
    topo_destroy(t);
}

/* A lone flow across pods: its first link serializes every packet back to
 * back; the packets cross six store-and-forward hops in order. */
static void test_lone_flow_across_pods(void **state)
{
    (void)state;
    struct cfg c;
    ft_spec(&c, 2, 2, 2, 4, 2);
    c.topo.host_gbps = 100;
    c.topo.fabric_gbps = 200;
    c.topo.core_gbps = 400;
    c.topo.link_latency_ns = 700;
    c.tr.window_bytes = 1 << 30; /* no window stall: the physics alone */
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    /* Store and forward, FIFO, by hand: a packet leaves a hop when it has
     * arrived and the packet ahead has left, after its serialization. */
    uint64_t size = 1000000, mtu = (uint64_t)c.tr.mtu;
    uint64_t rate[6] = {gbps_to_bps(100), gbps_to_bps(200), gbps_to_bps(400),
                        gbps_to_bps(400), gbps_to_bps(200), gbps_to_bps(100)};
    simtime_t L = ns_to_ps(700), left[6] = {0}, want = 0;
    for (uint64_t sent = 0; sent < size;) {
        uint64_t b = size - sent < mtu ? size - sent : mtu;
        simtime_t at = 0;
        for (int j = 0; j < 6; j++) {
            simtime_t start = at > left[j] ? at : left[j];
            left[j] = start + ser_ps(b, rate[j]);
            at = left[j] + L;
        }
        want = at;
        sent += b;
    }
    for (int i = 0; i < 5; i++) {
        c.tr.path = paths[i];
        struct topo_demand d = {1, t->hosts - 1, size};
        simtime_t got = run(t, &c, &d, 1);
        if (c.tr.path != PATH_SPLIT) {
            assert_int_equal(got, want);
            assert_int_equal(ideal(t, &c, &d, 1), want);
        }
        assert_true(got >= ideal(t, &c, &d, 1));
    }
    topo_destroy(t);
}

/* Spraying an all-to-all over a 4-pod fat-tree finishes within 10% of the
 * ideal bound; bytes are conserved at every switch under every path mode. */
static void test_spray_all_to_all(void **state)
{
    (void)state;
    struct cfg c;
    ft_spec(&c, 4, 2, 2, 4, 2);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct topo_demand *d = xcalloc((size_t)t->hosts * t->hosts, sizeof *d);
    size_t n = all_to_all(t, 262144, 0, 0, d);
    for (int i = 0; i < 5; i++) {
        c.tr.path = paths[i];
        simtime_t got = run(t, &c, d, n), lo = ideal(t, &c, d, n);
        assert_true(got >= lo);
        if (c.tr.path == PATH_SPRAY) {
            print_message("spray all-to-all: cct/ideal %.4f\n", (double)got / (double)lo);
            assert_true((double)got <= 1.10 * (double)lo);
        }
    }
    free(d);
    topo_destroy(t);
}

/* Random fat-trees and traffic: no phase below the ideal bound. */
static void test_random_above_bound(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    static const double gbps[] = {25, 100, 400};
    static const int64_t mtus[] = {64, 1500, 4096};
    struct topo_demand d[256];
    double least = 1e30;
    for (unsigned long seed = 1; seed <= 150; seed++) {
        gsl_rng_set(r, seed);
        struct cfg c;
        int64_t A = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
        ft_spec(&c, 1 + (int64_t)gsl_rng_uniform_int(r, 3), 1 + (int64_t)gsl_rng_uniform_int(r, 3),
                A, A * (1 + (int64_t)gsl_rng_uniform_int(r, 2)),
                1 + (int64_t)gsl_rng_uniform_int(r, 3));
        if (c.topo.leaves < 2) c.topo.pods = 2, topo_spec_resolve(&c.topo);
        c.topo.host_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.fabric_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.core_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.link_latency_ns = (int64_t)gsl_rng_uniform_int(r, 3) * 500;
        c.tr.mtu = mtus[gsl_rng_uniform_int(r, 3)];
        c.tr.subflows = 1 + (int64_t)gsl_rng_uniform_int(r, 4);
        c.sim.seed = (int64_t)seed;
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e) < 0) fail_msg("seed %lu: %s", seed, e.msg);
        size_t n = 0;
        uint32_t H = t->hosts, hot = (uint32_t)gsl_rng_uniform_int(r, H);
        int shape = (int)gsl_rng_uniform_int(r, 3);
        for (uint32_t a = 0; a < H && n < 256; a++)
            for (uint32_t b = 0; b < H && n < 256; b++) {
                if (a == b) continue;
                if (shape == 0 && b != hot) continue;                          /* incast */
                if (shape == 1 && b != (a + 1 + seed % (H - 1)) % H) continue; /* shift */
                d[n++] = (struct topo_demand){a, b, 1 + gsl_rng_uniform_int(r, 20 * c.tr.mtu)};
            }
        for (int i = 0; i < 5; i++) {
            c.tr.path = paths[i];
            simtime_t lo = ideal(t, &c, d, n), got = run(t, &c, d, n);
            if (got < lo)
                fail_msg("seed %lu path %d: cct %llu ps below the ideal %llu ps", seed, paths[i],
                         (unsigned long long)got, (unsigned long long)lo);
            if ((double)got / (double)lo < least) least = (double)got / (double)lo;
        }
        topo_destroy(t);
    }
    print_message("150 random fat-trees x 5 path modes: least cct/ideal %.4f\n", least);
    gsl_rng_free(r);
}

/* Shapes the build cannot make are refused, naming the key. */
static void test_bad_shapes(void **state)
{
    (void)state;
    struct cfg c;
    const struct opt_def *bad = NULL;
    struct err e;
    ft_spec(&c, 2, 2, 3, 4, 2);
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "cores");
    assert_string_equal(e.msg, "topology.cores: 4 is not a multiple of topology.aggs_per_pod (3): "
                               "each aggregation switch of a pod links to as many cores");
    ft_spec(&c, 1, 1, 1, 1, 2);
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "leaves_per_pod");
    ft_spec(&c, 2, 2, 2, 4, 3);
    c.topo.gpus_per_host = 2;
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "gpus_per_host");
    ft_spec(&c, 2, 2, 2, 4, 2);
    assert_int_equal(topo_check(&c.topo, &bad, &e), 0);
    assert_true(topo_memory_bytes(&c.topo) > topo_port_count(&c.topo) * sizeof(struct topo_port));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_spine_table),      cmocka_unit_test(test_fat_tree_routes),
        cmocka_unit_test(test_lone_flow_across_pods), cmocka_unit_test(test_spray_all_to_all),
        cmocka_unit_test(test_random_above_bound),    cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
