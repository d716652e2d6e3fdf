/* plot_gpu_load.c - figure 5, `moesim plot gpu_load`: per MoE layer, the
 * busiest GPU's tokens over the mean over GPUs (gpu_load table), a line per
 * value of the --by key (default placement.policy) at the median over its
 * runs. Data: gpu_load_G.csv per series G (layer, median, min, max, runs).
 * Script: plots/gpu_load.gp.
 */
#include "plots/plot.h"

#include <stdlib.h>
#include <string.h>

#include "results/cursor.h"

/* A value of one run at one layer. */
struct load_row {
    int g;
    int64_t layer;
    double v;
};

static int cmp_row(const void *a, const void *b)
{
    const struct load_row *x = a, *y = b;
    if (x->g != y->g) return x->g - y->g;
    return (x->layer > y->layer) - (x->layer < y->layer);
}

int plot_gpu_load(struct plot_ctx *c)
{
    const struct res_sel *s = c->sel;
    if (!res_has_table(c->db, "gpu_load"))
        return err_set(c->e, "%s: has no gpu_load table (an MoE workload writes it)",
                       res_path(c->db));
    struct plot_by b;
    if (plot_by_init(c, "placement.policy", 1, "all runs", &b) < 0) return PLOT_NODATA;
    struct load_row *rows = NULL;
    char *used = xcalloc(s->nruns + 1, 1);
    size_t n = 0, cap = 0;
    int rc = 0;
    char *note = NULL;
    const char **titles = NULL, **files = NULL;
    char(*names)[32] = NULL;
    FILE *f = NULL;
    double *v = NULL;
    struct res_cursor *st =
        res_cursor_open(c->db,
                        "SELECT run_id, layer, max(tokens), avg(tokens) FROM gpu_load"
                        " GROUP BY run_id, layer",
                        c->e);
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    while (res_cursor_next(st) == 1) {
        long r = res_sel_find(s, res_cursor_int(st, 0));
        double mean = res_cursor_double(st, 3);
        if (r < 0 || b.idx[0][r] < 0 || mean <= 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        used[r] = 1;
        rows[n++] = (struct load_row){b.idx[0][r], res_cursor_int(st, 1),
                                      (double)res_cursor_int(st, 2) / mean};
    }
    res_cursor_close(st);
    if (!n) {
        rc = err_set(c->e,
                     "no gpu_load rows in the %zu matching done runs (an MoE workload "
                     "writes them)",
                     s->nruns);
        goto out;
    }
    qsort(rows, n, sizeof *rows, cmp_row);
    size_t nseries = 0;
    for (size_t i = 0; i < n; i++)
        nseries += i == 0 || rows[i].g != rows[i - 1].g;
    if ((rc = plot_series_check(c, "series (values of the --by key)", nseries)) < 0) {
        rc = PLOT_NODATA;
        goto out;
    }
    titles = xcalloc(nseries, sizeof *titles);
    files = xcalloc(nseries, sizeof *files);
    names = xcalloc(nseries, sizeof *names);
    v = xcalloc(n, sizeof *v);
    int64_t lo = rows[0].layer, hi = rows[0].layer;
    size_t k = 0;
    for (size_t i = 0; i < n; k++) {
        int g = rows[i].g;
        snprintf(names[k], sizeof names[k], "gpu_load_%d.csv", g);
        titles[k] = b.vals[0][g];
        files[k] = names[k];
        FILE *d = plot_file(c, names[k]);
        if (!d) {
            rc = PLOT_FAIL;
            goto out;
        }
        fprintf(d, "layer,median,min,max,runs\n");
        while (i < n && rows[i].g == g) {
            int64_t layer = rows[i].layer;
            size_t m = 0;
            while (i < n && rows[i].g == g && rows[i].layer == layer)
                v[m++] = rows[i++].v;
            double med = plot_median(v, m);
            fprintf(d, "%lld,%.6f,%.6f,%.6f,%zu\n", (long long)layer, med, v[0], v[m - 1], m);
            if (layer < lo) lo = layer;
            if (layer > hi) hi = layer;
        }
        if (fclose(d) != 0) {
            rc = err_set(c->e, "%s/%s: cannot write", c->o->dir, names[k]);
            goto out;
        }
    }
    note = plot_note(c, &b, used, "gpu_load");
    if (!(f = plot_script(c, "gpu_load", note))) {
        rc = PLOT_FAIL;
        goto out;
    }
    plot_var_str(f, "keytitle", b.name[0]);
    plot_var_num(f, "nseries", (double)nseries);
    plot_var_strs(f, "series", titles, nseries);
    plot_var_strs(f, "files", files, nseries);
    plot_var_num(f, "first_layer", (double)lo);
    plot_var_num(f, "last_layer", (double)hi);
    rc = plot_draw(c, f, "gpu_load");
out:
    free(v);
    free(names);
    free(files);
    free(titles);
    free(note);
    free(rows);
    free(used);
    plot_by_free(&b);
    return rc;
}
