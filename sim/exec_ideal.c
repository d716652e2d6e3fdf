/* exec_ideal.c - the executor's ideal bounds, remembered for one-message
 * tasks (see exec_ideal.h): an open-addressing hash table keyed by the
 * message, grown at half full. */
#include "sim/exec_ideal.h"

#include <stdlib.h>

#include "sim/ethereal.h"
#include "topo/ideal_lp.h"

struct slot {
    uint32_t src, dst;
    uint64_t bytes;
    simtime_t ideal;
    int kind, used;
};

struct exec_ideal {
    const struct topo *t;
    const struct tr_spec *tr;
    uint64_t lp_max;
    struct slot *s;
    size_t cap, n; /* cap: a power of two */
};

struct exec_ideal *exec_ideal_create(const struct topo *t, const struct tr_spec *tr,
                                     uint64_t lp_max)
{
    struct exec_ideal *m = xcalloc(1, sizeof *m);
    m->t = t;
    m->tr = tr;
    m->lp_max = lp_max;
    return m;
}

void exec_ideal_destroy(struct exec_ideal *m)
{
    if (!m) return;
    free(m->s);
    free(m);
}

/* transport.path = ethereal: the bound of the task's demands sent as the
 * executor sends them, each in its eth_assign subflows. The bytes that
 * must cross each link, and the LP's flow, are the demands' whatever the
 * routing (the subflows' path numbers are one routing among the table's
 * next hops, which the LP relaxes over); what the split changes is the
 * packets (a subflow's short last packet, the smallest packet's way), which
 * the latency terms read. So: the larger of the cut bound with every
 * demand's own count (topo_ideal_each_ps) and, per set of demands with one
 * count, the cut bound of that set (eth_ideal_ps: a set may bind where the
 * whole, with its least pre- and post-times, does not), and the LP with
 * the counts where it fits (then ideal_kind = lp). */
static simtime_t ethereal(const struct exec_ideal *m, const struct topo_demand *d, size_t n,
                          int *kind)
{
    uint32_t mtu = (uint32_t)m->tr->mtu;
    struct eth_sub *subs;
    size_t *off;
    eth_assign(m->t, d, n, &subs, &off);
    free(subs);
    uint32_t *each = xmalloc((n ? n : 1) * sizeof *each);
    for (size_t i = 0; i < n; i++)
        each[i] = (uint32_t)(off[i + 1] - off[i]);
    free(off);
    simtime_t v = topo_ideal_bound_each_ps(m->t, d, n, mtu, 1, each, m->lp_max, kind);
    /* the sets of one count (eth_ideal_ps's, from the counts at hand) */
    struct topo_demand *part = xmalloc((n ? n : 1) * sizeof *part);
    uint8_t *done = xcalloc(n ? n : 1, 1);
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        size_t np = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && each[j] == each[i]) {
                part[np++] = d[j];
                done[j] = 1;
            }
        if (np == n) break; /* one count: the joint bound is this set's */
        simtime_t b = topo_ideal_ps(m->t, part, np, mtu, each[i]);
        if (b > v) v = b;
    }
    free(done);
    free(part);
    free(each);
    return v;
}

/* The bound as the executor defines it: ethereal's counts its own subflows,
 * every other path the cut bound (per subflow count) or the LP where small. */
static simtime_t compute(const struct exec_ideal *m, const struct topo_demand *d, size_t n,
                         int *kind)
{
    const struct tr_spec *tr = m->tr;
    uint32_t sub = tr->path == PATH_SPLIT ? (uint32_t)tr->subflows : 1;
    *kind = TOPO_IDEAL_CUT;
    if (tr->path == PATH_ETHEREAL) return ethereal(m, d, n, kind);
    return topo_ideal_bound_ps(m->t, d, n, (uint32_t)tr->mtu, sub, m->lp_max, kind);
}

static size_t hash(const struct topo_demand *d, size_t mask)
{
    uint64_t h = ((uint64_t)d->src << 32 | d->dst) * 0x9e3779b97f4a7c15ull;
    h ^= d->bytes * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    return (size_t)h & mask;
}

static struct slot *find(struct slot *s, size_t cap, const struct topo_demand *d)
{
    size_t i = hash(d, cap - 1);
    while (s[i].used && (s[i].src != d->src || s[i].dst != d->dst || s[i].bytes != d->bytes))
        i = (i + 1) & (cap - 1);
    return &s[i];
}

simtime_t exec_ideal_ps(struct exec_ideal *m, const struct topo_demand *d, size_t n, int *kind)
{
    if (n != 1) return compute(m, d, n, kind);
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        struct slot *s = xcalloc(cap, sizeof *s);
        for (size_t i = 0; i < m->cap; i++)
            if (m->s[i].used) {
                struct topo_demand k = {m->s[i].src, m->s[i].dst, m->s[i].bytes};
                *find(s, cap, &k) = m->s[i];
            }
        free(m->s);
        m->s = s;
        m->cap = cap;
    }
    struct slot *x = find(m->s, m->cap, d);
    if (!x->used) {
        int k = TOPO_IDEAL_CUT;
        simtime_t v = compute(m, d, 1, &k);
        *x = (struct slot){d->src, d->dst, d->bytes, v, k, 1};
        m->n++;
    }
    *kind = x->kind;
    return x->ideal;
}
