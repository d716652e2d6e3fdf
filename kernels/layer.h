/* layer.h - the weights of one MoE block in memory, fp32, PyTorch layouts.
 *
 * Weight matrices are [out, in] row-major as in checkpoints: the router gate
 * is [E][H], per expert w1 (gate_proj) and w3 (up_proj) are [F][H] and w2
 * (down_proj) is [H][F], experts back to back.
 */
#ifndef MOESIM_KN_LAYER_H
#define MOESIM_KN_LAYER_H

#include <stddef.h>

#include "kernels/model.h"

struct kn_layer {
    float *norm; /* [H] RMSNorm gain (post_attention_layernorm) */
    float *gate; /* [E][H] router */
    float *w1;   /* [E][F][H] gate projection */
    float *w3;   /* [E][F][H] up projection */
    float *w2;   /* [E][H][F] down projection */
};

/* A layer's tensors numbered as items, the unit that weights are made and
 * packed in: 0 the norm gain, 1 the router, 2 + 3x + j expert x's w1 (j = 0),
 * w3 (1) and w2 (2). */
static inline int kn_layer_items(const struct kn_dims *d)
{
    return 2 + 3 * d->experts;
}
/* Floats of item i. */
size_t kn_layer_item_elems(const struct kn_dims *d, int i);
/* Where item i lives in w. */
float *kn_layer_item(const struct kn_dims *d, const struct kn_layer *w, int i);

/* Allocates the arrays for d's sizes (uninitialised); exits on no memory. */
void kn_layer_alloc(const struct kn_dims *d, struct kn_layer *w);
void kn_layer_free(struct kn_layer *w);
/* Bytes held by one layer of dimensions d. */
size_t kn_layer_bytes(const struct kn_dims *d);

/* n floats, 2 MiB aligned and advised to use huge pages when large; free()
 * releases them. Exits on no memory. */
float *kn_alloc_big(size_t n);

#endif
