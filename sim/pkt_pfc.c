/* pkt_pfc.c - switch.pfc: lossless Ethernet, priority flow control (IEEE
 * 802.1Qbb) with one priority class, in the packet engine (pkt_eng.h).
 *
 * Pausable ports. Under pfc every port is one: a FIFO waiting queue and a
 * transmission event per packet (EV_TX, when its last byte has left), in
 * place of pkt_commit's departure computed at enqueue, since a pause can
 * stop a port after a packet has joined it. A port serializes one packet at
 * a time, the head of its queue; when it is done the packet goes onto the
 * wire's ring (pkt_eng.h), which keeps the far end's FIFO order, and the
 * next one starts unless the port is paused. A paused port finishes the
 * packet it is serializing and starts no other until it is resumed.
 *
 * Per-ingress accounting. A packet that reaches a switch through port q
 * (its ingress) is charged to q from then until its last byte has left the
 * switch's output port; the charge counts every packet (acks too: one
 * class). When q's charge passes XOFF (switch.pfc_xoff_bytes) the switch
 * sends PAUSE to q's sender, and when it falls to XON (switch.pfc_xon_bytes)
 * RESUME. Either frame takes effect at q's sender one link latency and one
 * 64-byte frame's serialization later (the reverse link is taken to match
 * q's latency and rate); it never waits behind data. A host's NIC port is
 * paused like any other, and its sender stops: it is called again only when
 * its last data packet has left the port. On a rail with planes each plane
 * port of a NIC is a port of its own, paused by its plane's rail switch
 * alone: the NIC is paced at its own rate over them (sim/pkt_send.c
 * nic_send_planes, no wake), and what it hands a paused plane waits in that
 * port's queue, its other planes sending on (docs/transports.md, "PFC on
 * rail planes"). Head-of-line blocking and
 * congestion spreading follow: a paused port stops every flow through it.
 * With switch.ctrl_priority control packets are a second class, in a FIFO
 * of their own per port (cq): a port that starts a packet takes the control
 * FIFO's head first, paused or not, so a control packet waits for the packet
 * in service and earlier control packets only, ahead of the waiting data,
 * at O(1) per packet; never charged, never paused (pkt_ctrlq.c).
 *
 * Headroom (switch.pfc_headroom_bytes) is what the switch holds per ingress
 * above XOFF for the bytes that still arrive once PAUSE is sent; nothing is
 * dropped under pfc, so it is checked against switch.buffer_bytes
 * (app/validate.c) and the engine counts the packets that went beyond it
 * (pkt_pfc_ingress_max gives each ingress's peak).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_route.h"

/* A packet waiting at (or serialized by) a pausable port. */
struct pfc_slot {
    struct pkt k;
    simtime_t ser;    /* its serialization at the port */
    uint32_t ingress; /* the switch port it came in by, or PKT_NONE */
    uint32_t wake;    /* the sender to call when it has left, or PKT_NONE */
};

/* A port's pausable state, and its accounting as an ingress of the switch
 * at its far end. What a packet's commit and transmission read and write
 * is in its first 64-byte line (f->ports is 64-byte aligned), the pause
 * time, the signal's delay and the control FIFO's ring in the second. */
struct pfc_port {
    struct pfc_slot *q; /* ring of cap (a power of two), oldest at head */
    uint32_t head, n, cap;
    uint8_t busy;      /* serializing q[head] (cq[chead] if svc_ctrl) until tx_end */
    uint8_t svc_ctrl;  /* the packet in service is the control FIFO's head */
    uint8_t paused;    /* by its far end's PAUSE */
    uint8_t xoff_sent; /* as an ingress: it has sent PAUSE, not yet RESUME */
    simtime_t tx_end;
    simtime_t waiting_ps;        /* serialization of the packets behind the one in service */
    uint64_t ing_bytes, ing_max; /* as an ingress: bytes queued in the switch */
    uint32_t chead, cn;          /* switch.ctrl_priority: the control FIFO (cq) */
    /* the second line */
    struct pfc_slot *cq; /* switch.ctrl_priority: the control packets' FIFO, as q */
    uint32_t ccap;
    simtime_t signal_ps; /* a PAUSE's delay: latency + one frame's serialization */
    simtime_t paused_since, pause_ps;
    uint64_t npaused; /* PAUSEs that took effect here */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct pfc_port) == 128, "a pausable port is two cache lines");

