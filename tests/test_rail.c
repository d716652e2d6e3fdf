/* test_rail.c - topology.kind = rail (topo/rail.c, sim/pkt_rail.c): GPU g
 * of every server of a group sits on the group's rail switch g, rail
 * switches under spines; the routes of every kind of pair, with
 * cross_rail = pxn (NVLink to the relay, then its rail) and = spine; a lone
 * flow finishes at the store-and-forward recurrence of its route, to the
 * picosecond, and at the ideal bound; an all-to-all's bytes are delivered
 * and every switch forwards what it receives; under PXN, cross-rail traffic
 * inside a group crosses NVLink and never a spine; a same-rail permutation
 * never crosses NVLink; no run finishes below the ideal bound on random
 * rails; [faults] on a rail, on both engines; a lone flow on the flow
 * engine as on the packet engine; bad shapes are refused with the key at
 * fault and its text. */
#include "fabric_run.h"

#include <gsl/gsl_rng.h>
#include <math.h>

/* The ports of a route are connected, of the given kinds, in order. */
static void check_route(const struct topo *t, uint32_t a, uint32_t b, uint32_t k, const int *want,
                        uint32_t n)
{
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    assert_int_equal(topo_route_ports(t, a, b, k, ports), n);
    assert_int_equal(t->ports[ports[0]].src, a);
    assert_int_equal(t->ports[ports[n - 1]].dst, b);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(t->ports[ports[i]].kind, want[i]);
    for (uint32_t i = 0; i + 1 < n; i++)
        assert_int_equal(t->ports[ports[i]].dst, t->ports[ports[i + 1]].src);
}

/* 2 groups of 2 servers of 4 GPUs, 3 spines: host h is GPU h % 4 of server
 * h / 4, on rail switch (h / 8) * 4 + h % 4. */
static void test_rail_routes(void **state)
{
    (void)state;
    struct cfg c;
    rail_spec(&c, 2, 2, 4, 3, 1, TOPO_XR_PXN);
    assert_int_equal(c.topo.leaves, 8);
    assert_int_equal(c.topo.hosts_per_leaf, 2);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_int_equal(t->hosts, 16);
    assert_int_equal(t->leaves, 8);
    assert_int_equal(t->npaths, 3);
    assert_int_equal(t->nports, 4 * 16 + 2 * 8 * 3);
    assert_int_equal(topo_port_count(&c.topo), t->nports);
    for (uint32_t h = 0; h < 16; h++)
        assert_int_equal(topo_leaf_of(t, h), (h / 8) * 4 + h % 4);
    static const int nvl[] = {TP_NVL_UP, TP_NVL_DOWN};
    static const int rail[] = {TP_HOST_UP, TP_HOST_DOWN};
    static const int rails[] = {TP_HOST_UP, TP_RAIL_UP, TP_RAIL_DOWN, TP_HOST_DOWN};
    static const int pxn1[] = {TP_NVL_UP, TP_NVL_DOWN, TP_HOST_UP, TP_HOST_DOWN};
    static const int pxn2[] = {TP_NVL_UP,  TP_NVL_DOWN,  TP_HOST_UP,
                               TP_RAIL_UP, TP_RAIL_DOWN, TP_HOST_DOWN};
    for (uint32_t k = 0; k < 3; k++) {
        check_route(t, 0, 1, k, nvl, 2);   /* one server */
        check_route(t, 0, 4, k, rail, 2);  /* one rail switch */
        check_route(t, 0, 8, k, rails, 4); /* one rail, two groups */
        check_route(t, 0, 5, k, pxn1, 4);  /* another rail, one group */
        check_route(t, 0, 9, k, pxn2, 6);  /* another rail and group */
        uint32_t p[TOPO_ROUTE_MAX_PORTS];
        topo_route_ports(t, 0, 9, k, p);
        assert_int_equal(t->ports[p[1]].dst, 1); /* the relay: server 0's GPU on rail 1 */
        assert_int_equal(t->ports[p[3]].dst, t->hosts + t->leaves + k); /* path k: spine k */
    }
    char name[16];
    topo_node_name(t, t->hosts + 5, name, sizeof name);
    assert_string_equal(name, "r5");
    topo_node_name(t, t->hosts + 8 + 2, name, sizeof name);
    assert_string_equal(name, "s2");
    topo_node_name(t, t->hosts + 8 + 3 + 1, name, sizeof name);
    assert_string_equal(name, "n1");
    assert_string_equal(topo_port_kind_name(TP_RAIL_UP), "rail_up");
    assert_string_equal(topo_port_kind_name(TP_RAIL_DOWN), "rail_down");
    assert_true(topo_leaf_uplink_gbps(t, 0) == 3 * c.topo.fabric_gbps);
    /* the placement models see a group as a leaf: its 4 rail switches' uplinks */
    assert_int_equal(topo_place_leaves(t), 2);
    assert_int_equal(topo_spec_place_leaves(&c.topo), 2);
    assert_true(topo_place_uplink_gbps(t) == 4 * 3 * c.topo.fabric_gbps);
    /* the spec's longest route (the workloads' clock checks read it) is
     * PXN's between groups, NVLink and rail latencies differing */
    c.topo.nvlink_latency_ns = 300;
    topo_destroy(t);
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_int_equal(topo_spec_route_prop_ps(&c.topo, TOPO_ROUTE_FABRIC),
                     topo_path_latency(t, 0, 9, 0));
    assert_int_equal(topo_spec_route_prop_ps(&c.topo, TOPO_ROUTE_NVLINK),
                     topo_path_latency(t, 0, 1, 0));
    assert_int_equal(topo_spec_route_prop_ps(&c.topo, TOPO_ROUTE_LEAF),
                     topo_path_latency(t, 0, 4, 0));
    topo_destroy(t);
    rail_spec(&c, 1, 2, 4, 3, 1, TOPO_XR_PXN); /* one group: PXN never reaches a spine */
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_int_equal(topo_spec_route_prop_ps(&c.topo, TOPO_ROUTE_FABRIC),
                     topo_path_latency(t, 0, 5, 0));
    topo_destroy(t);

    rail_spec(&c, 2, 2, 4, 3, 1, TOPO_XR_SPINE);
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    check_route(t, 0, 1, 0, nvl, 2);
    check_route(t, 0, 5, 1, rails, 4);
    check_route(t, 0, 9, 2, rails, 4);
    assert_int_equal(topo_spec_route_prop_ps(&c.topo, TOPO_ROUTE_FABRIC),
                     topo_path_latency(t, 0, 5, 0));
    topo_destroy(t);
}

