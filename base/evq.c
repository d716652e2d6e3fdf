/* evq.c - the event queue (evq.h): the earliest entry kept apart at heap[0]
 * above a 4-ary heap of the others, FIFO lanes of events pushed at one
 * delay with their heads in the heap, and lazy cancellation by sequence
 * number through a hash set. */
#include "base/evq.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* One compare of the 128-bit key (time, seq): branch-free (a heap's
 * comparisons are unpredictable) and two instructions of a carry chain. */
static inline int ev_before(const struct ev *a, const struct ev *b)
{
    unsigned __int128 ka = (unsigned __int128)a->time << 64 | a->seq;
    unsigned __int128 kb = (unsigned __int128)b->time << 64 | b->seq;
    return ka < kb;
}

void evq_init(struct evq *q)
{
    memset(q, 0, sizeof *q);
    for (int j = 0; j < EVQ_LANES; j++)
        q->lane[j].key = EVQ_NOKEY;
    q->dead_at = SIMTIME_MAX;
    q->hcap = 1024;
    q->heap = xmalloc(q->hcap * sizeof *q->heap);
}

void evq_destroy(struct evq *q)
{
    free(q->heap);
    free(q->dead);
    free(q->dtime);
    for (int j = 0; j < EVQ_LANES; j++)
        free(q->lane[j].ring);
    memset(q, 0, sizeof *q);
}

void evq_clear(struct evq *q)
{
    q->hn = q->n = 0;
    q->next_seq = 0;
    q->now = 0;
    for (int j = 0; j < EVQ_LANES; j++) {
        q->lane[j].head = q->lane[j].tail = 0;
        q->lane[j].last = 0;
    }
    if (q->ndead) memset(q->dead, 0, q->capdead * sizeof *q->dead);
    q->ndead = 0;
    q->ntimed = q->nuntimed = 0;
    q->dead_at = SIMTIME_MAX;
}

/* ---- the heap: heap[0] the earliest entry (the top); heap[1 .. hn) a
 * 4-ary min-heap of the others rooted at heap[1] (the runner-up), where
 * the children of heap[p] are heap[4p - 2 .. 4p + 1]. A lane whose next
 * event is due next (most tops, on a busy fabric) costs one compare with
 * heap[1] instead of a pass down the heap. */

/* heap[1] while hn is 1: after every event, so that a lane's next event
 * is compared with heap[1] without a look at hn. */
#define EVQ_SENTINEL ((struct ev){UINT64_MAX, UINT64_MAX, 0, 0})

static __attribute__((noinline)) void heap_grow(struct evq *q)
{
    q->hcap *= 2;
    q->heap = xrealloc(q->heap, q->hcap * sizeof *q->heap);
}

