/* wl.h - workloads: generators of task graphs, the workloads' entry points,
 * and the driver that runs a generator's graph.
 *
 * A workload is a generator of a task graph (sim/graph.h): network tasks
 * (sets of demands src, dst, bytes) and compute tasks (durations on GPU
 * streams) with their dependencies. A generator builds the graph piece by
 * piece as the executor (sim/exec.h) asks for more; it never sees an engine.
 * The alltoall, permutation and (by default) MoE generators add one phase
 * at a time followed by a barrier, so phases run one after another, each
 * network phase on an idle fabric (the acknowledgements of the phase before
 * still in flight are not modeled against it), and only one phase's demands
 * are held at a time. The ring collectives (collective_reduce.c) add an
 * iteration's steps with dependencies and no barrier between them, and the
 * MoE workload with overlap = chunks a layer at a time, with dual_batch an
 * iteration's forward at a time (docs/moe-steps.md).
 *
 * Adding a workload means adding a generator and its struct wl_def (its
 * creation, the checks and memory estimate of its configuration) to the list
 * in wl.c: the executor, the engine, the scenario checks and the results stay
 * as they are.
 */
#ifndef MOESIM_WL_H
#define MOESIM_WL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/opt.h"
#include "results/res.h"
#include "sim/exec.h"
#include "sim/graph.h"
#include "sim/spec.h"
#include "topo/topo.h"
#include "workloads/wl_spec.h"

/* What a workload is built and driven from: the specs of the configuration
 * layer that it reads (never the whole configuration). */
struct wl_specs {
    const struct wl_spec *wl;   /* [workload] */
    const struct pl_spec *pl;   /* [placement] */
    const struct sim_spec *sim; /* [sim]: seed, iterations */
    const struct tr_spec *tr;   /* [transport]: the engine's, and the bound's mtu */
    const struct out_spec *out; /* [output]: flows, sample_ns */
};

struct wl_gen {
    void *state;
    /* Adds the workload's next tasks to g; returns 1, or 0 when the workload
     * is over (having added nothing). */
    int (*next)(void *state, struct graph *g);
    void (*destroy)(void *state);
    /* Optional (NULL: none): after the last task, the tokens each GPU
     * computed per layer, for the gpu_load table; returns the number of rows
     * and sets *out (to free()). */
    size_t (*gpu_load)(void *state, struct res_gpu_load **out);
    /* Optional: how often each trace token was used, for the trace_use
     * table; returns the number of rows and sets *out (to free()). */
    size_t (*trace_use)(void *state, struct res_trace_use **out);
    /* Optional: what the run computed besides the rows (the placement's
     * cost, the ilp's status and gap, ...), for the notes table; returns the
     * number of notes and sets *out (to free()). */
    size_t (*notes)(void *state, struct res_note **out);
};

/* The seed of the workload's random draws (the MoE replay's trace offsets,
 * the expert placement, the permutation's pairing): workload.seed, or
 * sim.seed when it is WL_SEED_SIM (the default). The network's draws (the
 * engine's) always follow sim.seed, so a run can hold its traffic fixed and
 * vary the network's choices, or the other way round. Each draw then takes
 * its own stream of this seed (base/rng.h). */
uint64_t wl_seed(const struct wl_specs *c);

/* What a run of a workload holds at least, from its configuration alone (in
 * double: the products may pass 2^64). The memory estimate adds the engine's
 * state for `msgs` messages (their flows, demands and the packets their
 * windows keep in flight) and the fabric's. */
struct wl_footprint {
    double state_bytes;        /* the generator's own arrays */
    double msgs;               /* messages in one network task, all hosts (0: not known) */
    double msgs_alive;         /* else, when known: messages at least alive at once on an engine */
    const struct opt_def *key; /* the key that grows it most (a row of its module's table) */
};

/* A workload kind: its generator, and what its configuration alone says
 * before anything runs (the fabric's spec: it is not built yet). */
struct wl_def {
    int kind; /* its workload.kind (enum wl_kind) */
    int (*create)(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e);
    /* Optional: cross-key checks (a run that could not work, or would pass
     * the clock's or a counter's end), the scenario checks' way: blame one
     * key, a row of its module's table (wl_fail). */
    int (*check)(const struct wl_specs *c, const struct topo_spec *topo, const struct opt_def **bad,
                 struct err *e);
    /* What a run holds at least (struct wl_footprint), for the memory
     * estimate. */
    void (*footprint)(const struct wl_specs *c, const struct topo_spec *topo,
                      struct wl_footprint *f);
    /* Whether a run has several network tasks (--threads simulates them at
     * once). */
    int (*multiphase)(const struct wl_specs *c);
};

extern const struct wl_def wl_def_alltoall, wl_def_permutation, wl_def_moe;
extern const struct wl_def wl_def_allreduce, wl_def_reduce_scatter, wl_def_allgather;
extern const struct wl_def wl_def_incast, wl_def_flows, wl_def_alltoallv;

