/* pkt_nscc.c - the packet engine's cc = nscc (pkt_nscc.h): a window that
 * reacts to queueing delay and to ECN echoes, after the Ultra Ethernet
 * Transport's NSCC (network-signal congestion control; the consortium's
 * htsim model, uec.cpp, read as the reference; this is an independent
 * implementation, docs/transports.md says where it differs).
 *
 * Delay. The sender keeps, per flow, a ring of the send times of its last
 * 2^ring_bits packets, by packet number (the byte offset / mtu); an ack
 * keeps its data packet's seq (pkt_recv.c), so RTT = now - that packet's
 * send time, and the queueing delay is RTT less the flow's unloaded RTT
 * (its path's latency and serialization, both ways: topo_path_latency),
 * never below 0. avg is an EWMA of it (transport.nscc_delay_ewma).
 *
 * Control, per acknowledgement of `acked` bytes with delay d against the
 * target T (transport.nscc_target_ns, by default the fabric's base RTT):
 *   unmarked, d >= T   fair increase: cwnd += fair x acked / cwnd (fair
 *                      bytes per RTT, the same for every flow: AIMD's
 *                      additive part, which converges to equal shares);
 *   unmarked, d < T    proportional increase: cwnd += alpha (T - d) x
 *                      acked / cwnd; or, once a whole window has been
 *                      acknowledged below nscc_fast_delay_ns, fast
 *                      increase: cwnd += fast_gain x acked;
 *   marked, d >= T     multiplicative decrease, at most once per base RTT:
 *                      cwnd x max(1 - md_gain (avg - T) / avg, 1 - md_max)
 *                      when avg > T;
 *   marked, d < T      nothing (the mark is a queue that is draining, or
 *                      one that does not yet delay: NSCC would switch
 *                      path here; the engine's path choice is its own);
 * plus eta bytes once per base RTT, the window kept in [mtu, maxwnd].
 * Quick adapt: once per interval of base RTT + T, if the delay exceeds
 * qa_delay x T and the bytes acknowledged in the interval are below
 * maxwnd / 2^qa_gate, the window drops to those bytes (what the path
 * delivered in one RTT + T) and the marks of the bytes then in flight are
 * ignored (they tell of the queue before the drop). The gains fair, alpha,
 * eta and fast_gain are NSCC's, scaled by the fabric's BDP over the
 * reference 150 KB (100 Gb/s x 12 us). No loss, no slow start: a flow
 * starts at its largest window, nscc_max_bdp of its own BDP. */
#include "sim/pkt_nscc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/pkt_eng.h"

#define NSCC_REF_BDP 150000.0           /* bytes: 100 Gb/s x 12 us */
#define NSCC_REF_RTT (12.0 * PS_PER_US) /* ps */

void pkt_nscc_create(struct pkt_eng *e, const struct tr_spec *c)
{
    const struct topo *t = e->base.t;
    const struct nscc_spec *s = &c->nscc;
    struct pkt_nscc *n = xcalloc(1, sizeof *n);
    uint64_t bps;
    simtime_t rtt = eng_base_rtt(t, e->mtu, e->ack_bytes, &bps);
    double bdp = (double)rtt * (double)bps / (8.0 * PS_PER_S);
    double a = bdp / NSCC_REF_BDP; /* NSCC's scaling factor */
    /* T: the key, or the base RTT; 0.75 of it under trimming, as htsim's
     * initNsccParams (a trimmed packet's NACK reports the queue sooner) */
    n->target = s->target_ns ? (double)s->target_ns * PS_PER_NS
                : c->sw.trim ? 0.75 * (double)rtt
                             : (double)rtt;
    n->nack_delay = (double)rtt;
    n->md_gain = s->md_gain;
    n->md_keep = 1 - s->md_max;
    n->ewma = s->delay_ewma;
    n->fair = s->fair_mtus * e->mtu * a;
    n->alpha = s->prop_mtus * e->mtu * a / NSCC_REF_RTT;
    n->eta = s->eta_mtus * e->mtu * a;
    n->fast_gain = s->fast_gain * a;
    n->fast_delay = (double)s->fast_delay_ns * PS_PER_NS;
    n->qa_delay = s->qa_delay * n->target;
    n->qa_gate = (uint32_t)s->qa_gate;
    n->quick_adapt = (uint8_t)s->quick_adapt;
    n->max_bdp = s->max_bdp;
    /* The ring: twice the packets of the largest window at the fastest
     * first hop (acks out of order under spraying leave older packets
     * outstanding beyond the window). */
    for (uint32_t h = 0; h < t->hosts; h++) {
        if (t->ports[t->host_up[h]].bps > bps) bps = t->ports[t->host_up[h]].bps;
        if (t->planes > 1 && t->nic_bps > bps) bps = t->nic_bps; /* rail planes: the NIC's */
        if (t->nvl_up && t->ports[t->nvl_up[h]].bps > bps) bps = t->ports[t->nvl_up[h]].bps;
    }
    double wmax = s->max_bdp * (double)rtt * (double)bps / (8.0 * PS_PER_S) +
                  (double)(e->ack_every - 1) * e->mtu;
    double pkts = 2 * (ceil(wmax / e->mtu) + 1);
    n->ring_bits = 3;
    while ((double)(1u << n->ring_bits) < pkts && n->ring_bits < 20)
        n->ring_bits++;
    e->nscc = n;
    pkt_cc_create(e);
    e->pkt_flags = PKT_CC;
}

