/* test_fault_timed.c - links that fail during a run (faults.fail,
 * faults.reroute_delay_ns; sim/pkt_fault.c, docs/fabrics.md), on the packet
 * engine directly:
 *  - a flow on the ECMP path whose link fails completes by its loss
 *    recovery (go-back-N and selective): retransmissions, and timeouts or
 *    NACKs, counted per message and per run; every byte delivered once
 *    (the engine's invariants); the packets the link held counted as its
 *    drops; later than without the failure;
 *  - the reroute delay D costs about D: the flow's completion with D
 *    against with 0 differs by D within one retransmission timeout and a
 *    round trip (closed form below);
 *  - spraying over s = 4 spines on a 2:1 fabric, one uplink failing
 *    mid-run: the completion lies between the run's without the failure,
 *    T0, and s/(s-1) T0 (within 3% of T0/2 + T0/2 s/(s-1)), and below the
 *    run's with the link down from the start (within 5% of s/(s-1) T0);
 *  - a failure after the traffic has ended changes nothing (end time,
 *    event count);
 *  - a run repeats exactly, on a new engine and on one reset;
 *  - the failures' routing tables are built before the run: the fabric
 *    starts with every link up and its own table;
 *  - after the reroute nothing goes to the dead link, under every path
 *    mode and both recoveries, on a leaf-spine and a fat-tree. */
#include <math.h>

#include "loss_sums.h"

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

/* leaves x 4 spines x hpl hosts at 100 Gb/s, 1 us links (the defaults) */
static struct cfg fab(uint32_t leaves, uint32_t hpl, int recovery, int path)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = leaves;
    c.topo.spines = 4;
    c.topo.hosts_per_leaf = hpl;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.path = path;
    c.tr.recovery = recovery;
    c.tr.rto_ns = 20000;
    return c;
}

struct result {
    struct sums s;
    struct eng_stats st;
    uint64_t drops;      /* at the failing link's ports */
    uint32_t used_spine; /* the spine l0's uplink carrying the most bytes leads to */
};

/* The traffic: one flow h0 -> last host (one = 1), or every host of leaf
 * l0 to its partner on l1 and back (a cross-leaf permutation). */
static void run(struct cfg *c, int one, uint64_t bytes, struct result *r)
{
    struct err er;
    struct topo *t;
    if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
    memset(r, 0, sizeof *r);
    struct eng_hooks h = {&r->s, on_done};
    struct eng *e = eng_create(t, &c->tr, 1, &h);
    eng_set_msg_loss(e, on_counters, &r->s);
    uint32_t H = t->hosts, hpl = t->hosts_per_leaf, m = 0;
    if (one) {
        eng_add_msg(e, 0, H - 1, bytes, 0, m++);
    } else {
        for (uint32_t a = 0; a < hpl; a++) {
            eng_add_msg(e, a, hpl + a, bytes, 0, m++);
            eng_add_msg(e, hpl + a, a, bytes, 0, m++);
        }
    }
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(r->s.done, m);
    r->st = *eng_stats(e);
    assert_int_equal(r->st.data_bytes_delivered, (uint64_t)m * bytes);
    uint64_t best = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *q = &t->ports[p];
        if (q->kind == TP_LEAF_UP && q->src == H && eng_port(e, p)->bytes > best) {
            best = eng_port(e, p)->bytes;
            r->used_spine = q->dst - H - t->leaves;
        }
    }
    for (uint32_t i = 0; i < t->ntfaults; i++)
        for (uint32_t j = 0; j < t->tfaults[i].nports; j++)
            r->drops += eng_port(e, t->tfaults[i].ports[j])->drops;
    eng_destroy(e);
    topo_destroy(t);
}

static void set_fail(struct cfg *c, uint32_t spine, double at_us, int64_t delay_ns)
{
    snprintf(c->topo.faults.fail, sizeof c->topo.faults.fail, "l0-s%u@%gus", spine, at_us);
    c->topo.faults.reroute_delay_ns = delay_ns;
}

/* One 4 MiB flow (about 336 us at 100 Gb/s); its ECMP path's leaf uplink
 * fails at 100 us. */