/* The completion of a lone flow of `size` bytes over hops of rates r[] and
 * latency lat[], store and forward, FIFO: a packet leaves a hop when it has
 * arrived and the packet ahead has left, after its serialization. */
static simtime_t recurrence(uint64_t size, uint64_t mtu, const uint64_t *r, const simtime_t *lat,
                            int n)
{
    simtime_t left[8] = {0}, want = 0;
    for (uint64_t sent = 0; sent < size;) {
        uint64_t b = size - sent < mtu ? size - sent : mtu;
        simtime_t at = 0;
        for (int j = 0; j < n; j++) {
            simtime_t start = at > left[j] ? at : left[j];
            left[j] = start + ser_ps(b, r[j]);
            at = left[j] + lat[j];
        }
        want = at;
        sent += b;
    }
    return want;
}

/* A lone flow on a same-rail route, a PXN cross-rail route and a spine
 * cross-rail route finishes at its recurrence under every path mode but
 * split and ethereal (several subflows), and at the ideal bound; no mode is
 * below the bound. */
static void test_lone_flows(void **state)
{
    (void)state;
    uint64_t H = gbps_to_bps(100), F = gbps_to_bps(200), N = gbps_to_bps(400);
    simtime_t l = ns_to_ps(700), nl = ns_to_ps(250);
    struct {
        int xr;
        uint32_t a, b;
        int n;
        uint64_t r[6];
        simtime_t lat[6];
    } cases[] = {
        {TOPO_XR_PXN, 0, 8, 4, {H, F, F, H}, {l, l, l, l}},               /* same rail */
        {TOPO_XR_PXN, 0, 9, 6, {N, N, H, F, F, H}, {nl, nl, l, l, l, l}}, /* pxn */
        {TOPO_XR_PXN, 0, 5, 4, {N, N, H, H}, {nl, nl, l, l}},             /* pxn, one group */
        {TOPO_XR_SPINE, 0, 9, 4, {H, F, F, H}, {l, l, l, l}},             /* spine */
        {TOPO_XR_SPINE, 0, 5, 4, {H, F, F, H}, {l, l, l, l}},             /* spine, one group */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cfg c;
        rail_spec(&c, 2, 2, 4, 3, 1, cases[i].xr);
        c.topo.host_gbps = 100;
        c.topo.fabric_gbps = 200;
        c.topo.nvlink_gbps = 400;
        c.topo.link_latency_ns = 700;
        c.topo.nvlink_latency_ns = 250;
        c.tr.window_bytes = 1 << 30; /* no window stall: the physics alone */
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        uint64_t size = 1000000;
        simtime_t want = recurrence(size, (uint64_t)c.tr.mtu, cases[i].r, cases[i].lat, cases[i].n);
        struct topo_demand d = {cases[i].a, cases[i].b, size};
        for (int m = 0; m < NPATHS; m++) {
            c.tr.path = all_paths[m];
            simtime_t got = run(t, &c, &d, 1);
            if (c.tr.path != PATH_SPLIT && c.tr.path != PATH_ETHEREAL) { /* one flow */
                if (got != want)
                    fail_msg("case %zu path %d: %llu ps, want %llu", i, all_paths[m],
                             (unsigned long long)got, (unsigned long long)want);
                assert_int_equal(ideal(t, &c, &d, 1), want);
            }
            assert_true(got >= ideal(t, &c, &d, 1));
        }
        simtime_t prop = 0;
        for (int j = 0; j < cases[i].n; j++)
            prop += cases[i].lat[j];
        assert_int_equal(topo_path_latency(t, cases[i].a, cases[i].b, 0), prop);
        topo_destroy(t);
    }
}

