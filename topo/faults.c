/* faults.c - failed and degraded links known before the run (faults.h).
 *
 * A link is every port between two nodes, both directions, named "a-b" with
 * the links table's node names (topo_node_name, so every fabric kind names
 * its links the same way). The lists are parsed into entries, each entry's
 * node names resolved by naming every node of the built fabric once, and its
 * ports found in a table of the ports sorted by their node pair.
 *
 * The random choice: the fabric's switch-to-switch links in port order,
 * shuffled (Fisher-Yates) by the RNG_FAULTS stream of the run's sim.seed
 * (base/rng.h); faults.random_down takes the first round(fraction * links)
 * of them (at least one for a fraction above 0) that the lists did not put
 * down, faults.random_degraded the next ones neither down nor degraded. One
 * seed, one fabric, one choice.
 *
 * Down ports keep their place (and rate) in the port table; routing skips
 * them (topo_route_build leaves ports with `down` out of its graph), so the
 * equal-cost groups hold the live next hops only and every path number
 * names a live path. A host whose link is down, or a leaf pair with no live
 * route of at most TOPO_ROUTE_MAX_PORTS - 2 switch-to-switch hops, is an
 * error before the run.
 */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/num.h"
#include "base/rng.h"
#include "topo/topo.h"

#define NAME_MAX_LEN 32

/* One listed link. */
struct fentry {
    char a[NAME_MAX_LEN], b[NAME_MAX_LEN];
    char text[80];  /* as written, for messages */
    double frac;    /* degraded: the rate kept; down: 0 */
    uint64_t at_ps; /* fail: when */
    uint32_t na, nb;
};

/* The entries of one list (key "down" or "degraded"). */
struct flist {
    const char *key;
    struct fentry *e;
    size_t n;
};

/* A port by its node pair (lo, hi), sorted: a link's ports are a run. */
struct pkey {
    uint64_t key;
    uint32_t port;
};

static int pkey_cmp(const void *x, const void *y)
{
    const struct pkey *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->port < b->port ? -1 : a->port > b->port;
}

static uint64_t pair_key(uint32_t u, uint32_t v)
{
    return u < v ? (uint64_t)u << 32 | v : (uint64_t)v << 32 | u;
}

int topo_faults_any_down(const struct topo_faults *f)
{
    return f->down[0] || f->random_down > 0;
}

int topo_faults_any_timed(const struct topo_faults *f)
{
    return f->fail[0] != 0;
}

int topo_faults_any(const struct topo_faults *f)
{
    return topo_faults_any_down(f) || f->degraded[0] || f->random_degraded > 0 ||
           topo_faults_any_timed(f);
}

void topo_faults_free(struct topo *t)
{
    for (uint32_t i = 0; i < t->ntfaults; i++) {
        free(t->tfaults[i].ports);
        free(t->tfaults[i].route);
        free(t->tfaults[i].route_ports);
        free(t->tfaults[i].nic_down);
    }
    free(t->tfaults);
    t->tfaults = NULL;
    t->ntfaults = 0;
}

/* A time with its unit ("50us", "1.5ms", "0ns") into *ps; -1 if it is none. */
static int parse_time(const char *s, uint64_t *ps)
{
    static const struct {
        const char *u;
        double mult;
    } units[] = {{"ns", 1e3}, {"us", 1e6}, {"ms", 1e9}, {"s", 1e12}};
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || !isfinite(v)) return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].u)) {
            double p = floor(v * units[i].mult + 0.5);
            if (p > 4e18) return -1; /* within the clock (2^63 ps) */
            *ps = (uint64_t)p;
            return 0;
        }
    return -1;
}

static int fail(const struct opt_def **bad, struct err *e, const char *key, const char *fmt,
                const char *a, const char *b)
{
    if (bad) *bad = opt_table_find(&topo_faults_options, "faults", key);
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, fmt, a, b);
    return err_set(e, "faults.%s: %s", key, why);
}

/* Parses list text of key into l (degraded: each entry src-dst:fraction). */
static int parse_list(const char *text, const char *key, struct flist *l,
                      const struct opt_def **bad, struct err *e)
{
    int deg = !strcmp(key, "degraded"), timed = !strcmp(key, "fail");
    l->key = key;
    l->e = NULL;
    l->n = 0;
    const char *s = text;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s) break;
        size_t len = strcspn(s, " \t");
        char tok[80];
        snprintf(tok, sizeof tok, "%.*s", (int)(len < 79 ? len : 79), s);
        s += len;
        l->e = xrealloc(l->e, (l->n + 1) * sizeof *l->e);
        struct fentry *f = &l->e[l->n++];
        memset(f, 0, sizeof *f);
        snprintf(f->text, sizeof f->text, "%s", tok);
        if (timed) { /* src-dst@time */
            char *at = strchr(tok, '@');
            if (!at)
                return fail(bad, e, key, "%s: expected src-dst@time, as l0-s3@50us", f->text, NULL);
            *at = 0;
            if (parse_time(at + 1, &f->at_ps) < 0)
                return fail(bad, e, key,
                            "%s: expected a time with a unit (ns, us, ms or s) after '@', got '%s'",
                            f->text, at + 1);
        }
        char *colon = strchr(tok, ':');
        if (colon && !deg)
            return fail(bad, e, key, "%s: a link down takes no fraction (faults.degraded does)",
                        f->text, NULL);
        if (!colon && deg)
            return fail(bad, e, key, "%s: expected src-dst:fraction, as l0-s1:0.5", f->text, NULL);
        if (colon) {
            *colon = 0;
            char *end;
            f->frac = strtod(colon + 1, &end);
            if (end == colon + 1 || *end)
                return fail(bad, e, key, "%s: expected a fraction after ':', got '%s'", f->text,
                            colon + 1);
            if (!(f->frac > 0 && f->frac <= 1))
                return fail(bad, e, key, "%s: the fraction %s is outside (0,1]", f->text,
                            colon + 1);
        }
        char *dash = strchr(tok, '-');
        if (!dash || dash == tok || !dash[1] || strchr(dash + 1, '-') ||
            strlen(tok) >= NAME_MAX_LEN)
            return fail(bad, e, key, "%s: expected a link src-dst, as l0-s3", f->text, NULL);
        *dash = 0;
        /* both fit: strlen(tok) < NAME_MAX_LEN was checked above */
        size_t la = strlen(tok), lb = strlen(dash + 1);
        memcpy(f->a, tok, la + 1);
        memcpy(f->b, dash + 1, lb + 1);
        if (!strcmp(f->a, f->b))
            return fail(bad, e, key, "%s: a link joins two different nodes", f->text, NULL);
    }
    return 0;
}

