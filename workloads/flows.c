/* flows.c - workload.kind = flows: the flows of workload.flows_file
 * (flows_file.c: htsim's connection matrix or CSV), replayed on the fabric.
 *
 * The task graph, once per iteration (a barrier between iterations):
 *   - the flows that wait for nothing and that nothing waits for are grouped
 *     by start time: one network task per distinct start (named "flows");
 *   - every other flow (one that a trigger starts, or one that fires a
 *     trigger) is a network task of its own, after the flows it waits for;
 *   - a start time t > 0 is a delay of t (graph_delay, named "wait") that
 *     the task depends on; delays are shared by the tasks of one start.
 * Every task's `layer` is its number among the iteration's network tasks, so
 * a phase row names its group; per-flow times are in the flows table
 * (output.flows = true).
 */
#include <stdlib.h>
#include <string.h>

#include "workloads/flows_file.h"
#include "workloads/wl.h"

struct flows_wl {
    struct wl_flows fl;
    uint32_t iter, iterations;
};

static int cmp_start(const void *a, const void *b, void *ctx)
{
    const struct wl_flows *fl = ctx;
    const struct wl_flow *x = &fl->f[*(const uint32_t *)a], *y = &fl->f[*(const uint32_t *)b];
    if (x->start_ps != y->start_ps) return x->start_ps < y->start_ps ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* The delay task of start time t (added the first time it is asked for). */
struct delays {
    simtime_t *t;
    uint64_t *task;
    size_t n, cap;
};

static uint64_t delay_of(struct delays *d, struct graph *g, uint32_t iter, uint32_t layer,
                         simtime_t t)
{
    for (size_t i = d->n; i-- > 0;) /* starts arrive mostly in order: look from the end */
        if (d->t[i] == t) return d->task[i];
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->t = xrealloc(d->t, d->cap * sizeof *d->t);
        d->task = xrealloc(d->task, d->cap * sizeof *d->task);
    }
    d->t[d->n] = t;
    d->task[d->n] = graph_delay(g, "wait", iter, layer, t);
    return d->task[d->n++];
}

static int flows_next(void *state, struct graph *g)
{
    struct flows_wl *s = state;
    if (s->iter >= s->iterations) return 0;
    const struct wl_flows *fl = &s->fl;
    uint32_t iter = s->iter++, layer = 0;
    uint64_t *task = xmalloc(fl->n * sizeof *task);
    struct topo_demand *dem = xmalloc(fl->n * sizeof *dem);
    struct delays d = {0};
    /* the free flows, by start time */
    uint32_t *idx = xmalloc(fl->n * sizeof *idx);
    size_t nfree = 0;
    for (uint32_t i = 0; i < fl->n; i++)
        if (!fl->f[i].nwait && !fl->f[i].fires) idx[nfree++] = i;
    if (nfree) qsort_r(idx, nfree, sizeof *idx, cmp_start, (void *)fl);
    for (size_t a = 0; a < nfree;) {
        size_t b = a;
        simtime_t t = fl->f[idx[a]].start_ps;
        while (b < nfree && fl->f[idx[b]].start_ps == t) {
            const struct wl_flow *f = &fl->f[idx[b]];
            dem[b - a] = (struct topo_demand){f->src, f->dst, f->bytes};
            b++;
        }
        uint64_t wait = t ? delay_of(&d, g, iter, layer, t) : 0;
        uint64_t k = graph_net(g, "flows", iter, layer++, dem, b - a);
        if (t) graph_dep(g, k, wait);
        for (size_t i = a; i < b; i++)
            task[idx[i]] = k;
        a = b;
    }
    /* the others, each after those it waits for */
    for (size_t o = 0; o < fl->n; o++) {
        uint32_t i = fl->order[o];
        const struct wl_flow *f = &fl->f[i];
        if (!f->nwait && !f->fires) continue;
        uint64_t wait = f->start_ps ? delay_of(&d, g, iter, layer, f->start_ps) : 0;
        dem[0] = (struct topo_demand){f->src, f->dst, f->bytes};
        uint64_t k = graph_net(g, "flows", iter, layer++, dem, 1);
        if (f->start_ps) graph_dep(g, k, wait);
        for (uint32_t w = 0; w < f->nwait; w++)
            graph_dep(g, k, task[fl->wait[f->woff + w]]);
        task[i] = k;
    }
    graph_barrier(g);
    free(idx);
    free(d.t);
    free(d.task);
    free(dem);
    free(task);
    return 1;
}

