/* test_kernels_bf16.c - the bf16 CPU path: the bf16 GEMM (both micro-kernels)
 * against a float64 sum of the bf16-rounded operands, partial tiles, the
 * accumulate flag, rounding at the inputs, the two micro-kernels against each
 * other (only where the CPU has AVX-512 BF16), and the bf16 layer stack
 * against the fp32 one: the same experts except near-ties, outputs within
 * 1e-2. Also the seeded weights' contract: same seed, same weights, whatever
 * the thread count. */
#include "testutil.h"

#include <math.h>

#include "kernels/bgemm.h"
#include "kernels/moe_cpu.h"
#include "kernels/router.h"
#include "kernels/silu.h"
#include "kernels/weights.h"
#include "tests/kn_testutil.h"

static uint64_t lcg = 12345;

/* uniform in [-1, 1), deterministic; mostly not bf16-representable */
static float urand(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static const int sizes[][3] = {{1, 1, 1},      {13, 37, 5},      {100, 70, 300},
                               {12, 32, 512},  {130, 1030, 257}, {200, 64, 1100},
                               {25, 33, 1024}, {7, 1, 2},        {5, 2100, 40}};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Runs kernel kern on every size, accumulate off and on, against float64. */
static void check_bgemm(enum kn_bgemm_kernel kern)
{
    uint32_t *ws = malloc(sizeof(uint32_t) * kn_bgemm_ws_elems());
    double worst = 0;
    for (size_t c = 0; c < NSIZES; c++) {
        int M = sizes[c][0], N = sizes[c][1], K = sizes[c][2];
        size_t lda = (size_t)K + 3, ldc = (size_t)N + 5; /* strides wider than the rows */
        float *A = malloc(sizeof(float) * (size_t)M * lda), *B = malloc(sizeof(float) * N * K);
        float *C = malloc(sizeof(float) * (size_t)M * ldc);
        uint16_t *pb = malloc(sizeof(uint16_t) * kn_bgemm_packed_elems(N, K));
        for (size_t i = 0; i < (size_t)M * lda; i++)
            A[i] = urand() * 4.0f;
        for (int i = 0; i < N * K; i++)
            B[i] = urand();
        kn_bgemm_pack_b(N, K, B, (size_t)K, pb);
        for (int acc = 0; acc < 2; acc++) {
            for (size_t i = 0; i < (size_t)M * ldc; i++)
                C[i] = (float)i * 0.25f;
            kn_bgemm_nt_kernel(kern, M, N, K, A, lda, pb, C, ldc, acc, ws);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = acc ? (double)((size_t)i * ldc + j) * 0.25 : 0.0, mag = fabs(s);
                    for (int k = 0; k < K; k++) {
                        double p = (double)kn_round_bf16(A[(size_t)i * lda + k]) *
                                   (double)kn_round_bf16(B[(size_t)j * K + k]);
                        s += p;
                        mag += fabs(p);
                    }
                    /* fp32 summation of K + 1 exact terms: the error is below
                     * (K + 1) * 2^-24 * sum |terms|; typically far below */
                    double err = fabs(C[(size_t)i * ldc + j] - s);
                    assert_true(err <= (K + 1) * 0x1p-24 * mag);
                    worst = fmax(worst, err / mag);
                }
            /* the padding between rows of C is untouched */
            for (int i = 0; i < M; i++)
                for (size_t j = (size_t)N; j < ldc; j++)
                    assert_true(C[(size_t)i * ldc + j] == (float)((size_t)i * ldc + j) * 0.25f);
        }
        free(A);
        free(B);
        free(C);
        free(pb);
    }
    print_message("bf16 GEMM (%s) vs float64 of the rounded operands: worst error %.2e of "
                  "sum |a*b|\n",
                  kern == KN_BGEMM_PLAIN ? "plain C" : "AVX-512 BF16 or its fallback", worst);
    assert_true(worst < 1e-6);
    free(ws);
}

static void test_bgemm_plain_against_float64(void **state)
{
    (void)state;
    check_bgemm(KN_BGEMM_PLAIN);
}

static void test_bgemm_dispatch_against_float64(void **state)
{
    (void)state;
    check_bgemm(KN_BGEMM_AUTO);
}

