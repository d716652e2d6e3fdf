/* pkt_loss.c - the packet engine's loss recovery (pkt_eng.h,
 * transport.recovery; docs/transports.md): when a switch buffer is full
 * (per port, or shared per switch with dynamic thresholds:
 * switch.shared_alpha), what it does to a data packet (drop-tail, or
 * NDP/UEC trimming), and how the two ends of a flow recover.
 *
 * goback_n, as RoCE NICs: the receiver keeps the next byte it expects (the
 * flow's `delivered`); a packet beyond it is discarded and NACKed, once per
 * gap, with the byte expected; the sender goes back and resends from there.
 * selective, as IRN (Mittal et al., "Revisiting Network Support for RDMA",
 * SIGCOMM 2018) and UEC: the receiver keeps a bitmap of the packets beyond
 * its cumulative point, every ack carries that point and the packet it
 * acknowledges (a SACK); a hole at the cumulative point that stays open
 * transport.reorder_ns while packets beyond it arrive is NACKed, and the
 * sender resends the packets it has no SACK for below the one the NACK
 * carries; a trimmed packet is NACKed at once and resent alone. Both: a
 * retransmission timeout (transport.rto_ns) per flow, restarted by every new
 * cumulative acknowledgement: one EV_RTO event per flow, armed lazily (it
 * is moved by writing a deadline and re-pushed when it fires early).
 *
 * Sequence numbers are the byte offsets of pkt.seq (mod 2^32, unwrapped
 * against the end's own cumulative point). An ack of a recovering flow
 * keeps, in seq, the seq of the data packet it answers (the packet it
 * acknowledges: a SACK under selective when it lies at or above the
 * cumulative point; and the key of its send time for cc = nscc's RTT
 * sample), and carries the receiver's cumulative point in payload, as a
 * signed 16-bit count of packets from that packet (the point rounded up
 * to a packet: it is a packet boundary or the flow's end); when the
 * distance does not fit, payload is ACK_NO_REF and seq is the cumulative
 * point itself (no SACK, no RTT sample). Flags PKT_NACK (and PKT_TRIM: the
 * packet was trimmed) mark NACKs, PKT_CE echoes a mark (recovery requires
 * transport.ack_every = 1, so one bit is the echo). Acks are never dropped
 * (they are never above the buffer test: pkt_port.c), so the sender's
 * scoreboard of SACKs is the receiver's bitmap as the acks tell it.
 *
 * With a congestion control: under dctcp each new cumulative ack feeds
 * pkt_dctcp_ack; under nscc every ack feeds pkt_nscc_on_ack (its RTT from
 * the answered packet's send time, the bytes it newly confirms: the
 * cumulative advance not SACKed before, and a new SACK), each NACK
 * pkt_nscc_on_nack and each timeout pkt_nscc_on_timeout (sim/pkt_nscc.c);
 * under dcqcn the receiver is also DCQCN's notification point: a data
 * packet marked CE may send a CNP (pkt_dcqcn_rx), which counts among its
 * flow's packets in the fabric. Under switch.pfc the acks join pausable
 * ports (pkt_commit_from); nothing is dropped there, so recovery only
 * answers reordering. On a rail with planes an ack leaves by the plane's
 * NIC port its data came by (as pkt_recv.c's).
 *
 * A flow's slot is freed only once it is acknowledged entirely, none of its
 * packets is left in the fabric (duplicates may still be on their way) and
 * its timer is cancelled: a late packet never meets a reused flow. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_nscc.h"
#include "sim/pkt_route.h"

/* An ack's payload when its seq is the cumulative point itself */
#define ACK_NO_REF 0x8000u

/* A flow's recovery state, beside e->flows (same index): what a packet,
 * an ack or a send reads, in one 64-byte line (e->rec is 64-byte aligned),
 * and what only a timer, a resend or a NACK touches, beside it in
 * e->rec_cold. */
