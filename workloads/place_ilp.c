/* place_ilp.c - the exact placement: the shared cost (place_cost.c) as a mixed
 * integer program solved by GLPK (glp_intopt, MIP presolve on, tm_lim).
 *
 * Binaries x[l][e][g]: expert e of layer l on GPU g; every expert on one GPU,
 * slots_per_gpu experts on every GPU (no replicas). Per layer l, continuous
 * C_l (max GPU load) and N_l (max transfer time, us) linearise the maxima:
 *   C_l >= sum_e load[l][e] x[l][e][g]                          for every g
 *   N_l >= k_gpu * sent_g,  N_l >= k_gpu * recv_g               for every g
 *   N_l >= k_leaf * out_v,  N_l >= k_leaf * in_v                for every leaf v
 * with k = 8 * bytes_per_token / (Gb/s * 1e3), minimising
 * sum_l w_compute * compute_us_per_token * C_l + w_network * N_l.
 * Standard mode's traffic is linear in x: GPU g sends its home tokens to
 * experts elsewhere and returns the tokens of its experts to other homes,
 *   sent_g = recv_g = H_g + sum_e (load[l][e] - 2 H[l][g][e]) x[l][e][g],
 * and the same with leaf sums X[l][e][v] = sum_{g in v} x[l][e][g].
 * Coherent mode's layer-to-layer traffic is quadratic; it is linearised with
 * continuous z[a][b][g] <= x[l-1][a][g], z <= x[l][b][g] (same-GPU share of
 * the a -> b tokens), so out_g = sum_a P_a x[l-1][a][g] - sum_ab P_ab z_abg.
 * Minimisation pushes z up to the product, so the program's optimum is the
 * cost's; leaves get w[a][b][v] the same way. Home dispatch of layer 0 and the
 * last layer's combine are linear.
 *
 * A heuristic placement (moetuner + refine) bounds the objective from above
 * (one row: objective <= its cost), which prunes like an incumbent and is the
 * answer if the time limit strikes before GLPK finds a better one. The result
 * records whether GLPK proved optimality, the best bound and the gap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "workloads/place_internal.h"

struct row {
    int n, cap;
    int *ind;
    double *val;
};

static void row_add(struct row *r, int col, double v)
{
    if (v == 0) return;
    if (r->n + 2 > r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->ind = xrealloc(r->ind, sizeof(int) * (size_t)r->cap);
        r->val = xrealloc(r->val, sizeof(double) * (size_t)r->cap);
    }
    r->n++;
    r->ind[r->n] = col;
    r->val[r->n] = v;
}

/* Adds row "sum >= lo" (or "= lo" when eq) and empties r. */
static void row_put(glp_prob *lp, struct row *r, int type, double lo, double up)
{
    int i = glp_add_rows(lp, 1);
    glp_set_row_bnds(lp, i, type, lo, up);
    glp_set_mat_row(lp, i, r->n, r->ind, r->val);
    r->n = 0;
}

static int new_col(glp_prob *lp, int kind, double lo, double up, double obj)
{
    int j = glp_add_cols(lp, 1);
    glp_set_col_kind(lp, j, kind);
    if (kind != GLP_BV) glp_set_col_bnds(lp, j, up > lo ? GLP_DB : GLP_LO, lo, up);
    glp_set_obj_coef(lp, j, obj);
    return j;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Sum of the k smallest of v[0..n) (sorts v). */
static double smallest_sum(double *v, int n, int k)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    double s = 0;
    for (int i = 0; i < k && i < n; i++)
        s += v[i];
    return s;
}

/* Coherent mode's received units at GPU g, split as const + sum_e coef_e x_eg
 * minus what stays on g; what expert b keeps from layer l-1 is at most its m
 * largest incoming pair masses (only m experts of l-1 share g). */
static double coh_recv_coef(const struct pl_profile *pr, int l, int b, int g, int m, double *pin,
                            double *cst)
{
    int E = pr->experts, G = pr->gpus;
    double Hcol = 0, Hin = pl_home_at(pr, l, g)[b], Kin = 0, in = 0;
    for (int h = 0; h < G; h++)
        Hcol += pl_home_at(pr, l, h)[b];
    if (l == pr->layers - 1) Kin = pr->back[(size_t)g * E + b];
    double top = 0;
    if (l > 0) {
        for (int a = 0; a < E; a++)
            pin[a] = -pl_pair_at(pr, l, a)[b];
        top = -smallest_sum(pin, E, m);
        for (int a = 0; a < E; a++)
            in += pl_pair_at(pr, l, a)[b];
    }
    *cst = Kin;
    return (Hcol - Hin) - Kin + in - top;
}

