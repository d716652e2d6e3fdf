/* driver.c - runs a workload's phases through the packet engine, one after
 * another, and records each phase's start, end, ideal bound and bytes. */
#include <stdlib.h>
#include <string.h>

#include "workloads/moe.h"
#include "workloads/wl.h"

struct drive {
    struct wl_gen *g;
    const struct topo *t;
    uint32_t mtu;
    struct res_phase *ph;
    size_t n, cap;
    size_t outstanding; /* messages of the current network phase not yet delivered */
    int over;
    size_t past_clock; /* 1 + the record of a phase that would end past 2^63 ps */
};

static void next_phase(struct drive *d, struct eng *e);

static struct res_phase *new_record(struct drive *d, const struct wl_phase *p, simtime_t now)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->ph = xrealloc(d->ph, d->cap * sizeof *d->ph);
    }
    struct res_phase *r = &d->ph[d->n++];
    memset(r, 0, sizeof *r);
    r->iter = p->iter;
    r->layer = p->layer;
    r->phase = p->name;
    r->start_ps = now;
    return r;
}

static void on_msg_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end)
{
    (void)tag;
    (void)start;
    struct drive *d = ctx;
    if (--d->outstanding == 0) {
        d->ph[d->n - 1].end_ps = end;
        next_phase(d, e);
    }
}

static void on_timer(void *ctx, struct eng *e, uint64_t tag)
{
    (void)tag;
    struct drive *d = ctx;
    d->ph[d->n - 1].end_ps = eng_now(e);
    next_phase(d, e);
}

/* Starts phases until one is under way (an empty phase ends at once). */
static void next_phase(struct drive *d, struct eng *e)
{
    struct wl_phase p;
    while (!d->over) {
        if (!d->g->next(d->g->state, &p)) {
            d->over = 1;
            return;
        }
        simtime_t now = eng_now(e);
        struct res_phase *r = new_record(d, &p, now);
        if (p.kind == WL_COMPUTE) {
            if (p.duration > (simtime_t)INT64_MAX - now) {
                /* the clock (kept below 2^63 ps) would wrap */
                r->end_ps = now;
                d->past_clock = d->n;
                d->over = 1;
                return;
            }
            r->end_ps = now + p.duration;
            if (p.duration == 0)
                continue;
            eng_timer(e, now + p.duration, 0);
            return;
        }
        size_t live = 0;
        for (size_t i = 0; i < p.ndem; i++)
            if (p.dem[i].bytes && p.dem[i].src != p.dem[i].dst) {
                r->bytes += p.dem[i].bytes;
                live++;
            }
        r->ideal_ps = topo_ideal_ps(d->t, p.dem, p.ndem, d->mtu);
        if (live == 0) {
            r->end_ps = now;
            continue;
        }
        d->outstanding = live;
        for (size_t i = 0; i < p.ndem; i++)
            if (p.dem[i].bytes && p.dem[i].src != p.dem[i].dst)
                eng_add_msg(e, p.dem[i].src, p.dem[i].dst, p.dem[i].bytes, now, d->n - 1);
        return;
    }
}

int wl_drive(struct wl_gen *g, const struct topo *t, const struct cfg *c, struct wl_result *r,
             struct err *e)
{
    struct drive *d = xcalloc(1, sizeof *d);
    d->g = g;
    d->t = t;
    d->mtu = (uint32_t)c->mtu;
    struct eng_hooks h = {d, on_msg_done, on_timer};
    struct eng *eng = eng_create(t, c, &h);
    next_phase(d, eng);
    eng_run(eng);
    r->phases = d->ph;
    r->nphases = d->n;
    r->eng = eng;
    int rc = 0;
    if (d->past_clock) {
        const struct res_phase *p = &d->ph[d->past_clock - 1];
        rc = err_set(e,
                     "workload: the %s phase of iteration %u, layer %u would end past the clock's "
                     "end (%.3g s of simulated time)",
                     p->phase, p->iter, p->layer, (double)INT64_MAX / (double)PS_PER_S);
    }
    free(d);
    return rc;
}

void wl_result_free(struct wl_result *r)
{
    free(r->phases);
    eng_destroy(r->eng);
    memset(r, 0, sizeof *r);
}

int wl_create(const struct cfg *c, const struct topo *t, struct wl_gen *g, struct err *e)
{
    switch (c->wl_kind) {
    case WL_ALLTOALL:
        return wl_alltoall_create(c, t, g, e);
    case WL_PERMUTATION:
        return wl_permutation_create(c, t, g, e);
    case WL_MOE:
        return wl_moe_create(c, t, g, e);
    default:
        return err_set(e, "workload.kind: '%s' is not available in this build",
                       opt_enum_name("workload", "kind", c->wl_kind));
    }
}
