/* place_cli.c - `moesim place`: computes a placement on the first --train
 * fraction of a trace's tokens and reports it on the held-out rest (per-layer
 * GPU loads, transfers crossing GPUs, servers and leaves, the shared cost), or
 * prints it as layer,expert,gpu rows with --csv. The fabric it scores is
 * either a scenario's (--scenario: built as a run builds it and read through
 * the same views, wl_moe_fabric) or given by flags, with the defaults the
 * usage states. Bad input: one line on stderr naming the option and the
 * reason, exit status 2. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cli.h"
#include "app/scenario.h"
#include "base/err.h"
#include "topo/topo.h"
#include "workloads/moe.h"
#include "workloads/place.h"
#include "workloads/trace.h"

static const char *const usage_text =
    "usage: moesim place --trace FILE --policy P (--scenario FILE.ini | --gpus G [fabric])\n"
    "                    [--train F] [--replicas R] [--refine] [--seed S]\n"
    "                    [--ilp-time-limit-s T] [--csv]\n"
    "  fabric: [--leaves L] [--gpus-per-server N] [--gpu-gbps X] [--nvlink-gbps X]\n"
    "          [--leaf-uplink-gbps X] [--shard contiguous|round_robin]\n"
    "          [--mode standard|coherent] [--bytes-per-token B] [--compute-us-per-token U]\n"
    "  P: contiguous|round_robin|random|load_greedy|eplb|affinity|moetuner|ilp\n"
    "  --scenario: the fabric a run of FILE.ini simulates ([topology]; [workload] shard,\n"
    "    ep_mode, hidden x dtype_bytes, the compute model; [placement] w_compute,\n"
    "    w_network), and its workload.trace unless --trace is given; no fabric flag with it.\n"
    "  Without --scenario, what is not given is assumed: 1 leaf, 1 GPU per server (no\n"
    "    NVLink; 3600 Gb/s when --gpus-per-server > 1), 400 Gb/s NICs, leaf uplinks of\n"
    "    GPUs per leaf x NIC speed (NOT oversubscribed), contiguous token homes, standard\n"
    "    mode, 8192 bytes per token, 0.5 us per token-expert.\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("moesim place: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return MOESIM_EXIT_INPUT;
}

enum kind { K_FLAG, K_INT, K_REAL, K_STR };
struct opt {
    const char *name;
    enum kind kind;
    void *out;
    double lo, hi; /* inclusive bounds of K_INT and K_REAL */
    int seen;
};

static int parse_value(struct opt *o, const char *v)
{
    char *end;
    errno = 0;
    if (o->kind == K_STR) {
        *(const char **)o->out = v;
        return 0;
    }
    double x = strtod(v, &end);
    if (o->kind == K_INT) {
        long n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < o->lo || n > o->hi)
            return bad("%s '%s': not an integer in [%.0f, %.0f]", o->name, v, o->lo, o->hi);
        *(long *)o->out = n;
        return 0;
    }
    if (errno || end == v || *end || !isfinite(x) || x < o->lo || x > o->hi)
        return bad("%s '%s': not a number in [%g, %g]", o->name, v, o->lo, o->hi);
    *(double *)o->out = x;
    return 0;
}

static int parse(int argc, char **argv, struct opt *opts)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        struct opt *o = opts;
        while (o->name && (strlen(o->name) != n || strncmp(o->name, a, n)))
            o++;
        if (!o->name) return bad("unknown option '%s'", a);
        o->seen = 1;
        if (o->kind == K_FLAG) {
            if (eq) return bad("%s takes no value", o->name);
            *(int *)o->out = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) return bad("%s needs a value", o->name);
        if (parse_value(o, v)) return MOESIM_EXIT_INPUT;
    }
    return 0;
}

/* pl_compute names scenario keys ("placement.gpu_gbps: ..."); say the option
 * ("--gpu-gbps: ...") instead. */
