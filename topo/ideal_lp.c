/* ideal_lp.c - the ideal bound as a maximum concurrent flow linear program
 * (see ideal_lp.h), solved with GLPK's simplex.
 *
 * The argument. A phase's demands all start at time 0 and its last byte is
 * delivered at T. Every packet crosses its host_up port, then switches along
 * the routing table's next hops toward its destination's leaf (whatever the
 * path mode picks, it picks among those: topo_next_port), then host_down;
 * or, between GPUs of one server, nvl_up and nvl_down. Summing each port's
 * bytes over the phase gives a flow: per destination leaf k, the bytes
 * toward k are conserved at every switch but k, each source leaf s putting
 * in what its hosts send to hosts under k (the supply), and move only along
 * the table's next hops toward k. That is a multicommodity flow with one
 * commodity per destination leaf (aggregating sources toward one leaf loses
 * nothing: their allowed ports are the same).
 *
 * A port e carries its B_e bytes one packet at a time at its rate c_e, each
 * packet taking at least its bytes over c_e (ser_ps rounds up). No packet
 * can start on e before pre_e, the least time any packet can be at e's tail
 * (the smallest packet of the phase, from any sending host, over the least
 * total hop time: latency plus that packet's serialization per hop), and
 * none can finish there after T - post_e, post_e being e's latency plus the
 * least time from e's head to any receiving host. So B_e <= c_e (T - pre_e -
 * post_e): linear in T. Host and NVLink ports carry fixed bytes (their
 * demands'), which bound T from below directly; the fabric ports are the
 * program's rows. Minimizing T over the flows that satisfy every row is a
 * lower bound on the phase's completion under any routing among the
 * table's next hops and any order of service. windows = 0 drops pre and
 * post (the pure bandwidth program: its T is the maximum concurrent flow's
 * 1/throughput, for the closed forms).
 *
 * The simplex works in floating point: the optimum is taken less a relative
 * 1e-6 (1 ns in a millisecond) and rounded down to a picosecond, so that
 * GLPK's tolerances cannot lift the bound above the program's true optimum.
 *
 * On a rail (one plane) with cross_rail = pxn a route to another rail is
 * nvl_up, nvl_down to the relay GPU, then the relay's route: the relay's
 * leaf supplies the commodity, and its NVLink hops and host_up carry the
 * demand's bytes as fixed loads.
 *
 * Size: a variable per commodity and per port reachable from the
 * commodity's source leaves (in a fat-tree toward a leaf: the up ports of
 * the pods that send, the core and aggregation ports into its pod, its own
 * downlinks), a row per such switch and per fabric port used. Units: bytes,
 * nanoseconds, bytes per nanosecond.
 */
#include "topo/ideal_lp.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *topo_ideal_kind_name(int kind)
{
    return kind == TOPO_IDEAL_LP ? "lp" : "cut";
}

/* The bytes from source leaf s toward destination leaf k. */
struct fdem {
    uint32_t k, s;
    uint64_t bytes;
};

static int fdem_cmp(const void *a, const void *b)
{
    const struct fdem *x = a, *y = b;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    return x->s < y->s ? -1 : x->s > y->s;
}

/* A rail of one plane too: its routes are the table's, a PXN route's from
 * its relay GPU on (its NVLink hops and the relay's host_up carry fixed
 * bytes). Planes split a NIC's bytes over P host links, a choice the
 * program does not model: they keep the cut bound. */
static int lp_kind(const struct topo *t)
{
    return t->route && (t->kind == TOPO_LEAF_SPINE || t->kind == TOPO_FAT_TREE ||
                        t->kind == TOPO_FILE || (t->kind == TOPO_RAIL && t->planes <= 1));
}

/* The host whose host_up a route from a to b enters the fabric by: a, or
 * with PXN its relay. */
static uint32_t fabric_src(const struct topo *t, uint32_t a, uint32_t b)
{
    return topo_pxn(t, a, b) ? topo_pxn_relay(t, a, b) : a;
}

