/* test_ideal_lp.c - the ideal bound's linear program (topo/ideal_lp.h) and
 * the bound the executor records (sim/exec_ideal.h):
 * the maximum concurrent flow over the routing table's next hops equals
 * the closed forms where one is known (uniform all-to-all on a 1:1
 * leaf-spine: the host links; 4:1 oversubscribed: the uplinks; a fat-tree
 * with too few cores: the pod's core links); on random small leaf-spines and
 * fat-trees with random traffic (half of them with one fabric port at a
 * quarter of its rate) the bandwidth cut <= the LP's bandwidth
 * program <= the LP, the cut bound <= the recorded bound, and neither the
 * packet engine nor the flow engine delivers a phase's last byte before
 * it, under every path mode (ethereal with the executor's assignment and
 * its bound: the LP with each demand's subflows, kind lp); with one
 * degraded uplink (which the cut bound does not see) the LP
 * is strictly above the cut and still below every completion, and so with
 * [faults] (a link down, one degraded); so on random rails of one plane
 * (PXN and through the spines) and on random rails of 2-3 planes (each
 * NIC's split over its plane ports the program's; a rail link degraded, a
 * GPU's plane link down), with the planes' closed forms; and
 * sim.ideal_lp_max's threshold picks the kind. */
#include "testutil.h"
#include "fabric_spec.h"

#include <gsl/gsl_rng.h>
#include <math.h>

#include "sim/eng.h"
#include "sim/ethereal.h"
#include "sim/exec_ideal.h"
#include "topo/ideal_lp.h"
#include "topo/topo.h"

#ifndef SEEDS
#define SEEDS 300
#endif

static simtime_t last_end;
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)loss;
    (void)ctx, (void)e, (void)tag, (void)start;
    if (end > last_end) last_end = end;
}

/* The demands as one phase on engine `kind` (ethereal: the executor's
 * assignment of the whole set, sim/ethereal.h); the last delivery. */
static simtime_t run_on(int kind, const struct topo *t, const struct cfg *c,
                        const struct topo_demand *d, size_t n)
{
    struct eng_hooks h = {NULL, on_done};
    struct eng *e = eng_create_kind(kind, t, &c->tr, (uint64_t)c->sim.seed, &h);
    last_end = 0;
    struct eth_sub *subs = NULL;
    size_t *off = NULL;
    if (c->tr.path == PATH_ETHEREAL) eth_assign(t, d, n, &subs, &off);
    for (size_t i = 0; i < n; i++)
        if (subs)
            eng_add_msg_paths(e, d[i].src, d[i].dst, 0, i, &subs[off[i]],
                              (uint32_t)(off[i + 1] - off[i]));
        else
            eng_add_msg(e, d[i].src, d[i].dst, d[i].bytes, 0, i);
    free(subs);
    free(off);
    eng_run(e);
    char msg[384];
    if (eng_check(e, msg, sizeof msg) < 0) fail_msg("%s", msg);
    eng_destroy(e);
    return last_end;
}

/* The bound the executor records for the demands as one task, and its kind. */
static simtime_t recorded(const struct topo *t, const struct cfg *c, const struct topo_demand *d,
                          size_t n, uint64_t lp_max, int *kind)
{
    struct exec_ideal *m = exec_ideal_create(t, &c->tr, lp_max);
    simtime_t v = exec_ideal_ps(m, d, n, kind);
    exec_ideal_destroy(m);
    return v;
}

/* Ethereal's subflows per demand (eth_assign), malloc'd; NULL for the
 * other path modes. */
static uint32_t *each_of(const struct topo *t, const struct cfg *c, const struct topo_demand *d,
                         size_t n)
{
    if (c->tr.path != PATH_ETHEREAL) return NULL;
    struct eth_sub *subs;
    size_t *off;
    eth_assign(t, d, n, &subs, &off);
    uint32_t *each = xmalloc((n ? n : 1) * sizeof *each);
    for (size_t i = 0; i < n; i++)
        each[i] = (uint32_t)(off[i + 1] - off[i]);
    free(subs);
    free(off);
    return each;
}

static uint32_t subflows(const struct cfg *c)
{
    return c->tr.path == PATH_SPLIT ? (uint32_t)c->tr.subflows : 1;
}

static simtime_t lp(const struct topo *t, const struct cfg *c, const struct topo_demand *d,
                    size_t n, int windows)
{
    simtime_t v;
    uint32_t *each = each_of(t, c, d, n);
    if (topo_ideal_lp_each_ps(t, d, n, (uint32_t)c->tr.mtu, subflows(c), each, windows, &v) < 0)
        fail_msg("the LP failed");
    free(each);
    return v;
}

/* bytes over bps, ps */
static double over(double bytes, uint64_t bps)
{
    return bytes * 8e12 / (double)bps;
}

/* The bandwidth cuts, ps: every host link; every leaf's uplinks and the
 * links into it; every pod's core links, both ways (rates as built, so a
 * degraded port counts at its rate). */
