/* place_cost.c - the shared placement cost: the token profile of a trace window
 * and the per-layer evaluator every policy, refine, the ilp and the CLI use.
 *
 * Definition (also place.h and README-placement.md), per layer l:
 *   cost_l = w_compute * compute_us_per_token * max_g load_g
 *          + w_network * max( max_g max(sent_g, recv_g) * 8 / (gpu_gbps * 1e3),
 *                             max_g max(nvsent_g, nvrecv_g) * 8 / (nvlink_gbps * 1e3),
 *                             max_leaf max(out, in) * 8 / (leaf_uplink_gbps * 1e3) )
 * in microseconds, bytes = units * bytes_per_token. The flows come from the
 * profile (place_internal.h): each unit of mass leaves its source GPU for the
 * expert's GPU; a source GPU holding a replica keeps the unit, otherwise it
 * splits evenly over the replicas (the expectation of pl_gpu_of's rule). In
 * standard mode every dispatched unit also comes back (combine), so sent and
 * received both count dispatch plus combine; in coherent mode the last layer
 * adds the combine of its outputs to the token homes. A unit between two GPUs
 * of one server counts in nvsent of its source and nvrecv of its destination
 * (NVLink) and nowhere else; a unit between servers counts in sent and recv
 * (the NICs) and, between leaves, in the leaves' out and in. The NVLink term
 * is absent with one GPU per server, the leaf term with one leaf.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/place_internal.h"

void pl_profile_build(struct pl_profile *pr, const struct trace *t, size_t tok_begin,
                      size_t tok_end, const struct pl_fabric *f)
{
    int L = t->layers, E = t->experts, k = t->topk, gpus = f->gpus, leaves = f->leaves;
    enum pl_mode mode = f->mode;
    memset(pr, 0, sizeof *pr);
    pr->layers = L;
    pr->experts = E;
    pr->gpus = gpus;
    pr->leaves = leaves;
    pr->mode = mode;
    pr->load = xcalloc((size_t)L * E, sizeof(double));
    pr->home = xcalloc((size_t)L * gpus * E, sizeof(double));
    pr->pair = xcalloc((size_t)L * E * E, sizeof(double));
    pr->back = xcalloc((size_t)gpus * E, sizeof(double));
    size_t n = tok_end - tok_begin;
    for (size_t i = 0; i < n; i++) {
        size_t tok = tok_begin + i;
        int h = pl_token_home(f, i, n);
        for (int l = 0; l < L; l++) {
            const int16_t *ex = &t->expert[trace_idx(t, tok, l, 0)];
            const int16_t *prev = l > 0 ? &t->expert[trace_idx(t, tok, l - 1, 0)] : NULL;
            int nprev = 0;
            if (prev)
                for (int j = 0; j < k; j++)
                    nprev += prev[j] >= 0 && prev[j] < E;
            for (int j = 0; j < k; j++) {
                int e = ex[j];
                if (e < 0 || e >= E) continue;
                pr->load[(size_t)l * E + e] += 1;
                pr->total += 1;
                if (nprev == 0 || mode == PL_STANDARD) pl_home_at(pr, l, h)[e] += 1;
                for (int i2 = 0; nprev > 0 && i2 < k; i2++)
                    if (prev[i2] >= 0 && prev[i2] < E)
                        pl_pair_at(pr, l, prev[i2])[e] += 1.0 / nprev;
                if (mode == PL_COHERENT && l == L - 1) pr->back[(size_t)h * E + e] += 1;
            }
        }
    }
}

void pl_profile_free(struct pl_profile *pr)
{
    free(pr->load);
    free(pr->home);
    free(pr->pair);
    free(pr->back);
    memset(pr, 0, sizeof *pr);
}

void pl_eval_init(struct pl_eval *ev, const struct pl_profile *pr, const struct pl_fabric *f,
                  int slots, int spg)
{
    int E = pr->experts, G = pr->gpus;
    memset(ev, 0, sizeof *ev);
    ev->pr = pr;
    ev->f = f;
    ev->slots = slots;
    ev->spg = spg;
    ev->nrep = xcalloc((size_t)E, sizeof(int));
    ev->reps = xcalloc((size_t)E * slots, sizeof(int));
    ev->nrep2 = xcalloc((size_t)E, sizeof(int));
    ev->reps2 = xcalloc((size_t)E * slots, sizeof(int));
    /* (a [G x G] matrix is 2 GiB at 16384 GPUs: standard mode needs a row) */
    ev->flow = xcalloc(pr->mode == PL_COHERENT ? (size_t)G * G : (size_t)G, sizeof(double));
    ev->nz = xcalloc((size_t)G, sizeof(int));
    ev->load = xcalloc((size_t)G, sizeof(double));
    ev->sent = xcalloc((size_t)G, sizeof(double));
    ev->recv = xcalloc((size_t)G, sizeof(double));
    ev->lout = xcalloc((size_t)pr->leaves, sizeof(double));
    ev->lin = xcalloc((size_t)pr->leaves, sizeof(double));
    ev->nsent = xcalloc((size_t)G, sizeof(double));
    ev->nrecv = xcalloc((size_t)G, sizeof(double));
}