struct rec_flow {
    uint64_t high;     /* sender: one past the highest byte ever sent */
    uint64_t cum;      /* receiver: every byte below has arrived */
    uint64_t rx_high;  /* selective receiver: one past the highest byte arrived */
    uint64_t nack_end; /* selective sender: holes below this were marked by a NACK */
    simtime_t rto_at;  /* sender: the timeout, unless an acknowledgement moves it */
    simtime_t gap_t;   /* selective receiver: since when the hole at cum is open */
    uint32_t inpkts;   /* its packets in the fabric (data and acks) */
    uint32_t lost;     /* selective sender: packets marked to resend (bits of BM_LOST) */
    uint32_t sacked;   /* selective sender: packets SACKed above the cumulative point (BM_SACK) */
    uint8_t timer;     /* an EV_RTO is pending */
    uint8_t nacked;    /* receiver: the hole at cum has been NACKed */
    uint8_t gap;       /* selective receiver: gap_t is set */
    uint8_t done;      /* finished: its message heard of it */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct rec_flow) == 64 && sizeof(struct rec_flow) == PKT_REC_FLOW_BYTES,
               "a flow's recovery state is one cache line (pkt_route.h prefetches it)");

struct rec_cold {
    uint64_t timer_seq; /* the pending EV_RTO (evq_cancel_at) */
    simtime_t timer_at; /* ... and its time */
    uint64_t retx_bytes;
    uint32_t timeouts, nacks;
};

enum { BM_RX = 0, BM_SACK, BM_LOST };

/* Flow fi's bitmap b (selective): bit (offset / mtu) mod rec_pkts. */
static inline uint64_t *bm(const struct pkt_eng *e, uint32_t fi, int b)
{
    return e->rec_bits + ((size_t)fi * 3 + (size_t)b) * (e->rec_pkts / 64);
}

static inline uint64_t bit_of(const struct pkt_eng *e, uint64_t off)
{
    return pkt_mtus(e, off) & (e->rec_pkts - 1);
}

static inline int bm_get(const uint64_t *w, uint64_t i)
{
    return (int)((w[i >> 6] >> (i & 63)) & 1);
}

static inline void bm_set(uint64_t *w, uint64_t i)
{
    w[i >> 6] |= 1ull << (i & 63);
}

static inline void bm_clear(uint64_t *w, uint64_t i)
{
    w[i >> 6] &= ~(1ull << (i & 63));
}

/* x, a 32-bit sequence number, as the 64-bit offset nearest ref. */
static inline uint64_t unwrap(uint32_t x, uint64_t ref)
{
    return ref + (uint64_t)(int64_t)(int32_t)(x - (uint32_t)ref);
}

/* The length of flow f's packet at offset off. */
static inline uint64_t pkt_len(const struct pkt_eng *e, const struct flow *f, uint64_t off)
{
    uint64_t left = f->size - off;
    return left < e->mtu ? left : e->mtu;
}

