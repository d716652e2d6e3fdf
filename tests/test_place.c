/* test_place.c - placement policies, the replica rule, the shared cost, the
 * ilp against brute force and the heuristics against the ilp (place.h). */
#include "tests/testutil.h"

#include <time.h>

#include "tests/place_gen.h"
#include "workloads/place_internal.h"

static void fabric(struct pl_fabric *f, int gpus, int leaves, enum pl_mode mode)
{
    pl_fabric_default(f, gpus, leaves);
    f->mode = mode;
}

static struct pl_params params(int replicas, int refine, uint64_t seed)
{
    struct pl_params p = {
        .replicas = replicas, .refine = refine, .seed = seed, .ilp_time_limit_s = 30};
    return p;
}

/* Every layer holds each expert at least once, every GPU slots_per_gpu slots,
 * and the index agrees with the slots. */
static void check_shape(const struct pl_placement *pl)
{
    for (int l = 0; l < pl->layers; l++) {
        int total = 0;
        for (int e = 0; e < pl->experts; e++) {
            int n = pl_replicas(pl, l, e);
            assert_true(n >= 1);
            total += n;
            for (int i = 0; i < n; i++) {
                int g = pl_replica_gpu(pl, l, e, i);
                assert_true(g >= 0 && g < pl->gpus);
                if (i) assert_true(g >= pl_replica_gpu(pl, l, e, i - 1));
            }
        }
        assert_int_equal(total, pl->slots);
    }
}

static void test_simple_policies(void **state)
{
    (void)state;
    struct trace t;
    gen_trace(&t, 64, 3, 16, 2, 0.5, 0.3, 1);
    struct pl_fabric f;
    fabric(&f, 4, 1, PL_STANDARD);
    struct pl_params p = params(0, 0, 7);
    struct pl_placement pl;
    struct err e;
    assert_int_equal(pl_compute("contiguous", &t, 0, 64, &f, &p, &pl, &e), 0);
    check_shape(&pl);
    for (int l = 0; l < 3; l++)
        for (int x = 0; x < 16; x++)
            assert_int_equal(pl_gpu_of(&pl, l, x, -1, 5), x * 4 / 16);
    pl_free(&pl);
    assert_int_equal(pl_compute("round_robin", &t, 0, 64, &f, &p, &pl, &e), 0);
    check_shape(&pl);
    for (int x = 0; x < 16; x++)
        assert_int_equal(pl_gpu_of(&pl, 1, x, -1, 0), x % 4);
    pl_free(&pl);
    struct pl_placement a, b;
    assert_int_equal(pl_compute("random", &t, 0, 64, &f, &p, &a, &e), 0);
    assert_int_equal(pl_compute("random", &t, 0, 64, &f, &p, &b, &e), 0);
    check_shape(&a);
    assert_memory_equal(a.slot_expert, b.slot_expert, sizeof(int) * 3 * 16);
    pl_free(&b);
    p.seed = 8;
    assert_int_equal(pl_compute("random", &t, 0, 64, &f, &p, &b, &e), 0);
    assert_memory_not_equal(a.slot_expert, b.slot_expert, sizeof(int) * 3 * 16);
    pl_free(&a);
    pl_free(&b);
    gen_free(&t);
}

/* Same seed, same placement, for every policy with and without refine; one
 * GPU is a valid (trivial) request. */
static void test_determinism(void **state)
{
    (void)state;
    struct trace t;
    gen_trace(&t, 120, 2, 8, 2, 0.8, 0.6, 11);
    const char *pol[] = {"random", "load_greedy", "eplb", "affinity", "moetuner", "ilp"};
    for (size_t k = 0; k < sizeof pol / sizeof pol[0]; k++)
        for (int gpus = 1; gpus <= 4; gpus += 3) {
            struct pl_fabric f;
            fabric(&f, gpus, 1, PL_COHERENT);
            struct pl_params p = params(strcmp(pol[k], "eplb") ? 0 : 4, 1, 5);
            struct pl_placement a, b;
            struct err e;
            assert_int_equal(pl_compute(pol[k], &t, 0, 120, &f, &p, &a, &e), 0);
            assert_int_equal(pl_compute(pol[k], &t, 0, 120, &f, &p, &b, &e), 0);
            check_shape(&a);
            assert_int_equal(a.slots, b.slots);
            assert_memory_equal(a.slot_expert, b.slot_expert, sizeof(int) * 2 * (size_t)a.slots);
            assert_float_equal(a.cost, pl_cost(&a, &t, 0, 120, &f), 1e-9 * a.cost);
            assert_true(a.cost <= a.cost_policy * (1 + 1e-12));
            if (!strcmp(pol[k], "ilp")) assert_int_equal(a.ilp_status, PL_ILP_OPTIMAL);
            pl_free(&a);
            pl_free(&b);
        }
    gen_free(&t);
}