static double bandwidth_cut(const struct topo *t, const struct topo_demand *d, size_t n)
{
    uint32_t L = t->leaves, P = t->kind == TOPO_FAT_TREE ? t->pods : 0;
    double *b = xcalloc(2 * (size_t)t->nports + 4 * (size_t)L + 4 * (size_t)P + 4, sizeof *b);
    double *port = b, *lout = b + t->nports, *lin = lout + L, *pout = lin + L, *pin = pout + P;
    double *lcap_o = pin + P, *lcap_i = lcap_o + L, *pcap_o = lcap_i + L, *pcap_i = pcap_o + P;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, z = d[i].dst;
        if (a == z || !d[i].bytes) continue;
        port[topo_first_port(t, a, z)] += (double)d[i].bytes;
        port[topo_last_port(t, a, z)] += (double)d[i].bytes;
        if (topo_same_server(t, a, z)) continue;
        uint32_t la = topo_leaf_of(t, a), lz = topo_leaf_of(t, z);
        if (la == lz) continue;
        lout[la] += (double)d[i].bytes;
        lin[lz] += (double)d[i].bytes;
        if (P && la / t->leaves_per_pod != lz / t->leaves_per_pod) {
            pout[la / t->leaves_per_pod] += (double)d[i].bytes;
            pin[lz / t->leaves_per_pod] += (double)d[i].bytes;
        }
    }
    uint32_t agg0 = t->hosts + L;
    for (uint32_t q = 0; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->kind == TP_LEAF_UP) lcap_o[p->src - t->hosts] += (double)p->bps;
        if (p->kind == TP_SPINE_DOWN || p->kind == TP_AGG_DOWN)
            lcap_i[p->dst - t->hosts] += (double)p->bps;
        if (p->kind == TP_AGG_UP) pcap_o[(p->src - agg0) / t->aggs_per_pod] += (double)p->bps;
        if (p->kind == TP_CORE_DOWN) pcap_i[(p->dst - agg0) / t->aggs_per_pod] += (double)p->bps;
    }
    double worst = 0;
#define MAXV(x)                                                                                    \
    do {                                                                                           \
        if ((x) > worst) worst = (x);                                                              \
    } while (0)
    for (uint32_t q = 0; q < t->nports; q++)
        if (port[q]) MAXV(over(port[q], t->ports[q].bps));
    for (uint32_t l = 0; l < L; l++) {
        if (lout[l]) MAXV(lout[l] * 8e12 / lcap_o[l]);
        if (lin[l]) MAXV(lin[l] * 8e12 / lcap_i[l]);
    }
    for (uint32_t p = 0; p < P; p++) {
        if (pout[p]) MAXV(pout[p] * 8e12 / pcap_o[p]);
        if (pin[p]) MAXV(pin[p] * 8e12 / pcap_i[p]);
    }
#undef MAXV
    free(b);
    return worst;
}

/* An all-to-all of s bytes per pair on t into d; returns the count. */
static size_t all_to_all(const struct topo *t, uint64_t s, struct topo_demand *d)
{
    size_t n = 0;
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++)
            if (a != b) d[n++] = (struct topo_demand){a, b, s};
    return n;
}

static void assert_near(simtime_t got, double want)
{
    if (fabs((double)got - want) > want * 2e-6 + 2)
        fail_msg("LP %llu ps, closed form %.1f ps", (unsigned long long)got, want);
}

static void ls_spec(struct cfg *c, int64_t leaves, int64_t spines, int64_t hpl)
{
    cfg_defaults(c);
    c->topo.leaves = leaves;
    c->topo.spines = spines;
    c->topo.hosts_per_leaf = hpl;
}

/* Uniform all-to-all: the LP's bandwidth program is the closed form. */
static void test_closed_forms(void **state)
{
    (void)state;
    struct topo_demand d[64 * 63];
    const uint64_t s = 100000;
    struct cfg c;
    struct topo *t;
    struct err e;
    /* 1:1 leaf-spine, 4 x 4 x 4 at 100 Gb/s: each host sends 15 s; a leaf's
     * 48 s cross 400 Gb/s of uplinks, less: the host links bound */
    ls_spec(&c, 4, 4, 4);
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    size_t n = all_to_all(t, s, d);
    assert_near(lp(t, &c, d, n, 0), over(15.0 * s, 100000000000ull));
    topo_destroy(t);
    /* 4:1: one spine, 4 hosts per leaf: the uplink, 48 s at 100 Gb/s */
    ls_spec(&c, 4, 1, 4);
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    n = all_to_all(t, s, d);
    assert_near(lp(t, &c, d, n, 0), over(48.0 * s, 100000000000ull));
    /* 4:1 by rates: 2 spines at 50 Gb/s behind 4 hosts of 100 Gb/s: the
     * uplinks again, 48 s over 100 Gb/s */
    topo_destroy(t);
    ls_spec(&c, 4, 2, 4);
    c.topo.fabric_gbps = 50;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    n = all_to_all(t, s, d);
    assert_near(lp(t, &c, d, n, 0), over(48.0 * s, 100000000000ull));
    topo_destroy(t);
    /* the k = 4 fat-tree (16 hosts), 1:1: the host links, 15 s */
    ft_spec(&c, 4, 2, 2, 4, 2);
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    n = all_to_all(t, s, d);
    assert_near(lp(t, &c, d, n, 0), over(15.0 * s, 100000000000ull));
    topo_destroy(t);
    /* half the cores: a pod's 4 hosts send 48 s to other pods over 2 core
     * links of 100 Gb/s */
    ft_spec(&c, 4, 2, 2, 2, 2);
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    n = all_to_all(t, s, d);
    assert_near(lp(t, &c, d, n, 0), over(48.0 * s, 200000000000ull));
    /* the windows only add: the LP with them is above, by less than a few
     * hops of latency and a packet */
    simtime_t bw = lp(t, &c, d, n, 0), w = lp(t, &c, d, n, 1);
    assert_true(w > bw && w < bw + 10 * 1000000);
    topo_destroy(t);
}

