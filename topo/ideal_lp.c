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
 * demand's bytes as fixed loads. On a rail of several planes a NIC's P
 * ports are the program's choice (lp_planes, below, has the argument).
 *
 * The packets (mtu, a demand's subflows: one count for all, or each
 * demand's own, as ethereal splits them) enter only the windows (the
 * smallest packet) and the known lower bound the windows are clipped to
 * (the cut bound with the same packets); the flow is the demands'.
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

/* Rails too: their routes are the table's, a PXN route's from its relay
 * GPU on (its NVLink hops carry fixed bytes, and on one plane the relay's
 * host_up); with planes a NIC's split over its plane ports is the
 * program's (lp_planes). */
static int lp_kind(const struct topo *t)
{
    return t->route && (t->kind == TOPO_LEAF_SPINE || t->kind == TOPO_FAT_TREE ||
                        t->kind == TOPO_FILE || t->kind == TOPO_RAIL);
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

static uint64_t lp_planes_size(const struct topo *t, const struct topo_demand *d, size_t n,
                               uint64_t limit);

uint64_t topo_ideal_lp_size(const struct topo *t, const struct topo_demand *d, size_t n,
                            uint64_t limit)
{
    if (!lp_kind(t)) return 0;
    if (t->planes > 1) return lp_planes_size(t, d, n, limit);
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

/* The smallest packet of the demands' flows (as topo_ideal_ps splits them:
 * demand i in each[i] subflows, or `subflows` when each is NULL). */
static uint32_t smallest_packet(const struct topo_demand *d, size_t n, uint32_t mtu,
                                uint32_t subflows, const uint32_t *each)
{
    uint64_t least = mtu;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = d[i].bytes;
        if (!b || d[i].src == d[i].dst) continue;
        uint64_t sf = each ? (each[i] ? each[i] : 1) : subflows;
        uint64_t nf = b < sf ? b : sf, q = b / nf;
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

/* ---- the program as it is built: GLPK's problem, its nonzeros, the
 * capacity rows per port and the windows ---- */

struct lpb {
    const struct topo *t;
    glp_prob *lp;
    size_t nz, cap;
    int *ia, *ja;
    double *ar;
    int *caprow;       /* [nports]: the port's capacity row, 0: none yet */
    uint32_t *rowport; /* the ports with a capacity row, in order */
    uint32_t ncap;
    const simtime_t *arr, *dep; /* least times from senders, to receivers */
    int windows;
    double rate_x; /* every port's rate times this (1; P for alike planes) */
};

static void lpb_init(struct lpb *b, const struct topo *t, const simtime_t *arr,
                     const simtime_t *dep, int windows, double tlo)
{
    b->t = t;
    b->arr = arr;
    b->dep = dep;
    b->windows = windows;
    b->rate_x = 1;
    b->nz = 0;
    b->cap = 1024;
    b->ia = xmalloc(b->cap * sizeof *b->ia);
    b->ja = xmalloc(b->cap * sizeof *b->ja);
    b->ar = xmalloc(b->cap * sizeof *b->ar);
    b->caprow = xcalloc(t->nports, sizeof *b->caprow);
    b->rowport = xmalloc(t->nports * sizeof *b->rowport);
    b->ncap = 0;
    b->lp = glp_create_prob();
    glp_set_obj_dir(b->lp, GLP_MIN);
    glp_add_cols(b->lp, 1); /* T */
    glp_set_col_bnds(b->lp, 1, GLP_LO, tlo, 0);
    glp_set_obj_coef(b->lp, 1, 1);
}

static void lpb_free(struct lpb *b)
{
    glp_delete_prob(b->lp);
    free(b->rowport);
    free(b->ia);
    free(b->ja);
    free(b->ar);
    free(b->caprow);
}

static void lpb_nz(struct lpb *b, int i, int j, double v)
{
    if (b->nz + 2 > b->cap) {
        b->cap *= 2;
        b->ia = xrealloc(b->ia, b->cap * sizeof *b->ia);
        b->ja = xrealloc(b->ja, b->cap * sizeof *b->ja);
        b->ar = xrealloc(b->ar, b->cap * sizeof *b->ar);
    }
    b->nz++;
    b->ia[b->nz] = i, b->ja[b->nz] = j, b->ar[b->nz] = v;
}

/* The window of port q, ns: the least time before a packet can be at its
 * tail, its latency, the least time from its head to a receiver. */
static double lpb_win(const struct lpb *b, uint32_t q)
{
    const struct topo_port *p = &b->t->ports[q];
    return b->windows ? (double)(b->arr[p->src] + p->lat_ps + b->dep[p->dst]) / 1e3 : 0.0;
}

/* Port q's row, bytes <= rate x (T - window), the window clipped to the
 * known lower bound L; made on q's first use. */
static int lpb_caprow(struct lpb *b, uint32_t q, double L)
{
    if (!b->caprow[q]) {
        double r = bpns(b->t->ports[q].bps) * b->rate_x;
        b->caprow[q] = glp_add_rows(b->lp, 1);
        b->rowport[b->ncap++] = q;
        glp_set_row_bnds(b->lp, b->caprow[q], GLP_UP, 0, -r * clip(lpb_win(b, q), L));
        lpb_nz(b, b->caprow[q], 1, -r);
    }
    return b->caprow[q];
}

/* Solves (at most LP_ROUNDS times, each clipping the windows to the last
 * optimum, which is a lower bound too, if that lifts any): 0 with *T the
 * optimum less a relative 1e-6, ns; -1 when GLPK fails. T = tlo's when the
 * program has no row (every byte over NVLink). */
static int lpb_solve(struct lpb *b, double tlo, double L, double *T)
{
    int rc = 0;
    *T = tlo * (1 - 1e-6);
    if (!b->nz) return 0;
    glp_prob *lp = b->lp;
    glp_load_matrix(lp, (int)b->nz, b->ia, b->ja, b->ar);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    int was = glp_term_out(GLP_OFF); /* glp_scale_prob prints */
    glp_scale_prob(lp, GLP_SF_AUTO);
    for (int round = 0; rc == 0 && round < LP_ROUNDS; round++) {
        rc = glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT ? 0 : -1;
        if (rc < 0 && round == 0) {
            /* the presolver can call a large program infeasible that is
             * not (a 2-plane rail of 64 GPUs, 12,417 variables: GLP_ENOPFS;
             * every program here is feasible, T being free above): once
             * more from the standard basis without it */
            parm.presolve = GLP_OFF;
            glp_std_basis(lp);
            rc = glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT ? 0 : -1;
        }
        if (rc < 0) break;
        *T = glp_get_obj_val(lp) * (1 - 1e-6);
        int more = 0;
        for (uint32_t i = 0; i<b->ncap && * T> L * (1 + 1e-9); i++) {
            uint32_t q = b->rowport[i];
            if (b->windows && clip(lpb_win(b, q), L) < clip(lpb_win(b, q), *T)) {
                double r = bpns(b->t->ports[q].bps) * b->rate_x;
                glp_set_row_bnds(lp, b->caprow[q], GLP_UP, 0, -r * clip(lpb_win(b, q), *T));
                more = 1;
            }
        }
        if (!more) break;
        L = *T;
        parm.presolve = GLP_OFF; /* from the last basis */
    }
    glp_term_out(was);
    return rc;
}

/* The nodes (hosts, switches, NVLink switches): one past the largest id. */
static uint32_t node_count(const struct topo *t)
{
    uint32_t N = 0;
    for (uint32_t q = 0; q < t->nports; q++) {
        if (t->ports[q].src + 1 > N) N = t->ports[q].src + 1;
        if (t->ports[q].dst + 1 > N) N = t->ports[q].dst + 1;
    }
    return N;
}

/* ---- rail planes ---- */

/* The bytes host f's NIC sends toward destination leaf l (a plane's rail
 * switch index, [0, plane_leaves)): f's own and, under PXN, what it relays. */
struct pdem {
    uint32_t l, f;
    uint64_t bytes;
};

static int pdem_cmp(const void *a, const void *b)
{
    const struct pdem *x = a, *y = b;
    if (x->l != y->l) return x->l < y->l ? -1 : 1;
    return x->f < y->f ? -1 : x->f > y->f;
}

/* Whether NIC port q (a plane's host link) can carry anything. */
static int nic_live(const struct topo *t, uint32_t q)
{
    return !t->ports[q].down && t->ports[q].bps;
}

/* The planes' demands: per (l, f) the NIC's bytes, merged and sorted, and
 * per host the bytes its NIC ports deliver (into down[], [hosts]); the
 * hosts by leaf (byleaf[], from first[l] to first[l + 1]). Returns how many
 * (l, f). */
static size_t plane_demands(const struct topo *t, const struct topo_demand *d, size_t n,
                            struct pdem **out, uint64_t *down, uint32_t *byleaf, uint32_t *first)
{
    uint32_t H = t->hosts, Lp = t->plane_leaves;
    struct pdem *f = xmalloc((n ? n : 1) * sizeof *f);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, b = d[i].dst;
        if (!d[i].bytes || a == b || topo_same_server(t, a, b)) continue;
        f[m++] = (struct pdem){topo_leaf_of(t, b), fabric_src(t, a, b), d[i].bytes};
        down[b] += d[i].bytes;
    }
    qsort(f, m, sizeof *f, pdem_cmp);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        if (w && f[w - 1].l == f[i].l && f[w - 1].f == f[i].f)
            f[w - 1].bytes += f[i].bytes;
        else
            f[w++] = f[i];
    }
    for (uint32_t l = 0; l <= Lp; l++)
        first[l] = 0;
    for (uint32_t h = 0; h < H; h++)
        first[topo_leaf_of(t, h) + 1]++;
    for (uint32_t l = 0; l < Lp; l++)
        first[l + 1] += first[l];
    uint32_t *fill = xmalloc(((size_t)Lp + 1) * sizeof *fill);
    memcpy(fill, first, ((size_t)Lp + 1) * sizeof *fill);
    for (uint32_t h = 0; h < H; h++)
        byleaf[fill[topo_leaf_of(t, h)]++] = h;
    free(fill);
    *out = f;
    return w;
}

/* Whether the planes are copies of one another: every NIC and fabric port
 * of plane k as plane 0's (rate, latency, down; so unless [faults] made
 * them differ). Then permuting the planes maps a solution of the program
 * to one with the same T, and the average of the P permuted copies is a
 * solution that splits every NIC evenly, so plane 0 alone with every rate
 * times P is the same program, P times smaller (lp_planes solves that;
 * tests/test_ideal_lp.c checks both give the same T). Ports (rail.c): the
 * NIC ports 2 (k H + h) and 2 (k H + h) + 1, then each plane's
 * 2 x plane_leaves x spines fabric ports, plane by plane. */
static int planes_alike(const struct topo *t)
{
    uint32_t H = t->hosts, P = t->planes;
    uint64_t f0 = 2ull * P * H, per = 2ull * t->plane_leaves * (t->spines / P);
    for (uint32_t k = 1; k < P; k++) {
        for (uint64_t i = 0; i < 2ull * H + per; i++) {
            uint64_t q0 = i < 2ull * H ? i : f0 + i - 2ull * H;
            uint64_t qk = i < 2ull * H ? 2ull * k * H + i : f0 + k * per + i - 2ull * H;
            const struct topo_port *a = &t->ports[q0], *b = &t->ports[qk];
            if (a->bps != b->bps || a->lat_ps != b->lat_ps || a->down != b->down ||
                a->kind != b->kind)
                return 0;
        }
    }
    return 1;
}

/* The planes the program has: 1 for alike planes (solved as plane 0 with
 * P times the rates), else all P. */
static uint32_t planes_solved(const struct topo *t)
{
    return planes_alike(t) ? 1 : t->planes;
}

/* One commodity's switches on every plane: from plane k's copies of its
 * source leaves along the next hops toward plane k's copy of l, and that
 * copy itself (the sink: its hosts' NIC ports take the bytes), into vis[];
 * returns how many, counting fabric ports into *ports. */
static uint32_t plane_reach(const struct topo *t, uint32_t P, const struct pdem *f, size_t m,
                            uint32_t *mark, uint32_t stamp, uint32_t *vis, uint64_t *ports,
                            struct fdem *tmp, uint32_t *plane_of)
{
    uint32_t nv = 0, Lp = t->plane_leaves;
    for (uint32_t k = 0; k < P; k++) {
        size_t w = 0;
        for (size_t i = 0; i < m; i++)
            tmp[w++] = (struct fdem){k * Lp + f->l, k * Lp + topo_leaf_of(t, f[i].f), 0};
        uint32_t from = nv;
        nv += reach(t, tmp, w, mark, stamp, vis + nv, ports);
        uint32_t sink = k * Lp + f->l;
        if (mark[sink] != stamp) {
            mark[sink] = stamp;
            vis[nv++] = sink;
        }
        for (uint32_t x = from; x < nv && plane_of; x++)
            plane_of[vis[x]] = k;
    }
    return nv;
}

/* The live NIC ports of hosts with demands toward commodity f->l: one
 * variable each, a source's per (l, f), a destination's per host. */
static uint64_t plane_host_vars(const struct topo *t, uint32_t P, const struct pdem *f, size_t m,
                                const uint64_t *down, const uint32_t *byleaf, const uint32_t *first)
{
    uint64_t v = 0;
    uint32_t H = t->hosts;
    for (uint32_t k = 0; k < P; k++) {
        for (size_t i = 0; i < m; i++)
            v += (uint64_t)nic_live(t, t->host_up[(size_t)k * H + f[i].f]);
        for (uint32_t j = first[f->l]; j < first[f->l + 1]; j++)
            if (down[byleaf[j]])
                v += (uint64_t)nic_live(t, t->host_down[(size_t)k * H + byleaf[j]]);
    }
    return v;
}

static uint64_t lp_planes_size(const struct topo *t, const struct topo_demand *d, size_t n,
                               uint64_t limit)
{
    uint32_t H = t->hosts, Lp = t->plane_leaves;
    /* every host that receives over its NIC has a variable per live port,
     * at least one: past the limit without sorting the demands (a large
     * all-to-all pays one pass) */
    uint8_t *seen = xcalloc(H, 1);
    uint64_t least = 1;
    for (size_t i = 0; i < n && least <= limit; i++) {
        uint32_t a = d[i].src, b = d[i].dst;
        if (!d[i].bytes || a == b || topo_same_server(t, a, b) || seen[b]) continue;
        seen[b] = 1;
        least++;
    }
    free(seen);
    if (least > limit) return limit + 1;
    uint32_t P = planes_solved(t);
    uint64_t *down = xcalloc(H, sizeof *down);
    uint32_t *byleaf = xmalloc(H * sizeof *byleaf),
             *first = xmalloc(((size_t)Lp + 1) * sizeof *first);
    struct pdem *f;
    size_t m = plane_demands(t, d, n, &f, down, byleaf, first);
    uint32_t *mark = xcalloc(t->nswitches, sizeof *mark),
             *vis = xmalloc(t->nswitches * sizeof *vis);
    struct fdem *tmp = xmalloc((m ? m : 1) * sizeof *tmp);
    uint64_t vars = 1;
    for (size_t i = 0, j; i < m && vars <= limit; i = j) {
        for (j = i; j < m && f[j].l == f[i].l; j++)
            ;
        plane_reach(t, P, f + i, j - i, mark, (uint32_t)i + 1, vis, &vars, tmp, NULL);
        vars += plane_host_vars(t, P, f + i, j - i, down, byleaf, first);
    }
    free(tmp);
    free(vis);
    free(mark);
    free(f);
    free(first);
    free(byleaf);
    free(down);
    return vars > limit ? limit + 1 : vars;
}

/* The program on a rail of P planes. A GPU's NIC is P ports, one on its
 * rail switch of each plane, and every packet keeps one plane from the NIC
 * port it leaves by to the one it arrives at (topo.h: its path number's
 * plane). So per commodity l (a destination rail switch index, every
 * plane's copy of it a sink) the split over the planes is the program's:
 * a variable per source NIC f (the GPU, or under PXN the relay that sends
 * it) and plane k, y(f, l, k) >= 0, summing to f's bytes toward l, put in
 * at plane k's copy of f's rail switch; a variable per destination GPU b
 * and plane k, z(b, k) >= 0, summing to b's bytes, taken out at plane k's
 * copy of l; the fabric ports between as on one plane (the planes are
 * disjoint, so a commodity's bytes on plane k stay there). Pairs under one
 * rail switch cross no spine but still choose a plane: their y and z meet
 * at the sink. Every NIC port carries its plane's share within its window,
 * as every fabric port; NVLink ports (one per GPU, not split) carry fixed
 * bytes. A NIC port down ([faults]) gets no variable; the rule that a
 * pair's packets take only planes where all four NIC ports of the round
 * trip are up (topo_plane_mask) is per pair, which the aggregated
 * variables do not see: the program may use a plane a pair may not, and
 * so stays a lower bound. */
static int lp_planes(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                     uint32_t subflows, const uint32_t *each, int windows, simtime_t *ps)
{
    uint32_t H = t->hosts, Lp = t->plane_leaves, P = planes_solved(t), N = node_count(t);
    simtime_t *arr = xmalloc((size_t)N * sizeof *arr), *dep = xmalloc((size_t)N * sizeof *dep);
    uint64_t *load = xcalloc(t->nports, sizeof *load); /* NVLink ports */
    for (uint32_t v = 0; v < N; v++)
        arr[v] = dep[v] = SIMTIME_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, b = d[i].dst;
        if (!d[i].bytes || a == b) continue;
        arr[a] = dep[b] = 0;
        if (topo_same_server(t, a, b)) {
            load[t->nvl_up[a]] += d[i].bytes;
            load[t->nvl_down[b]] += d[i].bytes;
        } else if (topo_pxn(t, a, b)) {
            load[t->nvl_up[a]] += d[i].bytes;
            load[t->nvl_down[topo_pxn_relay(t, a, b)]] += d[i].bytes;
        }
    }
    if (windows) {
        uint32_t pkt = smallest_packet(d, n, mtu, subflows, each);
        least_times(t, N, 0, pkt, arr);
        least_times(t, N, 1, pkt, dep);
    }
    struct lpb b;
    b.t = t, b.arr = arr, b.dep = dep, b.windows = windows;
    double tlo = 0;
    for (uint32_t q = 0; q < t->nports; q++)
        if (load[q]) {
            double v = (double)load[q] / bpns(t->ports[q].bps) + lpb_win(&b, q);
            if (v > tlo) tlo = v;
        }
    double L = (double)topo_ideal_each_ps(t, d, n, mtu, subflows, each) / 1e3;
    if (tlo > L) L = tlo;
    lpb_init(&b, t, arr, dep, windows, tlo);
    if (P == 1) b.rate_x = (double)t->planes; /* alike planes: plane 0 for all */

    uint64_t *down = xcalloc(H, sizeof *down);
    uint32_t *byleaf = xmalloc(H * sizeof *byleaf),
             *first = xmalloc(((size_t)Lp + 1) * sizeof *first);
    struct pdem *f;
    size_t m = plane_demands(t, d, n, &f, down, byleaf, first);
    uint32_t *mark = xcalloc(t->nswitches, sizeof *mark),
             *vis = xmalloc(t->nswitches * sizeof *vis);
    int *rowof = xmalloc(t->nswitches * sizeof *rowof);
    uint32_t *plane_of = xmalloc(t->nswitches * sizeof *plane_of);
    struct fdem *tmp = xmalloc((m ? m : 1) * sizeof *tmp);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i; j < m && f[j].l == f[i].l; j++)
            ;
        uint32_t l = f[i].l;
        uint64_t nports = 0;
        uint32_t nv =
            plane_reach(t, P, f + i, j - i, mark, (uint32_t)i + 1, vis, &nports, tmp, plane_of);
        /* a conservation row per switch: out - in - put in + taken out = 0 */
        int r0 = glp_add_rows(b.lp, (int)nv);
        for (uint32_t x = 0; x < nv; x++) {
            rowof[vis[x]] = r0 + (int)x;
            glp_set_row_bnds(b.lp, r0 + (int)x, GLP_FX, 0, 0);
        }
        int c = nports ? glp_add_cols(b.lp, (int)nports) : 0; /* (none: under one rail switch) */
        for (uint32_t x = 0; x < nv; x++) {
            uint32_t v = vis[x], np, one;
            if (v < t->leaves && v % Lp == l) continue; /* a sink */
            const uint32_t *q = next_ports(t, v, plane_of[v] * Lp + l, &np, &one);
            for (uint32_t y = 0; y < np; y++, c++) {
                uint32_t w = t->ports[q[y]].dst - H;
                glp_set_col_bnds(b.lp, c, GLP_LO, 0, 0);
                lpb_nz(&b, rowof[v], c, 1.0);
                lpb_nz(&b, rowof[w], c, -1.0);
                lpb_nz(&b, lpb_caprow(&b, q[y], L), c, 1.0);
            }
        }
        /* the sources' splits over their live NIC ports */
        for (size_t x = i; x < j; x++) {
            int split = glp_add_rows(b.lp, 1);
            glp_set_row_bnds(b.lp, split, GLP_FX, (double)f[x].bytes, (double)f[x].bytes);
            uint32_t sl = topo_leaf_of(t, f[x].f);
            for (uint32_t k = 0; k < P; k++) {
                uint32_t q = t->host_up[(size_t)k * H + f[x].f];
                if (!nic_live(t, q)) continue;
                int col = glp_add_cols(b.lp, 1);
                glp_set_col_bnds(b.lp, col, GLP_LO, 0, 0);
                lpb_nz(&b, split, col, 1.0);
                lpb_nz(&b, rowof[k * Lp + sl], col, -1.0);
                lpb_nz(&b, lpb_caprow(&b, q, L), col, 1.0);
            }
        }
        /* the destinations' */
        for (uint32_t y = first[l]; y < first[l + 1]; y++) {
            uint32_t h = byleaf[y];
            if (!down[h]) continue;
            int split = glp_add_rows(b.lp, 1);
            glp_set_row_bnds(b.lp, split, GLP_FX, (double)down[h], (double)down[h]);
            for (uint32_t k = 0; k < P; k++) {
                uint32_t q = t->host_down[(size_t)k * H + h];
                if (!nic_live(t, q)) continue;
                int col = glp_add_cols(b.lp, 1);
                glp_set_col_bnds(b.lp, col, GLP_LO, 0, 0);
                lpb_nz(&b, split, col, 1.0);
                lpb_nz(&b, rowof[k * Lp + l], col, 1.0);
                lpb_nz(&b, lpb_caprow(&b, q, L), col, 1.0);
            }
        }
    }
    double T;
    int rc = lpb_solve(&b, tlo, L, &T);
    if (rc == 0) {
        double v = floor(T * 1e3);
        *ps = v > 0 ? (simtime_t)v : 0;
    }
    lpb_free(&b);
    free(tmp);
    free(plane_of);
    free(rowof);
    free(vis);
    free(mark);
    free(f);
    free(first);
    free(byleaf);
    free(down);
    free(load);
    free(dep);
    free(arr);
    return rc;
}

