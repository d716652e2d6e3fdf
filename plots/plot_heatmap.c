/* plot_heatmap.c - figure 4, `moesim plot heatmap`: link utilisation of one
 * run (--run, else the latest matching run with samples), links x time.
 * The time axis is cut into cells of a whole number of sample periods (at
 * most HEAT_CELLS of them, plot_heatbin.c); a cell is the bytes the link
 * sent in it over its capacity x the cell's width. Rows are the links
 * grouped by kind (host_up, host_down, leaf_up, spine_down, nvl_up,
 * nvl_down, then any other kind), by link id within a kind. The title names
 * the run by the parameters that vary among the database's done runs.
 * Data: heatmap.csv (a row per cell: t_us, the cell's middle; row; link;
 * t0_ns, t1_ns; bytes; util_pct) and heatmap_links.csv (row, link, kind,
 * src, dst, gbps). Script: plots/heatmap.gp.
 */
#include "plots/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/cursor.h"

#define HEAT_CELLS 300

/* The run to draw: --run (it must be selected), else the latest selected
 * run with samples. 0 when there is none. */
static int64_t heat_run(struct plot_ctx *c)
{
    if (c->o->run) {
        struct res_cursor *st =
            res_cursor_open(c->db, "SELECT count(*) FROM timeseries WHERE run_id = ?", c->e);
        int64_t n = 0;
        if (st) {
            res_cursor_bind_int(st, 1, c->o->run);
            if (res_cursor_next(st) == 1) n = res_cursor_int(st, 0);
            res_cursor_close(st);
        }
        return n > 0 && res_sel_find(c->sel, c->o->run) >= 0 ? c->o->run : 0;
    }
    struct res_cursor *st =
        res_cursor_open(c->db, "SELECT DISTINCT run_id FROM timeseries ORDER BY run_id DESC", c->e);
    int64_t id = 0;
    while (st && res_cursor_next(st) == 1)
        if (res_sel_find(c->sel, res_cursor_int(st, 0)) >= 0) {
            id = res_cursor_int(st, 0);
            break;
        }
    res_cursor_close(st);
    return id;
}

struct heat_link {
    int64_t link;
    char kind[32], src[32], dst[32];
    double gbps;
    int order; /* of its kind */
};

static int heat_kind_order(const char *kind)
{
    static const char *const kinds[] = {"host_up",    "host_down", "leaf_up",
                                        "spine_down", "nvl_up",    "nvl_down"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(kind, kinds[i])) return i;
    return 6;
}

static int cmp_link(const void *a, const void *b)
{
    const struct heat_link *x = a, *y = b;
    if (x->order != y->order) return x->order - y->order;
    int k = strcmp(x->kind, y->kind);
    if (k) return k;
    return (x->link > y->link) - (x->link < y->link);
}

/* "run ID: key=value, ..." over the parameters that vary among the
 * database's done runs (sim.seed included; output.* left out). */
static void heat_title(struct plot_ctx *c, int64_t id, char *out, size_t n)
{
    size_t len = (size_t)snprintf(out, n, "run %lld", (long long)id);
    struct res_sel *all;
    struct err e;
    if (res_select(c->db, 1, NULL, 0, &all, &e) < 0) return;
    long r = res_sel_find(all, id);
    int first = 1;
    for (size_t k = 0; r >= 0 && k < all->nkeys && len < n; k++) {
        if (!strncmp(all->keys[k], "output.", 7)) continue;
        const char **v;
        size_t nv = res_sel_values(all, (int)k, &v);
        free(v);
        const char *val = res_sel_val(all, (size_t)r, (int)k);
        if (nv < 2 || !val) continue;
        len +=
            (size_t)snprintf(out + len, n - len, "%s%s=%s", first ? ": " : ", ", all->keys[k], val);
        first = 0;
    }
    res_sel_free(all);
}

