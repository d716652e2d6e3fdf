/* test_flow_fault.c - links that fail during a run (faults.fail,
 * faults.reroute_delay_ns) on the flow engine (sim/flow_fault.c,
 * docs/flow-engine.md "Links that fail during a run"):
 *  - a lone ECMP flow whose path's leaf uplink fails at f, rerouted d
 *    later, ends at the closed form T0 + d + tail (T0: its end without the
 *    failure; tail: its first packet's way after the first hop, the time
 *    its lost in-flight bytes, rate x tail, take again), with exactly those
 *    bytes lost, on another spine afterwards; the same with deferred
 *    re-solves;
 *  - bytes conserved under every path mode on a leaf-spine, a fat-tree and
 *    a fabric from a file: every message done, sent = delivered + lost,
 *    drops only at the failed link's ports;
 *  - spraying over s = 4 spines on a 2:1 fabric, one uplink failing at half
 *    the no-fault time T0: within 1% of T0/2 + T0/2 s/(s-1);
 *  - several failures, one before the previous one's reroute; a failure
 *    after the end changes nothing (end, event count); runs repeat, on a
 *    reset engine too;
 *  - against the packet engine on the lone flow: the fluid's end is before
 *    the packet engine's by its loss detection (go-back-N's NACK, selective
 *    repeat's timeout), at most a timeout and a round trip. */
#include <math.h>

#include "testutil.h"

#include "sim/eng.h"
#include "sim/flow_eng.h"
#include "topo/topo.h"

static struct cfg fab(uint32_t leaves, uint32_t hpl, int path)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = leaves;
    c.topo.spines = 4;
    c.topo.hosts_per_leaf = hpl;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.path = path;
    c.tr.rto_ns = 20000;
    return c;
}

struct result {
    uint32_t done;
    simtime_t last;
    struct eng_stats st;
    uint64_t drops, other_drops; /* at the failing links' ports, elsewhere */
    uint32_t used_spine;         /* the spine of l0's uplink with the most bytes */
    uint64_t link_bytes;
};

static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)e, (void)tag, (void)start, (void)loss;
    struct result *r = ctx;
    r->done++;
    if (end > r->last) r->last = end;
}

/* Demands: one flow h0 -> last host (one = 1), every host of l0 to its
 * partner on l1 and back (one = 0), or every ordered pair (one = 2). */
static uint32_t add(struct eng *e, const struct topo *t, int one, uint64_t bytes)
{
    uint32_t H = t->hosts, hpl = t->hosts_per_leaf, m = 0;
    if (one == 1) {
        eng_add_msg(e, 0, H - 1, bytes, 0, m++);
    } else if (one == 0) {
        for (uint32_t a = 0; a < hpl; a++) {
            eng_add_msg(e, a, hpl + a, bytes, 0, m++);
            eng_add_msg(e, hpl + a, a, bytes, 0, m++);
        }
    } else {
        struct topo_demand d[256];
        for (uint32_t a = 0; a < H; a++)
            for (uint32_t b = 0; b < H; b++)
                if (a != b) d[m++] = (struct topo_demand){a, b, bytes + 4096 * a + b};
        struct eth_sub *subs = NULL;
        size_t *off = NULL;
        if (e->ops == &flow_eng_ops && flow_eng_of(e)->path == PATH_ETHEREAL)
            eth_assign(e->t, d, m, &subs, &off); /* (the engine's view) */
        for (uint32_t i = 0; i < m; i++)
            if (subs)
                eng_add_msg_paths(e, d[i].src, d[i].dst, 0, i, &subs[off[i]],
                                  (uint32_t)(off[i + 1] - off[i]));
            else
                eng_add_msg(e, d[i].src, d[i].dst, d[i].bytes, 0, i);
        free(subs);
        free(off);
    }
    return m;
}

static void collect(struct eng *e, const struct topo *t, struct result *r)
{
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    r->st = *eng_stats(e);
    /* every byte: sent = delivered + lost (+ the packet engine's duplicates) */
    assert_int_equal(r->st.data_bytes_sent,
                     r->st.data_bytes_delivered + r->st.drop_bytes + r->st.dup_bytes);
    uint64_t best = 0;
    uint8_t *failing = xcalloc(t->nports, 1);
    for (uint32_t i = 0; i < t->ntfaults; i++)
        for (uint32_t j = 0; j < t->tfaults[i].nports; j++)
            failing[t->tfaults[i].ports[j]] = 1;
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *q = &t->ports[p];
        const struct res_port_stats *ps = eng_port(e, p);
        r->link_bytes += ps->bytes;
        if (failing[p])
            r->drops += ps->drops;
        else
            r->other_drops += ps->drops;
        if (t->kind == TOPO_LEAF_SPINE && q->kind == TP_LEAF_UP && q->src == t->hosts &&
            ps->bytes > best) {
            best = ps->bytes;
            r->used_spine = q->dst - t->hosts - t->leaves;
        }
    }
    free(failing);
}

