/* cmd_kernels.c - `moesim capture` and `moesim calibrate`: their command
 * lines (the options they share, then each one's own), into the option
 * structs of kernels/opts.h, then kn_capture or kn_calibrate. Bad input is
 * one line and exit status 2 before any file is written; a failure after
 * that, exit status 1. */
#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "base/opt.h"
#include "kernels/opts.h"

#define CAPTURE_USAGE                                                                              \
    "capture --preset mixtral|olmoe (--text FILE --tokens N | --states FILE.safetensors "          \
    "[--tokens N])\n"                                                                              \
    "        -o TRACE.csv [--layers L] [--weights FILE.safetensors] [--hidden H --ffn F "          \
    "--experts E\n"                                                                                \
    "        --topk K] [--seed S] [--device gpu|cpu] [--precision fp32|bf16|auto]\n"               \
    "        [--no-renorm|--renorm] [--threads T] [--chunk N] [--quiet]\n"                         \
    "        route the text's tokens (or the file's hidden_states rows) through L MoE blocks;\n"   \
    "        write every decision as a trace"
#define CALIBRATE_USAGE                                                                            \
    "calibrate --preset mixtral|olmoe -o CALIB.csv [--device gpu|cpu] [--max-tokens N]\n"          \
    "        [--repeats R] [--warmup W] [--hidden H --ffn F] [--seed S] [--threads T]\n"           \
    "        [--precision fp32|bf16|auto]\n"                                                       \
    "        time one expert's FFN against its token count (tokens,us rows)"

const struct cli_command cli_capture = {"capture", cmd_capture, CAPTURE_USAGE};
const struct cli_command cli_calibrate = {"calibrate", cmd_calibrate, CALIBRATE_USAGE};

#define PRECISIONS "fp32|bf16|auto"

/* The options both commands take (first in both tables). */
#define KN_SHARED_OPTS                                                                             \
    {"--preset", NULL, "P", 0, "the model's dimensions: mixtral or olmoe"},                        \
        {"-o", NULL, "FILE", 0, "the CSV file to write"},                                          \
        {"--device", NULL, "D", 0, "gpu or cpu (default: the GPU when there is one)"},             \
        {"--precision", NULL, "P", 0, PRECISIONS " (default auto)"},                               \
        {"--weights", NULL, "FILE", 0, "a safetensors checkpoint (default: seeded weights)"},      \
        {"--hidden", NULL, "H", 0, "hidden size (default: the preset's)"},                         \
        {"--ffn", NULL, "F", 0, "expert FFN size (default: the preset's)"},                        \
        {"--experts", NULL, "E", 0, "experts per layer (default: the preset's)"},                  \
        {"--topk", NULL, "K", 0, "experts per token (default: the preset's)"},                     \
        {"--layers", NULL, "L", 0, "MoE blocks (default: the preset's)"},                          \
        {"--seed", NULL, "S", 0, "seed of the weights (default 1)"},                               \
        {"--threads", NULL, "T", 0, "CPU threads, 1..64 (default 2)"},                             \
        {"--renorm", NULL, NULL, 0, "renormalise the top-k weights (default: the preset's)"},      \
    {                                                                                              \
        "--no-renorm", NULL, NULL, 0, "do not renormalise them"                                    \
    }

static const struct argv_opt capture_opts[] = {
    KN_SHARED_OPTS,
    {"--text", NULL, "FILE", 0, "the text whose words are the tokens"},
    {"--states", NULL, "FILE", 0, "a safetensors file whose hidden_states rows are the tokens"},
    {"--tokens", NULL, "N", 0, "tokens (with --text: required; the text repeats if short)"},
    {"--chunk", NULL, "N", 0, "tokens through the blocks at once (default: 256 MiB of state)"},
    {"--quiet", NULL, NULL, 0, "no progress lines"},
};
static const struct argv_cmd capture_args = {"moesim capture",
                                             CAPTURE_USAGE,
                                             capture_opts,
                                             sizeof capture_opts / sizeof capture_opts[0],
                                             0,
                                             NULL};