void pl_eval_free(struct pl_eval *ev)
{
    free(ev->nrep);
    free(ev->reps);
    free(ev->nrep2);
    free(ev->reps2);
    free(ev->flow);
    free(ev->nz);
    free(ev->load);
    free(ev->sent);
    free(ev->recv);
    free(ev->lout);
    free(ev->lin);
    free(ev->nsent);
    free(ev->nrecv);
    memset(ev, 0, sizeof *ev);
}

static void collect_reps(const struct pl_eval *ev, const int *row, int *nrep, int *reps)
{
    int E = ev->pr->experts;
    memset(nrep, 0, sizeof(int) * (size_t)E);
    for (int s = 0; s < ev->slots; s++) {
        int e = row[s];
        reps[(size_t)e * ev->slots + nrep[e]++] = s / ev->spg;
    }
}

/* Adds m > 0 units from src to d: the matrix's entry, or (standard mode)
 * the row's, its column listed when it was 0. */
static void add_flow(struct pl_eval *ev, int src, int d, double m)
{
    if (ev->pr->mode == PL_COHERENT) {
        ev->flow[(size_t)src * ev->pr->gpus + d] += m;
        return;
    }
    if (ev->flow[d] == 0) ev->nz[ev->nnz++] = d;
    ev->flow[d] += m;
}

/* Routes `mass` units from GPU src to expert e (replicas nrep/reps). */
static void route(struct pl_eval *ev, double mass, int src, int n, const int *reps)
{
    assert(n > 0);
    for (int i = 0; i < n; i++)
        if (reps[i] == src) {
            add_flow(ev, src, src, mass);
            return;
        }
    for (int i = 0; i < n; i++)
        add_flow(ev, src, reps[i], mass / n);
}

static double cost_of(const struct pl_eval *ev);

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The units m from s to d into the loads and the traffic. */
static void add_units(struct pl_eval *ev, int s, int d, double m);

static void add_traffic(struct pl_eval *ev, int s, int d, double m)
{
    if (s == d || m == 0) return;
    if (pl_same_server(ev->f, s, d)) {
        ev->nsent[s] += m;
        ev->nrecv[d] += m;
        return;
    }
    int G = ev->pr->gpus, Lv = ev->pr->leaves;
    ev->sent[s] += m;
    ev->recv[d] += m;
    int ls = pl_leaf_of(s, G, Lv), ld = pl_leaf_of(d, G, Lv);
    if (ls != ld) {
        ev->lout[ls] += m;
        ev->lin[ld] += m;
    }
}

