/* preflight.c - the checks of a run against the files it names, made for
 * every run of a sweep before any starts (cfg_preflight, declared in
 * scenario.h).
 *
 * cfg_validate (validate.c) checks the keys against each other; this checks
 * them against the disk, cheaply:
 *   - an MoE run's trace: its metadata lines only (trace_read_meta, once per
 *     distinct path), that it opens and agrees with workload.experts, topk
 *     and layers; then whether the placement can be computed from the sizes
 *     alone (wl_moe_check: replicas with a policy that does not replicate, an
 *     ilp instance too large, slots that do not fill the GPUs, ...). A trace
 *     without "#experts=" metadata is not read here: its experts are known
 *     only from its rows, and the run checks it when it loads the trace;
 *   - output.db and output.csv: each distinct path can be written
 *     (res_out_check), and the two are not one file.
 * Each problem goes to the caller's report function with the key to blame,
 * so that the scenario loader names the file line (or --set) that set it.
 */
#include <stdlib.h>
#include <string.h>

#include "app/scenario.h"
#include "workloads/moe.h"
#include "workloads/trace.h"

/* A trace's metadata, read once. */
struct probe_trace {
    char *path;
    int rc;
    struct trace_meta m;
    char msg[ERR_MSG_MAX]; /* rc < 0: the reason */
};

struct cfg_probe {
    struct probe_trace *tr;
    size_t ntr;
    char **outs; /* output paths checked, each as "db:PATH" or "csv:PATH" */
    size_t nouts;
};

struct cfg_probe *cfg_probe_new(void)
{
    return xcalloc(1, sizeof(struct cfg_probe));
}

void cfg_probe_free(struct cfg_probe *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->ntr; i++)
        free(p->tr[i].path);
    for (size_t i = 0; i < p->nouts; i++)
        free(p->outs[i]);
    free(p->tr);
    free(p->outs);
    free(p);
}

static const struct probe_trace *probe_trace(struct cfg_probe *p, const char *path)
{
    for (size_t i = 0; i < p->ntr; i++)
        if (!strcmp(p->tr[i].path, path)) return &p->tr[i];
    p->tr = xrealloc(p->tr, (p->ntr + 1) * sizeof *p->tr);
    struct probe_trace *t = &p->tr[p->ntr++];
    memset(t, 0, sizeof *t);
    t->path = xstrdup(path);
    struct err e;
    t->rc = trace_read_meta(path, &t->m, &e);
    if (t->rc < 0) snprintf(t->msg, sizeof t->msg, "%s", e.msg);
    return t;
}

/* True the first time (kind, path) is asked. */
static int probe_first(struct cfg_probe *p, const char *kind, const char *path)
{
    size_t n = strlen(kind) + strlen(path) + 2;
    char *k = xmalloc(n);
    snprintf(k, n, "%s:%s", kind, path);
    for (size_t i = 0; i < p->nouts; i++)
        if (!strcmp(p->outs[i], k)) {
            free(k);
            return 0;
        }
    p->outs = xrealloc(p->outs, (p->nouts + 1) * sizeof *p->outs);
    p->outs[p->nouts++] = k;
    return 1;
}

/* Reports "section.key: reason" (a message of the workload layer) against
 * its key. */
static void report_keyed(const char *msg, cfg_report_fn report, void *ctx)
{
    const char *colon = strstr(msg, ": ");
    const char *dot = strchr(msg, '.');
    const struct opt_def *o = NULL;
    if (colon && dot && dot < colon) {
        char section[64], key[64];
        snprintf(section, sizeof section, "%.*s", (int)(dot - msg), msg);
        snprintf(key, sizeof key, "%.*s", (int)(colon - dot - 1), dot + 1);
        o = opt_find(section, key);
    }
    if (o)
        report(ctx, o, colon + 2);
    else
        report(ctx, opt_find("workload", "trace"), msg);
}

static int preflight_moe(const struct cfg *c, struct cfg_probe *p, cfg_report_fn report, void *ctx)
{
    const struct opt_def *trace_key = opt_find("workload", "trace");
    char why[ERR_MSG_MAX + 64];
    if (!c->wl.trace[0]) {
        report(ctx, trace_key, "workload.kind = moe needs a routing trace");
        return 1;
    }
    const struct probe_trace *t = probe_trace(p, c->wl.trace);
    if (t->rc < 0) {
        report(ctx, trace_key, t->msg);
        return 1;
    }
    const struct trace_meta *m = &t->m;
    if (c->wl.experts && m->experts && c->wl.experts != m->experts) {
        snprintf(why, sizeof why, "%lld contradicts the trace's %d experts (%s)",
                 (long long)c->wl.experts, m->experts, c->wl.trace);
        report(ctx, opt_find("workload", "experts"), why);
        return 1;
    }
    if (m->topk && c->wl.topk > m->topk) {
        snprintf(why, sizeof why, "%lld is more than the trace's top-%d (%s)",
                 (long long)c->wl.topk, m->topk, c->wl.trace);
        report(ctx, opt_find("workload", "topk"), why);
        return 1;
    }
    if (m->layers && c->wl.layers > m->layers) {
        snprintf(why, sizeof why, "%lld is more than the trace's %d layers (%s)",
                 (long long)c->wl.layers, m->layers, c->wl.trace);
        report(ctx, opt_find("workload", "layers"), why);
        return 1;
    }
    int experts = m->experts ? m->experts : (int)c->wl.experts;
    if (!experts) return 0; /* known only from the rows: the run checks */
    /* Layers unknown (no metadata, no workload.layers): one, a lower bound,
     * so what is refused is refused for any trace. */
    int layers = c->wl.layers ? (int)c->wl.layers : m->layers ? m->layers : 1;
    int64_t gpus = c->topo.leaves * c->topo.hosts_per_leaf;
    struct wl_specs ws = {&c->wl, &c->pl, &c->sim, &c->tr, &c->out};
    struct err e;
    if (wl_moe_check(&ws, gpus > INT32_MAX ? INT32_MAX : (int)gpus,
                     (int)topo_spec_place_leaves(&c->topo), (int)c->topo.gpus_per_host, experts,
                     layers, &e) < 0) {
        report_keyed(e.msg, report, ctx);
        return 1;
    }
    return 0;
}

static int preflight_outputs(const struct cfg *c, struct cfg_probe *p, cfg_report_fn report,
                             void *ctx)
{
    int n = 0;
    struct err e;
    if (probe_first(p, "db", c->out.db) && res_out_check(c->out.db, 1, &e) < 0) {
        report(ctx, opt_find("output", "db"), e.msg);
        n++;
    }
    if (c->out.csv[0] && probe_first(p, "csv", c->out.csv)) {
        if (!strcmp(c->out.csv, c->out.db)) {
            report(ctx, opt_find("output", "csv"), "the same file as output.db");
            n++;
        } else if (res_out_check(c->out.csv, 0, &e) < 0) {
            report(ctx, opt_find("output", "csv"), e.msg);
            n++;
        }
    }
    return n;
}

int cfg_preflight(const struct cfg *c, struct cfg_probe *p, cfg_report_fn report, void *ctx)
{
    int n = c->wl.kind == WL_MOE ? preflight_moe(c, p, report, ctx) : 0;
    return n + preflight_outputs(c, p, report, ctx);
}