/* The demands that cross the fabric, merged per (k, s) and sorted by k;
 * returns how many. */
static size_t fabric_demands(const struct topo *t, const struct topo_demand *d, size_t n,
                             struct fdem **out)
{
    size_t m = 0;
    struct fdem *f = xmalloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, b = d[i].dst;
        if (!d[i].bytes || a == b || topo_same_server(t, a, b)) continue;
        uint32_t la = topo_leaf_of(t, fabric_src(t, a, b)), lb = topo_leaf_of(t, b);
        if (la != lb) f[m++] = (struct fdem){lb, la, d[i].bytes};
    }
    uint64_t L = t->leaves;
    if (m > 1 && L * L <= (1u << 20)) {
        /* merged on a dense (k, s) grid: the same order as the sort, without
         * it (a 256-host all-to-all has 65,280 demands and 256 pairs) */
        uint64_t *cell = xcalloc(L * L, sizeof *cell);
        for (size_t i = 0; i < m; i++)
            cell[(uint64_t)f[i].k * L + f[i].s] += f[i].bytes;
        size_t w = 0;
        for (uint64_t c = 0; c < L * L; c++)
            if (cell[c]) f[w++] = (struct fdem){(uint32_t)(c / L), (uint32_t)(c % L), cell[c]};
        free(cell);
        *out = f;
        return w;
    }
    qsort(f, m, sizeof *f, fdem_cmp);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        if (w && f[w - 1].k == f[i].k && f[w - 1].s == f[i].s)
            f[w - 1].bytes += f[i].bytes;
        else
            f[w++] = f[i];
    }
    *out = f;
    return w;
}

/* The next ports at switch row v toward leaf k: *n of them from *first
 * (NULL: the lone port *one). */
static const uint32_t *next_ports(const struct topo *t, uint32_t v, uint32_t k, uint32_t *n,
                                  uint32_t *one)
{
    const struct topo_hop *g = topo_hop_at(t, v, k);
    *n = g->n;
    if (g->n == 1) {
        *one = g->off;
        return one;
    }
    return &t->route_ports[g->off];
}

/* One commodity's switches: those reachable from its source leaves f[0..m)
 * along the next hops toward f->k, in visiting order into vis[] (stamped in
 * mark[] with `stamp`); returns how many, counting ports into *ports. */
static uint32_t reach(const struct topo *t, const struct fdem *f, size_t m, uint32_t *mark,
                      uint32_t stamp, uint32_t *vis, uint64_t *ports)
{
    uint32_t nv = 0, k = f->k;
    for (size_t i = 0; i < m; i++)
        if (mark[f[i].s] != stamp) {
            mark[f[i].s] = stamp;
            vis[nv++] = f[i].s;
        }
    for (uint32_t i = 0; i < nv; i++) {
        uint32_t v = vis[i], n, one;
        if (v == k) continue;
        const uint32_t *q = next_ports(t, v, k, &n, &one);
        *ports += n;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t w = t->ports[q[j]].dst - t->hosts;
            if (mark[w] != stamp) {
                mark[w] = stamp;
                vis[nv++] = w;
            }
        }
    }
    return nv;
}

uint64_t topo_ideal_lp_size(const struct topo *t, const struct topo_demand *d, size_t n,
                            uint64_t limit)
{
    if (!lp_kind(t)) return 0;
    struct fdem *f;
    size_t m = fabric_demands(t, d, n, &f);
    uint32_t *mark = xcalloc(t->nswitches, sizeof *mark),
             *vis = xmalloc(t->nswitches * sizeof *vis);
    uint64_t vars = 1;
    for (size_t i = 0, j; i < m && vars <= limit; i = j) {
        for (j = i; j < m && f[j].k == f[i].k; j++)
            ;
        reach(t, f + i, j - i, mark, (uint32_t)i + 1, vis, &vars);
    }
    free(vis);
    free(mark);
    free(f);
    return vars > limit ? limit + 1 : vars;
}

