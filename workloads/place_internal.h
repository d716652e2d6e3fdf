/* place_internal.h - what the placement policies share inside workloads/place*.c:
 * the token profile the shared cost is computed from, the cost evaluator, the
 * slot bookkeeping and the policy entry points. Not for callers (place.h). */
#ifndef MOESIM_PLACE_INTERNAL_H
#define MOESIM_PLACE_INTERNAL_H

#include <gsl/gsl_rng.h>

#include "workloads/place.h"

/* A trace window aggregated for the cost. Mass is counted in (token, slot)
 * units: one unit is one token's activation going to one expert.
 *   load[l][e]     units on expert e at layer l
 *   home[l][h][e]  units dispatched to e at layer l from home GPU h (standard:
 *                  all; coherent: layer 0 and tokens missing layer l-1); the
 *                  homes follow the fabric's shard rule (pl_token_home)
 *   pair[l][a][b]  l >= 1: units from expert a at l-1 to expert b at l (each of
 *                  a token's slots at l splits its unit over its slots at l-1);
 *                  the cost uses it in coherent mode, affinity in both
 *   back[h][e]     coherent: units combined from last-layer expert e to home h */
struct pl_profile {
    int layers, experts, gpus, leaves;
    enum pl_mode mode;
    double *load, *home, *pair, *back;
    double total; /* all units */
};

/* Profile of tokens [tok_begin, tok_end) of t on f's GPUs, leaves, mode and
 * token homes. */
void pl_profile_build(struct pl_profile *pr, const struct trace *t, size_t tok_begin,
                      size_t tok_end, const struct pl_fabric *f);
void pl_profile_free(struct pl_profile *pr);

static inline double *pl_home_at(const struct pl_profile *pr, int l, int h)
{
    return pr->home + ((size_t)l * pr->gpus + h) * pr->experts;
}
static inline double *pl_pair_at(const struct pl_profile *pr, int l, int a)
{
    return pr->pair + ((size_t)l * pr->experts + a) * pr->experts;
}

/* Cost evaluator with scratch space: layer costs of a placement given only its
 * slot_expert (rep_* need not be current). */
struct pl_eval {
    const struct pl_profile *pr;
    const struct pl_fabric *f;
    int slots, spg;
    int *nrep, *reps;   /* per expert of the layer being evaluated: count, GPUs */
    int *nrep2, *reps2; /* same for the previous layer */
    /* units source -> destination: [gpus][gpus] in coherent mode; in
     * standard mode one source's row at a time ([gpus], every source's
     * units being its own), its nonzero columns in nz[0, nnz) */
    double *flow;
    int *nz, nnz;
    double *load, *sent, *recv, *lout, *lin;
    double *nsent, *nrecv; /* NVLink units per GPU (gpus_per_server > 1) */
};
void pl_eval_init(struct pl_eval *ev, const struct pl_profile *pr, const struct pl_fabric *f,
                  int slots, int spg);
void pl_eval_free(struct pl_eval *ev);
/* Cost of layer l; slot_expert points at the whole placement's array. */
double pl_eval_layer(struct pl_eval *ev, const int *slot_expert, int l);
double pl_eval_total(struct pl_eval *ev, const int *slot_expert);

/* Allocates pl's arrays for the shape and fills the scalars. */
void pl_alloc(struct pl_placement *pl, int layers, int experts, int gpus, int leaves, int slots);
/* Rebuilds rep_first/rep_gpu from slot_expert. */
void pl_index(struct pl_placement *pl);

/* Balanced packing: n items with weights w into bins bins of exactly cap items
 * each (n = bins * cap), heaviest first onto the lightest bin with room; an
 * item whose group[] (may be NULL) is already in a bin avoids that bin when
 * another has room. bin_of[i] receives the bin. */
void pl_balanced_pack(int n, const double *w, const int *group, int bins, int cap, int *bin_of);
/* Writes per-bin item lists into a layer's slot row: bin b's items go to slots
 * b*cap .. b*cap+cap-1 (item i holds expert item_expert[i]). */
void pl_bins_to_slots(int n, const int *bin_of, const int *item_expert, int cap, int *row);

/* Linear assignment: row_col[i] = column of row i minimising the summed
 * cost[i * n + column] (place_assign.c). */
void pl_assign_min(int n, const double *cost, int *row_col);

/* Policies: fill pl->slot_expert (pl allocated). Return 0 or -1 with e set. */
int pl_policy_contiguous(struct pl_placement *pl);
int pl_policy_round_robin(struct pl_placement *pl);
int pl_policy_random(struct pl_placement *pl, gsl_rng *r);
int pl_policy_load_greedy(struct pl_placement *pl, const struct pl_profile *pr);
int pl_policy_eplb(struct pl_placement *pl, const struct pl_profile *pr, int replicas);
int pl_policy_affinity(struct pl_placement *pl, const struct pl_profile *pr, gsl_rng *r);
int pl_policy_moetuner(struct pl_placement *pl, const struct pl_profile *pr,
                       const struct pl_fabric *f);
int pl_policy_ilp(struct pl_placement *pl, const struct pl_profile *pr, const struct pl_fabric *f,
                  double time_limit_s, gsl_rng *r, struct err *e);
/* The ilp itself: pl_policy_ilp bounds the objective by a moetuner+refine
 * placement (refine's kicks from r); with r = NULL the program alone, GLPK
 * finding the optimum itself (what tests use to check that the cuts cut off
 * no placement). */
int pl_ilp_solve(struct pl_placement *pl, const struct pl_profile *pr, const struct pl_fabric *f,
                 double time_limit_s, gsl_rng *r, struct err *e);
/* Pairwise-swap local search on the shared cost; returns the final cost. */
double pl_refine(struct pl_placement *pl, const struct pl_profile *pr, const struct pl_fabric *f,
                 gsl_rng *r);

#endif
