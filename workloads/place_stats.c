/* place_stats.c - token-level statistics of a placement on a trace window:
 * per-layer GPU loads and the share of transfers crossing GPUs, servers and leaves,
 * every token's GPU decided by pl_gpu_of.
 *
 * Token homes follow the fabric's shard rule (pl_token_home). Transfers counted: standard mode,
 * each (token, slot) dispatch from the token's home GPU; coherent mode, each consecutive-layer
 * transition (token, slot at l-1, slot at l), the ExFlow measure (uniform random placement keeps
 * 1/gpus of them on one GPU). In coherent mode a token reaches layer l from
 * the GPU of its first present expert of layer l-1, or from home.
 */
#include <stdlib.h>
#include <string.h>

#include "workloads/place_internal.h"

void pl_evaluate(const struct pl_placement *pl, const struct trace *t, size_t tok_begin,
                 size_t tok_end, const struct pl_fabric *f, struct pl_stats *s)
{
    int L = pl->layers, G = pl->gpus, k = t->topk, Lv = pl->leaves;
    memset(s, 0, sizeof *s);
    s->layers = L;
    s->max_load = xcalloc((size_t)L, sizeof(double));
    s->mean_load = xcalloc((size_t)L, sizeof(double));
    double *load = xcalloc((size_t)L * G, sizeof(double));
    int *cur = xmalloc(sizeof(int) * (size_t)k), *prev = xmalloc(sizeof(int) * (size_t)k);
    size_t n = tok_end - tok_begin;
    double cg = 0, cl = 0, cs = 0;
    for (size_t i = 0; i < n; i++) {
        size_t tok = tok_begin + i;
        int h = pl_token_home(f, i, n);
        for (int j = 0; j < k; j++)
            prev[j] = -1;
        for (int l = 0; l < L; l++) {
            int from = h;
            if (f->mode == PL_COHERENT)
                for (int j = k - 1; j >= 0; j--)
                    if (prev[j] >= 0) from = prev[j];
            for (int j = 0; j < k; j++) {
                int e = t->expert[trace_idx(t, tok, l, j)];
                cur[j] = e >= 0 && e < pl->experts ? pl_gpu_of(pl, l, e, from, tok) : -1;
                int d = cur[j];
                if (d < 0) continue;
                load[(size_t)l * G + d] += 1;
                if (f->mode == PL_STANDARD) {
                    s->transfers += 1;
                    cg += d != h;
                    cs += d != h && !pl_same_server(f, d, h);
                    cl += pl_leaf_of(d, G, Lv) != pl_leaf_of(h, G, Lv);
                } else {
                    for (int j2 = 0; j2 < k; j2++) {
                        if (prev[j2] < 0) continue;
                        s->transfers += 1;
                        cg += d != prev[j2];
                        cs += d != prev[j2] && !pl_same_server(f, d, prev[j2]);
                        cl += pl_leaf_of(d, G, Lv) != pl_leaf_of(prev[j2], G, Lv);
                    }
                }
            }
            memcpy(prev, cur, sizeof(int) * (size_t)k);
        }
    }
    int used = 0;
    for (int l = 0; l < L; l++) {
        double sum = 0, mx = 0;
        for (int g = 0; g < G; g++) {
            sum += load[(size_t)l * G + g];
            if (load[(size_t)l * G + g] > mx) mx = load[(size_t)l * G + g];
        }
        s->max_load[l] = mx;
        s->mean_load[l] = sum / G;
        if (sum > 0) {
            s->max_over_mean += mx / (sum / G);
            used++;
        }
    }
    if (used) s->max_over_mean /= used;
    s->cross_gpu = s->transfers > 0 ? cg / s->transfers : 0;
    s->cross_leaf = s->transfers > 0 ? cl / s->transfers : 0;
    s->cross_server = s->transfers > 0 ? cs / s->transfers : 0;
    s->cost = pl_cost(pl, t, tok_begin, tok_end, f);
    free(load);
    free(cur);
    free(prev);
}

void pl_stats_free(struct pl_stats *s)
{
    free(s->max_load);
    free(s->mean_load);
    memset(s, 0, sizeof *s);
}
