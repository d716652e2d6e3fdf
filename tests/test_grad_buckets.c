/* test_grad_buckets.c - workload.grad_buckets, the training step's gradient
 * all-reduce in buckets launched as the backward pass produces them
 * (docs/moe-steps.md): the gates (one grad_bucket delay per bucket and
 * group, each at the later of its layer's end and its group's previous
 * bucket's end, every task of the bucket after it), the bytes (each GPU
 * sends what one all-reduce of dense_bytes sends, up to a byte per bucket
 * and step), the forward and backward rows before the first gate unchanged,
 * and the physics: with compute much longer than the network the last
 * bucket starts when the backward ends, so the step grows over the step
 * without an all-reduce by one bucket's all-reduce, that of a lone ring of
 * dense_bytes / B (1, 2, 4 buckets), while grad_buckets = 0 (the
 * all-reduce at the backward's start) hides it. */
#include "grad_step.h"

#include "app/scenario.h"
#include "workloads/moe.h"

/* The rows' structure with B buckets: B gates, in bucket order; each starts
 * at the later of its layer's last backward task's end and the previous
 * bucket's last end; every grad_ row of a bucket starts at or after its
 * gate; each GPU sends 2 (N-1)/N of its bucket per bucket. */
static void check_gates(const struct tu_wl *x, uint32_t B, uint32_t L)
{
    const struct res_phase *ph = x->r.run.phases;
    size_t n = x->r.run.nphases;
    /* the backward's layers in order L-1 .. 0: each one's last task's end */
    simtime_t lend[64] = {0};
    for (size_t i = 0; i < n; i++)
        if (!strncmp(ph[i].phase, "bwd_", 4) && ph[i].end_ps > lend[L - 1 - ph[i].layer])
            lend[L - 1 - ph[i].layer] = ph[i].end_ps;
    uint32_t b = 0;
    simtime_t gate = 0, prev_end = 0, cur_end = 0;
    uint64_t sent[8] = {0}, fl = 0;
    size_t first_grad = n;
    for (size_t i = 0; i < n; i++)
        if (!strncmp(ph[i].phase, "grad_", 5) && first_grad == n) first_grad = i;
    assert_true(first_grad < n);
    /* flows: one per message, in task order; the grad messages are the last */
    size_t nmsg = 0;
    for (size_t i = first_grad; i < n; i++)
        nmsg += !strncmp(ph[i].phase, "grad_reduce", 11) || !strncmp(ph[i].phase, "grad_allg", 9);
    fl = x->r.run.nflows - nmsg;
    for (size_t i = first_grad; i < n; i++) {
        if (is(&ph[i], "grad_bucket")) {
            assert_int_equal(ph[i].layer, b);
            uint64_t pos = ((uint64_t)(b + 1) * L + B - 1) / B - 1;
            simtime_t ready = lend[pos] > cur_end ? lend[pos] : cur_end;
            assert_int_equal(ph[i].start_ps, ready);
            assert_int_equal(ph[i].end_ps, ready); /* no duration */
            gate = ph[i].end_ps;
            prev_end = cur_end;
            b++;
            continue;
        }
        assert_true(b > 0); /* every grad row after a gate */
        assert_true(ph[i].start_ps >= gate);
        assert_true(ph[i].start_ps >= prev_end);
        if (ph[i].end_ps > cur_end) cur_end = ph[i].end_ps;
        const struct res_flow *f = &x->r.run.flows[fl++];
        sent[f->src] += f->bytes;
    }
    assert_int_equal(b, B);
    assert_int_equal(fl, x->r.run.nflows);
    /* 2 (N-1)/N of each bucket: up to a byte per bucket and step */
    uint64_t want = 2 * 7 * (S / 8) / 1;
    for (uint32_t g = 0; g < 8; g++) {
        assert_true(sent[g] >= want - 14 * B);
        assert_true(sent[g] <= want + 14 * B);
    }
}

/* grad_buckets = 1, 2, 4 against 0 and against no all-reduce. */
static void test_buckets(void **state)
{
    (void)state;
    struct cfg c = bcfg();
    c.wl.dense_bytes = 0;
    struct tu_wl none;
    tu_wl_run(&c, &none);
    simtime_t base = tu_end(&none.r);
    c = bcfg();
    struct tu_wl zero;
    tu_wl_run(&c, &zero);
    /* at the backward's start, under its compute: hidden but for the
     * all-to-alls it shares the fabric with (microseconds) */
    simtime_t t0 = tu_end(&zero.r), lone_all = lone_ring(&c, S);
    print_message("no all-reduce %.3f us, grad_buckets 0 %.3f us, a lone ring of 64 MiB %.3f us\n",
                  (double)base / 1e6, (double)t0 / 1e6, (double)lone_all / 1e6);
    assert_true(t0 >= base);
    assert_true(t0 - base < lone_all / 100);
    static const uint32_t Bs[] = {1, 2, 4};
    for (size_t k = 0; k < 3; k++) {
        uint32_t B = Bs[k];
        c = bcfg();
        c.wl.grad_buckets = B;
        struct tu_wl x;
        tu_wl_run(&c, &x);
        check_gates(&x, B, 4);
        /* the forward rows are those without buckets, times included */
        for (size_t i = 0; i < x.r.run.nphases; i++) {
            const struct res_phase *p = &x.r.run.phases[i], *q = &zero.r.run.phases[i];
            if (!strncmp(p->phase, "bwd_", 4)) break;
            assert_string_equal(p->phase, q->phase);
            assert_int_equal(p->start_ps, q->start_ps);
            assert_int_equal(p->end_ps, q->end_ps);
        }
        /* the exposed all-reduce: the last bucket, after the backward, as
         * long as a lone ring of its bytes (the fabric idle by then); the
         * step grows by that and what the earlier buckets take from the
         * all-to-alls they share the fabric with */
        simtime_t grown = tu_end(&x.r) - base, one = lone_ring(&c, S / B), gate = 0;
        for (size_t i = 0; i < x.r.run.nphases; i++)
            if (is(&x.r.run.phases[i], "grad_bucket")) gate = x.r.run.phases[i].end_ps;
        simtime_t last = tu_end(&x.r) - gate;
        print_message("grad_buckets %u: the last bucket %.3f us\n", B, (double)last / 1e6);
        assert_true(last >= one - one / 1000);
        assert_true(last <= one + one / 1000);
        print_message("grad_buckets %u: step - no all-reduce %.3f us, a lone ring of S/%u %.3f "
                      "us (%+.3f%%)\n",
                      B, (double)grown / 1e6, B, (double)one / 1e6,
                      100.0 * ((double)grown / (double)one - 1));
        assert_true(grown >= one - one / 1000);
        assert_true(grown <= one + one / 50);
        tu_wl_done(&x);
    }
    tu_wl_done(&zero);
    tu_wl_done(&none);
}

/* More buckets than layers: several buckets per layer, each after its
 * layer and the bucket before it; with a dp group of 4 (two groups) one
 * gate per bucket and group, each group's buckets in order. */
static void test_buckets_many(void **state)
{
    (void)state;
    struct cfg c = bcfg();
    c.wl.grad_buckets = 6;
    c.wl.layers = 2;
    struct tu_wl x;
    tu_wl_run(&c, &x);
    check_gates(&x, 6, 2);
    tu_wl_done(&x);
    c.wl.dp_size = 4;
    tu_wl_run(&c, &x);
    size_t gates = 0;
    for (size_t i = 0; i < x.r.run.nphases; i++)
        gates += is(&x.r.run.phases[i], "grad_bucket");
    assert_int_equal(gates, 2 * 6);
    tu_wl_done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_buckets_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
