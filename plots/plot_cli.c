/* plot_cli.c - `moesim plot KIND`: the figure kinds, the options and
 * plot_make (see plot.h; each figure is in plots/plot_KIND.c, its gnuplot
 * script in plots/KIND.gp).
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
        return err_set(e, "unknown figure '%s' (cct, fct, moe, heatmap, gpu_load, or 1-5)",
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

static void plot_usage(FILE *f)
{
    fprintf(f, "usage: moesim plot KIND [--db FILE] [-o DIR] [--where section.key=value]... "
               "[--by section.key[,section.key]] [--size column|page] [--run ID] "
               "[--phase NAME] [--flows network|nvlink|all]\nkinds:\n");
    for (size_t k = 0; k < PLOT_NKINDS; k++)
        fprintf(f, "  %s %-9s %s\n", plot_kinds[k].alias, plot_kinds[k].name, plot_kinds[k].what);
}

int plot_cli(int argc, char **argv)
{
    const char *path = "results/moesim.db", *kind = NULL;
    struct plot_opts o = {.dir = "plots/out", .size = "column"};
    const char **where = xcalloc((size_t)argc, sizeof *where);
    o.where = where;
    int rc = 0;
    static const char *const valued[] = {"--db", "-o",     "--where", "--run",
                                         "--by", "--size", "--phase", "--flows"};
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        size_t v = 0;
        while (v < sizeof valued / sizeof *valued && strcmp(a, valued[v]))
            v++;
        if (v < sizeof valued / sizeof *valued) {
            if (i + 1 >= argc) {
                fprintf(stderr, "moesim plot: missing value after %s\n", a);
                rc = MOESIM_EXIT_INPUT;
                break;
            }
            const char *val = argv[++i];
            switch (v) {
            case 0:
                path = val;
                break;
            case 1:
                o.dir = val;
                break;
            case 2:
                where[o.nwhere++] = val;
                break;
            case 3: {
                char *end;
                o.run = strtoll(val, &end, 10);
                if (*end || o.run <= 0) {
                    fprintf(stderr, "moesim plot: --run %s: expected a run id\n", val);
                    rc = MOESIM_EXIT_INPUT;
                }
                break;
            }
            case 4:
                o.by = val;
                break;
            case 5:
                o.size = val;
                break;
            case 6:
                o.phase = val;
                break;
            default:
                o.flows = val;
                break;
            }
        } else if (a[0] != '-' && !kind) {
            kind = a;
        } else {
            fprintf(stderr, "moesim plot: unknown argument '%s'\n", a);
            plot_usage(stderr);
            rc = MOESIM_EXIT_INPUT;
        }
    }
    if (rc == 0 && !kind) {
        fprintf(stderr, "moesim plot: no KIND\n");
        plot_usage(stderr);
        rc = MOESIM_EXIT_INPUT;
    }
    struct res_db *db = NULL;
    struct err e;
    if (rc == 0 && res_open_read(path, &db, &e) < 0) {
        fprintf(stderr, "moesim plot: %s\n", e.msg);
        rc = MOESIM_EXIT_INPUT;
    } else if (rc == 0) {
        int r = plot_make(db, kind, &o, &e);
        if (r < 0) {
            fprintf(stderr, "moesim plot: %s\n", e.msg);
            rc = r == PLOT_NODATA ? MOESIM_EXIT_INPUT : 1;
        }
    }
    res_close(db);
    free(where);
    return rc;
}
