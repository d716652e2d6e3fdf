/* pkt_eng.c - the packet engine (pkt_eng.h): create, reset and destroy, the
 * event loop, the sampler, the end-of-run checks, and its table of
 * functions for sim/eng.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hugemem.h"
#include "base/rng.h"
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_nscc.h"
#include "sim/pkt_route.h"

/* Schedules an event. The event being handled is still the heap's top
 * (top_live) until the first push replaces it. */
uint64_t pkt_push(struct pkt_eng *e, simtime_t t, uint32_t kind, uint32_t id)
{
    uint64_t seq;
    if (t < e->now) e->st.past_events++;
    if (e->top_live) {
        e->top_live = 0;
        seq = evq_replace_top(&e->q, t, kind, id);
    } else {
        seq = evq_push(&e->q, t, kind, id);
    }
    if (e->q.n > e->st.peak_events) e->st.peak_events = e->q.n;
    return seq;
}

size_t eng_memory_per_port(void)
{
    return sizeof(struct port_rt);
}

size_t eng_memory_per_flow(void)
{
    return sizeof(struct flow);
}

size_t eng_memory_per_flow_tr(const struct tr_spec *tr)
{
    size_t b = eng_memory_per_flow();
    if (tr->cc == CC_DCTCP || tr->cc == CC_NSCC) b += sizeof(struct cc_flow);
    if (tr->cc == CC_NSCC) b += pkt_nscc_flow_bytes();
    if (tr->cc == CC_DCQCN) b += sizeof(struct dcqcn_rp) + sizeof(uint32_t); /* and its CNPs */
    if (tr->recovery != REC_NONE) b += pkt_rec_flow_bytes(tr->recovery == REC_SELECTIVE);
    return b;
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
static void seed_streams(struct pkt_eng *e, uint64_t salt)
{
    e->seed = rng_seed(e->base_seed, RNG_NET_HASH, salt);
    rng_set(e->rng, e->base_seed, RNG_NET_SPRAY, salt);
    if (e->ecn) e->ecn_state = rng_seed(e->base_seed, RNG_NET_ECN, salt);
}

static struct eng *pkt_create(const struct topo *t, const struct tr_spec *c, uint64_t seed,
                              const struct eng_hooks *h)
{
    struct pkt_eng *e = xcalloc(1, sizeof *e);
    e->base.ops = &pkt_eng_ops;
    e->base.t = t;
    e->hooks = *h;
    evq_init(&e->q);
    if (t->ntfaults) pkt_fault_create(e, t); /* e->base.t: its view of t (pkt_fault.c) */
    e->path = c->path;
    e->subflows = c->path == PATH_SPLIT      ? (uint32_t)c->subflows
                  : c->path == PATH_ETHEREAL ? eth_max_subflows(t)
                                             : 1;
    /* Per-switch ECMP hashing where switches past the first choose (not on
     * a leaf-spine, whose factored forwarding has one choice). */
    int hashed = c->path == PATH_ECMP || c->path == PATH_SPLIT || c->path == PATH_FLOWLET;
    e->hop_hash = (uint8_t)(hashed && !e->base.t->up); /* (faults.fail: its view's) */
    e->fixed_path =
        (uint8_t)(c->path == PATH_ECMP || c->path == PATH_SPLIT || c->path == PATH_ETHEREAL);
    e->flowlet_gap = (simtime_t)c->flowlet_gap_ns * PS_PER_NS;
    e->mtu = (uint32_t)c->mtu;
    e->mtu_shift = (e->mtu & (e->mtu - 1)) ? 0xff : (uint8_t)__builtin_ctz(e->mtu);
    e->ack_bytes = (uint32_t)c->ack_bytes;
    e->ack_every = (uint32_t)c->ack_every;
    /* With coalesced acknowledgements the first one leaves ack_every - 1
     * packets later: the default window covers them too. */
    e->window = c->window_bytes ? (uint64_t)c->window_bytes
                                : eng_default_window(t, e->mtu, e->ack_bytes) +
                                      (uint64_t)(e->ack_every - 1) * e->mtu;
    e->win_fast = c->cc == CC_WINDOW ? e->window : 0;
    if (c->cc == CC_DCQCN) { /* rate-based: a window only if one is set (docs/transports.md) */
        e->win_fast = c->window_bytes ? e->window : UINT64_MAX;
        e->dq = pkt_dcqcn_create(c, t->hosts);
        e->pkt_flags = PKT_CC;
    }
    e->base_seed = seed;
    e->ecn = c->sw.ecn_kmax_bytes > 0;
    e->ctrlq = (uint8_t)(c->sw.ctrl_priority != 0);
    e->ecn_pmax = c->sw.ecn_pmax;
    if (c->cc == CC_DCTCP) {
        pkt_cc_create(e);
        e->pkt_flags = PKT_CC;
        e->dctcp_g = c->dctcp_g;
        e->dctcp_alpha_init = c->dctcp_alpha_init;
    }
    if (c->cc == CC_NSCC) pkt_nscc_create(e, c); /* (first: recovery sizes its bitmaps by it) */
    if (c->recovery != REC_NONE) pkt_rec_create(e, c);
    e->rng = gsl_rng_alloc(gsl_rng_mt19937);
    seed_streams(e, 0);
    e->ports = huge_alloc((size_t)t->nports * sizeof *e->ports); /* (base/hugemem.h) */
    if (!e->ports) err_fatal("out of memory for %u ports", t->nports);
    memset(e->ports, 0, (size_t)t->nports * sizeof *e->ports);
    e->pst = xcalloc(t->nports, sizeof *e->pst);
    for (uint32_t i = 0; i < t->nports; i++) {
        struct port_rt *p = &e->ports[i];
        p->lat_ps = t->ports[i].lat_ps;
        p->ser_mtu = ser_ps(e->mtu, t->ports[i].bps);
        p->ser_ack = ser_ps(e->ack_bytes, t->ports[i].bps);
        /* ECN marks at switches' output ports only (not at a host's NIC) */
        int marks = e->ecn && t->ports[i].src >= t->hosts;
        p->ecn_kmin_ps =
            marks ? ser_ps((uint64_t)c->sw.ecn_kmin_bytes, t->ports[i].bps) : SIMTIME_MAX;
        p->ecn_kmax_ps =
            marks ? ser_ps((uint64_t)c->sw.ecn_kmax_bytes, t->ports[i].bps) : SIMTIME_MAX;
        /* drop-tail at switches' output ports only: a host's NIC holds its
         * packets back instead (its sender waits for the port) */
        p->buf_ps = c->sw.buffer_bytes && t->ports[i].src >= t->hosts
                        ? ser_ps((uint64_t)c->sw.buffer_bytes, t->ports[i].bps)
                        : SIMTIME_MAX;
        if (p->buf_ps != SIMTIME_MAX && c->sw.shared_alpha > 0)
            p->buf_ps = 0; /* a shared buffer: every packet is tested (pkt_rec_full) */
    }
    for (uint32_t i = 0; i < t->nports; i++) {
        uint32_t far = t->ports[i].dst;
        e->ports[i].sw = far >= t->hosts && far < t->hosts + t->nswitches ? far - t->hosts : 0;
    }
    for (uint32_t h = t->hosts; h < t->planes * t->hosts; h++) /* planes' NIC ports */
        e->ports[t->host_down[h]].sw = PKT_TO_HOST;
    e->nic_pace = t->planes > 1;
    for (uint32_t h = 0; h < t->hosts; h++) {
        e->ports[t->host_down[h]].sw = PKT_TO_HOST;
        if (t->nvl_down) e->ports[t->nvl_down[h]].sw = PKT_TO_HOST;
        if (t->pxn) { /* rail with PXN: NVLink may relay (pkt_rail.c) */
            e->ports[t->nvl_up[h]].sw = PKT_NVSW;
            e->ports[t->nvl_down[h]].sw = PKT_RELAY;
        }
    }
    e->hosts = xcalloc(2 * (size_t)t->hosts, sizeof *e->hosts);
    for (uint32_t i = 0; i < 2 * t->hosts; i++)
        e->hosts[i].ready_head = e->hosts[i].ready_tail = PKT_NONE;
    e->free_msg = PKT_NONE;
    /* and, with rail planes, per host: where its plane scan starts */
    e->adapt_rr = xcalloc(t->nswitches + (t->planes > 1 ? t->hosts : 0), sizeof *e->adapt_rr);
    if (c->sw.pfc) e->pfc = pkt_pfc_create(t, c);
    pkt_ctrlq_create(e);
    if (e->fault) pkt_fault_start(e);
    return &e->base;
}

static void pkt_destroy(struct eng *eb)
{
    struct pkt_eng *e = pkt_eng_of(eb);
    evq_destroy(&e->q);
    gsl_rng_free(e->rng);
    for (uint32_t i = 0; i < e->base.t->nports; i++)
        free(e->ports[i].ring);
    free(e->ports);
    free(e->pst);
    free(e->hosts);
    free(e->flows);
    free(e->msgs);
    free(e->adapt_rr);
    free(e->flowlet_last);
    free(e->cc);
    pkt_rec_destroy(e);
    pkt_pfc_destroy(e->pfc, e->base.t->nports);
    pkt_nscc_destroy(e);
    pkt_dcqcn_destroy(e->dq);
    pkt_ctrlq_destroy(e);
    pkt_fault_destroy(e);
    free(e);
}

static void pkt_set_sampler(struct eng *eb, simtime_t first_ps, simtime_t period_ps,
                            eng_sample_fn fn, void *ctx)
{
    struct pkt_eng *e = pkt_eng_of(eb);
    e->sample_period = period_ps;
    e->sample_fn = fn;
    e->sample_ctx = ctx;
    if (period_ps && fn) {
        pkt_push(e, first_ps, EV_SAMPLE, 0);
        e->sample_queued = 1;
    }
}

static void pkt_reset(struct eng *eb, const struct eng_hooks *h, uint64_t salt)
{
    struct pkt_eng *e = pkt_eng_of(eb);
    const struct topo *t = e->base.t;
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
        p->ecn_marks = 0;
        p->watch_ps = 0;
        p->drops = 0;
    }
    memset(e->pst, 0, (size_t)t->nports * sizeof *e->pst);
    if (e->trims) memset(e->trims, 0, (size_t)t->nports * sizeof *e->trims);
    if (e->trim_mixed) memset(e->trim_mixed, 0, (size_t)t->nports * sizeof *e->trim_mixed);
    if (e->pfc) pkt_pfc_reset(e->pfc, t);
    pkt_ctrlq_reset(e);
    for (uint32_t i = 0; i < 2 * t->hosts; i++) {
        e->hosts[i].ready_head = e->hosts[i].ready_tail = PKT_NONE;
        e->hosts[i].nic_pending = 0;
    }
    e->nmsgs = e->live_msgs = 0;
    e->free_msg = PKT_NONE;
    memset(e->adapt_rr, 0, (t->nswitches + (t->planes > 1 ? t->hosts : 0)) * sizeof *e->adapt_rr);
    if (e->dq) pkt_dcqcn_reset(e->dq);
    e->live_pkts = e->peak_pkts = 0;
    e->now = 0;
    e->top_live = 0;
    memset(&e->st, 0, sizeof e->st);
    e->sample_period = 0;
    e->sample_fn = NULL;
    e->sample_ctx = NULL;
    e->sample_queued = 0;
    e->msg_loss = NULL;
    e->msg_loss_ctx = NULL;
    seed_streams(e, salt);
    if (e->fault) pkt_fault_start(e);
}

