/* place.c - the placement core: validating a request, dispatching to a policy,
 * the slot index and the replica rule (place.h). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "base/rng.h"
#include "workloads/place_internal.h"

/* What a policy runs on. */
struct pl_run {
    const struct pl_profile *pr;
    const struct pl_fabric *f;
    const struct pl_params *p;
    gsl_rng *rng;
    struct err *e;
};

/* Each policy of PL_POLICY_LIST behind one signature: pl_run_NAME. */
static int pl_run_contiguous(struct pl_placement *pl, const struct pl_run *r)
{
    (void)r;
    return pl_policy_contiguous(pl);
}
static int pl_run_round_robin(struct pl_placement *pl, const struct pl_run *r)
{
    (void)r;
    return pl_policy_round_robin(pl);
}
static int pl_run_random(struct pl_placement *pl, const struct pl_run *r)
{
    return pl_policy_random(pl, r->rng);
}
static int pl_run_load_greedy(struct pl_placement *pl, const struct pl_run *r)
{
    return pl_policy_load_greedy(pl, r->pr);
}
static int pl_run_eplb(struct pl_placement *pl, const struct pl_run *r)
{
    return pl_policy_eplb(pl, r->pr, r->p->replicas);
}
static int pl_run_affinity(struct pl_placement *pl, const struct pl_run *r)
{
    return pl_policy_affinity(pl, r->pr, r->rng);
}
static int pl_run_moetuner(struct pl_placement *pl, const struct pl_run *r)
{
    return pl_policy_moetuner(pl, r->pr, r->f);
}
static int pl_run_ilp(struct pl_placement *pl, const struct pl_run *r)
{
    return pl_policy_ilp(pl, r->pr, r->f, r->p->ilp_time_limit_s, r->rng, r->e);
}

#define PL_ROW_(name, rep, note) {#name, pl_run_##name, rep},
const struct pl_policy pl_policies[PL_NPOLICIES] = {PL_POLICY_LIST(PL_ROW_, )};
#undef PL_ROW_

const struct pl_policy *pl_policy_find(const char *name)
{
    for (int i = 0; i < PL_NPOLICIES; i++)
        if (!strcmp(name, pl_policies[i].name)) return &pl_policies[i];
    return NULL;
}

/* "a, b, c and d": the policies that replicate experts. */
static void replicating_names(char *buf, size_t n)
{
    int k = 0, total = 0;
    for (int i = 0; i < PL_NPOLICIES; i++)
        total += pl_policies[i].replicates;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < PL_NPOLICIES; i++) {
        if (!pl_policies[i].replicates) continue;
        const char *sep = k == 0 ? "" : k == total - 1 ? " and " : ", ";
        used +=
            (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s", sep, pl_policies[i].name);
        k++;
    }
}

void pl_fabric_default(struct pl_fabric *f, int gpus, int leaves)
{
    memset(f, 0, sizeof *f);
    f->gpus = gpus;
    f->leaves = leaves;
    f->gpus_per_server = 1;
    f->gpu_gbps = 400;
    f->nvlink_gbps = 3600;
    f->leaf_uplink_gbps = leaves > 0 ? 400.0 * gpus / leaves : 400;
    f->bytes_per_token = 8192;
    f->compute_us_per_token = 0.5;
    f->w_compute = 1;
    f->w_network = 1;
    f->mode = PL_STANDARD;
    f->shard = PL_SHARD_CONTIGUOUS;
}

int pl_home_gpu(size_t i, size_t n, int gpus)
{
    assert(i < n);
    return (int)((i * (size_t)gpus) / n);
}

int pl_token_home(const struct pl_fabric *f, size_t i, size_t n)
{
    if (f->shard == PL_SHARD_ROUND_ROBIN) {
        assert(i < n);
        return (int)(i % (size_t)f->gpus);
    }
    return pl_home_gpu(i, n, f->gpus);
}

int pl_leaf_of(int g, int gpus, int leaves)
{
    return g / (gpus / leaves);
}

int pl_same_server(const struct pl_fabric *f, int a, int b)
{
    return f->gpus_per_server > 1 && a / f->gpus_per_server == b / f->gpus_per_server;
}

void pl_alloc(struct pl_placement *pl, int layers, int experts, int gpus, int leaves, int slots)
{
    memset(pl, 0, sizeof *pl);
    pl->layers = layers;
    pl->experts = experts;
    pl->gpus = gpus;
    pl->leaves = leaves;
    pl->slots = slots;
    pl->slots_per_gpu = slots / gpus;
    pl->slot_expert = xcalloc((size_t)layers * slots, sizeof(int));
    pl->rep_first = xcalloc((size_t)layers * experts + 1, sizeof(int));
    pl->rep_gpu = xcalloc((size_t)layers * slots, sizeof(int));
}

