/* test_flow_plane_faults.c - links that fail during a run on a rail with
 * planes (faults.fail with topology.planes > 1) on the flow engine
 * (sim/flow_fault.c; docs/flow-engine.md "Links that fail during a run",
 * "On rail planes"), on the rail of tests/test_rail_plane_faults.c: 2 groups
 * x 2 servers x 4 GPUs, 1 spine a plane, 2 planes, 100 Gb/s NICs (50 a
 * plane port), 200 Gb/s rail-spine links, 700 ns. h0's NIC ports are on r0
 * (plane 0) and r8 (plane 1).
 *  - closed forms: a lone 4 MB flow spread over both planes (spray,
 *    spray_rr, adaptive) from h0, and under PXN from h1 through its relay
 *    h0, to h8: each plane carries its packets' bytes (977 packets: 489 on
 *    one plane with the short last one, 2,001,152 B, 488 full ones on the
 *    other), so it runs at r = 50 Gb/s x S / 2,001,152 B; h0-r8 failing at
 *    f, rerouted d later: it stops at f with S - r f left, loses the dead
 *    plane's share w1 of the bytes on the way to h0-r8's wire (w1 r x the
 *    link's 700 ns, and the NVLink hops before it under PXN), goes on at
 *    f + d on plane 0 at 50 Gb/s and ends at f + d + (S - r f + lost) / 50
 *    Gb/s + tail, to a few picoseconds; plane 1's port holds exactly the
 *    share it sent by f;
 *  - ECMP: the flow on the other plane does not move; on the failing one,
 *    from h0 (h0-r8 is its first link) it ends at T0 + d + 700 ns, to h0
 *    (r8-h0 is its last) at T0 + d + tail;
 *  - against the packet engine (selective repeat, rto 20 us) on the same
 *    lone flows: the failure costs the packet engine more than the flow
 *    engine by at most a timeout and a round trip (its loss detection; the
 *    tolerance of tests/test_flow_fault.c), and for the modes where both
 *    end alike without the failure the flow engine ends first;
 *  - an all-to-all of 64 KiB a pair with h0-r8 failing at 20 us: every
 *    byte delivered, sent = delivered + lost, drops at h0-r8's ports only,
 *    nothing on h0's plane 1 after the failure, runs repeat; against the
 *    packet engine (rto 320 us) within 4% under cross_rail = spine (ecmp,
 *    spray, spray_rr, split, ethereal; adaptive is reported: the packet
 *    engine's adaptive is 29% off the fluid here without any failure), and
 *    under PXN the flow engine first by at most a timeout and a round trip
 *    or within 4% (the packet engine's relays hold queues that reach the
 *    dead link after the reroute: retransmission timeouts);
 *  - a rail-spine link of a plane (r0-s0 on a rail of 2 spines a plane)
 *    and a GPU's plane link, every path mode: bytes conserved. */
#include <math.h>

#include "testutil.h"
#include "fabric_spec.h"

#include "sim/eng.h"
#include "topo/topo.h"

static struct cfg rail_cfg(int xr, int path, int rec)
{
    struct cfg c;
    planes2_spec(&c, xr);
    c.tr.path = path;
    c.tr.recovery = rec;
    c.tr.rto_ns = 20000;
    c.tr.subflows = 2;
    return c;
}

struct out {
    simtime_t end;
    struct eng_stats st;
    uint64_t drops, other_drops;     /* at the failing links' ports, elsewhere */
    uint64_t up[2], down[2];         /* bytes on h0's host_up, host_down per plane */
    uint64_t up1_at_sample, sampled; /* h0's plane-1 host_up by the sample */
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
    if (o->sampled++) return;
    o->up1_at_sample = eng_port(e, cur_t->host_up[cur_t->hosts])->bytes;
}

/* Runs the demands on engine `kind` (recovery none on the flow engine),
 * sampling once at sample_ps (0: never); the engine's invariants, every
 * byte delivered, sent = delivered + lost. */
static void run(int kind, const struct cfg *c0, const struct topo_demand *d, size_t n,
                simtime_t sample_ps, struct out *o)
{
    struct cfg c = *c0;
    if (kind == ENGINE_FLOW) c.tr.recovery = REC_NONE;
    struct err er;
    struct topo *t;
    if (topo_build(&c.topo, &t, &er)) fail_msg("%s", er.msg);
    memset(o, 0, sizeof *o);
    cur_out = o;
    cur_t = t;
    struct eng_hooks h = {NULL, on_done};
    struct eng *e = eng_create_kind(kind, t, &c.tr, (uint64_t)c.sim.seed, &h);
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
    assert_int_equal(o->st.data_bytes_sent,
                     o->st.data_bytes_delivered + o->st.drop_bytes + o->st.dup_bytes);
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
    }
    for (uint32_t k = 0; k < 2; k++) {
        o->up[k] = eng_port(e, t->host_up[(size_t)k * t->hosts])->bytes;
        o->down[k] = eng_port(e, t->host_down[(size_t)k * t->hosts])->bytes;
    }
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

