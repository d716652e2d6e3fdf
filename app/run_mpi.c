/* run_mpi.c - `mpirun -n N moesim run FILE`: the sweep's runs spread over MPI
 * ranks (built only with `make MPI=1`, which defines MOESIM_MPI).
 *
 * Every rank loads the same scenario, so every rank knows every run by its
 * index. Rank 0 is the single writer and hands out work: it answers each
 * worker's message (first a READY, then the RESULT blob of its previous run)
 * with the index of the next run, begun in the database just then, or with
 * -1 when there is none left. Results travel as the same blobs the forked
 * workers of run.c write (res_blob_*), so the rows are those of a local
 * sweep. With one rank, or without MPI, the sweep runs locally.
 */
#include "app/sweep.h"

#ifdef MOESIM_MPI

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_READY = 1, TAG_RESULT, TAG_WORK };

/* Rank 0: assigns runs and records results. */
static void mpi_writer(struct sweep *w, int nranks)
{
    size_t next = 0;
    int active = nranks - 1;
    size_t *index = xcalloc((size_t)nranks, sizeof *index);
    int64_t *id = xcalloc((size_t)nranks, sizeof *id);
    while (active > 0) {
        MPI_Status st;
        int len;
        MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, MPI_BYTE, &len);
        char *buf = xmalloc(len > 0 ? (size_t)len : 1);
        MPI_Recv(buf, len, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        int src = st.MPI_SOURCE;
        if (st.MPI_TAG == TAG_RESULT) {
            FILE *f = fmemopen(buf, (size_t)len, "rb");
            sweep_record(w, index[src], id[src], f, f ? NULL : "cannot read the rank's result");
            if (f) fclose(f);
        }
        free(buf);
        int64_t work = -1;
        while (w->rc != MOESIM_EXIT_INPUT && next < w->ntorun) {
            size_t i = w->torun[next++];
            if (sweep_begin(w, i, &id[src]) == 0) {
                index[src] = i;
                work = (int64_t)i;
                break;
            }
        }
        MPI_Send(&work, 1, MPI_INT64_T, src, TAG_WORK, MPI_COMM_WORLD);
        if (work < 0) active--;
    }
    free(index);
    free(id);
}

/* Ranks > 0: simulate what rank 0 sends until it sends -1. */
static void mpi_worker(const struct sc_sweep *s)
{
    char *buf = NULL;
    size_t len = 0;
    MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_READY, MPI_COMM_WORLD);
    for (;;) {
        int64_t work;
        MPI_Recv(&work, 1, MPI_INT64_T, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (work < 0) break;
        FILE *f = open_memstream(&buf, &len);
        if (!f) err_fatal("open_memstream failed");
        if (sweep_simulate(s, (size_t)work, f) < 0) err_fatal("cannot serialize a result");
        fclose(f);
        MPI_Send(buf, (int)len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
        free(buf);
        buf = NULL;
    }
}

int sweep_mpi(const struct sweep_opts *o, int *argc, char ***argv)
{
    int rank, nranks;
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (nranks < 2) {
        MPI_Finalize();
        return -1;
    }
    struct err e;
    struct sc_errors errs;
    struct sc_sweep *s;
    int rc = 0;
    if (sc_load_all(o->scenario, o->sets, o->nsets, &s, &errs, &e) < 0) {
        if (rank == 0) sweep_print_errors(&errs);
        sc_errors_free(&errs);
        MPI_Finalize();
        return MOESIM_EXIT_INPUT;
    }
    if (rank == 0) {
        struct sweep w;
        if (sweep_init(&w, s, o) == 0)
            mpi_writer(&w, nranks);
        else
            w.ntorun = 0, mpi_writer(&w, nranks);
        rc = sweep_finish(&w);
    } else {
        mpi_worker(s);
    }
    sc_free(s);
    MPI_Finalize();
    return rank == 0 ? rc : 0;
}

#else

int sweep_mpi(const struct sweep_opts *o, int *argc, char ***argv)
{
    (void)o;
    (void)argc;
    (void)argv;
    return -1;
}

#endif
