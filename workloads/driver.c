/* driver.c - runs a workload's generator on the executor (sim/exec.h): the
 * generator adds its graph a piece at a time as the executor asks for more,
 * and the generator's own rows (gpu_load, trace_use) are collected at the
 * end. See wl.h. */
#include <stdlib.h>
#include <string.h>

#include "workloads/wl.h"

static unsigned wl_threads = 1;

void wl_set_threads(unsigned n)
{
    wl_threads = n ? n : 1;
}

static int gen_more(void *ctx, struct graph *g)
{
    struct wl_gen *gen = ctx;
    return gen->next(gen->state, g);
}

int wl_drive(struct wl_gen *g, const struct topo *t, const struct wl_specs *c, struct wl_result *r,
             struct err *e)
{
    memset(r, 0, sizeof *r);
    /* What the executor reads of the configuration. */
    struct exec_opts o = {
        .engine = c->sim->engine,
        .tr = c->tr,
        .seed = (uint64_t)c->sim->seed,
        .flows = c->out->flows,
        .sample_ps = c->out->sample_ns > 0 ? ns_to_ps((uint64_t)c->out->sample_ns) : 0,
        .threads = wl_threads,
        .tasks = c->out->tasks,
        .ideal_lp_max = (uint64_t)c->sim->ideal_lp_max,
    };
    struct graph *gr = graph_create();
    int rc = exec_run(gr, gen_more, g, t, &o, &r->run, e);
    graph_destroy(gr);
    r->ngpu_load = g->gpu_load ? g->gpu_load(g->state, &r->gpu_load) : 0;
    r->ntrace_use = g->trace_use ? g->trace_use(g->state, &r->trace_use) : 0;
    r->nnotes = g->notes ? g->notes(g->state, &r->notes) : 0;
    return rc;
}

void wl_result_free(struct wl_result *r)
{
    exec_result_free(&r->run);
    free(r->gpu_load);
    free(r->trace_use);
    free(r->notes);
    memset(r, 0, sizeof *r);
}