/* incast.c: the senders of an incast of `senders` hosts into the last host,
 * into out[] (the first hosts under other leaves than the receiver's, then
 * under its own); returns how many (at most hosts - 1). */
uint32_t wl_incast_pick(const struct topo *t, uint32_t senders, uint32_t *out);

/* The workloads' entry points (wl.c), each through workload.kind. */
/* Creates the generator (clearing *g first, so the optional hooks a
 * generator does not set are NULL). */
int wl_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e);
/* The workload's cross-key checks; 0 when they pass (or it has none). *bad:
 * a row of the blamed key's module table (topo_options, tr_options,
 * wl_options, ...). */
int wl_check(const struct wl_specs *c, const struct topo_spec *topo, const struct opt_def **bad,
             struct err *e);
/* The workload's footprint (all 0 and NULL when its kind has none). */
void wl_footprint(const struct wl_specs *c, const struct topo_spec *topo, struct wl_footprint *f);
int wl_multiphase(const struct wl_specs *c);
/* Blames section.key of table t: *bad = its row (when bad), e->msg =
 * "section.key: <fmt>". Returns -1. */
int wl_fail(const struct opt_def **bad, struct err *e, const struct opt_table *t,
            const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Collective generators (collective.c). */
int wl_alltoall_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                       struct err *e);
int wl_alltoallv_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                        struct err *e);
int wl_permutation_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                          struct err *e);

/* A ring's shape for wl_ring_add: its hosts in ring order (NULL: hosts
 * 0..n-1), and each step's message in `chunks` pipelined chunks (1: one
 * message per step); with chunks > 1, `t` gives each host's link rate. */
struct wl_ring {
    const uint32_t *hosts;
    uint32_t n;
    uint32_t chunks;
    const struct topo *t;
};

/* Adds a ring reduce_scatter (rows named rs_name) then allgather (ag_name)
 * of `bytes` per host over the ring r to g, iteration `iter`, with no
 * barrier (collective_reduce.c): a NULL name leaves that half out. With one
 * chunk, step k of host i waits for its own step k-1 and host i-1's; with C
 * chunks, chunk c of step k waits for chunk c of host i-1's step k-1 and for
 * host i's link (a `ring_link` delay: the chunk before it on that link has
 * been serialized). Rows' layer = the step, the tasks table's chunk = c.
 * The MoE training pass's gradient all-reduce uses it (one chunk). */
void wl_ring_add(struct graph *g, const char *rs_name, const char *ag_name, uint32_t iter,
                 const struct wl_ring *r, uint64_t bytes);

/* Adds a halving-doubling allreduce of `bytes` per host over hosts[0..n-1]
 * (n a power of two; NULL: hosts 0..n-1) to g, rows rs_name then ag_name,
 * layer = the step (collective_reduce.c). */
void wl_hd_add(struct graph *g, const char *rs_name, const char *ag_name, uint32_t iter,
               const uint32_t *hosts, uint32_t n, uint64_t bytes);

/* Adds a double binary tree allreduce of `bytes` per host over hosts[0..n-1]
 * (tree positions are indices into hosts; NULL: hosts 0..n-1), each tree's
 * half in `chunks` pipelined chunks, rows rname / bname with layer = the
 * tree (collective_tree.c). */
void wl_tree_add(struct graph *g, const char *rname, const char *bname, uint32_t iter,
                 const uint32_t *hosts, uint32_t n, uint32_t chunks, uint64_t bytes);

/* allreduce by a double binary tree, pipelined in workload.chunks chunks
 * (collective_tree.c). */
int wl_tree_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g);
/* The two trees over N hosts: each host's parent in tree A and in tree B
 * (UINT32_MAX: the root), for tests and the docs. */
void wl_tree_shape(uint32_t N, uint32_t *parent_a, uint32_t *parent_b);

/* Runs g's graph on the executor (driver.c); returns its rows (phases, flows
 * with output.flows, link samples with output.sample_ns), the engines'
 * counters and the first broken invariant, and the generator's gpu_load and
 * trace_use rows. wl_result_free frees them all. */
struct wl_result {
    struct exec_result run;
    struct res_gpu_load *gpu_load; /* from g->gpu_load, when the workload has one */
    size_t ngpu_load;
    struct res_trace_use *trace_use; /* from g->trace_use, likewise */
    size_t ntrace_use;
    struct res_note *notes; /* from g->notes, likewise */
    size_t nnotes;
};
int wl_drive(struct wl_gen *g, const struct topo *t, const struct wl_specs *c, struct wl_result *r,
             struct err *e);
void wl_result_free(struct wl_result *r);

/* How many parts of the graph (today: network phases) wl_drive may simulate
 * at once (threads; default 1). The results do not depend on it. Runs with
 * output.sample_ns use one. */
void wl_set_threads(unsigned n);

#endif
