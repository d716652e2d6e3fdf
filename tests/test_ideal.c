/* test_ideal.c - the ideal bound (topo_ideal_ps) is a lower bound: on random
 * small fabrics (leaves, spines, hosts, NVLink servers, rates, latencies,
 * MTU, acknowledgements, windows all drawn) and random traffic (uniform
 * pairs, incast, hot spots, permutations, all-to-all; sizes from one byte to
 * hundreds of packets, rarely a multiple of the MTU), the packet engine never
 * delivers a phase's last byte before it, for every path mode. The cases the
 * old bound (the busiest link plus the longest path) failed on are here by
 * name, and a lone flow finishes exactly at it. */
#include "testutil.h"

#include <gsl/gsl_rng.h>

#include "sim/eng.h"
#include "topo/topo.h"

#ifndef SEEDS
#define SEEDS 2000
#endif

static simtime_t last_end;
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)loss;
    (void)ctx, (void)e, (void)tag, (void)start;
    if (end > last_end) last_end = end;
}

/* Runs demands d[0..n) from time 0 on topology t with c's transport; returns
 * the last delivery; checks the engine's invariants. */
static simtime_t run(const struct topo *t, const struct cfg *c, const struct topo_demand *d,
                     size_t n)
{
    struct eng_hooks h = {NULL, on_done};
    struct eng *e = eng_create(t, &c->tr, (uint64_t)c->sim.seed, &h);
    last_end = 0;
    for (size_t i = 0; i < n; i++)
        eng_add_msg(e, d[i].src, d[i].dst, d[i].bytes, 0, i);
    eng_run(e);
    char msg[384];
    if (eng_check(e, msg, sizeof msg) < 0) fail_msg("%s", msg);
    eng_destroy(e);
    return last_end;
}

static simtime_t ideal(const struct topo *t, const struct cfg *c, const struct topo_demand *d,
                       size_t n)
{
    return topo_ideal_ps(t, d, n, (uint32_t)c->tr.mtu,
                         c->tr.path == PATH_SPLIT ? (uint32_t)c->tr.subflows : 1);
}

static const int paths[] = {PATH_ECMP, PATH_SPRAY, PATH_SPRAY_RR, PATH_SPLIT, PATH_ADAPTIVE};

/* Every path mode: cct >= ideal; returns the smallest cct/ideal seen. */
static double check_all_paths(struct cfg *c, const struct topo *t, const struct topo_demand *d,
                              size_t n, const char *what)
{
    double least = 1e30;
    for (int i = 0; i < 5; i++) {
        c->tr.path = paths[i];
        simtime_t lo = ideal(t, c, d, n), cct = run(t, c, d, n);
        if (cct < lo)
            fail_msg("%s, path %d: cct %llu ps below the ideal bound %llu ps", what, paths[i],
                     (unsigned long long)cct, (unsigned long long)lo);
        if ((double)cct / (double)lo < least) least = (double)cct / (double)lo;
    }
    return least;
}

static uint64_t draw_bytes(gsl_rng *r, uint32_t mtu)
{
    switch (gsl_rng_uniform_int(r, 4)) {
    case 0:
        return 1 + gsl_rng_uniform_int(r, 200); /* one small packet */
    case 1:
        return 1 + gsl_rng_uniform_int(r, 3 * mtu); /* a few packets */
    case 2:
        return (1 + gsl_rng_uniform_int(r, 8)) * (uint64_t)mtu; /* whole packets */
    default:
        return 1 + gsl_rng_uniform_int(r, 100 * mtu);
    }
}

static void random_fabric(gsl_rng *r, struct cfg *c)
{
    cfg_defaults(c);
    static const double gbps[] = {25, 100, 400};
    static const int64_t lat[] = {0, 100, 1000};
    static const int64_t mtus[] = {64, 1500, 4096, 9000};
    struct topo_spec *ts = &c->topo;
    ts->leaves = 1 + (int64_t)gsl_rng_uniform_int(r, 4);
    ts->spines = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
    ts->gpus_per_host = 1 + (int64_t)gsl_rng_uniform_int(r, 2);
    ts->hosts_per_leaf = ts->gpus_per_host * (1 + (int64_t)gsl_rng_uniform_int(r, 3));
    if (ts->leaves * ts->hosts_per_leaf < 2) ts->hosts_per_leaf = 2;
    ts->host_gbps = gbps[gsl_rng_uniform_int(r, 3)];
    ts->fabric_gbps = gbps[gsl_rng_uniform_int(r, 3)];
    ts->nvlink_gbps = 4 * gbps[gsl_rng_uniform_int(r, 3)];
    ts->link_latency_ns = lat[gsl_rng_uniform_int(r, 3)];
    ts->nvlink_latency_ns = lat[gsl_rng_uniform_int(r, 3)];
    c->tr.mtu = mtus[gsl_rng_uniform_int(r, 4)];
    c->tr.ack_every = gsl_rng_uniform_int(r, 2) ? 1 : 4;
    c->tr.window_bytes = gsl_rng_uniform_int(r, 3) ? 0 : (int64_t)c->tr.mtu * 2;
    c->tr.subflows = 1 + (int64_t)gsl_rng_uniform_int(r, 8);
    c->sim.seed = (int64_t)gsl_rng_uniform_int(r, 1000);
}

