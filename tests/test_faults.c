/* test_faults.c - failed and degraded links known before the run ([faults],
 * topo/faults.c): with k of s spines down, spraying's all-to-all completion
 * (and the ideal bound) grows as s/(s-k); a degraded link slows exactly the
 * ECMP flows hashed onto it; a down link carries no byte and every switch
 * forwards the bytes it receives, on a leaf-spine and a fat-tree, every path
 * mode; the random choice is a function of the seed; bad lists are refused
 * with the exact message and the key at fault. */
#include "fabric_run.h"

#include <math.h>

static void ls_spec(struct cfg *c, int64_t leaves, int64_t spines, int64_t hpl)
{
    cfg_defaults(c);
    c->topo.leaves = leaves;
    c->topo.spines = spines;
    c->topo.hosts_per_leaf = hpl;
    c->topo.faults.seed = 1;
}

static struct topo *build(const struct cfg *c)
{
    struct topo *t = NULL;
    struct err e;
    if (topo_build(&c->topo, &t, &e) < 0) fail_msg("%s", e.msg);
    return t;
}

/* "l0-sK l1-sK ..." for spines K in [s - k, s): those spines cut off. */
static void spines_down(struct cfg *c, int64_t leaves, int64_t s, int64_t k)
{
    char *w = c->topo.faults.down;
    w[0] = 0;
    for (int64_t j = s - k; j < s; j++)
        for (int64_t l = 0; l < leaves; l++)
            w += sprintf(w, "%sl%lld-s%lld", w == c->topo.faults.down ? "" : " ", (long long)l,
                         (long long)j);
}

/* A fabric-bound all-to-all (4:1 oversubscribed) sprayed over s = 4
 * spines: with k of them down it takes s/(s-k) as long, within 4%, and so
 * does the ideal bound (within 1%); the bound stays below the completion. */
static void test_spray_spines_down(void **state)
{
    (void)state;
    const int64_t L = 4, S = 4;
    simtime_t t0 = 0, i0 = 0;
    for (int64_t k = 0; k < S; k++) {
        struct cfg c;
        ls_spec(&c, L, S, 4);
        c.topo.fabric_gbps = 25;
        c.tr.path = PATH_SPRAY;
        spines_down(&c, L, S, k);
        struct topo *t = build(&c);
        assert_int_equal(t->ndown, 2 * L * k);
        assert_int_equal(t->npaths, S - k);
        struct topo_demand d[256];
        size_t n = all_to_all(t, 1 << 20, 0, 0, d);
        simtime_t done = run(t, &c, d, n), lb = ideal(t, &c, d, n);
        assert_true(lb <= done);
        if (k == 0) {
            t0 = done;
            i0 = lb;
        } else {
            double want = (double)S / (double)(S - k);
            double got = (double)done / (double)t0, got_lb = (double)lb / (double)i0;
            if (fabs(got / want - 1) > 0.04)
                fail_msg("%lld of %lld spines down: completion x%.4f, want x%.4f", (long long)k,
                         (long long)S, got, want);
            if (fabs(got_lb / want - 1) > 0.01)
                fail_msg("%lld of %lld spines down: ideal x%.4f, want x%.4f", (long long)k,
                         (long long)S, got_lb, want);
        }
        topo_destroy(t);
    }
}

/* Leaf 0's hosts each send to one host of leaf 1 by ECMP. Degrading the
 * uplink of a spine that carries some of them slows exactly the flows hashed
 * onto it (their bytes are the link's), at half rate about twice as long;
 * every other flow ends at the very same picosecond. */
static void test_degraded_slows_its_ecmp_flows(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 2, 4, 8);
    c.tr.path = PATH_ECMP;
    c.tr.window_bytes = 1 << 30;
    struct topo *t = build(&c);
    struct topo_demand d[8];
    for (uint32_t i = 0; i < 8; i++)
        d[i] = (struct topo_demand){i, 8 + i, 1 << 20};
    run(t, &c, d, 8);
    simtime_t healthy[8];
    memcpy(healthy, ends, sizeof healthy);
    uint64_t per_flow = port_bytes[t->host_up[0]];
    uint32_t spine = UINT32_MAX;
    for (uint32_t k = 0; k < t->npaths && spine == UINT32_MAX; k++)
        if (port_bytes[topo_up(t, 0, k)]) spine = k;
    assert_true(spine != UINT32_MAX);
    uint64_t on_link = port_bytes[topo_up(t, 0, spine)];
    topo_destroy(t);

    snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "l0-s%u:0.5", spine);
    t = build(&c);
    assert_int_equal(t->ndegraded, 2);
    assert_int_equal(t->ports[topo_up(t, 0, spine)].bps, 50000000000ull);
    assert_int_equal(t->ports[topo_down(t, spine, 0)].bps, 50000000000ull);
    assert_int_equal(t->npaths, 4); /* a degraded link keeps its place */
    run(t, &c, d, 8);
    uint64_t slowed = 0;
    for (int i = 0; i < 8; i++) {
        if (ends[i] == healthy[i]) continue;
        assert_true(ends[i] > healthy[i]);
        double x = (double)ends[i] / (double)healthy[i];
        if (x < 1.8 || x > 2.05) fail_msg("flow %d: x%.3f at half rate", i, x);
        slowed += per_flow;
    }
    assert_true(slowed > 0);
    assert_int_equal(slowed, on_link);
    topo_destroy(t);
}

