/* evq.h - the event queue: events ordered by (time, sequence), in a 4-ary
 * min-heap whose earliest entry is kept apart, and FIFO lanes.
 *
 * Events are small values (time, sequence, kind, id). The sequence number is
 * assigned at push time, so two events at the same picosecond pop in the
 * order they were pushed: runs are deterministic and never depend on pointer
 * values, and any structure that hands the events out in (time, sequence)
 * order hands out the same events in the same order.
 *
 * Lanes: a simulator's events are mostly pushed a fixed delay after the
 * event being handled (a packet's successor on a wire one serialization
 * later, a packet into an empty queue its serialization plus the link's
 * latency later). The events pushed at one delay d from the last top handed
 * out come in (time, sequence) order by themselves, so they are kept in a
 * FIFO ring, a lane keyed by d, with only the lane's head in the heap (a
 * representative: kind EVQ_LANE, id the lane). A push whose delay has no
 * lane (nor an empty one to take), or that would not go last in its lane
 * (a time before the lane's tail), goes into the heap itself, as every push
 * does while the queue is small (EVQ_LANE_MIN). Lanes are
 * appended at the tail and read at the head, sequentially, and the heap
 * stays small (the lanes' heads and the rest), where a heap of every event
 * had one cache miss per level on large fabrics: the same order, less memory
 * traffic. Arrays grow by doubling; no allocation per event otherwise.
 *
 * The top apart: heap[0] is the earliest entry and heap[1 .. hn) a 4-ary
 * heap of the others, rooted at heap[1] (the runner-up). Most tops on a
 * busy fabric come from the lane of the top before (64-80% on the benches'
 * cases), so when the top's lane's next event is before the runner-up it
 * takes heap[0] with one compare, where a heap with the top at its root
 * compared four children. evq_replace_top's common case (the top a lane's
 * head, the new event behind another lane's head) is a leaf function whose
 * other cases are tail calls. Keys compare as one 128-bit (time, seq).
 *
 * Cancellation is lazy, by generation number: the sequence number of an
 * event is unique and never reused, so it names that one push. evq_cancel
 * puts it in a hash set and leaves the event where it is; when an event
 * reaches the top its number is looked up there (one probe) and, if found,
 * the event is dropped and the number forgotten. Nothing is scanned: cancel,
 * the check and the removal are O(1) expected, and while nothing is
 * cancelled a peek costs one compare of a count with zero, as it always did.
 * A caller that knows the cancelled event's time (evq_cancel_at) spares
 * the look-up for every top before the earliest such time: a finished
 * flow's retransmission timer, cancelled tens of microseconds before it is
 * due, no longer sends every event in between through the hash set.
 */
#ifndef MOESIM_EVQ_H
#define MOESIM_EVQ_H

#include <stddef.h>
#include <stdint.h>

#include "base/units.h"

struct ev {
    simtime_t time;
    uint64_t seq;
    uint32_t kind; /* the engine's event type (never EVQ_LANE) */
    uint32_t id;   /* the object it concerns (port, host, flow, timer) */
};

/* The kind of a lane's representative in the heap (its id: the lane). */
#define EVQ_LANE     UINT32_MAX
#define EVQ_LANES    64   /* a power of two */
#define EVQ_LANE_MIN 1024 /* events held below which pushes go to the heap */

#define EVQ_NOKEY UINT64_MAX /* a lane's key before any delay claims it */

/* A FIFO of events pushed at one delay `key` after the top of their time:
 * ring[i & mask] for head <= i < tail (free-running counters), oldest first. */
struct evq_lane {
    struct ev *ring;
    uint32_t head, tail, mask;
    simtime_t key;
    simtime_t last; /* the time of the event appended last */
};

