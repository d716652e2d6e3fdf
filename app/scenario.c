/* scenario.c - scenario INI files and --set overrides, expanded to a sweep of
 * runs (see scenario.h).
 *
 * Syntax (libinih): "[section]" headers, "key = value" (or "key: value")
 * lines, whole-line comments starting with ';' or '#', inline comments
 * starting with " ;" or " #" (white space first: "a;b" and "a#b" are
 * values). Indented lines are ordinary lines (no multi-line values). A line
 * may hold SC_LINE_MAX - 1 characters. Values are taken as written (no
 * quoting), so a value cannot contain a comma: commas sweep, and a sweep
 * may not list a value twice. A file must set at least one key.
 *
 * A path (an OPT_PATH option: workload.trace, workload.compute, output.db,
 * output.csv) written in the file as a relative path resolves against the
 * file's folder, so a scenario runs the same from any directory; the run
 * uses, and params records, the joined path with "DIR/.." steps taken out
 * where DIR is a real folder (not a symbolic link), so
 * scenarios/x.ini's "../data/t.csv" is "data/t.csv" when moesim runs in the
 * repository. Paths given with --set (and --db, --csv) and the defaults are
 * relative to the current directory. A scenario that is not a regular file
 * (a pipe, /dev/stdin) has no folder: its paths are taken as they are.
 *
 * Each key may be set once in the file and once more by --set (the
 * override); a second --set of one key is an error, as a repeated key in the
 * file is.
 *
 * Parsing goes through inih's ini_parse_stream() with our own fgets-style
 * reader: Debian's inih is built without INI_HANDLER_LINENO, so the reader
 * counts the lines (inih consumes one line per read, so the count is the line
 * the handler is looking at). The reader also catches what inih would let
 * through silently: overlong lines (inih would split them in two), section
 * headers without keys in unknown sections, and text after a "]".
 *
 * Each option keeps the text of its values (one per sweep element, each
 * parsed once on the way in) and where they came from: a file line, a --set
 * argument, or the default. Expansion parses those texts into one struct cfg
 * per run and checks every run before any starts: cfg_validate() (the keys
 * against each other) and cfg_preflight() (the trace's metadata, the
 * placement's feasibility, the output paths). Every failure is reported
 * where the blamed key was set, each distinct line once, all of them at
 * once. Error lines are made safe to print (err_escape: control bytes and
 * broken UTF-8 as \xNN).
 */
#include "app/scenario.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#define SC_LINE_MAX      8192 /* inih's line buffer: SC_LINE_MAX - 1 characters and '\0' */
#define SC_QUOTE_MAX     60   /* characters of a bad line quoted in a syntax error */
#define SC_SET_QUOTE_MAX 300  /* characters of a --set quoted before a reason */

#include <sys/stat.h>

/* The values of one option and where they came from. */
struct sc_src {
    char **vals; /* sweep elements, trimmed; n == 0: the default */
    size_t n;
    int line;  /* line of the scenario file that set it, 0 if none */
    char *set; /* the --set argument that set it last, NULL if none */
};

struct sc_sweep {
    char *path;
    struct cfg *runs;
    size_t nruns;
    size_t *nvalues; /* per opt_table entry */
};

/* State of one ini_parse_stream() call, shared by the reader and handler. */
struct sc_parse {
    FILE *f;
    const char *path;
    const char *dir; /* relative paths resolve against it; NULL: as written */
    struct sc_src *src;
    int line;
    int keys; /* key lines read */
    bool failed;
    char text[SC_QUOTE_MAX + 4]; /* the last line read, trimmed, for syntax errors */
    struct err *e;
};

/* ---- small helpers ---- */

static char *sc_strndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Bounds of s[0..n) without leading and trailing white space. */
static void sc_trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static bool sc_section_known(const char *name, size_t len)
{
    for (size_t i = 0; i < opt_count; i++)
        if (strlen(opt_table[i].section) == len && !strncmp(opt_table[i].section, name, len))
            return true;
    return false;
}

