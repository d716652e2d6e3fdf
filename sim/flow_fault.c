/* flow_fault.c - links that fail during a run (faults.fail, topo/faults.h;
 * docs/flow-engine.md, "Links that fail during a run") in the flow engine.
 *
 * As in the packet engine (sim/pkt_fault.c), topo/ has built one routing
 * table per failure before the run (the fabric with that link and every
 * earlier one down, struct topo_tfault), and the engine routes by its own
 * copy of struct topo (its view, sim/fault_sched.h, whose schedule of the
 * events both engines share; e->base.t points at it) whose table it
 * switches, so engines of other threads over the same fabric are not
 * disturbed. Two events per failure, queued when a run starts: FEV_FAIL at
 * the failure's time, FEV_REROUTE faults.reroute_delay_ns after it.
 *
 * The fluid model of a failure:
 *  - FEV_FAIL: the link's ports (both directions) die. Every active sub
 *    with a use on one of them (its data or its acknowledgements' route)
 *    stops: its bytes are brought up to the failure, the bytes in flight
 *    after its first link are lost (its rate times its first packet's way
 *    after the first hop, at most what it sent: what go-back-N resends
 *    after the first loss; on rail planes only the bytes on their way to a
 *    dead port of its route, by that port's share: lost_ps), and its links
 *    keep the bytes it put on them (its weight times the bytes through its
 *    first link). It leaves the
 *    rates (a re-solve at once, as for an end) and waits, with its bytes
 *    left plus the lost ones, for the reroute. A sub that starts while its
 *    route crosses a dead port waits the same way.
 *  - FEV_REROUTE: the view takes the failure's table. Every waiting sub
 *    continues on the route its path value gives in the new table (ECMP and
 *    split: the flow's value, read modulo the new groups with the later
 *    switches' hashes, as the packet engine's packets; ethereal: its path
 *    number; spreading modes: the live paths) as a new sub of its message,
 *    and so does every active sub whose route the new table moves (no
 *    bytes lost: the packet engine forwards its next packets by the new
 *    table). A route that still crosses a dead port (a later failure not
 *    yet routed around) keeps it waiting for the next reroute.
 * A sub's continuation carries the message on: the message completes when
 * its last sub or continuation ends. Bytes: sent = delivered + lost (the
 * run's drop_bytes), each lost packet counted in links.drops at the first
 * dead port of the sub's route. Not modelled: the sender's loss detection
 * (a retransmission timeout or a NACK's round trip: the continuation
 * starts at the reroute), and a spreading sub's live paths during the
 * reroute delay (it stops as a whole). A failure whose run has nothing
 * left to simulate (no sub active or waiting) is dropped uncounted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/fault_sched.h"
#include "sim/flow_fault.h"

struct ff_wait {
    uint32_t si;    /* the sub (or the last continuation) that stopped */
    uint64_t bytes; /* what its continuation carries */
};

struct flow_fault {
    struct fault_sched s; /* the schedule, the view, the dead ports (sim/fault_sched.h) */
    /* per sub: its path value (flow_fault_note) and the table it was built on */
    uint32_t *fk, *ep;
    uint32_t cap;
    struct ff_wait *wait, *tmp;
    uint32_t nwait, capwait, captmp;
};

static uint64_t push_ev(void *ctx, simtime_t at, uint32_t kind, uint32_t id)
{
    struct flow_eng *e = ctx;
    uint64_t seq = evq_push(&e->q, at, kind, id);
    if (e->q.n > e->st.peak_events) e->st.peak_events = e->q.n;
    return seq;
}

void flow_fault_create(struct flow_eng *e, const struct topo *t)
{
    struct flow_fault *f = xcalloc(1, sizeof *f);
    fault_sched_init(&f->s, t, FEV_FAIL, FEV_REROUTE, push_ev, e);
    e->fault = f;
    e->base.t = &f->s.view;
    flow_fault_start(e);
}

void flow_fault_destroy(struct flow_eng *e)
{
    struct flow_fault *f = e->fault;
    if (!f) return;
    fault_sched_free(&f->s);
    free(f->fk);
    free(f->ep);
    free(f->wait);
    free(f->tmp);
    free(f);
    e->fault = NULL;
}

void flow_fault_start(struct flow_eng *e)
{
    e->fault->nwait = 0;
    fault_sched_start(&e->fault->s);
}

