/* test_moe_grad.c - the MoE training step's gradient all-reduce and decode's
 * KV model: workload.dp_layout = contiguous groups (each message inside its
 * block of dp_size GPUs), workload.grad_algo = tree and halving_doubling
 * (their messages, partners and bytes per GPU), workload.grad_chunks (the
 * pipelined ring's bytes unchanged, the tree's chunk tags), the forward rows
 * unchanged by any of them; workload.kv_context (each attention row lasts
 * attn_us plus tokens_per_gpu x kv_context x kv_bytes at hbm_gbps, and the
 * phase model's step grows by layers x that). */
#include "testutil.h"

#include <math.h>

#include "app/scenario.h"
#include "workloads/moe.h"

#define EXCERPT "tests/data/mixtral_excerpt.csv"

/* 8 GPUs (2 leaves x 4), two layers, a training step with a gradient
 * all-reduce of 1 MiB per GPU. */
static struct cfg gradcfg(void)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", EXCERPT);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 4;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = 1024;
    c.wl.tokens_per_gpu = 16;
    c.wl.layers = 2;
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.dense_bytes = 1 << 20;
    c.tr.path = PATH_SPRAY;
    c.pl.train = 0;
    c.out.flows = 1;
    return c;
}

/* The gradient rows (named grad_*, a message each): the first one's index,
 * their number in *nnet (the pipelined ring's ring_link delays between them
 * are not grad_ rows). */
static size_t grad_rows(const struct tu_wl *x, size_t *nnet)
{
    size_t first = SIZE_MAX;
    *nnet = 0;
    for (size_t i = 0; i < x->r.run.nphases; i++)
        if (!strncmp(x->r.run.phases[i].phase, "grad_", 5)) {
            if (first == SIZE_MAX) first = i;
            ++*nnet;
        }
    assert_true(first != SIZE_MAX);
    return first;
}

/* The forward and backward all-to-all rows (everything before the grad
 * rows' first) of a and b are the same rows, times included up to the
 * backward pass's start (which the all-reduce shares the engine with). */
static void same_forward(const struct tu_wl *a, const struct tu_wl *b)
{
    for (size_t i = 0; i < a->r.run.nphases && i < b->r.run.nphases; i++) {
        const struct res_phase *p = &a->r.run.phases[i], *q = &b->r.run.phases[i];
        if (!strncmp(p->phase, "bwd_", 4) || !strncmp(p->phase, "grad_", 5)) break;
        assert_string_equal(p->phase, q->phase);
        assert_int_equal(p->start_ps, q->start_ps);
        assert_int_equal(p->end_ps, q->end_ps);
        assert_int_equal(p->bytes, q->bytes);
    }
}

/* Each grad message's (src, dst) from the run's last flows (one per grad
 * network row, in row order); checks each stays in its group (group_of) and
 * returns the bytes each GPU sent into sent[8]. */
static void grad_flows(const struct tu_wl *x, size_t nnet, uint32_t (*group_of)(uint32_t),
                       uint64_t *sent)
{
    assert_true(x->r.run.nflows >= nnet);
    for (uint32_t g = 0; g < 8; g++)
        sent[g] = 0;
    for (size_t k = 0; k < nnet; k++) {
        const struct res_flow *f = &x->r.run.flows[x->r.run.nflows - nnet + k];
        assert_int_not_equal(f->src, f->dst);
        assert_int_equal(group_of(f->src), group_of(f->dst));
        sent[f->src] += f->bytes;
    }
}

static uint32_t block4(uint32_t g)
{
    return g / 4;
}

static uint32_t stride2(uint32_t g)
{
    return g % 2;
}

static uint32_t one_group(uint32_t g)
{
    (void)g;
    return 0;
}

