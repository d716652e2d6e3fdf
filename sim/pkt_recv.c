/* pkt_recv.c - the packet engine's receivers (pkt_eng.h): a packet at its
 * destination, the acknowledgement it turns into (coalesced with
 * transport.ack_every), and the completion of flows and messages. */
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_nscc.h"

/* Every flow of the message is delivered and acknowledged: its slot is free. */
static void msg_free(struct pkt_eng *e, uint32_t mi)
{
    e->msgs[mi].next_free = e->free_msg;
    e->free_msg = mi;
    e->st.underflows += e->live_msgs == 0;
    e->live_msgs--;
}

/* Flow f is acknowledged entirely. */
static void flow_acked(struct pkt_eng *e, struct flow *f)
{
    e->st.underflows += e->msgs[f->msg].acks_left == 0;
    if (--e->msgs[f->msg].acks_left == 0) msg_free(e, f->msg);
}

/* Flow f is delivered entirely; the hook hears of its message's last. */
static void msg_flow_done(struct pkt_eng *e, struct flow *f)
{
    struct msg *m = &e->msgs[f->msg];
    e->st.underflows += m->flows_left == 0;
    if (--m->flows_left == 0) {
        e->st.msgs_done++;
        struct res_flow_loss loss, *lp = NULL;
        if (e->rec) { /* loss recovery: its counters so far (and dcqcn's CNPs) */
            pkt_rec_msg_loss(e, m, lp = &loss);
        } else if (e->dq) { /* cc = dcqcn: its CNPs, final (no data of it is left to arrive) */
            loss = (struct res_flow_loss){0, 0, 0, pkt_dcqcn_msg_cnps(e, m)};
            lp = &loss;
        }
        if (e->hooks.msg_done)
            e->hooks.msg_done(e->hooks.ctx, &e->base, m->tag, m->start, e->now, lp);
    }
}

/* Packet k reached its destination host. cc_on: whether its flow runs a
 * congestion control (the packet's PKT_CC), a constant in each of the two
 * copies (pkt_deliver, deliver_cc), so that cc = window's is the code it
 * was before dctcp but for one test on an ack. */
static void deliver_cc(struct pkt_eng *e, struct pkt *k);
static inline __attribute__((always_inline)) void deliver(struct pkt_eng *e, struct pkt *k,
                                                          const int cc_on)
{
    struct flow *f = &e->flows[k->flow];
    /* one test for acks and cc = dctcp's packets: cc = window's data
     * packets pay nothing for dctcp, its acks one more test */
    if (k->flags & (PKT_ACK | PKT_CC | PKT_REC)) {
        if (!cc_on && (k->flags & PKT_REC)) { /* loss recovery: its own receiver and sender */
            pkt_rec_deliver(e, k);
            return;
        }
        if (!cc_on && (k->flags & PKT_CC)) {
            deliver_cc(e, k);
            return;
        }
        if (!(k->flags & PKT_ACK)) goto data;
        e->st.underflows += k->payload > f->sent - f->acked;
        f->acked += k->payload;
        e->st.acks++;
        if (cc_on) {
            if (e->nscc)
                pkt_nscc_ack(e, f, k);
            else
                pkt_dctcp_ack(e, f, k->payload, k->marked);
        }
        e->live_pkts--;
        uint32_t sched = f->sched;
        if (f->acked == f->size)
            flow_acked(e, f);
        else if (!f->ready && pkt_flow_can_send(e, f))
            pkt_ready_push(e, (uint32_t)(f - e->flows));
        pkt_nic_send(e, sched);
        return;
    }
data:
    f->delivered += k->payload;
    e->st.data_bytes_delivered += k->payload;
    /* cc = dctcp: the receiver counts the marked bytes its next ack echoes
     * (all of them, with coalescing: the exact fraction, docs/transports.md) */
    struct cc_flow *cc = cc_on ? &e->cc[k->flow] : NULL;
    if (cc_on && (k->flags & PKT_CE)) cc->rx_marked += k->payload;
    if (e->ack_every > 1) {
        /* Coalescing: acknowledge every ack_every packets, the flow's last
         * one, and whenever half a window waits (so no window stalls; under
         * dctcp, half the flow's own window, and whenever no more of its data
         * is on the way or about to leave: a window cut after this packet
         * left could otherwise wait on the ack held here forever; this
         * stands for the delayed-ack timer a NIC has). */
        f->unacked += k->payload;
        if (++f->unacked_pkts < e->ack_every && f->delivered != f->size &&
            2 * (uint64_t)f->unacked < (cc_on ? (uint64_t)cc->cwnd : e->window) &&
            (!cc_on || f->sent > f->delivered || f->ready)) {
            e->live_pkts--;
            return;
        }
        k->payload = (uint16_t)f->unacked;
        f->unacked = 0;
        f->unacked_pkts = 0;
    }
    /* The same packet goes back as the acknowledgement, on the reverse of
     * the path it came by (the same spine). */
    const struct topo *t = e->base.t;
    uint32_t back = k->src;
    k->src = k->dst;
    k->dst = back;
    k->flags = cc_on ? PKT_ACK | PKT_CC : PKT_ACK;
    if (cc_on) {
        /* nscc: the ack keeps the seq of the packet that sent it (the
         * sender's RTT sample) and echoes CE as a flag, set when any byte
         * it acknowledges was marked; dctcp: the count of marked bytes */
        if (e->nscc)
            k->flags |= cc->rx_marked ? PKT_CE : 0;
        else
            k->marked = cc->rx_marked;
        cc->rx_marked = 0;
    }
    k->wire = (uint16_t)e->ack_bytes;
    k->hop = 0;
    pkt_commit_from(e,
                    __builtin_expect(e->nic_pace, 0) ? topo_nic_port(t, k->src, k->dst, k->path)
                                                     : topo_first_port(t, k->src, k->dst),
                    k, PKT_NONE);
    if (f->delivered == f->size) msg_flow_done(e, f);
}

static __attribute__((noinline)) void deliver_cc(struct pkt_eng *e, struct pkt *k)
{
    if (e->dq) { /* cc = dcqcn: a CNP, or data that may send one; acks as cc = window's */
        if (pkt_dcqcn_rx(e, k)) return;
        k->flags &= (uint8_t)~PKT_CC;
        deliver(e, k, 0);
        return;
    }
    deliver(e, k, 1);
}

void pkt_deliver(struct pkt_eng *e, struct pkt *k)
{
    deliver(e, k, 0);
}

void pkt_msg_flow_done(struct pkt_eng *e, struct flow *f)
{
    msg_flow_done(e, f);
}

void pkt_flow_acked(struct pkt_eng *e, struct flow *f)
{
    flow_acked(e, f);
}
