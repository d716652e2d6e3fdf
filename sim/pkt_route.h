/* pkt_route.h - the packet engine's forwarding (pkt_eng.h): the path a
 * data packet takes (ECMP, spraying, round robin, split, adaptive, flowlet,
 * ethereal), and a packet's next port at each hop, from the packet alone.
 * These run once per packet and per hop, so they are inline here (in the
 * sender and the event loop); pkt_route.c holds what scans or hashes: the
 * adaptive choice, the later switches' choices (per-switch ECMP hash,
 * adaptive) on fabrics other than a leaf-spine, and the flowlet's gap. */
#ifndef MOESIM_PKT_ROUTE_H
#define MOESIM_PKT_ROUTE_H

#include <gsl/gsl_rng.h>

#include "sim/pkt_eng.h"
#include "sim/pkt_port.h"

/* Adaptive routing at a leaf-spine's source leaf la (pkt_route.c). */
void pkt_adapt(struct pkt_eng *e, struct pkt *k, uint32_t la);

/* A data packet's path number under the path mode (not a direct route). */
static inline void pkt_pick_path(struct pkt_eng *e, struct flow *f, struct pkt *k)
{
    const struct topo *t = e->base.t;
    if (e->path == PATH_SPRAY) {
        k->path = (uint16_t)gsl_rng_uniform_int(e->rng, t->npaths);
        return;
    }
    if (e->fixed_path) { /* ecmp, split; ethereal: the flow's own path */
        k->path = (uint16_t)f->k;
        return;
    }
    switch (e->path) {
    case PATH_SPRAY_RR:
        k->path = (uint16_t)(f->k++ % t->npaths);
        break;
    case PATH_ADAPTIVE:
        k->flags |= PKT_ADAPT;
        k->path = t->planes > 1 ? pkt_adapt_plane(e, f->src, f->dst) : 0;
        break;
    default: /* flowlet */
        k->path = pkt_flowlet(e, f);
        break;
    }
}

/* The path a new data packet of flow f takes (sets path and flags). */
static inline void pkt_choose_path(struct pkt_eng *e, struct flow *f, struct pkt *k)
{
    const struct topo *t = e->base.t;
    k->flags = e->pkt_flags; /* PKT_CC under cc = dctcp */
    if (((f->sched & 1) && !t->pxn) || topo_leaf_of(t, f->src) == topo_leaf_of(t, f->dst)) {
        k->path = PKT_DIRECT;
        return;
    }
    pkt_pick_path(e, f, k);
}

/* The same on a rail with planes (sim/pkt_send.c): pairs under one rail
 * switch take a path number too, which names their plane. */
static inline void pkt_choose_path_planes(struct pkt_eng *e, struct flow *f, struct pkt *k)
{
    k->flags = e->pkt_flags;
    if ((f->sched & 1) && !e->base.t->pxn)
        k->path = PKT_DIRECT;
    else
        pkt_pick_path(e, f, k);
}

/* Prefetching for the arrivals soon to come, on fabrics whose ports do not
 * fit a cache (more than PKT_PF_PORTS of them: 2 MiB of port state). The
 * events after the one being handled in its lane of the event queue
 * (evq_lane_ahead) are mostly the next ones handled, in that order. For an
 * arrival PKT_PF_FAR places ahead its port's line is prefetched; at
 * PKT_PF_MID, the packet at the head of its wire; three places ahead, the
 * flow state that packet's delivery (or a per-switch hash) reads; two
 * ahead, both lines of the port it goes to next: what its arrival would
 * miss on otherwise. (The slot of that port's wire it will take, one ahead,
 * made no difference measured and cost a second route per arrival.) Reads only (the
 * per-switch hash on a copy), so nothing simulated changes. */
#define PKT_PF_PORTS       16384
#define PKT_PF_FAR         8
#define PKT_PF_MID         4
#define PKT_REC_FLOW_BYTES 64 /* sizeof(struct rec_flow), pkt_loss.c */

/* The port packet k, at the far end of port p (a switch's), goes to next,
 * as pkt_arrive_at forwards it, without writing anything; PKT_NONE where
 * that is an adaptive choice. */
static inline uint32_t pkt_next_port_peek(struct pkt_eng *e, const struct port_rt *p,
                                          const struct pkt *k)
{
    const struct topo *t = e->base.t;
    if (k->path == PKT_DIRECT) return topo_last_port(t, k->src, k->dst);
    if (k->flags & PKT_ADAPT) return PKT_NONE;
    if (t->up) {
        uint32_t hop = k->hop + 1u;
        return hop == 1   ? topo_up(t, p->sw, k->path)
               : hop == 2 ? topo_down(t, k->path, topo_leaf_of(t, k->dst))
                          : t->host_down[k->dst];
    }
    if (e->hop_hash && !(k->flags & PKT_ACK)) {
        struct pkt c = *k; /* pkt_hop without PKT_ADAPT writes the packet only */
        pkt_hop(e, &c, p->sw);
        return topo_next_port(t, p->sw, c.dst, c.path);
    }
    return topo_next_port(t, p->sw, k->dst, k->path);
}

/* The wire's head packet of the arrival d places ahead in the top's lane,
 * with its port in *pp; NULL if that is not an arrival or its wire is empty
 * (a cancelled event's). */
