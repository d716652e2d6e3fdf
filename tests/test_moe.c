/* test_moe.c - the MoE workload: conservation of dispatched and combined
 * bytes, every trace selection accounted for in the traffic, skew making the
 * hottest GPU's compute dominate, coherent mode keeping chained tokens local,
 * NVLink carrying intra-server traffic, trace reuse, the calibration table,
 * and bad input. */
#include "testutil.h"

#include <math.h>

#include "app/scenario.h"
#include "workloads/compute.h"
#include "workloads/moe.h"
#include "workloads/trace_gen.h"

#define EXCERPT "tests/data/mixtral_excerpt.csv"

static struct cfg moecfg(const char *trace, int leaves, int hpl, int gph)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", trace);
    c.topo.leaves = leaves;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = hpl;
    c.topo.gpus_per_host = gph;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = 1024;
    c.wl.tokens_per_gpu = 16;
    c.tr.path = PATH_SPRAY;
    c.pl.train = 0; /* place on and replay the whole trace, unless a test says otherwise */
    return c;
}

struct moe_run {
    struct wl_result r;
    struct moe_stats st;
    uint64_t *uses;
    struct topo *t;
};

static void run_moe(const struct cfg *c, struct moe_run *out)
{
    struct err e;
    assert_int_equal(topo_build(&c->topo, &out->t, &e), 0);
    struct wl_gen g;
    if (wl_create(TU_SPECS(c), out->t, &g, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(wl_drive(&g, out->t, TU_SPECS(c), &out->r, &e), 0);
    if (out->r.run.invariant[0]) fail_msg("%s", out->r.run.invariant);
    out->st = *wl_moe_stats(&g);
    out->uses = xmalloc(out->st.trace_tokens * sizeof *out->uses);
    memcpy(out->uses, out->st.uses, out->st.trace_tokens * sizeof *out->uses);
    out->st.uses = out->uses;
    g.destroy(g.state);
}

static void free_moe(struct moe_run *m)
{
    wl_result_free(&m->r);
    topo_destroy(m->t);
    free(m->uses);
}

/* Bytes of phase `name` at (iter, layer); -1 when absent. */
static int64_t phase_bytes(const struct wl_result *r, uint32_t iter, uint32_t layer,
                           const char *name)
{
    for (size_t i = 0; i < r->run.nphases; i++)
        if (r->run.phases[i].iter == iter && r->run.phases[i].layer == layer &&
            !strcmp(r->run.phases[i].phase, name))
            return (int64_t)r->run.phases[i].bytes;
    return -1;
}

static void test_standard_conservation(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.sim.iterations = 2;
    struct moe_run m;
    run_moe(&c, &m);
    /* 32 layers x (dispatch, compute, combine) x 2 iterations. */
    assert_int_equal(m.r.run.nphases, 32 * 3 * 2);
    for (uint32_t it = 0; it < 2; it++)
        for (uint32_t l = 0; l < 32; l++) {
            int64_t d = phase_bytes(&m.r, it, l, "dispatch"),
                    b = phase_bytes(&m.r, it, l, "combine");
            assert_true(d > 0);
            assert_int_equal(d, b);
        }
    /* Phases follow one another with no gap and no overlap. */
    for (size_t i = 1; i < m.r.run.nphases; i++)
        assert_int_equal(m.r.run.phases[i].start_ps, m.r.run.phases[i - 1].end_ps);
    free_moe(&m);
}

/* Without dedup every selection whose expert sits off the token's home GPU
 * is one message: recount them from the trace and the placement. */
static void test_every_selection_accounted(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.wl.dedup = 0;
    c.wl.tokens_per_gpu = 1;
    struct trace t;
    struct err e;
    assert_int_equal(trace_load(EXCERPT, 0, &t, &e), 0);
    uint32_t G = 8;
    uint64_t B = G; /* 8 batch tokens from the 9 of the excerpt: one pass */
    assert_true(B <= t.tokens);
    struct moe_run m;
    run_moe(&c, &m);
    uint64_t sel = 0;
    for (int l = 0; l < t.layers; l++) {
        uint64_t remote = 0;
        for (uint64_t b = 0; b < B; b++) {
            size_t tok = b; /* the first pass over the trace has no offset */
            uint32_t home = (uint32_t)b;
            for (int k = 0; k < t.topk; k++) {
                int x = t.expert[trace_idx(&t, tok, l, k)];
                if (x < 0) continue;
                sel++;
                if ((uint32_t)(x * G / t.experts) != home) remote++;
            }
        }
        assert_int_equal(phase_bytes(&m.r, 0, (uint32_t)l, "dispatch"), (int64_t)(remote * 2048));
    }
    assert_int_equal(m.st.selections, sel);
    trace_free(&t);
    free_moe(&m);
}

static void gen_trace(const char *path, int experts, double zipf, double affinity)
{
    struct trace_gen_params p = {experts, 2, 4, 4, 256, 7, zipf, affinity};
    struct err e;
    if (trace_gen_write(&p, path, &e) != 0) fail_msg("%s", e.msg);
}

/* Heavy skew: the hottest GPU's experts take far longer than the average
 * GPU's, so the hottest GPU sets a compute phase far longer than under
 * uniform routing of the same number of selections; uniform: the slowest GPU
 * is close to the mean. */
static void test_skew_compute_dominates(void **state)
{
    (void)state;
    const char *skewed = "/tmp/moesim_test_skew.csv", *uniform = "/tmp/moesim_test_uniform.csv";
    gen_trace(skewed, 16, 2.0, 0.0);
    gen_trace(uniform, 16, 0.0, 0.0);
    double ratio[2], comp_ps[2];
    const char *paths[2] = {skewed, uniform};
    for (int i = 0; i < 2; i++) {
        struct cfg c = moecfg(paths[i], 2, 4, 1);
        c.wl.tokens_per_gpu = 128;
        c.wl.hidden = 4096;
        c.wl.ffn = 14336;
        struct moe_run m;
        run_moe(&c, &m);
        ratio[i] = m.st.compute_max_ps / m.st.compute_mean_ps;
        simtime_t comp = 0;
        for (size_t j = 0; j < m.r.run.nphases; j++)
            if (!strcmp(m.r.run.phases[j].phase, "compute"))
                comp += m.r.run.phases[j].end_ps - m.r.run.phases[j].start_ps;
        comp_ps[i] = (double)comp;
        assert_int_equal(m.st.selections, 8 * 128 * 2 * 4);
        free_moe(&m);
    }
    print_message("hottest/mean GPU compute: skewed %.2f uniform %.2f; compute phases: skewed "
                  "%.1f us uniform %.1f us\n",
                  ratio[0], ratio[1], comp_ps[0] / 1e6, comp_ps[1] / 1e6);
    assert_true(ratio[0] > 3.0);
    assert_true(ratio[1] < 1.3);
    assert_true(comp_ps[0] > 2.5 * comp_ps[1]);
    unlink(skewed);
    unlink(uniform);
}

/* A token that picks expert x at every layer stays on x's GPU in coherent
 * mode: only layer 0's dispatch and the final combine move bytes. */
static void test_coherent_keeps_chains_local(void **state)
{
    (void)state;
    const char *path = "/tmp/moesim_test_chain.csv";
    FILE *f = fopen(path, "w");
    fprintf(f, "#experts=8\n#topk=1\n#layers=4\nseq,token,layer,slot,expert,weight\n");
    for (int tok = 0; tok < 16; tok++)
        for (int l = 0; l < 4; l++)
            fprintf(f, "0,%d,%d,0,%d,1\n", tok, l, (tok * 5) % 8);
    fclose(f);
    struct cfg c = moecfg(path, 2, 4, 1);
    c.wl.tokens_per_gpu = 2;
    c.wl.ep_mode = EP_COHERENT;
    struct moe_run m;
    run_moe(&c, &m);
    assert_true(phase_bytes(&m.r, 0, 0, "dispatch") > 0);
    for (uint32_t l = 1; l < 4; l++)
        assert_int_equal(phase_bytes(&m.r, 0, l, "dispatch"), 0);
    assert_int_equal(phase_bytes(&m.r, 0, 3, "combine"), phase_bytes(&m.r, 0, 0, "dispatch"));
    assert_int_equal(phase_bytes(&m.r, 0, 0, "combine"), -1); /* no per-layer combine */
    free_moe(&m);
    c.wl.ep_mode = EP_STANDARD;
    run_moe(&c, &m);
    for (uint32_t l = 1; l < 4; l++)
        assert_int_equal(phase_bytes(&m.r, 0, l, "dispatch"), phase_bytes(&m.r, 0, 0, "dispatch"));
    free_moe(&m);
    unlink(path);
}

/* All GPUs in one server: every byte goes over NVLink, none over the NICs. */
static void test_nvlink_carries_intra_server(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 1, 8, 8);
    struct moe_run m;
    run_moe(&c, &m);
    uint64_t nic = 0, nvl = 0;
    for (uint32_t p = 0; p < m.t->nports; p++) {
        uint64_t b = m.r.run.ports[p].bytes;
        if (m.t->ports[p].kind == TP_NVL_UP)
            nvl += b;
        else if (m.t->ports[p].kind == TP_HOST_UP)
            nic += b;
    }
    assert_int_equal(nic, 0);
    assert_true(nvl > 0);
    free_moe(&m);
}

/* 8 GPUs x 16 tokens over a 9-token trace: every trace token is used, and
 * the uses add up to the batch. */
static void test_trace_reuse_counted(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.sim.iterations = 3;
    struct moe_run m;
    run_moe(&c, &m);
    uint64_t sum = 0;
    for (size_t i = 0; i < m.st.trace_tokens; i++)
        sum += m.uses[i];
    assert_int_equal(sum, 8 * 16 * 3);
    assert_true(m.st.min_uses > 0);
    assert_true(m.st.max_uses - m.st.min_uses <= sum / m.st.trace_tokens);
    free_moe(&m);
}

/* placement.train = 0.5: the placement sees the first half of the trace's
 * tokens and only the second half is replayed. */
static void test_train_split_holds_out(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.pl.train = 0.5; /* 9 tokens: 4 to place, 5 replayed */
    struct moe_run m;
    run_moe(&c, &m);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(m.uses[i], 0);
    uint64_t sum = 0;
    for (size_t i = 4; i < 9; i++) {
        assert_true(m.uses[i] > 0);
        sum += m.uses[i];
    }
    assert_int_equal(sum, 8 * 16);
    free_moe(&m);
    struct err e;
    struct topo *t;
    struct wl_gen g;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    c.pl.train = 0.05;
    assert_int_equal(wl_create(TU_SPECS(&c), t, &g, &e), -1);
    assert_string_equal(e.msg, "placement.train: 0.05 of the trace's 9 tokens leaves no token to "
                               "compute the placement on");
    topo_destroy(t);
}

/* End to end: on a skewed trace, load-balancing placements cut the slowest
 * GPU's compute against contiguous placement, held-out tokens replayed. */
static void test_placement_balances_skew(void **state)
{
    (void)state;
    const char *skewed = "/tmp/moesim_test_skew2.csv";
    gen_trace(skewed, 64, 0.8, 0.0);
    const char *policies[] = {"contiguous", "load_greedy", "eplb"};
    double comp[3];
    for (int i = 0; i < 3; i++) {
        struct cfg c = moecfg(skewed, 2, 4, 1);
        c.pl.train = 0.5;
        c.wl.tokens_per_gpu = 64;
        const struct opt_def *o = opt_find("placement", "policy");
        struct err e;
        assert_int_equal(opt_parse(o, policies[i], &c, &e), 0);
        c.pl.replicas = i == 2 ? 8 : 0;
        struct moe_run m;
        run_moe(&c, &m);
        comp[i] = m.st.compute_max_ps / m.st.compute_mean_ps;
        free_moe(&m);
    }
    print_message("slowest/mean GPU compute: contiguous %.2f load_greedy %.2f eplb %.2f\n", comp[0],
                  comp[1], comp[2]);
    assert_true(comp[1] < comp[0] - 0.05);
    assert_true(comp[2] < comp[0] - 0.1);
    unlink(skewed);
}

static void test_determinism(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.sim.iterations = 2;
    struct moe_run a, b;
    run_moe(&c, &a);
    run_moe(&c, &b);
    assert_int_equal(a.r.run.nphases, b.r.run.nphases);
    for (size_t i = 0; i < a.r.run.nphases; i++) {
        assert_int_equal(a.r.run.phases[i].end_ps, b.r.run.phases[i].end_ps);
        assert_int_equal(a.r.run.phases[i].bytes, b.r.run.phases[i].bytes);
    }
    free_moe(&a);
    free_moe(&b);
}

/* Network phases simulated on several threads at once give the rows of one
 * thread: phases, every link's counters, the engines' totals and every flow. */
static void test_threads_change_nothing(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.sim.iterations = 3;
    c.out.flows = 1;
    struct moe_run a, b;
    wl_set_threads(1);
    run_moe(&c, &a);
    wl_set_threads(3);
    run_moe(&c, &b);
    wl_set_threads(1);
    assert_true(a.r.run.nphases >= 6);
    assert_int_equal(a.r.run.nphases, b.r.run.nphases);
    for (size_t i = 0; i < a.r.run.nphases; i++) {
        assert_string_equal(a.r.run.phases[i].phase, b.r.run.phases[i].phase);
        assert_int_equal(a.r.run.phases[i].start_ps, b.r.run.phases[i].start_ps);
        assert_int_equal(a.r.run.phases[i].end_ps, b.r.run.phases[i].end_ps);
        assert_int_equal(a.r.run.phases[i].ideal_ps, b.r.run.phases[i].ideal_ps);
        assert_int_equal(a.r.run.phases[i].bytes, b.r.run.phases[i].bytes);
    }
    /* phases chain: each starts where the one before ends */
    for (size_t i = 1; i < a.r.run.nphases; i++)
        assert_int_equal(a.r.run.phases[i].start_ps, a.r.run.phases[i - 1].end_ps);
    assert_int_equal(a.r.run.st.events, b.r.run.st.events);
    assert_int_equal(a.r.run.st.now, b.r.run.st.now);
    assert_int_equal(a.r.run.st.acks, b.r.run.st.acks);
    assert_int_equal(a.r.run.st.peak_packets, b.r.run.st.peak_packets);
    for (uint32_t p = 0; p < a.t->nports; p++) {
        assert_int_equal(a.r.run.ports[p].bytes, b.r.run.ports[p].bytes);
        assert_int_equal(a.r.run.ports[p].busy_ps, b.r.run.ports[p].busy_ps);
        assert_int_equal(a.r.run.ports[p].max_queue_bytes, b.r.run.ports[p].max_queue_bytes);
    }
    assert_true(a.r.run.nflows > 0);
    assert_int_equal(a.r.run.nflows, b.r.run.nflows);
    for (size_t i = 0; i < a.r.run.nflows; i++) {
        assert_int_equal(a.r.run.flows[i].flow, i);
        assert_int_equal(b.r.run.flows[i].flow, i);
        assert_int_equal(a.r.run.flows[i].src, b.r.run.flows[i].src);
        assert_int_equal(a.r.run.flows[i].start_ps, b.r.run.flows[i].start_ps);
        assert_int_equal(a.r.run.flows[i].end_ps, b.r.run.flows[i].end_ps);
    }
    free_moe(&a);
    free_moe(&b);
}

/* The standard dispatch reads a token's GPUs from the placement's tables
 * (the source's replica, else replica b mod n; a top-2 token with both
 * slots through the (expert, b mod n) table, other tokens slot by slot);
 * with a node limit it takes route_token (pl_gpu_of, then the limit). A
 * limit of every server limits nothing, so both must give the same
 * messages in the same order, the same phases, gpu_load and counters: with
 * replicas, both shards, chunks, dedup on and off, a trace with missing
 * rows (skipped slots), and generated traces of top-1, top-2 and top-3. */
static void dispatch_tables_case(const char *trace, int v, int missing)
{
    struct cfg c = moecfg(trace, 2, 4, 2); /* 8 GPUs, 4 servers */
    c.pl.replicas = 8;                     /* 16 slots: 2 per GPU */
    /* slots shuffled: an expert's two replicas mostly on two GPUs; or
     * eplb's replicas of the hot experts (replica counts differ) */
    c.pl.policy =
        opt_choice_index(opt_find("placement", "policy")->choices, v & 8 ? "eplb" : "random");
    c.wl.shard = v & 1 ? SHARD_ROUND_ROBIN : SHARD_CONTIGUOUS;
    c.wl.dedup = !(v & 2);
    c.wl.chunks = v & 4 ? 2 : 1;
    c.wl.layers = 6;
    c.out.flows = 1;
    struct moe_run a, b;
    run_moe(&c, &a);
    c.wl.max_nodes = 4;
    run_moe(&c, &b);
    assert_true(a.st.selections > 0);
    if (missing) assert_true(a.st.skipped > 0);
    assert_int_equal(a.st.selections, b.st.selections);
    assert_int_equal(a.st.skipped, b.st.skipped);
    assert_int_equal(a.st.net_copies, b.st.net_copies);
    assert_int_equal(a.st.max_token_nodes, b.st.max_token_nodes);
    assert_int_equal(b.st.node_moved + b.st.node_dropped, 0);
    assert_int_equal(a.r.run.nphases, b.r.run.nphases);
    for (size_t i = 0; i < a.r.run.nphases; i++) {
        assert_int_equal(a.r.run.phases[i].bytes, b.r.run.phases[i].bytes);
        assert_int_equal(a.r.run.phases[i].end_ps, b.r.run.phases[i].end_ps);
    }
    assert_true(a.r.run.nflows > 0);
    assert_int_equal(a.r.run.nflows, b.r.run.nflows);
    for (size_t i = 0; i < a.r.run.nflows; i++) {
        assert_int_equal(a.r.run.flows[i].src, b.r.run.flows[i].src);
        assert_int_equal(a.r.run.flows[i].dst, b.r.run.flows[i].dst);
        assert_int_equal(a.r.run.flows[i].bytes, b.r.run.flows[i].bytes);
    }
    assert_int_equal(a.r.ngpu_load, b.r.ngpu_load);
    for (size_t i = 0; i < a.r.ngpu_load; i++)
        assert_int_equal(a.r.gpu_load[i].tokens, b.r.gpu_load[i].tokens);
    free_moe(&a);
    free_moe(&b);
}

static void test_dispatch_tables_equal_replica_rule(void **state)
{
    (void)state;
    for (int v = 0; v < 16; v++)
        dispatch_tables_case(EXCERPT, v, 1);
    for (int k = 1; k <= 3; k++) {
        struct trace_gen_params p = {.experts = 8,
                                     .topk = k,
                                     .layers = 6,
                                     .sequences = 2,
                                     .tokens = 64,
                                     .seed = 5,
                                     .zipf = 0.8,
                                     .affinity = 0.3};
        const char *path = tu_write_temp("", ".csv");
        struct err e;
        assert_int_equal(trace_gen_write(&p, path, &e), 0);
        for (int v = 0; v < 16; v++)
            dispatch_tables_case(path, v, 0);
        unlink(path);
    }
}

static void test_calibration(void **state)
{
    (void)state;
    const char *p = tu_write_temp("#source=calibrate\ntokens,us\n1,10\n100,20\n1000,110\n", ".csv");
    struct wl_compute m;
    struct err e;
    assert_int_equal(wl_compute_load_csv(p, &m, &e), 0);
    assert_int_equal(wl_compute_ps(&m, 0), 0);
    assert_int_equal(wl_compute_ps(&m, 1), 10 * PS_PER_US);
    assert_int_equal(wl_compute_ps(&m, 100), 20 * PS_PER_US);
    assert_int_equal(wl_compute_ps(&m, 550), 65 * PS_PER_US);   /* interpolated */
    assert_int_equal(wl_compute_ps(&m, 2000), 210 * PS_PER_US); /* extended by the last slope */
    wl_compute_free(&m);
    /* The roofline: 2*3*hidden*ffn FLOPs per token. */
    struct cfg c;
    cfg_defaults(&c);
    c.wl.hidden = 1000;
    c.wl.ffn = 1000;
    c.wl.gpu_tflops = 1;
    c.wl.efficiency = 1;
    c.wl.expert_overhead_us = 2;
    assert_int_equal(wl_compute_init(&c.wl, &m, &e), 0);
    assert_int_equal(wl_compute_ps(&m, 10), 2 * PS_PER_US + 60000000);
    wl_compute_free(&m);
}

struct bad {
    const char *text, *expect; /* %s = the file's path */
};

static void test_calibration_rejects(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"tokens,us\n1,abc\n", "%s:2: us: expected a time >= 0 in microseconds, got 'abc'"},
        {"tokens,us\n0,5\n", "%s:2: tokens: expected a whole number >= 1, got '0'"},
        {"tokens,us\n1.5,5\n", "%s:2: tokens: expected a whole number >= 1, got '1.5'"},
        {"tokens,us\n1,-5\n", "%s:2: us: expected a time >= 0 in microseconds, got '-5'"},
        {"tokens,us\n1,nan\n", "%s:2: us: expected a time >= 0 in microseconds, got 'nan'"},
        {"tokens,us\n5,1\n5,2\n", "%s:3: tokens: 5 does not increase (previous row 5)"},
        {"tokens,us\n5,1\n3,2\n", "%s:3: tokens: 3 does not increase (previous row 5)"},
        {"tokens,us\n1,2,3\n", "%s:2: expected 2 fields (tokens,us), got 3"},
        {"tokens,us\n7\n", "%s:2: expected 2 fields (tokens,us), got 1"},
        {"#only=metadata\n", "%s: no tokens,us rows"},
        {"", "%s: no tokens,us rows"},
        {"tokens,us\n", "%s: no tokens,us rows"},
        {"tokens,ms\n", "%s:1: tokens: expected a whole number >= 1, got 'tokens'"},
        {"1,2\n2,x\n", "%s:2: us: expected a time >= 0 in microseconds, got 'x'"},
        {"1,1e400\n", "%s:1: us: expected a time >= 0 in microseconds, got '1e400'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = tu_write_temp(cases[i].text, ".csv");
        struct wl_compute m;
        struct err e;
        char want[512];
        snprintf(want, sizeof want, cases[i].expect, p);
        assert_int_equal(wl_compute_load_csv(p, &m, &e), -1);
        assert_string_equal(e.msg, want);
        unlink(p);
    }
    struct wl_compute m;
    struct err e;
    assert_int_equal(wl_compute_load_csv("/nonexistent/calib.csv", &m, &e), -1);
    assert_string_equal(e.msg, "/nonexistent/calib.csv: cannot open: No such file or directory");
}