struct pkt_pfc {
    struct pfc_port *ports; /* [nports] */
    uint64_t xoff, xon, headroom;
    uint64_t pauses, overruns; /* PAUSE frames sent; packets charged beyond XOFF + headroom */
};

#define PFC_FRAME_BYTES 64 /* a PAUSE (MAC control) frame, minimum Ethernet frame */

struct pkt_pfc *pkt_pfc_create(const struct topo *t, const struct tr_spec *c)
{
    struct pkt_pfc *f = xcalloc(1, sizeof *f);
    f->ports = aligned_alloc(64, (size_t)t->nports * sizeof *f->ports);
    if (!f->ports) err_fatal("out of memory for %u pausable ports", t->nports);
    memset(f->ports, 0, (size_t)t->nports * sizeof *f->ports);
    f->xoff = (uint64_t)c->sw.pfc_xoff_bytes;
    f->xon = (uint64_t)c->sw.pfc_xon_bytes;
    f->headroom = (uint64_t)c->sw.pfc_headroom_bytes;
    for (uint32_t i = 0; i < t->nports; i++)
        f->ports[i].signal_ps = t->ports[i].lat_ps + ser_ps(PFC_FRAME_BYTES, t->ports[i].bps);
    return f;
}

void pkt_pfc_reset(struct pkt_pfc *f, const struct topo *t)
{
    for (uint32_t i = 0; i < t->nports; i++) {
        struct pfc_port *pp = &f->ports[i];
        struct pfc_slot *q = pp->q, *cq = pp->cq;
        uint32_t cap = pp->cap, ccap = pp->ccap;
        simtime_t sig = pp->signal_ps;
        memset(pp, 0, sizeof *pp);
        pp->q = q;
        pp->cap = cap;
        pp->cq = cq;
        pp->ccap = ccap;
        pp->signal_ps = sig;
    }
    f->pauses = f->overruns = 0;
}

void pkt_pfc_destroy(struct pkt_pfc *f, uint32_t nports)
{
    if (!f) return;
    for (uint32_t i = 0; i < nports; i++) {
        free(f->ports[i].q);
        free(f->ports[i].cq);
    }
    free(f->ports);
    free(f);
}

/* Doubles a FIFO of slots (*q, *head, n, *cap), keeping its order. */
static __attribute__((noinline)) void queue_grow(struct pfc_slot **q, uint32_t *head, uint32_t n,
                                                 uint32_t *cap)
{
    uint32_t c = *cap ? 2 * *cap : 8;
    if (c < *cap) err_fatal("more than %u packets queued at one port", *cap);
    struct pfc_slot *r = xmalloc((size_t)c * sizeof *r);
    for (uint32_t j = 0; j < n; j++)
        r[j] = (*q)[(*head + j) & (*cap - 1)];
    free(*q);
    *q = r;
    *head = 0;
    *cap = c;
}

/* switch.ctrl_priority: the slot for a control packet joining pp, at the
 * tail of its control FIFO (pkt_ctrlq.c's class). */
static __attribute__((noinline)) struct pfc_slot *ctrl_slot(struct pfc_port *pp)
{
    if (pp->cn == pp->ccap) queue_grow(&pp->cq, &pp->chead, pp->cn, &pp->ccap);
    return &pp->cq[(pp->chead + pp->cn++) & (pp->ccap - 1)];
}