/* The first packet's way from a to b on a path of plane k: after its
 * first hop to the end of the link of port `upto` (the whole way, tail,
 * for UINT32_MAX), as the fluid counts it (sim/flow_fault.c lost_ps,
 * sim/flow_eng.c add_sub). */
static simtime_t way(const struct cfg *c, uint32_t a, uint32_t b, uint32_t k, uint32_t upto,
                     int host_port)
{
    struct err er;
    struct topo *t;
    if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
    if (host_port == 1) upto = t->host_up[(size_t)k * t->hosts + upto];
    if (host_port == 2) upto = t->host_down[(size_t)k * t->hosts + upto];
    uint32_t p = 0;
    while (topo_plane(t, p) != k)
        p++;
    uint32_t ports[TOPO_ROUTE_MAX_PORTS], n = topo_route_ports(t, a, b, p, ports);
    simtime_t w = 0;
    int found = upto == UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        w += t->ports[ports[i]].lat_ps + ser_ps(4096, t->ports[ports[i]].bps);
        if (ports[i] == upto) {
            found = 1;
            break;
        }
    }
    assert_true(found);
    w -= ser_ps(4096, t->ports[ports[0]].bps);
    topo_destroy(t);
    return w;
}

static void check_near(const char *what, simtime_t got, double want, double tol_ps)
{
    print_message("%s: %.6f us, closed form %.6f us (%+.0f ps)\n", what, (double)got / 1e6,
                  want / 1e6, (double)got - want);
    if (fabs((double)got - want) > tol_ps)
        fail_msg("%s: %+.0f ps off the closed form", what, (double)got - want);
}

#define B_LONE 4000000ull
#define F_PS   (100 * PS_PER_US)
#define R2     (100e9 / 8 / PS_PER_S) /* bytes per ps, both planes */
#define R1     (50e9 / 8 / PS_PER_S)  /* one plane */

static const int spreading[] = {PATH_SPRAY, PATH_SPRAY_RR, PATH_ADAPTIVE};

static void test_spread_closed_form(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++)
        for (size_t m = 0; m < 3; m++)
            for (uint32_t src = 0; src < (xr == TOPO_XR_PXN ? 2u : 1u); src++)
                for (int64_t d = 0; d <= 20000; d += 20000) {
                    struct cfg c = rail_cfg(xr, spreading[m], REC_NONE);
                    struct topo_demand dm = {src, 8, B_LONE};
                    struct out a, b;
                    run(ENGINE_FLOW, &c, &dm, 1, 0, &a);
                    /* each plane its packets' bytes: 977 packets, the
                     * first and the short last one (2,304 B) on one plane */
                    uint64_t hi = a.up[0] > a.up[1] ? a.up[0] : a.up[1];
                    uint64_t lo = a.up[0] + a.up[1] - hi;
                    assert_int_equal(a.up[0] + a.up[1], B_LONE);
                    assert_int_equal(hi, 488 * 4096ull + 2304);
                    assert_int_equal(lo, 488 * 4096ull);
                    simtime_t tail = way(&c, src, 8, 0, UINT32_MAX, 0);
                    check_near("no failure", a.end, (double)hi / R1 + (double)tail, 2);
                    /* the rate the fuller plane allows, and plane 1's share */
                    double r = R1 * (double)B_LONE / (double)hi;
                    double w1 = (double)a.up[1] / (double)B_LONE;
                    set_fail(&c, "h0-r8", F_PS, d);
                    run(ENGINE_FLOW, &c, &dm, 1, 0, &b);
                    /* the dead plane's share of the bytes on their way to
                     * the end of h0-r8's link */
                    double lost = w1 * r * (double)way(&c, src, 8, 1, 0, 1);
                    assert_true(llabs((long long)b.st.drop_bytes - llround(lost)) <= 1);
                    double left = (double)B_LONE - r * (double)F_PS + (double)b.st.drop_bytes;
                    double want = (double)F_PS + (double)d * PS_PER_NS + left / R1 + (double)tail;
                    char what[96];
                    snprintf(what, sizeof what, "xr %d mode %d h%u d %lld us", xr, spreading[m],
                             src, (long long)d / 1000);
                    /* (to a byte at 50 Gb/s: the bytes sent and lost by
                     * f are fractions the engine rounds) */
                    check_near(what, b.end, want, 1 / R1 + 4);
                    assert_true(b.drops > 0);
                    assert_int_equal(b.other_drops, 0);
                    /* plane 1 carried its share of what was sent by f */
                    assert_true(llabs((long long)b.up[1] - llround(w1 * r * F_PS)) <= 2);
                    assert_int_equal(b.up[0] + b.up[1], B_LONE + b.st.drop_bytes);
                }
}

