/* cliopts.h - the command-line options shared by `moesim capture` and
 * `moesim calibrate`: preset and dimension overrides, seed, device, threads,
 * precision.
 */
#ifndef MOESIM_KN_CLIOPTS_H
#define MOESIM_KN_CLIOPTS_H

#include <stdint.h>

#include "kernels/model.h"
#include "kernels/moe_cpu.h"
#include "base/err.h"

struct kn_cliopts {
    const char *preset, *device, *weights, *out;
    enum kn_precision precision;                    /* --precision; AUTO unless given */
    int hidden, ffn, experts, topk, layers, renorm; /* 0 (renorm -1): the preset's */
    uint64_t seed;
    int threads;
};

void kn_cliopts_init(struct kn_cliopts *o);
/* Consumes argv[*i] (and its value) if it is a shared option: returns 1, 0 if
 * it is not one, -1 with a message on a bad value. */
int kn_cliopts_parse(struct kn_cliopts *o, int argc, char **argv, int *i, struct err *e);
/* Reads an integer option value in [lo, hi]. */
int kn_cliopts_int(const char *opt, const char *val, long lo, long hi, long *out, struct err *e);
/* The dimensions: the preset with the overrides applied, checked. */
int kn_cliopts_dims(const struct kn_cliopts *o, struct kn_dims *d, struct err *e);

/* The `moesim capture` and `moesim calibrate` subcommands (argv[0] the name;
 * exit status 0, 1 or 2). */
int kn_capture_cli(int argc, char **argv);
int kn_calibrate_cli(int argc, char **argv);

#endif
