/* test_nscc_planes.c - transport.cc = nscc on rail planes (topology.planes
 * > 1; sim/pkt_nscc.c): a flow's windows take its NIC's rate (nic_bps, the
 * sum of its plane ports), not one plane port's, on a rail of 2 groups x 2
 * servers x 4 GPUs, 1 spine a plane, 2 planes, 100 Gb/s NICs (50 a plane
 * port), 200 Gb/s rail-spine links, 700 ns, ECN at 1/5 and 4/5 of the
 * default window:
 *  - the largest window is nscc_max_bdp x the flow's unloaded round trip x
 *    100 Gb/s (plus ack_every - 1 packets), twice a plane port's BDP;
 *  - a lone 8 MB flow over both planes (spray_rr: alternating planes, the
 *    NIC's whole rate) ends within 1% of the ideal bound, its window never
 *    cut, nothing marked: nscc does not hold it to one plane's rate;
 *  - the same flow hashed onto one plane (ecmp) ends within 1% of that
 *    plane port's time (bytes at 50 Gb/s): the window at the NIC's rate
 *    queues inside the NIC and costs no throughput;
 *  - an all-to-all of 256 KiB a pair under spray: every byte delivered
 *    once, never below the ideal bound, within 25% of it and within 10% of
 *    cc = window's run (measured 1.170 x the bound, 1.064 x window's: the
 *    flows' windows, 1.5 BDP at the NIC's rate, queue at the plane ports
 *    and ECN marks cut them). */
#include "fabric_spec.h"

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

static struct cfg np_cfg(int path)
{
    struct cfg c;
    rail_spec(&c, 2, 2, 4, 1, 2, TOPO_XR_PXN);
    c.topo.host_gbps = 100;
    c.topo.fabric_gbps = 200;
    c.topo.link_latency_ns = 700;
    c.tr.path = path;
    c.tr.cc = CC_NSCC;
    struct topo *t;
    struct err er;
    if (topo_build(&c.topo, &t, &er)) fail_msg("%s", er.msg);
    uint64_t bdp = eng_default_window(t, (uint32_t)c.tr.mtu, (uint32_t)c.tr.ack_bytes);
    topo_destroy(t);
    c.tr.sw.ecn_kmin_bytes = (int64_t)(bdp / 5);
    c.tr.sw.ecn_kmax_bytes = (int64_t)(bdp * 4 / 5);
    return c;
}

static simtime_t last_end;
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)ctx, (void)e, (void)tag, (void)start, (void)loss;
    if (end > last_end) last_end = end;
}

struct res {
    simtime_t end, bound;
    double cwnd, maxwnd; /* flow 0's at the end */
    uint64_t marks;
};

static void run(const struct cfg *c, const struct topo_demand *d, size_t n, struct res *r)
{
    struct topo *t;
    struct err er;
    if (topo_build(&c->topo, &t, &er)) fail_msg("%s", er.msg);
    struct eng_hooks h = {NULL, on_done};
    struct eng *e = eng_create(t, &c->tr, 1, &h);
    last_end = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        eng_add_msg(e, d[i].src, d[i].dst, d[i].bytes, 0, i);
        total += d[i].bytes;
    }
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(eng_stats(e)->data_bytes_delivered, total);
    assert_int_equal(eng_stats(e)->data_bytes_sent, total);
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    r->end = last_end;
    r->cwnd = pe->cc ? pe->cc[0].cwnd : 0;
    r->maxwnd = pe->cc ? pe->cc[0].ns.maxwnd : 0;
    r->marks = 0;
    for (uint32_t p = 0; p < t->nports; p++)
        r->marks += eng_port(e, p)->ecn_marks;
    r->bound = topo_ideal_ps(t, d, n, (uint32_t)c->tr.mtu, 1);
    /* the largest window: max_bdp x base RTT x the NIC's rate */
    simtime_t base = topo_path_latency(t, d[0].src, d[0].dst, (uint32_t)c->tr.mtu) +
                     topo_path_latency(t, d[0].dst, d[0].src, (uint32_t)c->tr.ack_bytes);
    double w = c->tr.nscc.max_bdp * (double)base * 100e9 / (8.0 * PS_PER_S) +
               (double)(c->tr.ack_every - 1) * (double)c->tr.mtu;
    assert_int_equal(t->nic_bps, 100000000000ULL);
    assert_int_equal(t->ports[t->host_up[0]].bps, 50000000000ULL);
    if (c->tr.cc == CC_NSCC && (r->maxwnd < w * (1 - 1e-9) || r->maxwnd > w * (1 + 1e-9)))
        fail_msg("maxwnd %.1f bytes, want %.1f (the NIC's rate)", r->maxwnd, w);
    eng_destroy(e);
    topo_destroy(t);
}

