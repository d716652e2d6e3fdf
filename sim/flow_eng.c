/* flow_eng.c - the flow engine (flow_eng.h): create, reset and destroy,
 * messages into fluid subs on the packet engine's paths, the event loop,
 * the counters, the sampler, the end-of-run checks, and its table of
 * functions for sim/eng.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "sim/ecmp.h"
#include "sim/flow_eng.h"
#include "sim/flow_fault.h"
#include "topo/faults.h"

/* The relative time window within which ends are taken together. */
#ifndef FLOW_BATCH
#define FLOW_BATCH 1e-3
#endif

static void push_ev(struct flow_eng *e, simtime_t t, uint32_t kind, uint32_t id)
{
    if (t < e->now) e->st.past_events++;
    evq_push(&e->q, t, kind, id);
    if (e->q.n > e->st.peak_events) e->st.peak_events = e->q.n;
}

static void touch(struct flow_eng *e, uint32_t link)
{
    flow_touch(e, link);
}

/* A route's part between its host links: the ports from the first switch
 * until the destination's leaf, which depend on the switch, that leaf and
 * the path number alone (topo_next_port without planes), and their zero-load
 * time for an mtu packet. n: 0 not yet walked, MID_WALK: walked each time
 * (it does not end at the leaf with room for the host's link). */
struct fl_mid {
    uint32_t n;
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    simtime_t lat_mtu;
};

#define MID_WALK        UINT32_MAX
#define MID_MAX_ENTRIES (1u << 20)

/* The table of fl_mid, (switch, leaf, path) dense, where it is small and
 * routes stay as built (no faults: flow_fault.c changes its view's). */
static void mid_create(struct flow_eng *e, const struct topo *t)
{
    e->mid = NULL;
    if (t->ntfaults || t->planes > 1 || !t->nswitches || !t->leaves || !t->npaths) return;
    uint64_t ne = (uint64_t)t->nswitches * t->leaves * t->npaths;
    if (ne > MID_MAX_ENTRIES) return;
    e->mid = xcalloc(ne, sizeof *e->mid);
    e->mid_sw = t->nswitches;
}

/* The zero-load time of a packet of `bytes` over ports[0, n). */
static simtime_t ports_latency(const struct topo *t, const uint32_t *ports, uint32_t n,
                               uint32_t bytes)
{
    simtime_t lat = 0;
    for (uint32_t i = 0; i < n; i++)
        lat += t->ports[ports[i]].lat_ps + ser_ps(bytes, t->ports[ports[i]].bps);
    return lat;
}

/* e->mid's entry for the switch part of a's route to b on path p, walked
 * the first time; NULL where it does not apply. */
static const struct fl_mid *mid_of(const struct flow_eng *e, uint32_t a, uint32_t b, uint32_t p)
{
    const struct topo *t = e->base.t;
    if (!e->mid || p >= t->npaths || topo_via_nvlink(t, a, b)) return NULL;
    uint32_t q0 = t->host_up[a], qd = t->host_down[b], dl = t->host_leaf[b];
    if (t->ports[q0].dst < t->hosts || t->ports[qd].dst >= t->hosts || dl >= t->leaves) return NULL;
    uint32_t s0 = t->ports[q0].dst - t->hosts;
    if (s0 >= e->mid_sw) return NULL;
    struct fl_mid *m = &e->mid[((size_t)s0 * t->leaves + dl) * t->npaths + p];
    if (!m->n) { /* topo_route_ports' walk from s0 to dl, after the host's link */
        uint32_t n = 0, sw = s0, ok = 0;
        while (1 + n < TOPO_ROUTE_MAX_PORTS) {
            if (sw == dl) {
                ok = 1; /* then b's link, in the walk's room */
                break;
            }
            uint32_t q = topo_next_port(t, sw, b, p);
            m->ports[n++] = q;
            if (t->ports[q].dst < t->hosts) break;
            sw = t->ports[q].dst - t->hosts;
        }
        m->n = ok ? n + 1 : MID_WALK; /* n + 1: 0 is "not yet" */
        m->lat_mtu = ok ? ports_latency(t, m->ports, n, e->mtu) : 0;
    }
    return m->n == MID_WALK ? NULL : m;
}

/* flow_eng.h */
uint32_t flow_route_walk(const struct flow_eng *e, uint32_t a, uint32_t b, uint32_t p,
                         uint32_t *ports)
{
    const struct topo *t = e->base.t;
    const struct fl_mid *m = mid_of(e, a, b, p);
    if (!m) return topo_route_ports(t, a, b, p, ports);
    uint32_t n = m->n - 1;
    ports[0] = t->host_up[a];
    memcpy(ports + 1, m->ports, n * sizeof *ports);
    ports[n + 1] = t->host_down[b];
    return n + 2;
}

