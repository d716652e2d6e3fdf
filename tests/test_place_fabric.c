/* test_place_fabric.c - placement scored on the simulated fabric (place.h):
 * servers whose GPUs talk over NVLink (the cost's NVLink term, by closed
 * form), token homes by workload.shard (the profile against the replay's
 * messages), the ilp on that cost against brute force and against every
 * heuristic, the fabric the MoE workload fills from the topology's views, and
 * the exact errors. */
#include "tests/testutil.h"

#include <math.h>

#include "tests/place_gen.h"
#include "workloads/compute.h"
#include "workloads/moe.h"
#include "workloads/place_internal.h"
#include "workloads/trace_gen.h"

/* 8 tokens, 4 experts, one layer, top-1: token i picks expert (i / 2) ^ 1, so
 * under contiguous homes (GPU i / 2) every token wants its server sibling's
 * expert when expert e sits on GPU e. */
static void sibling_trace(struct trace *t)
{
    gen_trace(t, 8, 1, 4, 1, 0, 0, 1);
    for (size_t i = 0; i < 8; i++)
        t->expert[trace_idx(t, i, 0, 0)] = (int16_t)((i / 2) ^ 1);
}

static void one_per_gpu(struct pl_placement *pl, const int *row)
{
    pl_alloc(pl, 1, 4, 4, 1, 4);
    memcpy(pl->slot_expert, row, 4 * sizeof(int));
    pl_index(pl);
}

/* 4 GPUs in 2 servers of 2, 1000 bytes per token, NIC 8 Gb/s (1 us per
 * unit), 0.5 us per token-expert. Placement A (expert e on GPU e) keeps all
 * traffic inside the servers: every GPU sends 2 dispatches and 2 combines to
 * its sibling over NVLink, 4 units = 32000 bits: cost 0.5 * 2 + 32000 /
 * (nvlink_gbps * 1e3). Placement B (experts of the two servers swapped) sends
 * the same 4 units per GPU over the NICs: 1 + 4. With one GPU per server (the
 * old model) both are 1 + 4. */
static void test_nvlink_term_closed_form(void **state)
{
    (void)state;
    struct trace t;
    sibling_trace(&t);
    struct pl_fabric f;
    pl_fabric_default(&f, 4, 1);
    f.bytes_per_token = 1000;
    f.gpu_gbps = 8;
    f.compute_us_per_token = 0.5;
    struct pl_placement a, b;
    one_per_gpu(&a, (int[]){0, 1, 2, 3});
    one_per_gpu(&b, (int[]){2, 3, 0, 1});
    assert_float_equal(pl_cost(&a, &t, 0, 8, &f), 1 + 4, 1e-12);
    assert_float_equal(pl_cost(&b, &t, 0, 8, &f), 1 + 4, 1e-12);
    f.gpus_per_server = 2;
    f.nvlink_gbps = 80;
    assert_float_equal(pl_cost(&a, &t, 0, 8, &f), 1 + 0.4, 1e-12);
    assert_float_equal(pl_cost(&b, &t, 0, 8, &f), 1 + 4, 1e-12);
    assert_true(pl_cost(&a, &t, 0, 8, &f) < pl_cost(&b, &t, 0, 8, &f));
    /* A slow NVLink is the bottleneck: 32000 / 2000 = 16 us. */
    f.nvlink_gbps = 2;
    assert_float_equal(pl_cost(&a, &t, 0, 8, &f), 1 + 16, 1e-12);
    assert_float_equal(pl_cost(&b, &t, 0, 8, &f), 1 + 4, 1e-12);
    /* The token report: A's transfers all cross GPUs, none a server. */
    struct pl_stats s;
    pl_evaluate(&a, &t, 0, 8, &f, &s);
    assert_float_equal(s.cross_gpu, 1, 0);
    assert_float_equal(s.cross_server, 0, 0);
    pl_stats_free(&s);
    pl_evaluate(&b, &t, 0, 8, &f, &s);
    assert_float_equal(s.cross_server, 1, 0);
    pl_stats_free(&s);
    /* The optimum moves no byte: expert e ^ 1 on GPU e, every token served at
     * home, cost 1. */
    f.nvlink_gbps = 80;
    struct pl_params p = {.replicas = 0, .refine = 1, .seed = 1, .ilp_time_limit_s = 10};
    struct pl_placement r;
    struct err e;
    assert_int_equal(pl_compute("ilp", &t, 0, 8, &f, &p, &r, &e), 0);
    assert_float_equal(r.cost, 1, 1e-9);
    for (int x = 0; x < 4; x++)
        assert_int_equal(pl_gpu_of(&r, 0, x, -1, 0), x ^ 1);
    pl_free(&r);
    pl_free(&a);
    pl_free(&b);
    gen_free(&t);
}