static void test_ecmp_flow_recovers(void **state)
{
    (void)state;
    for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
        struct cfg c = fab(2, 1, rec, PATH_ECMP);
        struct result a, b;
        run(&c, 1, 4 << 20, &a);
        assert_int_equal(a.st.retx_bytes, 0);
        set_fail(&c, a.used_spine, 100, 0);
        run(&c, 1, 4 << 20, &b);
        print_message("recovery %d: spine s%u fails at 100 us: end %.1f us (without: %.1f us), "
                      "%llu drops, %llu retx bytes, %llu timeouts, %llu nacks; now on s%u\n",
                      rec, a.used_spine, (double)b.s.last / PS_PER_US, (double)a.s.last / PS_PER_US,
                      (unsigned long long)b.drops, (unsigned long long)b.st.retx_bytes,
                      (unsigned long long)b.st.timeouts, (unsigned long long)b.st.nacks,
                      b.used_spine);
        assert_true(b.drops > 0);
        assert_true(b.st.retx_bytes > 0);
        assert_true(b.st.timeouts + b.st.nacks > 0);
        /* the message's counters are the run's */
        assert_int_equal(b.s.retx, b.st.retx_bytes);
        assert_int_equal(b.s.timeouts, b.st.timeouts);
        assert_int_equal(b.s.nacks, b.st.nacks);
        /* every byte once: sent = delivered + duplicates + dropped */
        assert_int_equal(b.st.data_bytes_delivered, 4 << 20);
        assert_int_equal(b.st.data_bytes_sent,
                         b.st.data_bytes_delivered + b.st.dup_bytes + b.st.drop_bytes);
        assert_true(b.st.drop_bytes > 0);
        assert_true(b.s.last > a.s.last);
        assert_true(b.used_spine != a.used_spine); /* its bytes went another way after */
    }
}

/* The reroute delay D: with D = 0 the flow's lost packets are resent within
 * a timeout (or at once on a NACK); with D, every packet sent to the dead
 * link in [f, f + D) is lost too, the flow makes no progress then, and its
 * next timeout after f + D (at most rto later) resends. So the two ends
 * differ by D - r0 + r1 with r0, r1 in [0, rto + RTT]: |delta - D| <= rto +
 * one round trip (10 us here, generous: 4 links of 1 us each way, plus
 * serialization). */
static void test_reroute_delay(void **state)
{
    (void)state;
    for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
        struct cfg c = fab(2, 1, rec, PATH_ECMP);
        struct result a, z, d;
        run(&c, 1, 4 << 20, &a);
        set_fail(&c, a.used_spine, 100, 0);
        run(&c, 1, 4 << 20, &z);
        const int64_t D = 150000; /* ns */
        set_fail(&c, a.used_spine, 100, D);
        run(&c, 1, 4 << 20, &d);
        double delta = (double)d.s.last - (double)z.s.last;
        double bound = (double)(c.tr.rto_ns + 10000) * PS_PER_NS;
        print_message("recovery %d: end %.1f us with reroute 0, %.1f us with %.0f us (delta %.1f "
                      "us, bound %.1f us), timeouts %llu vs %llu\n",
                      rec, (double)z.s.last / PS_PER_US, (double)d.s.last / PS_PER_US,
                      (double)D / 1000, delta / PS_PER_US, bound / PS_PER_US,
                      (unsigned long long)z.st.timeouts, (unsigned long long)d.st.timeouts);
        assert_true(fabs(delta - (double)D * PS_PER_NS) <= bound);
        /* the timeouts while the routes still point at the dead link */
        assert_true(d.st.timeouts >= (uint64_t)(D / c.tr.rto_ns) - 1);
        assert_true(d.drops > z.drops);
    }
}

/* Spraying over s = 4 spines, l0-s1 failing mid-run, on a fabric whose
 * uplinks are the bottleneck (8 hosts per leaf at 100 Gb/s, 4 uplinks: 2:1):
 * the completion lies between the run's without the failure (T0) and
 * s/(s-1) T0, the time its bytes take on s - 1 uplinks; and below the run
 * with l0-s1 down from the start, itself within 5% of s/(s-1) T0. */
