/* pkt_ctrlq.c - switch.ctrl_priority: control packets (acks, NACKs, CNPs:
 * PKT_ACK; trimmed headers: PKT_TRIM) have their own strict-priority class
 * at every output port, switch and NIC alike (docs/transports.md, "Control
 * packets' priority").
 *
 * On the fast path (pkt_port.c) a packet's departure is computed when it
 * joins a port, and the port's packets sit on its wire's ring in departure
 * order. A control packet joins the ring behind the packet being
 * serialized (no preemption) and behind the control packets already
 * waiting, and ahead of every data packet that has not begun: those are
 * shifted one slot down the ring and leave its serialization later (their
 * arrival times grow by it), so the link's busy time stays exact and the
 * ring stays in departure order. The ring's head has always begun (a packet
 * waits only behind one still leaving, and that one is still on the ring),
 * so it is never overtaken and the one arrival event a ring has (its
 * head's) stands. The cost is a walk over the waiting data packets per
 * control packet: the queue's length, only where the key is on.
 *
 * Under switch.pfc the pausable ports keep their own queues (pkt_pfc.c), and
 * the class there is the same: control packets go ahead of waiting data,
 * are not charged to their ingress (their class is not paused) and start
 * while the port is paused. There the class is a FIFO of its own per port,
 * taken first whenever the port starts a packet: O(1) per control packet,
 * no walk.
 */
#include "sim/pkt_eng.h"

/* Serialization of packet k at port p (q). */
static simtime_t ser_of(const struct pkt_eng *e, const struct port_rt *p, uint32_t q,
                        const struct pkt *k)
{
    return k->wire == e->mtu         ? p->ser_mtu
           : k->wire == e->ack_bytes ? p->ser_ack
                                     : ser_ps(k->wire, e->base.t->ports[q].bps);
}

/* Whether packet o at port p (q) has begun its serialization, or is a
 * control packet: k goes behind it. */
static inline int begun_or_ctrl(const struct pkt_eng *e, const struct port_rt *p, uint32_t q,
                                const struct pkt *o)
{
    return pkt_is_ctrl(o) || o->t - p->lat_ps - ser_of(e, p, q, o) <= e->now;
}

void pkt_ctrlq_commit(struct pkt_eng *e, uint32_t q, struct pkt *k)
{
    struct port_rt *p = &e->ports[q];
    simtime_t ser = ser_of(e, p, q, k);
    if (p->n == p->cap) pkt_port_ring_grow(p);
    uint32_t m = p->cap - 1, n = p->n, j = n;
    /* j: where k goes. At the tail when the last packet has begun or is a
     * control packet (nothing to overtake: the common case). Otherwise from
     * the head (which has begun): past the packets that have begun (on the
     * wire or in service: a latency's worth) and the control packets
     * waiting (control packets keep their FIFO order), up to the first data
     * packet that has not begun; every packet behind it is waiting data. */
    if (n > 1 && !begun_or_ctrl(e, p, q, &p->ring[(p->head + n - 1) & m]))
        for (j = 1; begun_or_ctrl(e, p, q, &p->ring[(p->head + j) & m]); j++)
            ;
    /* the waiting data move one slot down and leave ser later */
    for (uint32_t i = n; i > j; i--) {
        struct pkt *d = &p->ring[(p->head + i) & m];
        *d = p->ring[(p->head + i - 1) & m];
        d->t += ser;
    }
    simtime_t start = e->now;
    if (j > 0) {
        simtime_t prev = p->ring[(p->head + j - 1) & m].t - p->lat_ps; /* its departure */
        if (prev > start) start = prev;
    }
    k->t = start + ser + p->lat_ps;
    p->busy_until = (p->busy_until > e->now ? p->busy_until : e->now) + ser;
    if (p->busy_until - e->now > p->max_backlog_ps) p->max_backlog_ps = p->busy_until - e->now;
    p->bytes += k->wire;
    p->busy_ps += ser;
    p->ring[(p->head + j) & m] = *k;
    if (p->n++ == 0) pkt_push(e, k->t, EV_ARRIVE, q);
}
