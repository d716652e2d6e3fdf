/* pkt_fault.c - links that fail during a run (faults.fail, topo/faults.h;
 * docs/fabrics.md, "Links that fail during a run"), in the packet engine.
 *
 * topo/ builds, before the run, one routing table per failure: the fabric
 * with that link and every earlier one down (struct topo_tfault). The engine
 * routes by its own copy of struct topo (its view, sim/fault_sched.h;
 * e->base.t points at it), equal to the shared one but for its routing
 * table, so that engines of other threads over the same fabric are not
 * disturbed. The schedule of the events (and their cancelling when the run
 * is over) is sim/fault_sched.c's, shared with the flow engine.
 *
 * Two events per failure, pushed when a run starts (time 0 of each engine
 * run, a network phase): EV_FAIL at the failure's time, EV_REROUTE
 * faults.reroute_delay_ns after it.
 *  - EV_FAIL: the link's ports (both directions) die. Every packet on them,
 *    queued or on the wire, is lost (counted in the port's links.drops, the
 *    data bytes in the run's drop_bytes), their wire's pending arrival is
 *    cancelled, and a packet that joins a dead port later is lost the same
 *    way (pkt_port.c: a dead port's watch_ps is 0, so every commit takes
 *    the slow path, which asks pkt_fault_dead first). Under switch.pfc
 *    also its waiting queue and the packet in service, their ingress
 *    charges released, and the PAUSE and RESUME frames on their way to it
 *    (pkt_pfc.c pkt_pfc_fail).
 *  - EV_REROUTE: the view takes the failure's routing table: the
 *    equal-cost groups without the dead link (and the path count with it,
 *    so spraying draws over the live paths). Until then the groups still
 *    hold the dead link and what is routed to it is lost. On rail planes
 *    a GPU's link to a plane may fail: its NIC port dies as any port, and
 *    the view takes the failure's NIC ports too (topo_tfault.nic_down), so
 *    from the reroute the senders' plane choice (topo_plane_live,
 *    sim/pkt_send.c) moves the pairs that need it to the next live plane.
 * The senders recover by their loss recovery (transport.recovery is
 * required: app/validate.c). A failure (or reroute) whose run has nothing
 * left to simulate is dropped uncounted, as the sampler's last event is:
 * a failure does not lengthen a run. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/fault_sched.h"
#include "sim/pkt_eng.h"

/* the schedule, the view and the dead ports: sim/fault_sched.h */
struct pkt_fault {
    struct fault_sched s;
};

static uint64_t push_ev(void *ctx, simtime_t at, uint32_t kind, uint32_t id)
{
    return pkt_push(ctx, at, kind, id);
}

void pkt_fault_create(struct pkt_eng *e, const struct topo *t)
{
    struct pkt_fault *f = xcalloc(1, sizeof *f);
    fault_sched_init(&f->s, t, EV_FAIL, EV_REROUTE, push_ev, e);
    e->fault = f;
    e->base.t = &f->s.view;
}

void pkt_fault_destroy(struct pkt_eng *e)
{
    struct pkt_fault *f = e->fault;
    if (!f) return;
    fault_sched_free(&f->s);
    free(f);
    e->fault = NULL;
}

/* The run starts (after the event queue was emptied): every link up, the
 * starting routes, each failure's event queued. */
void pkt_fault_start(struct pkt_eng *e)
{
    fault_sched_start(&e->fault->s);
}

uint32_t pkt_fault_pending(const struct pkt_eng *e)
{
    return e->fault ? e->fault->s.pending : 0;
}

int pkt_fault_dead(const struct pkt_eng *e, uint32_t q)
{
    return e->fault->s.dead[q];
}

/* Packet k, routed to (or held by) dead port q, is lost. */
void pkt_fault_drop(struct pkt_eng *e, uint32_t q, const struct pkt *k)
{
    e->ports[q].drops++;
    if (!(k->flags & PKT_REC)) /* recovery is required (app/validate.c) */
        err_fatal("faults.fail: a packet without loss recovery lost at port %u", q);
    pkt_rec_lost(e, k);
}

/* cancel_port_events' scan: the port, the kinds, the queue, the count. */
struct cancel_scan {
    uint32_t q, mask, n;
    struct evq *Q;
};