static struct eng *flow_create(const struct topo *t, const struct tr_spec *c, uint64_t seed,
                               const struct eng_hooks *h)
{
    struct flow_eng *e = xcalloc(1, sizeof *e);
    e->base.ops = &flow_eng_ops;
    e->base.t = t;
    e->hooks = *h;
    evq_init(&e->q);
    e->path = c->path;
    e->subflows = c->path == PATH_SPLIT ? (uint32_t)c->subflows : 1; /* ethereal: add_msg_paths */
    e->mtu = (uint32_t)c->mtu;
    e->ack_bytes = (uint32_t)c->ack_bytes;
    e->ack_group = eng_ack_group(t, c);
    e->ackm = flow_ack_mode_now();
    e->ack_share = (double)e->ack_bytes / ((double)e->mtu * (double)e->ack_group);
    e->base_seed = seed;
    e->seed = rng_seed(seed, RNG_NET_HASH, 0);
    e->links = xcalloc(t->nports, sizeof *e->links);
    for (uint32_t i = 0; i < t->nports; i++)
        e->links[i].cap = (double)t->ports[i].bps / (8.0 * PS_PER_S);
    flow_group_init(e); /* e->ncons: the ports, then the groups */
    for (uint32_t i = 0; i < e->ncons; i++)
        e->links[i].cap0 = e->links[i].cap;
    e->pst = xcalloc(t->nports, sizeof *e->pst);
    e->spread_mark = xcalloc(t->nports, sizeof *e->spread_mark);
    e->spread_slot = xcalloc(t->nports, sizeof *e->spread_slot);
    mid_create(e, t);
    e->end_seq = FL_NOEV;
    e->theta = INFINITY;
    e->tgen = 1;
    e->slack = c->fl.resolve_slack;
    e->window = c->fl.resolve_window;
    e->defer = e->slack > 0 || e->window > 0;
    e->solve_at = SIMTIME_MAX;
    e->solve_seq = FL_NOEV;
    if (t->ntfaults) flow_fault_create(e, t); /* e->base.t: its view of t (flow_fault.c) */
    return &e->base;
}

static void flow_destroy(struct eng *eb)
{
    struct flow_eng *e = flow_eng_of(eb);
    evq_destroy(&e->q);
    for (uint32_t i = 0; i < e->ncons; i++) {
        free(e->links[i].uses);
        free(e->links[i].sid);
        free(e->links[i].au);
    }
    free(e->links);
    flow_group_free(e);
    free(e->pst);
    free(e->spread_mark);
    free(e->spread_slot);
    free(e->mid);
    free(e->subs);
    free(e->fep);
    free(e->uses);
    free(e->msgs);
    free(e->touched);
    free(e->cl);
    free(e->cs);
    free(e->eh);
    free(e->srt);
    free(e->srt2);
    free(e->sbk);
    free(e->act);
    free(e->arate);
    free(e->csr);
    free(e->rl);
    free(e->rbits);
    free(e->ul);
    free(e->lhot);
    free(e->fresh);
    free(e->mfree);
    flow_fault_destroy(e); /* last: e->base.t is its view */
    free(e);
}

static void flow_reset(struct eng *eb, const struct eng_hooks *h, uint64_t salt)
{
    struct flow_eng *e = flow_eng_of(eb);
    const struct topo *t = e->base.t;
    e->hooks = *h;
    evq_clear(&e->q);
    for (uint32_t i = 0; i < e->ncons; i++) {
        e->links[i].n = e->links[i].nlive = e->links[i].na = 0;
        e->links[i].cap = e->links[i].cap0;
        e->links[i].done = 0;
        e->links[i].mark = 0;
        e->links[i].load = e->links[i].wsum = e->links[i].freed = 0;
    }
    memset(e->pst, 0, (size_t)t->nports * sizeof *e->pst);
    flow_group_reset(e);
    flow_maxmin_reset(e);
    e->nsubs = e->nuses = e->nmsgs = e->live_subs = 0;
    e->ntouched = e->nfresh = e->neh = 0;
    e->nsrt = e->psrt = e->srt_fixed = e->srt_sorted = 0;
    e->dead_subs = e->dead_uses = e->nmfree = 0;
    e->tgen++;
    e->theta = INFINITY;
    e->epoch = 0;
    e->end_seq = FL_NOEV;
    e->solve_due = 0;
    e->peak_live = 0;
    e->solve_at = SIMTIME_MAX;
    e->solve_seq = FL_NOEV;
    e->now = 0;
    memset(&e->st, 0, sizeof e->st);
    e->sample_period = 0;
    e->sample_fn = NULL;
    e->sample_ctx = NULL;
    e->seed = rng_seed(e->base_seed, RNG_NET_HASH, salt);
    if (e->fault) flow_fault_start(e);
}

static void flow_set_sampler(struct eng *eb, simtime_t first_ps, simtime_t period_ps,
                             eng_sample_fn fn, void *ctx)
{
    struct flow_eng *e = flow_eng_of(eb);
    e->sample_period = period_ps;
    e->sample_fn = fn;
    e->sample_ctx = ctx;
    if (period_ps && fn) push_ev(e, first_ps, FEV_SAMPLE, 0);
}

/* Appends a use of `link` carrying `bytes` of the last sub, of `size` data
 * bytes. */
static void add_use(struct flow_eng *e, uint32_t link, uint64_t bytes, uint64_t size)
{
    if (!bytes) return;
    if (e->nuses == e->capuses) {
        e->capuses = e->capuses ? 2 * e->capuses : 4096;
        e->uses = xrealloc(e->uses, e->capuses * sizeof *e->uses);
    }
    e->uses[e->nuses++] =
        (struct fl_use){link, e->nsubs - 1, 0, (double)bytes / (double)size, bytes};
}

