/* test_rail_plane_faults.c - a GPU's link to one rail plane failing during
 * the run (faults.fail naming a GPU-to-plane link, topo/faults.c,
 * sim/pkt_fault.c) and down before it on the flow engine (sim/flow_eng.c
 * add_route), on a rail of 2 groups x 2 servers x 4 GPUs, 1 spine a plane,
 * 2 planes: 100 Gb/s NICs (50 a plane port), 200 Gb/s rail-spine links,
 * 700 ns. h0's NIC ports are on r0 (plane 0) and r8 (plane 1).
 *  - a lone 4 MB flow sprayed from h0 (and, over PXN, from h1 through its
 *    relay h0) to h8, h0-r8 failing mid-run, reroute at once: every byte
 *    delivered once (the engine's invariants), losses at the failed link
 *    only, and the end at the closed form of the remaining plane: the
 *    bytes not delivered at the failure at one plane port's rate after it,
 *    within 2 us below and two round trips above under selective repeat
 *    (go-back-N under spraying discards what spraying reorders: only its
 *    accounting is checked; it even ends earlier once one plane is left);
 *  - ECMP: the flow hashed onto the surviving plane ends at the picosecond
 *    it ends without the failure; onto the failing plane it recovers and
 *    ends at the same closed form plus one retransmission timeout (its
 *    whole window was in the failed NIC port's queue), within a round
 *    trip below and two above;
 *  - the reroute delay D: the flow on the failing plane loses everything
 *    it sends in [f, f + D) (the sender's plane choice reads the routes
 *    before the failure) and ends D later, within a timeout and a round
 *    trip;
 *  - an all-to-all under all 7 path modes and both recoveries with h0-r8
 *    failing: every byte delivered, losses at h0-r8's ports only, runs
 *    repeat exactly, and under cross_rail = spine nothing lost 30 us after
 *    the reroute;
 *  - a failure that leaves a pair no plane is refused with its line;
 *  - the flow engine with h0-r8 down (before the run): plane 1's NIC ports
 *    of h0 carry nothing, a lone flow ends where the packet engine's does
 *    (to the picosecond),
 *    an all-to-all within 3% of the packet engine's under spray, adaptive
 *    and ethereal. */
#include "fabric_spec.h"

#include <math.h>

#include "sim/eng.h"
#include "sim/ethereal.h"
#include "topo/topo.h"

static struct cfg rail_cfg(int xr, int path, int rec)
{
    struct cfg c;
    rail_spec(&c, 2, 2, 4, 1, 2, xr);
    c.topo.host_gbps = 100;
    c.topo.fabric_gbps = 200;
    c.topo.link_latency_ns = 700;
    c.tr.path = path;
    c.tr.recovery = rec;
    c.tr.rto_ns = 20000;
    return c;
}

struct out {
    simtime_t end;
    struct eng_stats st;
    uint64_t drops, other_drops; /* at the failing link's ports, elsewhere */
    uint64_t drops_at_sample;    /* at the failing link's ports by the sample */
    uint64_t delivered_at_sample;
    uint64_t plane_up[2]; /* bytes on h0's host_up per plane */
    int sampled;
};

static struct out *cur_out;
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)ctx, (void)e, (void)tag, (void)start, (void)loss;
    if (end > cur_out->end) cur_out->end = end;
}

static const struct topo *cur_t;
static void on_sample(void *ctx, const struct eng *e, simtime_t now)
{
    (void)now;
    struct out *o = ctx;
    if (o->sampled) return;
    o->sampled = 1;
    o->delivered_at_sample = eng_stats(e)->data_bytes_delivered;
    for (uint32_t i = 0; i < cur_t->ntfaults; i++)
        for (uint32_t j = 0; j < cur_t->tfaults[i].nports; j++)
            o->drops_at_sample += eng_port(e, cur_t->tfaults[i].ports[j])->drops;
}

/* Runs the demands on engine `kind` over c's fabric, sampling once at
 * sample_ps (0: never); the engine's invariants and every byte delivered. */
