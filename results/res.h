/* res.h - the results database (SQLite) and CSV export of phase rows.
 *
 * Tables (the contract in README.md and docs/results.md), schema_version 5:
 *   runs   (id, scenario, status running|done|failed, started_at, finished_at, seed, engine,
 *           wall_s, events, sim_ns, version, message)
 *   params (run_id, key, value)   every resolved option, defaults included
 *   phases (run_id, iter, layer, phase, start_ns, end_ns, cct_ns, ideal_ns, bytes, ideal_kind)
 *          ideal_kind: which bound ideal_ns is, 'lp' or 'cut' (NULL: a compute row)
 *   links  (run_id, link, kind, src, dst, gbps, bytes, busy_ns, max_queue_bytes, drops, ecn_marks,
 *           trims, pause_ns)
 *   flows  (run_id, flow, src, dst, bytes, start_ns, end_ns, retx_bytes, timeouts, nacks,
 *           cnps)  with output.flows = true; cnps NULL unless transport.cc = dcqcn
 *   timeseries (run_id, t_ns, link, bytes, queue_bytes)          with output.sample_ns > 0;
 *          bytes sent on the link during the sample period ending at t_ns (a
 *          packet counts when its serialization ends), the queue (backlog)
 *          at t_ns; rows where both are 0 are left out
 *   gpu_load (run_id, layer, gpu, tokens)                        token-expert selections per GPU
 *   trace_use (run_id, token, uses)                              MoE: uses of each trace token
 *   inputs (run_id, key, path, bytes, xxh3)                      each input file's XXH3-64
 *   notes (run_id, key, value)    what a run computed besides the rows above (the
 *          placement's cost and ilp status, the compute model's range)
 *   tasks (run_id, task, iter, layer, phase, kind, chunk, pass, mb, start_ns, end_ns,
 *          on_critical_path)                                     with output.tasks = true;
 *          one row per task of the executed graph (schema 5)
 * A run is inserted as `running` (with its params) and committed; its phases,
 * links and the switch to `done` then go in one transaction, so a crash leaves
 * either a complete `done` run or one that is not `done`.
 */
#ifndef MOESIM_RES_H
#define MOESIM_RES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "base/opt.h"
#include "base/units.h"

/* [output] (out_options.c): where results go and what is recorded. */
struct out_spec {
    char db[OPT_STR_MAX];
    char csv[OPT_STR_MAX];
    int flows;         /* record every message's completion in `flows` */
    int64_t sample_ns; /* link sampling period for `timeseries`; 0 = off */
    int tasks;         /* record every task in `tasks` */
};
extern const struct opt_table out_options;

/* One resolved option of a run, as the params table records it. */
struct res_param {
    const char *key;   /* "section.key" */
    const char *value; /* canonical text */
};

struct res_db;

struct res_phase {
    uint32_t iter, layer;
    /* alltoall|permutation|reduce_scatter|allgather|attention|dispatch|compute|combine,
     * bwd_* and grad_* (training: docs/results.md) */
    const char *phase;
    simtime_t start_ps, end_ps, ideal_ps;
    uint64_t bytes;
    const char *ideal_kind; /* which bound ideal_ps is: "lp" or "cut"; NULL: none (compute) */
};

/* One task of the executed graph, as the tasks table records it (the
 * executor fills it: sim/exec.h). */
enum res_task_kind { RES_TASK_NETWORK = 0, RES_TASK_COMPUTE, RES_TASK_DELAY };
enum res_task_pass { RES_PASS_FORWARD = 0, RES_PASS_BACKWARD };
struct res_task {
    uint64_t task; /* its number in the run's graph, from 0 */
    uint32_t iter, layer, chunk, mb;
    const char *phase;  /* its phases row's name */
    uint8_t kind, pass; /* enum res_task_kind, enum res_task_pass */
    uint8_t critical;   /* on its step's critical path */
    simtime_t start_ps, end_ps;
};
/* "network" | "compute" | "delay" (a timer on no stream); "forward" | "backward". */
const char *res_task_kind_name(int kind);
const char *res_task_pass_name(int pass);

