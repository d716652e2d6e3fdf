/* model.h - the shape of an MoE layer stack: dimensions, presets, checks.
 *
 * A preset names real models' MoE dimensions (mixtral: Mixtral-8x7B,
 * olmoe: OLMoE-1B-7B); command-line flags override single fields.
 */
#ifndef MOESIM_KN_MODEL_H
#define MOESIM_KN_MODEL_H

#include "base/err.h"

struct kn_dims {
    int hidden;        /* model width H */
    int ffn;           /* expert intermediate width F */
    int experts;       /* routed experts E */
    int topk;          /* experts per token k */
    int layers;        /* MoE blocks L */
    int renorm;        /* 1: the k gate weights are renormalised to sum 1 (Mixtral) */
    float eps;         /* RMSNorm epsilon */
    const char *model; /* model name written to trace metadata */
};

/* Fills d from a preset name ("mixtral" or "olmoe"); -1 with a message if
 * the name is unknown. layers is the real model's count. */
int kn_preset(const char *name, struct kn_dims *d, struct err *e);

/* Checks that the dimensions are positive and topk <= experts <= 32767. */
int kn_dims_check(const struct kn_dims *d, struct err *e);

#endif