static void test_dp_contiguous(void **state)
{
    (void)state;
    struct cfg c = gradcfg();
    struct tu_wl all, all_c, strided, contig;
    tu_wl_run(&c, &all);
    c.wl.dp_layout = WL_DP_CONTIGUOUS;
    tu_wl_run(&c, &all_c); /* one group: the layout changes nothing */
    assert_int_equal(all.r.run.nphases, all_c.r.run.nphases);
    for (size_t i = 0; i < all.r.run.nphases; i++) {
        assert_string_equal(all.r.run.phases[i].phase, all_c.r.run.phases[i].phase);
        assert_int_equal(all.r.run.phases[i].end_ps, all_c.r.run.phases[i].end_ps);
    }
    c.wl.dp_size = 4;
    tu_wl_run(&c, &contig);
    c.wl.dp_layout = WL_DP_STRIDED;
    tu_wl_run(&c, &strided);
    same_forward(&contig, &strided);
    size_t n, ns;
    size_t first = grad_rows(&contig, &n);
    grad_rows(&strided, &ns);
    assert_int_equal(n, 2 * 2 * 3 * 4); /* 2 groups x 2(P-1) steps x P GPUs */
    assert_int_equal(ns, n);
    assert_int_equal(first + n, contig.r.run.nphases);
    uint64_t sent[8];
    grad_flows(&contig, n, block4, sent);
    for (size_t k = 0; k < n; k++) { /* each message to the next GPU of its block */
        const struct res_flow *f = &contig.r.run.flows[contig.r.run.nflows - n + k];
        assert_int_equal(f->dst, f->src / 4 * 4 + (f->src % 4 + 1) % 4);
        assert_int_equal(f->src / 4, k < n / 2 ? 0 : 1); /* group 0's rows first */
    }
    for (uint32_t g = 0; g < 8; g++)
        assert_int_equal(sent[g], 6 * ((1u << 20) / 4));
    grad_flows(&strided, n, stride2, sent);
    for (uint32_t g = 0; g < 8; g++)
        assert_int_equal(sent[g], 6 * ((1u << 20) / 4));
    tu_wl_done(&all);
    tu_wl_done(&all_c);
    tu_wl_done(&strided);
    tu_wl_done(&contig);
}

/* The double binary tree as the gradient all-reduce, one group of 8 and two
 * contiguous groups of 4, in 1 and 4 chunks: 2 trees x (P-1) edges x 2
 * (reduce, broadcast) x chunks messages per group, each edge carrying each
 * tree's half once each way, so a group moves 2 (P-1) S bytes; every
 * message inside its group; the tasks rows tagged backward with chunks
 * 0..C-1. */
static void test_grad_tree(void **state)
{
    (void)state;
    struct cfg c = gradcfg();
    struct tu_wl ring, tree, tree4, tree_g;
    tu_wl_run(&c, &ring);
    c.wl.grad_algo = WL_GRAD_TREE;
    tu_wl_run(&c, &tree);
    c.wl.grad_chunks = 4;
    tu_wl_run(&c, &tree4);
    c.wl.dp_size = 4;
    c.wl.dp_layout = WL_DP_CONTIGUOUS;
    tu_wl_run(&c, &tree_g);
    same_forward(&ring, &tree);
    same_forward(&ring, &tree4);
    const uint64_t S = 1u << 20;
    struct {
        struct tu_wl *x;
        uint32_t P, groups, C;
        uint32_t (*group_of)(uint32_t);
    } cases[] = {
        {&tree, 8, 1, 1, one_group}, {&tree4, 8, 1, 4, one_group}, {&tree_g, 4, 2, 4, block4}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct tu_wl *x = cases[k].x;
        size_t n;
        size_t first = grad_rows(x, &n);
        assert_int_equal(n, (size_t)cases[k].groups * 2 * (cases[k].P - 1) * 2 * cases[k].C);
        assert_int_equal(first + n, x->r.run.nphases);
        uint64_t total = 0, sent[8];
        for (size_t i = first; i < first + n; i++) {
            const char *name = x->r.run.phases[i].phase;
            assert_true(!strcmp(name, "grad_tree_reduce") || !strcmp(name, "grad_tree_broadcast"));
            total += x->r.run.phases[i].bytes;
        }
        assert_int_equal(total, (uint64_t)cases[k].groups * 2 * (cases[k].P - 1) * S);
        grad_flows(x, n, cases[k].group_of, sent);
        for (uint32_t g = 0; g < 8; g++) /* a host sends at most 2S (inner in one tree) */
            assert_true(sent[g] > 0 && sent[g] <= 2 * S);
        /* tasks rows: backward, chunks 0..C-1 */
        uint32_t seen = 0;
        for (size_t i = 0; i < x->r.run.ntasks; i++) {
            const struct res_task *t = &x->r.run.tasks[i];
            if (strncmp(t->phase, "grad_", 5)) continue;
            assert_int_equal(t->pass, RES_PASS_BACKWARD);
            assert_true(t->chunk < cases[k].C);
            seen |= 1u << t->chunk;
        }
        assert_int_equal(seen, (1u << cases[k].C) - 1);
    }
    tu_wl_done(&ring);
    tu_wl_done(&tree);
    tu_wl_done(&tree4);
    tu_wl_done(&tree_g);
}

