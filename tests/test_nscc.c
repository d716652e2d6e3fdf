/* test_nscc.c - cc = nscc (sim/pkt_nscc.c, docs/transports.md): a window
 * steered by queueing delay against a target T and by ECN echoes. On one
 * bottleneck (senders on one leaf, the receiver on the other, the fabric
 * fast enough that the receiver's link is the one bottleneck), with ECN
 * marking at 20%-80% of a BDP (htsim's NSCC setting) so that above T every
 * packet is marked:
 *  - a lone flow runs at line rate, its window at its maximum, no marks;
 *  - N long flows hold the queue near T: above it every ack is marked and
 *    the windows grow by eta alone, below it they grow in proportion to
 *    T - d; a cut takes 0.8 (avg - T) / avg of the windows, which sum to
 *    C (RTT + T). The bound asserted (derived in the test) is the mean
 *    within [T - N - 1, 1.1 T] packets and every sample within 25% of T
 *    plus N + 1 packets, the link full;
 *  - a flow that joins a long one converges to an equal share (Jain's
 *    index >= 0.99 over the second half of their overlap), with ack_every
 *    1 and 4;
 *  - a 16-to-1 incast's first burst (16 windows) is cut by quick adapt:
 *    once it has drained, the queue stays within the same bound while the
 *    fixed window keeps (N - 1) BDPs standing;
 *  - every byte is delivered and acknowledged once, under spraying and
 *    coalesced acks too; runs repeat exactly. */
#include "testutil.h"
#include "bneck.h"

#include <math.h>

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_nscc.h"
#include "topo/topo.h"

#define MTU 4096.0

/* n senders on leaf 0 to host n, the first host of leaf 1; the fabric
 * carries n host links' worth, so the receiver's link is the bottleneck. */
static struct cfg nc_cfg(int n, double gbps, int cc)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = n;
    c.topo.host_gbps = gbps;
    c.topo.fabric_gbps = gbps * n;
    c.tr.cc = cc;
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    uint64_t bdp = eng_default_window(t, (uint32_t)c.tr.mtu, (uint32_t)c.tr.ack_bytes);
    topo_destroy(t);
    c.tr.sw.ecn_kmin_bytes = (int64_t)(bdp / 5);
    c.tr.sw.ecn_kmax_bytes = (int64_t)(bdp * 4 / 5);
    return c;
}

#define MAXS 200000
static struct bn_obs O;

/* n flows of `bytes` from hosts 0 .. n-1 to host n, flow j from starts[j]
 * (NULL: 0); every flow delivered and acknowledged exactly once. */
static struct eng *nc_run(const struct cfg *c, int n, uint64_t bytes, const simtime_t *starts,
                          simtime_t period, struct bn_obs *o, struct topo **t)
{
    struct eng *e = bn_run(c, n, bytes, starts, period, MAXS, o, t);
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    const struct eng_stats *st = eng_stats(e);
    assert_true(st->data_bytes_sent == (uint64_t)n * bytes);
    assert_true(st->data_bytes_delivered == (uint64_t)n * bytes);
    for (uint32_t i = 0; i < pe->nmsgs * pe->subflows; i++) {
        const struct flow *f = &pe->flows[i];
        if (i % pe->subflows >= pe->msgs[i / pe->subflows].nflows) continue;
        assert_true(f->sent == f->size && f->delivered == f->size && f->acked == f->size);
    }
    return e;
}

/* The target T (the fabric's base RTT, the default) and C, bytes/s. */
static double target_ps(const struct topo *t, const struct cfg *c)
{
    return (double)eng_base_rtt(t, (uint32_t)c->tr.mtu, (uint32_t)c->tr.ack_bytes, NULL);
}

/* A lone flow: line rate, its window never cut, nothing marked. */
static void test_lone_flow_line_rate(void **state)
{
    (void)state;
    struct cfg c = nc_cfg(1, 100, CC_NSCC);
    struct topo *t;
    const uint64_t bytes = 32u << 20;
    struct eng *e = nc_run(&c, 1, bytes, NULL, 1000 * PS_PER_NS, &O, &t);
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    double C = 100e9 / 8, rtt = target_ps(t, &c);
    double ideal = bytes / C * PS_PER_S + rtt; /* serialization + one round trip */
    double end = (double)O.first_done;
    uint32_t i0 = O.ns / 4, i1 = 3 * O.ns / 4;
    double thr = (double)(O.rx[i1] - O.rx[i0]) / ((double)(O.t[i1] - O.t[i0]) / PS_PER_S);
    print_message("nscc lone flow: %.2f us against %.2f us, throughput %.5f of C, window %.0f of "
                  "max %.0f\n",
                  end / PS_PER_US, ideal / PS_PER_US, thr / C, pe->cc[0].cwnd, pe->cc[0].ns.maxwnd);
    assert_true(thr / C > 0.999);
    assert_true(end < ideal * 1.001);
    assert_true(pe->cc[0].cwnd == pe->cc[0].ns.maxwnd);
    assert_int_equal(eng_port(e, O.port)->ecn_marks, 0);
    eng_destroy(e);
    topo_destroy(t);
}

