/* place.h - expert placement: for each MoE layer, which GPU(s) hold each expert.
 *
 * A placement gives every layer S = experts + replicas slots, slots_per_gpu =
 * S / gpus of them on each GPU: slot s of a layer lives on GPU s / slots_per_gpu
 * and holds one expert. An expert with several slots in a layer is replicated.
 * Policies: PL_POLICY_LIST below (README-placement.md says what each does);
 * `refine` runs a pairwise-swap local search on the shared cost after any of
 * them.
 *
 * Replica rule (a pure function, pl_gpu_of): a token that comes from a GPU
 * holding a replica of the expert uses that replica; otherwise it uses replica
 * number (token mod replica count), replicas ordered by GPU. With one replica
 * the expert's only GPU is returned.
 *
 * Token homes: in both ep modes a token's home GPU is its shard under a
 * contiguous split of the evaluated tokens over the GPUs (pl_home_gpu).
 *
 * The shared cost (pl_cost, place_cost.c) sums over layers
 *   w_compute * max_g load_g * compute_us_per_token
 *   + w_network * max( max_g max(sent_g, recv_g) * 8 / gpu_gbps,
 *                      max_leaf max(out, in) * 8 / leaf_uplink_gbps )   [us]
 * where load_g counts (token, expert) assignments on GPU g and the traffic is
 *   standard: dispatch home -> expert GPU and combine back, bytes_per_token
 *             per (token, slot) whose expert is off the home GPU;
 *   coherent: a token's activation moves from each of its layer l-1 expert
 *             GPUs to each of its layer l expert GPUs (topk^2 pairs, 1/topk of
 *             bytes_per_token each); layer 0 (and a layer whose previous layer
 *             is missing for the token) is dispatched from home, and the last
 *             layer's outputs are combined back home.
 * Replicated experts enter the cost by expectation: traffic whose source GPU
 * holds a replica stays there, the rest splits evenly over the replicas.
 */
#ifndef MOESIM_PLACE_H
#define MOESIM_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "workloads/trace.h"

enum pl_mode { PL_STANDARD = 0, PL_COHERENT = 1 };

/* The fabric and cost weights a placement is scored on. GPUs are split evenly
 * over leaves (GPU g on leaf g / (gpus / leaves)). */
struct pl_fabric {
    int gpus, leaves;
    double gpu_gbps;             /* per GPU and direction */
    double leaf_uplink_gbps;     /* total per leaf and direction */
    double bytes_per_token;      /* one token's activation */
    double compute_us_per_token; /* per (token, expert) */
    double w_compute, w_network;
    enum pl_mode mode;
};

/* Defaults: 1 leaf, 400 Gb/s GPUs, leaf uplink = gpus per leaf x 400 Gb/s,
 * 8 KiB per token (hidden 4096, bf16), 0.5 us per token-expert, weights 1. */
void pl_fabric_default(struct pl_fabric *f, int gpus, int leaves);

struct pl_params {
    int replicas;            /* extra slots per layer (eplb only) */
    int refine;              /* run the swap local search after the policy */
    uint64_t seed;           /* workload.seed: random, affinity, refine, ilp's bound (the
                                RNG_PLACEMENT stream of it, base/rng.h) */
    double ilp_time_limit_s; /* ilp: GLPK's tm_lim */
};

enum pl_ilp_status { PL_ILP_NONE = 0, PL_ILP_OPTIMAL, PL_ILP_FEASIBLE };

struct pl_placement {
    int layers, experts, gpus, leaves, slots_per_gpu, slots; /* slots = per layer */
    int *slot_expert;                                        /* [layers * slots] */
    int *rep_first; /* [layers * experts + 1]: index into rep_gpu */
    int *rep_gpu;   /* [layers * slots]: per (layer, expert) its GPUs, ascending */
    /* What the computation reported. */
    char policy[32];
    double cost_policy; /* shared cost on the training tokens after the policy */
    double cost;        /* ... and after refine (= cost_policy without refine) */
    enum pl_ilp_status ilp_status;
    double ilp_gap;   /* relative MIP gap (0 when proven optimal; NAN: no bound) */
    double ilp_bound; /* best proven lower bound of the cost (NAN: none yet) */
};

