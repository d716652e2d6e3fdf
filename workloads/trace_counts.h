/* trace_counts.h - per-layer expert selection counts (no per-token decisions).
 *
 * The file form is what data/switch_base128_expert_load.csv holds:
 * optional '#' comment lines, the header `layer,expert,count`, then one row
 * per (layer, expert). Layer numbers need not be dense (Switch has MoE
 * layers 1,3,5,...): they are kept in layer_id[] in ascending order. Experts
 * absent from a layer count 0; experts = max expert id + 1. Such a file has
 * no affinity, and its overall token count is the largest layer's.
 */
#ifndef MOESIM_TRACE_COUNTS_H
#define MOESIM_TRACE_COUNTS_H

#include "base/err.h"
#include "workloads/trace_stats.h"

struct trace_counts {
    int experts, layers;
    int *layer_id; /* [layers], ascending */
    double *count; /* [layers * experts] */
};

int trace_counts_load(const char *path, struct trace_counts *c, struct err *e);
void trace_counts_free(struct trace_counts *c);
/* 1 when the first line of path that is neither blank nor '#' is the header
 * layer,expert,count; 0 otherwise (unreadable included). */
int trace_counts_sniff(const char *path);
/* Per-layer imbalance and entropy; tokens = selections / topk; affinity NAN. */
void trace_counts_stats(const struct trace_counts *c, int topk, struct trace_stats *s);

#endif
