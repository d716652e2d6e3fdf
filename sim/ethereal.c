/* ethereal.c - transport.path = ethereal's assignment of a step's flows to
 * paths (ethereal.h has the rule). */
#include "sim/ethereal.h"

#include <stdlib.h>

#include "base/err.h"
#include "base/num.h"

/* Whether routing row g's next hops go down a tier, toward the hosts (a
 * spine's or a core's way into the destination's pod or leaf): a choice
 * the source does not split its flows for (ethereal.h). */
static int eth_row_down(const struct topo *t, const struct topo_hop *g)
{
    uint32_t q = g->n == 1 ? g->off : t->route_ports[g->off];
    switch (t->ports[q].kind) {
    case TP_SPINE_DOWN:
    case TP_CORE_DOWN:
    case TP_AGG_DOWN:
    case TP_DOWN:
    case TP_RAIL_DOWN:
        return 1;
    default:
        return 0;
    }
}

/* The switch row next hop i of row g leads to. */
static uint32_t eth_next(const struct topo *t, const struct topo_hop *g, uint32_t i)
{
    uint32_t q = g->n == 1 ? g->off : t->route_ports[g->off + i];
    return t->ports[q].dst - t->hosts;
}

uint32_t eth_paths(const struct topo *t, uint32_t la, uint32_t lb)
{
    uint64_t p = 1;
    uint32_t sw = la;
    for (uint32_t hop = 0; sw != lb && hop < TOPO_ROUTE_MAX_PORTS; hop++) {
        const struct topo_hop *g = topo_hop_at(t, sw, lb);
        if (g->n == 0) break;
        if (!eth_row_down(t, g)) p *= g->n;
        sw = eth_next(t, g, 0);
    }
    if (t->planes > 1) p *= t->planes; /* rail planes: every plane's paths (topo_plane) */
    return p > t->npaths ? t->npaths : (uint32_t)p;
}

uint32_t eth_max_subflows(const struct topo *t)
{
    /* the trees and rails have no down choice: their npaths (a fabric
     * whose links fail during the run too: a reroute's routes may choose
     * more than the first table's) */
    if (t->kind != TOPO_FILE || t->ntfaults) return t->npaths ? t->npaths : 1;
    uint32_t m = 1;
    for (uint32_t la = 0; la < t->leaves; la++)
        for (uint32_t lb = 0; lb < t->leaves; lb++)
            if (la != lb) {
                uint32_t s = eth_paths(t, la, lb);
                if (s > m) m = s;
            }
    return m;
}

/* A down choice's load, with links down: the bytes of the step's subflows
 * so far on each port, allocated at the first down choice (a fabric
 * without down choices never needs it). */
struct eth_load {
    uint64_t *bytes; /* [nports], or NULL */
};

/* The port of next hop i of row g. */
static uint32_t eth_port(const struct topo *t, const struct topo_hop *g, uint32_t i)
{
    return g->n == 1 ? g->off : t->route_ports[g->off + i];
}

/* The next hop a down choice takes with links down: the one whose port,
 * and the port after it when that switch has no choice, carried the fewest
 * bytes of this step so far; ties from v mod n on, so that equal loads
 * still cycle. */
static uint32_t eth_down_least(const struct topo *t, const struct topo_hop *g, uint32_t lb,
                               uint64_t v, struct eth_load *ld)
{
    if (!ld->bytes) ld->bytes = xcalloc(t->nports, sizeof *ld->bytes);
    uint32_t best = 0;
    uint64_t bl = UINT64_MAX;
    for (uint32_t k = 0; k < g->n; k++) {
        uint32_t i = (uint32_t)((v + k) % g->n), q = eth_port(t, g, i);
        uint64_t b = ld->bytes[q];
        uint32_t u = t->ports[q].dst - t->hosts;
        if (u != lb) {
            const struct topo_hop *h = topo_hop_at(t, u, lb);
            if (h->n == 1) b += ld->bytes[h->off];
        }
        if (b < bl) {
            bl = b;
            best = i;
        }
    }
    return best;
}

/* The choices of a route from la to lb, one per switch with a choice, in
 * route order, into dg (at most TOPO_ROUTE_MAX_PORTS): the digits of q at
 * the source's switches (mixed radix over their next-hop counts, the
 * leaf's lowest); at the down choices the digits of v (the first one's
 * lowest), or with links down (ld) the least loaded next hop. Returns how
 * many. */
