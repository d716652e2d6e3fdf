/* test_rail_planes.c - topology.planes on a rail (topo/rail.c): P disjoint
 * rail fabrics, each GPU's NIC a port of host_gbps / P on each, the NIC
 * sending host_gbps in all (sim/pkt_send.c); a path number names its plane
 * (p / spines) and its spine (p % spines). The ports and their kinds per
 * plane; the routes of every kind of pair on each plane; a lone flow
 * finishes at the FIFO recurrence of its packets (the NIC's pacing, then
 * each packet's plane), to the picosecond, on one plane under ecmp and
 * over both under spray_rr, which then runs at the NIC's whole rate; bytes
 * are conserved and both planes carry an all-to-all under every path mode
 * and both cross-rail options; the ideal bound counts a host's plane ports
 * as one group (a lone flow's bound is the NIC's rate, not a plane's) and
 * no run on random plane rails ends below it; bad shapes are refused. */
#include "fabric_run.h"

#include <gsl/gsl_rng.h>
#include <math.h>

/* The plane of a switch node: rail switches, then spines, plane by plane. */
static uint32_t plane_of(const struct topo *t, uint32_t node)
{
    uint32_t x = node - t->hosts;
    return x < t->leaves ? x / t->plane_leaves : (x - t->leaves) / (t->spines / t->planes);
}

/* Data and acknowledgement bytes of the last run on plane k's host_up ports. */
static uint64_t plane_up(const struct topo *t, uint32_t k)
{
    uint64_t b = 0;
    for (uint32_t p = 0; p < t->nports; p++)
        if (t->ports[p].kind == TP_HOST_UP && plane_of(t, t->ports[p].dst) == k) b += port_bytes[p];
    return b;
}

/* 2 groups of 2 servers of 4 GPUs, 3 spines, 2 planes: 16 rail switches
 * (8 a plane), 6 spines, 6 path numbers; ports and kinds per plane; path p
 * crosses plane p / 3's rail switches and its spine p % 3. */
