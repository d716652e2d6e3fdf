/* options.c - the option table and its typed parsing (see options.h). */
#include "app/options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define F(field) offsetof(struct cfg, field)
#define I64MAX   9.2e18

/* clang-format off */
const struct opt_def opt_table[] = {
    {"topology", "kind", OPT_ENUM, "leaf_spine", 0, 0, "leaf_spine",
     "fabric shape: a two-tier Clos of leaves and spines", F(topo_kind)},
    {"topology", "leaves", OPT_INT, "4", 1, 4096, NULL, "leaf (top-of-rack) switches", F(leaves)},
    {"topology", "spines", OPT_INT, "4", 1, 1024, NULL, "spine switches; every leaf has one uplink to each", F(spines)},
    {"topology", "hosts_per_leaf", OPT_INT, "4", 1, 4096, NULL, "hosts under each leaf", F(hosts_per_leaf)},
    {"topology", "host_gbps", OPT_REAL, "100", 0.001, 1e6, NULL, "host link speed, Gb/s", F(host_gbps)},
    {"topology", "fabric_gbps", OPT_REAL, "100", 0.001, 1e6, NULL,
     "leaf-spine link speed, Gb/s (oversubscription = hosts_per_leaf*host_gbps / (spines*fabric_gbps))", F(fabric_gbps)},
    {"topology", "link_latency_ns", OPT_INT, "1000", 0, 1e9, NULL, "propagation delay of every link, ns", F(link_latency_ns)},
    {"topology", "gpus_per_host", OPT_INT, "1", 1, 64, NULL,
     "GPUs per server; each GPU is a fabric host with its own NIC, and the GPUs of one server also "
     "share an NVLink switch (consecutive hosts under one leaf)", F(gpus_per_host)},
    {"topology", "nvlink_gbps", OPT_REAL, "3600", 0.001, 1e6, NULL,
     "NVLink speed per GPU and direction, Gb/s (3600 = 450 GB/s, H100)", F(nvlink_gbps)},
    {"topology", "nvlink_latency_ns", OPT_INT, "250", 0, 1e9, NULL, "NVLink hop latency, ns", F(nvlink_latency_ns)},

    {"transport", "path", OPT_ENUM, "ecmp", 0, 0, "ecmp|spray|spray_rr|split|adaptive",
     "path selection: ecmp (hash per flow), spray (random per packet), spray_rr (round robin per packet), "
     "split (transport.subflows ECMP subflows per flow), adaptive (leaf picks least-queued uplink per packet)", F(path)},
    {"transport", "subflows", OPT_INT, "4", 1, 4096, NULL, "subflows per flow for path=split", F(subflows)},
    {"transport", "mtu", OPT_INT, "4096", 64, 65535, NULL, "packet size on the wire, bytes", F(mtu)},
    {"transport", "window_bytes", OPT_INT, "0", 0, 1e12, NULL,
     "sender window per flow, bytes; 0 = one bandwidth-delay product of the longest path", F(window_bytes)},
    {"transport", "ack_bytes", OPT_INT, "64", 1, 65535, NULL, "acknowledgement size on the wire, bytes", F(ack_bytes)},
    {"transport", "ack_every", OPT_INT, "1", 1, 64, NULL,
     "data packets per acknowledgement (coalescing, as RDMA NICs do); a flow's last packet and "
     "half a window of unacknowledged bytes are acknowledged at once", F(ack_every)},
    {"transport", "cc", OPT_ENUM, "window", 0, 0, "window", "congestion control: window (fixed window, no loss)", F(cc)},

    {"workload", "kind", OPT_ENUM, "alltoall", 0, 0, "alltoall|permutation|moe",
     "traffic: alltoall (every host to every other), permutation (seeded random, one peer each), moe (routing trace)", F(wl_kind)},
    {"workload", "bytes", OPT_INT, "1048576", 1, 1e15, NULL, "bytes per flow (alltoall, permutation)", F(bytes)},
    {"workload", "trace", OPT_STR, "", 0, 0, NULL, "moe: routing trace CSV (seq,token,layer,slot,expert,weight)", F(trace)},
    {"workload", "experts", OPT_INT, "0", 0, 32767, NULL, "moe: experts per layer; 0 = the trace's", F(experts)},
    {"workload", "topk", OPT_INT, "0", 0, 64, NULL, "moe: experts per token; 0 = the trace's", F(topk)},
    {"workload", "layers", OPT_INT, "0", 0, 4096, NULL, "moe: MoE layers replayed (the trace's first ones); 0 = all", F(layers)},
    {"workload", "hidden", OPT_INT, "4096", 1, 1048576, NULL, "moe: hidden size (a token's message is hidden*dtype_bytes)", F(hidden)},
    {"workload", "ffn", OPT_INT, "14336", 1, 1048576, NULL, "moe: expert FFN size (SwiGLU)", F(ffn)},
    {"workload", "dtype_bytes", OPT_INT, "2", 1, 8, NULL, "moe: bytes per activation element on the wire", F(dtype_bytes)},
    {"workload", "tokens_per_gpu", OPT_INT, "4096", 1, 16777216, NULL, "moe: tokens each GPU holds per iteration", F(tokens_per_gpu)},
    {"workload", "shard", OPT_ENUM, "contiguous", 0, 0, "contiguous|round_robin",
     "moe: batch token b on GPU b/tokens_per_gpu (contiguous) or b mod GPUs (round_robin)", F(shard)},
    {"workload", "ep_mode", OPT_ENUM, "standard", 0, 0, "standard|coherent",
     "moe: standard (dispatch, compute, combine per layer) or coherent (ExFlow: tokens move from "
     "layer-l experts straight to layer-l+1 experts)", F(ep_mode)},
    {"workload", "dedup", OPT_BOOL, "true", 0, 0, NULL,
     "moe: one copy per destination GPU of a token (else one per chosen expert)", F(dedup)},
    {"workload", "compute", OPT_STR, "roofline", 0, 0, NULL,
     "moe: expert compute model: roofline, or a calibration CSV of tokens,us rows", F(compute)},
    {"workload", "gpu_tflops", OPT_REAL, "989", 0.001, 1e6, NULL, "moe: GPU dense bf16 TFLOP/s for the roofline", F(gpu_tflops)},
    {"workload", "efficiency", OPT_REAL, "0.6", 0.001, 1, NULL, "moe: fraction of gpu_tflops the expert GEMMs reach", F(efficiency)},
    {"workload", "expert_overhead_us", OPT_REAL, "5", 0, 1e6, NULL, "moe: fixed time per expert with tokens (launch), us", F(expert_overhead_us)},

    {"placement", "policy", OPT_ENUM, "contiguous", 0, 0,
     "contiguous|round_robin|random|load_greedy|eplb|affinity|moetuner|ilp",
     "moe: which GPU holds each expert (workloads/README-placement.md): contiguous (e on GPU e*G/E), "
     "round_robin, random, load_greedy (LPT by load), eplb (DeepSeek, with replicas), affinity "
     "(ExFlow), moetuner (two-stage), ilp (GLPK, exact)", F(placement)},
    {"placement", "replicas", OPT_INT, "0", 0, 1048576, NULL, "moe: extra expert slots per layer, each holding a replica: eplb gives them to the experts with the most load per replica; contiguous, round_robin and random spread them evenly over the experts; the other policies take none", F(replicas)},
    {"placement", "refine", OPT_BOOL, "false", 0, 0, NULL, "moe: pairwise-swap local search on the shared cost after the policy", F(refine)},
    {"placement", "train", OPT_REAL, "0.5", 0, 0.95, NULL,
     "moe: fraction of the trace's tokens the placement is computed on; the rest is replayed "
     "(0: computed on and replayed from the whole trace)", F(train)},
    {"placement", "ilp_time_limit_s", OPT_REAL, "60", 0.1, 86400, NULL, "moe: GLPK time limit for policy=ilp, s", F(ilp_time_limit_s)},
    {"placement", "w_compute", OPT_REAL, "1", 0, 1e6, NULL, "moe: weight of the slowest GPU's compute in the placement cost", F(w_compute)},
    {"placement", "w_network", OPT_REAL, "1", 0, 1e6, NULL, "moe: weight of the network time bound in the placement cost", F(w_network)},

    {"sim", "engine", OPT_ENUM, "packet", 0, 0, "packet", "simulation engine", F(engine)},
    {"sim", "seed", OPT_INT, "1", 0, I64MAX, NULL, "seed of every random choice (hashes, spraying, permutations)", F(seed)},
    {"sim", "iterations", OPT_INT, "1", 1, 1000000, NULL, "times the workload's phases repeat", F(iterations)},

    {"output", "db", OPT_STR, "results/moesim.db", 0, 0, NULL, "SQLite results database", F(db)},
    {"output", "csv", OPT_STR, "", 0, 0, NULL, "also write phase rows to this CSV file (empty: no CSV)", F(csv)},
    {"output", "flows", OPT_BOOL, "false", 0, 0, NULL,
     "record every message's start and end in the flows table (one row per message)", F(flows)},
    {"output", "sample_ns", OPT_INT, "0", 0, 1e12, NULL,
     "sample every link's bytes and queue this often into the timeseries table, ns; 0 = off", F(sample_ns)},
};
/* clang-format on */
const size_t opt_count = sizeof opt_table / sizeof opt_table[0];