void pkt_rec_create(struct pkt_eng *e, const struct tr_spec *c)
{
    e->recovery = (uint8_t)c->recovery;
    e->trim = (uint8_t)(c->sw.trim != 0);
    e->rto_ps = (simtime_t)c->rto_ns * PS_PER_NS;
    e->reorder_ps = (simtime_t)c->reorder_ns * PS_PER_NS;
    e->pkt_flags |= PKT_REC;
    /* grown with the flows (pkt_send.c); e->rec set says recovery is on */
    e->rec = aligned_alloc(64, sizeof *e->rec);
    if (!e->rec) err_fatal("out of memory for the recovery state");
    e->rec_n = 0;
    e->rec_cold = xmalloc(sizeof *e->rec_cold);
    if (e->trim) {
        e->trims = xcalloc(e->base.t->nports, sizeof *e->trims);
        e->trim_mixed = xcalloc(e->base.t->nports, sizeof *e->trim_mixed);
    }
    if (c->sw.shared_alpha > 0 && c->sw.buffer_bytes > 0) {
        /* each switch's output ports, in CSR by node - hosts */
        const struct topo *t = e->base.t;
        uint32_t n = 0;
        for (uint32_t i = 0; i < t->nports; i++)
            if (t->ports[i].src >= t->hosts && t->ports[i].src - t->hosts + 1 > n)
                n = t->ports[i].src - t->hosts + 1;
        e->sw_first = xcalloc((size_t)n + 1, sizeof *e->sw_first);
        e->sw_ports = xmalloc((size_t)t->nports * sizeof *e->sw_ports);
        for (uint32_t i = 0; i < t->nports; i++)
            if (t->ports[i].src >= t->hosts) e->sw_first[t->ports[i].src - t->hosts + 1]++;
        for (uint32_t s = 0; s < n; s++)
            e->sw_first[s + 1] += e->sw_first[s];
        uint32_t *fill = xcalloc((size_t)n, sizeof *fill);
        for (uint32_t i = 0; i < t->nports; i++)
            if (t->ports[i].src >= t->hosts) {
                uint32_t s = t->ports[i].src - t->hosts;
                e->sw_ports[e->sw_first[s] + fill[s]++] = i;
            }
        free(fill);
        e->shared_alpha = c->sw.shared_alpha;
        e->shared_bytes = (double)c->sw.buffer_bytes;
    }
    if (e->recovery == REC_SELECTIVE) {
        /* The bitmaps cover a window of packets beyond the cumulative
         * point, and the sender keeps no more than that outstanding (IRN's
         * BDP flow control): the window's packets, a power of two, at
         * least 64, at most 2^15 (the ack's 16-bit distance). */
        uint64_t w = e->window / e->mtu + 2, n = 64;
        if (e->nscc && ((uint64_t)1 << e->nscc->ring_bits) / 2 > w) /* nscc's largest window */
            w = ((uint64_t)1 << e->nscc->ring_bits) / 2;
        while (n < w && n < (1u << 15))
            n *= 2;
        e->rec_pkts = (uint32_t)n;
        e->rec_bits = xmalloc(1);
    }
}

void pkt_rec_msg_loss(const struct pkt_eng *e, const struct msg *m, struct res_flow_loss *loss)
{
    *loss = (struct res_flow_loss){0, 0, 0, pkt_dcqcn_msg_cnps(e, m)};
    for (uint32_t j = 0; j < m->nflows; j++) {
        const struct rec_cold *o = &e->rec_cold[m->first_flow + j];
        loss->retx_bytes += o->retx_bytes;
        loss->timeouts += o->timeouts;
        loss->nacks += o->nacks;
    }
}

void pkt_rec_destroy(struct pkt_eng *e)
{
    free(e->rec);
    free(e->rec_cold);
    free(e->rec_bits);
    free(e->trims);
    free(e->trim_mixed);
    free(e->sw_first);
    free(e->sw_ports);
}

size_t pkt_rec_flow_bytes(int selective)
{
    /* selective: three bitmaps of at least 64 packets (pkt_rec_create) */
    return sizeof(struct rec_flow) + sizeof(struct rec_cold) + (selective ? 3 * 64 / 8 : 0);
}

void pkt_rec_grow(struct pkt_eng *e, size_t nflows)
{
    struct rec_flow *r = aligned_alloc(64, nflows * sizeof *r);
    if (!r) err_fatal("out of memory for %zu flows' recovery state", nflows);
    if (e->rec) memcpy(r, e->rec, e->rec_n * sizeof *r);
    free(e->rec);
    e->rec = r;
    e->rec_n = nflows;
    e->rec_cold = xrealloc(e->rec_cold, nflows * sizeof *e->rec_cold);
    if (e->rec_bits)
        e->rec_bits = xrealloc(e->rec_bits, nflows * 3 * (e->rec_pkts / 64) * sizeof(uint64_t));
}

void pkt_rec_init(struct pkt_eng *e, uint32_t first, uint32_t n)
{
    memset(&e->rec[first], 0, n * sizeof *e->rec);
    memset(&e->rec_cold[first], 0, n * sizeof *e->rec_cold);
    if (e->rec_bits) memset(bm(e, first, 0), 0, (size_t)n * 3 * (e->rec_pkts / 64) * 8);
}

static void maybe_finish(struct pkt_eng *e, struct flow *f);