static int fail_pl(const struct err *e)
{
    const char *m = e->msg;
    if (strncmp(m, "placement.", 10)) return bad("%s", m);
    m += 10;
    char key[64];
    size_t n = strcspn(m, ":");
    if (n >= sizeof key) return bad("%s", e->msg);
    for (size_t i = 0; i < n; i++)
        key[i] = m[i] == '_' ? '-' : m[i];
    key[n] = 0;
    return bad("--%s%s", key, m + n);
}

static int print_csv(const struct pl_placement *pl)
{
    printf("layer,expert,gpu\n");
    char buf[3][24];
    for (int l = 0; l < pl->layers; l++)
        for (int x = 0; x < pl->experts; x++)
            for (int i = 0; i < pl_replicas(pl, l, x); i++) {
                snprintf(buf[0], sizeof buf[0], "%d", l);
                snprintf(buf[1], sizeof buf[1], "%d", x);
                snprintf(buf[2], sizeof buf[2], "%d", pl_replica_gpu(pl, l, x, i));
                for (int k = 0; k < 3; k++) {
                    if (trace_csv_field(stdout, buf[k])) return 1;
                    fputc(k < 2 ? ',' : '\n', stdout);
                }
            }
    return fflush(stdout) ? 1 : 0;
}

/* Options of a scenario that the fabric (wl_moe_fabric) is read from, besides
 * every [topology] key. */
static const char *const scenario_keys[][2] = {
    {"workload", "shard"},       {"workload", "ep_mode"},    {"workload", "hidden"},
    {"workload", "dtype_bytes"}, {"workload", "ffn"},        {"workload", "compute"},
    {"workload", "gpu_tflops"},  {"workload", "efficiency"}, {"workload", "expert_overhead_us"},
    {"placement", "w_compute"},  {"placement", "w_network"},
};

/* The fabric of the scenario at path (its one fabric: refused when a fabric
 * key is swept), and its workload.trace into trace (n bytes). */
static int scenario_fabric(const char *path, struct pl_fabric *f, char *trace, size_t n)
{
    struct sc_sweep *sw;
    struct err e;
    if (sc_load(path, NULL, 0, &sw, &e) < 0) return bad("--scenario: %s", e.msg);
    for (size_t i = 0; i < topo_options.n + sizeof scenario_keys / sizeof scenario_keys[0]; i++) {
        const struct opt_def *o = i < topo_options.n
                                      ? opt_of(&topo_options.defs[i])
                                      : opt_find(scenario_keys[i - topo_options.n][0],
                                                 scenario_keys[i - topo_options.n][1]);
        size_t v = o ? sc_values(sw, o) : 1;
        if (v > 1) {
            sc_free(sw);
            return bad("--scenario %s: %s.%s takes %zu values; moesim place scores one fabric",
                       path, o->section, o->key, v);
        }
    }
    const struct cfg *c = sc_run(sw, 0);
    struct wl_specs ws = {&c->wl, &c->pl, &c->sim, &c->tr, &c->out};
    struct topo *t = NULL;
    struct wl_compute comp;
    memset(&comp, 0, sizeof comp);
    if (topo_build(&c->topo, &t, &e) < 0 || wl_compute_init(&c->wl, &comp, &e) < 0) {
        topo_destroy(t);
        sc_free(sw);
        return bad("--scenario %s: %s", path, e.msg);
    }
    wl_moe_fabric(&ws, t, &comp, f);
    snprintf(trace, n, "%s", c->wl.trace);
    wl_compute_free(&comp);
    topo_destroy(t);
    sc_free(sw);
    return 0;
}

static void print_fabric(const struct pl_fabric *f, const char *scenario)
{
    printf("fabric: %d GPUs, %d per server", f->gpus, f->gpus_per_server);
    if (f->gpus_per_server > 1) printf(" (NVLink %g Gb/s)", f->nvlink_gbps);
    printf(", %d leaves; NIC %g Gb/s", f->leaves, f->gpu_gbps);
    if (f->leaves > 1)
        printf(", leaf uplink %g Gb/s (oversubscription %.3g:1)", f->leaf_uplink_gbps,
               f->gpu_gbps * (f->gpus / f->leaves) / f->leaf_uplink_gbps);
    printf("; %s token homes; %s\n",
           f->shard == PL_SHARD_ROUND_ROBIN ? "round_robin" : "contiguous",
           scenario ? scenario : "flags and defaults");
}

