/* trace_cli.c - `moesim trace`: statistics, import, generation and fitting of
 * routing traces (workloads/README.md). Errors go to stderr as one line, the
 * exit status is 2 for bad input or I/O, 0 otherwise. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "base/err.h"
#include "workloads/trace.h"
#include "workloads/trace_counts.h"
#include "workloads/trace_gen.h"
#include "workloads/trace_import.h"
#include "workloads/trace_stats.h"

#define FIT_SEQUENCES 16
#define FIT_TOKENS    1024

static const char *const usage_text =
    "usage: moesim trace stats FILE [--csv] [--counts [--topk K]] [--max-tokens N]\n"
    "       moesim trace import FILE.jsonl -o FILE.csv [--model NAME] [--experts E]\n"
    "       moesim trace gen --experts E --topk K --layers L --sequences S --tokens T\n"
    "                        [--seed N] [--zipf s] [--affinity a] -o FILE.csv\n"
    "       moesim trace fit FILE [--counts [--topk K]] [--max-tokens N]\n"
    "                        [--sequences S] [--tokens T] [--seed N]\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("moesim trace: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return MOESIM_EXIT_INPUT;
}

static int fail_err(const struct err *e)
{
    fprintf(stderr, "%s\n", e->msg);
    return MOESIM_EXIT_INPUT;
}

/* The options of one subcommand: a flag, an integer, a number or a string,
 * given as "--name value" or "--name=value". */
enum tc_opt_type { O_FLAG, O_LONG, O_DOUBLE, O_STR };
struct opt {
    const char *name;
    enum tc_opt_type type;
    void *out;
    long lo, hi;
    int seen;
};

static int parse_opts(int argc, char **argv, struct opt *opts, const char **file)
{
    *file = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) {
            if (*file) return bad("unexpected argument '%s'", a);
            *file = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        struct opt *o = opts;
        while (o->name && (strlen(o->name) != n || strncmp(o->name, a, n)))
            o++;
        if (!o->name) return bad("unknown option '%s'\n%s", a, usage_text);
        o->seen = 1;
        if (o->type == O_FLAG) {
            if (eq) return bad("%s takes no value", o->name);
            *(int *)o->out = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) return bad("%s needs a value", o->name);
        char *end;
        errno = 0;
        if (o->type == O_LONG) {
            long x = strtol(v, &end, 10);
            if (end == v || *end || errno || x < o->lo || x > o->hi)
                return bad("%s '%s': not an integer in [%ld, %ld]", o->name, v, o->lo, o->hi);
            *(long *)o->out = x;
        } else if (o->type == O_DOUBLE) {
            double x = strtod(v, &end);
            if (end == v || *end || !isfinite(x)) return bad("%s '%s': not a number", o->name, v);
            *(double *)o->out = x;
        } else {
            *(const char **)o->out = v;
        }
    }
    return 0;
}

static int load_stats(const char *file, int counts, long topk, long max_tokens,
                      struct trace_stats *s, struct trace *t, struct trace_counts *c,
                      int *is_counts)
{
    struct err e;
    *is_counts = counts || trace_counts_sniff(file);
    if (*is_counts) {
        if (trace_counts_load(file, c, &e)) return fail_err(&e);
        if (topk > c->experts) {
            trace_counts_free(c);
            return bad("--topk %ld exceeds the %d experts of %s", topk, c->experts, file);
        }
        trace_counts_stats(c, (int)topk, s);
        return 0;
    }
    if (trace_load(file, (size_t)max_tokens, t, &e)) return fail_err(&e);
    trace_stats_compute(t, s);
    return 0;
}

