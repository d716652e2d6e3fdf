/* units.h - simulated time and the unit helpers every module uses.
 *
 * Simulated time is an unsigned 64-bit count of picoseconds (2^64 ps is about
 * 213 days, far beyond any run). Link rates are integers in bits per second, so
 * the serialization time of a packet is exact whenever 8e12/bps is an integer
 * (every common rate: 25, 50, 100, 200, 400, 800 Gb/s) and rounded up otherwise.
 */
#ifndef MOESIM_UNITS_H
#define MOESIM_UNITS_H

#include <stdint.h>

typedef uint64_t simtime_t; /* picoseconds */

#define PS_PER_NS   1000ull
#define PS_PER_US   1000000ull
#define PS_PER_MS   1000000000ull
#define PS_PER_S    1000000000000ull
#define SIMTIME_MAX UINT64_MAX

static inline simtime_t ns_to_ps(uint64_t ns)
{
    return ns * PS_PER_NS;
}

/* Picoseconds to nanoseconds, rounded to the nearest. */
static inline uint64_t ps_to_ns(simtime_t ps)
{
    return (ps + PS_PER_NS / 2) / PS_PER_NS;
}

static inline double ps_to_s(simtime_t ps)
{
    return (double)ps / (double)PS_PER_S;
}

/* Gb/s (as a user writes it) to bits per second. */
static inline uint64_t gbps_to_bps(double gbps)
{
    return (uint64_t)(gbps * 1e9 + 0.5);
}

/* Time to put `bytes` on a wire of `bps`, rounded up to the picosecond.
 * Exact for bytes * 8e12 < 2^64, i.e. up to about 2.3 MB per call; larger
 * amounts go through 128-bit arithmetic. */
static inline simtime_t ser_ps(uint64_t bytes, uint64_t bps)
{
    if (bytes <= 2000000u) return (bytes * 8u * PS_PER_S + bps - 1) / bps;
    unsigned __int128 num = (unsigned __int128)bytes * 8u * PS_PER_S;
    return (simtime_t)((num + bps - 1) / bps);
}

#endif
