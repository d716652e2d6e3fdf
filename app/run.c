/* run.c - `moesim run`: every run of a scenario's sweep, through the engine,
 * into the results database, with one summary line per run.
 *
 * Runs go to --jobs worker processes, each simulating one run at a time, so
 * a crash loses only the run it was on (the parent starts another worker).
 * The parent is the single writer: it begins a run (`running` row, params)
 * before handing it to a worker, the worker simulates and sends its result
 * blob back through a pipe, and the parent records the blob in one
 * transaction (res_run_finish). A worker that dies, or leaves no complete
 * blob, makes its run `failed`; the other runs go on. Run ids follow
 * the sweep's order whatever --jobs is, and every run is deterministic, so
 * the rows equal those of --jobs 1 (only the summary lines' order and the
 * wall-clock columns differ). Under `mpirun`, a build with MOESIM_MPI hands
 * the sweep to run_mpi.c instead.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/sweep.h"
#include "workloads/wl.h"

#define RUN_USAGE                                                                                  \
    "usage: moesim run SCENARIO.ini [--set section.key=value]... [--db FILE] [--csv FILE] "        \
    "[--jobs N] [--threads N] [--resume] [--quiet]\n"

/* A run in a worker. */
struct job {
    size_t index;
    int64_t id;
};

/* A worker process: it simulates the runs the parent hands it (their indices,
 * through its order pipe), one at a time, and answers each through its answer
 * pipe with the result blob's length and bytes (length UINT64_MAX: it could
 * not serialize the result). Forking once per worker rather than once per
 * run, and no temporary files, matter on small runs: on this VM a fork and
 * its page faults cost more than simulating a 16-host all-to-all. A worker
 * that dies (crash, kill) loses only the run it was on; the parent starts
 * another. */
struct worker {
    pid_t pid;
    int cmd, done; /* pipes: orders to the worker, answers from it */
    int busy;
    struct job j;
};

static int usage_error(const char *msg)
{
    fprintf(stderr, "moesim run: %s\n" RUN_USAGE, msg);
    return MOESIM_EXIT_INPUT;
}

static int io_full(int fd, void *buf, size_t n, int writing)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = writing ? write(fd, p + got, n - got) : read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static _Noreturn void worker_loop(const struct sc_sweep *s, int cmd, int done)
{
    uint64_t index;
    while (io_full(cmd, &index, sizeof index, 0) == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int ok = f && sweep_simulate(s, (size_t)index, f) == 0;
        if (f && fclose(f) != 0) ok = 0;
        uint64_t n = ok ? (uint64_t)len : UINT64_MAX;
        if (io_full(done, &n, sizeof n, 1) < 0 || (ok && io_full(done, buf, len, 1) < 0)) _exit(3);
        free(buf);
    }
    _exit(0);
}