/* On a rail of P planes, the bytes of a spread sub of `size` (n packets of
 * the MTU, the last one short) that plane j carries, as the packet engine
 * puts them there: packet i on plane (p0 + i) mod P, so a flow of n packets
 * uses min(n, P) planes, each with its own packets' bytes (the short last
 * packet on plane (p0 + n - 1) mod P; a lone packet never crosses two
 * planes, which the ideal bound counts: topo/ideal.c). `bytes` other than
 * `size` (the acknowledgements) split in the data's proportions, the
 * remainder to the first planes from p0. */
static uint64_t plane_bytes(const struct flow_eng *e, uint64_t bytes, uint64_t size, uint32_t p0,
                            uint32_t j)
{
    uint32_t P = e->base.t->planes, d = (j + P - p0 % P) % P;
    uint64_t n = (size + e->mtu - 1) / e->mtu, rem = size % e->mtu;
    uint64_t cnt = n / P + (d < n % P ? 1 : 0), data = cnt * e->mtu;
    if (rem && d == (n - 1) % P) data -= e->mtu - rem;
    if (bytes == size) return data;
    /* acknowledgements: floor(bytes x data / size), the remainder r (< P)
     * one byte each to the first planes from p0 */
    uint64_t r = bytes, sh = 0;
    for (uint32_t i = 0; i < P; i++) {
        uint32_t dj = (p0 + i) % P;
        uint64_t dd = plane_bytes(e, size, size, p0, dj);
        uint64_t x = (uint64_t)((unsigned __int128)bytes * dd / size);
        r -= x;
        if (dj == j) sh = x;
    }
    return sh + (d < r ? 1 : 0);
}

/* Adds the uses of a route from a to b carrying `bytes` of a sub of `size`:
 * on path k (the routing table's path number: topo_route_ports), or, for
 * k = UINT32_MAX, spread in equal shares over the npaths path numbers (the
 * first paths taking the remainder), each port once with the bytes of every
 * path that crosses it; on rail planes each plane's share is its packets'
 * (plane_bytes, from plane p0), in equal shares over its paths. */
static void add_route(struct flow_eng *e, uint32_t a, uint32_t b, uint64_t bytes, uint64_t size,
                      uint32_t k, uint32_t p0)
{
    const struct topo *t = e->base.t;
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    /* (with rail planes a rail switch's GPUs have a route per plane) */
    /* a GPU's plane link down: a path on a plane the pair cannot use moves
     * to the next one it can, as the packet engine's sender moves it
     * (sim/pkt_send.c; topo_plane_live is symmetric in a and b) */
    int pd = t->plane_host_down && !topo_same_server(t, a, b);
    if (k != UINT32_MAX || topo_same_server(t, a, b) ||
        (topo_leaf_of(t, a) == topo_leaf_of(t, b) && t->planes <= 1)) {
        if (pd) k = topo_plane_live(t, a, b, k == UINT32_MAX ? 0 : k);
        uint32_t n = flow_route_walk(e, a, b, k == UINT32_MAX ? 0 : k, ports);
        for (uint32_t i = 0; i < n; i++)
            add_use(e, ports[i], bytes, size);
        return;
    }
    if (!pd && flow_group_route(e, a, b, bytes, size)) return; /* equal links merged */
    uint32_t np = t->npaths, u0 = e->nuses, ep = ++e->spread_epoch;
    uint32_t pp = t->planes > 1 ? t->plane_paths : np;
    uint64_t pb = bytes; /* the bytes of path p's plane */
    for (uint32_t p = 0; p < np; p++) {
        if (t->planes > 1 && p % pp == 0) pb = plane_bytes(e, bytes, size, p0, p / pp);
        uint64_t bp = pb / pp + (p % pp < pb % pp ? 1 : 0);
        uint32_t n = topo_route_ports(t, a, b, pd ? topo_plane_live(t, a, b, p) : p, ports);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t q = ports[i];
            if (e->spread_mark[q] == ep) {
                e->uses[e->spread_slot[q]].bytes += bp;
                continue;
            }
            if (!bp) continue;
            e->spread_mark[q] = ep;
            e->spread_slot[q] = e->nuses;
            add_use(e, q, bp, size);
        }
    }
    for (uint32_t u = u0; u < e->nuses; u++)
        e->uses[u].w = (double)e->uses[u].bytes / (double)size;
}

/* Zero-load latency of a packet of `bytes` from a to b on path p (on a
 * fabric from a file the equal-cost paths may differ in delay); for an mtu
 * packet the switch part's from e->mid. */
static simtime_t route_latency(const struct flow_eng *e, uint32_t a, uint32_t b, uint32_t p,
                               uint32_t bytes)
{
    const struct topo *t = e->base.t;
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    const struct fl_mid *m = bytes == e->mtu ? mid_of(e, a, b, p) : NULL;
    if (m) {
        ports[0] = t->host_up[a];
        ports[1] = t->host_down[b];
        return ports_latency(t, ports, 2, bytes) + m->lat_mtu;
    }
    uint32_t n = flow_route_walk(e, a, b, p, ports);
    return ports_latency(t, ports, n, bytes);
}

