/* engine.c - the packet engine and its window transport (see engine.h). */
#include "sim/engine.h"

#include <assert.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/evq.h"
#include "base/rng.h"
#include "sim/pkt.h"

enum { EV_ARRIVE = 0, EV_NIC, EV_START, EV_SAMPLE };

#define NONE UINT32_MAX

void (*eng_test_hook)(struct eng_stats *st);

/* Runtime state of a port. The first 64-byte line is what forwarding a
 * packet reads: the queue's end, the link, and the packets on the wire (a
 * ring of `cap` packets, a power of two, oldest at `head`); the second holds
 * counters written per packet and read by eng_port(). */
struct port_rt {
    simtime_t busy_until; /* when the last byte queued so far leaves */
    simtime_t lat_ps;
    simtime_t ser_mtu, ser_ack; /* cached serialization times */
    struct pkt *ring;
    uint32_t head, n, cap;
    uint32_t to_host; /* its far end is a host: the packets on it are delivered next */
    uint64_t bytes;
    simtime_t busy_ps __attribute__((aligned(64)));
    simtime_t max_backlog_ps;
} __attribute__((aligned(64)));

/* A transport flow, in one 64-byte line; its bytes in flight are sent -
 * acked. */
struct flow {
    uint64_t size, sent, delivered, acked;
    uint32_t src, dst;
    uint32_t msg;
    uint32_t sched;        /* its sender: 2*src for the NIC, 2*src+1 for NVLink */
    uint32_t next_ready;   /* in its sender's ready list */
    uint32_t unacked;      /* bytes delivered and not yet acknowledged (ack_every > 1) */
    uint32_t k;            /* ECMP path, or the round-robin cursor for spray_rr */
    uint16_t unacked_pkts; /* ... and their packets */
    uint8_t ready;
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct flow) == 64, "a flow is one cache line");

/* A message and its flows; the slot (and its block of flows) is reused once
 * every flow is delivered and acknowledged. */
struct msg {
    uint64_t tag;
    simtime_t start;
    uint32_t flows_left; /* not yet delivered */
    uint32_t acks_left;  /* not yet acknowledged entirely */
    uint32_t next_free;
    uint32_t first_flow, nflows;
};

/* A sender: a GPU's NIC, or its NVLink port. It sends one packet at a time
 * from its ready flows, round robin. */
struct host {
    uint32_t ready_head, ready_tail;
    uint8_t nic_pending;
};

struct eng {
    const struct topo *t;
    struct eng_hooks hooks;
    struct evq q;
    struct port_rt *ports;
    uint32_t live_pkts, peak_pkts;
    struct res_port_stats *pst; /* [nports]: filled by eng_port() */
    struct host *hosts;         /* [2 * hosts]: NIC and NVLink sender of each host */
    struct flow *flows;         /* [capmsgs * subflows] */
    struct msg *msgs;
    uint32_t nmsgs, capmsgs, free_msg, live_msgs;
    uint32_t *adapt_rr; /* per leaf: where the adaptive scan starts */
    gsl_rng *rng;
    uint64_t seed, base_seed; /* base_seed: sim.seed; seed: the flow hash's (seed_streams) */
    int path;
    uint32_t subflows, mtu, ack_bytes, ack_every;
    uint64_t window;
    simtime_t now;
    int top_live; /* the event being handled is still at the top of q */
    struct eng_stats st;
    /* the sampler (eng_set_sampler); period 0 = none */
    simtime_t sample_period;
    eng_sample_fn sample_fn;
    void *sample_ctx;
};

size_t eng_memory_per_port(void)
{
    return sizeof(struct port_rt);
}

size_t eng_memory_per_flow(void)
{
    return sizeof(struct flow);
}

size_t eng_memory_per_msg(void)
{
    return sizeof(struct msg);
}

size_t eng_memory_per_packet(void)
{
    return sizeof(struct pkt);
}

/* The streams of network phase `salt` of a run with seed e->base_seed: the
 * flow hash's seed and the spraying generator (base/rng.h). */
