/* test_dcqcn.c - transport.cc = dcqcn (sim/pkt_dcqcn.c, docs/transports.md):
 * DCQCN (Zhu et al., SIGCOMM 2015) with its paper's parameters:
 *  - the sender's lazy timers give the rates and alpha an eager one does
 *    (a reference that steps every timer period, in this file), under a
 *    random sequence of CNPs and sends;
 *  - a lone flow is never marked, gets no CNP and runs at the line rate:
 *    the completion time of a window-free fixed-window run, to the ps;
 *  - a flow held at a rate sends a packet per packet-time at that rate,
 *    to the ps;
 *  - two flows on one bottleneck, the second joining later, converge to
 *    equal shares (Jain's index >= 0.99 over a late window of their
 *    delivered bytes);
 *  - an incast's queue, once the rates have settled, stays near the marking
 *    thresholds (at most kmax plus a packet per flow, the link kept busy);
 *  - every byte sent is delivered once, every CNP consumed; runs repeat
 *    exactly;
 *  - per message (the flows table's cnps): the CNPs its receiver sent sum
 *    to the engine's count (without and with loss recovery), are 0 where
 *    nothing is marked, and with one marking port per flow and a CNP per
 *    marked packet equal that port's ECN marks exactly. */
#include "testutil.h"
#include "bneck.h"

#include <math.h>

#include "sim/eng.h"
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

/* The DCQCN paper's switch settings: Kmin 5 KB, Kmax 200 KB, Pmax 1%. */
#define KMIN 5120
#define KMAX 204800
#define PMAX 0.01

/* One leaf's hosts 0 .. n-1 send to host n on the same leaf: the leaf's
 * port into host n is the one bottleneck (gbps links, 1 us). */
static struct cfg dq_cfg(int n, double gbps)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = n + 1;
    c.topo.host_gbps = c.topo.fabric_gbps = gbps;
    c.tr.cc = CC_DCQCN;
    c.tr.sw.ecn_kmin_bytes = KMIN;
    c.tr.sw.ecn_kmax_bytes = KMAX;
    c.tr.sw.ecn_pmax = PMAX;
    return c;
}

#define MAXS 100000
/* n flows of `bytes` from hosts 0 .. n-1 to host n, flow j from starts[j]
 * (NULL: 0), sampled every period (0: not; bneck.h); checks the engine's
 * invariants (every byte sent delivered, no packet left: CNPs included). */
static struct eng *dq_run(const struct cfg *c, int n, uint64_t bytes, const simtime_t *starts,
                          simtime_t period, struct bn_obs *o, struct topo **t)
{
    struct eng *e = bn_run(c, n, bytes, starts, period, MAXS, o, t);
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    for (int j = 0; j < n; j++) { /* conservation, per flow */
        assert_true(pe->flows[j].delivered == bytes);
        assert_true(pe->flows[j].acked == bytes);
    }
    return e;
}

static struct bn_obs O;

/* --- the reaction point alone: lazy timers against eager ones --- */

/* The eager reference: the paper's RP with its timers as events. */
struct ref {
    double rc, rt, alpha, line;
    simtime_t rate_at, alpha_at; /* next expiries; 0 = not running */
    uint64_t bc;
    uint32_t T, BC;
};

static void ref_step(const struct dcqcn_par *p, struct ref *r)
{
    uint32_t hi = r->T > r->BC ? r->T : r->BC, lo = r->T < r->BC ? r->T : r->BC;
    if (hi <= p->fast_recovery)
        ;
    else if (lo > p->fast_recovery)
        r->rt += (lo - p->fast_recovery) * p->rhai;
    else
        r->rt += p->rai;
    if (r->rt > r->line) r->rt = r->line;
    r->rc = (r->rt + r->rc) / 2;
}

/* Every timer expiry up to now, one at a time. */
static void ref_to(const struct dcqcn_par *p, struct ref *r, simtime_t now)
{
    while (r->rate_at && r->rate_at <= now) {
        r->T++;
        ref_step(p, r);
        r->rate_at += p->rate_ps;
    }
    while (r->alpha_at && r->alpha_at <= now) {
        r->alpha *= 1 - p->g;
        r->alpha_at += p->alpha_ps;
    }
}

