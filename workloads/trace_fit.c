/* trace_fit.c - fitting the generator (trace_gen.h) to a trace or to
 * per-layer counts.
 *
 * Both parameters are fitted by gsl_min (Brent) on the squared distance
 * between the closed form (trace_model.c) and the measured mean: first the
 * zipf exponent on the imbalance, then, with it fixed, the affinity. Both
 * closed forms are monotone in their parameter, so the minimum is unique; a
 * coarse grid finds the bracket Brent needs, and a target out of reach (below
 * chance, above the maximum) ends at the nearest end of the range.
 *
 * The targets are the source's measured means, finite-sample noise included:
 * a long generated trace then shows the statistics of the (short) source.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <math.h>
#include <string.h>

#include "workloads/trace_gen.h"

#define ZIPF_MAX 16.0
#define GRID     160

struct objective {
    int experts, topk;
    double zipf, target;
    int what; /* 0: imbalance of zipf, 1: affinity of a */
};

static double objective(double x, void *arg)
{
    const struct objective *o = arg;
    double v = o->what == 0 ? trace_gen_model_imbalance(o->experts, o->topk, x)
                            : trace_gen_model_affinity(o->experts, o->zipf, x);
    return (v - o->target) * (v - o->target);
}

static double minimise(struct objective *o, double lo, double hi)
{
    double best_x = lo, best_f = INFINITY, f_at[GRID + 1];
    int best = 0;
    for (int i = 0; i <= GRID; i++) {
        double x = lo + (hi - lo) * i / GRID;
        f_at[i] = objective(x, o);
        if (f_at[i] < best_f) {
            best_f = f_at[i];
            best_x = x;
            best = i;
        }
    }
    if (best == 0 || best == GRID || !(f_at[best] < f_at[best - 1]) ||
        !(f_at[best] < f_at[best + 1]))
        return best_x;
    gsl_function F = {objective, o};
    gsl_min_fminimizer *m = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
    if (!m) err_fatal("out of memory allocating a minimiser");
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    double a = lo + (hi - lo) * (best - 1) / GRID, b = lo + (hi - lo) * (best + 1) / GRID;
    double x = best_x;
    if (gsl_min_fminimizer_set_with_values(m, &F, x, f_at[best], a, f_at[best - 1], b,
                                           f_at[best + 1]) == GSL_SUCCESS) {
        for (int it = 0; it < 100; it++) {
            if (gsl_min_fminimizer_iterate(m) != GSL_SUCCESS) break;
            x = gsl_min_fminimizer_x_minimum(m);
            a = gsl_min_fminimizer_x_lower(m);
            b = gsl_min_fminimizer_x_upper(m);
            if (gsl_min_test_interval(a, b, 1e-7, 0) == GSL_SUCCESS) break;
        }
    }
    gsl_set_error_handler(old);
    gsl_min_fminimizer_free(m);
    return x;
}

int trace_fit_stats(int experts, int topk, int layers, double imbalance, double affinity,
                    struct trace_fit *f, struct err *e)
{
    memset(f, 0, sizeof *f);
    if (experts < 1 || experts > TRACE_MAX_EXPERTS || topk < 1 || topk > experts ||
        topk > TRACE_MAX_TOPK || layers < 1 || layers > TRACE_MAX_LAYERS)
        return err_set(e, "cannot fit: experts %d, topk %d, layers %d out of bounds", experts, topk,
                       layers);
    if (!isfinite(imbalance)) return err_set(e, "cannot fit: no imbalance measured");
    f->experts = experts;
    f->topk = topk;
    f->layers = layers;
    f->target_imbalance = imbalance;
    f->target_affinity = affinity;
    struct objective o = {experts, topk, 0, imbalance, 0};
    f->zipf = minimise(&o, 0, ZIPF_MAX);
    f->model_imbalance = trace_gen_model_imbalance(experts, topk, f->zipf);
    if (isfinite(affinity)) {
        o.what = 1;
        o.zipf = f->zipf;
        o.target = affinity;
        f->affinity = minimise(&o, 0, 1);
    }
    f->model_affinity = trace_gen_model_affinity(experts, f->zipf, f->affinity);
    return 0;
}

int trace_fit_trace(const struct trace *t, struct trace_fit *f, struct err *e)
{
    struct trace_stats s;
    trace_stats_compute(t, &s);
    int rc =
        trace_fit_stats(t->experts, t->topk, t->layers, s.all.imbalance, s.all.affinity_next, f, e);
    f->tokens = s.all.tokens;
    trace_stats_free(&s);
    return rc;
}

int trace_fit_counts(const struct trace_counts *c, int topk, struct trace_fit *f, struct err *e)
{
    struct trace_stats s;
    trace_counts_stats(c, topk, &s);
    int rc = trace_fit_stats(c->experts, topk, c->layers, s.all.imbalance, NAN, f, e);
    f->tokens = s.all.tokens;
    trace_stats_free(&s);
    return rc;
}
