/* report.c - the table of `moesim report` (parsed by app/cmd_report.c): one
 * metric over the runs of a database, grouped by swept parameters
 * (res_report, see res.h).
 *
 * Per run (done runs only) the metric is computed from its phases in one
 * grouped query: cct = the sum of cct_ns over network phases (ideal_ns > 0),
 * slowdown = that over the sum of their ideal_ns, step_time = the run's end
 * (max end_ns over all phases), exposed_comm = per step (iteration) the time
 * some network task runs and no compute task does, summed over the steps,
 * from the tasks table (res_steps_comm); for a run without task rows (an
 * older schema, output.tasks = false) the run's end less the time of its
 * compute rows (ideal_ns = 0), the same when the compute rows never overlap
 * one another and the step has no idle time (the MoE workload's); MoE runs only
 * (workload.stage, docs/moe-steps.md): tokens_per_s = GPUs x tokens_per_gpu x
 * steps (the distinct iterations of its rows) / the run's end, per_token_us =
 * the run's end / steps, what the run's line says. Runs are grouped by the --by keys
 * (the first gives the rows, the second the columns; by default every parameter with more than one
 * value among the selected runs except the seeds (sim.seed, workload.seed) and output.*, the last
 * of them giving the columns). A cell is the median over its runs (seeds and every unlisted
 * parameter: the header names those it pools), their min-max spread, the number of runs and, for
 * cct only, the median ratio to the ideal bound (slowdown is that ratio; step_time includes
 * compute, which the network-only bound does not).
 */
#include "results/res.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/query.h"
#include "results/resdb.h"

/* Per selected run: the metric and its ratio to ideal (NAN when absent). */
struct rep_val {
    double v, ratio;
};

static const char *const rep_metrics[] = {"cct",          "slowdown",     "step_time",
                                          "exposed_comm", "tokens_per_s", "per_token_us"};
#define REP_NMETRICS (sizeof rep_metrics / sizeof rep_metrics[0])

/* One run's task rows so far: its exposed communication, us, summed over
 * its steps (res_steps_comm). */
static double rep_exposed_of(const struct res_task *t, size_t n)
{
    size_t k = res_steps_comm(t, n, NULL, 0);
    struct res_step_comm *sc = xmalloc((k ? k : 1) * sizeof *sc);
    res_steps_comm(t, n, sc, k);
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += (double)sc[i].exposed_ps; /* ns here: the rows' unit */
    free(sc);
    return sum / 1e3;
}

/* exposed_comm from the tasks table, for the runs that have task rows (the
 * others keep the phases' value): network time when no compute runs. */
static int rep_exposed_tasks(struct res_db *db, const struct res_sel *s, struct rep_val *out,
                             struct err *e)
{
    static const char sql[] = "SELECT run_id, iter, kind, start_ns, end_ns FROM tasks"
                              " ORDER BY run_id, rowid";
    sqlite3 *sq = res_sqlite(db);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(sq, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "%s: cannot read tasks: %s", res_path(db), sqlite3_errmsg(sq));
    struct res_task *t = NULL;
    size_t n = 0, cap = 0;
    long cur = -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long r = res_sel_find(s, sqlite3_column_int64(st, 0));
        if (r != cur) {
            if (cur >= 0 && n) out[cur].v = rep_exposed_of(t, n);
            cur = r;
            n = 0;
        }
        if (r < 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            t = xrealloc(t, cap * sizeof *t);
        }
        const char *kind = (const char *)sqlite3_column_text(st, 2);
        t[n++] = (struct res_task){.iter = (uint32_t)sqlite3_column_int64(st, 1),
                                   .kind = kind && !strcmp(kind, "compute") ? RES_TASK_COMPUTE
                                                                            : RES_TASK_NETWORK,
                                   .start_ps = (simtime_t)sqlite3_column_int64(st, 3),
                                   .end_ps = (simtime_t)sqlite3_column_int64(st, 4)};
    }
    if (cur >= 0 && n) out[cur].v = rep_exposed_of(t, n);
    free(t);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, "%s: cannot read tasks: %s", res_path(db), sqlite3_errmsg(sq));
    return 0;
}