/* The profile's homes follow the shard rule: contiguous, token i on GPU
 * floor(i * 4 / 8); round_robin, on i mod 4. */
static void test_round_robin_profile(void **state)
{
    (void)state;
    struct trace t;
    sibling_trace(&t);
    struct pl_fabric f;
    pl_fabric_default(&f, 4, 1);
    for (int shard = 0; shard < 2; shard++) {
        f.shard = (enum pl_shard)shard;
        struct pl_profile pr;
        pl_profile_build(&pr, &t, 0, 8, &f);
        for (int h = 0; h < 4; h++)
            for (int x = 0; x < 4; x++) {
                double want = 0;
                for (size_t i = 0; i < 8; i++) {
                    int home = shard ? (int)(i % 4) : (int)(i / 2);
                    want += home == h && (int)((i / 2) ^ 1) == x;
                }
                assert_float_equal(pl_home_at(&pr, 0, h)[x], want, 0);
                assert_int_equal(pl_token_home(&f, (size_t)h * 2, 8), shard ? (h * 2) % 4 : h);
            }
        pl_profile_free(&pr);
    }
    gen_free(&t);
}

/* Bytes the replay's messages carried from GPU s to GPU d, summed over the
 * run (output.flows), for a MoE run of 4 GPUs in 2 servers over 2 leaves,
 * contiguous placement, one iteration whose 64 batch tokens are the trace's
 * 64 tokens in order (train = 0: the profile is on those same tokens). */
static void replay_pairs(const char *trace, int shard, uint64_t *m, struct pl_fabric *f)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", trace);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 2;
    c.topo.gpus_per_host = 2;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = 1024;
    c.wl.tokens_per_gpu = 16;
    c.wl.dedup = 0;
    c.wl.shard = shard;
    c.tr.path = PATH_SPRAY;
    c.pl.train = 0;
    c.out.flows = 1;
    c.sim.iterations = 1;
    struct err e;
    struct topo *t;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct wl_gen g;
    if (wl_create(TU_SPECS(&c), t, &g, &e) != 0) fail_msg("%s", e.msg);
    struct wl_result r;
    assert_int_equal(wl_drive(&g, t, TU_SPECS(&c), &r, &e), 0);
    memset(m, 0, 16 * sizeof *m);
    for (size_t i = 0; i < r.run.nflows; i++)
        m[r.run.flows[i].src * 4 + r.run.flows[i].dst] += r.run.flows[i].bytes;
    struct wl_compute comp;
    assert_int_equal(wl_compute_init(&c.wl, &comp, &e), 0);
    wl_moe_fabric(TU_SPECS(&c), t, &comp, f);
    wl_compute_free(&comp);
    g.destroy(g.state);
    wl_result_free(&r);
    topo_destroy(t);
}

/* What the profile predicts for those messages: dispatch home -> expert GPU
 * and the combine back, 2048 bytes (hidden 1024 x 2 bytes) per unit. */
static void profile_pairs(const struct trace *t, const struct pl_fabric *f, uint64_t *m)
{
    struct pl_profile pr;
    pl_profile_build(&pr, t, 0, t->tokens, f);
    double u[16] = {0};
    for (int l = 0; l < t->layers; l++)
        for (int h = 0; h < 4; h++)
            for (int x = 0; x < t->experts; x++) {
                int g = x * 4 / t->experts; /* contiguous placement */
                double v = pl_home_at(&pr, l, h)[x];
                if (g == h) continue;
                u[h * 4 + g] += v;
                u[g * 4 + h] += v;
            }
    for (int i = 0; i < 16; i++)
        m[i] = (uint64_t)llround(u[i]) * 2048;
    pl_profile_free(&pr);
}