/* ---- the windows: least hop times from senders and to receivers ---- */

struct hitem {
    simtime_t d;
    uint32_t v;
};

static void heap_push(struct hitem *h, size_t *n, struct hitem x)
{
    size_t i = (*n)++;
    while (i && h[(i - 1) / 2].d > x.d) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static struct hitem heap_pop(struct hitem *h, size_t *n)
{
    struct hitem top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1].d < h[c].d) c++;
        if (h[c].d >= x.d) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

/* Dijkstra over the ports (forward from dist's zeros, or backward), a
 * port's weight its latency plus `pkt` bytes' serialization. */
static void least_times(const struct topo *t, uint32_t N, int backward, uint32_t pkt,
                        simtime_t *dist)
{
    uint32_t *off = xcalloc((size_t)N + 1, sizeof *off), *adj = xmalloc(t->nports * sizeof *adj);
    for (uint32_t q = 0; q < t->nports; q++)
        off[(backward ? t->ports[q].dst : t->ports[q].src) + 1]++;
    for (uint32_t v = 0; v < N; v++)
        off[v + 1] += off[v];
    uint32_t *fill = xmalloc((size_t)N * sizeof *fill);
    memcpy(fill, off, (size_t)N * sizeof *fill);
    for (uint32_t q = 0; q < t->nports; q++)
        adj[fill[backward ? t->ports[q].dst : t->ports[q].src]++] = q;
    struct hitem *h = xmalloc(((size_t)t->nports + N) * sizeof *h);
    size_t nh = 0;
    for (uint32_t v = 0; v < N; v++)
        if (dist[v] == 0) heap_push(h, &nh, (struct hitem){0, v});
    while (nh) {
        struct hitem x = heap_pop(h, &nh);
        if (x.d > dist[x.v]) continue;
        for (uint32_t i = off[x.v]; i < off[x.v + 1]; i++) {
            const struct topo_port *p = &t->ports[adj[i]];
            if (p->down || !p->bps) continue; /* [faults]: carries nothing */
            uint32_t w = backward ? p->src : p->dst;
            simtime_t nd = x.d + p->lat_ps + ser_ps(pkt, p->bps);
            if (nd < dist[w]) {
                dist[w] = nd;
                heap_push(h, &nh, (struct hitem){nd, w});
            }
        }
    }
    free(h);
    free(fill);
    free(adj);
    free(off);
}

/* The smallest packet of the demands' flows (as topo_ideal_ps splits them). */
static uint32_t smallest_packet(const struct topo_demand *d, size_t n, uint32_t mtu,
                                uint32_t subflows)
{
    uint64_t least = mtu;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = d[i].bytes;
        if (!b || d[i].src == d[i].dst) continue;
        uint64_t nf = b < subflows ? b : subflows, q = b / nf;
        uint64_t sizes[2] = {q, b % nf ? q + 1 : q};
        for (int j = 0; j < 2; j++) {
            uint64_t last = sizes[j] % mtu ? sizes[j] % mtu : mtu;
            if (sizes[j] && last < least) least = last;
        }
    }
    return (uint32_t)least;
}

/* Solves of one program at most: each clips the windows to the last optimum. */
#define LP_ROUNDS 4

static double clip(double w, double at)
{
    return w < at ? w : at;
}

/* bytes per nanosecond */
static double bpns(uint64_t bps)
{
    return (double)bps / 8e9;
}