static void free_list(struct flist *l)
{
    free(l->e);
    l->e = NULL;
    l->n = 0;
}

/* The fabric's ports by node pair, and its node count. */
struct fidx {
    struct pkey *k;
    uint32_t n, nodes;
};

static void index_ports(const struct topo *t, struct fidx *x)
{
    x->n = t->nports;
    x->k = xmalloc(((size_t)t->nports + 1) * sizeof *x->k);
    x->nodes = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *q = &t->ports[p];
        x->k[p] = (struct pkey){pair_key(q->src, q->dst), p};
        if (q->src + 1 > x->nodes) x->nodes = q->src + 1;
        if (q->dst + 1 > x->nodes) x->nodes = q->dst + 1;
    }
    qsort(x->k, x->n, sizeof *x->k, pkey_cmp);
}

/* The first entry of x with key k, and how many (0: none). */
static uint32_t find_link(const struct fidx *x, uint64_t k, uint32_t *first)
{
    uint32_t lo = 0, hi = x->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (x->k[mid].key < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t n = 0;
    while (lo + n < x->n && x->k[lo + n].key == k)
        n++;
    *first = lo;
    return n;
}

static int is_switch(const struct topo *t, uint32_t node)
{
    return node >= t->hosts && node < t->hosts + t->nswitches;
}

/* Resolves every entry's nodes (one pass naming each node), checks that the
 * link exists, is a host or fabric link, and that no link is listed twice
 * (over both lists: ls[0] down, ls[1] degraded). */
static int resolve(const struct topo *t, const struct fidx *x, struct flist *ls, size_t nls,
                   const struct opt_def **bad, struct err *e)
{
    for (size_t i = 0; i < nls; i++)
        for (size_t j = 0; j < ls[i].n; j++)
            ls[i].e[j].na = ls[i].e[j].nb = UINT32_MAX;
    char name[NAME_MAX_LEN + 8];
    for (uint32_t v = 0; v < x->nodes; v++) {
        topo_node_name(t, v, name, sizeof name);
        for (size_t i = 0; i < nls; i++)
            for (size_t j = 0; j < ls[i].n; j++) {
                struct fentry *f = &ls[i].e[j];
                if (f->na == UINT32_MAX && !strcmp(f->a, name)) f->na = v;
                if (f->nb == UINT32_MAX && !strcmp(f->b, name)) f->nb = v;
            }
    }
    for (size_t i = 0; i < nls; i++)
        for (size_t j = 0; j < ls[i].n; j++) {
            struct fentry *f = &ls[i].e[j];
            if (f->na == UINT32_MAX)
                return fail(bad, e, ls[i].key, "%s: no node %s in this fabric", f->text, f->a);
            if (f->nb == UINT32_MAX)
                return fail(bad, e, ls[i].key, "%s: no node %s in this fabric", f->text, f->b);
            uint32_t first;
            if (!find_link(x, pair_key(f->na, f->nb), &first)) {
                char ab[2 * NAME_MAX_LEN + 8];
                snprintf(ab, sizeof ab, "%s and %s", f->a, f->b);
                return fail(bad, e, ls[i].key, "%s: no link between %s", f->text, ab);
            }
            int k = t->ports[x->k[first].port].kind;
            if (k == TP_NVL_UP || k == TP_NVL_DOWN)
                return fail(bad, e, ls[i].key,
                            "%s: an NVLink link; faults take host links and links between "
                            "switches%s",
                            f->text, "");
            for (size_t i2 = 0; i2 <= i; i2++)
                for (size_t j2 = 0; j2 < (i2 == i ? j : ls[i2].n); j2++) {
                    const struct fentry *g = &ls[i2].e[j2];
                    if (pair_key(g->na, g->nb) != pair_key(f->na, f->nb)) continue;
                    if (i2 == i)
                        return fail(bad, e, ls[i].key, "%s: the link is listed twice (as %s)",
                                    f->text, g->text);
                    /* a degraded link may fail during the run */
                    if (!strcmp(ls[i].key, "fail") && !strcmp(ls[i2].key, "degraded")) continue;
                    char other[128];
                    snprintf(other, sizeof other, "faults.%s (as %s)", ls[i2].key, g->text);
                    return fail(bad, e, ls[i].key, "%s: the link is also listed in %s", f->text,
                                other);
                }
        }
    return 0;
}

static void mark_down(struct topo *t, const struct fidx *x, uint64_t key)
{
    uint32_t first, n = find_link(x, key, &first);
    for (uint32_t i = 0; i < n; i++) {
        struct topo_port *p = &t->ports[x->k[first + i].port];
        if (!p->down) t->ndown++;
        p->down = 1;
    }
}

static void mark_degraded(struct topo *t, const struct fidx *x, uint64_t key, double frac)
{
    uint32_t first, n = find_link(x, key, &first);
    for (uint32_t i = 0; i < n; i++) {
        struct topo_port *p = &t->ports[x->k[first + i].port];
        double b = floor((double)p->bps * frac + 0.5);
        p->bps = b < 1 ? 1 : (uint64_t)b;
        t->ndegraded++;
    }
}

/* How many of n links a fraction takes: round(f * n), at least one for f > 0. */
static uint32_t frac_count(double f, uint32_t n)
{
    if (f <= 0 || n == 0) return 0;
    double k = floor(f * (double)n + 0.5);
    if (k < 1) k = 1;
    return k > n ? n : (uint32_t)k;
}

/* The fabric's switch-to-switch links: one key per node pair, in the order
 * of their first port. */
static uint64_t *fabric_links(const struct topo *t, const struct fidx *x, uint32_t *n)
{
    uint64_t *ks = xmalloc(((size_t)t->nports + 1) * sizeof *ks);
    *n = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *q = &t->ports[p];
        if (!is_switch(t, q->src) || !is_switch(t, q->dst)) continue;
        uint64_t k = pair_key(q->src, q->dst);
        uint32_t first;
        find_link(x, k, &first);
        if (x->k[first].port == p) ks[(*n)++] = k; /* the link's first port */
    }
    return ks;
}