static void test_rp_lazy_matches_eager(void **state)
{
    (void)state;
    struct cfg c = dq_cfg(1, 100);
    c.tr.dcqcn.byte_counter = 1 << 20; /* so the byte counter takes part */
    c.tr.dcqcn.fast_recovery = 2;
    c.tr.dcqcn.rai_mbps = 2000;
    struct dcqcn_par p;
    dcqcn_par_of(&p, &c.tr);
    struct dcqcn_rp r;
    dcqcn_rp_init(&p, &r, 100e9);
    struct ref f = {100e9, 100e9, p.alpha_init, 100e9, 0, 0, 0, 0, 0};
    uint64_t x = 12345;
    simtime_t now = 0;
    uint32_t cnps = 0, sends = 0;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        /* gaps of 0 .. 20 us, now and then 2 ms (many silent periods) */
        now += (x >> 60) == 0 ? 2000 * PS_PER_US : (simtime_t)((x >> 33) % (20 * PS_PER_US));
        dcqcn_rp_advance(&p, &r, now);
        ref_to(&p, &f, now);
        if (((x >> 20) & 63) == 0) { /* a CNP */
            dcqcn_rp_cnp(&p, &r, now);
            f.rt = f.rc;
            f.rc *= 1 - f.alpha / 2;
            if (f.rc < p.rate_min) f.rc = p.rate_min;
            f.alpha = (1 - p.g) * f.alpha + p.g;
            f.T = f.BC = 0;
            f.bc = 0;
            f.rate_at = now + p.rate_ps;
            f.alpha_at = now + p.alpha_ps;
            cnps++;
        } else { /* a packet of 4 KiB */
            dcqcn_rp_sent(&p, &r, now, 4096);
            f.bc += 4096;
            while (f.bc >= p.byte_counter) {
                f.bc -= p.byte_counter;
                f.BC++;
                ref_step(&p, &f);
            }
            sends++;
        }
        /* the lazy one stops its timer at the line rate: the same rates */
        assert_true(fabs(r.rc - f.rc) <= 1e-6 * f.line);
        assert_true(fabs(r.rt - f.rt) <= 1e-6 * f.line);
        assert_true(fabs(r.alpha - f.alpha) <= 1e-9);
    }
    print_message("lazy RP = eager RP over %u CNPs and %u sends\n", cnps, sends);
    assert_true(cnps > 1000);
}

/* --- the engine --- */

/* A lone flow: no marks, no CNP, the line rate: as fast as a fixed window
 * too large to matter. */
static void test_lone_flow_line_rate(void **state)
{
    (void)state;
    simtime_t end[2];
    for (int w = 0; w < 2; w++) {
        struct cfg c = dq_cfg(1, 100);
        if (w) {
            c.tr.cc = CC_WINDOW;
            c.tr.window_bytes = (int64_t)1e12;
        }
        struct topo *t;
        struct eng *e = dq_run(&c, 1, 64u << 20, NULL, 0, &O, &t);
        end[w] = eng_now(e);
        if (!w) {
            assert_int_equal(pkt_dcqcn_cnps(pkt_eng_ofc(e)), 0);
            const struct dcqcn_rp *r = pkt_dcqcn_flow(pkt_eng_ofc(e), 0);
            assert_true(r->rc == 100e9 && r->rt == 100e9);
        }
        uint64_t marks = 0;
        for (uint32_t p = 0; p < t->nports; p++)
            marks += eng_port(e, p)->ecn_marks;
        assert_int_equal(marks, 0);
        eng_destroy(e);
        topo_destroy(t);
    }
    double line_ps = (double)(64u << 20) * 8 / 100e9 * PS_PER_S;
    print_message("lone dcqcn flow: %.3f us, window-free %.3f us, serialization %.3f us\n",
                  (double)end[0] / PS_PER_US, (double)end[1] / PS_PER_US, line_ps / PS_PER_US);
    assert_true(end[0] == end[1]);
    assert_true((double)end[0] < line_ps * 1.001);
}

/* Pacing: a flow held at 25 Gb/s on a 100 Gb/s NIC (its Rc and Rt set,
 * its increase timer stopped) sends a packet every 4096 x 8 / 25e9 s =
 * 1310.72 ns: its N packets end (N - 1) gaps after a lone packet would. */
