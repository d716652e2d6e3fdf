/* test_kernels_cpu.c - the CPU MoE block: GEMM, router tie-break, permutation
 * and combine exactly, and the whole stack against a float64 reference. */
#include "testutil.h"

#include <math.h>

#include "kernels/moe_cpu.h"
#include "kernels/permute.h"
#include "kernels/router.h"
#include "kernels/sgemm.h"
#include "kernels/weights.h"
#include "tests/kn_testutil.h"

static void test_sgemm_against_naive(void **state)
{
    (void)state;
    int sizes[][3] = {{1, 1, 1}, {13, 37, 5}, {100, 70, 300}, {12, 32, 256}, {130, 1030, 257}};
    float *ws = malloc(sizeof(float) * kn_sgemm_ws_floats());
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int M = sizes[c][0], N = sizes[c][1], K = sizes[c][2];
        float *A = malloc(sizeof(float) * (size_t)M * K),
              *B = malloc(sizeof(float) * (size_t)N * K);
        float *C = malloc(sizeof(float) * (size_t)M * N);
        for (int i = 0; i < M * K; i++)
            A[i] = (float)((i * 7) % 11) - 5.0f;
        for (int i = 0; i < N * K; i++)
            B[i] = (float)((i * 3) % 7) - 3.0f;
        for (int acc = 0; acc < 2; acc++) {
            for (int i = 0; i < M * N; i++)
                C[i] = 1.0f;
            kn_sgemm_nt(M, N, K, A, (size_t)K, B, (size_t)K, C, (size_t)N, acc, ws);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = acc ? 1.0 : 0.0;
                    for (int k = 0; k < K; k++)
                        s += (double)A[i * K + k] * B[j * K + k];
                    /* small integers: exact in fp32 */
                    assert_true(C[i * N + j] == (float)s);
                }
        }
        free(A);
        free(B);
        free(C);
    }
    free(ws);
}

static void test_route_tie_break_lower_index(void **state)
{
    (void)state;
    float logits[6] = {0.5f, 2.0f, 1.0f, 2.0f, 1.0f, 2.0f};
    int16_t ex[4];
    float w[4];
    kn_route_token(logits, 6, 4, 0, ex, w);
    assert_int_equal(ex[0], 1);
    assert_int_equal(ex[1], 3);
    assert_int_equal(ex[2], 5);
    assert_int_equal(ex[3], 2); /* 2 and 4 tie at 1.0: the lower wins */
    double sum = 0;
    for (int e = 0; e < 6; e++)
        sum += exp(logits[e] - 2.0);
    assert_float_equal(w[0], exp(0.0) / sum, 1e-6);
    assert_float_equal(w[3], exp(-1.0) / sum, 1e-6);
    assert_true(w[0] == w[1] && w[1] == w[2]);
    /* all equal: experts 0..k-1 in order */
    float flat[8] = {0};
    kn_route_token(flat, 8, 3, 1, ex, w);
    assert_int_equal(ex[0], 0);
    assert_int_equal(ex[1], 1);
    assert_int_equal(ex[2], 2);
    assert_float_equal(w[0] + w[1] + w[2], 1.0, 1e-6);
}

static void test_route_renorm(void **state)
{
    (void)state;
    float logits[4] = {3.0f, -1.0f, 2.0f, 0.0f};
    int16_t ex[2];
    float w[2];
    kn_route_token(logits, 4, 2, 1, ex, w);
    assert_int_equal(ex[0], 0);
    assert_int_equal(ex[1], 2);
    assert_float_equal(w[0], 1.0 / (1.0 + exp(-1.0)), 1e-6);
    assert_float_equal(w[0] + w[1], 1.0, 1e-6);
}