static int link_is_down(const struct topo *t, const struct fidx *x, uint64_t key)
{
    uint32_t first;
    return find_link(x, key, &first) && t->ports[x->k[first].port].down;
}

/* Marks the random faults; *ndown, *ndeg: how many links each took. */
static void mark_random(const struct topo_faults *f, struct topo *t, const struct fidx *x,
                        const struct flist *deg, uint32_t *ndown, uint32_t *ndeg, uint32_t *nlinks)
{
    *ndown = *ndeg = 0;
    uint32_t n;
    uint64_t *ks = fabric_links(t, x, &n);
    *nlinks = n;
    uint32_t kd = frac_count(f->random_down, n), kg = frac_count(f->random_degraded, n);
    if (kd + kg > 0 && n > 1) {
        gsl_rng *r = rng_alloc(f->seed, RNG_FAULTS, 0);
        for (uint32_t i = n - 1; i > 0; i--) {
            uint32_t j = (uint32_t)gsl_rng_uniform_int(r, (unsigned long)i + 1);
            uint64_t tmp = ks[i];
            ks[i] = ks[j];
            ks[j] = tmp;
        }
        gsl_rng_free(r);
    }
    uint32_t i = 0;
    for (; i < n && *ndown < kd; i++)
        if (!link_is_down(t, x, ks[i])) {
            mark_down(t, x, ks[i]);
            ++*ndown;
        }
    for (; i < n && *ndeg < kg; i++) {
        if (link_is_down(t, x, ks[i])) continue;
        int listed = 0;
        for (size_t j = 0; j < deg->n && !listed; j++)
            listed = pair_key(deg->e[j].na, deg->e[j].nb) == ks[i];
        if (listed) continue;
        mark_degraded(t, x, ks[i], f->degrade_to);
        ++*ndeg;
    }
    free(ks);
}

/* Path numbers under faults. Links down leave groups of one tier of
 * different sizes (3 of 4 spines here, 4 there), and route.c's digits (a
 * switch above the leaves divides by the largest path count over its own)
 * then no longer spread a uniform path number evenly. A packet's path
 * number p takes next hop p % n at its leaf and (p / div) % n above; with
 * Lg(d) the least common multiple of the leaves' group sizes toward leaf d,
 * M(d) that of the other switches', div = Lg(d) above the leaves and npaths
 * a multiple of every Lg(d) * M(d), a uniform p is uniform over each
 * group's live next hops at the leaf and, independently, at the switch
 * above it (the two choices of a fat-tree's up-path). That is the
 * numbering of every fabric whose switches with a choice are the leaves
 * and the switches right above them (leaf_spine, fat_tree, rail and the
 * two-tier fabrics from files). A fabric with a third tier of choices (a
 * GraphML fat-tree whose cores each reach several aggregation switches of a
 * pod) takes general_paths' numbering instead. Either is applied only when
 * npaths fits a packet's path number (else route.c's numbering stays: every
 * path number still names a live path). Without faults Lg(d) * M(d) is
 * route.c's count and its divisors: nothing changes. */
