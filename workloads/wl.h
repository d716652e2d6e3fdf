/* wl.h - workloads: generators of phases, and the driver that runs them.
 *
 * A workload is a generator of phases, in order. A network phase is a set of
 * demands (src, dst, bytes) that start together; it ends when the last byte
 * of the last demand arrives. A compute phase is a fixed duration. Phases run
 * one after another (no overlap of compute and communication), separated
 * by a barrier: a network phase starts on an idle fabric (the acknowledgements
 * of the phase before still in flight are not modeled against it). Adding a
 * workload means adding a generator: the driver, the engine and the results
 * stay as they are.
 */
#ifndef MOESIM_WL_H
#define MOESIM_WL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "results/res.h"
#include "sim/eng.h"
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

enum wl_phase_kind { WL_NET = 0, WL_COMPUTE };

struct wl_phase {
    enum wl_phase_kind kind;
    uint32_t iter, layer;
    const char *name;              /* alltoall|permutation|dispatch|compute|combine */
    const struct topo_demand *dem; /* WL_NET: owned by the generator until its next call */
    size_t ndem;
    simtime_t duration; /* WL_COMPUTE */
};

struct wl_gen {
    void *state;
    /* Fills *out with the next phase; returns 1, or 0 when the workload is over. */
    int (*next)(void *state, struct wl_phase *out);
    void (*destroy)(void *state);
    /* Optional (NULL: none): after the last phase, the tokens each GPU
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

/* Creates the generator for c's workload.kind (clearing *g first, so the
 * optional hooks a generator does not set are NULL). */
int wl_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e);

/* Collective generators (collective.c). */
int wl_alltoall_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e);
int wl_permutation_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                          struct err *e);

/* Runs every phase of g (each network phase on an engine of its own, see
 * driver.c); returns the phase records, the flow records (output.flows),
 * link samples (output.sample_ns), the engines' counters summed over the
 * phases and the first broken invariant, if any. wl_result_free frees them
 * all. */
struct wl_result {
    struct res_phase *phases;
    size_t nphases;
    struct res_flow *flows;
    size_t nflows;
    struct res_sample *samples;
    size_t nsamples;
    struct res_gpu_load *gpu_load; /* from g->gpu_load, when the workload has one */
    size_t ngpu_load;
    struct res_trace_use *trace_use; /* from g->trace_use, likewise */
    size_t ntrace_use;
    struct res_note *notes; /* from g->notes, likewise */
    size_t nnotes;
    struct eng_stats st;          /* summed over the phases (peaks: the largest; now: the end) */
    struct eng_port_stats *ports; /* [t->nports], likewise */
    char invariant[512];          /* "" or the first phase's broken invariant (eng_check) */
};
int wl_drive(struct wl_gen *g, const struct topo *t, const struct wl_specs *c, struct wl_result *r,
             struct err *e);
void wl_result_free(struct wl_result *r);

/* How many network phases wl_drive may simulate at once (threads; default
 * 1). The results do not depend on it. Runs with output.sample_ns use one. */
void wl_set_threads(unsigned n);

#endif