/* A sub of `size` bytes from src to dst on path k (UINT32_MAX: spread over
 * every path; a direct route has one), with its acknowledgements on the
 * reverse route of the same path number, as the packet engine sends them. */
static void add_sub(struct flow_eng *e, uint32_t mi, uint32_t src, uint32_t dst, uint64_t size,
                    uint32_t k)
{
    const struct topo *t = e->base.t;
    if (e->nsubs == e->capsubs) {
        e->capsubs = e->capsubs ? 2 * e->capsubs : 1024;
        e->subs = xrealloc(e->subs, e->capsubs * sizeof *e->subs);
        e->fep = xrealloc(e->fep, e->capsubs * sizeof *e->fep);
    }
    e->fep[e->nsubs] = 0;
    struct fl_sub *s = &e->subs[e->nsubs++];
    memset(s, 0, sizeof *s);
    s->size = size;
    s->left = (double)size;
    s->msg = mi;
    s->use0 = e->nuses;
    s->hpos = FL_NONE;
    uint64_t pkts = (size + e->mtu - 1) / e->mtu;
    uint64_t ack = (pkts + e->ack_group - 1) / e->ack_group * e->ack_bytes;
    /* on planes a spread sub's first packet's plane: spray_rr's first path's
     * (the packet engine's f->k, sim/pkt_send.c) */
    uint32_t p0 = k == UINT32_MAX && t->planes > 1
                      ? topo_plane(t, eng_ecmp_path(eng_ecmp_key(e->seed, src, dst, e->st.msgs), 0,
                                                    t->npaths))
                      : 0;
    add_route(e, src, dst, size, size, k, p0);
    uint32_t data_end = e->nuses;
    add_route(e, dst, src, ack, size, k, p0);
    s = &e->subs[e->nsubs - 1];
    if (e->ackm == FLOW_ACK_CONSTRAIN) { /* the acknowledgements constrain: data uses */
        s->nuse = e->nuses - s->use0;
    } else { /* after the data uses, out of the solver's sight (flow_ack.c) */
        s->nuse = data_end - s->use0;
        s->nack = e->nuses - data_end;
    }
    /* The pipeline's fill: the fluid model passes the bytes through the
     * bottleneck; the first packet's way after its first hop (store and
     * forward, propagation) comes on top, as for a lone packet flow, whose
     * destination link takes its bytes from the first packet's arrival. */
    uint32_t first = size < e->mtu ? (uint32_t)size : e->mtu;
    s->tail = route_latency(e, src, dst, k == UINT32_MAX ? 0 : k, first) -
              ser_ps(first, t->ports[topo_nic_port(t, src, dst, k == UINT32_MAX ? 0 : k)].bps);
    if (e->fault) flow_fault_note(e, e->nsubs - 1, k);
}

uint32_t flow_sub_add(struct flow_eng *e, uint32_t mi, uint32_t src, uint32_t dst, uint64_t size,
                      uint32_t k)
{
    add_sub(e, mi, src, dst, size, k);
    return e->nsubs - 1;
}

/* On a fabric read from its rows (not a leaf-spine's factored up/down), an
 * ECMP or split flow's switches past the first each hash the flow's value
 * fk (its path number, 16 more bits of entropy above: sim/ecmp.h) and
 * write their choice as their digit of the path number, as the packet
 * engine's pkt_hop does; the path number the flow ends with, which its
 * acknowledgements follow back. */
static uint32_t hashed_path(const struct flow_eng *e, uint32_t src, uint32_t dst, uint32_t fk)
{
    const struct topo *t = e->base.t;
    uint16_t p = (uint16_t)fk;
    if (topo_same_server(t, src, dst)) return p;
    uint32_t dl = topo_leaf_of(t, dst), q = t->host_up[src];
    for (uint32_t hop = 0; t->ports[q].dst >= t->hosts && hop < TOPO_ROUTE_MAX_PORTS; hop++) {
        uint32_t sw = t->ports[q].dst - t->hosts;
        if (sw != dl && sw >= t->leaves) {
            const struct topo_hop *g = topo_hop_at(t, sw, dl);
            if (g->n >= 2) {
                uint32_t i = (uint32_t)(eng_ecmp_hop(e->seed, fk, sw) % g->n);
                uint32_t cur = (p / g->div) % g->n;
                p = (uint16_t)(p - cur * g->div + i * g->div);
            }
        }
        q = topo_next_port(t, sw, dst, p);
    }
    return p;
}

static inline uint32_t route_path(const struct flow_eng *e, uint32_t src, uint32_t dst, uint32_t fk)
{
    const struct topo *t = e->base.t;
    /* (a rail's spines have one way down: only its rail switch chooses) */
    if (!t->up && t->kind != TOPO_RAIL) return hashed_path(e, src, dst, fk);
    return (uint16_t)fk;
}

uint32_t flow_route_path(const struct flow_eng *e, uint32_t src, uint32_t dst, uint32_t fk)
{
    return route_path(e, src, dst, fk);
}

