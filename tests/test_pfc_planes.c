/* test_pfc_planes.c - switch.pfc on a rail with planes (topology.planes =
 * 2; sim/pkt_pfc.c, sim/pkt_send.c nic_send_planes, docs/transports.md
 * "PFC on rail planes"): each plane port of a NIC is a port of its own,
 * which its rail switch's PAUSE stops as any other; the NIC keeps handing
 * its other planes their packets, and what is bound to a paused plane
 * waits in that port's queue (no re-steering). On a rail of 2 groups x 2
 * servers x 4 GPUs, 1 spine a plane, 100 Gb/s NICs (50 a plane port),
 * 200 Gb/s rail-spine links, 700 ns, a finite buffer of XOFF (32 KiB) +
 * headroom (64 KiB):
 *  - an incast of 12 GPUs (every GPU not on the receiver's server) to h15,
 *    sprayed over both planes, under both cross_rail options: lossless (no
 *    drop anywhere, each ingress within XOFF + headroom and above XOFF),
 *    every byte delivered once, the receiver's two plane links carrying the
 *    incast's bytes alone and busy (within 2% of their serialization), the
 *    pauses reaching the senders' NIC ports on both planes (eng_port's
 *    pause_ps, the links table's pause_ns), none on a port into a GPU;
 *  - planes paused apart: the incast on plane 1 only (explicit paths) and
 *    a flow from one of its senders to an idle GPU on plane 0: the senders'
 *    plane-1 ports are paused, their plane-0 ports never, no incast byte
 *    leaves on plane 0 (it waits), and the victim runs at its plane port's
 *    rate as without the incast (within 2%);
 *  - with XOFF above any queue, the same times as without PFC;
 *  - runs repeat exactly (end, events, every port's pause time). */
#include "testutil.h"
#include "fabric_spec.h"

#include "sim/eng.h"
#include "sim/ethereal.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

#define RECV  15
#define VDST  12 /* the victim's destination: rail 0 of the receiver's server */
#define BYTES (1u << 20)

static struct cfg rail_cfg(int xr, int pfc)
{
    struct cfg c;
    planes2_spec(&c, xr);
    c.tr.path = PATH_SPRAY;
    c.tr.sw.pfc = pfc;
    c.tr.sw.pfc_xoff_bytes = 32768;
    c.tr.sw.pfc_xon_bytes = 16384;
    /* a PAUSE's round trip on a 200 Gb/s rail-spine link, 2 x 700 ns at
     * 25 B/ns, a frame and three packets: 47.4 KB */
    c.tr.sw.pfc_headroom_bytes = 65536;
    c.tr.sw.buffer_bytes = pfc ? 98304 : 0;
    return c;
}

struct done {
    simtime_t last, victim;
    uint32_t n;
};

static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)e, (void)loss;
    struct done *d = ctx;
    d->n++;
    if (tag == 1000) d->victim = end - start;
    if (end > d->last) d->last = end;
}

/* The incast's senders: every GPU off the receiver's server. */
static int is_sender(const struct topo *t, uint32_t h)
{
    return h != RECV && !topo_same_server(t, h, RECV);
}

/* The first path number of plane k. */
static uint32_t plane_path(const struct topo *t, uint32_t k)
{
    uint32_t p = 0;
    while (topo_plane(t, p) != k)
        p++;
    return p;
}

/* Runs the incast (on plane `only` alone, by explicit paths, when only >=
 * 0; sprayed otherwise) and, when victim >= 0, a flow of BYTES from GPU
 * `victim` to VDST on plane 0; the engine's invariants and every byte. */