/* A step's tokens of selected run r: GPUs (topology.leaves x hosts_per_leaf)
 * x workload.tokens_per_gpu when it is an MoE run, else NAN. */
static double rep_step_tokens(const struct res_sel *s, size_t r)
{
    int kk = res_sel_key(s, "workload.kind"), kl = res_sel_key(s, "topology.leaves"),
        kh = res_sel_key(s, "topology.hosts_per_leaf"),
        kt = res_sel_key(s, "workload.tokens_per_gpu");
    if (kk < 0 || kl < 0 || kh < 0 || kt < 0) return NAN;
    const char *kind = res_sel_val(s, r, kk), *l = res_sel_val(s, r, kl),
               *h = res_sel_val(s, r, kh), *t = res_sel_val(s, r, kt);
    if (!kind || strcmp(kind, "moe") || !l || !h || !t) return NAN;
    return atof(l) * atof(h) * atof(t);
}

static int rep_metric_values(struct res_db *db, const struct res_sel *s, int metric,
                             struct rep_val *out, struct err *e)
{
    static const char sql[] = "SELECT run_id, sum(CASE WHEN ideal_ns > 0 THEN cct_ns ELSE 0 END),"
                              " sum(CASE WHEN ideal_ns > 0 THEN ideal_ns ELSE 0 END), max(end_ns),"
                              " sum(CASE WHEN ideal_ns = 0 THEN end_ns - start_ns ELSE 0 END),"
                              " count(DISTINCT iter) FROM phases GROUP BY run_id";
    sqlite3 *sq = res_sqlite(db);
    sqlite3_stmt *st;
    for (size_t i = 0; i < s->nruns; i++)
        out[i].v = out[i].ratio = NAN;
    if (sqlite3_prepare_v2(sq, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "%s: cannot read phases: %s", res_path(db), sqlite3_errmsg(sq));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long r = res_sel_find(s, sqlite3_column_int64(st, 0));
        if (r < 0) continue;
        double net = (double)sqlite3_column_int64(st, 1);
        double ideal = (double)sqlite3_column_int64(st, 2);
        double end = (double)sqlite3_column_int64(st, 3);
        double compute = (double)sqlite3_column_int64(st, 4);
        double steps = (double)sqlite3_column_int64(st, 5);
        if (metric >= 4) {
            /* MoE runs only: a step's tokens are GPUs x tokens_per_gpu */
            double tokens = rep_step_tokens(s, (size_t)r);
            if (!isnan(tokens) && end > 0 && steps > 0)
                out[r].v = metric == 4 ? tokens * steps / (end / 1e9) : end / 1e3 / steps;
        } else if (metric == 3) {
            out[r].v = (end - compute) / 1e3;
        } else if (metric == 2) {
            /* compute included: no ratio to the network-only bound */
            out[r].v = end / 1e3;
        } else if (ideal > 0) {
            out[r].v = metric == 0 ? net / 1e3 : net / ideal;
            out[r].ratio = net / ideal;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, "%s: cannot read phases: %s", res_path(db), sqlite3_errmsg(sq));
    if (metric == 3 && res_has_table(db, "tasks")) return rep_exposed_tasks(db, s, out, e);
    return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n-1] (sorts v). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The grouping: per run, its row and column (or -1 when it lacks a key). */
struct rep_axis {
    int keys[16];
    size_t nkeys;
    const char **vals[16]; /* per key, its distinct values in display order */
    size_t nvals[16];
    size_t n;      /* combinations that occur: rows (or columns) */
    char **label;  /* per combination */
    size_t *combo; /* per combination: its mixed-radix code, ascending */
};

static size_t rep_value_index(const struct rep_axis *a, size_t k, const char *v)
{
    for (size_t i = 0; i < a->nvals[k]; i++)
        if (a->vals[k][i] == v) return i;
    return 0;
}

/* Code of run r on axis a (mixed radix over the keys' value indices), or
 * SIZE_MAX when the run lacks one of the keys. */
static size_t rep_code(const struct res_sel *s, const struct rep_axis *a, size_t r)
{
    size_t code = 0;
    for (size_t k = 0; k < a->nkeys; k++) {
        const char *v = res_sel_val(s, r, a->keys[k]);
        if (!v) return SIZE_MAX;
        code = code * a->nvals[k] + rep_value_index(a, k, v);
    }
    return code;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Fills the axis' combinations that occur among the runs, in order. */
static void rep_axis_build(const struct res_sel *s, struct rep_axis *a, size_t *codes)
{
    for (size_t k = 0; k < a->nkeys; k++)
        a->nvals[k] = res_sel_values(s, a->keys[k], &a->vals[k]);
    size_t *sorted = xcalloc(s->nruns + 1, sizeof *sorted), n = 0;
    for (size_t r = 0; r < s->nruns; r++) {
        codes[r] = rep_code(s, a, r);
        if (codes[r] != SIZE_MAX) sorted[n++] = codes[r];
    }
    qsort(sorted, n, sizeof *sorted, cmp_size);
    a->combo = xcalloc(n + 1, sizeof *a->combo);
    a->label = xcalloc(n + 1, sizeof *a->label);
    a->n = 0;
    for (size_t i = 0; i < n; i++)
        if (a->n == 0 || a->combo[a->n - 1] != sorted[i]) a->combo[a->n++] = sorted[i];
    for (size_t c = 0; c < a->n; c++) {
        char buf[1024] = "";
        size_t code = a->combo[c], used = 0;
        size_t idx[16];
        for (size_t k = a->nkeys; k-- > 0;) {
            idx[k] = code % a->nvals[k];
            code /= a->nvals[k];
        }
        for (size_t k = 0; k < a->nkeys; k++)
            used += (size_t)snprintf(buf + used, used < sizeof buf ? sizeof buf - used : 0, "%s%s",
                                     k ? " " : "", a->vals[k][idx[k]]);
        a->label[c] = xstrdup(buf);
    }
    /* codes -> combination index */
    for (size_t r = 0; r < s->nruns; r++)
        if (codes[r] != SIZE_MAX) {
            size_t *p = bsearch(&codes[r], a->combo, a->n, sizeof *a->combo, cmp_size);
            codes[r] = (size_t)(p - a->combo);
        }
    free(sorted);
}

static void rep_axis_free(struct rep_axis *a)
{
    for (size_t k = 0; k < a->nkeys; k++)
        free(a->vals[k]);
    for (size_t c = 0; c < a->n; c++)
        free(a->label[c]);
    free(a->label);
    free(a->combo);
}

/* One cell's text. */
static char *rep_cell(const struct rep_val *v, const size_t *rows, const size_t *cols, size_t nruns,
                      size_t row, size_t col, int metric)
{
    double *x = xcalloc(nruns + 1, sizeof *x), *q = xcalloc(nruns + 1, sizeof *q);
    size_t n = 0, nq = 0;
    for (size_t r = 0; r < nruns; r++)
        if (rows[r] == row && cols[r] == col && !isnan(v[r].v)) {
            x[n++] = v[r].v;
            if (!isnan(v[r].ratio)) q[nq++] = v[r].ratio;
        }
    char buf[160];
    if (n == 0) {
        snprintf(buf, sizeof buf, "-");
    } else {
        double med = median(x, n), lo = x[0], hi = x[n - 1];
        const char *fmt = metric == 1   ? "%.4f [%.4f-%.4f]"
                          : metric == 4 ? "%.0f [%.0f-%.0f]"
                                        : "%.3f [%.3f-%.3f]";
        int len = snprintf(buf, sizeof buf, fmt, med, lo, hi);
        if (metric == 0 && nq)
            len += snprintf(buf + len, sizeof buf - (size_t)len, " x%.4f", median(q, nq));
        snprintf(buf + len, sizeof buf - (size_t)len, " n=%zu", n);
    }
    free(x);
    free(q);
    return xstrdup(buf);
}

/* Chooses the grouping keys: the --by list, or every swept parameter but
 * the seeds (sim.seed, workload.seed) and output.*. Fills rows and cols. */
static int rep_keys(const struct res_sel *s, const struct res_report_opts *o, struct rep_axis *rows,
                    struct rep_axis *cols, struct err *e)
{
    int keys[32];
    size_t n = 0;
    if (o->by && o->by[0]) {
        char *list = xstrdup(o->by), *save = NULL;
        for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
            int ki = res_sel_key(s, k);
            if (ki < 0) {
                err_set(e, "--by %s: unknown parameter %s (no run has it)", o->by, k);
                free(list);
                return -1;
            }
            if (n == 2) {
                err_set(e, "--by %s: at most two keys (rows, then columns)", o->by);
                free(list);
                return -1;
            }
            keys[n++] = ki;
        }
        free(list);
    } else {
        for (size_t k = 0; k < s->nkeys && n < 16; k++) {
            if (!strcmp(s->keys[k], "sim.seed") || !strcmp(s->keys[k], "workload.seed") ||
                !strncmp(s->keys[k], "output.", 7))
                continue;
            const char **v;
            size_t nv = res_sel_values(s, (int)k, &v);
            free(v);
            if (nv > 1) keys[n++] = (int)k;
        }
    }
    /* the last key gives the columns when there are two or more */
    for (size_t i = 0; i + 1 < n || (n == 1 && i == 0); i++)
        rows->keys[rows->nkeys++] = keys[i];
    if (n >= 2) cols->keys[cols->nkeys++] = keys[n - 1];
    return 0;
}

static void rep_print(FILE *f, const struct res_sel *s, const struct rep_axis *rows,
                      const struct rep_axis *cols, char **cells, const char *colname)
{
    size_t ncols = cols->nkeys ? cols->n : 1;
    char head[1024] = "";
    size_t used = 0;
    for (size_t k = 0; k < rows->nkeys; k++)
        used += (size_t)snprintf(head + used, used < sizeof head ? sizeof head - used : 0, "%s%s",
                                 k ? " " : "", s->keys[rows->keys[k]]);
    if (!rows->nkeys) snprintf(head, sizeof head, "(all runs)");
    if (cols->nkeys)
        snprintf(head + strlen(head), sizeof head - strlen(head), " \\ %s", s->keys[cols->keys[0]]);
    size_t nrows = rows->nkeys ? rows->n : 1;
    size_t w0 = strlen(head);
    for (size_t r = 0; r < nrows && rows->nkeys; r++)
        if (strlen(rows->label[r]) > w0) w0 = strlen(rows->label[r]);
    size_t *w = xcalloc(ncols, sizeof *w);
    for (size_t c = 0; c < ncols; c++) {
        w[c] = strlen(cols->nkeys ? cols->label[c] : colname);
        for (size_t r = 0; r < nrows; r++)
            if (strlen(cells[r * ncols + c]) > w[c]) w[c] = strlen(cells[r * ncols + c]);
    }
    /* every column padded to its width but the last (no trailing blanks) */
    fprintf(f, "%-*s", (int)w0, head);
    for (size_t c = 0; c < ncols; c++)
        fprintf(f, "  %-*s", c + 1 < ncols ? (int)w[c] : 0, cols->nkeys ? cols->label[c] : colname);
    fputc('\n', f);
    for (size_t r = 0; r < nrows; r++) {
        fprintf(f, "%-*s", (int)w0, rows->nkeys ? rows->label[r] : "all");
        for (size_t c = 0; c < ncols; c++)
            fprintf(f, "  %-*s", c + 1 < ncols ? (int)w[c] : 0, cells[r * ncols + c]);
        fputc('\n', f);
    }
    free(w);
}

int res_report(struct res_db *db, const struct res_report_opts *o, FILE *out, struct err *e)
{
    int metric = -1;
    const char *mname = o->metric ? o->metric : "cct";
    for (int m = 0; m < (int)REP_NMETRICS; m++)
        if (!strcmp(mname, rep_metrics[m])) metric = m;
    if (metric < 0)
        return err_set(e,
                       "--metric %s: expected cct, slowdown, step_time, exposed_comm, tokens_per_s "
                       "or per_token_us",
                       mname);
    struct res_sel *s;
    if (res_select(db, 1, o->where, o->nwhere, &s, e) < 0) return -1;
    struct rep_axis rows = {0}, cols = {0};
    struct rep_val *v = NULL;
    size_t *rc = NULL, *cc = NULL;
    char **cells = NULL;
    int ret = -1;
    if (rep_keys(s, o, &rows, &cols, e) < 0) goto out;
    if (s->nruns == 0) {
        err_set(e, "%s: no done runs match", res_path(db));
        goto out;
    }
    v = xcalloc(s->nruns, sizeof *v);
    if (rep_metric_values(db, s, metric, v, e) < 0) goto out;
    size_t have = 0;
    for (size_t r = 0; r < s->nruns; r++)
        have += !isnan(v[r].v);
    if (have == 0) {
        if (metric >= 4)
            err_set(e, "%s: none of the %zu matching done runs is an MoE run (workload.kind = moe)",
                    res_path(db), s->nruns);
        else
            err_set(e, "%s: none of the %zu matching done runs has network phases", res_path(db),
                    s->nruns);
        goto out;
    }
    rc = xcalloc(s->nruns, sizeof *rc);
    cc = xcalloc(s->nruns, sizeof *cc);
    rep_axis_build(s, &rows, rc);
    rep_axis_build(s, &cols, cc);
    size_t nrows = rows.nkeys ? rows.n : 1, ncols = cols.nkeys ? cols.n : 1;
    cells = xcalloc(nrows * ncols, sizeof *cells);
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++)
            cells[r * ncols + c] = rep_cell(v, rc, cc, s->nruns, r, c, metric);
    static const char *const what[] = {
        "cct = sum of network phases' completion time, us",
        "slowdown = network phases' completion time / ideal_ns",
        "step_time = run's end (max end_ns), us; compute included, so no ratio to ideal_ns "
        "(a network-only bound)",
        "exposed_comm = network time when no compute runs (tasks table; without one the run's "
        "end less its compute rows' time), us",
        "tokens_per_s = GPUs x workload.tokens_per_gpu x steps / the run's end (MoE runs; the "
        "prefill throughput)",
        "per_token_us = the run's end / steps (MoE runs; in decode a step makes one token per "
        "sequence: the latency per token), us"};
    fprintf(out, "%s: %zu done runs; %s\n", res_path(db), have, what[metric]);
    fprintf(out, "cell: median [min-max] over the cell's runs%s, n = runs\n",
            metric == 0 ? ", x = median ratio to ideal_ns" : "");
    size_t *cell = xcalloc(s->nruns + 1, sizeof *cell);
    for (size_t r = 0; r < s->nruns; r++)
        cell[r] =
            (rows.nkeys && rc[r] == SIZE_MAX) || (cols.nkeys && cc[r] == SIZE_MAX) || isnan(v[r].v)
                ? SIZE_MAX
                : (rows.nkeys ? rc[r] : 0) * ncols + (cols.nkeys ? cc[r] : 0);
    char *pooled = res_sel_pooled(s, cell, nrows * ncols);
    free(cell);
    fprintf(out, "cells pool: %s\n",
            *pooled ? pooled : "no parameter (a cell's runs share every parameter)");
    free(pooled);
    static const char *const colname[] = {"cct (us)",          "slowdown",     "step_time (us)",
                                          "exposed_comm (us)", "tokens_per_s", "per_token (us)"};
    rep_print(out, s, &rows, &cols, cells, colname[metric]);
    for (size_t i = 0; i < nrows * ncols; i++)
        free(cells[i]);
    ret = 0;
out:
    free(cells);
    free(rc);
    free(cc);
    free(v);
    rep_axis_free(&rows);
    rep_axis_free(&cols);
    res_sel_free(s);
    return ret;
}
