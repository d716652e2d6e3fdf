/* rng.c - per-purpose seeds and their GSL generators (see rng.h). */
#include "base/rng.h"

#include "base/err.h"

uint64_t rng_seed(uint64_t seed, enum rng_purpose p, uint64_t salt)
{
    return rng_mix64(rng_mix64(rng_mix64(seed) ^ (uint64_t)p) ^ salt);
}

void rng_set(gsl_rng *r, uint64_t seed, enum rng_purpose p, uint64_t salt)
{
    uint64_t s = rng_seed(seed, p, salt);
    gsl_rng_set(r, (unsigned long)((s ^ (s >> 32)) & 0xffffffffu));
}

gsl_rng *rng_alloc(uint64_t seed, enum rng_purpose p, uint64_t salt)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) err_fatal("out of memory for a random number generator");
    rng_set(r, seed, p, salt);
    return r;
}