static void run_kind(struct cfg *c, int kind, int one, uint64_t bytes, struct result *r)
{
    struct err er;
    struct topo *t;
    if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
    memset(r, 0, sizeof *r);
    struct eng_hooks h = {r, on_done};
    struct eng *e = eng_create_kind(kind, t, &c->tr, 1, &h);
    uint32_t m = add(e, t, one, bytes);
    eng_run(e);
    assert_int_equal(r->done, m);
    collect(e, t, r);
    eng_destroy(e);
    topo_destroy(t);
}

static void run(struct cfg *c, int one, uint64_t bytes, struct result *r)
{
    run_kind(c, ENGINE_FLOW, one, bytes, r);
}

static void set_fail(struct cfg *c, uint32_t spine, double at_us, int64_t delay_ns)
{
    snprintf(c->topo.faults.fail, sizeof c->topo.faults.fail, "l0-s%u@%gus", spine, at_us);
    c->topo.faults.reroute_delay_ns = delay_ns;
}

/* The lone flow's tail: its first packet's way after its first hop. */
static simtime_t tail_of(const struct cfg *c)
{
    struct err er;
    struct topo *t;
    if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
    simtime_t tail = topo_path_latency(t, 0, t->hosts - 1, 4096) - ser_ps(4096, t->ports[0].bps);
    topo_destroy(t);
    return tail;
}

/* One 4 MiB flow (335.5 us at 100 Gb/s); its ECMP path's leaf uplink fails
 * at f = 100 us, rerouted d later: it stops at f with S - r f bytes left,
 * loses its r x tail bytes in flight, continues at f + d on another spine
 * at r: end = f + d + (S - r f + r tail) / r + tail = T0 + d + tail. */
static void test_lone_flow_closed_form(void **state)
{
    (void)state;
    for (int defer = 0; defer <= 1; defer++)
        for (int64_t d = 0; d <= 150000; d += 150000) {
            struct cfg c = fab(2, 1, PATH_ECMP);
            c.tr.fl.resolve_window = defer ? 0.1 : 0;
            struct result a, b;
            run(&c, 1, 4 << 20, &a);
            simtime_t tail = tail_of(&c);
            const uint64_t S = 4 << 20;
            double r = 100e9 / 8 / PS_PER_S; /* bytes per ps */
            assert_true(llabs((long long)a.last - (long long)(ser_ps(S, 100000000000ull) + tail)) <=
                        2);
            set_fail(&c, a.used_spine, 100, d);
            run(&c, 1, S, &b);
            simtime_t want = a.last + (simtime_t)d * PS_PER_NS + tail;
            print_message(
                "defer %d, reroute %lld us: end %.4f us, closed form %.4f us (T0 %.4f us, "
                "tail %.4f us), %llu bytes lost, now on s%u (was s%u)\n",
                defer, (long long)d / 1000, (double)b.last / PS_PER_US, (double)want / PS_PER_US,
                (double)a.last / PS_PER_US, (double)tail / PS_PER_US,
                (unsigned long long)b.st.drop_bytes, b.used_spine, a.used_spine);
            assert_true(llabs((long long)b.last - (long long)want) <= 4);
            assert_int_equal(b.st.drop_bytes, (uint64_t)llround(r * (double)tail));
            assert_int_equal(b.st.data_bytes_delivered, S);
            assert_true(b.drops > 0);
            assert_int_equal(b.other_drops, 0);
            assert_true(b.used_spine != a.used_spine);
        }
}

/* Bytes conserved, every message done, drops at the failed link only:
 * every path mode the flow engine runs, on a leaf-spine, a fat-tree and
 * the mesh read from data/fabrics/ring_mesh.graphml, an all-to-all with a
 * link failing mid-run. */