static void sc_src_clear(struct sc_src *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->vals[i]);
    free(s->vals);
    free(s->set);
    memset(s, 0, sizeof *s);
}

static void sc_src_free_all(struct sc_src *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < opt_count; i++)
        sc_src_clear(&src[i]);
    free(src);
}

/* ---- values and sweeps ---- */

/* Splits text at commas into trimmed copies; *n gets their count. */
static char **sc_split(const char *text, size_t *n)
{
    size_t count = 1;
    for (const char *p = text; *p; p++)
        count += *p == ',';
    char **vals = xcalloc(count, sizeof *vals);
    const char *p = text;
    for (size_t i = 0; i < count; i++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *el = p;
        p += len + (comma != NULL);
        sc_trim(&el, &len);
        vals[i] = sc_strndup(el, len);
    }
    *n = count;
    return vals;
}

/* Whether path (a folder written as the file's own, e.g. "scenarios") is a
 * real folder: "DIR/.." may then be taken out of a path lexically. */
static bool sc_real_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir + "/" + rel with "." steps and "REALDIR/.." steps taken out (see the
 * file comment), into out (n bytes; cut when longer, which the option's
 * length check then refuses). */
static void sc_join(const char *dir, const char *rel, char *out, size_t n)
{
    size_t len = strlen(dir) + strlen(rel) + 2;
    char *joined = xmalloc(len), *res = xmalloc(len);
    snprintf(joined, len, "%s/%s", dir, rel);
    size_t w = 0; /* res[0..w): the steps kept so far, "/"-separated */
    bool abs = joined[0] == '/';
    if (abs) res[w++] = '/';
    size_t kept = 0; /* steps in res, not counting leading ".." */
    for (char *p = joined; *p;) {
        char *end = strchr(p, '/');
        size_t sl = end ? (size_t)(end - p) : strlen(p);
        if (sl == 0 || (sl == 1 && p[0] == '.')) {
            /* skip */
        } else if (sl == 2 && p[0] == '.' && p[1] == '.' && kept > 0) {
            res[w] = '\0';
            if (sc_real_dir(res)) {
                char *cut = strrchr(res + (abs ? 1 : 0), '/');
                w = cut ? (size_t)(cut - res) : (abs ? 1 : 0);
                kept--;
            } else { /* a symbolic link: what comes before stays as it is */
                w += (size_t)sprintf(res + w, "%s..", w > (abs ? 1u : 0u) ? "/" : "");
                kept = 0;
            }
        } else {
            bool up = sl == 2 && p[0] == '.' && p[1] == '.';
            if (w > (abs ? 1u : 0u)) res[w++] = '/';
            memcpy(res + w, p, sl);
            w += sl;
            if (!up) kept++;
        }
        p += sl + (end != NULL);
    }
    res[w] = '\0';
    snprintf(out, n, "%s", w ? res : ".");
    free(joined);
    free(res);
}

/* Whether word is one of o's words that are not paths ("roofline"). */
static bool sc_not_a_path(const struct opt_def *o, const char *word)
{
    return o->choices && opt_choice_index(o->choices, word) >= 0;
}

/* Splits `text` into sweep elements, resolves relative paths against dir
 * (OPT_PATH options; dir NULL: as written), parses each as option o (the
 * parse checks type and bounds), refuses a value listed twice (compared as
 * params records them: "1" and "1.0" are one number) and, when all are good,
 * makes them the option's values. On error `why` holds the reason alone. */