static void seed_streams(struct eng *e, uint64_t salt)
{
    e->seed = rng_seed(e->base_seed, RNG_NET_HASH, salt);
    rng_set(e->rng, e->base_seed, RNG_NET_SPRAY, salt);
}

/* Schedules an event. The event being handled is still the heap's top
 * (top_live) until the first push replaces it. */
static void push(struct eng *e, simtime_t t, uint32_t kind, uint32_t id)
{
    if (t < e->now) e->st.past_events++;
    if (e->top_live) {
        e->top_live = 0;
        evq_replace_top(&e->q, t, kind, id);
    } else {
        evq_push(&e->q, t, kind, id);
    }
    if (e->q.n > e->st.peak_events) e->st.peak_events = e->q.n;
}

/* Window default: one bandwidth-delay product of the longest route: the time
 * from sending a full packet until its acknowledgement returns, at host rate,
 * rounded up to whole packets. */
static uint64_t default_window(const struct topo *t, uint32_t mtu, uint32_t ack)
{
    uint32_t a = 0, b = t->hosts - 1; /* different leaves whenever there are two */
    simtime_t rtt = topo_path_latency(t, a, b, mtu) + topo_path_latency(t, b, a, ack);
    uint64_t bps = t->ports[t->host_up[a]].bps;
    unsigned __int128 bits = (unsigned __int128)rtt * bps;
    uint64_t bytes = (uint64_t)((bits + 8 * PS_PER_S - 1) / (8 * PS_PER_S));
    uint64_t pkts = (bytes + mtu - 1) / mtu;
    return (pkts ? pkts : 1) * mtu;
}

struct eng *eng_create(const struct topo *t, const struct tr_spec *c, uint64_t seed,
                       const struct eng_hooks *h)
{
    struct eng *e = xcalloc(1, sizeof *e);
    e->t = t;
    e->hooks = *h;
    evq_init(&e->q);
    e->path = c->path;
    e->subflows = c->path == PATH_SPLIT ? (uint32_t)c->subflows : 1;
    e->mtu = (uint32_t)c->mtu;
    e->ack_bytes = (uint32_t)c->ack_bytes;
    e->ack_every = (uint32_t)c->ack_every;
    /* With coalesced acknowledgements the first one leaves ack_every - 1
     * packets later: the default window covers them too. */
    e->window = c->window_bytes ? (uint64_t)c->window_bytes
                                : default_window(t, e->mtu, e->ack_bytes) +
                                      (uint64_t)(e->ack_every - 1) * e->mtu;
    e->base_seed = seed;
    e->rng = gsl_rng_alloc(gsl_rng_mt19937);
    seed_streams(e, 0);
    e->ports = aligned_alloc(64, ((size_t)t->nports * sizeof *e->ports + 63) / 64 * 64);
    if (!e->ports) err_fatal("out of memory for %u ports", t->nports);
    memset(e->ports, 0, (size_t)t->nports * sizeof *e->ports);
    e->pst = xcalloc(t->nports, sizeof *e->pst);
    for (uint32_t i = 0; i < t->nports; i++) {
        struct port_rt *p = &e->ports[i];
        p->lat_ps = t->ports[i].lat_ps;
        p->ser_mtu = ser_ps(e->mtu, t->ports[i].bps);
        p->ser_ack = ser_ps(e->ack_bytes, t->ports[i].bps);
    }
    for (uint32_t h = 0; h < t->hosts; h++) {
        e->ports[t->host_down[h]].to_host = 1;
        if (t->nvl_down) e->ports[t->nvl_down[h]].to_host = 1;
    }
    e->hosts = xcalloc(2 * (size_t)t->hosts, sizeof *e->hosts);
    for (uint32_t i = 0; i < 2 * t->hosts; i++)
        e->hosts[i].ready_head = e->hosts[i].ready_tail = NONE;
    e->free_msg = NONE;
    e->adapt_rr = xcalloc(t->leaves, sizeof *e->adapt_rr);
    return e;
}

void eng_destroy(struct eng *e)
{
    if (!e) return;
    evq_destroy(&e->q);
    gsl_rng_free(e->rng);
    for (uint32_t i = 0; i < e->t->nports; i++)
        free(e->ports[i].ring);
    free(e->ports);
    free(e->pst);
    free(e->hosts);
    free(e->flows);
    free(e->msgs);
    free(e->adapt_rr);
    free(e);
}