static struct eng *run(const struct cfg *c, struct topo **t, struct done *d, int only, int victim,
                       uint32_t *nmsgs)
{
    struct err er;
    if (topo_build(&c->topo, t, &er)) fail_msg("%s", er.msg);
    memset(d, 0, sizeof *d);
    struct eng_hooks h = {d, on_done};
    struct eng *e = eng_create(*t, &c->tr, 1, &h);
    uint32_t n = 0;
    uint64_t total = 0;
    for (uint32_t s = 0; s < (*t)->hosts; s++) {
        if (!is_sender(*t, s)) continue;
        if (only >= 0) {
            struct eth_sub sub = {BYTES, plane_path(*t, (uint32_t)only)};
            eng_add_msg_paths(e, s, RECV, 0, n, &sub, 1);
        } else {
            eng_add_msg(e, s, RECV, BYTES, 0, n);
        }
        n++;
        total += BYTES;
    }
    if (victim >= 0) {
        struct eth_sub sub = {BYTES, plane_path(*t, 0)};
        eng_add_msg_paths(e, (uint32_t)victim, VDST, 0, 1000, &sub, 1);
        n++;
        total += BYTES;
    }
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(d->n, n);
    const struct eng_stats *st = eng_stats(e);
    assert_int_equal(st->data_bytes_delivered, total);
    assert_int_equal(st->data_bytes_sent, total); /* nothing resent: nothing lost */
    assert_int_equal(st->drop_bytes, 0);
    if (nmsgs) *nmsgs = n;
    return e;
}