static int cmd_stats(int argc, char **argv)
{
    int csv = 0, counts = 0;
    long topk = 1, max_tokens = 0;
    struct opt opts[] = {{"--csv", O_FLAG, &csv, 0, 0, 0},
                         {"--counts", O_FLAG, &counts, 0, 0, 0},
                         {"--topk", O_LONG, &topk, 1, TRACE_MAX_TOPK, 0},
                         {"--max-tokens", O_LONG, &max_tokens, 0, INT32_MAX, 0},
                         {NULL, O_FLAG, NULL, 0, 0, 0}};
    const char *file;
    int rc = parse_opts(argc, argv, opts, &file);
    if (rc) return rc;
    if (!file) return bad("stats needs a FILE\n%s", usage_text);
    struct trace t;
    struct trace_counts c;
    struct trace_stats s;
    int is_counts;
    if ((rc = load_stats(file, counts, topk, max_tokens, &s, &t, &c, &is_counts))) return rc;
    if (csv) {
        trace_stats_write_csv(stdout, &s);
    } else if (is_counts) {
        printf("%s: per-layer counts, %d experts, top-%ld, %d layers (no affinity)\n", file,
               c.experts, topk, c.layers);
        trace_stats_print(stdout, &s);
    } else {
        printf("%s: model %s, %d experts, top-%d, %d layers, %zu tokens, %zu (token, layer) "
               "missing\n",
               file, t.model[0] ? t.model : "?", t.experts, t.topk, t.layers, t.tokens, t.missing);
        trace_stats_print(stdout, &s);
    }
    trace_stats_free(&s);
    if (is_counts)
        trace_counts_free(&c);
    else
        trace_free(&t);
    if (fflush(stdout)) return bad("write error: %s", strerror(errno));
    return 0;
}

static int cmd_import(int argc, char **argv)
{
    const char *out = NULL, *model = NULL;
    long experts = 0;
    struct opt opts[] = {{"-o", O_STR, &out, 0, 0, 0},
                         {"--model", O_STR, &model, 0, 0, 0},
                         {"--experts", O_LONG, &experts, 1, TRACE_MAX_EXPERTS, 0},
                         {NULL, O_FLAG, NULL, 0, 0, 0}};
    const char *file;
    int rc = parse_opts(argc, argv, opts, &file);
    if (rc) return rc;
    if (!file || !out) return bad("import needs FILE.jsonl and -o FILE.csv\n%s", usage_text);
    struct trace t;
    struct err e;
    if (trace_import_jsonl(file, model, (int)experts, &t, &e)) return fail_err(&e);
    rc = trace_write_csv(out, &t, &e);
    if (rc == 0 && strcmp(out, "-"))
        fprintf(stderr,
                "%s: %zu tokens, %d experts, top-%d, %d layers, %zu (token, layer) "
                "missing\n",
                out, t.tokens, t.experts, t.topk, t.layers, t.missing);
    trace_free(&t);
    return rc ? fail_err(&e) : 0;
}

static int cmd_gen(int argc, char **argv)
{
    long experts = 0, topk = 0, layers = 0, sequences = 0, tokens = 0, seed = 1;
    double zipf = 0, affinity = 0;
    const char *out = NULL;
    struct opt opts[] = {{"--experts", O_LONG, &experts, 1, TRACE_MAX_EXPERTS, 0},
                         {"--topk", O_LONG, &topk, 1, TRACE_MAX_TOPK, 0},
                         {"--layers", O_LONG, &layers, 1, TRACE_MAX_LAYERS, 0},
                         {"--sequences", O_LONG, &sequences, 1, INT32_MAX, 0},
                         {"--tokens", O_LONG, &tokens, 1, INT32_MAX, 0},
                         {"--seed", O_LONG, &seed, 0, LONG_MAX, 0},
                         {"--zipf", O_DOUBLE, &zipf, 0, 0, 0},
                         {"--affinity", O_DOUBLE, &affinity, 0, 0, 0},
                         {"-o", O_STR, &out, 0, 0, 0},
                         {NULL, O_FLAG, NULL, 0, 0, 0}};
    const char *file;
    int rc = parse_opts(argc, argv, opts, &file);
    if (rc) return rc;
    if (file) return bad("unexpected argument '%s'", file);
    for (int i = 0; i < 5; i++)
        if (!opts[i].seen) return bad("gen needs %s\n%s", opts[i].name, usage_text);
    if (!out) return bad("gen needs -o FILE.csv\n%s", usage_text);
    struct trace_gen_params p = {(int)experts, (int)topk,           (int)layers, (int)sequences,
                                 (int)tokens,  (unsigned long)seed, zipf,        affinity};
    struct err e;
    if (trace_gen_check(&p, &e)) return bad("%s", e.msg);
    if (trace_gen_write(&p, out, &e)) return fail_err(&e);
    return 0;
}

