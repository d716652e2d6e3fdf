/* plot.h - `moesim plot KIND`: figures for papers from the results database.
 *
 * A figure reads the database (results/), writes its data as CSV (libcsv)
 * into the output directory, then writes DIR/KIND.gp: the figure's numbers
 * and labels as gnuplot variables, followed by the shipped scripts
 * plots/style.gp and plots/KIND.gp (found at run time, plot_script.c), and
 * runs gnuplot on it there (posix_spawn, no shell), which draws KIND.png
 * (pngcairo) and KIND.pdf (pdfcairo). `gnuplot KIND.gp` in DIR draws it
 * again. Figures are black and white: dash types, point types and fill
 * patterns tell the series apart. Each says what it filtered (--where) and
 * what it pooled (every parameter with several values among the runs that
 * --by does not split).
 *
 * plots/ includes results/ (reading rows through results/cursor.h) and
 * base/; nothing outside plots/ includes it but the CLI (app/cmd_plot.c,
 * which reads the command line into struct plot_opts) and the tests.
 */
#ifndef MOESIM_PLOT_H
#define MOESIM_PLOT_H

#include <stdint.h>
#include <stdio.h>

#include "results/query.h"
#include "results/res.h"

/* Returned by a figure: 0, PLOT_NODATA (the runs lack its data, or bad
 * input: exit 2) or PLOT_FAIL (gnuplot or I/O failed: exit 1); e says why. */
enum { PLOT_NODATA = -1, PLOT_FAIL = -2 };

/* What `moesim plot` was asked for. */
struct plot_opts {
    const char *dir;          /* output directory */
    const char *by;           /* --by KEY[,KEY2], or NULL: the figure's default */
    const char *size;         /* "column" (3.3 in wide, the default) or "page" */
    const char *const *where; /* --where section.key=value */
    size_t nwhere;
    int64_t run;       /* --run (heatmap, timeline), or 0 */
    const char *phase; /* --phase (fct), or NULL: every network phase */
    const char *flows; /* --flows network|nvlink|all (fct), or NULL: network */
};

/* Draws figure `kind` (cct, fct, moe, heatmap, gpu_load, timeline, or 1-6) of the done
 * runs matching o->where into o->dir. Returns 0, PLOT_NODATA or PLOT_FAIL
 * (e set). */
int plot_make(struct res_db *db, const char *kind, const struct plot_opts *o, struct err *e);
/* One line per figure kind: its number, name and what it shows. */
void plot_print_kinds(FILE *f);

/* The `moesim plot` subcommand (argv[0] the name; exit status 0, 1 or 2). */
int plot_cli(int argc, char **argv);

/* ---- inside the module: what the figures (plot_KIND.c) share ---- */

struct plot_ctx {
    struct res_db *db;
    struct res_sel *sel; /* done runs matching --where */
    const struct plot_opts *o;
    const char *scripts; /* the folder holding style.gp and KIND.gp */
    struct err *e;
};

/* The runs split by --by (or the figure's default key): per run its value
 * index on each key, -1 where the run lacks the key. */
struct plot_by {
    size_t nkeys;
    int key[2];           /* res_sel key index, -1 when no run has the key */
    const char *name[2];  /* the keys */
    const char **vals[2]; /* their values among the runs, display order */
    size_t nvals[2];
    int *idx[2]; /* per run */
};

/* Reads --by (at most maxkeys keys), or def when --by is absent. A default
 * key no run has gives one value, `fallback`; a --by key no run has is an
 * error. Returns 0 or PLOT_NODATA with e set. */
int plot_by_init(struct plot_ctx *c, const char *def, size_t maxkeys, const char *fallback,
                 struct plot_by *b);
void plot_by_free(struct plot_by *b);
/* The figure's note: what it filtered and what its series (the --by
 * combinations) pool among the runs it drew (used[r] != 0; NULL: all), e.g.
 * "where transport.path=spray; pooled: sim.seed (1, 2)" (to free()). Also
 * says on stderr when a parameter other than sim.seed is pooled. */
char *plot_note(struct plot_ctx *c, const struct plot_by *b, const char *used, const char *kind);

/* A growing array of doubles. */
struct plot_vals {
    double *v;
    size_t n, cap;
};
void plot_vals_push(struct plot_vals *d, double x);

/* Opens DIR/name for writing; NULL with c->e set. */
FILE *plot_file(struct plot_ctx *c, const char *name);
/* Writes a text field of a CSV row (quoted by libcsv). */
void plot_csv_text(FILE *f, const char *s);
/* Median of v[0..n-1] (sorts v). */
double plot_median(double *v, size_t n);

/* Starts DIR/KIND.gp with the variables every figure sets (name, size,
 * note); the figure adds its own with plot_var_*, then plot_draw appends
 * plots/style.gp and plots/KIND.gp, runs gnuplot and checks that both
 * KIND.png and KIND.pdf were drawn. */
FILE *plot_script(struct plot_ctx *c, const char *kind, const char *note);
void plot_var_str(FILE *f, const char *name, const char *value);
void plot_var_num(FILE *f, const char *name, double v);
void plot_var_strs(FILE *f, const char *name, const char *const *v, size_t n);
int plot_draw(struct plot_ctx *c, FILE *script, const char *kind);
/* The folder of the shipped scripts: $MOESIM_PLOTS when set, else the
 * first of <the binary's folder>/plots, <the binary's folder>/../share/
 * moesim/plots and ./plots that holds style.gp. NULL with e naming every
 * place it looked. Returns a static string. */
const char *plot_scripts_dir(struct err *e);

/* The series a figure can tell apart in black and white (style.gp defines
 * that many line types; plot_series_check refuses more). */
#define PLOT_MAX_SERIES 12
int plot_series_check(struct plot_ctx *c, const char *what, size_t n);

/* Link utilisation cells (plot_heatbin.c): the bytes of samples, each
 * sent during (t - period, t], binned into cells [k w, (k + 1) w) of
 * [0, end): a sample whose period straddles cells splits its bytes by
 * overlap. cell_bytes[link * ncells + k] += the sample's share. */
struct plot_heatbin {
    int64_t period_ns, width_ns, end_ns;
    size_t ncells, nlinks;
    double *bytes; /* nlinks x ncells */
};
/* The cell width for at most max_cells cells over [0, end): the smallest
 * whole number of sample periods that fits, so that no period straddles
 * two cells and every cell but the last holds the same number of periods. */
int64_t plot_heatbin_width(int64_t period_ns, int64_t end_ns, size_t max_cells);
void plot_heatbin_init(struct plot_heatbin *h, int64_t period_ns, int64_t width_ns, int64_t end_ns,
                       size_t nlinks);
void plot_heatbin_add(struct plot_heatbin *h, int64_t t_ns, size_t link, double bytes);
/* The time cell k covers (the last one ends at end_ns). */
int64_t plot_heatbin_span(const struct plot_heatbin *h, size_t k);
void plot_heatbin_free(struct plot_heatbin *h);

int plot_cct(struct plot_ctx *c);
int plot_fct(struct plot_ctx *c);
int plot_moe(struct plot_ctx *c);
int plot_heatmap(struct plot_ctx *c);
int plot_gpu_load(struct plot_ctx *c);
int plot_timeline(struct plot_ctx *c);

#endif
