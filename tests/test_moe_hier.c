/* test_moe_hier.c - the MoE step's hierarchical dispatch, node-limited
 * routing and dual micro-batches (docs/moe-steps.md): network crossings per
 * token counted against a recount from the trace, bytes per hop, the
 * selections and expert loads conserved, hierarchical against direct per
 * server pair, the dual-batch step against its bounds, determinism, and the
 * graph's micro-batch tag. */
#include "testutil.h"

#include <math.h>

#include "app/scenario.h"
#include "workloads/moe.h"
#include "workloads/trace_gen.h"

#define TRACE "/tmp/moesim_test_moe_hier.csv"
/* 32 experts, top-4, 4 layers, 256 tokens (4 sequences of 64), uniform */
#define E   32
#define K   4
#define L   4
#define T   256
#define G   16 /* 2 leaves x 8 GPUs */
#define P   4  /* GPUs per server: 4 servers */
#define N   16 /* tokens per GPU: G * N = T, so batch token b is trace token b */
#define MSG 2048

static void gen(void)
{
    struct trace_gen_params p = {E, K, L, 4, 64, 11, 0.0, 0.0};
    struct err e;
    if (trace_gen_write(&p, TRACE, &e) != 0) fail_msg("%s", e.msg);
}

static struct cfg hiercfg(int hier, int max_nodes)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", TRACE);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = G / 2;
    c.topo.gpus_per_host = P;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = MSG / 2;
    c.wl.tokens_per_gpu = N;
    c.wl.dispatch = hier ? WL_DISPATCH_HIERARCHICAL : WL_DISPATCH_DIRECT;
    c.wl.max_nodes = max_nodes;
    c.tr.path = PATH_SPRAY;
    c.pl.train = 0; /* contiguous, no replicas: expert x on GPU x * G / E */
    c.out.flows = 1;
    return c;
}

struct run {
    struct wl_result r;
    struct moe_stats st;
};