static int cmd_fit(int argc, char **argv)
{
    int counts = 0;
    long topk = 1, max_tokens = 0, sequences = FIT_SEQUENCES, tokens = FIT_TOKENS, seed = 1;
    struct opt opts[] = {{"--counts", O_FLAG, &counts, 0, 0, 0},
                         {"--topk", O_LONG, &topk, 1, TRACE_MAX_TOPK, 0},
                         {"--max-tokens", O_LONG, &max_tokens, 0, INT32_MAX, 0},
                         {"--sequences", O_LONG, &sequences, 1, INT32_MAX, 0},
                         {"--tokens", O_LONG, &tokens, 1, INT32_MAX, 0},
                         {"--seed", O_LONG, &seed, 0, LONG_MAX, 0},
                         {NULL, O_FLAG, NULL, 0, 0, 0}};
    const char *file;
    int rc = parse_opts(argc, argv, opts, &file);
    if (rc) return rc;
    if (!file) return bad("fit needs a FILE\n%s", usage_text);
    struct trace_fit f;
    struct err e;
    int is_counts = counts || trace_counts_sniff(file);
    if (is_counts) {
        struct trace_counts c;
        if (trace_counts_load(file, &c, &e)) return fail_err(&e);
        rc = topk > c.experts ? -1 : trace_fit_counts(&c, (int)topk, &f, &e);
        if (topk > c.experts)
            snprintf(e.msg, sizeof e.msg, "--topk %ld exceeds the %d experts of %s", topk,
                     c.experts, file);
        trace_counts_free(&c);
    } else {
        struct trace t;
        if (trace_load(file, (size_t)max_tokens, &t, &e)) return fail_err(&e);
        rc = trace_fit_trace(&t, &f, &e);
        trace_free(&t);
    }
    if (rc) return fail_err(&e);
    printf("source     %s (%s, %zu tokens)\n", file, is_counts ? "per-layer counts" : "trace",
           f.tokens);
    printf("experts    %d\ntopk       %d\nlayers     %d\n", f.experts, f.topk, f.layers);
    printf("zipf       %.4f\naffinity   %.4f%s\n", f.zipf, f.affinity,
           is_counts ? " (counts carry no affinity)" : "");
    printf("imbalance  source %.4f  fitted model %.4f  (mean over layers)\n", f.target_imbalance,
           f.model_imbalance);
    if (!isnan(f.target_affinity))
        printf("affinity   source %.4f  fitted model %.4f  (mean over layers)\n", f.target_affinity,
               f.model_affinity);
    struct trace_gen_params p = {f.experts,      f.topk,      f.layers,
                                 (int)sequences, (int)tokens, (unsigned long)seed,
                                 f.zipf,         f.affinity};
    char cmd[512];
    trace_gen_cmdline(&p, "fitted.csv", cmd, sizeof cmd);
    printf("%s\n", cmd);
    return 0;
}

int wl_trace_cli(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return MOESIM_EXIT_INPUT;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "stats")) return cmd_stats(argc - 2, argv + 2);
    if (!strcmp(sub, "import")) return cmd_import(argc - 2, argv + 2);
    if (!strcmp(sub, "gen")) return cmd_gen(argc - 2, argv + 2);
    if (!strcmp(sub, "fit")) return cmd_fit(argc - 2, argv + 2);
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    return bad("unknown subcommand '%s'\n%s", sub, usage_text);
}
