/* place_eplb.c - DeepSeek's expert-parallel load balancer (EPLB), per layer.
 *
 * Replication: every expert starts with one replica; each of the `replicas`
 * extra slots goes to the expert with the highest load per replica (ties: the
 * lower expert id). Packing: the replicas, each weighing load / replica count
 * (pl_gpu_of splits a replicated expert's tokens evenly, bar tokens already on
 * a replica's GPU), are packed onto GPUs with equal slot counts by
 * pl_balanced_pack, replicas of one expert on distinct GPUs where possible.
 *
 * Hierarchical variant (leaves > 1), as in EPLB's rebalance_experts_hierarchical:
 * first the experts are packed into the leaves in equal-count groups balanced
 * by load, then each leaf gets replicas / leaves extra slots handed out among
 * its own experts, then each leaf's replicas are packed onto its GPUs. Replicas
 * thus never leave their expert's leaf, which keeps replicated traffic under
 * one leaf.
 */
#include <stdlib.h>
#include <string.h>

#include "workloads/place_internal.h"

/* Replicates experts ex[0..n) (loads w) with r extra slots, packs the n + r
 * replicas onto `bins` GPUs of cap slots and writes them into row. */
static void replicate_and_pack(int n, const int *ex, const double *w, int r, int bins, int cap,
                               int *row)
{
    int *nrep = xmalloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        nrep[i] = 1;
    for (int k = 0; k < r; k++) {
        int best = 0;
        for (int i = 1; i < n; i++)
            if (w[i] / nrep[i] > w[best] / nrep[best]) best = i;
        nrep[best]++;
    }
    int items = n + r;
    double *iw = xmalloc(sizeof(double) * (size_t)items);
    int *ie = xmalloc(sizeof(int) * (size_t)items), *bin = xmalloc(sizeof(int) * (size_t)items);
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < nrep[i]; j++) {
            iw[k] = w[i] / nrep[i];
            ie[k++] = ex[i];
        }
    pl_balanced_pack(items, iw, ie, bins, cap, bin);
    pl_bins_to_slots(items, bin, ie, cap, row);
    free(nrep);
    free(iw);
    free(ie);
    free(bin);
}

int pl_policy_eplb(struct pl_placement *pl, const struct pl_profile *pr, int replicas)
{
    int E = pl->experts, G = pl->gpus, Lv = pl->leaves, m = pl->slots_per_gpu;
    int *ex = xmalloc(sizeof(int) * (size_t)E), *leaf = xmalloc(sizeof(int) * (size_t)E);
    double *w = xmalloc(sizeof(double) * (size_t)E);
    for (int l = 0; l < pl->layers; l++) {
        const double *load = pr->load + (size_t)l * E;
        int *row = pl->slot_expert + (size_t)l * pl->slots;
        if (Lv == 1) {
            for (int e = 0; e < E; e++)
                ex[e] = e;
            replicate_and_pack(E, ex, load, replicas, G, m, row);
            continue;
        }
        pl_balanced_pack(E, load, NULL, Lv, E / Lv, leaf);
        int gpl = G / Lv, per_leaf = pl->slots / Lv;
        for (int v = 0; v < Lv; v++) {
            int n = 0;
            for (int e = 0; e < E; e++)
                if (leaf[e] == v) {
                    ex[n] = e;
                    w[n++] = load[e];
                }
            replicate_and_pack(n, ex, w, replicas / Lv, gpl, m, row + (size_t)v * per_leaf);
        }
    }
    free(ex);
    free(leaf);
    free(w);
    return 0;
}