int plot_heatmap(struct plot_ctx *c)
{
    if (!res_has_table(c->db, "timeseries"))
        return err_set(c->e, "%s: has no timeseries table (run with output.sample_ns > 0)",
                       res_path(c->db));
    if (c->o->by && *c->o->by)
        return err_set(c->e, "--by %s: the heatmap draws one run (pick it with --run)", c->o->by);
    int64_t id = heat_run(c);
    if (!id) {
        if (c->o->run && res_sel_find(c->sel, c->o->run) >= 0)
            return err_set(c->e, "no link samples in run %lld (run with output.sample_ns > 0)",
                           (long long)c->o->run);
        if (c->o->run)
            return err_set(c->e, "run %lld is not a matching done run", (long long)c->o->run);
        return err_set(c->e,
                       "no link samples in the %zu matching done runs (run with "
                       "output.sample_ns > 0)",
                       c->sel->nruns);
    }
    int ks = res_sel_key(c->sel, "output.sample_ns");
    const char *pv = ks >= 0 ? res_sel_val(c->sel, (size_t)res_sel_find(c->sel, id), ks) : NULL;
    int64_t period = pv ? strtoll(pv, NULL, 10) : 0;
    struct res_cursor *st = res_cursor_open(
        c->db, "SELECT link, kind, src, dst, gbps FROM links WHERE run_id = ? ORDER BY link", c->e);
    if (!st) return PLOT_FAIL;
    res_cursor_bind_int(st, 1, id);
    struct heat_link *ln = NULL;
    size_t nl = 0, cap = 0;
    int64_t maxlink = -1;
    while (res_cursor_next(st) == 1) {
        if (res_cursor_double(st, 4) <= 0) continue;
        if (nl == cap) {
            cap = cap ? 2 * cap : 64;
            ln = xrealloc(ln, cap * sizeof *ln);
        }
        struct heat_link *l = &ln[nl++];
        memset(l, 0, sizeof *l);
        l->link = res_cursor_int(st, 0);
        for (int i = 0; i < 3; i++) {
            const char *t = res_cursor_text(st, 1 + i);
            snprintf(i == 0 ? l->kind : i == 1 ? l->src : l->dst, 32, "%s", t ? t : "");
        }
        l->gbps = res_cursor_double(st, 4);
        l->order = heat_kind_order(l->kind);
        if (l->link > maxlink) maxlink = l->link;
    }
    res_cursor_close(st);
    int rc = 0;
    long *row_of = NULL; /* link id -> row, -1 */
    struct plot_heatbin h = {0};
    FILE *f = NULL;
    if (period <= 0 || nl == 0) {
        rc = err_set(c->e, "run %lld has samples but no links or no output.sample_ns",
                     (long long)id);
        goto out;
    }
    qsort(ln, nl, sizeof *ln, cmp_link);
    row_of = xmalloc((size_t)(maxlink + 1) * sizeof *row_of);
    for (int64_t i = 0; i <= maxlink; i++)
        row_of[i] = -1;
    for (size_t i = 0; i < nl; i++)
        row_of[ln[i].link] = (long)i;
    st = res_cursor_open(c->db, "SELECT max(t_ns) FROM timeseries WHERE run_id = ?", c->e);
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    res_cursor_bind_int(st, 1, id);
    int64_t tend = res_cursor_next(st) == 1 ? res_cursor_int(st, 0) : 0;
    res_cursor_close(st);
    if (tend <= 0) {
        rc = err_set(c->e, "run %lld has no complete sample period", (long long)id);
        goto out;
    }
    /* cells end at the last sample, so no sample's period reaches past them */
    plot_heatbin_init(&h, period, plot_heatbin_width(period, tend, HEAT_CELLS), tend, nl);
    st = res_cursor_open(c->db, "SELECT t_ns, link, bytes FROM timeseries WHERE run_id = ?", c->e);
    if (!st) {
        rc = PLOT_FAIL;
        goto out;
    }
    res_cursor_bind_int(st, 1, id);
    while (res_cursor_next(st) == 1) {
        int64_t l = res_cursor_int(st, 1);
        if (l < 0 || l > maxlink || row_of[l] < 0) continue;
        plot_heatbin_add(&h, res_cursor_int(st, 0), (size_t)row_of[l],
                         (double)res_cursor_int(st, 2));
    }
    res_cursor_close(st);
    FILE *d = plot_file(c, "heatmap_links.csv");
    if (!d) {
        rc = PLOT_FAIL;
        goto out;
    }
    fprintf(d, "row,link,kind,src,dst,gbps\n");
    for (size_t i = 0; i < nl; i++) {
        fprintf(d, "%zu,%lld,", i, (long long)ln[i].link);
        plot_csv_text(d, ln[i].kind);
        fputc(',', d);
        plot_csv_text(d, ln[i].src);
        fputc(',', d);
        plot_csv_text(d, ln[i].dst);
        fprintf(d, ",%g\n", ln[i].gbps);
    }
    if (fclose(d) != 0 || !(d = plot_file(c, "heatmap.csv"))) {
        rc = err_set(c->e, "%s/heatmap_links.csv: cannot write", c->o->dir);
        goto out;
    }
    /* ms on the axis for runs of 10 ms and more */
    double tunit = tend >= 10000000 ? 1e6 : 1e3;
    fprintf(d, "t_%s,row,link,t0_ns,t1_ns,bytes,util_pct\n", tunit > 1e3 ? "ms" : "us");
    for (size_t k = 0; k < h.ncells; k++) {
        int64_t t0 = (int64_t)k * h.width_ns, w = plot_heatbin_span(&h, k);
        for (size_t i = 0; i < nl; i++) {
            double bytes = h.bytes[i * h.ncells + k];
            double pct = 100.0 * bytes * 8.0 / (ln[i].gbps * (double)w);
            fprintf(d, "%.6f,%zu,%lld,%lld,%lld,%.3f,%.4f\n",
                    ((double)t0 + 0.5 * (double)h.width_ns) / tunit, i, (long long)ln[i].link,
                    (long long)t0, (long long)(t0 + w), bytes, pct);
        }
    }
    if (fclose(d) != 0) {
        rc = err_set(c->e, "%s/heatmap.csv: cannot write", c->o->dir);
        goto out;
    }
    /* the rows' groups: kind, first row, number of rows */
    const char **gname = xcalloc(nl, sizeof *gname);
    double *gfirst = xcalloc(nl, sizeof *gfirst), *gcount = xcalloc(nl, sizeof *gcount);
    size_t ng = 0;
    for (size_t i = 0; i < nl; i++) {
        if (!ng || strcmp(gname[ng - 1], ln[i].kind)) {
            gname[ng] = ln[i].kind;
            gfirst[ng++] = (double)i;
        }
        gcount[ng - 1]++;
    }
    char title[1024], cell[128];
    heat_title(c, id, title, sizeof title);
    if (h.width_ns % 1000 == 0)
        snprintf(cell, sizeof cell, "%lld us", (long long)(h.width_ns / 1000));
    else
        snprintf(cell, sizeof cell, "%.3f us", (double)h.width_ns / 1e3);
    char note[1400];
    snprintf(note, sizeof note, "%s\na cell: %s (%lld sample%s of %lld ns)", title, cell,
             (long long)(h.width_ns / period), h.width_ns / period > 1 ? "s" : "",
             (long long)period);
    if (!(f = plot_script(c, "heatmap", note))) {
        rc = PLOT_FAIL;
        goto free_groups;
    }
    plot_var_str(f, "cblabel", "link utilisation (%)");
    plot_var_str(f, "xlabel", tunit > 1e3 ? "time (ms)" : "time (us)");
    plot_var_num(f, "tend", (double)tend / tunit);
    plot_var_num(f, "nrows", (double)nl);
    plot_var_num(f, "ngroups", (double)ng);
    plot_var_strs(f, "group_kind", gname, ng);
    fprintf(f, "array group_first[%zu] = [", ng);
    for (size_t i = 0; i < ng; i++)
        fprintf(f, "%s%g", i ? ", " : "", gfirst[i]);
    fprintf(f, "]\narray group_rows[%zu] = [", ng);
    for (size_t i = 0; i < ng; i++)
        fprintf(f, "%s%g", i ? ", " : "", gcount[i]);
    fprintf(f, "]\n");
    /* few rows: each named by its ends */
    size_t nnames = nl <= 24 ? nl : 0;
    char(*rn)[72] = xcalloc(nnames + 1, sizeof *rn);
    const char **rp = xcalloc(nnames + 1, sizeof *rp);
    for (size_t i = 0; i < nnames; i++) {
        snprintf(rn[i], sizeof rn[i], "%s>%s", ln[i].src, ln[i].dst);
        rp[i] = rn[i];
    }
    plot_var_num(f, "nnames", (double)nnames);
    plot_var_strs(f, "row_name", rp, nnames);
    free(rp);
    free(rn);
    rc = plot_draw(c, f, "heatmap");
free_groups:
    free(gname);
    free(gfirst);
    free(gcount);
out:
    plot_heatbin_free(&h);
    free(row_of);
    free(ln);
    return rc;
}
