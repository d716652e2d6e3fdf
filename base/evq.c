/* evq.c - 4-ary heap of events ordered by (time, seq), with lazy
 * cancellation by sequence number through a hash set; see evq.h. */
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
    q->cap = 1024;
    q->heap = xmalloc(q->cap * sizeof *q->heap);
}

void evq_destroy(struct evq *q)
{
    free(q->heap);
    free(q->dead);
    memset(q, 0, sizeof *q);
}

void evq_clear(struct evq *q)
{
    q->n = 0;
    q->next_seq = 0;
    if (q->ndead) memset(q->dead, 0, q->capdead * sizeof *q->dead);
    q->ndead = 0;
}

uint64_t evq_push(struct evq *q, simtime_t time, uint32_t kind, uint32_t id)
{
    if (q->n == q->cap) {
        q->cap *= 2;
        q->heap = xrealloc(q->heap, q->cap * sizeof *q->heap);
    }
    struct ev e = {time, q->next_seq++, kind, id};
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) >> 2;
        if (!ev_before(&e, &q->heap[parent])) break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return e.seq;
}

/* Places x at the root and sinks it to its place. The smallest of four
 * children is picked with conditional moves (a tournament of two pairs), not
 * branches. */
static void sift_down(struct evq *q, struct ev x)
{
    struct ev *h = q->heap;
    size_t n = q->n, i = 0;
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

/* Removes the top of the heap. */
static void pop_top(struct evq *q)
{
    struct ev last = q->heap[--q->n];
    if (q->n) sift_down(q, last);
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
    while (q->ndead && q->n && dead_take(q, q->heap[0].seq))
        pop_top(q);
}

int evq_pop(struct evq *q, struct ev *out)
{
    skip_cancelled(q);
    if (q->n == 0) return 0;
    *out = q->heap[0];
    pop_top(q);
    return 1;
}

void evq_drop_top(struct evq *q)
{
    pop_top(q);
}

uint64_t evq_replace_top(struct evq *q, simtime_t time, uint32_t kind, uint32_t id)
{
    struct ev e = {time, q->next_seq++, kind, id};
    sift_down(q, e);
    return e.seq;
}

const struct ev *evq_peek(struct evq *q)
{
    skip_cancelled(q);
    return q->n ? &q->heap[0] : NULL;
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