void pl_index(struct pl_placement *pl)
{
    int E = pl->experts, S = pl->slots;
    int *cnt = xcalloc((size_t)pl->layers * E, sizeof(int));
    for (int l = 0; l < pl->layers; l++)
        for (int s = 0; s < S; s++) {
            int e = pl->slot_expert[(size_t)l * S + s];
            assert(e >= 0 && e < E);
            cnt[(size_t)l * E + e]++;
        }
    pl->rep_first[0] = 0;
    for (size_t i = 0; i < (size_t)pl->layers * E; i++)
        pl->rep_first[i + 1] = pl->rep_first[i] + cnt[i];
    memset(cnt, 0, sizeof(int) * (size_t)pl->layers * E);
    /* Slots ascend, so each expert's GPUs come out ascending. */
    for (int l = 0; l < pl->layers; l++)
        for (int s = 0; s < S; s++) {
            size_t i = (size_t)l * E + pl->slot_expert[(size_t)l * S + s];
            pl->rep_gpu[pl->rep_first[i] + cnt[i]++] = s / pl->slots_per_gpu;
        }
    free(cnt);
}

void pl_free(struct pl_placement *pl)
{
    free(pl->slot_expert);
    free(pl->rep_first);
    free(pl->rep_gpu);
    memset(pl, 0, sizeof *pl);
}

int pl_replicas(const struct pl_placement *pl, int layer, int expert)
{
    size_t i = (size_t)layer * pl->experts + expert;
    return pl->rep_first[i + 1] - pl->rep_first[i];
}

int pl_replica_gpu(const struct pl_placement *pl, int layer, int expert, int i)
{
    assert(i >= 0 && i < pl_replicas(pl, layer, expert));
    return pl->rep_gpu[pl->rep_first[(size_t)layer * pl->experts + expert] + i];
}

int pl_gpu_of(const struct pl_placement *pl, int layer, int expert, int from_gpu, size_t token)
{
    if (expert < 0) return -1;
    assert(layer >= 0 && layer < pl->layers && expert < pl->experts);
    const int *g = pl->rep_gpu + pl->rep_first[(size_t)layer * pl->experts + expert];
    int n = pl_replicas(pl, layer, expert);
    if (from_gpu >= 0)
        for (int i = 0; i < n; i++)
            if (g[i] == from_gpu) return from_gpu;
    return g[token % (size_t)n];
}

int pl_check(const struct pl_request *r, enum pl_fail *why, struct err *e)
{
    const char *policy = r->policy;
    const struct pl_policy *pol = pl_policy_find(policy);
#define PL_FAIL(kind, ...) (*why = (kind), err_set(e, __VA_ARGS__))
    if (!pol) return PL_FAIL(PL_FAIL_POLICY, "unknown policy '%s' (%s)", policy, PL_POLICY_CHOICES);
    int G = r->gpus, Lv = r->leaves, E = r->experts, R = r->replicas, L = r->layers;
    if (G < 1) return PL_FAIL(PL_FAIL_GPUS, "need at least 1 GPU, got %d", G);
    if (Lv < 1 || G % Lv)
        return PL_FAIL(PL_FAIL_LEAVES, "%d leaves do not split %d GPUs evenly", Lv, G);
    if (E < 1 || L < 1) return PL_FAIL(PL_FAIL_SHAPE, "the trace has no experts or no layers");
    int P = r->gpus_per_server;
    if (P < 1) return PL_FAIL(PL_FAIL_SERVERS, "must be >= 1, got %d", P);
    if ((G / Lv) % P)
        return PL_FAIL(PL_FAIL_SERVERS,
                       "servers of %d GPUs do not split the %d GPUs of a leaf evenly", P, G / Lv);
    if (R < 0) return PL_FAIL(PL_FAIL_REPLICAS, "must be >= 0, got %d", R);
    if (R > 0 && !pol->replicates) {
        char names[256];
        replicating_names(names, sizeof names);
        return PL_FAIL(PL_FAIL_REPLICAS, "policy '%s' does not replicate experts (%s do)", policy,
                       names);
    }
    long S = (long)E + R;
    if (G > S)
        return PL_FAIL(PL_FAIL_SLOTS,
                       "%d GPUs but only %ld expert slots per layer (experts + replicas)", G, S);
    if (S % G)
        return PL_FAIL(PL_FAIL_SLOTS,
                       "%ld expert slots per layer (experts + replicas) do not split evenly over "
                       "%d GPUs",
                       S, G);
    if (!strcmp(policy, "eplb") && Lv > 1 && (E % Lv || R % Lv))
        return PL_FAIL(PL_FAIL_EPLB_LEAVES,
                       "hierarchical eplb needs experts (%d) and replicas (%d) divisible by the "
                       "%d leaves",
                       E, R, Lv);
    if (!strcmp(policy, "ilp")) {
        long nb = (long)L * E * G;
        if (nb > PL_ILP_MAX_BINARIES)
            return PL_FAIL(PL_FAIL_ILP_SIZE,
                           "ilp instance too large: %d layers x %d experts x %d GPUs = %ld "
                           "binaries (limit %d)",
                           L, E, G, nb, PL_ILP_MAX_BINARIES);
        if (r->coherent && P > 1)
            return PL_FAIL(PL_FAIL_ILP_SIZE,
                           "ilp in coherent mode needs one GPU per server (its linearisation "
                           "has no NVLink terms), this fabric has %d",
                           P);
        if (!(r->ilp_time_limit_s > 0))
            return PL_FAIL(PL_FAIL_ILP_TIME, "must be > 0, got %g", r->ilp_time_limit_s);
    }
#undef PL_FAIL
    return 0;
}

