/* incast.c - workload.kind = incast: workload.senders hosts each send
 * workload.bytes to one receiver, the last host, all at once (the many-to-one
 * pattern of a parameter server or a reduce, and the classic stress of a
 * switch's buffer and of congestion control).
 *
 * The senders are the first hosts in host order that sit under another leaf
 * than the receiver's, so that the flows cross the fabric and meet only at
 * the receiver's downlink; when more senders are asked for than there are
 * such hosts, the first hosts under the receiver's own leaf follow.
 * workload.senders = 0 means every other host. One network task per
 * iteration (named "incast"), a barrier after each.
 */
#include <stdlib.h>

#include "workloads/wl.h"

struct incast {
    struct topo_demand *dem;
    size_t ndem;
    uint32_t iter, iterations;
};

static int incast_next(void *state, struct graph *g)
{
    struct incast *s = state;
    if (s->iter >= s->iterations) return 0;
    graph_net(g, "incast", s->iter++, 0, s->dem, s->ndem);
    graph_barrier(g);
    return 1;
}

static void incast_destroy(void *state)
{
    struct incast *s = state;
    free(s->dem);
    free(s);
}

static double incast_hosts(const struct topo_spec *tp)
{
    return (double)(tp->leaves * tp->hosts_per_leaf);
}

/* The senders workload.senders asks for (0: every host but the receiver). */
static uint64_t incast_senders(const struct wl_specs *c, uint64_t hosts)
{
    return c->wl->senders ? (uint64_t)c->wl->senders : hosts - 1;
}

uint32_t wl_incast_pick(const struct topo *t, uint32_t senders, uint32_t *out)
{
    uint32_t H = t->hosts, rx = H - 1, rl = topo_leaf_of(t, rx), n = 0;
    for (int same = 0; same < 2 && n < senders; same++)
        for (uint32_t h = 0; h < rx && n < senders; h++)
            if ((topo_leaf_of(t, h) == rl) == same) out[n++] = h;
    return n;
}

static int incast_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                         struct err *e)
{
    (void)e;
    uint32_t want = (uint32_t)incast_senders(c, t->hosts);
    struct incast *s = xcalloc(1, sizeof *s);
    uint32_t *who = xmalloc(want * sizeof *who);
    s->ndem = wl_incast_pick(t, want, who);
    s->dem = xcalloc(s->ndem, sizeof *s->dem);
    for (size_t i = 0; i < s->ndem; i++)
        s->dem[i] = (struct topo_demand){who[i], t->hosts - 1, (uint64_t)c->wl->bytes};
    free(who);
    s->iterations = (uint32_t)c->sim->iterations;
    g->state = s;
    g->next = incast_next;
    g->destroy = incast_destroy;
    return 0;
}

/* The receiver's link takes every sender's bytes: that time, over every
 * iteration, fits the clock; a phase's bytes fit a signed 64-bit integer. */
static int incast_check(const struct wl_specs *c, const struct topo_spec *tp,
                        const struct opt_def **bad, struct err *e)
{
    double H = incast_hosts(tp);
    if (c->wl->senders > H - 1)
        return wl_fail(bad, e, &wl_options, "workload", "senders",
                       "%lld senders, but the fabric has %.0f hosts besides the receiver",
                       (long long)c->wl->senders, H - 1);
    if (c->wl->algo != WL_ALGO_AUTO && c->wl->algo != WL_ALGO_DIRECT) {
        char algo[64];
        opt_enum_text(&wl_options, "workload", "algo", c->wl->algo, algo, sizeof algo);
        return wl_fail(bad, e, &wl_options, "workload", "algo",
                       "%s is not an algorithm of workload.kind = incast (it has: direct)", algo);
    }
    double n = (double)incast_senders(c, (uint64_t)H), bytes = n * (double)c->wl->bytes;
    if (bytes >= (double)INT64_MAX)
        return wl_fail(bad, e, &wl_options, "workload", "bytes",
                       "%.0f senders of %lld bytes are %.3g bytes per phase, more than 2^63-1", n,
                       (long long)c->wl->bytes, bytes);
    double ps = bytes * 8.0 / (tp->host_gbps * 1e9) * (double)PS_PER_S * (double)c->sim->iterations;
    if (ps >= (double)INT64_MAX)
        return wl_fail(bad, e, &wl_options, "workload", "bytes",
                       "the receiver needs at least %.3g s of simulated time to take its bytes, "
                       "more than the clock holds (%.3g s)",
                       ps / (double)PS_PER_S, (double)INT64_MAX / (double)PS_PER_S);
    return 0;
}

static void incast_footprint(const struct wl_specs *c, const struct topo_spec *tp,
                             struct wl_footprint *f)
{
    f->msgs = (double)incast_senders(c, (uint64_t)incast_hosts(tp));
    f->key = opt_table_find(&wl_options, "workload", "senders");
}

static int incast_multiphase(const struct wl_specs *c)
{
    return c->sim->iterations >= 2;
}

const struct wl_def wl_def_incast = {
    .kind = WL_INCAST,
    .create = incast_create,
    .check = incast_check,
    .footprint = incast_footprint,
    .multiphase = incast_multiphase,
};
