/* pkt_port.h - a packet's commit to a FIFO port (pkt_port.c), its common
 * case inline: the forwarding of every hop (pkt_route.h) commits from here
 * without a call, and pkt_commit (pkt_eng.h) is the same code out of line.
 * The rare cases (a new peak, ECN, a full buffer, a failed link, the
 * control class) stay in pkt_port.c's pkt_commit_watch. */
#ifndef MOESIM_PKT_PORT_H
#define MOESIM_PKT_PORT_H

#include "sim/pkt_eng.h"

/* pkt_commit for a packet that finds port q's backlog above watch_ps
 * (pkt_port.c). */
void pkt_commit_watch(struct pkt_eng *e, uint32_t q, struct pkt *k, simtime_t depart,
                      simtime_t ser);

/* Serialization of packet k at port p (q). */
static inline simtime_t pkt_ser_of(const struct pkt_eng *e, const struct port_rt *p, uint32_t q,
                                   const struct pkt *k)
{
    return k->wire == e->mtu         ? p->ser_mtu
           : k->wire == e->ack_bytes ? p->ser_ack
                                     : ser_ps(k->wire, e->base.t->ports[q].bps);
}

/* Packet k joins port p (q): it leaves at depart, after ser of
 * serialization, and travels the link at the tail of the port's ring. Only
 * the wire's first packet is in the event queue. */
static inline __attribute__((always_inline)) void pkt_enqueue(struct pkt_eng *e, uint32_t q,
                                                              struct port_rt *p, struct pkt *k,
                                                              simtime_t depart, simtime_t ser)
{
    p->busy_until = depart;
    p->bytes += k->wire;
    p->busy_ps += ser;
    k->t = depart + p->lat_ps;
    if (p->n == 0) pkt_push(e, k->t, EV_ARRIVE, q);
    if (__builtin_expect(p->n == p->cap, 0)) pkt_port_ring_grow(p);
    p->ring[(p->head + p->n++) & (p->cap - 1)] = *k;
}

/* Puts packet k into port q's queue at time now: its departure follows every
 * byte already queued there. */
static inline __attribute__((always_inline)) void pkt_commit_inl(struct pkt_eng *e, uint32_t q,
                                                                 struct pkt *k)
{
    struct port_rt *p = &e->ports[q];
    simtime_t ser = pkt_ser_of(e, p, q, k);
    simtime_t start = p->busy_until > e->now ? p->busy_until : e->now;
    simtime_t depart = start + ser;
    if (__builtin_expect(depart - e->now > p->watch_ps, 0)) {
        pkt_commit_watch(e, q, k, depart, ser);
        return;
    }
    pkt_enqueue(e, q, p, k, depart, ser);
}

#endif
