/* weights.h - where a layer stack's weights come from: a seed or a file.
 *
 * Seeded: every tensor (and every embedding row) has its own GSL taus2
 * stream, seeded from (seed, layer, tensor, expert), so a tensor's values do
 * not depend on which others are made, in what order, or on how many threads
 * make them: same seed, same weights, whatever the thread count. Normal values scaled
 * like real models' initialisation: router, gate and up projections std
 * 1/sqrt(H), down projection std 1/sqrt(F), embedding std 1, RMSNorm gain 1.
 * All values are rounded to bf16, the precision real checkpoints ship in, so
 * the CPU and GPU paths start from the same numbers.
 *
 * Checkpoint: a safetensors file with Mixtral-style names
 * (model.layers.N.block_sparse_moe.gate.weight, ...experts.E.w1/w2/w3.weight)
 * or OLMoE/Qwen-style ones (model.layers.N.mlp.gate.weight,
 * ...mlp.experts.E.gate_proj/up_proj/down_proj.weight), optional
 * model.layers.N.post_attention_layernorm.weight (the RMSNorm gain, else 1)
 * and optional model.embed_tokens.weight [V, H] (token id modulo V; seeded
 * rows if absent). Everything the dimensions need is checked at open.
 */
#ifndef MOESIM_KN_WEIGHTS_H
#define MOESIM_KN_WEIGHTS_H

#include <stdint.h>

#include "kernels/layer.h"
#include "kernels/model.h"
#include "base/err.h"

struct kn_weights;

struct kn_weights *kn_weights_seeded(const struct kn_dims *d, uint64_t seed, int threads);
/* Opens and validates a checkpoint for dimensions d; seed makes the
 * embedding rows when the file has none. */
int kn_weights_open(const char *path, const struct kn_dims *d, uint64_t seed, int threads,
                    struct kn_weights **out, struct err *e);
void kn_weights_destroy(struct kn_weights *w);

/* Fills out (allocated with kn_layer_alloc) with layer l's weights. */
void kn_weights_layer(struct kn_weights *w, int l, struct kn_layer *out);
/* Tensor `item` of layer l alone (layer.h's numbering) into dst
 * (kn_layer_item_elems floats): the same values kn_weights_layer puts there.
 * Reentrant for distinct items. */
void kn_weights_item(struct kn_weights *w, int l, int item, float *dst);
/* The embedding row [H] of token id. */
void kn_weights_embed(struct kn_weights *w, uint32_t id, float *out);
/* The rows of n token ids into out [n][H], shared among the threads (each
 * row its own stream, so the same values as kn_weights_embed). */
void kn_weights_embed_rows(struct kn_weights *w, const uint32_t *ids, size_t n, float *out);
/* "seeded" or the checkpoint's path. */
const char *kn_weights_source(const struct kn_weights *w);

/* Rounds to the nearest bf16 value (ties to even), kept as fp32. */
float kn_round_bf16(float x);

#endif