void flow_fault_note(struct flow_eng *e, uint32_t si, uint32_t k)
{
    struct flow_fault *f = e->fault;
    if (si >= f->cap) {
        f->cap = si + 1 > 2 * f->cap ? si + 1024 : 2 * f->cap;
        f->fk = xrealloc(f->fk, f->cap * sizeof *f->fk);
        f->ep = xrealloc(f->ep, f->cap * sizeof *f->ep);
    }
    f->fk[si] = k;
    f->ep[si] = f->s.cur;
}

uint32_t flow_fault_idle(const struct flow_eng *e)
{
    const struct flow_fault *f = e->fault;
    return !f || f->nwait ? 0 : f->s.pending;
}

uint32_t flow_fault_waiting(const struct flow_eng *e)
{
    return e->fault ? e->fault->nwait : 0;
}

/* The first dead port among sub si's uses, UINT32_MAX: none. */
static uint32_t dead_use(const struct flow_eng *e, uint32_t si)
{
    const struct fl_sub *s = &e->subs[si];
    for (uint32_t u = 0; u < s->nuse + s->nack; u++) /* data or acknowledgements */
        if (e->fault->s.dead[e->uses[s->use0 + u].link]) return e->uses[s->use0 + u].link;
    return UINT32_MAX;
}

/* How long, before the failure, sub si's lost bytes went through its
 * first link: its whole way after it (tail), as on every fabric without
 * planes, so that any byte in flight is lost; on rail planes only the bytes
 * on their way to a dead port of its data route or on its wire: for each
 * such port q, the share of the sub's data that crosses it (the use's
 * weight) times the first packet's way from after its first hop to the end
 * of q's link (the serializations and propagations of the ports before q
 * and q's own, less the first port's serialization: the tail cut at q). A
 * GPU's NIC port to the plane failing thus loses its wire's bytes of that
 * plane's share; the port into the GPU loses that plane's share of the
 * whole way; the live planes' bytes are delivered (docs/flow-engine.md). */
static double lost_ps(const struct flow_eng *e, uint32_t si)
{
    const struct topo *t = e->base.t;
    const struct fl_sub *s = &e->subs[si];
    if (t->planes <= 1) return (double)s->tail;
    const struct fl_msg *m = &e->msgs[s->msg];
    uint32_t first = s->size < e->mtu ? (uint32_t)s->size : e->mtu, ports[TOPO_ROUTE_MAX_PORTS];
    double sum = 0;
    for (uint32_t u = 0; u < s->nuse; u++) {
        const struct fl_use *us = &e->uses[s->use0 + u];
        if (!e->fault->s.dead[us->link]) continue;
        /* a path number whose route crosses it (the planes are alike) */
        for (uint32_t p = 0; p < t->npaths; p++) {
            uint32_t n = topo_route_ports(t, m->src, m->dst, p, ports), j = 0;
            while (j < n && ports[j] != us->link)
                j++;
            if (j == n) continue;
            simtime_t way = 0;
            for (uint32_t i = 0; i <= j; i++)
                way += t->ports[ports[i]].lat_ps + ser_ps(first, t->ports[ports[i]].bps);
            sum += us->w * (double)(way - ser_ps(first, t->ports[ports[0]].bps));
            break;
        }
    }
    return sum < (double)s->tail ? sum : (double)s->tail;
}

/* Sub si's path on the current routing, from its path value. */
static uint32_t path_now(const struct flow_eng *e, uint32_t si)
{
    uint32_t v = e->fault->fk[si];
    if (v == UINT32_MAX || (e->path != PATH_ECMP && e->path != PATH_SPLIT)) return v;
    const struct fl_msg *m = &e->msgs[e->subs[si].msg];
    return flow_route_path(e, m->src, m->dst, v);
}

static void wait_push(struct flow_fault *f, uint32_t si, uint64_t bytes)
{
    if (f->nwait == f->capwait) {
        f->capwait = f->capwait ? 2 * f->capwait : 64;
        f->wait = xrealloc(f->wait, f->capwait * sizeof *f->wait);
    }
    f->wait[f->nwait++] = (struct ff_wait){si, bytes};
}

/* A continuation of sub si carrying `bytes` on the current routes, not
 * started (its index), or UINT32_MAX (rolled back) when its route crosses
 * a dead port. */