/* Doubles port p's ring of packets on the wire, keeping their order. */
static void ring_grow(struct port_rt *p)
{
    uint32_t cap = p->cap ? 2 * p->cap : 4;
    if (cap < p->cap) err_fatal("more than %u packets on one link", p->cap);
    struct pkt *r = xmalloc((size_t)cap * sizeof *r);
    for (uint32_t j = 0; j < p->n; j++)
        r[j] = p->ring[(p->head + j) & (p->cap - 1)];
    free(p->ring);
    p->ring = r;
    p->head = 0;
    p->cap = cap;
}

/* Puts packet k into port q's queue at time now: its departure follows every
 * byte already queued there; it then travels the link, at the tail of the
 * port's ring. Only the wire's first packet is in the event queue. */
static inline void commit(struct eng *e, uint32_t q, struct pkt *k)
{
    struct port_rt *p = &e->ports[q];
    simtime_t ser = k->wire == e->mtu         ? p->ser_mtu
                    : k->wire == e->ack_bytes ? p->ser_ack
                                              : ser_ps(k->wire, e->t->ports[q].bps);
    simtime_t start = p->busy_until > e->now ? p->busy_until : e->now;
    simtime_t depart = start + ser;
    p->busy_until = depart;
    if (depart - e->now > p->max_backlog_ps) p->max_backlog_ps = depart - e->now;
    p->bytes += k->wire;
    p->busy_ps += ser;
    k->t = depart + p->lat_ps;
    if (p->n == 0) push(e, k->t, EV_ARRIVE, q);
    if (p->n == p->cap) ring_grow(p);
    p->ring[(p->head + p->n++) & (p->cap - 1)] = *k;
}

/* The path a new data packet of flow f takes (sets path and flags). */
static inline void choose_path(struct eng *e, struct flow *f, struct pkt *k)
{
    const struct topo *t = e->t;
    k->flags = 0;
    if ((f->sched & 1) || topo_leaf_of(t, f->src) == topo_leaf_of(t, f->dst)) {
        k->path = PKT_DIRECT;
        return;
    }
    switch (e->path) {
    case PATH_SPRAY:
        k->path = (uint16_t)gsl_rng_uniform_int(e->rng, t->npaths);
        break;
    case PATH_SPRAY_RR:
        k->path = (uint16_t)(f->k++ % t->npaths);
        break;
    case PATH_ADAPTIVE:
        k->flags = PKT_ADAPT;
        k->path = 0;
        break;
    default: /* ecmp, split */
        k->path = (uint16_t)f->k;
        break;
    }
}

static inline int flow_can_send(const struct eng *e, const struct flow *f)
{
    if (f->sent >= f->size) return 0;
    uint64_t left = f->size - f->sent;
    uint64_t next = left < e->mtu ? left : e->mtu;
    uint64_t inflight = f->sent - f->acked;
    return inflight + next <= e->window || inflight == 0;
}

static void ready_push(struct eng *e, uint32_t fi)
{
    struct flow *f = &e->flows[fi];
    struct host *h = &e->hosts[f->sched];
    f->ready = 1;
    f->next_ready = NONE;
    if (h->ready_tail == NONE)
        h->ready_head = fi;
    else
        e->flows[h->ready_tail].next_ready = fi;
    h->ready_tail = fi;
}

/* Sender h (see struct host) sends the next data packet of its ready flows
 * (round robin), if it is free. */
