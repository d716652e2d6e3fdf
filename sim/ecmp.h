/* ecmp.h - the ECMP hash every engine uses, so that a message's flows take
 * the same equal-cost paths whichever engine simulates them.
 *
 * A message's key mixes the engine's hash seed (rng_seed of sim.seed,
 * RNG_NET_HASH and the phase's salt), its endpoints and its number among
 * the messages added since the engine's last reset; flow j of the message
 * (j > 0 only for path = split) takes path eng_ecmp_path(key, j, npaths).
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

#endif