static void two_tier_paths(struct topo *t)
{
    uint32_t L = t->leaves, W = t->nswitches;
    uint64_t *lg = xmalloc((size_t)L * sizeof *lg), n = 1, P = t->planes > 1 ? t->planes : 1;
    for (uint32_t d = 0; d < L && n <= 65534; d++) {
        uint64_t a = 1, m = 1;
        /* the leaves' groups, and those of the switches they lead to */
        for (uint32_t u = 0; u < L && a <= 65534 && m <= 65534; u++) {
            const struct topo_hop *g = topo_hop_at(t, u, d);
            if (u == d || g->n == 0) continue;
            a = num_lcm(a, g->n);
            for (uint32_t i = 0; i < g->n; i++) {
                uint32_t q = g->n == 1 ? g->off : t->route_ports[g->off + i];
                uint32_t v = t->ports[q].dst - t->hosts;
                const struct topo_hop *h = topo_hop_at(t, v, d);
                if (v >= L && h->n >= 2) m = num_lcm(m, h->n);
            }
        }
        lg[d] = a;
        n = a > 65534 || m > 65534 ? UINT64_MAX : num_lcm(n, a * m);
    }
    if (n <= 65534 / P) {
        for (uint32_t d = 0; d < L; d++)
            for (uint32_t u = L; u < W; u++)
                t->route[(size_t)u * L + d].div = (uint16_t)lg[d];
        topo_set_npaths(t, (uint32_t)n);
    }
    free(lg);
}

/* The next hop i of row g (a switch row). */
static uint32_t row_next(const struct topo *t, const struct topo_hop *g, uint32_t i)
{
    uint32_t q = g->n == 1 ? g->off : t->route_ports[g->off + i];
    return t->ports[q].dst - t->hosts;
}

/* The part of m made of the primes that divide n. */
static uint64_t prime_part(uint64_t m, uint64_t n)
{
    uint64_t dv = 1, g;
    while ((g = num_gcd(m, n)) > 1) {
        dv *= g;
        m /= g;
    }
    return dv;
}

/* The routes toward leaf d as a graph: every switch's hops to d (dist, from
 * its first next hop), the switches in order of decreasing hops (ord, nord
 * of them: every edge of a route leads from an earlier one to a later one),
 * and pos[u], bit k set when a route from some leaf reaches u after k
 * switch-to-switch links (0: no leaf's route crosses u). */
struct dgraph {
    uint32_t *dist, *ord, *cnt, nord;
    uint8_t *pos;
};

static void dgraph_build(const struct topo *t, uint32_t d, struct dgraph *g)
{
    uint32_t L = t->leaves, W = t->nswitches, maxd = 0;
    for (uint32_t u = 0; u < W; u++)
        g->dist[u] = u == d ? 0 : UINT32_MAX - 1; /* - 1: not yet known */
    for (uint32_t u = 0; u < W; u++) {
        /* follow first next hops until a switch whose distance is known */
        uint32_t v = u, k = 0;
        while (g->dist[v] == UINT32_MAX - 1) {
            const struct topo_hop *h = topo_hop_at(t, v, d);
            if (h->n == 0 || k > W) {
                g->dist[v] = UINT32_MAX; /* no route */
                break;
            }
            g->ord[k++] = v;             /* (a stack here) */
            g->dist[v] = UINT32_MAX - 2; /* on the stack */
            v = row_next(t, h, 0);
            if (g->dist[v] == UINT32_MAX - 2) g->dist[v] = UINT32_MAX; /* (no cycle in a table) */
        }
        uint32_t base = g->dist[v];
        while (k > 0) {
            uint32_t x = g->ord[--k];
            base = base >= UINT32_MAX - 2 ? UINT32_MAX : base + 1;
            g->dist[x] = base;
            if (base != UINT32_MAX && base > maxd) maxd = base;
        }
    }
    /* counting sort by decreasing distance */
    memset(g->cnt, 0, ((size_t)maxd + 2) * sizeof *g->cnt);
    for (uint32_t u = 0; u < W; u++)
        if (g->dist[u] != UINT32_MAX) g->cnt[maxd - g->dist[u] + 1]++;
    for (uint32_t h = 1; h <= maxd + 1; h++)
        g->cnt[h] += g->cnt[h - 1];
    g->nord = 0;
    for (uint32_t u = 0; u < W; u++)
        if (g->dist[u] != UINT32_MAX) {
            g->ord[g->cnt[maxd - g->dist[u]]++] = u;
            g->nord++;
        }
    memset(g->pos, 0, W);
    for (uint32_t u = 0; u < L; u++)
        if (u != d && g->dist[u] != UINT32_MAX) g->pos[u] = 1;
    for (uint32_t j = 0; j < g->nord; j++) {
        uint32_t u = g->ord[j];
        const struct topo_hop *h = topo_hop_at(t, u, d);
        if (u == d || !g->pos[u]) continue;
        for (uint32_t i = 0; i < h->n; i++) {
            uint32_t v = row_next(t, h, i);
            g->pos[v] |= (uint8_t)(g->pos[u] << 1);
        }
    }
}

/* Whether every switch with a choice on a leaf's route toward d is the
 * route's first (a leaf) or second (a switch above the leaves): the
 * fabrics two_tier_paths numbers. */
static int two_tier(const struct topo *t, uint32_t d, const struct dgraph *g)
{
    for (uint32_t u = 0; u < t->nswitches; u++) {
        if (u == d || !g->pos[u] || topo_hop_at(t, u, d)->n < 2) continue;
        if (g->pos[u] != (u < t->leaves ? 1 : 2)) return 0;
    }
    return 1;
}

