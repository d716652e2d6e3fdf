/* blob.c - one run's result as a byte stream (res_blob_write/read, see
 * res.h): what a worker (a forked process or an MPI rank) hands to the single
 * process that writes the database.
 *
 * Layout: the magic "MOESIMB1", the status and message, the run's scalars,
 * then counted arrays. Phases (ideal_kind "" for none) and links go field
 * by field (they point at strings), a link's counters (struct res_port_stats) as they are; flows,
 * samples, gpu_load, trace_use rows and notes are plain structs written as
 * they are, tasks likewise after their phase's name, so a blob is read by the same binary on the
 * same kind of machine (fork, or the ranks of one MPI job). A trailer "END!" tells a complete blob
 * from one cut short by a worker that died while writing.
 */
#include "results/res.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char blob_magic[8] = {'M', 'O', 'E', 'S', 'I', 'M', 'B', '1'};
static const char blob_end[4] = {'E', 'N', 'D', '!'};

/* Upper bound of any count in a blob; a larger one means a corrupt stream. */
#define BLOB_COUNT_MAX (1ull << 40)

static int put(FILE *f, const void *p, size_t n)
{
    return n == 0 || fwrite(p, n, 1, f) == 1 ? 0 : -1;
}

static int put_u64(FILE *f, uint64_t v)
{
    return put(f, &v, sizeof v);
}

static int put_str(FILE *f, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return put_u64(f, n) < 0 || put(f, s, n) < 0 ? -1 : 0;
}

int res_blob_write(FILE *f, int rc, const char *msg, const struct res_run *r)
{
    static const struct res_run none;
    if (!r) r = &none;
    int bad = put(f, blob_magic, sizeof blob_magic) | put_u64(f, (uint64_t)rc) | put_str(f, msg) |
              put_str(f, r->engine) | put_u64(f, r->seed) | put(f, &r->wall_s, sizeof r->wall_s) |
              put_u64(f, r->events) | put_u64(f, r->sim_ps) | put_u64(f, r->nphases);
    for (size_t i = 0; !bad && i < r->nphases; i++) {
        const struct res_phase *p = &r->phases[i];
        bad = put_u64(f, p->iter) | put_u64(f, p->layer) | put_str(f, p->phase) |
              put_u64(f, p->start_ps) | put_u64(f, p->end_ps) | put_u64(f, p->ideal_ps) |
              put_u64(f, p->bytes) | put_str(f, p->ideal_kind);
    }
    bad |= put_u64(f, r->nlinks);
    for (size_t i = 0; !bad && i < r->nlinks; i++) {
        const struct res_link *l = &r->links[i];
        bad = put_u64(f, l->link) | put_str(f, l->kind) | put(f, l->src, sizeof l->src) |
              put(f, l->dst, sizeof l->dst) | put(f, &l->gbps, sizeof l->gbps) |
              put(f, &l->st, sizeof l->st);
    }
    bad |= put_u64(f, r->nflows) | put(f, r->flows, r->nflows * sizeof *r->flows);
    bad |= put_u64(f, r->nsamples) | put(f, r->samples, r->nsamples * sizeof *r->samples);
    bad |= put_u64(f, r->ngpu_load) | put(f, r->gpu_load, r->ngpu_load * sizeof *r->gpu_load);
    bad |= put_u64(f, r->ntrace_use) | put(f, r->trace_use, r->ntrace_use * sizeof *r->trace_use);
    bad |= put_u64(f, r->nnotes) | put(f, r->notes, r->nnotes * sizeof *r->notes);
    bad |= put_u64(f, r->ntasks);
    for (size_t i = 0; !bad && i < r->ntasks; i++) {
        struct res_task t = r->tasks[i];
        bad = put_str(f, t.phase);
        t.phase = NULL;
        bad |= put(f, &t, sizeof t);
    }
    bad |= put(f, blob_end, sizeof blob_end);
    return bad || fflush(f) != 0 ? -1 : 0;
}

/* ---- reading ---- */

static int get(FILE *f, void *p, size_t n)
{
    return n == 0 || fread(p, n, 1, f) == 1 ? 0 : -1;
}

static int get_u64(FILE *f, uint64_t *v)
{
    return get(f, v, sizeof *v);
}

static int get_count(FILE *f, size_t *n)
{
    uint64_t v;
    if (get_u64(f, &v) < 0 || v > BLOB_COUNT_MAX) return -1;
    *n = (size_t)v;
    return 0;
}

/* Reads a string; equal strings share one copy in b->strs. */
static int get_str(FILE *f, struct res_blob *b, const char **out)
{
    size_t n;
    if (get_count(f, &n) < 0 || n > 1 << 20) return -1;
    char *s = xmalloc(n + 1);
    if (get(f, s, n) < 0) {
        free(s);
        return -1;
    }
    s[n] = '\0';
    for (size_t i = 0; i < b->nstrs; i++)
        if (!strcmp(b->strs[i], s)) {
            free(s);
            *out = b->strs[i];
            return 0;
        }
    b->strs = xrealloc(b->strs, (b->nstrs + 1) * sizeof *b->strs);
    b->strs[b->nstrs++] = s;
    *out = s;
    return 0;
}

