/* testutil.h - helpers shared by the cmocka tests. */
#ifndef MOESIM_TESTUTIL_H
#define MOESIM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/options.h"
#include "workloads/wl.h"

/* What the workloads read of a whole configuration (the run's specs). */
#define TU_SPECS(c) (&(struct wl_specs){&(c)->wl, &(c)->pl, &(c)->sim, &(c)->tr, &(c)->out})

/* res_run_begin and res_doneset_has with c's resolved options, as sweeps
 * call them. */
static inline int tu_run_begin(struct res_db *db, const struct cfg *c, const char *scenario,
                               int64_t *run_id, struct err *e)
{
    struct cfg_params cp;
    cfg_params_make(c, &cp);
    struct res_run_id id = {cp.p, cp.n, opt_enum_name("sim", "engine", c->sim.engine), c->sim.seed};
    int rc = res_run_begin(db, &id, scenario, run_id, e);
    cfg_params_free(&cp);
    return rc;
}
static inline int tu_doneset_has(const struct res_doneset *s, const struct cfg *c)
{
    struct cfg_params cp;
    cfg_params_make(c, &cp);
    int rc = res_doneset_has(s, cp.p, cp.n);
    cfg_params_free(&cp);
    return rc;
}

/* Builds c's fabric into *t and runs c's workload on it into r, failing
 * the test on any error or broken invariant (wl_result_free and
 * topo_destroy are the caller's). */
static inline void tu_run(const struct cfg *c, struct wl_result *r, struct topo **t)
{
    struct err e;
    assert_int_equal(topo_build(&c->topo, t, &e), 0);
    struct wl_gen g;
    if (wl_create(TU_SPECS(c), *t, &g, &e) != 0) fail_msg("%s", e.msg);
    if (wl_drive(&g, *t, TU_SPECS(c), r, &e) != 0) fail_msg("%s", e.msg);
    if (r->run.invariant[0]) fail_msg("%s", r->run.invariant);
    g.destroy(g.state);
}

/* A workload's run kept for its rows: tu_wl_run is tu_run into it,
 * tu_wl_done frees it. */
struct tu_wl {
    struct wl_result r;
    struct topo *t;
};
static inline void tu_wl_run(const struct cfg *c, struct tu_wl *x)
{
    tu_run(c, &x->r, &x->t);
}
static inline void tu_wl_done(struct tu_wl *x)
{
    wl_result_free(&x->r);
    topo_destroy(x->t);
}

/* A run's last row's end. */
static inline simtime_t tu_end(const struct wl_result *r)
{
    simtime_t end = 0;
    for (size_t i = 0; i < r->run.nphases; i++)
        if (r->run.phases[i].end_ps > end) end = r->run.phases[i].end_ps;
    return end;
}

/* Writes `text` to a fresh temporary file and returns its path (static buffer
 * per call slot; the file lives until the process exits or it is unlinked). */
static inline const char *tu_write_temp(const char *text, const char *suffix)
{
    static char paths[16][64];
    static int slot;
    char *p = paths[slot++ % 16];
    snprintf(p, 64, "/tmp/moesim_test_XXXXXX%s", suffix);
    int fd = mkstemps(p, (int)strlen(suffix));
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return p;
}

#endif