static simtime_t paced_end(uint64_t bytes, double rate)
{
    struct cfg c = dq_cfg(1, 100);
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct eng_hooks h = {&O, bn_done};
    struct eng *e = eng_create(t, &c.tr, 1, &h);
    eng_add_msg(e, 0, 1, bytes, PS_PER_US, 0); /* starts after its rate is set */
    struct dcqcn_rp *r = (struct dcqcn_rp *)pkt_dcqcn_flow(pkt_eng_ofc(e), 0);
    r->rc = r->rt = rate;
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    simtime_t end = eng_now(e);
    eng_destroy(e);
    topo_destroy(t);
    return end;
}

static void test_paced_rate(void **state)
{
    (void)state;
    const uint64_t n = 4096;
    simtime_t one = paced_end(4096, 25e9), all = paced_end(n * 4096, 25e9);
    simtime_t gap = (simtime_t)(4096.0 * 8 * PS_PER_S / 25e9);
    print_message("paced at 25 Gb/s: %llu packets end %.3f us after one (%llu gaps of %.2f ns)\n",
                  (unsigned long long)n, (double)(all - one) / PS_PER_US,
                  (unsigned long long)(n - 1), (double)gap / PS_PER_NS);
    assert_true(gap == 1310720);
    assert_true(all - one == (n - 1) * gap);
}

/* Flow 1 joins flow 0 later: equal shares once converged. */
static void test_two_flows_converge(void **state)
{
    (void)state;
    struct cfg c = dq_cfg(2, 40);
    struct topo *t;
    simtime_t starts[2] = {0, 2000 * PS_PER_US};
    struct eng *e = dq_run(&c, 2, 400u << 20, starts, 10 * PS_PER_US, &O, &t);
    /* the late window: the second half of their overlap */
    simtime_t a = starts[1], b = O.first_done, lo = a + (b - a) / 2;
    uint32_t il = 0, ib = 0;
    for (uint32_t i = 0; i < O.ns; i++) {
        if (O.t[i] <= lo) il = i;
        if (O.t[i] <= b) ib = i;
    }
    double x0, x1, jain = bn_jain2(&O, il, ib, &x0, &x1);
    double thr = (x0 + x1) * 8 / ((double)(O.t[ib] - O.t[il]) / PS_PER_S) / 40e9;
    print_message("dcqcn two flows: %.0f and %.0f bytes over [%.0f, %.0f] us, Jain %.5f, "
                  "%.4f of the link, %llu CNPs\n",
                  x0, x1, (double)O.t[il] / PS_PER_US, (double)O.t[ib] / PS_PER_US, jain, thr,
                  (unsigned long long)pkt_dcqcn_cnps(pkt_eng_ofc(e)));
    assert_true(jain >= 0.99);
    assert_true(pkt_dcqcn_cnps(pkt_eng_ofc(e)) > 0);
    eng_destroy(e);
    topo_destroy(t);
}

/* An incast of n long flows: once the rates have settled (the second half
 * of the time all run), the queue stays near the thresholds. */
static void incast(int n, double gbps)
{
    struct cfg c = dq_cfg(n, gbps);
    struct topo *t;
    struct eng *e = dq_run(&c, n, 64u << 20, NULL, 10 * PS_PER_US, &O, &t);
    simtime_t end = O.first_done;
    double hi = 0, sum = 0;
    uint32_t m = 0, i0 = 0, i1 = 0;
    for (uint32_t i = 0; i < O.ns && O.t[i] <= end; i++) {
        if (O.t[i] < end / 2) continue;
        if (!m) i0 = i;
        i1 = i;
        double q = (double)O.q[i];
        hi = q > hi ? q : hi;
        sum += q;
        m++;
    }
    assert_true(m > 50);
    double thr =
        (double)(O.rx[i1] - O.rx[i0]) * 8 / ((double)(O.t[i1] - O.t[i0]) / PS_PER_S) / (gbps * 1e9);
    uint64_t peak = eng_port(e, O.port)->max_queue_bytes;
    print_message("dcqcn %d-to-1 at %.0f Gb/s: settled queue max %.0f mean %.0f bytes (kmin %d, "
                  "kmax %d), peak %llu, throughput %.4f, %llu CNPs\n",
                  n, gbps, hi, sum / m, KMIN, KMAX, (unsigned long long)peak, thr,
                  (unsigned long long)pkt_dcqcn_cnps(pkt_eng_ofc(e)));
    /* Above kmax every packet is marked, so each flow has a CNP within a
     * CNP interval (and an RTT): the queue may overshoot kmax by at most
     * what the link sends in that time; the mean lies between the
     * thresholds, and the link stays busy. */
    double over = gbps * 1e9 / 8 * ((double)c.tr.dcqcn.cnp_interval_ns * 1e-9);
    assert_true(hi <= KMAX + over);
    assert_true(sum / m > KMIN && sum / m < KMAX);
    assert_true(thr > 0.95);
    eng_destroy(e);
    topo_destroy(t);
}

