/* pkt_rail.c - forwarding over NVLink on a rail fabric with cross_rail = pxn
 * (topo/rail.c): a packet from GPU a to GPU b on another rail goes up a's
 * NVLink to its server's NVLink switch, down to the relay (the GPU of a's
 * server on b's rail, topo_pxn_relay; b itself when they share a server),
 * and on from the relay's NIC as if the relay had sent it: host_up, then the
 * relay's rail switch forwards it by the table (to b's link under one rail
 * switch, through spine `path` otherwise). Only rail fabrics with PXN mark
 * ports PKT_NVSW and PKT_RELAY (pkt_eng.c), so the other fabrics never come
 * here. */
#include "sim/pkt_eng.h"

int pkt_rail_arrive(struct pkt_eng *e, uint32_t q, struct pkt *k)
{
    const struct topo *t = e->base.t;
    if (e->ports[q].sw == PKT_NVSW) { /* at a server's NVLink switch */
        pkt_commit_from(e, t->nvl_down[topo_pxn_relay(t, k->src, k->dst)], k, q);
        return 0;
    }
    uint32_t h = t->ports[q].dst; /* a GPU, over NVLink */
    if (h == k->dst) return 1;
    /* The relay's NIC: the leaf-spine forwarding counts hops from here
     * (hop 1 at the relay's rail switch), and under one rail switch the
     * packet goes straight down to its destination. */
    k->hop = 0;
    if (t->planes > 1) { /* the path's plane, also under one rail switch */
        pkt_commit_from(e, t->host_up[(size_t)topo_plane(t, k->path) * t->hosts + h], k, PKT_NONE);
        return 0;
    }
    if (topo_leaf_of(t, h) == topo_leaf_of(t, k->dst))
        k->path = PKT_DIRECT;
    else if (k->path == PKT_DIRECT)
        k->path = 0;
    pkt_commit_from(e, t->host_up[h], k, PKT_NONE);
    return 0;
}
