/* pkt_route.c - the choices of path that read the fabric's state or hash
 * per switch (the rest of forwarding is inline in pkt_route.h): adaptive
 * routing, per-switch ECMP hashing on fabrics with choices past the first
 * switch, and the flowlet's gap. */
#include "sim/ecmp.h"
#include "sim/pkt_route.h"

/* Adaptive routing on a leaf-spine: leaf la sends the packet to the spine
 * whose uplink has the least queued, starting the scan at a rotating offset
 * so ties spread. The spine has one way down: this is the only choice. */
void pkt_adapt(struct pkt_eng *e, struct pkt *k, uint32_t la)
{
    const struct topo *t = e->base.t;
    uint32_t n = t->npaths, start = e->adapt_rr[la]++ % n;
    uint32_t best = start;
    simtime_t bestq = SIMTIME_MAX;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t kk = start + j < n ? start + j : start + j - n;
        simtime_t bu = e->ports[topo_up(t, la, kk)].busy_until;
        simtime_t q = bu > e->now ? bu - e->now : 0;
        if (q < bestq) {
            bestq = q;
            best = kk;
            if (q == 0) break;
        }
    }
    k->path = (uint16_t)best;
    k->flags &= (uint8_t)~PKT_ADAPT;
}

/* Switch row sw's choice for data packet k on a fabric read from its rows
 * (topo_next_port): with PKT_ADAPT the least-queued of its next hops toward
 * the destination's leaf (a rotating start per switch spreads ties), else
 * (e->hop_hash: ecmp, split, flowlet) the switch's own hash of the flow's value
 * (ecmp.h), except at the first switch, whose choice is the flow's path
 * number itself. The choice i becomes the switch's digit of the path number
 * ((p / div) % n, topo/route.c), so the later switches and the
 * acknowledgement read the path the packet took. */
void pkt_hop(struct pkt_eng *e, struct pkt *k, uint32_t sw)
{
    const struct topo *t = e->base.t;
    uint32_t dl = topo_dest_leaf(t, k->dst, k->path);
    if (sw == dl) return;
    const struct topo_hop *g = topo_hop_at(t, sw, dl);
    uint32_t n = g->n;
    if (n < 2) return;
    uint32_t i;
    if (k->flags & PKT_ADAPT) {
        uint32_t start = e->adapt_rr[sw]++ % n;
        const uint32_t *ports = &t->route_ports[g->off];
        simtime_t bestq = SIMTIME_MAX;
        i = start;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t kk = start + j < n ? start + j : start + j - n;
            simtime_t bu = e->ports[ports[kk]].busy_until;
            simtime_t q = bu > e->now ? bu - e->now : 0;
            if (q < bestq) {
                bestq = q;
                i = kk;
                if (q == 0) break;
            }
        }
    } else {
        if (sw < t->leaves) return; /* the source leaf: the flow's path number */
        i = (uint32_t)(eng_ecmp_hop(e->seed, e->flows[k->flow].k, sw) % n);
    }
    uint32_t div = g->div, cur = (k->path / div) % n;
    k->path = (uint16_t)(k->path - cur * div + i * div);
}

/* Flowlet switching (path = flowlet): the flow's first packet takes its
 * ECMP path; a packet sent at least flowlet_gap after the flow's previous
 * one starts a new flowlet on a new path drawn at random (seeded, the
 * spraying stream), as LetFlow does, with new entropy for the later
 * switches' hashes. Returns the packet's path number. */
uint16_t pkt_flowlet(struct pkt_eng *e, struct flow *f)
{
    simtime_t *last = &e->flowlet_last[f - e->flows];
    if (f->sent && e->now - *last >= e->flowlet_gap) {
        uint32_t p = (uint32_t)gsl_rng_uniform_int(e->rng, e->base.t->npaths);
        if (e->hop_hash) p |= (uint32_t)(gsl_rng_get(e->rng) & 0xffffu) << 16;
        f->k = p;
    }
    *last = e->now;
    return (uint16_t)f->k;
}

uint16_t pkt_adapt_plane(struct pkt_eng *e, uint32_t src, uint32_t dst)
{
    const struct topo *t = e->base.t;
    uint32_t h = topo_pxn(t, src, dst) ? topo_pxn_relay(t, src, dst) : src, P = t->planes;
    uint32_t start = e->adapt_rr[t->nswitches + h]++ % P, best = start;
    simtime_t bestq = SIMTIME_MAX;
    for (uint32_t j = 0; j < P; j++) {
        uint32_t k = (start + j) % P;
        simtime_t bu = e->ports[t->host_up[(size_t)k * t->hosts + h]].busy_until;
        simtime_t q = bu > e->now ? bu - e->now : 0;
        if (q < bestq) {
            bestq = q;
            best = k;
            if (q == 0) break;
        }
    }
    return (uint16_t)(best * t->plane_paths);
}