static void test_moe_rejects(void **state)
{
    (void)state;
    struct err e;
    struct topo *t;
    struct wl_gen g;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    c.wl.experts = 16;
    assert_int_equal(wl_create(TU_SPECS(&c), t, &g, &e), -1);
    assert_string_equal(e.msg, "workload.experts: 16 contradicts the trace's 8 experts "
                               "(tests/data/mixtral_excerpt.csv)");
    c.wl.experts = 0;
    c.wl.topk = 4;
    assert_int_equal(wl_create(TU_SPECS(&c), t, &g, &e), -1);
    assert_string_equal(e.msg, "workload.topk: 4 is more than the trace's top-2 "
                               "(tests/data/mixtral_excerpt.csv)");
    c.wl.topk = 0;
    c.wl.layers = 33;
    assert_int_equal(wl_create(TU_SPECS(&c), t, &g, &e), -1);
    assert_string_equal(e.msg, "workload.layers: 33 is more than the trace's 32 layers "
                               "(tests/data/mixtral_excerpt.csv)");
    c.wl.layers = 0;
    c.wl.trace[0] = '\0';
    assert_int_equal(wl_create(TU_SPECS(&c), t, &g, &e), -1);
    assert_string_equal(e.msg, "workload.trace: workload.kind = moe needs a routing trace");
    snprintf(c.wl.compute, sizeof c.wl.compute, "/nonexistent/c.out.csv");
    snprintf(c.wl.trace, sizeof c.wl.trace, EXCERPT);
    assert_int_equal(wl_create(TU_SPECS(&c), t, &g, &e), -1);
    assert_string_equal(e.msg, "/nonexistent/c.out.csv: cannot open: No such file or directory");
    topo_destroy(t);
}

