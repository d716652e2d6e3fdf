/* run.c - `moesim run`: every run of a scenario's sweep, through the engine,
 * into the results database, with one summary line per run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "results/res.h"
#include "sim/cli.h"
#include "sim/scenario.h"
#include "topo/topo.h"
#include "workloads/wl.h"

struct run_opts {
    const char *scenario;
    const char **sets;
    size_t nsets;
    int quiet;
};

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct res_link *collect_links(const struct topo *t, const struct eng *eng)
{
    struct res_link *l = xcalloc(t->nports, sizeof *l);
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *tp = &t->ports[p];
        const struct eng_port_stats *st = eng_port(eng, p);
        l[p].link = p;
        l[p].kind = topo_port_kind_name(tp->kind);
        topo_node_name(t, tp->src, l[p].src, sizeof l[p].src);
        topo_node_name(t, tp->dst, l[p].dst, sizeof l[p].dst);
        l[p].gbps = (double)tp->bps / 1e9;
        l[p].bytes = st->bytes;
        l[p].busy_ps = st->busy_ps;
        l[p].max_queue_bytes = st->max_queue_bytes;
        l[p].drops = st->drops;
        l[p].ecn_marks = st->ecn_marks;
    }
    return l;
}

/* Prints the run's line: per phase name, the slowest phase instance against
 * its bound, and the whole run's time. */
static void print_summary(int64_t id, const char *label, const struct wl_result *r,
                          const struct eng_stats *st, double wall)
{
    simtime_t total = 0, net = 0, ideal = 0;
    for (size_t i = 0; i < r->nphases; i++) {
        const struct res_phase *p = &r->phases[i];
        if (p->end_ps > total)
            total = p->end_ps;
        if (p->ideal_ps) {
            net += p->end_ps - p->start_ps;
            ideal += p->ideal_ps;
        }
    }
    printf("run %lld%s%s%s: time %.3f us", (long long)id, label[0] ? " [" : "", label,
           label[0] ? "]" : "", (double)total / 1e6);
    if (ideal)
        printf(", network %.3f us vs ideal %.3f us (x%.3f)", (double)net / 1e6,
               (double)ideal / 1e6, (double)net / (double)ideal);
    printf(", %llu events in %.3f s (%.2f M/s)\n", (unsigned long long)st->events, wall,
           wall > 0 ? (double)st->events / wall / 1e6 : 0.0);
    fflush(stdout);
}

/* One run; returns 0 done, 1 failed (recorded), 2 bad input, 3 the database
 * cannot record a run (disk full, I/O error: the sweep stops). */
