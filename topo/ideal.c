/* ideal.c - the ideal completion-time bound of a set of demands, and the
 * zero-load path latency (see topo.h).
 *
 * The bound is a lower bound on the phase's completion under any routing
 * (ideal fractional multipath included), any order of service and no
 * queueing beyond what the bytes themselves force: no phase can finish
 * before it. The argument, for the packet engine's model (sim/pkt_eng.h):
 * every demand starts at time 0; a flow of s bytes is sent as packets of
 * `mtu` bytes and a last one of s % mtu, in order, by its host's sender; a
 * port serializes one packet at a time (ser_ps of its bytes, rounded up),
 * and a packet travels a link's latency once it has left, so at every hop
 * (store and forward) it is entirely serialized before it goes on.
 *
 * Take a link L and a set D of demands whose bytes all cross L (for the
 * fabric: a leaf's uplinks, or the spines' downlinks into a leaf, as one
 * group of S links). Let pre be the least time after which any of D's bytes
 * can be at L, and post the least time from a packet of D leaving L to its
 * delivery. L serializes D's bytes one packet at a time, none before pre, so
 * its last packet of D leaves at pre + B/c at the earliest (B bytes, c the
 * rate; for a group of S links, one link carries at least B/S of them), and
 * it is delivered post later. The same holds for D's full-size packets
 * alone, whose pre and post are those of an mtu-sized packet. So
 *
 *   end >= max(pre + ser(B, c) + post, pre_full + ser(F, c) + post_full)
 *
 * with F the bytes in full packets. pre and post are sums of hop latencies
 * and serializations: post, after L, of D's smallest packet; pre, before L,
 * of an mtu packet for full packets, and for a flow's short last packet the
 * flow's whole size on its first link (it leaves its host after every other
 * packet of the flow) plus its own size at each hop between.
 *
 * The bound is the largest of these over every link and every choice of D
 * among: all demands that cross it; those of one route kind (under one leaf
 * or across the spines: their pre and post differ by two hops); and each
 * demand alone. A lone flow on an idle path finishes exactly at it: its
 * destination's link takes every byte from the moment the first packet
 * arrives (the short last one cannot arrive earlier). Acknowledgements,
 * windows and the hosts' round robin only delay packets, and are left out.
 *
 * The cost is a few additions per hop of each demand, and one record per
 * link (two per host link). Every host link has one rate and latency, and so
 * has every fabric link (topo_build): one per kind of hop suffices.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topo/ideal_lp.h"
#include "topo/topo.h"

simtime_t topo_path_latency(const struct topo *t, uint32_t a, uint32_t b, uint32_t bytes)
{
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = topo_route_ports(t, a, b, 0, ports);
    simtime_t lat = 0;
    for (uint32_t i = 0; i < n; i++)
        lat += t->ports[ports[i]].lat_ps + ser_ps(bytes, t->ports[ports[i]].bps);
    return lat;
}

/* What must cross one link (or link group) for a set of demands: bytes, the
 * bytes in full-size packets, and the least time before the first of them
 * can be there and after the last leaves (all, and full packets only). */
struct lb {
    uint64_t bytes, full;
    simtime_t pre, post, pre_full, post_full;
};

static const struct lb lb_empty = {0, 0, SIMTIME_MAX, SIMTIME_MAX, SIMTIME_MAX, SIMTIME_MAX};

static inline simtime_t tmin(simtime_t a, simtime_t b)
{
    return a < b ? a : b;
}

static inline void lb_add(struct lb *r, const struct lb *d)
{
    r->bytes += d->bytes;
    r->full += d->full;
    r->pre = tmin(r->pre, d->pre);
    r->post = tmin(r->post, d->post);
    r->pre_full = tmin(r->pre_full, d->pre_full);
    r->post_full = tmin(r->post_full, d->post_full);
}

/* The earliest the last byte of r's demands can be delivered, crossing a
 * link (or group) of `bps`: after all their bytes, or all their full
 * packets (0 for none). */
static simtime_t lb_bound(const struct lb *r, uint64_t bps)
{
    simtime_t all = 0, full = 0;
    if (r->bytes) all = r->pre + ser_ps(r->bytes, bps) + r->post;
    if (r->full) full = r->pre_full + ser_ps(r->full, bps) + r->post_full;
    return all > full ? all : full;
}

