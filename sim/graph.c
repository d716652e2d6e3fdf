/* graph.c - the task graph as it is built (see graph.h): the tasks not yet
 * taken by the executor, the barriers between them, and their explicit
 * dependencies. */
#include "sim/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct graph {
    uint64_t base;           /* number of task[0]: the tasks before it were taken */
    struct graph_task *task; /* [n] */
    size_t n, cap;
    uint64_t *cut; /* [ncut] barrier positions not yet taken, ascending: tasks below come first */
    size_t ncut, capcut;
    struct graph_dep_pair *dep; /* [ndep] between tasks not yet taken */
    size_t ndep, capdep;
    char err[ERR_MSG_MAX];
};

struct graph *graph_create(void)
{
    return xcalloc(1, sizeof(struct graph));
}

void graph_destroy(struct graph *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n; i++)
        free(g->task[i].dem);
    free(g->task);
    free(g->cut);
    free(g->dep);
    free(g);
}

void graph_set_micro_batch(struct graph *g, uint64_t task, uint8_t mb)
{
    if (task >= g->base && task < graph_next_id(g)) g->task[task - g->base].micro_batch = mb;
}

uint64_t graph_next_id(const struct graph *g)
{
    return g->base + g->n;
}

const char *graph_error(const struct graph *g)
{
    return g->err[0] ? g->err : NULL;
}

static struct graph_task *add_task(struct graph *g)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->task = xrealloc(g->task, g->cap * sizeof *g->task);
    }
    struct graph_task *t = &g->task[g->n++];
    memset(t, 0, sizeof *t);
    return t;
}

uint64_t graph_net(struct graph *g, const char *name, uint32_t iter, uint32_t layer,
                   const struct topo_demand *dem, size_t ndem)
{
    struct graph_task *t = add_task(g);
    t->kind = GRAPH_NET;
    t->name = name;
    t->iter = iter;
    t->layer = layer;
    size_t live = 0;
    for (size_t i = 0; i < ndem; i++)
        live += dem[i].bytes && dem[i].src != dem[i].dst;
    if (live) {
        t->dem = xmalloc(live * sizeof *t->dem);
        for (size_t i = 0; i < ndem; i++)
            if (dem[i].bytes && dem[i].src != dem[i].dst) t->dem[t->ndem++] = dem[i];
    }
    return graph_next_id(g) - 1;
}

uint64_t graph_compute(struct graph *g, const char *name, uint32_t iter, uint32_t layer,
                       uint32_t gpu, simtime_t dur)
{
    struct graph_task *t = add_task(g);
    t->kind = GRAPH_COMPUTE;
    t->name = name;
    t->iter = iter;
    t->layer = layer;
    t->gpu = gpu;
    t->dur = dur;
    return graph_next_id(g) - 1;
}

uint64_t graph_delay(struct graph *g, const char *name, uint32_t iter, uint32_t layer,
                     simtime_t dur)
{
    return graph_compute(g, name, iter, layer, GRAPH_NO_GPU, dur);
}

void graph_barrier(struct graph *g)
{
    uint64_t at = graph_next_id(g);
    uint64_t last = g->ncut ? g->cut[g->ncut - 1] : g->base;
    if (at == last) return; /* nothing since the last barrier */
    if (g->ncut == g->capcut) {
        g->capcut = g->capcut ? 2 * g->capcut : 16;
        g->cut = xrealloc(g->cut, g->capcut * sizeof *g->cut);
    }
    g->cut[g->ncut++] = at;
}

void graph_close(struct graph *g)
{
    graph_barrier(g);
}

