/* test_pfc.c - switch.pfc, lossless Ethernet in the packet engine
 * (sim/pkt_pfc.c, docs/transports.md), on a 32-to-1 incast across a
 * leaf-spine (4 leaves x 4 spines x 17 hosts, 100 Gb/s hosts, 500 Gb/s
 * fabric: no oversubscription, the receiver's link the one bottleneck):
 *  - every byte is delivered, none is lost, and each switch ingress holds at
 *    most XOFF + headroom, more than XOFF (the pause engaged), within the
 *    bound a PAUSE's round trip allows (XOFF + one packet + 2 x rate x
 *    latency + a frame + 2 packets);
 *  - the pauses spread upstream, hop by hop: the spines' ports into the
 *    receiver's leaf, the senders' leaves' uplinks and the senders' own NIC
 *    ports spend time paused; the ports nothing congests (into hosts, the
 *    idle leaf's) none;
 *  - congestion spreading: a victim flow that shares the senders' leaf but
 *    goes to an idle leaf is slowed by PFC (head-of-line blocking behind the
 *    paused uplinks), where without PFC it runs at its link's rate;
 *  - closed form: N senders at line rate under one switch are each paused
 *    1 - 1/N of their flow's time, plus at most one packet's serialization
 *    per pause (the packet in service finishes), and finish together;
 *  - with XOFF above anything queued (no pause ever), the pausable ports
 *    give the fast path's times exactly;
 *  - a port left paused is reported as a PFC deadlock;
 *  - runs repeat exactly. */
#include "testutil.h"

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

#define HPL     17 /* hosts per leaf */
#define SENDERS 32
#define BYTES   (1u << 20)
#define RECV    (4 * HPL - 1) /* the last host, on leaf 3 */
#define VICTIM  16            /* on leaf 0 with 16 senders, to leaf 2 */
#define VDST    (2 * HPL + 3)

static struct cfg pfc_cfg(int pfc)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 4;
    c.topo.spines = 4;
    c.topo.hosts_per_leaf = HPL;
    c.topo.host_gbps = 100;
    c.topo.fabric_gbps = 500;
    c.tr.sw.pfc = pfc;
    return c;
}

/* The incast's senders: leaf 0's hosts but the victim, and 16 of leaf 1's. */
static uint32_t sender(int j)
{
    return j < 16 ? (uint32_t)j : (uint32_t)(HPL + j - 16);
}

struct done {
    simtime_t victim, last;
    simtime_t end[8]; /* messages 0..7: when they finished */
};

static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)e, (void)loss;
    struct done *d = ctx;
    if (tag == 1000) d->victim = end - start;
    if (tag < 8) d->end[tag] = end;
    if (end > d->last) d->last = end;
}

/* The incast, and the victim (1 MiB from VICTIM to VDST, starting at
 * victim_start) when victim_start >= 0. */
static struct eng *run(const struct cfg *c, struct topo **t, struct done *d, int64_t victim_us)
{
    struct err er;
    assert_int_equal(topo_build(&c->topo, t, &er), 0);
    memset(d, 0, sizeof *d);
    struct eng_hooks h = {d, on_done};
    struct eng *e = eng_create(*t, &c->tr, 1, &h);
    for (int j = 0; j < SENDERS; j++)
        eng_add_msg(e, sender(j), RECV, BYTES, 0, (uint64_t)j);
    if (victim_us >= 0) eng_add_msg(e, VICTIM, VDST, BYTES, (simtime_t)victim_us * PS_PER_US, 1000);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    return e;
}