/* A route: its hops' rates and latencies, and the rate the bound divides a
 * hop's bytes by (the whole group's for the fabric hops). */
struct route {
    uint32_t n;
    uint64_t bps[TOPO_ROUTE_MAX_PORTS], cap[TOPO_ROUTE_MAX_PORTS];
    simtime_t lat[TOPO_ROUTE_MAX_PORTS];
    /* rail planes: the rate of the NIC that feeds hop 0's plane ports (it
     * sends a flow's packets onto every plane, sim/pkt_send.c); 0: hop 0 is
     * the sender's one port */
    uint64_t nic;
};

static inline simtime_t hop_ps(const struct route *r, uint32_t h, uint64_t bytes)
{
    return ser_ps(bytes, r->bps[h]) + r->lat[h];
}

/* Adds the flows of size s (cnt of them) to the per-hop records dh[] of one
 * demand on route r (flows of one demand differ by at most a byte). Each
 * hop's time for an mtu packet and for the short last one is taken once;
 * the times before and after hop j are their prefix and suffix sums (whole
 * picoseconds: the same sums in any order). */
static void add_flows(const struct route *r, uint64_t s, uint64_t cnt, uint32_t mtu, struct lb *dh)
{
    uint64_t k = s / mtu, rem = s % mtu;
    uint32_t n = r->n;
    simtime_t hm[TOPO_ROUTE_MAX_PORTS], hs[TOPO_ROUTE_MAX_PORTS];
    for (uint32_t h = 0; h < n; h++) {
        hm[h] = hop_ps(r, h, mtu);
        hs[h] = rem ? hop_ps(r, h, rem) : hm[h]; /* the smallest packet's */
    }
    /* before hop j: a full packet, or the short last one, which leaves the
     * first link after the flow's every byte */
    simtime_t pre_full = 0, pre_rem = 0;
    /* after hop j: its latency, then every later hop */
    simtime_t post_s[TOPO_ROUTE_MAX_PORTS], post_m[TOPO_ROUTE_MAX_PORTS];
    simtime_t sum_s = 0, sum_m = 0;
    for (uint32_t j = n; j-- > 0;) {
        post_s[j] = sum_s;
        post_m[j] = sum_m;
        sum_s += hs[j];
        sum_m += hm[j];
    }
    for (uint32_t j = 0; j < n; j++) {
        struct lb *x = &dh[j];
        x->bytes += cnt * s;
        if (j == 1)
            pre_rem = rem ? (r->nic ? ser_ps(s - rem, r->nic) + hs[0] : hop_ps(r, 0, s)) : 0;
        else if (j > 1)
            pre_rem += hs[j - 1];
        if (j) pre_full += hm[j - 1];
        simtime_t post = r->lat[j] + post_s[j], post_full = r->lat[j] + post_m[j];
        x->post = tmin(x->post, post);
        if (k) {
            x->full += cnt * k * mtu;
            x->pre = tmin(x->pre, pre_full);
            x->pre_full = tmin(x->pre_full, pre_full);
            x->post_full = tmin(x->post_full, post_full);
        }
        if (rem) x->pre = tmin(x->pre, pre_rem);
    }
}

/* One demand's per-hop records (add_flows') and the largest of their lone
 * bounds, by route, size and flow count: add_flows and lb_bound read
 * nothing else, so demands with the same three get the same records. A
 * phase of an MoE step has tens of thousands of demands and a few hundred
 * sizes (token counts times the token's bytes): the records are taken once
 * per (route, size, count) and remembered in a direct-mapped table, a
 * colliding key overwriting the slot (a miss only recomputes them).
 * MOESIM_IDEAL_NOMEMO=1 computes every demand's (tests/test_ideal_memo.c
 * compares). */
struct dh_memo {
    const struct route *r; /* NULL: an empty slot */
    uint64_t bytes;
    uint32_t sf;
    simtime_t alone;
    struct lb dh[6];
};

/* Demands from which a phase remembers its records (fewer: not worth the
 * table), and the table's most slots. */
#define DH_MEMO_MIN 256
#define DH_MEMO_MAX 4096

