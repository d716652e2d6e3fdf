/* moe_cpu.h - the MoE block forward pass on the CPU, fp32 (the reference) or
 * bf16 (the GPU path's operand precision).
 *
 * One block: xn = RMSNorm(h) * gain; logits = xn Wg^T; softmax and top-k
 * (router.h); assignments grouped by expert (permute.h); per expert the SwiGLU
 * FFN y = (silu(x W1^T) * (x W3^T)) W2^T; un-permutation and gate-weighted
 * combine; residual add h += moe(xn). Tokens go through in batches so memory
 * stays bounded; experts' row blocks are shared among `threads` threads.
 *
 * Precision. KN_FP32: every GEMM in fp32 (sgemm.h) on the caller's fp32
 * weights; the reference the tests hold against float64. KN_BF16: the router
 * and expert GEMMs take bf16 operands with fp32 accumulation (bgemm.h), as the
 * GPU path's cuBLAS calls do: the normalised hidden states and the SiLU*up
 * product are rounded to bf16 at the GEMM inputs, the weights (bf16 values
 * already when seeded or read from a BF16 checkpoint) are rounded and packed
 * once by kn_cpu_load into the micro-kernel's layout, held by the kn_cpu.
 * RMSNorm, softmax, top-k, SiLU, combine and the residual stream stay fp32
 * (the SiLU's exp is silu.h's polynomial rather than expf in bf16).
 */
#ifndef MOESIM_KN_MOE_CPU_H
#define MOESIM_KN_MOE_CPU_H

#include <stdint.h>

#include "kernels/layer.h"
#include "kernels/model.h"
#include "base/err.h"

enum kn_precision { KN_PREC_AUTO, KN_FP32, KN_BF16 };

struct kn_cpu;

/* "fp32", "bf16" or "auto" (NULL: auto); -1 with a message otherwise. */
int kn_precision_parse(const char *s, enum kn_precision *p, struct err *e);
/* AUTO resolved: bf16 where the CPU has AVX-512 BF16, else fp32. */
enum kn_precision kn_precision_resolve(enum kn_precision p);
const char *kn_precision_name(enum kn_precision p);

/* batch: tokens per internal batch (0: chosen from the dimensions);
 * prec: KN_FP32 or KN_BF16 (AUTO is resolved). */
struct kn_cpu *kn_cpu_create(const struct kn_dims *d, int batch, int threads,
                             enum kn_precision prec);
void kn_cpu_destroy(struct kn_cpu *c);
enum kn_precision kn_cpu_precision(const struct kn_cpu *c);

/* Makes w the layer that the next calls compute. fp32 reads w's arrays, which
 * must stay valid; bf16 rounds and packs them (with the threads) into the
 * kn_cpu's own arrays and does not keep w. */
void kn_cpu_load(struct kn_cpu *c, const struct kn_layer *w);

/* bf16 only: loads the layer whose tensors fill(ctx, item, dst) writes
 * (layer.h's item numbering, kn_layer_item_elems floats), each packed as soon
 * as it is made, the items shared among the threads (fill is called from
 * several at once, for distinct items). No fp32 copy of the layer exists at
 * any time: one tensor per thread. */
typedef void (*kn_fill_fn)(void *ctx, int item, float *dst);
void kn_cpu_load_items(struct kn_cpu *c, kn_fill_fn fill, void *ctx);

/* h [n][H] in place; expert, weight [n][k] receive the routing. */
void kn_cpu_forward(struct kn_cpu *c, float *h, int n, int16_t *expert, float *weight);

/* The SwiGLU FFN of expert e alone: y [m][H] from x [m][H] (calibration). */
void kn_cpu_ffn(struct kn_cpu *c, int e, const float *x, int m, float *y);

#endif