/* An all-to-all over 2 groups of 2 servers of 4 GPUs: every byte
 * delivered and every switch conserving bytes, under both cross-rail
 * options and every path mode; never below the ideal bound. */
static void test_all_to_all(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c;
        rail_spec(&c, 2, 2, 4, 2, 1, xr);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct topo_demand *d = xcalloc((size_t)t->hosts * t->hosts, sizeof *d);
        size_t n = all_to_all(t, 100000, 0, 0, d);
        for (int m = 0; m < NPATHS; m++) {
            c.tr.path = all_paths[m];
            simtime_t got = run(t, &c, d, n), lo = ideal(t, &c, d, n);
            assert_true(got >= lo);
            if (c.tr.path == PATH_SPRAY)
                print_message("rail all-to-all, cross_rail %s, spray: cct/ideal %.4f\n",
                              xr ? "spine" : "pxn", (double)got / (double)lo);
        }
        free(d);
        topo_destroy(t);
    }
}

/* Cross-rail pairs inside one group (different servers): under PXN their
 * data and acknowledgements cross NVLink once each way and never a spine;
 * under spine they cross the spines and never NVLink. */
static void test_pxn_avoids_spines(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c;
        rail_spec(&c, 2, 3, 4, 2, 1, xr);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct topo_demand d[256];
        size_t n = 0;
        uint32_t G = 4, per_group = 3 * G;
        for (uint32_t a = 0; a < t->hosts; a++)
            for (uint32_t b = 0; b < t->hosts; b++)
                if (a / per_group == b / per_group && a / G != b / G && a % G != b % G)
                    d[n++] = (struct topo_demand){a, b, 30000 + 7 * n};
        for (int m = 0; m < NPATHS; m++) {
            c.tr.path = all_paths[m];
            run(t, &c, d, n);
            uint64_t nv = kind_bytes[TP_NVL_UP], up = kind_bytes[TP_HOST_UP];
            if (xr == TOPO_XR_PXN) {
                assert_int_equal(kind_bytes[TP_RAIL_UP], 0);
                assert_int_equal(kind_bytes[TP_RAIL_DOWN], 0);
                assert_true(nv > 0);
                /* each packet: one NVLink hop to its relay, one NIC */
                assert_int_equal(nv, up);
                assert_int_equal(kind_bytes[TP_NVL_DOWN], nv);
                assert_int_equal(kind_bytes[TP_HOST_DOWN], up);
            } else {
                assert_int_equal(nv, 0);
                assert_int_equal(kind_bytes[TP_NVL_DOWN], 0);
                assert_int_equal(kind_bytes[TP_RAIL_UP], up);
                assert_int_equal(kind_bytes[TP_RAIL_DOWN], up);
            }
        }
        topo_destroy(t);
    }
}

