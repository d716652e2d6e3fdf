/* evq.c - the event queue (evq.h): a 4-ary heap of events ordered by
 * (time, seq), FIFO lanes of events pushed at one delay with their heads in
 * the heap, and lazy cancellation by sequence number through a hash set. */
#include "base/evq.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* Branch-free: the comparisons of a heap are unpredictable, and a
 * mispredicted branch per comparison would cost more than the compare. */
static inline int ev_before(const struct ev *a, const struct ev *b)
{
    return (a->time < b->time) | ((a->time == b->time) & (a->seq < b->seq));
}

void evq_init(struct evq *q)
{
    memset(q, 0, sizeof *q);
    q->hcap = 1024;
    q->heap = xmalloc(q->hcap * sizeof *q->heap);
}

void evq_destroy(struct evq *q)
{
    free(q->heap);
    free(q->dead);
    for (int j = 0; j < EVQ_LANES; j++)
        free(q->lane[j].ring);
    memset(q, 0, sizeof *q);
}

void evq_clear(struct evq *q)
{
    q->hn = q->n = 0;
    q->next_seq = 0;
    q->now = 0;
    for (int j = 0; j < EVQ_LANES; j++)
        q->lane[j].head = q->lane[j].n = 0;
    if (q->ndead) memset(q->dead, 0, q->capdead * sizeof *q->dead);
    q->ndead = 0;
}

