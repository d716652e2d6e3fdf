/* pkt_dcqcn.c - cc = dcqcn in the packet engine (pkt_dcqcn.h): the
 * reaction point's rate control, the notification point's CNPs, and the
 * pacing of each sender's flows at their rates.
 *
 * Receiver (NP): a data packet marked CE that reaches its destination sends
 * a CNP back to the flow's sender, unless it sent this flow one less than
 * transport.dcqcn_cnp_interval_ns ago. A CNP is a control packet of
 * transport.ack_bytes (PKT_ACK | PKT_CNP | PKT_CC: never marked, never
 * hashed again) that takes the reverse of the data packet's path, as its
 * acknowledgement does.
 *
 * Sender (RP): pkt_dcqcn.h's state machine, per flow. Pacing: a flow in
 * its sender's ready list whose next_send is still ahead leaves the list
 * for the sender's heap of waiting flows, keyed by the earlier of next_send
 * and its increase timer's next expiry (a step may bring next_send
 * forward). When the sender is free and no ready flow may send, one
 * EV_DCQCN wakes it at the heap's earliest key: one event per sender, not
 * per flow or packet. A flow at the line rate never waits (its gap after a
 * packet, rounded down, is at most the packet's serialization at the NIC),
 * so an uncongested dcqcn flow sends as a cc = window one without a window.
 */
#include <math.h>
#include <stdlib.h>

#include "base/err.h"
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "sim/spec.h"

/* A sender's waiting flows: a binary min-heap of flow indices by rp.key. */
struct dq_host {
    uint32_t *heap;
    uint32_t n, cap;
    simtime_t wake_at; /* the earliest EV_DCQCN pending for it, SIMTIME_MAX if none */
};

struct dcqcn {
    struct dcqcn_par par;
    struct dcqcn_rp *rp; /* per flow, as e->flows */
    uint32_t *np_cnps;   /* ... the CNPs its receiver sent it (the flows table's cnps) */
    uint32_t nrp;
    struct dq_host *h; /* per sender, as e->hosts */
    uint32_t nhosts;
    uint64_t cnps;
};

void dcqcn_par_of(struct dcqcn_par *p, const struct tr_spec *c)
{
    const struct dcqcn_spec *s = &c->dcqcn;
    p->g = s->g;
    p->alpha_init = s->alpha_init;
    p->rai = s->rai_mbps * 1e6;
    p->rhai = s->rhai_mbps * 1e6;
    p->rate_min = s->rate_min_mbps * 1e6;
    p->cnp_ps = (simtime_t)s->cnp_interval_ns * PS_PER_NS;
    p->alpha_ps = (simtime_t)s->alpha_timer_ns * PS_PER_NS;
    p->rate_ps = (simtime_t)s->rate_timer_ns * PS_PER_NS;
    p->byte_counter = (uint64_t)s->byte_counter;
    p->fast_recovery = (uint32_t)s->fast_recovery;
}

void dcqcn_rp_init(const struct dcqcn_par *p, struct dcqcn_rp *r, double line_bps)
{
    r->rc = r->rt = r->line = line_bps;
    r->alpha = p->alpha_init;
    r->next_send = 0;
    r->rate_next = r->alpha_next = SIMTIME_MAX;
    r->key = 0;
    r->np_last = SIMTIME_MAX;
    r->bc = 0;
    r->t_stage = r->bc_stage = 0;
}

/* The rate changes from r0 to r->rc at time t: what is left of the wait
 * for the next packet passes at the new rate. */
static void rescale(struct dcqcn_rp *r, simtime_t t, double r0)
{
    if (r->next_send > t) r->next_send = t + (simtime_t)((double)(r->next_send - t) * r0 / r->rc);
}

/* An increase step at time t (T or BC just counted). */
static void rp_step(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t t)
{
    uint32_t hi = r->t_stage > r->bc_stage ? r->t_stage : r->bc_stage;
    uint32_t lo = r->t_stage < r->bc_stage ? r->t_stage : r->bc_stage;
    if (hi <= p->fast_recovery) {
        /* fast recovery: Rt stays */
    } else if (lo > p->fast_recovery) {
        r->rt += (double)(lo - p->fast_recovery) * p->rhai;
    } else {
        r->rt += p->rai;
    }
    if (r->rt > r->line) r->rt = r->line;
    double r0 = r->rc;
    r->rc = (r->rt + r->rc) / 2;
    /* back at the line rate (within a billionth): every later step would
     * leave it there, so the increase timer stops */
    if (r->rt == r->line && r->rc > r->line * (1 - 1e-9)) {
        r->rc = r->line;
        r->rate_next = SIMTIME_MAX;
    }
    rescale(r, t, r0);
}

/* dcqcn_rp_advance's replay, out of line: the caller tests whether a
 * timer is due (rp_advance), which per packet it seldom is. */
