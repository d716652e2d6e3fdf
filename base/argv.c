/* argv.c - the command-line parser of every subcommand (see argv.h). */
#include "base/argv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"

#define ARGV_MAX_OPTS 64 /* options of one command (the seen counts of a parse) */

/* One argument as the scanner read it. */
struct tok {
    enum { T_END, T_POS, T_OPT, T_HELP, T_ERR } kind;
    int index;                /* of the argument in argv */
    const struct argv_opt *o; /* T_OPT */
    const char *v;            /* T_OPT: its value (NULL: a flag); T_POS: the argument */
    const char *name;         /* T_OPT, T_ERR: the name as written ... */
    int namelen;              /* ... and its length (up to '=') */
};

struct scan {
    int i;  /* next argument */
    int dd; /* after "--": everything is positional */
};

/* The option whose name or alias is name[0..n), or NULL. */
static const struct argv_opt *find(const struct argv_cmd *c, const char *name, size_t n)
{
    for (size_t k = 0; k < c->nopts; k++) {
        const struct argv_opt *o = &c->opts[k];
        if ((strlen(o->name) == n && !strncmp(o->name, name, n)) ||
            (o->alias && strlen(o->alias) == n && !strncmp(o->alias, name, n)))
            return o;
    }
    return NULL;
}

static int is_help(const char *name, size_t n)
{
    return (n == 6 && !strncmp(name, "--help", 6)) || (n == 2 && !strncmp(name, "-h", 2));
}

/* Whether s, where a value should be, is rather an option: "--anything", or
 * one of the command's short names (and "-h"). */
static int looks_like_option(const struct argv_cmd *c, const char *s)
{
    if (s[0] != '-' || s[1] == '\0') return 0;
    if (s[1] == '-') return 1;
    size_t n = strcspn(s, "=");
    if (is_help(s, n)) return 1;
    const struct argv_opt *o = find(c, s, n);
    return o != NULL;
}

/* Reads the next argument; T_ERR with why set (the reason, after the name). */
static struct tok next(const struct argv_cmd *c, int argc, char **argv, struct scan *s,
                       const char **why)
{
    struct tok t = {T_END, s->i, NULL, NULL, NULL, 0};
    if (s->i >= argc) return t;
    const char *a = argv[s->i++];
    if (!s->dd && !strcmp(a, "--")) {
        s->dd = 1;
        return next(c, argc, argv, s, why);
    }
    if (s->dd || a[0] != '-' || a[1] == '\0') {
        t.kind = T_POS;
        t.v = a;
        return t;
    }
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    t.name = a;
    t.namelen = (int)n;
    t.o = find(c, a, n);
    if (!t.o && is_help(a, n)) {
        t.kind = eq ? T_ERR : T_HELP;
        *why = "takes no value";
        return t;
    }
    t.kind = T_ERR;
    if (!t.o) {
        *why = "unknown option";
        return t;
    }
    if (!t.o->value) {
        if (eq) {
            *why = "takes no value";
            return t;
        }
        t.kind = T_OPT;
        return t;
    }
    if (eq) {
        t.v = eq + 1;
    } else if (s->i < argc && !looks_like_option(c, argv[s->i])) {
        t.v = argv[s->i++];
    } else {
        *why = "missing value";
        return t;
    }
    t.kind = T_OPT;
    return t;
}

void argv_print_help(const struct argv_cmd *c, FILE *f)
{
    if (c->help) {
        c->help(f);
        return;
    }
    fprintf(f, "usage: moesim %s\n", c->usage);
    fprintf(f, "options:\n");
    for (size_t k = 0; k <= c->nopts; k++) {
        const struct argv_opt help = {"--help", "-h", NULL, 0, "print this help and exit"};
        const struct argv_opt *o = k < c->nopts ? &c->opts[k] : &help;
        char left[96];
        snprintf(left, sizeof left, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
                 o->name, o->value ? " " : "", o->value ? o->value : "");
        if (strlen(left) > 22)
            fprintf(f, "  %s\n  %-22s  %s\n", left, "", o->help);
        else
            fprintf(f, "  %-22s  %s\n", left, o->help);
    }
}

int argv_parse(const struct argv_cmd *c, int argc, char **argv, struct argv_res *r)
{
    *r = (struct argv_res){c, argc, argv, argc, 0};
    if (c->nopts > ARGV_MAX_OPTS) err_fatal("%s: more than %d options", c->prog, ARGV_MAX_OPTS);
    unsigned char seen[ARGV_MAX_OPTS] = {0};
    struct scan s = {1, 0};
    for (;;) {
        const char *why = NULL;
        struct tok t = next(c, argc, argv, &s, &why);
        switch (t.kind) {
        case T_END:
            return 0;
        case T_POS:
            if (c->stop_at_positional) {
                r->end = t.index;
                return 0;
            }
            continue;
        case T_HELP:
            argv_print_help(c, stdout);
            r->status = 0;
            return -1;
        case T_ERR:
            fprintf(stderr, "%s: %.*s: %s\n", c->prog, t.namelen, t.name, why);
            r->status = MOESIM_EXIT_INPUT;
            return -1;
        case T_OPT: {
            size_t k = (size_t)(t.o - c->opts);
            if (seen[k] && !(t.o->flags & ARGV_REPEAT)) {
                fprintf(stderr, "%s: %.*s: given more than once\n", c->prog, t.namelen, t.name);
                r->status = MOESIM_EXIT_INPUT;
                return -1;
            }
            seen[k] = 1;
            continue;
        }
        }
    }
}

