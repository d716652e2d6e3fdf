/* test_dual_train.c - overlap = dual_batch with pass = training
 * (docs/moe-steps.md, "Dual micro-batches"): the forward rows are those of
 * the forward-only dual-batch step, bit for bit; the backward repeats each
 * micro-batch's all-to-all bytes (every hop) and runs each micro-batch's
 * expert backward for exactly backward_factor x its forward time; one
 * compute stream and one communication stream in both passes (no two
 * compute tasks overlap, no two all-to-alls do); each micro-batch's chain
 * bwd_dispatch -> bwd_compute -> bwd_combine -> bwd_attention -> the layer
 * below in order; the step no shorter than either stream's busy time and,
 * with attention, shorter than the single-batch training step; gradient
 * buckets gated on the later micro-batch's end of their layer; two runs
 * give the same rows. */
#include "testutil.h"

#include <math.h>

#include "app/scenario.h"
#include "workloads/trace_gen.h"

#define TRACE "/tmp/moesim_test_dual_train.csv"
#define L     4
#define G     16 /* 2 leaves x 8 GPUs, servers of 4 */

static void gen(void)
{
    struct trace_gen_params p = {32, 4, L, 4, 64, 11, 0.0, 0.0};
    struct err e;
    if (trace_gen_write(&p, TRACE, &e) != 0) fail_msg("%s", e.msg);
}

static struct cfg dcfg(int hier, int dual)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", TRACE);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = G / 2;
    c.topo.gpus_per_host = 4;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = 4096; /* the all-to-alls about half the compute */
    c.wl.tokens_per_gpu = 16;
    c.wl.attn_us = 20;
    c.wl.dispatch = hier ? WL_DISPATCH_HIERARCHICAL : WL_DISPATCH_DIRECT;
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.overlap = dual ? WL_OVERLAP_DUAL_BATCH : WL_OVERLAP_NONE;
    c.tr.path = PATH_SPRAY;
    c.pl.train = 0;
    return c;
}

static int is_compute(const char *n)
{
    return !strcmp(n, "attention") || !strcmp(n, "compute") || !strcmp(n, "bwd_attention") ||
           !strcmp(n, "bwd_compute");
}

static uint64_t bytes_named(const struct tu_wl *x, const char *name)
{
    uint64_t s = 0;
    for (size_t i = 0; i < x->r.run.nphases; i++)
        if (!strcmp(x->r.run.phases[i].phase, name)) s += x->r.run.phases[i].bytes;
    return s;
}

/* No two of the tasks of one kind (compute: 1, the all-to-alls: 0; the
 * gradient rows left out) overlap in time; returns their busy time. */
static simtime_t one_stream(const struct tu_wl *x, int compute)
{
    const struct res_phase *p = x->r.run.phases;
    size_t n = x->r.run.nphases;
    simtime_t busy = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_compute(p[i].phase) != compute || !strncmp(p[i].phase, "grad_", 5)) continue;
        busy += p[i].end_ps - p[i].start_ps;
        for (size_t j = i + 1; j < n; j++) {
            if (is_compute(p[j].phase) != compute || !strncmp(p[j].phase, "grad_", 5)) continue;
            if (p[i].end_ps > p[j].start_ps && p[j].end_ps > p[i].start_ps)
                fail_msg("%s (layer %u) and %s (layer %u) overlap", p[i].phase, p[i].layer,
                         p[j].phase, p[j].layer);
        }
    }
    return busy;
}

/* The row of `name` for (layer, micro-batch), the only one. */
static const struct res_phase *row(const struct tu_wl *x, const char *name, uint32_t l, uint32_t u)
{
    const struct res_phase *hit = NULL;
    for (size_t i = 0; i < x->r.run.nphases; i++)
        if (!strcmp(x->r.run.phases[i].phase, name) && x->r.run.phases[i].layer == l &&
            x->r.run.tasks[i].mb == u) {
            assert_null(hit);
            hit = &x->r.run.phases[i];
        }
    assert_non_null(hit);
    return hit;
}