static uint32_t eth_digits(const struct topo *t, uint32_t la, uint32_t lb, uint32_t q, uint64_t v,
                           struct eth_load *ld, uint32_t *dg)
{
    uint32_t sw = la, nd = 0;
    for (uint32_t hop = 0; sw != lb && hop < TOPO_ROUTE_MAX_PORTS; hop++) {
        const struct topo_hop *r = topo_hop_at(t, sw, lb);
        if (r->n == 0) break;
        uint32_t i = 0;
        if (r->n >= 2) {
            if (!eth_row_down(t, r)) {
                i = q % r->n;
                q /= r->n;
            } else if (ld) {
                i = eth_down_least(t, r, lb, v, ld);
                v /= r->n;
            } else {
                i = (uint32_t)(v % r->n);
                v /= r->n;
            }
            dg[nd++] = i;
        }
        sw = eth_next(t, r, i);
    }
    return nd;
}

/* The path number, within a plane, of the route from la to lb that takes
 * the choices dg[0..nd) (eth_digits), q the source's choice (its plane's
 * digit when q counts the planes).
 *
 * Two digits are placed directly (eth_path_direct), as before the down
 * choices were read: the leaf's choice is q % a (a = the leaf's next hops
 * toward lb) and the next switch's (q / a): the next switch reads its digit
 * as p / div (topo.h), and div is a unless links are down ([faults]
 * renumbers paths so that div is a multiple of every leaf's a,
 * topo/faults.c), so the digit is placed at div. That number is kept when
 * its route takes the wanted digit at every switch with a choice (every
 * leaf-spine and built-in fat-tree: no down choice, and two tiers of
 * choices; without links down they take it unchecked, eth_path_number, as
 * before). Otherwise (a down
 * choice, a third tier, a renumbering whose digits are not a plain mixed
 * radix) the number is solved for switch by switch along the route: the
 * digits read so far fix p modulo M, a switch's digit (p / div) % n reads
 * p modulo div * n, so p + M k for k < lcm(M, div n) / M runs through
 * every residue modulo the new modulus that keeps the earlier digits, and
 * the least one giving the wanted digit is taken (every numbering route.c
 * and topo/faults.c make has one: a uniform p is uniform over each group
 * whatever the earlier digits are). If none is found, the direct number
 * stays (a live path, its digits not the wanted ones). */
static uint32_t eth_path_direct(const struct topo *t, uint32_t la, uint32_t lb, uint32_t q)
{
    const struct topo_hop *g = topo_hop_at(t, la, lb);
    if (g->n < 2) return q;
    uint32_t u = eth_next(t, g, 0);
    if (u == lb) return q;
    const struct topo_hop *h = topo_hop_at(t, u, lb);
    if (h->n < 2 || h->div <= g->n) return q;
    return q % g->n + (uint32_t)h->div * (q / g->n);
}

static uint32_t eth_path_in_plane(const struct topo *t, uint32_t la, uint32_t lb, uint32_t q,
                                  uint64_t v, const uint32_t *dg, uint32_t nd)
{
    uint32_t p0 = eth_path_direct(t, la, lb, q);
    /* p0's route: does it take the wanted digits? */
    uint32_t sw = la, k = 0, ok = 1;
    for (uint32_t hop = 0; sw != lb && hop < TOPO_ROUTE_MAX_PORTS && ok; hop++) {
        const struct topo_hop *r = topo_hop_at(t, sw, lb);
        if (r->n == 0) break;
        uint32_t i = 0;
        if (r->n >= 2) {
            i = (p0 / (r->div ? r->div : 1)) % r->n;
            ok = k < nd && i == dg[k++];
        }
        sw = eth_next(t, r, i);
    }
    if (ok) return p0;
    /* solved switch by switch. A step may have several valid j (the digits
     * fix p only modulo the lcm of their moduli, and a switch's modulus
     * may share factors with the ones before it); the acknowledgement,
     * which reads the same number from the other end, reads digits of
     * what is left free (a renumbered table's divisors toward the source
     * differ), and the least p would send every acknowledgement of a step
     * down the first next hop there (a GraphML tree with two leaf links
     * down: every one of a leaf's acknowledgements from the other pod
     * through its first aggregation switch, 1.19 x the downlinks' mean).
     * So each step takes one of its valid j by a hash of the counter, and
     * the part above M likewise, as a sprayed number would be spread; with
     * one valid j a step (a tree without links down) the number is the
     * least. */
    uint64_t p = 0, M = 1, qq = q, h = (v + 1) * 0x9e3779b97f4a7c15ull;
    sw = la;
    k = 0;
    for (uint32_t hop = 0; sw != lb && hop < TOPO_ROUTE_MAX_PORTS; hop++) {
        const struct topo_hop *r = topo_hop_at(t, sw, lb);
        if (r->n == 0) break;
        uint32_t i = 0;
        if (r->n >= 2) {
            if (k >= nd) return p0;
            i = dg[k++];
            if (!eth_row_down(t, r)) qq /= r->n;
            uint64_t div = r->div ? r->div : 1, dn = div * r->n, a = M, b = dn;
            while (b) {
                uint64_t x = a % b;
                a = b;
                b = x;
            }
            uint64_t mod = M / a * dn;
            if (mod > t->plane_paths) return p0;
            /* the valid steps j, and one of them by the hash (below) */
            uint64_t cnt = 0, j = 0, pick;
            for (j = 0; j < mod / M; j++)
                cnt += (p + M * j) / div % r->n == i;
            if (!cnt) return p0;
            h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
            pick = (h >> 32) % cnt;
            for (j = 0;; j++)
                if ((p + M * j) / div % r->n == i && pick-- == 0) break;
            p += M * j;
            M = mod;
        }
        sw = eth_next(t, r, i);
    }
    if (M < t->plane_paths) { /* (the part above M) */
        uint64_t K = (t->plane_paths - p + M - 1) / M;
        h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
        p += M * ((h >> 32) % K);
    }
    if (t->planes > 1) p += qq * t->plane_paths; /* (q's plane, when q counts them) */
    return (uint32_t)p;
}

