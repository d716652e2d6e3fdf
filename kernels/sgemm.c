/* sgemm.c - blocked, packed C = A * B^T on the CPU (see sgemm.h).
 *
 * Loop order as in GotoBLAS/BLIS: for each NC-wide slab of B and KC-deep
 * slice, B is packed once into NR-wide panels (k-major), then for each MC-tall
 * block of A, A is packed into MR-tall panels and the micro-kernel computes
 * MR x NR tiles in registers. Partial tiles are zero-padded in the packs and
 * written through a scratch tile. The packs live in the caller's workspace.
 */
#include "kernels/sgemm.h"

#include <immintrin.h>
#include <string.h>

#define MR 12
#define NR 32
#define MC 120
#define KC 256
#define NC 1024

typedef void (*ukr_fn)(int kc, const float *a, const float *b, float *c, size_t ldc, int add);

/* Plain C micro-kernel: the same packed layout, for CPUs without AVX-512. */
static void ukr_c(int kc, const float *a, const float *b, float *c, size_t ldc, int add)
{
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int k = 0; k < kc; k++) {
        const float *ak = a + (size_t)k * MR, *bk = b + (size_t)k * NR;
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] += ak[i] * bk[j];
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = add ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

/* AVX-512 micro-kernel: a 12 x 32 tile in 24 zmm accumulators, written out
 * register by register (GCC -O2 keeps an accumulator array in memory). */
#define ST(i, x, y)                                                                                \
    do {                                                                                           \
        float *ci = c + (size_t)(i)*ldc;                                                           \
        if (add) {                                                                                 \
            x = _mm512_add_ps(x, _mm512_loadu_ps(ci));                                             \
            y = _mm512_add_ps(y, _mm512_loadu_ps(ci + 16));                                        \
        }                                                                                          \
        _mm512_storeu_ps(ci, x);                                                                   \
        _mm512_storeu_ps(ci + 16, y);                                                              \
    } while (0)

__attribute__((target("avx512f"))) static void ukr_avx512(int kc, const float *a, const float *b,
                                                          float *c, size_t ldc, int add)
{
    __m512 c0a = _mm512_setzero_ps(), c0b = c0a, c1a = _mm512_setzero_ps(), c1b = c1a,
           c2a = _mm512_setzero_ps(), c2b = c2a, c3a = _mm512_setzero_ps(), c3b = c3a,
           c4a = _mm512_setzero_ps(), c4b = c4a, c5a = _mm512_setzero_ps(), c5b = c5a,
           c6a = _mm512_setzero_ps(), c6b = c6a, c7a = _mm512_setzero_ps(), c7b = c7a,
           c8a = _mm512_setzero_ps(), c8b = c8a, c9a = _mm512_setzero_ps(), c9b = c9a,
           c10a = _mm512_setzero_ps(), c10b = c10a, c11a = _mm512_setzero_ps(), c11b = c11a;
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), ai;
        ai = _mm512_set1_ps(a[0]);
        c0a = _mm512_fmadd_ps(ai, b0, c0a);
        c0b = _mm512_fmadd_ps(ai, b1, c0b);
        ai = _mm512_set1_ps(a[1]);
        c1a = _mm512_fmadd_ps(ai, b0, c1a);
        c1b = _mm512_fmadd_ps(ai, b1, c1b);
        ai = _mm512_set1_ps(a[2]);
        c2a = _mm512_fmadd_ps(ai, b0, c2a);
        c2b = _mm512_fmadd_ps(ai, b1, c2b);
        ai = _mm512_set1_ps(a[3]);
        c3a = _mm512_fmadd_ps(ai, b0, c3a);
        c3b = _mm512_fmadd_ps(ai, b1, c3b);
        ai = _mm512_set1_ps(a[4]);
        c4a = _mm512_fmadd_ps(ai, b0, c4a);
        c4b = _mm512_fmadd_ps(ai, b1, c4b);
        ai = _mm512_set1_ps(a[5]);
        c5a = _mm512_fmadd_ps(ai, b0, c5a);
        c5b = _mm512_fmadd_ps(ai, b1, c5b);
        ai = _mm512_set1_ps(a[6]);
        c6a = _mm512_fmadd_ps(ai, b0, c6a);
        c6b = _mm512_fmadd_ps(ai, b1, c6b);
        ai = _mm512_set1_ps(a[7]);
        c7a = _mm512_fmadd_ps(ai, b0, c7a);
        c7b = _mm512_fmadd_ps(ai, b1, c7b);
        ai = _mm512_set1_ps(a[8]);
        c8a = _mm512_fmadd_ps(ai, b0, c8a);
        c8b = _mm512_fmadd_ps(ai, b1, c8b);
        ai = _mm512_set1_ps(a[9]);
        c9a = _mm512_fmadd_ps(ai, b0, c9a);
        c9b = _mm512_fmadd_ps(ai, b1, c9b);
        ai = _mm512_set1_ps(a[10]);
        c10a = _mm512_fmadd_ps(ai, b0, c10a);
        c10b = _mm512_fmadd_ps(ai, b1, c10b);
        ai = _mm512_set1_ps(a[11]);
        c11a = _mm512_fmadd_ps(ai, b0, c11a);
        c11b = _mm512_fmadd_ps(ai, b1, c11b);
        a += MR;
        b += NR;
    }
    ST(0, c0a, c0b);
    ST(1, c1a, c1b);
    ST(2, c2a, c2b);
    ST(3, c3a, c3b);
    ST(4, c4a, c4b);
    ST(5, c5a, c5b);
    ST(6, c6a, c6b);
    ST(7, c7a, c7b);
    ST(8, c8a, c8b);
    ST(9, c9a, c9b);
    ST(10, c10a, c10b);
    ST(11, c11a, c11b);
}
#undef ST