/* A fat-tree with an aggregation-core link and a leaf-aggregation link
 * down, one more degraded: every path mode delivers every byte, sends none
 * on the down ports, conserves bytes at every switch and finishes no earlier
 * than the bound; no route crosses a down port. */
static void test_fat_tree_faults(void **state)
{
    (void)state;
    for (size_t m = 0; m < sizeof paths / sizeof paths[0]; m++) {
        struct cfg c;
        cfg_defaults(&c);
        c.topo.kind = TOPO_FAT_TREE;
        c.topo.pods = 2;
        c.topo.leaves_per_pod = 2;
        c.topo.aggs_per_pod = 2;
        c.topo.cores = 4;
        c.topo.hosts_per_leaf = 2;
        topo_spec_resolve(&c.topo);
        snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "a0-c0 l3-a3");
        snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "a3-c2:0.25");
        c.tr.path = paths[m];
        c.tr.subflows = 4;
        struct topo *t = build(&c);
        assert_int_equal(t->ndown, 4);
        for (uint32_t a = 0; a < t->hosts; a++)
            for (uint32_t b = 0; b < t->hosts; b++)
                for (uint32_t p = 0; p < t->npaths && a != b; p++) {
                    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
                    uint32_t n = topo_route_ports(t, a, b, p, ports);
                    assert_int_equal(t->ports[ports[n - 1]].dst, b);
                    for (uint32_t i = 0; i < n; i++)
                        assert_false(t->ports[ports[i]].down);
                }
        struct topo_demand d[64];
        size_t n = all_to_all(t, 100000, 0, 0, d);
        simtime_t done = run(t, &c, d, n);
        assert_true(ideal(t, &c, d, n) <= done);
        topo_destroy(t);
    }
}

/* A leaf-spine with one link down, every path mode: no byte on it, bytes
 * conserved, the bound below the completion. */
static void test_leaf_spine_link_down_modes(void **state)
{
    (void)state;
    for (size_t m = 0; m < sizeof paths / sizeof paths[0]; m++) {
        struct cfg c;
        ls_spec(&c, 3, 3, 3);
        snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s1");
        snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "l2-s0:0.5 h4-l1:0.5");
        c.tr.path = paths[m];
        c.tr.subflows = 3;
        struct topo *t = build(&c);
        assert_null(t->up); /* forwarded by the table now */
        assert_int_equal(t->ndown, 2);
        assert_int_equal(t->ndegraded, 4);
        struct topo_demand d[81];
        size_t n = all_to_all(t, 50000, 0, 0, d);
        simtime_t done = run(t, &c, d, n);
        assert_true(ideal(t, &c, d, n) <= done);
        topo_destroy(t);
    }
}

/* One link down (l0-s3): leaves have 3 paths to l0 and 4 to the others, so
 * npaths becomes lcm(3, 4) = 12 and spraying loads the three live spines'
 * links into l0 evenly (taking p % 3 of p in [0, 4) would put half of
 * leaf l1's traffic into l0 on s0). */
static void test_spray_even_over_partial_groups(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 4, 4, 4);
    c.topo.fabric_gbps = 25;
    c.tr.path = PATH_SPRAY;
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s3");
    struct topo *t = build(&c);
    assert_int_equal(t->npaths, 12);
    struct topo_demand d[256];
    size_t n = all_to_all(t, 262144, 0, 0, d);
    run(t, &c, d, n);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *q = &t->ports[p];
        if (q->kind != TP_SPINE_DOWN || q->dst != t->hosts + 0 || q->down) continue;
        if (port_bytes[p] < lo) lo = port_bytes[p];
        if (port_bytes[p] > hi) hi = port_bytes[p];
    }
    if ((double)hi > 1.15 * (double)lo)
        fail_msg("spine links into l0: %llu to %llu bytes", (unsigned long long)lo,
                 (unsigned long long)hi);
    topo_destroy(t);
}

