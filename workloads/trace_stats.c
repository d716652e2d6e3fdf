/* trace_stats.c - per-layer and overall statistics of a routing trace
 * (definitions in trace_stats.h). */
#include "workloads/trace_stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

double trace_imbalance(const double *count, int experts)
{
    double sum = 0, max = 0;
    for (int e = 0; e < experts; e++) {
        sum += count[e];
        if (count[e] > max) max = count[e];
    }
    return sum > 0 ? max / (sum / experts) : NAN;
}

double trace_entropy_bits(const double *count, int experts)
{
    double sum = 0, h = 0;
    for (int e = 0; e < experts; e++)
        sum += count[e];
    if (sum <= 0) return NAN;
    for (int e = 0; e < experts; e++)
        if (count[e] > 0) {
            double p = count[e] / sum;
            h -= p * log2(p);
        }
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Affinity between layers l and l+1. The (top-1 at l, top-1 at l+1) pairs
 * are sorted rather than counted in an experts x experts matrix, so the cost
 * follows the tokens, not experts^2. */
static double affinity(const struct trace *t, int l, uint64_t *pair)
{
    size_t n = 0;
    for (size_t i = 0; i < t->tokens; i++) {
        int a = t->expert[trace_idx(t, i, l, 0)], b = t->expert[trace_idx(t, i, l + 1, 0)];
        if (a >= 0 && b >= 0) pair[n++] = (uint64_t)a << 16 | (uint64_t)b;
    }
    if (n == 0) return NAN;
    qsort(pair, n, sizeof *pair, cmp_u64);
    /* Runs of equal pairs, grouped by predecessor: keep the largest run of
     * each predecessor (the first largest, i.e. the lowest successor id). */
    size_t hits = 0, best = 0, i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && pair[j] == pair[i])
            j++;
        if (j - i > best) best = j - i;
        if (j == n || pair[j] >> 16 != pair[i] >> 16) {
            hits += best;
            best = 0;
        }
        i = j;
    }
    return (double)hits / (double)n;
}

void trace_stats_overall(struct trace_stats *s)
{
    double imb = 0, ent = 0, aff = 0;
    int n_imb = 0, n_ent = 0, n_aff = 0;
    for (int l = 0; l < s->layers; l++) {
        const struct trace_layer_stats *x = &s->layer[l];
        if (!isnan(x->imbalance)) imb += x->imbalance, n_imb++;
        if (!isnan(x->entropy_bits)) ent += x->entropy_bits, n_ent++;
        if (!isnan(x->affinity_next)) aff += x->affinity_next, n_aff++;
    }
    s->all.imbalance = n_imb ? imb / n_imb : NAN;
    s->all.entropy_bits = n_ent ? ent / n_ent : NAN;
    s->all.affinity_next = n_aff ? aff / n_aff : NAN;
}

size_t trace_layer_counts(const struct trace *t, int layer, double *count)
{
    size_t tokens = 0;
    memset(count, 0, (size_t)t->experts * sizeof *count);
    for (size_t i = 0; i < t->tokens; i++) {
        size_t base = trace_idx(t, i, layer, 0);
        if (t->expert[base] < 0)
            continue;
        tokens++;
        for (int k = 0; k < t->topk; k++)
            count[t->expert[base + (size_t)k]] += 1;
    }
    return tokens;
}

void trace_stats_compute(const struct trace *t, struct trace_stats *s)
{
    memset(s, 0, sizeof *s);
    s->layers = t->layers;
    s->layer = xcalloc((size_t)t->layers, sizeof *s->layer);
    s->layer_id = xcalloc((size_t)t->layers, sizeof *s->layer_id);
    double *count = xmalloc((size_t)t->experts * sizeof *count);
    uint64_t *pair = xmalloc((t->tokens ? t->tokens : 1) * sizeof *pair);
    for (int l = 0; l < t->layers; l++) {
        struct trace_layer_stats *x = &s->layer[l];
        s->layer_id[l] = l;
        x->tokens = trace_layer_counts(t, l, count);
        x->imbalance = trace_imbalance(count, t->experts);
        x->entropy_bits = trace_entropy_bits(count, t->experts);
        x->affinity_next = l + 1 < t->layers ? affinity(t, l, pair) : NAN;
    }
    for (size_t i = 0; i < t->tokens; i++)
        for (int l = 0; l < t->layers; l++)
            if (t->expert[trace_idx(t, i, l, 0)] >= 0) {
                s->all.tokens++;
                break;
            }
    trace_stats_overall(s);
    free(count);
    free(pair);
}

void trace_stats_free(struct trace_stats *s)
{
    free(s->layer);
    free(s->layer_id);
    memset(s, 0, sizeof *s);
}

static void print_row(FILE *f, const char *name, const struct trace_layer_stats *x)
{
    fprintf(f, "%-6s %8zu ", name, x->tokens);
    if (isnan(x->imbalance))
        fprintf(f, "%10s %13s ", "-", "-");
    else
        fprintf(f, "%10.4f %13.4f ", x->imbalance, x->entropy_bits);
    if (isnan(x->affinity_next))
        fprintf(f, "%14s\n", "-");
    else
        fprintf(f, "%14.4f\n", x->affinity_next);
}

void trace_stats_print(FILE *f, const struct trace_stats *s)
{
    fprintf(f, "%-6s %8s %10s %13s %14s\n", "layer", "tokens", "imbalance", "entropy_bits",
            "affinity_next");
    char name[16];
    for (int l = 0; l < s->layers; l++) {
        snprintf(name, sizeof name, "%d", s->layer_id[l]);
        print_row(f, name, &s->layer[l]);
    }
    print_row(f, "all", &s->all);
}

static void csv_num(FILE *f, double v)
{
    char buf[64] = "";
    if (!isnan(v)) snprintf(buf, sizeof buf, "%.6f", v);
    trace_csv_field(f, buf);
}

static void csv_row(FILE *f, const char *name, const struct trace_layer_stats *x)
{
    char buf[32];
    trace_csv_field(f, name);
    fputc(',', f);
    snprintf(buf, sizeof buf, "%zu", x->tokens);
    trace_csv_field(f, buf);
    fputc(',', f);
    csv_num(f, x->imbalance);
    fputc(',', f);
    csv_num(f, x->entropy_bits);
    fputc(',', f);
    csv_num(f, x->affinity_next);
    fputc('\n', f);
}

int trace_stats_write_csv(FILE *f, const struct trace_stats *s)
{
    static const char *const cols[] = {"layer", "tokens", "imbalance", "entropy_bits",
                                       "affinity_next"};
    for (int c = 0; c < 5; c++) {
        if (c) fputc(',', f);
        trace_csv_field(f, cols[c]);
    }
    fputc('\n', f);
    char name[16];
    for (int l = 0; l < s->layers; l++) {
        snprintf(name, sizeof name, "%d", s->layer_id[l]);
        csv_row(f, name, &s->layer[l]);
    }
    csv_row(f, "all", &s->all);
    return ferror(f) ? -1 : 0;
}
