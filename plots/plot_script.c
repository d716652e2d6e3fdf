/* plot_script.c - a figure's gnuplot script and the gnuplot run (see plot.h).
 *
 * DIR/KIND.gp is the figure's variables (written here and by the figure),
 * then the shipped plots/style.gp and plots/KIND.gp copied in verbatim, so
 * that the output directory holds everything `gnuplot KIND.gp` needs.
 * The shipped scripts are found at run time (plot_scripts_dir). gnuplot runs
 * through posix_spawnp on the script file, never through a shell, with the
 * output directory as its working directory (so no path is ever quoted
 * inside a script).
 */
#include "plots/plot.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* 1 when dir/style.gp is a readable file. */
static int has_scripts(const char *dir)
{
    size_t n = strlen(dir) + 16;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/style.gp", dir);
    int ok = access(p, R_OK) == 0;
    free(p);
    return ok;
}

/* dir + tail, to free(). */
static char *path_join(const char *dir, const char *tail)
{
    size_t n = strlen(dir) + strlen(tail) + 1;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s", dir, tail);
    return p;
}

const char *plot_scripts_dir(struct err *e)
{
    static char *found;
    free(found);
    found = NULL;
    const char *env = getenv("MOESIM_PLOTS");
    if (env && *env) {
        if (has_scripts(env)) return found = xstrdup(env);
        err_set(e, "no gnuplot scripts (style.gp) in $MOESIM_PLOTS=%s", env);
        return NULL;
    }
    char exe[PATH_MAX] = "", *tried[3];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    int nt = 0;
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        tried[nt++] = path_join(exe, "/plots");
        tried[nt++] = path_join(exe, "/../share/moesim/plots");
    }
    tried[nt++] = xstrdup("./plots");
    for (int i = 0; i < nt && !found; i++)
        if (has_scripts(tried[i])) found = xstrdup(tried[i]);
    if (!found && nt == 3)
        err_set(e,
                "no gnuplot scripts (style.gp) in %s, %s or %s (set MOESIM_PLOTS to the folder "
                "holding moesim's plots/*.gp)",
                tried[0], tried[1], tried[2]);
    else if (!found)
        err_set(e,
                "no gnuplot scripts (style.gp) in %s (set MOESIM_PLOTS to the folder holding "
                "moesim's plots/*.gp)",
                tried[0]);
    for (int i = 0; i < nt; i++)
        free(tried[i]);
    return found;
}

FILE *plot_file(struct plot_ctx *c, const char *name)
{
    size_t n = strlen(c->o->dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", c->o->dir, name);
    FILE *f = fopen(p, "w");
    if (!f) err_set(c->e, "%s: cannot open: %s", p, strerror(errno));
    free(p);
    return f;
}

/* Writes s as a gnuplot string: single-quoted, where nothing is expanded
 * (a double-quoted string would run `backquoted` text as a shell command
 * and read backslash escapes), a quote doubled; a newline (which cannot
 * appear inside quotes) as 'line'."\n".'line'. So no text from a database
 * becomes a gnuplot command. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\n')
            fputs("'.\"\\n\".'", f);
        else if (*s == '\'')
            fputs("''", f);
        else
            fputc(*s == '\r' ? ' ' : *s, f);
    }
    fputc('\'', f);
}

void plot_var_str(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s = ", name);
    put_quoted(f, value);
    fputc('\n', f);
}

void plot_var_num(FILE *f, const char *name, double v)
{
    fprintf(f, "%s = %.17g\n", name, v);
}

void plot_var_strs(FILE *f, const char *name, const char *const *v, size_t n)
{
    /* gnuplot arrays have at least one element */
    fprintf(f, "array %s[%zu] = [", name, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        put_quoted(f, v[i]);
    }
    if (!n) fputs("''", f);
    fputs("]\n", f);
}