__attribute__((format(printf, 2, 3))) static int fail(struct graph *g, const char *fmt, ...)
{
    if (g->err[0]) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* "task N (name, iteration I, layer L)" of a task not yet taken. */
static const char *describe(const struct graph *g, uint64_t id, char *buf, size_t n)
{
    const struct graph_task *t = &g->task[id - g->base];
    snprintf(buf, n, "task %llu (%s, iteration %u, layer %u)", (unsigned long long)id,
             t->name ? t->name : "?", t->iter, t->layer);
    return buf;
}

/* The part (0 = the first not yet taken) of task id >= base. */
static size_t part_of(const struct graph *g, uint64_t id)
{
    size_t k = 0;
    while (k < g->ncut && g->cut[k] <= id)
        k++;
    return k;
}

int graph_dep(struct graph *g, uint64_t task, uint64_t on)
{
    uint64_t end = graph_next_id(g);
    char a[160], b[160];
    if (task >= end)
        return fail(g, "graph: a dependency of task %llu, which does not exist (tasks 0..%llu)",
                    (unsigned long long)task, (unsigned long long)end - 1);
    if (task < g->base)
        return fail(g,
                    "graph: task %llu: a dependency added after its part of the graph was "
                    "handed to the executor",
                    (unsigned long long)task);
    if (on >= end)
        return fail(g, "graph: %s depends on task %llu, which does not exist",
                    describe(g, task, a, sizeof a), (unsigned long long)on);
    if (on < g->base) return 0; /* before a barrier that task already waits for */
    size_t pt = part_of(g, task), po = part_of(g, on);
    if (po < pt) return 0; /* likewise */
    if (po > pt)
        return fail(g,
                    "graph: %s cannot wait for %s: a barrier between them makes the latter wait "
                    "for the former",
                    describe(g, task, a, sizeof a), describe(g, on, b, sizeof b));
    if (g->ndep == g->capdep) {
        g->capdep = g->capdep ? 2 * g->capdep : 16;
        g->dep = xrealloc(g->dep, g->capdep * sizeof *g->dep);
    }
    g->dep[g->ndep++] = (struct graph_dep_pair){task, on};
    return 0;
}

int graph_tag(struct graph *g, uint64_t task, uint32_t chunk, enum graph_pass pass)
{
    if (task < g->base || task >= graph_next_id(g))
        return fail(g, "graph: a tag of task %llu, which is not in the graph being built",
                    (unsigned long long)task);
    g->task[task - g->base].chunk = chunk;
    g->task[task - g->base].pass = pass;
    return 0;
}

int graph_set_pass(struct graph *g, uint64_t task, enum graph_pass pass)
{
    if (task < g->base || task >= graph_next_id(g))
        return fail(g, "graph: a tag of task %llu, which is not in the graph being built",
                    (unsigned long long)task);
    g->task[task - g->base].pass = pass;
    return 0;
}

int graph_take(struct graph *g, struct graph_part *p)
{
    memset(p, 0, sizeof *p);
    if (!g->ncut) return 0;
    uint64_t cut = g->cut[0];
    size_t n = (size_t)(cut - g->base);
    p->first = g->base;
    p->n = n;
    p->task = xmalloc((n ? n : 1) * sizeof *p->task);
    memcpy(p->task, g->task, n * sizeof *p->task);
    memmove(g->task, g->task + n, (g->n - n) * sizeof *g->task);
    g->n -= n;
    g->base = cut;
    memmove(g->cut, g->cut + 1, (g->ncut - 1) * sizeof *g->cut);
    g->ncut--;
    /* this part's dependencies (both ends in it) out, the others kept */
    size_t k = 0, mine = 0;
    for (size_t i = 0; i < g->ndep; i++)
        mine += g->dep[i].task < cut;
    if (mine) p->dep = xmalloc(mine * sizeof *p->dep);
    for (size_t i = 0; i < g->ndep; i++) {
        if (g->dep[i].task < cut) {
            p->dep[p->ndep++] = g->dep[i];
        } else {
            g->dep[k++] = g->dep[i];
        }
    }
    g->ndep = k;
    return 1;
}

void graph_part_free(struct graph_part *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->task[i].dem);
    free(p->task);
    free(p->dep);
    memset(p, 0, sizeof *p);
}