static void test_permute_and_combine_exact(void **state)
{
    (void)state;
    enum { n = 29, k = 3, E = 7, H = 5 };
    int16_t ex[n * k];
    /* distinct experts per token, uneven loads, expert 6 never chosen */
    for (int t = 0; t < n; t++)
        for (int s = 0; s < k; s++)
            ex[t * k + s] = (int16_t)((t * 5 + s * (1 + t % 2)) % 6);
    for (int t = 0; t < n; t++) /* make the k choices distinct */
        if (ex[t * k + 1] == ex[t * k] || ex[t * k + 2] == ex[t * k] ||
            ex[t * k + 2] == ex[t * k + 1])
            ex[t * k] = 6 - 1, ex[t * k + 1] = 0, ex[t * k + 2] = 3;
    int offset[E + 1], row[n * k], pos[n * k];
    kn_permute(ex, n, k, E, offset, row, pos);
    int count[E] = {0};
    for (int a = 0; a < n * k; a++)
        count[ex[a]]++;
    assert_int_equal(offset[0], 0);
    for (int e = 0; e < E; e++)
        assert_int_equal(offset[e + 1] - offset[e], count[e]);
    assert_int_equal(offset[6], offset[7]);
    for (int e = 0; e < E; e++)
        for (int p = offset[e]; p < offset[e + 1]; p++) {
            assert_int_equal(ex[row[p]], e);
            assert_int_equal(pos[row[p]], p);
            if (p > offset[e]) assert_true(row[p] > row[p - 1]); /* stable */
        }
    float x[n * H], xp[n * k * H], yp[n * k * H], h[n * H], wt[n * k];
    for (int i = 0; i < n * H; i++)
        x[i] = (float)i, h[i] = (float)(i % 3);
    kn_gather(x, H, row, k, n * k, xp);
    for (int p = 0; p < n * k; p++)
        for (int i = 0; i < H; i++) {
            assert_true(xp[p * H + i] == x[(row[p] / k) * H + i]);
            yp[p * H + i] = (float)(ex[row[p]] * 100 + i); /* the "expert output" */
        }
    for (int a = 0; a < n * k; a++)
        wt[a] = (float)(1 << (a % 3)) / 8.0f; /* powers of two: sums are exact */
    kn_combine(yp, H, pos, wt, n, k, h);
    for (int t = 0; t < n; t++)
        for (int i = 0; i < H; i++) {
            float want = 0.0f;
            for (int s = 0; s < k; s++)
                want += wt[t * k + s] * (float)(ex[t * k + s] * 100 + i);
            assert_true(h[t * H + i] == (float)((t * H + i) % 3) + want);
        }
}

static const struct kn_dims small = {.hidden = 48,
                                     .ffn = 80,
                                     .experts = 6,
                                     .topk = 2,
                                     .layers = 3,
                                     .renorm = 1,
                                     .eps = 1e-5f,
                                     .model = "test"};

/* Runs the CPU stack and the float64 reference over n seeded tokens. */
static void check_against_ref(const struct kn_dims *d, int n, int batch, int threads)
{
    struct kn_weights *w = kn_weights_seeded(d, 7, 2);
    struct kn_cpu *cpu = kn_cpu_create(d, batch, threads, KN_FP32);
    size_t H = (size_t)d->hidden, k = (size_t)d->topk;
    float *h = malloc(sizeof(float) * (size_t)n * H), *wt = malloc(sizeof(float) * (size_t)n * k);
    double *hr = malloc(sizeof(double) * (size_t)n * H), *wr = malloc(sizeof(double) * n * k);
    int16_t *ex = malloc(sizeof(int16_t) * (size_t)n * k), *er = malloc(sizeof(int16_t) * n * k);
    for (int t = 0; t < n; t++)
        kn_weights_embed(w, (uint32_t)(t * 31 % 97), h + (size_t)t * H);
    for (size_t i = 0; i < (size_t)n * H; i++)
        hr[i] = h[i];
    struct kn_layer lay;
    kn_layer_alloc(d, &lay);
    double worst_w = 0, worst_h = 0;
    for (int l = 0; l < d->layers; l++) {
        kn_weights_layer(w, l, &lay);
        kn_cpu_load(cpu, &lay);
        kn_cpu_forward(cpu, h, n, ex, wt);
        ref_block(d, &lay, hr, n, er, wr);
        for (size_t a = 0; a < (size_t)n * k; a++) {
            assert_int_equal(ex[a], er[a]);
            worst_w = fmax(worst_w, fabs(wt[a] - wr[a]) / fabs(wr[a]));
        }
        double num = 0, den = 0;
        for (size_t i = 0; i < (size_t)n * H; i++)
            num += (h[i] - hr[i]) * (h[i] - hr[i]), den += hr[i] * hr[i];
        worst_h = fmax(worst_h, sqrt(num / den));
    }
    print_message("fp32 vs float64: gate weight rel err %.2e, hidden rel err %.2e\n", worst_w,
                  worst_h);
    assert_true(worst_w < 1e-5);
    assert_true(worst_h < 1e-5);
    kn_layer_free(&lay);
    kn_cpu_destroy(cpu);
    kn_weights_destroy(w);
    free(h);
    free(wt);
    free(hr);
    free(wr);
    free(ex);
    free(er);
}