static void test_incast_8(void **state)
{
    (void)state;
    incast(8, 40);
}

static void test_incast_16_100g(void **state)
{
    (void)state;
    incast(16, 100);
}

/* --- per-message CNPs (loss->cnps: the flows table's cnps) --- */

#define CN_MAX 16
struct cn_obs {
    uint64_t cnps[CN_MAX];
    int done[CN_MAX], final[CN_MAX];
};

static void cn_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)e, (void)start, (void)end;
    struct cn_obs *o = ctx;
    assert_non_null(loss); /* cc = dcqcn: always counted */
    o->done[tag]++;
    o->cnps[tag] = loss->cnps;
}

static void cn_loss(void *ctx, struct eng *e, uint64_t tag, const struct res_flow_loss *loss)
{
    (void)e;
    struct cn_obs *o = ctx;
    o->final[tag]++;
    o->cnps[tag] = loss->cnps;
}

/* n messages of `bytes`, message j from src[j] to dst[j], at 0. */
static struct eng *cn_run(const struct cfg *c, int n, const uint32_t *src, const uint32_t *dst,
                          uint64_t bytes, struct cn_obs *o, struct topo **t)
{
    struct err er;
    assert_int_equal(topo_build(&c->topo, t, &er), 0);
    memset(o, 0, sizeof *o);
    struct eng_hooks h = {o, cn_done};
    struct eng *e = eng_create(*t, &c->tr, 1, &h);
    eng_set_msg_loss(e, cn_loss, o);
    for (int j = 0; j < n; j++)
        eng_add_msg(e, src[j], dst[j], bytes, 0, (uint64_t)j);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    for (int j = 0; j < n; j++)
        assert_int_equal(o->done[j], 1);
    return e;
}

static uint64_t all_marks(const struct eng *e, const struct topo *t)
{
    uint64_t m = 0;
    for (uint32_t p = 0; p < t->nports; p++)
        m += eng_port(e, p)->ecn_marks;
    return m;
}

/* An 8-to-1 incast: the messages' CNPs sum to the engine's count; also
 * under go-back-N with drop-tail buffers, where the final counts come with
 * the loss counters (eng_set_msg_loss) once every ack is in. */
