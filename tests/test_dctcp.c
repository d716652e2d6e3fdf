/* test_dctcp.c - ECN marking at switches ([switch]) and cc = dctcp
 * (docs/transports.md), against DCTCP's own analysis (Alizadeh et al.,
 * SIGCOMM 2010, section 3.3):
 *  - N long flows into one bottleneck hold its queue in the band the
 *    paper's fluid model gives, [K + N - A, K + N] packets, A = N (W* + 1)
 *    alpha / 2 with W* = (C RTT + K) / N and alpha^2 (1 - alpha/4) =
 *    (2 W* + 1) / (W* + 1)^2 (about sqrt(2 N (C RTT + K)) / 2), with
 *    whole-packet slack; never empty it (full throughput); only the
 *    bottleneck marks;
 *  - a second flow that joins a long one converges to an equal share
 *    (Jain's index >= 0.99 over the second half of their overlap);
 *  - under cc = window, marks are counted and change nothing (the run's
 *    times equal those of a run without [switch] keys), and a fixed-window
 *    incast's steady queue between kmin and kmax is marked at RED's ramp
 *    probability;
 *  - runs repeat exactly. */
#include "testutil.h"
#include "bneck.h"

#include <math.h>

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

#define MTU 4096.0

/* One leaf's hosts 0 .. n-1 send to host n on the same leaf: the leaf's
 * port into host n is the one bottleneck (100 Gb/s, 1 us links). */
static struct cfg dc_cfg(int n, int cc, int64_t kmin, int64_t kmax)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = n + 1;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.cc = cc;
    c.tr.sw.ecn_kmin_bytes = kmin;
    c.tr.sw.ecn_kmax_bytes = kmax;
    return c;
}

#define MAXS 200000
/* n flows into host n, sampled (bneck.h); at most MAXS samples. */
static struct eng *dc_run(const struct cfg *c, int n, uint64_t bytes, const simtime_t *starts,
                          simtime_t period, struct bn_obs *o, struct topo **t)
{
    return bn_run(c, n, bytes, starts, period, MAXS, o, t);
}

/* The base RTT of a full packet from host 0 to host n and its ack. */
static double rtt_ps(const struct topo *t, const struct cfg *c, int n)
{
    return (double)(topo_path_latency(t, 0, (uint32_t)n, (uint32_t)c->tr.mtu) +
                    topo_path_latency(t, (uint32_t)n, 0, (uint32_t)c->tr.ack_bytes));
}

static struct bn_obs O;

/* N flows, step marking at K: the queue in DCTCP's band, the link full. */
static void steady_queue(int n, int64_t k_pkts, double gbps)
{
    int64_t K = k_pkts * (int64_t)MTU;
    struct cfg c = dc_cfg(n, CC_DCTCP, K, K);
    c.topo.host_gbps = c.topo.fabric_gbps = gbps;
    struct topo *t;
    struct eng *e = dc_run(&c, n, 32u << 20, NULL, 1000 * PS_PER_NS, &O, &t);
    double C = gbps * 1e9 / 8 / MTU;              /* packets per second */
    double bdp = C * rtt_ps(t, &c, n) / PS_PER_S; /* C x RTT, packets */
    /* The paper's fixed point: each flow's window W* = (C RTT + K) / N when
     * the queue crosses K; alpha solves alpha^2 (1 - alpha/4) = (2 W* + 1) /
     * (W* + 1)^2 (by bisection: the left side grows on [0, 1]); each flow's
     * cut is D = (W* + 1) alpha / 2, the queue's amplitude A = N D, its top
     * K + N (one packet per flow in the RTT the marks take to act). */
    double W = (bdp + (double)k_pkts) / n, rhs = (2 * W + 1) / ((W + 1) * (W + 1));
    double a0 = 0, a1 = 1;
    for (int it = 0; it < 60; it++) {
        double am = (a0 + a1) / 2;
        if (am * am * (1 - am / 4) < rhs)
            a0 = am;
        else
            a1 = am;
    }
    double A = n * (W + 1) * a0 / 2;
    double qmax = (double)k_pkts + n, qmin = qmax - A;
    /* the flows' last RTTs drain the queue: leave 20 us out */
    simtime_t end = O.first_done - 20 * PS_PER_US;
    /* The second half of the time every flow runs. */
    double lo = 1e300, hi = 0, sum = 0;
    uint32_t m = 0, i0 = 0, i1 = 0;
    for (uint32_t i = 0; i < O.ns; i++) {
        if (O.t[i] > end) break;
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
    double thr = (double)(O.rx[i1] - O.rx[i0]) / ((double)(O.t[i1] - O.t[i0]) / PS_PER_S) / MTU;
    print_message("dctcp N=%d K=%lld: C*RTT %.1f pkts, W* %.2f, alpha %.3f, theory [%.1f, %.1f], "
                  "seen [%.2f, %.2f] mean %.2f, throughput %.4f of C\n",
                  n, (long long)k_pkts, bdp, W, a0, qmin, qmax, lo, hi, mean, thr / C);
    /* The band, with slack for what the fluid model leaves out: below, a
     * flow sends whole packets only (in flight <= its fractional window),
     * so the flows together may hold up to N packets less than their
     * windows' sum; above, 2 packets (the sample counts the packet in
     * service, and marks act one packet late). The mean lies in the fluid
     * band itself. */
    assert_true(lo >= qmin - n);
    assert_true(hi <= qmax + 2);
    assert_true(mean >= qmin && mean <= qmax);
    assert_true(lo > 0);         /* never empty ... */
    assert_true(thr / C > 0.99); /* ... so the link stays full */
    /* Marks only at the bottleneck. */
    uint64_t marks = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        uint64_t mk = eng_port(e, p)->ecn_marks;
        if (p != O.port) assert_int_equal(mk, 0);
        marks += mk;
    }
    assert_true(marks > 0);
    eng_destroy(e);
    topo_destroy(t);
}

