/* plot_select.c - what the figures share about the runs they draw (see
 * plot.h): the split by --by, the note saying what a figure filtered and
 * pooled, and small helpers (CSV text, median, statements).
 */
#include "plots/plot.h"

#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "results/cursor.h"

double plot_median(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: small inputs */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void plot_vals_push(struct plot_vals *d, double x)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->v = xrealloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n++] = x;
}

void plot_csv_text(FILE *f, const char *s)
{
    csv_fwrite(f, s, strlen(s));
}

int plot_series_check(struct plot_ctx *c, const char *what, size_t n)
{
    if (n <= PLOT_MAX_SERIES) return 0;
    return err_set(c->e,
                   "%zu %s: a black-and-white figure tells at most %d apart (narrow the runs "
                   "with --where)",
                   n, what, PLOT_MAX_SERIES);
}

/* One key of b: its values and each run's index among them. */
static void by_key(struct plot_ctx *c, struct plot_by *b, size_t k, const char *key,
                   const char *fallback)
{
    const struct res_sel *s = c->sel;
    b->name[k] = key;
    b->key[k] = res_sel_key(s, key);
    b->idx[k] = xcalloc(s->nruns + 1, sizeof *b->idx[k]);
    if (b->key[k] < 0) { /* a default key no run has: one group */
        b->vals[k] = xcalloc(1, sizeof *b->vals[k]);
        b->vals[k][0] = fallback;
        b->nvals[k] = 1;
        return;
    }
    b->nvals[k] = res_sel_values(s, b->key[k], &b->vals[k]);
    for (size_t r = 0; r < s->nruns; r++) {
        const char *v = res_sel_val(s, r, b->key[k]);
        b->idx[k][r] = -1;
        for (size_t g = 0; v && g < b->nvals[k]; g++)
            if (b->vals[k][g] == v) b->idx[k][r] = (int)g;
    }
}

int plot_by_init(struct plot_ctx *c, const char *def, size_t maxkeys, const char *fallback,
                 struct plot_by *b)
{
    memset(b, 0, sizeof *b);
    b->key[0] = b->key[1] = -1;
    static char keys[2][256]; /* the --by keys, for b->name */
    const char *by = c->o->by;
    if (!by || !*by) {
        b->nkeys = 1;
        by_key(c, b, 0, def, fallback);
        return 0;
    }
    const char *p = by;
    for (size_t k = 0; *p; k++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (k == maxkeys) {
            plot_by_free(b);
            return err_set(c->e, "--by %s: this figure splits by at most %zu key%s", by, maxkeys,
                           maxkeys > 1 ? "s" : "");
        }
        snprintf(keys[k], sizeof keys[k], "%.*s", (int)len, p);
        if (res_sel_key(c->sel, keys[k]) < 0) {
            plot_by_free(b);
            return err_set(c->e, "--by %s: unknown parameter %s (no run has it)", by, keys[k]);
        }
        by_key(c, b, k, keys[k], fallback);
        b->nkeys = k + 1;
        p += len + (comma != NULL);
    }
    return 0;
}

void plot_by_free(struct plot_by *b)
{
    for (size_t k = 0; k < 2; k++) {
        free(b->vals[k]);
        free(b->idx[k]);
        b->vals[k] = NULL;
        b->idx[k] = NULL;
    }
}

char *plot_note(struct plot_ctx *c, const struct plot_by *b, const char *used, const char *kind)
{
    size_t n1 = b->nkeys > 1 ? b->nvals[1] : 1;
    size_t *cell = xcalloc(c->sel->nruns + 1, sizeof *cell);
    for (size_t r = 0; r < c->sel->nruns; r++) {
        int x = b->idx[0][r], y = b->nkeys > 1 ? b->idx[1][r] : 0;
        cell[r] = x < 0 || y < 0 || (used && !used[r]) ? SIZE_MAX : (size_t)x * n1 + (size_t)y;
    }
    char *pooled = res_sel_pooled(c->sel, cell, b->nvals[0] * n1);
    free(cell);
    size_t n = strlen(pooled) + 64;
    for (size_t i = 0; i < c->o->nwhere; i++)
        n += strlen(c->o->where[i]) + 2;
    char *note = xmalloc(n);
    size_t len = 0;
    for (size_t i = 0; i < c->o->nwhere; i++)
        len += (size_t)snprintf(note + len, n - len, "%s%s", i ? ", " : "where ", c->o->where[i]);
    if (*pooled)
        snprintf(note + len, n - len, "%spooled: %s", len ? "; " : "", pooled);
    else
        snprintf(note + len, n - len, "%snothing pooled", len ? "; " : "");
    /* say so when more than seeds is pooled: it is seldom what a figure means */
    int only_seed = !*pooled || (!strncmp(pooled, "sim.seed (", 10) && !strstr(pooled, "), "));
    if (!only_seed)
        fprintf(stderr,
                "moesim plot: %s pools %s (split them with --by or fix them with --where)\n", kind,
                pooled);
    free(pooled);
    return note;
}
