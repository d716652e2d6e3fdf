/* pkt_ctrlq.c - switch.ctrl_priority: control packets (acks, NACKs, CNPs:
 * PKT_ACK; trimmed headers: PKT_TRIM) have their own strict-priority class
 * at every output port, switch and NIC alike (docs/transports.md, "Control
 * packets' priority").
 *
 * On the fast path (pkt_port.c) a packet's departure is computed when it
 * joins a port, and the port's packets sit on its wire's ring in departure
 * order; only the ring's head's arrival is in the event queue. A control
 * packet leaves behind the packet being serialized (no preemption) and
 * behind the control packets already waiting, ahead of every data packet
 * that has not begun: those leave its serialization later.
 *
 * The lazy shift, O(1) per control packet (amortized). Per port
 * (struct ctrlq_port), counted from the ring's head:
 *   ring[0, m)  exact departures; each has begun or is a control packet, so
 *               no control packet can overtake it any more;
 *   ring[m, a)  waiting data, holding t - off: their departure is read as
 *               t + off, off being the control serialization that has
 *               overtaken waiting data on this port so far, so one addition
 *               to off delays them all;
 *   ring[a, n)  exact: data that joined (pkt_port.c's enqueue, untouched)
 *               since this file last looked, when off did not change.
 * A control packet that overtakes at most CTRLQ_SHORT waiting data (and
 * none in c) is put into the ring ahead of them, which move a slot down
 * (their t - off values unchanged: bounded work); the others wait in a FIFO
 * of their own (c), in departure order. The far end's order is the merge of the ring
 * after its head and c: before the head leaves (pkt_ctrlq_pre_arrive, from
 * pkt_run), whichever of ring[1] and c's head departs first is put at
 * ring[1] with its exact time (c's head goes into the slot before the head,
 * which moves there: no packet is copied along the ring), so
 * pkt_arrive_at's pop and its event for the packet behind are what they
 * were. A committed control packet first turns ring[a, n) into t - off
 * form, then moves the data that have begun by now from ring[m, ..) to the
 * exact part (each packet once either way), takes the later of the last
 * exact packet's and c's tail's departures as the end of what it waits for,
 * and adds its serialization to off. The times, the order at the far end
 * and the events are those of the eager walk this replaced (the data
 * shifted one by one), so the rows are the same.
 *
 * Other readers of a port's ring: pkt_port_sent (here pkt_ctrlq_sent,
 * through pkt_eng.c), runtime faults' kill_port (pkt_ctrlq_flatten first:
 * every time exact and c merged into the ring) and pkt_reset
 * (pkt_ctrlq_reset).
 *
 * Under switch.pfc the pausable ports keep their own queues (pkt_pfc.c), and
 * the class there is the same: control packets go ahead of waiting data,
 * are not charged to their ingress (their class is not paused) and start
 * while the port is paused. There the class is a FIFO of its own per port,
 * taken first whenever the port starts a packet, and no fast-path port
 * exists (e->cq is NULL).
 */
#include <stdlib.h>

#include "base/err.h"
#include "sim/pkt_eng.h"

/* Waiting data a control packet overtakes by moving them a slot down the
 * ring, at most: a short queue costs less so than a merge at every arrival
 * while c holds packets. */
#define CTRLQ_SHORT 16

void pkt_ctrlq_create(struct pkt_eng *e)
{
    if (e->ctrlq && !e->pfc) e->cq = xcalloc(e->base.t->nports, sizeof *e->cq);
}

void pkt_ctrlq_destroy(struct pkt_eng *e)
{
    if (!e->cq) return;
    for (uint32_t i = 0; i < e->base.t->nports; i++)
        free(e->cq[i].c);
    free(e->cq);
}

void pkt_ctrlq_reset(struct pkt_eng *e)
{
    if (!e->cq) return;
    for (uint32_t i = 0; i < e->base.t->nports; i++) {
        struct ctrlq_port *c = &e->cq[i];
        c->chead = c->cn = c->m = c->a = 0;
        c->off = 0;
    }
}

/* Serialization of packet k at port p (q). */
static simtime_t ser_of(const struct pkt_eng *e, const struct port_rt *p, uint32_t q,
                        const struct pkt *k)
{
    return k->wire == e->mtu         ? p->ser_mtu
           : k->wire == e->ack_bytes ? p->ser_ack
                                     : ser_ps(k->wire, e->base.t->ports[q].bps);
}

static inline struct pkt *slot(const struct port_rt *p, uint32_t j)
{
    return &p->ring[(p->head + j) & (p->cap - 1)];
}

/* The arrival time of ring[j]. */
static inline simtime_t t_of(const struct port_rt *p, const struct ctrlq_port *c, uint32_t j)
{
    simtime_t t = slot(p, j)->t;
    return j >= c->m && j < c->a ? t + c->off : t;
}

/* pkt_ctrlq_pre_arrive (pkt_eng.h) where c holds packets: ring[1] becomes
 * the earlier of ring[1] and c's head (c's head put into the slot before the
 * ring's head, which moves there), at its exact time. */
void pkt_ctrlq_take(struct pkt_eng *e, uint32_t q)
{
    struct port_rt *p = &e->ports[q];
    struct ctrlq_port *c = &e->cq[q];
    if (p->n == 1 || c->c[c->chead].t < t_of(p, c, 1)) {
        if (p->n == p->cap) pkt_port_ring_grow(p);
        uint32_t h = (p->head - 1) & (p->cap - 1);
        p->ring[h] = p->ring[p->head];
        p->ring[p->head] = c->c[c->chead];
        p->head = h;
        p->n++;
        c->chead = (c->chead + 1) & (c->ccap - 1);
        c->cn--;
        c->m = c->m + 1 > 2 ? c->m + 1 : 2;
        c->a = c->a + 1 > c->m ? c->a + 1 : c->m;
    } else if (c->m < 2) {
        if (c->a > 1) slot(p, 1)->t += c->off;
        c->m = 2;
        if (c->a < 2) c->a = 2;
    }
}