const struct opt_def *opt_find(const char *section, const char *key)
{
    for (size_t i = 0; i < opt_count; i++)
        if (!strcmp(opt_table[i].section, section) && !strcmp(opt_table[i].key, key))
            return &opt_table[i];
    return NULL;
}

/* Index of `word` in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *word)
{
    size_t wl = strlen(word);
    int idx = 0;
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == wl && !strncmp(p, word, len))
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

/* Writes choice number idx of "a|b|c" into buf. */
static void choice_name(const char *choices, int idx, char *buf, size_t n)
{
    const char *p = choices;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p) {
        snprintf(buf, n, "%d", idx);
        return;
    }
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len >= n)
        len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
}

int opt_parse(const struct opt_def *o, const char *value, struct cfg *c, struct err *e)
{
    char *field = (char *)c + o->offset;
    char *end;
    switch (o->type) {
    case OPT_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0' || errno == ERANGE)
            return err_set(e, "expected an integer, got '%s'", value);
        if ((double)v < o->min || (double)v > o->max)
            return err_set(e, "%lld is out of bounds [%.0f, %.0f]", v, o->min, o->max);
        *(int64_t *)field = v;
        return 0;
    }
    case OPT_REAL: {
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v))
            return err_set(e, "expected a number, got '%s'", value);
        if (v < o->min || v > o->max)
            return err_set(e, "%g is out of bounds [%g, %g]", v, o->min, o->max);
        *(double *)field = v;
        return 0;
    }
    case OPT_BOOL:
        if (!strcasecmp(value, "true") || !strcmp(value, "1") || !strcasecmp(value, "yes"))
            *(int *)field = 1;
        else if (!strcasecmp(value, "false") || !strcmp(value, "0") || !strcasecmp(value, "no"))
            *(int *)field = 0;
        else
            return err_set(e, "expected true or false, got '%s'", value);
        return 0;
    case OPT_ENUM: {
        int idx = choice_index(o->choices, value);
        if (idx < 0)
            return err_set(e, "'%s' is not one of %s", value, o->choices);
        *(int *)field = idx;
        return 0;
    }
    case OPT_STR:
        if (strlen(value) >= CFG_STR_MAX)
            return err_set(e, "value is longer than %d characters", CFG_STR_MAX - 1);
        strcpy(field, value);
        return 0;
    }
    return err_set(e, "unknown option type");
}

