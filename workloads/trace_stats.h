/* trace_stats.h - statistics of a routing trace, per layer and overall.
 *
 * At layer l, over the tokens with a decision there (all topk slots count):
 *   tokens        tokens with a decision at l
 *   imbalance     max over experts of selections / mean selections, the mean
 *                 taken over all `experts` experts (never-chosen ones count)
 *   entropy_bits  -sum p_e log2 p_e of the expert selection distribution
 *   affinity_next over the tokens with a decision at l and l+1: the fraction
 *                 whose top-1 (slot 0) expert at l+1 is the most frequent
 *                 successor of their top-1 expert at l (successor counts from
 *                 the same trace, ties to the lowest expert id); NAN at the
 *                 last layer and where no token has both layers.
 * Overall ("all"): tokens = tokens with a decision at any layer; imbalance,
 * entropy_bits and affinity_next = the mean of the per-layer values over the
 * layers where they are defined. (Each MoE layer is its own all-to-all, so
 * the per-layer skew is what matters; pooling all layers would hide it
 * because every layer has different hot experts.)
 */
#ifndef MOESIM_TRACE_STATS_H
#define MOESIM_TRACE_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "workloads/trace.h"

struct trace_layer_stats {
    size_t tokens;
    double imbalance, entropy_bits, affinity_next; /* NAN where undefined */
};

struct trace_stats {
    int layers;
    int *layer_id;                   /* [layers]: the layer's number (0.. for traces) */
    struct trace_layer_stats *layer; /* [layers] */
    struct trace_layer_stats all;
};

/* Imbalance and entropy of one layer's selection counts ([experts]); NAN when
 * every count is 0. */
double trace_imbalance(const double *count, int experts);
double trace_entropy_bits(const double *count, int experts);

/* Selections of each expert at `layer` over all slots of all tokens
 * (count[experts], overwritten); returns the number of tokens with a
 * decision there. The per-expert load that placement policies balance. */
size_t trace_layer_counts(const struct trace *t, int layer, double *count);

void trace_stats_compute(const struct trace *t, struct trace_stats *s);
void trace_stats_free(struct trace_stats *s);

/* Fills s->all from s->layer[] (the means above); tokens is left to the caller. */
void trace_stats_overall(struct trace_stats *s);

/* Prints the table (human) or the CSV layer,tokens,imbalance,entropy_bits,
 * affinity_next with an `all` row (undefined values as empty fields). */
void trace_stats_print(FILE *f, const struct trace_stats *s);
int trace_stats_write_csv(FILE *f, const struct trace_stats *s);

#endif