static void test_plane_ports_routes(void **state)
{
    (void)state;
    struct cfg c;
    rail_spec(&c, 2, 2, 4, 3, 2, TOPO_XR_PXN);
    assert_int_equal(c.topo.leaves, 8); /* the spec's: one plane's, for the workloads */
    c.topo.host_gbps = 400;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_int_equal(t->hosts, 16);
    assert_int_equal(t->leaves, 16);
    assert_int_equal(t->spines, 6);
    assert_int_equal(t->planes, 2);
    assert_int_equal(t->npaths, 6);
    assert_int_equal(t->nports, 2 * 16 * 2 + 2 * 16 + 2 * 2 * 8 * 3);
    assert_int_equal(topo_port_count(&c.topo), t->nports);
    uint32_t count[2][TP_KIND_COUNT] = {{0}};
    for (uint32_t q = 0; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->kind == TP_NVL_UP || p->kind == TP_NVL_DOWN) continue;
        uint32_t sw = p->src >= t->hosts ? p->src : p->dst;
        uint32_t k = plane_of(t, sw);
        count[k][p->kind]++;
        if (p->kind == TP_RAIL_UP || p->kind == TP_RAIL_DOWN)
            assert_int_equal(plane_of(t, p->src), plane_of(t, p->dst));
        if (p->kind == TP_HOST_UP || p->kind == TP_HOST_DOWN)
            assert_true(p->bps == gbps_to_bps(200)); /* 400 Gb/s over 2 planes */
    }
    for (int k = 0; k < 2; k++) {
        assert_int_equal(count[k][TP_HOST_UP], 16);
        assert_int_equal(count[k][TP_HOST_DOWN], 16);
        assert_int_equal(count[k][TP_RAIL_UP], 8 * 3);
        assert_int_equal(count[k][TP_RAIL_DOWN], 8 * 3);
    }
    assert_true(t->nic_bps == gbps_to_bps(400));
    static const int rails[] = {TP_HOST_UP, TP_RAIL_UP, TP_RAIL_DOWN, TP_HOST_DOWN};
    static const int pxn2[] = {TP_NVL_UP,  TP_NVL_DOWN,  TP_HOST_UP,
                               TP_RAIL_UP, TP_RAIL_DOWN, TP_HOST_DOWN};
    static const int rail1[] = {TP_HOST_UP, TP_HOST_DOWN};
    for (uint32_t p = 0; p < 6; p++) {
        uint32_t ports[TOPO_ROUTE_MAX_PORTS], k = p / 3;
        /* one rail, two groups: rail switch 4 of plane k, spine p % 3 */
        assert_int_equal(topo_route_ports(t, 0, 8, p, ports), 4);
        for (int i = 0; i < 4; i++)
            assert_int_equal(t->ports[ports[i]].kind, rails[i]);
        assert_int_equal(t->ports[ports[0]].dst, t->hosts + k * 8 + 0);
        assert_int_equal(t->ports[ports[1]].dst, t->hosts + 16 + k * 3 + p % 3);
        assert_int_equal(t->ports[ports[3]].src, t->hosts + k * 8 + 4);
        assert_int_equal(t->ports[ports[3]].dst, 8);
        /* one rail switch: down from plane k's */
        assert_int_equal(topo_route_ports(t, 0, 4, p, ports), 2);
        for (int i = 0; i < 2; i++)
            assert_int_equal(t->ports[ports[i]].kind, rail1[i]);
        assert_int_equal(t->ports[ports[0]].dst, t->hosts + k * 8);
        /* PXN: NVLink to the relay (GPU 1), then its NIC on plane k */
        assert_int_equal(topo_route_ports(t, 0, 9, p, ports), 6);
        for (int i = 0; i < 6; i++)
            assert_int_equal(t->ports[ports[i]].kind, pxn2[i]);
        assert_int_equal(t->ports[ports[2]].src, 1);
        assert_int_equal(t->ports[ports[2]].dst, t->hosts + k * 8 + 1);
        for (uint32_t i = 0; i + 1 < 6; i++)
            assert_int_equal(t->ports[ports[i]].dst, t->ports[ports[i + 1]].src);
    }
    char name[16];
    topo_node_name(t, t->hosts + 8 + 5, name, sizeof name);
    assert_string_equal(name, "r13"); /* plane 1's rail switch 5 */
    topo_node_name(t, t->hosts + 16 + 4, name, sizeof name);
    assert_string_equal(name, "s4"); /* plane 1's spine 1 */
    topo_node_name(t, t->hosts + 16 + 6, name, sizeof name);
    assert_string_equal(name, "n0");
    assert_int_equal(eth_max_subflows(t), 6);
    assert_int_equal(eth_max_subflows_spec(&c.topo), 6);
    char shape[160];
    topo_spec_shape(&c.topo, shape, sizeof shape);
    assert_string_equal(shape, "rail 2 groups x 2 servers x 4 GPUs, 3 spines, pxn, 2 planes");
    topo_destroy(t);
}

/* A lone flow's packets in order, packet i on path pth[i], through FIFO
 * ports: the NIC hands packet i to its plane port at the sum of the earlier
 * packets' serializations at nic bps (sim/pkt_send.c); each port sends a
 * packet when it has arrived and the one ahead has left. Returns the last
 * delivery. */
static simtime_t emulate(const struct topo *t, uint32_t a, uint32_t b, uint64_t size, uint32_t mtu,
                         const uint32_t *pth)
{
    simtime_t *left = xcalloc(t->nports, sizeof *left), nic = 0, end = 0;
    uint64_t i = 0;
    for (uint64_t sent = 0; sent < size; i++) {
        uint32_t w = size - sent < mtu ? (uint32_t)(size - sent) : mtu;
        uint32_t ports[TOPO_ROUTE_MAX_PORTS], n = topo_route_ports(t, a, b, pth[i], ports);
        simtime_t at = topo_via_nvlink(t, a, b) ? 0 : nic; /* NVLink: its port's own pace */
        for (uint32_t j = 0; j < n; j++) {
            const struct topo_port *p = &t->ports[ports[j]];
            simtime_t start = at > left[ports[j]] ? at : left[ports[j]];
            left[ports[j]] = start + ser_ps(w, p->bps);
            at = left[ports[j]] + p->lat_ps;
        }
        if (at > end) end = at;
        nic += ser_ps(w, t->nic_bps);
        sent += w;
    }
    free(left);
    return end;
}

/* One plane's 2 spines... here one spine a plane, so that spray_rr's path
 * numbers alternate planes whatever its start: 100 Gb/s NICs (50 a plane),
 * 200 Gb/s rail-spine links, 700 ns. ecmp keeps the flow on one plane and
 * ends at that plane's recurrence; spray_rr alternates and ends at the
 * recurrence of alternating packets, close to the NIC's whole rate; the
 * ideal bound is at most either and within 1% of spray_rr's. */
