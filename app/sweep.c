/* sweep.c - the writer's side of a sweep and the worker's simulation of one
 * run (see sweep.h). */
#include "app/sweep.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "topo/topo.h"
#include "workloads/wl.h"

struct sweep_db {
    char path[CFG_STR_MAX];
    struct res_db *db;
    struct res_doneset *done; /* --resume only */
    int broken;               /* it failed to record a run: start no more runs into it */
};

double sweep_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The open database for path (opened on first use); NULL after printing the
 * error. */
static struct sweep_db *sweep_db_for(struct sweep *w, const char *path)
{
    for (size_t i = 0; i < w->ndbs; i++)
        if (!strcmp(w->dbs[i].path, path)) return &w->dbs[i];
    struct err e;
    struct res_db *db;
    if (res_open(path, &db, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        return NULL;
    }
    struct res_doneset *done = NULL;
    if (w->o->resume && res_doneset_load(db, &done, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        res_close(db);
        return NULL;
    }
    w->dbs = xrealloc(w->dbs, (w->ndbs + 1) * sizeof *w->dbs);
    struct sweep_db *d = &w->dbs[w->ndbs++];
    snprintf(d->path, sizeof d->path, "%s", path);
    d->db = db;
    d->done = done;
    d->broken = 0;
    return d;
}

int sweep_init(struct sweep *w, const struct sc_sweep *s, const struct sweep_opts *o)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->o = o;
    w->t0 = sweep_clock();
    w->progress = isatty(2);
    size_t n = sc_count(s);
    w->torun = xcalloc(n ? n : 1, sizeof *w->torun);
    for (size_t i = 0; i < n; i++) {
        const struct cfg *c = sc_run(s, i);
        struct sweep_db *d = sweep_db_for(w, c->out.db);
        if (!d) {
            w->rc = MOESIM_EXIT_INPUT;
            return -1;
        }
        snprintf(w->lastdb, sizeof w->lastdb, "%s", c->out.db);
        struct cfg_params cp;
        cfg_params_make(c, &cp);
        int done = d->done && res_doneset_has(d->done, cp.p, cp.n);
        cfg_params_free(&cp);
        if (done)
            w->skipped++;
        else
            w->torun[w->ntorun++] = i;
    }
    return 0;
}

int sweep_begin(struct sweep *w, size_t index, int64_t *run_id)
{
    const struct cfg *c = sc_run(w->s, index);
    struct sweep_db *d = sweep_db_for(w, c->out.db);
    struct err e;
    if (d && d->broken) {
        /* A database that could not record a run (a full disk, an I/O
         * error) would fail every further run with the same error: they are
         * counted, and sweep_finish says so once. */
        w->not_started++;
    } else if (d) {
        struct cfg_params cp;
        cfg_params_make(c, &cp);
        struct res_run_id id = {cp.p, cp.n, opt_enum_name("sim", "engine", c->sim.engine),
                                c->sim.seed};
        int rc = res_run_begin(d->db, &id, sc_path(w->s), run_id, &e);
        cfg_params_free(&cp);
        if (rc == 0) return 0;
        fprintf(stderr, "moesim: %s\n", e.msg);
        d->broken = 1;
    }
    /* the run never started: it counts as failed */
    w->finished++;
    w->failed++;
    if (w->rc == 0) w->rc = 1;
    return -1;
}

/* The run's line: the whole run's time, the network phases against their
 * bounds, the events and the worker's wall time. */
static void sweep_summary(const struct sweep *w, size_t index, int64_t id, const struct res_run *r)
{
    char label[512];
    sc_label(w->s, index, label, sizeof label);
    simtime_t total = 0, net = 0, ideal = 0;
    for (size_t i = 0; i < r->nphases; i++) {
        const struct res_phase *p = &r->phases[i];
        if (p->end_ps > total) total = p->end_ps;
        if (p->ideal_ps) {
            net += p->end_ps - p->start_ps;
            ideal += p->ideal_ps;
        }
    }
    char shape[256];
    topo_spec_shape(&sc_run(w->s, index)->topo, shape, sizeof shape);
    printf("run %lld%s%s%s: %s, time %.3f us", (long long)id, label[0] ? " [" : "", label,
           label[0] ? "]" : "", shape, (double)total / 1e6);
    if (ideal)
        printf(", network %.3f us vs ideal %.3f us (x%.3f)", (double)net / 1e6, (double)ideal / 1e6,
               (double)net / (double)ideal);
    /* MoE: what a step is (workload.stage, docs/moe-steps.md) */
    const struct cfg *c = sc_run(w->s, index);
    if (c->wl.kind == WL_MOE && total > 0) {
        double steps = (double)c->sim.iterations, s_total = (double)total / 1e12;
        if (c->wl.stage == WL_STAGE_DECODE)
            printf(", decode %.3f us per token", (double)total / 1e6 / steps);
        else
            printf(", prefill %.0f tokens/s", (double)(c->topo.leaves * c->topo.hosts_per_leaf) *
                                                  (double)c->wl.tokens_per_gpu * steps / s_total);
    }
    printf(", %llu events in %.3f s (%.2f M/s)\n", (unsigned long long)r->events, r->wall_s,
           r->wall_s > 0 ? (double)r->events / r->wall_s / 1e6 : 0.0);
    fflush(stdout);
}

static void sweep_progress(const struct sweep *w)
{
    if (!w->progress) return;
    double el = sweep_clock() - w->t0;
    double eta = w->finished ? el / (double)w->finished * (double)(w->ntorun - w->finished) : 0;
    fprintf(stderr, "\r%zu/%zu runs, %.2f M events/s, ETA %.0f s   ", w->finished, w->ntorun,
            el > 0 ? (double)w->events / el / 1e6 : 0.0, eta);
    if (w->finished == w->ntorun) fputc('\n', stderr);
    fflush(stderr);
}

/* The value of note `key` of r, or NULL. */
static const char *sweep_note(const struct res_run *r, const char *key)
{
    for (size_t i = 0; i < r->nnotes; i++)
        if (!strcmp(r->notes[i].key, key)) return r->notes[i].value;
    return NULL;
}

/* Says once per sweep that a calibrated compute model was asked past its
 * last row (its times there are extrapolated, workloads/compute.h); the
 * notes table says for which runs. */
static void sweep_warn_extrapolated(struct sweep *w, size_t index, int64_t id,
                                    const struct res_run *r)
{
    const char *got = sweep_note(r, "compute.max_expert_tokens");
    const char *cal = sweep_note(r, "compute.calibrated_tokens");
    if (w->warned || !got || !cal || strtod(got, NULL) <= strtod(cal, NULL)) return;
    w->warned = 1;
    fprintf(stderr,
            "moesim: warning: run %lld: workload.compute: an expert computed %s tokens at once, "
            "more than the last row of %s (%s tokens): its time is extrapolated from the last "
            "two rows (notes table: compute.max_expert_tokens; said once per sweep)\n",
            (long long)id, got, sc_run(w->s, index)->wl.compute, cal);
}

/* Records a result blob; returns the run's status (0, 1, 2). */
static int sweep_record_blob(struct sweep *w, size_t index, int64_t id, struct sweep_db *d,
                             const struct res_blob *b)
{
    const struct cfg *c = sc_run(w->s, index);
    struct err e;
    if (b->rc) {
        if (b->rc == MOESIM_EXIT_INPUT)
            fprintf(stderr, "moesim: %s%s%s\n", sc_path(w->s), sc_path(w->s)[0] ? ": " : "",
                    b->msg);
        else
            fprintf(stderr, "moesim: run %lld failed: %s\n", (long long)id, b->msg);
        res_run_fail(d->db, id, b->msg, NULL);
        return b->rc;
    }
    /* The CSV first: a run is `done` only when all its outputs are written,
     * so the database and the closing line agree (a run whose CSV could not
     * be written is `failed`, with the reason, and --resume reruns it). */
    if (c->out.csv[0] && res_csv_phases(c->out.csv, id, &b->run, 1, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        res_run_fail(d->db, id, e.msg, NULL);
        return 1;
    }
    if (res_run_finish(d->db, id, &b->run, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        res_run_fail(d->db, id, e.msg, NULL);
        d->broken = 1;
        return 1;
    }
    w->events += b->run.events;
    sweep_warn_extrapolated(w, index, id, &b->run);
    if (!w->o->quiet) sweep_summary(w, index, id, &b->run);
    return 0;
}

void sweep_record(struct sweep *w, size_t index, int64_t run_id, FILE *f, const char *why)
{
    const struct cfg *c = sc_run(w->s, index);
    struct sweep_db *d = sweep_db_for(w, c->out.db);
    struct res_blob b;
    struct err e;
    int rc = 1;
    if (w->progress) /* clear the progress line before any other line */
        fputs("\r\033[K", stderr);
    if (!d) {
        rc = 1;
    } else if (f && res_blob_read(f, &b, &e) == 0) {
        rc = sweep_record_blob(w, index, run_id, d, &b);
        res_blob_free(&b);
    } else {
        const char *m = why ? why : e.msg;
        fprintf(stderr, "moesim: run %lld failed: %s\n", (long long)run_id, m);
        res_run_fail(d->db, run_id, m, NULL);
    }
    w->finished++;
    if (rc == 0)
        w->done++;
    else
        w->failed++;
    if (rc == MOESIM_EXIT_INPUT)
        w->rc = MOESIM_EXIT_INPUT;
    else if (rc && w->rc == 0)
        w->rc = 1;
    sweep_progress(w);
}

int sweep_finish(struct sweep *w)
{
    if (w->not_started)
        fprintf(stderr, "moesim: %zu run%s not started: %s database could not record a run\n",
                w->not_started, w->not_started == 1 ? "" : "s", w->ndbs == 1 ? "the" : "their");
    if (!w->o->quiet && w->rc != MOESIM_EXIT_INPUT) {
        struct rusage self, kids;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        long peak = self.ru_maxrss > kids.ru_maxrss ? self.ru_maxrss : kids.ru_maxrss;
        printf("%zu run%s done, %zu failed", w->done, w->done == 1 ? "" : "s", w->failed);
        if (w->o->resume) printf(", %zu skipped (already done)", w->skipped);
        printf("; results in %s; peak memory %.1f MiB\n", w->lastdb, (double)peak / 1024.0);
    }
    for (size_t i = 0; i < w->ndbs; i++) {
        res_doneset_free(w->dbs[i].done);
        res_close(w->dbs[i].db);
    }
    free(w->dbs);
    free(w->torun);
    return w->rc;
}

/* ---- the worker ---- */

static struct res_link *sweep_links(const struct topo *t, const struct res_port_stats *ports)
{
    struct res_link *l = xcalloc(t->nports, sizeof *l);
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *tp = &t->ports[p];
        l[p].link = p;
        l[p].kind = topo_port_kind_name(tp->kind);
        topo_node_name(t, tp->src, l[p].src, sizeof l[p].src);
        topo_node_name(t, tp->dst, l[p].dst, sizeof l[p].dst);
        l[p].gbps = tp->down ? 0 : (double)tp->bps / 1e9; /* [faults]: down reads 0 */
        l[p].st = ports[p];
    }
    return l;
}

int sweep_simulate(const struct sc_sweep *s, size_t index, FILE *out)
{
    const char *ab = getenv("MOESIM_TEST_ABORT_RUN");
    if (ab && *ab && strtoull(ab, NULL, 10) == index) abort();
    const struct cfg *c = sc_run(s, index);
    double t0 = sweep_clock();
    struct err e;
    struct topo *t = NULL;
    struct wl_gen g = {0};
    struct wl_result r = {0};
    int rc;
    struct wl_specs ws = {&c->wl, &c->pl, &c->sim, &c->tr, &c->out};
    if (topo_build(&c->topo, &t, &e) < 0 || wl_create(&ws, t, &g, &e) < 0 ||
        wl_drive(&g, t, &ws, &r, &e) < 0) {
        rc = res_blob_write(out, MOESIM_EXIT_INPUT, e.msg, NULL);
    } else if (r.run.invariant[0]) {
        rc = res_blob_write(out, 1, r.run.invariant, NULL);
    } else {
        const struct eng_stats *st = &r.run.st;
        struct res_link *links = sweep_links(t, r.run.ports);
        struct res_run rr = {
            .engine = opt_enum_name("sim", "engine", c->sim.engine),
            .seed = (uint64_t)c->sim.seed,
            .wall_s = sweep_clock() - t0,
            .events = st->events,
            .sim_ps = st->now,
            .phases = r.run.phases,
            .nphases = r.run.nphases,
            .links = links,
            .nlinks = t->nports,
            .flows = r.run.flows,
            .nflows = r.run.nflows,
            .samples = r.run.samples,
            .nsamples = r.run.nsamples,
            .gpu_load = r.gpu_load,
            .ngpu_load = r.ngpu_load,
            .trace_use = r.trace_use,
            .ntrace_use = r.ntrace_use,
            .notes = r.notes,
            .nnotes = r.nnotes,
        };
        rc = res_blob_write(out, 0, "", &rr);
        free(links);
    }
    wl_result_free(&r);
    if (g.destroy) g.destroy(g.state);
    topo_destroy(t);
    return rc;
}