static int one_run(struct res_db *db, const struct sc_sweep *s, size_t run,
                   const struct run_opts *o)
{
    const struct cfg *c = sc_run(s, run);
    struct err e;
    int64_t id;
    if (res_run_begin(db, c, sc_path(s), &id, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        return 3;
    }
    double t0 = wall_now();
    struct topo *t = NULL;
    struct wl_gen g = {0};
    struct wl_result r = {0};
    int rc = 0;
    if (topo_build(c, &t, &e) < 0 || wl_create(c, t, &g, &e) < 0 || wl_drive(&g, t, c, &r, &e) < 0) {
        fprintf(stderr, "moesim: %s%s%s\n", sc_path(s), sc_path(s)[0] ? ": " : "", e.msg);
        res_run_fail(db, id, e.msg, NULL);
        rc = 2;
        goto out;
    }
    char inv[512];
    if (eng_check(r.eng, inv, sizeof inv) < 0) {
        fprintf(stderr, "moesim: run %lld failed: %s\n", (long long)id, inv);
        res_run_fail(db, id, inv, NULL);
        rc = 1;
        goto out;
    }
    double wall = wall_now() - t0;
    const struct eng_stats *st = eng_stats(r.eng);
    struct res_link *links = collect_links(t, r.eng);
    struct res_run rr = {opt_enum_name("sim", "engine", c->engine), (uint64_t)c->seed, wall,
                         st->events, st->now, r.phases, r.nphases, links, t->nports};
    if (res_run_finish(db, id, &rr, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        res_run_fail(db, id, e.msg, NULL);
        rc = 1;
    } else if (c->csv[0] && res_csv_phases(c->csv, id, &rr, 1, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        rc = 1;
    }
    if (rc == 0 && !o->quiet) {
        char label[512];
        sc_label(s, run, label, sizeof label);
        print_summary(id, label, &r, st, wall);
    }
    free(links);
out:
    if (r.eng)
        wl_result_free(&r);
    if (g.destroy)
        g.destroy(g.state);
    topo_destroy(t);
    return rc;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "moesim run: %s\nusage: moesim run SCENARIO.ini [--set section.key=value]... "
                    "[--db FILE] [--csv FILE] [--quiet]\n",
            msg);
    return MOESIM_EXIT_INPUT;
}

int sim_run_cli(int argc, char **argv)
{
    struct run_opts o = {0};
    o.sets = xcalloc((size_t)argc + 2, sizeof *o.sets);
    char *dbset = NULL, *csvset = NULL;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--set") || !strcmp(a, "--db") || !strcmp(a, "--csv")) {
            if (i + 1 >= argc) {
                rc = usage_error("missing value after an option");
                goto done;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--set")) {
                o.sets[o.nsets++] = v;
            } else {
                char **slot = !strcmp(a, "--db") ? &dbset : &csvset;
                free(*slot);
                *slot = xmalloc(strlen(v) + 16);
                sprintf(*slot, "output.%s=%s", a + 2, v);
            }
        } else if (!strncmp(a, "--set=", 6)) {
            o.sets[o.nsets++] = a + 6;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = 1;
        } else if (a[0] == '-') {
            char m[256];
            snprintf(m, sizeof m, "unknown option '%s'", a);
            rc = usage_error(m);
            goto done;
        } else if (!o.scenario) {
            o.scenario = a;
        } else {
            rc = usage_error("more than one scenario file");
            goto done;
        }
    }
    if (!o.scenario) {
        rc = usage_error("no scenario file");
        goto done;
    }
    if (dbset)
        o.sets[o.nsets++] = dbset;
    if (csvset)
        o.sets[o.nsets++] = csvset;

    struct err e;
    struct sc_sweep *s;
    if (sc_load(o.scenario, o.sets, o.nsets, &s, &e) < 0) {
        fprintf(stderr, "moesim: %s\n", e.msg);
        rc = MOESIM_EXIT_INPUT;
        goto done;
    }
    struct res_db *db = NULL;
    char dbpath[CFG_STR_MAX] = "";
    size_t n = sc_count(s), done_runs = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cfg *c = sc_run(s, i);
        if (!db || strcmp(dbpath, c->db)) {
            res_close(db);
            db = NULL;
            if (res_open(c->db, &db, &e) < 0) {
                fprintf(stderr, "moesim: %s\n", e.msg);
                rc = MOESIM_EXIT_INPUT;
                break;
            }
            snprintf(dbpath, sizeof dbpath, "%s", c->db);
        }
        int r = one_run(db, s, i, &o);
        if (r == 0)
            done_runs++;
        else
            failed++;
        if (r == 2) {
            rc = MOESIM_EXIT_INPUT;
            break;
        }
        if (r == 3) {
            fprintf(stderr, "moesim: sweep stopped: %zu of %zu runs not run\n", n - i - 1, n);
            rc = 1;
            break;
        }
        if (r)
            rc = 1;
    }
    if (!o.quiet && rc != MOESIM_EXIT_INPUT) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("%zu run%s done, %zu failed; results in %s; peak memory %.1f MiB\n", done_runs,
               done_runs == 1 ? "" : "s", failed, dbpath, (double)ru.ru_maxrss / 1024.0);
    }
    res_close(db);
    sc_free(s);
done:
    free(dbset);
    free(csvset);
    free(o.sets);
    return rc;
}