/* N_l >= k * sum_g x[l][b][g] * (lower bound of recv_g when b is on g). */
static void coherent_recv_cut(glp_prob *lp, struct row *rw, const struct pl_profile *pr, int l,
                              int b, int m, double k, const int *x, int ncol, double *tmp)
{
    int E = pr->experts, G = pr->gpus;
    double *v = xmalloc(sizeof(double) * (size_t)E), *scratch = xmalloc(sizeof(double) * E);
    row_add(rw, ncol, 1);
    for (int g = 0; g < G; g++) {
        double cst = 0, c = 0;
        int n = 0;
        for (int o = 0; o < E; o++) {
            double co = coh_recv_coef(pr, l, o, g, m, scratch, &c);
            cst += c;
            if (o == b)
                tmp[0] = co;
            else
                v[n++] = co;
        }
        double lb = cst + tmp[0] + smallest_sum(v, n, m - 1);
        row_add(rw, x[((size_t)l * E + b) * G + g], -k * lb);
    }
    row_put(lp, rw, GLP_LO, 0, 0);
    free(v);
    free(scratch);
}

struct cbinfo {
    double bound;
};

static void callback(glp_tree *t, void *info)
{
    struct cbinfo *ci = info;
    int b = glp_ios_best_node(t);
    if (b) ci->bound = glp_ios_node_bound(t, b);
}

