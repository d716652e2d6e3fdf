/* wl.c - the workloads' entry points (see wl.h): each finds c's workload
 * kind in the list below and calls its generator's hook, so nothing outside
 * workloads/ switches on the kind. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "workloads/wl.h"

static const struct wl_def *const wl_defs[] = {&wl_def_alltoall, &wl_def_permutation, &wl_def_moe};

static const struct wl_def *wl_def_of(const struct cfg *c)
{
    for (size_t i = 0; i < sizeof wl_defs / sizeof wl_defs[0]; i++)
        if (wl_defs[i]->kind == c->wl_kind) return wl_defs[i];
    return NULL;
}

int wl_create(const struct cfg *c, const struct topo *t, struct wl_gen *g, struct err *e)
{
    memset(g, 0, sizeof *g); /* a generator sets only the hooks it has */
    const struct wl_def *d = wl_def_of(c);
    if (!d)
        return err_set(e, "workload.kind: '%s' is not available in this build",
                       opt_enum_name("workload", "kind", c->wl_kind));
    return d->create(c, t, g, e);
}

int wl_check(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    const struct wl_def *d = wl_def_of(c);
    return d && d->check ? d->check(c, bad, e) : 0;
}

double wl_memory_bytes(const struct cfg *c, const char **section, const char **key)
{
    const struct wl_def *d = wl_def_of(c);
    *section = d ? d->memory_section : "workload";
    *key = d ? d->memory_key : "kind";
    return d && d->memory ? d->memory(c) : 0;
}

int wl_multiphase(const struct cfg *c)
{
    const struct wl_def *d = wl_def_of(c);
    return d && d->multiphase ? d->multiphase(c) : 0;
}

int wl_fail(const struct opt_def **bad, struct err *e, const char *section, const char *key,
            const char *fmt, ...)
{
    if (bad) *bad = opt_find(section, key);
    char why[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return err_set(e, "%s.%s: %s", section, key, why);
}