/* A fat-tree with a0-c0 down: leaves split evenly over their two aggregation
 * switches and a1 evenly over its two cores (route.c's digit at a1 would be
 * p / 1.5 -> p / 1: always the same core for the packets the leaf sent it;
 * faults.c renumbers: div = 2, npaths = 4); a0's one live core carries what
 * a1's two do together. */
static void test_fat_tree_spray_even(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.kind = TOPO_FAT_TREE;
    c.topo.pods = 2;
    c.topo.cores = 4;
    topo_spec_resolve(&c.topo);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "a0-c0");
    c.tr.path = PATH_SPRAY;
    struct topo *t = build(&c);
    assert_int_equal(t->npaths, 4);
    struct topo_demand d[256];
    size_t n = all_to_all(t, 262144, 0, 0, d);
    run(t, &c, d, n);
    uint64_t up[4] = {0}; /* a0-c1, a1-c2, a1-c3, and a0-c0 */
    char s1[16], s2[16];
    for (uint32_t p = 0; p < t->nports; p++) {
        topo_node_name(t, t->ports[p].src, s1, sizeof s1);
        topo_node_name(t, t->ports[p].dst, s2, sizeof s2);
        int k = !strcmp(s1, "a0") && !strcmp(s2, "c1")   ? 0
                : !strcmp(s1, "a1") && !strcmp(s2, "c2") ? 1
                : !strcmp(s1, "a1") && !strcmp(s2, "c3") ? 2
                : !strcmp(s1, "a0") && !strcmp(s2, "c0") ? 3
                                                         : -1;
        if (k >= 0) up[k] = port_bytes[p];
    }
    assert_int_equal(up[3], 0);
    if ((double)up[1] > 1.15 * (double)up[2] || (double)up[2] > 1.15 * (double)up[1])
        fail_msg("a1's cores: %llu and %llu bytes", (unsigned long long)up[1],
                 (unsigned long long)up[2]);
    double x = (double)up[0] / (double)(up[1] + up[2]);
    if (fabs(x - 1) > 0.15) fail_msg("a0-c1 carries x%.3f of a1's two core links", x);
    topo_destroy(t);
}

/* Sorted list of the down ports of c's fabric, and the degraded ones. */
static uint32_t down_set(const struct cfg *c, uint32_t *out, uint32_t *deg, uint32_t *ndeg)
{
    struct topo *t = build(c);
    uint32_t n = 0;
    *ndeg = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        if (t->ports[p].down) out[n++] = p;
        if (t->ports[p].bps == 50000000000ull) deg[(*ndeg)++] = p;
        if (t->ports[p].down) assert_int_not_equal(t->ports[p].bps, 50000000000ull);
    }
    assert_int_equal(n, t->ndown);
    topo_destroy(t);
    return n;
}

/* faults.random_down takes round(fraction * links) switch-to-switch links,
 * the same ones for the same seed, others for another; random_degraded takes
 * links that are not down. */
static void test_random_determinism(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 8, 8, 2);
    c.topo.faults.random_down = 0.25;
    c.topo.faults.random_degraded = 0.125;
    c.topo.faults.seed = 7;
    static uint32_t a[256], b[256], x[256], da[256], db[256], dx[256];
    uint32_t nda, ndb, ndx;
    uint32_t na = down_set(&c, a, da, &nda), nb = down_set(&c, b, db, &ndb);
    assert_int_equal(na, 2 * 16);
    assert_int_equal(nda, 2 * 8);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof *a);
    assert_int_equal(nda, ndb);
    assert_memory_equal(da, db, nda * sizeof *da);
    c.topo.faults.seed = 8;
    uint32_t nx = down_set(&c, x, dx, &ndx);
    assert_int_equal(nx, na);
    assert_true(memcmp(a, x, na * sizeof *a) != 0);
    /* every down port is a switch-to-switch one */
    struct topo *t = build(&c);
    for (uint32_t i = 0; i < nx; i++)
        assert_true(t->ports[x[i]].kind == TP_LEAF_UP || t->ports[x[i]].kind == TP_SPINE_DOWN);
    topo_destroy(t);
}

/* Without [faults] the fabric is the one it always was (the factored
 * leaf-spine paths kept); the run line's shape names it. */
static void test_no_faults_and_shape(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 16, 16, 16);
    assert_false(topo_faults_any(&c.topo.faults));
    struct topo *t = build(&c);
    assert_non_null(t->up);
    assert_int_equal(t->ndown + t->ndegraded, 0);
    topo_destroy(t);
    char buf[256];
    topo_spec_shape(&c.topo, buf, sizeof buf);
    assert_string_equal(buf, "leaf_spine 16x16x16");
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s3 l1-s3");
    c.topo.faults.random_degraded = 0.01; /* of 256 links: 3 */
    topo_spec_shape(&c.topo, buf, sizeof buf);
    assert_string_equal(buf, "leaf_spine 16x16x16, 2 links down, 3 degraded");
    cfg_defaults(&c);
    c.topo.kind = TOPO_FAT_TREE;
    topo_spec_resolve(&c.topo);
    topo_spec_shape(&c.topo, buf, sizeof buf);
    assert_string_equal(buf, "fat_tree 2 pods x 2 leaves x 2 aggs, 4 cores, 4 hosts/leaf");
}

