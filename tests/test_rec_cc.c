/* test_rec_cc.c - loss recovery (transport.recovery = goback_n | selective,
 * sim/pkt_loss.c) together with cc = nscc, cc = dcqcn and switch.pfc
 * (docs/transports.md, "Recovery with nscc, dcqcn and PFC"), on the packet
 * engine directly:
 *  - recovery is inert where nothing is lost or reordered: on one ECMP
 *    bottleneck with unbounded buffers, nscc, dcqcn and dcqcn over PFC end
 *    at the same picosecond with recovery none, goback_n and selective,
 *    resend nothing, and dcqcn sends the same CNPs;
 *  - nscc with trimming and selective repeat through ~1-BDP buffers, a
 *    16-to-1 incast: trims and retransmissions, no drop, every byte
 *    delivered once, within 10% of the ideal and sooner than with
 *    drop-tail; drop-tail recovered under
 *    both recoveries on an all-to-all, ecmp and spray;
 *  - nscc's loss rules: a NACK takes its packet's bytes off the window and
 *    pulls the average delay towards the base RTT, a timeout cuts the
 *    window by nscc_md_max;
 *  - dcqcn over PFC with spraying: go-back-N resends (reordering taken
 *    for loss), selective repeat does not, nothing is dropped, CNPs flow;
 *    under ecmp neither resends;
 *  - dcqcn with drop-tail and recovery still sends CNPs, its losses are
 *    recovered; two flows over PFC with go-back-N converge to equal
 *    shares (Jain's index >= 0.99);
 *  - on a rail with two planes (a NIC's packets over its plane ports, PXN's
 *    NVLink relays), drop-tail losses are recovered under both
 *    recoveries, cc = window and nscc, ecmp and spray;
 *  - runs repeat exactly. */
#include "fabric_spec.h"
#include "bneck.h"

#include "sim/eng.h"
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_nscc.h"
#include "topo/topo.h"

#define MAXS 200000
static struct bn_obs O;

/* n senders on leaf 0 to host n, the first host of leaf 1, the fabric n
 * host links fast (the receiver's link the bottleneck); nscc's marking at
 * 20%-80% of a BDP (htsim's NSCC setting, test_nscc.c), dcqcn's the
 * paper's (5 KB, 200 KB, 1%). */
static struct cfg bn_cfg(int n, double gbps, int cc, int recovery)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = n;
    c.topo.host_gbps = gbps;
    c.topo.fabric_gbps = gbps * n;
    c.tr.cc = cc;
    c.tr.recovery = recovery;
    if (cc == CC_NSCC) {
        struct topo *t;
        struct err er;
        assert_int_equal(topo_build(&c.topo, &t, &er), 0);
        uint64_t bdp = eng_default_window(t, (uint32_t)c.tr.mtu, (uint32_t)c.tr.ack_bytes);
        topo_destroy(t);
        c.tr.sw.ecn_kmin_bytes = (int64_t)(bdp / 5);
        c.tr.sw.ecn_kmax_bytes = (int64_t)(bdp * 4 / 5);
    } else {
        c.tr.sw.ecn_kmin_bytes = 5120;
        c.tr.sw.ecn_kmax_bytes = 204800;
        c.tr.sw.ecn_pmax = 0.01;
    }
    return c;
}

/* The engine's byte count: sent = delivered + duplicates + dropped, and
 * delivered = what the messages carry. */
static void conserved(const struct eng *e, uint64_t total)
{
    const struct eng_stats *st = eng_stats(e);
    assert_int_equal(st->data_bytes_delivered, total);
    assert_int_equal(st->data_bytes_sent,
                     st->data_bytes_delivered + st->dup_bytes + st->drop_bytes);
    assert_int_equal(st->data_bytes_sent - st->retx_bytes, total);
}

static uint64_t port_sum(const struct eng *e, const struct topo *t, int trims)
{
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    uint64_t s = 0;
    for (uint32_t p = 0; p < t->nports; p++)
        s += trims ? (pe->trims ? pe->trims[p] : 0) : eng_port(e, p)->drops;
    return s;
}