void pkt_ctrlq_commit(struct pkt_eng *e, uint32_t q, struct pkt *k)
{
    if (!e->cq) err_fatal("switch.ctrl_priority: a fast-path port under switch.pfc");
    struct port_rt *p = &e->ports[q];
    struct ctrlq_port *c = &e->cq[q];
    simtime_t ser = ser_of(e, p, q, k);
    simtime_t start = e->now;
    if (p->n == 0) { /* c is empty too: it begins now, at the ring's head */
        k->t = start + ser + p->lat_ps;
        if (p->n == p->cap) pkt_port_ring_grow(p);
        *slot(p, p->n++) = *k;
        c->m = c->a = 1;
        pkt_push(e, k->t, EV_ARRIVE, q);
    } else {
        uint32_t n = p->n;
        if (c->a <= c->m) { /* no data waits in t - off form: those joined since are, with off 0 */
            c->off = 0;
            const struct pkt *o = slot(p, n - 1);
            if (o->t - p->lat_ps - ser_of(e, p, q, o) <= e->now) /* all have begun: no walk */
                c->m = n;
        } else /* those joined since: t - off */
            for (uint32_t j = c->a; j < n; j++)
                slot(p, j)->t -= c->off;
        c->a = n;
        /* the data that have begun by now: exact, never overtaken */
        while (c->m < n) {
            struct pkt *o = slot(p, c->m);
            simtime_t t = o->t + c->off;
            if (t - p->lat_ps - ser_of(e, p, q, o) > e->now) break;
            o->t = t;
            c->m++;
        }
        /* it waits for the last packet that began and the control packets
         * before it: the later of the exact part's end and c's tail */
        simtime_t prev = slot(p, c->m - 1)->t - p->lat_ps; /* m >= 1: the head has begun */
        if (c->cn) {
            simtime_t ct = c->c[(c->chead + c->cn - 1) & (c->ccap - 1)].t - p->lat_ps;
            if (ct > prev) prev = ct;
        }
        if (prev > start) start = prev;
        k->t = start + ser + p->lat_ps;
        if (c->cn == 0 && n - c->m <= CTRLQ_SHORT) {
            /* in the ring at m, the few waiting data a slot down (their
             * times in t - off form move with them); nothing for
             * pkt_ctrlq_pre_arrive to merge */
            if (p->n == p->cap) pkt_port_ring_grow(p);
            for (uint32_t j = n; j > c->m; j--)
                *slot(p, j) = *slot(p, j - 1);
            *slot(p, c->m) = *k;
            p->n++;
            c->m++;
            c->a = p->n;
            c->off += ser;
        } else { /* in c, ahead of ring[m, n): they leave ser later */
            if (c->cn == c->ccap) {
                uint32_t cap = c->ccap ? 2 * c->ccap : 4;
                struct pkt *r = xmalloc((size_t)cap * sizeof *r);
                for (uint32_t j = 0; j < c->cn; j++)
                    r[j] = c->c[(c->chead + j) & (c->ccap - 1)];
                free(c->c);
                c->c = r;
                c->chead = 0;
                c->ccap = cap;
            }
            c->c[(c->chead + c->cn++) & (c->ccap - 1)] = *k;
            c->off += ser;
        }
    }
    p->busy_until = (p->busy_until > e->now ? p->busy_until : e->now) + ser;
    if (p->busy_until - e->now > p->max_backlog_ps) p->max_backlog_ps = p->busy_until - e->now;
    p->bytes += k->wire;
    p->busy_ps += ser;
}

uint64_t pkt_ctrlq_sent(const struct pkt_eng *e, uint32_t q)
{
    const struct port_rt *p = &e->ports[q];
    const struct ctrlq_port *c = &e->cq[q];
    uint64_t queued = 0;
    /* (as pkt_port_sent: those still to leave are at the tails) */
    for (uint32_t j = p->n; j-- > 0;) {
        if (t_of(p, c, j) - p->lat_ps <= e->now) break;
        queued += slot(p, j)->wire;
    }
    for (uint32_t j = c->cn; j-- > 0;) {
        const struct pkt *k = &c->c[(c->chead + j) & (c->ccap - 1)];
        if (k->t - p->lat_ps <= e->now) break;
        queued += k->wire;
    }
    return p->bytes - queued;
}

void pkt_ctrlq_flatten(struct pkt_eng *e, uint32_t q)
{
    if (!e->cq) return;
    struct port_rt *p = &e->ports[q];
    struct ctrlq_port *c = &e->cq[q];
    uint32_t n = p->n, total = n + c->cn, i = 0, j = 0;
    if (total == 0) return;
    struct pkt *r = xmalloc((size_t)total * sizeof *r);
    for (uint32_t o = 0; o < total; o++) { /* the merge, by time (all distinct on a link) */
        simtime_t ti = i < n ? t_of(p, c, i) : SIMTIME_MAX;
        const struct pkt *ck = j < c->cn ? &c->c[(c->chead + j) & (c->ccap - 1)] : NULL;
        if (ck && ck->t < ti) {
            r[o] = *ck;
            j++;
        } else {
            r[o] = *slot(p, i);
            r[o].t = ti;
            i++;
        }
    }
    while (p->cap < total)
        pkt_port_ring_grow(p);
    for (uint32_t o = 0; o < total; o++)
        p->ring[(p->head + o) & (p->cap - 1)] = r[o];
    p->n = total;
    free(r);
    c->cn = c->chead = 0;
    c->m = c->a = 0; /* every time exact: the state of a ring nothing has looked at */
}