static void test_cpu_matches_float64_renorm(void **state)
{
    (void)state;
    check_against_ref(&small, 37, 0, 2);
}

static void test_cpu_matches_float64_no_renorm_topk4(void **state)
{
    (void)state;
    struct kn_dims d = small;
    d.renorm = 0, d.experts = 16, d.topk = 4, d.hidden = 64, d.ffn = 40;
    check_against_ref(&d, 23, 5, 1);
}

/* The result does not depend on the batch size or the thread count. */
static void test_cpu_batch_and_threads_invariant(void **state)
{
    (void)state;
    struct kn_dims d = small;
    d.experts = 8, d.topk = 3;
    assert_int_equal(kn_check_batch_threads(&d, 3, 1, 300, 7, 2, KN_FP32), 0);
}

/* Seeded tensors do not depend on the thread count; values are bf16. */
static void test_seeded_weights_deterministic(void **state)
{
    (void)state;
    struct kn_weights *a = kn_weights_seeded(&small, 11, 1), *b = kn_weights_seeded(&small, 11, 3);
    struct kn_weights *c = kn_weights_seeded(&small, 12, 1);
    struct kn_layer la, lb, lc;
    kn_layer_alloc(&small, &la);
    kn_layer_alloc(&small, &lb);
    kn_layer_alloc(&small, &lc);
    kn_weights_layer(a, 2, &la);
    kn_weights_layer(b, 2, &lb);
    kn_weights_layer(c, 2, &lc);
    size_t EFH = (size_t)small.experts * small.ffn * small.hidden;
    assert_memory_equal(la.w1, lb.w1, sizeof(float) * EFH);
    assert_memory_equal(la.w2, lb.w2, sizeof(float) * EFH);
    assert_memory_equal(la.gate, lb.gate, sizeof(float) * small.experts * small.hidden);
    assert_memory_not_equal(la.w3, lc.w3, sizeof(float) * EFH);
    double ss = 0;
    for (size_t i = 0; i < EFH; i++) {
        assert_true(la.w1[i] == kn_round_bf16(la.w1[i]));
        ss += (double)la.w1[i] * la.w1[i];
    }
    /* std 1/sqrt(H) */
    assert_float_equal(sqrt(ss / EFH) * sqrt(small.hidden), 1.0, 0.02);
    assert_true(kn_round_bf16(1.0f + 1.0f / 256) == 1.0f);             /* tie to even */
    assert_true(kn_round_bf16(1.0f + 3.0f / 256) == 1.0f + 1.0f / 64); /* tie to even, up */
    kn_layer_free(&la);
    kn_layer_free(&lb);
    kn_layer_free(&lc);
    kn_weights_destroy(a);
    kn_weights_destroy(b);
    kn_weights_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_against_naive),
        cmocka_unit_test(test_route_tie_break_lower_index),
        cmocka_unit_test(test_route_renorm),
        cmocka_unit_test(test_permute_and_combine_exact),
        cmocka_unit_test(test_cpu_matches_float64_renorm),
        cmocka_unit_test(test_cpu_matches_float64_no_renorm_topk4),
        cmocka_unit_test(test_cpu_batch_and_threads_invariant),
        cmocka_unit_test(test_seeded_weights_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
