/* driver.c - runs a workload's phases through an engine (the one
 * sim.engine names, through sim/eng.h) and records each phase's start, end,
 * ideal bound and bytes; with output.flows each message's completion, with
 * output.sample_ns a periodic sample of every link (bytes whose
 * serialization ended since the last sample, queue; a link's samples add up
 * to its bytes).
 *
 * The model (wl.h): phases run one after another, separated by a barrier.
 * A network phase starts on an idle fabric and ends when its last byte
 * arrives; each is simulated by an engine of its own from time 0, with its
 * random choices salted by the phase's number, and shifted to its start.
 * Network phases are therefore independent of one another, and wl_drive
 * simulates them on wl_set_threads() threads at once; the results are the
 * same whatever the number of threads. With output.sample_ns the phases run
 * one at a time, in order, so every sample lands on the run's global grid.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/moe.h"
#include "workloads/wl.h"

static unsigned wl_threads = 1;

void wl_set_threads(unsigned n)
{
    wl_threads = n ? n : 1;
}

/* A network phase to simulate, and what its engine found. */
struct job {
    size_t rec;       /* its phase record (d->ph moves as it grows: not read by the threads) */
    const char *name; /* the phase's name, iteration and layer, for messages */
    uint32_t iter, layer;
    uint64_t salt; /* network phase number: salts its engine's choices */
    struct topo_demand *dem;
    size_t ndem;
    size_t live;     /* messages not yet delivered */
    simtime_t start; /* global start (sampling runs only, one phase at a time) */
    simtime_t end;   /* last byte delivered, from the phase's start */
    simtime_t last;  /* its engine's last event (acknowledgements drained) */
    struct res_flow *fl;
    size_t nfl;
    struct res_sample *sm;
    size_t nsm, capsm;
    uint64_t *last_bytes; /* sampling: per port, at the previous sample */
    simtime_t period;
    char inv[384];
    struct job *next;
};

struct drive {
    const struct topo *t;
    const struct wl_specs *c;
    struct res_phase *ph;
    size_t n, cap;
    simtime_t *dur;                    /* [n]: each phase's duration */
    struct job *jobs_head, *jobs_tail; /* every job, in phase order */
    struct job *waiting;               /* the next job no thread took yet */
    size_t pending;                    /* jobs created and not finished */
    int closed;                        /* the generator is done */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    /* summed over the phases' engines */
    struct eng_stats st;
    struct eng_port_stats *ports;
};

static struct res_phase *new_record(struct drive *d, const struct wl_phase *p)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->ph = xrealloc(d->ph, d->cap * sizeof *d->ph);
        d->dur = xrealloc(d->dur, d->cap * sizeof *d->dur);
    }
    struct res_phase *r = &d->ph[d->n];
    memset(r, 0, sizeof *r);
    d->dur[d->n++] = 0;
    r->iter = p->iter;
    r->layer = p->layer;
    r->phase = p->name;
    return r;
}

/* The sampler: one row per link that sent bytes or holds a queue, at the
 * run's time (the phase's start plus the engine's clock). */
static void add_sample(struct job *j, simtime_t t, uint32_t port, uint64_t sent, uint64_t q)
{
    if (j->nsm == j->capsm) {
        j->capsm = j->capsm ? 2 * j->capsm : 1024;
        j->sm = xrealloc(j->sm, j->capsm * sizeof *j->sm);
    }
    j->sm[j->nsm++] = (struct res_sample){t, port, sent, q};
}

static void on_sample(void *ctx, const struct eng *e, simtime_t now)
{
    struct job *j = ctx;
    uint32_t nports = eng_nports(e);
    for (uint32_t p = 0; p < nports; p++) {
        uint64_t bytes = eng_port_sent(e, p), q = eng_port_backlog(e, p);
        uint64_t sent = bytes - j->last_bytes[p];
        j->last_bytes[p] = bytes;
        if (sent || q) add_sample(j, j->start + now, p, sent, q);
    }
}

static void on_msg_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end)
{
    (void)e;
    struct job *j = ctx;
    if (j->fl) {
        j->fl[tag].start_ps = start;
        j->fl[tag].end_ps = end;
    }
    if (--j->live == 0) j->end = end;
}

