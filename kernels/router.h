/* router.h - the MoE router's decision for one token: softmax and top-k.
 *
 * Selection is on the logits (softmax is monotonic, and comparing logits
 * avoids ties that exist only after rounding the probabilities), largest
 * first; equal logits go to the lower expert index. The weight of a chosen
 * expert is its softmax probability over all E experts, divided by the sum of
 * the k chosen probabilities when renorm is set (Mixtral), kept as is
 * otherwise (OLMoE). The CUDA kernel (moe_cuda.cu) follows the same rule.
 */
#ifndef MOESIM_KN_ROUTER_H
#define MOESIM_KN_ROUTER_H

#include <stdint.h>

/* logits [E] -> expert [k] (in the router's order, best first), weight [k]. */
void kn_route_token(const float *logits, int E, int k, int renorm, int16_t *expert, float *weight);

/* RMSNorm of one row: out = x / sqrt(mean(x^2) + eps) * gain. */
void kn_rmsnorm(const float *x, const float *gain, int H, float eps, float *out);

#endif