/* ---- random instances ---- */

static uint64_t draw_bytes(gsl_rng *r, uint32_t mtu)
{
    switch (gsl_rng_uniform_int(r, 3)) {
    case 0:
        return 1 + gsl_rng_uniform_int(r, 3 * mtu);
    case 1:
        return (1 + gsl_rng_uniform_int(r, 8)) * (uint64_t)mtu;
    default:
        return 1 + gsl_rng_uniform_int(r, 40 * mtu);
    }
}

static void random_fabric(gsl_rng *r, struct cfg *c)
{
    static const double gbps[] = {25, 100, 400};
    static const int64_t lat[] = {0, 100, 1000};
    static const int64_t mtus[] = {1500, 4096, 9000};
    if (gsl_rng_uniform_int(r, 2)) {
        ls_spec(c, 2 + (int64_t)gsl_rng_uniform_int(r, 4), 1 + (int64_t)gsl_rng_uniform_int(r, 3),
                1 + (int64_t)gsl_rng_uniform_int(r, 3));
        c->topo.gpus_per_host =
            c->topo.hosts_per_leaf % 2 ? 1 : 1 + (int64_t)gsl_rng_uniform_int(r, 2);
    } else {
        int64_t app = 1 + (int64_t)gsl_rng_uniform_int(r, 2);
        ft_spec(c, 1 + (int64_t)gsl_rng_uniform_int(r, 3), 1 + (int64_t)gsl_rng_uniform_int(r, 2),
                app, app * (1 + (int64_t)gsl_rng_uniform_int(r, 2)),
                1 + (int64_t)gsl_rng_uniform_int(r, 3));
        if (c->topo.pods * c->topo.leaves_per_pod < 2) c->topo.pods = 2;
        topo_spec_resolve(&c->topo);
        c->topo.core_gbps = gbps[gsl_rng_uniform_int(r, 3)];
    }
    c->topo.host_gbps = gbps[gsl_rng_uniform_int(r, 3)];
    c->topo.fabric_gbps = gbps[gsl_rng_uniform_int(r, 3)];
    c->topo.link_latency_ns = lat[gsl_rng_uniform_int(r, 3)];
    c->tr.mtu = mtus[gsl_rng_uniform_int(r, 3)];
    c->tr.subflows = 1 + (int64_t)gsl_rng_uniform_int(r, 4);
    c->sim.seed = (int64_t)gsl_rng_uniform_int(r, 1000);
}

/* Random traffic: uniform pairs with random sizes, a permutation, an
 * incast, or an all-to-all. */
static size_t random_traffic(gsl_rng *r, uint32_t H, uint32_t mtu, struct topo_demand *d,
                             size_t cap)
{
    size_t n = 0;
    uint64_t one = draw_bytes(r, mtu);
    uint32_t hot = (uint32_t)gsl_rng_uniform_int(r, H);
    switch (gsl_rng_uniform_int(r, 4)) {
    case 0:
        for (size_t k = 1 + gsl_rng_uniform_int(r, 30); k-- && n < cap;) {
            uint32_t a = (uint32_t)gsl_rng_uniform_int(r, H),
                     b = (uint32_t)gsl_rng_uniform_int(r, H);
            if (a != b) d[n++] = (struct topo_demand){a, b, draw_bytes(r, mtu)};
        }
        break;
    case 1:
        for (uint32_t a = 0, s = 1 + (uint32_t)gsl_rng_uniform_int(r, H - 1); a < H; a++)
            d[n++] = (struct topo_demand){a, (a + s) % H, one};
        break;
    case 2:
        for (uint32_t a = 0; a < H; a++)
            if (a != hot) d[n++] = (struct topo_demand){a, hot, draw_bytes(r, mtu)};
        break;
    default:
        for (uint32_t a = 0; a < H; a++)
            for (uint32_t b = 0; b < H && n < cap; b++)
                if (a != b) d[n++] = (struct topo_demand){a, b, one};
    }
    if (!n) d[n++] = (struct topo_demand){0, H - 1, one};
    return n;
}