/* Selective: the first packet marked lost at or above flow fi's acked
 * point, as an offset (the sender's `lost` count says there is one). */
static uint64_t first_lost(const struct pkt_eng *e, const struct flow *f)
{
    uint32_t fi = (uint32_t)(f - e->flows);
    const uint64_t *w = bm(e, fi, BM_LOST);
    uint64_t B = e->rec_pkts;
    uint64_t p0 = pkt_mtus(e, f->acked);
    for (uint64_t i = 0; i < B;) {
        uint64_t b = (p0 + i) & (B - 1);
        uint64_t word = w[b >> 6] >> (b & 63);
        if (word) return (p0 + i + (uint64_t)__builtin_ctzll(word)) * e->mtu;
        i += 64 - (b & 63);
    }
    err_fatal("recovery: flow %u counts %u lost packets and marks none", fi, e->rec[fi].lost);
}

uint64_t pkt_rec_next(struct pkt_eng *e, struct flow *f)
{
    if (!pkt_rec_can_send(e, f)) { /* answered meanwhile */
        maybe_finish(e, f);
        return UINT64_MAX;
    }
    e->rec[f - e->flows].inpkts++;
    if (e->recovery == REC_SELECTIVE && e->rec[f - e->flows].lost) return first_lost(e, f);
    return f->sent;
}

/* Arms flow fi's timer at its deadline unless it is pending. */
static void arm(struct pkt_eng *e, uint32_t fi)
{
    struct rec_flow *r = &e->rec[fi];
    if (r->timer) return;
    r->timer = 1;
    e->rec_cold[fi].timer_seq = pkt_push(e, r->rto_at, EV_RTO, fi);
    e->rec_cold[fi].timer_at = r->rto_at;
}

int pkt_rec_sent(struct pkt_eng *e, struct flow *f, uint64_t off, uint32_t payload)
{
    uint32_t fi = (uint32_t)(f - e->flows);
    struct rec_flow *r = &e->rec[fi];
    if (off < r->high) {
        e->rec_cold[fi].retx_bytes += payload;
        e->st.retx_bytes += payload;
    }
    if (off == f->sent) {
        if (f->sent == f->acked) r->rto_at = e->now + e->rto_ps; /* nothing was outstanding */
        f->sent += payload;
    } else { /* selective: a packet marked lost */
        bm_clear(bm(e, fi, BM_LOST), bit_of(e, off));
        r->lost--;
    }
    if (f->sent > r->high) r->high = f->sent;
    arm(e, fi);
    return pkt_rec_can_send(e, f);
}

/* Selective repeat under cc = nscc: the window counts the bytes in the
 * network (RFC 6675's pipe: those outstanding less the SACKed and those
 * marked lost), as htsim's NSCC counts its in-flight bytes, and bounds
 * retransmissions too; a flow with nothing in the network may always send. */
static int nscc_sel_can_send(const struct pkt_eng *e, const struct flow *f)
{
    const struct rec_flow *r = &e->rec[f - e->flows];
    uint64_t out = f->sent - f->acked, gone = (uint64_t)(r->sacked + r->lost) * e->mtu;
    uint64_t pipe = out > gone ? out - gone : 0;
    double cw = e->cc[f - e->flows].cwnd;
    if (r->lost) return pipe == 0 || (double)(pipe + e->mtu) <= cw;
    if (f->sent >= f->size) return 0;
    uint64_t next = pkt_len(e, f, f->sent);
    if (f->sent + next > f->acked + (uint64_t)(e->rec_pkts - 1) * e->mtu) return 0; /* bitmaps */
    return pipe == 0 || (double)(pipe + next) <= cw;
}

int pkt_rec_can_send(const struct pkt_eng *e, const struct flow *f)
{
    if (e->recovery != REC_SELECTIVE) return pkt_flow_can_send(e, f);
    if (e->nscc) return nscc_sel_can_send(e, f);
    if (e->rec[f - e->flows].lost) return 1;
    /* new data: the window, and no further than the bitmaps reach */
    return pkt_flow_can_send(e, f) &&
           f->sent + pkt_len(e, f, f->sent) <= f->acked + (uint64_t)(e->rec_pkts - 1) * e->mtu;
}

