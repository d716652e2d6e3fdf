/* evq.h - the event queue: a 4-ary min-heap ordered by (time, sequence).
 *
 * Events are small values (time, sequence, kind, id) stored in the heap array
 * itself, so a push or pop touches one contiguous array and never allocates on
 * the hot path (the array grows by doubling). The sequence number is assigned
 * at push time, so two events at the same picosecond pop in the order they
 * were pushed: runs are deterministic and never depend on pointer values.
 *
 * Cancellation is lazy, by generation number: the sequence number of an
 * event is unique and never reused, so it names that one push. evq_cancel
 * puts it in a hash set and leaves the event in the heap; when an event
 * reaches the top its number is looked up there (one probe) and, if found,
 * the event is dropped and the number forgotten. Nothing is scanned: cancel,
 * the check and the removal are O(1) expected, and while nothing is
 * cancelled a peek costs one compare of a count with zero, as it always did.
 */
#ifndef MOESIM_EVQ_H
#define MOESIM_EVQ_H

#include <stddef.h>
#include <stdint.h>

#include "base/units.h"

struct ev {
    simtime_t time;
    uint64_t seq;
    uint32_t kind; /* the engine's event type */
    uint32_t id;   /* the object it concerns (port, host, flow, timer) */
};

struct evq {
    struct ev *heap;
    size_t n, cap;
    uint64_t next_seq;
    /* The cancelled events' sequence numbers, not yet dropped: an
     * open-addressing hash set (linear probing) of seq + 1, 0 = empty slot,
     * capdead a power of two at least twice ndead. */
    uint64_t *dead;
    size_t ndead, capdead;
};

void evq_init(struct evq *q);
void evq_destroy(struct evq *q);
/* Empties the queue (keeping its memory); sequence numbers start at 0 again. */
void evq_clear(struct evq *q);
/* Pushes an event and returns its sequence number (the handle for cancel). */
uint64_t evq_push(struct evq *q, simtime_t time, uint32_t kind, uint32_t id);
/* Pops the earliest live event into *out; returns 0 when the queue is empty. */
int evq_pop(struct evq *q, struct ev *out);
/* The earliest live event without removing it; NULL when empty. */
const struct ev *evq_peek(struct evq *q);
/* Removes the event evq_peek() returned. */
void evq_drop_top(struct evq *q);
/* Removes the event evq_peek() returned and pushes another in one pass:
 * the same queue as evq_drop_top() then evq_push(), with less work when the
 * new event is early (a packet's successor on the wire it just left). */
uint64_t evq_replace_top(struct evq *q, simtime_t time, uint32_t kind, uint32_t id);
/* Cancels a pushed, not yet popped event (seq from evq_push or
 * evq_replace_top; cancelling one twice, or one already popped, is a bug). */
void evq_cancel(struct evq *q, uint64_t seq);
/* Live events in the queue. */
size_t evq_size(const struct evq *q);

#endif