/* The operands are rounded to bf16, nearest with ties to even, at the input. */
static void test_bgemm_rounds_inputs(void **state)
{
    (void)state;
    uint32_t *ws = malloc(sizeof(uint32_t) * kn_bgemm_ws_elems());
    float a[3] = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, 3.0f}; /* ties: down, up; exact */
    float b[3] = {1.0f, 1.0f + 1.0f / 128 + 1.0f / 512, -0.5f};
    uint16_t pb[64 * 4];
    assert_true(kn_bgemm_packed_elems(3, 1) * sizeof(uint16_t) <= sizeof pb);
    kn_bgemm_pack_b(3, 1, b, 1, pb);
    float c[9];
    for (int kern = KN_BGEMM_PLAIN; kern <= KN_BGEMM_AVX512BF16; kern++) {
        kn_bgemm_nt_kernel((enum kn_bgemm_kernel)kern, 3, 3, 1, a, 1, pb, c, 3, 0, ws);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                assert_true(c[i * 3 + j] == kn_round_bf16(a[i]) * kn_round_bf16(b[j]));
    }
    assert_true(c[0] == 1.0f);
    assert_true(c[3] == 1.0f + 1.0f / 64);
    assert_true(c[4] == (1.0f + 1.0f / 64) * (1.0f + 1.0f / 128));
    free(ws);
}

/* The VDPBF16PS kernel and the plain one agree to fp32 rounding. */
static void test_bgemm_kernels_agree(void **state)
{
    (void)state;
    if (!kn_bgemm_simd()) {
        print_message("no AVX-512 BF16 on this CPU: nothing to compare\n");
        skip();
    }
    uint32_t *ws = malloc(sizeof(uint32_t) * kn_bgemm_ws_elems());
    int M = 300, N = 1030, K = 1100;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K);
    float *C0 = malloc(sizeof(float) * M * N), *C1 = malloc(sizeof(float) * M * N);
    uint16_t *pb = malloc(sizeof(uint16_t) * kn_bgemm_packed_elems(N, K));
    for (int i = 0; i < M * K; i++)
        A[i] = urand();
    for (int i = 0; i < N * K; i++)
        B[i] = urand();
    kn_bgemm_pack_b(N, K, B, (size_t)K, pb);
    kn_bgemm_nt_kernel(KN_BGEMM_PLAIN, M, N, K, A, (size_t)K, pb, C0, (size_t)N, 0, ws);
    kn_bgemm_nt_kernel(KN_BGEMM_AVX512BF16, M, N, K, A, (size_t)K, pb, C1, (size_t)N, 0, ws);
    double worst = 0, scale = 0;
    long differ = 0;
    for (int i = 0; i < M * N; i++)
        scale = fmax(scale, fabs(C0[i]));
    for (int i = 0; i < M * N; i++) {
        differ += C0[i] != C1[i];
        worst = fmax(worst, fabs(C0[i] - C1[i]) / scale);
    }
    print_message("plain C vs AVX-512 BF16: %ld of %d values differ, worst %.2e of max |C|\n",
                  differ, M * N, worst);
    assert_true(worst < 1e-5);
    free(A);
    free(B);
    free(C0);
    free(C1);
    free(pb);
    free(ws);
}

/* float64 router logits of h's tokens through layer w. */
static void ref_logits(const struct kn_dims *d, const struct kn_layer *w, const float *h, int t,
                       double *lg)
{
    int H = d->hidden;
    double ss = 0;
    for (int i = 0; i < H; i++)
        ss += (double)h[(size_t)t * H + i] * h[(size_t)t * H + i];
    double r = 1.0 / sqrt(ss / H + d->eps);
    for (int e = 0; e < d->experts; e++) {
        lg[e] = 0;
        for (int i = 0; i < H; i++)
            lg[e] += h[(size_t)t * H + i] * r * w->norm[i] * w->gate[(size_t)e * H + i];
    }
}

static double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++)
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), den += (double)b[i] * b[i];
    return sqrt(num / den);
}

/* The bf16 stack against the fp32 one. Per layer from the same input: every
 * slot where the choices differ must be a near-tie of the float64 logits,
 * such tokens must be few, and the hidden states agree within 1e-2. Through
 * the whole stack (each its own hidden state), over the tokens whose choices
 * never differed: within 1e-2. A token whose choice flipped once has had a
 * different expert's output added, and the two trajectories part (1.1e-2
 * over all tokens after 4 layers here), which the last check bounds loosely. */
