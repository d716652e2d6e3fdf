/* flow_compact.c - the flow engine's memory bounded by the subs alive
 * (flow_eng.h): the subs that ended and their uses are dropped from the
 * engine's arrays once they are most of them.
 *
 * An engine keeps every sub and use from its reset on, and one engine runs
 * a whole group of overlapping network tasks (sim/exec.c): a training
 * step's backward pass with its gradient all-reduce is one group, millions
 * of messages, of which a few hundred thousand are alive at once. Dropping
 * the ended ones renumbers the others in the order they had (a sub's new
 * index is the number of kept subs before it, likewise for uses), so every
 * comparison that breaks a tie by index (the heap of ends on (tend, sub),
 * the sorted ends, the links' lists, the active list) decides as before and
 * the run is the same to the bit; only memory and the indices' values
 * change. Message slots are reused once their message is done (flow_eng.c).
 *
 * Called where no sub or use index is held outside the engine's own
 * structures: before a new message's subs are added (msg_open), never
 * inside a re-solve or while a route is built; not with timed faults
 * (flow_fault.c keeps per-sub arrays and waiting lists of its own). Cost: linear in the subs,
 * uses and list entries held, run when at least half of the subs or uses
 * are dead, so a constant per ended sub.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "sim/flow_eng.h"

/* No compaction below this many uses (small runs keep their arrays). */
uint32_t flow_compact_min = 65536;
uint64_t flow_compact_count;

void flow_compact_maybe(struct flow_eng *e)
{
    if (e->nuses < flow_compact_min || flow_compact_min == UINT32_MAX) return;
    if (e->fault) return; /* timed faults keep per-sub state of their own (flow_fault.c) */
    if (2 * (uint64_t)e->dead_uses > e->nuses || 2 * (uint64_t)e->dead_subs > e->nsubs)
        flow_compact(e);
}

/* The uses are appended sub after sub (add_sub): anything else is a bug. */
static void broken(const char *what)
{
    fprintf(stderr, "moesim: flow_compact: %s\n", what);
    abort();
}

static int hent_cmp(const void *a, const void *b)
{
    const struct fl_hent *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->si > y->si) - (x->si < y->si);
}

/* Whether heap entry h no longer names a sub's end (flow_maxmin.c drops such
 * entries when they reach the top). */
static int entry_stale(const struct flow_eng *e, const struct fl_hent *h)
{
    const struct fl_sub *s = &e->subs[h->si];
    return s->ended || !s->active || s->fresh || s->tend != h->t;
}

void flow_compact(struct flow_eng *e)
{
    uint32_t ns = e->nsubs, nu = e->nuses;
    /* rank[i]: the kept subs before sub i (its new index when kept); sub i
     * is dropped exactly when rank[i + 1] == rank[i]. urank likewise. */
    uint32_t *rank = xmalloc(((size_t)ns + 1) * sizeof *rank);
    uint32_t *urank = xmalloc(((size_t)nu + 1) * sizeof *urank);
    uint32_t k = 0, ku = 0, u = 0;
    for (uint32_t i = 0; i < ns; i++) {
        const struct fl_sub *s = &e->subs[i];
        if (s->use0 != u) broken("a sub's uses out of order");
        rank[i] = k;
        for (uint32_t j = 0; j < s->nuse + s->nack; j++)
            urank[u++] = ku + (s->ended ? 0 : j);
        if (!s->ended) {
            k++;
            ku += s->nuse + s->nack;
        }
    }
    if (u != nu) broken("uses that no sub holds");
    rank[ns] = k;
    urank[nu] = ku;
#define DEAD(si) (rank[(si) + 1] == rank[(si)])

    /* The heap of ends (read before the subs move: staleness is a sub's). */
    if (!e->defer) {
        /* every entry an active sub: renumbered in place, a monotone map
         * keeps the heap's order (hpos unchanged) */
        for (uint32_t i = 0; i < e->neh; i++)
            e->eh[i].si = rank[e->eh[i].si];
    } else {
        /* the sorted ends still ahead and the heap of re-keys, without the
         * stale entries (the top drops those anyway): the first stays
         * sorted, the second is sorted into a valid heap */
        uint32_t m = 0;
        flow_heap_sort_rest(e); /* (its buckets' bounds would not hold) */
        for (uint32_t i = e->psrt; i < e->nsrt; i++)
            if (!entry_stale(e, &e->srt[i]))
                e->srt[m++] = (struct fl_hent){e->srt[i].t, rank[e->srt[i].si]};
        e->nsrt = m;
        e->psrt = 0;
        e->srt_fixed = 0; /* (the renumbering keeps the order; the run at 0 sorted again) */
        e->srt_sorted = m;
        m = 0;
        for (uint32_t i = 0; i < e->neh; i++)
            if (!entry_stale(e, &e->eh[i]))
                e->eh[m++] = (struct fl_hent){e->eh[i].t, rank[e->eh[i].si]};
        e->neh = m;
        qsort(e->eh, m, sizeof *e->eh, hent_cmp); /* ascending: a heap */
    }
    /* The links' lists: the dropped subs' entries out (a deferred engine
     * keeps ended ones), the order kept: every constraint's, the ports' and
     * the merged groups' (flow_group.c) */
    for (uint32_t q = 0; q < e->ncons; q++) {
        struct fl_link *l = &e->links[q];
        uint32_t m = 0;
        for (uint32_t j = 0; j < l->n; j++) {
            uint32_t si = l->sid[j];
            if (DEAD(si)) continue;
            uint32_t old = l->uses[j];
            e->uses[old].pos = m; /* (in its old slot: moved below) */
            l->sid[m] = rank[si];
            l->uses[m] = urank[old];
            m++;
        }
        l->n = m;
        /* its acknowledgement uses (flow_ack.c): active subs only, in place */
        for (uint32_t j = 0; j < l->na; j++)
            l->au[j] = urank[l->au[j]];
    }
    for (uint32_t i = 0; i < e->live_subs; i++)
        e->act[i] = rank[e->act[i]];
    for (uint32_t i = 0; i < e->nfresh; i++)
        e->fresh[i] = rank[e->fresh[i]];
    /* a message not yet started has all its subs, kept: its first's new
     * index; the others' sub0 is not read again */
    for (uint32_t i = 0; i < e->nmsgs; i++)
        if (e->msgs[i].sub0 <= ns) e->msgs[i].sub0 = rank[e->msgs[i].sub0];

    /* Move the kept subs and uses down, in order. */
    for (uint32_t i = 0; i < ns; i++) {
        if (DEAD(i)) continue;
        struct fl_sub s = e->subs[i];
        uint32_t ni = rank[i], nu0 = urank[s.use0];
        for (uint32_t j = 0; j < s.nuse + s.nack; j++) {
            struct fl_use us = e->uses[s.use0 + j];
            us.sub = ni;
            e->uses[nu0 + j] = us;
        }
        s.use0 = nu0;
        e->subs[ni] = s;
        e->fep[ni] = e->fep[i];
    }
#undef DEAD
    e->nsubs = k;
    e->nuses = ku;
    e->dead_subs = e->dead_uses = 0;
    e->compactions++;
    __atomic_fetch_add(&flow_compact_count, 1, __ATOMIC_RELAXED);
    free(rank);
    free(urank);
}
