/* ideal.c - the ideal completion-time bound of a set of demands, and the
 * zero-load path latency (see topo.h).
 *
 * Under ideal fractional multipath routing a leaf's inter-leaf traffic spreads
 * evenly over all its uplinks and all spine downlinks into the destination
 * leaf, so the bottlenecks are link groups: each host's uplink and downlink,
 * each leaf's uplink group and each leaf's downlink group. With no queueing,
 * the phase ends when the most loaded group has carried its bytes, plus the
 * time the last packet needs to cross an idle path after its first hop: for
 * a lone flow that is exactly its completion time.
 */
#include <stdlib.h>

#include "topo/topo.h"

simtime_t topo_path_latency(const struct topo *t, uint32_t a, uint32_t b, uint32_t bytes)
{
    simtime_t lat = 0;
    if (topo_same_server(t, a, b)) {
        const struct topo_port *u = &t->ports[t->nvl_up[a]], *d = &t->ports[t->nvl_down[b]];
        return u->lat_ps + ser_ps(bytes, u->bps) + d->lat_ps + ser_ps(bytes, d->bps);
    }
    const struct topo_port *up = &t->ports[t->host_up[a]], *down = &t->ports[t->host_down[b]];
    lat += up->lat_ps + ser_ps(bytes, up->bps);
    uint32_t la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b);
    if (la != lb) {
        const struct topo_port *u = &t->ports[topo_up(t, la, 0)];
        const struct topo_port *d = &t->ports[topo_down(t, 0, lb)];
        lat += u->lat_ps + ser_ps(bytes, u->bps) + d->lat_ps + ser_ps(bytes, d->bps);
    }
    lat += down->lat_ps + ser_ps(bytes, down->bps);
    return lat;
}

simtime_t topo_ideal_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu)
{
    uint32_t H = t->hosts, L = t->leaves;
    uint64_t *load = xcalloc(4 * (size_t)H + 2 * (size_t)L, sizeof *load);
    uint64_t *hup = load, *hdown = load + H, *lup = load + 2 * H, *ldown = load + 2 * H + L;
    uint64_t *nup = load + 2 * H + 2 * L, *ndown = nup + H;
    simtime_t maxlat = 0;
    int have_inter = 0, have_intra = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i].bytes == 0 || d[i].src == d[i].dst)
            continue;
        if (topo_same_server(t, d[i].src, d[i].dst)) {
            nup[d[i].src] += d[i].bytes;
            ndown[d[i].dst] += d[i].bytes;
            have_intra = 1;
            continue;
        }
        hup[d[i].src] += d[i].bytes;
        hdown[d[i].dst] += d[i].bytes;
        uint32_t la = topo_leaf_of(t, d[i].src), lb = topo_leaf_of(t, d[i].dst);
        if (la != lb) {
            lup[la] += d[i].bytes;
            ldown[lb] += d[i].bytes;
            have_inter = 1;
        } else {
            have_intra = 1;
        }
    }
    /* Every host link has the same rate and every leaf the same uplink
     * capacity, so one latency per kind of pair suffices. */
    if (have_intra || have_inter) {
        for (size_t i = 0; i < n; i++) {
            if (d[i].bytes == 0 || d[i].src == d[i].dst)
                continue;
            uint32_t bytes = d[i].bytes < mtu ? (uint32_t)d[i].bytes : mtu;
            /* The bandwidth term already counts the first hop's serialization. */
            simtime_t l = topo_path_latency(t, d[i].src, d[i].dst, bytes) -
                          ser_ps(bytes, t->ports[topo_first_port(t, d[i].src, d[i].dst)].bps);
            if (l > maxlat)
                maxlat = l;
        }
    }
    simtime_t worst = 0;
    for (uint32_t h = 0; h < H; h++) {
        simtime_t a = ser_ps(hup[h], t->ports[t->host_up[h]].bps);
        simtime_t b = ser_ps(hdown[h], t->ports[t->host_down[h]].bps);
        if (a > worst)
            worst = a;
        if (b > worst)
            worst = b;
        if (t->nvl_up) {
            a = ser_ps(nup[h], t->ports[t->nvl_up[h]].bps);
            b = ser_ps(ndown[h], t->ports[t->nvl_down[h]].bps);
            if (a > worst)
                worst = a;
            if (b > worst)
                worst = b;
        }
    }
    if (L > 1) {
        uint64_t group_bps = t->ports[topo_up(t, 0, 0)].bps * t->npaths;
        for (uint32_t l = 0; l < L; l++) {
            simtime_t a = ser_ps(lup[l], group_bps), b = ser_ps(ldown[l], group_bps);
            if (a > worst)
                worst = a;
            if (b > worst)
                worst = b;
        }
    }
    free(load);
    return worst + maxlat;
}