/* Sum of the bytes of every row named `name`. */
static uint64_t bytes_named(const struct wl_result *r, const char *name)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->run.nphases; i++)
        if (!strcmp(r->run.phases[i].phase, name)) sum += r->run.phases[i].bytes;
    return sum;
}

/* Chunks cut each GPU's tokens, not the traffic: C = 4 moves the bytes of
 * C = 1 and computes the same selections per GPU, in 3 rows per chunk and
 * layer (the phase model, overlap = none). */
static void test_chunks_conserve(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    struct moe_run one, four;
    run_moe(&c, &one);
    c.wl.chunks = 4;
    run_moe(&c, &four);
    assert_int_equal(four.r.run.nphases, 4 * one.r.run.nphases);
    assert_int_equal(bytes_named(&four.r, "dispatch"), bytes_named(&one.r, "dispatch"));
    assert_int_equal(bytes_named(&four.r, "combine"), bytes_named(&one.r, "combine"));
    assert_int_equal(four.r.ngpu_load, one.r.ngpu_load);
    for (size_t i = 0; i < one.r.ngpu_load; i++)
        assert_int_equal(four.r.gpu_load[i].tokens, one.r.gpu_load[i].tokens);
    assert_int_equal(four.st.selections, one.st.selections);
    /* no overlap: each phase starts when the one before has ended */
    for (size_t i = 1; i < four.r.run.nphases; i++)
        assert_int_equal(four.r.run.phases[i].start_ps, four.r.run.phases[i - 1].end_ps);
    free_moe(&one);
    free_moe(&four);
}

