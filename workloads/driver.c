/* driver.c - runs a workload's phases through the packet engine, one after
 * another, and records each phase's start, end, ideal bound and bytes; with
 * output.flows each message's completion, with output.sample_ns a periodic
 * sample of every link (bytes sent since the last sample, queue). */
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
    int record_flows; /* message tags index fl[] */
    struct res_flow *fl;
    size_t nfl, capfl;
    struct res_sample *sm;
    size_t nsm, capsm;
    uint64_t *last_bytes; /* per port, at the previous sample */
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

/* A flow record for a message about to start; returns its index (the tag). */
static uint64_t new_flow(struct drive *d, const struct topo_demand *m, simtime_t now)
{
    if (d->nfl == d->capfl) {
        d->capfl = d->capfl ? 2 * d->capfl : 256;
        d->fl = xrealloc(d->fl, d->capfl * sizeof *d->fl);
    }
    struct res_flow *f = &d->fl[d->nfl];
    f->flow = d->nfl;
    f->src = m->src;
    f->dst = m->dst;
    f->bytes = m->bytes;
    f->start_ps = f->end_ps = now;
    return d->nfl++;
}

/* The sampler: one row per link that sent bytes or holds a queue. */
static void on_sample(void *ctx, const struct eng *e, simtime_t now)
{
    struct drive *d = ctx;
    for (uint32_t p = 0; p < d->t->nports; p++) {
        uint64_t bytes = eng_port(e, p)->bytes, q = eng_port_backlog(e, p);
        uint64_t sent = bytes - d->last_bytes[p];
        d->last_bytes[p] = bytes;
        if (!sent && !q)
            continue;
        if (d->nsm == d->capsm) {
            d->capsm = d->capsm ? 2 * d->capsm : 1024;
            d->sm = xrealloc(d->sm, d->capsm * sizeof *d->sm);
        }
        d->sm[d->nsm++] = (struct res_sample){now, p, sent, q};
    }
}

static void on_msg_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end)
{
    struct drive *d = ctx;
    if (d->record_flows) {
        d->fl[tag].start_ps = start;
        d->fl[tag].end_ps = end;
    }
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
                eng_add_msg(e, p.dem[i].src, p.dem[i].dst, p.dem[i].bytes, now,
                            d->record_flows ? new_flow(d, &p.dem[i], now) : d->n - 1);
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
    d->record_flows = c->flows;
    if (c->sample_ns > 0) {
        d->last_bytes = xcalloc(t->nports, sizeof *d->last_bytes);
        eng_set_sampler(eng, ns_to_ps((uint64_t)c->sample_ns), on_sample, d);
    }
    next_phase(d, eng);
    eng_run(eng);
    r->phases = d->ph;
    r->nphases = d->n;
    r->flows = d->fl;
    r->nflows = d->nfl;
    r->samples = d->sm;
    r->nsamples = d->nsm;
    r->gpu_load = NULL;
    r->ngpu_load = g->gpu_load ? g->gpu_load(g->state, &r->gpu_load) : 0;
    r->trace_use = NULL;
    r->ntrace_use = g->trace_use ? g->trace_use(g->state, &r->trace_use) : 0;
    r->eng = eng;
    free(d->last_bytes);
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
    free(r->flows);
    free(r->samples);
    free(r->gpu_load);
    free(r->trace_use);
    eng_destroy(r->eng);
    memset(r, 0, sizeof *r);
}

int wl_create(const struct cfg *c, const struct topo *t, struct wl_gen *g, struct err *e)
{
    memset(g, 0, sizeof *g); /* a generator sets only the hooks it has */
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