static void test_steady_queue_2(void **state)
{
    (void)state;
    steady_queue(2, 16, 100);
}

static void test_steady_queue_8(void **state)
{
    (void)state;
    steady_queue(8, 32, 400);
}

/* Flow 1 joins flow 0 1 ms later: equal shares once converged. */
static void test_two_flows_converge(void **state)
{
    (void)state;
    struct cfg c = dc_cfg(2, CC_DCTCP, 16 * 4096, 16 * 4096);
    struct topo *t;
    simtime_t starts[2] = {0, 1000 * PS_PER_US};
    struct eng *e = dc_run(&c, 2, 40u << 20, starts, 1000 * PS_PER_NS, &O, &t);
    /* the overlap: from flow 1's start to the first completion */
    simtime_t a = starts[1], b = O.first_done, mid = a + (b - a) / 2;
    uint32_t im = 0, ib = 0;
    for (uint32_t i = 0; i < O.ns; i++) {
        if (O.t[i] <= mid) im = i;
        if (O.t[i] <= b) ib = i;
    }
    double x0, x1, jain = bn_jain2(&O, im, ib, &x0, &x1);
    print_message("dctcp two flows: shares %.0f and %.0f bytes over [%.0f, %.0f] us, Jain %.5f\n",
                  x0, x1, (double)O.t[im] / PS_PER_US, (double)O.t[ib] / PS_PER_US, jain);
    assert_true(jain >= 0.99);
    eng_destroy(e);
    topo_destroy(t);
}

/* Under cc = window marks change nothing: the same completion time and
 * bytes as without marking, and marks counted at the bottleneck only. */
static void test_window_marks_inert(void **state)
{
    (void)state;
    simtime_t end[2];
    uint64_t marks[2];
    for (int w = 0; w < 2; w++) {
        struct cfg c = dc_cfg(4, CC_WINDOW, 0, w ? 8 * 4096 : 0);
        struct topo *t;
        struct eng *e = dc_run(&c, 4, 1u << 20, NULL, 0, &O, &t);
        end[w] = eng_now(e);
        marks[w] = eng_port(e, O.port)->ecn_marks;
        eng_destroy(e);
        topo_destroy(t);
    }
    assert_true(end[0] == end[1]);
    assert_int_equal(marks[0], 0);
    assert_true(marks[1] > 0);
}

/* RED's ramp: a fixed-window incast holds a steady queue q between kmin and
 * kmax; the fraction of packets marked there is pmax (q - kmin) / (kmax -
 * kmin), within binomial noise. */
static void test_red_ramp(void **state)
{
    (void)state;
    const int n = 4;
    struct cfg c = dc_cfg(n, CC_WINDOW, 0, 0);
    c.tr.window_bytes = 16 * 4096; /* each flow holds 16 packets in flight */
    struct topo *t;
    struct eng *e = dc_run(&c, n, 8u << 20, NULL, 1000 * PS_PER_NS, &O, &t);
    /* the steady queue, from the second half's samples */
    double sum = 0;
    uint32_t m = 0;
    for (uint32_t i = O.ns / 2; i < O.ns && O.t[i] < O.first_done; i++, m++)
        sum += (double)O.q[i];
    double q = sum / m;
    eng_destroy(e);
    topo_destroy(t);
    int64_t kmin = (int64_t)(q / 4), kmax = (int64_t)(q * 2);
    c.tr.sw.ecn_kmin_bytes = kmin;
    c.tr.sw.ecn_kmax_bytes = kmax;
    c.tr.sw.ecn_pmax = 0.5;
    e = dc_run(&c, n, 8u << 20, NULL, 0, &O, &t);
    double pkts = (double)n * (8u << 20) / 4096;
    double got = (double)eng_port(e, O.port)->ecn_marks / pkts;
    double want = 0.5 * (q - (double)kmin) / (double)(kmax - kmin);
    print_message("RED ramp: steady queue %.0f bytes, marked %.4f of packets, ramp %.4f\n", q, got,
                  want);
    assert_true(fabs(got - want) < 0.05);
    eng_destroy(e);
    topo_destroy(t);
}

/* Same inputs, same marks and times. */
static void test_repeatable(void **state)
{
    (void)state;
    simtime_t end[2];
    uint64_t marks[2];
    for (int r = 0; r < 2; r++) {
        struct cfg c = dc_cfg(4, CC_DCTCP, 4 * 4096, 32 * 4096);
        c.tr.sw.ecn_pmax = 0.3;
        struct topo *t;
        struct eng *e = dc_run(&c, 4, 2u << 20, NULL, 0, &O, &t);
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
        cmocka_unit_test(test_steady_queue_2),     cmocka_unit_test(test_steady_queue_8),
        cmocka_unit_test(test_two_flows_converge), cmocka_unit_test(test_window_marks_inert),
        cmocka_unit_test(test_red_ramp),           cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