/* A new message from src to dst; its subs follow (msg_close). */
static uint32_t msg_open(struct flow_eng *e, uint32_t src, uint32_t dst, simtime_t start,
                         uint64_t tag)
{
    flow_compact_maybe(e); /* (no sub or use index held here) */
    uint32_t mi;
    if (e->nmfree) { /* the slot of a message done */
        mi = e->mfree[--e->nmfree];
    } else {
        if (e->nmsgs == e->capmsgs) {
            e->capmsgs = e->capmsgs ? 2 * e->capmsgs : 1024;
            e->msgs = xrealloc(e->msgs, e->capmsgs * sizeof *e->msgs);
        }
        mi = e->nmsgs++;
    }
    struct fl_msg *m = &e->msgs[mi];
    m->tag = tag;
    m->start = start;
    m->end = 0;
    m->src = src;
    m->dst = dst;
    m->sub0 = e->nsubs;
    return mi;
}

static uint32_t msg_close(struct flow_eng *e, uint32_t mi, simtime_t start)
{
    struct fl_msg *m = &e->msgs[mi];
    m->nsub = e->nsubs - m->sub0;
    m->left = m->nsub;
    e->st.msgs++;
    e->st.flows += m->nsub;
    push_ev(e, start > e->now ? start : e->now, FEV_START, mi);
    return mi;
}

/* transport.path = ethereal: the subs as the executor assigned them
 * (sim/ethereal.h), each on its path. */
static uint32_t flow_add_msg_paths(struct eng *eb, uint32_t src, uint32_t dst, simtime_t start,
                                   uint64_t tag, const struct eth_sub *subs, uint32_t n)
{
    struct flow_eng *e = flow_eng_of(eb);
    uint32_t mi = msg_open(e, src, dst, start, tag);
    for (uint32_t j = 0; j < n; j++)
        add_sub(e, mi, src, dst, subs[j].bytes, subs[j].path);
    return msg_close(e, mi, start);
}

static uint32_t flow_add_msg(struct eng *eb, uint32_t src, uint32_t dst, uint64_t bytes,
                             simtime_t start, uint64_t tag)
{
    struct flow_eng *e = flow_eng_of(eb);
    const struct topo *t = e->base.t;
    if (e->path == PATH_ETHEREAL) { /* a message alone: a step of one flow */
        struct topo_demand d = {src, dst, bytes};
        struct eth_sub *subs;
        size_t *off;
        size_t n = eth_assign(t, &d, 1, &subs, &off);
        uint32_t mi = flow_add_msg_paths(eb, src, dst, start, tag, subs, (uint32_t)n);
        free(subs);
        free(off);
        return mi;
    }
    uint32_t mi = msg_open(e, src, dst, start, tag);
    uint64_t key = eng_ecmp_key(e->seed, src, dst, e->st.msgs);
    switch (e->path) {
    case PATH_SPRAY:
    case PATH_SPRAY_RR:
    case PATH_ADAPTIVE:
        add_sub(e, mi, src, dst, bytes, UINT32_MAX);
        break;
    default: { /* ecmp, split: the packet engine's flows and paths */
        uint32_t n = bytes < e->subflows ? (uint32_t)bytes : e->subflows;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t fk = eng_ecmp_path(key, j, t->npaths) | eng_ecmp_ent16(key, j) << 16;
            add_sub(e, mi, src, dst, bytes / n + (j < bytes % n ? 1 : 0),
                    route_path(e, src, dst, fk));
            if (e->fault) flow_fault_note(e, e->nsubs - 1, fk); /* its value, for a reroute */
        }
    }
    }
    return msg_close(e, mi, start);
}

/* (inline in start_msg's loop, as it was written there before faults.fail) */
static inline __attribute__((always_inline)) void sub_start(struct flow_eng *e, uint32_t i);

static void start_msg(struct flow_eng *e, uint32_t mi)
{
    const struct fl_msg *m = &e->msgs[mi];
    for (uint32_t i = m->sub0; i < m->sub0 + m->nsub; i++)
        if (!e->fault || !flow_fault_hold(e, i)) sub_start(e, i);
}

void flow_sub_start(struct flow_eng *e, uint32_t i)
{
    sub_start(e, i);
}

static inline __attribute__((always_inline)) void sub_start(struct flow_eng *e, uint32_t i)
{
    {
        struct fl_sub *s = &e->subs[i];
        s->active = 1;
        s->fresh = 1;
        s->t_upd = e->now;
        s->t0 = e->now;
        if (e->live_subs == e->capact) {
            e->capact = e->capact ? 2 * e->capact : 1024;
            e->act = xrealloc(e->act, e->capact * sizeof *e->act);
            e->arate = xrealloc(e->arate, e->capact * sizeof *e->arate);
        }
        s->apos = e->live_subs;
        e->act[e->live_subs] = i;
        e->arate[e->live_subs++] = INFINITY;
        if (e->live_subs > e->peak_live) e->peak_live = e->live_subs;
        /* alone on its links (deferred re-solves): its rate at once (flow_alone.c) */
        double alone_rate;
        int alone = flow_alone_rate(e, i, &alone_rate);
        if (!alone) {
            if (e->nfresh == e->capfresh) {
                e->capfresh = e->capfresh ? 2 * e->capfresh : 1024;
                e->fresh = xrealloc(e->fresh, e->capfresh * sizeof *e->fresh);
            }
            e->fresh[e->nfresh++] = i;
        }
        e->st.data_bytes_sent += s->size;
        for (uint32_t u = 0; u < s->nuse; u++) {
            struct fl_use *us = &e->uses[s->use0 + u];
            struct fl_link *l = &e->links[us->link];
            if (l->n == l->capn) {
                l->capn = l->capn ? 2 * l->capn : 8;
                l->uses = xrealloc(l->uses, l->capn * sizeof *l->uses);
                l->sid = xrealloc(l->sid, l->capn * sizeof *l->sid);
            }
            us->pos = l->n;
            l->sid[l->n] = i;
            l->uses[l->n++] = s->use0 + u;
            l->nlive++;
            l->wsum += us->w;
            if (!alone) touch(e, us->link);
        }
        if (s->nack) flow_ack_start(e, i);
        if (alone) flow_alone_start(e, i, alone_rate);
    }
}