static const struct argv_opt calibrate_opts[] = {
    KN_SHARED_OPTS,
    {"--max-tokens", NULL, "N", 0, "the largest token count timed, 1..8192"},
    {"--repeats", NULL, "R", 0, "timed runs per count (their median is written)"},
    {"--warmup", NULL, "W", 0, "untimed runs before them"},
};
static const struct argv_cmd calibrate_args = {"moesim calibrate",
                                               CALIBRATE_USAGE,
                                               calibrate_opts,
                                               sizeof calibrate_opts / sizeof calibrate_opts[0],
                                               0,
                                               NULL};

/* The shared options into k; 0, or -1 after printing why. */
static int read_shared(const struct argv_res *a, struct kn_opts *k)
{
    kn_opts_init(k);
    if (argv_npos(a)) return argv_fail(a, "unexpected argument '%s'", argv_pos(a, 0)), -1;
    long hidden = 0, ffn = 0, experts = 0, topk = 0, layers = 0, threads = k->threads;
    int prec = -1;
    if (argv_long(a, "--hidden", 1, 1 << 20, &hidden) || argv_long(a, "--ffn", 1, 1 << 20, &ffn) ||
        argv_long(a, "--experts", 1, 32767, &experts) || argv_long(a, "--topk", 1, 32767, &topk) ||
        argv_long(a, "--layers", 1, 1 << 20, &layers) || argv_u64(a, "--seed", &k->seed) ||
        argv_long(a, "--threads", 1, 64, &threads) ||
        argv_choice(a, "--precision", PRECISIONS, &prec))
        return -1;
    if (argv_count(a, "--renorm") && argv_count(a, "--no-renorm"))
        return argv_fail(a, "--renorm: contradicts --no-renorm"), -1;
    k->preset = argv_str(a, "--preset", NULL);
    k->device = argv_str(a, "--device", NULL);
    k->weights = argv_str(a, "--weights", NULL);
    k->out = argv_str(a, "-o", NULL);
    k->hidden = (int)hidden, k->ffn = (int)ffn, k->experts = (int)experts;
    k->topk = (int)topk, k->layers = (int)layers, k->threads = (int)threads;
    if (argv_count(a, "--renorm") || argv_count(a, "--no-renorm"))
        k->renorm = argv_count(a, "--renorm") > 0;
    if (prec >= 0) {
        char name[8];
        struct err e;
        opt_choice_name(PRECISIONS, prec, name, sizeof name);
        kn_precision_parse(name, &k->precision, &e);
    }
    return 0;
}

/* The exit status of what kn_capture or kn_calibrate returned. */
static int finish(const struct argv_res *a, int rc, const struct err *e)
{
    if (rc == 0) return 0;
    argv_fail(a, "%s", e->msg);
    return rc == KN_BAD_INPUT ? MOESIM_EXIT_INPUT : 1;
}

int cmd_capture(int argc, char **argv)
{
    struct argv_res a;
    if (argv_parse(&capture_args, argc, argv, &a)) return a.status;
    struct kn_capture_opts o = {0};
    if (read_shared(&a, &o.k) || argv_long(&a, "--tokens", 1, 1L << 30, &o.tokens) ||
        argv_long(&a, "--chunk", 1, 1L << 24, &o.chunk))
        return MOESIM_EXIT_INPUT;
    o.text = argv_str(&a, "--text", NULL);
    o.states = argv_str(&a, "--states", NULL);
    o.quiet = argv_count(&a, "--quiet") > 0;
    struct err e;
    return finish(&a, kn_capture(&o, &e), &e);
}

int cmd_calibrate(int argc, char **argv)
{
    struct argv_res a;
    if (argv_parse(&calibrate_args, argc, argv, &a)) return a.status;
    struct kn_calibrate_opts o = {.warmup = -1};
    if (read_shared(&a, &o.k) || argv_long(&a, "--max-tokens", 1, 8192, &o.max_tokens) ||
        argv_long(&a, "--repeats", 1, 10000, &o.repeats) ||
        argv_long(&a, "--warmup", 0, 10000, &o.warmup))
        return MOESIM_EXIT_INPUT;
    struct err e;
    return finish(&a, kn_calibrate(&o, &e), &e);
}