/* Hand-computed costs: 2 GPUs, 2 experts, 4 tokens (homes 0, 0, 1, 1),
 * 1 us per unit of traffic, 0.5 us per unit of compute. */
static void test_cost_by_hand(void **state)
{
    (void)state;
    struct trace t;
    gen_trace(&t, 4, 2, 2, 1, 0, 0, 1);
    int16_t l0[4] = {0, 1, 1, 1}, l1[4] = {1, 1, 0, 1};
    for (int i = 0; i < 4; i++) {
        t.expert[trace_idx(&t, (size_t)i, 0, 0)] = l0[i];
        t.expert[trace_idx(&t, (size_t)i, 1, 0)] = l1[i];
    }
    struct pl_fabric f;
    fabric(&f, 2, 1, PL_STANDARD);
    f.bytes_per_token = 1000;
    f.gpu_gbps = 8;
    struct pl_params p = params(0, 0, 1);
    struct pl_placement pl;
    struct err e;
    assert_int_equal(pl_compute("contiguous", &t, 0, 4, &f, &p, &pl, &e), 0);
    /* Standard, layer 0: loads 1 and 3, token 1 crosses (dispatch + combine):
     * 1.5 + 1. Layer 1: loads 1 and 3; tokens 0, 1 cross to GPU 1 and token 2
     * to GPU 0: GPU 0 sends 2 dispatches and 1 combine, GPU 1 the mirror: 1.5 + 3. */
    assert_float_equal(pl_cost(&pl, &t, 0, 4, &f), 2.5 + 4.5, 1e-9);
    /* Coherent: layer 0 as dispatch only (2.5); layer 1 pairs 0->1 (t0) and
     * 1->0 (t2), combine home from GPU 1 (t0, t1) and GPU 0 (t2): max 3. */
    f.mode = PL_COHERENT;
    assert_float_equal(pl_cost(&pl, &t, 0, 4, &f), 2.5 + 4.5, 1e-9);
    struct pl_stats s;
    pl_evaluate(&pl, &t, 0, 4, &f, &s);
    assert_float_equal(s.transfers, 4, 0);
    assert_float_equal(s.cross_gpu, 0.5, 1e-12);
    assert_float_equal(s.max_load[0], 3, 0);
    assert_float_equal(s.mean_load[1], 2, 0);
    assert_float_equal(s.max_over_mean, 1.5, 1e-12);
    assert_float_equal(s.cost, 7.0, 1e-9);
    pl_stats_free(&s);
    f.mode = PL_STANDARD;
    pl_evaluate(&pl, &t, 0, 4, &f, &s);
    assert_float_equal(s.transfers, 8, 0);
    assert_float_equal(s.cross_gpu, 4.0 / 8, 1e-12);
    assert_float_equal(s.cross_leaf, 0, 0);
    pl_stats_free(&s);
    pl_free(&pl);
    gen_free(&t);
}

/* The replica rule: own GPU first, else token mod count; eplb replicates the
 * heaviest expert and spreads its replicas. */