/* Nothing lost, nothing reordered: recovery changes no time. (Under dcqcn
 * without transport.window_bytes, selective repeat's bitmaps bound the
 * bytes a flow has outstanding: test_dcqcn_bitmap_bound.) */
static void test_inert_without_loss(void **state)
{
    (void)state;
    const char *name[3] = {"nscc", "dcqcn", "dcqcn+pfc"};
    for (int k = 0; k < 3; k++) {
        simtime_t first[3], last[3];
        uint64_t cnps[3];
        for (int r = REC_NONE; r <= REC_SELECTIVE; r++) {
            struct cfg c = bn_cfg(8, 100, k ? CC_DCQCN : CC_NSCC, r);
            c.tr.sw.pfc = k == 2;
            /* dcqcn has no window of its own; selective repeat's bitmaps
             * would be one (IRN's BDP flow control): a NIC's cap on the
             * bytes outstanding, below the bitmaps' reach, leaves none */
            if (k) c.tr.window_bytes = 131072;
            struct topo *t;
            struct eng *e = bn_run(&c, 8, 4u << 20, NULL, 0, MAXS, &O, &t);
            conserved(e, (uint64_t)8 << 22);
            assert_int_equal(eng_stats(e)->retx_bytes, 0);
            first[r] = O.first_done;
            last[r] = O.last_done;
            cnps[r] = pkt_dcqcn_cnps(pkt_eng_ofc(e));
            eng_destroy(e);
            topo_destroy(t);
        }
        print_message("%s 8-to-1, unbounded, ecmp: first %.3f us, last %.3f us under none, "
                      "goback_n, selective; %llu CNPs\n",
                      name[k], (double)first[0] / PS_PER_US, (double)last[0] / PS_PER_US,
                      (unsigned long long)cnps[0]);
        for (int r = 1; r < 3; r++) {
            assert_int_equal(first[r], first[0]);
            assert_int_equal(last[r], last[0]);
            assert_int_equal(cnps[r], cnps[0]);
        }
        if (k) assert_true(cnps[0] > 0);
    }
}

/* dcqcn without a window: go-back-N changes no time, selective repeat
 * keeps each flow's outstanding bytes within its bitmaps (rec_pkts
 * packets), which holds the incast's queue lower. */
static void test_dcqcn_bitmap_bound(void **state)
{
    (void)state;
    uint64_t peak[3];
    simtime_t last[3];
    uint32_t bits = 0;
    for (int r = REC_NONE; r <= REC_SELECTIVE; r++) {
        struct cfg c = bn_cfg(8, 100, CC_DCQCN, r);
        struct topo *t;
        struct eng *e = bn_run(&c, 8, 4u << 20, NULL, 0, MAXS, &O, &t);
        conserved(e, (uint64_t)8 << 22);
        peak[r] = eng_port(e, O.port)->max_queue_bytes;
        last[r] = O.last_done;
        if (r == REC_SELECTIVE) bits = pkt_eng_ofc(e)->rec_pkts;
        eng_destroy(e);
        topo_destroy(t);
    }
    print_message("dcqcn 8-to-1, no window: peak queue %llu / %llu / %llu bytes, last %.3f / "
                  "%.3f / %.3f us (none, goback_n, selective: %u-packet bitmaps)\n",
                  (unsigned long long)peak[0], (unsigned long long)peak[1],
                  (unsigned long long)peak[2], (double)last[0] / PS_PER_US,
                  (double)last[1] / PS_PER_US, (double)last[2] / PS_PER_US, bits);
    assert_int_equal(last[REC_GOBACK_N], last[REC_NONE]);
    assert_int_equal(peak[REC_GOBACK_N], peak[REC_NONE]);
    /* 8 flows of at most rec_pkts - 1 packets each, one in service */
    assert_true(peak[REC_SELECTIVE] <= (uint64_t)8 * (bits - 1) * 4096 + 4096);
    assert_true(peak[REC_SELECTIVE] < peak[REC_NONE]);
}