/* Path numbers for any number of tiers of choices: a switch's digit (p /
 * div) % n must not depend on the digits read before it on any route
 * through it. Those are a function of p mod Mu, Mu the least common
 * multiple of the moduli Cw of the switches w before it (Cw = lcm(Mw,
 * divw * nw), a leaf's M being 1), and for a uniform p (npaths a multiple
 * of every modulus) the digit is uniform whatever p mod Mu is when every
 * prime of n divides div at least as often as it divides Mu: div = the
 * part of Mu made of n's primes, the least such. So a uniform p is uniform
 * over every group's live next hops, independently at every switch of a
 * route; npaths is the lcm of every modulus (the least that keeps each
 * group's share exact). Rows of switches no leaf's route crosses keep
 * route.c's divisors. Sets the rows' div when `set`; returns npaths, or
 * UINT64_MAX when it is above `lim`. */
static uint64_t general_paths(struct topo *t, struct dgraph *g, uint64_t *mod, uint64_t lim,
                              int set)
{
    uint32_t L = t->leaves, W = t->nswitches;
    uint64_t np = 1;
    for (uint32_t d = 0; d < L; d++) {
        dgraph_build(t, d, g);
        for (uint32_t u = 0; u < W; u++)
            mod[u] = 1; /* Mu, then Cu once u is done */
        for (uint32_t j = 0; j < g->nord; j++) {
            uint32_t u = g->ord[j];
            if (u == d || !g->pos[u]) continue;
            struct topo_hop *h = &t->route[(size_t)u * L + d];
            uint64_t c = mod[u];
            if (h->n >= 2) {
                uint64_t dv = prime_part(c, h->n);
                if (dv * h->n > lim) return UINT64_MAX;
                c = num_lcm(c, dv * h->n);
                if (set) h->div = (uint16_t)dv;
            }
            if (c > lim) return UINT64_MAX;
            np = num_lcm(np, c);
            if (np > lim) return UINT64_MAX;
            for (uint32_t i = 0; i < h->n; i++) {
                uint32_t v = row_next(t, h, i);
                mod[v] = num_lcm(mod[v], c);
                if (mod[v] > lim) return UINT64_MAX;
            }
        }
    }
    return np;
}

/* When general_paths' npaths does not fit: every digit in a slot of its
 * own, the next power of two at least its n, above the slots of every
 * switch before it (div = the product of those slots, a power of two), and
 * npaths the largest multiple of the largest slot product that fits. Then
 * each digit reads (p / div) % n with p / div uniform over at least n *
 * (npaths / the largest product) values (exact when n divides that count),
 * and the digits are independent but for that rounding, instead of route.c's
 * numbering, whose top digit takes the numbers above a destination's own
 * path count (its first next hop twice as often). Returns npaths, or
 * UINT64_MAX when the slots do not fit `lim`. */
static uint64_t slot_paths(struct topo *t, struct dgraph *g, uint64_t *mod, uint64_t lim,
                           uint64_t np)
{
    uint32_t L = t->leaves, W = t->nswitches;
    uint64_t top = 1;
    for (uint32_t d = 0; d < L; d++) {
        dgraph_build(t, d, g);
        for (uint32_t u = 0; u < W; u++)
            mod[u] = 1;
        for (uint32_t j = 0; j < g->nord; j++) {
            uint32_t u = g->ord[j];
            if (u == d || !g->pos[u]) continue;
            struct topo_hop *h = &t->route[(size_t)u * L + d];
            uint64_t c = mod[u];
            if (h->n >= 2) {
                uint64_t r = 1;
                while (r < h->n)
                    r *= 2;
                if (np) h->div = (uint16_t)c;
                c *= r;
                if (c > lim) return UINT64_MAX;
            }
            top = c > top ? c : top;
            for (uint32_t i = 0; i < h->n; i++) {
                uint32_t v = row_next(t, h, i);
                mod[v] = c > mod[v] ? c : mod[v];
            }
        }
    }
    return lim / top * top;
}

static void renumber_paths(struct topo *t)
{
    uint32_t W = t->nswitches;
    struct dgraph g;
    g.dist = xmalloc(((size_t)W + 1) * sizeof *g.dist);
    g.ord = xmalloc(((size_t)W + 1) * sizeof *g.ord);
    g.cnt = xmalloc(((size_t)W + 2) * sizeof *g.cnt);
    g.pos = xmalloc((size_t)W + 1);
    int two = 1;
    for (uint32_t d = 0; d < t->leaves && two; d++) {
        dgraph_build(t, d, &g);
        two = two_tier(t, d, &g);
    }
    if (two) {
        two_tier_paths(t);
    } else {
        uint64_t P = t->planes > 1 ? t->planes : 1, lim = 65534 / P;
        uint64_t *mod = xmalloc(((size_t)W + 1) * sizeof *mod);
        uint64_t np = general_paths(t, &g, mod, lim, 0);
        if (np <= lim) {
            general_paths(t, &g, mod, lim, 1);
            topo_set_npaths(t, (uint32_t)np);
        } else if ((np = slot_paths(t, &g, mod, lim, 0)) <= lim) {
            slot_paths(t, &g, mod, lim, np);
            topo_set_npaths(t, (uint32_t)np);
        }
        free(mod);
    }
    free(g.dist);
    free(g.ord);
    free(g.cnt);
    free(g.pos);
}

