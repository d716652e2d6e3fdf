/* plot_kinds.c - the five figures of `moesim plot` (see plot.h):
 *   cct      network completion time / ideal per transport.path: median bar,
 *            min-max error bar over seeds (and other parameters --where leaves)
 *   fct      CDF of flow completion times per transport.path (flows table)
 *   moe      per layer, dispatch/compute/combine time stacked, one group of
 *            bars per placement.policy (phases with those names; the mean
 *            over iterations per run, the median over runs)
 *   heatmap  link utilisation, links x time, of one run (timeseries table)
 *   gpu_load max/mean tokens over GPUs per layer, a line per placement.policy
 * Each writes its data as CSV next to the figure (cct.csv, fct_G.csv,
 * moe_G.csv, heatmap.csv, gpu_load_G.csv, G = group number).
 */
#include "results/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/resdb.h"

/* ---- growing arrays of doubles ---- */

struct dvec {
    double *v;
    size_t n, cap;
};

static void dv_push(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->v = xrealloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n++] = x;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Dash types of a figure's series, all different for the first six (cairo
 * has five numbered ones); dt 3 (dotted) is kept for reference lines. */
static const char *series_dt(size_t i)
{
    static const char *const dt[] = {"1", "2", "4", "5", "(14,4)", "(2,3,8,3,2,8)"};
    return dt[i % 6];
}

static sqlite3_stmt *prep(struct plot_ctx *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(res_sqlite(c->db), sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(c->e, "%s: %s", res_path(c->db), sqlite3_errmsg(res_sqlite(c->db)));
        return NULL;
    }
    return st;
}

/* ---- 1: completion time over ideal per transport ---- */

int plot_cct(struct plot_ctx *c)
{
    const struct res_sel *s = c->sel;
    sqlite3_stmt *st = prep(c, "SELECT run_id, sum(CASE WHEN ideal_ns > 0 THEN cct_ns ELSE 0 END),"
                               " sum(CASE WHEN ideal_ns > 0 THEN ideal_ns ELSE 0 END)"
                               " FROM phases GROUP BY run_id");
    if (!st) return PLOT_FAIL;
    int *grp = xcalloc(s->nruns + 1, sizeof *grp);
    const char **labels;
    size_t ng = plot_groups(c, "transport.path", "all", grp, &labels);
    struct dvec *g = xcalloc(ng, sizeof *g);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long r = res_sel_find(s, sqlite3_column_int64(st, 0));
        double ideal = (double)sqlite3_column_int64(st, 2);
        if (r >= 0 && grp[r] >= 0 && ideal > 0)
            dv_push(&g[grp[r]], (double)sqlite3_column_int64(st, 1) / ideal);
    }
    sqlite3_finalize(st);
    int rc = 0;
    size_t bars = 0;
    FILE *d = plot_file(c, "cct.csv");
    if (!d) {
        rc = PLOT_FAIL;
        goto out;
    }
    fprintf(d, "transport,median,min,max,runs\n");
    for (size_t i = 0; i < ng; i++) {
        if (!g[i].n) continue;
        double med = plot_median(g[i].v, g[i].n);
        plot_csv_text(d, labels[i]);
        fprintf(d, ",%.6f,%.6f,%.6f,%zu\n", med, g[i].v[0], g[i].v[g[i].n - 1], g[i].n);
        bars++;
    }
    fclose(d);
    if (!bars) {
        rc = err_set(c->e, "none of the %zu matching done runs has network phases", s->nruns);
        goto out;
    }
    FILE *f = plot_script(c, "cct");
    if (!f) {
        rc = PLOT_FAIL;
        goto out;
    }
    fprintf(f,
            "set style fill pattern 4 border -1\nset boxwidth 0.6\n"
            "set xlabel 'transport (transport.path)'\n"
            "set ylabel 'network completion time / ideal bound'\n"
            "set yrange [0:*]\nset xrange [-0.6:%zu.4]\nset key outside top center horizontal\n"
            "plot 'cct.csv' skip 1 using 0:2:xtic(1) with boxes lc black "
            "title 'median over runs', \\\n"
            "     'cct.csv' skip 1 using 0:2:3:4 with yerrorbars pt 0 lw 1.5 dt 1 lc black "
            "title 'min-max', \\\n"
            "     1 with lines dt 3 lw 1.5 lc black title 'ideal bound'\n",
            bars - 1);
    rc = plot_run(c, f, "cct");