/* Flow f may be finished: acknowledged entirely, nothing of it left in the
 * fabric, its timer cancelled. Its message's counters go to the hook with
 * its last flow. */
static void maybe_finish(struct pkt_eng *e, struct flow *f)
{
    uint32_t fi = (uint32_t)(f - e->flows);
    struct rec_flow *r = &e->rec[fi];
    if (r->done || f->acked != f->size) return;
    if (r->timer) {
        evq_cancel_at(&e->q, e->rec_cold[fi].timer_seq, e->rec_cold[fi].timer_at);
        r->timer = 0;
    }
    if (r->inpkts || f->ready) return; /* (a ready flow is in its sender's list) */
    r->done = 1;
    struct msg *m = &e->msgs[f->msg];
    if (m->acks_left == 1 && e->msg_loss) { /* its last flow: the message's are final */
        struct res_flow_loss loss;
        pkt_rec_msg_loss(e, m, &loss);
        e->msg_loss(e->msg_loss_ctx, &e->base, m->tag, &loss);
    }
    pkt_flow_acked(e, f);
}

/* A packet of flow fi leaves the fabric without an answer. */
static void consumed(struct pkt_eng *e, uint32_t fi)
{
    e->live_pkts--;
    e->rec[fi].inpkts--;
    maybe_finish(e, &e->flows[fi]);
}

void pkt_rec_lost(struct pkt_eng *e, const struct pkt *k)
{
    if (!(k->flags & (PKT_ACK | PKT_TRIM))) e->st.drop_bytes += k->payload; /* a header's were */
    consumed(e, k->flow);
}

/* Bytes still to be serialized at port q now. */
static double backlog_bytes(const struct pkt_eng *e, uint32_t q)
{
    simtime_t until = e->ports[q].busy_until;
    if (until <= e->now) return 0;
    return (double)(until - e->now) * (double)e->base.t->ports[q].bps / (8.0 * PS_PER_S);
}

int pkt_rec_full(const struct pkt_eng *e, uint32_t q, const struct pkt *k, simtime_t b)
{
    if (!e->sw_first) return 1; /* b is above the port's own buffer */
    /* Dynamic thresholds (Choudhury and Hahne, "Dynamic queue length
     * thresholds for shared-memory packet switches", IEEE/ACM ToN 1998):
     * the packet joins port q only if q's queue with it stays within
     * alpha x (B - Q), Q the bytes queued at all the switch's output ports,
     * and Q with it within B. Queues are read at this instant, from each
     * port's backlog (its bytes still to be serialized). */
    const struct topo *t = e->base.t;
    uint32_t s = t->ports[q].src - t->hosts;
    double Q = 0;
    for (uint32_t j = e->sw_first[s]; j < e->sw_first[s + 1]; j++)
        Q += backlog_bytes(e, e->sw_ports[j]);
    double mine = (double)b * (double)t->ports[q].bps / (8.0 * PS_PER_S); /* k included */
    double size = (double)k->wire;
    return Q + size > e->shared_bytes || mine > e->shared_alpha * (e->shared_bytes - Q);
}

void pkt_rec_overflow(struct pkt_eng *e, uint32_t q, struct pkt *k)
{
    struct port_rt *p = &e->ports[q];
    e->st.drop_bytes += k->payload;
    if (e->trim) {
        /* switch.trim: the payload is lost, the header (ack_bytes on the
         * wire, its seq and length kept) goes on ahead of the queue here
         * (pkt_commit_first), in FIFO order at later ports, and is never
         * dropped (docs/transports.md) */
        e->trims[q]++;
        k->wire = (uint16_t)e->ack_bytes;
        k->flags |= PKT_TRIM;
        pkt_commit_first(e, q, k);
        return;
    }
    p->drops++;
    consumed(e, k->flow);
}

/* Turns packet k (data of flow f at offset s, at its destination) into its
 * flow's ack (cumulative point r->cum; extra: PKT_NACK, PKT_TRIM) and sends
 * it back by the reverse path. */
