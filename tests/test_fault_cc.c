/* test_fault_cc.c - links that fail during a run (faults.fail,
 * sim/pkt_fault.c; docs/fabrics.md, "Links that fail during a run") with
 * the mechanisms that were refused with them before: switch.pfc,
 * cc = dcqcn, and rail planes. On the packet engine directly:
 *  - RoCE (dcqcn, PFC, go-back-N, ECMP) on a 2:1 leaf-spine, a leaf uplink
 *    failing mid-run while the hosts behind it are paused: every byte
 *    delivered once, the packets lost counted at the failed link's ports
 *    only, recovered by retransmission, no port left paused and no
 *    ingress left charged (the engine's PFC invariants), and the run
 *    repeats exactly; a small XOFF makes the lost packets' ingress charges
 *    hold the hosts paused when the link fails, which only their release
 *    resumes;
 *  - dcqcn without PFC (ECN marks, CNPs), a lone ECMP flow whose path
 *    fails: it completes by recovery under go-back-N and selective, CNPs
 *    sent, later than without the failure;
 *  - rail planes: a rail switch's uplink on plane 0 failing during an
 *    all-to-all, every path mode: every byte delivered, drops only at the
 *    failed link, nothing sent on it after the failure, one path count per
 *    plane for every table (a packet keeps its plane across the reroute),
 *    and ethereal with the failure after the traffic's end equal to the
 *    run without faults.fail. */
#include "fabric_spec.h"
#include "loss_sums.h"

#include "sim/eng.h"
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

struct result {
    struct sums s;
    struct eng_stats st;
    uint64_t drops, other_drops; /* at the failing link's ports, elsewhere */
    uint64_t pauses;             /* PAUSEs obeyed, every port */
    uint64_t cnps;
};

enum traffic { ONE_FLOW, PERMUTATION, ALLTOALL };

/* Runs the traffic on c's fabric: one flow h0 -> last host, every host of
 * leaf l0 to its partner on l1 and back, or an all-to-all; the engine's
 * invariants, every message done, every byte delivered once. */
static void run(struct cfg *c, enum traffic tr, uint64_t bytes, struct result *r)
{
    struct err er;
    struct topo *t;
    if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
    memset(r, 0, sizeof *r);
    struct eng_hooks h = {&r->s, on_done};
    struct eng *e = eng_create(t, &c->tr, 1, &h);
    eng_set_msg_loss(e, on_counters, &r->s);
    uint32_t H = t->hosts, m = 0;
    if (tr == ONE_FLOW) {
        eng_add_msg(e, 0, H - 1, bytes, 0, m++);
    } else if (tr == PERMUTATION) {
        uint32_t hpl = t->hosts_per_leaf;
        for (uint32_t a = 0; a < hpl; a++) {
            eng_add_msg(e, a, hpl + a, bytes, 0, m++);
            eng_add_msg(e, hpl + a, a, bytes, 0, m++);
        }
    } else {
        for (uint32_t a = 0; a < H; a++)
            for (uint32_t b = 0; b < H; b++)
                if (a != b) eng_add_msg(e, a, b, bytes, 0, m++);
    }
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(r->s.done, m);
    r->st = *eng_stats(e);
    assert_int_equal(r->st.data_bytes_delivered, (uint64_t)m * bytes);
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    for (uint32_t p = 0; p < t->nports; p++) {
        int failing = 0;
        for (uint32_t i = 0; i < t->ntfaults; i++)
            for (uint32_t j = 0; j < t->tfaults[i].nports; j++)
                failing |= t->tfaults[i].ports[j] == p;
        *(failing ? &r->drops : &r->other_drops) += eng_port(e, p)->drops;
        r->pauses += pkt_pfc_pauses(pe, p);
    }
    r->cnps = pkt_dcqcn_cnps(pe);
    eng_destroy(e);
    topo_destroy(t);
}

/* 2 leaves x 4 spines x hpl hosts at 100 Gb/s, 1 us links */
static struct cfg leaf_spine(uint32_t hpl, int recovery, int path)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 4;
    c.topo.hosts_per_leaf = hpl;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.path = path;
    c.tr.recovery = recovery;
    c.tr.rto_ns = 100000;
    return c;
}