/* Per step (iteration) of t[0..n-1] (tasks.c): the time some network task
 * with bytes runs (their intervals' union) and the part of it when no
 * compute task runs (exposed communication; delays count as neither). Tasks of one step need not be
 * contiguous or sorted. Returns the number of steps found; out[k] is the k-th
 * distinct iteration in ascending order (at most nmax filled). */
struct res_step_comm {
    uint32_t iter;
    simtime_t start_ps, end_ps; /* its first start, its last end */
    simtime_t net_ps, exposed_ps;
};
size_t res_steps_comm(const struct res_task *t, size_t n, struct res_step_comm *out, size_t nmax);

/* A link's counters, as the links table records them (the engine counts them
 * per port: eng_port). */
/* A counter the engine does not model (the flow engine's queues): recorded
 * as NULL. */
#define RES_NOT_MODELED UINT64_MAX

struct res_port_stats {
    uint64_t bytes;
    simtime_t busy_ps;
    uint64_t max_queue_bytes;
    uint64_t drops, ecn_marks;
    uint64_t trims;     /* data packets trimmed to their header (switch.trim) */
    simtime_t pause_ps; /* time the port was paused by PFC (switch.pfc) */
};

/* Adds src's counters to dst's (peaks: the larger), as the counters of
 * several engine runs on one fabric fold into a run's. */
void res_port_stats_fold(struct res_port_stats *dst, const struct res_port_stats *src);

struct res_link {
    uint32_t link;
    const char *kind; /* host_up|host_down|leaf_up|spine_down|... */
    char src[32], dst[32];
    double gbps;
    struct res_port_stats st; /* bytes, busy time, peak queue, drops, ECN marks */
};

/* A count the flows table records as NULL (it does not apply to the run). */
#define RES_NO_COUNT UINT64_MAX

/* What loss recovery cost one message (transport.recovery), summed over its
 * transport flows when its last byte arrived: bytes sent again, expired
 * retransmission timers, NACKs received by its senders; and under
 * transport.cc = dcqcn the CNPs its receivers sent (RES_NO_COUNT under any
 * other cc). */
struct res_flow_loss {
    uint64_t retx_bytes, timeouts, nacks;
    uint64_t cnps;
};

/* A message's completion record (one per workload message). */
struct res_flow {
    uint64_t flow; /* the message's number in the run, from 0 */
    uint32_t src, dst;
    uint64_t bytes;
    simtime_t start_ps, end_ps;
    struct res_flow_loss loss;
};

/* One link's sample: bytes sent in the period ending at t_ps, backlog at t_ps. */
struct res_sample {
    simtime_t t_ps;
    uint32_t link;
    uint64_t bytes, queue_bytes;
};

/* Tokens one GPU processes in one MoE layer. */
struct res_gpu_load {
    uint32_t layer, gpu;
    uint64_t tokens;
};

/* How often a trace token was used by the run's batches (MoE replay). */
struct res_trace_use {
    uint64_t token, uses;
};

/* A fact a run computed besides its tables' rows, for the `notes` table
 * (docs/results.md): "placement.ilp_status" = "optimal", ... A plain struct,
 * so that a blob carries it as it is. */
#define RES_NOTE_MAX 48
struct res_note {
    char key[RES_NOTE_MAX], value[RES_NOTE_MAX];
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
    const struct res_flow *flows; /* optional (NULL, 0) */
    size_t nflows;
    const struct res_sample *samples; /* optional */
    size_t nsamples;
    const struct res_gpu_load *gpu_load; /* optional */
    size_t ngpu_load;
    const struct res_trace_use *trace_use; /* optional */
    size_t ntrace_use;
    const struct res_note *notes; /* optional */
    size_t nnotes;
    const struct res_task *tasks; /* optional (output.tasks) */
    size_t ntasks;
};

/* Opens (creating the file, its directory and the schema when needed). */
int res_open(const char *path, struct res_db **out, struct err *e);
void res_close(struct res_db *db);
/* Opens an existing database read-only (for report, export, plot): refuses a
 * missing file, a file that is not moesim's and a newer schema. Never writes,
 * so an older schema is read as it is (res_has_table says what is there). */
