/* place_gen.h - seeded synthetic routing traces for the placement tests.
 *
 * gen_trace(): tokens pick top-k distinct experts per layer. Expert popularity
 * is Zipf-like (exponent `skew`, 0 = uniform). With probability `follow` a
 * token's slot-j expert at layer l is a fixed per-layer image of its slot-j
 * expert at layer l-1 (so consecutive layers have affinity), otherwise it is
 * drawn from the popularity. */
#ifndef MOESIM_PLACE_GEN_H
#define MOESIM_PLACE_GEN_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "workloads/trace.h"

static inline void gen_trace(struct trace *t, size_t tokens, int layers, int experts, int topk,
                             double skew, double follow, unsigned long seed)
{
    memset(t, 0, sizeof *t);
    snprintf(t->model, sizeof t->model, "synthetic");
    t->experts = experts;
    t->topk = topk;
    t->layers = layers;
    t->tokens = tokens;
    t->seq = calloc(tokens, sizeof(int32_t));
    t->pos = calloc(tokens, sizeof(int32_t));
    size_t n = tokens * (size_t)layers * (size_t)topk;
    t->expert = calloc(n, sizeof(int16_t));
    t->weight = calloc(n, sizeof(float));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double *p = malloc(sizeof(double) * (size_t)experts * layers);
    int *img = malloc(sizeof(int) * (size_t)experts * layers);
    for (int l = 0; l < layers; l++) {
        for (int e = 0; e < experts; e++) {
            p[l * experts + e] = 1.0 / pow(e + 1, skew);
            img[l * experts + e] = e;
        }
        /* A different popularity order and image per layer. */
        gsl_ran_shuffle(r, p + l * experts, (size_t)experts, sizeof(double));
        gsl_ran_shuffle(r, img + l * experts, (size_t)experts, sizeof(int));
    }
    gsl_ran_discrete_t **dl = malloc(sizeof(*dl) * (size_t)layers);
    for (int l = 0; l < layers; l++)
        dl[l] = gsl_ran_discrete_preproc((size_t)experts, p + l * experts);
    for (size_t i = 0; i < tokens; i++) {
        t->pos[i] = (int32_t)i;
        for (int l = 0; l < layers; l++) {
            gsl_ran_discrete_t *d = dl[l];
            for (int j = 0; j < topk; j++) {
                int e;
                for (;;) {
                    if (l > 0 && gsl_rng_uniform(r) < follow)
                        e = img[l * experts + t->expert[trace_idx(t, i, l - 1, j)]];
                    else
                        e = (int)gsl_ran_discrete(r, d);
                    int dup = 0;
                    for (int j2 = 0; j2 < j; j2++)
                        dup |= t->expert[trace_idx(t, i, l, j2)] == e;
                    if (!dup) break;
                }
                t->expert[trace_idx(t, i, l, j)] = (int16_t)e;
                t->weight[trace_idx(t, i, l, j)] = 1.0f / topk;
            }
        }
    }
    for (int l = 0; l < layers; l++)
        gsl_ran_discrete_free(dl[l]);
    free(dl);
    free(p);
    free(img);
    gsl_rng_free(r);
}

static inline void gen_free(struct trace *t)
{
    free(t->seq);
    free(t->pos);
    free(t->expert);
    free(t->weight);
    memset(t, 0, sizeof *t);
}

#endif