static size_t dh_memo_slot(const struct route *r, uint64_t bytes, uint32_t sf, size_t mask)
{
    uint64_t h =
        (bytes ^ (uint64_t)(uintptr_t)r << 40 ^ (uint64_t)sf << 56) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 40) & mask;
}

/* Demand i's flows: each[i] (ethereal's subflows, eth_assign), or the
 * transport's one count for every demand. */
static inline uint32_t demand_subflows(const uint32_t *each, size_t i, uint32_t subflows)
{
    return each ? (each[i] ? each[i] : 1) : subflows;
}

/* A GraphML fabric (topology.kind = file): its links may differ, so the
 * bound counts each host's own links and, between two leaves, the route's
 * number of switch links, each at the fastest and least latency of any
 * switch link: exact for a lone flow when the switch links are alike. The
 * fabric's capacity enters at each leaf: every byte from a host to another
 * leaf leaves its own leaf over the leaf's switch ports (a host has one
 * link), and every byte into a host enters its leaf over them, whatever
 * the routes and however irregular the graph; so each leaf's live ports
 * out to switches, and in from them, are a group of their rates' sum
 * (one-way links counted in their direction, degraded ones at their rate,
 * down ones not). The cut bound's other groups (pods, spines) need the
 * trees' shape and are not formed here; the LP (ideal_lp.c) sees the rest
 * of the fabric where it is small enough. */
static simtime_t ideal_file(const struct topo *t, const struct topo_demand *d, size_t n,
                            uint32_t mtu, uint32_t subflows, const uint32_t *each)
{
    uint32_t H = t->hosts;
    uint64_t fbps = 0, nocap = 1ull << 58;
    simtime_t flat = SIMTIME_MAX;
    for (uint32_t q = 2 * H; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->kind == TP_NVL_UP || p->kind == TP_NVL_DOWN) continue;
        if (p->bps > fbps) fbps = p->bps;
        if (p->lat_ps < flat) flat = p->lat_ps;
    }
    /* per host: up and down, under one leaf [0] and across [1]; NVLink;
     * per leaf: out to and in from the switches, and their rates */
    uint32_t L = t->leaves;
    struct lb *rec = xmalloc((6 * (size_t)H + 2 * (size_t)L) * sizeof *rec), scratch = lb_empty;
    for (size_t i = 0; i < 6 * (size_t)H + 2 * (size_t)L; i++)
        rec[i] = lb_empty;
    struct lb *hup = rec, *hdown = rec + 2 * H, *nup = rec + 4 * H, *ndown = rec + 5 * H;
    struct lb *lout = rec + 6 * (size_t)H, *lin = lout + L;
    uint64_t *lcap = xcalloc(2 * (size_t)L + 1, sizeof *lcap); /* [l]: out, [L + l]: in */
    for (uint32_t q = 2 * H; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->down || p->src < H || p->dst < H || p->src >= H + t->nswitches ||
            p->dst >= H + t->nswitches)
            continue;
        if (p->src - H < L) lcap[p->src - H] += p->bps;
        if (p->dst - H < L) lcap[L + p->dst - H] += p->bps;
    }
    simtime_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, b = d[i].dst;
        if (d[i].bytes == 0 || a == b) continue;
        uint32_t ports[TOPO_ROUTE_MAX_PORTS], np = topo_route_ports(t, a, b, 0, ports);
        struct route r = {np, {0}, {0}, {0}, 0};
        struct lb *link[TOPO_ROUTE_MAX_PORTS];
        int nvl = topo_same_server(t, a, b);
        uint32_t x = topo_leaf_of(t, a) != topo_leaf_of(t, b);
        for (uint32_t j = 0; j < np; j++) {
            const struct topo_port *p = &t->ports[ports[j]];
            int end = j == 0 || j == np - 1;
            r.bps[j] = end ? p->bps : fbps;
            r.cap[j] = end ? p->bps : nocap;
            r.lat[j] = end ? p->lat_ps : flat;
            link[j] = &scratch;
        }
        link[0] = nvl ? &nup[a] : &hup[2 * a + x];
        link[np - 1] = nvl ? &ndown[b] : &hdown[2 * b + x];
        struct lb dl[2] = {lb_empty, lb_empty}; /* the leaves' groups (hop 1 and np - 2) */
        uint32_t sf = demand_subflows(each, i, subflows);
        uint64_t bytes = d[i].bytes, nf = bytes < sf ? bytes : sf, q = bytes / nf,
                 extra = bytes % nf;
        struct lb dh[TOPO_ROUTE_MAX_PORTS];
        for (uint32_t j = 0; j < TOPO_ROUTE_MAX_PORTS; j++)
            dh[j] = lb_empty;
        add_flows(&r, q, nf - extra, mtu, dh);
        if (extra) add_flows(&r, q + 1, extra, mtu, dh);
        for (uint32_t j = 0; j < np; j++) {
            simtime_t alone = lb_bound(&dh[j], r.cap[j]);
            if (alone > worst) worst = alone;
            lb_add(link[j], &dh[j]);
        }
        if (x && !nvl && np >= 3) {
            uint32_t la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b);
            dl[0] = dh[1];
            dl[1] = dh[np - 2];
            lb_add(&lout[la], &dl[0]);
            lb_add(&lin[lb], &dl[1]);
        }
    }
    for (uint32_t l = 0; l < L; l++) {
        /* a leaf without live ports that way carries no demand that way */
        simtime_t vo = lcap[l] ? lb_bound(&lout[l], lcap[l]) : 0,
                  vi = lcap[L + l] ? lb_bound(&lin[l], lcap[L + l]) : 0;
        if (vo > worst) worst = vo;
        if (vi > worst) worst = vi;
    }
    free(lcap);
    for (uint32_t h = 0; h < H; h++) {
        uint64_t ub = t->ports[t->host_up[h]].bps, db = t->ports[t->host_down[h]].bps;
        struct lb *pu = &hup[2 * h], *pd = &hdown[2 * h], bu = pu[0], bd = pd[0];
        lb_add(&bu, &pu[1]);
        lb_add(&bd, &pd[1]);
        simtime_t v[6] = {lb_bound(&pu[0], ub), lb_bound(&pu[1], ub), lb_bound(&bu, ub),
                          lb_bound(&pd[0], db), lb_bound(&pd[1], db), lb_bound(&bd, db)};
        for (int k = 0; k < 6; k++)
            if (v[k] > worst) worst = v[k];
        if (t->nvl_up) {
            simtime_t na = lb_bound(&nup[h], t->ports[t->nvl_up[h]].bps),
                      nb = lb_bound(&ndown[h], t->ports[t->nvl_down[h]].bps);
            if (na > worst) worst = na;
            if (nb > worst) worst = nb;
        }
    }
    free(rec);
    return worst;
}