static void run(int kind, const struct cfg *c, const struct topo_demand *d, size_t n,
                simtime_t sample_ps, struct out *o)
{
    struct err er;
    struct topo *t;
    if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
    memset(o, 0, sizeof *o);
    cur_out = o;
    cur_t = t;
    struct eng_hooks h = {NULL, on_done};
    struct eng *e = eng_create_kind(kind, t, &c->tr, (uint64_t)c->sim.seed, &h);
    if (sample_ps) eng_set_sampler(e, sample_ps, 1000 * PS_PER_MS, on_sample, o);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        eng_add_msg(e, d[i].src, d[i].dst, d[i].bytes, 0, i);
        total += d[i].bytes;
    }
    eng_run(e);
    char msg[384];
    if (eng_check(e, msg, sizeof msg) < 0) fail_msg("%s", msg);
    o->st = *eng_stats(e);
    assert_int_equal(o->st.data_bytes_delivered, total);
    uint8_t *failing = xcalloc(t->nports, 1);
    for (uint32_t i = 0; i < t->ntfaults; i++)
        for (uint32_t j = 0; j < t->tfaults[i].nports; j++)
            failing[t->tfaults[i].ports[j]] = 1;
    for (uint32_t p = 0; p < t->nports; p++) {
        uint64_t dr = eng_port(e, p)->drops;
        if (failing[p])
            o->drops += dr;
        else
            o->other_drops += dr;
        if (t->ports[p].down) assert_int_equal(eng_port(e, p)->bytes, 0);
    }
    for (uint32_t k = 0; k < 2; k++)
        o->plane_up[k] = eng_port(e, t->host_up[(size_t)k * t->hosts])->bytes;
    free(failing);
    eng_destroy(e);
    topo_destroy(t);
}

static void set_fail(struct cfg *c, const char *link, simtime_t at_ps, int64_t delay_ns)
{
    snprintf(c->topo.faults.fail, sizeof c->topo.faults.fail, "%s@%lluns", link,
             (unsigned long long)(at_ps / PS_PER_NS));
    c->topo.faults.reroute_delay_ns = delay_ns;
}

/* The remaining plane's closed form: the bytes not delivered at the
 * failure f, at one plane port's rate (50 Gb/s) after it. */
static simtime_t closed_form(simtime_t f, uint64_t left)
{
    return f + ser_ps(left, 50000000000ULL);
}

/* A round trip here, generous: 4 links of 700 ns each way and a 4 KB
 * packet's serializations (at most 0.66 us at 50 Gb/s, twice a way). */
#define RTT_PS (8 * 700 * PS_PER_NS + 4 * 660 * PS_PER_NS)

/* got - want within [lo, hi]. */
static void check_between(const char *what, simtime_t got, simtime_t want, double lo, double hi)
{
    double d = (double)got - (double)want;
    print_message("%s: %.3f us, closed form %.3f us (%+.3f us, allowed [%.3f, %.3f])\n", what,
                  (double)got / 1e6, (double)want / 1e6, d / 1e6, lo / 1e6, hi / 1e6);
    if (d < lo || d > hi) fail_msg("%s: %+.3f us off the closed form", what, d / 1e6);
}

static void test_spray_lone_flow(void **state)
{
    (void)state;
    const uint64_t B = 4000000;
    for (int xr = 0; xr < 2; xr++)
        for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
            /* h0 -> h8, and under PXN h1 -> h8 through its relay h0 */
            for (uint32_t src = 0; src < (xr == TOPO_XR_PXN ? 2u : 1u); src++) {
                struct cfg c = rail_cfg(xr, PATH_SPRAY, rec);
                struct topo_demand d = {src, 8, B};
                struct out o0, o;
                run(ENGINE_PACKET, &c, &d, 1, 0, &o0);
                assert_true(o0.plane_up[0] > 0 && o0.plane_up[1] > 0);
                simtime_t f = o0.end / 2 / PS_PER_NS * PS_PER_NS;
                set_fail(&c, "h0-r8", f, 0);
                run(ENGINE_PACKET, &c, &d, 1, f - 1, &o);
                assert_true(o.sampled);
                assert_int_equal(o.drops_at_sample, 0);
                assert_true(o.drops > 0);
                assert_int_equal(o.other_drops, 0);
                assert_true(o.st.retx_bytes > 0);
                char what[96];
                snprintf(what, sizeof what, "spray xr %d rec %d h%u", xr, rec, src);
                /* selective repeat: a NACK's round trip to find the holes,
                 * and the window held by them for another; go-back-N
                 * discards what arrives out of order (spraying's
                 * reordering, not the failure's), so only the accounting */
                if (rec == REC_SELECTIVE) assert_true(o.end > o0.end);
                if (rec == REC_SELECTIVE)
                    check_between(what, o.end, closed_form(f, B - o.delivered_at_sample),
                                  -2.0 * PS_PER_US, 2.0 * RTT_PS);
            }
        }
}

/* ECMP hashes the lone flow onto one plane: failing the other plane's
 * link changes nothing; failing its own, the flow recovers onto the other
 * (the same rate: a plane port's). */