static int sc_set_values(const struct opt_def *o, const char *text, const char *dir,
                         struct sc_src *s, struct err *why)
{
    if (!*text)
        return err_set(why, "empty value");
    struct sc_src fresh = {0};
    fresh.vals = sc_split(text, &fresh.n);
    char **canon = xcalloc(fresh.n, sizeof *canon);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < fresh.n; i++) {
        struct cfg scratch;
        if (!*fresh.vals[i]) {
            rc = err_set(why, "empty element in sweep '%s'", text);
            break;
        }
        if (o->type == OPT_PATH && dir && fresh.vals[i][0] != '/' &&
            !sc_not_a_path(o, fresh.vals[i])) {
            char *abs = xmalloc(OPT_STR_MAX + 1);
            sc_join(dir, fresh.vals[i], abs, OPT_STR_MAX + 1);
            free(fresh.vals[i]);
            fresh.vals[i] = abs;
        }
        rc = opt_parse(o, fresh.vals[i], &scratch, why);
        if (rc < 0)
            break;
        char buf[OPT_STR_MAX + 32];
        opt_format(o, &scratch, buf, sizeof buf);
        canon[i] = xstrdup(buf);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(canon[j], canon[i]))
                rc = err_set(why, "the sweep '%s' lists %s twice", text, canon[i]);
    }
    for (size_t i = 0; i < fresh.n; i++)
        free(canon[i]);
    free(canon);
    if (rc < 0) {
        sc_src_clear(&fresh);
        return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->vals[i]);
    free(s->vals);
    s->vals = fresh.vals;
    s->n = fresh.n;
    return 0;
}

/* ---- the INI file ---- */

/* Sets p->e to "FILE:LINE: <fmt>" at the current line and stops the parse.
 * Returns 0, inih's "handler failed". */
__attribute__((format(printf, 2, 3))) static int sc_fail_line(struct sc_parse *p,
                                                              const char *fmt, ...)
{
    char why[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    err_set(p->e, "%s:%d: %s", p->path, p->line, why);
    p->failed = true;
    return 0;
}

/* True when fgets filled str (num - 1 characters) in the middle of a line.
 * A line that ends exactly at the buffer's end is fine: its '\n' is eaten. */
static bool sc_line_too_long(FILE *f, const char *str, int num)
{
    size_t n = strlen(str);
    if (n < (size_t)num - 1 || str[n - 1] == '\n')
        return false;
    int c = getc(f);
    if (c == EOF || c == '\n')
        return false;
    ungetc(c, f);
    return true;
}

/* Keeps a trimmed, shortened copy of the line for syntax error messages. */
static void sc_remember(struct sc_parse *p, const char *str)
{
    const char *s = str;
    size_t n = strlen(s);
    sc_trim(&s, &n);
    if (n > SC_QUOTE_MAX)
        snprintf(p->text, sizeof p->text, "%.*s...", SC_QUOTE_MAX, s);
    else
        snprintf(p->text, sizeof p->text, "%.*s", (int)n, s);
}

/* Checks a "[section]" line: the section must exist and nothing but a
 * comment may follow the "]". A '[' without ']' is left to inih, which
 * reports it as a syntax error. Returns 0 or -1 (p->e set). */
static int sc_check_section(struct sc_parse *p, const char *str)
{
    if (p->line == 1 && !strncmp(str, "\xEF\xBB\xBF", 3))
        str += 3; /* a UTF-8 byte order mark, as inih skips it */
    while (isspace((unsigned char)*str))
        str++;
    const char *end = *str == '[' ? strchr(str, ']') : NULL;
    if (!end)
        return 0;
    const char *name = str + 1;
    const char *rest = end + 1;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest && *rest != ';' && *rest != '#')
        return sc_fail_line(p, "syntax error: text after [%.*s]", (int)(end - name), name), -1;
    if (!sc_section_known(name, (size_t)(end - name)))
        return sc_fail_line(p, "[%.*s]: unknown section", (int)(end - name), name), -1;
    return 0;
}

/* fgets() that also says whether the line held a NUL byte (fgets would
 * hand inih a line cut short at it, the rest silently ignored). */