static void test_incast_lossless(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c = rail_cfg(xr, 1);
        struct topo *t;
        struct done d;
        uint32_t n;
        struct eng *e = run(&c, &t, &d, -1, -1, &n);
        const struct pkt_eng *pe = pkt_eng_ofc(e);
        uint64_t xoff = (uint64_t)c.tr.sw.pfc_xoff_bytes,
                 head = (uint64_t)c.tr.sw.pfc_headroom_bytes;
        uint64_t peak = 0, drops = 0;
        for (uint32_t p = 0; p < t->nports; p++) {
            drops += eng_port(e, p)->drops;
            uint64_t m = pkt_pfc_ingress_max(pe, p);
            assert_true(m <= xoff + head);
            if (m > peak) peak = m;
            assert_true(pkt_pfc_pause_ps(pe, p) <= eng_now(e));
            /* the links table's pause_ns is eng_port's pause_ps */
            assert_int_equal(eng_port(e, p)->pause_ps, pkt_pfc_pause_ps(pe, p));
        }
        assert_int_equal(drops, 0);
        assert_true(peak > xoff);
        /* the receiver's plane links carry the incast (and nothing else) */
        uint64_t into = 0;
        for (uint32_t k = 0; k < 2; k++)
            into += eng_port(e, t->host_down[(size_t)k * t->hosts + RECV])->bytes;
        assert_int_equal(into, (uint64_t)n * BYTES);
        double ideal = (double)n * BYTES * 8 / 100e9 * PS_PER_S;
        print_message("xr %d: %u senders, %.3f us (the receiver's links' %.3f us), peak ingress "
                      "%llu bytes\n",
                      xr, n, (double)d.last / PS_PER_US, ideal / PS_PER_US,
                      (unsigned long long)peak);
        assert_true((double)d.last >= ideal && (double)d.last < 1.02 * ideal);
        /* pauses: the senders' NIC ports of both planes (under PXN the
         * relays', the GPUs of the senders' servers on the receiver's rail),
         * never a port into a GPU */
        simtime_t plane[2] = {0, 0}, into_gpus = 0;
        uint32_t paused_nics = 0;
        for (uint32_t h = 0; h < t->hosts; h++)
            for (uint32_t k = 0; k < 2; k++) {
                simtime_t pz = pkt_pfc_pause_ps(pe, t->host_up[(size_t)k * t->hosts + h]);
                plane[k] += pz;
                paused_nics += pz > 0;
                into_gpus += pkt_pfc_pause_ps(pe, t->host_down[(size_t)k * t->hosts + h]);
            }
        print_message("xr %d: NIC ports paused %.1f us on plane 0, %.1f us on plane 1 (%u ports)\n",
                      xr, (double)plane[0] / PS_PER_US, (double)plane[1] / PS_PER_US, paused_nics);
        assert_true(plane[0] > 0 && plane[1] > 0);
        assert_int_equal(into_gpus, 0);
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* The incast on plane 1 only, a victim from sender h0 to h12 on plane 0
 * (same rail: no relay; h12 sends nothing else there): plane 1's NIC
 * ports paused, plane 0's never; the victim unhindered. */
static void test_planes_paused_apart(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        struct cfg c = rail_cfg(xr, 1);
        c.tr.path = PATH_ETHEREAL; /* (explicit paths: eng_add_msg_paths) */
        struct topo *t;
        struct done d, alone;
        struct err er;
        assert_int_equal(topo_build(&c.topo, &t, &er), 0);
        memset(&alone, 0, sizeof alone);
        struct eng_hooks h = {&alone, on_done};
        struct eng *e = eng_create(t, &c.tr, 1, &h);
        struct eth_sub sub = {BYTES, plane_path(t, 0)};
        eng_add_msg_paths(e, 0, VDST, 0, 1000, &sub, 1); /* the victim alone */
        eng_run(e);
        eng_destroy(e);
        topo_destroy(t);
        e = run(&c, &t, &d, 1, 0, NULL);
        const struct pkt_eng *pe = pkt_eng_ofc(e);
        simtime_t p0 = 0, p1 = 0;
        uint64_t incast_on_0 = 0;
        uint8_t seen[64] = {0};
        for (uint32_t h = 0; h < t->hosts; h++) {
            uint32_t nic = topo_pxn(t, h, RECV) ? topo_pxn_relay(t, h, RECV) : h;
            if (!is_sender(t, h) || seen[nic]++) continue; /* (a relay's ports once) */
            p0 += pkt_pfc_pause_ps(pe, t->host_up[nic]);
            p1 += pkt_pfc_pause_ps(pe, t->host_up[t->hosts + nic]);
            if (nic != 0)
                incast_on_0 += eng_port(e, t->host_up[nic])->bytes; /* (h0: the victim's) */
        }
        print_message("xr %d: senders' NIC ports paused %.1f us on plane 1, %.1f on plane 0; "
                      "victim %.3f us (alone %.3f us)\n",
                      xr, (double)p1 / PS_PER_US, (double)p0 / PS_PER_US,
                      (double)d.victim / PS_PER_US, (double)alone.victim / PS_PER_US);
        assert_true(p1 > 0);
        assert_int_equal(p0, 0);
        /* no incast byte re-steered onto plane 0 (acks of the victim's
         * destination do not leave by these ports) */
        assert_int_equal(incast_on_0, 0);
        assert_int_equal(eng_port(e, t->host_up[0])->bytes, BYTES);
        assert_true((double)d.victim <= 1.02 * (double)alone.victim);
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* XOFF above any queue: no pause, the times of the fast path. */
static void test_no_pause_same_times(void **state)
{
    (void)state;
    for (int xr = 0; xr < 2; xr++) {
        simtime_t end[2];
        uint64_t ev[2];
        for (int pfc = 0; pfc < 2; pfc++) {
            struct cfg c = rail_cfg(xr, pfc);
            c.tr.sw.pfc_xoff_bytes = 1000000000000;
            c.tr.sw.pfc_xon_bytes = 1;
            c.tr.sw.buffer_bytes = 0;
            struct topo *t;
            struct done d;
            struct eng *e = run(&c, &t, &d, -1, -1, NULL);
            end[pfc] = d.last;
            ev[pfc] = eng_stats(e)->events;
            if (pfc)
                for (uint32_t p = 0; p < t->nports; p++)
                    assert_int_equal(pkt_pfc_pause_ps(pkt_eng_ofc(e), p), 0);
            eng_destroy(e);
            topo_destroy(t);
        }
        print_message("xr %d: %.3f us without pfc, %.3f us with (%llu, %llu events)\n", xr,
                      (double)end[0] / PS_PER_US, (double)end[1] / PS_PER_US,
                      (unsigned long long)ev[0], (unsigned long long)ev[1]);
        assert_true(end[0] == end[1]);
    }
}

static void test_repeatable(void **state)
{
    (void)state;
    simtime_t end[2], paused[2];
    uint64_t ev[2];
    for (int r = 0; r < 2; r++) {
        struct cfg c = rail_cfg(TOPO_XR_PXN, 1);
        struct topo *t;
        struct done d;
        struct eng *e = run(&c, &t, &d, -1, -1, NULL);
        end[r] = eng_now(e);
        ev[r] = eng_stats(e)->events;
        paused[r] = 0;
        for (uint32_t p = 0; p < t->nports; p++)
            paused[r] += pkt_pfc_pause_ps(pkt_eng_ofc(e), p) * (p + 1);
        eng_destroy(e);
        topo_destroy(t);
    }
    assert_true(end[0] == end[1]);
    assert_int_equal(ev[0], ev[1]);
    assert_true(paused[0] == paused[1] && paused[0] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incast_lossless),
        cmocka_unit_test(test_planes_paused_apart),
        cmocka_unit_test(test_no_pause_same_times),
        cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