/* With faults ([faults], topo/faults.h) the fabric's rates differ link by
 * link: a leaf's (a pod's) group is the sum of its live links' rates, a hop's
 * serialization and latency in pre and post those of the fastest live link
 * of its tier (still a lower bound), a host's links their own. */
struct fcaps {
    int on;
    uint64_t maxbps[TP_KIND_COUNT];
    simtime_t minlat[TP_KIND_COUNT];
    uint64_t *lup, *ldown, *pup, *pdown; /* [leaves], [leaves], [pods], [pods] */
};

/* A host's NIC ports (one per rail plane, else one) together, up or down. */
static uint64_t host_cap(const struct topo *t, uint32_t h, int down)
{
    uint32_t P = t->planes > 1 ? t->planes : 1;
    uint64_t c = 0;
    for (uint32_t k = 0; k < P; k++) {
        const struct topo_port *q =
            &t->ports[(down ? t->host_down : t->host_up)[(size_t)k * t->hosts + h]];
        if (!q->down) c += q->bps; /* ([faults] down: a GPU's link to a plane) */
    }
    return c;
}

/* The leaf of the bound's records for switch node x: its rail switch's
 * index within its plane (planes share the records of one rail switch). */
static inline uint32_t rec_leaf(const struct topo *t, uint32_t x)
{
    return t->planes > 1 ? (x - t->hosts) % t->plane_leaves : x - t->hosts;
}