/* overlap = chunks with compute much longer than the network: each layer
 * takes its compute plus one chunk's network time (the first dispatch and
 * the last combine), within 1%, and less than the same chunks without
 * overlap. Dispatch i starts after dispatch i-1, combine i after compute i
 * and combine i-1. */
static void test_overlap_hides_network(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.wl.tokens_per_gpu = 64;
    c.wl.gpu_tflops = 2; /* compute dominates */
    c.wl.expert_overhead_us = 0;
    c.wl.chunks = 4;
    struct moe_run ov, seq;
    run_moe(&c, &seq);
    c.wl.overlap = WL_OVERLAP_CHUNKS;
    run_moe(&c, &ov);
    assert_int_equal(ov.r.run.nphases, seq.r.run.nphases);
    size_t per_layer = 3 * 4, L = ov.r.run.nphases / per_layer;
    for (size_t l = 0; l < L; l++) {
        const struct res_phase *p = &ov.r.run.phases[l * per_layer];
        simtime_t compute = 0;
        for (size_t i = 0; i < 4; i++) {
            const struct res_phase *d = p + 3 * i, *k = d + 1, *o = d + 2;
            assert_string_equal(d->phase, "dispatch");
            assert_string_equal(k->phase, "compute");
            assert_string_equal(o->phase, "combine");
            assert_true(k->start_ps >= d->end_ps);
            assert_true(o->start_ps >= k->end_ps);
            if (i) assert_true(d->start_ps >= (d - 3)->end_ps && o->start_ps >= (o - 3)->end_ps);
            compute += k->end_ps - k->start_ps;
        }
        simtime_t net1 = (p[0].end_ps - p[0].start_ps) + (p[11].end_ps - p[11].start_ps);
        simtime_t layer = p[11].end_ps - p[0].start_ps;
        double want = (double)(compute + net1);
        if (fabs((double)layer - want) > 0.01 * want)
            fail_msg("layer %zu: %llu ps, compute + one chunk's network %.0f ps", l,
                     (unsigned long long)layer, want);
        assert_true(compute > 10 * net1); /* the regime the claim is about */
    }
    assert_true(tu_end(&ov.r) < tu_end(&seq.r));
    assert_int_equal(bytes_named(&ov.r, "dispatch"), bytes_named(&seq.r, "dispatch"));
    free_moe(&ov);
    free_moe(&seq);
}