void pkt_nscc_destroy(struct pkt_eng *e)
{
    if (!e->nscc) return;
    free(e->nscc->sent_ns);
    free(e->nscc);
    e->nscc = NULL;
}

size_t pkt_nscc_flow_bytes(void)
{
    /* the ring of send times at its least, 2^3 entries (pkt_nscc_create);
     * its state is in struct cc_flow */
    return 8 * sizeof(uint32_t);
}

void pkt_nscc_grow(struct pkt_eng *e, uint32_t nflows)
{
    struct pkt_nscc *n = e->nscc;
    n->sent_ns = xrealloc(n->sent_ns, ((size_t)nflows << n->ring_bits) * sizeof *n->sent_ns);
}

void pkt_nscc_init(struct pkt_eng *e, uint32_t first, uint32_t nfl)
{
    const struct topo *t = e->base.t;
    struct pkt_nscc *n = e->nscc;
    const struct flow *f = &e->flows[first];
    simtime_t base = topo_path_latency(t, f->src, f->dst, e->mtu) +
                     topo_path_latency(t, f->dst, f->src, e->ack_bytes);
    double bps = (double)t->ports[topo_first_port(t, f->src, f->dst)].bps;
    if (t->planes > 1 && !topo_via_nvlink(t, f->src, f->dst)) bps = (double)t->nic_bps; /* NIC */
    double w =
        n->max_bdp * (double)base * bps / (8.0 * PS_PER_S) + (double)(e->ack_every - 1) * e->mtu;
    double ring = (double)((1u << n->ring_bits) / 2 - 1) * e->mtu; /* what the ring can time */
    if (w > ring) w = ring;
    if (w < e->mtu) w = e->mtu;
    for (uint32_t j = 0; j < nfl; j++) {
        struct cc_flow *c = &e->cc[first + j];
        memset(c, 0, sizeof *c);
        c->cwnd = w;
        c->ns.maxwnd = w;
        c->ns.base = base;
    }
}

void pkt_nscc_sent(struct pkt_eng *e, uint32_t fi, uint64_t off)
{
    struct pkt_nscc *n = e->nscc;
    uint32_t slot = (uint32_t)pkt_mtus(e, off) & ((1u << n->ring_bits) - 1);
    n->sent_ns[((size_t)fi << n->ring_bits) + slot] = (uint32_t)(e->now / PS_PER_NS);
}

/* Quick adapt's interval of flow f is over (now past qa_end): when `cause`
 * (a delay above qa_delay x T, or a loss) and the bytes acknowledged in it
 * are below maxwnd / 2^qa_gate, the window drops to those bytes and the
 * bytes now in flight are set aside; a new interval starts. Returns
 * whether it fired. */
static int qa_interval_end(struct pkt_eng *e, struct flow *f, int cause)
{
    struct pkt_nscc *n = e->nscc;
    uint32_t fi = (uint32_t)(f - e->flows);
    struct nscc_flow *s = &e->cc[fi].ns;
    struct cc_flow *c = &e->cc[fi];
    int fire =
        s->qa_end != 0 && cause && (double)s->achieved < s->maxwnd / (double)(1u << n->qa_gate);
    if (fire) {
        c->cwnd = s->achieved > e->mtu ? (double)s->achieved : e->mtu;
        s->ignore = f->sent - f->acked;
        s->avg = n->target; /* the window now aims at T; no cut before it is passed */
        s->fast = 0;
        s->fast_on = 0;
        s->qa_trigger = 0;
    }
    s->achieved = 0;
    s->qa_end = e->now + s->base + (simtime_t)n->target;
    return fire;
}

/* The control on one acknowledgement of flow f: the packet at offset off
 * was answered, `bytes` are newly acknowledged, `marked`: CE echoed. */