static void fcaps_init(const struct topo *t, struct fcaps *c)
{
    uint32_t H = t->hosts, L = t->leaves, ft = t->kind == TOPO_FAT_TREE, P = ft ? t->pods : 0;
    c->on = 1;
    for (int k = 0; k < TP_KIND_COUNT; k++)
        c->minlat[k] = SIMTIME_MAX;
    c->lup = xcalloc((size_t)L + 1, sizeof *c->lup);
    c->ldown = xcalloc((size_t)L + 1, sizeof *c->ldown);
    c->pup = xcalloc((size_t)P + 1, sizeof *c->pup);
    c->pdown = xcalloc((size_t)P + 1, sizeof *c->pdown);
    uint32_t agg0 = H + L, A = t->aggs_per_pod;
    for (uint32_t q = 0; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->down) continue;
        if (p->bps > c->maxbps[p->kind]) c->maxbps[p->kind] = p->bps;
        if (p->lat_ps < c->minlat[p->kind]) c->minlat[p->kind] = p->lat_ps;
        switch (p->kind) {
        case TP_LEAF_UP:
        case TP_RAIL_UP:
            c->lup[rec_leaf(t, p->src)] += p->bps;
            break;
        case TP_SPINE_DOWN:
        case TP_AGG_DOWN:
        case TP_RAIL_DOWN:
            c->ldown[rec_leaf(t, p->dst)] += p->bps;
            break;
        case TP_AGG_UP:
            if (ft) c->pup[(p->src - agg0) / A] += p->bps;
            break;
        case TP_CORE_DOWN:
            if (ft) c->pdown[(p->dst - agg0) / A] += p->bps;
            break;
        default:
            break;
        }
    }
}

static void fcaps_free(struct fcaps *c)
{
    free(c->lup);
    free(c->ldown);
    free(c->pup);
    free(c->pdown);
}

/* The host hops of the same-leaf route at the fastest host links. */
static void hu_bps_max(const struct topo *t, const struct fcaps *c, struct route *r)
{
    uint64_t P = t->planes > 1 ? t->planes : 1;
    r->bps[0] = c->maxbps[TP_HOST_UP];
    r->bps[1] = c->maxbps[TP_HOST_DOWN];
    r->cap[0] = P * r->bps[0];
    r->cap[1] = P * r->bps[1];
    r->lat[0] = c->minlat[TP_HOST_UP];
    r->lat[1] = c->minlat[TP_HOST_DOWN];
}

/* A route of n hops: the host hops of base around the fabric tiers kinds[]. */
static struct route fc_route(const struct fcaps *c, const struct route *base, uint32_t n,
                             const int *kinds)
{
    struct route r = {n, {0}, {0}, {0}, base->nic};
    r.bps[0] = base->bps[0];
    r.cap[0] = base->cap[0];
    r.lat[0] = base->lat[0];
    r.bps[n - 1] = base->bps[1];
    r.cap[n - 1] = base->cap[1];
    r.lat[n - 1] = base->lat[1];
    for (uint32_t j = 1; j + 1 < n; j++) {
        r.bps[j] = r.cap[j] = c->maxbps[kinds[j - 1]];
        r.lat[j] = c->minlat[kinds[j - 1]];
    }
    return r;
}

/* Demand a to b's route r with its own host links and its groups' rates. */
static const struct route *fc_demand(const struct topo *t, const struct fcaps *c,
                                     const struct route *r, uint32_t a, uint32_t b,
                                     struct route *out)
{
    if (topo_same_server(t, a, b)) return r;
    *out = *r;
    uint32_t n = r->n, la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b);
    out->bps[n - 1] = t->ports[t->host_down[b]].bps;
    out->cap[n - 1] = host_cap(t, b, 1);
    if (topo_pxn(t, a, b)) { /* NVLink, then the relay's NIC and route */
        uint32_t rl = topo_pxn_relay(t, a, b);
        out->bps[2] = t->ports[t->host_up[rl]].bps;
        out->cap[2] = host_cap(t, rl, 0);
        if (n == 6) {
            out->cap[3] = c->lup[topo_leaf_of(t, rl)];
            out->cap[4] = c->ldown[lb];
        }
        return out;
    }
    out->bps[0] = t->ports[t->host_up[a]].bps;
    out->cap[0] = host_cap(t, a, 0);
    if (n == 4) {
        out->cap[1] = c->lup[la];
        out->cap[2] = c->ldown[lb];
    } else if (n == 6) {
        out->cap[1] = c->lup[la];
        out->cap[2] = c->pup[la / t->leaves_per_pod];
        out->cap[3] = c->pdown[lb / t->leaves_per_pod];
        out->cap[4] = c->ldown[lb];
    }
    return out;
}