int wl_place_cli(int argc, char **argv)
{
    const char *trace_path = NULL, *policy = NULL, *mode = "standard", *shard = "contiguous";
    const char *scenario = NULL;
    char sc_trace[OPT_STR_MAX];
    long gpus = 0, leaves = 1, replicas = 0, seed = 1, per_server = 1;
    int refine = 0, csv = 0, help = 0;
    double train = 0.5, ilp_time = 60;
    struct pl_fabric f;
    pl_fabric_default(&f, 1, 1);
    double uplink = -1;
    struct opt opts[] = {
        {"--trace", K_STR, &trace_path, 0, 0, 0},
        {"--gpus", K_INT, &gpus, 1, 32768, 0},
        {"--leaves", K_INT, &leaves, 1, 32768, 0},
        {"--policy", K_STR, &policy, 0, 0, 0},
        {"--train", K_REAL, &train, 0, 1, 0},
        {"--replicas", K_INT, &replicas, 0, 1 << 20, 0},
        {"--refine", K_FLAG, &refine, 0, 0, 0},
        {"--mode", K_STR, &mode, 0, 0, 0},
        {"--seed", K_INT, &seed, 0, 2147483647, 0},
        {"--gpu-gbps", K_REAL, &f.gpu_gbps, 1e-6, 1e9, 0},
        {"--gpus-per-server", K_INT, &per_server, 1, 32768, 0},
        {"--nvlink-gbps", K_REAL, &f.nvlink_gbps, 1e-6, 1e9, 0},
        {"--shard", K_STR, &shard, 0, 0, 0},
        {"--leaf-uplink-gbps", K_REAL, &uplink, 1e-6, 1e12, 0},
        {"--bytes-per-token", K_REAL, &f.bytes_per_token, 0, 1e12, 0},
        {"--compute-us-per-token", K_REAL, &f.compute_us_per_token, 0, 1e9, 0},
        {"--ilp-time-limit-s", K_REAL, &ilp_time, 1e-3, 1e6, 0},
        {"--scenario", K_STR, &scenario, 0, 0, 0},
        {"--csv", K_FLAG, &csv, 0, 0, 0},
        {"--help", K_FLAG, &help, 0, 0, 0},
        {NULL, K_FLAG, NULL, 0, 0, 0},
    };
    if (parse(argc, argv, opts)) return MOESIM_EXIT_INPUT;
    if (help) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (scenario) {
        /* The flags that describe the fabric: the scenario does. */
        static const char *const fabric_flags[] = {"--gpus",
                                                   "--leaves",
                                                   "--mode",
                                                   "--gpu-gbps",
                                                   "--gpus-per-server",
                                                   "--nvlink-gbps",
                                                   "--shard",
                                                   "--leaf-uplink-gbps",
                                                   "--bytes-per-token",
                                                   "--compute-us-per-token"};
        for (struct opt *o = opts; o->name; o++)
            for (size_t i = 0; i < sizeof fabric_flags / sizeof fabric_flags[0]; i++)
                if (o->seen && !strcmp(o->name, fabric_flags[i]))
                    return bad("%s: the fabric comes from --scenario %s", o->name, scenario);
        if (scenario_fabric(scenario, &f, sc_trace, sizeof sc_trace)) return MOESIM_EXIT_INPUT;
        if (!trace_path && sc_trace[0]) trace_path = sc_trace;
        mode = f.mode == PL_COHERENT ? "coherent" : "standard";
    }
    if (!trace_path) return bad("--trace: missing (the routing trace CSV)");
    if (!gpus && !scenario) return bad("--gpus: missing (the number of GPUs)");
    if (!policy)
        return bad("--policy: missing (contiguous|round_robin|random|load_greedy|eplb|"
                   "affinity|moetuner|ilp)");
    if (!scenario) {
        if (!strcmp(mode, "standard"))
            f.mode = PL_STANDARD;
        else if (!strcmp(mode, "coherent"))
            f.mode = PL_COHERENT;
        else
            return bad("--mode '%s': not standard or coherent", mode);
        if (!strcmp(shard, "contiguous"))
            f.shard = PL_SHARD_CONTIGUOUS;
        else if (!strcmp(shard, "round_robin"))
            f.shard = PL_SHARD_ROUND_ROBIN;
        else
            return bad("--shard '%s': not contiguous or round_robin", shard);
        f.gpus = (int)gpus;
        f.leaves = (int)leaves;
        f.gpus_per_server = (int)per_server;
        f.leaf_uplink_gbps = uplink > 0 ? uplink : f.gpu_gbps * (double)gpus / (double)leaves;
    }

    struct err e;
    struct trace t;
    if (trace_load(trace_path, 0, &t, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return MOESIM_EXIT_INPUT;
    }
    size_t n_train = (size_t)floor(train * (double)t.tokens);
    if (n_train == 0 || n_train >= t.tokens) {
        size_t tokens = t.tokens;
        trace_free(&t);
        return bad("--train %g: the split of %zu tokens leaves no %s tokens", train, tokens,
                   n_train == 0 ? "training" : "held-out");
    }
    struct pl_params p = {.replicas = (int)replicas,
                          .refine = refine,
                          .seed = (uint64_t)seed,
                          .ilp_time_limit_s = ilp_time};
    struct pl_placement pl;
    clock_t c0 = clock();
    if (pl_compute(policy, &t, 0, n_train, &f, &p, &pl, &e)) {
        trace_free(&t);
        return fail_pl(&e);
    }
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    int rc = 0;
    if (csv) {
        rc = print_csv(&pl);
    } else {
        struct pl_stats s;
        pl_evaluate(&pl, &t, n_train, t.tokens, &f, &s);
        printf("placement %s%s: %d GPUs, %d leaves, %s mode, %d experts x %d layers, "
               "%d slots per GPU\n",
               policy, refine ? "+refine" : "", pl.gpus, pl.leaves, mode, pl.experts, pl.layers,
               pl.slots_per_gpu);
        print_fabric(&f, scenario);
        printf("profile: tokens [0, %zu); held out: tokens [%zu, %zu); computed in %.3f s\n",
               n_train, n_train, t.tokens, secs);
        printf("layer,max_load,mean_load,max_over_mean\n");
        for (int l = 0; l < s.layers; l++)
            printf("%d,%.1f,%.2f,%.3f\n", l, s.max_load[l], s.mean_load[l],
                   s.mean_load[l] > 0 ? s.max_load[l] / s.mean_load[l] : 0);
        printf("held-out: mean max/mean GPU load %.3f; %.0f %s, %.4f crossing GPUs, ",
               s.max_over_mean, s.transfers,
               f.mode == PL_STANDARD ? "dispatches" : "layer-to-layer transitions", s.cross_gpu);
        if (f.gpus_per_server > 1) printf("%.4f crossing servers, ", s.cross_server);
        printf("%.4f crossing leaves\n", s.cross_leaf);
        printf("held-out cost: %.3f us; training cost: %.3f us", s.cost, pl.cost_policy);
        if (refine) printf(", %.3f us after refine", pl.cost);
        printf("\n");
        if (pl.ilp_status == PL_ILP_OPTIMAL)
            printf("ilp: optimal (training cost %.3f us)\n", pl.ilp_bound);
        else if (pl.ilp_status == PL_ILP_FEASIBLE && isnan(pl.ilp_bound))
            printf("ilp: cut short by the time limit before a lower bound\n");
        else if (pl.ilp_status == PL_ILP_FEASIBLE)
            printf("ilp: cut short by the time limit, bound %.3f, gap %.4f\n", pl.ilp_bound,
                   pl.ilp_gap);
        pl_stats_free(&s);
    }
    pl_free(&pl);
    trace_free(&t);
    return rc;
}
