/* test_ctrlq.c - switch.ctrl_priority, control packets' strict-priority
 * class (sim/pkt_ctrlq.c, docs/transports.md), on the packet engine:
 *  - closed form at one port (a switch port and a NIC port): behind a
 *    backlog of N data packets, an ack leaves after the packet in service
 *    and the control packets ahead of it (its queueing delay at most one
 *    MTU's serialization plus theirs), every data packet it overtakes one
 *    ack's serialization later, the link's busy time and bytes unchanged;
 *    with the key off it waits for the whole backlog (FIFO);
 *  - a trimmed header at a port after the one that trimmed it (committed as
 *    forwarding does) overtakes the data there with the key on, queues
 *    behind it with the key off;
 *  - a paused port (switch.pfc) still sends control packets with the key
 *    on, and holds them with it off; their FIFO there (order and times on
 *    the wire) ahead of the waiting data, against arrival order key off;
 *  - end to end: a flow whose acks cross a port an incast keeps full is
 *    slowed by the whole backlog per round trip with the key off and runs
 *    near its alone time with it on; bytes per port are the same either way
 *    under ecmp (same packets, same paths), every byte is delivered once;
 *  - trimming with the key on recovers every loss, drops nothing;
 *  - runs repeat exactly. */
#include "testutil.h"

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

/* 2 leaves x 1 spine x 8 hosts, 100 Gb/s, 1 us links */
static struct cfg small_cfg(int on)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = 8;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.sw.ctrl_priority = on;
    return c;
}

static void no_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)ctx, (void)e, (void)tag, (void)start, (void)end, (void)loss;
}

static struct pkt mk(const struct pkt_eng *e, uint8_t flags)
{
    struct pkt k;
    memset(&k, 0, sizeof k);
    k.wire = (uint16_t)((flags & (PKT_ACK | PKT_TRIM)) ? e->ack_bytes : e->mtu);
    k.payload = k.wire;
    k.path = PKT_DIRECT;
    k.flags = flags;
    return k;
}

#define NDATA 100

/* Port q gets NDATA data packets at time 0, then at now = 10.5 MTU
 * serializations two control packets of kind `flags` (the 11th data packet
 * is in service). */
static void port_case(int on, int nic, uint8_t flags)
{
    struct cfg c = small_cfg(on);
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct eng_hooks h = {NULL, no_done};
    struct eng *eb = eng_create(t, &c.tr, 1, &h);
    struct pkt_eng *e = pkt_eng_of(eb);
    uint32_t q = nic ? t->host_up[0] : t->host_down[0];
    struct port_rt *p = &e->ports[q];
    simtime_t sm = p->ser_mtu, sa = p->ser_ack, lat = p->lat_ps;
    e->now = 0;
    for (int i = 0; i < NDATA; i++) {
        struct pkt k = mk(e, 0);
        pkt_commit(e, q, &k);
    }
    assert_int_equal(p->busy_until, NDATA * sm);
    e->now = 10 * sm + sm / 2;
    for (int i = 0; i < 2; i++) {
        struct pkt k = mk(e, flags);
        pkt_commit(e, q, &k);
    }
    /* sent by now (10.5 MTU): the first 10 data packets, read through the
     * lazy shift (pkt_ctrlq_sent) as without it */
    assert_int_equal(eng_port_sent(eb, q), 10 * (uint64_t)e->mtu);
    /* the ring alone, every time exact (with the key on the lazy shift keeps
     * the overtaken data's times, and the control packets, apart) */
    pkt_ctrlq_flatten(e, q);
    assert_int_equal(p->n, NDATA + 2);
    simtime_t dep[NDATA + 2];
    uint32_t ctrl_at[2], nc = 0;
    for (uint32_t j = 0; j < p->n; j++) {
        const struct pkt *k = &p->ring[(p->head + j) & (p->cap - 1)];
        dep[j] = k->t - lat;
        if (j) assert_true(dep[j] > dep[j - 1]); /* departure order */
        if (k->flags & (PKT_ACK | PKT_TRIM)) ctrl_at[nc++] = j;
    }
    assert_int_equal(nc, 2);
    /* the link's time and bytes do not depend on the order */
    assert_int_equal(p->busy_until, NDATA * sm + 2 * sa);
    assert_int_equal(p->busy_ps, NDATA * sm + 2 * sa);
    assert_int_equal(p->bytes, (uint64_t)NDATA * e->mtu + 2 * e->ack_bytes);
    if (on) {
        /* behind the 11th data packet (in service) and the first control one */
        assert_int_equal(ctrl_at[0], 11);
        assert_int_equal(ctrl_at[1], 12);
        assert_int_equal(dep[11], 11 * sm + sa);
        assert_int_equal(dep[12], 11 * sm + 2 * sa);
        /* queueing delay: the rest of the packet in service (sm / 2), plus
         * the earlier control packet for the second */
        assert_true(dep[11] - sa - e->now <= sm);
        assert_true(dep[12] - sa - e->now <= sm + sa);
        /* every data packet it overtook leaves two acks' serialization later */
        for (uint32_t j = 13; j < p->n; j++)
            assert_int_equal(dep[j], (simtime_t)(j - 1) * sm + 2 * sa);
        for (uint32_t j = 0; j < 11; j++)
            assert_int_equal(dep[j], (simtime_t)(j + 1) * sm);
    } else {
        /* FIFO: behind the whole backlog */
        assert_int_equal(ctrl_at[0], NDATA);
        assert_int_equal(dep[NDATA], NDATA * sm + sa);
        assert_true(dep[NDATA] - sa - e->now > 80 * sm);
        for (uint32_t j = 0; j < NDATA; j++)
            assert_int_equal(dep[j], (simtime_t)(j + 1) * sm);
    }
    /* a data packet now joins behind everything */
    struct pkt d = mk(e, 0);
    pkt_commit(e, q, &d);
    assert_int_equal(p->ring[(p->head + p->n - 1) & (p->cap - 1)].t - lat,
                     NDATA * sm + 2 * sa + sm);
    eng_destroy(eb);
    topo_destroy(t);
}