static void nic_send(struct eng *e, uint32_t h)
{
    struct host *hs = &e->hosts[h];
    if (hs->nic_pending || hs->ready_head == NONE) return;
    uint32_t fi = hs->ready_head;
    struct flow *f = &e->flows[fi];
    hs->ready_head = f->next_ready;
    if (hs->ready_head == NONE)
        hs->ready_tail = NONE;
    else
        __builtin_prefetch(&e->flows[hs->ready_head], 1); /* this sender's next flow */
    f->ready = 0;

    uint64_t left = f->size - f->sent;
    uint32_t payload = left < e->mtu ? (uint32_t)left : e->mtu;
    struct pkt k;
    k.flow = fi;
    k.wire = (uint16_t)payload;
    k.payload = (uint16_t)payload;
    k.hop = 0;
    k.src = f->src;
    k.dst = f->dst;
    choose_path(e, f, &k);
    f->sent += payload;
    e->st.data_bytes_sent += payload;
    if (++e->live_pkts > e->peak_pkts) e->peak_pkts = e->live_pkts;
    uint32_t up = topo_first_port(e->t, f->src, f->dst);
    commit(e, up, &k);
    if (flow_can_send(e, f)) ready_push(e, fi);
    hs->nic_pending = 1;
    push(e, e->ports[up].busy_until, EV_NIC, h);
}

/* Adaptive routing: leaf la sends the packet up the path whose first port
 * has the least queued, starting the scan at a rotating offset so ties
 * spread. */
static inline void adapt(struct eng *e, struct pkt *k, uint32_t la)
{
    const struct topo *t = e->t;
    uint32_t n = t->npaths, start = e->adapt_rr[la]++ % n;
    uint32_t best = start;
    simtime_t bestq = SIMTIME_MAX;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t kk = start + j < n ? start + j : start + j - n;
        simtime_t bu = e->ports[topo_up(t, la, kk)].busy_until;
        simtime_t q = bu > e->now ? bu - e->now : 0;
        if (q < bestq) {
            bestq = q;
            best = kk;
            if (q == 0) break;
        }
    }
    k->path = (uint16_t)best;
    k->flags &= (uint8_t)~PKT_ADAPT;
}

/* Every flow of the message is delivered and acknowledged: its slot is free. */
static void msg_free(struct eng *e, uint32_t mi)
{
    e->msgs[mi].next_free = e->free_msg;
    e->free_msg = mi;
    e->st.underflows += e->live_msgs == 0;
    e->live_msgs--;
}

static void flow_acked(struct eng *e, struct flow *f)
{
    e->st.underflows += e->msgs[f->msg].acks_left == 0;
    if (--e->msgs[f->msg].acks_left == 0) msg_free(e, f->msg);
}

static void msg_flow_done(struct eng *e, struct flow *f)
{
    struct msg *m = &e->msgs[f->msg];
    e->st.underflows += m->flows_left == 0;
    if (--m->flows_left == 0) {
        e->st.msgs_done++;
        if (e->hooks.msg_done) e->hooks.msg_done(e->hooks.ctx, e, m->tag, m->start, e->now);
    }
}

/* Packet k reached its destination host. */
static void deliver(struct eng *e, struct pkt *k)
{
    struct flow *f = &e->flows[k->flow];
    if (k->flags & PKT_ACK) {
        e->st.underflows += k->payload > f->sent - f->acked;
        f->acked += k->payload;
        e->st.acks++;
        e->live_pkts--;
        uint32_t sched = f->sched;
        if (f->acked == f->size)
            flow_acked(e, f);
        else if (!f->ready && flow_can_send(e, f))
            ready_push(e, (uint32_t)(f - e->flows));
        nic_send(e, sched);
        return;
    }
    f->delivered += k->payload;
    e->st.data_bytes_delivered += k->payload;
    if (e->ack_every > 1) {
        /* Coalescing: acknowledge every ack_every packets, the flow's last
         * one, and whenever half a window waits (so no window stalls). */
        f->unacked += k->payload;
        if (++f->unacked_pkts < e->ack_every && f->delivered != f->size &&
            2 * (uint64_t)f->unacked < e->window) {
            e->live_pkts--;
            return;
        }
        k->payload = (uint16_t)f->unacked;
        f->unacked = 0;
        f->unacked_pkts = 0;
    }
    /* The same packet goes back as the acknowledgement, on the reverse of
     * the path it came by (the same spine). */
    const struct topo *t = e->t;
    uint32_t back = k->src;
    k->src = k->dst;
    k->dst = back;
    k->flags = PKT_ACK;
    k->wire = (uint16_t)e->ack_bytes;
    k->hop = 0;
    commit(e, topo_first_port(t, k->src, k->dst), k);
    if (f->delivered == f->size) msg_flow_done(e, f);
}