static char *sc_fgets(char *str, int num, FILE *f, bool *nul)
{
    int n = 0, c = EOF;
    *nul = false;
    while (n < num - 1 && (c = getc(f)) != EOF) {
        *nul |= c == '\0';
        str[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0)
        return NULL;
    str[n] = '\0';
    return str;
}

/* inih's fgets-style reader (see the file comment). */
static char *sc_read_line(char *str, int num, void *stream)
{
    struct sc_parse *p = stream;
    bool nul;
    if (p->failed || !sc_fgets(str, num, p->f, &nul))
        return NULL;
    p->line++;
    if (nul) {
        sc_fail_line(p, "line holds a NUL byte (not a text file?)");
        return NULL;
    }
    if (sc_line_too_long(p->f, str, num)) {
        sc_fail_line(p, "line is longer than %d characters", num - 1);
        return NULL;
    }
    sc_remember(p, str);
    return sc_check_section(p, str) < 0 ? NULL : str;
}

/* inih's handler: one "key = value" line. Returns 1 ok, 0 error (p->e set). */
static int sc_on_key(void *user, const char *section, const char *name, const char *value)
{
    struct sc_parse *p = user;
    if (!*name)
        return sc_fail_line(p, "syntax error: expected [section] or key = value, got '%s'",
                            p->text);
    if (!*section)
        return sc_fail_line(p, "%s: key outside any [section]", name);
    const struct opt_def *o = opt_find(section, name);
    if (!o && !sc_section_known(section, strlen(section)))
        return sc_fail_line(p, "[%s]: unknown section", section);
    if (!o)
        return sc_fail_line(p, "%s.%s: unknown key", section, name);
    struct sc_src *s = &p->src[o - opt_table];
    if (s->line)
        return sc_fail_line(p, "%s.%s: duplicate key (first set on line %d)", section, name,
                            s->line);
    struct err why;
    if (sc_set_values(o, value, p->dir, s, &why) < 0)
        return sc_fail_line(p, "%s.%s: %s", section, name, why.msg);
    s->line = p->line;
    p->keys++;
    return 1;
}

/* The folder a scenario's relative paths resolve against (a new string), or
 * NULL when they stay as written: the file is not a regular one, or sits in
 * the current directory. */
static char *sc_base_dir(const char *path, FILE *f)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return NULL;
    const char *slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    return slash == path ? xstrdup("/") : sc_strndup(path, (size_t)(slash - path));
}

/* Reads the scenario file into src. Returns 0 or -1 (e set). */
static int sc_read_file(const char *path, struct sc_src *src, struct err *e)
{
    static char inline_comments[] = ";#";
    struct sc_parse p = {.path = path, .src = src, .e = e};
    p.f = fopen(path, "r");
    if (!p.f)
        return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    char *dir = sc_base_dir(path, p.f);
    p.dir = dir;
    /* inih's knobs are process-wide; Debian builds it with runtime options. */
    ini_max_line = SC_LINE_MAX;
    ini_use_stack = true;
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
    ini_allow_no_value = false;
    ini_allow_inline_comments = true;
    ini_inline_comment_prefixes = inline_comments;
    int bad = ini_parse_stream(sc_read_line, &p, sc_on_key, &p);
    int rc = 0;
    if (!p.failed && ferror(p.f))
        rc = err_set(e, "%s: cannot read: %s", path, strerror(errno));
    else if (!p.failed && bad > 0)
        rc = err_set(e, "%s:%d: syntax error: expected [section] or key = value, got '%s'", path,
                     bad, p.text);
    else if (!p.failed && bad < 0)
        rc = err_set(e, "%s: cannot parse (inih error %d)", path, bad);
    else if (!p.failed && p.keys == 0)
        rc = err_set(e,
                     "%s: no options set (an empty scenario runs nothing; write the keys you "
                     "mean)",
                     path);
    fclose(p.f);
    free(dir);
    return p.failed ? -1 : rc;
}

/* ---- --set overrides ---- */

