/* plot.h - inside the plot module: what the figure kinds (plot_kinds.c)
 * share with the command (plot.c).
 *
 * A figure reads the database, writes its data as CSV files (libcsv) into
 * the output directory, writes a gnuplot script there and runs gnuplot on it
 * (posix_spawn, no shell) in that directory, which draws NAME.png (pngcairo)
 * and NAME.pdf (pdfcairo). Figures are black and white: dash types, point
 * types and fill patterns tell the series apart.
 */
#ifndef MOESIM_PLOT_H
#define MOESIM_PLOT_H

#include <stdint.h>
#include <stdio.h>

#include "results/query.h"
#include "results/res.h"

/* Returned by a figure: 0, PLOT_NODATA (the runs lack its data: exit 2) or
 * PLOT_FAIL (gnuplot or I/O failed: exit 1); e says why. */
enum { PLOT_NODATA = -1, PLOT_FAIL = -2 };

struct plot_ctx {
    struct res_db *db;
    struct res_sel *sel; /* done runs matching --where */
    const char *dir;     /* output directory */
    int64_t run;         /* --run, or 0 */
    struct err *e;
};

/* Groups the selected runs by a parameter's value: per run its group (or
 * -1 when the run lacks the key); returns the number of groups, *labels (to
 * free(), the strings belong to the selection) in display order. A missing
 * key gives one group labelled `fallback`. */
size_t plot_groups(const struct plot_ctx *c, const char *key, const char *fallback, int *group,
                   const char ***labels);
/* Opens DIR/name for writing; NULL with c->e set. */
FILE *plot_file(struct plot_ctx *c, const char *name);
/* Writes a text field of a CSV row (quoted by libcsv). */
void plot_csv_text(FILE *f, const char *s);
/* Opens the script DIR/NAME.gp with the PNG terminal set; the figure writes
 * its settings and one `plot` command, then plot_run finishes the script
 * (the PDF by replot), runs gnuplot and checks both files were drawn. */
FILE *plot_script(struct plot_ctx *c, const char *name);
int plot_run(struct plot_ctx *c, FILE *script, const char *name);
/* A label safe inside a gnuplot single-quoted string. */
void plot_label(const char *in, char *out, size_t n);
/* Median of v[0..n-1] (sorts v). */
double plot_median(double *v, size_t n);

int plot_cct(struct plot_ctx *c);
int plot_fct(struct plot_ctx *c);
int plot_moe(struct plot_ctx *c);
int plot_heatmap(struct plot_ctx *c);
int plot_gpu_load(struct plot_ctx *c);

/* The `moesim plot` subcommand (argv[0] the name; exit status 0, 1 or 2). */
int plot_cli(int argc, char **argv);

#endif