struct evq {
    struct ev *heap; /* events outside lanes, and each non-empty lane's head: heap[0] the
                      * earliest (the top), heap[1 .. hn) a 4-ary heap of the others */
    size_t hn, hcap;
    size_t n; /* events held (cancelled ones not yet dropped included) */
    uint64_t next_seq;
    simtime_t now; /* the time of the last top handed out: a push at now + d goes to lane d */
    struct evq_lane lane[EVQ_LANES];
    /* The cancelled events' sequence numbers, not yet dropped: an
     * open-addressing hash set (linear probing) of seq + 1, 0 = empty slot,
     * capdead a power of two at least twice ndead. */
    uint64_t *dead;
    size_t ndead, capdead;
    /* The times of the cancelled events cancelled with evq_cancel_at (a
     * binary min-heap of ntimed), and how many were cancelled without one
     * (evq_cancel); dead_at: no cancelled event is before it (the least of
     * those times, 0 while an untimed one is held, SIMTIME_MAX with none),
     * so a peek of an earlier top needs no look-up. */
    simtime_t *dtime;
    size_t ntimed, captimed, nuntimed;
    simtime_t dead_at;
};

void evq_init(struct evq *q);
void evq_destroy(struct evq *q);
/* Empties the queue (keeping its memory); sequence numbers start at 0 again. */
void evq_clear(struct evq *q);
/* Pushes an event and returns its sequence number (the handle for cancel). */
uint64_t evq_push(struct evq *q, simtime_t time, uint32_t kind, uint32_t id);
/* Pops the earliest live event into *out; returns 0 when the queue is empty. */
int evq_pop(struct evq *q, struct ev *out);
/* The earliest event held (heap[0], or the head of the lane it stands
 * for); q->hn > 0. (Internal, for evq_peek.) */
static inline struct ev *evq_top_(const struct evq *q)
{
    struct ev *r = &q->heap[0];
    if (r->kind != EVQ_LANE) return r;
    const struct evq_lane *l = &q->lane[r->id];
    return &l->ring[l->head & l->mask];
}
const struct ev *evq_peek_slow_(struct evq *q);
/* The earliest live event without removing it; NULL when empty. The pointer
 * is good until the next push or removal. Inline: one compare while
 * nothing is cancelled. */
static inline const struct ev *evq_peek(struct evq *q)
{
    if (q->hn == 0) return NULL;
    const struct ev *t = evq_top_(q);
    if (q->ndead && t->time >= q->dead_at) return evq_peek_slow_(q);
    q->now = t->time;
    return t;
}
/* Removes the event evq_peek() returned. */
void evq_drop_top(struct evq *q);
/* Removes the event evq_peek() returned and pushes another: the same queue
 * as evq_drop_top() then evq_push(), with less work when both are in the
 * heap (a heap top replaced in one pass). */
uint64_t evq_replace_top(struct evq *q, simtime_t time, uint32_t kind, uint32_t id);
/* The event k places after the top in the top's lane (k = 0: the top),
 * or NULL when the top is in no lane or its lane holds fewer: what the
 * events soon to come will touch can be prefetched from it. */
static inline const struct ev *evq_lane_ahead(const struct evq *q, uint32_t k)
{
    if (!q->hn || q->heap[0].kind != EVQ_LANE) return NULL;
    const struct evq_lane *l = &q->lane[q->heap[0].id];
    return k < l->tail - l->head ? &l->ring[(l->head + k) & l->mask] : NULL;
}
/* Cancels a pushed, not yet popped event (seq from evq_push or
 * evq_replace_top; cancelling one twice, or one already popped, is a bug). */
void evq_cancel(struct evq *q, uint64_t seq);
/* The same for an event pushed at `time` (exactly the time it was pushed
 * at): tops before it are not looked up. */
void evq_cancel_at(struct evq *q, uint64_t seq, simtime_t time);
/* Calls fn on every event held, cancelled ones not yet dropped included, in
 * no particular order (fn may cancel them). */
void evq_each(const struct evq *q, void (*fn)(const struct ev *ev, void *ctx), void *ctx);
/* Live events in the queue. */
size_t evq_size(const struct evq *q);

#endif