/* The `placement.` names of pl_check's failures, as `moesim place` calls its
 * options (place_cli.c turns "placement.gpus" into "--gpus"). */
static const char *pl_fail_key(enum pl_fail why)
{
    switch (why) {
    case PL_FAIL_POLICY:
    case PL_FAIL_ILP_SIZE:
        return "policy";
    case PL_FAIL_GPUS:
    case PL_FAIL_SLOTS:
        return "gpus";
    case PL_FAIL_LEAVES:
    case PL_FAIL_EPLB_LEAVES:
        return "leaves";
    case PL_FAIL_SHAPE:
        return "trace";
    case PL_FAIL_SERVERS:
        return "gpus_per_server";
    case PL_FAIL_REPLICAS:
        return "replicas";
    case PL_FAIL_ILP_TIME:
        return "ilp_time_limit_s";
    }
    return "policy";
}

static int validate(const char *policy, const struct trace *t, size_t b, size_t en,
                    const struct pl_fabric *f, const struct pl_params *p, struct err *e)
{
    struct pl_request r = {policy,
                           t->experts,
                           t->layers,
                           f->gpus,
                           f->leaves,
                           p->replicas,
                           p->ilp_time_limit_s,
                           f->gpus_per_server,
                           f->mode == PL_COHERENT};
    enum pl_fail why;
    struct err reason;
    if (pl_check(&r, &why, &reason) < 0)
        return err_set(e, "placement.%s: %s", pl_fail_key(why), reason.msg);
    if (t->topk < 1) return err_set(e, "placement.trace: the trace has no experts or no layers");
    if (en <= b || en > t->tokens)
        return err_set(e, "placement.train: no training tokens (window [%zu, %zu) of %zu)", b, en,
                       t->tokens);
    if (!(f->gpu_gbps > 0))
        return err_set(e, "placement.gpu_gbps: must be > 0, got %g", f->gpu_gbps);
    if (f->gpus_per_server > 1 && !(f->nvlink_gbps > 0))
        return err_set(e, "placement.nvlink_gbps: must be > 0, got %g", f->nvlink_gbps);
    if (f->leaves > 1 && !(f->leaf_uplink_gbps > 0))
        return err_set(e, "placement.leaf_uplink_gbps: must be > 0, got %g", f->leaf_uplink_gbps);
    return 0;
}

int pl_compute(const char *policy, const struct trace *train, size_t tok_begin, size_t tok_end,
               const struct pl_fabric *f, const struct pl_params *p, struct pl_placement *out,
               struct err *e)
{
    memset(out, 0, sizeof *out);
    if (validate(policy, train, tok_begin, tok_end, f, p, e)) return -1;
    struct pl_profile pr;
    pl_profile_build(&pr, train, tok_begin, tok_end, f);
    pl_alloc(out, train->layers, train->experts, f->gpus, f->leaves, train->experts + p->replicas);
    snprintf(out->policy, sizeof out->policy, "%s", policy);
    gsl_rng *r = rng_alloc(p->seed, RNG_PLACEMENT, 0);
    struct pl_run run = {&pr, f, p, r, e};
    int rc = pl_policy_find(policy)->fn(out, &run);
    if (rc == 0) {
        struct pl_eval ev;
        pl_eval_init(&ev, &pr, f, out->slots, out->slots_per_gpu);
        out->cost_policy = out->cost = pl_eval_total(&ev, out->slot_expert);
        pl_eval_free(&ev);
        if (p->refine) out->cost = pl_refine(out, &pr, f, r);
        pl_index(out);
    } else {
        pl_free(out);
    }
    gsl_rng_free(r);
    pl_profile_free(&pr);
    return rc;
}