/* Applies one "section.key=value[,value...]" override. */
static int sc_apply_set(const char *arg, struct sc_src *src, struct err *e)
{
    const char *eq = strchr(arg, '=');
    const char *dot = strchr(arg, '.');
    if (!eq || !dot || dot > eq || dot == arg || dot + 1 == eq)
        return err_set(e, "--set %s: expected section.key=value", arg);
    char *section = sc_strndup(arg, (size_t)(dot - arg));
    char *key = sc_strndup(dot + 1, (size_t)(eq - dot - 1));
    const struct opt_def *o = opt_find(section, key);
    int rc = 0;
    struct err why;
    if (!o && !sc_section_known(section, strlen(section)))
        rc = err_set(e, "--set %s: unknown section [%s]", arg, section);
    else if (!o)
        rc = err_set(e, "--set %s: unknown key", arg);
    else if (src[o - opt_table].set)
        rc = err_set(e, "--set %s: duplicate key (first set by --set %s)", arg,
                     src[o - opt_table].set);
    else if (sc_set_values(o, eq + 1, NULL, &src[o - opt_table], &why) < 0)
        rc = err_set(e, "--set %s: %s", arg, why.msg);
    else {
        free(src[o - opt_table].set);
        src[o - opt_table].set = xstrdup(arg);
    }
    free(section);
    free(key);
    return rc;
}

/* ---- expansion ---- */

/* Reports `reason` about option o where o was set: "--set ARG: reason",
 * "FILE:LINE: section.key: reason", or for a default "FILE: section.key:
 * reason" ("section.key: reason" without a file). */
static int sc_fail_src(const char *path, const struct sc_src *s, const struct opt_def *o,
                       const char *reason, struct err *e)
{
    if (s->set && strlen(s->set) > SC_SET_QUOTE_MAX)
        return err_set(e, "--set %.*s... (%zu values): %s", SC_SET_QUOTE_MAX, s->set, s->n, reason);
    if (s->set)
        return err_set(e, "--set %s: %s", s->set, reason);
    if (s->line)
        return err_set(e, "%s:%d: %s.%s: %s", path, s->line, o->section, o->key, reason);
    if (*path)
        return err_set(e, "%s: %s.%s: %s", path, o->section, o->key, reason);
    return err_set(e, "%s.%s: %s", o->section, o->key, reason);
}

/* The configuration of run r: option i takes value (r / stride_i) % n_i,
 * the last table option varying fastest. */
static void sc_fill(struct cfg *c, size_t r, const struct sc_src *src)
{
    cfg_defaults(c);
    for (size_t i = opt_count; i-- > 0;) {
        if (!src[i].n)
            continue;
        struct err e;
        if (opt_parse(&opt_table[i], src[i].vals[r % src[i].n], c, &e) < 0)
            err_fatal("%s.%s: value parsed before fails now: %s", opt_table[i].section,
                      opt_table[i].key, e.msg);
        r /= src[i].n;
    }
}

/* The errors found while checking the runs (see struct sc_errors). */
struct sc_report {
    const char *path;
    const struct sc_src *src;
    struct sc_errors *errs;
};

/* Adds one error line (made safe to print) unless it is there already. */
static void sc_add_error(struct sc_errors *x, struct err *line)
{
    err_escape(line);
    for (size_t i = 0; i < x->n; i++)
        if (!strcmp(x->line[i], line->msg))
            return;
    if (x->n == SC_ERRORS_MAX) {
        x->more++;
        return;
    }
    x->line = xrealloc(x->line, (x->n + 1) * sizeof *x->line);
    x->line[x->n++] = xstrdup(line->msg);
}

/* cfg_preflight's report function: the reason where the key was set. */
static void sc_report_key(void *ctx, const struct opt_def *bad, const char *reason)
{
    struct sc_report *r = ctx;
    assert(bad);
    struct err e;
    sc_fail_src(r->path, &r->src[bad - opt_table], bad, reason, &e);
    sc_add_error(r->errs, &e);
}

/* Runs cfg_validate on run c, and when the keys agree cfg_preflight; every
 * failure is reported where its key was set. */
static void sc_check_run(struct sc_report *r, const struct cfg *c, struct cfg_probe *probe)
{
    const struct opt_def *bad = NULL;
    struct err why;
    if (cfg_validate(c, &bad, &why) < 0) {
        assert(bad);
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s.%s: ", bad->section, bad->key);
        const char *reason = why.msg;
        if (!strncmp(reason, prefix, strlen(prefix)))
            reason += strlen(prefix);
        sc_report_key(r, bad, reason);
        return;
    }
    cfg_preflight(c, probe, sc_report_key, r);
}