static uint32_t continuation(struct flow_eng *e, uint32_t si, uint64_t bytes)
{
    struct flow_fault *f = e->fault;
    const struct fl_msg *m = &e->msgs[e->subs[si].msg];
    uint32_t n0 = e->nsubs, u0 = e->nuses, k = path_now(e, si);
    uint32_t ns = flow_sub_add(e, e->subs[si].msg, m->src, m->dst, bytes, k);
    f->fk[ns] = f->fk[si];
    if (dead_use(e, ns) != UINT32_MAX) {
        e->nsubs = n0;
        e->nuses = u0;
        return UINT32_MAX;
    }
    return ns;
}

/* Sub si's bytes carried on as a new sub on the current routes, started
 * now, or waiting for the next reroute. */
static void resume(struct flow_eng *e, uint32_t si, uint64_t bytes)
{
    uint32_t ns = continuation(e, si, bytes);
    if (ns == UINT32_MAX)
        wait_push(e->fault, si, bytes);
    else
        flow_sub_start(e, ns);
}

int flow_fault_hold(struct flow_eng *e, uint32_t si)
{
    struct flow_fault *f = e->fault;
    if (f->ep[si] == f->s.cur && dead_use(e, si) == UINT32_MAX) return 0;
    resume(e, si, e->subs[si].size);
    return 1;
}

/* Active sub si leaves its links with left_b of its bytes not sent and
 * `lost` of those sent lost: as an end (end_sub, flow_eng.c), but its
 * message goes on (a continuation carries the rest). */
static void cut(struct flow_eng *e, uint32_t si, uint64_t left_b, uint64_t lost)
{
    struct fl_sub *s = &e->subs[si];
    uint64_t sent = s->size - left_b, got = sent - lost;
    if (s->fresh) { /* started at this instant: no rate yet */
        for (uint32_t i = 0; i < e->nfresh; i++)
            if (e->fresh[i] == si) {
                e->fresh[i] = e->fresh[--e->nfresh];
                break;
            }
        s->fresh = 0;
        s->rate = 0;
    } else if (s->rate < e->theta) {
        e->theta = s->rate;
    }
    flow_heap_remove(e, si);
    uint32_t last = e->act[e->live_subs - 1];
    e->act[s->apos] = last;
    e->arate[s->apos] = e->arate[e->live_subs - 1];
    e->subs[last].apos = s->apos;
    s->active = 0;
    s->left = 0;
    e->live_subs--;
    e->st.data_bytes_sent -= left_b; /* its continuation sends them */
    e->st.data_bytes_delivered += got;
    e->st.drop_bytes += lost;
    if (got) e->st.acks += ((got + e->mtu - 1) / e->mtu + e->ack_group - 1) / e->ack_group;
    double frac = s->size ? (double)sent / (double)s->size : 0;
    for (uint32_t u = 0; u < s->nuse; u++) {
        const struct fl_use *us = &e->uses[s->use0 + u];
        struct fl_link *l = &e->links[us->link];
        l->done += (uint64_t)llround(frac * (double)us->bytes);
        l->wsum -= us->w;
        l->load -= us->w * s->rate;
        l->freed += us->w * s->rate;
        l->nlive--;
        if (!e->defer) {
            uint32_t moved = l->uses[--l->n];
            if (us->pos != l->n) {
                l->uses[us->pos] = moved;
                l->sid[us->pos] = l->sid[l->n];
                e->uses[moved].pos = us->pos;
            }
        }
        if (l->tgen != e->tgen) { /* touch (flow_eng.c) */
            l->tgen = e->tgen;
            if (e->ntouched == e->captouched) {
                e->captouched = e->captouched ? 2 * e->captouched : 256;
                e->touched = xrealloc(e->touched, e->captouched * sizeof *e->touched);
            }
            e->touched[e->ntouched++] = us->link;
        }
    }
    if (s->nack) flow_ack_stop(e, si, frac);
    if (e->defer) e->fep[si] = FL_DEAD; /* its uses dropped by a full re-solve */
    s->rate = 0;
    e->solve_due = 1; /* re-solve at once (deferred re-solves included) */
}

/* Sub si's bytes left at e->now (whole bytes). */
static uint64_t left_now(const struct flow_eng *e, uint32_t si)
{
    const struct fl_sub *s = &e->subs[si];
    double left = s->fresh ? s->left : s->left - s->rate * (double)(e->now - s->t_upd);
    if (left <= 0) return 0;
    uint64_t b = (uint64_t)llround(left);
    return b > s->size ? s->size : b;
}