static void test_eplb_replica_rule(void **state)
{
    (void)state;
    struct trace t;
    gen_trace(&t, 400, 2, 8, 1, 0, 0, 3);
    for (size_t i = 0; i < 400; i++)
        for (int l = 0; l < 2; l++)
            t.expert[trace_idx(&t, i, l, 0)] = (int16_t)(i % 2 ? 3 : (i / 2) % 8);
    struct pl_fabric f;
    fabric(&f, 4, 1, PL_STANDARD);
    struct pl_params p = params(4, 0, 1);
    struct pl_placement pl;
    struct err e;
    assert_int_equal(pl_compute("eplb", &t, 0, 400, &f, &p, &pl, &e), 0);
    check_shape(&pl);
    assert_int_equal(pl.slots_per_gpu, 3);
    for (int l = 0; l < 2; l++) {
        /* Expert 3 has 225 of 400 units, the others 25: all 4 extra slots go
         * to it (225 / 5 > 25); its 5 replicas cover the 4 GPUs. */
        assert_int_equal(pl_replicas(&pl, l, 3), 5);
        for (int g = 0; g < 4; g++)
            assert_int_equal(pl_gpu_of(&pl, l, 3, g, 12345), g);
        for (size_t tok = 0; tok < 10; tok++)
            assert_int_equal(pl_gpu_of(&pl, l, 3, -1, tok),
                             pl_replica_gpu(&pl, l, 3, (int)(tok % 5)));
        for (int x = 0; x < 8; x++)
            if (x != 3) assert_int_equal(pl_replicas(&pl, l, x), 1);
    }
    struct pl_stats s;
    pl_evaluate(&pl, &t, 0, 400, &f, &s);
    /* 225 / 4 of expert 3 per GPU (own-GPU rule) + 25 or 50: 106 / 100. */
    assert_true(s.max_over_mean < 1.1);
    pl_stats_free(&s);
    pl_free(&pl);
    /* Hierarchical: 2 leaves; replicas stay in their expert's leaf. */
    fabric(&f, 4, 2, PL_STANDARD);
    assert_int_equal(pl_compute("eplb", &t, 0, 400, &f, &p, &pl, &e), 0);
    check_shape(&pl);
    for (int l = 0; l < 2; l++)
        for (int x = 0; x < 8; x++) {
            int n = pl_replicas(&pl, l, x);
            for (int i = 1; i < n; i++)
                assert_int_equal(pl_replica_gpu(&pl, l, x, i) / 2,
                                 pl_replica_gpu(&pl, l, x, 0) / 2);
        }
    assert_int_equal(pl_replicas(&pl, 0, 3), 3);
    pl_free(&pl);
    gen_free(&t);
}

/* Brute force over every placement of a tiny instance. */
static double brute_min(const struct trace *t, const struct pl_fabric *f)
{
    struct pl_placement pl;
    pl_alloc(&pl, t->layers, t->experts, f->gpus, f->leaves, t->experts);
    int E = t->experts, L = t->layers;
    int perms[24][4], np = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++)
                for (int d = 0; d < 4; d++)
                    if (a != b && a != c && a != d && b != c && b != d && c != d) {
                        perms[np][0] = a, perms[np][1] = b, perms[np][2] = c, perms[np][3] = d;
                        np++;
                    }
    assert_int_equal(E, 4);
    assert_int_equal(L, 2);
    double best = 1e300;
    for (int i = 0; i < np; i++)
        for (int j = 0; j < np; j++) {
            memcpy(pl.slot_expert, perms[i], sizeof perms[i]);
            memcpy(pl.slot_expert + 4, perms[j], sizeof perms[j]);
            pl_index(&pl);
            double c = pl_cost(&pl, t, 0, t->tokens, f);
            if (c < best) best = c;
        }
    pl_free(&pl);
    return best;
}

static void test_ilp_matches_brute_force(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++)
        for (int leaves = 1; leaves <= 2; leaves++)
            for (int gpus = 2; gpus <= 4; gpus += 2) {
                struct trace t;
                gen_trace(&t, 60, 2, 4, 2, 1.0, 0.5, (unsigned long)(10 * mode + gpus + leaves));
                struct pl_fabric f;
                fabric(&f, gpus, leaves, (enum pl_mode)mode);
                f.leaf_uplink_gbps = 200;
                struct pl_params p = params(0, 0, 1);
                struct pl_placement pl;
                struct err e;
                assert_int_equal(pl_compute("ilp", &t, 0, 60, &f, &p, &pl, &e), 0);
                assert_int_equal(pl.ilp_status, PL_ILP_OPTIMAL);
                double bf = brute_min(&t, &f);
                assert_float_equal(pl.cost, bf, 1e-6 * bf);
                assert_float_equal(pl_cost(&pl, &t, 0, 60, &f), bf, 1e-6 * bf);
                pl_free(&pl);
                gen_free(&t);
            }
}