static void test_cnps_conserved(void **state)
{
    (void)state;
    uint32_t src[8], dst[8];
    for (int j = 0; j < 8; j++)
        src[j] = (uint32_t)j, dst[j] = 8;
    for (int rec = 0; rec < 2; rec++) {
        struct cfg c = dq_cfg(8, 100);
        if (rec) {
            c.tr.recovery = REC_GOBACK_N;
            c.tr.sw.buffer_bytes = 256 << 10;
            c.tr.rto_ns = 50000;
        }
        struct topo *t;
        struct cn_obs o;
        struct eng *e = cn_run(&c, 8, src, dst, 4u << 20, &o, &t);
        uint64_t sum = 0;
        for (int j = 0; j < 8; j++) {
            sum += o.cnps[j];
            assert_int_equal(o.final[j], rec); /* final once under recovery */
        }
        print_message("8-to-1 (%s): %llu CNPs, per message %llu .. , engine %llu\n",
                      rec ? "go-back-N, 256 KiB buffers" : "unbounded", (unsigned long long)sum,
                      (unsigned long long)o.cnps[0],
                      (unsigned long long)pkt_dcqcn_cnps(pkt_eng_ofc(e)));
        assert_true(sum > 0);
        assert_int_equal(sum, pkt_dcqcn_cnps(pkt_eng_ofc(e)));
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* Nothing marked, no CNP: a lone flow, and the incast with ECN off. */
static void test_cnps_zero_unmarked(void **state)
{
    (void)state;
    uint32_t src[8], dst[8];
    for (int j = 0; j < 8; j++)
        src[j] = (uint32_t)j, dst[j] = 8;
    for (int k = 0; k < 2; k++) {
        struct cfg c = dq_cfg(k ? 8 : 1, 100);
        if (k) c.tr.sw.ecn_kmin_bytes = c.tr.sw.ecn_kmax_bytes = 0; /* no marking */
        if (!k) dst[0] = 1;
        struct topo *t;
        struct cn_obs o;
        struct eng *e = cn_run(&c, k ? 8 : 1, src, dst, 4u << 20, &o, &t);
        assert_int_equal(all_marks(e, t), 0);
        assert_int_equal(pkt_dcqcn_cnps(pkt_eng_ofc(e)), 0);
        for (int j = 0; j < (k ? 8 : 1); j++)
            assert_int_equal(o.cnps[j], 0);
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* Exact: 2 leaves x 1 spine x 2 hosts, 100 Gb/s hosts into 50 Gb/s leaf
 * uplinks, DCTCP's step at 1 byte, a CNP per marked packet (interval 1 ns,
 * under the packets' spacing): messages 0 (host 0 to 2) and 2 (1 to 3)
 * queue only at leaf 0's uplink, message 1 (2 to 0) only at leaf 1's (the
 * spine's ports drain at the rate they fill), so the CNPs of 0 and 2 sum to
 * leaf 0's uplink's ECN marks and those of 1 are leaf 1's, the only two
 * marking ports. */
static void test_cnps_exact(void **state)
{
    (void)state;
    struct cfg c = dq_cfg(1, 100);
    c.topo.hosts_per_leaf = 2;
    c.topo.fabric_gbps = 50;
    c.tr.sw.ecn_kmin_bytes = c.tr.sw.ecn_kmax_bytes = 1;
    c.tr.dcqcn.cnp_interval_ns = 1;
    uint32_t src[3] = {0, 2, 1}, dst[3] = {2, 0, 3};
    struct topo *t;
    struct cn_obs o;
    struct eng *e = cn_run(&c, 3, src, dst, 1u << 20, &o, &t);
    uint64_t m[2] = {0, 0};
    int nm = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        uint64_t k = eng_port(e, p)->ecn_marks;
        if (!k) continue;
        assert_true(nm < 2);
        m[nm++] = k;
    }
    uint64_t l0 = o.cnps[0] + o.cnps[2], l1 = o.cnps[1];
    print_message("exact: CNPs %llu + %llu (leaf 0's uplink) and %llu (leaf 1's), marks %llu "
                  "and %llu\n",
                  (unsigned long long)o.cnps[0], (unsigned long long)o.cnps[2],
                  (unsigned long long)l1, (unsigned long long)m[0], (unsigned long long)m[1]);
    assert_int_equal(nm, 2);
    assert_true(o.cnps[0] > 0 && o.cnps[1] > 0 && o.cnps[2] > 0 && l0 != l1);
    assert_true((l0 == m[0] && l1 == m[1]) || (l0 == m[1] && l1 == m[0]));
    assert_int_equal(l0 + l1, pkt_dcqcn_cnps(pkt_eng_ofc(e)));
    eng_destroy(e);
    topo_destroy(t);
}

/* Same inputs, same times, marks and CNPs. */
static void test_repeatable(void **state)
{
    (void)state;
    simtime_t end[2];
    uint64_t marks[2], cnps[2], events[2];
    for (int r = 0; r < 2; r++) {
        struct cfg c = dq_cfg(4, 100);
        struct topo *t;
        struct eng *e = dq_run(&c, 4, 8u << 20, NULL, 0, &O, &t);
        end[r] = eng_now(e);
        marks[r] = eng_port(e, O.port)->ecn_marks;
        cnps[r] = pkt_dcqcn_cnps(pkt_eng_ofc(e));
        events[r] = eng_stats(e)->events;
        eng_destroy(e);
        topo_destroy(t);
    }
    assert_true(end[0] == end[1] && events[0] == events[1]);
    assert_true(marks[0] == marks[1] && marks[0] > 0);
    assert_true(cnps[0] == cnps[1] && cnps[0] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rp_lazy_matches_eager),
        cmocka_unit_test(test_lone_flow_line_rate),
        cmocka_unit_test(test_two_flows_converge),
        cmocka_unit_test(test_incast_8),
        cmocka_unit_test(test_incast_16_100g),
        cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_paced_rate),
        cmocka_unit_test(test_cnps_conserved),
        cmocka_unit_test(test_cnps_zero_unmarked),
        cmocka_unit_test(test_cnps_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
