/* opts.h - what `moesim capture` and `moesim calibrate` are run with: the
 * options they share (preset and dimension overrides, seed, device, threads,
 * precision) and each one's own, filled by the command line (app/cmd_kernels.c),
 * and the two entry points.
 */
#ifndef MOESIM_KN_OPTS_H
#define MOESIM_KN_OPTS_H

#include <stdint.h>

#include "base/err.h"
#include "kernels/model.h"
#include "kernels/moe_cpu.h"

struct kn_opts {
    const char *preset, *device, *weights, *out;
    enum kn_precision precision;                    /* AUTO unless given */
    int hidden, ffn, experts, topk, layers, renorm; /* 0 (renorm -1): the preset's */
    uint64_t seed;
    int threads;
};

/* The defaults: no preset, the preset's dimensions, seed 1, 2 threads. */
void kn_opts_init(struct kn_opts *o);
/* The dimensions: the preset with the overrides applied, checked. */
int kn_opts_dims(const struct kn_opts *o, struct kn_dims *d, struct err *e);

/* What kn_capture and kn_calibrate return besides 0, with e set: bad input,
 * found before the output file was created (exit status 2), or a failure
 * after it (the file is removed; exit status 1). */
enum { KN_BAD_INPUT = -1, KN_FAILED = -2 };

/* `moesim capture` (capture.c): the routing of the text's tokens (or of the
 * rows of a hidden_states tensor) through the blocks, written as a trace. */
struct kn_capture_opts {
    struct kn_opts k;
    const char *text, *states; /* exactly one */
    long tokens;               /* with text: required; with states: 0 = every row */
    long chunk;                /* tokens through the blocks at once; 0: 256 MiB of state */
    int quiet;                 /* no progress lines on stderr */
};
int kn_capture(const struct kn_capture_opts *o, struct err *e);

/* `moesim calibrate` (calibrate.c): one expert's FFN time against its token
 * count, as tokens,us rows. 0 (or warmup -1): the device's default. */
struct kn_calibrate_opts {
    struct kn_opts k;
    long max_tokens, repeats, warmup;
};
int kn_calibrate(const struct kn_calibrate_opts *o, struct err *e);

#endif
