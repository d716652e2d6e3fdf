/* bgemm.c - C = A * B^T with bf16 operands, fp32 accumulation (see bgemm.h).
 *
 * Layouts. VDPBF16PS multiplies pairs: lane j of the result gets
 * a[2j]*b[2j] + a[2j+1]*b[2j+1], so K is walked two at a time (odd K is
 * padded with a zero). B is packed into NR-column panels, each panel K/2
 * pairs deep, a pair being NR columns x 2 consecutive k values (four zmm
 * registers of 16 columns each); a panel is contiguous, so the slice of any
 * k range is a contiguous run and B never has to be re-packed. A is converted
 * per call, one MC x KC block at a time, into rows of 32-bit words, one word
 * per k pair holding the two bf16 values (even k in the low half), which the
 * micro-kernel broadcasts; the rows are AS words apart, AS = KC/2 + 16, so
 * that the rows a micro-kernel reads fall in different L1 sets (a stride of
 * a multiple of 4 KiB would put them all in one). Loops as in GotoBLAS/BLIS
 * (see sgemm.c) minus the B packing: for each NC columns and KC-deep slice,
 * for each MC-row block of A (converted once, kept in L2), every NR-wide panel
 * of B against every MR-row panel of A. Partial tiles go through a scratch
 * tile, as in sgemm.c.
 */
#include "kernels/bgemm.h"

#include <immintrin.h>
#include <string.h>

#define MR  6
#define NR  64
#define MC  96
#define KC  384 /* even: slices start on a pair */
#define NC  2048
#define KCP (KC / 2)
#define AS  (KCP + 16) /* words from one packed row of A to the next */

typedef void (*ukr_fn)(int kp, const uint32_t *a, const uint16_t *b, float *c, size_t ldc, int add);
typedef void (*cvt_fn)(const float *x, int kc, uint32_t *out);

/* fp32 -> bf16 bits, nearest with ties to even (kn_round_bf16's rule). */
static inline uint16_t to_bf16(float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    if ((b & 0x7f800000u) != 0x7f800000u) b += 0x7fffu + ((b >> 16) & 1u);
    return (uint16_t)(b >> 16);
}

static inline float from_bf16(uint32_t h)
{
    uint32_t b = h << 16;
    float x;
    memcpy(&x, &b, 4);
    return x;
}

/* Plain C micro-kernel: the same layouts and, per lane, the order of
 * operations of VDPBF16PS's definition (odd product first). */
