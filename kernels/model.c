/* model.c - MoE dimension presets and their checks (see model.h). */
#include "kernels/model.h"

#include <string.h>

int kn_preset(const char *name, struct kn_dims *d, struct err *e)
{
    memset(d, 0, sizeof *d);
    d->eps = 1e-5f;
    if (!strcmp(name, "mixtral")) {
        /* Mixtral-8x7B: softmax over 8, top-2, renormalised over the 2. */
        d->hidden = 4096, d->ffn = 14336, d->experts = 8, d->topk = 2, d->layers = 32;
        d->renorm = 1;
        d->model = "mixtral";
        return 0;
    }
    if (!strcmp(name, "olmoe")) {
        /* OLMoE-1B-7B: norm_topk_prob is false, so no renormalisation. */
        d->hidden = 2048, d->ffn = 1024, d->experts = 64, d->topk = 8, d->layers = 16;
        d->renorm = 0;
        d->model = "olmoe";
        return 0;
    }
    return err_set(e, "unknown preset '%s' (mixtral or olmoe)", name);
}

int kn_dims_check(const struct kn_dims *d, struct err *e)
{
    if (d->hidden < 1 || d->ffn < 1 || d->experts < 1 || d->topk < 1 || d->layers < 1)
        return err_set(e,
                       "dimensions must be positive (hidden %d ffn %d experts %d topk %d "
                       "layers %d)",
                       d->hidden, d->ffn, d->experts, d->topk, d->layers);
    if (d->experts > 32767) return err_set(e, "experts %d beyond 32767", d->experts);
    if (d->topk > d->experts) return err_set(e, "topk %d beyond experts %d", d->topk, d->experts);
    return 0;
}