static void test_bytes_conserved(void **state)
{
    (void)state;
    for (int fabric = 0; fabric < 3; fabric++)
        for (int path = PATH_ECMP; path <= PATH_ETHEREAL; path++) {
            if (path == PATH_FLOWLET) continue; /* refused on the flow engine */
            struct cfg c = fab(2, 2, path);
            const char *fail = "l0-s1@4us l1-s2@6us";
            if (fabric == 1) {
                c.topo.kind = TOPO_FAT_TREE;
                c.topo.pods = 2;
                c.topo.leaves_per_pod = 2;
                c.topo.aggs_per_pod = 2;
                c.topo.cores = 4;
                topo_spec_resolve(&c.topo);
                fail = "l0-a0@4us a1-c2@6us";
            } else if (fabric == 2) {
                c.topo.kind = TOPO_FILE;
                snprintf(c.topo.file, sizeof c.topo.file, "data/fabrics/ring_mesh.graphml");
                topo_spec_resolve(&c.topo);
                fail = "a0-a1@4us a0-t0@6us";
            }
            struct result a, b;
            run(&c, 2, 60000, &a);
            snprintf(c.topo.faults.fail, sizeof c.topo.faults.fail, "%s", fail);
            c.topo.faults.reroute_delay_ns = 3000;
            run(&c, 2, 60000, &b);
            print_message("fabric %d path %d: end %.3f us (without %.3f us), %llu bytes lost, "
                          "%llu drops\n",
                          fabric, path, (double)b.last / PS_PER_US, (double)a.last / PS_PER_US,
                          (unsigned long long)b.st.drop_bytes, (unsigned long long)b.drops);
            assert_int_equal(b.st.data_bytes_delivered, a.st.data_bytes_delivered);
            assert_true(b.st.drop_bytes > 0);
            assert_true(b.drops > 0);
            assert_int_equal(b.other_drops, 0);
            /* (on the mesh the rerouted spreading modes may end sooner: its
             * path numbers are not uniform over its paths, and the tables
             * without the links spread them otherwise) */
            if (fabric < 2 || path == PATH_ECMP) assert_true(b.last > a.last);
        }
}

/* Spraying over s = 4 spines on a 2:1 fabric (8 hosts per leaf, 4
 * uplinks), l0-s1 failing at f = T0/2: the leaf's fluid X = T0 - tail at
 * the full rate until f, the rest on s - 1 uplinks ((X - f) s/(s-1)), then
 * the bytes lost in flight (half of them each way) at that rate, then the
 * tail; within 1% of T0/2 + T0/2 s/(s-1) (what the packet engine's test
 * checks within 3%), and below the run with l0-s1 down from the start
 * (within 1% of s/(s-1) T0). */
static void test_spray(void **state)
{
    (void)state;
    struct cfg c = fab(2, 8, PATH_SPRAY);
    struct result a, f, s;
    run(&c, 0, 2 << 20, &a);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-s1");
    run(&c, 0, 2 << 20, &s);
    c.topo.faults.down[0] = 0;
    set_fail(&c, 1, (double)a.last / PS_PER_US / 2, 0);
    run(&c, 0, 2 << 20, &f);
    double T0 = (double)a.last, ratio = 4.0 / 3, mid = T0 / 2 + T0 / 2 * ratio;
    print_message("spray: no fault %.2f us, failing at T0/2 %.2f us (T0/2 + T0/2 x 4/3 = %.2f us, "
                  "%llu bytes lost), down from the start %.2f us (x%.4f)\n",
                  T0 / PS_PER_US, (double)f.last / PS_PER_US, mid / PS_PER_US,
                  (unsigned long long)f.st.drop_bytes, (double)s.last / PS_PER_US,
                  (double)s.last / T0);
    simtime_t tail = tail_of(&c);
    double X = T0 - (double)tail, fl = T0 / 2, rate = (X - 0) > 0 ? 8.0 * (2 << 20) / X : 0;
    double want =
        fl + (X - fl) * ratio + (double)f.st.drop_bytes / 2 / (rate / ratio) + (double)tail;
    print_message("spray: closed form %.3f us\n", want / PS_PER_US);
    assert_true(fabs((double)f.last - want) <= 1e-3 * want);
    assert_true(fabs((double)f.last - mid) <= 0.02 * mid);
    assert_true(f.last < s.last);
    assert_true(fabs((double)s.last / T0 - ratio) <= 0.01 * ratio);
}