static void on_arrive(struct eng *e, uint32_t q)
{
    struct port_rt *p = &e->ports[q];
    struct pkt pk = p->ring[p->head], *k = &pk;
    p->head = (p->head + 1) & (p->cap - 1);
    if (--p->n) {
        const struct pkt *behind = &p->ring[p->head];
        push(e, behind->t, EV_ARRIVE, q);
        /* The flow of the packet delivered next here: a cache miss that
         * can be taken now rather than then. */
        if (p->to_host) __builtin_prefetch(&e->flows[behind->flow], 1);
    }

    /* The route, from the packet alone: host link, up to spine `path`, down
     * to the destination's leaf, host link (or straight across a leaf or an
     * NVLink switch for PKT_DIRECT). */
    uint32_t hop = ++k->hop;
    const struct topo *t = e->t;
    uint32_t next;
    if (k->path == PKT_DIRECT) {
        if (hop == 2) {
            deliver(e, k);
            return;
        }
        next = topo_last_port(t, k->src, k->dst);
    } else if (hop == 1) {
        uint32_t la = topo_leaf_of(t, k->src);
        if (k->flags & PKT_ADAPT) adapt(e, k, la);
        next = topo_up(t, la, k->path);
    } else if (hop == 2) {
        next = topo_down(t, k->path, topo_leaf_of(t, k->dst));
    } else if (hop == 3) {
        next = t->host_down[k->dst];
    } else {
        deliver(e, k);
        return;
    }
    commit(e, next, k);
}

static void start_msg(struct eng *e, uint32_t mi)
{
    /* A hook called from msg_flow_done may add messages and move e->msgs. */
    uint32_t first = e->msgs[mi].first_flow, nflows = e->msgs[mi].nflows;
    uint32_t sched = e->flows[first].sched;
    for (uint32_t j = 0; j < nflows; j++)
        ready_push(e, first + j);
    nic_send(e, sched);
}

uint32_t eng_add_msg(struct eng *e, uint32_t src, uint32_t dst, uint64_t bytes, simtime_t start,
                     uint64_t tag)
{
    assert(bytes > 0 && src != dst);
    uint32_t mi;
    if (e->free_msg != NONE) {
        mi = e->free_msg;
        e->free_msg = e->msgs[mi].next_free;
    } else {
        if (e->nmsgs == e->capmsgs) {
            e->capmsgs = e->capmsgs ? 2 * e->capmsgs : 1024;
            e->msgs = xrealloc(e->msgs, e->capmsgs * sizeof *e->msgs);
            size_t bytes = (size_t)e->capmsgs * e->subflows * sizeof *e->flows;
            struct flow *fl = aligned_alloc(64, bytes);
            if (!fl) err_fatal("out of memory for %u messages", e->capmsgs);
            if (e->nmsgs) memcpy(fl, e->flows, (size_t)e->nmsgs * e->subflows * sizeof *e->flows);
            free(e->flows);
            e->flows = fl;
        }
        mi = e->nmsgs++;
    }
    e->live_msgs++;
    uint32_t n = bytes < e->subflows ? (uint32_t)bytes : e->subflows;
    struct msg *m = &e->msgs[mi];
    m->tag = tag;
    m->start = start;
    m->flows_left = m->acks_left = n;
    m->first_flow = mi * e->subflows;
    m->nflows = n;
    uint32_t sched = 2 * src + (topo_same_server(e->t, src, dst) ? 1 : 0);
    uint64_t h =
        rng_mix64(e->seed ^ rng_mix64(((uint64_t)src << 32 | dst) ^ rng_mix64(e->st.msgs)));
    for (uint32_t j = 0; j < n; j++) {
        struct flow *f = &e->flows[m->first_flow + j];
        memset(f, 0, sizeof *f);
        f->src = src;
        f->dst = dst;
        f->msg = mi;
        f->sched = sched;
        /* Equal subflows; the first ones take the remainder. */
        f->size = bytes / n + (j < bytes % n ? 1 : 0);
        f->k = (uint32_t)(rng_mix64(h + j) % e->t->npaths);
        f->next_ready = NONE;
    }
    e->st.msgs++;
    e->st.flows += n;
    if (start <= e->now)
        start_msg(e, mi);
    else
        push(e, start, EV_START, mi);
    return mi;
}

