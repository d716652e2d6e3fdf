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
    "run SCENARIO.ini [--set section.key=v[,v...]]... [--db FILE] [--csv FILE] [--jobs N]\n"       \
    "        [--threads N] [--resume] [--quiet]\n"                                                 \
    "        simulate every run of the scenario's sweep in N worker processes, up to --threads\n"  \
    "        network phases of a run at once (default: runs of several phases, as MoE, one at a\n" \
    "        time on every core; others a worker per core); results go to the database;\n"         \
    "        --resume skips runs already done"

const struct cli_command cli_run = {"run", cmd_run, RUN_USAGE};

static const struct argv_opt run_opts[] = {
    {"--set", NULL, "section.key=v[,v...]", ARGV_REPEAT,
     "set a scenario option (a comma-separated list sweeps it)"},
    {"--db", NULL, "FILE", 0, "the results database (output.db)"},
    {"--csv", NULL, "FILE", 0, "also write the phase rows to this CSV file (output.csv)"},
    {"--jobs", "-j", "N", 0, "worker processes, 1..4096"},
    {"--threads", NULL, "N", 0, "network phases of a run simulated at once, 1..4096"},
    {"--resume", NULL, NULL, 0, "skip the runs the database has done already"},
    {"--quiet", "-q", NULL, 0, "no line per run"},
};
static const struct argv_cmd run_args = {
    "moesim run", RUN_USAGE, run_opts, sizeof run_opts / sizeof run_opts[0], 0, NULL};

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

/* Reads the command line into o (the --db and --csv overrides as two more
 * --set values, kept in dbset and csvset); 0, or -1 with a.status the exit
 * status. */
static int parse_args(int argc, char **argv, struct sweep_opts *o, char **dbset, char **csvset,
                      int *status)
{
    struct argv_res a;
    if (argv_parse(&run_args, argc, argv, &a)) {
        *status = a.status;
        return -1;
    }
    *status = MOESIM_EXIT_INPUT;
    int np = argv_npos(&a);
    if (np == 0) return argv_fail(&a, "no scenario file"), -1;
    if (np > 1) return argv_fail(&a, "more than one scenario file"), -1;
    o->scenario = argv_pos(&a, 0);
    if (argv_long(&a, "--jobs", 1, 4096, &o->jobs) ||
        argv_long(&a, "--threads", 1, 4096, &o->threads))
        return -1;
    o->quiet = argv_count(&a, "--quiet") > 0;
    o->resume = argv_count(&a, "--resume") > 0;
    const char *v;
    for (int pos = 0; (v = argv_each(&a, "--set", &pos));)
        o->sets[o->nsets++] = v;
    static const char *const out[2] = {"db", "csv"};
    char **slot[2] = {dbset, csvset};
    for (int k = 0; k < 2; k++) {
        char name[8];
        snprintf(name, sizeof name, "--%s", out[k]);
        if (!(v = argv_str(&a, name, NULL))) continue;
        size_t n = strlen(v) + 16;
        *slot[k] = xmalloc(n);
        snprintf(*slot[k], n, "output.%s=%s", out[k], v);
        o->sets[o->nsets++] = *slot[k];
    }
    return 0;
}

/* Prints every error of a failed load, one line each. */
void sweep_print_errors(const struct sc_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        fprintf(stderr, "moesim: %s\n", errs->line[i]);
    if (errs->more)
        fprintf(stderr, "moesim: and %zu more failed check%s (not listed)\n", errs->more,
                errs->more == 1 ? "" : "s");
}

int cmd_run(int argc, char **argv)
{
    struct sweep_opts o = {0};
    o.sets = xcalloc((size_t)argc + 2, sizeof *o.sets);
    char *dbset = NULL, *csvset = NULL;
    int rc = 0;
    if (parse_args(argc, argv, &o, &dbset, &csvset, &rc) == 0) {
        rc = sweep_mpi(&o, &argc, &argv);
        if (rc < 0) {
            rc = 0;
            struct err e;
            struct sc_errors errs;
            struct sc_sweep *s;
            struct sweep w;
            if (sc_load_all(o.scenario, o.sets, o.nsets, &s, &errs, &e) < 0) {
                sweep_print_errors(&errs);
                sc_errors_free(&errs);
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