/* Rail planes with GPUs' links to a plane down: every pair of GPUs that
 * talks over the NICs keeps a plane on which its round trip finds every
 * NIC port up (topo_plane_mask, topo/rail.c). Blames `key`. */
static int plane_pairs(const struct topo *t, const char *key, const char *what,
                       const struct opt_def **bad, struct err *e)
{
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++) {
            if (a == b || topo_same_server(t, a, b) || topo_plane_mask(t, a, b)) continue;
            char n1[NAME_MAX_LEN + 8], n2[NAME_MAX_LEN + 8], why[ERR_MSG_MAX];
            topo_node_name(t, a, n1, sizeof n1);
            topo_node_name(t, b, n2, sizeof n2);
            snprintf(why, sizeof why,
                     "%s leave hosts %s and %s no plane on which both reach each other (a "
                     "packet keeps its plane end to end, its answer too)",
                     what, n1, n2);
            return fail(bad, e, key, "%s%s", why, "");
        }
    return 0;
}

/* After the down links are marked: every host keeps its links, the routing
 * table is rebuilt without them, every leaf reaches every other within the
 * route's limit. Blames `key`. */
static int reroute(struct topo *t, const char *key, const char *what, const struct opt_def **bad,
                   struct err *e)
{
    char n1[NAME_MAX_LEN + 8], n2[NAME_MAX_LEN + 8];
    uint32_t P = t->planes > 1 ? t->planes : 1;
    int plane_down = 0;
    for (uint32_t h = 0; h < P * t->hosts; h++)
        if (t->ports[t->host_up[h]].down || t->ports[t->host_down[h]].down) {
            topo_node_name(t, h % t->hosts, n1, sizeof n1);
            if (P == 1) return fail(bad, e, key, "%s disconnect host %s", what, n1);
            plane_down = 1;
        }
    if (plane_down && plane_pairs(t, key, what, bad, e) < 0) return -1;
    t->plane_host_down = (uint8_t)plane_down;
    free(t->route);
    free(t->route_ports);
    free(t->up);
    free(t->down);
    t->route = NULL;
    t->route_ports = NULL;
    t->up = t->down = NULL;
    t->nroute_ports = 0;
    struct err re;
    if (topo_route_build(t, &re) < 0) {
        unsigned a, b;
        if (sscanf(re.msg, "topology: leaf l%u cannot reach leaf l%u", &a, &b) == 2) {
            snprintf(n1, sizeof n1, "l%u", a);
            snprintf(n2, sizeof n2, "l%u", b);
            char why[ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s disconnect leaf %s from leaf %s", what, n1, n2);
            return fail(bad, e, key, "%s%s", why, "");
        }
        return fail(bad, e, key, "%s%s", re.msg, "");
    }
    /* every shortest path between two leaves is as long as path 0's */
    uint32_t lim = TOPO_ROUTE_MAX_PORTS - 2;
    for (uint32_t a = 0; a < t->leaves; a++)
        for (uint32_t d = 0; d < t->leaves; d++) {
            if (a == d || (P > 1 && a / t->plane_leaves != d / t->plane_leaves)) continue;
            uint32_t sw = a, hops = 0;
            while (sw != d && hops <= lim) {
                const struct topo_hop *g = topo_hop_at(t, sw, d);
                uint32_t q = g->n == 1 ? g->off : t->route_ports[g->off];
                sw = t->ports[q].dst - t->hosts;
                hops++;
            }
            if (hops > lim) {
                snprintf(n1, sizeof n1, "l%u", a);
                snprintf(n2, sizeof n2, "l%u", d);
                char why[ERR_MSG_MAX];
                snprintf(why, sizeof why,
                         "%s leave leaf %s a route to leaf %s of more than %u switch-to-switch "
                         "links, longer than a packet's route holds",
                         what, n1, n2, lim);
                return fail(bad, e, key, "%s%s", why, "");
            }
        }
    renumber_paths(t);
    return 0;
}

/* Rail planes under faults.fail: a packet's plane is its path number's
 * highest digit, p / plane_paths (topo_plane), read at every hop and by the
 * NIC, so it must mean the same plane before and after each reroute (a
 * packet on its way, an ECMP flow's fixed number). Every table (the
 * fabric's and each failure's) takes one plane_paths, the least common
 * multiple of theirs: each table's digits divide its own count, so a
 * multiple of it keeps a uniform number uniform over every group's next
 * hops (renumber_paths); refused when it does not fit a packet's path. */
static uint64_t rows_lcm(const struct topo *t, const struct topo_hop *route, uint64_t L)
{
    size_t rows = (size_t)t->nswitches * t->leaves;
    for (size_t j = 0; j < rows && L <= 65534; j++)
        if (route[j].n >= 2)
            L = num_lcm(L, (uint64_t)(route[j].div ? route[j].div : 1) * route[j].n);
    return L;
}

static int common_plane_paths(struct topo *t, const struct opt_def **bad, struct err *e)
{
    /* and a multiple of every group's div * n, so that a switch that
     * rewrites its digit (sim/pkt_route.c pkt_hop: an in-flight packet
     * re-chosen after a reroute) keeps the packet in its plane */
    uint64_t L = rows_lcm(t, t->route, t->plane_paths);
    for (uint32_t i = 0; i < t->ntfaults && L <= 65534; i++)
        L = rows_lcm(t, t->tfaults[i].route, num_lcm(L, t->tfaults[i].plane_paths));
    if (L > 65534 / t->planes) {
        char a[24], b[24];
        snprintf(a, sizeof a, "%llu", (unsigned long long)L);
        snprintf(b, sizeof b, "%u", t->planes);
        return fail(bad, e, "fail",
                    "the planes' path numbers with these failures (%s a plane, %s planes) do not "
                    "fit a packet's 16-bit path number",
                    a, b);
    }
    topo_set_npaths(t, (uint32_t)L);
    for (uint32_t i = 0; i < t->ntfaults; i++) {
        t->tfaults[i].plane_paths = (uint32_t)L;
        t->tfaults[i].npaths = t->npaths;
    }
    return 0;
}

/* faults.fail: the timed failures of list l into t->tfaults, in time order
 * (a stable sort: listed order among equal times), each with the routing
 * table of the fabric with it and every failure before it down (reroute's,
 * which also refuses a failure that cuts a host or a leaf off). The fabric
 * itself is left as it starts: the links up, its own routing tables (the
 * engine forwards by the table rows, sim/pkt_fault.c). */
static int build_timed(struct topo *t, const struct fidx *x, const struct flist *l,
                       int64_t delay_ns, const struct opt_def **bad, struct err *e)
{
    uint32_t n = (uint32_t)l->n, *ord = xmalloc(((size_t)n + 1) * sizeof *ord);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        for (; j > 0 && l->e[ord[j - 1]].at_ps > l->e[i].at_ps; j--)
            ord[j] = ord[j - 1];
        ord[j] = i;
    }
    for (uint32_t i = 0; i < n; i++)
        if (link_is_down(t, x, pair_key(l->e[i].na, l->e[i].nb))) {
            free(ord);
            return fail(bad, e, "fail", "%s: the link is down before the run (%s)", l->e[i].text,
                        "faults.random_down");
        }
    t->tfaults = xcalloc(n, sizeof *t->tfaults);
    t->ntfaults = n;
    t->reroute_ps = (uint64_t)delay_ns * PS_PER_NS;
    struct topo_hop *r0 = t->route;
    uint32_t *rp0 = t->route_ports, nrp0 = t->nroute_ports, nd0 = t->ndown;
    uint32_t np0 = t->npaths, pp0 = t->plane_paths;
    uint8_t phd0 = t->plane_host_down;
    uint32_t *up0 = t->up, *down0 = t->down; /* kept: reroute drops them */
    t->up = t->down = NULL;
    t->route = NULL;
    t->route_ports = NULL;
    t->nroute_ports = 0;
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const struct fentry *fe = &l->e[ord[i]];
        struct topo_tfault *tf = &t->tfaults[i];
        tf->at_ps = fe->at_ps;
        snprintf(tf->text, sizeof tf->text, "%s", fe->text);
        uint32_t first, cnt = find_link(x, pair_key(fe->na, fe->nb), &first);
        tf->ports = xmalloc(((size_t)cnt + 1) * sizeof *tf->ports);
        for (uint32_t j = 0; j < cnt; j++) {
            tf->ports[tf->nports++] = x->k[first + j].port;
            t->ports[x->k[first + j].port].down = 1;
        }
        char what[160];
        snprintf(what, sizeof what, "the links down with %s", fe->text);
        rc = reroute(t, "fail", what, bad, e);
        tf->route = t->route;
        tf->route_ports = t->route_ports;
        tf->nroute_ports = t->nroute_ports;
        tf->npaths = t->npaths;
        tf->plane_paths = t->plane_paths;
        tf->plane_host_down = t->plane_host_down;
        if (rc == 0 && t->plane_host_down) { /* a GPU's plane link: the NICs' ports then */
            size_t nh = (size_t)t->planes * t->hosts;
            tf->nic_down = xmalloc(nh);
            for (size_t h = 0; h < nh; h++)
                tf->nic_down[h] = t->ports[t->host_up[h]].down;
        }
        t->route = NULL;
        t->route_ports = NULL;
        t->nroute_ports = 0;
    }
    t->up = up0;
    t->down = down0;
    t->route = r0;
    t->route_ports = rp0;
    t->nroute_ports = nrp0;
    t->npaths = np0;
    t->plane_paths = pp0;
    t->plane_host_down = phd0;
    if (rc == 0 && t->planes > 1) rc = common_plane_paths(t, bad, e);
    for (uint32_t i = 0; i < t->ntfaults; i++)
        for (uint32_t j = 0; j < t->tfaults[i].nports; j++)
            t->ports[t->tfaults[i].ports[j]].down = 0;
    t->ndown = nd0;
    free(ord);
    return rc;
}