void eng_set_sampler(struct eng *e, simtime_t first_ps, simtime_t period_ps, eng_sample_fn fn,
                     void *ctx)
{
    e->sample_period = period_ps;
    e->sample_fn = fn;
    e->sample_ctx = ctx;
    if (period_ps && fn) push(e, first_ps, EV_SAMPLE, 0);
}

void eng_reset(struct eng *e, const struct eng_hooks *h, uint64_t salt)
{
    const struct topo *t = e->t;
    e->hooks = *h;
    evq_clear(&e->q);
    for (uint32_t i = 0; i < t->nports; i++) {
        struct port_rt *p = &e->ports[i];
        p->busy_until = 0;
        /* Rings start small again: which links queue most differs from
         * phase to phase, and keeping every ring's largest would hold their
         * sum. */
        free(p->ring);
        p->ring = NULL;
        p->head = p->n = p->cap = 0;
        p->bytes = 0;
        p->busy_ps = p->max_backlog_ps = 0;
    }
    memset(e->pst, 0, (size_t)t->nports * sizeof *e->pst);
    for (uint32_t i = 0; i < 2 * t->hosts; i++) {
        e->hosts[i].ready_head = e->hosts[i].ready_tail = NONE;
        e->hosts[i].nic_pending = 0;
    }
    e->nmsgs = e->live_msgs = 0;
    e->free_msg = NONE;
    memset(e->adapt_rr, 0, t->leaves * sizeof *e->adapt_rr);
    e->live_pkts = e->peak_pkts = 0;
    e->now = 0;
    e->top_live = 0;
    memset(&e->st, 0, sizeof e->st);
    e->sample_period = 0;
    e->sample_fn = NULL;
    e->sample_ctx = NULL;
    seed_streams(e, salt);
}

uint32_t eng_nports(const struct eng *e)
{
    return e->t->nports;
}

uint64_t eng_port_backlog(const struct eng *e, uint32_t port)
{
    const struct port_rt *p = &e->ports[port];
    if (p->busy_until <= e->now) return 0;
    unsigned __int128 bits = (unsigned __int128)(p->busy_until - e->now) * e->t->ports[port].bps;
    return (uint64_t)((bits + 8 * PS_PER_S - 1) / (8 * PS_PER_S));
}

uint64_t eng_port_sent(const struct eng *e, uint32_t port)
{
    const struct port_rt *p = &e->ports[port];
    uint64_t queued = 0;
    /* The ring holds the packets committed to the port and not yet at its
     * far end, in departure order (FIFO): those still to leave are at its
     * tail. A packet on it left at its arrival time minus the latency. */
    for (uint32_t j = p->n; j-- > 0;) {
        const struct pkt *k = &p->ring[(p->head + j) & (p->cap - 1)];
        if (k->t - p->lat_ps <= e->now) break;
        queued += k->wire;
    }
    return p->bytes - queued;
}

/* A sample event: the last one (nothing else left to simulate) is dropped and
 * the clock goes back to the last real event, so sampling changes neither the
 * run's end time nor its event count; otherwise the hook runs and the next
 * sample is scheduled. Returns 0 when the run is over. */
static int on_sample(struct eng *e, simtime_t before)
{
    e->st.events--;
    if (evq_size(&e->q) == (size_t)e->top_live) {
        e->now = before;
        return 0;
    }
    e->sample_fn(e->sample_ctx, e, e->now);
    push(e, e->now + e->sample_period, EV_SAMPLE, 0);
    return 1;
}

