/* layer.c - allocation of one MoE block's weights (see layer.h). */
#include "kernels/layer.h"

#include <stdlib.h>

#include "sim/err.h"

void kn_layer_alloc(const struct kn_dims *d, struct kn_layer *w)
{
    size_t H = (size_t)d->hidden, F = (size_t)d->ffn, E = (size_t)d->experts;
    w->norm = xmalloc(sizeof(float) * H);
    w->gate = xmalloc(sizeof(float) * E * H);
    w->w1 = xmalloc(sizeof(float) * E * F * H);
    w->w3 = xmalloc(sizeof(float) * E * F * H);
    w->w2 = xmalloc(sizeof(float) * E * F * H);
}

void kn_layer_free(struct kn_layer *w)
{
    free(w->norm);
    free(w->gate);
    free(w->w1);
    free(w->w3);
    free(w->w2);
    w->norm = w->gate = w->w1 = w->w3 = w->w2 = NULL;
}

size_t kn_layer_bytes(const struct kn_dims *d)
{
    size_t H = (size_t)d->hidden, F = (size_t)d->ffn, E = (size_t)d->experts;
    return sizeof(float) * (H + E * H + 3 * E * F * H);
}