/* N long flows: the queue near T, the link full. */
static void steady_queue(int n, double gbps, int ack_every)
{
    struct cfg c = nc_cfg(n, gbps, CC_NSCC);
    c.tr.ack_every = ack_every;
    struct topo *t;
    struct eng *e =
        nc_run(&c, n, (uint64_t)(gbps / 100 * (16u << 20)), NULL, 1000 * PS_PER_NS, &O, &t);
    double C = gbps * 1e9 / 8, T = target_ps(t, &c) / PS_PER_S * C / MTU; /* packets */
    /* the second half of the time all flows run, less their last 20 us */
    simtime_t end = O.first_done - 20 * PS_PER_US;
    double lo = 1e300, hi = 0, sum = 0;
    uint32_t m = 0, i0 = 0, i1 = 0;
    for (uint32_t i = 0; i < O.ns && O.t[i] <= end; i++) {
        if (O.t[i] < end / 2) continue;
        if (!m) i0 = i;
        i1 = i;
        double q = (double)O.q[i] / MTU;
        lo = q < lo ? q : lo;
        hi = q > hi ? q : hi;
        sum += q;
        m++;
    }
    assert_true(m > 100);
    double mean = sum / m;
    double thr = (double)(O.rx[i1] - O.rx[i0]) / ((double)(O.t[i1] - O.t[i0]) / PS_PER_S);
    print_message("nscc N=%d %.0f Gb/s ack_every %d: T %.1f pkts, queue [%.2f, %.2f] mean %.2f "
                  "(%.3f T), throughput %.5f of C\n",
                  n, gbps, ack_every, T, lo, hi, mean, mean / T, thr / C);
    /* The bound. Above T every packet is marked (kmax = 0.8 BDP < T C),
     * so the windows grow by eta alone (0.15 MTU x BDP / 150 KB per base
     * RTT each: under 0.2 packets) until the average delay passes T; a
     * cut then removes 0.8 (avg - T) / avg of windows summing to C (RTT
     * + T), about 2 T: 1.6 times the average excess, at most twice per
     * flow before the queue's fall is seen (one cut per base RTT, the
     * feedback takes RTT + T). The fluid fixed point, where cuts balance
     * eta, is an average excess of eta / (0.8 w) (w a flow's window,
     * below 1% here), so the mean sits at T within the flows' whole-packet
     * rounding (up to N packets below their fractional windows, and the
     * packet in service); the samples, allowing an excess e of up to
     * 1/8 T, stay within T (1 - 2.2 e) - N - 1 and T (1 + e) + 1 + N:
     * asserted as 25% of T and N + 1 packets either side. */
    assert_true(mean >= T - n - 1 && mean <= 1.1 * T);
    assert_true(lo >= 0.75 * T - n - 1);
    assert_true(hi <= 1.25 * T + n + 1);
    assert_true(thr / C > 0.99);
    eng_destroy(e);
    topo_destroy(t);
}

static void test_steady_queue_2(void **state)
{
    (void)state;
    steady_queue(2, 100, 1);
}

static void test_steady_queue_8(void **state)
{
    (void)state;
    steady_queue(8, 400, 1);
}

static void test_steady_queue_4_coalesced(void **state)
{
    (void)state;
    steady_queue(4, 100, 4);
}

/* Flow 1 joins flow 0 1 ms later: equal shares once converged. */
static void converge(int ack_every)
{
    struct cfg c = nc_cfg(2, 100, CC_NSCC);
    c.tr.ack_every = ack_every;
    struct topo *t;
    simtime_t starts[2] = {0, 1000 * PS_PER_US};
    struct eng *e = nc_run(&c, 2, 40u << 20, starts, 1000 * PS_PER_NS, &O, &t);
    simtime_t a = starts[1], b = O.first_done, mid = a + (b - a) / 2;
    uint32_t im = 0, ib = 0;
    for (uint32_t i = 0; i < O.ns; i++) {
        if (O.t[i] <= mid) im = i;
        if (O.t[i] <= b) ib = i;
    }
    double x0, x1, jain = bn_jain2(&O, im, ib, &x0, &x1);
    print_message("nscc two flows, ack_every %d: shares %.0f and %.0f bytes over [%.0f, %.0f] us, "
                  "Jain %.5f\n",
                  ack_every, x0, x1, (double)O.t[im] / PS_PER_US, (double)O.t[ib] / PS_PER_US,
                  jain);
    assert_true(jain >= 0.99);
    eng_destroy(e);
    topo_destroy(t);
}