/* moetuner+refine and affinity+refine within 3% of the proven ILP optimum,
 * on generated instances GLPK solves to optimality within seconds. */
static void test_heuristics_near_ilp(void **state)
{
    (void)state;
    struct {
        int experts, gpus, layers, leaves;
        enum pl_mode mode;
    } cases[] = {
        {8, 4, 2, 1, PL_STANDARD},  {8, 4, 3, 1, PL_COHERENT},  {8, 4, 2, 2, PL_COHERENT},
        {16, 8, 2, 1, PL_STANDARD}, {16, 8, 2, 2, PL_STANDARD}, {16, 4, 2, 2, PL_STANDARD},
        {8, 4, 4, 1, PL_STANDARD},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct trace t;
        gen_trace(&t, 200, cases[c].layers, cases[c].experts, 2, 0.8, 0.6, 100 + c);
        struct pl_fabric f;
        fabric(&f, cases[c].gpus, cases[c].leaves, cases[c].mode);
        f.gpu_gbps = 100;
        f.leaf_uplink_gbps = 50.0 * cases[c].gpus / cases[c].leaves;
        struct pl_params p = params(0, 0, 1);
        p.ilp_time_limit_s = 60;
        struct pl_placement opt, h;
        struct err e;
        clock_t t0 = clock();
        assert_int_equal(pl_compute("ilp", &t, 0, 200, &f, &p, &opt, &e), 0);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        print_message("ilp %2d experts %d gpus %d layers %d leaves %-8s: %s cost %.3f "
                      "gap %.4f in %.2f s\n",
                      cases[c].experts, cases[c].gpus, cases[c].layers, cases[c].leaves,
                      cases[c].mode ? "coherent" : "standard",
                      opt.ilp_status == PL_ILP_OPTIMAL ? "optimal" : "cut short", opt.cost,
                      opt.ilp_gap, secs);
        assert_int_equal(opt.ilp_status, PL_ILP_OPTIMAL);
        const char *pol[] = {"moetuner", "affinity"};
        for (int k = 0; k < 2; k++) {
            p.refine = 1;
            assert_int_equal(pl_compute(pol[k], &t, 0, 200, &f, &p, &h, &e), 0);
            print_message("   %-8s %.3f -> refine %.3f (%+.2f%% vs optimum)\n", pol[k],
                          h.cost_policy, h.cost, 100 * (h.cost / opt.cost - 1));
            assert_true(h.cost >= opt.cost * (1 - 1e-9));
            assert_true(h.cost <= opt.cost * 1.03);
            pl_free(&h);
        }
        pl_free(&opt);
        gen_free(&t);
    }
}

/* The policy list: the table pl_policies[] is PL_POLICY_LIST in order, each
 * found by name, and README-placement.md's Policies table has a row
 * "| `name` |" for each, in that order, and for no other. */