/* UEC-like: nscc, trimming, selective repeat, buffers of about one BDP,
 * a 16-to-1 incast. */
static void test_nscc_trim_selective_incast(void **state)
{
    (void)state;
    const int n = 16;
    const uint64_t bytes = 2u << 20;
    simtime_t end[2];
    for (int trim = 1; trim >= 0; trim--) {
        struct cfg c = bn_cfg(n, 100, CC_NSCC, REC_SELECTIVE);
        struct topo *t;
        struct err er;
        assert_int_equal(topo_build(&c.topo, &t, &er), 0);
        uint64_t bdp = eng_default_window(t, (uint32_t)c.tr.mtu, (uint32_t)c.tr.ack_bytes);
        simtime_t rtt = eng_base_rtt(t, (uint32_t)c.tr.mtu, (uint32_t)c.tr.ack_bytes, NULL);
        topo_destroy(t);
        c.tr.sw.buffer_bytes = (int64_t)bdp;
        c.tr.sw.trim = trim;
        struct eng *e = bn_run(&c, n, bytes, NULL, 0, MAXS, &O, &t);
        const struct eng_stats *st = eng_stats(e);
        conserved(e, (uint64_t)n * bytes);
        /* the ideal: the receiver's link carries every byte, plus one RTT */
        double ideal = (double)ser_ps((uint64_t)n * bytes, 100e9) + (double)rtt;
        uint64_t trims = port_sum(e, t, 1), drops = port_sum(e, t, 0);
        print_message("nscc + %s + selective, %d-to-1, buffer %llu bytes (1 BDP): %llu trims, "
                      "%llu drops, %llu retx bytes, %llu nacks, %llu timeouts, last %.1f us, "
                      "x%.3f the ideal %.1f us\n",
                      trim ? "trim" : "drop-tail", n, (unsigned long long)bdp,
                      (unsigned long long)trims, (unsigned long long)drops,
                      (unsigned long long)st->retx_bytes, (unsigned long long)st->nacks,
                      (unsigned long long)st->timeouts, (double)O.last_done / PS_PER_US,
                      (double)O.last_done / ideal, ideal / PS_PER_US);
        if (trim) {
            assert_true(trims > 0);
            assert_int_equal(drops, 0);
            assert_int_equal(st->drop_bytes, trims * 4096);
            assert_true(st->retx_bytes >= st->drop_bytes);
            assert_true(st->nacks >= trims);
            assert_true((double)O.last_done <= 1.10 * ideal);
        } else {
            assert_true(drops > 0);
        }
        end[trim] = O.last_done;
        eng_destroy(e);
        topo_destroy(t);
    }
    assert_true(end[1] < end[0]); /* trimming recovers sooner than drop-tail */
}

/* 4 leaves x 4 spines x 4 hosts at 100 Gb/s (bench/a2a16.ini) */
static struct cfg a2a_cfg(int cc, int recovery, int path)
{
    struct cfg c = bn_cfg(4, 100, cc, recovery);
    c.topo.leaves = c.topo.spines = c.topo.hosts_per_leaf = 4;
    c.topo.fabric_gbps = 100;
    c.tr.path = path;
    return c;
}

static struct eng *a2a(const struct cfg *c, uint64_t bytes, struct topo **t, simtime_t *last)
{
    struct err er;
    assert_int_equal(topo_build(&c->topo, t, &er), 0);
    O.first_done = O.last_done = 0;
    struct eng_hooks h = {&O, bn_done};
    struct eng *e = eng_create(*t, &c->tr, 1, &h);
    uint32_t n = (*t)->hosts, m = 0;
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = 0; b < n; b++)
            if (a != b) eng_add_msg(e, a, b, bytes, 0, m++);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    conserved(e, (uint64_t)m * bytes);
    *last = O.last_done;
    return e;
}

/* nscc over drop-tail buffers: every loss recovered, both recoveries,
 * both paths. */