static void on_ack(struct pkt_eng *e, struct flow *f, uint64_t off, uint64_t bytes, int marked)
{
    struct pkt_nscc *n = e->nscc;
    uint32_t fi = (uint32_t)(f - e->flows);
    struct nscc_flow *s = &e->cc[fi].ns;
    struct cc_flow *c = &e->cc[fi];
    double acked = (double)bytes;
    uint32_t slot = (uint32_t)pkt_mtus(e, off) & ((1u << n->ring_bits) - 1);
    uint32_t sent = n->sent_ns[((size_t)fi << n->ring_bits) + slot];
    double rtt = (double)(uint32_t)((uint32_t)(e->now / PS_PER_NS) - sent) * PS_PER_NS;
    double d = rtt > (double)s->base ? rtt - (double)s->base : 0;
    s->achieved += bytes;
    double cw = c->cwnd;
    /* after a quick adapt, the bytes then in flight tell of the queue
     * before it: their delays are left out of the average, their marks
     * ignored */
    int stale = s->ignore > 0;
    s->ignore = s->ignore > bytes ? s->ignore - bytes : 0;
    if (!stale) s->avg += n->ewma * (d - s->avg);
    if (n->quick_adapt) {
        if (stale && marked) return;
        if (e->now > s->qa_end) {
            if (qa_interval_end(e, f, (s->qa_trigger || d > n->qa_delay))) return;
        }
    }
    if (!marked) {
        if (d >= n->target) { /* fair increase */
            cw += n->fair * acked / cw;
            s->fast = 0;
            s->fast_on = 0;
        } else if (d < n->fast_delay && ((s->fast += bytes) > cw || s->fast_on)) {
            cw += n->fast_gain * acked; /* fast increase */
            s->fast_on = 1;
        } else { /* proportional increase */
            if (d >= n->fast_delay) s->fast = 0;
            s->fast_on = 0;
            cw += n->alpha * (n->target - d) * acked / cw;
        }
    } else {
        s->fast = 0;
        s->fast_on = 0;
        if (d >= n->target && s->avg > n->target && e->now - s->last_md > s->base) {
            double keep = 1 - n->md_gain * (s->avg - n->target) / s->avg;
            cw *= keep > n->md_keep ? keep : n->md_keep;
            s->last_md = e->now;
        }
    }
    if (e->now - s->last_eta >= s->base) {
        cw += n->eta;
        s->last_eta = e->now;
    }
    if (cw > s->maxwnd) cw = s->maxwnd;
    if (cw < e->mtu) cw = e->mtu;
    c->cwnd = cw;
}

void pkt_nscc_ack(struct pkt_eng *e, struct flow *f, const struct pkt *k)
{
    /* the acknowledged packet's offset: seq is it mod 2^32, and it lies
     * less than 2^32 bytes below f->sent */
    uint64_t off = f->sent - (uint32_t)((uint32_t)f->sent - k->seq);
    on_ack(e, f, off, k->payload, (k->flags & PKT_CE) != 0);
}

void pkt_nscc_on_ack(struct pkt_eng *e, struct flow *f, uint64_t off, uint64_t bytes, int marked)
{
    on_ack(e, f, off, bytes, marked);
}

/* A NACK (htsim's NSCC, updateCwndOnNack_NSCC, as the reference): while a
 * quick adapt's stale bytes are being set aside it only counts among them;
 * otherwise the average delay takes one sample of the network's base RTT
 * (a trimmed or lost packet stands for a full queue), the loss triggers
 * quick adapt (at once if its interval is over, else at the next ack past
 * it), and unless quick adapt fired now the window loses the NACKed
 * packet's bytes. */
void pkt_nscc_on_nack(struct pkt_eng *e, struct flow *f, uint64_t bytes)
{
    struct pkt_nscc *n = e->nscc;
    uint32_t fi = (uint32_t)(f - e->flows);
    struct nscc_flow *s = &e->cc[fi].ns;
    struct cc_flow *c = &e->cc[fi];
    if (s->ignore > 0) {
        s->ignore = s->ignore > bytes ? s->ignore - bytes : 0;
        return;
    }
    s->avg += n->ewma * (n->nack_delay - s->avg);
    if (n->quick_adapt) {
        s->qa_trigger = 1;
        if (e->now > s->qa_end && qa_interval_end(e, f, 1)) return;
    }
    c->cwnd -= (double)bytes;
    if (c->cwnd < e->mtu) c->cwnd = e->mtu;
    s->fast = 0;
    s->fast_on = 0;
}

/* A retransmission timeout: the largest multiplicative decrease NSCC
 * allows (nscc_md_max), once per timeout (htsim's NSCC leaves its window
 * alone on a timeout; docs/transports.md says why this does not). */
void pkt_nscc_on_timeout(struct pkt_eng *e, struct flow *f)
{
    struct pkt_nscc *n = e->nscc;
    struct cc_flow *c = &e->cc[f - e->flows];
    c->cwnd *= n->md_keep;
    if (c->cwnd < e->mtu) c->cwnd = e->mtu;
    e->cc[f - e->flows].ns.fast = 0;
    e->cc[f - e->flows].ns.fast_on = 0;
}