static void test_bf16_stack_against_fp32(void **state)
{
    (void)state;
    struct kn_dims d = {.hidden = 256,
                        .ffn = 128,
                        .experts = 16,
                        .topk = 4,
                        .layers = 4,
                        .renorm = 0,
                        .eps = 1e-5f,
                        .model = "test"};
    int n = 1000;
    size_t H = (size_t)d.hidden, k = (size_t)d.topk;
    struct kn_weights *w = kn_weights_seeded(&d, 5, 2);
    struct kn_cpu *c32 = kn_cpu_create(&d, 0, 2, KN_FP32), *c16 = kn_cpu_create(&d, 0, 2, KN_BF16);
    assert_int_equal(kn_cpu_precision(c16), KN_BF16);
    float *h32 = malloc(sizeof(float) * n * H), *h16 = malloc(sizeof(float) * n * H);
    float *hs = malloc(sizeof(float) * n * H);
    float *w32 = malloc(sizeof(float) * n * k), *w16 = malloc(sizeof(float) * n * k);
    int16_t *e32 = malloc(sizeof(int16_t) * n * k), *e16 = malloc(sizeof(int16_t) * n * k);
    double *lg = malloc(sizeof(double) * (size_t)d.experts);
    for (int t = 0; t < n; t++)
        kn_weights_embed(w, (uint32_t)(t * 7919 % 32000), h32 + (size_t)t * H);
    memcpy(h16, h32, sizeof(float) * n * H);
    struct kn_layer lay;
    kn_layer_alloc(&d, &lay);
    int flipped = 0;
    char *ever = calloc((size_t)n, 1);
    double worst_margin = 0, worst_step = 0, worst_w = 0;
    for (int l = 0; l < d.layers; l++) {
        kn_weights_layer(w, l, &lay);
        kn_cpu_load(c32, &lay);
        kn_cpu_load(c16, &lay);
        /* one step from the same input: the fp32 stack's state */
        memcpy(hs, h32, sizeof(float) * n * H);
        kn_cpu_forward(c16, hs, n, e16, w16);
        float *in = malloc(sizeof(float) * n * H);
        memcpy(in, h32, sizeof(float) * n * H);
        kn_cpu_forward(c32, h32, n, e32, w32);
        for (int t = 0; t < n; t++) {
            int same = 1;
            for (size_t s = 0; s < k; s++)
                same &= e32[t * k + s] == e16[t * k + s];
            if (same) {
                for (size_t s = 0; s < k; s++)
                    worst_w = fmax(worst_w, fabs(w16[t * k + s] - w32[t * k + s]) / w32[t * k + s]);
                continue;
            }
            flipped++;
            ever[t] = 1;
            ref_logits(&d, &lay, in, t, lg);
            for (size_t s = 0; s < k; s++)
                worst_margin = fmax(worst_margin, fabs(lg[e32[t * k + s]] - lg[e16[t * k + s]]));
        }
        worst_step = fmax(worst_step, rel_err(hs, h32, (size_t)n * H));
        free(in);
        /* the bf16 stack on its own state */
        kn_cpu_forward(c16, h16, n, e16, w16);
    }
    double total = rel_err(h16, h32, (size_t)n * H);
    /* the tokens that never flipped, packed to the front */
    int kept = 0;
    for (int t = 0; t < n; t++)
        if (!ever[t]) {
            memmove(h16 + (size_t)kept * H, h16 + (size_t)t * H, sizeof(float) * H);
            memmove(h32 + (size_t)kept * H, h32 + (size_t)t * H, sizeof(float) * H);
            kept++;
        }
    double steady = rel_err(h16, h32, (size_t)kept * H);
    print_message("bf16 vs fp32 stack: %d of %d token-layers choose differently (largest float64 "
                  "logit gap among them %.2e); gate weight rel err %.2e; hidden rel err %.2e per "
                  "layer; after %d layers %.2e over the %d never-flipped tokens, %.2e over all\n",
                  flipped, n * d.layers, worst_margin, worst_w, worst_step, d.layers, steady, kept,
                  total);
    /* bf16 rounding moves a logit (about unit scale here) by a few 1e-3 */
    assert_true(worst_margin < 0.02);
    assert_true(flipped <= n * d.layers / 50);
    assert_true(worst_w < 1e-2);
    assert_true(worst_step < 1e-2);
    assert_true(steady < 1e-2);
    assert_true(total < 5e-2);
    free(ever);
    kn_layer_free(&lay);
    kn_cpu_destroy(c32);
    kn_cpu_destroy(c16);
    kn_weights_destroy(w);
    free(h32);
    free(h16);
    free(hs);
    free(w32);
    free(w16);
    free(e32);
    free(e16);
    free(lg);
}