static void test_nscc_droptail_a2a(void **state)
{
    (void)state;
    for (int r = REC_GOBACK_N; r <= REC_SELECTIVE; r++)
        for (int path = PATH_ECMP; path <= PATH_SPRAY; path++) {
            struct cfg c = a2a_cfg(CC_NSCC, r, path);
            c.tr.sw.buffer_bytes = 32768;
            struct topo *t;
            simtime_t last;
            struct eng *e = a2a(&c, 64 << 10, &t, &last);
            const struct eng_stats *st = eng_stats(e);
            uint64_t d = port_sum(e, t, 0);
            print_message("nscc, recovery %d, path %d, 32 KiB buffers: %llu drops, %llu retx "
                          "bytes, %llu timeouts, %llu nacks, end %.1f us\n",
                          r, path, (unsigned long long)d, (unsigned long long)st->retx_bytes,
                          (unsigned long long)st->timeouts, (unsigned long long)st->nacks,
                          (double)last / PS_PER_US);
            assert_true(d > 0);
            assert_int_equal(st->drop_bytes, d * 4096);
            assert_true(st->retx_bytes >= st->drop_bytes);
            eng_destroy(e);
            topo_destroy(t);
        }
}

/* nscc's loss rules on one flow's state. */
static void test_nscc_loss_rules(void **state)
{
    (void)state;
    struct cfg c = bn_cfg(1, 100, CC_NSCC, REC_SELECTIVE);
    c.tr.sw.buffer_bytes = 1 << 20;
    c.tr.sw.trim = 1;
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct eng_hooks h = {&O, bn_done};
    struct eng *eb = eng_create(t, &c.tr, 1, &h);
    eng_add_msg(eb, 0, 1, 1 << 20, 1000 * PS_PER_NS, 0); /* its state exists, nothing sent */
    struct pkt_eng *e = pkt_eng_of(eb);
    struct flow *f = &e->flows[0];
    double w0 = e->cc[0].cwnd, base = e->nscc->nack_delay, g = e->nscc->ewma;
    assert_true(w0 > 8 * 4096);
    e->cc[0].ns.avg = 0;
    pkt_nscc_on_nack(e, f, 4096);
    assert_true(e->cc[0].cwnd == w0 - 4096);
    assert_true(e->cc[0].ns.avg == g * base);
    pkt_nscc_on_timeout(e, f);
    assert_true(e->cc[0].cwnd == (w0 - 4096) * (1 - c.tr.nscc.md_max));
    for (int i = 0; i < 100; i++) /* never below one packet */
        pkt_nscc_on_nack(e, f, 4096);
    assert_true(e->cc[0].cwnd == 4096);
    /* trimming: the target is 0.75 of the base RTT, as htsim's */
    assert_true(e->nscc->target == 0.75 * base);
    eng_destroy(eb);
    topo_destroy(t);
}

/* RoCE-like: dcqcn over PFC, unbounded buffers: spraying's reordering
 * costs go-back-N resends and selective repeat none; nothing drops. */