static void test_ecmp_lone_flow(void **state)
{
    (void)state;
    const uint64_t B = 4000000;
    const char *link[2] = {"h0-r0", "h0-r8"};
    for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
        struct cfg c = rail_cfg(TOPO_XR_PXN, PATH_ECMP, rec);
        struct topo_demand d = {0, 8, B};
        struct out o0, o;
        run(ENGINE_PACKET, &c, &d, 1, 0, &o0);
        uint32_t k = o0.plane_up[1] > 0;
        assert_int_equal(o0.plane_up[1 - k], 0);
        simtime_t f = o0.end / 2 / PS_PER_NS * PS_PER_NS;
        set_fail(&c, link[1 - k], f, 0); /* the other plane */
        run(ENGINE_PACKET, &c, &d, 1, 0, &o);
        assert_int_equal(o.end, o0.end);
        assert_int_equal(o.drops, 0);
        assert_int_equal(o.st.retx_bytes, 0);
        set_fail(&c, link[k], f, 0); /* its own */
        run(ENGINE_PACKET, &c, &d, 1, f - 1, &o);
        assert_true(o.drops > 0);
        assert_int_equal(o.other_drops, 0);
        assert_true(o.st.retx_bytes > 0);
        assert_true(o.plane_up[1 - k] > 0); /* it moved */
        char what[64];
        snprintf(what, sizeof what, "ecmp rec %d, its plane failing", rec);
        /* every packet of its window was in the failed NIC port's queue:
         * no answer comes back, the retransmission timeout (20 us after
         * the last answer, a round trip before the failure at most)
         * resends on the live plane */
        double rto = (double)c.tr.rto_ns * PS_PER_NS;
        check_between(what, o.end, closed_form(f, B - o.delivered_at_sample), rto - RTT_PS,
                      rto + 2.0 * RTT_PS);
    }
}

/* The reroute delay D: the flow on the failing plane keeps sending into it
 * until f + D, and ends D later than with D = 0, within a retransmission
 * timeout (20 us) and a round trip (below 10 us here). */
static void test_reroute_delay(void **state)
{
    (void)state;
    const uint64_t B = 4000000;
    const int64_t D = 100000; /* ns */
    for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
        struct cfg c = rail_cfg(TOPO_XR_PXN, PATH_ECMP, rec);
        struct topo_demand d = {0, 8, B};
        struct out o0, a, b;
        run(ENGINE_PACKET, &c, &d, 1, 0, &o0);
        uint32_t k = o0.plane_up[1] > 0;
        const char *link = k ? "h0-r8" : "h0-r0";
        simtime_t f = o0.end / 2 / PS_PER_NS * PS_PER_NS;
        set_fail(&c, link, f, 0);
        run(ENGINE_PACKET, &c, &d, 1, 0, &a);
        set_fail(&c, link, f, D);
        run(ENGINE_PACKET, &c, &d, 1, 0, &b);
        assert_true(b.drops > a.drops);
        assert_int_equal(b.other_drops, 0);
        double moved = (double)(b.end - a.end) / 1e6;
        print_message("rec %d: D = %.1f us moves the end by %.3f us (%llu against %llu lost)\n",
                      rec, (double)D / 1e3, moved, (unsigned long long)b.drops,
                      (unsigned long long)a.drops);
        /* (as test_fault_timed.c's: the ends differ by D - r0 + r1, r0 and
         * r1 in [0, rto + RTT]) */
        double bound = (double)(c.tr.rto_ns * PS_PER_NS + RTT_PS) / 1e6;
        assert_true(fabs(moved - (double)D / 1e3) <= bound);
        /* its timeouts while the senders still chose the dead plane */
        assert_true(b.st.timeouts >= a.st.timeouts + (uint64_t)(D / c.tr.rto_ns) - 1);
    }
}

static size_t all_to_all(uint32_t H, uint64_t bytes, struct topo_demand **d)
{
    *d = xcalloc((size_t)H * H, sizeof **d);
    size_t n = 0;
    for (uint32_t a = 0; a < H; a++)
        for (uint32_t b = 0; b < H; b++)
            if (a != b) (*d)[n++] = (struct topo_demand){a, b, bytes};
    return n;
}

static const int modes[] = {PATH_ECMP,     PATH_SPRAY,   PATH_SPRAY_RR, PATH_SPLIT,
                            PATH_ADAPTIVE, PATH_FLOWLET, PATH_ETHEREAL};