int res_open_read(const char *path, struct res_db **out, struct err *e);
int res_has_table(struct res_db *db, const char *name);
/* The database's file, as opened (for messages). */
const char *res_path(const struct res_db *db);
/* The identity of a run for the runs and params tables: every resolved
 * option (p[np], in the option table's order), the engine's name and the
 * seed. */
struct res_run_id {
    const struct res_param *p;
    size_t np;
    const char *engine;
    int64_t seed;
};
/* Inserts a `running` run with every option of id in params; commits. */
int res_run_begin(struct res_db *db, const struct res_run_id *id, const char *scenario,
                  int64_t *run_id, struct err *e);
/* One transaction: phases, links, flows, samples, gpu_load, trace_use,
 * notes and tasks rows, and the run row set to `done`. */
int res_run_finish(struct res_db *db, int64_t run_id, const struct res_run *r, struct err *e);
/* Marks the run `failed` with a message. */
int res_run_fail(struct res_db *db, int64_t run_id, const char *message, struct err *e);

/* Whether an output file can be written, asked before anything runs
 * (outpath.c): path is not a directory and can be written if it exists;
 * otherwise its folder can be written in, or the first missing folder on the
 * way can be created. dir_write: the folder must be writable even when the
 * file exists (SQLite's WAL files sit beside the database). Touches nothing.
 * Returns 0, or -1 with e->msg = the reason alone ("/x/y is a directory",
 * "cannot write in directory /x: Permission denied", "cannot create
 * directory /x/y: Permission denied", "/x is not a directory"). */
int res_out_check(const char *path, int dir_write, struct err *e);
/* Creates the folders on the way to path (mkdir -p of its folder part);
 * -1 with e->msg = "PATH: cannot create directory D: reason". */
int res_out_mkdirs(const char *path, struct err *e);

/* Writes phase rows as CSV (libcsv) with a header row; `append` adds rows to
 * an existing file without repeating the header. The file's folder is
 * created when missing. */
int res_csv_phases(const char *path, int64_t run_id, const struct res_run *r, int append,
                   struct err *e);

/* `moesim report` (report.c): a table of one metric (cct, slowdown or
 * step_time; NULL = cct) over the done runs matching every "section.key=value"
 * of where[], grouped by `by` ("rows[,columns]"; NULL = every swept
 * parameter). -1 with e set on bad input or no matching runs. */
struct res_report_opts {
    const char *by, *metric;
    const char *const *where;
    size_t nwhere;
};
int res_report(struct res_db *db, const struct res_report_opts *o, FILE *out, struct err *e);

/* `moesim export` (export.c): the rows of `table` (runs, params, phases,
 * links, flows, timeseries, gpu_load, trace_use, inputs) of the runs matching where[], as CSV
 * with a header and one column per swept parameter. Returns the number of
 * rows, or -1 with e set. */
long res_export(struct res_db *db, const char *table, const char *const *where, size_t nwhere,
                FILE *f, struct err *e);

/* The configurations of the database's `done` runs (resume.c), for `moesim
 * run --resume`: a run is done when a done run simulated the same thing:
 * every option but output.db and output.csv equal, and every input file
 * (inputs.c) with the same XXH3-64 hash. */
struct res_doneset;
int res_doneset_load(struct res_db *db, struct res_doneset **out, struct err *e);
int res_doneset_has(const struct res_doneset *s, const struct res_param *p, size_t np);
size_t res_doneset_count(const struct res_doneset *s);
void res_doneset_free(struct res_doneset *s);

/* One run's outcome as bytes (blob.c), from a worker process to the process
 * that writes the database. rc: 0 done, 1 failed, 2 bad input; msg says why
 * for rc != 0. r may be NULL (a failed run). Returns 0 or -1 (write error). */
struct res_blob {
    int rc;
    char msg[ERR_MSG_MAX];
    struct res_run run; /* arrays and strings owned by the blob */
    char **strs;
    size_t nstrs;
};
int res_blob_write(FILE *f, int rc, const char *msg, const struct res_run *r);
/* Reads what res_blob_write wrote; -1 (e set) when it is cut short or
 * corrupt. res_blob_free releases it. */
int res_blob_read(FILE *f, struct res_blob *b, struct err *e);
void res_blob_free(struct res_blob *b);

#endif