simtime_t topo_ideal_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                        uint32_t subflows)
{
    return topo_ideal_each_ps(t, d, n, mtu, subflows, NULL);
}

simtime_t topo_ideal_each_ps(const struct topo *t, const struct topo_demand *d, size_t n,
                             uint32_t mtu, uint32_t subflows, const uint32_t *each)
{
    if (subflows < 1) subflows = 1;
    if (t->kind == TOPO_FILE) return ideal_file(t, d, n, mtu, subflows, each);
    uint32_t H = t->hosts, L = t->leaves, ft = t->kind == TOPO_FAT_TREE, P = ft ? t->pods : 0;
    if (subflows < 1) subflows = 1;
    /* per host: up and down, each for demands under one leaf [0] and across
     * the spines [1]; NVLink up and down; per leaf: its uplinks, the spines'
     * downlinks into it */
    size_t nrec = 6 * (size_t)H + 2 * (size_t)L + 2 * (size_t)P;
    struct lb *rec = xmalloc(nrec * sizeof *rec);
    for (size_t i = 0; i < nrec; i++)
        rec[i] = lb_empty;
    struct lb *hup = rec, *hdown = rec + 2 * H, *nup = rec + 4 * H, *ndown = rec + 5 * H;
    struct lb *lup = rec + 6 * H, *ldown = lup + L;
    struct lb *pup = ldown + L, *pdown = pup + P; /* fat_tree: each pod's core links, up and down */

    const struct topo_port *hu = &t->ports[t->host_up[0]], *hd = &t->ports[t->host_down[0]];
    /* rail planes: a host's P NIC ports are one group (hcap), each packet
     * on one of them (hu->bps); the NIC feeds them at t->nic_bps */
    uint64_t NP = t->planes > 1 ? t->planes : 1;
    struct route same_leaf = {2,
                              {hu->bps, hd->bps},
                              {hu->bps * NP, hd->bps * NP},
                              {hu->lat_ps, hd->lat_ps},
                              NP > 1 ? t->nic_bps : 0};
    struct route across = same_leaf, nvl = same_leaf;
    struct route xpod = same_leaf; /* fat_tree: between pods */
    uint64_t pcap = 0;
    struct fcaps fc = {0};
    if (t->ndown || t->ndegraded) {
        fcaps_init(t, &fc);
        hu_bps_max(t, &fc, &same_leaf);
        across = same_leaf;
        xpod = same_leaf;
        if (ft) {
            across = fc_route(&fc, &same_leaf, 4, (const int[]){TP_LEAF_UP, TP_AGG_DOWN});
            xpod = fc_route(&fc, &same_leaf, 6,
                            (const int[]){TP_LEAF_UP, TP_AGG_UP, TP_CORE_DOWN, TP_AGG_DOWN});
        } else if (t->kind == TOPO_RAIL && L > 1) {
            across = fc_route(&fc, &same_leaf, 4, (const int[]){TP_RAIL_UP, TP_RAIL_DOWN});
        } else if (L > 1) {
            across = fc_route(&fc, &same_leaf, 4, (const int[]){TP_LEAF_UP, TP_SPINE_DOWN});
        }
    } else if (ft) {
        /* leaf_up, agg_down, agg_up, core_down: the first fabric ports
         * (fat_tree.c's order); a leaf's group is its aggs_per_pod uplinks,
         * a pod's its cores links */
        uint32_t A = t->aggs_per_pod, f0 = 2 * H;
        const struct topo_port *u = &t->ports[f0], *w = &t->ports[f0 + 1];
        across = (struct route){4,
                                {hu->bps, u->bps, w->bps, hd->bps},
                                {hu->bps, u->bps * A, w->bps * A, hd->bps},
                                {hu->lat_ps, u->lat_ps, w->lat_ps, hd->lat_ps},
                                0};
        if (P > 1) {
            const struct topo_port *au = &t->ports[f0 + 2 * L * A],
                                   *cd = &t->ports[f0 + 2 * L * A + 1];
            pcap = au->bps * t->cores;
            xpod = (struct route){
                6,
                {hu->bps, u->bps, au->bps, cd->bps, w->bps, hd->bps},
                {hu->bps, u->bps * A, pcap, cd->bps * t->cores, w->bps * A, hd->bps},
                {hu->lat_ps, u->lat_ps, au->lat_ps, cd->lat_ps, w->lat_ps, hd->lat_ps},
                0};
        }
    } else if (L > 1) {
        /* rail planes: no factored paths; the first rail_up and rail_down
         * ports (rail.c's order), a rail switch's group over every plane */
        const struct topo_port *u = NP > 1 ? &t->ports[2 * NP * H] : &t->ports[topo_up(t, 0, 0)],
                               *w = NP > 1 ? &t->ports[2 * NP * H + 1]
                                           : &t->ports[topo_down(t, 0, 1)];
        across = (struct route){
            4,
            {hu->bps, u->bps, w->bps, hd->bps},
            {same_leaf.cap[0], u->bps * t->npaths, w->bps * t->npaths, same_leaf.cap[1]},
            {hu->lat_ps, u->lat_ps, w->lat_ps, hd->lat_ps},
            same_leaf.nic};
    }
    if (t->nvl_up) {
        const struct topo_port *u = &t->ports[t->nvl_up[0]], *w = &t->ports[t->nvl_down[0]];
        nvl = (struct route){2, {u->bps, w->bps}, {u->bps, w->bps}, {u->lat_ps, w->lat_ps}, 0};
    }
    /* rail with PXN (rail.c): NVLink to the relay, then the relay's route,
     * under its rail switch or across the spines */
    struct route pxn_leaf = nvl, pxn_across = nvl;
    if (t->pxn) {
        pxn_leaf = (struct route){4,
                                  {nvl.bps[0], nvl.bps[1], same_leaf.bps[0], same_leaf.bps[1]},
                                  {nvl.bps[0], nvl.bps[1], same_leaf.cap[0], same_leaf.cap[1]},
                                  {nvl.lat[0], nvl.lat[1], same_leaf.lat[0], same_leaf.lat[1]},
                                  0};
        pxn_across = (struct route){
            6,
            {nvl.bps[0], nvl.bps[1], across.bps[0], across.bps[1], across.bps[2], across.bps[3]},
            {nvl.bps[0], nvl.bps[1], across.cap[0], across.cap[1], across.cap[2], across.cap[3]},
            {nvl.lat[0], nvl.lat[1], across.lat[0], across.lat[1], across.lat[2], across.lat[3]},
            0};
    }

    /* the records by (route, size, count): the routes here are these
     * locals, one per kind, unless faults give each demand its own (fc.on) */
    struct dh_memo *memo = NULL;
    size_t mmask = 0;
    if (!fc.on && n >= DH_MEMO_MIN && !getenv("MOESIM_IDEAL_NOMEMO")) {
        size_t cap = 64;
        while (cap < DH_MEMO_MAX && cap < n / 8)
            cap *= 2;
        memo = xcalloc(cap, sizeof *memo);
        mmask = cap - 1;
    }
    simtime_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, b = d[i].dst;
        uint64_t bytes = d[i].bytes;
        if (bytes == 0 || a == b) continue;
        const struct route *r;
        struct lb *link[6];
        if (topo_same_server(t, a, b)) {
            r = &nvl;
            link[0] = &nup[a];
            link[1] = &ndown[b];
        } else if (topo_pxn(t, a, b)) {
            uint32_t rl = topo_pxn_relay(t, a, b), lr = topo_leaf_of(t, rl),
                     lb = topo_leaf_of(t, b), x = lr != lb;
            r = x ? &pxn_across : &pxn_leaf;
            link[0] = &nup[a];
            link[1] = &ndown[rl];
            link[2] = &hup[2 * rl + x];
            if (x) {
                link[3] = &lup[lr];
                link[4] = &ldown[lb];
            }
            link[r->n - 1] = &hdown[2 * b + x];
        } else {
            uint32_t la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b), x = la != lb;
            r = x ? &across : &same_leaf;
            link[0] = &hup[2 * a + x];
            link[r->n - 1] = &hdown[2 * b + x];
            if (x && ft && la / t->leaves_per_pod != lb / t->leaves_per_pod) {
                r = &xpod;
                link[0] = &hup[2 * a + x];
                link[1] = &lup[la];
                link[2] = &pup[la / t->leaves_per_pod];
                link[3] = &pdown[lb / t->leaves_per_pod];
                link[4] = &ldown[lb];
                link[5] = &hdown[2 * b + x];
            } else if (x) {
                link[1] = &lup[la];
                link[2] = &ldown[lb];
            }
        }
        struct route rf;
        if (fc.on) r = fc_demand(t, &fc, r, a, b, &rf);
        uint32_t sf = demand_subflows(each, i, subflows);
        struct dh_memo *mo = NULL;
        if (memo) {
            mo = &memo[dh_memo_slot(r, bytes, sf, mmask)];
            if (mo->r == r && mo->bytes == bytes && mo->sf == sf) {
                if (mo->alone > worst) worst = mo->alone;
                for (uint32_t j = 0; j < r->n; j++)
                    lb_add(link[j], &mo->dh[j]);
                continue;
            }
        }
        /* the transport's flows: subflows equal ones, the first taking the
         * remainder (as the engine splits a message) */
        uint64_t nf = bytes < sf ? bytes : sf, q = bytes / nf, extra = bytes % nf;
        struct lb dh[6] = {lb_empty, lb_empty, lb_empty, lb_empty, lb_empty, lb_empty};
        add_flows(r, q, nf - extra, mtu, dh);
        if (extra) add_flows(r, q + 1, extra, mtu, dh);
        simtime_t most = 0;
        for (uint32_t j = 0; j < r->n; j++) {
            simtime_t alone = lb_bound(&dh[j], r->cap[j]);
            if (alone > most) most = alone;
            lb_add(link[j], &dh[j]);
        }
        if (most > worst) worst = most;
        if (mo) {
            mo->r = r;
            mo->bytes = bytes;
            mo->sf = sf;
            mo->alone = most;
            memcpy(mo->dh, dh, sizeof dh);
        }
    }
    free(memo);
    /* each link: each route kind, and both together */
    for (uint32_t h = 0; h < 2 * H; h++) {
        struct lb *pair = h < H ? &hup[2 * h] : &hdown[2 * (h - H)];
        uint64_t bps = h < H ? same_leaf.cap[0] : same_leaf.cap[1];
        if (fc.on) bps = h < H ? host_cap(t, h, 0) : host_cap(t, h - H, 1);
        struct lb both = pair[0];
        lb_add(&both, &pair[1]);
        simtime_t v[3] = {lb_bound(&pair[0], bps), lb_bound(&pair[1], bps), lb_bound(&both, bps)};
        for (int k = 0; k < 3; k++)
            if (v[k] > worst) worst = v[k];
    }
    for (uint32_t h = 0; h < H && t->nvl_up; h++) {
        simtime_t a = lb_bound(&nup[h], nvl.bps[0]), b = lb_bound(&ndown[h], nvl.bps[1]);
        if (a > worst) worst = a;
        if (b > worst) worst = b;
    }
    for (uint32_t l = 0; l < L && L > 1; l++) {
        simtime_t a = lb_bound(&lup[l], fc.on ? fc.lup[l] : across.cap[1]),
                  b = lb_bound(&ldown[l], fc.on ? fc.ldown[l] : across.cap[2]);
        if (a > worst) worst = a;
        if (b > worst) worst = b;
    }
    for (uint32_t p = 0; p < P && P > 1; p++) {
        simtime_t a = lb_bound(&pup[p], fc.on ? fc.pup[p] : pcap),
                  b = lb_bound(&pdown[p], fc.on ? fc.pdown[p] : xpod.cap[3]);
        if (a > worst) worst = a;
        if (b > worst) worst = b;
    }
    free(rec);
    fcaps_free(&fc);
    return worst;
}