/* ---- one plane ---- */

int topo_ideal_lp_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                     uint32_t subflows, int windows, simtime_t *ps)
{
    return topo_ideal_lp_each_ps(t, d, n, mtu, subflows, NULL, windows, ps);
}

int topo_ideal_lp_each_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                          uint32_t subflows, const uint32_t *each, int windows, simtime_t *ps)
{
    if (!lp_kind(t)) return -1;
    if (subflows < 1) subflows = 1;
    if (t->planes > 1) return lp_planes(t, d, n, mtu, subflows, each, windows, ps);
    /* the nodes: hosts, switches, NVLink switches */
    uint32_t N = node_count(t);
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
        uint32_t pkt = smallest_packet(d, n, mtu, subflows, each);
        least_times(t, N, 0, pkt, arr);
        least_times(t, N, 1, pkt, dep);
    }
    struct lpb b;
    b.t = t, b.arr = arr, b.dep = dep, b.windows = windows;
    double tlo = 0; /* T's least value from the host and NVLink ports */
    for (uint32_t q = 0; q < t->nports; q++)
        if (load[q]) {
            double v = (double)load[q] / bpns(t->ports[q].bps) + lpb_win(&b, q);
            if (v > tlo) tlo = v;
        }

    struct fdem *f;
    size_t m = fabric_demands(t, d, n, &f);
    uint32_t *mark = xcalloc(t->nswitches, sizeof *mark),
             *vis = xmalloc(t->nswitches * sizeof *vis);
    int *rowof = xmalloc(t->nswitches * sizeof *rowof);
    /* a known lower bound on T, ns: the windows are clipped to it */
    double L = (double)topo_ideal_each_ps(t, d, n, mtu, subflows, each) / 1e3;
    if (tlo > L) L = tlo;
    lpb_init(&b, t, arr, dep, windows, tlo);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i; j < m && f[j].k == f[i].k; j++)
            ;
        uint32_t k = f[i].k;
        uint64_t nports = 0;
        uint32_t nv = reach(t, f + i, j - i, mark, (uint32_t)i + 1, vis, &nports);
        /* a conservation row per switch but k: out - in = its supply */
        int r0 = glp_add_rows(b.lp, (int)nv);
        for (uint32_t x = 0; x < nv; x++) {
            rowof[vis[x]] = r0 + (int)x;
            glp_set_row_bnds(b.lp, r0 + (int)x, GLP_FX, 0, 0);
        }
        for (size_t x = i; x < j; x++)
            glp_set_row_bnds(b.lp, rowof[f[x].s], GLP_FX, (double)f[x].bytes, (double)f[x].bytes);
        glp_set_row_bnds(b.lp, rowof[k], GLP_FR, 0, 0); /* the sink: left free */
        int c0 = glp_add_cols(b.lp, (int)nports), c = c0;
        for (uint32_t x = 0; x < nv; x++) {
            uint32_t v = vis[x], np, one;
            if (v == k) continue;
            const uint32_t *q = next_ports(t, v, k, &np, &one);
            for (uint32_t y = 0; y < np; y++, c++) {
                uint32_t w = t->ports[q[y]].dst - t->hosts;
                glp_set_col_bnds(b.lp, c, GLP_LO, 0, 0);
                lpb_nz(&b, rowof[v], c, 1.0);
                if (w != k) lpb_nz(&b, rowof[w], c, -1.0);
                lpb_nz(&b, lpb_caprow(&b, q[y], L), c, 1.0);
            }
        }
    }
    double T;
    int rc = lpb_solve(&b, tlo, L, &T);
    if (rc == 0) {
        double v = floor(T * 1e3);
        *ps = v > 0 ? (simtime_t)v : 0;
    }
    lpb_free(&b);
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
    return topo_ideal_bound_each_ps(t, d, n, mtu, subflows, NULL, lp_max, kind);
}

simtime_t topo_ideal_bound_each_ps(const struct topo *t, const struct topo_demand *d, size_t n,
                                   uint32_t mtu, uint32_t subflows, const uint32_t *each,
                                   uint64_t lp_max, int *kind)
{
    simtime_t cut = topo_ideal_each_ps(t, d, n, mtu, subflows, each), lp;
    *kind = TOPO_IDEAL_CUT;
    if (!lp_max || topo_ideal_lp_size(t, d, n, lp_max) > lp_max) return cut;
    if (topo_ideal_lp_each_ps(t, d, n, mtu, subflows, each, 1, &lp) < 0) return cut;
    *kind = TOPO_IDEAL_LP;
    return lp > cut ? lp : cut;
}