/* Puts e, not before heap[0], into the rest (sifting up); hn >= 1. */
static inline void rest_push(struct evq *q, struct ev e)
{
    if (q->hn == q->hcap) heap_grow(q);
    struct ev *h = q->heap;
    size_t i = q->hn++;
    while (i > 1) {
        size_t parent = (i + 2) >> 2;
        if (!ev_before(&e, &h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

/* Places x at the rest's root heap[1] and sinks it to its place. The
 * smallest of four children is picked with conditional moves (a tournament
 * of two pairs). Inline: x stays in registers (passed by value to a call,
 * it went through the stack, a store-forwarding stall). hn >= 2. */
static inline __attribute__((always_inline)) void rest_sift(struct evq *q, struct ev x)
{
    struct ev *h = q->heap;
    size_t n = q->hn, i = 1;
    for (;;) {
        size_t c = 4 * i - 2;
        size_t best;
        if (c + 4 <= n) {
            size_t a = c + ev_before(&h[c + 1], &h[c]);
            size_t b = c + 2 + ev_before(&h[c + 3], &h[c + 2]);
            best = ev_before(&h[b], &h[a]) ? b : a;
        } else if (c < n) {
            best = c;
            for (size_t k = c + 1; k < n; k++)
                best = ev_before(&h[k], &h[best]) ? k : best;
        } else {
            break;
        }
        if (!ev_before(&h[best], &x)) break;
        h[i] = h[best];
        i = best;
    }
    h[i] = x;
}

/* heap[0] leaves and nothing replaces it: the runner-up moves up. */
static __attribute__((noinline)) void heap_pop(struct evq *q)
{
    struct ev *h = q->heap;
    h[0] = h[1];
    size_t n = --q->hn;
    if (n <= 1) {
        h[1] = EVQ_SENTINEL;
        return;
    }
    /* Bottom-up: the hole left at heap[1] goes down to a leaf along the
     * smaller children (three compares a level, not four), then the last
     * entry, which belongs near the bottom, rises from there. */
    struct ev x = h[n];
    size_t i = 1;
    for (;;) {
        size_t c = 4 * i - 2, best;
        if (c + 4 <= n) {
            size_t a = c + ev_before(&h[c + 1], &h[c]);
            size_t b = c + 2 + ev_before(&h[c + 3], &h[c + 2]);
            best = ev_before(&h[b], &h[a]) ? b : a;
        } else if (c < n) {
            best = c;
            for (size_t k = c + 1; k < n; k++)
                best = ev_before(&h[k], &h[best]) ? k : best;
        } else {
            break;
        }
        h[i] = h[best];
        i = best;
    }
    while (i > 1) {
        size_t parent = (i + 2) >> 2;
        if (!ev_before(&x, &h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
}

/* heap[0] leaves and c comes in: c is the new top if it is before the
 * runner-up (one compare), else the runner-up is and c sinks from heap[1]. */
static inline __attribute__((always_inline)) void heap_replace(struct evq *q, struct ev c)
{
    if (ev_before(&c, &q->heap[1])) { /* (a sentinel when hn is 1) */
        q->heap[0] = c;
        return;
    }
    q->heap[0] = q->heap[1];
    rest_sift(q, c);
}

/* Puts e into the heap. */
static void heap_push(struct evq *q, struct ev e)
{
    if (q->hn == 0) {
        q->heap[0] = e;
        q->heap[1] = EVQ_SENTINEL;
        q->hn = 1;
        return;
    }
    if (ev_before(&e, &q->heap[0])) { /* e is the new top; the old one joins the rest */
        struct ev t = q->heap[0];
        q->heap[0] = e;
        e = t;
    }
    rest_push(q, e);
}

/* ---- lanes */

/* Lane l's head (l not empty). */
static inline struct ev *lane_head(const struct evq_lane *l)
{
    return &l->ring[l->head & l->mask];
}

/* Lane j's head as its representative in the heap. */
static inline struct ev lane_rep(const struct evq_lane *l, uint32_t j)
{
    const struct ev *h = lane_head(l);
    return (struct ev){h->time, h->seq, EVQ_LANE, j};
}

/* The first of delay d's two lane slots. */
static inline uint32_t lane_slot(simtime_t d)
{
    return (uint32_t)((d * 0x9E3779B97F4A7C15ull) >> 58) & (EVQ_LANES - 1);
}

/* Empty lane l takes key d (its ring allocated the first time). */
static void lane_claim(struct evq_lane *l, simtime_t d)
{
    l->key = d;
    if (!l->ring) {
        l->ring = xmalloc(64 * sizeof *l->ring);
        l->mask = 63;
    }
}

/* The lane an event at `time` (delay d = time - q->now) joins, or -1 for
 * the heap. Of its delay's two slots: one of key d whose last event is not
 * later, else the heap, and an empty slot takes d as its key: a delay
 * claims a lane when it comes twice in a row, so that delays seen once (a
 * gap on a wire) do not hold lanes. A queue of fewer than EVQ_LANE_MIN
 * events uses its heap alone: small, it stays in the first cache level,
 * where a heap's pass costs less than a lane's bookkeeping. */
static int lane_for(struct evq *q, simtime_t time)
{
    if (q->n < EVQ_LANE_MIN || time < q->now) return -1;
    simtime_t d = time - q->now;
    uint32_t a = lane_slot(d), b = (a + 1) & (EVQ_LANES - 1);
    struct evq_lane *la = &q->lane[a], *lb = &q->lane[b];
    if (la->key == d) return la->last <= time ? (int)a : -1;
    if (lb->key == d) return lb->last <= time ? (int)b : -1;
    if (la->head == la->tail)
        lane_claim(la, d);
    else if (lb->head == lb->tail)
        lane_claim(lb, d);
    return -1;
}

/* Doubles lane l's ring, keeping its order. */
static __attribute__((noinline)) void lane_grow(struct evq_lane *l)
{
    uint32_t n = l->tail - l->head, cap = 2 * (l->mask + 1);
    if (cap <= n) err_fatal("more than %u events in one event-queue lane", n);
    struct ev *r = xmalloc((size_t)cap * sizeof *r);
    for (uint32_t i = 0; i < n; i++)
        r[i] = l->ring[(l->head + i) & l->mask];
    free(l->ring);
    l->ring = r;
    l->head = 0;
    l->tail = n;
    l->mask = cap - 1;
}

/* Puts e at the tail of lane l (its representative, if it was empty, is the
 * caller's to place). */
static inline void lane_append(struct evq_lane *l, struct ev e)
{
    if (l->tail - l->head == l->mask + 1) lane_grow(l);
    l->ring[l->tail++ & l->mask] = e;
    l->last = e.time;
}

/* Puts e into lane j (lane_for) or, for j < 0, the heap. */
static void place(struct evq *q, struct ev e, int j)
{
    if (j < 0) {
        heap_push(q, e);
        return;
    }
    struct evq_lane *l = &q->lane[j];
    lane_append(l, e);
    if (l->tail - l->head == 1) heap_push(q, lane_rep(l, (uint32_t)j));
}

uint64_t evq_push(struct evq *q, simtime_t time, uint32_t kind, uint32_t id)
{
    struct ev e = {time, q->next_seq++, kind, id};
    q->n++;
    place(q, e, lane_for(q, time));
    return e.seq;
}

/* Removes the earliest event: the heap's root, or its lane's head (the
 * lane's next event then stands for it in the heap). */
static void pop_top(struct evq *q)
{
    q->n--;
    struct ev *r = &q->heap[0];
    if (r->kind != EVQ_LANE) {
        heap_pop(q);
        return;
    }
    uint32_t j = r->id;
    struct evq_lane *l = &q->lane[j];
    if (++l->head != l->tail)
        heap_replace(q, lane_rep(l, j));
    else
        heap_pop(q);
}

/* ---- cancellation */

/* A dead set entry: seq + 1, with DEAD_TIMED set where the event was
 * cancelled with its time (evq_cancel_at: its time is in q->dtime). */
#define DEAD_TIMED (1ull << 63)

/* Home slot of seq in the dead set (Fibonacci hashing: sequence numbers are
 * consecutive, the multiplication spreads them). */
static inline size_t dead_home(const struct evq *q, uint64_t seq)
{
    return (size_t)((seq * 0x9E3779B97F4A7C15ull) >> 32) & (q->capdead - 1);
}

/* Inserts entry v (seq + 1, perhaps | DEAD_TIMED). */
static void dead_insert(struct evq *q, uint64_t v)
{
    size_t i = dead_home(q, (v & ~DEAD_TIMED) - 1);
    while (q->dead[i])
        i = (i + 1) & (q->capdead - 1);
    q->dead[i] = v;
    q->ndead++;
}

/* dead_at from the timed and untimed cancelled events held. */
static void dead_at_update(struct evq *q)
{
    q->dead_at = q->nuntimed ? 0 : q->ntimed ? q->dtime[0] : SIMTIME_MAX;
}

/* The least of the timed cancelled events' times leaves (it is the one
 * taken: events reach the top in time order). */
static void dtime_pop(struct evq *q)
{
    simtime_t *h = q->dtime, x = h[--q->ntimed];
    size_t n = q->ntimed, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    if (n) h[i] = x;
}

static void dtime_push(struct evq *q, simtime_t t)
{
    if (q->ntimed == q->captimed) {
        q->captimed = q->captimed ? 2 * q->captimed : 16;
        q->dtime = xrealloc(q->dtime, q->captimed * sizeof *q->dtime);
    }
    simtime_t *h = q->dtime;
    size_t i = q->ntimed++;
    while (i > 0 && h[(i - 1) / 2] > t) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = t;
}

/* Removes seq from the dead set if it is there (backward-shift deletion,
 * no tombstones); returns whether it was. */
static int dead_take(struct evq *q, uint64_t seq)
{
    size_t mask = q->capdead - 1, i = dead_home(q, seq);
    for (; (q->dead[i] & ~DEAD_TIMED) != seq + 1; i = (i + 1) & mask)
        if (!q->dead[i]) return 0;
    if (q->dead[i] & DEAD_TIMED)
        dtime_pop(q);
    else
        q->nuntimed--;
    /* Close the gap at i: pull back every later entry of the run whose home
     * is not in (i, j]. */
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!q->dead[j]) break;
        size_t k = dead_home(q, (q->dead[j] & ~DEAD_TIMED) - 1);
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        q->dead[i] = q->dead[j];
        i = j;
    }
    q->dead[i] = 0;
    q->ndead--;
    dead_at_update(q);
    return 1;
}

/* Drops cancelled events from the top: one look-up per event that reaches
 * it (called only while some are cancelled). */
static void skip_cancelled(struct evq *q)
{
    while (q->ndead && q->hn && evq_top_(q)->time >= q->dead_at && dead_take(q, evq_top_(q)->seq))
        pop_top(q);
}

const struct ev *evq_peek_slow_(struct evq *q)
{
    skip_cancelled(q);
    if (q->hn == 0) return NULL;
    const struct ev *t = evq_top_(q);
    q->now = t->time;
    return t;
}

int evq_pop(struct evq *q, struct ev *out)
{
    const struct ev *t = evq_peek(q);
    if (!t) return 0;
    *out = *t;
    pop_top(q);
    return 1;
}

void evq_drop_top(struct evq *q)
{
    pop_top(q);
}

/* evq_replace_top's general case: the top's removal and e's placing where
 * the fast path does not apply. What takes the top's place is the top's
 * lane's next event (when the top is a lane's head), e itself (in the
 * heap), or the representative of the empty lane e starts; of the two at
 * most, the earlier is offered to heap[0] and the later joins the rest. */
static __attribute__((noinline)) uint64_t replace_slow(struct evq *q, simtime_t time, uint64_t seq,
                                                       uint32_t kind, uint32_t id)
{
    struct ev e = {time, seq, kind, id};
    int j = lane_for(q, time);
    struct ev *r = &q->heap[0];
    if (r->kind != EVQ_LANE) { /* the top is in the heap */
        if (j < 0) {
            heap_replace(q, e);
        } else {
            struct evq_lane *lj = &q->lane[j];
            lane_append(lj, e);
            if (lj->tail - lj->head > 1)
                heap_pop(q);
            else
                heap_replace(q, lane_rep(lj, (uint32_t)j));
        }
        return seq;
    }
    uint32_t k = r->id; /* the top is lane k's head */
    struct evq_lane *lk = &q->lane[k];
    if (j >= 0) {
        struct evq_lane *lj = &q->lane[j];
        int was_empty = lj->head == lj->tail;
        lane_append(lj, e); /* (before lane k's pop: lane k itself may be j) */
        lk->head++;
        if (!was_empty || lj == lk) { /* e is behind a head, or lane k's own next */
            if (lk->head != lk->tail)
                heap_replace(q, lane_rep(lk, k));
            else
                heap_pop(q);
            return seq;
        }
        e = lane_rep(lj, (uint32_t)j); /* e starts lane j: its representative */
    } else {
        lk->head++;
    }
    if (lk->head != lk->tail) { /* e (or lane j) and lane k's next */
        struct ev c = lane_rep(lk, k);
        if (ev_before(&e, &c)) {
            struct ev t = c;
            c = e;
            e = t;
        }
        heap_replace(q, c);
        rest_push(q, e);
    } else {
        heap_replace(q, e);
    }
    return seq;
}

/* heap[0] leaves and the lane event at time, seq2 comes in behind the
 * runner-up: the runner-up moves up and it sinks from heap[1]. Out of
 * line, and returning evq_replace_top's result (seq), so that the common
 * case makes tail calls only and saves no registers. */
static __attribute__((noinline)) uint64_t heap_sink(struct evq *q, simtime_t time, uint64_t seq2,
                                                    uint32_t id, uint64_t seq)
{
    q->heap[0] = q->heap[1];
    rest_sift(q, (struct ev){time, seq2, EVQ_LANE, id});
    return seq;
}

/* heap_pop, returning seq (as heap_sink). */
static __attribute__((noinline)) uint64_t heap_pop_ret(struct evq *q, uint64_t seq)
{
    heap_pop(q);
    return seq;
}

/* The common case first: the top is a lane's head and e goes behind the
 * head of the lane of its delay (either of its two slots), which has room; the top's
 * lane's next event then takes the top's place when it is before the
 * runner-up (heap[0]'s kind and id stay), else it sinks. Everything else:
 * replace_slow. */
uint64_t evq_replace_top(struct evq *q, simtime_t time, uint32_t kind, uint32_t id)
{
    uint64_t seq = q->next_seq++;
    struct ev *r = &q->heap[0];
    if (q->n < EVQ_LANE_MIN || time < q->now || r->kind != EVQ_LANE)
        return replace_slow(q, time, seq, kind, id);
    simtime_t d = time - q->now;
    uint32_t a = lane_slot(d);
    struct evq_lane *la = &q->lane[a];
    if (la->key != d) la = &q->lane[(a + 1) & (EVQ_LANES - 1)]; /* (lane_for's second slot) */
    uint32_t used = la->tail - la->head;
    if (la->key != d || la->last > time || used == 0 || used > la->mask)
        return replace_slow(q, time, seq, kind, id);
    struct ev *t = &la->ring[la->tail++ & la->mask]; /* (before the pop: la may be lk) */
    t->time = time;
    t->seq = seq;
    t->kind = kind;
    t->id = id;
    la->last = time;
    uint32_t k = r->id;
    struct evq_lane *lk = &q->lane[k];
    if (++lk->head == lk->tail) return heap_pop_ret(q, seq);
    const struct ev *h = lane_head(lk);
    if (ev_before(h, &q->heap[1])) { /* (heap[1]: a sentinel when hn is 1) */
        r->time = h->time;
        r->seq = h->seq;
        return seq;
    }
    return heap_sink(q, h->time, h->seq, k, seq);
}

/* Puts entry v into the dead set. */
static void dead_add(struct evq *q, uint64_t v)
{
    if (2 * (q->ndead + 1) > q->capdead) {
        /* grow and rehash: the load stays at most one half */
        uint64_t *old = q->dead;
        size_t oldcap = q->capdead;
        q->capdead = oldcap ? 2 * oldcap : 16;
        q->dead = xcalloc(q->capdead, sizeof *q->dead);
        q->ndead = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i]) dead_insert(q, old[i]);
        free(old);
    }
    dead_insert(q, v);
}

void evq_cancel(struct evq *q, uint64_t seq)
{
    dead_add(q, seq + 1);
    q->nuntimed++;
    dead_at_update(q);
}

void evq_cancel_at(struct evq *q, uint64_t seq, simtime_t time)
{
    dead_add(q, (seq + 1) | DEAD_TIMED);
    dtime_push(q, time);
    dead_at_update(q);
}

void evq_each(const struct evq *q, void (*fn)(const struct ev *ev, void *ctx), void *ctx)
{
    for (size_t i = 0; i < q->hn; i++)
        if (q->heap[i].kind != EVQ_LANE) fn(&q->heap[i], ctx);
    for (int j = 0; j < EVQ_LANES; j++) {
        const struct evq_lane *l = &q->lane[j];
        for (uint32_t i = l->head; i != l->tail; i++)
            fn(&l->ring[i & l->mask], ctx);
    }
}

size_t evq_size(const struct evq *q)
{
    return q->n - q->ndead;
}