static void test_policy_list(void **state)
{
    (void)state;
    for (int i = 0; i < PL_NPOLICIES; i++) {
        assert_ptr_equal(pl_policy_find(pl_policies[i].name), &pl_policies[i]);
        assert_non_null(pl_policies[i].fn);
    }
    assert_null(pl_policy_find("best"));
    /* placement.replicas's help names the policies that replicate, and only
     * those (whole words) */
    const char *help = opt_find("placement", "replicas")->help;
    for (int i = 0; i < PL_NPOLICIES; i++) {
        const char *n = pl_policies[i].name, *p = help;
        int named = 0;
        size_t len = strlen(n);
        while ((p = strstr(p, n))) {
            named |= (p == help || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z'))) &&
                     !(p[len] == '_' || (p[len] >= 'a' && p[len] <= 'z'));
            p += len;
        }
        if (named != pl_policies[i].replicates)
            fail_msg("placement.replicas help %s '%s'", named ? "names" : "lacks", n);
    }
    assert_int_equal(pl_policy_find("eplb")->replicates, 1);
    assert_int_equal(pl_policy_find("ilp")->replicates, 0);
    FILE *f = fopen("workloads/README-placement.md", "r");
    assert_non_null(f);
    char line[4096];
    int in = 0, k = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "## ", 3)) in = !strcmp(line, "## Policies\n");
        char name[64];
        int end = 0;
        if (!in || sscanf(line, "| `%63[a-z_]` |%n", name, &end) != 1 || !end) continue;
        if (k >= PL_NPOLICIES)
            fail_msg("README-placement.md: policy row '%s' not in the list", name);
        assert_string_equal(name, pl_policies[k].name);
        k++;
    }
    fclose(f);
    assert_int_equal(k, PL_NPOLICIES);
}

