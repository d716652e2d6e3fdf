/* plot_make.c - `moesim plot KIND`: the figure kinds and plot_make (see
 * plot.h; each figure is in plots/plot_KIND.c, its gnuplot script in
 * plots/KIND.gp; the command line is read in app/cmd_plot.c).
 */
#include "plots/plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"

static const struct {
    const char *name, *alias;
    int (*fn)(struct plot_ctx *c);
    const char *what;
} plot_kinds[] = {
    {"cct", "1", plot_cct,
     "network completion time / ideal per --by (default transport.path): median, min-max"},
    {"fct", "2", plot_fct,
     "CDF of flow completion times per --by (default transport.path; output.flows)"},
    {"moe", "3", plot_moe,
     "an MoE step's dispatch/compute/combine time per --by (default placement.policy)"},
    {"heatmap", "4", plot_heatmap,
     "link utilisation, links by kind x time, of one run (--run; output.sample_ns)"},
    {"gpu_load", "5", plot_gpu_load,
     "GPU token load max/mean per layer per --by (default placement.policy)"},
    {"timeline", "6", plot_timeline,
     "one step of one run (--run) as a timeline of its tasks, the critical path filled"},
};
#define PLOT_NKINDS (sizeof plot_kinds / sizeof plot_kinds[0])

/* mkdir -p dir. */
static int plot_mkdirs(const char *dir, struct err *e)
{
    char *d = xstrdup(dir);
    int rc = 0;
    for (char *p = d + 1; rc == 0; p++) {
        char ch = *p;
        if (ch != '/' && ch != '\0') continue;
        *p = '\0';
        if (mkdir(d, 0777) < 0 && errno != EEXIST)
            rc = err_set(e, "%s: cannot create directory: %s", d, strerror(errno));
        *p = ch;
        if (ch == '\0') break;
    }
    free(d);
    return rc;
}

int plot_make(struct res_db *db, const char *kind, const struct plot_opts *o, struct err *e)
{
    size_t k = 0;
    while (k < PLOT_NKINDS && strcmp(kind, plot_kinds[k].name) && strcmp(kind, plot_kinds[k].alias))
        k++;
    if (k == PLOT_NKINDS)
        return err_set(e, "unknown figure '%s' (cct, fct, moe, heatmap, gpu_load, timeline, or 1-6)",
                       kind); /* PLOT_NODATA */
    if (o->size && strcmp(o->size, "column") && strcmp(o->size, "page"))
        return err_set(e, "--size %s: expected column or page", o->size);
    if (o->flows && strcmp(o->flows, "network") && strcmp(o->flows, "nvlink") &&
        strcmp(o->flows, "all"))
        return err_set(e, "--flows %s: expected network, nvlink or all", o->flows);
    struct plot_ctx c = {db, NULL, o, NULL, e};
    if (!(c.scripts = plot_scripts_dir(e))) return PLOT_FAIL;
    if (res_select(db, 1, o->where, o->nwhere, &c.sel, e) < 0) return PLOT_NODATA;
    int rc;
    if (c.sel->nruns == 0)
        rc = err_set(e, "%s: no done runs match", res_path(db)); /* PLOT_NODATA */
    else if (plot_mkdirs(o->dir, e) < 0)
        rc = PLOT_FAIL;
    else
        rc = plot_kinds[k].fn(&c);
    res_sel_free(c.sel);
    return rc;
}

void plot_print_kinds(FILE *f)
{
    for (size_t k = 0; k < PLOT_NKINDS; k++)
        fprintf(f, "  %s %-9s %s\n", plot_kinds[k].alias, plot_kinds[k].name, plot_kinds[k].what);
}