static void test_round_robin_as_replayed(void **state)
{
    (void)state;
    char path[] = "/tmp/moesim_place_fabric_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct trace_gen_params gp = {8, 2, 2, 4, 16, 5, 0.5, 0.3};
    struct err e;
    if (trace_gen_write(&gp, path, &e) != 0) fail_msg("%s", e.msg);
    struct trace t;
    assert_int_equal(trace_load(path, 0, &t, &e), 0);
    assert_int_equal(t.tokens, 64);
    uint64_t run[2][16], prof[2][16];
    for (int shard = 0; shard < 2; shard++) {
        struct pl_fabric f;
        replay_pairs(path, shard, run[shard], &f);
        /* The fabric the run scored its placement on, from the topology. */
        assert_int_equal(f.gpus, 4);
        assert_int_equal(f.leaves, 2);
        assert_int_equal(f.gpus_per_server, 2);
        assert_float_equal(f.gpu_gbps, 400, 0);
        assert_float_equal(f.nvlink_gbps, 3600, 0);
        assert_float_equal(f.leaf_uplink_gbps, 800, 0);
        assert_float_equal(f.bytes_per_token, 2048, 0);
        assert_int_equal(f.shard, shard ? PL_SHARD_ROUND_ROBIN : PL_SHARD_CONTIGUOUS);
        profile_pairs(&t, &f, prof[shard]);
        for (int i = 0; i < 16; i++)
            assert_int_equal(prof[shard][i], run[shard][i]);
    }
    /* The rule matters here: the two replays differ. */
    assert_memory_not_equal(run[0], run[1], sizeof run[0]);
    trace_free(&t);
    unlink(path);
}

/* The least cost of layer l over every placement of it (m experts per GPU,
 * each GPU's slots in expert order): in standard mode layers are
 * independent, so the sum over layers is the optimum. */
static double brute_layer(struct pl_eval *ev, int *se, int l, int x, int *fill, int m, int G)
{
    int E = ev->pr->experts;
    if (x == E) return pl_eval_layer(ev, se, l);
    double best = HUGE_VAL;
    for (int g = 0; g < G; g++) {
        if (fill[g] == m) continue;
        se[(size_t)l * E + g * m + fill[g]++] = x;
        double c = brute_layer(ev, se, l, x + 1, fill, m, G);
        fill[g]--;
        if (c < best) best = c;
    }
    return best;
}

static double brute_min(const struct trace *t, const struct pl_fabric *f)
{
    struct pl_profile pr;
    struct pl_eval ev;
    int E = t->experts, G = f->gpus, m = E / G;
    pl_profile_build(&pr, t, 0, t->tokens, f);
    pl_eval_init(&ev, &pr, f, E, m);
    int *se = xcalloc((size_t)t->layers * E, sizeof(int)), *fill = xcalloc((size_t)G, sizeof(int));
    double sum = 0;
    for (int l = 0; l < t->layers; l++)
        sum += brute_layer(&ev, se, l, 0, fill, m, G);
    free(se);
    free(fill);
    pl_eval_free(&ev);
    pl_profile_free(&pr);
    return sum;
}

/* The ilp without the heuristic's bound (pl_ilp_solve): GLPK has to find the
 * optimum itself, so a cut that cuts off a placement shows. */
static double ilp_alone(const struct trace *t, const struct pl_fabric *f)
{
    struct pl_profile pr;
    struct pl_eval ev;
    struct pl_placement pl;
    struct err e;
    pl_profile_build(&pr, t, 0, t->tokens, f);
    pl_alloc(&pl, t->layers, t->experts, f->gpus, f->leaves, t->experts);
    assert_int_equal(pl_ilp_solve(&pl, &pr, f, 60, NULL, &e), 0);
    assert_int_equal(pl.ilp_status, PL_ILP_OPTIMAL);
    pl_eval_init(&ev, &pr, f, pl.slots, pl.slots_per_gpu);
    double c = pl_eval_total(&ev, pl.slot_expert);
    assert_float_equal(c, pl.ilp_bound, 1e-6 * c);
    pl_eval_free(&ev);
    pl_free(&pl);
    pl_profile_free(&pr);
    return c;
}

/* With servers, standard mode: the ilp's proven optimum, with and without the
 * heuristic's bound, is the brute-force optimum of pl_cost, and no heuristic
 * (with or without refine) beats it. */