/* One fabric port at a quarter of its rate, drawn among those whose rate
 * topo_ideal_ps does not read for its tier (so its groups' rates stay at or
 * above the true ones, and the cut bound a lower bound). */
static void degrade_one(gsl_rng *r, struct topo *t)
{
    uint32_t f0 = 2 * t->hosts, seen[4] = {f0, f0 + 1, f0, f0};
    if (t->kind == TOPO_FAT_TREE) {
        seen[2] = f0 + 2 * t->leaves * t->aggs_per_pod;
        seen[3] = seen[2] + 1;
    } else if (t->leaves > 1) {
        seen[0] = topo_up(t, 0, 0);
        seen[1] = topo_down(t, 0, 1);
    }
    uint32_t q[4096], n = 0;
    for (uint32_t p = 0; p < t->nports && n < 4096; p++) {
        int k = t->ports[p].kind;
        if ((k == TP_LEAF_UP || k == TP_SPINE_DOWN || k == TP_AGG_UP || k == TP_CORE_DOWN ||
             k == TP_AGG_DOWN) &&
            p != seen[0] && p != seen[1] && p != seen[2] && p != seen[3])
            q[n++] = p;
    }
    if (n) t->ports[q[gsl_rng_uniform_int(r, n)]].bps /= 4;
}

static int lifted;                /* cases where the LP lifts the bound above the cut */
static int eth_lifted;            /* ... for ethereal's bound */
static double least_eth = 1e30;   /* least cct / bound */
static double least_flow = 1e30;  /* the flow engine's least cct / bound, over every run */
static int flow_runs, flow_below; /* flow engine runs, and those below the recorded bound */
/* whether the flow engine is held to the recorded bound too (on rail
 * planes: its split of a flow over the planes is its packets', so it is
 * never below; elsewhere its pipeline fill may be: docs/flow-engine.md) */
static int flow_strict;

static const int paths[] = {PATH_ECMP,  PATH_SPRAY,    PATH_SPRAY_RR,
                            PATH_SPLIT, PATH_ADAPTIVE, PATH_ETHEREAL};
#define NPATHS ((int)(sizeof paths / sizeof paths[0]))

/* cut <= recorded bound (kind lp) <= every path mode's completion on the
 * packet engine, the LP alone below each too, and the flow engine's
 * completion at least the bandwidth program's (counted where it is below
 * the recorded bound); returns the least packet completion over the
 * bound. */
static double check_paths(struct cfg *c, const struct topo *t, const struct topo_demand *d,
                          size_t n, const char *what)
{
    double least = 1e30;
    for (int i = 0; i < NPATHS; i++) {
        c->tr.path = paths[i];
        int kind;
        simtime_t cut = recorded(t, c, d, n, 0, &kind);
        assert_int_equal(kind, TOPO_IDEAL_CUT);
        if (c->tr.path != PATH_ETHEREAL)
            assert_int_equal(cut, topo_ideal_ps(t, d, n, (uint32_t)c->tr.mtu, subflows(c)));
        else /* at least the bound per subflow count it was before */
            assert_true(cut >= eth_ideal_ps(t, d, n, (uint32_t)c->tr.mtu));
        simtime_t lo = recorded(t, c, d, n, 1u << 30, &kind), alone = lp(t, c, d, n, 1);
        assert_int_equal(kind, TOPO_IDEAL_LP);
        if (lo < cut || lo < alone)
            fail_msg("%s: bound %llu below the cut %llu or the LP %llu", what,
                     (unsigned long long)lo, (unsigned long long)cut, (unsigned long long)alone);
        simtime_t bw = lp(t, c, d, n, 0);
        for (int eng = ENGINE_PACKET; eng <= ENGINE_FLOW; eng++) {
            simtime_t cct = run_on(eng, t, c, d, n);
            if (eng == ENGINE_FLOW) {
                /* the fluid: never below the bytes over the rates (the
                 * bandwidth program); its pipeline and a flow spread over
                 * planes as a fluid beat the packets' latency terms */
                if (cct < bw)
                    fail_msg("%s, path %d, flow engine: cct %llu ps below the bandwidth program "
                             "%llu ps",
                             what, paths[i], (unsigned long long)cct, (unsigned long long)bw);
                flow_runs++;
                if (flow_strict && cct < lo)
                    fail_msg("%s, path %d, flow engine: cct %llu ps below the bound %llu ps (LP "
                             "%llu, cut %llu)",
                             what, paths[i], (unsigned long long)cct, (unsigned long long)lo,
                             (unsigned long long)alone, (unsigned long long)cut);
                if (cct < lo) flow_below++;
                if ((double)cct / (double)lo < least_flow) least_flow = (double)cct / (double)lo;
                continue;
            }
            if (cct < lo)
                fail_msg("%s, path %d, engine %d: cct %llu ps below the bound %llu ps (LP %llu, "
                         "cut %llu)",
                         what, paths[i], eng, (unsigned long long)cct, (unsigned long long)lo,
                         (unsigned long long)alone, (unsigned long long)cut);
            double x = (double)cct / (double)lo;
            if (x < least) least = x;
            if (c->tr.path == PATH_ETHEREAL && x < least_eth) least_eth = x;
        }
        if (i == 0 && lo > cut) lifted++;
        if (c->tr.path == PATH_ETHEREAL && lo > cut) eth_lifted++;
    }
    return least;
}

