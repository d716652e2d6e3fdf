/* test_trim_place.c - where a trimmed header joins a port's queue
 * (pkt_commit_first, sim/pkt_port.c): its binary search over the ring puts
 * the header where a scan from the ring's tail does (after the last packet
 * at index 1 or beyond whose serialization has begun, or at 1), with the
 * same arrival time and the same departures for the others, and the ring's
 * order and the port's busy time stay those of the tail scan. Checked on one
 * switch port over a long random mix of data packets of every size (a
 * full mtu, a header's, shorter than a header: a header put before one of
 * those must leave with it, and the starts no longer rise along the ring),
 * headers, and time passing (by up to 1.5 packets, or a fraction of a
 * header's time) with the ring's head leaving. The engine's record of a
 * broken order (e->trim_mixed) is needed: with its tail scan taken out, the
 * binary search puts some headers elsewhere and this test fails. */
#include "testutil.h"

#include "base/rng.h"
#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

#define REF_MAX 512

/* The port's queue as the tail scan keeps it: its ring from the head, and
 * when its last byte leaves. */
struct ref {
    struct pkt k[REF_MAX];
    uint32_t n;
    simtime_t busy;
};

static void eng_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                     const struct res_flow_loss *loss)
{
    (void)ctx, (void)e, (void)tag, (void)start, (void)end, (void)loss;
}

static simtime_t ser_of(const struct pkt_eng *e, uint32_t q, const struct pkt *k)
{
    const struct port_rt *p = &e->ports[q];
    return k->wire == e->mtu         ? p->ser_mtu
           : k->wire == e->ack_bytes ? p->ser_ack
                                     : ser_ps(k->wire, e->base.t->ports[q].bps);
}

/* The tail scan (the engine's code before the binary search). */
static void ref_first(const struct pkt_eng *e, uint32_t q, struct ref *r, struct pkt k)
{
    simtime_t lat = e->ports[q].lat_ps, ser = ser_of(e, q, &k);
    uint32_t j = r->n;
    while (j > 1) {
        const struct pkt *o = &r->k[j - 1];
        if (o->t - lat - ser_of(e, q, o) <= e->now) break;
        j--;
    }
    simtime_t start = e->now;
    if (j > 0 && r->k[j - 1].t - lat > start) start = r->k[j - 1].t - lat;
    k.t = start + ser + lat;
    if (j < r->n && r->k[j].t < k.t) k.t = r->k[j].t;
    r->busy = (r->busy > e->now ? r->busy : e->now) + ser;
    memmove(&r->k[j + 1], &r->k[j], (r->n - j) * sizeof k);
    r->k[j] = k;
    r->n++;
}

static void same(const struct pkt_eng *e, uint32_t q, const struct ref *r)
{
    const struct port_rt *p = &e->ports[q];
    assert_int_equal(p->n, r->n);
    assert_int_equal(p->busy_until, r->busy);
    for (uint32_t i = 0; i < r->n; i++) {
        const struct pkt *a = &p->ring[(p->head + i) & (p->cap - 1)];
        assert_int_equal(a->flow, r->k[i].flow);
        assert_int_equal(a->t, r->k[i].t);
        assert_int_equal(a->wire, r->k[i].wire);
    }
}

static void test_place(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2, c.topo.spines = 1, c.topo.hosts_per_leaf = 2;
    c.tr.recovery = REC_SELECTIVE;
    c.tr.sw.trim = 1; /* (buffers unbounded: the test places the headers itself) */
    struct err er;
    struct topo *t;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct eng_hooks h = {NULL, eng_done};
    struct eng *eb = eng_create(t, &c.tr, 1, &h);
    struct pkt_eng *e = pkt_eng_of(eb);
    uint32_t q = t->host_down[0]; /* a leaf's port into host 0 */
    static struct ref r;
    memset(&r, 0, sizeof r);
    const uint16_t sizes[] = {(uint16_t)e->mtu, 3, (uint16_t)e->ack_bytes, 1500, 40};
    uint64_t s = 12345;
    uint32_t id = 0, headers = 0, mixed = 0, middle = 0;
    simtime_t step = e->ports[q].ser_mtu;
    for (int it = 0; it < 200000; it++) {
        s += 0x9e3779b97f4a7c15ull;
        uint64_t u = rng_mix64(s);
        unsigned op = (unsigned)(u % 100);
        struct pkt k = {0};
        k.flow = ++id;
        k.src = 1, k.dst = 0;
        if (op < 45 && r.n < REF_MAX - 8) { /* a data packet joins at the tail */
            k.wire = k.payload = sizes[(u >> 8) % 5];
            pkt_commit(e, q, &k);
            const struct port_rt *p = &e->ports[q];
            r.k[r.n++] = p->ring[(p->head + p->n - 1) & (p->cap - 1)];
            r.busy = p->busy_until;
        } else if (op < 75 && r.n < REF_MAX - 8) { /* a trimmed header */
            k.wire = (uint16_t)e->ack_bytes;
            k.payload = 4096;
            k.flags = PKT_TRIM;
            ref_first(e, q, &r, k);
            pkt_commit_first(e, q, &k);
            headers++;
            if (e->trim_mixed[q]) mixed++;
            const struct port_rt *p = &e->ports[q];
            if (p->ring[(p->head + p->n - 1) & (p->cap - 1)].flow != id) middle++;
            same(e, q, &r);
        } else { /* time passes; what reached the far end leaves the ring */
            /* by up to 1.5 packets' time, or by a fraction of a header's */
            e->now += (u >> 16) % ((u >> 40) & 1 ? step + step / 2 : e->ports[q].ser_ack);
            struct port_rt *p = &e->ports[q];
            while (p->n && p->ring[p->head].t <= e->now) {
                p->head = (p->head + 1) & (p->cap - 1);
                p->n--;
                memmove(&r.k[0], &r.k[1], (r.n - 1) * sizeof r.k[0]);
                r.n--;
            }
        }
    }
    print_message("%u headers, %u ahead of a waiting packet, %u with the order broken\n", headers,
                  middle, mixed);
    assert_true(middle > headers / 4);
    assert_true(mixed > 100);
    assert_true(mixed < headers);
    e->ports[q].n = 0; /* (the engine's events for it are never run) */
    eng_destroy(eb);
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