/* The far end's order through the lazy shift: nd data packets at 0, two
 * acks while data packet d1 is in service, 5 more while d2 is, and 3 data
 * packets after them; the wire's head arrives one by
 * one (pkt_ctrlq_pre_arrive, then the pop pkt_arrive makes): every packet
 * at its closed-form time, in departure order, the event time pushed for
 * the one behind (the new head's t) exact. */
static void pops_case(int nd, int d1, int d2)
{
    struct cfg c = small_cfg(1);
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct eng_hooks h = {NULL, no_done};
    struct eng *eb = eng_create(t, &c.tr, 1, &h);
    struct pkt_eng *e = pkt_eng_of(eb);
    uint32_t q = t->host_down[0];
    struct port_rt *p = &e->ports[q];
    simtime_t sm = p->ser_mtu, sa = p->ser_ack, lat = p->lat_ps;
    e->now = 0;
    for (int i = 0; i < nd; i++) {
        struct pkt k = mk(e, 0);
        pkt_commit(e, q, &k);
    }
    e->now = (simtime_t)(d1 - 1) * sm + sm / 2; /* data packet d1 in service */
    for (int i = 0; i < 2; i++) {
        struct pkt k = mk(e, PKT_ACK);
        pkt_commit(e, q, &k);
    }
    e->now = (simtime_t)(d2 - 1) * sm + 2 * sa + sm / 2; /* data packet d2 in service */
    for (int i = 0; i < 5; i++) {
        struct pkt k = mk(e, PKT_ACK);
        pkt_commit(e, q, &k);
    }
    for (int i = 0; i < 3; i++) {
        struct pkt k = mk(e, 0);
        pkt_commit(e, q, &k);
    }
    /* expected departures: data 1..11, 2 acks, data 12..40, 5 acks, the rest */
    simtime_t want[NDATA + 10];
    int isack[NDATA + 10], n = 0;
    simtime_t at = 0;
    for (int d = 1; d <= nd + 3; d++) {
        at += sm;
        want[n] = at, isack[n++] = 0;
        int acks = d == d1 ? 2 : d == d2 ? 5 : 0;
        for (int a = 0; a < acks; a++) {
            at += sa;
            want[n] = at, isack[n++] = 1;
        }
    }
    assert_int_equal(n, nd + 10);
    assert_int_equal(p->busy_until, at);
    for (int i = 0; i < n; i++) {
        const struct pkt *hd = &p->ring[p->head];
        assert_int_equal(hd->t - lat, want[i]);
        assert_int_equal((hd->flags & PKT_ACK) != 0, isack[i]);
        e->now = hd->t;
        pkt_ctrlq_pre_arrive(e, q);
        p->head = (p->head + 1) & (p->cap - 1); /* pkt_arrive_at's pop */
        p->n--;
        if (i + 1 < n) {
            assert_true(p->n > 0);
            assert_int_equal(p->ring[p->head].t - lat, want[i + 1]); /* its event's time */
        }
    }
    assert_int_equal(p->n, 0);
    eng_destroy(eb);
    topo_destroy(t);
}