/* A sample event: the last one (nothing else left to simulate) is dropped and
 * the clock goes back to the last real event, so sampling changes neither the
 * run's end time nor its event count; otherwise the hook runs and the next
 * sample is scheduled. Returns 0 when the run is over. */
static int on_sample(struct pkt_eng *e, simtime_t before)
{
    e->st.events--;
    /* (faults.fail's events keep no run alive either: pkt_fault.c) */
    if (evq_size(&e->q) == (size_t)e->top_live + pkt_fault_pending(e)) {
        e->now = before;
        e->sample_queued = 0;
        return 0;
    }
    e->sample_fn(e->sample_ctx, &e->base, e->now);
    pkt_push(e, e->now + e->sample_period, EV_SAMPLE, 0);
    return 1;
}

/* The event loop; cq: e->cq is set (switch.ctrl_priority's fast-path
 * ports, pkt_ctrlq.c, see each wire's head leave first), a constant in each
 * of pkt_run's two copies, so that the default's loop is the code it was. */
static inline __attribute__((always_inline)) void run_loop(struct pkt_eng *e, const int cq)
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
        case EV_ARRIVE: /* (pkt_arrive, inlined in both copies) */
            if (cq) pkt_ctrlq_pre_arrive(e, ev.id);
            pkt_arrive_at(e, ev.id, 0);
            break;
        case EV_NIC:
            e->hosts[ev.id].nic_pending = 0;
            pkt_nic_send(e, ev.id);
            break;
        case EV_START:
            pkt_start_msg(e, ev.id);
            break;
        case EV_SAMPLE:
            on_sample(e, before);
            break;
        default: /* switch.pfc's (pkt_pfc.c; its two per packet first), cc = dcqcn's
                  * wake-up and recovery's timer: the loop's common cases keep main's code */
            if (ev.kind == EV_TX)
                pkt_pfc_tx(e, ev.id);
            else if (ev.kind == EV_ARRIVE_PFC)
                pkt_pfc_arrive(e, ev.id);
            else if (ev.kind == EV_DCQCN)
                pkt_dcqcn_wake(e, ev.id);
            else if (ev.kind == EV_RTO)
                pkt_rec_timer(e, ev.id);
            else if (ev.kind >= EV_FAIL)
                pkt_fault_event(e, ev.kind, ev.id, before);
            else
                pkt_pfc_event(e, ev.kind, ev.id);
            break;
        }
        if (e->top_live) {
            e->top_live = 0;
            evq_drop_top(&e->q);
        }
    }
}