static void test_all_to_all(void **state)
{
    (void)state;
    struct topo_demand *d;
    size_t n = all_to_all(16, 65536, &d);
    for (int xr = 0; xr < 2; xr++)
        for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++)
            for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
                struct cfg c = rail_cfg(xr, modes[m], rec);
                c.tr.subflows = 2;
                set_fail(&c, "h0-r8", 20 * PS_PER_US, 5000);
                struct out o, o2;
                run(ENGINE_PACKET, &c, d, n, 55 * PS_PER_US, &o);
                print_message("xr %d rec %d mode %d: %llu lost, %llu after 55 us, end %.3f us\n",
                              xr, rec, modes[m], (unsigned long long)o.drops,
                              (unsigned long long)(o.drops - o.drops_at_sample),
                              (double)o.end / 1e6);
                assert_int_equal(o.other_drops, 0);
                /* cross_rail = spine: nothing lost 30 us after the reroute
                 * (the packets on the plane toward h0 when it failed have
                 * arrived). Under PXN the relays' NIC ports hold deep
                 * queues of packets sent before the failure on plane 1
                 * (and their answers come back on it): they reach h0's
                 * dead link long after the reroute (the last at 453 us,
                 * ECMP, go-back-N), so only the accounting holds there. */
                if (xr == TOPO_XR_SPINE && o.drops != o.drops_at_sample)
                    fail_msg("xr %d rec %d mode %d: %llu lost 30 us after the reroute", xr, rec,
                             modes[m], (unsigned long long)(o.drops - o.drops_at_sample));
                if (modes[m] != PATH_ECMP && modes[m] != PATH_FLOWLET) assert_true(o.drops > 0);
                run(ENGINE_PACKET, &c, d, n, 55 * PS_PER_US, &o2);
                assert_int_equal(o.end, o2.end);
                assert_int_equal(o.st.events, o2.st.events);
            }
    free(d);
}

static void test_refused(void **state)
{
    (void)state;
    struct cfg c = rail_cfg(TOPO_XR_PXN, PATH_SPRAY, REC_SELECTIVE);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "h0-r0");
    set_fail(&c, "h0-r8", 5 * PS_PER_US, 0);
    const struct opt_def *bad = NULL;
    struct err e;
    assert_int_equal(topo_check(&c.topo, &bad, &e), -1);
    assert_string_equal(bad->key, "fail");
    assert_string_equal(e.msg, "faults.fail: the links down with h0-r8@5000ns leave hosts h0 and "
                               "h4 no plane on which both reach each other (a packet keeps its "
                               "plane end to end, its answer too)");
}

/* The flow engine with a GPU's plane link down before the run. */
static void test_flow_engine_plane_down(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c = rail_cfg(xr, PATH_SPRAY, REC_NONE);
        snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "h0-r8");
        const int lone[] = {PATH_ECMP, PATH_SPRAY, PATH_ADAPTIVE};
        for (size_t m = 0; m < 3; m++) {
            c.tr.path = lone[m];
            struct topo_demand d = {0, 8, 1000000};
            struct out p, f;
            run(ENGINE_PACKET, &c, &d, 1, 0, &p);
            run(ENGINE_FLOW, &c, &d, 1, 0, &f);
            assert_int_equal(f.plane_up[1], 0);
            assert_true(f.plane_up[0] > 0);
            print_message("flow engine, lone flow, xr %d mode %d: %llu ps, packet %llu ps\n", xr,
                          lone[m], (unsigned long long)f.end, (unsigned long long)p.end);
            /* a same-rail route: both at the bound, to the picosecond */
            assert_int_equal(f.end, p.end);
        }
        struct topo_demand *d;
        size_t n = all_to_all(16, 65536, &d);
        const int a2a[] = {PATH_SPRAY, PATH_ADAPTIVE, PATH_ETHEREAL};
        for (size_t m = 0; m < 3; m++) {
            c.tr.path = a2a[m];
            struct out p, f;
            run(ENGINE_PACKET, &c, d, n, 0, &p);
            run(ENGINE_FLOW, &c, d, n, 0, &f);
            assert_int_equal(f.plane_up[1], 0);
            double r = (double)f.end / (double)p.end;
            print_message("flow engine, all-to-all, xr %d mode %d: %.3f us, packet %.3f us\n", xr,
                          a2a[m], (double)f.end / 1e6, (double)p.end / 1e6);
            assert_true(r > 0.97 && r < 1.03);
        }
        free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spray_lone_flow), cmocka_unit_test(test_ecmp_lone_flow),
        cmocka_unit_test(test_reroute_delay),   cmocka_unit_test(test_all_to_all),
        cmocka_unit_test(test_refused),         cmocka_unit_test(test_flow_engine_plane_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