static void cancel_match(const struct ev *v, void *ctx)
{
    struct cancel_scan *c = ctx;
    if (v->kind < 32 && (c->mask >> v->kind & 1) && v->id == c->q) {
        evq_cancel(c->Q, v->seq);
        c->n++;
    }
}

/* Cancels the events of port q of the kinds in mask (bits 1 << kind): a
 * scan of the queue (evq_each), once per failed port; returns how many.
 * Only a failure cancels these kinds, and a port fails once: none was
 * cancelled before. */
static uint32_t cancel_port_events(struct pkt_eng *e, uint32_t q, uint32_t mask)
{
    struct cancel_scan c = {q, mask, 0, &e->q};
    evq_each(&e->q, cancel_match, &c);
    return c.n;
}

/* Port q dies: what it holds is lost. Under switch.pfc (pkt_pfc.c) also
 * its waiting queue and the packet in service (its EV_TX), with their
 * ingress charges released, and the PAUSE and RESUME frames on their way
 * to it (they travel the failed link); its wire's head event is then an
 * EV_ARRIVE_PFC. */
static void kill_port(struct pkt_eng *e, uint32_t q)
{
    struct port_rt *p = &e->ports[q];
    struct pkt_fault *f = e->fault;
    if (f->s.dead[q]) return;
    f->s.dead[q] = 1;
    pkt_ctrlq_flatten(e, q); /* switch.ctrl_priority: the whole ring, exact */
    if (p->n && !cancel_port_events(e, q, 1u << (e->pfc ? EV_ARRIVE_PFC : EV_ARRIVE)))
        err_fatal("faults.fail: port %u holds packets and no arrival event", q);
    if (e->pfc) cancel_port_events(e, q, 1u << EV_TX | 1u << EV_PAUSE | 1u << EV_RESUME);
    /* the port empties first: dropping may finish flows, whose ends do not see it */
    uint64_t bps = e->base.t->ports[q].bps;
    uint32_t n = p->n, m = e->pfc ? pkt_pfc_queued(e, q) : 0;
    struct pkt *lost = xmalloc(((size_t)n + m + 1) * sizeof *lost);
    for (uint32_t j = 0; j < n; j++) {
        lost[j] = p->ring[(p->head + j) & (p->cap - 1)];
        simtime_t ser = ser_ps(lost[j].wire, bps);
        if (lost[j].t - p->lat_ps - ser > e->now) { /* not begun: never sent */
            p->bytes -= lost[j].wire;
            p->busy_ps -= ser;
        }
    }
    p->head = p->n = 0;
    p->busy_until = e->now;
    if (e->pfc) n += pkt_pfc_fail(e, q, lost + n);
    for (uint32_t j = 0; j < n; j++)
        pkt_fault_drop(e, q, &lost[j]);
    free(lost);
    p->watch_ps = 0; /* every commit to it takes pkt_commit's slow path, which drops */
}

/* Whether anything but fault events (and the sampler's) is left to simulate;
 * else the fault events still queued are dropped and the clock is set back
 * to `before` (the last real event), and the one being handled is not
 * counted. */
static int run_over(struct pkt_eng *e, simtime_t before)
{
    struct pkt_fault *f = e->fault;
    size_t others = evq_size(&e->q) - (size_t)e->top_live - f->s.pending;
    if (others > (size_t)e->sample_queued) return 0;
    fault_sched_cancel_all(&f->s, &e->q);
    e->now = before;
    e->st.events--;
    return 1;
}

void pkt_fault_event(struct pkt_eng *e, uint32_t kind, uint32_t i, simtime_t before)
{
    struct pkt_fault *f = e->fault;
    uint32_t slot = fault_sched_popped(&f->s, kind, i);
    if (run_over(e, before)) return;
    const struct topo_tfault *tf = &f->s.orig->tfaults[i];
    if (kind == EV_FAIL) {
        for (uint32_t j = 0; j < tf->nports; j++)
            kill_port(e, tf->ports[j]);
        fault_sched_push(&f->s, slot + 1, e->now + f->s.orig->reroute_ps);
    } else if (i + 1 > f->s.cur) {
        fault_sched_route(&f->s, i + 1);
    }
}