/* The bf16 stack's result does not depend on the thread count or batch. */
static void test_bf16_threads_invariant(void **state)
{
    (void)state;
    struct kn_dims d = {.hidden = 64,
                        .ffn = 96,
                        .experts = 8,
                        .topk = 2,
                        .layers = 1,
                        .renorm = 1,
                        .eps = 1e-5f,
                        .model = "test"};
    assert_int_equal(kn_check_batch_threads(&d, 9, 0, 700, 13, 3, KN_BF16), 0);
}

static struct kn_weights *fill_w;

static void fill_seeded(void *ctx, int item, float *dst)
{
    kn_weights_item(fill_w, *(int *)ctx, item, dst);
}

/* A layer loaded tensor by tensor from the weights (kn_cpu_load_items, what
 * capture does) computes exactly what the same layer loaded whole does. */
static void test_bf16_load_items_same_as_load(void **state)
{
    (void)state;
    struct kn_dims d = {.hidden = 64,
                        .ffn = 40,
                        .experts = 6,
                        .topk = 2,
                        .layers = 2,
                        .renorm = 0,
                        .eps = 1e-5f,
                        .model = "test"};
    int n = 50, l = 1;
    size_t H = (size_t)d.hidden, k = (size_t)d.topk;
    fill_w = kn_weights_seeded(&d, 17, 2);
    struct kn_layer lay;
    kn_layer_alloc(&d, &lay);
    kn_weights_layer(fill_w, l, &lay);
    float *h[2], *wt[2];
    int16_t *ex[2];
    for (int r = 0; r < 2; r++) {
        h[r] = malloc(sizeof(float) * n * H);
        wt[r] = malloc(sizeof(float) * n * k);
        ex[r] = malloc(sizeof(int16_t) * n * k);
        for (int t = 0; t < n; t++)
            kn_weights_embed(fill_w, (uint32_t)t, h[r] + (size_t)t * H);
        struct kn_cpu *cpu = kn_cpu_create(&d, 0, 2, KN_BF16);
        if (r)
            kn_cpu_load_items(cpu, fill_seeded, &l);
        else
            kn_cpu_load(cpu, &lay);
        kn_cpu_forward(cpu, h[r], n, ex[r], wt[r]);
        kn_cpu_destroy(cpu);
    }
    assert_memory_equal(h[0], h[1], sizeof(float) * n * H);
    assert_memory_equal(wt[0], wt[1], sizeof(float) * n * k);
    assert_memory_equal(ex[0], ex[1], sizeof(int16_t) * n * k);
    /* kn_weights_item gives kn_weights_layer's values */
    float *one = malloc(sizeof(float) * kn_layer_item_elems(&d, 2 + 3 * 4 + 2));
    kn_weights_item(fill_w, l, 2 + 3 * 4 + 2, one);
    assert_memory_equal(one, lay.w2 + (size_t)4 * d.ffn * H, sizeof(float) * d.ffn * H);
    free(one);
    for (int r = 0; r < 2; r++)
        free(h[r]), free(wt[r]), free(ex[r]);
    kn_layer_free(&lay);
    kn_weights_destroy(fill_w);
}

/* The seeded weights' contract: the same seed gives the same weights with 1,
 * 2 or 5 threads; another seed gives others. */