static __attribute__((noinline)) void rp_replay(const struct dcqcn_par *p, struct dcqcn_rp *r,
                                                simtime_t now)
{
    while (r->rate_next <= now) {
        simtime_t t = r->rate_next;
        r->rate_next = t + p->rate_ps;
        r->t_stage++;
        rp_step(p, r, t); /* may stop the timer */
    }
    if (r->alpha_next <= now) {
        uint64_t k = (now - r->alpha_next) / p->alpha_ps + 1;
        r->alpha *= pow(1 - p->g, (double)k);
        r->alpha_next += k * p->alpha_ps;
    }
}

static inline __attribute__((always_inline)) void rp_advance(const struct dcqcn_par *p,
                                                             struct dcqcn_rp *r, simtime_t now)
{
    if (r->rate_next <= now || r->alpha_next <= now) rp_replay(p, r, now);
}

void dcqcn_rp_advance(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t now)
{
    rp_advance(p, r, now);
}

void dcqcn_rp_cnp(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t now)
{
    double r0 = r->rc;
    r->rt = r->rc;
    r->rc *= 1 - r->alpha / 2;
    double floor = p->rate_min < r->line ? p->rate_min : r->line;
    if (r->rc < floor) r->rc = floor;
    r->alpha = (1 - p->g) * r->alpha + p->g;
    r->t_stage = r->bc_stage = 0;
    r->bc = 0;
    r->rate_next = now + p->rate_ps;
    r->alpha_next = now + p->alpha_ps;
    rescale(r, now, r0);
}

/* dcqcn_rp_sent's body, inlined into pkt_dcqcn_pick. */
static inline __attribute__((always_inline)) void
rp_sent(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t now, uint32_t bytes)
{
    /* The gap, rounded down: at the line rate never more than the packet's
     * serialization (ser_ps rounds up). */
    r->next_send = now + (simtime_t)((double)bytes * 8 * (double)PS_PER_S / r->rc);
    if (r->rate_next == SIMTIME_MAX) return; /* at the line rate: steps change nothing */
    r->bc += bytes;
    while (r->bc >= p->byte_counter && r->rate_next != SIMTIME_MAX) {
        r->bc -= p->byte_counter;
        r->bc_stage++;
        rp_step(p, r, now);
    }
}

void dcqcn_rp_sent(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t now, uint32_t bytes)
{
    rp_sent(p, r, now, bytes);
}

struct dcqcn *pkt_dcqcn_create(const struct tr_spec *c, uint32_t hosts)
{
    struct dcqcn *d = xcalloc(1, sizeof *d);
    dcqcn_par_of(&d->par, c);
    d->nhosts = 2 * hosts;
    d->h = xcalloc(d->nhosts, sizeof *d->h);
    for (uint32_t i = 0; i < d->nhosts; i++)
        d->h[i].wake_at = SIMTIME_MAX;
    return d;
}

void pkt_dcqcn_destroy(struct dcqcn *d)
{
    if (!d) return;
    for (uint32_t i = 0; i < d->nhosts; i++)
        free(d->h[i].heap);
    free(d->h);
    free(d->rp);
    free(d->np_cnps);
    free(d);
}

void pkt_dcqcn_reset(struct dcqcn *d)
{
    for (uint32_t i = 0; i < d->nhosts; i++) {
        d->h[i].n = 0;
        d->h[i].wake_at = SIMTIME_MAX;
    }
    d->cnps = 0;
}

void pkt_dcqcn_init(struct pkt_eng *e, uint32_t first, uint32_t n)
{
    struct dcqcn *d = e->dq;
    if (first + n > d->nrp) {
        uint32_t cap = d->nrp ? d->nrp : 1024;
        while (cap < first + n)
            cap *= 2;
        d->rp = xrealloc(d->rp, (size_t)cap * sizeof *d->rp);
        d->np_cnps = xrealloc(d->np_cnps, (size_t)cap * sizeof *d->np_cnps);
        d->nrp = cap;
    }
    const struct topo *t = e->base.t;
    for (uint32_t j = 0; j < n; j++) {
        const struct flow *f = &e->flows[first + j];
        uint32_t up = topo_first_port(t, f->src, f->dst);
        dcqcn_rp_init(&d->par, &d->rp[first + j], (double)t->ports[up].bps);
        d->np_cnps[first + j] = 0;
    }
}

/* The heap of waiting flows (by rp.key, ties by flow index: repeatable). */
static int before(const struct dcqcn *d, uint32_t a, uint32_t b)
{
    simtime_t ka = d->rp[a].key, kb = d->rp[b].key;
    return ka < kb || (ka == kb && a < b);
}

static void heap_push(struct dcqcn *d, struct dq_host *h, uint32_t fi)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 8;
        h->heap = xrealloc(h->heap, (size_t)h->cap * sizeof *h->heap);
    }
    uint32_t i = h->n++;
    while (i > 0) {
        uint32_t up = (i - 1) / 2;
        if (!before(d, fi, h->heap[up])) break;
        h->heap[i] = h->heap[up];
        i = up;
    }
    h->heap[i] = fi;
}

static uint32_t heap_pop(struct dcqcn *d, struct dq_host *h)
{
    uint32_t top = h->heap[0], last = h->heap[--h->n], i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(d, h->heap[c + 1], h->heap[c])) c++;
        if (!before(d, h->heap[c], last)) break;
        h->heap[i] = h->heap[c];
        i = c;
    }
    if (h->n) h->heap[i] = last;
    return top;
}