static void flows_destroy(void *state)
{
    struct flows_wl *s = state;
    wl_flows_free(&s->fl);
    free(s);
}

static int flows_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                        struct err *e)
{
    struct flows_wl *s = xcalloc(1, sizeof *s);
    if (wl_flows_load(c->wl->flows_file, t->hosts, &s->fl, e) < 0) {
        free(s);
        return -1;
    }
    s->iterations = (uint32_t)c->sim->iterations;
    g->state = s;
    g->next = flows_next;
    g->destroy = flows_destroy;
    return 0;
}

static uint32_t flows_hosts(const struct topo_spec *tp)
{
    return (uint32_t)(tp->leaves * tp->hosts_per_leaf);
}

/* The file reads (every host on the fabric), a phase's bytes fit a signed
 * 64-bit integer, and the busiest host's bytes after the latest start fit
 * the clock. */
static int flows_check(const struct wl_specs *c, const struct topo_spec *tp,
                       const struct opt_def **bad, struct err *e)
{
    if (!c->wl->flows_file[0])
        return wl_fail(bad, e, &wl_options, "workload", "flows_file",
                       "workload.kind = flows needs a flows file (htsim connection matrix or "
                       "src,dst,bytes,start_ns CSV)");
    if (c->wl->algo != WL_ALGO_AUTO && c->wl->algo != WL_ALGO_DIRECT) {
        char algo[64];
        opt_enum_text(&wl_options, "workload", "algo", c->wl->algo, algo, sizeof algo);
        return wl_fail(bad, e, &wl_options, "workload", "algo",
                       "%s is not an algorithm of workload.kind = flows (it has: direct)", algo);
    }
    struct wl_flows fl;
    struct err fe = {""};
    uint32_t H = flows_hosts(tp);
    if (wl_flows_load(c->wl->flows_file, H, &fl, &fe) < 0)
        return wl_fail(bad, e, &wl_options, "workload", "flows_file", "%s", fe.msg);
    double total = 0, latest = 0, *out = xcalloc(H, sizeof *out);
    double most = 0;
    for (size_t i = 0; i < fl.n; i++) {
        total += (double)fl.f[i].bytes;
        out[fl.f[i].src] += (double)fl.f[i].bytes;
        if (out[fl.f[i].src] > most) most = out[fl.f[i].src];
        if ((double)fl.f[i].start_ps > latest) latest = (double)fl.f[i].start_ps;
    }
    free(out);
    size_t n = fl.n;
    wl_flows_free(&fl);
    if (total >= (double)INT64_MAX)
        return wl_fail(bad, e, &wl_options, "workload", "flows_file",
                       "%zu flows of %.3g bytes in all, more than 2^63-1 in one phase", n, total);
    double ps = (latest + most * 8.0 / (tp->host_gbps * 1e9) * (double)PS_PER_S) *
                (double)c->sim->iterations;
    if (ps >= (double)INT64_MAX)
        return wl_fail(bad, e, &wl_options, "workload", "flows_file",
                       "its busiest host needs at least %.3g s of simulated time, more than the "
                       "clock holds (%.3g s)",
                       ps / (double)PS_PER_S, (double)INT64_MAX / (double)PS_PER_S);
    return 0;
}

static void flows_footprint(const struct wl_specs *c, const struct topo_spec *tp,
                            struct wl_footprint *f)
{
    struct wl_flows fl;
    struct err e = {""};
    if (c->wl->flows_file[0] && wl_flows_load(c->wl->flows_file, flows_hosts(tp), &fl, &e) == 0) {
        f->msgs = (double)fl.n;
        f->state_bytes = (double)fl.n * (double)(sizeof(struct wl_flow) + 2 * sizeof(uint64_t)) +
                         (double)fl.nwait * sizeof(uint32_t);
        wl_flows_free(&fl);
    }
    f->key = opt_table_find(&wl_options, "workload", "flows_file");
}

static int flows_multiphase(const struct wl_specs *c)
{
    return c->sim->iterations >= 2;
}

const struct wl_def wl_def_flows = {
    .kind = WL_FLOWS,
    .create = flows_create,
    .check = flows_check,
    .footprint = flows_footprint,
    .multiphase = flows_multiphase,
};