out:
    for (size_t i = 0; i < ng; i++)
        free(g[i].v);
    free(g);
    free(labels);
    free(grp);
    return rc;
}

/* ---- 2: CDF of flow completion times ---- */

#define CDF_POINTS 1000

int plot_fct(struct plot_ctx *c)
{
    const struct res_sel *s = c->sel;
    if (!res_has_table(c->db, "flows"))
        return err_set(c->e, "%s: has no flows table (run with output.flows = true)",
                       res_path(c->db));
    sqlite3_stmt *st = prep(c, "SELECT run_id, end_ns - start_ns FROM flows");
    if (!st) return PLOT_FAIL;
    int *grp = xcalloc(s->nruns + 1, sizeof *grp);
    const char **labels;
    size_t ng = plot_groups(c, "transport.path", "all", grp, &labels);
    struct dvec *g = xcalloc(ng, sizeof *g);
    int64_t last = -1;
    long r = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id != last) {
            r = res_sel_find(s, id);
            last = id;
        }
        if (r >= 0 && grp[r] >= 0) dv_push(&g[grp[r]], (double)sqlite3_column_int64(st, 1) / 1e3);
    }
    sqlite3_finalize(st);
    int rc = 0;
    FILE *f = NULL;
    size_t lines = 0;
    for (size_t i = 0; i < ng; i++) {
        if (!g[i].n) continue;
        qsort(g[i].v, g[i].n, sizeof *g[i].v, cmp_dbl);
        char name[64];
        snprintf(name, sizeof name, "fct_%zu.csv", i);
        FILE *d = plot_file(c, name);
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
        fclose(d);
        if (!f) {
            f = plot_script(c, "fct");
            if (!f) {
                rc = PLOT_FAIL;
                goto out;
            }
            fprintf(f, "set xlabel 'flow completion time (us)'\n"
                       "set ylabel 'fraction of flows (CDF)'\nset yrange [0:1.02]\n"
                       "set key outside top center horizontal\nplot ");
        }
        char lab[128];
        plot_label(labels[i], lab, sizeof lab);
        fprintf(f, "%s'%s' skip 1 using 1:2 with lines dt %s lw 2 lc black title '%s'",
                lines ? ", \\\n     " : "", name, series_dt(lines), lab);
        lines++;
    }
    if (!lines) {
        rc = err_set(c->e,
                     "no flow records in the %zu matching done runs (run with "
                     "output.flows = true)",
                     s->nruns);
        goto out;
    }
    fputc('\n', f);
    rc = plot_run(c, f, "fct");
    f = NULL;
out:
    if (f) fclose(f);
    for (size_t i = 0; i < ng; i++)
        free(g[i].v);
    free(g);
    free(labels);
    free(grp);
    return rc;
}

/* ---- 3: MoE step breakdown ---- */

static const char *const moe_phases[3] = {"dispatch", "compute", "combine"};
/* cairo fill patterns: diagonal hatch, empty, crosshatch */
static const int moe_pattern[3] = {5, 0, 1};

struct moe_row {
    int g;
    int64_t layer;
    int ph;
    double us;
};

static int cmp_moe(const void *a, const void *b)
{
    const struct moe_row *x = a, *y = b;
    if (x->g != y->g) return x->g - y->g;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    return x->ph - y->ph;
}

/* Per-layer rows of the selected runs for an MoE figure: the runs grouped
 * by placement.policy (grp, labels: plot_groups), rows sorted by group,
 * layer and phase. */
struct layer_rows {
    int *grp;
    const char **labels;
    struct moe_row *rows;
    size_t n;
};

/* Fills *lr from st, whose columns are run_id, layer, then what `conv`
 * turns into the row's phase and value (it returns 0 to leave the row out).
 * Returns 0, or the error "no WHAT in the N matching done runs" when no row
 * is left; free *lr with layer_rows_free either way. */