/* Bad faults: the exact message, the key at fault, before anything runs. */
static void expect_bad(const char *down, const char *degraded, double rnd, double to, int gpus,
                       const char *key, const char *msg)
{
    struct cfg c;
    ls_spec(&c, 2, 4, 2);
    c.topo.gpus_per_host = gpus;
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "%s", down);
    snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "%s", degraded);
    c.topo.faults.random_down = rnd;
    c.topo.faults.degrade_to = to;
    const struct opt_def *bad = NULL;
    struct err e;
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(e.msg, msg);
    assert_non_null(bad);
    assert_string_equal(bad->section, "faults");
    assert_string_equal(bad->key, key);
    /* the builder refuses it too (degrade_to only matters to random_degraded) */
    struct topo *t = NULL;
    if (strcmp(key, "degrade_to")) {
        assert_int_equal(topo_build(&c.topo, &t, &e), -1);
        assert_null(t);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_bad("l9-s3", "", 0, 0.5, 1, "down", "faults.down: l9-s3: no node l9 in this fabric");
    expect_bad("l0-x1", "", 0, 0.5, 1, "down", "faults.down: l0-x1: no node x1 in this fabric");
    expect_bad("l0-l1", "", 0, 0.5, 1, "down", "faults.down: l0-l1: no link between l0 and l1");
    expect_bad("l0-s3 s3-l0", "", 0, 0.5, 1, "down",
               "faults.down: s3-l0: the link is listed twice (as l0-s3)");
    expect_bad("l0-s3", "l0-s1:0.5 s3-l0:0.5", 0, 0.5, 1, "degraded",
               "faults.degraded: s3-l0:0.5: the link is also listed in faults.down (as l0-s3)");
    expect_bad("", "l0-s1:1.5", 0, 0.5, 1, "degraded",
               "faults.degraded: l0-s1:1.5: the fraction 1.5 is outside (0,1]");
    expect_bad("", "l0-s1:0", 0, 0.5, 1, "degraded",
               "faults.degraded: l0-s1:0: the fraction 0 is outside (0,1]");
    expect_bad("", "l0-s1:half", 0, 0.5, 1, "degraded",
               "faults.degraded: l0-s1:half: expected a fraction after ':', got 'half'");
    expect_bad("", "l0-s1", 0, 0.5, 1, "degraded",
               "faults.degraded: l0-s1: expected src-dst:fraction, as l0-s1:0.5");
    expect_bad("l0-s1:0.5", "", 0, 0.5, 1, "down",
               "faults.down: l0-s1:0.5: a link down takes no fraction (faults.degraded does)");
    expect_bad("l0s3", "", 0, 0.5, 1, "down",
               "faults.down: l0s3: expected a link src-dst, as l0-s3");
    expect_bad("l0-s3-s2", "", 0, 0.5, 1, "down",
               "faults.down: l0-s3-s2: expected a link src-dst, as l0-s3");
    expect_bad("h1-l0", "", 0, 0.5, 1, "down", "faults.down: the links down disconnect host h1");
    expect_bad("l0-s0 l0-s1 l0-s2 l0-s3", "", 0, 0.5, 1, "down",
               "faults.down: the links down disconnect leaf l1 from leaf l0");
    expect_bad("h0-n0", "", 0, 0.5, 2, "down",
               "faults.down: h0-n0: an NVLink link; faults take host links and links between "
               "switches");
    expect_bad("", "", 1, 0.5, 1, "random_down",
               "faults.random_down: 8 of the 8 switch-to-switch links down (sim.seed 1) "
               "disconnect leaf l1 from leaf l0");
    expect_bad("", "l0-s1:0.5", 0, 0, 1, "degrade_to", "faults.degrade_to: 0 is outside (0,1]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spray_spines_down),
        cmocka_unit_test(test_degraded_slows_its_ecmp_flows),
        cmocka_unit_test(test_spray_even_over_partial_groups),
        cmocka_unit_test(test_fat_tree_faults),
        cmocka_unit_test(test_fat_tree_spray_even),
        cmocka_unit_test(test_leaf_spine_link_down_modes),
        cmocka_unit_test(test_random_determinism),
        cmocka_unit_test(test_no_faults_and_shape),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