static void ukr_c(int kp, const uint32_t *a, const uint16_t *b, float *c, size_t ldc, int add)
{
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int q = 0; q < kp; q++) {
        const uint16_t *bq = b + (size_t)q * NR * 2;
        for (int i = 0; i < MR; i++) {
            uint32_t w = a[(size_t)i * AS + q];
            float a0 = from_bf16(w & 0xffffu), a1 = from_bf16(w >> 16);
            for (int j = 0; j < NR; j++) {
                acc[i][j] += a1 * from_bf16(bq[2 * j + 1]);
                acc[i][j] += a0 * from_bf16(bq[2 * j]);
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = add ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

/* VDPBF16PS micro-kernel: a 6 x 64 tile in 24 zmm accumulators (named, as in
 * sgemm.c, so GCC keeps them in registers), four B registers and one
 * broadcast word of A per row and k pair: 10 loads for 24 VDPBF16PS. Measured
 * here on the FFN shapes it ran about 8% faster than a 12 x 32 tile (2 B
 * registers, 12 broadcasts), and KC 384 / MC 96 were the best blocking of
 * those tried (KC 256-512, MC 96-288). */
#define DP(i, x, y, z, w)                                                                          \
    do {                                                                                           \
        __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[(i)*AS]);                                 \
        x = _mm512_dpbf16_ps(x, ai, b0);                                                           \
        y = _mm512_dpbf16_ps(y, ai, b1);                                                           \
        z = _mm512_dpbf16_ps(z, ai, b2);                                                           \
        w = _mm512_dpbf16_ps(w, ai, b3);                                                           \
    } while (0)
#define ST1(ci, x)                                                                                 \
    do {                                                                                           \
        if (add) x = _mm512_add_ps(x, _mm512_loadu_ps(ci));                                        \
        _mm512_storeu_ps(ci, x);                                                                   \
    } while (0)
#define ST(i, x, y, z, w)                                                                          \
    do {                                                                                           \
        float *ci = c + (size_t)(i)*ldc;                                                           \
        ST1(ci, x);                                                                                \
        ST1(ci + 16, y);                                                                           \
        ST1(ci + 32, z);                                                                           \
        ST1(ci + 48, w);                                                                           \
    } while (0)

__attribute__((target("avx512f,avx512bf16"))) static void
ukr_avx512bf16(int kp, const uint32_t *a, const uint16_t *b, float *c, size_t ldc, int add)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00,
           c12 = c00, c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00,
           c32 = c00, c33 = c00, c40 = c00, c41 = c00, c42 = c00, c43 = c00, c50 = c00, c51 = c00,
           c52 = c00, c53 = c00;
    for (int q = 0; q < kp; q++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 32),
                 b2 = (__m512bh)_mm512_loadu_si512(b + 64),
                 b3 = (__m512bh)_mm512_loadu_si512(b + 96);
        DP(0, c00, c01, c02, c03);
        DP(1, c10, c11, c12, c13);
        DP(2, c20, c21, c22, c23);
        DP(3, c30, c31, c32, c33);
        DP(4, c40, c41, c42, c43);
        DP(5, c50, c51, c52, c53);
        a++;
        b += NR * 2;
    }
    ST(0, c00, c01, c02, c03);
    ST(1, c10, c11, c12, c13);
    ST(2, c20, c21, c22, c23);
    ST(3, c30, c31, c32, c33);
    ST(4, c40, c41, c42, c43);
    ST(5, c50, c51, c52, c53);
}
#undef DP
#undef ST
#undef ST1

int kn_bgemm_simd(void)
{
    static int has = -1;
    if (has < 0) has = __builtin_cpu_supports("avx512bf16") ? 1 : 0;
    return has;
}

static ukr_fn pick_ukr(enum kn_bgemm_kernel kern)
{
    if (kern == KN_BGEMM_PLAIN || !kn_bgemm_simd()) return ukr_c;
    return ukr_avx512bf16;
}

size_t kn_bgemm_packed_elems(int N, int K)
{
    size_t np = ((size_t)N + NR - 1) / NR * NR, kpad = ((size_t)K + 1) & ~(size_t)1;
    return np * kpad;
}

size_t kn_bgemm_ws_elems(void)
{
    return (size_t)(MC + MR) * AS;
}

/* One row of A, kc values, to (kc + 1) / 2 words of bf16 pairs (plain C). */
static void cvt_row_c(const float *x, int kc, uint32_t *out)
{
    int q = 0;
    for (; 2 * q + 1 < kc; q++)
        out[q] = (uint32_t)to_bf16(x[2 * q]) | (uint32_t)to_bf16(x[2 * q + 1]) << 16;
    if (kc & 1) out[q] = to_bf16(x[kc - 1]);
}

/* The same, 32 values at a time: to_bf16's integer rounding on 16 lanes,
 * then the high halves of each pair of lanes packed into one word
 * (VCVTNE2PS2BF16 would flush denormals to zero, so it is not used). */
__attribute__((target("avx512f,avx512bw"))) static void cvt_row_avx512(const float *x, int kc,
                                                                       uint32_t *out)
{
    const __m512i idx =
        _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27,
                         25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const __m512i expo = _mm512_set1_epi32(0x7f800000), bias = _mm512_set1_epi32(0x7fff),
                  one = _mm512_set1_epi32(1);
    int k = 0;
    for (; k + 32 <= kc; k += 32) {
        __m512i r[2];
        for (int h = 0; h < 2; h++) {
            __m512i b = _mm512_loadu_si512(x + k + 16 * h);
            __m512i add = _mm512_add_epi32(bias, _mm512_and_si512(_mm512_srli_epi32(b, 16), one));
            __mmask16 fin = _mm512_cmpneq_epi32_mask(_mm512_and_si512(b, expo), expo);
            r[h] = _mm512_mask_add_epi32(b, fin, b, add);
        }
        _mm512_storeu_si512(out + k / 2, _mm512_permutex2var_epi16(r[0], idx, r[1]));
    }
    cvt_row_c(x + k, kc - k, out + k / 2);
}

