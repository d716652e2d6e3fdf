/* pkt_route.c - adaptive routing, the one choice of path that reads the
 * fabric's state (the rest of forwarding is inline in pkt_route.h). */
#include "sim/pkt_route.h"

/* Adaptive routing: leaf la sends the packet up the path whose first port
 * has the least queued, starting the scan at a rotating offset so ties
 * spread. */
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