static int check_degrade_to(const struct topo_faults *f, const struct opt_def **bad, struct err *e)
{
    if (f->degrade_to > 0 && f->degrade_to <= 1) return 0;
    char v[32];
    snprintf(v, sizeof v, "%g", f->degrade_to);
    return fail(bad, e, "degrade_to", "%s is outside (0,1]%s", v, "");
}

/* Applies f to t, blaming the key at fault. */
static int apply(const struct topo_faults *f, struct topo *t, const struct opt_def **bad,
                 struct err *e)
{
    if (!topo_faults_any(f)) return 0;
    if (f->random_degraded > 0 && check_degrade_to(f, bad, e) < 0) return -1;
    struct flist ls[3];
    memset(ls, 0, sizeof ls);
    int rc = parse_list(f->down, "down", &ls[0], bad, e);
    if (rc == 0) rc = parse_list(f->degraded, "degraded", &ls[1], bad, e);
    if (rc == 0) rc = parse_list(f->fail, "fail", &ls[2], bad, e);
    struct fidx x = {0};
    if (rc == 0) {
        index_ports(t, &x);
        rc = resolve(t, &x, ls, 3, bad, e);
    }
    if (rc == 0) {
        for (size_t j = 0; j < ls[0].n; j++)
            mark_down(t, &x, pair_key(ls[0].e[j].na, ls[0].e[j].nb));
        for (size_t j = 0; j < ls[1].n; j++)
            mark_degraded(t, &x, pair_key(ls[1].e[j].na, ls[1].e[j].nb), ls[1].e[j].frac);
        /* the listed links alone first, so that the key to blame is the right one */
        if (t->ndown) rc = reroute(t, "down", "the links down", bad, e);
    }
    if (rc == 0 && (f->random_down > 0 || f->random_degraded > 0)) {
        uint32_t nd, ng, nl;
        uint32_t before = t->ndown;
        mark_random(f, t, &x, &ls[1], &nd, &ng, &nl);
        if (t->ndown != before) {
            char what[160];
            snprintf(what, sizeof what, "%u of the %u switch-to-switch links down (sim.seed %llu)",
                     nd, nl, (unsigned long long)f->seed);
            rc = reroute(t, "random_down", what, bad, e);
        }
    }
    if (rc == 0 && ls[2].n) rc = build_timed(t, &x, &ls[2], f->reroute_delay_ns, bad, e);
    free(x.k);
    free_list(&ls[0]);
    free_list(&ls[1]);
    free_list(&ls[2]);
    return rc;
}