static void test_dcqcn_pfc_reordering(void **state)
{
    (void)state;
    uint64_t retx[2][3];
    simtime_t last[2][3];
    for (int path = PATH_ECMP; path <= PATH_SPRAY; path++)
        for (int r = REC_NONE; r <= REC_SELECTIVE; r++) {
            struct cfg c = a2a_cfg(CC_DCQCN, r, path);
            c.tr.sw.pfc = 1;
            struct topo *t;
            struct eng *e = a2a(&c, 256 << 10, &t, &last[path][r]);
            const struct eng_stats *st = eng_stats(e);
            retx[path][r] = st->retx_bytes;
            assert_int_equal(st->drop_bytes, 0);
            assert_int_equal(port_sum(e, t, 0), 0);
            assert_true(pkt_dcqcn_cnps(pkt_eng_ofc(e)) > 0);
            if (r) assert_int_equal(st->timeouts, 0);
            eng_destroy(e);
            topo_destroy(t);
        }
    print_message("dcqcn + pfc, a2a16 256 KiB: ecmp %.1f / %.1f / %.1f us; spray none %.1f us, "
                  "goback_n %.1f us (%llu retx bytes), selective %.1f us\n",
                  (double)last[0][0] / PS_PER_US, (double)last[0][1] / PS_PER_US,
                  (double)last[0][2] / PS_PER_US, (double)last[1][0] / PS_PER_US,
                  (double)last[1][1] / PS_PER_US, (unsigned long long)retx[1][1],
                  (double)last[1][2] / PS_PER_US);
    assert_int_equal(retx[0][REC_GOBACK_N], 0);
    assert_int_equal(retx[0][REC_SELECTIVE], 0);
    assert_int_equal(last[0][REC_GOBACK_N], last[0][REC_NONE]);
    assert_int_equal(last[0][REC_SELECTIVE], last[0][REC_NONE]);
    assert_true(retx[1][REC_GOBACK_N] > 0);
    assert_int_equal(retx[1][REC_SELECTIVE], 0);
    assert_int_equal(last[1][REC_SELECTIVE], last[1][REC_NONE]);
}

