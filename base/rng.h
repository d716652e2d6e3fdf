/* rng.h - random streams by purpose: every random draw of a run comes from a
 * stream whose seed is derived from (the run's seed, the purpose, a salt).
 *
 * A run has two seeds (docs/results.md, "Which seed moves what"): sim.seed
 * for the network's choices and workload.seed (default: sim.seed) for the
 * traffic. Each consumer asks for its own purpose, so two consumers never
 * share a stream even when their seeds are equal: before this, the random
 * placement and `moesim trace gen` both seeded MT19937 with 1 and drew the
 * same permutations, so a trace's hot experts all landed on one GPU.
 *
 * rng_seed mixes with splitmix64's finalizer (Steele, Lea, Flood, "Fast
 * splittable pseudorandom number generators", OOPSLA 2014), a bijection of
 * 64-bit words with full avalanche: rng_seed(s, p, salt) =
 * mix(mix(mix(s) ^ p) ^ salt). For a fixed purpose and salt it maps run
 * seeds one to one; the streams of two purposes (or salts) of one seed are
 * as unrelated as those of two unrelated seeds. The derived seeds are part
 * of the results: changing this function changes every digest.
 */
#ifndef MOESIM_RNG_H
#define MOESIM_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* What a stream is for. The numbers are part of the derivation: append new
 * purposes, never renumber. */
enum rng_purpose {
    RNG_TRACE = 1,       /* workload.seed: the MoE replay's pass offsets over the trace */
    RNG_PLACEMENT = 2,   /* workload.seed: random placement, affinity, refine, the ilp's bound */
    RNG_PERMUTATION = 3, /* workload.seed: the permutation workload's pairing */
    RNG_NET_HASH = 4,    /* sim.seed: the engine's flow hash (ecmp, split's subflows) */
    RNG_NET_SPRAY = 5,   /* sim.seed: the engine's spraying draws (spray) */
    RNG_FAULTS = 6,      /* sim.seed: the links faults.random_down and random_degraded take */
    RNG_ALLTOALLV = 7,   /* workload.seed: the alltoallv workload's pair sizes */
    RNG_NET_ECN =
        16, /* sim.seed: the switches' ECN marking draws (switch.ecn_pmax < 1 or kmin < kmax) */
};

/* splitmix64's finalizer: a bijection of 64-bit words. */
static inline uint64_t rng_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The seed of purpose p's stream for run seed `seed`; salt tells apart
 * several streams of one purpose in one run (the engine's network phases);
 * 0 when there is one. */
uint64_t rng_seed(uint64_t seed, enum rng_purpose p, uint64_t salt);

/* Seeds GSL generator r with rng_seed(seed, p, salt), folded to the 32 bits
 * MT19937 takes (gsl_rng_set keeps only the low 32 of an mt19937 seed). */
void rng_set(gsl_rng *r, uint64_t seed, enum rng_purpose p, uint64_t salt);

/* A new MT19937 generator seeded by rng_set; gsl_rng_free releases it. */
gsl_rng *rng_alloc(uint64_t seed, enum rng_purpose p, uint64_t salt);

#endif
