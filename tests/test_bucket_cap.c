/* test_bucket_cap.c - workload.bucket_cap_mb, the training step's gradient
 * all-reduce in buckets of a size in bytes (PyTorch DDP's bucket_cap_mb)
 * formed in the backward's order (docs/moe-steps.md): ceil(S / cap)
 * buckets per group, the last the rest; bucket b waits for the layer that
 * holds its last byte (each layer dense_bytes / L of the gradients) and
 * for its group's bucket b-1; a cap of S / B is grad_buckets = B row for
 * row; every GPU sends what one all-reduce of dense_bytes sends; and the
 * physics: with compute much longer than the network the buckets that wait
 * for the backward's last layer are exposed, each as long as a lone ring
 * all-reduce of its bytes, so the exposed all-reduce shrinks with the cap
 * down to the last layer's bytes (DDP's default 25 MiB of 64 MiB over 4
 * layers: 25 + 14 MiB exposed). */
#include "grad_step.h"

#include "app/scenario.h"
#include "workloads/moe.h"

#define MIB 1048576.0

/* The rows with buckets of cap bytes over L layers: ceil(S / cap) gates in
 * bucket order, gate b at the later of the end of the backward's layer at
 * position ceil(e_b L / S) - 1 (e_b = min((b+1) cap, S)) and the previous
 * bucket's last end, computed here by walking the bytes layer by layer;
 * every grad_ row of a bucket at or after its gate and the previous
 * bucket's end; each bucket's ring moves 2 (N-1)/N of its bytes per GPU
 * (up to a byte per step). Returns the buckets. */
static uint32_t check_cap(const struct tu_wl *x, uint64_t cap, uint32_t L)
{
    const struct res_phase *ph = x->r.run.phases;
    size_t n = x->r.run.nphases;
    simtime_t lend[64] = {0}; /* each backward position's last end */
    for (size_t i = 0; i < n; i++)
        if (!strncmp(ph[i].phase, "bwd_", 4) && ph[i].end_ps > lend[L - 1 - ph[i].layer])
            lend[L - 1 - ph[i].layer] = ph[i].end_ps;
    size_t first = n, nmsg = 0;
    for (size_t i = 0; i < n; i++)
        if (!strncmp(ph[i].phase, "grad_", 5) && first == n) first = i;
    assert_true(first < n);
    for (size_t i = first; i < n; i++)
        nmsg += !is(&ph[i], "grad_bucket");
    size_t fl = x->r.run.nflows - nmsg;
    uint32_t b = 0;
    simtime_t gate = 0, prev_end = 0, cur_end = 0;
    uint64_t sent[8] = {0}, bucket = 0;
    for (size_t i = first; i <= n; i++) {
        if (i == n || is(&ph[i], "grad_bucket")) {
            if (b > 0) {
                /* the bucket just closed: 2 (N-1)/N of its bytes per GPU */
                for (uint32_t g = 0; g < 8; g++) {
                    uint64_t want = 2 * 7 * (bucket / 8);
                    assert_true(sent[g] + 14 >= want && sent[g] <= want + 14);
                    sent[g] = 0;
                }
            }
            if (i == n) break;
            assert_int_equal(ph[i].layer, b);
            uint64_t e = (uint64_t)(b + 1) * cap < S ? (uint64_t)(b + 1) * cap : S;
            bucket = e - (uint64_t)b * cap;
            /* the layer of byte e - 1: layers hold S / L bytes each */
            uint32_t pos = 0;
            while ((double)(pos + 1) * (double)S / L < (double)e)
                pos++;
            simtime_t ready = lend[pos] > cur_end ? lend[pos] : cur_end;
            assert_int_equal(ph[i].start_ps, ready);
            assert_int_equal(ph[i].end_ps, ready);
            gate = ready;
            prev_end = cur_end;
            b++;
            continue;
        }
        assert_true(b > 0);
        assert_true(ph[i].start_ps >= gate && ph[i].start_ps >= prev_end);
        if (ph[i].end_ps > cur_end) cur_end = ph[i].end_ps;
        const struct res_flow *f = &x->r.run.flows[fl++];
        sent[f->src] += f->bytes;
    }
    assert_int_equal(fl, x->r.run.nflows);
    assert_int_equal(b, (S + cap - 1) / cap);
    return b;
}