static void test_spray_bound(void **state)
{
    (void)state;
    struct cfg c = fab(2, 8, REC_SELECTIVE, PATH_SPRAY);
    struct result a, f, s;
    run(&c, 0, 2 << 20, &a);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s1");
    run(&c, 0, 2 << 20, &s);
    c.topo.faults.down[0] = 0;
    set_fail(&c, 1, (double)a.s.last / PS_PER_US / 2, 0);
    run(&c, 0, 2 << 20, &f);
    double T0 = (double)a.s.last, ratio = 4.0 / 3;
    print_message("spray: no fault %.1f us (8 x 2 MiB over 400 Gb/s: %.1f us), l0-s1 failing at "
                  "%.1f us %.1f us (%llu drops, %llu retx bytes, x%.3f), down from the start "
                  "%.1f us (x%.3f; s/(s-1) = %.3f)\n",
                  T0 / PS_PER_US, (double)ser_ps(8ull << 21, 400000000000ull) / PS_PER_US,
                  T0 / PS_PER_US / 2, (double)f.s.last / PS_PER_US, (unsigned long long)f.drops,
                  (unsigned long long)f.st.retx_bytes, (double)f.s.last / T0,
                  (double)s.s.last / PS_PER_US, (double)s.s.last / T0, ratio);
    assert_true(f.drops > 0);
    assert_true(f.st.retx_bytes > 0);
    assert_true((double)f.s.last > T0);
    assert_true((double)f.s.last < ratio * T0);
    assert_true(f.s.last < s.s.last);
    assert_true(fabs((double)s.s.last / T0 - ratio) <= 0.05 * ratio);
    /* the first half at the full rate, the rest at (s-1)/s of it */
    double mid = T0 / 2 + T0 / 2 * ratio;
    assert_true(fabs((double)f.s.last - mid) <= 0.03 * mid);
}

/* A failure after the last packet: nothing changes, not even the event
 * count (its event is dropped as the sampler's last one is). */
static void test_after_the_end(void **state)
{
    (void)state;
    struct cfg c = fab(2, 1, REC_GOBACK_N, PATH_ECMP);
    struct result a, b;
    run(&c, 1, 1 << 20, &a);
    set_fail(&c, a.used_spine, 10000, 0);
    run(&c, 1, 1 << 20, &b);
    assert_int_equal(b.s.last, a.s.last);
    assert_int_equal(b.st.now, a.st.now);
    assert_int_equal(b.st.events, a.st.events);
    assert_int_equal(b.drops, 0);
    assert_int_equal(b.st.retx_bytes, 0);
}

/* Two runs, and a run again on a reset engine: the same end and counters
 * (each engine run starts with the links up and its failures queued). */
static void test_repeatable(void **state)
{
    (void)state;
    struct cfg c = fab(2, 4, REC_SELECTIVE, PATH_SPRAY);
    set_fail(&c, 2, 150, 20000);
    struct result a, b;
    run(&c, 0, 2 << 20, &a);
    run(&c, 0, 2 << 20, &b);
    assert_int_equal(a.s.last, b.s.last);
    assert_int_equal(a.st.events, b.st.events);
    assert_int_equal(a.st.retx_bytes, b.st.retx_bytes);
    struct err er;
    struct topo *t;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct sums s[2];
    memset(s, 0, sizeof s);
    struct eng_hooks h = {&s[0], on_done};
    struct eng *e = eng_create(t, &c.tr, 1, &h);
    struct eng_stats st[2];
    for (int k = 0; k < 2; k++) {
        h.ctx = &s[k];
        eng_reset(e, &h, 0);
        for (uint32_t x = 0; x < 4; x++) {
            eng_add_msg(e, x, 4 + x, 2 << 20, 0, 2 * x);
            eng_add_msg(e, 4 + x, x, 2 << 20, 0, 2 * x + 1);
        }
        eng_run(e);
        char why[512];
        if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
        st[k] = *eng_stats(e);
    }
    assert_int_equal(s[0].last, s[1].last);
    assert_int_equal(s[0].last, a.s.last);
    assert_int_equal(st[0].events, st[1].events);
    assert_int_equal(st[0].retx_bytes, st[1].retx_bytes);
    eng_destroy(e);
    topo_destroy(t);
}

/* The tables: built per failure, in time order, the fabric left as it
 * starts (every link up, its own routes); the later table has fewer
 * paths. */
static void test_tables(void **state)
{
    (void)state;
    struct cfg c = fab(2, 1, REC_GOBACK_N, PATH_ECMP);
    snprintf(c.topo.faults.fail, sizeof c.topo.faults.fail, "l1-s2@20us l0-s1@5us");
    struct err er;
    struct topo *t;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    assert_int_equal(t->ntfaults, 2);
    assert_int_equal(t->ndown, 0);
    assert_int_equal(t->npaths, 4);
    assert_non_null(t->up); /* the ideal bound reads them */
    assert_int_equal(t->tfaults[0].at_ps, 5 * PS_PER_US);
    assert_string_equal(t->tfaults[0].text, "l0-s1@5us");
    assert_int_equal(t->tfaults[1].at_ps, 20 * PS_PER_US);
    assert_int_equal(t->tfaults[0].nports, 2);
    assert_int_equal(t->tfaults[0].npaths, 3);
    assert_int_equal(t->tfaults[1].npaths, 2);
    for (uint32_t p = 0; p < t->nports; p++)
        assert_int_equal(t->ports[p].down, 0);
    /* leaf l0's group toward l1 after both: s0 and s3 */
    const struct topo_tfault *tf = &t->tfaults[1];
    const struct topo_hop *g = &tf->route[0 * t->leaves + 1];
    assert_int_equal(g->n, 2);
    assert_int_equal(t->ports[tf->route_ports[g->off]].dst, t->hosts + t->leaves + 0);
    assert_int_equal(t->ports[tf->route_ports[g->off + 1]].dst, t->hosts + t->leaves + 3);
    topo_destroy(t);
}

