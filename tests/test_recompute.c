/* test_recompute.c - workload.recompute, activation recomputation in the
 * training step (docs/moe-steps.md): per layer a recompute_attention row
 * as long as the forward's attention and per chunk (micro-batch) a
 * recompute row as long as that chunk's forward expert compute, each ended
 * before the chunk's bwd_compute starts; the forward rows unchanged; with
 * overlap = none (one chain) the step grows by exactly the forward's
 * compute, whatever the network; with overlap = chunks and dual_batch it
 * grows by at most that and at least that less the network time the
 * recomputation can hide, so by exactly it (within 0.1%) when the network
 * is negligible. */
#include "testutil.h"

#include "app/scenario.h"

#define EXCERPT "tests/data/mixtral_excerpt.csv"
#define L       4

/* 8 GPUs under one leaf, 4 layers, 50 us of attention: `fast` makes the
 * network negligible (1 Pb/s links, no propagation delay). */
static struct cfg rcfg(int overlap, int fast)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", EXCERPT);
    c.topo.leaves = 1;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = 8;
    c.topo.host_gbps = c.topo.fabric_gbps = fast ? 1e6 : 400;
    if (fast) c.topo.link_latency_ns = 0;
    c.wl.hidden = 1024;
    c.wl.tokens_per_gpu = 32;
    c.wl.layers = L;
    c.wl.attn_us = 50;
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.overlap = overlap;
    c.wl.chunks = overlap == WL_OVERLAP_CHUNKS ? 4 : 1;
    c.pl.train = 0;
    return c;
}

static int is(const struct tu_wl *x, size_t i, const char *name)
{
    return !strcmp(x->r.run.phases[i].phase, name);
}

/* The forward's compute rows' time, and the network rows' time. */
static simtime_t fwd_compute(const struct tu_wl *x)
{
    simtime_t s = 0;
    for (size_t i = 0; i < x->r.run.nphases; i++)
        if (is(x, i, "attention") || is(x, i, "compute"))
            s += x->r.run.phases[i].end_ps - x->r.run.phases[i].start_ps;
    return s;
}

static simtime_t net_time(const struct tu_wl *x)
{
    simtime_t s = 0;
    for (size_t i = 0; i < x->r.run.nphases; i++)
        if (x->r.run.tasks[i].kind == RES_TASK_NETWORK && x->r.run.phases[i].bytes)
            s += x->r.run.phases[i].end_ps - x->r.run.phases[i].start_ps;
    return s;
}

/* The recomputation rows against the forward's: one recompute per (layer,
 * chunk, micro-batch) as long as the forward compute of the same, one
 * recompute_attention per (layer, micro-batch) as long as its attention,
 * each recompute ended before the bwd_compute of its chunk starts. */
static void check_rows(const struct tu_wl *x, const struct tu_wl *off)
{
    const struct res_phase *p = x->r.run.phases;
    const struct res_task *tk = x->r.run.tasks;
    size_t n = x->r.run.nphases, nrc = 0, nra = 0, nf = 0, na = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = is(x, i, "recompute"), ra = is(x, i, "recompute_attention");
        nf += is(x, i, "compute");
        na += is(x, i, "attention");
        if (!rc && !ra) continue;
        nrc += rc;
        nra += ra;
        assert_int_equal(tk[i].pass, RES_PASS_BACKWARD);
        size_t f = n, b = n;
        for (size_t j = 0; j < n; j++) {
            if (p[j].layer != p[i].layer || tk[j].mb != tk[i].mb ||
                (rc && tk[j].chunk != tk[i].chunk))
                continue;
            if (is(x, j, rc ? "compute" : "attention")) f = j;
            if (rc && is(x, j, "bwd_compute")) b = j;
        }
        assert_true(f < n);
        assert_int_equal(p[i].end_ps - p[i].start_ps, p[f].end_ps - p[f].start_ps);
        if (rc) {
            assert_true(b < n);
            assert_true(p[i].end_ps <= p[b].start_ps);
        }
    }
    assert_int_equal(nrc, nf);
    assert_int_equal(nra, na);
    /* the forward rows: those without recomputation */
    for (size_t i = 0; i < off->r.run.nphases && tk[i].pass == RES_PASS_FORWARD; i++) {
        assert_string_equal(p[i].phase, off->r.run.phases[i].phase);
        assert_int_equal(p[i].start_ps, off->r.run.phases[i].start_ps);
        assert_int_equal(p[i].end_ps, off->r.run.phases[i].end_ps);
    }
}

static void test_recompute(void **state)
{
    (void)state;
    static const int ovs[] = {WL_OVERLAP_NONE, WL_OVERLAP_CHUNKS, WL_OVERLAP_DUAL_BATCH};
    static const char *names[] = {"none", "chunks", "dual_batch"};
    for (int fast = 0; fast < 2; fast++)
        for (size_t k = 0; k < 3; k++) {
            struct cfg c = rcfg(ovs[k], fast);
            struct tu_wl off, on;
            tu_wl_run(&c, &off);
            c.wl.recompute = 1;
            tu_wl_run(&c, &on);
            check_rows(&on, &off);
            simtime_t grown = tu_end(&on.r) - tu_end(&off.r), fc = fwd_compute(&off),
                      net = net_time(&off);
            print_message("%s, %s network: step +%.3f us, forward compute %.3f us (%+.4f%%), "
                          "network %.3f us\n",
                          names[k], fast ? "negligible" : "400 Gb/s", (double)grown / 1e6,
                          (double)fc / 1e6, 100.0 * ((double)grown / (double)fc - 1),
                          (double)net / 1e6);
            if (ovs[k] == WL_OVERLAP_NONE) {
                assert_int_equal(grown, fc);
            } else {
                assert_true(grown <= fc);
                assert_true(grown + net >= fc);
                if (fast) assert_true((double)grown >= 0.999 * (double)fc);
            }
            tu_wl_done(&off);
            tu_wl_done(&on);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recompute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