/* A cap of S / 4 bytes is grad_buckets = 4, row for row. */
static void test_cap_equals_count(void **state)
{
    (void)state;
    struct cfg c = bcfg();
    c.wl.grad_buckets = 4;
    struct tu_wl a, b;
    tu_wl_run(&c, &a);
    c = bcfg();
    c.wl.bucket_cap_mb = (double)(S / 4) / MIB;
    tu_wl_run(&c, &b);
    assert_int_equal(a.r.run.nphases, b.r.run.nphases);
    for (size_t i = 0; i < a.r.run.nphases; i++) {
        assert_string_equal(a.r.run.phases[i].phase, b.r.run.phases[i].phase);
        assert_int_equal(a.r.run.phases[i].layer, b.r.run.phases[i].layer);
        assert_int_equal(a.r.run.phases[i].start_ps, b.r.run.phases[i].start_ps);
        assert_int_equal(a.r.run.phases[i].end_ps, b.r.run.phases[i].end_ps);
    }
    assert_int_equal(check_cap(&b, S / 4, 4), 4);
    tu_wl_done(&a);
    tu_wl_done(&b);
}

/* Caps that do not divide the gradients or a layer (each layer 16 MiB):
 * 25 MiB, DDP's default (buckets of 25, 25, 14 MiB ending at bytes 25, 50,
 * 64: ready with the layers at positions 1, 3, 3), 40 MiB (40, 24: 2, 3),
 * 24 MiB (24, 24, 16: 1, 2, 3; a bucket spans layers), 8 MiB (two buckets
 * per layer, queued) and 4 MiB. With compute much longer than the network
 * the buckets that wait for the backward's last layer (position L-1) are
 * exposed, one after another, each as long as a lone ring of its bytes:
 * the step grows by their sum, so the exposed all-reduce shrinks with the
 * bytes after the last layer's start that share its buckets (64, 39, 24,
 * 16 MiB for caps of 64, 25, 40, 24), and no further with smaller caps
 * (8 and 4 MiB: the last layer's 16 MiB in 2 and 4 buckets, each adding a
 * ring's latencies). */
static void test_caps(void **state)
{
    (void)state;
    struct cfg c = bcfg();
    c.wl.dense_bytes = 0;
    struct tu_wl none;
    tu_wl_run(&c, &none);
    simtime_t base = tu_end(&none.r);
    tu_wl_done(&none);
    static const double mbs[] = {64, 25, 40, 24, 8, 4};
    static const uint32_t nbs[] = {1, 3, 2, 3, 8, 16}, tails[] = {1, 2, 1, 1, 2, 4};
    simtime_t prev = SIMTIME_MAX;
    const uint32_t L = 4;
    for (size_t k = 0; k < sizeof mbs / sizeof mbs[0]; k++) {
        c = bcfg();
        c.wl.bucket_cap_mb = mbs[k];
        uint64_t cap = (uint64_t)(mbs[k] * MIB);
        struct tu_wl x;
        tu_wl_run(&c, &x);
        assert_int_equal(check_cap(&x, cap, L), nbs[k]);
        /* the buckets whose last byte is in the last layer, and their lone
         * rings one after another */
        uint32_t tail = 0;
        simtime_t want = 0;
        for (uint32_t b = 0; b < nbs[k]; b++) {
            uint64_t e = (uint64_t)(b + 1) * cap < S ? (uint64_t)(b + 1) * cap : S;
            if (e * L <= (L - 1) * S) continue;
            tail++;
            want += lone_ring(&c, e - (uint64_t)b * cap);
        }
        assert_int_equal(tail, tails[k]);
        simtime_t gate = 0;
        uint32_t g = 0;
        for (size_t i = 0; i < x.r.run.nphases; i++)
            if (is(&x.r.run.phases[i], "grad_bucket") && g++ == nbs[k] - tail)
                gate = x.r.run.phases[i].end_ps;
        simtime_t last = tu_end(&x.r) - gate, grown = tu_end(&x.r) - base;
        print_message("bucket_cap_mb %g: %u buckets, %u after the last layer: %.3f us (lone "
                      "rings %.3f us); the step - no all-reduce %.3f us (%+.3f%%)\n",
                      mbs[k], nbs[k], tail, (double)last / 1e6, (double)want / 1e6,
                      (double)grown / 1e6, 100.0 * ((double)grown / (double)want - 1));
        assert_true(last >= want - want / 1000 && last <= want + want / 1000);
        assert_true(grown >= want - want / 1000 && grown <= want + want / 50);
        if (k < 4) {
            assert_true(grown < prev); /* shrinks with the exposed bytes */
            prev = grown;
        }
        tu_wl_done(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_equals_count),
        cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