/* Port q starts serializing the head of its queue. */
static inline __attribute__((always_inline)) void tx_start(struct pkt_eng *e, uint32_t q,
                                                           struct pfc_port *pp)
{
    /* a control packet first (cn > 0 only under switch.ctrl_priority) */
    pp->svc_ctrl = pp->cn != 0;
    const struct pfc_slot *s = pp->svc_ctrl ? &pp->cq[pp->chead] : &pp->q[pp->head];
    pp->busy = 1;
    pp->tx_end = e->now + s->ser;
    pp->waiting_ps -= s->ser;
    e->ports[q].busy_ps += s->ser;
    e->ports[q].busy_until = pp->tx_end + pp->waiting_ps;
    pkt_push(e, pp->tx_end, EV_TX, q);
}

/* Ingress port `in` (of the switch at its far end) signals its sender:
 * PAUSE or RESUME, in effect signal_ps later. */
static __attribute__((noinline)) void signal_up(struct pkt_eng *e, uint32_t in, struct pfc_port *ip,
                                                int pause)
{
    ip->xoff_sent = (uint8_t)pause;
    if (pause) e->pfc->pauses++;
    pkt_push(e, e->now + ip->signal_ps, pause ? EV_PAUSE : EV_RESUME, in);
}

/* pkt_pfc_commit's body, inlined into the event handlers below (a
 * packet's hop is an arrival and a commit: one call, not two). */
static inline __attribute__((always_inline)) void
pfc_commit(struct pkt_eng *e, uint32_t q, struct pkt *k, uint32_t ingress, uint32_t wake)
{
    struct pkt_pfc *f = e->pfc;
    struct pfc_port *pp = &f->ports[q];
    struct port_rt *p = &e->ports[q];
    simtime_t ser = k->wire == e->mtu         ? p->ser_mtu
                    : k->wire == e->ack_bytes ? p->ser_ack
                                              : ser_ps(k->wire, e->base.t->ports[q].bps);
    /* the queue it finds, in ps of the port's rate, as pkt_commit's: the
     * rest of the packet in service and those waiting */
    simtime_t b = (pp->busy ? pp->tx_end - e->now : 0) + pp->waiting_ps + ser;
    if (b > p->watch_ps) {
        if (e->fault && pkt_fault_dead(e, q)) { /* faults.fail: lost (a dead port's watch is 0) */
            if (wake != PKT_NONE)
                err_fatal("faults.fail: a NIC's port %u failed under switch.pfc", q);
            pkt_fault_drop(e, q, k);
            return;
        }
        pkt_port_watch(e, p, k, b, ser);
    }
    int ctrl = e->ctrlq && pkt_is_ctrl(k);
    struct pfc_slot *s;
    if (ctrl) {
        s = ctrl_slot(pp);
    } else {
        if (pp->n == pp->cap) queue_grow(&pp->q, &pp->head, pp->n, &pp->cap);
        s = &pp->q[(pp->head + pp->n++) & (pp->cap - 1)];
    }
    if (ctrl) ingress = PKT_NONE; /* its class is not paused: not charged (pkt_ctrlq.c) */
    s->k = *k;
    s->ser = ser;
    s->ingress = ingress;
    s->wake = wake;
    pp->waiting_ps += ser;
    p->busy_until = e->now + b;
    if (ingress != PKT_NONE) {
        struct pfc_port *ip = &f->ports[ingress];
        ip->ing_bytes += k->wire;
        if (ip->ing_bytes > ip->ing_max) {
            ip->ing_max = ip->ing_bytes;
            if (ip->ing_bytes > f->xoff + f->headroom) f->overruns++;
        }
        if (!ip->xoff_sent && ip->ing_bytes > f->xoff) signal_up(e, ingress, ip, 1);
    }
    if (!pp->busy && (!pp->paused || ctrl)) tx_start(e, q, pp);
}

void pkt_pfc_commit(struct pkt_eng *e, uint32_t q, struct pkt *k, uint32_t ingress, uint32_t wake)
{
    pfc_commit(e, q, k, ingress, wake);
}

/* Port q's packet in service has left: onto the wire, its ingress charge
 * released, the next one started, its sender called. (The slot is read in
 * place: nothing writes the queue before its fields are used, the sender's
 * call, which may commit here, coming last.) */
