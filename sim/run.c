/* run.c - `moesim run`: every run of a scenario's sweep, through the engine,
 * into the results database, with one summary line per run.
 *
 * Runs go to worker processes, a fork per run and at most --jobs at once, so
 * a crash loses only that run. The parent is the single writer: it begins a
 * run (`running` row, params) before the fork, the child simulates and writes
 * its result blob to a temporary file and exits, and the parent records the
 * blob in one transaction (res_run_finish). A child that dies, or leaves no
 * complete blob, makes its run `failed`; the other runs go on. Run ids follow
 * the sweep's order whatever --jobs is, and every run is deterministic, so
 * the rows equal those of --jobs 1 (only the summary lines' order and the
 * wall-clock columns differ). Under `mpirun`, a build with MOESIM_MPI hands
 * the sweep to run_mpi.c instead.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/sweep.h"

#define RUN_USAGE                                                                                  \
    "usage: moesim run SCENARIO.ini [--set section.key=value]... [--db FILE] [--csv FILE] "        \
    "[--jobs N] [--resume] [--quiet]\n"

/* A run in a worker. */
struct job {
    pid_t pid;
    size_t index;
    int64_t id;
    char tmp[64]; /* its result blob */
};

static int usage_error(const char *msg)
{
    fprintf(stderr, "moesim run: %s\n" RUN_USAGE, msg);
    return MOESIM_EXIT_INPUT;
}

/* Starts run `index` in a worker; -1 when it could not be started (the run
 * is then recorded as failed, or was never begun). */
static int job_start(struct sweep *w, size_t index, struct job *j)
{
    if (sweep_begin(w, index, &j->id) < 0) return -1;
    j->index = index;
    const char *dir = getenv("TMPDIR");
    snprintf(j->tmp, sizeof j->tmp, "%s/moesim-run-XXXXXX", dir && strlen(dir) < 40 ? dir : "/tmp");
    int fd = mkstemp(j->tmp);
    if (fd < 0) {
        char m[128];
        snprintf(m, sizeof m, "cannot create a temporary file in %s: %s", dir ? dir : "/tmp",
                 strerror(errno));
        sweep_record(w, index, j->id, NULL, m);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    j->pid = fork();
    if (j->pid == 0) {
        /* The worker: never touches the parent's SQLite connections. */
        FILE *f = fdopen(fd, "wb");
        int rc = f && sweep_simulate(w->s, index, f) == 0 && fclose(f) == 0 ? 0 : 3;
        _exit(rc);
    }
    close(fd);
    if (j->pid < 0) {
        char m[128];
        snprintf(m, sizeof m, "cannot start a worker: %s", strerror(errno));
        unlink(j->tmp);
        sweep_record(w, index, j->id, NULL, m);
        return -1;
    }
    return 0;
}

/* Records a finished worker's run. */
static void job_collect(struct sweep *w, struct job *j, int status)
{
    char why[128] = "";
    FILE *f = NULL;
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "worker killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        snprintf(why, sizeof why, "worker exited with status %d without a result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else
        f = fopen(j->tmp, "rb");
    if (!f && !why[0])
        snprintf(why, sizeof why, "cannot read the worker's result: %s", strerror(errno));
    sweep_record(w, j->index, j->id, f, why[0] ? why : NULL);
    if (f) fclose(f);
    unlink(j->tmp);
    j->pid = 0;
}

/* Runs w->torun with at most `jobs` workers at once. */
static void run_pool(struct sweep *w, long jobs)
{
    struct job *pool = xcalloc((size_t)jobs, sizeof *pool);
    size_t next = 0, running = 0;
    for (;;) {
        while (w->rc != MOESIM_EXIT_INPUT && next < w->ntorun && running < (size_t)jobs) {
            struct job *j = NULL;
            for (long k = 0; k < jobs && !j; k++)
                if (!pool[k].pid) j = &pool[k];
            if (job_start(w, w->torun[next++], j) == 0) running++;
        }
        if (running == 0) break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            err_fatal("waitpid: %s", strerror(errno));
        }
        for (long k = 0; k < jobs; k++)
            if (pool[k].pid == pid) {
                job_collect(w, &pool[k], status);
                running--;
                break;
            }
    }
    free(pool);
}

/* Parses the arguments into o; returns 0, or the exit status of an error. */
static int parse_args(int argc, char **argv, struct sweep_opts *o, char **dbset, char **csvset)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--set") || !strcmp(a, "--db") || !strcmp(a, "--csv") ||
            !strcmp(a, "--jobs") || !strcmp(a, "-j")) {
            if (i + 1 >= argc) return usage_error("missing value after an option");
            const char *v = argv[++i];
            if (!strcmp(a, "--set")) {
                o->sets[o->nsets++] = v;
            } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
                char *end;
                errno = 0;
                o->jobs = strtol(v, &end, 10);
                if (end == v || *end || errno || o->jobs < 1 || o->jobs > 4096) {
                    char m[256];
                    snprintf(m, sizeof m,
                             "--jobs: expected a number of workers 1..4096, got '%.64s'", v);
                    return usage_error(m);
                }
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
                    long jobs = o.jobs ? o.jobs : sysconf(_SC_NPROCESSORS_ONLN);
                    run_pool(&w, jobs > 0 ? jobs : 1);
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
