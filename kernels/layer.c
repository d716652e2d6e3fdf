/* layer.c - allocation of one MoE block's weights (see layer.h). */
#include "kernels/layer.h"

#include <stdlib.h>
#include <sys/mman.h>

#include "base/err.h"

/* Layer arrays and activations are large (an OLMoE layer is 1.6 GB): 2 MiB aligned and
 * marked for transparent huge pages, which cuts the page faults of the first
 * fill (measured: the first OLMoE layer's fill went from 17 s to 6 s) where THP is "madvise". */
float *kn_alloc_big(size_t n)
{
    size_t bytes = n * sizeof(float);
    if (bytes < ((size_t)4 << 20)) return xmalloc(bytes);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
        err_fatal("out of memory allocating %zu bytes", bytes);
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is harmless */
    return p;
}

void kn_layer_alloc(const struct kn_dims *d, struct kn_layer *w)
{
    size_t H = (size_t)d->hidden, F = (size_t)d->ffn, E = (size_t)d->experts;
    w->norm = kn_alloc_big(H);
    w->gate = kn_alloc_big(E * H);
    w->w1 = kn_alloc_big(E * F * H);
    w->w3 = kn_alloc_big(E * F * H);
    w->w2 = kn_alloc_big(E * F * H);
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

size_t kn_layer_item_elems(const struct kn_dims *d, int i)
{
    size_t H = (size_t)d->hidden, F = (size_t)d->ffn, E = (size_t)d->experts;
    return i == 0 ? H : i == 1 ? E * H : F * H;
}

float *kn_layer_item(const struct kn_dims *d, const struct kn_layer *w, int i)
{
    size_t FH = (size_t)d->ffn * (size_t)d->hidden, x = i < 2 ? 0 : (size_t)(i - 2) / 3;
    if (i < 2) return i == 0 ? w->norm : w->gate;
    float *base = (i - 2) % 3 == 0 ? w->w1 : (i - 2) % 3 == 1 ? w->w3 : w->w2;
    return base + x * FH;
}

size_t kn_layer_bytes(const struct kn_dims *d)
{
    size_t H = (size_t)d->hidden, F = (size_t)d->ffn, E = (size_t)d->experts;
    return sizeof(float) * (H + E * H + 3 * E * F * H);
}
