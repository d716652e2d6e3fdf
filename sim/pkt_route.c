/* pkt_route.c - adaptive routing, the one choice of path that reads the
 * fabric's state (the rest of forwarding is inline in pkt_route.h). */
#include "sim/pkt_route.h"

/* Adaptive routing: leaf la sends the packet on to the next hop (of its
 * routing row toward the destination) whose port has the least queued,
 * starting the scan at a rotating offset so ties spread. Only the first
 * switch adapts; the later ones read the path number as for ECMP. */
void pkt_adapt(struct pkt_eng *e, struct pkt *k, uint32_t la)
{
    const struct topo *t = e->base.t;
    if (t->up) { /* leaf-spine: its factored uplinks, path k = spine k */
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
        return;
    }
    const struct topo_hop *g = topo_hop_at(t, la, topo_leaf_of(t, k->dst));
    uint32_t n = g->n, r = e->adapt_rr[la]++;
    if (n < 2) { /* no choice here: the later switches' digits rotate */
        k->path = (uint16_t)(r % t->npaths);
        k->flags &= (uint8_t)~PKT_ADAPT;
        return;
    }
    uint32_t start = r % n;
    const uint32_t *ports = &t->route_ports[g->off];
    uint32_t best = start;
    simtime_t bestq = SIMTIME_MAX;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t kk = start + j < n ? start + j : start + j - n;
        simtime_t bu = e->ports[ports[kk]].busy_until;
        simtime_t q = bu > e->now ? bu - e->now : 0;
        if (q < bestq) {
            bestq = q;
            best = kk;
            if (q == 0) break;
        }
    }
    /* The leaf's digit is the choice; the later switches' digits rotate
     * (on a leaf-spine there are none: the path is the spine). */
    uint32_t rest = t->npaths / n;
    k->path = (uint16_t)(best + (rest > 1 ? n * ((r / n) % rest) : 0));
    k->flags &= (uint8_t)~PKT_ADAPT;
}
