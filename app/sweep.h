/* sweep.h - the pieces of `moesim run` that both ways of running a sweep
 * share (worker processes, run.c; MPI ranks, run_mpi.c).
 *
 * The writer (the parent process, or MPI rank 0) owns the databases: it
 * begins each run (a `running` row and its params), and records what the
 * worker sends back, a result blob (res_blob_*), in one transaction. The
 * worker only simulates: sweep_simulate writes one run's blob to a stream.
 */
#ifndef MOESIM_SWEEP_H
#define MOESIM_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results/res.h"
#include "app/scenario.h"

struct sweep_opts {
    const char *scenario;
    const char **sets;
    size_t nsets;
    int quiet;
    int resume;
    long jobs;    /* 0 = number of cores */
    long threads; /* network phases simulated at once per run; 0 = cores / runs in parallel */
};

/* The writer's state. */
struct sweep {
    const struct sc_sweep *s;
    const struct sweep_opts *o;
    struct sweep_db *dbs; /* one per distinct output.db */
    size_t ndbs;
    size_t *torun; /* indices of the runs to simulate (after --resume) */
    size_t ntorun, skipped;
    size_t done, failed, finished; /* finished = done + failed */
    size_t not_started;            /* of the failed: never begun, their database broken */
    uint64_t events;               /* of the runs done so far */
    double t0;
    int rc;       /* 0, 1 (a run failed), 2 (bad input: stop starting runs) */
    int progress; /* stderr is a terminal */
    int warned;   /* the extrapolated compute warning was printed */
    char lastdb[CFG_STR_MAX];
};

double sweep_clock(void);

/* Opens the databases, applies --resume (fills torun). 0, or -1 after
 * printing the error (w->rc = 2). */
int sweep_init(struct sweep *w, const struct sc_sweep *s, const struct sweep_opts *o);
/* Begins run `index` in its database; -1 after printing an error (the run
 * then counts as failed). */
int sweep_begin(struct sweep *w, size_t index, int64_t *run_id);
/* Records run `index` (id run_id) from a result blob stream f, or as failed
 * with `why` when f is NULL or holds no complete blob; prints its summary
 * line and the progress line. */
void sweep_record(struct sweep *w, size_t index, int64_t run_id, FILE *f, const char *why);
/* Prints the closing line, closes the databases; returns the exit status. */
int sweep_finish(struct sweep *w);

/* Prints every error of a failed sc_load_all to stderr, "moesim: LINE"
 * each (run.c). */
void sweep_print_errors(const struct sc_errors *errs);

/* Worker side: simulates run `index` and writes its blob to out. Returns 0
 * when the blob is written. The environment variable MOESIM_TEST_ABORT_RUN=i
 * (tests only) makes the worker of sweep run i abort(), as a crash would. */
int sweep_simulate(const struct sc_sweep *s, size_t index, FILE *out);

/* MPI (run_mpi.c, built with MOESIM_MPI): returns -1 when the process is
 * not part of a multi-rank job (run locally), else the exit status. */
int sweep_mpi(const struct sweep_opts *o, int *argc, char ***argv);

#endif
