/* place_refine.c - `placement.refine`: local search of pairwise swaps on the
 * shared cost, after any policy.
 *
 * A move swaps the contents of two slots of one layer on different GPUs (which
 * keeps every GPU's slot count). It changes that layer's cost and, in coherent
 * mode, the next layer's, so only those are re-evaluated. Descent takes the
 * first improving swap and stops at a swap-local optimum; then, while the work
 * budget lasts (a fixed number of evaluations scaled by instance size, so the
 * result does not depend on machine speed), an iterated local search kicks the
 * best placement with a few random swaps (seeded GSL rng) and descends again,
 * keeping the result when it is cheaper.
 */
#include <stdlib.h>
#include <string.h>

#include "workloads/place_internal.h"

/* Total work budget, in evaluator inner-loop steps. */
#define PL_REFINE_WORK  3e8
#define PL_REFINE_KICKS 300

struct rs {
    struct pl_eval ev;
    int L, S, spg;
    double *lc; /* per-layer cost */
    long evals, max_evals;
};

static double swap_delta(struct rs *s, int *se, int l, int a, int b)
{
    int *row = se + (size_t)l * s->S;
    double old = s->lc[l] + (l + 1 < s->L && s->ev.pr->mode == PL_COHERENT ? s->lc[l + 1] : 0);
    int t = row[a];
    row[a] = row[b];
    row[b] = t;
    double c0 = pl_eval_layer(&s->ev, se, l), c1 = 0;
    s->evals++;
    if (l + 1 < s->L && s->ev.pr->mode == PL_COHERENT) {
        c1 = pl_eval_layer(&s->ev, se, l + 1);
        s->evals++;
    }
    double d = c0 + c1 - old;
    if (d < -1e-9 * (old > 1 ? old : 1)) {
        s->lc[l] = c0;
        if (l + 1 < s->L && s->ev.pr->mode == PL_COHERENT) s->lc[l + 1] = c1;
        return d;
    }
    row[b] = row[a];
    row[a] = t;
    return 0;
}

static void descend(struct rs *s, int *se)
{
    int improved = 1;
    while (improved && s->evals < s->max_evals) {
        improved = 0;
        for (int l = 0; l < s->L; l++)
            for (int a = 0; a < s->S; a++)
                for (int b = a + 1; b < s->S; b++) {
                    const int *row = se + (size_t)l * s->S;
                    if (a / s->spg == b / s->spg || row[a] == row[b]) continue;
                    if (s->evals >= s->max_evals) return;
                    if (swap_delta(s, se, l, a, b) < 0) improved = 1;
                }
    }
}

static double total(struct rs *s, const int *se)
{
    double c = 0;
    for (int l = 0; l < s->L; l++)
        c += s->lc[l] = pl_eval_layer(&s->ev, se, l);
    return c;
}

double pl_refine(struct pl_placement *pl, const struct pl_profile *pr, const struct pl_fabric *f,
                 gsl_rng *r)
{
    struct rs s;
    memset(&s, 0, sizeof s);
    s.L = pl->layers;
    s.S = pl->slots;
    s.spg = pl->slots_per_gpu;
    pl_eval_init(&s.ev, pr, f, s.S, s.spg);
    s.lc = xcalloc((size_t)s.L, sizeof(double));
    if (pl->gpus < 2) { /* nothing to swap */
        double c = total(&s, pl->slot_expert);
        free(s.lc);
        pl_eval_free(&s.ev);
        return c;
    }
    double work = (double)pr->experts * pr->experts + (double)pr->gpus * pr->gpus +
                  (double)pr->gpus * pr->experts + 1;
    s.max_evals = (long)(PL_REFINE_WORK / work);
    size_t n = (size_t)s.L * s.S;
    int *cur = xmalloc(sizeof(int) * n);
    memcpy(cur, pl->slot_expert, sizeof(int) * n);
    total(&s, cur);
    descend(&s, cur);
    double best = total(&s, cur);
    memcpy(pl->slot_expert, cur, sizeof(int) * n);
    for (int k = 0; k < PL_REFINE_KICKS && s.evals < s.max_evals; k++) {
        memcpy(cur, pl->slot_expert, sizeof(int) * n);
        int kicks = 2 + (int)gsl_rng_uniform_int(r, 3);
        for (int j = 0; j < kicks; j++) {
            int l = (int)gsl_rng_uniform_int(r, (unsigned long)s.L);
            int a = (int)gsl_rng_uniform_int(r, (unsigned long)s.S);
            int b = (int)gsl_rng_uniform_int(r, (unsigned long)s.S);
            int *row = cur + (size_t)l * s.S;
            int t = row[a];
            row[a] = row[b];
            row[b] = t;
        }
        total(&s, cur);
        descend(&s, cur);
        double c = total(&s, cur);
        if (c < best - 1e-9 * best) {
            best = c;
            memcpy(pl->slot_expert, cur, sizeof(int) * n);
        }
    }
    free(cur);
    free(s.lc);
    pl_eval_free(&s.ev);
    return best;
}