void pkt_pfc_tx(struct pkt_eng *e, uint32_t q)
{
    struct pkt_pfc *f = e->pfc;
    struct pfc_port *pp = &f->ports[q];
    struct port_rt *p = &e->ports[q];
    const struct pfc_slot *s;
    if (pp->svc_ctrl) { /* a control packet (switch.ctrl_priority) */
        s = &pp->cq[pp->chead];
        pp->chead = (pp->chead + 1) & (pp->ccap - 1);
        pp->cn--;
    } else {
        s = &pp->q[pp->head];
        pp->head = (pp->head + 1) & (pp->cap - 1);
        pp->n--;
    }
    uint32_t ingress = s->ingress, wake = s->wake, wire = s->k.wire;
    pp->busy = 0;
    p->bytes += wire;
    simtime_t t = e->now + p->lat_ps;
    if (p->n == 0) pkt_push(e, t, EV_ARRIVE_PFC, q);
    if (p->n == p->cap) pkt_port_ring_grow(p);
    struct pkt *w = &p->ring[(p->head + p->n++) & (p->cap - 1)];
    *w = s->k;
    w->t = t;
    if (ingress != PKT_NONE) {
        struct pfc_port *ip = &f->ports[ingress];
        ip->ing_bytes -= wire;
        if (ip->xoff_sent && ip->ing_bytes <= f->xon) signal_up(e, ingress, ip, 0);
    }
    if (pp->cn || (pp->n && !pp->paused)) /* control packets start while paused */
        tx_start(e, q, pp);
    else
        p->busy_until = e->now + pp->waiting_ps;
    if (wake != PKT_NONE) {
        e->hosts[wake].nic_pending = 0;
        pkt_nic_send(e, wake);
    }
}

/* EV_ARRIVE_PFC: the head of port q's wire reaches its far end (pkt_route.h)
 * and goes on through a pausable port, pkt_pfc_commit inlined (flatten). */
__attribute__((flatten)) void pkt_pfc_arrive(struct pkt_eng *e, uint32_t q)
{
    pkt_arrive_at(e, q, 1);
}

void pkt_pfc_event(struct pkt_eng *e, uint32_t kind, uint32_t q)
{
    struct pfc_port *pp = &e->pfc->ports[q];
    switch (kind) {
    case EV_ARRIVE_PFC:
        pkt_pfc_arrive(e, q);
        break;
    case EV_TX:
        pkt_pfc_tx(e, q);
        break;
    case EV_PAUSE:
        pp->paused = 1;
        pp->paused_since = e->now;
        pp->npaused++;
        break;
    case EV_RESUME:
        pp->paused = 0;
        pp->pause_ps += e->now - pp->paused_since;
        if (!pp->busy && (pp->n || pp->cn)) tx_start(e, q, pp);
        break;
    }
}

uint64_t pkt_pfc_backlog(const struct pkt_eng *e, uint32_t q)
{
    const struct pfc_port *pp = &e->pfc->ports[q];
    simtime_t b = (pp->busy ? pp->tx_end - e->now : 0) + pp->waiting_ps;
    unsigned __int128 bits = (unsigned __int128)b * e->base.t->ports[q].bps;
    return (uint64_t)((bits + 8 * PS_PER_S - 1) / (8 * PS_PER_S));
}

simtime_t pkt_pfc_pause_ps(const struct pkt_eng *e, uint32_t q)
{
    const struct pfc_port *pp = &e->pfc->ports[q];
    return pp->pause_ps + (pp->paused ? e->now - pp->paused_since : 0);
}

/* At the end of a run: a port still paused (its queue waiting on a RESUME
 * that no event will bring) is a PFC deadlock, a cycle of pauses. */