/* Sub si's last byte is through its first link at time `at` (its end
 * event's time; e->now <= at when it ends early, in a batch). */
static void end_sub(struct flow_eng *e, uint32_t si, simtime_t at)
{
    struct fl_sub *s = &e->subs[si];
    /* alone on its links (deferred re-solves): no other rate changes (flow_alone.c) */
    int alone = flow_alone_end(e, si);
    e->alone_ends += (uint64_t)alone;
    if (s->rate < e->theta && !alone) e->theta = s->rate;
    flow_heap_remove(e, si);
    uint32_t last = e->act[e->live_subs - 1];
    e->act[s->apos] = last;
    e->arate[s->apos] = e->arate[e->live_subs - 1];
    e->subs[last].apos = s->apos;
    s->active = 0;
    s->ended = 1;
    s->left = 0;
    e->live_subs--;
    e->dead_subs++;
    e->dead_uses += s->nuse + s->nack;
    e->st.data_bytes_delivered += s->size;
    e->st.acks += ((s->size + e->mtu - 1) / e->mtu + e->ack_group - 1) / e->ack_group;
    for (uint32_t u = 0; u < s->nuse; u++) {
        const struct fl_use *us = &e->uses[s->use0 + u];
        struct fl_link *l = &e->links[us->link];
        l->done += us->bytes;
        if (us->link >= e->base.t->nports) flow_group_done(e, us);
        l->wsum -= us->w;
        l->load -= us->w * s->rate;
        l->nlive--;
        if (!e->defer) {
            uint32_t moved = l->uses[--l->n];
            if (us->pos != l->n) {
                l->uses[us->pos] = moved;
                l->sid[us->pos] = l->sid[l->n];
                e->uses[moved].pos = us->pos;
            }
        }
        if (alone) continue;
        l->freed += us->w * s->rate;
        if (e->slack > 0 && l->freed > e->slack * l->cap) e->solve_due = 1;
        touch(e, us->link);
    }
    if (s->nack) flow_ack_stop(e, si, 1);
    /* deferred: its uses stay in the lists, dropped by a full re-solve */
    if (e->defer) e->fep[si] = FL_DEAD;
    s->rate = 0;
    if (e->window > 0 && !alone) {
        /* the share of a link an end frees falls as the subs sharing it
         * grow: the window scales with the subs left (after this one) over
         * the most there were, so the last ones re-solve at once */
        double f = (double)e->live_subs / (double)e->peak_live;
        simtime_t due = at + (simtime_t)(f * e->window * (double)(at - s->t0));
        if (due < e->solve_at) e->solve_at = due;
    }
    struct fl_msg *m = &e->msgs[s->msg];
    simtime_t end = at + s->tail;
    if (end > m->end) m->end = end;
    e->st.underflows += m->left == 0;
    if (--m->left == 0) push_ev(e, m->end, FEV_DONE, s->msg);
}

/* The subs due by now, and (re-solving at every end: slack = 0) those due
 * within FLOW_BATCH of the time elapsed: their capacity frees at once, for
 * one re-solve; each still ends (its message's completion) at its own
 * time. With deferred re-solves (slack > 0) every sub ends at its own
 * time. */
static void end_due(struct flow_eng *e)
{
    simtime_t horizon = e->now + (e->defer ? 0 : (simtime_t)(FLOW_BATCH * (double)e->now));
    const struct fl_hent *h;
    while ((h = flow_heap_top(e))) {
        uint32_t si = h->si;
        simtime_t t = h->t;
        if (t > horizon) break;
        end_sub(e, si, t > e->now ? t : e->now);
    }
}

/* The one end event: at the earliest end of the active subs. */
static void next_end(struct flow_eng *e)
{
    const struct fl_hent *h = flow_heap_top(e);
    simtime_t t = h ? h->t : SIMTIME_MAX;
    if (e->end_seq != FL_NOEV) {
        if (t == e->end_at) return;
        evq_cancel(&e->q, e->end_seq);
        e->end_seq = FL_NOEV;
    }
    if (t == SIMTIME_MAX) return;
    e->end_at = t < e->now ? e->now : t;
    e->end_seq = evq_push(&e->q, e->end_at, FEV_END, 0);
    if (e->q.n > e->st.peak_events) e->st.peak_events = e->q.n;
}