/* A same-rail permutation (GPU g of each server to GPU g of the next
 * server, across groups) never crosses NVLink, under either option. */
static void test_same_rail_permutation(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c;
        rail_spec(&c, 3, 2, 4, 2, 1, xr);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct topo_demand d[64];
        size_t n = 0;
        for (uint32_t a = 0; a < t->hosts; a++)
            d[n++] = (struct topo_demand){a, (a + 4) % t->hosts, 200000};
        for (int m = 0; m < NPATHS; m++) {
            c.tr.path = all_paths[m];
            simtime_t got = run(t, &c, d, n);
            assert_int_equal(kind_bytes[TP_NVL_UP], 0);
            assert_int_equal(kind_bytes[TP_NVL_DOWN], 0);
            assert_true(kind_bytes[TP_RAIL_UP] > 0); /* servers 1->2 and 3->4 change groups */
            assert_true(got >= ideal(t, &c, d, n));
        }
        topo_destroy(t);
    }
}

/* Random rails and traffic: no run below the ideal bound. */
static void test_random_above_bound(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    static const double gbps[] = {25, 100, 400};
    static const int64_t mtus[] = {64, 1500, 4096};
    struct topo_demand d[256];
    double least = 1e30;
    for (unsigned long seed = 1; seed <= 60; seed++) {
        gsl_rng_set(r, seed);
        struct cfg c;
        rail_spec(&c, 1 + (int64_t)gsl_rng_uniform_int(r, 3),
                  1 + (int64_t)gsl_rng_uniform_int(r, 3), 2 + (int64_t)gsl_rng_uniform_int(r, 3),
                  1 + (int64_t)gsl_rng_uniform_int(r, 3), 1, (int)gsl_rng_uniform_int(r, 2));
        c.topo.host_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.fabric_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.nvlink_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.link_latency_ns = (int64_t)gsl_rng_uniform_int(r, 3) * 500;
        c.topo.nvlink_latency_ns = (int64_t)gsl_rng_uniform_int(r, 3) * 200;
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
        for (int i = 0; i < NPATHS; i++) {
            c.tr.path = all_paths[i];
            simtime_t lo = ideal(t, &c, d, n), got = run(t, &c, d, n);
            if (got < lo)
                fail_msg("seed %lu path %d: cct %llu ps below the ideal %llu ps", seed,
                         all_paths[i], (unsigned long long)got, (unsigned long long)lo);
            if ((double)got / (double)lo < least) least = (double)got / (double)lo;
        }
        topo_destroy(t);
    }
    print_message("60 random rails x %d path modes: least cct/ideal %.4f\n", NPATHS, least);
    gsl_rng_free(r);
}

/* [faults] on a rail: a rail uplink down carries nothing and the other
 * rail switches' spines take its traffic, a degraded one slows what
 * crosses it, every switch conserves bytes, under both options and every
 * path mode, on both engines, never below the ideal bound (which counts
 * the live links: a rail switch with 1 of 2 uplinks left halves its
 * group); a lone flow on the flow engine ends as on the packet engine and
 * at the bound. */
