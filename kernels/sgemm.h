/* sgemm.h - the CPU matrix product behind the MoE layer: C = A * B^T.
 *
 * Row-major fp32: A is M x K (lda), B is N x K (ldb, the PyTorch [out, in]
 * layout of a weight), C is M x N (ldc). accumulate != 0 adds to C instead of
 * overwriting it. Blocked and packed (GotoBLAS style) with an AVX-512
 * micro-kernel picked at run time where the CPU has it, plain C otherwise.
 * ws is the caller's packing workspace of kn_sgemm_ws_floats() floats (one
 * per thread), so the function is reentrant and allocates nothing.
 */
#ifndef MOESIM_KN_SGEMM_H
#define MOESIM_KN_SGEMM_H

#include <stddef.h>

void kn_sgemm_nt(int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                 float *C, size_t ldc, int accumulate, float *ws);

size_t kn_sgemm_ws_floats(void);

/* 1 when the AVX-512 micro-kernel is in use. */
int kn_sgemm_simd(void);

#endif
