/* test_pathmodes.c - the path modes of issue 12 (docs/fabrics.md, Routing):
 * ethereal loads every uplink with exactly the same data on a leaf-spine
 * all-to-all (and over the live uplinks with a spine down), on a ring
 * all-reduce's steps and on a fat-tree's two upward tiers, where hash ECMP
 * does not; per-switch ECMP hashing on a fat-tree
 * spreads one pod's flows over every core (a hash shared by the switches
 * would use half of them); flowlet with an endless gap is ecmp exactly and
 * with gap 0 sprays; adaptive at every switch beats or equals ecmp on a
 * fat-tree permutation; a lone flow finishes at its closed form under every
 * mode; runs repeat exactly. */
#include "fabric_run.h"

#include "sim/ecmp.h"

static void ls_spec(struct cfg *c, int64_t leaves, int64_t spines, int64_t hpl)
{
    cfg_defaults(c);
    c->topo.leaves = leaves;
    c->topo.spines = spines;
    c->topo.hosts_per_leaf = hpl;
    c->topo.host_gbps = c->topo.fabric_gbps = 100;
}

/* The reverse port of q (the link's other direction). */
static uint32_t reverse(const struct topo *t, uint32_t q)
{
    for (uint32_t p = 0; p < t->nports; p++)
        if (t->ports[p].src == t->ports[q].dst && t->ports[p].dst == t->ports[q].src) return p;
    fail_msg("port %u has no reverse", q);
    return 0;
}

/* Data packets that left port q upward: its bytes U are its data packets'
 * (mtu each) plus the acknowledgements (ack_bytes each, one per packet) of
 * the data that came down its reverse link, whose bytes W are that data
 * plus the acknowledgements of q's: U = n mtu + m a, W = m mtu + n a. */
static uint64_t data_pkts_up(const struct topo *t, const struct wl_result *r, uint32_t q,
                             uint64_t mtu, uint64_t ack)
{
    uint64_t U = r->run.ports[q].bytes, W = r->run.ports[reverse(t, q)].bytes;
    int64_t num = (int64_t)(U * mtu) - (int64_t)(W * ack), den = (int64_t)(mtu * mtu - ack * ack);
    assert_int_equal(num % den, 0);
    return (uint64_t)(num / den);
}

/* Max and min data packets over the ports of kind `kind`. */
static void spread_of(const struct topo *t, const struct wl_result *r, int kind, uint64_t mtu,
                      uint64_t ack, uint64_t *mx, uint64_t *mn)
{
    *mx = 0;
    *mn = UINT64_MAX;
    for (uint32_t q = 0; q < t->nports; q++) {
        if (t->ports[q].kind != kind) continue;
        uint64_t n = data_pkts_up(t, r, q, mtu, ack);
        if (n > *mx) *mx = n;
        if (n < *mn) *mn = n;
    }
}

/* A leaf-spine all-to-all: ethereal puts the same data on every uplink of
 * every leaf (r remote flows per source, s spines: shapes with g = gcd(r, s)
 * = s, 2 and 1), ECMP does not. Flows of a whole number of packets per
 * subflow, one acknowledgement per packet. */
static void test_ethereal_alltoall(void **state)
{
    (void)state;
    const int64_t shapes[][3] = {{4, 4, 4}, {3, 4, 3}, {2, 8, 3}, {5, 3, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int mode = 0; mode < 2; mode++) {
            struct cfg c;
            ls_spec(&c, shapes[s][0], shapes[s][1], shapes[s][2]);
            c.wl.kind = WL_ALLTOALL;
            c.wl.bytes = 4096 * 8 * 3; /* 3 packets per subflow at s/g = 8 */
            c.tr.path = mode ? PATH_ECMP : PATH_ETHEREAL;
            struct topo *t;
            struct wl_result r;
            tu_run(&c, &r, &t);
            uint64_t mx, mn;
            spread_of(t, &r, TP_LEAF_UP, 4096, (uint64_t)c.tr.ack_bytes, &mx, &mn);
            uint64_t H = t->hosts, hpl = t->hosts_per_leaf, pkts = (uint64_t)c.wl.bytes / 4096;
            if (mode == 0) {
                if (mx != mn)
                    fail_msg("ethereal %lldx%lldx%lld: uplinks carry %llu to %llu data packets",
                             (long long)shapes[s][0], (long long)shapes[s][1],
                             (long long)shapes[s][2], (unsigned long long)mn,
                             (unsigned long long)mx);
                /* each uplink: its leaf's remote data over the spines */
                assert_int_equal(mx * t->npaths, hpl * (H - hpl) * pkts);
            } else {
                assert_true(mx > mn);
            }
            wl_result_free(&r);
            topo_destroy(t);
        }
    }
}