static void test_two_flows_converge(void **state)
{
    (void)state;
    converge(1);
}

static void test_two_flows_converge_coalesced(void **state)
{
    (void)state;
    converge(4);
}

/* A 16-to-1 incast: its first burst drains, and the queue then stays near
 * T, where the fixed window holds (N - 1) windows of a BDP. */
static void test_incast_bounded(void **state)
{
    (void)state;
    const int n = 16;
    double hi[2], peak[2];
    for (int w = 0; w < 2; w++) {
        struct cfg c = nc_cfg(n, 100, w ? CC_NSCC : CC_WINDOW);
        struct topo *t;
        struct eng *e = nc_run(&c, n, 4u << 20, NULL, 1000 * PS_PER_NS, &O, &t);
        double C = 100e9 / 8, T = target_ps(t, &c) / PS_PER_S * C; /* bytes */
        double bdp = (double)eng_window(e);
        /* the first burst (N windows of 1.5 BDP under nscc) drains at C:
         * from the first sample after the peak at or below T */
        uint32_t ip = 0, id = O.ns;
        for (uint32_t i = 0; i < O.ns; i++)
            if (O.q[i] > O.q[ip]) ip = i;
        for (uint32_t i = ip; i < O.ns && id == O.ns; i++)
            if ((double)O.q[i] <= T) id = i;
        simtime_t drained = id < O.ns ? O.t[id] : O.first_done;
        peak[w] = (double)O.q[ip];
        hi[w] = 0;
        for (uint32_t i = id; i < O.ns; i++)
            if (O.t[i] < O.first_done - 20 * PS_PER_US && (double)O.q[i] > hi[w])
                hi[w] = (double)O.q[i];
        print_message("incast %d-to-1 %s: peak queue %.0f bytes (%.1f T), after %.0f us at most "
                      "%.0f (%.2f T); first done %.0f us, last %.0f us\n",
                      n, w ? "nscc" : "window", peak[w], peak[w] / T, (double)drained / PS_PER_US,
                      hi[w], hi[w] / T, (double)O.first_done / PS_PER_US,
                      (double)O.last_done / PS_PER_US);
        if (w) {
            assert_true(peak[w] <= n * 1.5 * bdp);
            /* the steady bound of steady_queue: 25% of T and N + 1 packets */
            assert_true(hi[w] <= 1.25 * T + (n + 1) * MTU);
        } else { /* the fixed window's standing queue, over the middle half */
            double lo = 1e300;
            for (uint32_t i = O.ns / 4; i < 3 * O.ns / 4; i++)
                lo = (double)O.q[i] < lo ? (double)O.q[i] : lo;
            print_message("  window: least queue over the middle half %.0f bytes (%.1f T)\n", lo,
                          lo / T);
            assert_true(lo >= (n - 1) * bdp * 0.95);
        }
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* Spraying (acks out of order) and coalescing: every byte once. */
static void test_spray_conserved(void **state)
{
    (void)state;
    for (int every = 1; every <= 8; every *= 8) {
        struct cfg c = nc_cfg(4, 100, CC_NSCC);
        c.topo.spines = 4;
        c.topo.fabric_gbps = 100;
        c.tr.path = PATH_SPRAY;
        c.tr.ack_every = every;
        struct topo *t;
        struct eng *e = nc_run(&c, 4, (1u << 20) + 1234, NULL, 0, &O, &t);
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* Same inputs, same times and marks. */
static void test_repeatable(void **state)
{
    (void)state;
    simtime_t end[2];
    uint64_t marks[2];
    for (int r = 0; r < 2; r++) {
        struct cfg c = nc_cfg(4, 100, CC_NSCC);
        c.tr.sw.ecn_pmax = 0.3;
        c.tr.path = PATH_SPRAY;
        struct topo *t;
        struct eng *e = nc_run(&c, 4, 2u << 20, NULL, 0, &O, &t);
        end[r] = eng_now(e);
        marks[r] = eng_port(e, O.port)->ecn_marks;
        eng_destroy(e);
        topo_destroy(t);
    }
    assert_true(end[0] == end[1]);
    assert_true(marks[0] == marks[1] && marks[0] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_flow_line_rate),
        cmocka_unit_test(test_steady_queue_2),
        cmocka_unit_test(test_steady_queue_8),
        cmocka_unit_test(test_steady_queue_4_coalesced),
        cmocka_unit_test(test_two_flows_converge),
        cmocka_unit_test(test_two_flows_converge_coalesced),
        cmocka_unit_test(test_incast_bounded),
        cmocka_unit_test(test_spray_conserved),
        cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
