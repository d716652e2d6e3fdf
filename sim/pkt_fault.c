/* pkt_fault.c - links that fail during a run (faults.fail, topo/faults.h;
 * docs/fabrics.md, "Links that fail during a run"), in the packet engine.
 *
 * topo/ builds, before the run, one routing table per failure: the fabric
 * with that link and every earlier one down (struct topo_tfault). The engine
 * routes by its own copy of struct topo (e->fault->view, e->base.t points at
 * it), equal to the shared one but for its routing table, so that engines of
 * other threads over the same fabric are not disturbed.
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
 *    hold the dead link and what is routed to it is lost.
 * The senders recover by their loss recovery (transport.recovery is
 * required: app/validate.c). A failure (or reroute) whose run has nothing
 * left to simulate is dropped uncounted, as the sampler's last event is:
 * a failure does not lengthen a run. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/pkt_eng.h"

struct pkt_fault {
    struct topo view; /* the engine's fabric: the shared one with the current routing */
    const struct topo *orig;
    uint8_t *dead;    /* [nports] */
    uint64_t *seq;    /* [2 * ntfaults]: EV_FAIL i at 2i, EV_REROUTE i at 2i + 1 */
    uint8_t *queued;  /* [2 * ntfaults] */
    uint32_t pending; /* fault events queued */
    uint32_t cur;     /* failures routed around (the view has tfaults[cur - 1]'s table) */
};

static void set_routing(struct pkt_fault *f, uint32_t cur)
{
    f->cur = cur;
    topo_fault_view_set(&f->view, f->orig, cur);
}

void pkt_fault_create(struct pkt_eng *e, const struct topo *t)
{
    struct pkt_fault *f = xcalloc(1, sizeof *f);
    f->orig = t;
    topo_fault_view_init(&f->view, t); /* routing by the rows alone */
    f->dead = xcalloc(t->nports, 1);
    f->seq = xcalloc(2 * (size_t)t->ntfaults, sizeof *f->seq);
    f->queued = xcalloc(2 * (size_t)t->ntfaults, 1);
    e->fault = f;
    e->base.t = &f->view;
}

void pkt_fault_destroy(struct pkt_eng *e)
{
    struct pkt_fault *f = e->fault;
    if (!f) return;
    free(f->dead);
    free(f->seq);
    free(f->queued);
    free(f);
    e->fault = NULL;
}

static void push(struct pkt_eng *e, uint32_t i, simtime_t at)
{
    struct pkt_fault *f = e->fault;
    f->seq[i] = pkt_push(e, at, i & 1 ? EV_REROUTE : EV_FAIL, i / 2);
    f->queued[i] = 1;
    f->pending++;
}

/* The run starts (after the event queue was emptied): every link up, the
 * starting routes, each failure's event queued. */
void pkt_fault_start(struct pkt_eng *e)
{
    struct pkt_fault *f = e->fault;
    memset(f->dead, 0, f->orig->nports);
    memset(f->queued, 0, 2 * (size_t)f->orig->ntfaults);
    f->pending = 0;
    set_routing(f, 0);
    for (uint32_t i = 0; i < f->orig->ntfaults; i++)
        push(e, 2 * i, f->orig->tfaults[i].at_ps);
}

uint32_t pkt_fault_pending(const struct pkt_eng *e)
{
    return e->fault ? e->fault->pending : 0;
}

int pkt_fault_dead(const struct pkt_eng *e, uint32_t q)
{
    return e->fault->dead[q];
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
    if (f->dead[q]) return;
    f->dead[q] = 1;
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
    size_t others = evq_size(&e->q) - (size_t)e->top_live - f->pending;
    if (others > (size_t)e->sample_queued) return 0;
    for (uint32_t i = 0; i < 2 * f->orig->ntfaults; i++)
        if (f->queued[i]) {
            evq_cancel(&e->q, f->seq[i]);
            f->queued[i] = 0;
        }
    f->pending = 0;
    e->now = before;
    e->st.events--;
    return 1;
}

void pkt_fault_event(struct pkt_eng *e, uint32_t kind, uint32_t i, simtime_t before)
{
    struct pkt_fault *f = e->fault;
    uint32_t slot = 2 * i + (kind == EV_REROUTE);
    f->queued[slot] = 0;
    f->pending--;
    if (run_over(e, before)) return;
    const struct topo_tfault *tf = &f->orig->tfaults[i];
    if (kind == EV_FAIL) {
        for (uint32_t j = 0; j < tf->nports; j++)
            kill_port(e, tf->ports[j]);
        push(e, slot + 1, e->now + f->orig->reroute_ps);
    } else if (i + 1 > f->cur) {
        set_routing(f, i + 1);
    }
}