void eng_run(struct eng *e)
{
    const struct ev *top;
    while ((top = evq_peek(&e->q))) {
        struct ev ev = *top;
        e->top_live = 1;
        e->st.past_events += ev.time < e->now;
        simtime_t before = e->now;
        e->now = ev.time;
        e->st.events++;
        switch (ev.kind) {
        case EV_ARRIVE:
            on_arrive(e, ev.id);
            break;
        case EV_NIC:
            e->hosts[ev.id].nic_pending = 0;
            nic_send(e, ev.id);
            break;
        case EV_START:
            start_msg(e, ev.id);
            break;
        case EV_SAMPLE:
            on_sample(e, before);
            break;
        }
        if (e->top_live) {
            e->top_live = 0;
            evq_drop_top(&e->q);
        }
    }
    e->st.now = e->now;
    e->st.peak_packets = e->peak_pkts;
    if (eng_test_hook) eng_test_hook(&e->st);
}

simtime_t eng_now(const struct eng *e)
{
    return e->now;
}

const struct eng_stats *eng_stats(const struct eng *e)
{
    return &e->st;
}

const struct res_port_stats *eng_port(const struct eng *e, uint32_t port)
{
    const struct port_rt *p = &e->ports[port];
    struct res_port_stats *s = &e->pst[port];
    unsigned __int128 bits = (unsigned __int128)p->max_backlog_ps * e->t->ports[port].bps;
    s->bytes = p->bytes;
    s->busy_ps = p->busy_ps;
    s->max_queue_bytes = (uint64_t)((bits + 8 * PS_PER_S - 1) / (8 * PS_PER_S));
    return s;
}

uint64_t eng_window(const struct eng *e)
{
    return e->window;
}

/* Describes the first flow that did not finish: "flow F hA->hB: D of S
 * bytes delivered, K acknowledged, I in flight; U flows unfinished". A freed
 * message slot's flows are complete, so every slot can be scanned. */
static void describe_unfinished(const struct eng *e, char *buf, size_t n)
{
    const struct flow *first = NULL;
    uint32_t count = 0;
    for (uint32_t mi = 0; mi < e->nmsgs; mi++)
        for (uint32_t j = 0; j < e->msgs[mi].nflows; j++) {
            const struct flow *f = &e->flows[e->msgs[mi].first_flow + j];
            if (f->delivered != f->size || f->acked != f->size || f->sent != f->acked) {
                if (!first) first = f;
                count++;
            }
        }
    if (!first) {
        snprintf(buf, n, "every flow finished");
        return;
    }
    snprintf(buf, n,
             "flow %u h%u->h%u: %llu of %llu bytes delivered, %llu acknowledged, %llu in flight; "
             "%u flow%s unfinished",
             (uint32_t)(first - e->flows), first->src, first->dst,
             (unsigned long long)first->delivered, (unsigned long long)first->size,
             (unsigned long long)first->acked, (unsigned long long)(first->sent - first->acked),
             count, count == 1 ? "" : "s");
}

int eng_check(const struct eng *e, char *msg, size_t n)
{
    const struct eng_stats *s = &e->st;
    char why[256];
    if (s->past_events)
        return snprintf(msg, n, "invariant: %llu events were scheduled in the past",
                        (unsigned long long)s->past_events),
               -1;
    if (s->underflows)
        return snprintf(msg, n,
                        "invariant: %llu counters (bytes in flight, flows or messages left) went "
                        "below zero",
                        (unsigned long long)s->underflows),
               -1;
    if (s->data_bytes_sent != s->data_bytes_delivered)
        return snprintf(msg, n, "invariant: %llu data bytes sent but %llu delivered",
                        (unsigned long long)s->data_bytes_sent,
                        (unsigned long long)s->data_bytes_delivered),
               -1;
    if (s->msgs_done != s->msgs) {
        describe_unfinished(e, why, sizeof why);
        return snprintf(msg, n,
                        "invariant: %llu of %llu messages unfinished when no event was left (%s)",
                        (unsigned long long)(s->msgs - s->msgs_done), (unsigned long long)s->msgs,
                        why),
               -1;
    }
    if (e->live_pkts)
        return snprintf(msg, n, "invariant: %u packets still in the fabric", e->live_pkts), -1;
    if (e->live_msgs) {
        describe_unfinished(e, why, sizeof why);
        return snprintf(msg, n, "invariant: %u messages have unacknowledged bytes (%s)",
                        e->live_msgs, why),
               -1;
    }
    return 0;
}