/* Converts rows [0, mc) x cols [0, kc) of A into pa, rows AS words apart. */
static void pack_a(cvt_fn cvt, int mc, int kc, const float *A, size_t lda, uint32_t *pa)
{
    for (int i = 0; i < mc; i++)
        cvt(A + (size_t)i * lda, kc, pa + (size_t)i * AS);
    /* rows of the last, partial micro-panel: zeros */
    for (int i = mc; i % MR; i++)
        memset(pa + (size_t)i * AS, 0, sizeof(uint32_t) * (size_t)(kc + 1) / 2);
}

void kn_bgemm_pack_b(int N, int K, const float *B, size_t ldb, uint16_t *pb)
{
    cvt_fn cvt = kn_bgemm_simd() ? cvt_row_avx512 : cvt_row_c;
    size_t kpad = ((size_t)K + 1) & ~(size_t)1;
    /* 32 k values (16 pairs) of a panel's NR rows at a time: each row's
     * converted to pair words (cvt), then the NR x 16 words transposed into
     * the panel, whose writes are sequential */
    uint32_t t[NR][16];
    for (int j0 = 0; j0 < N; j0 += NR) {
        int nr = N - j0 < NR ? N - j0 : NR;
        uint16_t *panel = pb + (size_t)j0 * kpad;
        memset(t, 0, sizeof t);
        for (int k0 = 0; k0 < K; k0 += 32) {
            int kc = K - k0 < 32 ? K - k0 : 32, qn = (kc + 1) / 2;
            for (int j = 0; j < nr; j++)
                cvt(B + (size_t)(j0 + j) * ldb + k0, kc, t[j]);
            for (int q = 0; q < qn; q++) {
                uint16_t *d = panel + (size_t)(k0 / 2 + q) * NR * 2;
                for (int j = 0; j < NR; j++)
                    memcpy(d + 2 * j, &t[j][q], sizeof(uint32_t));
            }
        }
    }
}

void kn_bgemm_nt_kernel(enum kn_bgemm_kernel kern, int M, int N, int K, const float *A, size_t lda,
                        const uint16_t *pb, float *C, size_t ldc, int accumulate, uint32_t *ws)
{
    ukr_fn ukr = pick_ukr(kern);
    cvt_fn cvt = ukr == ukr_c ? cvt_row_c : cvt_row_avx512;
    if (K == 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++)
                memset(C + (size_t)i * ldc, 0, sizeof(float) * (size_t)N);
        return;
    }
    size_t kpad = ((size_t)K + 1) & ~(size_t)1;
    float tile[MR * NR];
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC, kp = (kc + 1) / 2;
            int add = accumulate || pc > 0;
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC;
                pack_a(cvt, mc, kc, A + (size_t)ic * lda + pc, lda, ws);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? nc - jr : NR;
                    const uint16_t *bp = pb + (size_t)(jc + jr) * kpad + (size_t)pc * NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        const uint32_t *ap = ws + (size_t)ir * AS;
                        float *c = C + (size_t)(ic + ir) * ldc + jc + jr;
                        if (mr == MR && nr == NR) {
                            ukr(kp, ap, bp, c, ldc, add);
                            continue;
                        }
                        ukr(kp, ap, bp, tile, NR, 0);
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

void kn_bgemm_nt(int M, int N, int K, const float *A, size_t lda, const uint16_t *pb, float *C,
                 size_t ldc, int accumulate, uint32_t *ws)
{
    kn_bgemm_nt_kernel(KN_BGEMM_AUTO, M, N, K, A, lda, pb, C, ldc, accumulate, ws);
}