static void answer(struct pkt_eng *e, struct pkt *k, const struct rec_flow *r, uint64_t s,
                   uint8_t extra)
{
    uint32_t back = k->src;
    k->src = k->dst;
    k->dst = back;
    k->flags = (uint8_t)(PKT_ACK | PKT_REC | extra | (k->flags & PKT_CE));
    int64_t d = (int64_t)pkt_mtus(e, r->cum + e->mtu - 1) - (int64_t)pkt_mtus(e, s);
    if (d > -32768 && d < 32768) {
        k->payload = (uint16_t)(int16_t)d; /* seq stays the data packet's */
    } else {
        k->seq = (uint32_t)r->cum;
        k->payload = ACK_NO_REF;
    }
    k->wire = (uint16_t)e->ack_bytes;
    k->hop = 0;
    const struct topo *t = e->base.t;
    pkt_commit_from(e,
                    __builtin_expect(e->nic_pace, 0) ? topo_nic_port(t, k->src, k->dst, k->path)
                                                     : topo_first_port(t, k->src, k->dst),
                    k, PKT_NONE);
}

/* Data packet k of flow f arrives: its bytes are delivered (once). */
static void delivered(struct pkt_eng *e, struct flow *f, uint64_t len)
{
    f->delivered += len;
    e->st.data_bytes_delivered += len;
}

/* go-back-N's receiver. */
static void gbn_data(struct pkt_eng *e, struct pkt *k, struct flow *f, struct rec_flow *r)
{
    uint64_t s = unwrap(k->seq, r->cum), len = k->payload;
    if (k->flags & PKT_TRIM) {
        /* its payload was dropped: the gap is certain, and NACKed even
         * when one was (the packet trimmed may be the resent one) */
        if (s < r->cum || (r->nacked && s > r->cum)) {
            consumed(e, k->flow);
            return;
        }
        r->nacked = 1;
        e->rec_cold[k->flow].nacks++;
        e->st.nacks++;
        answer(e, k, r, s, PKT_NACK);
        return;
    }
    if (s == r->cum) {
        delivered(e, f, len);
        r->cum += len;
        r->nacked = 0;
        answer(e, k, r, s, 0);
        if (f->delivered == f->size) pkt_msg_flow_done(e, f);
        return;
    }
    e->st.dup_bytes += len;
    if (s < r->cum) { /* a duplicate: acknowledged again */
        answer(e, k, r, s, 0);
        return;
    }
    if (r->nacked) { /* beyond a gap already NACKed: discarded */
        consumed(e, k->flow);
        return;
    }
    r->nacked = 1;
    e->rec_cold[k->flow].nacks++;
    e->st.nacks++;
    answer(e, k, r, s, PKT_NACK);
}

/* selective repeat's receiver. */
static void sel_data(struct pkt_eng *e, struct pkt *k, struct flow *f, struct rec_flow *r)
{
    uint32_t fi = k->flow;
    uint64_t s = unwrap(k->seq, r->cum), len = k->payload;
    uint64_t *rx = bm(e, fi, BM_RX);
    if (k->flags & PKT_TRIM) { /* NACKed at once, alone */
        if (s < r->cum) {
            consumed(e, fi);
            return;
        }
        e->rec_cold[k->flow].nacks++;
        e->st.nacks++;
        answer(e, k, r, s, PKT_NACK | PKT_TRIM);
        return;
    }
    /* (the bit at cum is never set: the loop below clears it as cum
     * reaches it, and no bit is set at or beyond rx_high) */
    if (s < r->cum || (s != r->cum && bm_get(rx, bit_of(e, s)))) { /* a duplicate */
        e->st.dup_bytes += len;
        answer(e, k, r, s, 0);
        return;
    }
    delivered(e, f, len);
    if (s + len > r->rx_high) r->rx_high = s + len;
    if (s == r->cum) {
        r->cum += len;
        while (r->cum < r->rx_high && bm_get(rx, bit_of(e, r->cum))) {
            bm_clear(rx, bit_of(e, r->cum));
            r->cum += pkt_len(e, f, r->cum);
        }
        r->nacked = 0;
        r->gap = r->cum < r->rx_high; /* the next hole, open from now */
        r->gap_t = e->now;
        answer(e, k, r, s, 0);
    } else {
        bm_set(rx, bit_of(e, s));
        if (!r->gap) {
            r->gap = 1;
            r->gap_t = e->now;
        }
        if (!r->nacked && e->now - r->gap_t >= e->reorder_ps) {
            r->nacked = 1;
            e->rec_cold[fi].nacks++;
            e->st.nacks++;
            answer(e, k, r, s, PKT_NACK);
        } else {
            answer(e, k, r, s, 0);
        }
    }
    if (f->delivered == f->size) pkt_msg_flow_done(e, f);
}

