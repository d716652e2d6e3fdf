/* flow_fault.h - links that fail during a run (faults.fail, topo/faults.h)
 * in the flow engine (sim.engine = flow): flow_fault.c has the model,
 * docs/flow-engine.md ("Links that fail during a run") its description.
 * The hooks flow_eng.c calls; each does nothing the run can see without
 * faults.fail (e->fault is NULL then, and flow_eng.c tests it first). */
#ifndef MOESIM_FLOW_FAULT_H
#define MOESIM_FLOW_FAULT_H

#include "sim/flow_eng.h"

/* The engine's own view of t (e->base.t points at it), whose routing table
 * the reroutes switch, and its per-sub records. */
void flow_fault_create(struct flow_eng *e, const struct topo *t);
void flow_fault_destroy(struct flow_eng *e);
/* A run starts (the engine was created or reset): every link up, the
 * starting routes, each failure's event queued. */
void flow_fault_start(struct flow_eng *e);
/* Sub si was built on path value k: ECMP and split pass the value before
 * the later switches' hashes (flow_route_path reads it), ethereal its path
 * number, the spreading modes UINT32_MAX. */
void flow_fault_note(struct flow_eng *e, uint32_t si, uint32_t k);
/* Sub si's message starts: 1 when the sub must not start as it is (its
 * route crosses a failed link, or was built on a routing table since
 * replaced): it then waits for the reroute or starts again on the current
 * routes as a new sub of its message. */
int flow_fault_hold(struct flow_eng *e, uint32_t si);
/* FEV_FAIL or FEV_REROUTE of failure i; `before`: the last event's time. */
void flow_fault_event(struct flow_eng *e, uint32_t kind, uint32_t i, simtime_t before);
/* The fault events queued when nothing waits for them (no flow stalled): a
 * sampler stops when only these are left. 0 without faults. */
uint32_t flow_fault_idle(const struct flow_eng *e);
/* Subs stalled, waiting for a reroute. */
uint32_t flow_fault_waiting(const struct flow_eng *e);

#endif