/* Simulates job j on *ep, a fresh engine (made, or reset, here: each thread
 * keeps one, so its memory is not allocated again per phase); folds the
 * engine's counters into d's (under d->mu). */
static void simulate(struct drive *d, struct job *j, struct eng **ep)
{
    const struct wl_specs *c = d->c;
    struct eng_hooks h = {j, on_msg_done};
    if (!*ep) *ep = eng_create_kind(c->sim->engine, d->t, c->tr, (uint64_t)c->sim->seed, &h);
    struct eng *e = *ep;
    eng_reset(e, &h, j->salt);
    if (c->out->flows) j->fl = xcalloc(j->ndem, sizeof *j->fl);
    for (size_t i = 0; i < j->ndem; i++) {
        if (j->fl)
            j->fl[i] = (struct res_flow){
                .src = j->dem[i].src, .dst = j->dem[i].dst, .bytes = j->dem[i].bytes};
        eng_add_msg(e, j->dem[i].src, j->dem[i].dst, j->dem[i].bytes, 0, i);
    }
    j->nfl = j->fl ? j->ndem : 0;
    if (j->period) {
        j->last_bytes = xcalloc(d->t->nports, sizeof *j->last_bytes);
        /* the first point of the run's grid after the phase's start */
        eng_set_sampler(e, (j->start / j->period + 1) * j->period - j->start, j->period, on_sample,
                        j);
    }
    eng_run(e);
    j->last = eng_now(e);
    if (j->period) {
        /* What the links sent after the last sample shows at the first
         * point of the grid at or after the engine's last event (every
         * departure is at or before it, and after the last sample, which is
         * at most one period earlier); the next phase's samples there add to
         * it. So a link's samples add up to its bytes in the links table. */
        simtime_t at = (j->start + j->last + j->period - 1) / j->period * j->period;
        for (uint32_t p = 0; p < d->t->nports; p++) {
            uint64_t sent = eng_port(e, p)->bytes - j->last_bytes[p];
            if (sent) add_sample(j, at, p, sent, 0);
        }
        free(j->last_bytes);
        j->last_bytes = NULL;
    }
    char why[320];
    if (eng_check(e, why, sizeof why) < 0) {
        snprintf(j->inv, sizeof j->inv, "%s, in the %s phase of iteration %u, layer %u", why,
                 j->name, j->iter, j->layer);
    }
    free(j->dem);
    j->dem = NULL;

    const struct eng_stats *s = eng_stats(e);
    pthread_mutex_lock(&d->mu);
    d->st.events += s->events;
    d->st.data_bytes_sent += s->data_bytes_sent;
    d->st.data_bytes_delivered += s->data_bytes_delivered;
    d->st.acks += s->acks;
    d->st.msgs += s->msgs;
    d->st.msgs_done += s->msgs_done;
    d->st.flows += s->flows;
    d->st.past_events += s->past_events;
    d->st.underflows += s->underflows;
    if (s->peak_packets > d->st.peak_packets) d->st.peak_packets = s->peak_packets;
    if (s->peak_events > d->st.peak_events) d->st.peak_events = s->peak_events;
    for (uint32_t p = 0; p < d->t->nports; p++) {
        const struct eng_port_stats *ps = eng_port(e, p);
        struct eng_port_stats *a = &d->ports[p];
        a->bytes += ps->bytes;
        a->busy_ps += ps->busy_ps;
        if (ps->max_queue_bytes > a->max_queue_bytes) a->max_queue_bytes = ps->max_queue_bytes;
        a->drops += ps->drops;
        a->ecn_marks += ps->ecn_marks;
    }
    pthread_mutex_unlock(&d->mu);
}

static void *worker(void *arg)
{
    struct drive *d = arg;
    struct eng *e = NULL;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->waiting && !d->closed)
            pthread_cond_wait(&d->cv_work, &d->mu);
        struct job *j = d->waiting;
        if (!j) break;
        d->waiting = j->next;
        pthread_mutex_unlock(&d->mu);
        simulate(d, j, &e);
        pthread_mutex_lock(&d->mu);
        d->pending--;
        pthread_cond_broadcast(&d->cv_done);
    }
    pthread_mutex_unlock(&d->mu);
    eng_destroy(e);
    return NULL;
}

/* A job for network phase p (record rec); NULL when nothing crosses the
 * network. */
