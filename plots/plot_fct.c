/* plot_fct.c - figure 2, `moesim plot fct`: the CDF of flow completion
 * times (flows table), a line per value of the --by key (default
 * transport.path). A flow belongs to the network phase (ideal_ns > 0) that
 * started last at or before its start; --phase keeps one phase's flows.
 * --flows network (the default) keeps the flows between servers, nvlink
 * those inside one (topology.gpus_per_host > 1: GPUs g and h share a server
 * when g / gpus_per_host = h / gpus_per_host), all both. Data: fct_G.csv per
 * series G (fct_us, fraction; at most 1000 points). Script: plots/fct.gp.
 */
#include "plots/plot.h"

#include <stdlib.h>
#include <string.h>

#include "results/cursor.h"

#define CDF_POINTS 1000

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A run's network phases in time order: their start and name. */
struct fct_phases {
    int64_t *start;
    const char **name; /* interned in names */
    size_t n, cap;
};

/* The distinct phase names seen (for the note), at most 8. */
struct fct_names {
    char name[8][32];
    size_t n;
};

static const char *fct_intern(struct fct_names *ns, const char *s)
{
    for (size_t i = 0; i < ns->n; i++)
        if (!strcmp(ns->name[i], s)) return ns->name[i];
    if (ns->n == 8) return "other";
    snprintf(ns->name[ns->n], sizeof ns->name[0], "%s", s);
    return ns->name[ns->n++];
}

/* The network phases of every selected run (ph[r]). */
static int fct_load_phases(struct plot_ctx *c, struct fct_phases *ph, struct fct_names *names)
{
    struct res_cursor *st =
        res_cursor_open(c->db,
                        "SELECT run_id, phase, start_ns FROM phases WHERE ideal_ns > 0"
                        " ORDER BY run_id, start_ns",
                        c->e);
    if (!st) return PLOT_FAIL;
    while (res_cursor_next(st) == 1) {
        long r = res_sel_find(c->sel, res_cursor_int(st, 0));
        if (r < 0) continue;
        struct fct_phases *p = &ph[r];
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 16;
            p->start = xrealloc(p->start, p->cap * sizeof *p->start);
            p->name = xrealloc(p->name, p->cap * sizeof *p->name);
        }
        const char *nm = res_cursor_text(st, 1);
        p->start[p->n] = res_cursor_int(st, 2);
        p->name[p->n++] = fct_intern(names, nm ? nm : "");
    }
    res_cursor_close(st);
    return 0;
}

/* The phase of a flow starting at t: the last one started at or before t. */
static const char *fct_phase_of(const struct fct_phases *p, int64_t t)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->start[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? p->name[lo - 1] : NULL;
}