/* dcqcn over drop-tail: CNPs from recovery's receiver, losses recovered. */
static void test_dcqcn_droptail_cnps(void **state)
{
    (void)state;
    for (int r = REC_GOBACK_N; r <= REC_SELECTIVE; r++) {
        struct cfg c = bn_cfg(8, 100, CC_DCQCN, r);
        c.tr.sw.buffer_bytes = 256 << 10;
        c.tr.rto_ns = 50000;
        struct topo *t;
        struct eng *e = bn_run(&c, 8, 8u << 20, NULL, 0, MAXS, &O, &t);
        const struct eng_stats *st = eng_stats(e);
        conserved(e, (uint64_t)8 * (8u << 20));
        uint64_t cnps = pkt_dcqcn_cnps(pkt_eng_ofc(e)), d = port_sum(e, t, 0);
        print_message("dcqcn + drop-tail 256 KiB + recovery %d, 8-to-1 8 MiB: %llu CNPs, %llu "
                      "drops, %llu retx bytes, %llu timeouts, last %.1f us\n",
                      r, (unsigned long long)cnps, (unsigned long long)d,
                      (unsigned long long)st->retx_bytes, (unsigned long long)st->timeouts,
                      (double)O.last_done / PS_PER_US);
        assert_true(cnps > 0);
        assert_true(d > 0);
        assert_true(st->retx_bytes >= st->drop_bytes);
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* RoCE: dcqcn, PFC, go-back-N; a second flow joins a long one on one
 * bottleneck (40 Gb/s, as test_dcqcn.c) and they converge. */
static void test_dcqcn_pfc_gbn_converge(void **state)
{
    (void)state;
    struct cfg c = bn_cfg(2, 40, CC_DCQCN, REC_GOBACK_N);
    c.topo.hosts_per_leaf = 3; /* all on leaf 0: its port into host 2 is the bottleneck */
    c.topo.fabric_gbps = 40;
    c.tr.sw.pfc = 1;
    struct topo *t;
    simtime_t starts[2] = {0, 2000 * PS_PER_US};
    struct eng *e = bn_run(&c, 2, 400u << 20, starts, 10 * PS_PER_US, MAXS, &O, &t);
    conserved(e, 800u << 20);
    simtime_t a = starts[1], b = O.first_done, lo = a + (b - a) / 2;
    uint32_t il = 0, ib = 0;
    for (uint32_t i = 0; i < O.ns; i++) {
        if (O.t[i] <= lo) il = i;
        if (O.t[i] <= b) ib = i;
    }
    double x0, x1, jain = bn_jain2(&O, il, ib, &x0, &x1);
    uint64_t cnps = pkt_dcqcn_cnps(pkt_eng_ofc(e));
    print_message("dcqcn + pfc + goback_n, two flows: %.0f and %.0f bytes over [%.0f, %.0f] us, "
                  "Jain %.5f, %llu CNPs, %llu retx bytes\n",
                  x0, x1, (double)O.t[il] / PS_PER_US, (double)O.t[ib] / PS_PER_US, jain,
                  (unsigned long long)cnps, (unsigned long long)eng_stats(e)->retx_bytes);
    assert_true(jain >= 0.99);
    assert_true(cnps > 0);
    eng_destroy(e);
    topo_destroy(t);
}

/* A rail of 2 groups x 2 servers x 4 GPUs, 2 spines, 2 planes, PXN
 * (test_rail_planes.c's): an all-to-all through 16 KiB switch buffers. */
static void test_planes_recovered(void **state)
{
    (void)state;
    for (int cc = 0; cc < 2; cc++)
        for (int r = REC_GOBACK_N; r <= REC_SELECTIVE; r++)
            for (int path = PATH_ECMP; path <= PATH_SPRAY; path++) {
                struct cfg c;
                rail_spec(&c, 2, 2, 4, 2, 2, TOPO_XR_PXN);
                c.tr.path = path;
                c.tr.recovery = r;
                c.tr.rto_ns = 50000;
                c.tr.sw.buffer_bytes = 16384;
                if (cc) {
                    c.tr.cc = CC_NSCC;
                    c.tr.sw.ecn_kmin_bytes = 8192;
                    c.tr.sw.ecn_kmax_bytes = 12288;
                }
                struct topo *t;
                simtime_t last;
                struct eng *e = a2a(&c, 64 << 10, &t, &last);
                assert_int_equal(t->planes, 2);
                const struct eng_stats *st = eng_stats(e);
                uint64_t d = port_sum(e, t, 0);
                print_message("rail, 2 planes, %s, recovery %d, path %d: %llu drops, %llu retx "
                              "bytes, %llu timeouts, end %.1f us\n",
                              cc ? "nscc" : "window", r, path, (unsigned long long)d,
                              (unsigned long long)st->retx_bytes, (unsigned long long)st->timeouts,
                              (double)last / PS_PER_US);
                assert_true(d > 0);
                assert_true(st->retx_bytes >= st->drop_bytes);
                eng_destroy(e);
                topo_destroy(t);
            }
}

/* The same seed, the same run: UEC-like and RoCE-like, sprayed. */
static void test_repeatable(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        struct eng_stats a[2];
        simtime_t last[2];
        uint64_t cnps[2];
        for (int i = 0; i < 2; i++) {
            struct cfg c =
                a2a_cfg(k ? CC_DCQCN : CC_NSCC, k ? REC_GOBACK_N : REC_SELECTIVE, PATH_SPRAY);
            if (k) {
                c.tr.sw.pfc = 1;
            } else {
                c.tr.sw.buffer_bytes = 32768;
                c.tr.sw.trim = 1;
            }
            struct topo *t;
            struct eng *e = a2a(&c, 128 << 10, &t, &last[i]);
            a[i] = *eng_stats(e);
            cnps[i] = pkt_dcqcn_cnps(pkt_eng_ofc(e));
            eng_destroy(e);
            topo_destroy(t);
        }
        assert_true(a[0].retx_bytes > 0);
        assert_int_equal(last[0], last[1]);
        assert_int_equal(cnps[0], cnps[1]);
        assert_memory_equal(&a[0], &a[1], sizeof a[0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inert_without_loss),
        cmocka_unit_test(test_dcqcn_bitmap_bound),
        cmocka_unit_test(test_nscc_trim_selective_incast),
        cmocka_unit_test(test_nscc_droptail_a2a),
        cmocka_unit_test(test_nscc_loss_rules),
        cmocka_unit_test(test_dcqcn_pfc_reordering),
        cmocka_unit_test(test_dcqcn_droptail_cnps),
        cmocka_unit_test(test_dcqcn_pfc_gbn_converge),
        cmocka_unit_test(test_planes_recovered),
        cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
