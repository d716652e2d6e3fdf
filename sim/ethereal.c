/* ethereal.c - transport.path = ethereal's assignment of a step's flows to
 * paths (ethereal.h has the rule). */
#include "sim/ethereal.h"

#include <stdlib.h>

#include "base/err.h"

uint32_t eth_paths(const struct topo *t, uint32_t la, uint32_t lb)
{
    uint64_t p = 1;
    uint32_t sw = la;
    for (uint32_t hop = 0; sw != lb && hop < TOPO_ROUTE_MAX_PORTS; hop++) {
        const struct topo_hop *g = topo_hop_at(t, sw, lb);
        if (g->n == 0) break;
        p *= g->n;
        uint32_t q = g->n == 1 ? g->off : t->route_ports[g->off];
        sw = t->ports[q].dst - t->hosts;
    }
    if (t->planes > 1) p *= t->planes; /* rail planes: every plane's paths (topo_plane) */
    return p > t->npaths ? t->npaths : (uint32_t)p;
}

/* The path number of a route's q-th path (q < eth_paths): its leaf's
 * choice is q % a (a = the leaf's next hops toward lb) and the next
 * switch's (q / a): the next switch reads its digit as p / div (topo.h), and
 * div is a unless links are down ([faults] renumbers paths so that div is a
 * multiple of every leaf's a, topo/faults.c), so the digit is placed at div. */
static uint32_t eth_path_in_plane(const struct topo *t, uint32_t la, uint32_t lb, uint32_t q);
static uint32_t eth_path_number(const struct topo *t, uint32_t la, uint32_t lb, uint32_t q)
{
    if (t->planes > 1) { /* plane q / per (eth_paths' per plane), its path q % per */
        uint32_t per = eth_paths(t, la, lb) / t->planes;
        if (per && per != t->plane_paths) /* (faults.fail: plane_paths a multiple of it) */
            return q / per * t->plane_paths + eth_path_in_plane(t, la, lb, q % per);
    }
    return eth_path_in_plane(t, la, lb, q);
}

static uint32_t eth_path_in_plane(const struct topo *t, uint32_t la, uint32_t lb, uint32_t q)
{
    const struct topo_hop *g = topo_hop_at(t, la, lb);
    if (g->n < 2) return q;
    uint32_t v = t->ports[t->route_ports[g->off]].dst - t->hosts;
    if (v == lb) return q;
    const struct topo_hop *h = topo_hop_at(t, v, lb);
    if (h->n < 2 || h->div <= g->n) return q;
    return q % g->n + (uint32_t)h->div * (q / g->n);
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t r = a % b;
        a = b;
        b = r;
    }
    return a;
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
        uint32_t r = (uint32_t)(b - a), sp = rm[a].s, g = gcd(r, sp),
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
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = d[i].bytes;
        for (uint32_t j = 0; j < m[i]; j++) {
            struct eth_sub *x = &sb[o[i] + j];
            /* equal parts, the first ones taking the remainder */
            x->bytes = bytes / m[i] + (j < bytes % m[i] ? 1 : 0);
            uint32_t q = s[i] ? (uint32_t)(((uint64_t)d[i].src + first[i] + j) % s[i]) : 0;
            uint32_t la = topo_leaf_of(t, d[i].src), lb = topo_leaf_of(t, d[i].dst);
            x->path = !s[i]      ? 0
                      : la == lb ? q * t->plane_paths /* plane q's */
                                 : eth_path_number(t, la, lb, q);
        }
    }
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
