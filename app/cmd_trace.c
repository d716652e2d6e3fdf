/* cmd_trace.c - `moesim trace`: statistics, import, generation and fitting of
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

#define TRACE_STATS_USAGE                                                                          \
    "trace stats FILE [--csv] [--counts [--topk K]] [--max-tokens N]\n"                            \
    "        per-layer tokens, load imbalance, entropy and inter-layer affinity of a trace"
#define TRACE_IMPORT_USAGE                                                                         \
    "trace import FILE.jsonl -o FILE.csv [--model NAME] [--experts E]\n"                           \
    "        a trace from a serving engine's JSON-lines router log"
#define TRACE_GEN_USAGE                                                                            \
    "trace gen --experts E --topk K --layers L --sequences S --tokens T\n"                         \
    "        [--seed N] [--zipf s] [--affinity a] -o FILE.csv\n"                                   \
    "        a synthetic trace: Zipf expert popularity, Markov layer-to-layer affinity"
#define TRACE_FIT_USAGE                                                                            \
    "trace fit FILE [--counts [--topk K]] [--max-tokens N] [--sequences S] [--tokens T]\n"         \
    "        [--seed N]\n"                                                                         \
    "        the gen parameters fitted to a trace (or per-layer counts), as a gen command line"
#define TRACE_USAGE                                                                                \
    TRACE_STATS_USAGE "\n  moesim " TRACE_IMPORT_USAGE "\n  moesim " TRACE_GEN_USAGE               \
                      "\n  moesim " TRACE_FIT_USAGE

const struct cli_command cli_trace = {"trace", cmd_trace, TRACE_USAGE};

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

#define N(opts) (sizeof opts / sizeof opts[0])

/* Parses a subcommand's command line; its one positional FILE (or none) in
 * *file. 0, or the exit status. */