static ukr_fn pick_ukr(void)
{
    static ukr_fn fn;
    if (!fn) fn = __builtin_cpu_supports("avx512f") ? ukr_avx512 : ukr_c;
    return fn;
}

int kn_sgemm_simd(void)
{
    return pick_ukr() == ukr_avx512;
}

/* Packs rows [0, mc) x cols [0, kc) of A into MR-tall k-major panels. */
static void pack_a(int mc, int kc, const float *A, size_t lda, float *pa)
{
    for (int i0 = 0; i0 < mc; i0 += MR) {
        int mr = mc - i0 < MR ? mc - i0 : MR;
        for (int k = 0; k < kc; k++) {
            for (int i = 0; i < mr; i++)
                pa[i] = A[(size_t)(i0 + i) * lda + k];
            for (int i = mr; i < MR; i++)
                pa[i] = 0.0f;
            pa += MR;
        }
    }
}

/* Packs rows [0, nc) x cols [0, kc) of B (N x K) into NR-wide k-major panels. */
static void pack_b(int nc, int kc, const float *B, size_t ldb, float *pb)
{
    for (int j0 = 0; j0 < nc; j0 += NR) {
        int nr = nc - j0 < NR ? nc - j0 : NR;
        if (nr < NR) memset(pb, 0, sizeof(float) * NR * (size_t)kc);
        for (int j = 0; j < nr; j++) {
            const float *bj = B + (size_t)(j0 + j) * ldb;
            for (int k = 0; k < kc; k++)
                pb[(size_t)k * NR + j] = bj[k];
        }
        pb += (size_t)NR * kc;
    }
}

size_t kn_sgemm_ws_floats(void)
{
    return (size_t)(MC + NC) * KC;
}

void kn_sgemm_nt(int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                 float *C, size_t ldc, int accumulate, float *ws)
{
    float *pa = ws, *pb = ws + MC * KC;
    ukr_fn ukr = pick_ukr();
    if (K == 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++)
                memset(C + (size_t)i * ldc, 0, sizeof(float) * (size_t)N);
        return;
    }
    float tile[MR * NR];
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            int add = accumulate || pc > 0;
            pack_b(nc, kc, B + (size_t)jc * ldb + pc, ldb, pb);
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC;
                pack_a(mc, kc, A + (size_t)ic * lda + pc, lda, pa);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? nc - jr : NR;
                    const float *bp = pb + (size_t)jr * kc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        const float *ap = pa + (size_t)ir * kc;
                        float *c = C + (size_t)(ic + ir) * ldc + jc + jr;
                        if (mr == MR && nr == NR) {
                            ukr(kc, ap, bp, c, ldc, add);
                            continue;
                        }
                        ukr(kc, ap, bp, tile, NR, 0);
                        for (int i = 0; i < mr; i++)
                            for (int j = 0; j < nr; j++)
                                c[(size_t)i * ldc + j] =
                                    add ? c[(size_t)i * ldc + j] + tile[i * NR + j]
                                        : tile[i * NR + j];
                    }
                }
            }
        }
    }
}