static void test_plane_lone_flow(void **state)
{
    (void)state;
    const uint32_t pairs[][2] = {{0, 8}, {0, 4}, {0, 9}};
    for (int xr = 0; xr < 2; xr++)
        for (size_t i = 0; i < 3; i++) {
            struct cfg c;
            rail_spec(&c, 2, 2, 4, 1, 2, xr);
            c.topo.host_gbps = 100;
            c.topo.fabric_gbps = 200;
            c.topo.link_latency_ns = 700;
            c.tr.window_bytes = 1 << 30; /* no window stall: the physics alone */
            struct topo *t;
            struct err e;
            assert_int_equal(topo_build(&c.topo, &t, &e), 0);
            uint64_t size = 1000000;
            uint32_t mtu = (uint32_t)c.tr.mtu, np = (uint32_t)(size / mtu + 1);
            uint32_t *one = xcalloc(np, sizeof *one), *alt = xcalloc(np, sizeof *alt);
            for (uint32_t j = 0; j < np; j++)
                alt[j] = j % 2;
            simtime_t want_one = emulate(t, pairs[i][0], pairs[i][1], size, mtu, one);
            simtime_t want_alt = emulate(t, pairs[i][0], pairs[i][1], size, mtu, alt);
            struct topo_demand d = {pairs[i][0], pairs[i][1], size};
            c.tr.path = PATH_ECMP;
            simtime_t got = run(t, &c, &d, 1);
            if (got != want_one)
                fail_msg("xr %d pair %zu ecmp: %llu ps, want %llu", xr, i, (unsigned long long)got,
                         (unsigned long long)want_one);
            c.tr.path = PATH_SPRAY_RR;
            got = run(t, &c, &d, 1);
            if (got != want_alt)
                fail_msg("xr %d pair %zu spray_rr: %llu ps, want %llu", xr, i,
                         (unsigned long long)got, (unsigned long long)want_alt);
            assert_int_equal(plane_up(t, 0) > 0, 1);
            assert_int_equal(plane_up(t, 1) > 0, 1);
            /* one plane: 50 Gb/s; both: about 100 */
            assert_true((double)want_alt < 0.52 * (double)want_one);
            simtime_t lo = ideal(t, &c, &d, 1);
            assert_true(lo <= want_alt);
            assert_true((double)want_alt < 1.01 * (double)lo);
            for (int m = 0; m < NPATHS; m++) {
                c.tr.path = all_paths[m];
                assert_true(run(t, &c, &d, 1) >= ideal(t, &c, &d, 1));
            }
            free(one);
            free(alt);
            topo_destroy(t);
        }
}

/* An all-to-all on 2 planes: every byte delivered, every switch conserving
 * bytes, both planes' NIC ports carrying traffic under every path mode and
 * both options, spray within 10% of half on each, never below the ideal
 * bound; the flow engine delivers it too, above the bound. */
static void test_plane_all_to_all(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c;
        rail_spec(&c, 2, 2, 4, 2, 2, xr);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct topo_demand *d = xcalloc((size_t)t->hosts * t->hosts, sizeof *d);
        size_t n = all_to_all(t, 100000, 0, 0, d);
        for (int m = 0; m < NPATHS; m++) {
            c.tr.path = all_paths[m];
            simtime_t got = run(t, &c, d, n), lo = ideal(t, &c, d, n);
            assert_true(got >= lo);
            assert_true(plane_up(t, 0) > 0 && plane_up(t, 1) > 0);
            double half = (double)(plane_up(t, 0) + plane_up(t, 1)) / 2;
            if (c.tr.path == PATH_SPRAY) {
                assert_true(fabs((double)plane_up(t, 0) - half) < 0.1 * half);
                print_message("2-plane rail all-to-all, cross_rail %s, spray: cct/ideal %.4f\n",
                              xr ? "spine" : "pxn", (double)got / (double)lo);
            }
            if (c.tr.path == PATH_ETHEREAL) /* every plane's paths, each as often */
                assert_true(fabs((double)plane_up(t, 0) - half) < 0.02 * half);
            if (c.tr.path == PATH_SPRAY || c.tr.path == PATH_ECMP) {
                simtime_t f = run_kind(ENGINE_FLOW, t, &c, d, n);
                assert_true(f >= lo);
                if (c.tr.path == PATH_SPRAY) { /* the fluid spray: every plane alike */
                    double h2 = (double)(plane_up(t, 0) + plane_up(t, 1)) / 2;
                    assert_true(fabs((double)plane_up(t, 0) - h2) < 0.01 * h2);
                }
            }
        }
        free(d);
        topo_destroy(t);
    }
}

