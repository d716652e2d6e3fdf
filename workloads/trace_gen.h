/* trace_gen.h - synthetic routing traces, the closed forms of their
 * statistics, and fitting the generator to a measured trace.
 *
 * The model (trace_gen.c). Each layer l ranks the experts by a seeded random
 * permutation; rank r (1-based) has popularity p_r = r^-s / sum_j j^-s
 * (Zipf-like, s = zipf; s = 0 is uniform). Per token:
 *   - the top-1 (slot 0) at layer 0 is drawn from the popularity;
 *   - at layer l+1, with probability a (= affinity) it is the preferred
 *     successor of the token's top-1 at l, else drawn from the popularity.
 *     The preferred successor of the expert of rank r at l is the expert of
 *     rank r at l+1, a fixed, seeded map that keeps every layer's top-1
 *     distribution exactly Zipf(s) whatever a is, so s and a can be fitted
 *     separately;
 *   - slots 1..topk-1 are drawn from the popularity without replacement;
 *   - the weights are the softmax of topk standard normal draws sorted in
 *     decreasing order (slot 0 gets the largest; weight 1 when topk = 1).
 * Tokens are independent of each other, sequences only number them.
 */
#ifndef MOESIM_TRACE_GEN_H
#define MOESIM_TRACE_GEN_H

#include <stddef.h>

#include "base/err.h"
#include "workloads/trace.h"
#include "workloads/trace_counts.h"
#include "workloads/trace_stats.h"

struct trace_gen_params {
    int experts, topk, layers;
    int sequences, tokens; /* tokens per sequence */
    unsigned long seed;
    double zipf, affinity;
};

/* 0 when the parameters are within bounds, else -1 and a message naming the
 * option (--experts ...). */
int trace_gen_check(const struct trace_gen_params *p, struct err *e);
/* The command line that reproduces p: "moesim trace gen --experts ... -o OUT". */
void trace_gen_cmdline(const struct trace_gen_params *p, const char *out, char *buf, size_t n);
/* Generates into memory (model "synthetic-zipf", source the command line). */
int trace_gen(const struct trace_gen_params *p, struct trace *t, struct err *e);
/* Generates straight to a CSV file ("-": stdout), one token at a time, so the
 * memory does not grow with the trace; the same rows as trace_gen. */
int trace_gen_write(const struct trace_gen_params *p, const char *path, struct err *e);

/* Closed forms of the model with infinitely many tokens:
 * the expected per-layer imbalance (E * inclusion probability of the rank-1
 * expert / topk; slots drawn by successive sampling, computed exactly as an
 * exponential race with GSL integration) and the expected affinity
 * sum_r p_r max(a + (1-a) p_r, (1-a) p_1). */
double trace_gen_model_imbalance(int experts, int topk, double zipf);
double trace_gen_model_affinity(int experts, double zipf, double affinity);

/* Fitted generator parameters and what they were fitted to. */
struct trace_fit {
    int experts, topk, layers;
    double zipf, affinity;
    double target_imbalance, target_affinity; /* source's mean per-layer values (NAN: none) */
    double model_imbalance, model_affinity;   /* the closed forms at the fitted values */
    size_t tokens;                            /* source's tokens */
};

/* Fits zipf to the mean per-layer imbalance (gsl_min Brent on the squared
 * error of trace_gen_model_imbalance) and affinity to the mean affinity (the
 * same on trace_gen_model_affinity: the chance part of the measured affinity
 * is what a = 0 gives, p_1). */
int trace_fit_stats(int experts, int topk, int layers, double imbalance, double affinity,
                    struct trace_fit *f, struct err *e);
int trace_fit_trace(const struct trace *t, struct trace_fit *f, struct err *e);
/* Counts have no affinity: affinity is fitted as 0. */
int trace_fit_counts(const struct trace_counts *c, int topk, struct trace_fit *f, struct err *e);

#endif
