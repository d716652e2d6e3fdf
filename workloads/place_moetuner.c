/* place_moetuner.c - MoETuner's two-stage placement.
 *
 * Stage 1, per layer: cluster the experts into `gpus` groups of equal size
 * balanced by profiled token load (pl_balanced_pack).
 * Stage 2, layer by layer: assign layer l's groups to GPUs given layer l-1's
 * assignment, minimising the heaviest GPU-pair transfer time between the two
 * layers. With layer l-1 fixed, putting group q on GPU h costs
 *   c[q][h] = max over g != h of T[group on g][q] * 8 * bytes_per_token / bw(g, h)
 * (T: tokens between the groups, from the profile's transitions; bw(g, h) the
 * NVLink bandwidth between GPUs of one server, the NIC bandwidth between
 * servers under one leaf and, across leaves, the smaller of it and the GPU's
 * share of its leaf uplink), so the stage is a linear bottleneck
 * assignment problem, solved exactly: binary search on the threshold over the
 * sorted costs with a bipartite perfect-matching test (Kuhn's augmenting
 * paths). Among the assignments meeting the optimal bottleneck, pairwise swaps
 * then cut the summed cross-GPU transfer time. Layer 0's groups go to GPUs in
 * order.
 */
#include <stdlib.h>
#include <string.h>

#include "workloads/place_internal.h"

struct lbap {
    int n;
    const double *c; /* [n][n] cost of row q on column h */
    double t;
    int *match_col; /* column -> row */
    int *seen;
};

static int augment(struct lbap *b, int q)
{
    for (int h = 0; h < b->n; h++) {
        if (b->seen[h] || b->c[(size_t)q * b->n + h] > b->t) continue;
        b->seen[h] = 1;
        if (b->match_col[h] < 0 || augment(b, b->match_col[h])) {
            b->match_col[h] = q;
            return 1;
        }
    }
    return 0;
}

static int perfect(struct lbap *b)
{
    for (int h = 0; h < b->n; h++)
        b->match_col[h] = -1;
    for (int q = 0; q < b->n; q++) {
        memset(b->seen, 0, sizeof(int) * (size_t)b->n);
        if (!augment(b, q)) return 0;
    }
    return 1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Bottleneck assignment of rows to columns: col_row[h] = row on column h. */
static void solve_lbap(int n, const double *c, const double *sum, int *col_row)
{
    struct lbap b = {.n = n, .c = c};
    b.match_col = xmalloc(sizeof(int) * (size_t)n);
    b.seen = xmalloc(sizeof(int) * (size_t)n);
    size_t nn = (size_t)n * n;
    double *v = xmalloc(sizeof(double) * nn);
    memcpy(v, c, sizeof(double) * nn);
    qsort(v, nn, sizeof(double), cmp_double);
    size_t lo = 0, hi = nn - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        b.t = v[mid];
        if (perfect(&b))
            hi = mid;
        else
            lo = mid + 1;
    }
    b.t = v[lo];
    perfect(&b);
    memcpy(col_row, b.match_col, sizeof(int) * (size_t)n);
    /* Secondary objective within the bottleneck: summed transfer time. */
    int improved = 1;
    while (improved) {
        improved = 0;
        for (int g = 0; g < n; g++)
            for (int h = g + 1; h < n; h++) {
                int p = col_row[g], q = col_row[h];
                if (c[(size_t)p * n + h] > b.t || c[(size_t)q * n + g] > b.t) continue;
                double d = sum[(size_t)p * n + h] + sum[(size_t)q * n + g] -
                           sum[(size_t)p * n + g] - sum[(size_t)q * n + h];
                if (d < -1e-12) {
                    col_row[g] = q;
                    col_row[h] = p;
                    improved = 1;
                }
            }
    }
    free(b.match_col);
    free(b.seen);
    free(v);
}

int pl_policy_moetuner(struct pl_placement *pl, const struct pl_profile *pr,
                       const struct pl_fabric *f)
{
    int L = pl->layers, E = pl->experts, G = pl->gpus, m = pl->slots_per_gpu, Lv = pl->leaves;
    int *grp = xmalloc(sizeof(int) * (size_t)L * E);  /* stage 1: group of (l, e) */
    int *onto = xmalloc(sizeof(int) * (size_t)L * G); /* stage 2: group on GPU h */
    double *T = xmalloc(sizeof(double) * (size_t)G * G);
    double *c = xmalloc(sizeof(double) * (size_t)G * G);
    double *sum = xmalloc(sizeof(double) * (size_t)G * G);
    double *inv = xmalloc(sizeof(double) * (size_t)G * G); /* us per unit between GPUs */
    double cross = f->gpu_gbps;
    if (Lv > 1 && f->leaf_uplink_gbps / (G / Lv) < cross) cross = f->leaf_uplink_gbps / (G / Lv);
    for (int g = 0; g < G; g++)
        for (int h = 0; h < G; h++) {
            double bw = pl_leaf_of(g, G, Lv) == pl_leaf_of(h, G, Lv) ? f->gpu_gbps : cross;
            if (pl_same_server(f, g, h)) bw = f->nvlink_gbps;
            inv[(size_t)g * G + h] = g == h ? 0 : f->bytes_per_token * 8 / (bw * 1e3);
        }
    for (int l = 0; l < L; l++)
        pl_balanced_pack(E, pr->load + (size_t)l * E, NULL, G, m, grp + (size_t)l * E);
    for (int h = 0; h < G; h++)
        onto[h] = h;
    for (int l = 1; l < L; l++) {
        memset(T, 0, sizeof(double) * (size_t)G * G);
        for (int a = 0; a < E; a++)
            for (int b = 0; b < E; b++)
                T[(size_t)grp[(size_t)(l - 1) * E + a] * G + grp[(size_t)l * E + b]] +=
                    pl_pair_at(pr, l, a)[b];
        const int *prev = onto + (size_t)(l - 1) * G;
        for (int q = 0; q < G; q++)
            for (int h = 0; h < G; h++) {
                double mx = 0, s = 0;
                for (int g = 0; g < G; g++) {
                    double x = T[(size_t)prev[g] * G + q] * inv[(size_t)g * G + h];
                    s += x;
                    if (x > mx) mx = x;
                }
                c[(size_t)q * G + h] = mx;
                sum[(size_t)q * G + h] = s;
            }
        solve_lbap(G, c, sum, onto + (size_t)l * G);
    }
    for (int l = 0; l < L; l++) {
        int *row = pl->slot_expert + (size_t)l * pl->slots;
        int *fill = xcalloc((size_t)G, sizeof(int));
        int *gpu_of_grp = xmalloc(sizeof(int) * (size_t)G);
        for (int h = 0; h < G; h++)
            gpu_of_grp[onto[(size_t)l * G + h]] = h;
        for (int e = 0; e < E; e++) {
            int h = gpu_of_grp[grp[(size_t)l * E + e]];
            row[h * m + fill[h]++] = e;
        }
        free(fill);
        free(gpu_of_grp);
    }
    free(grp);
    free(onto);
    free(T);
    free(c);
    free(sum);
    free(inv);
    return 0;
}