/* With spine s3 down at every leaf ([faults]), ethereal spreads each
 * source's flows over the three live uplinks: each carries the same data,
 * the down one none. */
static void test_ethereal_live_uplinks(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 4, 4, 3); /* r = 9 remote flows, s = 3 live: g = 3, one subflow each */
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s3 l1-s3 l2-s3 l3-s3");
    c.wl.kind = WL_ALLTOALL;
    c.wl.bytes = 4096 * 6;
    c.tr.path = PATH_ETHEREAL;
    struct topo *t;
    struct wl_result r;
    tu_run(&c, &r, &t);
    uint64_t mx = 0, mn = UINT64_MAX;
    for (uint32_t q = 0; q < t->nports; q++) {
        if (t->ports[q].kind != TP_LEAF_UP) continue;
        if (t->ports[q].down) {
            assert_int_equal(r.run.ports[q].bytes, 0);
            continue;
        }
        uint64_t n = data_pkts_up(t, &r, q, 4096, (uint64_t)c.tr.ack_bytes);
        if (n > mx) mx = n;
        if (n < mn) mn = n;
    }
    assert_int_equal(mx, mn);
    assert_int_equal(mx * 3, 3 * 9 * 6); /* a leaf's 3 hosts x 9 flows x 6 packets */
    wl_result_free(&r);
    topo_destroy(t);
}

/* One link down (l0-s3): a source off l0 sees 3 live paths toward l0 and 4
 * toward the others. Split s/g ways (g = gcd(4, 3) = 1) each flow to l0
 * would be 3 subflows against 1 for the others; when a source's flows see
 * different path counts, a group of at least s flows takes one subflow
 * each, cycling the paths, so every demand is one subflow and within each
 * group the live paths carry within one flow of one another; every byte
 * is assigned. */
static void test_ethereal_mixed_groups(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 4, 4, 4);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s3");
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    for (uint32_t a = 0; a < t->hosts; a++) {
        struct topo_demand d[16];
        size_t n = 0;
        for (uint32_t b = 0; b < t->hosts; b++)
            if (topo_leaf_of(t, b) != topo_leaf_of(t, a))
                d[n++] = (struct topo_demand){a, b, 40000};
        struct eth_sub *subs;
        size_t *off;
        size_t ns = eth_assign(t, d, n, &subs, &off);
        assert_int_equal(ns, n); /* one subflow per flow */
        /* per group (toward l0: 3 paths; toward the others: 4, or 3 from
         * l0 itself), flows per live spine */
        uint32_t per[2][4] = {{0}};
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(subs[off[i]].bytes, 40000);
            uint32_t ports[TOPO_ROUTE_MAX_PORTS];
            topo_route_ports(t, a, d[i].dst, subs[off[i]].path, ports);
            assert_int_equal(t->ports[ports[1]].down, 0);
            per[topo_leaf_of(t, d[i].dst) == 0][(t->ports[ports[1]].dst - t->hosts) - t->leaves]++;
        }
        for (int gi = 0; gi < 2; gi++) {
            uint32_t mx = 0, mn = UINT32_MAX, live = gi || topo_leaf_of(t, a) == 0 ? 3 : 4;
            for (uint32_t k = 0; k < live; k++) {
                if (per[gi][k] > mx) mx = per[gi][k];
                if (per[gi][k] < mn) mn = per[gi][k];
            }
            if (topo_leaf_of(t, a) != 0 || gi == 0) assert_true(mx - mn <= 1);
        }
        free(subs);
        free(off);
    }
    topo_destroy(t);
}

/* A ring all-reduce's steps are one flow per source: ethereal splits each
 * into s subflows, one per spine, so every step loads every uplink alike
 * (the assignment, per step) and the run's uplinks carry the same data
 * (the engine); ECMP puts each step on one spine. */