/* The ideal bound with planes: a host's plane ports are one group at the
 * NIC's rate, so a large lone flow's bound on 2 planes of 50 Gb/s is that
 * of one 100 Gb/s plane up to the per-hop serializations of its first and
 * last packets, and half of what one plane alone would take. */
static void test_plane_ideal(void **state)
{
    (void)state;
    struct cfg c1, c2;
    rail_spec(&c1, 2, 2, 4, 2, 1, TOPO_XR_PXN);
    rail_spec(&c2, 2, 2, 4, 2, 2, TOPO_XR_PXN);
    c1.topo.host_gbps = c2.topo.host_gbps = 100;
    struct topo *t1, *t2;
    struct err e;
    assert_int_equal(topo_build(&c1.topo, &t1, &e), 0);
    assert_int_equal(topo_build(&c2.topo, &t2, &e), 0);
    struct topo_demand d = {0, 8, 10000000};
    simtime_t b1 = topo_ideal_ps(t1, &d, 1, 4096, 1), b2 = topo_ideal_ps(t2, &d, 1, 4096, 1);
    simtime_t hop = ser_ps(4096, gbps_to_bps(50));
    assert_true(b2 >= b1 && b2 <= b1 + 4 * hop);
    assert_true((double)b2 < 0.51 * (double)ser_ps(d.bytes, gbps_to_bps(50)) + 4.0 * (double)hop);
    topo_destroy(t1);
    topo_destroy(t2);
}

/* Random plane rails (shapes, planes, speeds, MTU, traffic, a rail link
 * down or degraded) under every path mode: never below the ideal bound. */
static void test_plane_random_above_bound(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 12);
    double least = 1e9;
    for (int inst = 0; inst < 30; inst++) {
        struct cfg c;
        int64_t G = 2 + (int64_t)gsl_rng_uniform_int(r, 3),
                S = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
        rail_spec(&c, 1 + (int64_t)gsl_rng_uniform_int(r, 2),
                  1 + (int64_t)gsl_rng_uniform_int(r, 3), G, S,
                  2 + (int64_t)gsl_rng_uniform_int(r, 2), (int)gsl_rng_uniform_int(r, 2));
        c.topo.host_gbps = 100 * (double)(1 + gsl_rng_uniform_int(r, 4));
        c.topo.fabric_gbps = 100 * (double)(1 + gsl_rng_uniform_int(r, 4));
        c.tr.mtu = gsl_rng_uniform_int(r, 2) ? 4096 : 1500;
        if (inst % 3 == 1 && S > 1)
            snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "r0-s0");
        if (inst % 3 == 2)
            snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "r0-s0:0.5");
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e) < 0) fail_msg("instance %d: %s", inst, e.msg);
        size_t n = 0;
        struct topo_demand *d = xcalloc((size_t)t->hosts * t->hosts, sizeof *d);
        int kind = (int)gsl_rng_uniform_int(r, 3);
        for (uint32_t a = 0; a < t->hosts; a++)
            for (uint32_t b = 0; b < t->hosts; b++) {
                if (a == b) continue;
                int keep = kind == 0 ? b == 0 : kind == 1 ? b == (a + 1) % t->hosts : 1;
                if (keep) d[n++] = (struct topo_demand){a, b, 1 + gsl_rng_uniform_int(r, 200000)};
            }
        for (int m = 0; m < NPATHS; m++) {
            c.tr.path = all_paths[m];
            simtime_t got = run(t, &c, d, n), lo = ideal(t, &c, d, n);
            if (got < lo)
                fail_msg("instance %d path %d: %llu ps below the bound %llu", inst, all_paths[m],
                         (unsigned long long)got, (unsigned long long)lo);
            if ((double)got / (double)lo < least) least = (double)got / (double)lo;
        }
        free(d);
        topo_destroy(t);
    }
    print_message("30 random plane rails x %d path modes: least cct/ideal %.4f\n", NPATHS, least);
    gsl_rng_free(r);
}

