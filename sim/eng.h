/* eng.h - the engine interface: what a workload's driver asks of an engine.
 *
 * An engine simulates messages on a fabric; it knows ports and flows, and
 * nothing of experts or collectives. A driver creates one over a topology and
 * a transport (struct tr_spec), adds messages (src, dst, bytes, start time,
 * tag), runs it until nothing is left, is called back as each message's last
 * byte reaches its destination, and reads its counters, its ports' counters
 * and its invariants. `sim.engine` (enum engine_kind) chooses the engine:
 * each is a table of functions (struct eng_ops) behind these calls, found by
 * eng_ops_find(); eng.c lists them: the packet engine (sim/pkt_eng.h:
 * output-queued ports, window transport, packets hop by hop) and the flow
 * engine (sim/flow_eng.h: max-min fair fluid rates on the same paths,
 * docs/flow-engine.md).
 *
 * The calls below dispatch through e->ops: one indirect call per message
 * added or per run, never per event (an engine's event loop is its own).
 */
#ifndef MOESIM_ENG_H
#define MOESIM_ENG_H

#include <stddef.h>
#include <stdint.h>

#include "base/units.h"
#include "results/res.h"
#include "sim/counters.h"
#include "sim/ethereal.h"
#include "sim/spec.h"
#include "topo/topo.h"

struct eng;

struct eng_hooks {
    void *ctx;
    /* A message has been delivered entirely (receiver side); loss: what
     * recovery cost it so far (NULL: nothing, as without loss recovery). */
    void (*msg_done)(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                     const struct res_flow_loss *loss);
};

/* A message's loss-recovery counters once final: eng_set_msg_loss. */
typedef void (*eng_msg_loss_fn)(void *ctx, struct eng *e, uint64_t tag,
                                const struct res_flow_loss *loss);

/* Per-port counters are the links table's (struct res_port_stats, results/res.h);
 * a run's counters are struct eng_stats (sim/counters.h). */

/* Periodic sampling (a timer): fn(ctx, e, now) runs at first_ps + k*period_ps. */
typedef void (*eng_sample_fn)(void *ctx, const struct eng *e, simtime_t now);

/* An engine: what every call below means is written at its wrapper. */
struct eng_ops {
    const char *name; /* sim.engine's value */
    struct eng *(*create)(const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                          const struct eng_hooks *h);
    void (*destroy)(struct eng *e);
    void (*reset)(struct eng *e, const struct eng_hooks *h, uint64_t salt);
    uint32_t (*add_msg)(struct eng *e, uint32_t src, uint32_t dst, uint64_t bytes, simtime_t start,
                        uint64_t tag);
    uint32_t (*add_msg_paths)(struct eng *e, uint32_t src, uint32_t dst, simtime_t start,
                              uint64_t tag, const struct eth_sub *subs, uint32_t n);
    void (*set_sampler)(struct eng *e, simtime_t first_ps, simtime_t period_ps, eng_sample_fn fn,
                        void *ctx);
    void (*run)(struct eng *e);
    simtime_t (*now)(const struct eng *e);
    const struct eng_stats *(*stats)(const struct eng *e);
    const struct res_port_stats *(*port)(const struct eng *e, uint32_t port);
    uint64_t (*port_backlog)(const struct eng *e, uint32_t port);
    uint64_t (*port_sent)(const struct eng *e, uint32_t port);
    uint64_t (*window)(const struct eng *e);
    int (*check)(const struct eng *e, char *msg, size_t n);
    /* optional (NULL: the engine loses nothing, so counts nothing) */
    void (*set_msg_loss)(struct eng *e, eng_msg_loss_fn fn, void *ctx);
};

/* Every engine's state starts with this. */
struct eng {
    const struct eng_ops *ops;
    const struct topo *t;
};

/* The engine of kind `kind` (enum engine_kind); NULL when this build has
 * none for it. */
const struct eng_ops *eng_ops_find(int kind);