int plot_fct(struct plot_ctx *c)
{
    const struct res_sel *s = c->sel;
    if (!res_has_table(c->db, "flows"))
        return err_set(c->e, "%s: has no flows table (run with output.flows = true)",
                       res_path(c->db));
    const char *want = c->o->flows ? c->o->flows : "network";
    int keep_net = strcmp(want, "nvlink") != 0, keep_nvl = strcmp(want, "network") != 0;
    struct plot_by b;
    if (plot_by_init(c, "transport.path", 1, "all runs", &b) < 0) return PLOT_NODATA;
    size_t ng = b.nvals[0];
    struct plot_vals *g = xcalloc(ng, sizeof *g);
    struct fct_phases *ph = xcalloc(s->nruns + 1, sizeof *ph);
    struct fct_names names = {0};
    int64_t *gph = xcalloc(s->nruns + 1, sizeof *gph);
    char *used = xcalloc(s->nruns + 1, 1); /* runs that gave flows */
    int rc = 0;
    FILE *f = NULL;
    char *note = NULL, *full = NULL;
    const char **titles = xcalloc(ng + 1, sizeof *titles), **files = xcalloc(ng + 1, sizeof *files);
    char(*fname)[32] = xcalloc(ng + 1, sizeof *fname);
    int kg = res_sel_key(s, "topology.gpus_per_host");
    for (size_t r = 0; r < s->nruns; r++) {
        const char *v = kg >= 0 ? res_sel_val(s, r, kg) : NULL;
        gph[r] = v ? strtoll(v, NULL, 10) : 1;
    }
    if ((rc = fct_load_phases(c, ph, &names)) < 0) goto out;
    int phase_used[8] = {0};
    struct res_cursor *st =
        res_cursor_open(c->db, "SELECT run_id, src, dst, start_ns, end_ns FROM flows", c->e);
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    int64_t last = -1;
    long r = -1;
    size_t nflows = 0, seen = 0;
    while (res_cursor_next(st) == 1) {
        int64_t id = res_cursor_int(st, 0);
        if (id != last) {
            r = res_sel_find(s, id);
            last = id;
        }
        if (r < 0) continue;
        seen++;
        if (b.idx[0][r] < 0) continue;
        int64_t src = res_cursor_int(st, 1), dst = res_cursor_int(st, 2);
        int nvl = gph[r] > 1 && src / gph[r] == dst / gph[r];
        if (nvl ? !keep_nvl : !keep_net) continue;
        int64_t t0 = res_cursor_int(st, 3);
        const char *p = fct_phase_of(&ph[r], t0);
        if (c->o->phase && (!p || strcmp(p, c->o->phase))) continue;
        for (size_t i = 0; p && i < names.n; i++)
            if (names.name[i] == p) phase_used[i] = 1;
        plot_vals_push(&g[b.idx[0][r]], (double)(res_cursor_int(st, 4) - t0) / 1e3);
        used[r] = 1;
        nflows++;
    }
    res_cursor_close(st);
    static const char *const what_flows[] = {"network flows (between servers)",
                                             "NVLink flows (inside a server)", "flows"};
    const char *what = what_flows[keep_net && keep_nvl ? 2 : keep_net ? 0 : 1];
    if (!nflows) {
        if (!seen)
            rc = err_set(c->e,
                         "no flow records in the %zu matching done runs (run with output.flows "
                         "= true)",
                         s->nruns);
        else if (c->o->phase)
            rc = err_set(c->e, "no %s of phase %s in the %zu matching done runs", what, c->o->phase,
                         s->nruns);
        else
            rc = err_set(c->e, "no %s in the %zu matching done runs", what, s->nruns);
        goto out;
    }
    size_t lines = 0;
    for (size_t i = 0; i < ng; i++)
        lines += g[i].n > 0;
    if ((rc = plot_series_check(c, "series (values of the --by key)", lines)) < 0) {
        rc = PLOT_NODATA;
        goto out;
    }
    lines = 0;
    for (size_t i = 0; i < ng; i++) {
        if (!g[i].n) continue;
        qsort(g[i].v, g[i].n, sizeof *g[i].v, cmp_dbl);
        snprintf(fname[lines], sizeof fname[0], "fct_%zu.csv", i);
        FILE *d = plot_file(c, fname[lines]);
        if (!d) {
            rc = PLOT_FAIL;
            goto out;
        }
        fprintf(d, "fct_us,fraction\n");
        size_t m = g[i].n < CDF_POINTS ? g[i].n : CDF_POINTS;
        fprintf(d, "%.6f,0\n", g[i].v[0]);
        for (size_t k = 0; k < m; k++) {
            size_t idx = (k + 1) * g[i].n / m - 1;
            fprintf(d, "%.6f,%.6f\n", g[i].v[idx], (double)(idx + 1) / (double)g[i].n);
        }
        if (fclose(d) != 0) {
            rc = err_set(c->e, "%s/%s: cannot write", c->o->dir, fname[lines]);
            goto out;
        }
        titles[lines] = b.vals[0][i];
        files[lines] = fname[lines];
        lines++;
    }
    /* the note's first line: which flows */
    char first[512];
    size_t nused = 0;
    for (size_t i = 0; i < names.n; i++)
        nused += (size_t)phase_used[i];
    size_t len =
        (size_t)snprintf(first, sizeof first, "%s of phase%s ", what, nused > 1 ? "s" : "");
    for (size_t i = 0, k = 0; i < names.n && len < sizeof first; i++)
        if (phase_used[i])
            len += (size_t)snprintf(first + len, sizeof first - len, "%s%s", k++ ? ", " : "",
                                    names.name[i]);
    note = plot_note(c, &b, used, "fct");
    full = xmalloc(strlen(first) + strlen(note) + 2);
    sprintf(full, "%s\n%s", first, note);
    if (!(f = plot_script(c, "fct", full))) {
        rc = PLOT_FAIL;
        goto out;
    }
    plot_var_str(f, "keytitle", b.name[0]);
    plot_var_num(f, "nseries", (double)lines);
    plot_var_strs(f, "series", titles, lines);
    plot_var_strs(f, "files", files, lines);
    rc = plot_draw(c, f, "fct");
out:
    for (size_t i = 0; i < ng; i++)
        free(g[i].v);
    for (size_t i = 0; i < s->nruns; i++) {
        free(ph[i].start);
        free(ph[i].name);
    }
    free(ph);
    free(g);
    free(gph);
    free(used);
    free(titles);
    free(files);
    free(fname);
    free(note);
    free(full);
    plot_by_free(&b);
    return rc;
}