/* Selective sender: packets in [from, to) with no SACK and not marked
 * already are marked lost. */
static void mark_lost(struct pkt_eng *e, uint32_t fi, uint64_t from, uint64_t to)
{
    const struct flow *f = &e->flows[fi];
    uint64_t *sk = bm(e, fi, BM_SACK), *ls = bm(e, fi, BM_LOST);
    for (uint64_t o = from; o < to; o += pkt_len(e, f, o)) {
        uint64_t b = bit_of(e, o);
        if (!bm_get(sk, b) && !bm_get(ls, b)) {
            bm_set(ls, b);
            e->rec[fi].lost++;
        }
    }
}

/* Ack k of flow f: the offset of the data packet it answers (*s; returns
 * 0 when it names none) and the receiver's cumulative point (*c). */
static int ack_decode(const struct pkt_eng *e, const struct flow *f, const struct pkt *k,
                      uint64_t *s, uint64_t *c)
{
    if (k->payload == ACK_NO_REF) {
        *c = unwrap(k->seq, f->acked);
        return 0;
    }
    *s = unwrap(k->seq, f->acked);
    int64_t cp = (int64_t)pkt_mtus(e, *s) + (int16_t)k->payload;
    uint64_t cb = cp > 0 ? (uint64_t)cp * e->mtu : 0;
    *c = cb < f->size ? cb : f->size;
    return 1;
}

/* An acknowledgement (or NACK) of flow f reaches its sender. */
static void on_ack(struct pkt_eng *e, struct pkt *k, struct flow *f, struct rec_flow *r)
{
    uint32_t fi = k->flow;
    int sel = e->recovery == REC_SELECTIVE;
    e->st.acks++;
    e->live_pkts--;
    r->inpkts--;
    uint64_t s = 0, c;
    int ref = ack_decode(e, f, k, &s, &c);
    uint64_t fresh = 0;                 /* bytes this ack newly confirms (cc = nscc) */
    if (c > f->acked && c <= r->high) { /* new cumulative acknowledgement */
        uint64_t n = c - f->acked;
        if (sel && (r->sacked | r->lost)) {
            /* (with neither, no bit is set: every byte is fresh) */
            uint64_t *sk = bm(e, fi, BM_SACK), *ls = bm(e, fi, BM_LOST);
            for (uint64_t o = f->acked; o < c; o += pkt_len(e, f, o)) {
                uint64_t b = bit_of(e, o);
                if (!bm_get(sk, b))
                    fresh += pkt_len(e, f, o);
                else
                    r->sacked--;
                bm_clear(sk, b);
                if (bm_get(ls, b)) {
                    bm_clear(ls, b);
                    r->lost--;
                }
            }
        } else {
            fresh = n;
        }
        f->acked = c;
        if (f->sent < c) f->sent = c; /* go-back-N: the receiver had more than we went back to */
        r->rto_at = e->now + e->rto_ps;
        if (e->cc && !e->nscc) /* dctcp */
            pkt_dctcp_ack(e, f, (uint32_t)n, (k->flags & PKT_CE) ? (uint32_t)n : 0);
    }
    if (sel && ref && s >= c) { /* a SACK (or the NACK of a trimmed packet) */
        uint64_t p = s;
        if (p >= f->acked && p < r->high) {
            if (k->flags & PKT_TRIM) {
                mark_lost(e, fi, p, p + 1);
            } else {
                uint64_t b = bit_of(e, p);
                if (!bm_get(bm(e, fi, BM_SACK), b)) {
                    fresh += pkt_len(e, f, p);
                    r->sacked++;
                }
                bm_set(bm(e, fi, BM_SACK), b);
                if (bm_get(bm(e, fi, BM_LOST), b)) {
                    bm_clear(bm(e, fi, BM_LOST), b);
                    r->lost--;
                }
                if (k->flags & PKT_NACK) { /* the holes below it are lost */
                    uint64_t from = r->nack_end > f->acked ? r->nack_end : f->acked;
                    mark_lost(e, fi, from, p);
                    if (p > r->nack_end) r->nack_end = p;
                }
            }
        }
    } else if (!sel && (k->flags & PKT_NACK) && c >= f->acked && f->sent > c) {
        f->sent = c; /* go back */
    }
    if (e->nscc && f->acked != f->size) {
        /* nscc: the answered packet's RTT and the bytes confirmed; a NACK
         * is a loss (its packet's bytes) */
        if (ref) pkt_nscc_on_ack(e, f, s, fresh, (k->flags & PKT_CE) != 0);
        if (k->flags & PKT_NACK) pkt_nscc_on_nack(e, f, pkt_len(e, f, ref ? s : c));
    }
    if (f->acked == f->size) {
        maybe_finish(e, f);
        return;
    }
    uint32_t sched = f->sched;
    if (!f->ready && pkt_rec_can_send(e, f)) pkt_ready_push(e, fi);
    pkt_nic_send(e, sched);
}