static void test_random_instances(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    struct topo_demand d[1024];
    double least = 1e30;
    int above = 0;
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng_set(r, seed);
        struct cfg c;
        random_fabric(r, &c);
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e) < 0) fail_msg("seed %lu: %s", seed, e.msg);
        size_t n = random_traffic(r, t->hosts, (uint32_t)c.tr.mtu, d, 1024);
        if (gsl_rng_uniform_int(r, 2)) degrade_one(r, t);
        char what[64];
        snprintf(what, sizeof what, "seed %lu", seed);
        /* bandwidth cut <= the LP's bandwidth program <= the LP */
        double cut = bandwidth_cut(t, d, n);
        simtime_t bw = lp(t, &c, d, n, 0), w = lp(t, &c, d, n, 1);
        if ((double)bw < cut * (1 - 2e-6) - 2 || w < bw)
            fail_msg("%s: bandwidth cut %.1f, LP without windows %llu, with %llu", what, cut,
                     (unsigned long long)bw, (unsigned long long)w);
        if ((double)bw > cut * (1 + 1e-5) + 2) above++;
        double x = check_paths(&c, t, d, n, what);
        if (x < least) least = x;
        topo_destroy(t);
    }
    print_message("%d random cases x %d path modes: least cct/bound %.4f (ethereal %.4f); the LP "
                  "above the cut bound in %d (ethereal's in %d), above every bandwidth cut in "
                  "%d; flow engine below the bound in %d of %d runs (least cct/bound %.4f)\n",
                  SEEDS, NPATHS, least, least_eth, lifted, eth_lifted, above, flow_below, flow_runs,
                  least_flow);
    gsl_rng_free(r);
}

/* One slow uplink, which the cut bound reads past (it takes the group's rate
 * from leaf 0's first uplink): the LP sees it, and stays below every
 * completion. */
static void test_degraded_uplink(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 2, 2, 2);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    t->ports[topo_up(t, 0, 1)].bps /= 4; /* 25 Gb/s */
    struct topo_demand d[] = {{0, 2, 1000000}, {1, 3, 1000000}};
    simtime_t cut = topo_ideal_ps(t, d, 2, (uint32_t)c.tr.mtu, 1), w = lp(t, &c, d, 2, 1);
    /* 2 MB over 125 Gb/s of uplinks: 128 us, against 80 us the cut sees */
    assert_true(w >= 128000000 && w < 128000000 + 5000000);
    assert_true(cut < 90000000);
    check_paths(&c, t, d, 2, "degraded uplink");
    topo_destroy(t);
}

/* [faults]: a spine cut off from leaf 0 and one of leaf 1's uplinks at half
 * rate; an all-to-all and a shift: cut <= LP <= every completion, and the LP
 * at least the live uplinks' bandwidth. */
static void test_faults(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 4, 4, 2);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s3");
    snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "l1-s0:0.5");
    struct topo *t;
    struct err e;
    if (topo_build(&c.topo, &t, &e) < 0) fail_msg("%s", e.msg);
    struct topo_demand d[8 * 7];
    size_t n = all_to_all(t, 40000, d);
    check_paths(&c, t, d, n, "faults, all-to-all");
    /* leaf 0's 2 hosts send 6 x 40000 bytes each out over 3 live uplinks */
    assert_true((double)lp(t, &c, d, n, 0) >= over(12.0 * 40000, 300000000000ull) * (1 - 2e-6));
    for (uint32_t i = 0; i < t->hosts; i++)
        d[i] = (struct topo_demand){i, (i + 2) % t->hosts, 300000};
    check_paths(&c, t, d, t->hosts, "faults, shift");
    topo_destroy(t);
}