static int parse(const struct argv_cmd *c, int argc, char **argv, struct argv_res *a,
                 const char **file)
{
    if (argv_parse(c, argc, argv, a)) return a->status ? a->status : -1;
    if (argv_npos(a) > 1) return bad("unexpected argument '%s'", argv_pos(a, 1));
    *file = argv_pos(a, 0);
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

static const struct argv_opt stats_opts[] = {
    {"--csv", NULL, NULL, 0, "the statistics as CSV"},
    {"--counts", NULL, NULL, 0, "FILE holds per-layer expert counts (recognised by its header)"},
    {"--topk", NULL, "K", 0, "counts: experts per token (default 1)"},
    {"--max-tokens", NULL, "N", 0, "read at most N tokens (default 0: all)"},
};
static const struct argv_cmd stats_args = {
    "moesim trace", TRACE_STATS_USAGE, stats_opts, N(stats_opts), 0, NULL};

static int cmd_stats(int argc, char **argv)
{
    long topk = 1, max_tokens = 0;
    struct argv_res a;
    const char *file;
    int rc = parse(&stats_args, argc, argv, &a, &file);
    if (rc) return rc < 0 ? 0 : rc;
    if (argv_long(&a, "--topk", 1, TRACE_MAX_TOPK, &topk) ||
        argv_long(&a, "--max-tokens", 0, INT32_MAX, &max_tokens))
        return MOESIM_EXIT_INPUT;
    int csv = argv_count(&a, "--csv") > 0, counts = argv_count(&a, "--counts") > 0;
    if (!file) return bad("stats needs a FILE");
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

static const struct argv_opt import_opts[] = {
    {"-o", NULL, "FILE.csv", 0, "the trace to write (- for stdout)"},
    {"--model", NULL, "NAME", 0, "the model's name in the trace's header"},
    {"--experts", NULL, "E", 0, "experts per layer (default: the largest id + 1)"},
};
static const struct argv_cmd import_args = {
    "moesim trace", TRACE_IMPORT_USAGE, import_opts, N(import_opts), 0, NULL};

static int cmd_import(int argc, char **argv)
{
    long experts = 0;
    struct argv_res a;
    const char *file;
    int rc = parse(&import_args, argc, argv, &a, &file);
    if (rc) return rc < 0 ? 0 : rc;
    if (argv_long(&a, "--experts", 1, TRACE_MAX_EXPERTS, &experts)) return MOESIM_EXIT_INPUT;
    const char *out = argv_str(&a, "-o", NULL), *model = argv_str(&a, "--model", NULL);
    if (!file || !out) return bad("import needs FILE.jsonl and -o FILE.csv");
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

static const struct argv_opt gen_opts[] = {
    {"--experts", NULL, "E", 0, "experts per layer"},
    {"--topk", NULL, "K", 0, "experts per token"},
    {"--layers", NULL, "L", 0, "MoE layers"},
    {"--sequences", NULL, "S", 0, "sequences"},
    {"--tokens", NULL, "T", 0, "tokens per sequence"},
    {"--seed", NULL, "N", 0, "the generator's seed (default 1)"},
    {"--zipf", NULL, "s", 0, "Zipf exponent of expert popularity (default 0: uniform)"},
    {"--affinity", NULL, "a", 0, "weight of the layer-to-layer Markov affinity (default 0)"},
    {"-o", NULL, "FILE.csv", 0, "the trace to write"},
};
static const struct argv_cmd gen_args = {
    "moesim trace", TRACE_GEN_USAGE, gen_opts, N(gen_opts), 0, NULL};

static int cmd_gen(int argc, char **argv)
{
    long experts = 0, topk = 0, layers = 0, sequences = 0, tokens = 0, seed = 1;
    double zipf = 0, affinity = 0;
    struct argv_res a;
    const char *file;
    int rc = parse(&gen_args, argc, argv, &a, &file);
    if (rc) return rc < 0 ? 0 : rc;
    if (argv_long(&a, "--experts", 1, TRACE_MAX_EXPERTS, &experts) ||
        argv_long(&a, "--topk", 1, TRACE_MAX_TOPK, &topk) ||
        argv_long(&a, "--layers", 1, TRACE_MAX_LAYERS, &layers) ||
        argv_long(&a, "--sequences", 1, INT32_MAX, &sequences) ||
        argv_long(&a, "--tokens", 1, INT32_MAX, &tokens) ||
        argv_long(&a, "--seed", 0, LONG_MAX, &seed) ||
        argv_real(&a, "--zipf", -HUGE_VAL, HUGE_VAL, &zipf) ||
        argv_real(&a, "--affinity", -HUGE_VAL, HUGE_VAL, &affinity))
        return MOESIM_EXIT_INPUT;
    if (file) return bad("unexpected argument '%s'", file);
    for (int i = 0; i < 5; i++)
        if (!argv_count(&a, gen_opts[i].name)) return bad("gen needs %s", gen_opts[i].name);
    const char *out = argv_str(&a, "-o", NULL);
    if (!out) return bad("gen needs -o FILE.csv");
    struct trace_gen_params p = {(int)experts, (int)topk,           (int)layers, (int)sequences,
                                 (int)tokens,  (unsigned long)seed, zipf,        affinity};
    struct err e;
    if (trace_gen_check(&p, &e)) return bad("%s", e.msg);
    if (trace_gen_write(&p, out, &e)) return fail_err(&e);
    return 0;
}

static const struct argv_opt fit_opts[] = {
    {"--counts", NULL, NULL, 0, "FILE holds per-layer expert counts (recognised by its header)"},
    {"--topk", NULL, "K", 0, "counts: experts per token (default 1)"},
    {"--max-tokens", NULL, "N", 0, "read at most N tokens (default 0: all)"},
    {"--sequences", NULL, "S", 0, "sequences of the gen command line printed (default 16)"},
    {"--tokens", NULL, "T", 0, "tokens per sequence of that command line (default 1024)"},
    {"--seed", NULL, "N", 0, "its seed (default 1)"},
};
static const struct argv_cmd fit_args = {
    "moesim trace", TRACE_FIT_USAGE, fit_opts, N(fit_opts), 0, NULL};

static int cmd_fit(int argc, char **argv)
{
    long topk = 1, max_tokens = 0, sequences = FIT_SEQUENCES, tokens = FIT_TOKENS, seed = 1;
    struct argv_res a;
    const char *file;
    int rc = parse(&fit_args, argc, argv, &a, &file);
    if (rc) return rc < 0 ? 0 : rc;
    if (argv_long(&a, "--topk", 1, TRACE_MAX_TOPK, &topk) ||
        argv_long(&a, "--max-tokens", 0, INT32_MAX, &max_tokens) ||
        argv_long(&a, "--sequences", 1, INT32_MAX, &sequences) ||
        argv_long(&a, "--tokens", 1, INT32_MAX, &tokens) ||
        argv_long(&a, "--seed", 0, LONG_MAX, &seed))
        return MOESIM_EXIT_INPUT;
    int counts = argv_count(&a, "--counts") > 0;
    if (!file) return bad("fit needs a FILE");
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

static const struct argv_cmd trace_args = {"moesim trace", TRACE_USAGE, NULL, 0, 1, NULL};

int cmd_trace(int argc, char **argv)
{
    struct argv_res a;
    if (argv_parse(&trace_args, argc, argv, &a)) return a.status;
    char **sub;
    int n = argv_rest(&a, &sub);
    if (n == 0) return bad("no subcommand (stats, import, gen or fit; see moesim trace --help)");
    if (!strcmp(sub[0], "stats")) return cmd_stats(n, sub);
    if (!strcmp(sub[0], "import")) return cmd_import(n, sub);
    if (!strcmp(sub[0], "gen")) return cmd_gen(n, sub);
    if (!strcmp(sub[0], "fit")) return cmd_fit(n, sub);
    if (!strcmp(sub[0], "help")) {
        argv_print_help(&trace_args, stdout);
        return 0;
    }
    return bad("unknown subcommand '%s'", sub[0]);
}