/* a long queue (the acks wait in the control FIFO) and a short one (they
 * go into the ring, the few data behind them a slot down) */
static void test_pops_in_order(void **state)
{
    (void)state;
    pops_case(NDATA, 11, 40);
    pops_case(14, 11, 12);
}

static void test_ack_switch_port(void **state)
{
    (void)state;
    port_case(1, 0, PKT_ACK);
    port_case(0, 0, PKT_ACK);
}

static void test_ack_nic_port(void **state)
{
    (void)state;
    port_case(1, 1, PKT_ACK);
    port_case(0, 1, PKT_ACK);
}

/* A trimmed header (PKT_TRIM, a data packet's header on the wire) at a port
 * after the one that trimmed it, committed as forwarding does. */
static void test_trimmed_header_next_hop(void **state)
{
    (void)state;
    port_case(1, 0, PKT_TRIM);
    port_case(0, 0, PKT_TRIM);
}

/* switch.pfc: a paused port with data waiting starts a control packet with
 * the key on, not with it off. */
static void pfc_case(int on)
{
    struct cfg c = small_cfg(on);
    c.tr.sw.pfc = 1;
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct eng_hooks h = {NULL, no_done};
    struct eng *eb = eng_create(t, &c.tr, 1, &h);
    struct pkt_eng *e = pkt_eng_of(eb);
    uint32_t q = t->host_down[0];
    e->now = 0;
    struct pkt k = mk(e, 0);
    pkt_pfc_commit(e, q, &k, PKT_NONE, PKT_NONE); /* starts at once */
    pkt_pfc_event(e, EV_PAUSE, q);
    for (int i = 0; i < 3; i++) {
        k = mk(e, 0);
        pkt_pfc_commit(e, q, &k, PKT_NONE, PKT_NONE);
    }
    simtime_t sm = e->ports[q].ser_mtu, sa = e->ports[q].ser_ack;
    assert_int_equal(e->ports[q].busy_ps, sm);
    k = mk(e, PKT_ACK);
    pkt_pfc_commit(e, q, &k, PKT_NONE, PKT_NONE);
    e->now = sm;
    pkt_pfc_event(e, EV_TX, q); /* the first data packet has left */
    /* on: the ack starts though the port is paused; off: nothing starts */
    assert_int_equal(e->ports[q].busy_ps, on ? sm + sa : sm);
    eng_destroy(eb);
    topo_destroy(t);
}

static void test_pfc_paused_port(void **state)
{
    (void)state;
    pfc_case(1);
    pfc_case(0);
}

/* switch.pfc with the key on: control packets keep their FIFO order among
 * themselves, go ahead of the data waiting at a paused port and start while
 * it is paused, also when one joins an idle paused port; the data follow on
 * RESUME. With the key off everything leaves in arrival order once resumed.
 * Checked on the wire's ring (the order and each packet's arrival time). */