static struct job *new_job(struct drive *d, const struct wl_phase *p, size_t rec, uint64_t salt)
{
    struct res_phase *r = &d->ph[rec];
    size_t live = 0;
    for (size_t i = 0; i < p->ndem; i++)
        if (p->dem[i].bytes && p->dem[i].src != p->dem[i].dst) {
            r->bytes += p->dem[i].bytes;
            live++;
        }
    r->ideal_ps = topo_ideal_ps(d->t, p->dem, p->ndem, (uint32_t)d->c->tr->mtu,
                                d->c->tr->path == PATH_SPLIT ? (uint32_t)d->c->tr->subflows : 1);
    if (!live) return NULL;
    struct job *j = xcalloc(1, sizeof *j);
    j->rec = rec;
    j->name = p->name;
    j->iter = p->iter;
    j->layer = p->layer;
    j->salt = salt;
    j->dem = xmalloc(live * sizeof *j->dem);
    for (size_t i = 0; i < p->ndem; i++)
        if (p->dem[i].bytes && p->dem[i].src != p->dem[i].dst) j->dem[j->ndem++] = p->dem[i];
    j->live = live;
    j->period = d->c->out->sample_ns > 0 ? ns_to_ps((uint64_t)d->c->out->sample_ns) : 0;
    return j;
}

/* Appends j to the list of jobs (under d->mu when threads run). */
static void link_job(struct drive *d, struct job *j)
{
    if (d->jobs_tail)
        d->jobs_tail->next = j;
    else
        d->jobs_head = j;
    d->jobs_tail = j;
}

static int cmp_sample(const void *a, const void *b)
{
    const struct res_sample *x = a, *y = b;
    if (x->t_ps != y->t_ps) return x->t_ps < y->t_ps ? -1 : 1;
    return (x->link > y->link) - (x->link < y->link);
}

/* The phases' samples in time order, those at one point of the grid and one
 * link added up (the last at the first point of the grid at or after the
 * run's end). */
static void gather_samples(struct drive *d, struct wl_result *r)
{
    size_t n = 0;
    for (struct job *j = d->jobs_head; j; j = j->next)
        n += j->nsm;
    if (!n) return;
    struct res_sample *s = xmalloc(n * sizeof *s);
    size_t k = 0;
    for (struct job *j = d->jobs_head; j; j = j->next) {
        memcpy(s + k, j->sm, j->nsm * sizeof *s);
        k += j->nsm;
    }
    qsort(s, n, sizeof *s, cmp_sample);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && s[k - 1].t_ps == s[i].t_ps && s[k - 1].link == s[i].link) {
            s[k - 1].bytes += s[i].bytes;
            s[k - 1].queue_bytes += s[i].queue_bytes;
        } else {
            s[k++] = s[i];
        }
    }
    r->samples = s;
    r->nsamples = k;
}

/* Flow records, numbered in phase order, at the run's time. */
static void gather_flows(struct drive *d, struct wl_result *r)
{
    size_t n = 0;
    for (struct job *j = d->jobs_head; j; j = j->next)
        n += j->nfl;
    if (!n) return;
    r->flows = xmalloc(n * sizeof *r->flows);
    for (struct job *j = d->jobs_head; j; j = j->next) {
        simtime_t at = d->ph[j->rec].start_ps;
        for (size_t i = 0; i < j->nfl; i++) {
            struct res_flow *f = &r->flows[r->nflows];
            *f = j->fl[i];
            f->flow = r->nflows++;
            f->start_ps += at;
            f->end_ps += at;
        }
    }
}