/* Whether this instant's changes are re-solved now: always when re-solving
 * at every change (no slack, no window), when subs started (they need a
 * rate), when none is left, when the subs ended since the last re-solve
 * freed more than slack x its capacity on some link (solve_due), or at
 * solve_at (the window after the first of them), for which an event waits;
 * otherwise the rates stay as they are, the ended subs' capacity idle. */
static int solve_now(struct flow_eng *e)
{
    if (!e->ntouched) return 0;
    if (e->defer && e->nfresh == 0 && e->live_subs && !e->solve_due && e->now < e->solve_at) {
        if (e->solve_at == SIMTIME_MAX) return 0;
        if (e->solve_seq != FL_NOEV && e->solve_ev_at != e->solve_at) {
            evq_cancel(&e->q, e->solve_seq); /* a later end is due sooner */
            e->solve_seq = FL_NOEV;
        }
        if (e->solve_seq == FL_NOEV) {
            e->solve_ev_at = e->solve_at;
            e->solve_seq = evq_push(&e->q, e->solve_at, FEV_SOLVE, 0);
            if (e->q.n > e->st.peak_events) e->st.peak_events = e->q.n;
        }
        return 0;
    }
    if (e->solve_seq != FL_NOEV) evq_cancel(&e->q, e->solve_seq);
    e->solve_seq = FL_NOEV;
    e->solve_at = SIMTIME_MAX;
    for (uint32_t i = 0; i < e->ntouched; i++)
        e->links[e->touched[i]].freed = 0;
    e->solve_due = 0;
    return 1;
}

/* A re-solve (flow_maxmin.c), the active subs at it counted (the stats). */
static void resolve(struct flow_eng *e)
{
    e->live_at_solves += e->live_subs;
    flow_maxmin_update(e);
}

static void flow_run(struct eng *eb)
{
    struct flow_eng *e = flow_eng_of(eb);
    struct ev ev;
    while (evq_pop(&e->q, &ev)) {
        e->st.past_events += ev.time < e->now;
        simtime_t before = e->now;
        e->now = ev.time;
        e->st.events++;
        switch (ev.kind) {
        case FEV_START:
            start_msg(e, ev.id);
            break;
        case FEV_END:
            e->end_seq = FL_NOEV;
            end_due(e);
            break;
        case FEV_DONE: {
            const struct fl_msg *m = &e->msgs[ev.id];
            e->st.msgs_done++;
            if (e->hooks.msg_done)
                e->hooks.msg_done(e->hooks.ctx, &e->base, m->tag, m->start, e->now, NULL);
            /* its slot is free (nothing reads a message after its end) */
            if (e->nmfree == e->capmfree) {
                e->capmfree = e->capmfree ? 2 * e->capmfree : 1024;
                e->mfree = xrealloc(e->mfree, e->capmfree * sizeof *e->mfree);
            }
            e->mfree[e->nmfree++] = ev.id;
            break;
        }
        case FEV_SAMPLE:
            e->st.events--;
            if (evq_size(&e->q) == flow_fault_idle(e)) { /* (faults.fail's keep no run alive) */
                e->now = before;
                break;
            }
            if (solve_now(e)) { /* the rates at this instant, and the end they give */
                resolve(e);
                next_end(e);
            }
            e->sample_fn(e->sample_ctx, &e->base, e->now);
            push_ev(e, e->now + e->sample_period, FEV_SAMPLE, 0);
            break;
        case FEV_FAIL:
        case FEV_REROUTE:
            flow_fault_event(e, ev.kind, ev.id, before);
            break;
        case FEV_SOLVE: /* solve_now, below */
            e->solve_seq = FL_NOEV;
            e->st.events--;
            break;
        }
        /* Every event of this instant first, then the rates, once. */
        const struct ev *next = evq_peek(&e->q);
        if (!next || next->time > e->now) {
            if (solve_now(e)) resolve(e);
            next_end(e);
        }
    }
    e->st.now = e->now;
    if (getenv("MOESIM_FLOW_STATS"))
        fprintf(stderr,
                "flow: %llu subs, %llu compactions, %llu re-solves, %llu candidates, %llu filled, "
                "%llu rate changes "
                "(%llu by > 1e-6), %llu active subs summed over the re-solves, %llu starts and "
                "%llu ends alone\n",
                (unsigned long long)e->nsubs, (unsigned long long)e->compactions,
                (unsigned long long)e->recomputes, (unsigned long long)e->cand_subs,
                (unsigned long long)e->filled_subs, (unsigned long long)e->rate_changes,
                (unsigned long long)e->big_changes, (unsigned long long)e->live_at_solves,
                (unsigned long long)e->alone_starts, (unsigned long long)e->alone_ends);
    if (eng_test_hook) eng_test_hook(&e->st);
}

static simtime_t flow_now(const struct eng *e)
{
    return flow_eng_ofc(e)->now;
}

static const struct eng_stats *flow_stats(const struct eng *e)
{
    return &flow_eng_ofc(e)->st;
}

/* A link's bytes through by now: those of ended subs and the active subs'
 * share of what they have sent. */
