/* fault_sched.h - the schedule of faults.fail's events (topo/faults.h), one
 * for both engines (sim/pkt_fault.c, sim/flow_fault.c): each engine's own
 * view of the fabric whose routing table the reroutes switch, the ports
 * failed so far, and the two events per failure (its failure at 2i, its
 * reroute at 2i + 1) with their queue sequence numbers, so that a run with
 * nothing left to simulate cancels them all. What a failure does to the
 * traffic is each engine's (docs/fabrics.md, "Links that fail during a
 * run"; docs/flow-engine.md). */
#ifndef MOESIM_FAULT_SCHED_H
#define MOESIM_FAULT_SCHED_H

#include <stdint.h>

#include "base/evq.h"
#include "topo/topo.h"

/* The engine's push: an event of `kind` and `id` at `at`, its sequence
 * number returned (pkt_push; the flow engine's evq_push with its peak). */
typedef uint64_t (*fault_sched_push_fn)(void *ctx, simtime_t at, uint32_t kind, uint32_t id);

struct fault_sched {
    struct topo view; /* the engine's fabric: the shared one with the current routing */
    const struct topo *orig;
    uint8_t *dead;    /* [nports] */
    uint64_t *seq;    /* [2 * ntfaults]: failure i's event at 2i, its reroute's at 2i + 1 */
    uint8_t *queued;  /* [2 * ntfaults] */
    uint32_t pending; /* fault events queued */
    uint32_t cur;     /* failures routed around (the view has tfaults[cur - 1]'s table) */
    uint32_t kind_fail, kind_reroute;
    fault_sched_push_fn push;
    void *ctx;
};

/* s over fabric t (t->ntfaults failures), the engine's event kinds and
 * push; the view routes by the rows alone (topo_fault_view_init). */
void fault_sched_init(struct fault_sched *s, const struct topo *t, uint32_t kind_fail,
                      uint32_t kind_reroute, fault_sched_push_fn push, void *ctx);
void fault_sched_free(struct fault_sched *s);
/* A run starts (its event queue emptied): every port alive, the starting
 * routes, each failure's event queued at its time. */
void fault_sched_start(struct fault_sched *s);
/* Queues event `slot` (2i: failure i, 2i + 1: its reroute) at `at`. */
void fault_sched_push(struct fault_sched *s, uint32_t slot, simtime_t at);
/* The engine pops event `kind` of failure i: no longer queued; its slot. */
uint32_t fault_sched_popped(struct fault_sched *s, uint32_t kind, uint32_t i);
/* Cancels every fault event still queued in q (the run is over). */
void fault_sched_cancel_all(struct fault_sched *s, struct evq *q);
/* The view routes by the table after the first `cur` failures. */
void fault_sched_route(struct fault_sched *s, uint32_t cur);

#endif
