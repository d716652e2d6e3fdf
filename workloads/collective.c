/* collective.c - the collective workloads: alltoall, alltoallv and
 * permutation (the reducing collectives on a ring are collective_reduce.c).
 *
 * alltoall: every host sends workload.bytes to every other host, in the
 * shifted order of pairwise-exchange collectives.
 * alltoallv: the same pairs in the same order, each with its own size drawn
 * uniformly from 1 to 2*workload.bytes - 1 (mean workload.bytes) on the
 * RNG_ALLTOALLV stream of workload.seed, drawn once: every iteration sends
 * the same sizes (a skewed exchange, as an MPI_Alltoallv's counts).
 * permutation: a random permutation with no fixed point (GSL shuffle on the
 * RNG_PERMUTATION stream of workload.seed, base/rng.h, then any host mapped
 * to itself swaps with its neighbour); each host sends workload.bytes to its
 * image (workload.algo = direct, or auto). Both repeat for sim.iterations: one network task per
 * iteration, a barrier after each.
 *
 * Their configuration says all of their traffic, so the checks before the run
 * (the clock's end, the counters' limits) and the messages the memory
 * estimate counts live here too.
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>

#include "base/rng.h"
#include "sim/ethereal.h"
#include "workloads/wl.h"

struct coll {
    struct topo_demand *dem;
    size_t ndem;
    uint32_t iter, iterations;
    const char *name;
};

static int coll_next(void *state, struct graph *g)
{
    struct coll *s = state;
    if (s->iter >= s->iterations) return 0;
    graph_net(g, s->name, s->iter++, 0, s->dem, s->ndem);
    graph_barrier(g);
    return 1;
}

static void coll_destroy(void *state)
{
    struct coll *s = state;
    free(s->dem);
    free(s);
}

static struct coll *coll_new(const struct wl_specs *c, const char *name, size_t ndem,
                             struct wl_gen *g)
{
    struct coll *s = xcalloc(1, sizeof *s);
    s->dem = xcalloc(ndem, sizeof *s->dem);
    s->ndem = ndem;
    s->iterations = (uint32_t)c->sim->iterations;
    s->name = name;
    g->state = s;
    g->next = coll_next;
    g->destroy = coll_destroy;
    return s;
}

/* Every ordered pair once, workload.bytes each, in the shifted order of
 * collective libraries: in round j every host a sends to a+j, so no
 * destination is hit by every sender at once (each NIC serves its messages
 * round robin in this order). */
static struct coll *alltoall_new(const struct wl_specs *c, const struct topo *t, const char *name,
                                 struct wl_gen *g)
{
    uint32_t H = t->hosts;
    struct coll *s = coll_new(c, name, (size_t)H * (H - 1), g);
    size_t k = 0;
    for (uint32_t j = 1; j < H; j++)
        for (uint32_t a = 0; a < H; a++)
            s->dem[k++] = (struct topo_demand){a, (a + j) % H, (uint64_t)c->wl->bytes};
    return s;
}

int wl_alltoall_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                       struct err *e)
{
    (void)e;
    alltoall_new(c, t, "alltoall", g);
    return 0;
}

int wl_alltoallv_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                        struct err *e)
{
    (void)e;
    struct coll *s = alltoall_new(c, t, "alltoallv", g);
    gsl_rng *r = rng_alloc(wl_seed(c), RNG_ALLTOALLV, 0);
    double span = 2.0 * (double)c->wl->bytes - 1; /* sizes 1 .. 2*bytes - 1 */
    for (size_t k = 0; k < s->ndem; k++)
        s->dem[k].bytes = 1 + (uint64_t)floor(gsl_rng_uniform(r) * span);
    gsl_rng_free(r);
    return 0;
}

