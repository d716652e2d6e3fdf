/* graph.h - task graphs: what a workload hands the executor (exec.h).
 *
 * A task is either
 *   - a network task: a set of messages (src, dst, bytes) that all start when
 *     the task starts; it ends when the last byte of its last message has
 *     arrived (a task with no message to send ends when it starts), or
 *   - a compute task: a fixed duration on one GPU's compute stream, or on
 *     every GPU's stream at once (GRAPH_ALL_GPUS: the MoE compute phase, whose
 *     slowest GPU holds them all), or on no stream at all (GRAPH_NO_GPU,
 *     graph_delay: a timer, so that a task can start at a given time).
 * Each has a name, an iteration and a layer: its row in the `phases` table.
 * Tasks are numbered 0, 1, ... in the order they are added. A task starts
 * when every task it depends on has ended (graph_dep); compute tasks on one
 * GPU's stream also run one at a time, in the order they were added, as a
 * CUDA stream does. graph_barrier makes every later task wait for every
 * earlier one: a graph with a barrier after every task is the phase model
 * (one phase after another, each on an idle fabric).
 *
 * The graph may be built piece by piece while the executor runs it: the
 * executor takes the tasks before a barrier once the barrier is there (and
 * frees their messages once simulated), so a generator that adds a phase and a
 * barrier per call holds one phase's messages at a time.
 *
 * Errors (a dependency on a task that does not exist, a dependency across a
 * barrier the wrong way, or added after its task was taken) are kept in the
 * graph, the first one only; the executor refuses the graph with it. Cycles
 * and GPUs the fabric does not have are found by the executor.
 */
#ifndef MOESIM_GRAPH_H
#define MOESIM_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/units.h"
#include "topo/topo.h"

enum graph_kind { GRAPH_NET = 0, GRAPH_COMPUTE };

/* Which pass of a training step a task belongs to (the `tasks` table's
 * `pass`): forward unless graph_tag says otherwise. */
enum graph_pass { GRAPH_FORWARD = 0, GRAPH_BACKWARD };

/* A compute task on every GPU's stream. */
#define GRAPH_ALL_GPUS UINT32_MAX
/* A compute task on no stream: a delay that holds nothing (graph_delay). */
#define GRAPH_NO_GPU (UINT32_MAX - 1)

struct graph;

struct graph *graph_create(void);
void graph_destroy(struct graph *g);

/* Adds a network task of the messages dem[0..ndem-1] (copied; those of no
 * bytes or from a host to itself are left out). `name` must outlive the
 * results (a string literal). Returns the task's number. */
uint64_t graph_net(struct graph *g, const char *name, uint32_t iter, uint32_t layer,
                   const struct topo_demand *dem, size_t ndem);
/* Adds a compute task of `dur` on GPU `gpu`'s stream (GRAPH_ALL_GPUS: on
 * every GPU's). Returns its number. */
uint64_t graph_compute(struct graph *g, const char *name, uint32_t iter, uint32_t layer,
                       uint32_t gpu, simtime_t dur);
/* Adds a delay of `dur`: a compute task on no stream (GRAPH_NO_GPU), which
 * runs however many others run; a task that depends on a delay with no
 * dependency of its own starts `dur` after its part's start. Returns its
 * number. */
uint64_t graph_delay(struct graph *g, const char *name, uint32_t iter, uint32_t layer,
                     simtime_t dur);
/* Task `task` starts only after task `on` has ended. 0, or -1 when the graph
 * now holds an error (graph_error). */
int graph_dep(struct graph *g, uint64_t task, uint64_t on);
/* Every task added after this starts only after every task added before it
 * has ended. */
void graph_barrier(struct graph *g);
/* Tags task `task` (not yet taken) with its chunk (a token chunk of an MoE
 * layer, a pipeline chunk of a collective; 0 by default) and pass, for the
 * `tasks` table; neither changes how it runs. 0, or -1 with the graph's
 * error set. */
int graph_tag(struct graph *g, uint64_t task, uint32_t chunk, enum graph_pass pass);
/* Tags task `task` (not yet taken) with its pass, keeping its chunk. 0, or
 * -1 with the graph's error set. */
int graph_set_pass(struct graph *g, uint64_t task, enum graph_pass pass);
/* Tags task `task` (not yet taken) with micro-batch mb (graph_task's
 * micro_batch; tasks start with 0). */
void graph_set_micro_batch(struct graph *g, uint64_t task, uint8_t mb);
/* The number the next task will get. */
uint64_t graph_next_id(const struct graph *g);
/* The graph's first error ("graph: ..."), or NULL. */
const char *graph_error(const struct graph *g);

/* ---- the executor's side ---- */

/* A task as the executor takes it. */
struct graph_task {
    enum graph_kind kind;
    const char *name;
    uint32_t iter, layer;
    uint32_t chunk;          /* graph_tag: 0 by default */
    enum graph_pass pass;    /* graph_tag: forward by default */
    uint32_t gpu;            /* GRAPH_COMPUTE */
    simtime_t dur;           /* GRAPH_COMPUTE */
    struct topo_demand *dem; /* GRAPH_NET: its messages (malloc'd, the taker's to free) */
    size_t ndem;
    uint8_t micro_batch; /* the workload's micro-batch (MoE overlap = dual_batch), else 0 */
};

struct graph_dep_pair {
    uint64_t task, on;
};

/* The tasks between two barriers: tasks first .. first+n-1 and the
 * dependencies between them (every other dependency is a barrier's). */
struct graph_part {
    uint64_t first;
    struct graph_task *task;
    size_t n;
    struct graph_dep_pair *dep;
    size_t ndep;
};

/* Takes the first part that a barrier (or graph_close) ends; 1, or 0 when
 * there is none yet. The part is the caller's: graph_part_free. */
int graph_take(struct graph *g, struct graph_part *p);
/* Ends the graph: the tasks after the last barrier form its last part. */
void graph_close(struct graph *g);
void graph_part_free(struct graph_part *p);

#endif