/* workload.attn_us: one "attention" row per layer on every GPU's stream,
 * lasting attn_us, before the layer's first dispatch (both models). */
static void test_attention(void **state)
{
    (void)state;
    for (int ov = 0; ov < 2; ov++) {
        struct cfg c = moecfg(EXCERPT, 2, 4, 1);
        c.wl.attn_us = 7;
        c.wl.chunks = 2;
        c.wl.overlap = ov ? WL_OVERLAP_CHUNKS : WL_OVERLAP_NONE;
        struct moe_run m;
        run_moe(&c, &m);
        size_t n = 0;
        for (size_t i = 0; i < m.r.run.nphases; i++) {
            const struct res_phase *p = &m.r.run.phases[i];
            if (strcmp(p->phase, "attention")) continue;
            n++;
            assert_int_equal(p->end_ps - p->start_ps, 7 * PS_PER_US);
            assert_string_equal(p[1].phase, "dispatch");
            assert_int_equal(p[1].layer, p->layer);
            assert_true(p[1].start_ps >= p->end_ps);
        }
        assert_int_equal(n, m.r.run.nphases / 7); /* 1 + 3 per chunk per layer */
        free_moe(&m);
    }
}

/* pass = training: the forward rows as with pass = forward, then the
 * backward in reverse layer order, each layer's all-to-alls with the
 * forward's bytes and its compute x backward_factor, the gpu_load rows not
 * counted twice; dense_bytes adds a ring all-reduce over every GPU that
 * starts with the backward pass and overlaps it. */