/* Whether nothing but fault events (and the sampler's) is left to simulate
 * and no sub waits; then the fault events still queued are dropped and the
 * clock is set back to `before`, and the one being handled is not counted. */
static int run_over(struct flow_eng *e, simtime_t before)
{
    struct flow_fault *f = e->fault;
    if (f->nwait) return 0;
    long others = (long)evq_size(&e->q) - (long)f->s.pending - (e->sample_fn && e->sample_period);
    if (others > 0) return 0;
    fault_sched_cancel_all(&f->s, &e->q);
    e->now = before;
    e->st.events--;
    return 1;
}

static void fail(struct flow_eng *e, uint32_t i)
{
    struct flow_fault *f = e->fault;
    const struct topo_tfault *tf = &f->s.orig->tfaults[i];
    for (uint32_t j = 0; j < tf->nports; j++)
        f->s.dead[tf->ports[j]] = 1;
    for (uint32_t j = e->live_subs; j-- > 0;) { /* (a cut moves the last into j) */
        uint32_t si = e->act[j], q = dead_use(e, si);
        if (q == UINT32_MAX) continue;
        const struct fl_sub *s = &e->subs[si];
        uint64_t left = left_now(e, si), sent = s->size - left;
        double fly = s->fresh ? 0 : s->rate * lost_ps(e, si);
        uint64_t lost = (uint64_t)llround(fly);
        if (lost > sent) lost = sent;
        if (left + lost == 0) continue; /* it ends now */
        e->pst[q].drops += (lost + e->mtu - 1) / e->mtu;
        cut(e, si, left, lost);
        wait_push(f, si, left + lost);
    }
    fault_sched_push(&f->s, 2 * i + 1, e->now + f->s.orig->reroute_ps);
}

/* Whether subs a and b use the same links in the same order. */
static int same_links(const struct flow_eng *e, uint32_t a, uint32_t b)
{
    const struct fl_sub *x = &e->subs[a], *y = &e->subs[b];
    if (x->nuse != y->nuse || x->nack != y->nack) return 0;
    for (uint32_t u = 0; u < x->nuse + x->nack; u++)
        if (e->uses[x->use0 + u].link != e->uses[y->use0 + u].link) return 0;
    return 1;
}

static void reroute(struct flow_eng *e, uint32_t i)
{
    struct flow_fault *f = e->fault;
    if (i + 1 <= f->s.cur) return; /* a later failure's table is in place */
    fault_sched_route(&f->s, i + 1);
    /* the active subs whose routes the new table moves */
    for (uint32_t j = e->live_subs; j-- > 0;) {
        uint32_t si = e->act[j];
        if (f->ep[si] == f->s.cur) continue; /* built on it */
        uint64_t left = left_now(e, si);
        if (!left) continue; /* it ends now */
        uint32_t n0 = e->nsubs, u0 = e->nuses, k = path_now(e, si);
        const struct fl_msg *m = &e->msgs[e->subs[si].msg];
        uint32_t ns = flow_sub_add(e, e->subs[si].msg, m->src, m->dst, left, k);
        f->fk[ns] = f->fk[si];
        int same = same_links(e, si, ns), dead = dead_use(e, ns) != UINT32_MAX;
        if (same || dead) {
            e->nsubs = n0;
            e->nuses = u0;
        }
        if (same) {
            f->ep[si] = f->s.cur;
            continue;
        }
        cut(e, si, left, 0);
        if (dead)
            wait_push(f, si, left);
        else
            flow_sub_start(e, ns);
    }
    /* the waiting subs, on the new routes (or waiting on) */
    uint32_t n = f->nwait;
    if (n > f->captmp) {
        f->captmp = n;
        f->tmp = xrealloc(f->tmp, n * sizeof *f->tmp);
    }
    if (n) memcpy(f->tmp, f->wait, n * sizeof *f->tmp);
    f->nwait = 0;
    for (uint32_t j = 0; j < n; j++)
        resume(e, f->tmp[j].si, f->tmp[j].bytes);
}

void flow_fault_event(struct flow_eng *e, uint32_t kind, uint32_t i, simtime_t before)
{
    struct flow_fault *f = e->fault;
    fault_sched_popped(&f->s, kind, i);
    if (run_over(e, before)) return;
    if (kind == FEV_FAIL)
        fail(e, i);
    else
        reroute(e, i);
}