static void test_lone_flow_both_planes(void **state)
{
    (void)state;
    struct cfg c = np_cfg(PATH_SPRAY_RR);
    struct topo_demand d = {0, 8, 8000000};
    struct res r;
    run(&c, &d, 1, &r);
    print_message("nscc, spray_rr on 2 planes: %.3f us, bound %.3f us (x%.4f), cwnd %.0f of %.0f, "
                  "%llu marks\n",
                  (double)r.end / 1e6, (double)r.bound / 1e6, (double)r.end / (double)r.bound,
                  r.cwnd, r.maxwnd, (unsigned long long)r.marks);
    assert_true(r.end >= r.bound);
    assert_true((double)r.end < 1.01 * (double)r.bound);
    assert_true(r.cwnd == r.maxwnd);
    assert_int_equal(r.marks, 0);
}

static void test_lone_flow_one_plane(void **state)
{
    (void)state;
    struct cfg c = np_cfg(PATH_ECMP);
    struct topo_demand d = {0, 8, 8000000};
    struct res r;
    run(&c, &d, 1, &r);
    double plane = (double)ser_ps(d.bytes, 50000000000ULL);
    print_message("nscc, ecmp on one plane: %.3f us, the plane port's %.3f us (x%.4f), cwnd %.0f "
                  "of %.0f, %llu marks\n",
                  (double)r.end / 1e6, plane / 1e6, (double)r.end / plane, r.cwnd, r.maxwnd,
                  (unsigned long long)r.marks);
    assert_true((double)r.end > plane);
    assert_true((double)r.end < 1.01 * plane);
}

static void test_all_to_all(void **state)
{
    (void)state;
    struct cfg c = np_cfg(PATH_SPRAY);
    uint32_t H = 16;
    struct topo_demand *d = xcalloc((size_t)H * H, sizeof *d);
    size_t n = 0;
    d[n++] = (struct topo_demand){0, 8, 262144}; /* first: flow 0 leaves by the NIC */
    for (uint32_t a = 0; a < H; a++)
        for (uint32_t b = 0; b < H; b++)
            if (a != b && !(a == 0 && b == 8)) d[n++] = (struct topo_demand){a, b, 262144};
    struct res r, w;
    run(&c, d, n, &r);
    c.tr.cc = CC_WINDOW;
    run(&c, d, n, &w);
    print_message("nscc, spray all-to-all on 2 planes: %.3f us, bound %.3f us (x%.4f), %llu "
                  "marks; cc = window %.3f us (x%.4f)\n",
                  (double)r.end / 1e6, (double)r.bound / 1e6, (double)r.end / (double)r.bound,
                  (unsigned long long)r.marks, (double)w.end / 1e6,
                  (double)w.end / (double)r.bound);
    assert_true(r.end >= r.bound);
    assert_true((double)r.end < 1.25 * (double)r.bound);
    assert_true((double)r.end < 1.10 * (double)w.end);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_flow_both_planes),
        cmocka_unit_test(test_lone_flow_one_plane),
        cmocka_unit_test(test_all_to_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
