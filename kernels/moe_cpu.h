/* moe_cpu.h - the MoE block forward pass on the CPU, fp32 (the reference).
 *
 * One block: xn = RMSNorm(h) * gain; logits = xn Wg^T; softmax and top-k
 * (router.h); assignments grouped by expert (permute.h); per expert the SwiGLU
 * FFN y = (silu(x W1^T) * (x W3^T)) W2^T; un-permutation and gate-weighted
 * combine; residual add h += moe(xn). Tokens go through in batches so memory
 * stays bounded; experts' row blocks are shared among `threads` threads.
 */
#ifndef MOESIM_KN_MOE_CPU_H
#define MOESIM_KN_MOE_CPU_H

#include <stdint.h>

#include "kernels/layer.h"
#include "kernels/model.h"

struct kn_cpu;

/* batch: tokens per internal batch (0: chosen from the dimensions). */
struct kn_cpu *kn_cpu_create(const struct kn_dims *d, int batch, int threads);
void kn_cpu_destroy(struct kn_cpu *c);

/* h [n][H] in place; expert, weight [n][k] receive the routing. */
void kn_cpu_forward(struct kn_cpu *c, const struct kn_layer *w, float *h, int n, int16_t *expert,
                    float *weight);

/* The SwiGLU FFN of expert e alone: y [m][H] from x [m][H] (calibration). */
void kn_cpu_ffn(struct kn_cpu *c, const struct kn_layer *w, int e, const float *x, int m, float *y);

#endif