FILE *plot_script(struct plot_ctx *c, const char *kind, const char *note)
{
    char gp[256];
    snprintf(gp, sizeof gp, "%s.gp", kind);
    FILE *f = plot_file(c, gp);
    if (!f) return NULL;
    fprintf(f,
            "# %s.gp - written by moesim plot: the figure's data and labels, then plots/style.gp\n"
            "# and plots/%s.gp as shipped. `gnuplot %s.gp` in this directory draws %s.png and\n"
            "# %s.pdf again (edit the variables below to change labels or the size).\n",
            kind, kind, kind, kind, kind);
    plot_var_str(f, "name", kind);
    plot_var_str(f, "size", c->o->size && !strcmp(c->o->size, "page") ? "page" : "column");
    /* the note wrapped to the figure's width at blanks, between two
     * parameters ("), " or "; ") where that keeps half the line */
    size_t width = c->o->size && !strcmp(c->o->size, "page") ? 116 : 58, col = 0;
    size_t start = 0, last = 0, pref = 0;
    char *w = xstrdup(note ? note : "");
    int lines = *w != '\0';
    for (size_t i = 0; w[i]; i++) {
        if (w[i] == '\n') {
            lines++;
            col = 0;
            start = i + 1;
            last = pref = 0;
            continue;
        }
        if (w[i] == ' ') {
            last = i;
            if (i >= 2 && (w[i - 1] == ';' || (w[i - 1] == ',' && w[i - 2] == ')'))) pref = i;
        }
        if (++col > width && last) {
            size_t at = pref && pref - start >= width / 2 ? pref : last;
            w[at] = '\n';
            lines++;
            start = at + 1;
            col = i - at;
            last = pref = 0;
        }
    }
    plot_var_str(f, "note", w);
    plot_var_num(f, "note_lines", lines);
    free(w);
    return f;
}

/* Appends the shipped script dir/file to f. */
static int append_file(struct plot_ctx *c, FILE *f, const char *file)
{
    char *p = path_join(c->scripts, "/");
    char *q = path_join(p, file);
    free(p);
    p = q;
    FILE *in = fopen(p, "r");
    if (!in) {
        err_set(c->e, "%s: cannot open: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    fprintf(f, "\n# ---- %s ----\n", file);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, f);
    int bad = ferror(in);
    fclose(in);
    if (bad) err_set(c->e, "%s: cannot read", p);
    free(p);
    return bad ? -1 : 0;
}

/* Spawns gnuplot on `script` in the output directory and waits; 0 when it
 * exits 0. Its messages go to our stderr. */
static int run_gnuplot(struct plot_ctx *c, const char *script)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, c->o->dir);
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return err_set(c->e, "cannot run gnuplot: %s (install gnuplot-nox)", strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return err_set(c->e, "waiting for gnuplot: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_set(c->e, "gnuplot failed on %s/%s", c->o->dir, script);
    return 0;
}

int plot_draw(struct plot_ctx *c, FILE *f, const char *kind)
{
    char gp[256];
    snprintf(gp, sizeof gp, "%s.gp", kind);
    int rc = append_file(c, f, "style.gp");
    if (rc == 0) rc = append_file(c, f, gp);
    if (fclose(f) != 0 && rc == 0)
        rc = err_set(c->e, "%s/%s: cannot write: %s", c->o->dir, gp, strerror(errno));
    static const char *const ext[] = {"png", "pdf"};
    for (int i = 0; i < 2 && rc == 0; i++) { /* no stale figure passes for a new one */
        char *d = path_join(c->o->dir, "/"), *k = path_join(d, kind);
        char *p = path_join(k, i ? ".pdf" : ".png");
        if (unlink(p) < 0 && errno != ENOENT)
            rc = err_set(c->e, "%s: cannot remove: %s", p, strerror(errno));
        free(p);
        free(k);
        free(d);
    }
    if (rc < 0 || run_gnuplot(c, gp) < 0) return PLOT_FAIL;
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(c->o->dir) + strlen(kind) + 8;
        char *p = xmalloc(n);
        snprintf(p, n, "%s/%s.%s", c->o->dir, kind, ext[i]);
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
