/* cmd_place.c - `moesim place`: computes a placement on the first --train
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

#define PLACE_USAGE                                                                                \
    "place --trace FILE --policy P (--scenario FILE.ini | --gpus G [fabric])\n"                    \
    "        [--train F] [--replicas R] [--refine] [--seed S] [--ilp-time-limit-s T] [--csv]\n"    \
    "  fabric: [--leaves L] [--gpus-per-server N] [--gpu-gbps X] [--nvlink-gbps X]\n"              \
    "        [--leaf-uplink-gbps X] [--shard contiguous|round_robin] [--mode standard|coherent]\n" \
    "        [--bytes-per-token B] [--compute-us-per-token U]\n"                                   \
    "        expert placement on a trace, scored on its held-out tokens, on a scenario's fabric\n" \
    "        or on the flags' (not told: 1 leaf, 1 GPU per server, 400 Gb/s NICs, leaf uplinks\n"  \
    "        of GPUs per leaf x NIC speed, NOT oversubscribed, contiguous token homes, standard\n" \
    "        mode, 8192 bytes per token, 0.5 us per token-expert);\n"                              \
    "        P: " PL_POLICY_CHOICES

const struct cli_command cli_place = {"place", cmd_place, PLACE_USAGE};

static const struct argv_opt place_opts[] = {
    {"--trace", NULL, "FILE", 0,
     "the routing trace CSV (default with --scenario: its workload.trace)"},
    {"--gpus", NULL, "G", 0, "GPUs, 1..32768"},
    {"--policy", NULL, "P", 0, PL_POLICY_CHOICES},
    {"--scenario", NULL, "FILE", 0,
     "score the fabric a run of FILE.ini simulates ([topology]; [workload] shard, ep_mode, "
     "hidden x dtype_bytes, the compute model; [placement] w_compute, w_network); no fabric "
     "flag with it"},
    {"--leaves", NULL, "L", 0, "leaves the GPUs are split over evenly (default 1)"},
    {"--gpus-per-server", NULL, "N", 0, "GPUs per server on NVLink (default 1: no NVLink)"},
    {"--nvlink-gbps", NULL, "X", 0, "NVLink per GPU and direction (default 3600)"},
    {"--shard", NULL, "S", 0, "token homes: contiguous (default) or round_robin"},
    {"--train", NULL, "F", 0, "fraction of the tokens the placement is computed on (default 0.5)"},
    {"--replicas", NULL, "R", 0, "extra expert slots per layer (default 0)"},
    {"--refine", NULL, NULL, 0, "pairwise-swap local search after the policy"},
    {"--mode", NULL, "M", 0, "standard (default) or coherent"},
    {"--seed", NULL, "S", 0, "seed of random, affinity and refine (default 1)"},
    {"--gpu-gbps", NULL, "X", 0, "NIC per GPU and direction (default 400)"},
    {"--leaf-uplink-gbps", NULL, "X", 0, "per leaf (default: its GPUs' total, not oversubscribed)"},
    {"--bytes-per-token", NULL, "B", 0, "one token's activation (default 8192)"},
    {"--compute-us-per-token", NULL, "U", 0, "per (token, expert) (default 0.5)"},
    {"--ilp-time-limit-s", NULL, "T", 0, "GLPK's time limit for ilp (default 60)"},
    {"--csv", NULL, NULL, 0, "print the placement as layer,expert,gpu rows"},
};
static const struct argv_cmd place_args = {
    "moesim place", PLACE_USAGE, place_opts, sizeof place_opts / sizeof place_opts[0], 0, NULL};

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

/* Reads the options; 0, or -1 after printing why (exit 2). */
static int read_opts(const struct argv_res *a, long *gpus, long *leaves, long *per_server,
                     long *replicas, long *seed, double *train, double *ilp_time, double *uplink,
                     int *mode, int *shard, struct pl_fabric *f)
{
    if (argv_npos(a)) return argv_fail(a, "unexpected argument '%s'", argv_pos(a, 0)), -1;
    if (argv_long(a, "--gpus", 1, 32768, gpus) || argv_long(a, "--leaves", 1, 32768, leaves) ||
        argv_long(a, "--gpus-per-server", 1, 32768, per_server) ||
        argv_real(a, "--train", 0, 1, train) || argv_long(a, "--replicas", 0, 1 << 20, replicas) ||
        argv_choice(a, "--mode", "standard|coherent", mode) ||
        argv_choice(a, "--shard", "contiguous|round_robin", shard) ||
        argv_long(a, "--seed", 0, 2147483647, seed) ||
        argv_real(a, "--gpu-gbps", 1e-6, 1e9, &f->gpu_gbps) ||
        argv_real(a, "--nvlink-gbps", 1e-6, 1e9, &f->nvlink_gbps) ||
        argv_real(a, "--leaf-uplink-gbps", 1e-6, 1e12, uplink) ||
        argv_real(a, "--bytes-per-token", 0, 1e12, &f->bytes_per_token) ||
        argv_real(a, "--compute-us-per-token", 0, 1e9, &f->compute_us_per_token) ||
        argv_real(a, "--ilp-time-limit-s", 1e-3, 1e6, ilp_time))
        return -1;
    const char *scenario = argv_str(a, "--scenario", NULL);
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
        for (size_t i = 0; i < sizeof fabric_flags / sizeof fabric_flags[0]; i++)
            if (argv_count(a, fabric_flags[i]))
                return bad("%s: the fabric comes from --scenario %s", fabric_flags[i], scenario),
                       -1;
    } else {
        if (!argv_str(a, "--trace", NULL))
            return bad("--trace: missing (the routing trace CSV)"), -1;
        if (!*gpus) return bad("--gpus: missing (the number of GPUs)"), -1;
    }
    if (!argv_str(a, "--policy", NULL)) return bad("--policy: missing (" PL_POLICY_CHOICES ")"), -1;
    return 0;
}

int cmd_place(int argc, char **argv)
{
    long gpus = 0, leaves = 1, replicas = 0, seed = 1, per_server = 1;
    double train = 0.5, ilp_time = 60, uplink = -1;
    int mode = 0, shard = 0;
    char sc_trace[OPT_STR_MAX];
    struct pl_fabric f;
    pl_fabric_default(&f, 1, 1);
    struct argv_res a;
    if (argv_parse(&place_args, argc, argv, &a)) return a.status;
    if (read_opts(&a, &gpus, &leaves, &per_server, &replicas, &seed, &train, &ilp_time, &uplink,
                  &mode, &shard, &f))
        return MOESIM_EXIT_INPUT;
    const char *trace_path = argv_str(&a, "--trace", NULL),
               *policy = argv_str(&a, "--policy", NULL),
               *scenario = argv_str(&a, "--scenario", NULL);
    int refine = argv_count(&a, "--refine") > 0, csv = argv_count(&a, "--csv") > 0;
    if (scenario) {
        if (scenario_fabric(scenario, &f, sc_trace, sizeof sc_trace)) return MOESIM_EXIT_INPUT;
        if (!trace_path && sc_trace[0]) trace_path = sc_trace;
        if (!trace_path) return bad("--trace: missing (and %s sets no workload.trace)", scenario);
        mode = f.mode == PL_COHERENT;
    } else {
        f.mode = mode ? PL_COHERENT : PL_STANDARD;
        f.shard = shard ? PL_SHARD_ROUND_ROBIN : PL_SHARD_CONTIGUOUS;
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
               policy, refine ? "+refine" : "", pl.gpus, pl.leaves, mode ? "coherent" : "standard",
               pl.experts, pl.layers, pl.slots_per_gpu);
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