int topo_ideal_lp_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                     uint32_t subflows, int windows, simtime_t *ps)
{
    if (!lp_kind(t)) return -1;
    if (subflows < 1) subflows = 1;
    /* the nodes: hosts, switches, NVLink switches */
    uint32_t N = 0;
    for (uint32_t q = 0; q < t->nports; q++) {
        if (t->ports[q].src + 1 > N) N = t->ports[q].src + 1;
        if (t->ports[q].dst + 1 > N) N = t->ports[q].dst + 1;
    }
    simtime_t *arr = xmalloc((size_t)N * sizeof *arr), *dep = xmalloc((size_t)N * sizeof *dep);
    uint64_t *load = xcalloc(t->nports, sizeof *load); /* host and NVLink ports */
    for (uint32_t v = 0; v < N; v++)
        arr[v] = dep[v] = SIMTIME_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, b = d[i].dst;
        if (!d[i].bytes || a == b) continue;
        arr[a] = dep[b] = 0;
        load[topo_first_port(t, a, b)] += d[i].bytes;
        load[topo_last_port(t, a, b)] += d[i].bytes;
        if (!topo_same_server(t, a, b) &&
            topo_pxn(t, a, b)) { /* the relay's NVLink hop and its NIC */
            uint32_t r = topo_pxn_relay(t, a, b);
            load[t->nvl_down[r]] += d[i].bytes;
            load[t->host_up[r]] += d[i].bytes;
        }
    }
    if (windows) {
        uint32_t pkt = smallest_packet(d, n, mtu, subflows);
        least_times(t, N, 0, pkt, arr);
        least_times(t, N, 1, pkt, dep);
    }
    /* the window of port q, ns */
#define WIN(q)                                                                                     \
    (windows ? (double)(arr[t->ports[q].src] + t->ports[q].lat_ps + dep[t->ports[q].dst]) / 1e3    \
             : 0.0)
    double tlo = 0; /* T's least value from the host and NVLink ports */
    for (uint32_t q = 0; q < t->nports; q++)
        if (load[q]) {
            double v = (double)load[q] / bpns(t->ports[q].bps) + WIN(q);
            if (v > tlo) tlo = v;
        }

    struct fdem *f;
    size_t m = fabric_demands(t, d, n, &f);
    uint32_t *mark = xcalloc(t->nswitches, sizeof *mark),
             *vis = xmalloc(t->nswitches * sizeof *vis);
    int *rowof = xmalloc(t->nswitches * sizeof *rowof),
        *caprow = xmalloc(t->nports * sizeof *caprow);
    uint32_t *rowport = xmalloc(t->nports * sizeof *rowport), ncap = 0;
    for (uint32_t q = 0; q < t->nports; q++)
        caprow[q] = 0;
    /* a known lower bound on T, ns: the windows are clipped to it */
    double L = (double)topo_ideal_ps(t, d, n, mtu, subflows) / 1e3;
    if (tlo > L) L = tlo;
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_cols(lp, 1); /* T */
    glp_set_col_bnds(lp, 1, GLP_LO, tlo, 0);
    glp_set_obj_coef(lp, 1, 1);
    size_t nz = 0, cap = 1024;
    int *ia = xmalloc(cap * sizeof *ia), *ja = xmalloc(cap * sizeof *ja);
    double *ar = xmalloc(cap * sizeof *ar);