static int layer_rows_load(struct plot_ctx *c, sqlite3_stmt *st,
                           int (*conv)(sqlite3_stmt *st, int *ph, double *v), const char *what,
                           struct layer_rows *lr)
{
    const struct res_sel *s = c->sel;
    memset(lr, 0, sizeof *lr);
    lr->grp = xcalloc(s->nruns + 1, sizeof *lr->grp);
    plot_groups(c, "placement.policy", "all runs", lr->grp, &lr->labels);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        long r = res_sel_find(s, sqlite3_column_int64(st, 0));
        int ph;
        double v;
        if (r < 0 || lr->grp[r] < 0 || !conv(st, &ph, &v)) continue;
        if (lr->n == cap) {
            cap = cap ? 2 * cap : 256;
            lr->rows = xrealloc(lr->rows, cap * sizeof *lr->rows);
        }
        lr->rows[lr->n++] = (struct moe_row){lr->grp[r], sqlite3_column_int64(st, 1), ph, v};
    }
    sqlite3_finalize(st);
    if (!lr->n)
        return err_set(c->e, "no %s in the %zu matching done runs (an MoE workload writes them)",
                       what, s->nruns);
    qsort(lr->rows, lr->n, sizeof *lr->rows, cmp_moe);
    return 0;
}

static void layer_rows_free(struct layer_rows *lr)
{
    free(lr->rows);
    free(lr->labels);
    free(lr->grp);
}

/* Writes moe_G.csv for group g from rows[lo..hi) (sorted); layers whose
 * phases are missing get 0. */
static int moe_csv(struct plot_ctx *c, int g, const struct moe_row *rows, size_t lo, size_t hi)
{
    char name[64];
    snprintf(name, sizeof name, "moe_%d.csv", g);
    FILE *d = plot_file(c, name);
    if (!d) return PLOT_FAIL;
    fprintf(d, "layer,dispatch_us,compute_us,combine_us\n");
    double *v = xcalloc(hi - lo + 1, sizeof *v);
    for (size_t i = lo; i < hi;) {
        int64_t layer = rows[i].layer;
        double med[3] = {0, 0, 0};
        while (i < hi && rows[i].layer == layer) {
            int ph = rows[i].ph;
            size_t n = 0;
            while (i < hi && rows[i].layer == layer && rows[i].ph == ph)
                v[n++] = rows[i++].us;
            med[ph] = plot_median(v, n);
        }
        fprintf(d, "%lld,%.6f,%.6f,%.6f\n", (long long)layer, med[0], med[1], med[2]);
    }
    free(v);
    return fclose(d) == 0 ? 0 : PLOT_FAIL;
}

/* A phases row: its phase's index and its mean duration in us. */
static int moe_conv(sqlite3_stmt *st, int *ph, double *v)
{
    const char *name = (const char *)sqlite3_column_text(st, 2);
    int p = 0;
    while (p < 3 && strcmp(name, moe_phases[p]))
        p++;
    *ph = p;
    *v = sqlite3_column_double(st, 3) / 1e3;
    return 1;
}

int plot_moe(struct plot_ctx *c)
{
    sqlite3_stmt *st = prep(c, "SELECT run_id, layer, phase, avg(end_ns - start_ns) FROM phases"
                               " WHERE phase IN (?, ?, ?) GROUP BY run_id, layer, phase");
    if (!st) return PLOT_FAIL;
    for (int i = 0; i < 3; i++)
        sqlite3_bind_text(st, i + 1, moe_phases[i], -1, SQLITE_STATIC);
    struct layer_rows lr;
    int rc = layer_rows_load(c, st, moe_conv, "dispatch, compute or combine phases", &lr);
    const struct moe_row *rows = lr.rows;
    size_t n = lr.n;
    FILE *f = NULL;
    if (rc < 0) goto out;
    /* label every step-th layer so that many layers stay readable */
    int64_t maxlayer = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].layer > maxlayer) maxlayer = rows[i].layer;
    int step = 1;
    while ((maxlayer + 1) / step > 8)
        step *= 2;
    char xtic[96];
    snprintf(xtic, sizeof xtic, ":xtic(int($1) %% %d == 0 ? stringcolumn(1) : '')", step);
    f = plot_script(c, "moe");
    if (!f) {
        rc = PLOT_FAIL;
        goto out;
    }
    fprintf(f, "set style data histograms\nset style histogram rowstacked gap 1\n"
               "set style fill pattern border -1\nset boxwidth 0.8\n"
               "set xlabel 'MoE layer, grouped by placement policy (placement.policy)'\n"
               "set ylabel 'time per layer (us, median over runs)'\n"
               "set xtics font ',8'\nset key outside top center horizontal\nset yrange [0:*]\n"
               "plot ");
    int first = 1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && rows[j].g == rows[i].g)
            j++;
        if ((rc = moe_csv(c, rows[i].g, rows, i, j)) < 0) goto out;
        char lab[128];
        plot_label(lr.labels[rows[i].g], lab, sizeof lab);
        fprintf(f, "%snewhistogram '%s'", first ? "" : ", \\\n     ", lab);
        for (int p = 0; p < 3; p++) {
            fprintf(f,
                    ", \\\n     'moe_%d.csv' skip 1 using %d%s lc black dt 1 lw 1 fs pattern %d ",
                    rows[i].g, p + 2, p == 0 ? xtic : "", moe_pattern[p]);
            if (first)
                fprintf(f, "title '%s'", moe_phases[p]);
            else
                fprintf(f, "notitle");
        }
        first = 0;
        i = j;
    }
    fputc('\n', f);
    rc = plot_run(c, f, "moe");
    f = NULL;
