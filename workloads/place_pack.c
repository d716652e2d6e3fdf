/* place_pack.c - balanced packing of weighted items into equal-count bins, the
 * step load_greedy, eplb and moetuner share: longest-processing-time first
 * (heaviest item onto the lightest bin that still has room), which keeps every
 * bin at exactly `cap` items. Items of one group (replicas of one expert) avoid
 * sharing a bin while another bin has room. */
#include <stdlib.h>

#include "workloads/place_internal.h"

struct item {
    double w;
    int i;
};

/* Heaviest first; ties by index, so the packing is deterministic. */
static int by_weight_desc(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->w != y->w) return x->w > y->w ? -1 : 1;
    return x->i - y->i;
}

void pl_balanced_pack(int n, const double *w, const int *group, int bins, int cap, int *bin_of)
{
    int *order = xmalloc(sizeof(int) * (size_t)n);
    int *count = xcalloc((size_t)bins, sizeof(int));
    double *load = xcalloc((size_t)bins, sizeof(double));
    struct item *it = xmalloc(sizeof(struct item) * (size_t)n);
    for (int i = 0; i < n; i++)
        it[i] = (struct item){w[i], i};
    qsort(it, (size_t)n, sizeof *it, by_weight_desc);
    for (int i = 0; i < n; i++)
        order[i] = it[i].i;
    free(it);
    for (int k = 0; k < n; k++) {
        int i = order[k], best = -1, best_clash = 1;
        for (int b = 0; b < bins; b++) {
            if (count[b] >= cap) continue;
            int clash = 0;
            if (group)
                for (int k2 = 0; k2 < k && !clash; k2++)
                    clash = bin_of[order[k2]] == b && group[order[k2]] == group[i];
            if (best < 0 || clash < best_clash || (clash == best_clash && load[b] < load[best])) {
                best = b;
                best_clash = clash;
            }
        }
        bin_of[i] = best;
        count[best]++;
        load[best] += w[i];
    }
    free(order);
    free(count);
    free(load);
}

void pl_bins_to_slots(int n, const int *bin_of, const int *item_expert, int cap, int *row)
{
    int bins = n / cap;
    int *fill = xcalloc((size_t)bins, sizeof(int));
    for (int i = 0; i < n; i++) {
        int b = bin_of[i];
        row[b * cap + fill[b]++] = item_expert[i];
    }
    free(fill);
}
