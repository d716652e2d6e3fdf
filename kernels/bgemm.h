/* bgemm.h - the bf16 matrix product of the CPU path: C = A * B^T with bf16
 * operands and fp32 accumulation, B packed once.
 *
 * The same contract as the GPU path's cuBLAS GEMMs (bf16 x bf16, fp32
 * compute and output): A (M x K, row-major fp32, lda) is rounded to bf16
 * (nearest, ties to even, as kn_round_bf16) as it is packed; B (N x K, the
 * PyTorch [out, in] layout of a weight) is rounded to bf16 and packed once by
 * kn_bgemm_pack_b into the micro-kernel's layout, so a weight that serves
 * many calls is neither converted nor re-packed per call; C (M x N, ldc) is
 * fp32, accumulate != 0 adds to it. A product of two bf16 values is exact in
 * fp32; the sums are fp32.
 *
 * Two micro-kernels: one on VDPBF16PS (AVX-512 BF16, picked at run time when
 * the CPU has it) and a plain C one with the same packed layout and the same
 * order of operations as the instruction's definition (per lane and k pair:
 * acc += odd product, then acc += even product). The hardware may round that
 * pair differently (e.g. in one step) and treats denormals as zero, so the
 * two kernels agree to fp32 rounding, not necessarily bitwise; neither is
 * bitwise equal to the fp32 kn_sgemm_nt of the rounded operands (different
 * summation order).
 */
#ifndef MOESIM_KN_BGEMM_H
#define MOESIM_KN_BGEMM_H

#include <stddef.h>
#include <stdint.h>

enum kn_bgemm_kernel { KN_BGEMM_AUTO, KN_BGEMM_PLAIN, KN_BGEMM_AVX512BF16 };

/* uint16_t elements of a packed N x K matrix. */
size_t kn_bgemm_packed_elems(int N, int K);
/* Rounds B (N x K, ldb) to bf16 and packs it into pb (kn_bgemm_packed_elems). */
void kn_bgemm_pack_b(int N, int K, const float *B, size_t ldb, uint16_t *pb);

/* uint32_t elements of the per-thread workspace the product packs A into. */
size_t kn_bgemm_ws_elems(void);

/* C = A * B^T (or C += with accumulate), B as packed by kn_bgemm_pack_b with
 * the same N and K. Reentrant: all scratch is ws. */
void kn_bgemm_nt(int M, int N, int K, const float *A, size_t lda, const uint16_t *pb, float *C,
                 size_t ldc, int accumulate, uint32_t *ws);
/* The same with a chosen micro-kernel (tests); KN_BGEMM_AVX512BF16 on a CPU
 * without it falls back to the plain kernel. */
void kn_bgemm_nt_kernel(enum kn_bgemm_kernel kern, int M, int N, int K, const float *A, size_t lda,
                        const uint16_t *pb, float *C, size_t ldc, int accumulate, uint32_t *ws);

/* 1 when the CPU has AVX-512 BF16 (the VDPBF16PS micro-kernel is used). */
int kn_bgemm_simd(void);

#endif