/* Random traffic of one of five shapes on H hosts; returns the count. */
static size_t random_traffic(gsl_rng *r, uint32_t H, uint32_t mtu, struct topo_demand *d,
                             size_t cap)
{
    size_t n = 0;
    uint32_t hot = (uint32_t)gsl_rng_uniform_int(r, H);
    uint64_t one = draw_bytes(r, mtu);
    switch (gsl_rng_uniform_int(r, 5)) {
    case 0: /* uniform pairs */
        for (size_t k = 1 + gsl_rng_uniform_int(r, 24); k-- && n < cap;) {
            uint32_t a = (uint32_t)gsl_rng_uniform_int(r, H),
                     b = (uint32_t)gsl_rng_uniform_int(r, H);
            if (a != b) d[n++] = (struct topo_demand){a, b, draw_bytes(r, mtu)};
        }
        break;
    case 1: /* incast: everyone to one host, equal or random sizes */
        for (uint32_t a = 0; a < H && n < cap; a++)
            if (a != hot) d[n++] = (struct topo_demand){a, hot, one < 4 ? draw_bytes(r, mtu) : one};
        break;
    case 2: /* a hot spot: most bytes to one host, some elsewhere */
        for (uint32_t a = 0; a < H && n < cap; a++) {
            if (a != hot) d[n++] = (struct topo_demand){a, hot, 4 * draw_bytes(r, mtu)};
            uint32_t b = (uint32_t)gsl_rng_uniform_int(r, H);
            if (b != a && n < cap) d[n++] = (struct topo_demand){a, b, draw_bytes(r, mtu)};
        }
        break;
    case 3: /* a permutation (a shift) */
        for (uint32_t a = 0, s = 1 + (uint32_t)gsl_rng_uniform_int(r, H - 1); a < H && n < cap; a++)
            d[n++] = (struct topo_demand){a, (a + s) % H, one};
        break;
    default: /* all-to-all */
        for (uint32_t a = 0; a < H; a++)
            for (uint32_t b = 0; b < H && n < cap; b++)
                if (a != b) d[n++] = (struct topo_demand){a, b, one};
        break;
    }
    if (!n) d[n++] = (struct topo_demand){0, H - 1, one};
    return n;
}

static void test_random_traffic_above_bound(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    struct topo_demand d[256];
    double least = 1e30;
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng_set(r, seed);
        struct cfg c;
        random_fabric(r, &c);
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e) < 0) fail_msg("seed %lu: %s", seed, e.msg);
        size_t n = random_traffic(r, t->hosts, (uint32_t)c.tr.mtu, d, 256);
        char what[64];
        snprintf(what, sizeof what, "seed %lu", seed);
        double x = check_all_paths(&c, t, d, n, what);
        if (x < least) least = x;
        topo_destroy(t);
    }
    print_message("%d random cases x 5 path modes: least cct/ideal %.4f\n", SEEDS, least);
    gsl_rng_free(r);
}

/* The cases the issue found below the old bound, and a lone flow on each kind
 * of route finishing exactly at the new one. */
static void test_named_cases(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = c.topo.spines = c.topo.hosts_per_leaf = 2;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct topo_demand d[4];
    /* incast: every other host sends to host 0 */
    for (uint32_t a = 1; a < 4; a++)
        d[a - 1] = (struct topo_demand){a, 0, 300000};
    check_all_paths(&c, t, d, 3, "3-to-1 incast");
    /* a lone flow with a short last packet, across the spines and under a leaf */
    c.tr.path = PATH_ECMP;
    struct topo_demand lone[] = {{0, 3, 1000000}, {1, 0, 777777}, {2, 1, 100}, {3, 2, 8192}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(run(t, &c, &lone[i], 1), ideal(t, &c, &lone[i], 1));
    topo_destroy(t);
    /* 35-to-1 incast under 4 leaves: the nearest senders' bytes arrive first */
    c.topo.leaves = 4;
    c.topo.hosts_per_leaf = 9;
    c.topo.spines = 2;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct topo_demand in[35];
    size_t n = 0;
    for (uint32_t a = 1; a < t->hosts; a++)
        in[n++] = (struct topo_demand){a, 0, 65536};
    check_all_paths(&c, t, in, n, "35-to-1 incast");
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_cases),
        cmocka_unit_test(test_random_traffic_above_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