int pkt_pfc_check(const struct pkt_eng *e, char *msg, size_t n)
{
    uint32_t paused = 0, first = 0;
    for (uint32_t q = e->base.t->nports; q-- > 0;)
        if (e->pfc->ports[q].paused) {
            paused++;
            first = q;
        }
    if (!paused) {
        /* every charge released (faults.fail: the lost packets' too) */
        for (uint32_t q = 0; q < e->base.t->nports; q++)
            if (e->pfc->ports[q].ing_bytes) {
                snprintf(msg, n, "invariant: PFC: ingress port %u charged %llu bytes at the end", q,
                         (unsigned long long)e->pfc->ports[q].ing_bytes);
                return -1;
            }
        return 0;
    }
    snprintf(
        msg, n,
        "invariant: PFC deadlock: %u port%s paused when no event was left (the first: port %u, "
        "%u packet%s waiting)",
        paused, paused == 1 ? "" : "s", first, e->pfc->ports[first].n + e->pfc->ports[first].cn,
        e->pfc->ports[first].n + e->pfc->ports[first].cn == 1 ? "" : "s");
    return -1;
}

uint64_t pkt_pfc_ingress_max(const struct pkt_eng *e, uint32_t q)
{
    return e->pfc ? e->pfc->ports[q].ing_max : 0;
}

uint64_t pkt_pfc_pauses(const struct pkt_eng *e, uint32_t q)
{
    return e->pfc ? e->pfc->ports[q].npaused : 0;
}

/* faults.fail (pkt_fault.c): port q's link has failed. What it holds
 * (waiting, and the packet in service, whose EV_TX the caller cancels) goes
 * into lost[] (room for pkt_pfc_queued(e, q)); each one's ingress charge
 * is released, with a RESUME to that ingress's sender where it falls to
 * XON, so a port upstream paused for packets the failure took is resumed.
 * Port q is not paused any more (its pause time ends now), and as an
 * ingress it has sent its last signal: its sender is the dead port itself.
 * Returns the number lost. */
uint32_t pkt_pfc_queued(const struct pkt_eng *e, uint32_t q)
{
    return e->pfc->ports[q].n + e->pfc->ports[q].cn;
}

/* One FIFO of port q (its data queue, or its control FIFO) into lost[];
 * in_service: its head is the packet being serialized. */
static uint32_t fail_fifo(struct pkt_eng *e, uint32_t q, const struct pfc_slot *r, uint32_t head,
                          uint32_t n, uint32_t cap, int in_service, struct pkt *lost)
{
    struct pkt_pfc *f = e->pfc;
    for (uint32_t j = 0; j < n; j++) {
        const struct pfc_slot *s = &r[(head + j) & (cap - 1)];
        if (s->wake != PKT_NONE)
            err_fatal("faults.fail: a NIC's port %u failed under switch.pfc", q);
        lost[j] = s->k;
        if (j == 0 && in_service) e->ports[q].bytes += s->k.wire; /* begun: counted as sent */
        if (s->ingress != PKT_NONE) {
            struct pfc_port *ip = &f->ports[s->ingress];
            ip->ing_bytes -= s->k.wire;
            if (ip->xoff_sent && ip->ing_bytes <= f->xon) signal_up(e, s->ingress, ip, 0);
        }
    }
    return n;
}

uint32_t pkt_pfc_fail(struct pkt_eng *e, uint32_t q, struct pkt *lost)
{
    struct pfc_port *pp = &e->pfc->ports[q];
    uint32_t n = fail_fifo(e, q, pp->q, pp->head, pp->n, pp->cap, pp->busy && !pp->svc_ctrl, lost);
    n += fail_fifo(e, q, pp->cq, pp->chead, pp->cn, pp->ccap, pp->busy && pp->svc_ctrl, lost + n);
    pp->head = pp->n = 0;
    pp->chead = pp->cn = 0;
    pp->busy = pp->svc_ctrl = 0;
    pp->waiting_ps = 0;
    if (pp->paused) pp->pause_ps += e->now - pp->paused_since;
    pp->paused = 0;
    pp->xoff_sent = 0;
    e->ports[q].busy_until = e->now;
    return n;
}