/* cc = dcqcn: data packet k of flow fi at its destination is DCQCN's
 * notification point's too: a CE mark may send a CNP, which counts among
 * the flow's packets in the fabric until its sender takes it. */
static void dcqcn_np(struct pkt_eng *e, struct pkt *k, struct rec_flow *r)
{
    uint64_t before = pkt_dcqcn_cnps(e);
    pkt_dcqcn_rx(e, k);
    if (pkt_dcqcn_cnps(e) != before) r->inpkts++;
}

void pkt_rec_deliver(struct pkt_eng *e, struct pkt *k)
{
    struct flow *f = &e->flows[k->flow];
    struct rec_flow *r = &e->rec[k->flow];
    if (k->flags & PKT_CNP) { /* cc = dcqcn: at the sender */
        pkt_dcqcn_rx(e, k);
        r->inpkts--;
        maybe_finish(e, f);
        return;
    }
    if (k->flags & PKT_ACK)
        on_ack(e, k, f, r);
    else {
        if (e->dq && (k->flags & PKT_CE)) dcqcn_np(e, k, r);
        if (e->recovery == REC_SELECTIVE)
            sel_data(e, k, f, r);
        else
            gbn_data(e, k, f, r);
    }
}

void pkt_rec_timer(struct pkt_eng *e, uint32_t fi)
{
    struct flow *f = &e->flows[fi];
    struct rec_flow *r = &e->rec[fi];
    r->timer = 0;
    if (f->acked == f->size) {
        maybe_finish(e, f);
        return;
    }
    if (r->high == f->acked) return; /* nothing outstanding: the next send arms it */
    if (e->now < r->rto_at) {
        arm(e, fi);
        return;
    }
    e->rec_cold[fi].timeouts++;
    e->st.timeouts++;
    if (e->nscc) pkt_nscc_on_timeout(e, f);
    if (e->recovery == REC_SELECTIVE) {
        /* everything without a SACK is resent */
        mark_lost(e, fi, f->acked, r->high);
        r->nack_end = r->high;
    } else {
        f->sent = f->acked; /* go back to the first byte not acknowledged */
    }
    r->rto_at = e->now + e->rto_ps;
    arm(e, fi);
    if (!f->ready && pkt_rec_can_send(e, f)) pkt_ready_push(e, fi);
    pkt_nic_send(e, f->sched);
}