/* Three uplinks of l0 fail 10 us apart, each rerouted 50 us later: the lone
 * flow stops at the first, and goes on when a reroute gives it a live
 * route (the first's, if its new route avoids the others, or a later
 * one): between T0 + 50 us + tail and T0 + 70 us + tail; every byte. */
static void test_several(void **state)
{
    (void)state;
    struct cfg c = fab(2, 1, PATH_ECMP);
    struct result a, b;
    run(&c, 1, 4 << 20, &a);
    simtime_t tail = tail_of(&c);
    uint32_t s0 = a.used_spine;
    snprintf(c.topo.faults.fail, sizeof c.topo.faults.fail,
             "l0-s%u@100us l0-s%u@110us l0-s%u@120us", s0, (s0 + 1) % 4, (s0 + 2) % 4);
    c.topo.faults.reroute_delay_ns = 50000;
    run(&c, 1, 4 << 20, &b);
    print_message("three failures: end %.3f us (T0 %.3f us)\n", (double)b.last / PS_PER_US,
                  (double)a.last / PS_PER_US);
    assert_true(b.last + 4 >= a.last + 50 * PS_PER_US + tail);
    assert_true(b.last <= a.last + 70 * PS_PER_US + tail + 4);
    assert_int_equal(b.st.data_bytes_delivered, 4 << 20);
}

/* A failure after the traffic: nothing changes, not even the event count. */
static void test_after_the_end(void **state)
{
    (void)state;
    struct cfg c = fab(2, 1, PATH_ECMP);
    struct result a, b;
    run(&c, 1, 1 << 20, &a);
    set_fail(&c, a.used_spine, 10000, 0);
    run(&c, 1, 1 << 20, &b);
    assert_int_equal(b.last, a.last);
    assert_int_equal(b.st.now, a.st.now);
    assert_int_equal(b.st.events, a.st.events);
    assert_int_equal(b.st.drop_bytes, 0);
}

/* Runs repeat, on new engines and on one engine reset between them. */
static void test_repeatable(void **state)
{
    (void)state;
    struct cfg c = fab(2, 4, PATH_SPRAY);
    set_fail(&c, 2, 50, 20000);
    struct result a, b;
    run(&c, 0, 2 << 20, &a);
    run(&c, 0, 2 << 20, &b);
    assert_int_equal(a.last, b.last);
    assert_int_equal(a.st.events, b.st.events);
    assert_int_equal(a.st.drop_bytes, b.st.drop_bytes);
    struct err er;
    struct topo *t;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct result r[2];
    memset(r, 0, sizeof r);
    struct eng_hooks h = {&r[0], on_done};
    struct eng *e = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
    for (int k = 0; k < 2; k++) {
        h.ctx = &r[k];
        eng_reset(e, &h, 0);
        add(e, t, 0, 2 << 20);
        eng_run(e);
        collect(e, t, &r[k]);
        assert_int_equal(r[k].last, a.last);
        assert_int_equal(r[k].st.drop_bytes, a.st.drop_bytes);
    }
    eng_destroy(e);
    topo_destroy(t);
}

/* Against the packet engine (go-back-N and selective repeat, which a
 * failure needs there) on the lone flow: the fluid resumes at the reroute,
 * the packets once the sender detects the loss (a NACK, or a timeout), so
 * the flow engine ends first, by at most a timeout and a round trip. */
static void test_against_packet(void **state)
{
    (void)state;
    struct cfg c = fab(2, 1, PATH_ECMP);
    struct result a, f;
    run(&c, 1, 4 << 20, &a);
    set_fail(&c, a.used_spine, 100, 0);
    run(&c, 1, 4 << 20, &f);
    for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
        struct cfg p = c;
        p.tr.recovery = rec;
        struct result k;
        run_kind(&p, ENGINE_PACKET, 1, 4 << 20, &k);
        double gap = (double)k.last - (double)f.last;
        print_message("recovery %d: packet %.2f us, flow %.2f us (%+.2f%%)\n", rec,
                      (double)k.last / PS_PER_US, (double)f.last / PS_PER_US,
                      100 * gap / (double)k.last);
        assert_true(gap >= 0);
        assert_true(gap <= (double)(c.tr.rto_ns + 10000) * PS_PER_NS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_flow_closed_form),
        cmocka_unit_test(test_bytes_conserved),
        cmocka_unit_test(test_spray),
        cmocka_unit_test(test_several),
        cmocka_unit_test(test_after_the_end),
        cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_against_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
