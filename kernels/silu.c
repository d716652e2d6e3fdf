/* silu.c - g = silu(g) * u with a polynomial exp, plain C and AVX-512 with
 * the same operations (see silu.h).
 *
 * exp(x), x clamped to [-87, 87] so that 2^n stays a normal float:
 * n = nearest integer to x * log2(e) (ties to even, as rintf and
 * _mm512_roundscale_ps in the default rounding mode), r = x - n * C1 - n * C2
 * (C1 = 355/512 has 9 significant bits, so n * C1 is exact), exp(r) by Cephes' expf
 * polynomial, times 2^n built in the exponent bits. Every step is one IEEE
 * operation written out in both versions, in the same order; the translation
 * unit is compiled as ISO C, where GCC does not contract a * b + c into an FMA.
 */
#include "kernels/silu.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define LOG2E 1.44269504088896341f
#define C1    0.693359375f
#define C2    -2.12194440e-4f
#define P0    1.9875691500e-4f
#define P1    1.3981999507e-3f
#define P2    8.3334519073e-3f
#define P3    4.1665795894e-2f
#define P4    1.6666665459e-1f
#define P5    5.0000001201e-1f

static inline float exp_poly(float x)
{
    x = x < -87.0f ? -87.0f : x > 87.0f ? 87.0f : x;
    float n = rintf(x * LOG2E);
    float r = x - n * C1;
    r = r - n * C2;
    float z = r * r;
    float p = P0 * r;
    p = p + P1;
    p = p * r;
    p = p + P2;
    p = p * r;
    p = p + P3;
    p = p * r;
    p = p + P4;
    p = p * r;
    p = p + P5;
    p = p * z;
    p = p + r;
    p = p + 1.0f;
    uint32_t b = (uint32_t)((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &b, 4);
    return p * s;
}

static void silu_mul_c(float *g, const float *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = g[i];
        g[i] = x / (1.0f + exp_poly(-x)) * u[i];
    }
}

__attribute__((target("avx512f"))) static void silu_mul_avx512(float *g, const float *u, size_t n)
{
    const __m512 lo = _mm512_set1_ps(-87.0f), hi = _mm512_set1_ps(87.0f);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 gx = _mm512_loadu_ps(g + i);
        __m512 x = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(gx), sign)); /* -g */
        x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
        __m512 nn = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(nn, _mm512_set1_ps(C1)));
        r = _mm512_sub_ps(r, _mm512_mul_ps(nn, _mm512_set1_ps(C2)));
        __m512 z = _mm512_mul_ps(r, r);
        __m512 p = _mm512_mul_ps(_mm512_set1_ps(P0), r);
        p = _mm512_add_ps(p, _mm512_set1_ps(P1));
        p = _mm512_mul_ps(p, r);
        p = _mm512_add_ps(p, _mm512_set1_ps(P2));
        p = _mm512_mul_ps(p, r);
        p = _mm512_add_ps(p, _mm512_set1_ps(P3));
        p = _mm512_mul_ps(p, r);
        p = _mm512_add_ps(p, _mm512_set1_ps(P4));
        p = _mm512_mul_ps(p, r);
        p = _mm512_add_ps(p, _mm512_set1_ps(P5));
        p = _mm512_mul_ps(p, z);
        p = _mm512_add_ps(p, r);
        p = _mm512_add_ps(p, one);
        __m512i e =
            _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(nn), _mm512_set1_epi32(127)), 23);
        __m512 ex = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
        __m512 y = _mm512_div_ps(gx, _mm512_add_ps(one, ex));
        _mm512_storeu_ps(g + i, _mm512_mul_ps(y, _mm512_loadu_ps(u + i)));
    }
    silu_mul_c(g + i, u + i, n - i);
}

void kn_silu_mul(float *g, const float *u, size_t n, int simd)
{
    static int has = -1;
    if (has < 0) has = __builtin_cpu_supports("avx512f") ? 1 : 0;
    if (simd && has)
        silu_mul_avx512(g, u, n);
    else
        silu_mul_c(g, u, n);
}
