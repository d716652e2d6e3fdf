/* calibrate.c - `moesim calibrate`: one expert's SwiGLU FFN time against the
 * number of tokens routed to it, as `tokens,us` rows for the simulator's
 * compute model.
 *
 * On a GPU: CUDA events around the FFN (bf16 cuBLAS GEMMs, fp32 accumulate),
 * warm-up runs, median of the repeats. On the CPU (--device cpu, or no GPU):
 * the CPU FFN (bf16 or fp32, --precision, as capture) on one thread timed
 * with clock_gettime, labelled so in the metadata; it is there so the path
 * can be tested, not as a GPU model.
 * Only one expert's weights are made (seeded), whatever the preset's E.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include "kernels/opts.h"
#include "kernels/device.h"
#include "kernels/weights.h"

int kn_calibrate(const struct kn_calibrate_opts *co, struct err *e)
{
    const struct kn_opts *o = &co->k;
    long max_tokens = co->max_tokens, repeats = co->repeats, warmup = co->warmup;
    struct kn_dims d;
    if (kn_opts_dims(o, &d, e)) return KN_BAD_INPUT;
    if (!o->out) return err_set(e, "-o FILE is required");
    if (o->weights)
        return err_set(e, "--weights: calibrate times seeded weights only (the time does not "
                          "depend on the values)");
    struct kn_dims d1 = d; /* one expert, one layer */
    d1.experts = 1, d1.topk = 1, d1.layers = 1;
    struct kn_device *dev;
    char note[ERR_MSG_MAX + 64];
    long cap = max_tokens ? max_tokens : 4096;
    if (kn_device_open(o->device, &d1, (int)cap, 1, o->precision, &dev, note, sizeof note, e))
        return KN_BAD_INPUT;
    if (note[0]) fprintf(stderr, "moesim calibrate: %s\n", note);
    int gpu = !strcmp(kn_device_kind(dev), "gpu");
    if (!max_tokens) max_tokens = gpu ? 4096 : 256;
    if (!repeats) repeats = gpu ? 20 : 5;
    if (warmup < 0) warmup = gpu ? 3 : 1;

    struct kn_weights *w = kn_weights_seeded(&d1, o->seed, o->threads);
    struct kn_layer lay;
    kn_layer_alloc(&d1, &lay);
    kn_weights_layer(w, 0, &lay);
    int rc = kn_device_load_layer(dev, &lay, e);
    FILE *f = NULL;
    if (rc == 0 && !(f = fopen(o->out, "w"))) rc = err_set(e, "%s: cannot create: %m", o->out);
    if (rc == 0) {
        fprintf(f, "#source=calibrate\n#model=%s\n#preset=%s\n#hidden=%d\n#ffn=%d\n", d.model,
                o->preset, d.hidden, d.ffn);
        fprintf(f, "#device=%s\n#device_name=%s\n#warmup=%ld\n#repeats=%ld\n#statistic=median\n",
                kn_device_kind(dev), kn_device_name(dev), warmup, repeats);
        fprintf(f, "#precision=%s\n", kn_device_precision(dev));
        if (gpu)
            fprintf(f, "#timer=cudaEvent around gate/up GEMMs, SiLU*up, down GEMM (bf16, fp32 "
                       "accumulate)\n");
        else
            fprintf(f,
                    "#timer=clock_gettime around the %s CPU FFN, 1 thread; a CPU figure, not a "
                    "GPU one\n",
                    kn_device_precision(dev));
        fprintf(f, "tokens,us\n");
    }
    for (long m = 1; rc == 0 && m <= max_tokens;) {
        double us;
        rc = kn_device_time_ffn(dev, (int)m, (int)warmup, (int)repeats, &us, e);
        if (rc == 0) {
            char a[32], b[32];
            snprintf(a, sizeof a, "%ld", m);
            snprintf(b, sizeof b, "%.3f", us);
            csv_fwrite(f, a, strlen(a));
            fputc(',', f);
            csv_fwrite(f, b, strlen(b));
            fputc('\n', f);
        }
        /* 1, 2, 3, 4, 6, 8, 12, 16, ...: powers of two and their 1.5x */
        long p = 1;
        while (p * 2 <= m)
            p *= 2;
        m = m == p && p >= 2 ? p + p / 2 : 2 * p;
    }
    if (f && fclose(f) != 0 && rc == 0) rc = err_set(e, "%s: write error", o->out);
    if (rc != 0 && f) unlink(o->out);
    kn_layer_free(&lay);
    kn_weights_destroy(w);
    kn_device_close(dev);
    return rc == 0 ? 0 : KN_FAILED;
}