/* Starts worker k (its pipes and process); -1 when it cannot. */
static int worker_spawn(struct sweep *w, struct worker *pool, long jobs, long k)
{
    int c[2], d[2];
    if (pipe(c) < 0) return -1;
    if (pipe(d) < 0) {
        close(c[0]);
        close(c[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        /* The worker: never touches the parent's SQLite connections, and
         * holds no other worker's pipe (so a dead worker's pipe reads EOF). */
        for (long i = 0; i < jobs; i++)
            if (i != k && pool[i].pid > 0) {
                close(pool[i].cmd);
                close(pool[i].done);
            }
        close(c[1]);
        close(d[0]);
        worker_loop(w->s, c[0], d[1]);
    }
    close(c[0]);
    close(d[1]);
    if (pid < 0) {
        close(c[1]);
        close(d[0]);
        return -1;
    }
    pool[k] = (struct worker){.pid = pid, .cmd = c[1], .done = d[0]};
    return 0;
}

/* Begins run `index` (its `running` row) and hands it to worker k; -1 when
 * it could not be begun or handed over (then recorded as failed). */
static int job_start(struct sweep *w, size_t index, struct worker *wk)
{
    struct job *j = &wk->j;
    if (sweep_begin(w, index, &j->id) < 0) return -1;
    j->index = index;
    wk->busy = 1;
    uint64_t order = index;
    /* If the worker is gone, the write fails and its answer pipe's EOF
     * reports the run. */
    (void)io_full(wk->cmd, &order, sizeof order, 1);
    return 0;
}

/* Records worker wk's run: its blob (len bytes of buf), or why there is
 * none. */
static void job_collect(struct sweep *w, struct worker *wk, char *buf, size_t len, const char *why)
{
    struct job *j = &wk->j;
    FILE *f = why ? NULL : fmemopen(buf, len ? len : 1, "rb");
    char m[160] = "";
    if (!why && !f) {
        snprintf(m, sizeof m, "cannot read the worker's result: %s", strerror(errno));
        why = m;
    }
    sweep_record(w, j->index, j->id, f, why);
    if (f) fclose(f);
    wk->busy = 0;
}

/* Why a worker process ended, from its wait status. */
static void death_reason(int status, char *why, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(why, n, "worker killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(why, n, "worker exited with status %d without a result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Ends worker wk (closed pipes, reaped process). */
static void worker_reap(struct worker *wk, int *status)
{
    close(wk->cmd);
    close(wk->done);
    while (waitpid(wk->pid, status, 0) < 0 && errno == EINTR)
        ;
    wk->pid = 0;
}

/* Runs w->torun on at most `jobs` worker processes. */
static void run_pool(struct sweep *w, long jobs)
{
    if ((size_t)jobs > w->ntorun) jobs = w->ntorun ? (long)w->ntorun : 1;
    struct worker *pool = xcalloc((size_t)jobs, sizeof *pool);
    struct pollfd *pf = xcalloc((size_t)jobs, sizeof *pf);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    size_t next = 0;
    for (;;) {
        /* Hand out runs to idle workers, starting workers as needed. */
        for (long k = 0; k < jobs; k++) {
            while (!pool[k].busy && w->rc != MOESIM_EXIT_INPUT && next < w->ntorun) {
                if (!pool[k].pid && worker_spawn(w, pool, jobs, k) < 0) {
                    size_t index = w->torun[next++];
                    int64_t id;
                    char m[128];
                    snprintf(m, sizeof m, "cannot start a worker: %s", strerror(errno));
                    if (sweep_begin(w, index, &id) == 0) sweep_record(w, index, id, NULL, m);
                    continue;
                }
                job_start(w, w->torun[next++], &pool[k]);
            }
        }
        size_t busy = 0;
        for (long k = 0; k < jobs; k++) {
            pf[k] = (struct pollfd){pool[k].busy ? pool[k].done : -1, POLLIN, 0};
            busy += pool[k].busy != 0;
        }
        if (busy == 0) break;
        if (poll(pf, (nfds_t)jobs, -1) < 0) {
            if (errno == EINTR) continue;
            err_fatal("poll: %s", strerror(errno));
        }
        for (long k = 0; k < jobs; k++) {
            if (!pool[k].busy || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            uint64_t len;
            char *buf = NULL;
            int got = io_full(pool[k].done, &len, sizeof len, 0) == 0;
            if (got && len == UINT64_MAX) {
                job_collect(w, &pool[k], NULL, 0, "the worker could not serialize its result");
                continue;
            }
            if (got && len > ((uint64_t)1 << 40)) got = 0;
            if (got) {
                buf = malloc(len ? len : 1);
                got = buf && io_full(pool[k].done, buf, len, 0) == 0;
            }
            if (got) {
                job_collect(w, &pool[k], buf, len, NULL);
            } else {
                int status = 0;
                char why[128];
                worker_reap(&pool[k], &status);
                death_reason(status, why, sizeof why);
                job_collect(w, &pool[k], NULL, 0, why);
            }
            free(buf);
        }
    }
    /* No more orders: each worker sees EOF and exits. */
    for (long k = 0; k < jobs; k++)
        if (pool[k].pid) {
            int status;
            worker_reap(&pool[k], &status);
        }
    signal(SIGPIPE, old_pipe);
    free(pf);
    free(pool);
}

/* Whether every run to do has several network phases (wl_multiphase: an MoE
 * workload, or more than one iteration), which --threads can simulate at
 * once. */
static int runs_multiphase(const struct sweep *w)
{
    for (size_t i = 0; i < w->ntorun; i++) {
        const struct cfg *c = sc_run(w->s, w->torun[i]);
        struct wl_specs ws = {&c->wl, &c->pl, &c->sim, &c->tr, &c->out};
        if (!wl_multiphase(&ws)) return 0;
    }
    return w->ntorun > 0;
}

/* The cores between runs (--jobs worker processes) and the network phases
 * of each run (--threads). Given neither: runs of several phases get the
 * cores for their phases, one run at a time (two threads on a run beat two
 * runs side by side, measured in bench/README.md);
 * single-phase runs get a worker per core. Given one, the other divides
 * what is left. */
static void split_cores(const struct sweep *w, const struct sweep_opts *o, long *jobs,
                        long *threads)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    *jobs = o->jobs;
    *threads = o->threads;
    if (!*jobs && !*threads && runs_multiphase(w)) {
        *jobs = 1;
        *threads = cores;
        return;
    }
    if (!*jobs) *jobs = *threads ? (cores / *threads > 0 ? cores / *threads : 1) : cores;
    long busy = (size_t)*jobs < w->ntorun ? *jobs : (long)w->ntorun;
    if (!*threads) *threads = cores / (busy > 0 ? busy : 1);
    if (*threads < 1) *threads = 1;
}

/* Parses the arguments into o; returns 0, or the exit status of an error. */
static int parse_args(int argc, char **argv, struct sweep_opts *o, char **dbset, char **csvset)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--set") || !strcmp(a, "--db") || !strcmp(a, "--csv") ||
            !strcmp(a, "--jobs") || !strcmp(a, "-j") || !strcmp(a, "--threads")) {
            if (i + 1 >= argc) return usage_error("missing value after an option");
            const char *v = argv[++i];
            if (!strcmp(a, "--set")) {
                o->sets[o->nsets++] = v;
            } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j") || !strcmp(a, "--threads")) {
                int thr = !strcmp(a, "--threads");
                char *end;
                errno = 0;
                long n = strtol(v, &end, 10);
                if (end == v || *end || errno || n < 1 || n > 4096) {
                    char m[256];
                    snprintf(m, sizeof m, "%s: expected a number of %s 1..4096, got '%.64s'", a,
                             thr ? "threads" : "workers", v);
                    return usage_error(m);
                }
                if (thr)
                    o->threads = n;
                else
                    o->jobs = n;
            } else {
                char **slot = !strcmp(a, "--db") ? dbset : csvset;
                free(*slot);
                *slot = xmalloc(strlen(v) + 16);
                sprintf(*slot, "output.%s=%s", a + 2, v);
            }
        } else if (!strncmp(a, "--set=", 6)) {
            o->sets[o->nsets++] = a + 6;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--resume")) {
            o->resume = 1;
        } else if (a[0] == '-') {
            char m[256];
            snprintf(m, sizeof m, "unknown option '%.200s'", a);
            return usage_error(m);
        } else if (!o->scenario) {
            o->scenario = a;
        } else {
            return usage_error("more than one scenario file");
        }
    }
    if (!o->scenario) return usage_error("no scenario file");
    if (*dbset) o->sets[o->nsets++] = *dbset;
    if (*csvset) o->sets[o->nsets++] = *csvset;
    return 0;
}

int sim_run_cli(int argc, char **argv)
{
    struct sweep_opts o = {0};
    o.sets = xcalloc((size_t)argc + 2, sizeof *o.sets);
    char *dbset = NULL, *csvset = NULL;
    int rc = parse_args(argc, argv, &o, &dbset, &csvset);
    if (rc == 0) {
        rc = sweep_mpi(&o, &argc, &argv);
        if (rc < 0) {
            rc = 0;
            struct err e;
            struct sc_sweep *s;
            struct sweep w;
            if (sc_load(o.scenario, o.sets, o.nsets, &s, &e) < 0) {
                fprintf(stderr, "moesim: %s\n", e.msg);
                rc = MOESIM_EXIT_INPUT;
            } else {
                if (sweep_init(&w, s, &o) == 0) {
                    long jobs, threads;
                    split_cores(&w, &o, &jobs, &threads);
                    wl_set_threads((unsigned)threads);
                    run_pool(&w, jobs);
                }
                rc = sweep_finish(&w);
                sc_free(s);
            }
        }
    }
    free(dbset);
    free(csvset);
    free(o.sets);
    return rc;
}