static void pfc_fifo_case(int on)
{
    struct cfg c = small_cfg(on);
    c.tr.sw.pfc = 1;
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct eng_hooks h = {NULL, no_done};
    struct eng *eb = eng_create(t, &c.tr, 1, &h);
    struct pkt_eng *e = pkt_eng_of(eb);
    uint32_t q = t->host_down[0];
    struct port_rt *p = &e->ports[q];
    simtime_t sm = p->ser_mtu, sa = p->ser_ack, lat = p->lat_ps;
    e->now = 0;
    struct pkt k;
    for (uint32_t i = 0; i < 4; i++) { /* data 0 (starts), PAUSE, data 1..3 */
        k = mk(e, 0);
        k.flow = i;
        pkt_pfc_commit(e, q, &k, PKT_NONE, PKT_NONE);
        if (i == 0) pkt_pfc_event(e, EV_PAUSE, q);
    }
    for (uint32_t i = 10; i < 12; i++) { /* acks 10, 11 */
        k = mk(e, PKT_ACK);
        k.flow = i;
        pkt_pfc_commit(e, q, &k, PKT_NONE, PKT_NONE);
    }
    static const uint32_t order_on[7] = {0, 10, 11, 12, 1, 2, 3};
    static const uint32_t order_off[7] = {0, 1, 2, 3, 10, 11, 12};
    simtime_t dep[7];
    if (on) {
        simtime_t step[3] = {sm, sa, sa}; /* data 0, acks 10 and 11 leave; the port idles */
        for (int i = 0; i < 3; i++) {
            e->now += step[i];
            dep[i] = e->now;
            pkt_pfc_event(e, EV_TX, q);
        }
        assert_int_equal(p->busy_ps, sm + 2 * sa);
        k = mk(e, PKT_ACK); /* ack 12 at the idle paused port: it starts */
        k.flow = 12;
        pkt_pfc_commit(e, q, &k, PKT_NONE, PKT_NONE);
        e->now += sa;
        dep[3] = e->now;
        pkt_pfc_event(e, EV_TX, q);
        pkt_pfc_event(e, EV_RESUME, q);
        for (int i = 4; i < 7; i++) {
            e->now += sm;
            dep[i] = e->now;
            pkt_pfc_event(e, EV_TX, q);
        }
    } else {
        e->now = sm;
        dep[0] = e->now;
        pkt_pfc_event(e, EV_TX, q);
        k = mk(e, PKT_ACK); /* ack 12 waits with the rest */
        k.flow = 12;
        pkt_pfc_commit(e, q, &k, PKT_NONE, PKT_NONE);
        assert_int_equal(p->busy_ps, sm);
        pkt_pfc_event(e, EV_RESUME, q);
        for (int i = 1; i < 7; i++) {
            e->now += i < 4 ? sm : sa;
            dep[i] = e->now;
            pkt_pfc_event(e, EV_TX, q);
        }
    }
    assert_int_equal(p->busy_ps, 4 * sm + 3 * sa);
    assert_int_equal(p->n, 7);
    for (uint32_t i = 0; i < 7; i++) {
        const struct pkt *w = &p->ring[(p->head + i) & (p->cap - 1)];
        assert_int_equal(w->flow, on ? order_on[i] : order_off[i]);
        assert_int_equal(w->t, dep[i] + lat);
    }
    eng_destroy(eb);
    topo_destroy(t);
}

static void test_pfc_ctrl_fifo(void **state)
{
    (void)state;
    pfc_fifo_case(1);
    pfc_fifo_case(0);
}

struct probe {
    simtime_t end; /* the probe's (tag 99) delivery */
    simtime_t last;
};

static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)e, (void)start, (void)loss;
    struct probe *pr = ctx;
    if (tag == 99) pr->end = end;
    if (end > pr->last) pr->last = end;
}

#define PROBE_BYTES (1u << 20)
#define PROBE_SRC   0
#define PROBE_DST   8 /* on the other leaf */

/* The probe, 1 MiB from host 0 to host 8, alone or with an incast of
 * hosts 1..7 (host 0's leaf) into host 0, 4 MiB each: its acks cross
 * host 0's link, which the incast keeps full. */
static struct eng *probe_run(const struct cfg *c, int incast, struct topo **t, struct probe *pr)
{
    struct err er;
    assert_int_equal(topo_build(&c->topo, t, &er), 0);
    memset(pr, 0, sizeof *pr);
    struct eng_hooks h = {pr, on_done};
    struct eng *e = eng_create(*t, &c->tr, 1, &h);
    if (incast)
        for (uint32_t s = 1; s < 8; s++)
            eng_add_msg(e, s, PROBE_SRC, 4u << 20, 0, s);
    eng_add_msg(e, PROBE_SRC, PROBE_DST, PROBE_BYTES, 20 * PS_PER_US, 99);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(eng_stats(e)->data_bytes_delivered,
                     (uint64_t)PROBE_BYTES + (incast ? 7ull * (4u << 20) : 0));
    return e;
}

static void test_probe_end_to_end(void **state)
{
    (void)state;
    struct topo *t0, *t1, *t2;
    struct probe alone, on, off;
    struct cfg con = small_cfg(1), coff = small_cfg(0);
    struct eng *ea = probe_run(&con, 0, &t0, &alone);
    struct eng *e1 = probe_run(&con, 1, &t1, &on);
    struct eng *e2 = probe_run(&coff, 1, &t2, &off);
    simtime_t a = alone.end - 20 * PS_PER_US, n = on.end - 20 * PS_PER_US,
              f = off.end - 20 * PS_PER_US;
    print_message("probe: alone %.3f us, with the incast %.3f us (key on), %.3f us (off)\n",
                  (double)a / PS_PER_US, (double)n / PS_PER_US, (double)f / PS_PER_US);
    /* The window is one BDP of the longest path (base RTT rtt), so each
     * ack's delay d slows the probe to rtt / (rtt + d) of its rate. On: d
     * is at most an MTU at host 0's link plus the incast's acks the probe's
     * data wait for at host 0's NIC (a few): within 10% here; off: d is the
     * incast's backlog, several windows, and the probe takes > 2x. */
    assert_true(n <= a + a / 10);
    assert_true(f > 2 * a);
    /* the same packets on the same paths: every port carries the same bytes */
    for (uint32_t p = 0; p < t1->nports; p++)
        assert_int_equal(eng_port(e1, p)->bytes, eng_port(e2, p)->bytes);
    eng_destroy(ea);
    eng_destroy(e1);
    eng_destroy(e2);
    topo_destroy(t0);
    topo_destroy(t1);
    topo_destroy(t2);
}