/* ECMP: one plane; failing the other's link changes nothing, failing its
 * own moves it to the other plane at the same rate: T0 + d + the way to
 * the dead link's end (its first link from h0: 700 ns; its last into h0:
 * the whole tail). */
static void test_ecmp_closed_form(void **state)
{
    (void)state;
    const char *link[2] = {"h0-r0", "h0-r8"};
    for (int xr = 0; xr < 2; xr++)
        for (int into = 0; into < 2; into++) /* h0 -> h8, h8 -> h0 */
            for (int64_t d = 0; d <= 20000; d += 20000) {
                struct cfg c = rail_cfg(xr, PATH_ECMP, REC_NONE);
                struct topo_demand dm = {into ? 8 : 0, into ? 0 : 8, B_LONE};
                struct out a, b;
                run(ENGINE_FLOW, &c, &dm, 1, 0, &a);
                const uint64_t *pl = into ? a.down : a.up;
                uint32_t k = pl[1] > 0;
                assert_int_equal(pl[1 - k], 0);
                set_fail(&c, link[1 - k], F_PS, d);
                run(ENGINE_FLOW, &c, &dm, 1, 0, &b);
                assert_int_equal(b.end, a.end);
                assert_int_equal(b.st.drop_bytes, 0);
                set_fail(&c, link[k], F_PS, d);
                run(ENGINE_FLOW, &c, &dm, 1, 0, &b);
                simtime_t w = into ? way(&c, 8, 0, k, UINT32_MAX, 0) : way(&c, 0, 8, k, 0, 1);
                assert_int_equal(b.st.drop_bytes, (uint64_t)llround(R1 * (double)w));
                char what[96];
                snprintf(what, sizeof what, "ecmp xr %d %s, plane %u failing, d %lld us", xr,
                         into ? "h8 -> h0" : "h0 -> h8", k, (long long)d / 1000);
                check_near(what, b.end, (double)a.end + (double)d * PS_PER_NS + (double)w, 4);
                const uint64_t *bl = into ? b.down : b.up;
                assert_true(bl[1 - k] > 0); /* it moved */
                assert_int_equal(b.other_drops, 0);
            }
}

/* A round trip here, generous: 4 links of 700 ns each way and a 4 KB
 * packet's serializations (at most 0.66 us at 50 Gb/s, twice a way); as
 * tests/test_rail_plane_faults.c. */
#define RTT_PS (8 * 700 * PS_PER_NS + 4 * 660 * PS_PER_NS)