static void test_faults_and_flow_engine(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c;
        rail_spec(&c, 2, 2, 4, 2, 1, xr);
        snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "r0-s1 r5-s0");
        snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "r2-s0:0.25");
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        assert_int_equal(t->ndown, 4);
        struct topo_demand *d = xcalloc((size_t)t->hosts * t->hosts, sizeof *d);
        size_t n = all_to_all(t, 50000, 0, 0, d);
        for (int m = 0; m < NPATHS; m++) {
            c.tr.path = all_paths[m];
            simtime_t got = run(t, &c, d, n), lo = ideal(t, &c, d, n);
            assert_true(got >= lo);
            for (uint32_t q = 0; q < t->nports; q++)
                if (t->ports[q].down) assert_true(t->ports[q].bps > 0); /* rate kept, unused */
            for (int k = 0; k < 2; k++) {                               /* the flow engine, too */
                struct eng_hooks h = {NULL, on_done};
                struct eng *g = eng_create_kind(k ? ENGINE_FLOW : ENGINE_PACKET, t, &c.tr, 1, &h);
                last_end = 0;
                for (size_t i = 0; i < n; i++)
                    eng_add_msg(g, d[i].src, d[i].dst, d[i].bytes, 0, i);
                eng_run(g);
                char msg[256];
                assert_int_equal(eng_check(g, msg, sizeof msg), 0);
                for (uint32_t q = 0; q < t->nports; q++)
                    if (t->ports[q].down) assert_int_equal(eng_port(g, q)->bytes, 0);
                assert_true(last_end >= lo);
                eng_destroy(g);
            }
        }
        /* one rail switch's group is its live uplinks: 0 -> 8 crosses r0's
         * one live uplink (r0-s0) at 200 Gb/s of 400 */
        struct topo_demand big = {0, 8, 10000000};
        assert_true(topo_ideal_ps(t, &big, 1, 4096, 1) >
                    ser_ps(big.bytes, gbps_to_bps(c.topo.fabric_gbps)));
        free(d);
        topo_destroy(t);
    }
    /* a lone flow on the flow engine (same rail, PXN): as the packet
     * engine's, within 0.5%, and at the bound */
    struct cfg c;
    rail_spec(&c, 2, 2, 4, 3, 1, TOPO_XR_PXN);
    c.tr.window_bytes = 1 << 30; /* no window stall (the flow engine has none) */
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    const uint32_t pairs[][2] = {{0, 8}, {0, 9}, {0, 5}, {0, 1}};
    for (int i = 0; i < 4; i++) {
        struct topo_demand d = {pairs[i][0], pairs[i][1], 1000000};
        simtime_t end[2];
        for (int k = 0; k < 2; k++) {
            struct eng_hooks h = {NULL, on_done};
            struct eng *g = eng_create_kind(k ? ENGINE_FLOW : ENGINE_PACKET, t, &c.tr, 1, &h);
            last_end = 0;
            eng_add_msg(g, d.src, d.dst, d.bytes, 0, 0);
            eng_run(g);
            end[k] = last_end;
            eng_destroy(g);
        }
        if (fabs((double)end[1] - (double)end[0]) > 0.005 * (double)end[0])
            fail_msg("pair %d: packet %llu flow %llu", i, (unsigned long long)end[0],
                     (unsigned long long)end[1]);
        simtime_t lo = topo_ideal_ps(t, &d, 1, (uint32_t)c.tr.mtu, 1);
        print_message("rail lone flow %u->%u: packet %llu flow %llu ideal %llu ps\n", d.src, d.dst,
                      (unsigned long long)end[0], (unsigned long long)end[1],
                      (unsigned long long)lo);
        assert_true(end[1] >= lo);
    }
    topo_destroy(t);
}

/* Shapes the build cannot make are refused, naming the key, with its text. */
static void test_bad_shapes(void **state)
{
    (void)state;
    struct cfg c;
    const struct opt_def *bad = NULL;
    struct err e;
    rail_spec(&c, 2, 2, 1, 2, 1, TOPO_XR_PXN);
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "gpus_per_host");
    assert_string_equal(e.msg, "topology.gpus_per_host: 1 GPU per server: a rail fabric has a rail "
                               "per GPU of a server and needs at least 2");
    rail_spec(&c, 4096, 1, 8, 1024, 1, TOPO_XR_PXN);
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "spines");
    assert_string_equal(e.msg, "topology.spines: 33554432 rail switches x spines links, more than "
                               "this build holds (16777216)");
    rail_spec(&c, 4096, 1, 64, 1, 1, TOPO_XR_PXN);
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "groups");
    rail_spec(&c, 2, 2, 8, 2, 1, TOPO_XR_SPINE);
    assert_int_equal(topo_check(&c.topo, &bad, &e), 0);
    assert_true(topo_memory_bytes(&c.topo) > topo_port_count(&c.topo) * sizeof(struct topo_port));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rail_routes),
        cmocka_unit_test(test_lone_flows),
        cmocka_unit_test(test_all_to_all),
        cmocka_unit_test(test_pxn_avoids_spines),
        cmocka_unit_test(test_same_rail_permutation),
        cmocka_unit_test(test_random_above_bound),
        cmocka_unit_test(test_faults_and_flow_engine),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