static inline const struct pkt *pkt_ahead(const struct pkt_eng *e, uint32_t d,
                                          const struct port_rt **pp)
{
    const struct ev *a = evq_lane_ahead(&e->q, d);
    if (!a || a->kind != EV_ARRIVE) return NULL;
    const struct port_rt *p = &e->ports[a->id];
    *pp = p;
    return p->n ? &p->ring[p->head] : NULL;
}

/* The next port of the arrival d places ahead (pkt_next_port_peek), or
 * PKT_NONE (none known, or into a host). */
static inline uint32_t pkt_next_ahead(struct pkt_eng *e, uint32_t d)
{
    const struct port_rt *p;
    const struct pkt *k = pkt_ahead(e, d, &p);
    return k && p->sw < PKT_NVSW ? pkt_next_port_peek(e, p, k) : PKT_NONE;
}

static inline __attribute__((always_inline)) void pkt_prefetch_ahead(struct pkt_eng *e)
{
    const struct ev *a = evq_lane_ahead(&e->q, PKT_PF_FAR);
    if (a && a->kind == EV_ARRIVE) __builtin_prefetch(&e->ports[a->id]);
    a = evq_lane_ahead(&e->q, PKT_PF_MID);
    if (a && a->kind == EV_ARRIVE) {
        const struct port_rt *p = &e->ports[a->id];
        if (p->n) __builtin_prefetch(&p->ring[p->head]);
    }
    /* three ahead: the flow's state a delivery (or a per-switch hash) reads */
    const struct port_rt *p;
    const struct pkt *k = pkt_ahead(e, 3, &p);
    if (k && p->sw >= PKT_NVSW) {
        __builtin_prefetch(&e->flows[k->flow]);
        if (e->rec) __builtin_prefetch((const char *)e->rec + (size_t)k->flow * PKT_REC_FLOW_BYTES);
        if (e->cc) {
            __builtin_prefetch(&e->cc[k->flow]);
            if (e->nscc) __builtin_prefetch((const char *)&e->cc[k->flow] + 64);
        }
    } else if (k && e->hop_hash && !(k->flags & PKT_ACK)) {
        __builtin_prefetch(&e->flows[k->flow]);
    }
    /* two ahead: the port it goes to next */
    uint32_t next = pkt_next_ahead(e, 2);
    if (next != PKT_NONE) {
        __builtin_prefetch(&e->ports[next], 1);
        __builtin_prefetch((const char *)&e->ports[next] + 64, 1);
    }
}

/* The packet at the head of port q's wire reaches the wire's far end: it is
 * delivered, or goes on to its next port. pfc: switch.pfc's copy (a
 * constant: pkt_arrive, and pkt_pfc.c's), whose next port is pausable and
 * learns the packet's ingress port q. */
static inline __attribute__((always_inline)) void pkt_arrive_at(struct pkt_eng *e, uint32_t q,
                                                                const int pfc)
{
    if (!pfc && e->base.t->nports > PKT_PF_PORTS) pkt_prefetch_ahead(e);
    struct port_rt *p = &e->ports[q];
    struct pkt pk = p->ring[p->head], *k = &pk;
    p->head = (p->head + 1) & (p->cap - 1);
    if (--p->n) {
        const struct pkt *behind = &p->ring[p->head];
        pkt_push(e, behind->t, pfc ? EV_ARRIVE_PFC : EV_ARRIVE, q);
        /* The flow of the packet delivered next here: a cache miss that
         * can be taken now rather than then. */
        if (p->sw >= PKT_NVSW) __builtin_prefetch(&e->flows[behind->flow], 1);
    }

    /* The route, from the packet alone: a port into a host delivers it; a
     * switch forwards it by the routing table (topo_next_port: its row for
     * the destination's leaf and the packet's path number), or straight to
     * the destination for PKT_DIRECT (under one leaf, or over NVLink). */
    k->hop++;
    if (p->sw >= PKT_NVSW) { /* into a host, or NVLink on a rail with PXN */
        if (p->sw == PKT_TO_HOST || pkt_rail_arrive(e, q, k)) pkt_deliver(e, k);
        return;
    }
    const struct topo *t = e->base.t;
    uint32_t next;
    if (k->path == PKT_DIRECT) {
        next = topo_last_port(t, k->src, k->dst);
    } else if (t->up) {
        /* A leaf-spine's table factors (topo.h): up at the source's leaf,
         * down at spine `path`, then the host's link. The same ports as
         * topo_next_port, from two small arrays instead of the rows. */
        if (k->hop == 1) {
            if (k->flags & PKT_ADAPT) pkt_adapt(e, k, p->sw);
            next = topo_up(t, p->sw, k->path);
        } else if (k->hop == 2) {
            next = topo_down(t, k->path, topo_leaf_of(t, k->dst));
        } else {
            next = t->host_down[k->dst];
        }
    } else {
        /* Any other fabric: every switch with a choice adapts, or hashes
         * the flow (a data packet under ecmp, split or flowlet: hop_hash),
         * and writes its choice as its digit of the path number, which the
         * acknowledgement then follows back. */
        if ((k->flags & PKT_ADAPT) || (e->hop_hash && !(k->flags & PKT_ACK))) pkt_hop(e, k, p->sw);
        next = topo_next_port(t, p->sw, k->dst, k->path);
    }
    if (pfc)
        pkt_pfc_commit(e, next, k, q, PKT_NONE);
    else
        pkt_commit_inl(e, next, k);
}

static inline void pkt_arrive(struct pkt_eng *e, uint32_t q)
{
    pkt_arrive_at(e, q, 0);
}

#endif