/* The path number of the q-th source choice (q < eth_paths) and down
 * counter v: on a rail with planes, plane q / per (eth_paths' per plane)
 * and its path q % per. With links down (ld) the down choices' ports take
 * the subflow's bytes. */
static uint32_t eth_path_number(const struct topo *t, uint32_t la, uint32_t lb, uint32_t q,
                                uint64_t v, struct eth_load *ld, uint64_t bytes)
{
    uint32_t dg[TOPO_ROUTE_MAX_PORTS], nd, p;
    uint32_t per = t->planes > 1 ? eth_paths(t, la, lb) / t->planes : 0;
    if (t->kind != TOPO_FILE && !t->ndown) { /* the built-in fabrics: two tiers of
                                              * choices, mixed radix, no down choice */
        if (per && per != t->plane_paths)
            return q / per * t->plane_paths + eth_path_direct(t, la, lb, q % per);
        return eth_path_direct(t, la, lb, q);
    }
    if (per && per != t->plane_paths) { /* (faults.fail: plane_paths a multiple of it) */
        nd = eth_digits(t, la, lb, q % per, v, ld, dg);
        p = q / per * t->plane_paths + eth_path_in_plane(t, la, lb, q % per, v, dg, nd);
    } else {
        nd = eth_digits(t, la, lb, q, v, ld, dg);
        p = eth_path_in_plane(t, la, lb, q, v, dg, nd);
    }
    if (ld && ld->bytes) { /* the down choices' ports (and the port after each) */
        uint32_t sw = la;
        for (uint32_t hop = 0, k = 0; sw != lb && hop < TOPO_ROUTE_MAX_PORTS; hop++) {
            const struct topo_hop *r = topo_hop_at(t, sw, lb);
            if (r->n == 0) break;
            uint32_t i = r->n >= 2 && k < nd ? dg[k++] : 0;
            if (r->n >= 2 && eth_row_down(t, r)) {
                uint32_t q1 = eth_port(t, r, i), u = t->ports[q1].dst - t->hosts;
                ld->bytes[q1] += bytes;
                if (u != lb && topo_hop_at(t, u, lb)->n == 1)
                    ld->bytes[topo_hop_at(t, u, lb)->off] += bytes;
            }
            sw = eth_next(t, r, i);
        }
    }
    return p;
}

/* A remote demand: its source, its paths, its index (the sort key). */
struct rem {
    uint32_t src, s;
    size_t i;
};