static void *get_array(FILE *f, size_t n, size_t size)
{
    if (n == 0) return NULL;
    void *p = xmalloc(n * size);
    if (get(f, p, n * size) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

static int blob_read_rows(FILE *f, struct res_blob *b)
{
    struct res_run *r = &b->run;
    uint64_t v[7];
    if (get_count(f, &r->nphases) < 0) return -1;
    struct res_phase *ph = xcalloc(r->nphases ? r->nphases : 1, sizeof *ph);
    r->phases = ph;
    for (size_t i = 0; i < r->nphases; i++) {
        if (get_u64(f, &v[0]) | get_u64(f, &v[1]) | get_str(f, b, &ph[i].phase) |
            get_u64(f, &v[2]) | get_u64(f, &v[3]) | get_u64(f, &v[4]) | get_u64(f, &v[5]) |
            get_str(f, b, &ph[i].ideal_kind))
            return -1;
        if (!*ph[i].ideal_kind) ph[i].ideal_kind = NULL; /* none (a compute row) */
        ph[i].iter = (uint32_t)v[0];
        ph[i].layer = (uint32_t)v[1];
        ph[i].start_ps = v[2];
        ph[i].end_ps = v[3];
        ph[i].ideal_ps = v[4];
        ph[i].bytes = v[5];
        if (ph[i].end_ps < ph[i].start_ps) return -1;
    }
    if (get_count(f, &r->nlinks) < 0) return -1;
    struct res_link *l = xcalloc(r->nlinks ? r->nlinks : 1, sizeof *l);
    r->links = l;
    for (size_t i = 0; i < r->nlinks; i++) {
        if (get_u64(f, &v[0]) | get_str(f, b, &l[i].kind) | get(f, l[i].src, sizeof l[i].src) |
            get(f, l[i].dst, sizeof l[i].dst) | get(f, &l[i].gbps, sizeof l[i].gbps) |
            get(f, &l[i].st, sizeof l[i].st))
            return -1;
        l[i].link = (uint32_t)v[0];
        l[i].src[sizeof l[i].src - 1] = l[i].dst[sizeof l[i].dst - 1] = '\0';
    }
    if (get_count(f, &r->nflows) < 0 ||
        (r->nflows && !(r->flows = get_array(f, r->nflows, sizeof *r->flows))))
        return -1;
    if (get_count(f, &r->nsamples) < 0 ||
        (r->nsamples && !(r->samples = get_array(f, r->nsamples, sizeof *r->samples))))
        return -1;
    if (get_count(f, &r->ngpu_load) < 0 ||
        (r->ngpu_load && !(r->gpu_load = get_array(f, r->ngpu_load, sizeof *r->gpu_load))))
        return -1;
    if (get_count(f, &r->ntrace_use) < 0 ||
        (r->ntrace_use && !(r->trace_use = get_array(f, r->ntrace_use, sizeof *r->trace_use))))
        return -1;
    if (get_count(f, &r->nnotes) < 0 ||
        (r->nnotes && !(r->notes = get_array(f, r->nnotes, sizeof *r->notes))))
        return -1;
    for (size_t i = 0; i < r->nnotes; i++) {
        struct res_note *n = (struct res_note *)&r->notes[i];
        n->key[sizeof n->key - 1] = n->value[sizeof n->value - 1] = '\0';
    }
    for (size_t i = 0; i < r->nflows; i++)
        if (r->flows[i].end_ps < r->flows[i].start_ps) return -1;
    if (get_count(f, &r->ntasks) < 0) return -1;
    struct res_task *tk = xcalloc(r->ntasks ? r->ntasks : 1, sizeof *tk);
    r->tasks = tk;
    for (size_t i = 0; i < r->ntasks; i++) {
        const char *name;
        if (get_str(f, b, &name) < 0 || get(f, &tk[i], sizeof tk[i]) < 0) return -1;
        tk[i].phase = name;
        if (tk[i].end_ps < tk[i].start_ps) return -1;
    }
    return 0;
}

int res_blob_read(FILE *f, struct res_blob *b, struct err *e)
{
    memset(b, 0, sizeof *b);
    char magic[8], end[4];
    uint64_t rc;
    const char *msg = NULL;
    struct res_run *r = &b->run;
    if (get(f, magic, sizeof magic) < 0 || memcmp(magic, blob_magic, sizeof magic) ||
        get_u64(f, &rc) < 0 || rc > 2 || get_str(f, b, &msg) < 0 || get_str(f, b, &r->engine) < 0 ||
        get_u64(f, &r->seed) < 0 || get(f, &r->wall_s, sizeof r->wall_s) < 0 ||
        get_u64(f, &r->events) < 0 || get_u64(f, &r->sim_ps) < 0 || blob_read_rows(f, b) < 0 ||
        get(f, end, sizeof end) < 0 || memcmp(end, blob_end, sizeof end)) {
        res_blob_free(b);
        return err_set(e, "the worker's result is incomplete or corrupt");
    }
    b->rc = (int)rc;
    snprintf(b->msg, sizeof b->msg, "%s", msg);
    return 0;
}

void res_blob_free(struct res_blob *b)
{
    free((void *)b->run.phases);
    free((void *)b->run.links);
    free((void *)b->run.flows);
    free((void *)b->run.samples);
    free((void *)b->run.gpu_load);
    free((void *)b->run.trace_use);
    free((void *)b->run.notes);
    free((void *)b->run.tasks);
    for (size_t i = 0; i < b->nstrs; i++)
        free(b->strs[i]);
    free(b->strs);
    memset(b, 0, sizeof *b);
}