int wl_drive(struct wl_gen *g, const struct topo *t, const struct wl_specs *c, struct wl_result *r,
             struct err *e)
{
    memset(r, 0, sizeof *r);
    if (!eng_ops_find(c->sim->engine))
        return err_set(e, "sim.engine: engine %d is not available in this build", c->sim->engine);
    struct drive *d = xcalloc(1, sizeof *d);
    d->t = t;
    d->c = c;
    d->ports = xcalloc(t->nports, sizeof *d->ports);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv_work, NULL);
    pthread_cond_init(&d->cv_done, NULL);
    /* Sampling needs each phase's start before it is simulated. */
    unsigned nthreads = c->out->sample_ns > 0 ? 1 : wl_threads;
    pthread_t *tid = xcalloc(nthreads, sizeof *tid);
    unsigned started = 0;
    if (nthreads > 1)
        for (; started < nthreads; started++)
            if (pthread_create(&tid[started], NULL, worker, d) != 0) break;

    /* Generate the phases; the threads simulate the network ones meanwhile
     * (at most a few per thread wait, so the demands held stay bounded). */
    struct wl_phase p;
    struct eng *eng = NULL; /* the engine of the phases simulated here */
    uint64_t salt = 0;
    simtime_t clock = 0; /* the run's time so far (one thread: exact) */
    while (g->next(g->state, &p)) {
        size_t rec = d->n;
        new_record(d, &p);
        if (p.kind == WL_COMPUTE) {
            d->dur[rec] = p.duration;
            clock += p.duration;
            continue;
        }
        struct job *j = new_job(d, &p, rec, salt++);
        if (!j) continue;
        if (!started) {
            link_job(d, j);
            j->start = clock;
            simulate(d, j, &eng);
            clock += j->end;
            continue;
        }
        pthread_mutex_lock(&d->mu);
        link_job(d, j);
        if (!d->waiting) d->waiting = j;
        d->pending++;
        pthread_cond_signal(&d->cv_work);
        while (d->pending > 2 * (size_t)started)
            pthread_cond_wait(&d->cv_done, &d->mu);
        pthread_mutex_unlock(&d->mu);
    }
    pthread_mutex_lock(&d->mu);
    d->closed = 1;
    pthread_cond_broadcast(&d->cv_work);
    pthread_mutex_unlock(&d->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    eng_destroy(eng);
    for (struct job *j = d->jobs_head; j; j = j->next)
        d->dur[j->rec] = j->end;

    /* Chain the phases: each starts when the one before ends. */
    int rc = 0;
    simtime_t now = 0, end = 0;
    struct job *j = d->jobs_head;
    for (size_t i = 0; i < d->n; i++) {
        struct res_phase *ph = &d->ph[i];
        ph->start_ps = now;
        if (d->dur[i] > (simtime_t)INT64_MAX - now) {
            /* the clock (kept below 2^63 ps) would wrap */
            ph->end_ps = now;
            d->n = i + 1;
            rc = err_set(e,
                         "workload: the %s phase of iteration %u, layer %u would end past the "
                         "clock's end (%.3g s of simulated time)",
                         ph->phase, ph->iter, ph->layer, (double)INT64_MAX / (double)PS_PER_S);
            break;
        }
        now += d->dur[i];
        ph->end_ps = now;
        if (now > end) end = now;
        if (j && j->rec == i) {
            if (ph->start_ps + j->last > end) end = ph->start_ps + j->last;
            j = j->next;
        }
    }
    d->st.now = end;
    r->st = d->st;
    r->ports = d->ports;
    r->phases = d->ph;
    r->nphases = d->n;
    for (j = d->jobs_head; j; j = j->next)
        if (j->inv[0]) {
            snprintf(r->invariant, sizeof r->invariant, "%s", j->inv);
            break;
        }
    gather_flows(d, r);
    gather_samples(d, r);
    r->ngpu_load = g->gpu_load ? g->gpu_load(g->state, &r->gpu_load) : 0;
    r->ntrace_use = g->trace_use ? g->trace_use(g->state, &r->trace_use) : 0;
    r->nnotes = g->notes ? g->notes(g->state, &r->notes) : 0;
    while (d->jobs_head) {
        j = d->jobs_head;
        d->jobs_head = j->next;
        free(j->fl);
        free(j->sm);
        free(j->dem);
        free(j);
    }
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv_work);
    pthread_cond_destroy(&d->cv_done);
    free(d->dur);
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
    free(r->notes);
    free(r->ports);
    memset(r, 0, sizeof *r);
}

int wl_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e)
{
    memset(g, 0, sizeof *g); /* a generator sets only the hooks it has */
    switch (c->wl->kind) {
    case WL_ALLTOALL:
        return wl_alltoall_create(c, t, g, e);
    case WL_PERMUTATION:
        return wl_permutation_create(c, t, g, e);
    case WL_MOE:
        return wl_moe_create(c, t, g, e);
    default:
        return err_set(e, "workload.kind: kind %d is not available in this build", c->wl->kind);
    }
}
