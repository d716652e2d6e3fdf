/* num.h - integer helpers the routing modules share: the greatest common
 * divisor and least common multiple of unsigned 64-bit counts (path counts,
 * group sizes, hosts per leaf). */
#ifndef MOESIM_NUM_H
#define MOESIM_NUM_H

#include <stdint.h>

/* gcd(a, 0) = a; gcd(0, 0) = 0. */
static inline uint64_t num_gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* a and b not both 0; the caller keeps the product within 64 bits. */
static inline uint64_t num_lcm(uint64_t a, uint64_t b)
{
    return a / num_gcd(a, b) * b;
}

#endif