/* RoCE: cc = dcqcn, switch.pfc, ECN at the DCQCN paper's switch settings. */
static void roce(struct cfg *c, int64_t xoff)
{
    c->tr.cc = CC_DCQCN;
    c->tr.sw.pfc = 1;
    c->tr.sw.pfc_xoff_bytes = xoff;
    c->tr.sw.pfc_xon_bytes = xoff / 2;
    c->tr.sw.ecn_kmin_bytes = 5120;
    c->tr.sw.ecn_kmax_bytes = 204800;
    c->tr.sw.ecn_pmax = 0.01;
}

static void set_fail(struct cfg *c, const char *fail, int64_t delay_ns)
{
    snprintf(c->topo.faults.fail, sizeof c->topo.faults.fail, "%s", fail);
    c->topo.faults.reroute_delay_ns = delay_ns;
}

/* A 2:1 permutation (8 hosts a leaf, 4 uplinks) of 1 MiB each way under
 * RoCE with ECMP and go-back-N; l0-s1 fails at 40 us, halfway or less, while
 * l0's uplinks are queued and its hosts paused; reroute at once and 20 us
 * later. */
static void test_roce_pfc(void **state)
{
    (void)state;
    for (int64_t xoff = 8192; xoff <= 65536; xoff *= 8) {
        struct cfg c = leaf_spine(8, REC_GOBACK_N, PATH_ECMP);
        roce(&c, xoff);
        struct result r0, r, again;
        run(&c, PERMUTATION, 1 << 20, &r0);
        assert_int_equal(r0.drops + r0.other_drops, 0);
        assert_true(r0.pauses > 0); /* the hosts of the 2:1 leaves are paused */
        for (int64_t delay = 0; delay <= 20000; delay += 20000) {
            set_fail(&c, "l0-s1@40us", delay);
            run(&c, PERMUTATION, 1 << 20, &r);
            print_message(
                "xoff %lld delay %lld: %.3f us (no failure %.3f), %llu lost, %llu resent, "
                "%llu timeouts, %llu NACKs, %llu pauses\n",
                (long long)xoff, (long long)delay, r.st.now / 1e6, r0.st.now / 1e6,
                (unsigned long long)r.drops, (unsigned long long)r.s.retx,
                (unsigned long long)r.s.timeouts, (unsigned long long)r.s.nacks,
                (unsigned long long)r.pauses);
            assert_true(r.drops > 0);
            assert_int_equal(r.other_drops, 0); /* PFC: lossless but for the failure */
            assert_true(r.s.retx > 0);
            assert_true(r.s.timeouts + r.s.nacks > 0);
            assert_int_equal(r.st.retx_bytes, r.s.retx);
            assert_true(r.pauses > 0);
            assert_true(r.st.now > r0.st.now);
            /* sent = delivered + duplicates + dropped (pkt_check) and delivered once */
            assert_true(r.st.data_bytes_sent > r.st.data_bytes_delivered);
            run(&c, PERMUTATION, 1 << 20, &again);
            assert_memory_equal(&again.st, &r.st, sizeof r.st);
            assert_int_equal(again.drops, r.drops);
        }
    }
}

/* The same RoCE permutation under selective repeat and sprayed: every
 * byte delivered, drops only at the failed link, pauses released. */
static void test_roce_spray_selective(void **state)
{
    (void)state;
    struct cfg c = leaf_spine(8, REC_SELECTIVE, PATH_SPRAY);
    roce(&c, 16384);
    set_fail(&c, "l0-s1@40us", 0);
    struct result r;
    run(&c, PERMUTATION, 1 << 20, &r);
    assert_true(r.drops > 0);
    assert_int_equal(r.other_drops, 0);
    assert_true(r.s.retx > 0);
    assert_true(r.pauses > 0);
}

/* cc = dcqcn without PFC (unbounded buffers, ECN): one 4 MiB ECMP flow,
 * its leaf uplink failing at 100 us, recovers under both recoveries; a
 * second flow from the same leaf makes the queue that marks (CNPs). */
