/* test_topo_views.c - the fabric's views that other models read (topo.h):
 * the routes of a spec (topo_spec_route, topo_spec_route_prop_ps, which
 * validation reads without building the fabric) against the built fabric's
 * routes and zero-load latencies for every host pair, and the link speeds
 * placement reads (topo_host_gbps, topo_leaf_uplink_gbps,
 * topo_gpus_per_server, topo_nvlink_gbps). */
#include "tests/testutil.h"

#include "topo/topo.h"

static struct topo_spec spec(int64_t leaves, int64_t hpl, int64_t gph, int64_t link_ns,
                             int64_t nvl_ns)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = leaves;
    c.topo.spines = 3;
    c.topo.hosts_per_leaf = hpl;
    c.topo.gpus_per_host = gph;
    c.topo.host_gbps = 200;
    c.topo.fabric_gbps = 100;
    c.topo.nvlink_gbps = 1800;
    c.topo.link_latency_ns = link_ns;
    c.topo.nvlink_latency_ns = nvl_ns;
    return c.topo;
}

static void test_spec_routes_are_built_routes(void **state)
{
    (void)state;
    struct topo_spec specs[] = {
        spec(2, 4, 2, 1000, 250), spec(1, 4, 1, 700, 250), spec(3, 8, 4, 500, 2000),
        spec(1, 6, 3, 0, 90),     spec(4, 2, 1, 1234, 1),
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const struct topo_spec *s = &specs[i];
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(s, &t, &e), 0);
        uint8_t k[TOPO_ROUTE_MAX_PORTS];
        assert_int_equal(topo_spec_route(s, TOPO_ROUTE_NVLINK, k) > 0, s->gpus_per_host > 1);
        assert_int_equal(topo_spec_route(s, TOPO_ROUTE_FABRIC, k) > 0, s->leaves > 1);
        assert_int_equal(topo_spec_route(s, TOPO_ROUTE_LEAF, k), 2);
        if (s->gpus_per_host < 2)
            assert_int_equal(topo_spec_route_prop_ps(s, TOPO_ROUTE_NVLINK), 0);
        for (uint32_t a = 0; a < t->hosts; a++)
            for (uint32_t b = 0; b < t->hosts; b++) {
                if (a == b) continue;
                enum topo_route_kind r = topo_same_server(t, a, b) ? TOPO_ROUTE_NVLINK
                                         : topo_leaf_of(t, a) == topo_leaf_of(t, b)
                                             ? TOPO_ROUTE_LEAF
                                             : TOPO_ROUTE_FABRIC;
                uint32_t n = topo_spec_route(s, r, k);
                assert_int_equal(n, topo_route_len(t, a, b));
                assert_int_equal(k[0], t->ports[topo_first_port(t, a, b)].kind);
                assert_int_equal(k[n - 1], t->ports[topo_last_port(t, a, b)].kind);
                assert_int_equal(topo_spec_route_prop_ps(s, r), topo_path_latency(t, a, b, 0));
            }
        topo_destroy(t);
    }
}

static void test_speeds(void **state)
{
    (void)state;
    struct topo_spec s = spec(2, 4, 2, 1000, 250);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&s, &t, &e), 0);
    assert_float_equal(topo_host_gbps(t), 200, 0);
    assert_float_equal(topo_leaf_uplink_gbps(t, 1), 300, 0);
    assert_int_equal(topo_gpus_per_server(t), 2);
    assert_float_equal(topo_nvlink_gbps(t), 1800, 0);
    topo_destroy(t);
    s = spec(2, 4, 1, 1000, 250);
    assert_int_equal(topo_build(&s, &t, &e), 0);
    assert_int_equal(topo_gpus_per_server(t), 1);
    assert_float_equal(topo_nvlink_gbps(t), 0, 0);
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_routes_are_built_routes),
        cmocka_unit_test(test_speeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
