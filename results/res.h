/* res.h - the results database (SQLite) and CSV export of phase rows.
 *
 * Tables (the contract in README.md):
 *   runs   (id, scenario, status running|done|failed, started_at, finished_at, seed, engine,
 *           wall_s, events, sim_ns, version, message)
 *   params (run_id, key, value)   every resolved option, defaults included
 *   phases (run_id, iter, layer, phase, start_ns, end_ns, cct_ns, ideal_ns, bytes)
 *   links  (run_id, link, kind, src, dst, gbps, bytes, busy_ns, max_queue_bytes, drops, ecn_marks)
 * A run is inserted as `running` (with its params) and committed; its phases,
 * links and the switch to `done` then go in one transaction, so a crash leaves
 * either a complete `done` run or one that is not `done`.
 */
#ifndef MOESIM_RES_H
#define MOESIM_RES_H

#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/options.h"
#include "sim/units.h"

struct res_db;

struct res_phase {
    uint32_t iter, layer;
    const char *phase; /* alltoall|permutation|dispatch|compute|combine */
    simtime_t start_ps, end_ps, ideal_ps;
    uint64_t bytes;
};

struct res_link {
    uint32_t link;
    const char *kind; /* host_up|host_down|leaf_up|spine_down|... */
    char src[32], dst[32];
    double gbps;
    uint64_t bytes;
    simtime_t busy_ps;
    uint64_t max_queue_bytes, drops, ecn_marks;
};

struct res_run {
    const char *engine;
    uint64_t seed;
    double wall_s;
    uint64_t events;
    simtime_t sim_ps;
    const struct res_phase *phases;
    size_t nphases;
    const struct res_link *links;
    size_t nlinks;
};

/* Opens (creating the file, its directory and the schema when needed). */
int res_open(const char *path, struct res_db **out, struct err *e);
void res_close(struct res_db *db);
/* Inserts a `running` run with every option of c in params; commits. */
int res_run_begin(struct res_db *db, const struct cfg *c, const char *scenario, int64_t *run_id,
                  struct err *e);
/* One transaction: phases, links, and the run row set to `done`. */
int res_run_finish(struct res_db *db, int64_t run_id, const struct res_run *r, struct err *e);
/* Marks the run `failed` with a message. */
int res_run_fail(struct res_db *db, int64_t run_id, const char *message, struct err *e);

/* Writes phase rows as CSV (libcsv) with a header row; `append` adds rows to
 * an existing file without repeating the header. */
int res_csv_phases(const char *path, int64_t run_id, const struct res_run *r, int append,
                   struct err *e);

#endif