static void test_ethereal_ring(void **state)
{
    (void)state;
    const uint32_t N = 8;
    for (int mode = 0; mode < 2; mode++) {
        struct cfg c;
        ls_spec(&c, 4, 4, 2);
        c.wl.kind = WL_ALLREDUCE;
        c.wl.algo = WL_ALGO_RING;
        c.wl.bytes = (int64_t)N * 4 * 4096 * 2; /* a step: 2 packets per spine */
        c.tr.path = mode ? PATH_ECMP : PATH_ETHEREAL;
        struct topo *t;
        struct wl_result r;
        tu_run(&c, &r, &t);
        assert_int_equal(r.run.nphases, 2 * (N - 1) * N);
        uint64_t mx, mn;
        spread_of(t, &r, TP_LEAF_UP, 4096, (uint64_t)c.tr.ack_bytes, &mx, &mn);
        if (mode == 0)
            assert_int_equal(mx, mn);
        else
            assert_true(mx > mn);
        if (mode == 0) {
            /* one step: host i to host i+1, bytes/N each */
            struct topo_demand d[8];
            for (uint32_t i = 0; i < N; i++)
                d[i] = (struct topo_demand){i, (i + 1) % N, (uint64_t)c.wl.bytes / N};
            struct eth_sub *subs;
            size_t *off;
            eth_assign(t, d, N, &subs, &off);
            for (uint32_t i = 0; i < N; i++) {
                uint32_t la = topo_leaf_of(t, i), lb = topo_leaf_of(t, (i + 1) % N);
                if (la == lb) {
                    assert_int_equal(off[i + 1] - off[i], 1);
                    continue;
                }
                uint64_t per[4] = {0};
                assert_int_equal(off[i + 1] - off[i], 4);
                for (size_t j = off[i]; j < off[i + 1]; j++)
                    per[subs[j].path] += subs[j].bytes;
                for (int k = 0; k < 4; k++)
                    assert_int_equal(per[k], d[i].bytes / 4);
            }
            free(subs);
            free(off);
        }
        wl_result_free(&r);
        topo_destroy(t);
    }
}

/* A fat-tree all-to-all: ethereal's path numbers (cycling through every
 * (aggregation, core) pair) load every leaf uplink and every aggregation
 * switch's core uplink with the same data; ECMP does not. */
static void test_ethereal_fat_tree(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        struct cfg c;
        ft_spec(&c, 4, 2, 2, 4, 2);
        c.wl.kind = WL_ALLTOALL;
        c.wl.bytes = 4096 * 4 * 2;
        c.tr.path = mode ? PATH_ECMP : PATH_ETHEREAL;
        struct topo *t;
        struct wl_result r;
        tu_run(&c, &r, &t);
        uint64_t mx, mn, amx, amn;
        spread_of(t, &r, TP_LEAF_UP, 4096, (uint64_t)c.tr.ack_bytes, &mx, &mn);
        spread_of(t, &r, TP_AGG_UP, 4096, (uint64_t)c.tr.ack_bytes, &amx, &amn);
        if (mode == 0) {
            assert_int_equal(mx, mn);
            assert_int_equal(amx, amn);
        } else {
            assert_true(mx > mn || amx > amn);
        }
        wl_result_free(&r);
        topo_destroy(t);
    }
}

/* Per-switch hashing: flows from one pod to the others spread over every
 * core under ECMP, each aggregation switch's two core uplinks both used
 * and evenly; had the aggregation switches read the leaf's hash again (one
 * hash for every switch, h % n at each), a flow on aggregation switch j
 * would always take its core j: half the cores. The mixed-radix reading of
 * one hash (before) used every core too; per-switch hashes keep that. */
static void test_per_switch_hash(void **state)
{
    (void)state;
    struct cfg c;
    ft_spec(&c, 4, 2, 2, 4, 2); /* a pod: 2 leaves x 2 hosts; each agg has 2 cores */
    c.tr.path = PATH_ECMP;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct eng_hooks h = {NULL, NULL};
    struct eng *en = eng_create(t, &c.tr, (uint64_t)c.sim.seed, &h);
    /* 4 hosts of pod 0, each to every host of the other pods, 16 KiB */
    uint32_t nflows = 0;
    for (uint32_t a = 0; a < 4; a++)
        for (uint32_t b = 4; b < t->hosts; b++, nflows++)
            eng_add_msg(en, a, b, 16384, 0, nflows);
    eng_run(en);
    char msg[384];
    if (eng_check(en, msg, sizeof msg) < 0) fail_msg("%s", msg);
    /* every agg_up port of pod 0 (a0, a1: 2 cores each) carried data */
    uint32_t used = 0;
    uint64_t mx = 0, mn = UINT64_MAX;
    for (uint32_t q = 0; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->kind != TP_AGG_UP || p->src - t->hosts - t->leaves >= 2) continue;
        uint64_t b = eng_port(en, q)->bytes;
        used += b > 16384;
        if (b > mx) mx = b;
        if (b < mn) mn = b;
    }
    assert_int_equal(used, 4);
    /* 48 flows over 4 cores: no core gets more than twice another's */
    assert_true(mx < 2 * mn);
    /* the shared-hash scheme, from the same flow hashes: core index at agg
     * j = (h % 2), agg j = h % 2: only cores (0, 0) and (1, 1) */
    uint64_t seed = rng_seed((uint64_t)c.sim.seed, RNG_NET_HASH, 0);
    int shared[2][2] = {{0}}, perswitch[2][2] = {{0}}, radix[2][2] = {{0}};
    uint32_t nth = 0;
    for (uint32_t a = 0; a < 4; a++)
        for (uint32_t b = 4; b < t->hosts; b++, nth++) {
            uint64_t key = eng_ecmp_key(seed, a, b, nth);
            uint32_t p = eng_ecmp_path(key, 0, t->npaths), j = p % 2;
            shared[j][p % 2]++;
            radix[j][(p / 2) % 2]++; /* the mixed-radix digit (before) */
            uint32_t fk = p | eng_ecmp_ent16(key, 0) << 16;
            uint32_t agg = t->leaves + (a / 4) * 2 + j; /* switch row of a0/a1 */
            perswitch[j][eng_ecmp_hop(seed, fk, agg) % 2]++;
        }
    assert_int_equal(shared[0][1] + shared[1][0], 0);
    int cores_perswitch = 0, cores_radix = 0;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            cores_perswitch += perswitch[j][i] > 0;
            cores_radix += radix[j][i] > 0;
        }
    assert_int_equal(cores_perswitch, 4);
    assert_int_equal(cores_radix, 4);
    eng_destroy(en);
    topo_destroy(t);
}