/* A GPU's link to one plane down ([faults] down, topo/rail.c
 * topo_plane_live): h0's link to plane 1 (r8). A lone 1 MB flow from h0, or
 * to it, on every kind of route, under every per-packet mode, keeps to
 * plane 0 and finishes at the FIFO recurrence of its packets all on plane
 * 0, to the picosecond; an all-to-all under every mode and both options
 * delivers every byte with none on the dead ports (run_kind), never below
 * the bound, which counts h0's one live port (above the healthy bound). */
static void test_plane_gpu_link_down(void **state)
{
    (void)state;
    const uint32_t pairs[][2] = {{0, 8}, {0, 4}, {0, 9}, {9, 0}};
    const int modes[] = {PATH_ECMP, PATH_SPRAY, PATH_SPRAY_RR, PATH_ADAPTIVE, PATH_FLOWLET};
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c;
        rail_spec(&c, 2, 2, 4, 1, 2, xr);
        c.topo.host_gbps = 100;
        c.topo.fabric_gbps = 200;
        c.topo.link_latency_ns = 700;
        c.tr.window_bytes = 1 << 30;
        snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "h0-r8");
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        assert_int_equal(t->plane_host_down, 1);
        assert_int_equal(topo_plane_mask(t, 0, 8), 1);
        assert_int_equal(topo_plane_mask(t, 1, 9), 3);
        uint64_t size = 1000000;
        uint32_t mtu = (uint32_t)c.tr.mtu, np = (uint32_t)(size / mtu + 1);
        uint32_t *one = xcalloc(np, sizeof *one);
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
            simtime_t want = emulate(t, pairs[i][0], pairs[i][1], size, mtu, one);
            struct topo_demand d = {pairs[i][0], pairs[i][1], size};
            for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
                c.tr.path = modes[m];
                simtime_t got = run(t, &c, &d, 1);
                if (got != want)
                    fail_msg("xr %d pair %zu mode %d: %llu ps, want %llu", xr, i, modes[m],
                             (unsigned long long)got, (unsigned long long)want);
                assert_int_equal(plane_up(t, 1), 0);
            }
        }
        free(one);
        /* an all-to-all of 64 KiB a pair */
        struct cfg h = c;
        h.topo.faults.down[0] = 0;
        struct topo *th;
        assert_int_equal(topo_build(&h.topo, &th, &e), 0);
        uint32_t H = t->hosts;
        struct topo_demand *d = xcalloc((size_t)H * H, sizeof *d);
        size_t n = 0;
        for (uint32_t a = 0; a < H; a++)
            for (uint32_t b = 0; b < H; b++)
                if (a != b) d[n++] = (struct topo_demand){a, b, 65536};
        for (int i = 0; i < NPATHS; i++) {
            c.tr.path = h.tr.path = all_paths[i];
            simtime_t got = run(t, &c, d, n), lb = ideal(t, &c, d, n), lb0 = ideal(th, &h, d, n);
            if (got < lb)
                fail_msg("xr %d %d: %llu below the bound %llu", xr, all_paths[i],
                         (unsigned long long)got, (unsigned long long)lb);
            assert_true(lb > lb0);
        }
        free(d);
        topo_destroy(th);
        topo_destroy(t);
    }
}

/* Shapes and faults the planes cannot take, with their text. */
static void test_plane_bad(void **state)
{
    (void)state;
    struct cfg c;
    const struct opt_def *bad = NULL;
    struct err e;
    rail_spec(&c, 2, 2, 4, 2, 2, TOPO_XR_PXN);
    /* h0 on plane 1 only, h4 (the same rail) on plane 0 only */
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "h0-r0 h4-r8");
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "down");
    assert_string_equal(e.msg, "faults.down: the links down leave hosts h0 and h4 no plane on "
                               "which both reach each other (a packet keeps its plane end to end, "
                               "its answer too)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plane_ports_routes),  cmocka_unit_test(test_plane_lone_flow),
        cmocka_unit_test(test_plane_gpu_link_down), cmocka_unit_test(test_plane_all_to_all),
        cmocka_unit_test(test_plane_ideal),         cmocka_unit_test(test_plane_random_above_bound),
        cmocka_unit_test(test_plane_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