static void pkt_run(struct eng *eb)
{
    struct pkt_eng *e = pkt_eng_of(eb);
    if (e->cq)
        run_loop(e, 1);
    else
        run_loop(e, 0);
    e->st.now = e->now;
    e->st.peak_packets = e->peak_pkts;
    if (eng_test_hook) eng_test_hook(&e->st);
}

static uint64_t port_sent(const struct eng *eb, uint32_t port)
{
    const struct pkt_eng *e = pkt_eng_ofc(eb);
    return e->cq ? pkt_ctrlq_sent(e, port) : pkt_port_sent(eb, port);
}

static simtime_t pkt_now(const struct eng *e)
{
    return pkt_eng_ofc(e)->now;
}

static const struct eng_stats *pkt_stats(const struct eng *e)
{
    return &pkt_eng_ofc(e)->st;
}

static uint64_t pkt_window(const struct eng *e)
{
    return pkt_eng_ofc(e)->window;
}

/* Describes the first flow that did not finish: "flow F hA->hB: D of S
 * bytes delivered, K acknowledged, I in flight; U flows unfinished". A freed
 * message slot's flows are complete, so every slot can be scanned. */
static void describe_unfinished(const struct pkt_eng *e, char *buf, size_t n)
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

static int pkt_check(const struct eng *eb, char *msg, size_t n)
{
    const struct pkt_eng *e = pkt_eng_ofc(eb);
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
    if (e->pfc && pkt_pfc_check(e, msg, n)) return -1; /* a deadlock: before its symptoms */
    if (s->data_bytes_sent != s->data_bytes_delivered + s->dup_bytes + s->drop_bytes) {
        if (!s->dup_bytes && !s->drop_bytes)
            return snprintf(msg, n, "invariant: %llu data bytes sent but %llu delivered",
                            (unsigned long long)s->data_bytes_sent,
                            (unsigned long long)s->data_bytes_delivered),
                   -1;
        return snprintf(msg, n,
                        "invariant: %llu data bytes sent but %llu delivered, %llu duplicate or "
                        "discarded and %llu dropped",
                        (unsigned long long)s->data_bytes_sent,
                        (unsigned long long)s->data_bytes_delivered,
                        (unsigned long long)s->dup_bytes, (unsigned long long)s->drop_bytes),
               -1;
    }
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

static void pkt_set_msg_loss(struct eng *eb, eng_msg_loss_fn fn, void *ctx)
{
    struct pkt_eng *e = pkt_eng_of(eb);
    e->msg_loss = fn;
    e->msg_loss_ctx = ctx;
}

const struct eng_ops pkt_eng_ops = {
    .name = "packet",
    .create = pkt_create,
    .destroy = pkt_destroy,
    .reset = pkt_reset,
    .add_msg = pkt_add_msg,
    .add_msg_paths = pkt_add_msg_paths,
    .set_sampler = pkt_set_sampler,
    .run = pkt_run,
    .now = pkt_now,
    .stats = pkt_stats,
    .port = pkt_port,
    .port_backlog = pkt_port_backlog,
    .port_sent = port_sent,
    .window = pkt_window,
    .check = pkt_check,
    .set_msg_loss = pkt_set_msg_loss,
};
