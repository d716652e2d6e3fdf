/* plot.c - `moesim plot KIND`: figures for papers from the results database,
 * drawn by gnuplot (see plot.h; the figures are in plot_kinds.c).
 *
 * gnuplot runs through posix_spawnp on a script file, never through a shell,
 * with the output directory as its working directory (so no path is ever
 * quoted inside a script).
 */
#include "results/plot.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csv.h>

#include "results/resdb.h"

extern char **environ;

static const struct {
    const char *name, *alias;
    int (*fn)(struct plot_ctx *c);
    const char *what;
} plot_kinds[] = {
    {"cct", "1", plot_cct, "network completion time over ideal per transport (bars, min-max)"},
    {"fct", "2", plot_fct, "CDF of flow completion times per transport (needs output.flows)"},
    {"moe", "3", plot_moe, "per-layer dispatch/compute/combine time per placement policy"},
    {"heatmap", "4", plot_heatmap,
     "link utilisation, links x time, of one run (needs output.sample_ns)"},
    {"gpu_load", "5", plot_gpu_load, "GPU token load max/mean per layer per placement policy"},
};
#define PLOT_NKINDS (sizeof plot_kinds / sizeof plot_kinds[0])

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

size_t plot_groups(const struct plot_ctx *c, const char *key, const char *fallback, int *group,
                   const char ***labels)
{
    const struct res_sel *s = c->sel;
    int k = res_sel_key(s, key);
    if (k < 0) {
        const char **l = xcalloc(1, sizeof *l);
        l[0] = fallback;
        for (size_t r = 0; r < s->nruns; r++)
            group[r] = 0;
        *labels = l;
        return 1;
    }
    size_t n = res_sel_values(s, k, labels);
    for (size_t r = 0; r < s->nruns; r++) {
        const char *v = res_sel_val(s, r, k);
        group[r] = -1;
        for (size_t g = 0; v && g < n; g++)
            if ((*labels)[g] == v) group[r] = (int)g;
    }
    return n;
}

FILE *plot_file(struct plot_ctx *c, const char *name)
{
    size_t n = strlen(c->dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", c->dir, name);
    FILE *f = fopen(p, "w");
    if (!f) err_set(c->e, "%s: cannot open: %s", p, strerror(errno));
    free(p);
    return f;
}

void plot_csv_text(FILE *f, const char *s)
{
    csv_fwrite(f, s, strlen(s));
}

void plot_label(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = in[i] == '\'' || in[i] == '"' || in[i] == '\\' || in[i] == '\n' ? '_' : in[i];
    out[i] = '\0';
}

FILE *plot_script(struct plot_ctx *c, const char *name)
{
    char gp[256];
    snprintf(gp, sizeof gp, "%s.gp", name);
    FILE *f = plot_file(c, gp);
    if (!f) return NULL;
    fprintf(f,
            "# %s.gp - written by moesim plot; run `gnuplot %s.gp` in this directory.\n"
            "set datafile separator ','\n"
            "set terminal pngcairo monochrome dashed noenhanced size 900,560 font 'Sans,11'\n"
            "set output '%s.png'\n"
            "set border lw 1.2\nset grid ytics lc rgb '#bbbbbb' dt 3\n",
            name, name, name);
    return f;
}

/* Spawns gnuplot on `script` in c->dir and waits; 0 when it exits 0. */
static int plot_gnuplot(struct plot_ctx *c, const char *script)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, c->dir);
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return err_set(c->e, "cannot run gnuplot: %s (install gnuplot-nox)", strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return err_set(c->e, "waiting for gnuplot: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_set(c->e, "gnuplot failed on %s/%s", c->dir, script);
    return 0;
}

int plot_run(struct plot_ctx *c, FILE *f, const char *name)
{
    fprintf(f,
            "set terminal pdfcairo monochrome dashed noenhanced size 6in,3.7in font 'Sans,9'\n"
            "set output '%s.pdf'\nreplot\nunset output\n",
            name);
    if (fclose(f) != 0) {
        err_set(c->e, "%s/%s.gp: cannot write: %s", c->dir, name, strerror(errno));
        return PLOT_FAIL;
    }
    char gp[256];
    snprintf(gp, sizeof gp, "%s.gp", name);
    if (plot_gnuplot(c, gp) < 0) return PLOT_FAIL;
    static const char *const ext[] = {"png", "pdf"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(c->dir) + strlen(name) + 8;
        char *p = xmalloc(n);
        snprintf(p, n, "%s/%s.%s", c->dir, name, ext[i]);
        struct stat sb;
        int ok = stat(p, &sb) == 0 && sb.st_size > 0;
        if (ok)
            printf("moesim plot: wrote %s\n", p);
        else
            err_set(c->e, "gnuplot did not write %s", p);
        free(p);
        if (!ok) return PLOT_FAIL;
    }
    return 0;
}

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

int plot_make(struct res_db *db, const char *kind, const char *dir, const char *const *where,
              size_t nwhere, int64_t run, struct err *e)
{
    size_t k = 0;
    while (k < PLOT_NKINDS && strcmp(kind, plot_kinds[k].name) && strcmp(kind, plot_kinds[k].alias))
        k++;
    if (k == PLOT_NKINDS)
        return err_set(e, "unknown figure '%s' (cct, fct, moe, heatmap, gpu_load, or 1-5)",
                       kind); /* PLOT_NODATA */
    struct plot_ctx c = {db, NULL, dir, run, e};
    if (res_select(db, 1, where, nwhere, &c.sel, e) < 0) return PLOT_NODATA;
    int rc;
    if (c.sel->nruns == 0)
        rc = err_set(e, "%s: no done runs match", res_path(db)); /* PLOT_NODATA */
    else if (plot_mkdirs(dir, e) < 0)
        rc = PLOT_FAIL;
    else
        rc = plot_kinds[k].fn(&c);
    res_sel_free(c.sel);
    return rc;
}

static void plot_usage(FILE *f)
{
    fprintf(f, "usage: moesim plot KIND [--db FILE] [-o DIR] [--where section.key=value]... "
               "[--run ID]\nkinds:\n");
    for (size_t k = 0; k < PLOT_NKINDS; k++)
        fprintf(f, "  %s %-9s %s\n", plot_kinds[k].alias, plot_kinds[k].name, plot_kinds[k].what);
}

int plot_cli(int argc, char **argv)
{
    const char *path = "results/moesim.db", *dir = "plots/out", *kind = NULL;
    const char **where = xcalloc((size_t)argc, sizeof *where);
    size_t nwhere = 0;
    int64_t run = 0;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--db") || !strcmp(a, "-o") || !strcmp(a, "--where") ||
            !strcmp(a, "--run")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "moesim plot: missing value after %s\n", a);
                rc = MOESIM_EXIT_INPUT;
                break;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--db"))
                path = v;
            else if (!strcmp(a, "-o"))
                dir = v;
            else if (!strcmp(a, "--where"))
                where[nwhere++] = v;
            else {
                char *end;
                run = strtoll(v, &end, 10);
                if (*end || run <= 0) {
                    fprintf(stderr, "moesim plot: --run %s: expected a run id\n", v);
                    rc = MOESIM_EXIT_INPUT;
                }
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
        int r = plot_make(db, kind, dir, where, nwhere, run, &e);
        if (r < 0) {
            fprintf(stderr, "moesim plot: %s\n", e.msg);
            rc = r == PLOT_NODATA ? MOESIM_EXIT_INPUT : 1;
        }
    }
    res_close(db);
    free(where);
    return rc;
}
