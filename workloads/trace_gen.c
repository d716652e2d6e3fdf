/* trace_gen.c - the synthetic routing-trace generator (model in trace_gen.h).
 *
 * One gsl_rng (mt19937) stream, seeded once: first the per-layer rank
 * permutations, then the tokens in order, so a seed fixes the whole file.
 * Slots after the first are drawn without replacement by rejection on
 * gsl_ran_discrete, falling back to one linear draw over the experts left
 * when the popular ones keep being hit (large zipf exponents).
 */
#include "workloads/trace_gen.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REJECT_TRIES 32

struct gen {
    const struct trace_gen_params *p;
    gsl_rng *r;
    gsl_ran_discrete_t *pop;
    double *prob; /* [experts]: popularity by rank (0-based) */
    int *perm;    /* [layers * experts]: rank -> expert */
    char *used;   /* [experts]: rank taken by this token at this layer */
    int *rank;    /* [topk] */
    double *z;    /* [topk] */
};

int trace_gen_check(const struct trace_gen_params *p, struct err *e)
{
    if (p->experts < 1 || p->experts > TRACE_MAX_EXPERTS)
        return err_set(e, "--experts %d outside [1, %d]", p->experts, TRACE_MAX_EXPERTS);
    int kmax = p->experts < TRACE_MAX_TOPK ? p->experts : TRACE_MAX_TOPK;
    if (p->topk < 1 || p->topk > kmax)
        return err_set(e, "--topk %d outside [1, %d]", p->topk, kmax);
    if (p->layers < 1 || p->layers > TRACE_MAX_LAYERS)
        return err_set(e, "--layers %d outside [1, %d]", p->layers, TRACE_MAX_LAYERS);
    if (p->sequences < 1) return err_set(e, "--sequences %d: not positive", p->sequences);
    if (p->tokens < 1) return err_set(e, "--tokens %d: not positive", p->tokens);
    if ((long long)p->sequences * p->tokens > INT32_MAX)
        return err_set(e, "--sequences %d x --tokens %d: more than %d tokens", p->sequences,
                       p->tokens, INT32_MAX);
    if (!(p->zipf >= 0 && p->zipf <= 100)) return err_set(e, "--zipf %g outside [0, 100]", p->zipf);
    if (!(p->affinity >= 0 && p->affinity <= 1))
        return err_set(e, "--affinity %g outside [0, 1]", p->affinity);
    return 0;
}

void trace_gen_cmdline(const struct trace_gen_params *p, const char *out, char *buf, size_t n)
{
    snprintf(buf, n,
             "moesim trace gen --experts %d --topk %d --layers %d --sequences %d --tokens %d "
             "--seed %lu --zipf %.4f --affinity %.4f -o %s",
             p->experts, p->topk, p->layers, p->sequences, p->tokens, p->seed, p->zipf, p->affinity,
             out);
}

static void gen_init(struct gen *g, const struct trace_gen_params *p)
{
    int E = p->experts;
    g->p = p;
    g->r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g->r) err_fatal("out of memory allocating the random number generator");
    gsl_rng_set(g->r, p->seed);
    g->prob = xmalloc((size_t)E * sizeof *g->prob);
    double sum = 0;
    for (int r = 0; r < E; r++)
        sum += g->prob[r] = pow(r + 1.0, -p->zipf);
    for (int r = 0; r < E; r++)
        g->prob[r] /= sum;
    g->pop = gsl_ran_discrete_preproc((size_t)E, g->prob);
    if (!g->pop) err_fatal("out of memory building the popularity table");
    g->perm = xmalloc((size_t)p->layers * (size_t)E * sizeof *g->perm);
    for (int l = 0; l < p->layers; l++) {
        int *pl = g->perm + (size_t)l * (size_t)E;
        for (int x = 0; x < E; x++)
            pl[x] = x;
        gsl_ran_shuffle(g->r, pl, (size_t)E, sizeof *pl);
    }
    g->used = xcalloc((size_t)E, 1);
    g->rank = xmalloc((size_t)p->topk * sizeof *g->rank);
    g->z = xmalloc((size_t)p->topk * sizeof *g->z);
}

static void gen_free(struct gen *g)
{
    gsl_rng_free(g->r);
    gsl_ran_discrete_free(g->pop);
    free(g->prob);
    free(g->perm);
    free(g->used);
    free(g->rank);
    free(g->z);
}

/* A rank not yet used by the token at this layer, drawn from the popularity
 * restricted to the ranks left. */