/* Flow fi waits (it is out of the ready list): until next_send, or until
 * its increase timer's next step, which may move next_send. */
static void wait_flow(struct pkt_eng *e, struct dq_host *h, uint32_t fi)
{
    struct dcqcn_rp *r = &e->dq->rp[fi];
    r->key = r->next_send < r->rate_next ? r->next_send : r->rate_next;
    e->flows[fi].ready = 2; /* neither ready nor to be pushed by an ack */
    heap_push(e->dq, h, fi);
}

int pkt_dcqcn_pick(struct pkt_eng *e, uint32_t hi)
{
    struct dcqcn *d = e->dq;
    struct host *hs = &e->hosts[hi];
    struct dq_host *h = &d->h[hi];
    simtime_t now = e->now;
    /* waiting flows whose time has come: ready, or waiting again */
    while (h->n && d->rp[h->heap[0]].key <= now) {
        uint32_t fi = heap_pop(d, h);
        struct dcqcn_rp *r = &d->rp[fi];
        rp_advance(&d->par, r, now);
        if (r->next_send <= now) {
            e->flows[fi].ready = 0;
            pkt_ready_push(e, fi);
        } else {
            wait_flow(e, h, fi);
        }
    }
    /* ready flows whose rate does not allow them yet: waiting */
    while (hs->ready_head != PKT_NONE) {
        uint32_t fi = hs->ready_head;
        struct dcqcn_rp *r = &d->rp[fi];
        rp_advance(&d->par, r, now);
        if (r->next_send <= now) break;
        struct flow *f = &e->flows[fi];
        hs->ready_head = f->next_ready;
        if (hs->ready_head == PKT_NONE) hs->ready_tail = PKT_NONE;
        wait_flow(e, h, fi);
    }
    if (hs->ready_head == PKT_NONE) {
        if (h->n) {
            simtime_t t = d->rp[h->heap[0]].key;
            if (t < h->wake_at) {
                h->wake_at = t;
                pkt_push(e, t, EV_DCQCN, hi);
            }
        }
        return 0;
    }
    /* the head sends: its packet counts now */
    uint32_t fi = hs->ready_head;
    const struct flow *f = &e->flows[fi];
    uint64_t left = f->size - f->sent;
    /* (left = 0: recovery resends below f->sent, a packet of mtu bytes taken) */
    rp_sent(&d->par, &d->rp[fi], now, left && left < e->mtu ? (uint32_t)left : e->mtu);
    return 1;
}

void pkt_dcqcn_wake(struct pkt_eng *e, uint32_t hi)
{
    struct dq_host *h = &e->dq->h[hi];
    if (h->wake_at == e->now) h->wake_at = SIMTIME_MAX;
    pkt_nic_send(e, hi);
}

int pkt_dcqcn_rx(struct pkt_eng *e, struct pkt *k)
{
    struct dcqcn *d = e->dq;
    struct dcqcn_rp *r = &d->rp[k->flow];
    if (k->flags & PKT_CNP) { /* at the sender */
        dcqcn_rp_advance(&d->par, r, e->now);
        dcqcn_rp_cnp(&d->par, r, e->now);
        e->live_pkts--;
        return 1;
    }
    if ((k->flags & PKT_CE) &&
        (r->np_last == SIMTIME_MAX || e->now - r->np_last >= d->par.cnp_ps)) {
        r->np_last = e->now;
        d->cnps++;
        d->np_cnps[k->flow]++;
        struct pkt c = *k;
        c.src = k->dst;
        c.dst = k->src;
        c.wire = (uint16_t)e->ack_bytes;
        c.payload = 0;
        c.hop = 0;
        c.flags =
            (uint8_t)(PKT_ACK | PKT_CNP | PKT_CC | (k->flags & PKT_REC)); /* REC: pkt_loss.c's */
        c.seq = 0;
        if (++e->live_pkts > e->peak_pkts) e->peak_pkts = e->live_pkts;
        /* as pkt_recv.c commits an ack: a pausable port under switch.pfc, the
         * plane's NIC port on a rail with planes */
        const struct topo *t = e->base.t;
        pkt_commit_from(e,
                        __builtin_expect(e->nic_pace, 0) ? topo_nic_port(t, c.src, c.dst, c.path)
                                                         : topo_first_port(t, c.src, c.dst),
                        &c, PKT_NONE);
    }
    return 0;
}

const struct dcqcn_rp *pkt_dcqcn_flow(const struct pkt_eng *e, uint32_t fi)
{
    return &e->dq->rp[fi];
}

uint64_t pkt_dcqcn_cnps(const struct pkt_eng *e)
{
    return e->dq ? e->dq->cnps : 0;
}

uint64_t pkt_dcqcn_msg_cnps(const struct pkt_eng *e, const struct msg *m)
{
    if (!e->dq) return RES_NO_COUNT;
    uint64_t n = 0;
    for (uint32_t j = 0; j < m->nflows; j++)
        n += e->dq->np_cnps[m->first_flow + j];
    return n;
}