static void test_ilp_with_servers(void **state)
{
    (void)state;
    struct {
        int experts, gpus, per_server, leaves;
        enum pl_shard shard;
        double nvlink_gbps, w_compute;
    } cases[] = {
        {4, 4, 2, 1, PL_SHARD_CONTIGUOUS, 400, 1}, {4, 4, 2, 1, PL_SHARD_ROUND_ROBIN, 50, 1},
        {4, 4, 2, 2, PL_SHARD_CONTIGUOUS, 100, 1}, {8, 4, 2, 1, PL_SHARD_CONTIGUOUS, 200, 1},
        {8, 4, 2, 1, PL_SHARD_ROUND_ROBIN, 25, 1}, {8, 4, 4, 1, PL_SHARD_CONTIGUOUS, 100, 1},
        {8, 8, 2, 2, PL_SHARD_CONTIGUOUS, 100, 1}, {8, 8, 4, 2, PL_SHARD_ROUND_ROBIN, 60, 1},
        {8, 4, 2, 1, PL_SHARD_CONTIGUOUS, 200, 0}, {8, 8, 2, 2, PL_SHARD_ROUND_ROBIN, 100, 0},
        {8, 4, 1, 1, PL_SHARD_CONTIGUOUS, 0, 1},   {8, 4, 1, 2, PL_SHARD_ROUND_ROBIN, 0, 0},
    };
    const char *pol[] = {"contiguous", "round_robin", "random",  "load_greedy",
                         "eplb",       "affinity",    "moetuner"};
    int beaten = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct trace t;
        gen_trace(&t, 120, 2, cases[c].experts, 2, 0.8, 0.6, 40 + c);
        struct pl_fabric f;
        pl_fabric_default(&f, cases[c].gpus, cases[c].leaves);
        f.gpus_per_server = cases[c].per_server;
        f.nvlink_gbps = cases[c].nvlink_gbps;
        f.shard = cases[c].shard;
        f.gpu_gbps = 100;
        f.w_compute = cases[c].w_compute;
        f.leaf_uplink_gbps = 50.0 * cases[c].gpus / cases[c].leaves;
        struct pl_params p = {.replicas = 0, .refine = 0, .seed = 3, .ilp_time_limit_s = 60};
        struct pl_placement opt, h;
        struct err e;
        assert_int_equal(pl_compute("ilp", &t, 0, 120, &f, &p, &opt, &e), 0);
        assert_int_equal(opt.ilp_status, PL_ILP_OPTIMAL);
        double bf = brute_min(&t, &f);
        assert_float_equal(opt.cost, bf, 1e-9 * bf);
        assert_float_equal(pl_cost(&opt, &t, 0, 120, &f), bf, 1e-9 * bf);
        assert_float_equal(ilp_alone(&t, &f), bf, 1e-6 * bf);
        for (size_t k = 0; k < sizeof pol / sizeof pol[0]; k++)
            for (p.refine = 0; p.refine < 2; p.refine++) {
                assert_int_equal(pl_compute(pol[k], &t, 0, 120, &f, &p, &h, &e), 0);
                assert_true(opt.cost <= h.cost * (1 + 1e-9));
                beaten += h.cost > opt.cost * (1 + 1e-6);
                pl_free(&h);
            }
        pl_free(&opt);
        gen_free(&t);
    }
    assert_true(beaten > 0); /* the optimum is not what every heuristic finds */
}

/* Fabrics placement refuses: the exact one-line errors. */
static void test_fabric_rejects(void **state)
{
    (void)state;
    struct {
        const char *policy;
        int gpus, leaves, per_server;
        double nvlink;
        enum pl_mode mode;
        const char *msg;
    } cases[] = {
        {"contiguous", 8, 2, 3, 100, PL_STANDARD,
         "placement.gpus_per_server: servers of 3 GPUs do not split the 4 GPUs of a leaf "
         "evenly"},
        {"contiguous", 8, 1, 0, 100, PL_STANDARD, "placement.gpus_per_server: must be >= 1, got 0"},
        {"moetuner", 8, 1, 2, 0, PL_STANDARD, "placement.nvlink_gbps: must be > 0, got 0"},
        {"ilp", 4, 1, 2, 100, PL_COHERENT,
         "placement.policy: ilp in coherent mode needs one GPU per server (its linearisation "
         "has no NVLink terms), this fabric has 2"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct trace t;
        gen_trace(&t, 64, 2, 8, 2, 0, 0, 1);
        struct pl_fabric f;
        pl_fabric_default(&f, cases[c].gpus, cases[c].leaves);
        f.gpus_per_server = cases[c].per_server;
        f.nvlink_gbps = cases[c].nvlink;
        f.mode = cases[c].mode;
        struct pl_params p = {.replicas = 0, .refine = 0, .seed = 1, .ilp_time_limit_s = 10};
        struct pl_placement pl;
        struct err e = {{0}};
        assert_int_equal(pl_compute(cases[c].policy, &t, 0, 64, &f, &p, &pl, &e), -1);
        assert_string_equal(e.msg, cases[c].msg);
        gen_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nvlink_term_closed_form), cmocka_unit_test(test_round_robin_profile),
        cmocka_unit_test(test_round_robin_as_replayed), cmocka_unit_test(test_ilp_with_servers),
        cmocka_unit_test(test_fabric_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