static void test_dual_training(void **state)
{
    (void)state;
    gen();
    for (int hier = 0; hier < 2; hier++) {
        struct cfg c = dcfg(hier, 1);
        struct tu_wl tr, fw, one, again;
        tu_wl_run(&c, &tr);
        c.wl.pass = WL_PASS_FORWARD;
        tu_wl_run(&c, &fw);
        c = dcfg(hier, 0);
        tu_wl_run(&c, &one);
        /* the forward rows: those of the forward-only step */
        assert_true(tr.r.run.nphases > fw.r.run.nphases);
        for (size_t i = 0; i < fw.r.run.nphases; i++) {
            assert_string_equal(tr.r.run.phases[i].phase, fw.r.run.phases[i].phase);
            assert_int_equal(tr.r.run.phases[i].start_ps, fw.r.run.phases[i].start_ps);
            assert_int_equal(tr.r.run.phases[i].end_ps, fw.r.run.phases[i].end_ps);
            assert_int_equal(tr.r.run.tasks[i].mb, fw.r.run.tasks[i].mb);
        }
        /* the backward's bytes, hop by hop, and the single batch's */
        static const char *hops[][2] = {{"dispatch", "bwd_dispatch"},
                                        {"combine", "bwd_combine"},
                                        {"dispatch_nvl", "bwd_dispatch_nvl"},
                                        {"combine_nvl", "bwd_combine_nvl"}};
        for (int h = 0; h < (hier ? 4 : 2); h++) {
            assert_true(bytes_named(&tr, hops[h][0]) > 0);
            assert_int_equal(bytes_named(&tr, hops[h][1]), bytes_named(&tr, hops[h][0]));
            assert_int_equal(bytes_named(&tr, hops[h][1]), bytes_named(&one, hops[h][1]));
        }
        /* per layer and micro-batch: the expert backward is 2x the forward,
         * the attention's half 2x its forward half; the chain in order */
        for (uint32_t l = 0; l < L; l++)
            for (uint32_t u = 0; u < 2; u++) {
                const struct res_phase *f = row(&tr, "compute", l, u),
                                       *b = row(&tr, "bwd_compute", l, u),
                                       *fa = row(&tr, "attention", l, u),
                                       *ba = row(&tr, "bwd_attention", l, u),
                                       *bd = row(&tr, "bwd_dispatch", l, u),
                                       *bc = row(&tr, "bwd_combine", l, u);
                assert_int_equal(b->end_ps - b->start_ps,
                                 (simtime_t)llround(2.0 * (double)(f->end_ps - f->start_ps)));
                assert_int_equal(ba->end_ps - ba->start_ps, 2 * (fa->end_ps - fa->start_ps));
                assert_true(bd->end_ps <= b->start_ps);
                assert_true(b->end_ps <= bc->start_ps);
                assert_true(bc->end_ps <= ba->start_ps);
                if (l > 0) assert_true(ba->end_ps <= row(&tr, "bwd_dispatch", l - 1, u)->start_ps);
                if (u == 1) { /* the streams' orders */
                    assert_true(row(&tr, "bwd_dispatch", l, 0)->end_ps <= bd->start_ps);
                    assert_true(row(&tr, "bwd_compute", l, 0)->end_ps <= b->start_ps);
                    assert_true(row(&tr, "bwd_combine", l, 0)->end_ps <= bc->start_ps);
                }
            }
        simtime_t comp = one_stream(&tr, 1), comm = one_stream(&tr, 0);
        simtime_t step = tu_end(&tr.r), single = tu_end(&one.r);
        print_message("%s training: single batch %.2f us, dual %.2f us (compute %.2f, "
                      "all-to-alls %.2f)\n",
                      hier ? "hierarchical" : "direct", (double)single / 1e6, (double)step / 1e6,
                      (double)comp / 1e6, (double)comm / 1e6);
        assert_true(step >= comp && step >= comm);
        assert_true(step < single);
        /* the same again */
        c = dcfg(hier, 1);
        tu_wl_run(&c, &again);
        assert_int_equal(again.r.run.nphases, tr.r.run.nphases);
        for (size_t i = 0; i < tr.r.run.nphases; i++)
            assert_int_equal(again.r.run.phases[i].end_ps, tr.r.run.phases[i].end_ps);
        tu_wl_done(&again);
        tu_wl_done(&tr);
        tu_wl_done(&fw);
        tu_wl_done(&one);
    }
}

/* Gradient buckets, one per layer: bucket b waits for the later
 * micro-batch's last task of the layer at backward position b (its
 * bwd_attention of micro-batch 1) and for bucket b-1. */
static void test_dual_buckets(void **state)
{
    (void)state;
    gen();
    struct cfg c = dcfg(0, 1);
    c.wl.dense_bytes = 1 << 20;
    c.wl.grad_buckets = L;
    struct tu_wl x;
    tu_wl_run(&c, &x);
    simtime_t prev_end = 0, cur_end = 0;
    uint32_t b = 0;
    for (size_t i = 0; i < x.r.run.nphases; i++) {
        const struct res_phase *p = &x.r.run.phases[i];
        if (!strcmp(p->phase, "grad_bucket")) {
            simtime_t ready = row(&x, "bwd_attention", L - 1 - b, 1)->end_ps;
            simtime_t r0 = row(&x, "bwd_attention", L - 1 - b, 0)->end_ps;
            assert_true(r0 <= ready);
            if (cur_end > ready) ready = cur_end;
            assert_int_equal(p->start_ps, ready);
            prev_end = cur_end;
            b++;
        } else if (!strncmp(p->phase, "grad_", 5)) {
            assert_true(b > 0 && p->start_ps >= prev_end);
            if (p->end_ps > cur_end) cur_end = p->end_ps;
        }
    }
    assert_int_equal(b, L);
    tu_wl_done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dual_training),
        cmocka_unit_test(test_dual_buckets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
