/* exec.h - the executor: runs a task graph (graph.h) through the packet
 * engine and records what the results database keeps of it.
 *
 * Timing: a task starts when every task it depends on has ended (and, for a
 * compute task, when the task before it on its GPU's stream has ended); a
 * compute task lasts its duration; a network task lasts until its last byte
 * arrives, as the engine finds.
 *
 * Engines: network tasks that may overlap in time, those that do not depend
 * on one another either way (directly or through other tasks), run on ONE
 * engine, so they share the fabric and queue behind one another; a task of
 * theirs that becomes ready while that engine runs (say, after a compute task
 * that waited for another of them) joins it at its start time. The groups are
 * the connected components of "may overlap"; every other network task is a
 * group of one. A group's engine starts at its first task's start on an idle
 * fabric, its random choices (spraying, the flow hash) salted by the number
 * of its first network task among all the graph's network tasks, and is
 * simulated from time 0 and shifted to that start.
 *
 * The phase model is the special case of a barrier after every task: every
 * network task is a group of one, on an idle fabric from time 0 with its
 * choices salted by its number, exactly as each network phase ran before the
 * executor. The parts between barriers are independent: `threads` of them are
 * simulated at once (each thread keeps one engine and resets it per group)
 * while the graph is still being built, and the results do not depend on how
 * many nor in what order: a thread takes the waiting part that sends the most
 * bytes first (parts are built ahead while they hold little memory), so a
 * long part does not start last; a part's times are relative to its start and chained at the end
 * (each part starts when the one before has ended). With sampling the parts
 * run one at a time in order, so every sample lands on the run's grid.
 *
 * Results: one `phases` row per task, in task order (network tasks with
 * their ideal bound and bytes, compute tasks with neither); with opts.tasks
 * one `tasks` row per task, with its chunk, pass and micro-batch and whether
 * it is on its step's critical path. The critical path of a step (the tasks
 * of one iteration): from the step's last task to end (the first such in
 * task order), back through the predecessor that ended last (a dependency,
 * the task before it on a compute stream, or, for a task that waits for
 * nothing in its part, the previous part's last task to end; among
 * predecessors ending together the first to be found ended), while that
 * predecessor is of the same step. A task starts when its last predecessor
 * ends, so the path's durations add up, without gaps, to the step's time; with flows one
 * row per message, numbered in task order; with sampling the links' samples
 * (bytes whose serialization ended since the last point of the grid, and the
 * backlog; an engine's last row of a link at the first point of the grid at
 * or after its last event, so a link's rows add up to its bytes); the
 * engines' counters folded (sim/counters.h, res_port_stats_fold); and the
 * first broken engine invariant, in task order.
 */
#ifndef MOESIM_EXEC_H
#define MOESIM_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "results/res.h"
#include "sim/counters.h"
#include "sim/graph.h"
#include "sim/spec.h"
#include "topo/topo.h"

struct exec_opts {
    const struct tr_spec *tr; /* the engine's transport, and the ideal bounds' packets */
    uint64_t seed;            /* the engines' random choices (salted per group) */
    int flows;                /* record each message's completion */
    simtime_t sample_ps;      /* > 0: sample every link this often */
    unsigned threads;         /* parts simulated at once (0 or 1: on the calling thread) */
    int engine;               /* enum engine_kind (sim.engine): what every part runs on */
    int tasks;                /* record every task (exec_result.tasks) */
    uint64_t ideal_lp_max; /* sim.ideal_lp_max: the ideal bound's LP up to this size (0: never) */
};

struct exec_result {
    struct res_phase *phases; /* one per task, in task order */
    size_t nphases;
    struct res_flow *flows; /* with opts.flows */
    size_t nflows;
    struct res_sample *samples; /* with opts.sample_ps */
    size_t nsamples;
    struct res_task *tasks; /* with opts.tasks: one per task, in task order */
    size_t ntasks;
    struct eng_stats st;          /* folded over the engines; now: the run's last event */
    struct res_port_stats *ports; /* [t->nports], likewise */
    char invariant[512];          /* "" or the first broken invariant (eng_check) */
};

/* Adds the graph's next tasks to g; returns 1, or 0 when the graph is
 * complete (graph_close is then called for it). */
typedef int (*exec_more_fn)(void *ctx, struct graph *g);

/* Runs graph g on topology t: with more == NULL g is complete; otherwise
 * more(ctx, g) is called for further tasks whenever the executor has taken
 * every part that g holds. Returns 0, or -1 with e set when the graph is
 * refused (the first error graph_error reports, a dependency cycle, a GPU or
 * host the fabric lacks: a part so refused is never simulated, nor any after
 * it) or a task would end past the clock's end (2^63 ps); r is filled either
 * way (exec_result_free). */
int exec_run(struct graph *g, exec_more_fn more, void *ctx, const struct topo *t,
             const struct exec_opts *o, struct exec_result *r, struct err *e);
void exec_result_free(struct exec_result *r);

#endif