static void run(const struct cfg *c, struct run *out)
{
    struct err e;
    struct topo *t;
    assert_int_equal(topo_build(&c->topo, &t, &e), 0);
    struct wl_gen g;
    if (wl_create(TU_SPECS(c), t, &g, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(wl_drive(&g, t, TU_SPECS(c), &out->r, &e), 0);
    if (out->r.run.invariant[0]) fail_msg("%s", out->r.run.invariant);
    out->st = *wl_moe_stats(&g);
    out->st.uses = NULL;
    g.destroy(g.state);
    topo_destroy(t);
}

static uint64_t bytes_named(const struct wl_result *r, const char *name)
{
    uint64_t s = 0;
    for (size_t i = 0; i < r->run.nphases; i++)
        if (!strcmp(r->run.phases[i].phase, name)) s += r->run.phases[i].bytes;
    return s;
}

/* Payload bytes the flows carried from server a to server b (a != b: over
 * the network), into m[a * S + b]. */
static void node_pairs(const struct wl_result *r, uint64_t *m)
{
    memset(m, 0, (G / P) * (G / P) * sizeof *m);
    for (size_t i = 0; i < r->run.nflows; i++) {
        const struct res_flow *f = &r->run.flows[i];
        m[(f->src / P) * (G / P) + f->dst / P] += f->bytes;
    }
}

/* What the dispatch of one token at one layer is under the documented rule
 * (docs/moe-steps.md), recounted from the trace: servers ranked by summed
 * weight, then count, then lowest number; the first max_nodes kept; no
 * replicas, so slots on dropped servers are dropped. */
struct expect {
    uint64_t copies, dropped, hop1, hop2, spans_max;
};

static void recount(const struct trace *t, int max_nodes, struct expect *x)
{
    memset(x, 0, sizeof *x);
    for (size_t b = 0; b < T; b++) {
        uint32_t home = (uint32_t)(b / N), hn = home / P;
        for (int l = 0; l < L; l++) {
            double score[G / P] = {0};
            int cnt[G / P] = {0}, keep[G / P] = {0}, gpu[K];
            for (int k = 0; k < K; k++) {
                size_t i = trace_idx(t, b, l, k);
                gpu[k] = t->expert[i] * G / E;
                score[gpu[k] / P] += t->weight[i];
                cnt[gpu[k] / P]++;
            }
            int used = 0;
            for (int n = 0; n < G / P; n++)
                used += cnt[n] > 0;
            for (int r = 0; r < (max_nodes && max_nodes < used ? max_nodes : used); r++) {
                int best = -1;
                for (int n = 0; n < G / P; n++) {
                    if (!cnt[n] || keep[n]) continue;
                    if (best < 0 || score[n] > score[best] ||
                        (score[n] == score[best] && cnt[n] > cnt[best]))
                        best = n; /* a tie of both keeps the lower n */
                }
                keep[best] = 1;
            }
            int dst[K], nd = 0, spans = 0;
            for (int k = 0; k < K; k++) {
                if (!keep[gpu[k] / P]) {
                    x->dropped++;
                    continue;
                }
                int dup = 0;
                for (int j = 0; j < nd; j++)
                    dup |= dst[j] == gpu[k];
                if (!dup) dst[nd++] = gpu[k];
            }
            for (int n = 0; n < G / P; n++) {
                spans += keep[n];
                if (!keep[n] || (uint32_t)n == hn) continue;
                x->copies++;
                x->hop1++;
            }
            for (int j = 0; j < nd; j++) {
                uint32_t d = (uint32_t)dst[j], relay = (d / P) * P + home % P;
                if (d == home) continue;
                if (d / P == hn)
                    x->hop1++;
                else if (d != relay)
                    x->hop2++;
            }
            if ((uint64_t)spans > x->spans_max) x->spans_max = (uint64_t)spans;
        }
    }
}

/* Hierarchical dispatch with at most 2 of the 4 servers per token: every
 * count the run reports equals the recount from the trace (network copies,
 * dropped selections, the most servers one token spanned, the bytes of the
 * network hop and of the NVLink hop, and the combine's the same in
 * reverse); no token crosses the network to more than max_nodes servers. */
static void test_crossings_counted(void **state)
{
    (void)state;
    struct trace t;
    struct err e;
    assert_int_equal(trace_load(TRACE, 0, &t, &e), 0);
    for (int mn = 1; mn <= 4; mn++) {
        struct cfg c = hiercfg(1, mn);
        struct run r;
        run(&c, &r);
        struct expect x;
        recount(&t, mn, &x);
        assert_int_equal(r.st.net_copies, x.copies);
        assert_int_equal(r.st.node_dropped, x.dropped);
        assert_int_equal(r.st.node_moved, 0);
        assert_int_equal(r.st.max_token_nodes, x.spans_max);
        assert_true(r.st.max_token_nodes <= (uint32_t)mn);
        assert_true(r.st.net_copies <= (uint64_t)mn * T * L);
        assert_int_equal(r.st.selections + x.dropped, (uint64_t)T * L * K);
        assert_int_equal(bytes_named(&r.r, "dispatch"), x.hop1 * MSG);
        assert_int_equal(bytes_named(&r.r, "dispatch_nvl"), x.hop2 * MSG);
        assert_int_equal(bytes_named(&r.r, "combine"), x.hop1 * MSG);
        assert_int_equal(bytes_named(&r.r, "combine_nvl"), x.hop2 * MSG);
        if (mn == 4) assert_int_equal(x.dropped, 0);
        if (mn == 1) assert_true(x.dropped > 0);
        wl_result_free(&r.r);
    }
    trace_free(&t);
}

/* No node limit (max_nodes 0 or = the servers): hierarchical dispatch
 * routes every selection as direct does (the same selections, the same
 * tokens per GPU and layer: gpu_load), and its network bytes are at most
 * direct's for every server pair: one copy per (token, server) instead of
 * one per (token, GPU). */
static void test_hier_conserves(void **state)
{
    (void)state;
    struct run d, h, h4;
    struct cfg c = hiercfg(0, 0);
    run(&c, &d);
    c = hiercfg(1, 0);
    run(&c, &h);
    c = hiercfg(1, G / P);
    run(&c, &h4);
    assert_int_equal(h.st.selections, (uint64_t)T * L * K);
    assert_int_equal(d.st.selections, h.st.selections);
    assert_int_equal(h4.st.selections, h.st.selections);
    assert_int_equal(d.r.ngpu_load, h.r.ngpu_load);
    for (size_t i = 0; i < d.r.ngpu_load; i++) {
        assert_int_equal(h.r.gpu_load[i].tokens, d.r.gpu_load[i].tokens);
        assert_int_equal(h4.r.gpu_load[i].tokens, d.r.gpu_load[i].tokens);
    }
    assert_int_equal(h4.st.net_copies, h.st.net_copies);
    assert_true(h.st.net_copies < d.st.net_copies); /* top-4 of 32: servers shared */
    uint64_t md[(G / P) * (G / P)], mh[(G / P) * (G / P)];
    node_pairs(&d.r, md);
    node_pairs(&h.r, mh);
    uint64_t netd = 0, neth = 0;
    for (int a = 0; a < G / P; a++)
        for (int b = 0; b < G / P; b++)
            if (a != b) {
                assert_true(mh[a * (G / P) + b] <= md[a * (G / P) + b]);
                netd += md[a * (G / P) + b];
                neth += mh[a * (G / P) + b];
            }
    /* network bytes: 2 (dispatch and combine) per copy that crosses */
    assert_int_equal(netd, 2 * d.st.net_copies * MSG);
    assert_int_equal(neth, 2 * h.st.net_copies * MSG);
    print_message("network bytes: direct %llu, hierarchical %llu\n", (unsigned long long)netd,
                  (unsigned long long)neth);
    wl_result_free(&d.r);
    wl_result_free(&h.r);
    wl_result_free(&h4.r);
}

/* With one expert per token (topk = 1) no server gets two copies of a
 * token, so with max_nodes = the servers hierarchical dispatch moves exactly
 * direct's network bytes for every server pair; only the NVLink hop (relay
 * to expert) is added. */
static void test_hier_equals_direct_top1(void **state)
{
    (void)state;
    struct run d, h;
    struct cfg c = hiercfg(0, 0);
    c.wl.topk = 1;
    run(&c, &d);
    c = hiercfg(1, G / P);
    c.wl.topk = 1;
    run(&c, &h);
    uint64_t md[(G / P) * (G / P)], mh[(G / P) * (G / P)];
    node_pairs(&d.r, md);
    node_pairs(&h.r, mh);
    for (int a = 0; a < G / P; a++)
        for (int b = 0; b < G / P; b++)
            if (a != b) assert_int_equal(mh[a * (G / P) + b], md[a * (G / P) + b]);
    assert_int_equal(h.st.net_copies, d.st.net_copies);
    assert_true(bytes_named(&h.r, "dispatch_nvl") > 0);
    /* the network hop goes to the relay instead of the expert: as many bytes */
    assert_int_equal(bytes_named(&h.r, "dispatch"), bytes_named(&d.r, "dispatch"));
    wl_result_free(&d.r);
    wl_result_free(&h.r);
}

/* Sum of the durations of the compute rows (ideal 0) or of the network
 * rows. */
static simtime_t busy(const struct wl_result *r, int net)
{
    simtime_t s = 0;
    for (size_t i = 0; i < r->run.nphases; i++) {
        const struct res_phase *p = &r->run.phases[i];
        int is_net = strcmp(p->phase, "attention") && strcmp(p->phase, "compute");
        if (is_net == net) s += p->end_ps - p->start_ps;
    }
    return s;
}

/* overlap = dual_batch: the same bytes and expert loads as the phase model
 * (the two micro-batches are the halves chunks = 2 makes), a step no shorter
 * than the compute stream's busy time nor the communication stream's (each
 * runs its tasks one at a time), no longer than twice the single-batch step,
 * and shorter than it when attention gives the all-to-alls compute to hide
 * under; rows per layer: 2 attention, then per micro-batch dispatch,
 * compute, combine. */
static void test_dual_batch_bounds(void **state)
{
    (void)state;
    for (int hier = 0; hier < 2; hier++) {
        struct cfg c = hiercfg(hier, 0);
        c.wl.attn_us = 20;
        c.wl.tokens_per_gpu = N;
        c.out.flows = 0;
        struct run one, dual;
        run(&c, &one);
        c.wl.overlap = WL_OVERLAP_DUAL_BATCH;
        run(&c, &dual);
        assert_int_equal(bytes_named(&dual.r, "dispatch"), bytes_named(&one.r, "dispatch"));
        assert_int_equal(bytes_named(&dual.r, "combine"), bytes_named(&one.r, "combine"));
        for (size_t i = 0; i < one.r.ngpu_load; i++)
            assert_int_equal(dual.r.gpu_load[i].tokens, one.r.gpu_load[i].tokens);
        simtime_t step = tu_end(&dual.r), single = tu_end(&one.r);
        simtime_t comp = busy(&dual.r, 0), comm = busy(&dual.r, 1);
        print_message("%s: single %.2f us, dual %.2f us, compute %.2f us, comm %.2f us\n",
                      hier ? "hierarchical" : "direct", (double)single / 1e6, (double)step / 1e6,
                      (double)comp / 1e6, (double)comm / 1e6);
        assert_true(step >= comp && step >= comm);
        assert_true(step <= 2 * single);
        assert_true(step < single);
        size_t per_layer = 2 + 2 * (hier ? 5 : 3);
        assert_int_equal(dual.r.run.nphases, L * per_layer);
        const struct res_phase *p = dual.r.run.phases;
        assert_string_equal(p[0].phase, "attention");
        assert_string_equal(p[1].phase, "attention");
        assert_string_equal(p[2].phase, "dispatch");
        assert_string_equal(p[per_layer - 1].phase, "combine");
        wl_result_free(&one.r);
        wl_result_free(&dual.r);
    }
}

/* Hierarchical dispatch in the other step shapes: with overlap = chunks
 * each chunk's compute starts after its NVLink hop and its combine's network
 * hop after its NVLink hop; pass = training repeats every hop's bytes in the
 * backward rows. */
static void test_hier_chunks_training(void **state)
{
    (void)state;
    struct cfg c = hiercfg(1, 0);
    c.out.flows = 0;
    c.wl.chunks = 2;
    c.wl.overlap = WL_OVERLAP_CHUNKS;
    c.wl.pass = WL_PASS_TRAINING;
    struct run r;
    run(&c, &r);
    static const char *const hop[4] = {"dispatch", "dispatch_nvl", "combine", "combine_nvl"};
    for (int i = 0; i < 4; i++) {
        char bwd[32];
        snprintf(bwd, sizeof bwd, "bwd_%s", hop[i]);
        assert_true(bytes_named(&r.r, hop[i]) > 0);
        assert_int_equal(bytes_named(&r.r, bwd), bytes_named(&r.r, hop[i]));
    }
    size_t n = 0;
    for (size_t i = 0; i + 4 < r.r.run.nphases; i++) {
        const struct res_phase *p = &r.r.run.phases[i];
        if (strcmp(p->phase, "dispatch")) continue;
        assert_string_equal(p[1].phase, "dispatch_nvl");
        assert_string_equal(p[2].phase, "compute");
        assert_string_equal(p[3].phase, "combine_nvl");
        assert_string_equal(p[4].phase, "combine");
        assert_true(p[1].start_ps >= p[0].end_ps && p[2].start_ps >= p[1].end_ps);
        assert_true(p[3].start_ps >= p[2].end_ps && p[4].start_ps >= p[3].end_ps);
        n++;
    }
    assert_int_equal(n, 2 * L);
    wl_result_free(&r.r);
}

/* The same configuration twice, the second time simulating two parts at
 * once: the same rows, bit for bit (dual_batch, and the phase model whose
 * hops are parts of their own). */
static void test_determinism(void **state)
{
    (void)state;
    for (int ov = 0; ov < 2; ov++) {
        struct run a, b;
        struct cfg c = hiercfg(1, 2);
        c.wl.overlap = ov ? WL_OVERLAP_DUAL_BATCH : WL_OVERLAP_NONE;
        c.wl.attn_us = 5;
        run(&c, &a);
        wl_set_threads(2);
        run(&c, &b);
        wl_set_threads(1);
        assert_int_equal(a.r.run.nphases, b.r.run.nphases);
        for (size_t i = 0; i < a.r.run.nphases; i++) {
            assert_string_equal(a.r.run.phases[i].phase, b.r.run.phases[i].phase);
            assert_int_equal(a.r.run.phases[i].start_ps, b.r.run.phases[i].start_ps);
            assert_int_equal(a.r.run.phases[i].end_ps, b.r.run.phases[i].end_ps);
            assert_int_equal(a.r.run.phases[i].bytes, b.r.run.phases[i].bytes);
        }
        assert_int_equal(a.st.net_copies, b.st.net_copies);
        wl_result_free(&a.r);
        wl_result_free(&b.r);
    }
}

/* graph_set_micro_batch tags a task; the executor's part carries it. */
static void test_micro_batch_tag(void **state)
{
    (void)state;
    struct graph *g = graph_create();
    uint64_t a = graph_compute(g, "x", 0, 0, 0, 1);
    uint64_t b = graph_compute(g, "y", 0, 0, 0, 1);
    graph_set_micro_batch(g, b, 1);
    graph_close(g);
    struct graph_part p;
    assert_int_equal(graph_take(g, &p), 1);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.task[a].micro_batch, 0);
    assert_int_equal(p.task[b].micro_batch, 1);
    graph_part_free(&p);
    graph_destroy(g);
}

static int setup(void **state)
{
    (void)state;
    gen();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(TRACE);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crossings_counted),       cmocka_unit_test(test_hier_conserves),
        cmocka_unit_test(test_hier_equals_direct_top1), cmocka_unit_test(test_dual_batch_bounds),
        cmocka_unit_test(test_hier_chunks_training),    cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_micro_batch_tag),
    };
    return cmocka_run_group_tests_name("moe_hier", tests, setup, teardown);
}