static void test_lone_against_packet(void **state)
{
    (void)state;
    const int modes[] = {PATH_ECMP, PATH_SPRAY, PATH_SPRAY_RR, PATH_ADAPTIVE};
    for (int xr = 0; xr < 2; xr++)
        for (size_t m = 0; m < 4; m++)
            for (uint32_t src = 0; src < (xr == TOPO_XR_PXN ? 2u : 1u); src++) {
                struct cfg c = rail_cfg(xr, modes[m], REC_SELECTIVE);
                struct topo_demand dm = {src, 8, B_LONE};
                struct out p0, f0, p, f;
                run(ENGINE_PACKET, &c, &dm, 1, 0, &p0);
                run(ENGINE_FLOW, &c, &dm, 1, 0, &f0);
                /* ECMP: the link of the plane h0's port uses (under PXN
                 * from h1 it is h0's too: the relay) */
                const char *link = "h0-r8";
                if (modes[m] == PATH_ECMP) {
                    if (p0.up[0] == 0 && p0.up[1] == 0) continue; /* (not through h0) */
                    link = p0.up[1] > 0 ? "h0-r8" : "h0-r0";
                }
                set_fail(&c, link, F_PS, 0);
                run(ENGINE_PACKET, &c, &dm, 1, 0, &p);
                run(ENGINE_FLOW, &c, &dm, 1, 0, &f);
                double cp = (double)p.end - (double)p0.end, cf = (double)f.end - (double)f0.end;
                print_message("lone xr %d mode %d h%u, %s failing: packet %.3f us (+%.3f), flow "
                              "%.3f us (+%.3f); without: packet %.3f, flow %.3f\n",
                              xr, modes[m], src, link, (double)p.end / 1e6, cp / 1e6,
                              (double)f.end / 1e6, cf / 1e6, (double)p0.end / 1e6,
                              (double)f0.end / 1e6);
                double lim = (double)c.tr.rto_ns * PS_PER_NS + RTT_PS;
                double gap = (double)p.end - (double)f.end;
                if (modes[m] == PATH_SPRAY) {
                    /* random spray queues in the NIC's plane ports (the
                     * packet engine 12-18% after the fluid without the
                     * failure) until one plane is left: the flow engine
                     * first by at most that gap, a timeout and a round trip */
                    double g0 = (double)p0.end - (double)f0.end;
                    if (gap < 0 || gap > g0 + lim) fail_msg("%+.3f us apart", gap / 1e6);
                    continue;
                }
                if (cp - cf < 0 || cp - cf > lim)
                    fail_msg("the failure costs the packet engine %+.3f us more", (cp - cf) / 1e6);
                assert_true(gap >= 0 && gap <= lim);
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

static void test_all_to_all(void **state)
{
    (void)state;
    struct topo_demand *d;
    size_t n = all_to_all(16, 65536, &d);
    const int modes[] = {PATH_ECMP,  PATH_SPRAY,    PATH_SPRAY_RR,
                         PATH_SPLIT, PATH_ADAPTIVE, PATH_ETHEREAL};
    for (int xr = 0; xr < 2; xr++)
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            struct cfg c = rail_cfg(xr, modes[m], REC_SELECTIVE);
            c.tr.rto_ns = 320000; /* (20 us fires in this all-to-all's queues) */
            set_fail(&c, "h0-r8", 20 * PS_PER_US, 0);
            struct out p, f, f2;
            run(ENGINE_FLOW, &c, d, n, 20 * PS_PER_US + 1, &f);
            assert_true(f.drops > 0);
            assert_int_equal(f.other_drops, 0);
            assert_true(f.sampled);
            assert_int_equal(f.up[1], f.up1_at_sample); /* nothing on plane 1 after it */
            run(ENGINE_FLOW, &c, d, n, 20 * PS_PER_US + 1, &f2);
            assert_int_equal(f.end, f2.end);
            assert_int_equal(f.st.events, f2.st.events);
            assert_int_equal(f.st.drop_bytes, f2.st.drop_bytes);
            run(ENGINE_PACKET, &c, d, n, 0, &p);
            double r = (double)f.end / (double)p.end - 1;
            print_message("all-to-all xr %d mode %d: packet %.3f us, flow %.3f us (%+.2f%%), "
                          "lost %llu and %llu bytes\n",
                          xr, modes[m], (double)p.end / 1e6, (double)f.end / 1e6, 100 * r,
                          (unsigned long long)p.st.drop_bytes, (unsigned long long)f.st.drop_bytes);
            if (modes[m] == PATH_ADAPTIVE) continue; /* (reported) */
            double gap = (double)p.end - (double)f.end;
            double lim = (double)c.tr.rto_ns * PS_PER_NS + RTT_PS;
            if (xr == TOPO_XR_SPINE)
                assert_true(fabs(r) <= 0.04);
            else
                assert_true(fabs(r) <= 0.04 || (gap >= 0 && gap <= lim));
        }
    free(d);
}

/* Bytes conserved with a rail-spine link of plane 0 failing (2 spines a
 * plane) and with a GPU's plane link failing, a reroute delay, every path
 * mode the flow engine runs, both cross_rail options. */
static void test_bytes_conserved(void **state)
{
    (void)state;
    struct topo_demand *d;
    size_t n = all_to_all(16, 60000, &d);
    for (int xr = 0; xr < 2; xr++)
        for (int path = PATH_ECMP; path <= PATH_ETHEREAL; path++) {
            if (path == PATH_FLOWLET) continue; /* refused on the flow engine */
            for (int which = 0; which < 2; which++) {
                struct cfg c = rail_cfg(xr, path, REC_NONE);
                c.topo.spines = 2;
                topo_spec_resolve(&c.topo);
                struct out a, b;
                run(ENGINE_FLOW, &c, d, n, 0, &a);
                snprintf(c.topo.faults.fail, sizeof c.topo.faults.fail, "%s",
                         which ? "h5-r9@6us" : "r0-s0@6us");
                c.topo.faults.reroute_delay_ns = 3000;
                run(ENGINE_FLOW, &c, d, n, 0, &b);
                print_message("xr %d path %d %s: %.3f us (without %.3f us), %llu bytes lost\n", xr,
                              path, c.topo.faults.fail, (double)b.end / 1e6, (double)a.end / 1e6,
                              (unsigned long long)b.st.drop_bytes);
                assert_true(b.st.drop_bytes > 0);
                assert_true(b.drops > 0);
                assert_int_equal(b.other_drops, 0);
                /* (a rail-spine link's reroute rehashes ECMP and split, which
                 * may end sooner; a GPU left one plane port ends later) */
                if (which) assert_true(b.end > a.end);
            }
        }
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_closed_form),  cmocka_unit_test(test_ecmp_closed_form),
        cmocka_unit_test(test_lone_against_packet), cmocka_unit_test(test_all_to_all),
        cmocka_unit_test(test_bytes_conserved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
