/* wl.c - the workloads' entry points (see wl.h): each finds c's workload
 * kind in the list below and calls its generator's hook, so nothing outside
 * workloads/ switches on the kind. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "workloads/wl.h"

static const struct wl_def *const wl_defs[] = {
    &wl_def_alltoall,  &wl_def_permutation,    &wl_def_moe,
    &wl_def_allreduce, &wl_def_reduce_scatter, &wl_def_allgather,
    &wl_def_incast,    &wl_def_flows,          &wl_def_alltoallv};

static const struct wl_def *wl_def_of(const struct wl_specs *c)
{
    for (size_t i = 0; i < sizeof wl_defs / sizeof wl_defs[0]; i++)
        if (wl_defs[i]->kind == c->wl->kind) return wl_defs[i];
    return NULL;
}

int wl_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e)
{
    memset(g, 0, sizeof *g); /* a generator sets only the hooks it has */
    const struct wl_def *d = wl_def_of(c);
    if (!d) return err_set(e, "workload.kind: kind %d is not available in this build", c->wl->kind);
    return d->create(c, t, g, e);
}

int wl_check(const struct wl_specs *c, const struct topo_spec *topo, const struct opt_def **bad,
             struct err *e)
{
    const struct wl_def *d = wl_def_of(c);
    return d && d->check ? d->check(c, topo, bad, e) : 0;
}

void wl_footprint(const struct wl_specs *c, const struct topo_spec *topo, struct wl_footprint *f)
{
    const struct wl_def *d = wl_def_of(c);
    memset(f, 0, sizeof *f);
    if (d && d->footprint) d->footprint(c, topo, f);
}

int wl_multiphase(const struct wl_specs *c)
{
    const struct wl_def *d = wl_def_of(c);
    return d && d->multiphase ? d->multiphase(c) : 0;
}

int wl_fail(const struct opt_def **bad, struct err *e, const struct opt_table *t,
            const char *section, const char *key, const char *fmt, ...)
{
    if (bad) *bad = opt_table_find(t, section, key);
    char why[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return err_set(e, "%s.%s: %s", section, key, why);
}