/* The table's row for `name` (a programming error when there is none). */
static const struct argv_opt *row(const struct argv_res *r, const char *name)
{
    const struct argv_opt *o = find(r->cmd, name, strlen(name));
    if (!o) err_fatal("%s: no option %s in its table", r->cmd->prog, name);
    return o;
}

/* The next occurrence of option o from *s (before r->end), or T_END. */
static struct tok next_of(const struct argv_res *r, const struct argv_opt *o, struct scan *s)
{
    for (;;) {
        const char *why;
        struct tok t = next(r->cmd, r->end, r->argv, s, &why);
        if (t.kind == T_END || (t.kind == T_OPT && t.o == o)) return t;
    }
}

int argv_count(const struct argv_res *r, const char *name)
{
    const struct argv_opt *o = row(r, name);
    struct scan s = {1, 0};
    int n = 0;
    while (next_of(r, o, &s).kind != T_END)
        n++;
    return n;
}

/* The last occurrence of `name`, or T_END. */
static struct tok last(const struct argv_res *r, const char *name)
{
    const struct argv_opt *o = row(r, name);
    struct scan s = {1, 0};
    struct tok t = {T_END, 0, NULL, NULL, NULL, 0};
    for (struct tok u; (u = next_of(r, o, &s)).kind != T_END;)
        t = u;
    return t;
}

const char *argv_str(const struct argv_res *r, const char *name, const char *def)
{
    struct tok t = last(r, name);
    return t.kind == T_END ? def : t.v;
}

const char *argv_each(const struct argv_res *r, const char *name, int *pos)
{
    const struct argv_opt *o = row(r, name);
    /* *pos: where the previous call stopped, and whether after "--" */
    struct scan s = *pos ? (struct scan){*pos >> 1, *pos & 1} : (struct scan){1, 0};
    struct tok t = next_of(r, o, &s);
    *pos = s.i << 1 | s.dd;
    return t.kind == T_END ? NULL : t.v;
}

int argv_npos(const struct argv_res *r)
{
    struct scan s = {1, 0};
    int n = 0;
    for (;;) {
        const char *why;
        struct tok t = next(r->cmd, r->end, r->argv, &s, &why);
        if (t.kind == T_END) return n;
        n += t.kind == T_POS;
    }
}

const char *argv_pos(const struct argv_res *r, int k)
{
    struct scan s = {1, 0};
    for (;;) {
        const char *why;
        struct tok t = next(r->cmd, r->end, r->argv, &s, &why);
        if (t.kind == T_END) return NULL;
        if (t.kind == T_POS && k-- == 0) return t.v;
    }
}

int argv_rest(const struct argv_res *r, char ***argv)
{
    *argv = r->argv + r->end;
    return r->argc - r->end;
}

static int bad_value(const struct argv_res *r, const struct tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad_value(const struct argv_res *r, const struct tok *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: %.*s: ", r->cmd->prog, t->namelen, t->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, ", got '%s'\n", t->v);
    va_end(ap);
    return -1;
}

int argv_long(const struct argv_res *r, const char *name, long lo, long hi, long *out)
{
    struct tok t = last(r, name);
    if (t.kind == T_END) return 0;
    char *end;
    errno = 0;
    long v = strtol(t.v, &end, 10);
    if (errno || end == t.v || *end || v < lo || v > hi)
        return bad_value(r, &t, "expected an integer in [%ld, %ld]", lo, hi);
    *out = v;
    return 0;
}

int argv_real(const struct argv_res *r, const char *name, double lo, double hi, double *out)
{
    struct tok t = last(r, name);
    if (t.kind == T_END) return 0;
    char *end;
    errno = 0;
    double v = strtod(t.v, &end);
    if (errno == ERANGE || end == t.v || *end || !isfinite(v) || v < lo || v > hi) {
        if (isinf(lo) && isinf(hi)) return bad_value(r, &t, "expected a number");
        return bad_value(r, &t, "expected a number in [%g, %g]", lo, hi);
    }
    *out = v;
    return 0;
}

int argv_u64(const struct argv_res *r, const char *name, uint64_t *out)
{
    struct tok t = last(r, name);
    if (t.kind == T_END) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(t.v, &end, 10);
    if (errno || end == t.v || *end || t.v[0] < '0' || t.v[0] > '9')
        return bad_value(r, &t, "expected a non-negative integer");
    *out = (uint64_t)v;
    return 0;
}

int argv_choice(const struct argv_res *r, const char *name, const char *choices, int *out)
{
    struct tok t = last(r, name);
    if (t.kind == T_END) return 0;
    int i = opt_choice_index(choices, t.v);
    if (i < 0) return bad_value(r, &t, "expected %s", choices);
    *out = i;
    return 0;
}

int argv_fail(const struct argv_res *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", r->cmd->prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return MOESIM_EXIT_INPUT;
}