static int rem_cmp(const void *a, const void *b)
{
    const struct rem *x = a, *y = b;
    if (x->src != y->src) return x->src < y->src ? -1 : 1;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

size_t eth_assign(const struct topo *t, const struct topo_demand *d, size_t n,
                  struct eth_sub **subs, size_t **off)
{
    /* subflows per demand: 1 for direct routes, s/g for the others */
    uint32_t *m = xmalloc((n ? n : 1) * sizeof *m), *s = xmalloc((n ? n : 1) * sizeof *s);
    struct rem *rm = xmalloc((n ? n : 1) * sizeof *rm);
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        m[i] = 1;
        s[i] = 0;
        uint32_t a = d[i].src, b = d[i].dst;
        if (!d[i].bytes || a == b || topo_same_server(t, a, b)) continue;
        uint32_t la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b);
        if (la == lb && t->planes <= 1) continue;
        /* (rail planes: under one rail switch, a subflow per plane) */
        s[i] = la == lb ? t->planes : eth_paths(t, la, lb);
        rm[nr++] = (struct rem){a, s[i], i};
    }
    qsort(rm, nr, sizeof *rm, rem_cmp);
    /* each (source, s) group: r flows, s/g subflows each; but when the
     * source's flows see different path counts ([faults]: 15 live spines
     * toward one leaf, 16 toward the others), a group of at least s flows
     * takes one subflow per flow (its uplinks then differ by at most one
     * flow): s/g ways (g = gcd(16, 15) = 1) would give the 15-path group 15
     * times its flows in subflows, and the NIC, which serves subflows round
     * robin, would send that group's bytes first (docs/fabrics.md,
     * "Reproduction") */
    uint32_t *first = xmalloc((n ? n : 1) * sizeof *first); /* the demand's first c */
    for (size_t a = 0; a < nr;) {
        size_t b = a, s0 = a, s1;
        while (s0 > 0 && rm[s0 - 1].src == rm[a].src)
            s0--;
        for (s1 = a; s1 < nr && rm[s1].src == rm[a].src; s1++)
            ;
        int mixed = t->ndown && rm[s0].s != rm[s1 - 1].s; /* sorted by s within a source */
        while (b < nr && rm[b].src == rm[a].src && rm[b].s == rm[a].s)
            b++;
        uint32_t r = (uint32_t)(b - a), sp = rm[a].s, g = (uint32_t)num_gcd(r, sp),
                 per = mixed && r >= sp ? 1 : sp / g;
        uint32_t c = 0;
        for (size_t j = a; j < b; j++) {
            size_t i = rm[j].i;
            m[i] = d[i].bytes < per ? (uint32_t)d[i].bytes : per;
            first[i] = c;
            c += per;
        }
        a = b;
    }
    size_t *o = xmalloc((n + 1) * sizeof *o), total = 0;
    for (size_t i = 0; i < n; i++) {
        o[i] = total;
        total += m[i];
    }
    o[n] = total;
    struct eth_sub *sb = xmalloc((total ? total : 1) * sizeof *sb);
    /* with links down the down choices balance the step's bytes (eth_digits) */
    struct eth_load load = {NULL}, *ld = t->ndown ? &load : NULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = d[i].bytes;
        for (uint32_t j = 0; j < m[i]; j++) {
            struct eth_sub *x = &sb[o[i] + j];
            /* equal parts, the first ones taking the remainder */
            x->bytes = bytes / m[i] + (j < bytes % m[i] ? 1 : 0);
            /* the counter: its residue the source's choice, its digits the
             * down choices' */
            uint64_t v = (uint64_t)d[i].src + first[i] + j;
            uint32_t q = s[i] ? (uint32_t)(v % s[i]) : 0;
            uint32_t la = topo_leaf_of(t, d[i].src), lb = topo_leaf_of(t, d[i].dst);
            x->path = !s[i]      ? 0
                      : la == lb ? q * t->plane_paths /* plane q's */
                                 : eth_path_number(t, la, lb, q, v, ld, x->bytes);
        }
    }
    free(load.bytes);
    free(m);
    free(s);
    free(rm);
    free(first);
    *subs = sb;
    *off = o;
    return total;
}

simtime_t eth_ideal_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu)
{
    struct eth_sub *subs;
    size_t *off;
    eth_assign(t, d, n, &subs, &off);
    free(subs);
    /* the demands by their subflows: one bound per count */
    struct topo_demand *part = xmalloc((n ? n : 1) * sizeof *part);
    uint8_t *done = xcalloc(n ? n : 1, 1);
    simtime_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        size_t m = off[i + 1] - off[i], np = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && off[j + 1] - off[j] == m) {
                part[np++] = d[j];
                done[j] = 1;
            }
        simtime_t b = topo_ideal_ps(t, part, np, mtu, (uint32_t)m);
        if (b > worst) worst = b;
    }
    free(part);
    free(done);
    free(off);
    return worst;
}