/* sim.ideal_lp_max: 0 never, below the size the cut, at it the LP. */
static void test_threshold(void **state)
{
    (void)state;
    struct cfg c;
    ls_spec(&c, 4, 2, 2);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct topo_demand d[8 * 7];
    size_t n = all_to_all(t, 50000, d);
    /* 4 destination leaves, each reached from 3 leaves over their 2 uplinks
     * and the 2 spines' downlinks into it: 4 x (6 + 2) + T */
    uint64_t size = topo_ideal_lp_size(t, d, n, 1000);
    assert_int_equal(size, 33);
    assert_int_equal(topo_ideal_lp_size(t, d, n, 10), 11);
    int kind;
    simtime_t cut = topo_ideal_ps(t, d, n, 4096, 1);
    assert_int_equal(topo_ideal_bound_ps(t, d, n, 4096, 1, 0, &kind), cut);
    assert_int_equal(kind, TOPO_IDEAL_CUT);
    assert_int_equal(topo_ideal_bound_ps(t, d, n, 4096, 1, size - 1, &kind), cut);
    assert_int_equal(kind, TOPO_IDEAL_CUT);
    assert_true(topo_ideal_bound_ps(t, d, n, 4096, 1, size, &kind) >= cut);
    assert_int_equal(kind, TOPO_IDEAL_LP);
    assert_string_equal(topo_ideal_kind_name(TOPO_IDEAL_LP), "lp");
    assert_string_equal(topo_ideal_kind_name(TOPO_IDEAL_CUT), "cut");
    topo_destroy(t);
}

/* Rails of one plane, cross_rail = pxn and = spine: random shapes, speeds
 * and traffic; cut <= LP <= every path mode's completion (PXN's routes
 * start over NVLink to the relay GPU, whose link the program loads), half
 * of them with rail switch r0's link to spine s0 at a quarter of its rate
 * ([faults]). */
static void test_rail_instances(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    static const double gbps[] = {100, 200, 400};
    int rail_lifted = 0;
    for (int seed = 0; seed < SEEDS / 10; seed++) {
        struct cfg c;
        cfg_defaults(&c);
        c.topo.kind = TOPO_RAIL;
        c.topo.groups = 1 + (int64_t)gsl_rng_uniform_int(r, 2);
        c.topo.servers_per_group = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
        c.topo.gpus_per_host = 2 + (int64_t)gsl_rng_uniform_int(r, 3);
        c.topo.spines = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
        c.topo.cross_rail = gsl_rng_uniform_int(r, 2) ? TOPO_XR_PXN : TOPO_XR_SPINE;
        c.topo.host_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.fabric_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.link_latency_ns = 100 * (int64_t)gsl_rng_uniform_int(r, 6);
        c.tr.subflows = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
        c.sim.seed = seed;
        topo_spec_resolve(&c.topo);
        if (seed % 2) /* as [faults] has it, so the cut bound sees the rate too */
            snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "r0-s0:0.25");
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e) < 0) fail_msg("%s", e.msg);
        size_t cap = (size_t)t->hosts * t->hosts;
        struct topo_demand *d = xmalloc(cap * sizeof *d);
        size_t n = random_traffic(r, t->hosts, (uint32_t)c.tr.mtu, d, cap);
        char what[96];
        snprintf(what, sizeof what, "rail seed %d (%s)", seed,
                 c.topo.cross_rail == TOPO_XR_PXN ? "pxn" : "spine");
        int before = lifted;
        check_paths(&c, t, d, n, what);
        rail_lifted += lifted > before;
        free(d);
        topo_destroy(t);
    }
    print_message("rail: the LP above the cut in %d of %d instances\n", rail_lifted, SEEDS / 10);
    {
        /* PXN's relay: 2 groups of one server of 2 GPUs, one spine; h0 to
         * h3 goes over NVLink to h1 and out of h1's NIC, as h1's own flow
         * to h3 does: 2 B on h1's host link and on h3's (bandwidth alone) */
        struct cfg c;
        cfg_defaults(&c);
        c.topo.kind = TOPO_RAIL;
        c.topo.groups = 2;
        c.topo.servers_per_group = 1;
        c.topo.gpus_per_host = 2;
        c.topo.spines = 1;
        c.topo.cross_rail = TOPO_XR_PXN;
        topo_spec_resolve(&c.topo);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct topo_demand d[] = {{0, 3, 1000000}, {1, 3, 1000000}};
        assert_near(lp(t, &c, d, 2, 0), over(2e6, t->ports[t->host_up[1]].bps));
        check_paths(&c, t, d, 2, "rail relay");
        topo_destroy(t);
    }
    gsl_rng_free(r);
}

/* The bandwidth cuts of a rail with planes, ps: every GPU's NIC (its live
 * plane ports together) each way, every NVLink port, and every rail switch
 * index's uplinks and the links into it over all planes. */