/* Creates the packet engine (sim.engine = packet) over topology t with
 * transport tr; its random choices (the flow hash, spraying) derive from
 * seed (sim.seed) through their own streams (RNG_NET_HASH, RNG_NET_SPRAY in
 * base/rng.h). */
struct eng *eng_create(const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                       const struct eng_hooks *h);
/* The same for the engine of kind `kind`; NULL when there is none. */
struct eng *eng_create_kind(int kind, const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                            const struct eng_hooks *h);

/* Bytes the packet engine holds per fabric port (its queue state), per
 * transport flow, per message and per packet in flight: the sizes of its own
 * structs, for the memory estimate that gates a run (app/validate.c). They
 * are the packet engine's (sim/pkt_eng.c): a second engine would give its
 * own, by kind. */
size_t eng_memory_per_port(void);
size_t eng_memory_per_flow(void);
size_t eng_memory_per_msg(void);
size_t eng_memory_per_packet(void);
/* The same per transport flow with the state its congestion control and
 * loss recovery add under tr (dctcp's and nscc's window state, nscc's ring
 * of send times at its least size, dcqcn's reaction point, recovery's
 * counters and, under selective repeat, its three bitmaps at their least
 * size of 64 packets): a lower bound, as the rest of the estimate is. */
size_t eng_memory_per_flow_tr(const struct tr_spec *tr);
/* The flow engine's (sim/flow_eng.c): bytes per fluid sub alive with `uses`
 * link uses (its struct, its places in the active list, the heap and
 * sorted ends, and per use its struct and its entries in the link's
 * lists), and per message alive (its struct, its free slot, its events);
 * what ended is dropped (sim/flow_compact.c), so these scale with the
 * flows alive at once, not with a run's. */
size_t eng_memory_flow_sub(uint32_t uses);
size_t eng_memory_flow_msg(void);
/* The link uses of a fluid sub between two leaves of s's fabric under tr's
 * path mode, its acknowledgements' included (add_route: a spreading mode
 * takes each inner port of every equal-cost path once, or on a leaf-spine
 * without planes or faults one use of each merged group, flow_group.c). */
uint32_t eng_flow_uses_spec(const struct topo_spec *s, const struct tr_spec *tr);

static inline void eng_destroy(struct eng *e)
{
    if (e) e->ops->destroy(e);
}

/* Adds a message; it starts at `start` (>= now). Returns its id. */
static inline uint32_t eng_add_msg(struct eng *e, uint32_t src, uint32_t dst, uint64_t bytes,
                                   simtime_t start, uint64_t tag)
{
    return e->ops->add_msg(e, src, dst, bytes, start, tag);
}

/* Adds a message sent as the n subflows subs[] (transport.path = ethereal:
 * sim/ethereal.h), each of its bytes on its path number (source routing, no
 * hash); bytes = their sum. Returns its id. */
static inline uint32_t eng_add_msg_paths(struct eng *e, uint32_t src, uint32_t dst, simtime_t start,
                                         uint64_t tag, const struct eth_sub *subs, uint32_t n)
{
    return e->ops->add_msg_paths(e, src, dst, start, tag, subs, n);
}

/* Periodic sampling: fn(ctx, e, now) runs at first_ps + k*period_ps (k = 0,
 * 1, ...; first_ps >= now) for as long as other events remain, so it never
 * keeps a finished run alive and leaves the run's end time and event count
 * as they are. Costs nothing when never set. Call before eng_run. */
static inline void eng_set_sampler(struct eng *e, simtime_t first_ps, simtime_t period_ps,
                                   eng_sample_fn fn, void *ctx)
{
    e->ops->set_sampler(e, first_ps, period_ps, fn, ctx);
}

/* Makes e a fresh engine again (time 0, idle fabric, no messages, counters
 * at zero, hooks h), keeping its memory. Its random choices (spraying, the
 * flow hash) become a function of the run's seed and `salt` (the salt of
 * rng_seed; 0: as after eng_create), so independent parts of a run (its
 * network phases) draw independent choices. */