/* Puts e into the heap (sifting up from the end). */
static void heap_push(struct evq *q, struct ev e)
{
    if (q->hn == q->hcap) {
        q->hcap *= 2;
        q->heap = xrealloc(q->heap, q->hcap * sizeof *q->heap);
    }
    size_t i = q->hn++;
    while (i > 0) {
        size_t parent = (i - 1) >> 2;
        if (!ev_before(&e, &q->heap[parent])) break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
}

/* Places x at the root and sinks it to its place. The smallest of four
 * children is picked with conditional moves (a tournament of two pairs), not
 * branches. Inline: x stays in registers (passed by value to a call, it went
 * through the stack, stored as fields and loaded as a whole, a stall). */
static inline __attribute__((always_inline)) void sift_down(struct evq *q, struct ev x)
{
    struct ev *h = q->heap;
    size_t n = q->hn, i = 0;
    for (;;) {
        size_t c = 4 * i + 1;
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

/* Removes the heap's root. */
static void heap_pop(struct evq *q)
{
    struct ev last = q->heap[--q->hn];
    if (q->hn) sift_down(q, last);
}

/* Lane j's head as its representative in the heap. */
static inline struct ev lane_rep(const struct evq_lane *l, uint32_t j)
{
    const struct ev *h = &l->ring[l->head];
    return (struct ev){h->time, h->seq, EVQ_LANE, j};
}

/* The lane event e (pushed at delay d from q->now) joins, or -1 for the
 * heap. Of its delay's two slots: one of key d whose tail is not later than
 * e, else an empty one whose key is already d (an empty lane keeps its key
 * as a candidate), else the heap, and an empty slot takes d as its candidate:
 * a delay claims a lane when it comes twice in a row, so that delays seen
 * once (a gap on a wire) do not hold lanes. A queue of fewer than
 * EVQ_LANE_MIN events uses its heap alone: small, it stays in the first
 * cache level, where a heap's pass costs less than a lane's bookkeeping. */
static inline int lane_for(struct evq *q, const struct ev *e)
{
    if (q->n < EVQ_LANE_MIN || e->time < q->now) return -1;
    simtime_t d = e->time - q->now;
    uint32_t a = (uint32_t)((d * 0x9E3779B97F4A7C15ull) >> 58) & (EVQ_LANES - 1);
    uint32_t b = (a + 1) & (EVQ_LANES - 1);
    struct evq_lane *la = &q->lane[a], *lb = &q->lane[b];
    if (la->key == d) {
        if (!la->n || la->ring[(la->head + la->n - 1) & (la->cap - 1)].time <= e->time)
            return (int)a;
        return -1;
    }
    if (lb->key == d) {
        if (!lb->n || lb->ring[(lb->head + lb->n - 1) & (lb->cap - 1)].time <= e->time)
            return (int)b;
        return -1;
    }
    if (!la->n)
        la->key = d;
    else if (!lb->n)
        lb->key = d;
    return -1;
}

/* Doubles lane l's ring, keeping its order. */
static __attribute__((noinline)) void lane_grow(struct evq_lane *l)
{
    uint32_t cap = l->cap ? 2 * l->cap : 64;
    if (cap < l->cap) err_fatal("more than %u events in one event-queue lane", l->cap);
    struct ev *r = xmalloc((size_t)cap * sizeof *r);
    for (uint32_t i = 0; i < l->n; i++)
        r[i] = l->ring[(l->head + i) & (l->cap - 1)];
    free(l->ring);
    l->ring = r;
    l->head = 0;
    l->cap = cap;
}

/* Puts e at the tail of lane l (its representative, if it was empty, is the
 * caller's to place). */
static inline void lane_append(struct evq_lane *l, struct ev e)
{
    if (l->n == l->cap) lane_grow(l);
    l->ring[(l->head + l->n++) & (l->cap - 1)] = e;
}

/* Puts e at the tail of lane j (when the lane was empty, its representative
 * joins the heap). */
static inline void lane_push(struct evq *q, uint32_t j, struct ev e)
{
    struct evq_lane *l = &q->lane[j];
    lane_append(l, e);
    if (l->n == 1) heap_push(q, lane_rep(l, j));
}

/* Puts e into lane j (lane_for), or the heap for j < 0. */
static inline void place(struct evq *q, struct ev e, int j)
{
    if (j >= 0)
        lane_push(q, (uint32_t)j, e);
    else
        heap_push(q, e);
}

uint64_t evq_push(struct evq *q, simtime_t time, uint32_t kind, uint32_t id)
{
    struct ev e = {time, q->next_seq++, kind, id};
    q->n++;
    place(q, e, lane_for(q, &e));
    return e.seq;
}

/* The earliest event held (the heap's root, or the head of the lane it
 * stands for); q->hn > 0. */
static inline struct ev *top_ev(struct evq *q)
{
    struct ev *r = &q->heap[0];
    if (r->kind != EVQ_LANE) return r;
    struct evq_lane *l = &q->lane[r->id];
    return &l->ring[l->head];
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
    l->head = (l->head + 1) & (l->cap - 1);
    if (--l->n)
        sift_down(q, lane_rep(l, j));
    else
        heap_pop(q);
}

/* Home slot of seq in the dead set (Fibonacci hashing: sequence numbers are
 * consecutive, the multiplication spreads them). */
static inline size_t dead_home(const struct evq *q, uint64_t seq)
{
    return (size_t)((seq * 0x9E3779B97F4A7C15ull) >> 32) & (q->capdead - 1);
}

static void dead_insert(struct evq *q, uint64_t seq)
{
    size_t i = dead_home(q, seq);
    while (q->dead[i])
        i = (i + 1) & (q->capdead - 1);
    q->dead[i] = seq + 1;
    q->ndead++;
}

/* Removes seq from the dead set if it is there (backward-shift deletion,
 * no tombstones); returns whether it was. */
static int dead_take(struct evq *q, uint64_t seq)
{
    size_t mask = q->capdead - 1, i = dead_home(q, seq);
    for (; q->dead[i] != seq + 1; i = (i + 1) & mask)
        if (!q->dead[i]) return 0;
    /* Close the gap at i: pull back every later entry of the run whose home
     * is not in (i, j]. */
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!q->dead[j]) break;
        size_t k = dead_home(q, q->dead[j] - 1);
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        q->dead[i] = q->dead[j];
        i = j;
    }
    q->dead[i] = 0;
    q->ndead--;
    return 1;
}

/* Drops cancelled events from the top: one look-up per event that reaches
 * it, and none when nothing is cancelled. */
static inline void skip_cancelled(struct evq *q)
{
    while (q->ndead && q->hn && dead_take(q, top_ev(q)->seq))
        pop_top(q);
}

int evq_pop(struct evq *q, struct ev *out)
{
    skip_cancelled(q);
    if (q->hn == 0) return 0;
    *out = *top_ev(q);
    q->now = out->time;
    pop_top(q);
    return 1;
}

void evq_drop_top(struct evq *q)
{
    pop_top(q);
}

/* evq_replace_top where a lane is involved (the top is a lane's head, or e
 * goes into lane j): the top's removal and e's placing share one pass down
 * the heap where they can, the root giving way to what replaces it (the
 * top's lane's next event, or e, or the representative of the empty lane
 * e starts). */
static __attribute__((noinline)) void replace_lanes(struct evq *q, simtime_t time, uint64_t seq,
                                                    uint32_t kind, uint32_t id, int j)
{
    struct ev e = {time, seq, kind, id}; /* (as fields: a struct copied whole stalled) */
    struct evq_lane *lj = j >= 0 ? &q->lane[j] : NULL;
    if (q->heap[0].kind != EVQ_LANE) { /* the top is in the heap, e goes into lane j */
        lane_append(lj, e);
        if (lj->n > 1)
            heap_pop(q);
        else
            sift_down(q, lane_rep(lj, (uint32_t)j));
        return;
    }
    uint32_t k = q->heap[0].id; /* the top is lane k's head */
    struct evq_lane *lk = &q->lane[k];
    lk->head = (lk->head + 1) & (lk->cap - 1);
    lk->n--;
    if (lj && lj != lk && lj->n) { /* e joins another lane behind its head */
        lane_append(lj, e);
        if (lk->n)
            sift_down(q, lane_rep(lk, k));
        else
            heap_pop(q);
        return;
    }
    if (lj) lane_append(lj, e); /* lane k itself, or an empty lane */
    if (lk->n) {
        sift_down(q, lane_rep(lk, k));
        if (!lj)
            heap_push(q, e);
        else if (lj != lk)
            heap_push(q, lane_rep(lj, (uint32_t)j));
    } else { /* lane k is empty (so e is elsewhere): e, or its lane, takes the root */
        sift_down(q, lj ? lane_rep(lj, (uint32_t)j) : e);
    }
}

uint64_t evq_replace_top(struct evq *q, simtime_t time, uint32_t kind, uint32_t id)
{
    struct ev e = {time, q->next_seq++, kind, id};
    int j = lane_for(q, &e);
    if (j < 0 && q->heap[0].kind != EVQ_LANE)
        sift_down(q, e); /* both in the heap: one pass, as a heap alone does */
    else
        replace_lanes(q, time, e.seq, kind, id, j);
    return e.seq;
}

const struct ev *evq_peek(struct evq *q)
{
    skip_cancelled(q);
    if (q->hn == 0) return NULL;
    const struct ev *t = top_ev(q);
    q->now = t->time;
    return t;
}

void evq_cancel(struct evq *q, uint64_t seq)
{
    if (2 * (q->ndead + 1) > q->capdead) {
        /* grow and rehash: the load stays at most one half */
        uint64_t *old = q->dead;
        size_t oldcap = q->capdead;
        q->capdead = oldcap ? 2 * oldcap : 16;
        q->dead = xcalloc(q->capdead, sizeof *q->dead);
        q->ndead = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i]) dead_insert(q, old[i] - 1);
        free(old);
    }
    dead_insert(q, seq);
}

size_t evq_size(const struct evq *q)
{
    return q->n - q->ndead;
}