static void test_incast_lossless(void **state)
{
    (void)state;
    struct cfg c = pfc_cfg(1);
    struct topo *t;
    struct done d;
    struct eng *e = run(&c, &t, &d, -1);
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    /* every byte delivered once (eng_check: sent = delivered, every message
     * done), and the receiver's link carried the incast and its acks alone */
    assert_int_equal(eng_stats(e)->data_bytes_delivered, (uint64_t)SENDERS * BYTES);
    assert_int_equal(eng_port(e, t->host_down[RECV])->bytes, (uint64_t)SENDERS * BYTES);
    /* the receiver's link is the bottleneck: the time is its serialization
     * of 32 MiB, within 1% (PFC keeps it busy) */
    double ideal = (double)SENDERS * BYTES * 8 / 100e9 * PS_PER_S;
    print_message("pfc incast: %.3f us, ideal %.3f us\n", (double)d.last / PS_PER_US,
                  ideal / PS_PER_US);
    assert_true((double)d.last >= ideal && (double)d.last < 1.01 * ideal);
    /* per ingress: above XOFF (it paused), within XOFF + headroom, and within
     * what a PAUSE's round trip lets in: one packet crossing XOFF, then what
     * the sender starts until the PAUSE arrives (latency + a 64-byte frame)
     * and what is on the wire (latency), plus a packet at each end */
    uint64_t xoff = (uint64_t)c.tr.sw.pfc_xoff_bytes, head = (uint64_t)c.tr.sw.pfc_headroom_bytes;
    uint64_t peak = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        uint64_t m = pkt_pfc_ingress_max(pe, p);
        double rate = (double)t->ports[p].bps / 8 / PS_PER_S; /* bytes per ps */
        double bound = (double)xoff + 4096 + rate * (2.0 * (double)t->ports[p].lat_ps) + 64 +
                       rate * (double)ser_ps(64, t->ports[p].bps) + 2 * 4096;
        assert_true(m <= xoff + head);
        assert_true((double)m <= bound);
        if (m > peak) peak = m;
    }
    print_message("pfc incast: peak ingress %llu bytes (xoff %llu, headroom %llu)\n",
                  (unsigned long long)peak, (unsigned long long)xoff, (unsigned long long)head);
    assert_true(peak > xoff);
    /* the pauses, hop by hop upstream of the receiver's leaf (leaf 3) */
    simtime_t spine_in = 0, leaf_up = 0, nic = 0, idle = 0, into_hosts = 0;
    for (uint32_t k = 0; k < t->npaths; k++) {
        spine_in += pkt_pfc_pause_ps(pe, topo_down(t, k, 3));
        leaf_up += pkt_pfc_pause_ps(pe, topo_up(t, 0, k)) + pkt_pfc_pause_ps(pe, topo_up(t, 1, k));
        idle += pkt_pfc_pause_ps(pe, topo_up(t, 2, k)) + pkt_pfc_pause_ps(pe, topo_down(t, k, 0));
    }
    for (int j = 0; j < SENDERS; j++)
        nic += pkt_pfc_pause_ps(pe, t->host_up[sender(j)]);
    for (uint32_t h = 0; h < t->hosts; h++)
        into_hosts += pkt_pfc_pause_ps(pe, t->host_down[h]);
    print_message("pfc incast: paused (us, summed over ports): spines into leaf 3 %.1f, senders' "
                  "leaves' uplinks %.1f, senders' NICs %.1f\n",
                  (double)spine_in / PS_PER_US, (double)leaf_up / PS_PER_US,
                  (double)nic / PS_PER_US);
    assert_true(spine_in > 0);
    assert_true(leaf_up > 0);
    assert_true(nic > 0);
    assert_int_equal(idle, 0);
    assert_int_equal(into_hosts, 0);
    /* a port is paused no longer than the run */
    for (uint32_t p = 0; p < t->nports; p++)
        assert_true(pkt_pfc_pause_ps(pe, p) <= eng_now(e));
    eng_destroy(e);
    topo_destroy(t);
}

/* A victim from the senders' leaf to an idle leaf, 100 us into the incast:
 * alone on its path's links but for the senders' leaf's uplinks, which PFC
 * pauses. */
static void test_congestion_spreading(void **state)
{
    (void)state;
    simtime_t v[2];
    for (int pfc = 0; pfc < 2; pfc++) {
        struct cfg c = pfc_cfg(pfc);
        struct topo *t;
        struct done d;
        struct eng *e = run(&c, &t, &d, 100);
        v[pfc] = d.victim;
        eng_destroy(e);
        topo_destroy(t);
    }
    double alone = (double)BYTES * 8 / 100e9 * PS_PER_S;
    print_message("victim: %.2f us without pfc, %.2f us with (its link alone %.2f us)\n",
                  (double)v[0] / PS_PER_US, (double)v[1] / PS_PER_US, alone / PS_PER_US);
    /* without pfc it shares nothing that queues: within 5% of its link's
     * time (plus a few us of latency and window) */
    assert_true((double)v[0] < 1.05 * alone + 10 * PS_PER_US);
    /* with pfc the paused uplinks hold it back */
    assert_true((double)v[1] > 2 * (double)v[0]);
}

/* XOFF above any queue: no pause, and the pausable ports' times are the
 * fast path's. */
static void test_no_pause_same_times(void **state)
{
    (void)state;
    simtime_t end[2], victim[2];
    for (int pfc = 0; pfc < 2; pfc++) {
        struct cfg c = pfc_cfg(pfc);
        c.tr.sw.pfc_xoff_bytes = 1000000000000;
        c.tr.sw.pfc_xon_bytes = 1;
        struct topo *t;
        struct done d;
        struct eng *e = run(&c, &t, &d, 100);
        end[pfc] = eng_now(e);
        victim[pfc] = d.victim;
        if (pfc)
            for (uint32_t p = 0; p < t->nports; p++)
                assert_int_equal(pkt_pfc_pause_ps(pkt_eng_ofc(e), p), 0);
        eng_destroy(e);
        topo_destroy(t);
    }
    assert_true(end[0] == end[1]);
    assert_true(victim[0] == victim[1]);
}

