/* evq.c - 4-ary heap of events ordered by (time, seq); see evq.h. */
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
    free(q->cancelled);
    memset(q, 0, sizeof *q);
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

/* Removes seq from the cancelled set if present; returns whether it was. */
static int take_cancelled(struct evq *q, uint64_t seq)
{
    for (size_t i = 0; i < q->ncancelled; i++)
        if (q->cancelled[i] == seq) {
            q->cancelled[i] = q->cancelled[--q->ncancelled];
            return 1;
        }
    return 0;
}

/* Drops cancelled events from the top. */
static void skip_cancelled(struct evq *q)
{
    while (q->ncancelled && q->n && take_cancelled(q, q->heap[0].seq))
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
    if (q->ncancelled == q->capcancelled) {
        q->capcancelled = q->capcancelled ? 2 * q->capcancelled : 16;
        q->cancelled = xrealloc(q->cancelled, q->capcancelled * sizeof *q->cancelled);
    }
    q->cancelled[q->ncancelled++] = seq;
}

size_t evq_size(const struct evq *q)
{
    return q->n - q->ncancelled;
}
