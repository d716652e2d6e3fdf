/* cmd_plot.c - `moesim plot KIND`: its command line, into struct plot_opts
 * and plot_make (plots/plot_make.c) on the database it names. */
#include <limits.h>
#include <stdlib.h>

#include "app/cli.h"
#include "plots/plot.h"

#define PLOT_USAGE                                                                                 \
    "plot cct|fct|moe|heatmap|gpu_load|timeline [--db FILE] [-o DIR] [--where section.key=value]...\n"      \
    "        [--by section.key[,section.key]] [--size column|page] [--run ID] [--phase NAME]\n"    \
    "        [--flows network|nvlink|all]\n"                                                       \
    "        a figure (PNG and PDF, gnuplot) of the done runs; see docs/results.md"

const struct cli_command cli_plot = {"plot", cmd_plot, PLOT_USAGE};

static const struct argv_opt plot_opts[] = {
    {"--db", NULL, "FILE", 0, "the results database (default results/moesim.db)"},
    {"-o", NULL, "DIR", 0, "where the figure's files go (default plots/out)"},
    {"--where", NULL, "section.key=value", ARGV_REPEAT, "only the runs with that parameter value"},
    {"--by", NULL, "KEY[,KEY2]", 0, "the parameter(s) the series split by (default: the figure's)"},
    {"--size", NULL, "S", 0, "column (3.3 in wide, default) or page"},
    {"--run", NULL, "ID", 0,
     "heatmap, timeline: the run (default: the latest with link samples, or with task rows)"},
    {"--phase", NULL, "NAME", 0, "fct: only that phase (default: every network phase)"},
    {"--flows", NULL, "F", 0, "fct: network (default), nvlink or all"},
};
static void plot_help(FILE *f);
static const struct argv_cmd plot_args = {
    "moesim plot", PLOT_USAGE, plot_opts, sizeof plot_opts / sizeof plot_opts[0], 0, plot_help};

/* The usage and options, then the kinds. */
static void plot_help(FILE *f)
{
    struct argv_cmd c = plot_args;
    c.help = NULL;
    argv_print_help(&c, f);
    fprintf(f, "kinds:\n");
    plot_print_kinds(f);
}

int cmd_plot(int argc, char **argv)
{
    struct argv_res a;
    if (argv_parse(&plot_args, argc, argv, &a)) return a.status;
    if (argv_npos(&a) == 0)
        return argv_fail(&a, "no KIND (cct, fct, moe, heatmap, gpu_load, timeline, or 1-6)");
    if (argv_npos(&a) > 1) return argv_fail(&a, "unexpected argument '%s'", argv_pos(&a, 1));
    long run = 0;
    if (argv_long(&a, "--run", 1, LONG_MAX, &run)) return MOESIM_EXIT_INPUT;
    const char **where = xcalloc((size_t)argc, sizeof *where);
    struct plot_opts o = {.dir = argv_str(&a, "-o", "plots/out"),
                          .by = argv_str(&a, "--by", NULL),
                          .size = argv_str(&a, "--size", "column"),
                          .where = where,
                          .run = run,
                          .phase = argv_str(&a, "--phase", NULL),
                          .flows = argv_str(&a, "--flows", NULL)};
    for (int pos = 0; (where[o.nwhere] = argv_each(&a, "--where", &pos));)
        o.nwhere++;
    struct res_db *db = NULL;
    struct err e;
    int rc = 0;
    if (res_open_read(argv_str(&a, "--db", "results/moesim.db"), &db, &e) < 0) {
        rc = argv_fail(&a, "%s", e.msg);
    } else {
        int r = plot_make(db, argv_pos(&a, 0), &o, &e);
        if (r < 0) {
            argv_fail(&a, "%s", e.msg);
            rc = r == PLOT_NODATA ? MOESIM_EXIT_INPUT : 1;
        }
    }
    res_close(db);
    free(where);
    return rc;
}