/* Flowlet: with a gap longer than the run every flow keeps its ECMP path
 * (the run is ecmp's, link by link); with gap 0 every packet takes a new
 * random path, as spraying: its uplinks within 25% of one another (spray's
 * are within 14% at this size), closer than ECMP's, and its completion
 * within 5% of spray's. */
static void test_flowlet_limits(void **state)
{
    (void)state;
    for (int fab = 0; fab < 2; fab++) {
        struct cfg c;
        if (fab)
            ft_spec(&c, 4, 2, 2, 4, 2);
        else
            ls_spec(&c, 4, 4, 4);
        c.wl.kind = WL_ALLTOALL;
        c.wl.bytes = 262144;
        const int modes[4] = {PATH_ECMP, PATH_FLOWLET, PATH_FLOWLET, PATH_SPRAY};
        const int64_t gaps[4] = {0, 1000000000000LL, 0, 0};
        simtime_t end[4];
        uint64_t *bytes[4];
        struct topo *t = NULL;
        for (int m = 0; m < 4; m++) {
            c.tr.path = modes[m];
            c.tr.flowlet_gap_ns = gaps[m];
            struct wl_result r;
            if (t) topo_destroy(t);
            tu_run(&c, &r, &t);
            end[m] = tu_end(&r);
            bytes[m] = xmalloc(t->nports * sizeof *bytes[m]);
            for (uint32_t q = 0; q < t->nports; q++)
                bytes[m][q] = r.run.ports[q].bytes;
            wl_result_free(&r);
        }
        assert_int_equal(end[1], end[0]);
        assert_memory_equal(bytes[1], bytes[0], t->nports * sizeof *bytes[0]);
        uint64_t mx[4] = {0}, mn[4] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
        for (int m = 0; m < 4; m++) {
            for (uint32_t q = 0; q < t->nports; q++) {
                if (t->ports[q].kind != TP_LEAF_UP) continue;
                if (bytes[m][q] > mx[m]) mx[m] = bytes[m][q];
                if (bytes[m][q] < mn[m]) mn[m] = bytes[m][q];
            }
            free(bytes[m]);
        }
        print_message("fab %d max/min uplink: ecmp %.3f flowlet0 %.3f spray %.3f\n", fab,
                      (double)mx[0] / mn[0], (double)mx[2] / mn[2], (double)mx[3] / mn[3]);
        /* spray's own spread at this size: max/min 1.135 on the leaf-spine */
        assert_true((double)mx[2] < 1.25 * (double)mn[2]);
        assert_true((double)mx[2] * mn[0] < (double)mx[0] * mn[2]);
        double rel = (double)end[2] / (double)end[3];
        if (rel > 1.05 || rel < 0.95)
            fail_msg("fabric %d: flowlet gap 0 ends at %.4f x spray's", fab, rel);
        topo_destroy(t);
    }
}

/* Adaptive at every switch (the aggregation switches too) finishes a
 * fat-tree permutation no later than ECMP, over seeds. */