int pl_policy_ilp(struct pl_placement *pl, const struct pl_profile *pr, const struct pl_fabric *f,
                  double time_limit_s, gsl_rng *r, struct err *e)
{
    int L = pl->layers, E = pl->experts, G = pl->gpus, Lv = pl->leaves, m = pl->slots_per_gpu;
    int gpl = G / Lv;
    double kg = 8 * f->bytes_per_token / (f->gpu_gbps * 1e3);
    double kl = Lv > 1 ? 8 * f->bytes_per_token / (f->leaf_uplink_gbps * 1e3) : 0;
    double wc = f->w_compute * f->compute_us_per_token, wn = f->w_network;

    /* The heuristic upper bound (refine's kicks from the placement stream). */
    pl_policy_moetuner(pl, pr, f);
    double ub = pl_refine(pl, pr, f, r);

    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    int *x = xmalloc(sizeof(int) * (size_t)L * E * G);
#define X(l, e, g) x[((size_t)(l)*E + (e)) * G + (g)]
    for (int l = 0; l < L; l++)
        for (int ee = 0; ee < E; ee++)
            for (int g = 0; g < G; g++)
                X(l, ee, g) = new_col(lp, GLP_BV, 0, 1, 0);
    int *C = xmalloc(sizeof(int) * (size_t)L), *N = xmalloc(sizeof(int) * (size_t)L);
    for (int l = 0; l < L; l++) {
        C[l] = new_col(lp, GLP_CV, 0, 0, wc);
        N[l] = new_col(lp, GLP_CV, 0, 0, wn);
    }
    struct row rw = {0};
    for (int l = 0; l < L; l++) {
        for (int ee = 0; ee < E; ee++) {
            for (int g = 0; g < G; g++)
                row_add(&rw, X(l, ee, g), 1);
            row_put(lp, &rw, GLP_FX, 1, 1);
        }
        for (int g = 0; g < G; g++) {
            for (int ee = 0; ee < E; ee++)
                row_add(&rw, X(l, ee, g), 1);
            row_put(lp, &rw, GLP_FX, m, m);
            row_add(&rw, C[l], 1);
            for (int ee = 0; ee < E; ee++)
                row_add(&rw, X(l, ee, g), -pr->load[(size_t)l * E + ee]);
            row_put(lp, &rw, GLP_LO, 0, 0);
        }
    }
    /* Per-expert cuts: the GPU g holding expert e also holds m - 1 others, so
     * its load is at least load_e + the m - 1 smallest other loads, and in
     * standard mode its traffic at least its constant + e's coefficient + the
     * m - 1 smallest other coefficients. Valid for binaries; they lift the
     * relaxation's bound from the fractional spread towards the integer one. */
    double *tmp = xmalloc(sizeof(double) * (size_t)E);
    for (int l = 0; l < L; l++) {
        const double *ld = pr->load + (size_t)l * E;
        for (int ee = 0; ee < E; ee++) {
            int n = 0;
            for (int o = 0; o < E; o++)
                if (o != ee) tmp[n++] = ld[o];
            row_add(&rw, C[l], 1);
            double lb = ld[ee] + smallest_sum(tmp, n, m - 1);
            for (int g = 0; g < G; g++)
                row_add(&rw, X(l, ee, g), -lb);
            row_put(lp, &rw, GLP_LO, 0, 0);
            if (pr->mode != PL_STANDARD) {
                coherent_recv_cut(lp, &rw, pr, l, ee, m, kg, x, N[l], tmp);
                continue;
            }
            row_add(&rw, N[l], 1);
            for (int g = 0; g < G; g++) {
                const double *H = pl_home_at(pr, l, g);
                double hg = 0;
                n = 0;
                for (int o = 0; o < E; o++) {
                    hg += H[o];
                    if (o != ee) tmp[n++] = ld[o] - 2 * H[o];
                }
                row_add(&rw, X(l, ee, g),
                        -kg * (hg + ld[ee] - 2 * H[ee] + smallest_sum(tmp, n, m - 1)));
            }
            row_put(lp, &rw, GLP_LO, 0, 0);
        }
    }
    free(tmp);
    /* Traffic rows for one "unit": a GPU (n = 1, first = g) or a leaf. */
    double *coef_s = xmalloc(sizeof(double) * (size_t)E), *coef_r = xmalloc(sizeof(double) * E);
    double *pin = xcalloc((size_t)E, sizeof(double)), *pout = xcalloc((size_t)E, sizeof(double));
    int *zc = xmalloc(sizeof(int) * (size_t)E * E);
    for (int l = 0; l < L; l++) {
        int coh = pr->mode == PL_COHERENT, last = l == L - 1;
        if (coh && l > 0) {
            memset(pin, 0, sizeof(double) * (size_t)E);
            memset(pout, 0, sizeof(double) * (size_t)E);
            for (int a = 0; a < E; a++)
                for (int b = 0; b < E; b++) {
                    pout[a] += pl_pair_at(pr, l, a)[b];
                    pin[b] += pl_pair_at(pr, l, a)[b];
                }
        }
        for (int kind = 0; kind < (Lv > 1 ? 2 : 1); kind++) {
            int units = kind ? Lv : G, width = kind ? gpl : 1;
            double k = kind ? kl : kg;
            for (int u = 0; u < units; u++) {
                int g0 = u * width;
                double const_s = 0, const_r = 0;
                for (int ee = 0; ee < E; ee++) {
                    double Hin = 0, Hcol = 0, Kin = 0, Kcol = 0;
                    for (int h = 0; h < G; h++) {
                        double hv = pl_home_at(pr, l, h)[ee];
                        double kv = coh && last ? pr->back[(size_t)h * E + ee] : 0;
                        Hcol += hv;
                        Kcol += kv;
                        if (h >= g0 && h < g0 + width) {
                            Hin += hv;
                            Kin += kv;
                        }
                    }
                    if (!coh) {
                        coef_s[ee] = coef_r[ee] = pr->load[(size_t)l * E + ee] - 2 * Hin;
                        const_s += Hin;
                    } else {
                        coef_s[ee] = -Hin + (Kcol - Kin);
                        coef_r[ee] = (Hcol - Hin) - Kin + (l > 0 ? pin[ee] : 0);
                        const_s += Hin;
                        const_r += Kin;
                    }
                }
                if (!coh) {
                    const_r = const_s;
                }
                /* z columns for this unit's layer-to-layer pairs. */
                int nz = 0;
                if (coh && l > 0)
                    for (int a = 0; a < E; a++)
                        for (int b = 0; b < E; b++) {
                            double p = pl_pair_at(pr, l, a)[b];
                            zc[a * E + b] = 0;
                            if (p <= 0) continue;
                            int z = new_col(lp, GLP_CV, 0, 1, 0);
                            zc[a * E + b] = z;
                            nz++;
                            row_add(&rw, z, -1);
                            for (int g = g0; g < g0 + width; g++)
                                row_add(&rw, X(l - 1, a, g), 1);
                            row_put(lp, &rw, GLP_LO, 0, 0);
                            row_add(&rw, z, -1);
                            for (int g = g0; g < g0 + width; g++)
                                row_add(&rw, X(l, b, g), 1);
                            row_put(lp, &rw, GLP_LO, 0, 0);
                        }
                /* At most cap experts share the unit: sum_b z_ab <= cap X_a and
                 * sum_a z_ab <= cap X_b, valid for binaries and much tighter
                 * than z <= x alone in the relaxation. */
                if (nz) {
                    for (int a = 0; a < E; a++) {
                        for (int b = 0; b < E; b++)
                            if (zc[a * E + b]) row_add(&rw, zc[a * E + b], -1);
                        if (rw.n == 0) continue;
                        for (int g = g0; g < g0 + width; g++)
                            row_add(&rw, X(l - 1, a, g), m * width);
                        row_put(lp, &rw, GLP_LO, 0, 0);
                    }
                    for (int b = 0; b < E; b++) {
                        for (int a = 0; a < E; a++)
                            if (zc[a * E + b]) row_add(&rw, zc[a * E + b], -1);
                        if (rw.n == 0) continue;
                        for (int g = g0; g < g0 + width; g++)
                            row_add(&rw, X(l, b, g), m * width);
                        row_put(lp, &rw, GLP_LO, 0, 0);
                    }
                }
                for (int dir = 0; dir < 2; dir++) {
                    const double *cf = dir ? coef_r : coef_s;
                    row_add(&rw, N[l], 1);
                    for (int ee = 0; ee < E; ee++)
                        for (int g = g0; g < g0 + width; g++)
                            row_add(&rw, X(l, ee, g), -k * cf[ee]);
                    if (nz) {
                        for (int a = 0; a < E; a++)
                            for (int g = g0; g < g0 + width; g++) {
                                if (dir == 0) row_add(&rw, X(l - 1, a, g), -k * pout[a]);
                            }
                        for (int a = 0; a < E; a++)
                            for (int b = 0; b < E; b++)
                                if (zc[a * E + b])
                                    row_add(&rw, zc[a * E + b], k * pl_pair_at(pr, l, a)[b]);
                    }
                    row_put(lp, &rw, GLP_LO, k * (dir ? const_r : const_s), 0);
                }
            }
        }
    }
    /* Objective <= the heuristic's cost. */
    for (int l = 0; l < L; l++) {
        row_add(&rw, C[l], wc);
        row_add(&rw, N[l], wn);
    }
    row_put(lp, &rw, GLP_UP, 0, ub * (1 + 1e-9) + 1e-9);

    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
    parm.msg_lev = GLP_MSG_OFF;
    double ms = time_limit_s * 1000;
    parm.tm_lim = ms > 2e9 ? 2000000000 : (int)ms;
    struct cbinfo ci = {.bound = -HUGE_VAL};
    parm.cb_func = callback;
    parm.cb_info = &ci;
    int rc = glp_intopt(lp, &parm);
    int st = glp_mip_status(lp);
    int ok = 0;
    if ((rc == 0 || rc == GLP_ETMLIM) && (st == GLP_OPT || st == GLP_FEAS)) {
        for (int l = 0; l < L; l++) {
            int fill[G];
            memset(fill, 0, sizeof fill);
            for (int ee = 0; ee < E; ee++)
                for (int g = 0; g < G; g++)
                    if (glp_mip_col_val(lp, X(l, ee, g)) > 0.5)
                        pl->slot_expert[(size_t)l * pl->slots + g * m + fill[g]++] = ee;
        }
        ok = 1;
    }
    if (rc == 0 && st == GLP_OPT) {
        pl->ilp_status = PL_ILP_OPTIMAL;
        pl->ilp_bound = glp_mip_obj_val(lp);
        pl->ilp_gap = 0;
    } else if ((rc == 0 && st == GLP_NOFEAS) || rc == GLP_ENOPFS) {
        /* Nothing at or below the heuristic's cost (the relaxation itself may
         * be infeasible, found by presolve): the heuristic is optimal, up to
         * the 1e-9 margin of the bounding row. */
        pl->ilp_status = PL_ILP_OPTIMAL;
        pl->ilp_bound = ub;
        pl->ilp_gap = 0;
    } else if (rc == GLP_ETMLIM || rc == 0) {
        pl->ilp_status = PL_ILP_FEASIBLE;
        double best = ok ? glp_mip_obj_val(lp) : ub;
        /* NAN: the time ran out before the search tree had a bound. */
        pl->ilp_bound = ci.bound > -HUGE_VAL ? ci.bound : NAN;
        pl->ilp_gap = best > 0 ? (best - pl->ilp_bound) / best : NAN;
    }
    int status = rc == 0 || rc == GLP_ETMLIM || rc == GLP_ENOPFS
                     ? 0
                     : err_set(e, "placement.policy: ilp: GLPK failed (glp_intopt code %d)", rc);
#undef X
    free(rw.ind);
    free(rw.val);
    free(x);
    free(C);
    free(N);
    free(coef_s);
    free(coef_r);
    free(pin);
    free(pout);
    free(zc);
    glp_delete_prob(lp);
    return status;
}