static void test_training(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.wl.layers = 2;
    struct moe_run fwd, tr, grad;
    run_moe(&c, &fwd);
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.backward_factor = 2;
    run_moe(&c, &tr);
    c.wl.dense_bytes = 1 << 20;
    run_moe(&c, &grad);
    size_t nf = fwd.r.run.nphases; /* 3 per layer */
    assert_int_equal(nf, 6);
    assert_int_equal(tr.r.run.nphases, 2 * nf);
    for (size_t i = 0; i < nf; i++) {
        assert_string_equal(tr.r.run.phases[i].phase, fwd.r.run.phases[i].phase);
        assert_int_equal(tr.r.run.phases[i].end_ps, fwd.r.run.phases[i].end_ps);
    }
    static const char *const bwd[3] = {"bwd_dispatch", "bwd_compute", "bwd_combine"};
    for (size_t j = 0; j < nf; j++) {
        const struct res_phase *b = &tr.r.run.phases[nf + j];
        uint32_t layer = j < 3 ? 1 : 0;
        const struct res_phase *f = &fwd.r.run.phases[layer * 3 + j % 3];
        assert_string_equal(b->phase, bwd[j % 3]);
        assert_int_equal(b->layer, layer);
        assert_int_equal(b->bytes, f->bytes);
        assert_int_equal(b->start_ps, tr.r.run.phases[nf + j - 1].end_ps); /* a chain */
        if (j % 3 == 1) assert_int_equal(b->end_ps - b->start_ps, 2 * (f->end_ps - f->start_ps));
    }
    for (size_t i = 0; i < fwd.r.ngpu_load; i++)
        assert_int_equal(tr.r.gpu_load[i].tokens, fwd.r.gpu_load[i].tokens);
    assert_int_equal(tr.st.selections, fwd.st.selections);
    /* the gradient all-reduce: 2(G-1) steps of G messages of 1 MiB / G,
     * the first starting with the backward pass */
    uint32_t G = 8;
    size_t ngrad = 0;
    uint64_t gbytes = 0;
    simtime_t bwd_start = fwd.r.run.phases[nf - 1].end_ps, gend = 0;
    for (size_t i = 0; i < grad.r.run.nphases; i++) {
        const struct res_phase *p = &grad.r.run.phases[i];
        if (strncmp(p->phase, "grad_", 5)) continue;
        if (ngrad == 0) assert_int_equal(p->start_ps, bwd_start);
        ngrad++;
        gbytes += p->bytes;
        if (p->end_ps > gend) gend = p->end_ps;
    }
    assert_int_equal(ngrad, 2 * (G - 1) * G);
    assert_int_equal(gbytes, 2 * (G - 1) * (1 << 20));
    assert_true(gend > bwd_start && tu_end(&grad.r) >= gend);
    free_moe(&fwd);
    free_moe(&tr);
    free_moe(&grad);
}