/* bench/a2a16.ini's fabric, 1 MiB all-to-all, 16 KiB buffers, trimming,
 * selective repeat. */
static struct eng *trim_run(int on, struct topo **t, simtime_t *last)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = c.topo.spines = c.topo.hosts_per_leaf = 4;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.recovery = REC_SELECTIVE;
    c.tr.sw.buffer_bytes = 16384;
    c.tr.sw.trim = 1;
    c.tr.rto_ns = 20000;
    c.tr.sw.ctrl_priority = on;
    struct err er;
    assert_int_equal(topo_build(&c.topo, t, &er), 0);
    struct probe pr;
    memset(&pr, 0, sizeof pr);
    struct eng_hooks h = {&pr, on_done};
    struct eng *e = eng_create(*t, &c.tr, 1, &h);
    uint32_t m = 0;
    for (uint32_t a = 0; a < 16; a++)
        for (uint32_t b = 0; b < 16; b++)
            if (a != b) eng_add_msg(e, a, b, 1 << 20, 0, m++);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    *last = pr.last;
    return e;
}

static void test_trim_recovers(void **state)
{
    (void)state;
    struct topo *t0, *t1;
    simtime_t l0, l1;
    struct eng *e0 = trim_run(0, &t0, &l0);
    struct eng *e1 = trim_run(1, &t1, &l1);
    const struct eng_stats *s0 = eng_stats(e0), *s1 = eng_stats(e1);
    uint64_t tr0 = 0, tr1 = 0, dr1 = 0;
    for (uint32_t p = 0; p < t1->nports; p++) {
        tr0 += eng_port(e0, p)->trims;
        tr1 += eng_port(e1, p)->trims;
        dr1 += eng_port(e1, p)->drops;
    }
    print_message("trim: off %.1f us, %llu trims, %llu timeouts; on %.1f us, %llu trims, %llu "
                  "timeouts\n",
                  (double)l0 / PS_PER_US, (unsigned long long)tr0, (unsigned long long)s0->timeouts,
                  (double)l1 / PS_PER_US, (unsigned long long)tr1,
                  (unsigned long long)s1->timeouts);
    assert_true(tr1 > 0);
    assert_int_equal(dr1, 0);
    assert_int_equal(s1->data_bytes_delivered, (uint64_t)16 * 15 << 20);
    assert_int_equal(s1->data_bytes_sent,
                     s1->data_bytes_delivered + s1->dup_bytes + s1->drop_bytes);
    eng_destroy(e0);
    eng_destroy(e1);
    topo_destroy(t0);
    topo_destroy(t1);
}

static void test_repeatable(void **state)
{
    (void)state;
    struct topo *t0, *t1;
    simtime_t l0, l1;
    struct eng *e0 = trim_run(1, &t0, &l0);
    struct eng *e1 = trim_run(1, &t1, &l1);
    assert_int_equal(l0, l1);
    assert_int_equal(eng_stats(e0)->events, eng_stats(e1)->events);
    assert_int_equal(eng_stats(e0)->retx_bytes, eng_stats(e1)->retx_bytes);
    for (uint32_t p = 0; p < t0->nports; p++)
        assert_int_equal(eng_port(e0, p)->max_queue_bytes, eng_port(e1, p)->max_queue_bytes);
    eng_destroy(e0);
    eng_destroy(e1);
    topo_destroy(t0);
    topo_destroy(t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pops_in_order),    cmocka_unit_test(test_ack_switch_port),
        cmocka_unit_test(test_ack_nic_port),     cmocka_unit_test(test_trimmed_header_next_hop),
        cmocka_unit_test(test_pfc_paused_port),  cmocka_unit_test(test_pfc_ctrl_fifo),
        cmocka_unit_test(test_probe_end_to_end), cmocka_unit_test(test_trim_recovers),
        cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