/* Closed form: N hosts under one switch send long flows at line rate C
 * (a window far above the BDP: never the limit) to one more host there.
 * The switch's output FIFO serves the N ingresses equally, so each sender
 * averages C/N until it is done; its NIC sends at C whenever it is not
 * paused, and also finishes the packet in service when a PAUSE arrives, so
 * over its flow's time T it is paused T (1 - 1/N) plus that packet's
 * serialization once per pause. All N finish together at N x bytes / C. */
static void test_pause_fraction(void **state)
{
    (void)state;
    const int n = 4;
    struct cfg c = pfc_cfg(1);
    c.topo.leaves = 2;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = n + 1;
    c.topo.fabric_gbps = 100;
    c.tr.window_bytes = 16 << 20;
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct done d;
    memset(&d, 0, sizeof d);
    struct eng_hooks h = {&d, on_done};
    struct eng *e = eng_create(t, &c.tr, 1, &h);
    uint64_t bytes = 4u << 20;
    for (int j = 0; j < n; j++)
        eng_add_msg(e, (uint32_t)j, (uint32_t)n, bytes, 0, (uint64_t)j);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    double ideal = (double)n * bytes * 8 / 100e9 * PS_PER_S;
    assert_true((double)d.last >= ideal && (double)d.last < 1.005 * ideal);
    simtime_t ser = ser_ps(4096, t->ports[t->host_up[0]].bps);
    for (int j = 0; j < n; j++) {
        const struct pkt_eng *pe = pkt_eng_ofc(e);
        double T = (double)d.end[j], P = (double)pkt_pfc_pause_ps(pe, t->host_up[j]);
        double np = (double)pkt_pfc_pauses(pe, t->host_up[j]);
        print_message("sender %d: done at %.2f us, paused %.4f of it (1 - 1/N = %.4f, + %.0f "
                      "pauses' packets %.4f)\n",
                      j, T / PS_PER_US, P / T, 1 - 1.0 / n, np, np * (double)ser / T);
        /* below: the flow's last round trip, when it has nothing left to
         * send, is neither paused nor sending (3 us of slack) */
        assert_true(P >= T * (1 - 1.0 / n) - 3 * PS_PER_US);
        assert_true(P <= T * (1 - 1.0 / n) + np * (double)ser);
        assert_true(np > 10);
    }
    eng_destroy(e);
    topo_destroy(t);
}

/* A port paused with no RESUME to come (a PAUSE pushed by hand: what a
 * cycle of pauses would leave) is named by the end-of-run check, before
 * the bytes it holds back. */
static void test_deadlock_reported(void **state)
{
    (void)state;
    struct cfg c = pfc_cfg(1);
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct done d;
    memset(&d, 0, sizeof d);
    struct eng_hooks h = {&d, on_done};
    struct eng *e = eng_create(t, &c.tr, 1, &h);
    eng_add_msg(e, 0, 1, 65536, 10 * PS_PER_NS, 0);
    pkt_push(pkt_eng_of(e), 0, EV_PAUSE, t->host_up[0]);
    eng_run(e);
    char why[512], want[512];
    assert_int_not_equal(eng_check(e, why, sizeof why), 0);
    snprintf(want, sizeof want,
             "invariant: PFC deadlock: 1 port paused when no event was left (the first: port %u, "
             "1 packet waiting)",
             t->host_up[0]);
    assert_string_equal(why, want);
    eng_destroy(e);
    topo_destroy(t);
}

/* Same inputs, same times and pauses. */
static void test_repeatable(void **state)
{
    (void)state;
    simtime_t end[2], paused[2];
    for (int r = 0; r < 2; r++) {
        struct cfg c = pfc_cfg(1);
        c.tr.path = PATH_SPRAY;
        struct topo *t;
        struct done d;
        struct eng *e = run(&c, &t, &d, 50);
        end[r] = eng_now(e);
        paused[r] = 0;
        for (uint32_t p = 0; p < t->nports; p++)
            paused[r] += pkt_pfc_pause_ps(pkt_eng_ofc(e), p) * (p + 1);
        eng_destroy(e);
        topo_destroy(t);
    }
    assert_true(end[0] == end[1]);
    assert_true(paused[0] == paused[1] && paused[0] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incast_lossless),     cmocka_unit_test(test_congestion_spreading),
        cmocka_unit_test(test_no_pause_same_times), cmocka_unit_test(test_pause_fraction),
        cmocka_unit_test(test_deadlock_reported),   cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
