/* plot_cct.c - figure 1, `moesim plot cct`: per run, its network phases'
 * completion time over their ideal bound (sum of cct_ns over sum of
 * ideal_ns); a bar per value of the first --by key (default transport.path)
 * at the median over its runs, with a min-max error bar; a second --by key
 * splits each bar into a cluster, one patterned bar per value (the legend).
 * Data: cct.csv, a row per bar position: the first key's value, then per
 * series median,min,max,runs (NaN where no run has the combination).
 * Script: plots/cct.gp.
 */
#include "plots/plot.h"

#include <stdlib.h>
#include <string.h>

#include "results/cursor.h"

int plot_cct(struct plot_ctx *c)
{
    const struct res_sel *s = c->sel;
    struct plot_by b;
    if (plot_by_init(c, "transport.path", 2, "all runs", &b) < 0) return PLOT_NODATA;
    size_t nx = b.nvals[0], ns = b.nkeys > 1 ? b.nvals[1] : 1;
    struct plot_vals *cell = xcalloc(nx * ns, sizeof *cell);
    char *used = xcalloc(s->nruns + 1, 1);
    int rc = 0;
    FILE *d = NULL, *f = NULL;
    char *note = NULL;
    struct res_cursor *st =
        res_cursor_open(c->db,
                        "SELECT run_id, sum(CASE WHEN ideal_ns > 0 THEN cct_ns ELSE 0 "
                        "END), sum(CASE WHEN ideal_ns > 0 THEN ideal_ns ELSE 0 END)"
                        " FROM phases GROUP BY run_id",
                        c->e);
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    while (res_cursor_next(st) == 1) {
        long r = res_sel_find(s, res_cursor_int(st, 0));
        double ideal = (double)res_cursor_int(st, 2);
        if (r < 0 || ideal <= 0) continue;
        int x = b.idx[0][r], y = b.nkeys > 1 ? b.idx[1][r] : 0;
        if (x < 0 || y < 0) continue;
        plot_vals_push(&cell[(size_t)x * ns + (size_t)y], (double)res_cursor_int(st, 1) / ideal);
        used[r] = 1;
    }
    res_cursor_close(st);
    /* the positions and series that have data */
    int *xs = xcalloc(nx + 1, sizeof *xs), *ys = xcalloc(ns + 1, sizeof *ys);
    size_t bars = 0, series = 0;
    for (size_t x = 0; x < nx; x++)
        for (size_t y = 0; y < ns; y++)
            if (cell[x * ns + y].n) xs[x] = ys[y] = 1;
    for (size_t y = 0; y < ns; y++)
        series += (size_t)ys[y];
    for (size_t x = 0; x < nx; x++)
        bars += (size_t)xs[x];
    if (!bars) {
        rc = err_set(c->e, "none of the %zu matching done runs has network phases", s->nruns);
        goto free_xy;
    }
    if (series > 8) {
        rc = err_set(c->e, "%zu values of %s: a cluster of bars tells at most 8 apart", series,
                     b.name[1]);
        goto free_xy;
    }
    if (!(d = plot_file(c, "cct.csv"))) {
        rc = PLOT_FAIL;
        goto free_xy;
    }
    plot_csv_text(d, b.name[0]);
    const char **titles = xcalloc(ns + 1, sizeof *titles);
    size_t nt = 0;
    for (size_t y = 0; y < ns; y++) {
        if (!ys[y]) continue;
        static const char *const col[] = {"median", "min", "max", "runs"};
        for (int k = 0; k < 4; k++) {
            char h[512];
            if (b.nkeys > 1)
                snprintf(h, sizeof h, "%s=%s:%s", b.name[1], b.vals[1][y], col[k]);
            else
                snprintf(h, sizeof h, "%s", col[k]);
            fputc(',', d);
            plot_csv_text(d, h);
        }
        titles[nt++] = b.nkeys > 1 ? b.vals[1][y] : "median over runs";
    }
    fputc('\n', d);
    for (size_t x = 0; x < nx; x++) {
        if (!xs[x]) continue;
        plot_csv_text(d, b.vals[0][x]);
        for (size_t y = 0; y < ns; y++) {
            struct plot_vals *v = &cell[x * ns + y];
            if (!ys[y]) continue;
            if (!v->n) {
                fprintf(d, ",NaN,NaN,NaN,0");
                continue;
            }
            double med = plot_median(v->v, v->n);
            fprintf(d, ",%.6f,%.6f,%.6f,%zu", med, v->v[0], v->v[v->n - 1], v->n);
        }
        fputc('\n', d);
    }
    if (fclose(d) != 0) {
        rc = err_set(c->e, "%s/cct.csv: cannot write", c->o->dir);
        goto free_titles;
    }
    note = plot_note(c, &b, used, "cct");
    if (!(f = plot_script(c, "cct", note))) {
        rc = PLOT_FAIL;
        goto free_titles;
    }
    char xlabel[512];
    snprintf(xlabel, sizeof xlabel, "%s", b.name[0]);
    plot_var_str(f, "xlabel", xlabel);
    plot_var_str(f, "keytitle", b.nkeys > 1 ? b.name[1] : "");
    size_t maxlab = 1;
    for (size_t x = 0; x < nx; x++)
        if (xs[x] && strlen(b.vals[0][x]) > maxlab) maxlab = strlen(b.vals[0][x]);
    plot_var_num(f, "nbars", (double)bars);
    plot_var_num(f, "maxlabel", (double)maxlab);
    plot_var_num(f, "nseries", (double)nt);
    plot_var_strs(f, "series", titles, nt);
    rc = plot_draw(c, f, "cct");
free_titles:
    free(titles);
free_xy:
    free(xs);
    free(ys);
out:
    for (size_t i = 0; i < nx * ns; i++)
        free(cell[i].v);
    free(cell);
    free(used);
    free(note);
    plot_by_free(&b);
    return rc;
}
