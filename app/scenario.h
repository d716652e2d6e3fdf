/* scenario.h - a scenario file plus command-line overrides, expanded to runs.
 *
 * A scenario is an INI file with the sections and keys of options.c. A value
 * with commas ("ecmp,spray") is a sweep: the runs are the cartesian product of
 * every swept key, in table order (the first table option varies slowest).
 * `--set section.key=value` overrides (and may sweep) a key.
 *
 * Every error is one line, "FILE:LINE: section.key: reason" (for an override,
 * "--set section.key=value: reason"), and means exit status 2.
 */
#ifndef MOESIM_SCENARIO_H
#define MOESIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "app/options.h"

/* Most hosts a topology may have (cfg_validate), and most runs one sweep may
 * expand to (sc_load). */
#define CFG_HOSTS_MAX 1048576
#define SC_RUNS_MAX   100000

struct sc_sweep;

/* Reads `path` (NULL: defaults only), applies the overrides ("section.key=value"
 * strings), validates every run (bounds, types, and that the topology can
 * exist), and expands the sweep. Returns 0, or -1 with e set. */
int sc_load(const char *path, const char *const *overrides, size_t n_overrides,
            struct sc_sweep **out, struct err *e);
size_t sc_count(const struct sc_sweep *s);
const struct cfg *sc_run(const struct sc_sweep *s, size_t i);
/* Path of the scenario file ("" for defaults only). */
const char *sc_path(const struct sc_sweep *s);
/* Number of values swept for an option in this sweep (1 = not swept). */
size_t sc_values(const struct sc_sweep *s, const struct opt_def *o);
/* Writes the swept options of run i as "section.key=value ..." (canonical
 * values, table order) into buf; "" when nothing is swept. */
void sc_label(const struct sc_sweep *s, size_t i, char *buf, size_t n);
void sc_free(struct sc_sweep *s);

/* Cross-key checks on one resolved configuration (topology can exist, sizes
 * fit in memory and in the clock). On failure: -1 with e->msg = "section.key:
 * reason", the caller prefixes the file and line. Modules add their checks
 * here. */
int cfg_validate(const struct cfg *c, const struct opt_def **bad, struct err *e);

/* A lower bound of the memory one run of c needs, bytes. */
uint64_t cfg_memory_estimate(const struct cfg *c);

#endif