static double plane_bandwidth_cut(const struct topo *t, const struct topo_demand *d, size_t n)
{
    uint32_t H = t->hosts, Lp = t->plane_leaves;
    double *b = xcalloc(4 * (size_t)H + (size_t)t->nports + 4 * (size_t)Lp, sizeof *b);
    double *up = b, *dn = up + H, *ucap = dn + H, *dcap = ucap + H, *nvl = dcap + H;
    double *lout = nvl + t->nports, *lin = lout + Lp, *lco = lin + Lp, *lci = lco + Lp;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, z = d[i].dst;
        double x = (double)d[i].bytes;
        if (a == z || !d[i].bytes) continue;
        if (topo_same_server(t, a, z)) {
            nvl[t->nvl_up[a]] += x;
            nvl[t->nvl_down[z]] += x;
            continue;
        }
        uint32_t f = a;
        if (topo_pxn(t, a, z)) {
            f = topo_pxn_relay(t, a, z);
            nvl[t->nvl_up[a]] += x;
            nvl[t->nvl_down[f]] += x;
        }
        up[f] += x;
        dn[z] += x;
        if (topo_leaf_of(t, f) != topo_leaf_of(t, z)) {
            lout[topo_leaf_of(t, f)] += x;
            lin[topo_leaf_of(t, z)] += x;
        }
    }
    for (uint32_t k = 0; k < t->planes; k++)
        for (uint32_t h = 0; h < H; h++) {
            const struct topo_port *u = &t->ports[t->host_up[(size_t)k * H + h]],
                                   *w = &t->ports[t->host_down[(size_t)k * H + h]];
            if (!u->down) ucap[h] += (double)u->bps;
            if (!w->down) dcap[h] += (double)w->bps;
        }
    for (uint32_t q = 0; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->down) continue;
        if (p->kind == TP_RAIL_UP) lco[(p->src - H) % Lp] += (double)p->bps;
        if (p->kind == TP_RAIL_DOWN) lci[(p->dst - H) % Lp] += (double)p->bps;
    }
    double worst = 0;
    for (uint32_t h = 0; h < H; h++) {
        if (up[h] && up[h] * 8e12 / ucap[h] > worst) worst = up[h] * 8e12 / ucap[h];
        if (dn[h] && dn[h] * 8e12 / dcap[h] > worst) worst = dn[h] * 8e12 / dcap[h];
    }
    for (uint32_t q = 0; q < t->nports; q++)
        if (nvl[q] && over(nvl[q], t->ports[q].bps) > worst) worst = over(nvl[q], t->ports[q].bps);
    for (uint32_t l = 0; l < Lp; l++) {
        if (lout[l] && lout[l] * 8e12 / lco[l] > worst) worst = lout[l] * 8e12 / lco[l];
        if (lin[l] && lin[l] * 8e12 / lci[l] > worst) worst = lin[l] * 8e12 / lci[l];
    }
    free(b);
    return worst;
}

/* Closed forms on planes: a NIC's bytes over its ports' sum (PXN's relay on
 * 2 planes: 2 B through h1's two ports); a pair whose source has only plane
 * 0 (its plane-1 link down) and whose destination's plane-0 link runs at a
 * quarter: every byte crosses that link (the cut bound, which takes each
 * NIC's live ports together, sees a quarter of it). */
static void test_plane_closed_forms(void **state)
{
    (void)state;
    struct cfg c;
    rail_spec(&c, 2, 1, 2, 1, 2, TOPO_XR_PXN);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct topo_demand d[] = {{0, 3, 1000000}, {1, 3, 1000000}};
    uint64_t port = t->ports[t->host_up[1]].bps;
    assert_int_equal(port, t->nic_bps / 2);
    assert_near(lp(t, &c, d, 2, 0), over(2e6, 2 * port));
    check_paths(&c, t, d, 2, "planes: relay");
    topo_destroy(t);
    /* h0 on rail switches r0 (plane 0) and r4 (plane 1); h2 on r2 and r6 */
    rail_spec(&c, 2, 1, 2, 1, 2, TOPO_XR_SPINE);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "h0-r4");
    snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "h2-r2:0.25");
    if (topo_build(&c.topo, &t, &e) < 0) fail_msg("%s", e.msg);
    struct topo_demand one = {0, 2, 1000000};
    uint64_t slow = t->ports[t->host_down[2]].bps;
    assert_int_equal(slow, port / 4);
    assert_near(lp(t, &c, &one, 1, 0), over(1e6, slow));
    simtime_t cut = topo_ideal_ps(t, &one, 1, (uint32_t)c.tr.mtu, 1);
    assert_true((double)cut < over(1e6, slow) / 3);
    assert_true(lp(t, &c, &one, 1, 1) > over(1e6, slow));
    check_paths(&c, t, &one, 1, "planes: one plane left");
    topo_destroy(t);
}

/* Random rails of 2-3 planes: shapes, speeds, both cross_rail options,
 * random traffic; a third with a rail link at a quarter of its rate, a
 * third with a GPU's link to plane 1 down. The bandwidth cuts (each NIC
 * over its live ports, each rail switch index over its uplinks on every
 * plane) <= the LP's bandwidth program <= the LP; cut <= LP <= every path
 * mode's completion on both engines; alike planes (solved as one at P times
 * the rates) give the whole program's T. */
