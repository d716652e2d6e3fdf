/* plot_moe.c - figure 3, `moesim plot moe`: where an MoE step's time goes.
 * Per run, the step's dispatch, compute and combine time: per layer the mean
 * over iterations of each phase's duration, summed over the layers. A
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
        int p = 0;
        while (p < 2 && strcmp(ph, moe_phases[p]))
            p++;
        run[3 * r + p] += res_cursor_double(st, 2);
        has[r] = 1;
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
