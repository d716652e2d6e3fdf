/* engine.h - the packet-level engine: output-queued ports, window transports.
 *
 * The engine knows ports, packets and flows; it knows nothing of experts or
 * collectives. A workload adds messages (src, dst, bytes, start time, tag);
 * the engine splits each into transport flows (one, or transport.subflows for
 * path=split), sends them as packets of at most transport.mtu bytes under a
 * window, and calls the workload back when a message's last byte has reached
 * its destination.
 *
 * Port model: every port is a FIFO output queue feeding one link. A packet
 * that joins a port's queue leaves it when every byte ahead of it has been
 * serialized (FIFO, work conserving), so its departure time is known on
 * arrival: the engine computes it at once instead of scheduling a
 * "transmission done" event per hop. Packets on a link are kept in a per-link
 * FIFO (they cannot overtake one another) and only the head's arrival is in
 * the event queue. One event per packet per hop, plus one per data packet at
 * the sending NIC, which serves its ready flows round robin, a packet at a
 * time. Finite buffers, ECN marks and drops are decided at the same place
 * (enqueue), so they fit this model; per-port counters for them exist.
 */
#ifndef MOESIM_ENGINE_H
#define MOESIM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/units.h"
#include "results/res.h"
#include "sim/counters.h"
#include "sim/spec.h"
#include "topo/topo.h"

struct eng;

struct eng_hooks {
    void *ctx;
    /* A message has been delivered entirely (receiver side). */
    void (*msg_done)(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end);
};

/* Creates an engine over topology t with transport tr; its random choices
 * (the flow hash, spraying) derive from seed (sim.seed) through their own
 * streams (RNG_NET_HASH, RNG_NET_SPRAY in base/rng.h). */
struct eng *eng_create(const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                       const struct eng_hooks *h);
void eng_destroy(struct eng *e);

/* Bytes the engine holds per fabric port (its queue state), per transport
 * flow, per message and per packet in flight: the sizes of its own structs,
 * for the memory estimate that gates a run (app/validate.c). */
size_t eng_memory_per_port(void);
size_t eng_memory_per_flow(void);
size_t eng_memory_per_msg(void);
size_t eng_memory_per_packet(void);

/* Adds a message; it starts at `start` (>= now). Returns its id. */
uint32_t eng_add_msg(struct eng *e, uint32_t src, uint32_t dst, uint64_t bytes, simtime_t start,
                     uint64_t tag);
/* Periodic sampling: fn(ctx, e, now) runs at first_ps + k*period_ps (k = 0,
 * 1, ...; first_ps >= now) for as long as other events remain, so it never keeps a finished run
 * alive and leaves the run's end time and event count as they are. Costs
 * nothing when never set. Call before eng_run. */
typedef void (*eng_sample_fn)(void *ctx, const struct eng *e, simtime_t now);
void eng_set_sampler(struct eng *e, simtime_t first_ps, simtime_t period_ps, eng_sample_fn fn,
                     void *ctx);
/* Makes e a fresh engine again (time 0, idle fabric, no messages, counters
 * at zero, hooks h), keeping its memory. Its random choices (spraying, the
 * flow hash) become a function of the run's seed and `salt` (the salt of
 * rng_seed; 0: as after eng_create), so independent parts of a run (its
 * network phases) draw independent choices. */
void eng_reset(struct eng *e, const struct eng_hooks *h, uint64_t salt);
uint32_t eng_nports(const struct eng *e);
/* Bytes queued at a port now (still to be serialized), rounded up. */
uint64_t eng_port_backlog(const struct eng *e, uint32_t port);
/* Bytes whose serialization on the port has ended by now: a packet counts
 * once it has left (its departure, the end of its serialization, is <= now),
 * not when it joins the queue. eng_port()'s bytes also count the packets
 * queued there; the two agree once the port is idle (at the end of a run).
 * Found from the packets on the port's wire, which are in departure order,
 * so it costs nothing per packet: only the queued packets are read, and only
 * when it is called (by a sampler). */
uint64_t eng_port_sent(const struct eng *e, uint32_t port);
/* Processes events until none is left. */
void eng_run(struct eng *e);

simtime_t eng_now(const struct eng *e);
const struct eng_stats *eng_stats(const struct eng *e);
const struct res_port_stats *eng_port(const struct eng *e, uint32_t port);
/* The window each flow uses, bytes (transport.window_bytes, or one BDP). */
uint64_t eng_window(const struct eng *e);
/* Checks the end-of-run invariants (no event in the past, no counter taken
 * below zero, bytes sent = bytes delivered, every message delivered, no
 * packet left, every flow acknowledged); 0 when they hold, else -1 with a
 * one-line message "invariant: ..." (an unfinished flow is named with its
 * state). The counters behind them cost a compare or an add per event. */
int eng_check(const struct eng *e, char *msg, size_t n);

/* Test-only: when set, eng_run() calls it once at the end with the engine's
 * statistics, which it may alter to break an invariant on purpose
 * (tests/test_invariants.c). NULL in every real run. */
extern void (*eng_test_hook)(struct eng_stats *st);

#endif
