/* test_place_data.c - placement on real data: the Mixtral-8x7B routing trace
 * (affinity keeps consecutive-layer transitions on one GPU on held-out tokens)
 * and a Switch-base-128-like skewed instance built from the real per-layer
 * expert counts (load_greedy and eplb cut max/mean GPU load). Paths are
 * relative to the repository root, where tests/run.sh runs. */
#include "tests/testutil.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "workloads/place.h"
#include "workloads/trace_counts.h"

#define MIXTRAL "data/mixtral8x7b_gsm8k_routing.csv"
#define SWITCH  "data/switch_base128_expert_load.csv"

/* The real traces are shipped in data/; a missing one skips its test, as
 * tests/cli/trace_cli.sh does. */
static int have(const char *path)
{
    if (access(path, R_OK) == 0) return 1;
    print_message("%s not readable: skipped\n", path);
    return 0;
}

static double kept_held_out(const struct trace *t, const char *policy, int gpus)
{
    size_t n = t->tokens / 2;
    struct pl_fabric f;
    pl_fabric_default(&f, gpus, 1);
    f.mode = PL_COHERENT;
    struct pl_params p = {.seed = 1, .ilp_time_limit_s = 10};
    struct pl_placement pl;
    struct err e;
    assert_int_equal(pl_compute(policy, t, 0, n, &f, &p, &pl, &e), 0);
    struct pl_stats s;
    pl_evaluate(&pl, t, n, t->tokens, &f, &s);
    double kept = 1 - s.cross_gpu;
    assert_true(s.transfers > 10000);
    pl_stats_free(&s);
    pl_free(&pl);
    return kept;
}

static void test_mixtral_affinity(void **state)
{
    (void)state;
    if (!have(MIXTRAL)) skip();
    struct trace t;
    struct err e;
    if (trace_load(MIXTRAL, 0, &t, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(t.experts, 8);
    assert_int_equal(t.layers, 32);
    double aff = kept_held_out(&t, "affinity", 8);
    double con = kept_held_out(&t, "contiguous", 8);
    double rnd = kept_held_out(&t, "random", 8);
    print_message("mixtral 8 GPUs coherent, held-out transitions kept on one GPU: affinity "
                  "%.4f, contiguous %.4f, random %.4f (uniform 0.125)\n",
                  aff, con, rnd);
    assert_true(aff > 0.17);
    assert_true(aff > con + 0.04);
    trace_free(&t);
}

/* Tokens drawn i.i.d. per layer from Switch-base-128's real expert counts. */
static void switch_like(struct trace *t, size_t tokens)
{
    struct trace_counts c;
    struct err e;
    if (trace_counts_load(SWITCH, &c, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(c.experts, 128);
    memset(t, 0, sizeof *t);
    t->experts = c.experts;
    t->layers = c.layers;
    t->topk = 1;
    t->tokens = tokens;
    t->expert = calloc(tokens * (size_t)c.layers, sizeof(int16_t));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    for (int l = 0; l < c.layers; l++) {
        gsl_ran_discrete_t *d =
            gsl_ran_discrete_preproc((size_t)c.experts, c.count + (size_t)l * c.experts);
        for (size_t i = 0; i < tokens; i++)
            t->expert[trace_idx(t, i, l, 0)] = (int16_t)gsl_ran_discrete(r, d);
        gsl_ran_discrete_free(d);
    }
    gsl_rng_free(r);
    trace_counts_free(&c);
}

static double max_over_mean(const struct trace *t, const char *policy, int gpus, int leaves,
                            int replicas)
{
    size_t n = t->tokens / 2;
    struct pl_fabric f;
    pl_fabric_default(&f, gpus, leaves);
    struct pl_params p = {.replicas = replicas, .seed = 1, .ilp_time_limit_s = 10};
    struct pl_placement pl;
    struct err e;
    assert_int_equal(pl_compute(policy, t, 0, n, &f, &p, &pl, &e), 0);
    struct pl_stats s;
    pl_evaluate(&pl, t, n, t->tokens, &f, &s);
    double mm = s.max_over_mean;
    pl_stats_free(&s);
    pl_free(&pl);
    return mm;
}

static void test_switch_skew(void **state)
{
    (void)state;
    if (!have(SWITCH)) skip();
    struct trace t;
    switch_like(&t, 40000);
    double con = max_over_mean(&t, "contiguous", 16, 1, 0);
    double grd = max_over_mean(&t, "load_greedy", 16, 1, 0);
    double ep = max_over_mean(&t, "eplb", 16, 1, 0);
    double ep16 = max_over_mean(&t, "eplb", 16, 1, 16);
    double eph = max_over_mean(&t, "eplb", 16, 4, 16);
    print_message("switch-like (128 experts, 6 layers, 16 GPUs), held-out mean max/mean GPU "
                  "load: contiguous %.3f, load_greedy %.3f, eplb %.3f, eplb+16 replicas %.3f, "
                  "hierarchical eplb (4 leaves) +16 %.3f\n",
                  con, grd, ep, ep16, eph);
    /* Without replicas no placement beats the GPU holding the heaviest expert:
     * the held-out bound max(1, heaviest expert / mean GPU load) per layer. */
    double lb = 0;
    for (int l = 0; l < t.layers; l++) {
        double cnt[128] = {0}, mx = 0;
        for (size_t i = t.tokens / 2; i < t.tokens; i++)
            cnt[t.expert[trace_idx(&t, i, l, 0)]] += 1;
        for (int x = 0; x < 128; x++)
            mx = cnt[x] > mx ? cnt[x] : mx;
        double mean = (double)(t.tokens - t.tokens / 2) / 16;
        lb += (mx / mean > 1 ? mx / mean : 1) / t.layers;
    }
    print_message("switch-like: no-replica lower bound %.3f\n", lb);
    assert_true(con > 2.0);
    assert_true(grd < 0.8 * con && grd < 1.05 * lb);
    assert_true(ep < 0.8 * con && ep < 1.05 * lb);
    assert_true(ep16 < 1.15 && eph < 1.2);
    free(t.expert);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixtral_affinity),
        cmocka_unit_test(test_switch_skew),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
