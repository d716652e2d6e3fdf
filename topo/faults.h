/* faults.h - failed and degraded links known before the run ([faults]).
 *
 * A fault names a link by its two nodes as the links table does ("l0-s3",
 * both directions). Down links stay in the port table (their counters read
 * zero) but routing leaves them out: the equal-cost groups are rebuilt
 * without them (topo/route.c). Degraded links keep their place in the groups
 * at a lower rate (topo_port.bps). topo/faults.c has the parsing, the seeded
 * random choice and the checks; docs/fabrics.md ("Faults") the model.
 */
#ifndef MOESIM_TOPO_FAULTS_H
#define MOESIM_TOPO_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/opt.h"

/* The [faults] options (topo/faults_options.c), a member of struct
 * topo_spec. seed is no option: app/ copies the run's sim.seed into it (the
 * random choice draws from its RNG_FAULTS stream, base/rng.h). */
struct topo_faults {
    char down[OPT_STR_MAX];     /* "l0-s3 l1-s3" */
    char degraded[OPT_STR_MAX]; /* "l0-s1:0.5 ..." */
    double random_down, random_degraded, degrade_to;
    char fail[OPT_STR_MAX];   /* links failing during the run: "l0-s3@50us l1-s2@120us" */
    int64_t reroute_delay_ns; /* from a failure until routing leaves the link out */
    uint64_t seed;
};

/* A link failing during the run (faults.fail), as the engine takes it: at
 * at_ps from the start of each engine run its ports (both directions) stop
 * and lose what they hold; reroute_ps later (struct topo) the routing of
 * the fabric with it and every earlier failure down replaces the one
 * before: route, route_ports, npaths as in struct topo (topo/faults.c
 * builds them before the run, igraph staying in topo/). Sorted by time. */
struct topo_tfault {
    uint64_t at_ps;
    uint32_t *ports, nports;
    char text[80]; /* as written */
    struct topo_hop *route;
    uint32_t *route_ports;
    uint32_t nroute_ports, npaths, plane_paths;
    /* rail planes: whether a GPU's link to a plane is down with this
     * failure and those before it (and the links down before the run), and
     * then which NIC ports ([planes * hosts], struct topo nic_down) */
    uint8_t plane_host_down;
    uint8_t *nic_down;
};
extern const struct opt_table topo_faults_options;

struct topo;
struct topo_spec;

/* Whether f asks for any fault; whether it asks for a link down. */
int topo_faults_any(const struct topo_faults *f);
int topo_faults_any_down(const struct topo_faults *f);
/* Whether f lists links failing during the run (faults.fail). */
int topo_faults_any_timed(const struct topo_faults *f);
/* Frees t's timed failures (topo_destroy). */
void topo_faults_free(struct topo *t);

/* Checks s's faults against its fabric before anything runs: the lists
 * parse, name links of the fabric once each, fractions lie in (0,1], and the
 * fabric with them still connects every host and leaf pair (it builds the
 * fabric to see). -1 with e->msg = "faults.key: reason" and *bad = the row of
 * topo_faults_options at fault. Called by topo_check, last. */
int topo_faults_check(const struct topo_spec *s, const struct opt_def **bad, struct err *e);

/* Applies s's faults to the built fabric t (the last step of every builder):
 * marks ports down, lowers degraded rates, and when a link is down rebuilds
 * the routing table without it (a leaf-spine then forwards by the table, its
 * factored up/down dropped). */
int topo_faults_apply(const struct topo_spec *s, struct topo *t, struct err *e);

/* The fabric t as an engine sees it after its first `cur` timed failures
 * (cur = 0: before any): *view a copy of t whose routing table is failure
 * cur - 1's and whose ndown counts the ports failed so far (ethereal reads
 * whether any is down). topo_fault_view_init makes the copy, without the
 * leaf-spine's up/down and the fat-tree's factored rows (neither is rebuilt
 * per failure), at cur = 0. */
void topo_fault_view_init(struct topo *view, const struct topo *t);
void topo_fault_view_set(struct topo *view, const struct topo *t, uint32_t cur);
/* The faults of s in words for the run line (", 2 links down, 1 degraded"),
 * "" without any; nlinks: the fabric's switch-to-switch links, of which the
 * random fractions take as many as topo_faults_apply does. */
void topo_faults_describe(const struct topo_spec *s, uint64_t nlinks, char *buf, size_t n);

#endif