void opt_format(const struct opt_def *o, const struct cfg *c, char *buf, size_t n)
{
    const char *field = (const char *)c + o->offset;
    switch (o->type) {
    case OPT_INT:
        snprintf(buf, n, "%lld", (long long)*(const int64_t *)field);
        break;
    case OPT_REAL:
        snprintf(buf, n, "%.17g", *(const double *)field);
        break;
    case OPT_BOOL:
        snprintf(buf, n, "%s", *(const int *)field ? "true" : "false");
        break;
    case OPT_ENUM:
        choice_name(o->choices, *(const int *)field, buf, n);
        break;
    case OPT_STR:
        snprintf(buf, n, "%s", field);
        break;
    }
}

void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < opt_count; i++) {
        struct err e;
        if (opt_parse(&opt_table[i], opt_table[i].def, c, &e) < 0)
            err_fatal("bad default for %s.%s: %s", opt_table[i].section, opt_table[i].key, e.msg);
    }
}

const char *opt_enum_name(const char *section, const char *key, int value)
{
    static char buf[8][64];
    static int slot;
    const struct opt_def *o = opt_find(section, key);
    if (!o || o->type != OPT_ENUM)
        return "?";
    char *b = buf[slot++ % 8];
    choice_name(o->choices, value, b, sizeof buf[0]);
    return b;
}

void opt_print_help(void *file)
{
    FILE *f = file;
    const char *section = "";
    for (size_t i = 0; i < opt_count; i++) {
        const struct opt_def *o = &opt_table[i];
        if (strcmp(section, o->section)) {
            section = o->section;
            fprintf(f, "\n[%s]\n", section);
        }
        char range[96] = "";
        if (o->type == OPT_INT || o->type == OPT_REAL)
            snprintf(range, sizeof range, " [%g..%g]", o->min, o->max);
        else if (o->type == OPT_ENUM)
            snprintf(range, sizeof range, " {%s}", o->choices);
        fprintf(f, "  %-16s = %-18s%s\n      %s\n", o->key, o->def[0] ? o->def : "\"\"", range,
                o->help);
    }
}