int topo_faults_apply(const struct topo_spec *s, struct topo *t, struct err *e)
{
    return apply(&s->faults, t, NULL, e);
}

int topo_faults_check(const struct topo_spec *s, const struct opt_def **bad, struct err *e)
{
    const struct topo_faults *f = &s->faults;
    if (check_degrade_to(f, bad, e) < 0) return -1;
    if (!topo_faults_any(f)) return 0;
    /* the fabric without faults, then the faults on it */
    struct topo_spec c = *s;
    memset(&c.faults, 0, sizeof c.faults);
    c.faults.degrade_to = 1;
    c.faults.reroute_delay_ns = 0;
    struct topo *t = NULL;
    if (topo_build(&c, &t, e) < 0) return -1;
    int rc = apply(f, t, bad, e);
    topo_destroy(t);
    return rc;
}

void topo_faults_describe(const struct topo_spec *s, uint64_t nlinks, char *buf, size_t n)
{
    const struct topo_faults *f = &s->faults;
    if (n == 0) return;
    buf[0] = 0;
    if (!topo_faults_any(f)) return;
    uint64_t failing = 0;
    for (const char *p = f->fail; *p;) {
        p += strspn(p, " \t");
        if (!*p) break;
        p += strcspn(p, " \t");
        failing++;
    }
    if (!topo_faults_any_down(f) && !f->degraded[0] && !(f->random_degraded > 0)) {
        snprintf(buf, n, ", %llu link%s failing", (unsigned long long)failing,
                 failing == 1 ? "" : "s");
        return;
    }
    /* the listed links without a fabric: one per word */
    uint64_t down = 0, deg = 0;
    for (int i = 0; i < 2; i++) {
        const char *p = i ? f->degraded : f->down;
        while (*p) {
            p += strspn(p, " \t");
            if (!*p) break;
            p += strcspn(p, " \t");
            ++*(i ? &deg : &down);
        }
    }
    uint32_t nl = nlinks > UINT32_MAX ? UINT32_MAX : (uint32_t)nlinks;
    down += frac_count(f->random_down, nl);
    deg += frac_count(f->random_degraded, nl);
    int w = snprintf(buf, n, ", %llu link%s down, %llu degraded", (unsigned long long)down,
                     down == 1 ? "" : "s", (unsigned long long)deg);
    if (failing && w > 0 && (size_t)w < n)
        snprintf(buf + w, n - (size_t)w, ", %llu failing", (unsigned long long)failing);
}

void topo_fault_view_init(struct topo *view, const struct topo *t)
{
    *view = *t;
    view->up = view->down = NULL;
    view->ftr = NULL;
    topo_fault_view_set(view, t, 0);
}

void topo_fault_view_set(struct topo *view, const struct topo *t, uint32_t cur)
{
    view->ndown = t->ndown;
    view->route = t->route;
    view->route_ports = t->route_ports;
    view->nroute_ports = t->nroute_ports;
    view->npaths = t->npaths;
    view->plane_paths = t->plane_paths;
    view->plane_host_down = t->plane_host_down;
    view->nic_down = NULL; /* the ports' own `down` */
    if (cur == 0) return;
    const struct topo_tfault *tf = &t->tfaults[cur - 1];
    for (uint32_t i = 0; i < cur; i++)
        view->ndown += t->tfaults[i].nports;
    view->route = tf->route;
    view->route_ports = tf->route_ports;
    view->nroute_ports = tf->nroute_ports;
    view->npaths = tf->npaths;
    view->plane_paths = tf->plane_paths;
    view->plane_host_down = tf->plane_host_down;
    view->nic_down = tf->nic_down;
}
