/* opts.c - the defaults and dimensions of the options capture and calibrate
 * share (see opts.h). */
#include "kernels/opts.h"

#include <string.h>

void kn_opts_init(struct kn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->renorm = -1;
    o->seed = 1;
    o->threads = 2;
}

int kn_opts_dims(const struct kn_opts *o, struct kn_dims *d, struct err *e)
{
    if (!o->preset) return err_set(e, "--preset is required (mixtral or olmoe)");
    if (kn_preset(o->preset, d, e)) return -1;
    if (o->hidden) d->hidden = o->hidden;
    if (o->ffn) d->ffn = o->ffn;
    if (o->experts) d->experts = o->experts;
    if (o->topk) d->topk = o->topk;
    if (o->layers) d->layers = o->layers;
    if (o->renorm >= 0) d->renorm = o->renorm;
    return kn_dims_check(d, e);
}