out:
    if (f) fclose(f);
    layer_rows_free(&lr);
    return rc;
}

/* ---- 4: link utilisation heatmap ---- */

#define HEAT_BINS 300

/* The run to draw: --run (it must be selected), else the latest selected
 * run with samples. 0 when there is none. */
static int64_t heat_run(struct plot_ctx *c)
{
    if (c->run) {
        sqlite3_stmt *st = prep(c, "SELECT count(*) FROM timeseries WHERE run_id = ?");
        int64_t n = 0;
        if (st) {
            sqlite3_bind_int64(st, 1, c->run);
            if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        return n > 0 && res_sel_find(c->sel, c->run) >= 0 ? c->run : 0;
    }
    sqlite3_stmt *st = prep(c, "SELECT DISTINCT run_id FROM timeseries ORDER BY run_id DESC");
    int64_t id = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW)
        if (res_sel_find(c->sel, sqlite3_column_int64(st, 0)) >= 0) {
            id = sqlite3_column_int64(st, 0);
            break;
        }
    sqlite3_finalize(st);
    return id;
}

int plot_heatmap(struct plot_ctx *c)
{
    if (!res_has_table(c->db, "timeseries"))
        return err_set(c->e, "%s: has no timeseries table (run with output.sample_ns > 0)",
                       res_path(c->db));
    int64_t id = heat_run(c);
    if (!id) {
        if (c->run && res_sel_find(c->sel, c->run) >= 0)
            return err_set(c->e, "no link samples in run %lld (run with output.sample_ns > 0)",
                           (long long)c->run);
        if (c->run) return err_set(c->e, "run %lld is not a matching done run", (long long)c->run);
        return err_set(c->e,
                       "no link samples in the %zu matching done runs (run with "
                       "output.sample_ns > 0)",
                       c->sel->nruns);
    }
    int ks = res_sel_key(c->sel, "output.sample_ns");
    const char *pv = ks >= 0 ? res_sel_val(c->sel, (size_t)res_sel_find(c->sel, id), ks) : NULL;
    double period = pv ? strtod(pv, NULL) : 0;
    sqlite3_stmt *st = prep(c, "SELECT link, gbps FROM links WHERE run_id = ? ORDER BY link");
    if (!st) return PLOT_FAIL;
    sqlite3_bind_int64(st, 1, id);
    double *gbps = NULL;
    size_t nl = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t l = (size_t)sqlite3_column_int64(st, 0);
        if (l >= nl) {
            gbps = xrealloc(gbps, (l + 1) * sizeof *gbps);
            memset(gbps + nl, 0, (l + 1 - nl) * sizeof *gbps);
            nl = l + 1;
        }
        gbps[l] = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    int rc = 0;
    double *util = NULL;
    if (period <= 0 || nl == 0) {
        rc = err_set(c->e, "run %lld has samples but no links or no output.sample_ns",
                     (long long)id);
        goto out;
    }
    st = prep(c, "SELECT max(t_ns) FROM timeseries WHERE run_id = ?");
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    int64_t tmax = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    size_t ns = (size_t)llround((double)tmax / period), nb = ns < HEAT_BINS ? ns : HEAT_BINS;
    if (nb == 0) {
        rc = err_set(c->e, "run %lld has no complete sample period", (long long)id);
        goto out;
    }
    util = xcalloc(nb * nl, sizeof *util);
    st = prep(c, "SELECT t_ns, link, bytes FROM timeseries WHERE run_id = ?");
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t k = (size_t)llround((double)sqlite3_column_int64(st, 0) / period);
        size_t l = (size_t)sqlite3_column_int64(st, 1);
        if (k < 1 || k > ns || l >= nl || gbps[l] <= 0) continue;
        size_t b = (k - 1) * nb / ns;
        util[b * nl + l] += (double)sqlite3_column_int64(st, 2) * 8.0 / (gbps[l] * period);
    }
    sqlite3_finalize(st);
    FILE *d = plot_file(c, "heatmap.csv");
    if (!d) {
        rc = PLOT_FAIL;
        goto out;
    }
    double per_bin = (double)ns / (double)nb; /* samples per bin */
    fprintf(d, "t_us,link,util_pct\n");
    for (size_t b = 0; b < nb; b++)
        for (size_t l = 0; l < nl; l++)
            fprintf(d, "%.6f,%zu,%.4f\n", ((double)b + 0.5) * per_bin * period / 1e3, l,
                    100.0 * util[b * nl + l] / per_bin);
    fclose(d);
    FILE *f = plot_script(c, "heatmap");
    if (!f) {
        rc = PLOT_FAIL;
        goto out;
    }
    fprintf(f,
            "set palette gray negative\nset cbrange [0:100]\n"
            "set cblabel 'link utilisation (%%)'\nset xlabel 'time (us)'\n"
            "set ylabel 'link (links.link)'\nunset grid\n"
            "set title 'run %lld: bytes sent per %.0f ns sample / link capacity'\n"
            "set xrange [0:%.6f]\nset yrange [-0.5:%zu.5]\n%s"
            "plot 'heatmap.csv' skip 1 using 1:2:3 with image notitle\n",
            (long long)id, period, (double)ns * period / 1e3, nl - 1,
            nl <= 16 ? "set ytics 1\n" : "");
    rc = plot_run(c, f, "heatmap");