int wl_permutation_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                          struct err *e)
{
    (void)e;
    uint32_t H = t->hosts;
    struct coll *s = coll_new(c, "permutation", H, g);
    uint32_t *perm = xmalloc(H * sizeof *perm);
    for (uint32_t i = 0; i < H; i++)
        perm[i] = i;
    gsl_rng *r = rng_alloc(wl_seed(c), RNG_PERMUTATION, 0);
    gsl_ran_shuffle(r, perm, H, sizeof *perm);
    gsl_rng_free(r);
    for (uint32_t i = 0; i < H; i++)
        if (perm[i] == i) {
            uint32_t j = (i + 1) % H, tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
    for (uint32_t i = 0; i < H; i++)
        s->dem[i] = (struct topo_demand){i, perm[i], (uint64_t)c->wl->bytes};
    free(perm);
    return 0;
}

/* ---- what the configuration alone says (before the fabric is built) ---- */

static double coll_hosts(const struct topo_spec *tp)
{
    return (double)(tp->leaves * tp->hosts_per_leaf);
}

/* Messages per iteration and per host of the collective. */
static double coll_msgs(const struct topo_spec *tp, int alltoall)
{
    double H = coll_hosts(tp);
    return alltoall ? H * (H - 1) : H;
}

/* The time one host needs just to put its bytes on its link, over every
 * iteration, fits the clock (picoseconds, kept below 2^63 so that the
 * database's signed integers hold it). */
static int check_clock(const struct wl_specs *c, const struct topo_spec *tp, int alltoall,
                       const struct opt_def **bad, struct err *e)
{
    double flows_per_host = alltoall ? coll_hosts(tp) - 1 : 1;
    double ps = (double)c->wl->bytes * flows_per_host * 8.0 / (tp->host_gbps * 1e9) *
                (double)PS_PER_S * (double)c->sim->iterations;
    double limit = (double)INT64_MAX;
    if (ps >= limit)
        return wl_fail(bad, e, &wl_options, "workload", "bytes",
                       "a host needs at least %.3g s of simulated time to send its bytes, more "
                       "than the clock holds (%.3g s)",
                       ps / (double)PS_PER_S, limit / (double)PS_PER_S);
    return 0;
}

/* A window-limited flow delivers at most one window per round trip, so it
 * needs at least ceil(bytes / window) zero-load round trips (propagation
 * only): with a small explicit window and long links that alone can pass the
 * clock's end, which the serialization bound of check_clock misses. */
static int check_round_trips(const struct wl_specs *c, const struct topo_spec *tp, int alltoall,
                             const struct opt_def **bad, struct err *e)
{
    if (c->tr->window_bytes == 0)
        return 0; /* the automatic window is one bandwidth-delay product */
    /* An all-to-all over several leaves has flows crossing the fabric;
     * otherwise the bound takes the shortest route a flow may have: under one
     * leaf, or over NVLink when servers hold several GPUs. The routes' delays
     * are the fabric's (topo_spec_route_prop_ps, the ports topo_build makes). */
    double route_ps;
    if (alltoall && tp->leaves > 1) {
        route_ps = (double)topo_spec_route_prop_ps(tp, TOPO_ROUTE_FABRIC);
    } else {
        route_ps = (double)topo_spec_route_prop_ps(tp, TOPO_ROUTE_LEAF);
        if (topo_spec_route(tp, TOPO_ROUTE_NVLINK, (uint8_t[TOPO_ROUTE_MAX_PORTS]){0})) {
            double nvl = (double)topo_spec_route_prop_ps(tp, TOPO_ROUTE_NVLINK);
            if (nvl < route_ps) route_ps = nvl;
        }
    }
    double rtt_ps = 2 * route_ps;
    uint64_t sub = c->tr->path == PATH_SPLIT ? (uint64_t)c->tr->subflows : 1;
    double flow_bytes = (double)c->wl->bytes / (double)sub;
    double rounds = ceil(flow_bytes / (double)c->tr->window_bytes);
    double ps = rounds * rtt_ps * (double)c->sim->iterations;
    double limit = (double)INT64_MAX;
    if (ps >= limit)
        return wl_fail(bad, e, &tr_options, "transport", "window_bytes",
                       "a flow needs at least %.3g round trips of %.3g s with a window of %lld "
                       "bytes, %.3g s of simulated time, more than the clock holds (%.3g s)",
                       rounds * (double)c->sim->iterations, rtt_ps / (double)PS_PER_S,
                       (long long)c->tr->window_bytes, ps / (double)PS_PER_S,
                       limit / (double)PS_PER_S);
    return 0;
}

/* An all-to-all sends hosts_per_leaf*(hosts - hosts_per_leaf) flows out of
 * each leaf; even spread perfectly over every uplink they take at least
 * their bytes over spines*fabric_gbps, which must fit the clock (a slow
 * fabric under fast hosts passes check_clock); on a fat-tree (spines =
 * aggs_per_pod) also the bytes out of each pod over its cores*core_gbps. */
static int check_fabric_clock(const struct wl_specs *c, const struct topo_spec *tp, int alltoall,
                              const struct opt_def **bad, struct err *e)
{
    if (!alltoall || tp->leaves < 2) return 0;
    double hpl = (double)tp->hosts_per_leaf, H = coll_hosts(tp);
    double bits = hpl * (H - hpl) * (double)c->wl->bytes * 8.0;
    double ps = bits / ((double)tp->spines * tp->fabric_gbps * 1e9) * (double)PS_PER_S *
                (double)c->sim->iterations;
    const char *key = "fabric_gbps", *what = "a leaf's uplinks";
    if (tp->kind == TOPO_FAT_TREE && tp->pods > 1) {
        /* and out of each pod over its core links: cores of core_gbps */
        double hpp = hpl * (double)tp->leaves_per_pod;
        double core = tp->core_gbps > 0 ? tp->core_gbps : tp->fabric_gbps;
        double pod = hpp * (H - hpp) * (double)c->wl->bytes * 8.0 /
                     ((double)tp->cores * core * 1e9) * (double)PS_PER_S *
                     (double)c->sim->iterations;
        if (pod > ps) {
            ps = pod;
            key = "core_gbps";
            what = "a pod's core links";
        }
    }
    double limit = (double)INT64_MAX;
    if (ps >= limit)
        return wl_fail(bad, e, &topo_options, "topology", key,
                       "%s need at least %.3g s of simulated time to carry its bytes, more than "
                       "the clock holds (%.3g s)",
                       what, ps / (double)PS_PER_S, limit / (double)PS_PER_S);
    return 0;
}

/* A phase's bytes (the phases table's `bytes`, the engine's byte counters)
 * fit a signed 64-bit integer. The engine gives each message slot a block of
 * transport.subflows flow ids (32-bit) and doubles its slots as a phase's
 * messages arrive, so a phase's flows stay below 2^31. */
static int check_totals(const struct wl_specs *c, const struct topo_spec *tp, int alltoall,
                        const struct opt_def **bad, struct err *e)
{
    uint64_t msgs = (uint64_t)coll_msgs(tp, alltoall);
    if ((double)msgs * (double)c->wl->bytes >= (double)INT64_MAX)
        return wl_fail(bad, e, &wl_options, "workload", "bytes",
                       "%llu flows of %lld bytes are %.3g bytes per phase, more than 2^63-1",
                       (unsigned long long)msgs, (long long)c->wl->bytes,
                       (double)msgs * (double)c->wl->bytes);
    uint64_t sub = c->tr->path == PATH_SPLIT ? (uint64_t)c->tr->subflows : 1;
    if (c->tr->path == PATH_ETHEREAL) sub = eth_max_subflows_spec(tp); /* sim/ethereal.h */
    double flows = (double)msgs * (double)sub;
    if (flows >= (double)(1u << 31))
        return wl_fail(bad, e, sub > 1 ? &tr_options : &topo_options,
                       sub > 1 ? "transport" : "topology", sub > 1 ? "subflows" : "hosts_per_leaf",
                       "%llu messages of %llu flows are %.3g flows in one phase, more than the "
                       "engine holds (2^31)",
                       (unsigned long long)msgs, (unsigned long long)sub, flows);
    return 0;
}

static int coll_check(const struct wl_specs *c, const struct topo_spec *tp, int alltoall,
                      const char *kind, const struct opt_def **bad, struct err *e)
{
    if (c->wl->algo != WL_ALGO_AUTO && c->wl->algo != WL_ALGO_DIRECT) {
        char algo[64];
        opt_enum_text(&wl_options, "workload", "algo", c->wl->algo, algo, sizeof algo);
        return wl_fail(bad, e, &wl_options, "workload", "algo",
                       "%s is not an algorithm of workload.kind = %s (it has: direct)", algo, kind);
    }
    if (check_clock(c, tp, alltoall, bad, e) < 0 ||
        check_round_trips(c, tp, alltoall, bad, e) < 0 ||
        check_fabric_clock(c, tp, alltoall, bad, e) < 0 ||
        check_totals(c, tp, alltoall, bad, e) < 0)
        return -1;
    return 0;
}

static int alltoall_check(const struct wl_specs *c, const struct topo_spec *tp,
                          const struct opt_def **bad, struct err *e)
{
    return coll_check(c, tp, 1, "alltoall", bad, e);
}

/* alltoallv: the checks of an all-to-all whose every pair has the largest
 * size it can draw (2 * workload.bytes - 1), so that no draw can pass them. */
static int alltoallv_check(const struct wl_specs *c, const struct topo_spec *tp,
                           const struct opt_def **bad, struct err *e)
{
    struct wl_spec w = *c->wl;
    if (w.bytes > INT64_MAX / 2) w.bytes = INT64_MAX / 2;
    w.bytes = 2 * w.bytes - 1;
    struct wl_specs m = *c;
    m.wl = &w;
    return coll_check(&m, tp, 1, "alltoallv", bad, e);
}

static int permutation_check(const struct wl_specs *c, const struct topo_spec *tp,
                             const struct opt_def **bad, struct err *e)
{
    return coll_check(c, tp, 0, "permutation", bad, e);
}

/* Every message of an iteration is known: the estimate counts their flows
 * and packets. */
static void coll_footprint(const struct topo_spec *tp, int alltoall, struct wl_footprint *f)
{
    f->msgs = coll_msgs(tp, alltoall);
    f->key = opt_table_find(&topo_options, "topology", "hosts_per_leaf");
}

static void alltoall_footprint(const struct wl_specs *c, const struct topo_spec *tp,
                               struct wl_footprint *f)
{
    (void)c;
    coll_footprint(tp, 1, f);
}

static void permutation_footprint(const struct wl_specs *c, const struct topo_spec *tp,
                                  struct wl_footprint *f)
{
    (void)c;
    coll_footprint(tp, 0, f);
}

/* One network phase per iteration. */
static int coll_multiphase(const struct wl_specs *c)
{
    return c->sim->iterations >= 2;
}

const struct wl_def wl_def_alltoall = {
    .kind = WL_ALLTOALL,
    .create = wl_alltoall_create,
    .check = alltoall_check,
    .footprint = alltoall_footprint,
    .multiphase = coll_multiphase,
};

const struct wl_def wl_def_permutation = {
    .kind = WL_PERMUTATION,
    .create = wl_permutation_create,
    .check = permutation_check,
    .footprint = permutation_footprint,
    .multiphase = coll_multiphase,
};

const struct wl_def wl_def_alltoallv = {
    .kind = WL_ALLTOALLV,
    .create = wl_alltoallv_create,
    .check = alltoallv_check,
    .footprint = alltoall_footprint,
    .multiphase = coll_multiphase,
};