/* After the reroute nothing is routed to the dead link: its ports' drops
 * at the end are those counted just after the failure (a sample 1 ns
 * later, the reroute being at once), under every path mode and both
 * recoveries, on a leaf-spine (l0-s1) and a fat-tree (an aggregation-core
 * link, a0-c0, and a leaf-aggregation one, l2-a3: choices at two tiers);
 * every byte delivered (the engine's invariants). */
struct watch {
    const struct topo *t;
    uint64_t drops;
    int seen;
};

static void on_sample(void *ctx, const struct eng *e, simtime_t now)
{
    (void)now;
    struct watch *w = ctx;
    if (w->seen) return;
    w->seen = 1;
    for (uint32_t i = 0; i < w->t->ntfaults; i++)
        for (uint32_t j = 0; j < w->t->tfaults[i].nports; j++)
            w->drops += eng_port(e, w->t->tfaults[i].ports[j])->drops;
}

static void paths_on(struct cfg *c, simtime_t sample_at, uint64_t bytes)
{
    for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++)
        for (int path = PATH_ECMP; path <= PATH_ETHEREAL; path++) {
            c->tr.recovery = rec;
            c->tr.path = path;
            c->tr.subflows = 4;
            struct err er;
            struct topo *t;
            if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
            struct sums s = {0};
            struct eng_hooks h = {&s, on_done};
            struct eng *e = eng_create(t, &c->tr, 1, &h);
            struct watch w = {t, 0, 0};
            eng_set_sampler(e, sample_at, 1000 * PS_PER_MS, on_sample, &w);
            uint32_t H = t->hosts, m = 0;
            for (uint32_t a = 0; a < H; a++) /* a shift by half the hosts: across the fabric */
                eng_add_msg(e, a, (a + H / 2) % H, bytes, 0, m++);
            eng_run(e);
            char why[512];
            if (eng_check(e, why, sizeof why)) fail_msg("path %d recovery %d: %s", path, rec, why);
            assert_int_equal(s.done, m);
            assert_int_equal(eng_stats(e)->data_bytes_delivered, (uint64_t)m * bytes);
            uint64_t drops = 0;
            for (uint32_t i = 0; i < t->ntfaults; i++)
                for (uint32_t j = 0; j < t->tfaults[i].nports; j++)
                    drops += eng_port(e, t->tfaults[i].ports[j])->drops;
            assert_true(w.seen);
            if (drops != w.drops)
                fail_msg("path %d recovery %d: %llu drops after the reroute", path, rec,
                         (unsigned long long)(drops - w.drops));
            if (path != PATH_ECMP && path != PATH_FLOWLET) assert_true(drops > 0);
            eng_destroy(e);
            topo_destroy(t);
        }
}

static void test_no_route_to_the_dead(void **state)
{
    (void)state;
    struct cfg c = fab(2, 4, REC_GOBACK_N, PATH_ECMP);
    snprintf(c.topo.faults.fail, sizeof c.topo.faults.fail, "l0-s1@30us");
    paths_on(&c, 30 * PS_PER_US + PS_PER_NS, 1 << 20);
    cfg_defaults(&c);
    c.topo.kind = TOPO_FAT_TREE;
    c.topo.pods = 2;
    c.topo.cores = 4;
    topo_spec_resolve(&c.topo);
    c.tr.rto_ns = 20000;
    snprintf(c.topo.faults.fail, sizeof c.topo.faults.fail, "a0-c0@20us l2-a3@20us");
    paths_on(&c, 20 * PS_PER_US + PS_PER_NS, 256 << 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecmp_flow_recovers),   cmocka_unit_test(test_reroute_delay),
        cmocka_unit_test(test_spray_bound),          cmocka_unit_test(test_after_the_end),
        cmocka_unit_test(test_repeatable),           cmocka_unit_test(test_tables),
        cmocka_unit_test(test_no_route_to_the_dead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