/* Halving-doubling as the gradient all-reduce: 2 log2 P steps of P messages
 * per group, step s's partner at distance P/2^(s+1) then 2^s, each GPU
 * sending 2 (P-1)/P x S as in the ring. */
static void test_grad_hd(void **state)
{
    (void)state;
    struct cfg c = gradcfg();
    c.wl.grad_algo = WL_GRAD_HALVING_DOUBLING;
    c.wl.dp_size = 4;
    struct tu_wl x, ring;
    tu_wl_run(&c, &x);
    c.wl.grad_algo = WL_GRAD_RING;
    tu_wl_run(&c, &ring);
    same_forward(&ring, &x);
    size_t n;
    size_t first = grad_rows(&x, &n);
    assert_int_equal(n, 2 * 4 * 4); /* 2 groups x 2 log2 4 steps x 4 GPUs */
    uint64_t sent[8];
    grad_flows(&x, n, stride2, sent);
    for (uint32_t g = 0; g < 8; g++)
        assert_int_equal(sent[g], 2 * 3 * ((1u << 20) / 4));
    /* strided group j = {j, j+2, j+4, j+6}; ranks r = g / 2; step s's partner
     * rank r XOR (2, 1, 1, 2)[s] */
    static const uint32_t dist[4] = {2, 1, 1, 2};
    for (size_t k = 0; k < n; k++) {
        const struct res_flow *f = &x.r.run.flows[x.r.run.nflows - n + k];
        uint32_t s = x.r.run.phases[first + k].layer;
        assert_int_equal(f->dst / 2, (f->src / 2) ^ dist[s]);
        assert_string_equal(x.r.run.phases[first + k].phase,
                            s < 2 ? "grad_reduce_scatter" : "grad_allgather");
    }
    tu_wl_done(&x);
    tu_wl_done(&ring);
}

/* The pipelined ring as the gradient all-reduce (grad_chunks = 4): each
 * step's message in 4 chunks (4 x the messages, the same bytes per GPU),
 * ring_link delays between a GPU's chunks, the forward rows unchanged. */
static void test_grad_ring_chunks(void **state)
{
    (void)state;
    struct cfg c = gradcfg();
    struct tu_wl one, four;
    tu_wl_run(&c, &one);
    c.wl.grad_chunks = 4;
    tu_wl_run(&c, &four);
    same_forward(&one, &four);
    size_t n1, n4;
    grad_rows(&one, &n1);
    grad_rows(&four, &n4);
    assert_int_equal(n1, 2 * 7 * 8);
    assert_int_equal(n4, 4 * n1);
    size_t links = 0;
    for (size_t i = 0; i < four.r.run.nphases; i++)
        links += !strcmp(four.r.run.phases[i].phase, "ring_link");
    assert_int_equal(links, n4 - 8); /* every chunk but each GPU's first */
    uint64_t s1[8], s4[8];
    grad_flows(&one, n1, one_group, s1);
    grad_flows(&four, n4, one_group, s4);
    for (uint32_t g = 0; g < 8; g++)
        assert_int_equal(s4[g], s1[g]);
    tu_wl_done(&one);
    tu_wl_done(&four);
}