double pl_eval_layer(struct pl_eval *ev, const int *slot_expert, int l)
{
    const struct pl_profile *pr = ev->pr;
    int E = pr->experts, G = pr->gpus, S = ev->slots;
    collect_reps(ev, slot_expert + (size_t)l * S, ev->nrep, ev->reps);
    memset(ev->load, 0, sizeof(double) * (size_t)G);
    memset(ev->sent, 0, sizeof(double) * (size_t)G);
    memset(ev->recv, 0, sizeof(double) * (size_t)G);
    memset(ev->lout, 0, sizeof(double) * (size_t)pr->leaves);
    memset(ev->lin, 0, sizeof(double) * (size_t)pr->leaves);
    memset(ev->nsent, 0, sizeof(double) * (size_t)G);
    memset(ev->nrecv, 0, sizeof(double) * (size_t)G);
    if (pr->mode == PL_STANDARD) {
        /* row by row, each in increasing order of destination: the sums of
         * the whole matrix's walk, in the same order */
        for (int h = 0; h < G; h++) {
            const double *hm = pl_home_at(pr, l, h);
            ev->nnz = 0;
            for (int e = 0; e < E; e++)
                if (hm[e] > 0) route(ev, hm[e], h, ev->nrep[e], ev->reps + (size_t)e * S);
            qsort(ev->nz, (size_t)ev->nnz, sizeof *ev->nz, cmp_int);
            for (int i = 0; i < ev->nnz; i++) {
                int d = ev->nz[i];
                add_units(ev, h, d, ev->flow[d]);
                ev->flow[d] = 0;
            }
        }
        return cost_of(ev);
    }
    memset(ev->flow, 0, sizeof(double) * (size_t)G * G);
    for (int h = 0; h < G; h++) {
        const double *hm = pl_home_at(pr, l, h);
        for (int e = 0; e < E; e++)
            if (hm[e] > 0) route(ev, hm[e], h, ev->nrep[e], ev->reps + (size_t)e * S);
    }
    if (l > 0) {
        collect_reps(ev, slot_expert + (size_t)(l - 1) * S, ev->nrep2, ev->reps2);
        for (int a = 0; a < E; a++) {
            const double *pa = pl_pair_at(pr, l, a);
            int na = ev->nrep2[a];
            for (int b = 0; b < E; b++) {
                if (pa[b] <= 0) continue;
                for (int i = 0; i < na; i++)
                    route(ev, pa[b] / na, ev->reps2[(size_t)a * S + i], ev->nrep[b],
                          ev->reps + (size_t)b * S);
            }
        }
    }
    for (int s = 0; s < G; s++)
        for (int d = 0; d < G; d++) {
            double m = ev->flow[(size_t)s * G + d];
            if (m != 0) add_units(ev, s, d, m);
        }
    if (l == pr->layers - 1)
        for (int h = 0; h < G; h++)
            for (int e = 0; e < E; e++) {
                double m = pr->back[(size_t)h * E + e];
                if (m <= 0) continue;
                int n = ev->nrep[e];
                for (int i = 0; i < n; i++)
                    add_traffic(ev, ev->reps[(size_t)e * S + i], h, m / n);
            }
    return cost_of(ev);
}

static void add_units(struct pl_eval *ev, int s, int d, double m)
{
    ev->load[d] += m;
    add_traffic(ev, s, d, m);
    if (ev->pr->mode == PL_STANDARD) add_traffic(ev, d, s, m);
}

/* The layer's cost from its loads and traffic. */
static double cost_of(const struct pl_eval *ev)
{
    const struct pl_profile *pr = ev->pr;
    const struct pl_fabric *f = ev->f;
    int G = pr->gpus;
    double maxload = 0, maxg = 0, maxl = 0, maxn = 0;
    for (int g = 0; g < G; g++) {
        if (ev->load[g] > maxload) maxload = ev->load[g];
        double x = ev->sent[g] > ev->recv[g] ? ev->sent[g] : ev->recv[g];
        if (x > maxg) maxg = x;
        x = ev->nsent[g] > ev->nrecv[g] ? ev->nsent[g] : ev->nrecv[g];
        if (x > maxn) maxn = x;
    }
    for (int v = 0; v < pr->leaves; v++) {
        double x = ev->lout[v] > ev->lin[v] ? ev->lout[v] : ev->lin[v];
        if (x > maxl) maxl = x;
    }
    double B = f->bytes_per_token;
    double tg = maxg * B * 8 / (f->gpu_gbps * 1e3);
    double tl = pr->leaves > 1 ? maxl * B * 8 / (f->leaf_uplink_gbps * 1e3) : 0;
    double tn = f->gpus_per_server > 1 ? maxn * B * 8 / (f->nvlink_gbps * 1e3) : 0;
    double tnet = tg > tl ? tg : tl;
    if (tn > tnet) tnet = tn;
    return f->w_compute * f->compute_us_per_token * maxload + f->w_network * tnet;
}

double pl_eval_total(struct pl_eval *ev, const int *slot_expert)
{
    double c = 0;
    for (int l = 0; l < ev->pr->layers; l++)
        c += pl_eval_layer(ev, slot_expert, l);
    return c;
}

double pl_cost(const struct pl_placement *pl, const struct trace *t, size_t tok_begin,
               size_t tok_end, const struct pl_fabric *f)
{
    assert(f->gpus == pl->gpus && t->layers == pl->layers && t->experts == pl->experts);
    /* The placement's leaves count (as they always have). */
    struct pl_fabric g = *f;
    g.leaves = pl->leaves;
    struct pl_profile pr;
    struct pl_eval ev;
    pl_profile_build(&pr, t, tok_begin, tok_end, &g);
    pl_eval_init(&ev, &pr, &g, pl->slots, pl->slots_per_gpu);
    double c = pl_eval_total(&ev, pl->slot_expert);
    pl_eval_free(&ev);
    pl_profile_free(&pr);
    return c;
}