static void test_plane_instances(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    static const double gbps[] = {100, 200, 400};
    int plane_lifted = 0, above = 0, cases = SEEDS / 10, alike = 0;
    flow_runs = flow_below = 0;
    least_flow = 1e30;
    flow_strict = 1;
    double least = 1e30;
    for (int seed = 0; seed < cases; seed++) {
        struct cfg c;
        rail_spec(&c, 1 + (int64_t)gsl_rng_uniform_int(r, 2),
                  1 + (int64_t)gsl_rng_uniform_int(r, 2), 2 + (int64_t)gsl_rng_uniform_int(r, 2),
                  1 + (int64_t)gsl_rng_uniform_int(r, 2), 2 + (int64_t)gsl_rng_uniform_int(r, 2),
                  gsl_rng_uniform_int(r, 2) ? TOPO_XR_PXN : TOPO_XR_SPINE);
        c.topo.host_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.fabric_gbps = gbps[gsl_rng_uniform_int(r, 3)];
        c.topo.link_latency_ns = 100 * (int64_t)gsl_rng_uniform_int(r, 6);
        c.tr.mtu = gsl_rng_uniform_int(r, 2) ? 4096 : 1500;
        c.tr.subflows = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
        c.sim.seed = seed;
        /* rail switch r0 is plane 0's first; plane 1's first is r(Lp) */
        uint32_t Lp = (uint32_t)(c.topo.groups * c.topo.gpus_per_host);
        if (seed % 3 == 1)
            snprintf(c.topo.faults.degraded, sizeof c.topo.faults.degraded, "r%u-s%u:0.25", Lp,
                     (uint32_t)c.topo.spines);
        else if (seed % 3 == 2)
            snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "h0-r%u", Lp);
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e) < 0) fail_msg("plane seed %d: %s", seed, e.msg);
        size_t cap = (size_t)t->hosts * t->hosts;
        struct topo_demand *d = xmalloc(cap * sizeof *d);
        size_t n = random_traffic(r, t->hosts, (uint32_t)c.tr.mtu, d, cap);
        char what[96];
        snprintf(what, sizeof what, "plane seed %d (%u planes, %s)", seed, t->planes,
                 c.topo.cross_rail == TOPO_XR_PXN ? "pxn" : "spine");
        c.tr.path = PATH_SPRAY;
        double bc = plane_bandwidth_cut(t, d, n);
        simtime_t bw = lp(t, &c, d, n, 0), w = lp(t, &c, d, n, 1);
        if ((double)bw < bc * (1 - 2e-6) - 2 || w < bw)
            fail_msg("%s: bandwidth cut %.1f, LP without windows %llu, with %llu", what, bc,
                     (unsigned long long)bw, (unsigned long long)w);
        if ((double)bw > bc * (1 + 1e-5) + 2) above++;
        int before = lifted;
        double x = check_paths(&c, t, d, n, what);
        if (x < least) least = x;
        plane_lifted += lifted > before;
        uint64_t small = topo_ideal_lp_size(t, d, n, 1u << 30);
        if (seed % 3 == 0 && small > 1) {
            /* alike planes are solved as plane 0 at P times the rates: the
             * same T as the whole program, which plane 1's first rail
             * uplink 1 b/s slower forces (and a larger one); (small = 1:
             * every byte over NVLink) */
            c.tr.path = PATH_SPRAY;
            simtime_t sym[2] = {lp(t, &c, d, n, 0), lp(t, &c, d, n, 1)};
            uint32_t q = 2 * t->planes * t->hosts + 2 * Lp * (uint32_t)c.topo.spines;
            assert_int_equal(t->ports[q].kind, TP_RAIL_UP);
            t->ports[q].bps -= 1;
            assert_true(topo_ideal_lp_size(t, d, n, 1u << 30) > small);
            for (int wdw = 0; wdw < 2; wdw++) {
                simtime_t full = lp(t, &c, d, n, wdw);
                if (fabs((double)full - (double)sym[wdw]) > 2e-6 * (double)sym[wdw] + 2)
                    fail_msg("%s: alike planes %llu ps, the whole program %llu ps (windows %d)",
                             what, (unsigned long long)sym[wdw], (unsigned long long)full, wdw);
            }
            alike++;
        }
        free(d);
        topo_destroy(t);
    }
    print_message("planes: %d instances x %d path modes: least cct/bound %.4f; the LP above the "
                  "cut in %d, above every bandwidth cut in %d; flow engine below the bound in %d "
                  "of %d runs (least cct/bound %.4f); alike planes as the whole program in %d\n",
                  cases, NPATHS, least, plane_lifted, above, flow_below, flow_runs, least_flow,
                  alike);
    assert_int_equal(flow_below, 0);
    flow_strict = 0;
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_forms),       cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_degraded_uplink),    cmocka_unit_test(test_faults),
        cmocka_unit_test(test_random_instances),   cmocka_unit_test(test_rail_instances),
        cmocka_unit_test(test_plane_closed_forms), cmocka_unit_test(test_plane_instances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
