/* plot_moe.c - figure 3, `moesim plot moe`: where an MoE step's time goes.
 * Per run, the step's dispatch, compute and combine time. From the tasks
 * table (schema 5): per step, compute is the time a compute task runs, and
 * the time when only network tasks run is shared out between dispatch and
 * combine by how many of each run at that moment (so with overlap the parts
 * add up to the step's time, and what compute hides is not counted twice);
 * the mean over the run's steps. A run without task rows (an older schema,
 * output.tasks = false): per layer the mean over iterations of each phase's
 * duration, summed over the layers (which overcounts overlapped phases). A
 * stacked bar per value of the first --by key (default placement.policy)
 * at the mean over its runs of each part (so the parts add up to the mean
 * step), with a min-max error bar over the runs' totals; a second --by key
 * (e.g. workload.ep_mode) draws a cluster of bars per value. Data: moe.csv,
 * a row per bar (its x position, labels, the three parts, the total's min
 * and max, runs). Script: plots/moe.gp.
 */
#include "plots/plot.h"

#include <stdlib.h>
#include <string.h>

#include "results/cursor.h"

static const char *const moe_phases[3] = {"dispatch", "compute", "combine"};

/* One bar: sums over its runs. */
struct moe_bar {
    double part[3], lo, hi;
    size_t runs;
};

struct moe_ev {
    int64_t t;
    int p, d; /* phase index, +1 start / -1 end */
};

static int cmp_ev(const void *a, const void *b)
{
    const struct moe_ev *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->d > y->d) - (x->d < y->d); /* ends first */
}

/* One run's parts (ns per step) from its task intervals ev[0..n-1] (two
 * events a task), over `steps` steps. */
static void moe_parts(struct moe_ev *ev, size_t n, size_t steps, double *part)
{
    qsort(ev, n, sizeof *ev, cmp_ev);
    int cnt[3] = {0};
    for (size_t i = 0; i < n; i++) {
        if (i && ev[i].t > ev[i - 1].t) {
            double dt = (double)(ev[i].t - ev[i - 1].t);
            if (cnt[1] > 0)
                part[1] += dt;
            else if (cnt[0] + cnt[2] > 0) {
                part[0] += dt * cnt[0] / (cnt[0] + cnt[2]);
                part[2] += dt * cnt[2] / (cnt[0] + cnt[2]);
            }
        }
        cnt[ev[i].p] += ev[i].d;
    }
    for (int p = 0; p < 3; p++)
        part[p] /= (double)(steps ? steps : 1);
}

/* The parts of every selected run that has task rows (has[r] = 1). */
static int moe_from_tasks(struct plot_ctx *c, const struct plot_by *b, double *run, char *has)
{
    const struct res_sel *s = c->sel;
    struct res_cursor *st =
        res_cursor_open(c->db,
                        "SELECT run_id, phase, start_ns, end_ns, iter FROM tasks"
                        " WHERE phase IN (?, ?, ?) ORDER BY run_id, task",
                        c->e);
    if (!st) return -1;
    for (int i = 0; i < 3; i++)
        res_cursor_bind_text(st, i + 1, moe_phases[i]);
    struct moe_ev *ev = NULL;
    size_t n = 0, cap = 0, steps = 0;
    long cur = -1;
    int64_t last_iter = -1;
    for (;;) {
        int more = res_cursor_next(st) == 1;
        long r = more ? res_sel_find(s, res_cursor_int(st, 0)) : -2;
        if (r != cur) {
            if (cur >= 0 && n) {
                moe_parts(ev, n, steps, run + 3 * cur);
                has[cur] = 1;
            }
            cur = r;
            n = steps = 0;
            last_iter = -1;
        }
        if (!more) break;
        if (r < 0 || b->idx[0][r] < 0 || (b->nkeys > 1 && b->idx[1][r] < 0)) continue;
        const char *ph = res_cursor_text(st, 1);
        int p = 0;
        while (p < 2 && strcmp(ph, moe_phases[p]))
            p++;
        int64_t it = res_cursor_int(st, 4);
        if (it != last_iter) steps++, last_iter = it;
        if (n + 2 > cap) {
            cap = cap ? 2 * cap : 1024;
            ev = xrealloc(ev, cap * sizeof *ev);
        }
        ev[n++] = (struct moe_ev){res_cursor_int(st, 2), p, 1};
        ev[n++] = (struct moe_ev){res_cursor_int(st, 3), p, -1};
    }
    free(ev);
    return res_cursor_close(st);
}