/* Requests no policy can satisfy: the exact one-line errors. */
static void test_bad_input(void **state)
{
    (void)state;
    struct {
        const char *policy;
        int experts, layers, gpus, leaves, replicas;
        size_t begin, end;
        double time_limit, gbps;
        const char *msg;
    } cases[] = {
        {"best", 8, 2, 4, 1, 0, 0, 64, 10, 400,
         "placement.policy: unknown policy 'best' "
         "(contiguous|round_robin|random|load_greedy|eplb|affinity|moetuner|ilp)"},
        {"contiguous", 8, 2, 16, 1, 0, 0, 64, 10, 400,
         "placement.gpus: 16 GPUs but only 8 expert slots per layer (experts + replicas)"},
        {"load_greedy", 8, 2, 3, 1, 0, 0, 64, 10, 400,
         "placement.gpus: 8 expert slots per layer (experts + replicas) do not split evenly "
         "over 3 GPUs"},
        {"eplb", 8, 2, 4, 1, 2, 0, 64, 10, 400,
         "placement.gpus: 10 expert slots per layer (experts + replicas) do not split evenly "
         "over 4 GPUs"},
        {"load_greedy", 8, 2, 4, 1, 4, 0, 64, 10, 400,
         "placement.replicas: policy 'load_greedy' does not replicate experts (contiguous, "
         "round_robin, random and eplb do)"},
        {"eplb", 8, 2, 4, 1, -1, 0, 64, 10, 400, "placement.replicas: must be >= 0, got -1"},
        {"affinity", 8, 2, 4, 1, 0, 10, 10, 10, 400,
         "placement.train: no training tokens (window [10, 10) of 64)"},
        {"moetuner", 8, 2, 4, 1, 0, 0, 65, 10, 400,
         "placement.train: no training tokens (window [0, 65) of 64)"},
        {"ilp", 16, 32, 16, 1, 0, 0, 64, 10, 400,
         "placement.policy: ilp instance too large: 32 layers x 16 experts x 16 GPUs = 8192 "
         "binaries (limit 4096)"},
        {"ilp", 8, 2, 4, 1, 0, 0, 64, 0, 400, "placement.ilp_time_limit_s: must be > 0, got 0"},
        {"random", 8, 2, 8, 3, 0, 0, 64, 10, 400,
         "placement.leaves: 3 leaves do not split 8 GPUs evenly"},
        {"eplb", 10, 2, 4, 4, 2, 0, 64, 10, 400,
         "placement.leaves: hierarchical eplb needs experts (10) and replicas (2) divisible by "
         "the 4 leaves"},
        {"contiguous", 8, 2, 4, 1, 0, 0, 64, 10, 0, "placement.gpu_gbps: must be > 0, got 0"},
        {"contiguous", 8, 2, 0, 1, 0, 0, 64, 10, 400, "placement.gpus: need at least 1 GPU, got 0"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct trace t;
        gen_trace(&t, 64, cases[c].layers, cases[c].experts, 2, 0, 0, 1);
        struct pl_fabric f;
        fabric(&f, cases[c].gpus, cases[c].leaves, PL_STANDARD);
        f.gpu_gbps = cases[c].gbps;
        struct pl_params p = params(cases[c].replicas, 1, 1);
        p.ilp_time_limit_s = cases[c].time_limit;
        struct pl_placement pl;
        struct err e = {{0}};
        assert_int_equal(
            pl_compute(cases[c].policy, &t, cases[c].begin, cases[c].end, &f, &p, &pl, &e), -1);
        assert_string_equal(e.msg, cases[c].msg);
        assert_null(pl.slot_expert);
        gen_free(&t);
    }
}

/* pl_check is pure: sizes in, the failure's kind and reason out, no trace;
 * pl_compute refuses the same requests with the same reasons. */
static void test_check_sizes_alone(void **state)
{
    (void)state;
    struct {
        struct pl_request r;
        int ok;
        enum pl_fail why;
        const char *msg;
    } cases[] = {
        /* clang-format off */
        {{"affinity", 8, 32, 16, 4, 8, 60, 1, 0}, 0, PL_FAIL_REPLICAS,
         "policy 'affinity' does not replicate experts (contiguous, round_robin, random and eplb "
         "do)"},
        {{"ilp", 16, 32, 16, 4, 0, 60, 1, 0}, 0, PL_FAIL_ILP_SIZE,
         "ilp instance too large: 32 layers x 16 experts x 16 GPUs = 8192 binaries (limit 4096)"},
        {{"ilp", 16, 16, 16, 4, 0, 60, 1, 0}, 1, 0, ""},
        {{"contiguous", 8, 2, 16, 4, 0, 60, 1, 0}, 0, PL_FAIL_SLOTS,
         "16 GPUs but only 8 expert slots per layer (experts + replicas)"},
        {{"eplb", 8, 2, 16, 4, 8, 60, 1, 0}, 1, 0, ""},
        {{"eplb", 16, 2, 12, 3, 8, 60, 1, 0}, 0, PL_FAIL_EPLB_LEAVES,
         "hierarchical eplb needs experts (16) and replicas (8) divisible by the 3 leaves"},
        {{"ilp", 8, 2, 4, 1, 0, 0, 1, 0}, 0, PL_FAIL_ILP_TIME, "must be > 0, got 0"},
        {{"best", 8, 2, 4, 1, 0, 60, 1, 0}, 0, PL_FAIL_POLICY,
         "unknown policy 'best' (contiguous|round_robin|random|load_greedy|eplb|affinity|"
         "moetuner|ilp)"},
        {{"random", 8, 2, 8, 3, 0, 60, 1, 0}, 0, PL_FAIL_LEAVES, "3 leaves do not split 8 GPUs evenly"},
        {{"random", 0, 2, 8, 1, 0, 60, 1, 0}, 0, PL_FAIL_SHAPE, "the trace has no experts or no layers"},
        {{"random", 8, 2, 16, 4, 0, 60, 3, 0}, 0, PL_FAIL_SERVERS,
         "servers of 3 GPUs do not split the 4 GPUs of a leaf evenly"},
        {{"ilp", 8, 2, 8, 2, 0, 60, 2, 1}, 0, PL_FAIL_ILP_SIZE,
         "ilp in coherent mode needs one GPU per server (its linearisation has no NVLink terms), "
         "this fabric has 2"},
        {{"ilp", 8, 2, 8, 2, 0, 60, 2, 0}, 1, 0, ""},
        /* clang-format on */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        enum pl_fail why = cases[c].why == PL_FAIL_POLICY ? PL_FAIL_SLOTS : PL_FAIL_POLICY;
        struct err e = {""};
        int rc = pl_check(&cases[c].r, &why, &e);
        if (cases[c].ok) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(why, cases[c].why);
        assert_string_equal(e.msg, cases[c].msg);
    }
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_policies),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_cost_by_hand),
        cmocka_unit_test(test_eplb_replica_rule),
        cmocka_unit_test(test_ilp_matches_brute_force),
        cmocka_unit_test(test_heuristics_near_ilp),
        cmocka_unit_test(test_policy_list),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_check_sizes_alone),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