static void test_seeded_weights_any_thread_count(void **state)
{
    (void)state;
    struct kn_dims d = {.hidden = 40,
                        .ffn = 24,
                        .experts = 5,
                        .topk = 2,
                        .layers = 2,
                        .renorm = 1,
                        .eps = 1e-5f,
                        .model = "test"};
    size_t EFH = (size_t)d.experts * d.ffn * d.hidden;
    struct kn_layer lay[4];
    int threads[4] = {1, 2, 5, 1};
    for (int i = 0; i < 4; i++) {
        struct kn_weights *w = kn_weights_seeded(&d, i < 3 ? 21 : 22, threads[i]);
        kn_layer_alloc(&d, &lay[i]);
        kn_weights_layer(w, 1, &lay[i]);
        kn_weights_destroy(w);
    }
    for (int i = 1; i < 3; i++) {
        assert_memory_equal(lay[0].gate, lay[i].gate, sizeof(float) * d.experts * d.hidden);
        assert_memory_equal(lay[0].w1, lay[i].w1, sizeof(float) * EFH);
        assert_memory_equal(lay[0].w3, lay[i].w3, sizeof(float) * EFH);
        assert_memory_equal(lay[0].w2, lay[i].w2, sizeof(float) * EFH);
    }
    assert_memory_not_equal(lay[0].w2, lay[3].w2, sizeof(float) * EFH);
    /* embedding rows: one at a time or many on 3 threads, the same */
    struct kn_weights *w = kn_weights_seeded(&d, 21, 3);
    uint32_t ids[700];
    for (int i = 0; i < 700; i++)
        ids[i] = (uint32_t)(i * 7919u % 32000u);
    float *rows = malloc(sizeof(float) * 700 * d.hidden), *one = malloc(sizeof(float) * d.hidden);
    kn_weights_embed_rows(w, ids, 700, rows);
    for (int i = 0; i < 700; i++) {
        kn_weights_embed(w, ids[i], one);
        assert_memory_equal(one, rows + (size_t)i * d.hidden, sizeof(float) * d.hidden);
    }
    free(rows);
    free(one);
    kn_weights_destroy(w);
    for (int i = 0; i < 4; i++)
        kn_layer_free(&lay[i]);
}

/* silu.h: the AVX-512 and plain loops agree bitwise, and both are within
 * 1e-6 of the float64 silu(g) * u, relative where that is above 1e-30; below
 * (g < -69 or so) the clamped exp leaves values under 1e-35. */
static float silu_g(size_t i)
{
    static const float extremes[6] = {0.0f, -0.0f, 87.0f, -87.0f, 150.0f, -150.0f};
    float v = urand() * (i % 10 == 0 ? 200.0f : 8.0f); /* mostly |g| < 8, some to 200 */
    return i < 6 ? extremes[i] : v;
}

static void test_silu_mul(void **state)
{
    (void)state;
    size_t n = 100003;
    float *g0 = malloc(sizeof(float) * n), *g1 = malloc(sizeof(float) * n);
    float *g = malloc(sizeof(float) * n), *u = malloc(sizeof(float) * n);
    lcg = 777;
    for (size_t i = 0; i < n; i++) {
        g[i] = g0[i] = g1[i] = silu_g(i);
        u[i] = urand() * 3.0f;
    }
    kn_silu_mul(g0, u, n, 0);
    kn_silu_mul(g1, u, n, 1);
    assert_memory_equal(g0, g1, sizeof(float) * n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double want = g[i] / (1.0 + exp(-(double)g[i])) * u[i];
        if (fabs(want) > 1e-30)
            worst = fmax(worst, fabs(g0[i] - want) / fabs(want));
        else
            assert_true(fabs(g0[i] - want) < 1e-35);
    }
    print_message("silu * up (polynomial exp) vs float64: worst relative error %.2e\n", worst);
    assert_true(worst < 1e-6);
    free(g0);
    free(g1);
    free(g);
    free(u);
}

static void test_precision_parse(void **state)
{
    (void)state;
    enum kn_precision p;
    struct err e;
    assert_int_equal(kn_precision_parse("fp32", &p, &e), 0);
    assert_int_equal(p, KN_FP32);
    assert_int_equal(kn_precision_parse("bf16", &p, &e), 0);
    assert_int_equal(p, KN_BF16);
    assert_int_equal(kn_precision_parse(NULL, &p, &e), 0);
    assert_int_equal(p, KN_PREC_AUTO);
    assert_int_equal(kn_precision_resolve(KN_PREC_AUTO), kn_bgemm_simd() ? KN_BF16 : KN_FP32);
    assert_int_not_equal(kn_precision_parse("fp16", &p, &e), 0);
    assert_string_equal(e.msg, "--precision fp16: expected fp32, bf16 or auto");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bgemm_plain_against_float64),
        cmocka_unit_test(test_bgemm_dispatch_against_float64),
        cmocka_unit_test(test_bgemm_rounds_inputs),
        cmocka_unit_test(test_bgemm_kernels_agree),
        cmocka_unit_test(test_bf16_stack_against_fp32),
        cmocka_unit_test(test_bf16_threads_invariant),
        cmocka_unit_test(test_bf16_load_items_same_as_load),
        cmocka_unit_test(test_seeded_weights_any_thread_count),
        cmocka_unit_test(test_silu_mul),
        cmocka_unit_test(test_precision_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