int plot_moe(struct plot_ctx *c)
{
    const struct res_sel *s = c->sel;
    struct plot_by b;
    if (plot_by_init(c, "placement.policy", 2, "all runs", &b) < 0) return PLOT_NODATA;
    size_t nx = b.nvals[0], ncl = b.nkeys > 1 ? b.nvals[1] : 1;
    double *run = xcalloc(3 * s->nruns + 1, sizeof *run); /* per run, the three parts */
    char *has = xcalloc(s->nruns + 1, 1);
    struct moe_bar *bar = xcalloc(nx * ncl, sizeof *bar);
    int rc = 0;
    char *note = NULL;
    FILE *f = NULL;
    const char **clusters = NULL;
    double *cx = NULL;
    if (res_has_table(c->db, "tasks") && moe_from_tasks(c, &b, run, has) < 0) {
        rc = PLOT_FAIL;
        goto out;
    }
    struct res_cursor *st =
        res_cursor_open(c->db,
                        "SELECT run_id, phase, avg(end_ns - start_ns) FROM phases"
                        " WHERE phase IN (?, ?, ?) GROUP BY run_id, layer, phase",
                        c->e);
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    for (int i = 0; i < 3; i++)
        res_cursor_bind_text(st, i + 1, moe_phases[i]);
    while (res_cursor_next(st) == 1) {
        long r = res_sel_find(s, res_cursor_int(st, 0));
        const char *ph = res_cursor_text(st, 1);
        if (r < 0 || b.idx[0][r] < 0 || (b.nkeys > 1 && b.idx[1][r] < 0)) continue;
        if (has[r] == 1) continue; /* drawn from its tasks */
        int p = 0;
        while (p < 2 && strcmp(ph, moe_phases[p]))
            p++;
        run[3 * r + p] += res_cursor_double(st, 2);
        has[r] = 2;
    }
    res_cursor_close(st);
    size_t nruns = 0;
    double top = 0;
    for (size_t r = 0; r < s->nruns; r++) {
        if (!has[r]) continue;
        struct moe_bar *m = &bar[(size_t)b.idx[0][r] * ncl + (b.nkeys > 1 ? b.idx[1][r] : 0)];
        double tot = run[3 * r] + run[3 * r + 1] + run[3 * r + 2];
        for (int p = 0; p < 3; p++)
            m->part[p] += run[3 * r + p];
        m->lo = m->runs && m->lo < tot ? m->lo : tot;
        m->hi = m->runs && m->hi > tot ? m->hi : tot;
        m->runs++;
        nruns++;
        if (tot > top) top = tot;
    }
    if (!nruns) {
        rc = err_set(c->e,
                     "no dispatch, compute or combine phases in the %zu matching done runs (an MoE "
                     "workload writes them)",
                     s->nruns);
        goto out;
    }
    /* microseconds, or milliseconds for steps of 2 ms and more */
    double unit = top >= 2e6 ? 1e6 : 1e3;
    FILE *d = plot_file(c, "moe.csv");
    if (!d) {
        rc = PLOT_FAIL;
        goto out;
    }
    fprintf(d, "x,");
    plot_csv_text(d, b.name[0]);
    fputc(',', d);
    plot_csv_text(d, b.nkeys > 1 ? b.name[1] : "cluster");
    fprintf(d, ",dispatch,compute,combine,total_min,total_max,runs\n");
    /* bars left to right, cluster after cluster, a gap of one bar between */
    clusters = xcalloc(ncl + 1, sizeof *clusters);
    cx = xcalloc(ncl + 1, sizeof *cx);
    size_t nc = 0, nbars = 0, maxlab = 1;
    double x = 0;
    for (size_t k = 0; k < ncl; k++) {
        double first = -1;
        for (size_t i = 0; i < nx; i++) {
            struct moe_bar *m = &bar[i * ncl + k];
            if (!m->runs) continue;
            if (first < 0) first = x;
            fprintf(d, "%g,", x);
            plot_csv_text(d, b.vals[0][i]);
            fputc(',', d);
            plot_csv_text(d, b.nkeys > 1 ? b.vals[1][k] : "");
            for (int p = 0; p < 3; p++)
                fprintf(d, ",%.6f", m->part[p] / (double)m->runs / unit);
            fprintf(d, ",%.6f,%.6f,%zu\n", m->lo / unit, m->hi / unit, m->runs);
            if (strlen(b.vals[0][i]) > maxlab) maxlab = strlen(b.vals[0][i]);
            x += 1;
            nbars++;
        }
        if (first < 0) continue;
        clusters[nc] = b.nkeys > 1 ? b.vals[1][k] : "";
        cx[nc++] = (first + x - 1) / 2;
        x += 1;
    }
    if (fclose(d) != 0) {
        rc = err_set(c->e, "%s/moe.csv: cannot write", c->o->dir);
        goto out;
    }
    note = plot_note(c, &b, has, "moe");
    if (!(f = plot_script(c, "moe", note))) {
        rc = PLOT_FAIL;
        goto out;
    }
    plot_var_str(f, "xlabel", b.name[0]);
    plot_var_str(f, "ylabel", unit > 1e3 ? "MoE time / step (ms)" : "MoE time / step (us)");
    plot_var_num(f, "nbars", (double)nbars);
    plot_var_num(f, "maxlabel", (double)maxlab);
    plot_var_num(f, "nclusters", (double)(b.nkeys > 1 ? nc : 0));
    plot_var_strs(f, "clusters", clusters, nc);
    fprintf(f, "array cluster_x[%zu] = [", nc ? nc : 1);
    for (size_t k = 0; k < nc; k++)
        fprintf(f, "%s%g", k ? ", " : "", cx[k]);
    fprintf(f, "%s]\n", nc ? "" : "0");
    rc = plot_draw(c, f, "moe");
out:
    free(clusters);
    free(cx);
    free(note);
    free(bar);
    free(has);
    free(run);
    plot_by_free(&b);
    return rc;
}