/* The placement policies, written once: X(name, replicates, note) for each,
 * SEP between two, in the order of placement.policy's choices (the option's
 * value is the index here). `replicates`: whether the policy can fill
 * placement.replicas extra slots; `note`: what the option's help says of it.
 * The choices string, that help, `moesim place`'s usage and errors,
 * pl_policies[] (the name -> function table of place.c) and validation all
 * come from this list; tests/test_place.c checks that README-placement.md's
 * table has each. */
#define PL_POLICY_LIST(X, SEP)                                                                     \
    X(contiguous, 1, " (e on GPU e*G/E)")                                                          \
    SEP X(round_robin, 1, "")                                                                      \
    SEP X(random, 1, "")                                                                           \
    SEP X(load_greedy, 0, " (LPT by load)")                                                        \
    SEP X(eplb, 1, " (DeepSeek, with replicas)")                                                   \
    SEP X(affinity, 0, " (ExFlow)")                                                                \
    SEP X(moetuner, 0, " (two-stage)")                                                             \
    SEP X(ilp, 0, " (GLPK, exact)")

#define PL_NAME_(name, rep, note)  #name
#define PL_NOTE_(name, rep, note)  #name note
#define PL_COUNT_(name, rep, note) +1
/* "contiguous|round_robin|...|ilp", a string literal: the option's choices. */
#define PL_POLICY_CHOICES PL_POLICY_LIST(PL_NAME_, "|")
/* "contiguous (e on GPU e*G/E), round_robin, ...": the help's list. */
#define PL_POLICY_HELP PL_POLICY_LIST(PL_NOTE_, ", ")
enum { PL_NPOLICIES = 0 PL_POLICY_LIST(PL_COUNT_, ) };

struct pl_run;
struct pl_policy {
    const char *name;
    int (*fn)(struct pl_placement *out, const struct pl_run *r); /* place.c */
    int replicates;
};
/* Indexed like placement.policy's choices. */
extern const struct pl_policy pl_policies[PL_NPOLICIES];
/* The policy named `name`, or NULL. */
const struct pl_policy *pl_policy_find(const char *name);

/* Computes a placement with `policy` on tokens [tok_begin, tok_end) of train
 * (the profile). Returns 0, or -1 with e naming the option and the reason
 * ("placement.policy: unknown policy 'x' (...)"). out is zeroed first; free it
 * with pl_free. */
int pl_compute(const char *policy, const struct trace *train, size_t tok_begin, size_t tok_end,
               const struct pl_fabric *f, const struct pl_params *p, struct pl_placement *out,
               struct err *e);
void pl_free(struct pl_placement *pl);

/* The GPU serving (layer, expert) for `token` coming from GPU from_gpu (-1:
 * unknown). The replica rule in the header comment; -1 for expert < 0. */
int pl_gpu_of(const struct pl_placement *pl, int layer, int expert, int from_gpu, size_t token);
/* Number of replicas of (layer, expert) and the i-th one's GPU. */
int pl_replicas(const struct pl_placement *pl, int layer, int expert);
int pl_replica_gpu(const struct pl_placement *pl, int layer, int expert, int i);

/* Home GPU of token index i among n evaluated tokens: floor(i * gpus / n). */
int pl_home_gpu(size_t i, size_t n, int gpus);
/* Leaf of GPU g. */
int pl_leaf_of(int g, int gpus, int leaves);

/* The shared cost of pl on tokens [tok_begin, tok_end) of t (header comment). */
double pl_cost(const struct pl_placement *pl, const struct trace *t, size_t tok_begin,
               size_t tok_end, const struct pl_fabric *f);

/* Token-level statistics on tokens [tok_begin, tok_end) (pl_gpu_of decides
 * every token's GPU; in coherent mode a token comes from the GPU of its slot-0
 * expert of the previous layer, or from home). */
struct pl_stats {
    int layers;
    double *max_load, *mean_load; /* [layers]: token-expert assignments per GPU */
    double max_over_mean;         /* mean over layers of max/mean (layers with load) */
    double transfers;             /* counted transfers (mode's definition) */
    double cross_gpu, cross_leaf; /* fractions of transfers crossing a GPU / a leaf */
    double cost;                  /* pl_cost */
};
void pl_evaluate(const struct pl_placement *pl, const struct trace *t, size_t tok_begin,
                 size_t tok_end, const struct pl_fabric *f, struct pl_stats *s);
void pl_stats_free(struct pl_stats *s);

#endif
