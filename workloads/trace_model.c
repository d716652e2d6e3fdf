/* trace_model.c - closed forms of the generator's statistics with infinitely
 * many tokens (trace_gen.h), used by the fit.
 *
 * Imbalance. Every layer's top-1 is Zipf(s) over ranks and the other slots
 * are drawn without replacement, so a token's expert set is a successive
 * sample of size K from the popularity p. Successive sampling is an
 * exponential race (expert j arrives at X_j ~ Exp(rate p_j), the first K
 * arrivals are chosen), so the inclusion probability of the rank-1 expert is
 *   pi_1 = int_0^inf p_1 e^{-p_1 t} P(fewer than K of the others arrived by t) dt,
 * the inner probability a Poisson-binomial tail computed by dynamic
 * programming, the integral by gsl_integration_qagiu. The expected counts are
 * pi_e * tokens, their mean K * tokens / E, so imbalance = E * pi_1 / K.
 *
 * Affinity. A token of top-1 rank r at l has its top-1 at l+1 at rank r with
 * probability a + (1-a) p_r and at rank q != r with (1-a) p_q; the most
 * frequent successor is the larger of rank r and rank 1, so
 *   affinity = sum_r p_r max(a + (1-a) p_r, (1-a) p_1),
 * which is p_1 (chance) at a = 0 and 1 at a = 1.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdlib.h>

#include "workloads/trace_gen.h"

static double *zipf_prob(int experts, double zipf)
{
    double *p = xmalloc((size_t)experts * sizeof *p), sum = 0;
    for (int r = 0; r < experts; r++)
        sum += p[r] = pow(r + 1.0, -zipf);
    for (int r = 0; r < experts; r++)
        p[r] /= sum;
    return p;
}

struct race {
    const double *p;
    int experts, topk;
    double *dp; /* [topk] */
};

/* p_1 e^{-p_1 t} P(at most K-1 of experts 2..E arrived by t) */
static double race_integrand(double t, void *arg)
{
    struct race *R = arg;
    int K = R->topk;
    for (int c = 0; c < K; c++)
        R->dp[c] = 0;
    R->dp[0] = 1;
    for (int j = 1; j < R->experts; j++) {
        double q = -expm1(-R->p[j] * t); /* arrived by t */
        for (int c = K - 1; c > 0; c--)
            R->dp[c] = R->dp[c] * (1 - q) + R->dp[c - 1] * q;
        R->dp[0] *= 1 - q;
    }
    double tail = 0;
    for (int c = 0; c < K; c++)
        tail += R->dp[c];
    return R->p[0] * exp(-R->p[0] * t) * tail;
}

double trace_gen_model_imbalance(int experts, int topk, double zipf)
{
    if (topk >= experts) return 1.0;
    double *p = zipf_prob(experts, zipf);
    double pi1;
    if (topk == 1) {
        pi1 = p[0];
    } else {
        struct race R = {p, experts, topk, xmalloc((size_t)topk * sizeof(double))};
        gsl_function F = {race_integrand, &R};
        gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
        if (!w) err_fatal("out of memory allocating an integration workspace");
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        double abserr;
        gsl_integration_qagiu(&F, 0, 1e-12, 1e-10, 1000, w, &pi1, &abserr);
        gsl_set_error_handler(old);
        gsl_integration_workspace_free(w);
        free(R.dp);
        if (pi1 > 1) pi1 = 1;
    }
    free(p);
    return experts * pi1 / topk;
}

double trace_gen_model_affinity(int experts, double zipf, double affinity)
{
    double *p = zipf_prob(experts, zipf), a = affinity, sum = 0;
    for (int r = 0; r < experts; r++)
        sum += p[r] * fmax(a + (1 - a) * p[r], (1 - a) * p[0]);
    free(p);
    return sum;
}