static uint64_t flow_port_sent(const struct eng *eb, uint32_t port)
{
    const struct flow_eng *e = flow_eng_ofc(eb);
    const struct fl_link *l = &e->links[port];
    uint64_t sent = l->done + flow_group_sent(e, port) + flow_ack_sent(e, l, 0, 0);
    for (uint32_t j = 0; j < l->n; j++) {
        const struct fl_use *us = &e->uses[l->uses[j]];
        const struct fl_sub *s = &e->subs[us->sub];
        if (!s->active) continue; /* ended (a deferred engine's lists keep it) */
        double left = s->fresh ? s->left : s->left - s->rate * (double)(e->now - s->t_upd);
        if (left < 0) left = 0;
        double frac = 1.0 - left / (double)s->size;
        sent += (uint64_t)(frac * (double)us->bytes);
    }
    return sent;
}

static uint64_t flow_port_backlog(const struct eng *e, uint32_t port)
{
    (void)e;
    (void)port;
    return 0; /* fluid: no queues */
}

static const struct res_port_stats *flow_port(const struct eng *eb, uint32_t port)
{
    struct flow_eng *e = (struct flow_eng *)eb;
    struct res_port_stats *s = &e->pst[port];
    s->bytes = flow_port_sent(eb, port);
    s->busy_ps = ser_ps(s->bytes, e->base.t->ports[port].bps);
    s->max_queue_bytes = RES_NOT_MODELED;
    return s;
}

static uint64_t flow_window(const struct eng *e)
{
    (void)e;
    return 0; /* no window */
}

static int flow_check(const struct eng *eb, char *msg, size_t n)
{
    const struct flow_eng *e = flow_eng_ofc(eb);
    const struct eng_stats *s = &e->st;
    if (s->past_events)
        return snprintf(msg, n, "invariant: %llu events were scheduled in the past",
                        (unsigned long long)s->past_events),
               -1;
    if (s->underflows)
        return snprintf(msg, n, "invariant: %llu counters went below zero",
                        (unsigned long long)s->underflows),
               -1;
    if (s->data_bytes_sent != s->data_bytes_delivered + s->drop_bytes)
        return snprintf(msg, n, "invariant: %llu data bytes sent but %llu delivered and %llu lost",
                        (unsigned long long)s->data_bytes_sent,
                        (unsigned long long)s->data_bytes_delivered,
                        (unsigned long long)s->drop_bytes),
               -1;
    if (s->msgs_done != s->msgs)
        return snprintf(msg, n,
                        "invariant: %llu of %llu messages unfinished when no event was left",
                        (unsigned long long)(s->msgs - s->msgs_done), (unsigned long long)s->msgs),
               -1;
    if (e->live_subs)
        return snprintf(msg, n, "invariant: %u fluid flows still active", e->live_subs), -1;
    if (e->fault && flow_fault_waiting(e))
        return snprintf(msg, n, "invariant: %u fluid flows still waiting for a reroute",
                        flow_fault_waiting(e)),
               -1;
    return 0;
}

size_t eng_memory_flow_sub(uint32_t uses)
{
    size_t sub = sizeof(struct fl_sub) + sizeof(uint32_t) /* fep */ + sizeof(uint32_t) +
                 sizeof(double) /* act, arate */ +
                 3 * sizeof(struct fl_hent) /* the heap of ends, the sorted ends (two) */ +
                 sizeof(uint32_t) /* a re-solve's candidates */;
    size_t use = sizeof(struct fl_use) + 2 * sizeof(uint32_t) /* the link's uses and sid */ +
                 sizeof(uint32_t) /* a re-solve's subs per link */;
    return sub + (size_t)uses * use;
}

uint32_t eng_flow_uses_spec(const struct topo_spec *s, const struct tr_spec *tr)
{
    uint8_t kinds[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = topo_spec_route(s, TOPO_ROUTE_FABRIC, kinds);
    if (!n) n = topo_spec_route(s, TOPO_ROUTE_LEAF, kinds);
    if (!n) n = topo_spec_route(s, TOPO_ROUTE_NVLINK, kinds);
    int spread = tr->path == PATH_SPRAY || tr->path == PATH_SPRAY_RR || tr->path == PATH_ADAPTIVE;
    /* a leaf-spine's equal links merged (flow_group.c): one use per group */
    int merged = s->kind == TOPO_LEAF_SPINE && s->planes <= 1 && s->leaves > 1 && s->spines > 1 &&
                 !topo_faults_any(&s->faults) && !flow_group_off;
    uint64_t w = spread && !merged && s->spines > 1 ? (uint64_t)s->spines : 1;
    uint64_t data = n > 2 ? 2 + (uint64_t)(n - 2) * w : n;
    return (uint32_t)(2 * data < UINT32_MAX ? 2 * data : UINT32_MAX);
}

size_t eng_memory_flow_msg(void)
{
    return sizeof(struct fl_msg) + sizeof(uint32_t) /* its slot, once free */ +
           2 * sizeof(struct ev) /* its start and its end */;
}

const struct eng_ops flow_eng_ops = {
    .name = "flow",
    .create = flow_create,
    .destroy = flow_destroy,
    .reset = flow_reset,
    .add_msg = flow_add_msg,
    .add_msg_paths = flow_add_msg_paths,
    .set_sampler = flow_set_sampler,
    .run = flow_run,
    .now = flow_now,
    .stats = flow_stats,
    .port = flow_port,
    .port_backlog = flow_port_backlog,
    .port_sent = flow_port_sent,
    .window = flow_window,
    .check = flow_check,
};