static int sc_expand(struct sc_sweep *s, const struct sc_src *src, struct sc_errors *errs,
                     struct err *e)
{
    size_t total = 1;
    for (size_t i = 0; i < opt_count; i++) {
        size_t n = src[i].n ? src[i].n : 1;
        s->nvalues[i] = n;
        if (total > SC_RUNS_MAX / n) {
            char why[64];
            snprintf(why, sizeof why, "the sweep expands to more than %d runs", SC_RUNS_MAX);
            return sc_fail_src(s->path, &src[i], &opt_table[i], why, e);
        }
        total *= n;
    }
    s->runs = xcalloc(total, sizeof *s->runs);
    s->nruns = total;
    struct sc_report r = {s->path, src, errs};
    struct cfg_probe *probe = cfg_probe_new();
    for (size_t i = 0; i < total; i++) {
        sc_fill(&s->runs[i], i, src);
        topo_spec_resolve(&s->runs[i].topo);
        s->runs[i].topo.faults.seed = (uint64_t)s->runs[i].sim.seed; /* [faults]' random draws */
        sc_check_run(&r, &s->runs[i], probe);
    }
    cfg_probe_free(probe);
    if (errs->n == 0)
        return 0;
    snprintf(e->msg, sizeof e->msg, "%s", errs->line[0]);
    return -1;
}

/* ---- public ---- */

void sc_errors_free(struct sc_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        free(errs->line[i]);
    free(errs->line);
    memset(errs, 0, sizeof *errs);
}

int sc_load_all(const char *path, const char *const *overrides, size_t n_overrides,
                struct sc_sweep **out, struct sc_errors *errs, struct err *e)
{
    *out = NULL;
    memset(errs, 0, sizeof *errs);
    struct sc_src *src = xcalloc(opt_count, sizeof *src);
    struct sc_sweep *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path ? path : "");
    s->nvalues = xcalloc(opt_count, sizeof *s->nvalues);
    int rc = path ? sc_read_file(path, src, e) : 0;
    for (size_t i = 0; rc == 0 && i < n_overrides; i++)
        rc = sc_apply_set(overrides[i], src, e);
    if (rc == 0)
        rc = sc_expand(s, src, errs, e);
    if (rc < 0 && errs->n == 0) {
        err_escape(e);
        errs->line = xcalloc(1, sizeof *errs->line);
        errs->line[errs->n++] = xstrdup(e->msg);
    }
    sc_src_free_all(src);
    if (rc < 0) {
        sc_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int sc_load(const char *path, const char *const *overrides, size_t n_overrides,
            struct sc_sweep **out, struct err *e)
{
    struct sc_errors errs;
    int rc = sc_load_all(path, overrides, n_overrides, out, &errs, e);
    sc_errors_free(&errs);
    return rc;
}

size_t sc_count(const struct sc_sweep *s)
{
    return s->nruns;
}

const struct cfg *sc_run(const struct sc_sweep *s, size_t i)
{
    assert(i < s->nruns);
    return &s->runs[i];
}

const char *sc_path(const struct sc_sweep *s)
{
    return s->path;
}

size_t sc_values(const struct sc_sweep *s, const struct opt_def *o)
{
    assert(o >= opt_table && o < opt_table + opt_count);
    return s->nvalues[o - opt_table];
}

void sc_label(const struct sc_sweep *s, size_t i, char *buf, size_t n)
{
    assert(n > 0);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < opt_count && used < n; k++) {
        if (s->nvalues[k] < 2)
            continue;
        char val[CFG_STR_MAX + 32];
        opt_format(&opt_table[k], sc_run(s, i), val, sizeof val);
        int w = snprintf(buf + used, n - used, "%s%s.%s=%s", used ? " " : "",
                         opt_table[k].section, opt_table[k].key, val);
        used += w < 0 ? 0 : (size_t)w;
    }
}

void sc_free(struct sc_sweep *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->runs);
    free(s->nvalues);
    free(s);
}