static int draw_unused(struct gen *g)
{
    int E = g->p->experts;
    for (int i = 0; i < REJECT_TRIES; i++) {
        int r = (int)gsl_ran_discrete(g->r, g->pop);
        if (!g->used[r]) return r;
    }
    double left = 0;
    int last = -1;
    for (int r = 0; r < E; r++)
        if (!g->used[r]) {
            left += g->prob[r];
            last = r;
        }
    double u = gsl_rng_uniform(g->r) * left;
    for (int r = 0; r < E; r++)
        if (!g->used[r]) {
            if (u < g->prob[r]) return r;
            u -= g->prob[r];
        }
    return last;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* One token: expert[layers * topk] and weight[layers * topk]. */
static void gen_token(struct gen *g, int16_t *expert, float *weight)
{
    const struct trace_gen_params *p = g->p;
    int E = p->experts, K = p->topk;
    int prev = -1;
    for (int l = 0; l < p->layers; l++) {
        int r0;
        if (prev >= 0 && gsl_rng_uniform(g->r) < p->affinity)
            r0 = prev;
        else
            r0 = (int)gsl_ran_discrete(g->r, g->pop);
        g->rank[0] = r0;
        g->used[r0] = 1;
        for (int k = 1; k < K; k++) {
            g->rank[k] = draw_unused(g);
            g->used[g->rank[k]] = 1;
        }
        prev = r0;
        for (int k = 0; k < K; k++)
            g->z[k] = gsl_ran_gaussian(g->r, 1.0);
        qsort(g->z, (size_t)K, sizeof *g->z, cmp_desc);
        double sum = 0, top = g->z[0];
        for (int k = 0; k < K; k++)
            sum += g->z[k] = exp(g->z[k] - top);
        const int *pl = g->perm + (size_t)l * (size_t)E;
        for (int k = 0; k < K; k++) {
            size_t c = (size_t)l * (size_t)K + (size_t)k;
            expert[c] = (int16_t)pl[g->rank[k]];
            weight[c] = (float)(g->z[k] / sum);
            g->used[g->rank[k]] = 0;
        }
    }
}

static void gen_names(const struct trace_gen_params *p, char *model, size_t nm, char *source,
                      size_t ns)
{
    snprintf(model, nm, "synthetic-zipf");
    char cmd[512];
    trace_gen_cmdline(p, "FILE", cmd, sizeof cmd);
    /* "generated by <command>" without the "-o FILE" */
    cmd[strlen(cmd) - strlen(" -o FILE")] = '\0';
    snprintf(source, ns, "generated by %s", cmd);
}

int trace_gen(const struct trace_gen_params *p, struct trace *t, struct err *e)
{
    memset(t, 0, sizeof *t);
    if (trace_gen_check(p, e)) return -1;
    size_t n = (size_t)p->sequences * (size_t)p->tokens;
    if (trace_alloc(t, n, p->experts, p->topk, p->layers, e)) return -1;
    gen_names(p, t->model, sizeof t->model, t->source, sizeof t->source);
    struct gen g;
    gen_init(&g, p);
    for (size_t i = 0; i < n; i++) {
        t->seq[i] = (int32_t)(i / (size_t)p->tokens);
        t->pos[i] = (int32_t)(i % (size_t)p->tokens);
        size_t base = trace_idx(t, i, 0, 0);
        gen_token(&g, t->expert + base, t->weight + base);
    }
    gen_free(&g);
    return 0;
}

int trace_gen_write(const struct trace_gen_params *p, const char *path, struct err *e)
{
    if (trace_gen_check(p, e)) return -1;
    FILE *f = trace_csv_open_out(path, e);
    if (!f) return -1;
    char model[128], source[256];
    gen_names(p, model, sizeof model, source, sizeof source);
    trace_csv_write_meta(f, model, source, p->experts, p->topk, p->layers);
    size_t cells = (size_t)p->layers * (size_t)p->topk;
    int16_t *expert = xmalloc(cells * sizeof *expert);
    float *weight = xmalloc(cells * sizeof *weight);
    struct gen g;
    gen_init(&g, p);
    for (int s = 0; s < p->sequences && !ferror(f); s++)
        for (int i = 0; i < p->tokens; i++) {
            gen_token(&g, expert, weight);
            trace_csv_write_token(f, s, i, p->layers, p->topk, expert, weight);
        }
    gen_free(&g);
    free(expert);
    free(weight);
    return trace_csv_close_out(f, path, e);
}