static void test_dcqcn_flow(void **state)
{
    (void)state;
    for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
        struct cfg c = leaf_spine(2, rec, PATH_ECMP);
        c.tr.cc = CC_DCQCN;
        c.tr.rto_ns = 20000;
        c.tr.sw.ecn_kmin_bytes = 5120;
        c.tr.sw.ecn_kmax_bytes = 204800;
        c.tr.sw.ecn_pmax = 0.01;
        struct result r0, r;
        run(&c, ALLTOALL, 1 << 20, &r0);
        assert_true(r0.cnps > 0);
        /* every uplink of l0 fails in turn at 100 us: whichever the flows
         * hashed to, some lose packets */
        uint64_t lost = 0;
        for (int s = 0; s < 4; s++) {
            char f[32];
            snprintf(f, sizeof f, "l0-s%d@20us", s);
            set_fail(&c, f, 0);
            run(&c, ALLTOALL, 1 << 20, &r);
            assert_int_equal(r.other_drops, 0);
            assert_true(r.cnps > 0);
            if (r.drops) {
                assert_true(r.s.retx > 0);
                assert_true(r.s.timeouts + r.s.nacks > 0);
                assert_true(r.st.now > r0.st.now);
            }
            lost += r.drops;
        }
        assert_true(lost > 0);
    }
}

/* A rail of 2 groups x 2 servers x 4 GPUs, 2 spines a plane, 2 planes,
 * 100 Gb/s NICs (50 a plane), 200 Gb/s rail-spine links, PXN. */
static struct cfg rail(int path, int rec)
{
    struct cfg c;
    rail_spec(&c, 2, 2, 4, 2, 2, TOPO_XR_PXN);
    c.topo.host_gbps = 100;
    c.topo.fabric_gbps = 200;
    c.tr.path = path;
    c.tr.recovery = rec;
    c.tr.rto_ns = 50000;
    return c;
}

static const int paths[] = {PATH_ECMP,     PATH_SPRAY,   PATH_SPRAY_RR, PATH_SPLIT,
                            PATH_ADAPTIVE, PATH_FLOWLET, PATH_ETHEREAL};

/* Plane 0's rail switch r0 loses its uplink to spine s0 at 10 us (of an
 * all-to-all of 64 KiB per pair, about 100 us): every mode delivers, the
 * losses are the link's, and the tables share one path count a plane. */
static void test_rail_planes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        for (int rec = REC_GOBACK_N; rec <= REC_SELECTIVE; rec++) {
            struct cfg c = rail(paths[i], rec);
            set_fail(&c, "r0-s0@10us", i % 2 ? 5000 : 0);
            struct topo *t;
            struct err er;
            if (topo_build(&c.topo, &t, &er)) fail_msg("%s", er.msg);
            assert_int_equal(t->ntfaults, 1);
            assert_int_equal(t->tfaults[0].plane_paths, t->plane_paths);
            assert_int_equal(t->tfaults[0].npaths, t->npaths);
            assert_int_equal(t->npaths, 2 * t->plane_paths);
            assert_int_equal(t->plane_paths % 2, 0); /* a multiple of the healthy 2 spines */
            topo_destroy(t);
            struct result r, again;
            run(&c, ALLTOALL, 65536, &r);
            assert_int_equal(r.other_drops, 0);
            if (r.drops) assert_true(r.s.retx > 0);
            run(&c, ALLTOALL, 65536, &again);
            assert_memory_equal(&again.st, &r.st, sizeof r.st);
        }
}

/* Ethereal assigns over the planes' live path count: a failure after the
 * end leaves the run as it is without faults.fail, to the picosecond. */
static void test_rail_ethereal_unchanged(void **state)
{
    (void)state;
    struct cfg c = rail(PATH_ETHEREAL, REC_SELECTIVE);
    struct result r0, r;
    run(&c, ALLTOALL, 65536, &r0);
    set_fail(&c, "r0-s0@10ms", 0);
    run(&c, ALLTOALL, 65536, &r);
    assert_int_equal(r.st.now, r0.st.now);
    assert_int_equal(r.st.events, r0.st.events);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roce_pfc),
        cmocka_unit_test(test_roce_spray_selective),
        cmocka_unit_test(test_dcqcn_flow),
        cmocka_unit_test(test_rail_planes),
        cmocka_unit_test(test_rail_ethereal_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