static void test_adaptive_fat_tree(void **state)
{
    (void)state;
    for (int64_t seed = 1; seed <= 4; seed++) {
        simtime_t end[2];
        for (int m = 0; m < 2; m++) {
            struct cfg c;
            ft_spec(&c, 4, 2, 2, 4, 4);
            c.wl.kind = WL_PERMUTATION;
            c.wl.bytes = 262144;
            c.sim.seed = seed;
            c.tr.path = m ? PATH_ADAPTIVE : PATH_ECMP;
            struct topo *t;
            struct wl_result r;
            tu_run(&c, &r, &t);
            end[m] = tu_end(&r);
            wl_result_free(&r);
            topo_destroy(t);
        }
        if (end[1] > end[0])
            fail_msg("seed %lld: adaptive %llu ps after ecmp's %llu ps", (long long)seed,
                     (unsigned long long)end[1], (unsigned long long)end[0]);
    }
}

/* A lone flow across the fabric (two leaves of a leaf-spine; two pods of a
 * fat-tree) finishes exactly at its ideal bound, which for one flow is the
 * store-and-forward pipeline (test_fat_tree.c checks that by hand), under
 * every mode: one path, or ethereal's s subflows of one flow. */
static void test_lone_flow_every_mode(void **state)
{
    (void)state;
    for (int fab = 0; fab < 2; fab++)
        for (size_t i = 0; i < NPATHS; i++) {
            if (all_paths[i] == PATH_SPLIT) continue; /* its subflows: test_fat_tree.c */
            struct cfg c;
            if (fab)
                ft_spec(&c, 2, 2, 2, 4, 2);
            else
                ls_spec(&c, 2, 4, 2);
            c.tr.path = all_paths[i];
            c.tr.window_bytes = 1 << 30;
            c.tr.flowlet_gap_ns = 0;
            struct topo *t;
            struct err e;
            assert_int_equal(topo_build(&c.topo, &t, &e), 0);
            struct topo_demand d = {0, t->hosts - 1, 1 << 20};
            struct eng_hooks h = {NULL, on_done};
            struct eng *en = eng_create(t, &c.tr, 1, &h);
            last_end = 0;
            eng_add_msg(en, d.src, d.dst, d.bytes, 0, 0);
            eng_run(en);
            char msg[384];
            if (eng_check(en, msg, sizeof msg) < 0) fail_msg("%s", msg);
            simtime_t want = c.tr.path == PATH_ETHEREAL ? eth_ideal_ps(t, &d, 1, 4096)
                                                        : topo_ideal_ps(t, &d, 1, 4096, 1);
            if (last_end != want)
                fail_msg("fabric %d path %d: lone flow %llu ps, expected %llu", fab, c.tr.path,
                         (unsigned long long)last_end, (unsigned long long)want);
            eng_destroy(en);
            topo_destroy(t);
        }
}

/* The same configuration twice gives the same run, link by link, under
 * every mode and on both fabrics; another seed moves the hashed modes. */
static void test_determinism(void **state)
{
    (void)state;
    for (int fab = 0; fab < 2; fab++)
        for (size_t i = 0; i < NPATHS; i++) {
            struct cfg c;
            if (fab)
                ft_spec(&c, 4, 2, 2, 4, 2);
            else
                ls_spec(&c, 4, 4, 2);
            c.wl.kind = WL_ALLTOALL;
            c.wl.bytes = 65536;
            c.tr.path = all_paths[i];
            c.tr.flowlet_gap_ns = 2000;
            simtime_t end[2];
            uint64_t *bytes[2];
            uint32_t np = 0;
            for (int k = 0; k < 2; k++) {
                struct topo *t;
                struct wl_result r;
                tu_run(&c, &r, &t);
                end[k] = tu_end(&r);
                np = t->nports;
                bytes[k] = xmalloc(np * sizeof *bytes[k]);
                for (uint32_t q = 0; q < np; q++)
                    bytes[k][q] = r.run.ports[q].bytes;
                wl_result_free(&r);
                topo_destroy(t);
            }
            assert_int_equal(end[0], end[1]);
            assert_memory_equal(bytes[0], bytes[1], np * sizeof *bytes[0]);
            free(bytes[0]);
            free(bytes[1]);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethereal_alltoall), cmocka_unit_test(test_ethereal_live_uplinks),
        cmocka_unit_test(test_ethereal_ring),     cmocka_unit_test(test_ethereal_fat_tree),
        cmocka_unit_test(test_per_switch_hash),   cmocka_unit_test(test_flowlet_limits),
        cmocka_unit_test(test_adaptive_fat_tree), cmocka_unit_test(test_lone_flow_every_mode),
        cmocka_unit_test(test_determinism),       cmocka_unit_test(test_ethereal_mixed_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