/* Decode's KV model: every attention row lasts attn_us plus tokens_per_gpu
 * x kv_context x kv_bytes / hbm_gbps, and in the phase model (each phase
 * after the one before) the step grows by exactly layers x that. */
static void test_decode_kv(void **state)
{
    (void)state;
    struct cfg c = gradcfg();
    c.wl.pass = WL_PASS_FORWARD;
    c.wl.dense_bytes = 0;
    c.wl.stage = WL_STAGE_DECODE;
    c.wl.attn_us = 10;
    struct tu_wl base, kv;
    tu_wl_run(&c, &base);
    c.wl.kv_context = 2048;
    c.wl.kv_bytes = 4096;
    c.wl.hbm_gbps = 3350;
    tu_wl_run(&c, &kv);
    /* 16 sequences x 2048 tokens x 4096 bytes at 3350 GB/s: 40.06 us */
    double kv_us = 16.0 * 2048 * 4096 / 3350e9 * 1e6;
    simtime_t kv_ps = (simtime_t)llround(kv_us * (double)PS_PER_US);
    simtime_t attn_ps = 10 * PS_PER_US;
    assert_int_equal(base.r.run.nphases, kv.r.run.nphases);
    int nattn = 0;
    for (size_t i = 0; i < kv.r.run.nphases; i++) {
        const struct res_phase *p = &kv.r.run.phases[i], *q = &base.r.run.phases[i];
        assert_string_equal(p->phase, q->phase);
        if (strcmp(p->phase, "attention")) {
            assert_int_equal(p->end_ps - p->start_ps, q->end_ps - q->start_ps);
            continue;
        }
        nattn++;
        assert_int_equal(q->end_ps - q->start_ps, attn_ps);
        assert_int_equal(p->end_ps - p->start_ps, attn_ps + kv_ps);
    }
    assert_int_equal(nattn, 2);
    simtime_t end_b = base.r.run.phases[base.r.run.nphases - 1].end_ps;
    simtime_t end_k = kv.r.run.phases[kv.r.run.nphases - 1].end_ps;
    assert_int_equal(end_k - end_b, 2 * kv_ps);
    /* without attn_us the KV reads alone make each layer's attention row */
    struct tu_wl none, kv0;
    c.wl.attn_us = 0;
    c.wl.kv_context = 0;
    tu_wl_run(&c, &none);
    c.wl.kv_context = 2048;
    tu_wl_run(&c, &kv0);
    assert_int_equal(kv0.r.run.nphases, none.r.run.nphases + 2);
    nattn = 0;
    for (size_t i = 0; i < kv0.r.run.nphases; i++)
        if (!strcmp(kv0.r.run.phases[i].phase, "attention")) {
            nattn++;
            assert_int_equal(kv0.r.run.phases[i].end_ps - kv0.r.run.phases[i].start_ps, kv_ps);
        }
    assert_int_equal(nattn, 2);
    assert_int_equal(kv0.r.run.phases[kv0.r.run.nphases - 1].end_ps -
                         none.r.run.phases[none.r.run.nphases - 1].end_ps,
                     2 * kv_ps);
    tu_wl_done(&base);
    tu_wl_done(&kv);
    tu_wl_done(&none);
    tu_wl_done(&kv0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dp_contiguous), cmocka_unit_test(test_grad_tree),
        cmocka_unit_test(test_grad_hd),       cmocka_unit_test(test_grad_ring_chunks),
        cmocka_unit_test(test_decode_kv),
    };
    return cmocka_run_group_tests_name("moe_grad", tests, NULL, NULL);
}
