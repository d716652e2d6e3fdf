/* scenario.h - a scenario file plus command-line overrides, expanded to runs.
 *
 * A scenario is an INI file with the sections and keys of options.c. A value
 * with commas ("ecmp,spray") is a sweep: the runs are the cartesian product of
 * every swept key, in table order (the first table option varies slowest).
 * `--set section.key=value` overrides (and may sweep) a key.
 *
 * Every error is one line, "FILE:LINE: section.key: reason" (for an override,
 * "--set section.key=value: reason"), and means exit status 2. A malformed
 * file or override stops at its first error; a well-formed sweep is checked
 * whole (every run, against the keys and against the files it names) and
 * every distinct failure is reported.
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
 * strings), expands the sweep and checks every run before any starts
 * (bounds, types, cfg_validate, cfg_preflight). Returns 0, or -1 with e set
 * to the first error. */
int sc_load(const char *path, const char *const *overrides, size_t n_overrides,
            struct sc_sweep **out, struct err *e);

/* Every error of a failed load, one line each, distinct, in the order found
 * (runs in sweep order): at most SC_ERRORS_MAX are kept, `more` counts the
 * further failed checks (some may repeat a kept line). */
#define SC_ERRORS_MAX 1000
struct sc_errors {
    char **line;
    size_t n, more;
};
/* sc_load that also hands back every error (errs filled on failure, emptied
 * on success; free it with sc_errors_free). */
int sc_load_all(const char *path, const char *const *overrides, size_t n_overrides,
                struct sc_sweep **out, struct sc_errors *errs, struct err *e);
void sc_errors_free(struct sc_errors *errs);
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

/* Checks of one run against the files it names (preflight.c): an MoE run's
 * trace metadata and placement feasibility, the output paths. Each problem
 * goes to report() with the key to blame and the reason alone; returns how
 * many there were. The probe remembers what was read and checked, so that
 * each distinct trace is opened and each output path checked once. */
struct cfg_probe;
struct cfg_probe *cfg_probe_new(void);
void cfg_probe_free(struct cfg_probe *p);
typedef void (*cfg_report_fn)(void *ctx, const struct opt_def *bad, const char *reason);
int cfg_preflight(const struct cfg *c, struct cfg_probe *p, cfg_report_fn report, void *ctx);

/* A lower bound of the memory one run of c needs, bytes. */
uint64_t cfg_memory_estimate(const struct cfg *c);

#endif