static inline void eng_reset(struct eng *e, const struct eng_hooks *h, uint64_t salt)
{
    e->ops->reset(e, h, salt);
}

/* fn(ctx, e, tag, loss) runs once per message with its loss-recovery
 * counters (the flows table's retx_bytes, timeouts, nacks) when they are
 * final: once its sender has every acknowledgement and none of its packets
 * is left in the fabric. msg_done's are those at the last byte's arrival;
 * a sender may still resend (or time out) after it, until the last
 * acknowledgement reaches it. Only an engine that recovers losses calls it
 * (the packet engine under transport.recovery, sim/pkt_loss.c), so a
 * message it is never called for counted none. eng_reset forgets it: set
 * it after. */
static inline void eng_set_msg_loss(struct eng *e, eng_msg_loss_fn fn, void *ctx)
{
    if (e->ops->set_msg_loss) e->ops->set_msg_loss(e, fn, ctx);
}

static inline uint32_t eng_nports(const struct eng *e)
{
    return e->t->nports;
}

/* Bytes queued at a port now (still to be serialized), rounded up. */
static inline uint64_t eng_port_backlog(const struct eng *e, uint32_t port)
{
    return e->ops->port_backlog(e, port);
}

/* Bytes whose serialization on the port has ended by now: a packet counts
 * once it has left (its departure, the end of its serialization, is <= now),
 * not when it joins the queue. eng_port()'s bytes also count the packets
 * queued there; the two agree once the port is idle (at the end of a run).
 * Meant for samplers: it may cost a walk over the port's queue. */
static inline uint64_t eng_port_sent(const struct eng *e, uint32_t port)
{
    return e->ops->port_sent(e, port);
}

/* Processes events until none is left. */
static inline void eng_run(struct eng *e)
{
    e->ops->run(e);
}

static inline simtime_t eng_now(const struct eng *e)
{
    return e->ops->now(e);
}

static inline const struct eng_stats *eng_stats(const struct eng *e)
{
    return e->ops->stats(e);
}

static inline const struct res_port_stats *eng_port(const struct eng *e, uint32_t port)
{
    return e->ops->port(e, port);
}

/* The packet engine's default window: one bandwidth-delay product of the
 * longest route at host rate, whole packets of mtu (ack: the bytes of an
 * acknowledgement), bytes. */
uint64_t eng_default_window(const struct topo *t, uint32_t mtu, uint32_t ack);
/* The unloaded round trip of that route (a full packet and its ack), ps;
 * *bps (if not NULL): the host rate the window is computed at. */
simtime_t eng_base_rtt(const struct topo *t, uint32_t mtu, uint32_t ack, uint64_t *bps);
/* Data packets per acknowledgement with transport.ack_every coalescing, as
 * the packet engine's receiver sends them (full packets): every ack_every,
 * or sooner once half its window is unacknowledged; a flow's last packet is
 * always acknowledged, so a flow of P packets has ceil(P / group) of them. */
uint32_t eng_ack_group(const struct topo *t, const struct tr_spec *c);

/* The window each flow uses, bytes (transport.window_bytes, or one BDP). */
static inline uint64_t eng_window(const struct eng *e)
{
    return e->ops->window(e);
}

/* Checks the end-of-run invariants (no event in the past, no counter taken
 * below zero, bytes sent = bytes delivered, every message delivered, no
 * packet left, every flow acknowledged); 0 when they hold, else -1 with a
 * one-line message "invariant: ..." (an unfinished flow is named with its
 * state). The counters behind them cost a compare or an add per event. */
static inline int eng_check(const struct eng *e, char *msg, size_t n)
{
    return e->ops->check(e, msg, n);
}

/* Test-only: when set, an engine's run calls it once at the end with the
 * engine's statistics, which it may alter to break an invariant on purpose
 * (tests/test_invariants.c). NULL in every real run. */
extern void (*eng_test_hook)(struct eng_stats *st);

#endif
