/* ecmp.h - the ECMP hash every engine uses, so that a message's flows take
 * the same equal-cost paths whichever engine simulates them.
 *
 * A message's key mixes the engine's hash seed (rng_seed of sim.seed,
 * RNG_NET_HASH and the phase's salt), its endpoints and its number among
 * the messages added since the engine's last reset; flow j of the message
 * (j > 0 only for path = split) takes path eng_ecmp_path(key, j, npaths).
 *
 * That path number names a whole path (topo/route.c), but only its first
 * switch's digit is the flow's choice: on fabrics whose later switches have
 * a choice too (a fat-tree's aggregation switches), each such switch sw
 * picks its next hop by its own hash, eng_ecmp_hop(seed, fk, sw) % n, of the
 * flow's 32-bit value fk = path | eng_ecmp_ent16(key, j) << 16, so the
 * switches' choices are independent (no polarization) and a flow keeps its
 * path. On a leaf-spine only the leaf chooses: the path is the spine, as it
 * always was.
 */
#ifndef MOESIM_ECMP_H
#define MOESIM_ECMP_H

#include <stdint.h>

#include "base/rng.h"

static inline uint64_t eng_ecmp_key(uint64_t seed, uint32_t src, uint32_t dst, uint64_t nth)
{
    return rng_mix64(seed ^ rng_mix64(((uint64_t)src << 32 | dst) ^ rng_mix64(nth)));
}

static inline uint32_t eng_ecmp_path(uint64_t key, uint32_t j, uint32_t npaths)
{
    return (uint32_t)(rng_mix64(key + j) % npaths);
}

/* 16 more bits of flow j's entropy, for the later switches' hashes. */
static inline uint32_t eng_ecmp_ent16(uint64_t key, uint32_t j)
{
    return (uint32_t)(rng_mix64(key ^ (0x9e3779b97f4a7c15ull * (j + 1))) >> 48);
}

/* Switch sw's hash of flow value fk (seeded: the engine's hash seed). */
static inline uint64_t eng_ecmp_hop(uint64_t seed, uint32_t fk, uint32_t sw)
{
    return rng_mix64(seed ^ rng_mix64((uint64_t)fk << 32 | sw) ^ 0x5bd1e9955bd1e995ull);
}

#endif
