/* cliopts.c - parsing of the options capture and calibrate share (see cliopts.h). */
#include "kernels/cliopts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void kn_cliopts_init(struct kn_cliopts *o)
{
    memset(o, 0, sizeof *o);
    o->renorm = -1;
    o->seed = 1;
    o->threads = 2;
}

int kn_cliopts_int(const char *opt, const char *val, long lo, long hi, long *out, struct err *e)
{
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < lo || v > hi)
        return err_set(e, "%s %s: expected an integer in [%ld, %ld]", opt, val, lo, hi);
    *out = v;
    return 0;
}

int kn_cliopts_parse(struct kn_cliopts *o, int argc, char **argv, int *i, struct err *e)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--no-renorm") || !strcmp(a, "--renorm")) {
        o->renorm = !strcmp(a, "--renorm");
        return 1;
    }
    static const char *const with_value[] = {"--preset", "--device", "--weights", "-o",
                                             "--hidden", "--ffn",    "--experts", "--topk",
                                             "--layers", "--seed",   "--threads", "--precision"};
    size_t k = 0, n = sizeof with_value / sizeof with_value[0];
    while (k < n && strcmp(a, with_value[k]))
        k++;
    if (k == n) return 0;
    if (*i + 1 >= argc) return err_set(e, "%s needs a value", a);
    const char *v = argv[++*i];
    long x = 0;
    switch (k) {
    case 0:
        o->preset = v;
        return 1;
    case 1:
        o->device = v;
        return 1;
    case 2:
        o->weights = v;
        return 1;
    case 3:
        o->out = v;
        return 1;
    case 9: {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-')
            return err_set(e, "--seed %s: expected a non-negative integer", v);
        o->seed = s;
        return 1;
    }
    case 10:
        if (kn_cliopts_int(a, v, 1, 64, &x, e)) return -1;
        o->threads = (int)x;
        return 1;
    case 11:
        return kn_precision_parse(v, &o->precision, e) ? -1 : 1;
    default:
        if (kn_cliopts_int(a, v, 1, k == 6 || k == 7 ? 32767 : 1 << 20, &x, e)) return -1;
        *(k == 4   ? &o->hidden
          : k == 5 ? &o->ffn
          : k == 6 ? &o->experts
          : k == 7 ? &o->topk
                   : &o->layers) = (int)x;
        return 1;
    }
}

int kn_cliopts_dims(const struct kn_cliopts *o, struct kn_dims *d, struct err *e)
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
