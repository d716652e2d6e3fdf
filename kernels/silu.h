/* silu.h - the SwiGLU gate of the bf16 CPU path: g = silu(g) * u.
 *
 * silu(g) = g / (1 + exp(-g)), with exp computed by a fixed polynomial
 * (Cody-Waite reduction by ln 2, Cephes' degree-5 expf polynomial, relative
 * error about 1e-7) rather than libm's expf, so that an AVX-512 version can
 * do the same operations 16 lanes at a time: the plain C and the AVX-512 loops
 * perform the same IEEE operations in the same order (no fused multiply-add)
 * and give bitwise the same results. The bf16 path rounds the product to bf16
 * at the down GEMM's input, far coarser than the difference from expf. The
 * argument of exp is clamped to [-87, 87]: for g < -87, silu(g) comes out as
 * g * e^-87 (under 3e-36 in magnitude for |g| < 200) instead of a smaller
 * number. The fp32 path (the reference) keeps expf.
 */
#ifndef MOESIM_KN_SILU_H
#define MOESIM_KN_SILU_H

#include <stddef.h>

/* g[i] = silu(g[i]) * u[i] for i < n; simd != 0 uses AVX-512 where the CPU
 * has it (same results). */
void kn_silu_mul(float *g, const float *u, size_t n, int simd);

#endif