#define NZ(i, j, v)                                                                                \
    do {                                                                                           \
        if (nz + 2 > cap) {                                                                        \
            cap *= 2;                                                                              \
            ia = xrealloc(ia, cap * sizeof *ia);                                                   \
            ja = xrealloc(ja, cap * sizeof *ja);                                                   \
            ar = xrealloc(ar, cap * sizeof *ar);                                                   \
        }                                                                                          \
        nz++;                                                                                      \
        ia[nz] = (i), ja[nz] = (j), ar[nz] = (v);                                                  \
    } while (0)
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i; j < m && f[j].k == f[i].k; j++)
            ;
        uint32_t k = f[i].k;
        uint64_t nports = 0;
        uint32_t nv = reach(t, f + i, j - i, mark, (uint32_t)i + 1, vis, &nports);
        /* a conservation row per switch but k: out - in = its supply */
        int r0 = glp_add_rows(lp, (int)nv);
        for (uint32_t x = 0; x < nv; x++) {
            rowof[vis[x]] = r0 + (int)x;
            glp_set_row_bnds(lp, r0 + (int)x, GLP_FX, 0, 0);
        }
        for (size_t x = i; x < j; x++)
            glp_set_row_bnds(lp, rowof[f[x].s], GLP_FX, (double)f[x].bytes, (double)f[x].bytes);
        glp_set_row_bnds(lp, rowof[k], GLP_FR, 0, 0); /* the sink: left free */
        int c0 = glp_add_cols(lp, (int)nports), c = c0;
        for (uint32_t x = 0; x < nv; x++) {
            uint32_t v = vis[x], np, one;
            if (v == k) continue;
            const uint32_t *q = next_ports(t, v, k, &np, &one);
            for (uint32_t y = 0; y < np; y++, c++) {
                uint32_t w = t->ports[q[y]].dst - t->hosts;
                glp_set_col_bnds(lp, c, GLP_LO, 0, 0);
                NZ(rowof[v], c, 1.0);
                if (w != k) NZ(rowof[w], c, -1.0);
                if (!caprow[q[y]]) {
                    /* bytes <= rate x (T - window) */
                    double r = bpns(t->ports[q[y]].bps);
                    caprow[q[y]] = glp_add_rows(lp, 1);
                    rowport[ncap++] = q[y];
                    glp_set_row_bnds(lp, caprow[q[y]], GLP_UP, 0, -r * clip(WIN(q[y]), L));
                    NZ(caprow[q[y]], 1, -r);
                }
                NZ(caprow[q[y]], c, 1.0);
            }
        }
    }
#undef NZ
    int rc = 0;
    double T = tlo * (1 - 1e-6);
    if (nz) {
        glp_load_matrix(lp, (int)nz, ia, ja, ar);
        glp_smcp parm;
        glp_init_smcp(&parm);
        parm.msg_lev = GLP_MSG_OFF;
        parm.presolve = GLP_ON;
        int was = glp_term_out(GLP_OFF); /* glp_scale_prob prints */
        glp_scale_prob(lp, GLP_SF_AUTO);
        for (int round = 0; rc == 0 && round < LP_ROUNDS; round++) {
            rc = glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT ? 0 : -1;
            if (rc < 0) break;
            T = glp_get_obj_val(lp) * (1 - 1e-6);
            /* the optimum is a lower bound too: clip the windows to it
             * instead, if that lifts any */
            int more = 0;
            for (uint32_t i = 0; i < ncap && T > L * (1 + 1e-9); i++)
                if (windows && clip(WIN(rowport[i]), L) < clip(WIN(rowport[i]), T)) {
                    double r = bpns(t->ports[rowport[i]].bps);
                    glp_set_row_bnds(lp, caprow[rowport[i]], GLP_UP, 0,
                                     -r * clip(WIN(rowport[i]), T));
                    more = 1;
                }
            if (!more) break;
            L = T;
            parm.presolve = GLP_OFF; /* from the last basis */
        }
        glp_term_out(was);
    }
    if (rc == 0) {
        double v = floor(T * 1e3);
        *ps = v > 0 ? (simtime_t)v : 0;
    }
#undef WIN
    glp_delete_prob(lp);
    free(rowport);
    free(ia);
    free(ja);
    free(ar);
    free(caprow);
    free(rowof);
    free(vis);
    free(mark);
    free(f);
    free(load);
    free(dep);
    free(arr);
    return rc;
}

simtime_t topo_ideal_bound_ps(const struct topo *t, const struct topo_demand *d, size_t n,
                              uint32_t mtu, uint32_t subflows, uint64_t lp_max, int *kind)
{
    simtime_t cut = topo_ideal_ps(t, d, n, mtu, subflows), lp;
    *kind = TOPO_IDEAL_CUT;
    if (!lp_max || topo_ideal_lp_size(t, d, n, lp_max) > lp_max) return cut;
    if (topo_ideal_lp_ps(t, d, n, mtu, subflows, 1, &lp) < 0) return cut;
    *kind = TOPO_IDEAL_LP;
    return lp > cut ? lp : cut;
}