/* workload.dp_size = 4 of 8 GPUs: the gradient all-reduce is a ring per
 * data-parallel group, GPUs g with the same g mod 2 (groups {0,2,4,6} and
 * {1,3,5,7}), group 0's rows first: 2 x 2(4-1) x 4 messages, each from a
 * GPU to the next of its group, every GPU sending 2(4-1)/4 of dense_bytes;
 * dp_size = 8 (every GPU) gives the rows of dp_size = 0; dp_size = 1 has no
 * all-reduce, and the backward rows of dense_bytes = 0. */
static void test_dp_groups(void **state)
{
    (void)state;
    struct cfg c = moecfg(EXCERPT, 2, 4, 1);
    c.wl.layers = 2;
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.dense_bytes = 1 << 20;
    c.out.flows = 1;
    struct moe_run all, eight, four, one, none;
    run_moe(&c, &all);
    c.wl.dp_size = 8;
    run_moe(&c, &eight);
    c.wl.dp_size = 4;
    run_moe(&c, &four);
    c.wl.dp_size = 1;
    run_moe(&c, &one);
    c.wl.dp_size = 0;
    c.wl.dense_bytes = 0;
    run_moe(&c, &none);
    assert_int_equal(all.r.run.nphases, eight.r.run.nphases);
    for (size_t i = 0; i < all.r.run.nphases; i++) {
        assert_string_equal(all.r.run.phases[i].phase, eight.r.run.phases[i].phase);
        assert_int_equal(all.r.run.phases[i].start_ps, eight.r.run.phases[i].start_ps);
        assert_int_equal(all.r.run.phases[i].end_ps, eight.r.run.phases[i].end_ps);
    }
    assert_int_equal(one.r.run.nphases, none.r.run.nphases);
    for (size_t i = 0; i < one.r.run.nphases; i++) {
        assert_string_equal(one.r.run.phases[i].phase, none.r.run.phases[i].phase);
        assert_int_equal(one.r.run.phases[i].end_ps, none.r.run.phases[i].end_ps);
    }
    /* the grad rows are the run's last tasks, one message each: the last flows */
    const uint32_t G = 8, dp = 4, steps = 2 * (dp - 1);
    size_t ngrad = 0, first = SIZE_MAX;
    for (size_t i = 0; i < four.r.run.nphases; i++)
        if (!strncmp(four.r.run.phases[i].phase, "grad_", 5)) {
            if (first == SIZE_MAX) first = i;
            ngrad++;
        }
    assert_int_equal(ngrad, (G / dp) * steps * dp);
    assert_int_equal(first + ngrad, four.r.run.nphases);
    assert_true(four.r.run.nflows >= ngrad);
    uint64_t sent[8] = {0};
    for (size_t k = 0; k < ngrad; k++) {
        const struct res_flow *f = &four.r.run.flows[four.r.run.nflows - ngrad + k];
        assert_int_equal(f->bytes, four.r.run.phases[first + k].bytes);
        assert_int_equal(f->dst, (f->src + G / dp) % G); /* the next GPU of its group */
        assert_int_equal(f->src % (G / dp), k < ngrad / 2 ? 0 : 1);
        sent[f->src] += f->bytes;
    }
    for (uint32_t g = 0; g < G; g++)
        assert_int_equal(sent[g], steps * ((1u << 20) / dp));
    free_moe(&all);
    free_moe(&eight);
    free_moe(&four);
    free_moe(&one);
    free_moe(&none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_conservation),
        cmocka_unit_test(test_every_selection_accounted),
        cmocka_unit_test(test_skew_compute_dominates),
        cmocka_unit_test(test_coherent_keeps_chains_local),
        cmocka_unit_test(test_nvlink_carries_intra_server),
        cmocka_unit_test(test_trace_reuse_counted),
        cmocka_unit_test(test_train_split_holds_out),
        cmocka_unit_test(test_placement_balances_skew),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_dispatch_tables_equal_replica_rule),
        cmocka_unit_test(test_threads_change_nothing),
        cmocka_unit_test(test_calibration),
        cmocka_unit_test(test_calibration_rejects),
        cmocka_unit_test(test_moe_rejects),
        cmocka_unit_test(test_chunks_conserve),
        cmocka_unit_test(test_overlap_hides_network),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_training),
        cmocka_unit_test(test_dp_groups),
    };
    return cmocka_run_group_tests_name("moe", tests, NULL, NULL);
}