out:
    free(util);
    free(gbps);
    return rc;
}

/* ---- 5: GPU token load imbalance ---- */

/* A gpu_load row: the layer's busiest GPU over the mean (none when no GPU
 * has tokens). */
static int load_conv(sqlite3_stmt *st, int *ph, double *v)
{
    double mean = sqlite3_column_double(st, 3);
    *ph = 0;
    *v = mean > 0 ? (double)sqlite3_column_int64(st, 2) / mean : 0;
    return mean > 0;
}

int plot_gpu_load(struct plot_ctx *c)
{
    if (!res_has_table(c->db, "gpu_load"))
        return err_set(c->e, "%s: has no gpu_load table (an MoE workload writes it)",
                       res_path(c->db));
    sqlite3_stmt *st = prep(c, "SELECT run_id, layer, max(tokens), avg(tokens) FROM gpu_load"
                               " GROUP BY run_id, layer");
    if (!st) return PLOT_FAIL;
    struct layer_rows lr;
    int rc = layer_rows_load(c, st, load_conv, "gpu_load rows", &lr);
    const struct moe_row *rows = lr.rows;
    size_t n = lr.n;
    FILE *f = NULL;
    if (rc < 0) goto out;
    f = plot_script(c, "gpu_load");
    if (!f) {
        rc = PLOT_FAIL;
        goto out;
    }
    fprintf(f, "set xlabel 'MoE layer'\nset ylabel 'GPU token load, max / mean over GPUs'\n"
               "set yrange [0:*]\nset key outside top center horizontal\nplot ");
    size_t lines = 0;
    double *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n;) {
        int g = rows[i].g;
        char name[64];
        snprintf(name, sizeof name, "gpu_load_%d.csv", g);
        FILE *d = plot_file(c, name);
        if (!d) {
            rc = PLOT_FAIL;
            free(v);
            goto out;
        }
        fprintf(d, "layer,max_over_mean\n");
        while (i < n && rows[i].g == g) {
            int64_t layer = rows[i].layer;
            size_t m = 0;
            while (i < n && rows[i].g == g && rows[i].layer == layer)
                v[m++] = rows[i++].us;
            fprintf(d, "%lld,%.6f\n", (long long)layer, plot_median(v, m));
        }
        fclose(d);
        char lab[128];
        plot_label(lr.labels[g], lab, sizeof lab);
        fprintf(f,
                "%s'%s' skip 1 using 1:2 with linespoints dt %s pt %zu lw 1.5 lc black "
                "title '%s'",
                lines ? ", \\\n     " : "", name, series_dt(lines), lines % 7 + 1, lab);
        lines++;
    }
    free(v);
    fprintf(f, ", \\\n     1 with lines dt 3 lc black title 'balanced'\n");
    rc = plot_run(c, f, "gpu_load");
    f = NULL;
out:
    if (f) fclose(f);
    layer_rows_free(&lr);
    return rc;
}
