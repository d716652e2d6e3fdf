/* pkt_port.c - the packet engine's ports (pkt_eng.h): a FIFO output queue
 * per link whose packets' departures are known when they join it, ECN
 * marking on the queue a packet finds, the packets on its wire in a ring,
 * and its counters. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_port.h"

/* ECN at enqueue ([switch], docs/transports.md): data packet k joins port
 * p, whose queue holds q ps of serialization ahead of it. RED's ramp on the
 * queue seen at arrival: no mark up to kmin, probability pmax (q - kmin) /
 * (kmax - kmin) up to kmax, a mark above (kmin = kmax: DCTCP's step at K).
 * The thresholds are in ps of the port's rate, so the queue is never
 * converted to bytes per packet. Acknowledgements are not marked; a packet
 * already marked upstream stays marked and is not counted again. Called
 * once q > kmin. */
static void ecn_mark(struct pkt_eng *e, struct port_rt *p, struct pkt *k, simtime_t q)
{
    if (k->flags & (PKT_CE | PKT_ACK)) return;
    if (q <= p->ecn_kmax_ps) {
        e->ecn_state += 0x9e3779b97f4a7c15ull;
        double u = (double)(rng_mix64(e->ecn_state) >> 11) * 0x1p-53;
        double prob =
            e->ecn_pmax * (double)(q - p->ecn_kmin_ps) / (double)(p->ecn_kmax_ps - p->ecn_kmin_ps);
        if (u >= prob) return;
    }
    k->flags |= PKT_CE;
    p->ecn_marks++;
}

/* Port p's backlog b (ps, packet k's serialization ser included) is above
 * watch_ps = min(its peak so far, its ECN kmin, its buffer): a new peak, or a
 * queue where k may be marked. With no marking this is the peak's update
 * alone, as often as before ECN existed. */
static __attribute__((noinline)) void watch(struct pkt_eng *e, struct port_rt *p, struct pkt *k,
                                            simtime_t b, simtime_t ser)
{
    if (b > p->max_backlog_ps) p->max_backlog_ps = b;
    if (b - ser > p->ecn_kmin_ps) ecn_mark(e, p, k, b - ser);
    simtime_t w = p->max_backlog_ps < p->ecn_kmin_ps ? p->max_backlog_ps : p->ecn_kmin_ps;
    p->watch_ps = w < p->buf_ps ? w : p->buf_ps;
    if (e->ctrlq) p->watch_ps = 0; /* every packet to pkt_commit_watch, which sorts out control */
}

void pkt_port_watch(struct pkt_eng *e, struct port_rt *p, struct pkt *k, simtime_t b, simtime_t ser)
{
    watch(e, p, k, b, ser);
}

/* Doubles port p's ring of packets on the wire, keeping their order. The
 * ring is aligned to a cache line (a multiple of two packets), so that no
 * packet straddles two lines: malloc's 16-byte alignment split one packet
 * in four across two. */
static void ring_grow(struct port_rt *p)
{
    uint32_t cap = p->cap ? 2 * p->cap : 4;
    if (cap < p->cap) err_fatal("more than %u packets on one link", p->cap);
    struct pkt *r = aligned_alloc(64, (size_t)cap * sizeof *r);
    if (!r) err_fatal("out of memory for %u packets on one link", cap);
    for (uint32_t j = 0; j < p->n; j++)
        r[j] = p->ring[(p->head + j) & (p->cap - 1)];
    free(p->ring);
    p->ring = r;
    p->head = 0;
    p->cap = cap;
}

/* pkt_commit for a packet that finds port q's backlog (depart - now, its
 * own serialization ser included) above watch_ps = min(the peak so far,
 * the ECN kmin, the buffer): a new peak, a queue where it may be marked, or
 * one it overflows. Drop-tail: a data packet that would make the backlog
 * exceed the buffer is dropped (or trimmed) by pkt_loss.c instead;
 * acknowledgements and trimmed headers are never dropped
 * (docs/transports.md). With no marking and no finite buffer this is the
 * peak's update alone, as often as before ECN existed. */
__attribute__((noinline)) void pkt_commit_watch(struct pkt_eng *e, uint32_t q, struct pkt *k,
                                                simtime_t depart, simtime_t ser)
{
    if (e->fault && pkt_fault_dead(e, q)) { /* faults.fail: lost (pkt_fault.c), control too */
        pkt_fault_drop(e, q, k);
        return;
    }
    if (e->ctrlq && pkt_is_ctrl(k)) { /* switch.ctrl_priority (pkt_ctrlq.c) */
        pkt_ctrlq_commit(e, q, k);
        return;
    }
    struct port_rt *p = &e->ports[q];
    simtime_t b = depart - e->now;
    if (b > p->buf_ps && !(k->flags & (PKT_ACK | PKT_TRIM)) && pkt_rec_full(e, q, k, b)) {
        pkt_rec_overflow(e, q, k);
        return;
    }
    watch(e, p, k, b, ser);
    pkt_enqueue(e, q, p, k, depart, ser);
}

void pkt_port_ring_grow(struct port_rt *p)
{
    ring_grow(p);
}

/* Puts packet k into port q's queue at time now (pkt_port.h). */
void pkt_commit(struct pkt_eng *e, uint32_t q, struct pkt *k)
{
    pkt_commit_inl(e, q, k);
}

/* The start of packet o's serialization at port p (q): its departure less
 * its serialization. */
static inline simtime_t start_of(const struct pkt_eng *e, const struct port_rt *p, uint32_t q,
                                 const struct pkt *o)
{
    return o->t - p->lat_ps - pkt_ser_of(e, p, q, o);
}

/* Where pkt_commit_first puts its header in port q's ring of n > 1
 * packets: after the last packet at index 1 or beyond that has begun (its
 * start is not after now), or at 1, as a scan from the tail finds it.
 * Packets appended by pkt_commit start no earlier than any packet ahead of
 * them, so while the starts rise along the ring a binary search finds the
 * same place in log n looks. A header put between two packets may start
 * after the one behind it (or before the one ahead: its departure capped at
 * the next one's, or following one that overlaps the packet after it);
 * until such a header has left the ring (e->trim_mixed[q]: the latest one's
 * arrival time, 0: none) the ring is scanned from its tail instead. */
static uint32_t first_waiting(struct pkt_eng *e, uint32_t q, const struct port_rt *p)
{
    uint32_t m = p->cap - 1, n = p->n;
    if (start_of(e, p, q, &p->ring[(p->head + n - 1) & m]) <= e->now) return n; /* none waits */
    simtime_t *mixed = &e->trim_mixed[q];
    if (*mixed && p->ring[p->head].t > *mixed) *mixed = 0; /* gone */
    if (*mixed) {
        uint32_t j = n - 1;
        while (j > 1 && start_of(e, p, q, &p->ring[(p->head + j - 1) & m]) > e->now)
            j--;
        return j;
    }
    uint32_t lo = 1, hi = n - 1; /* the first index >= 1 not begun: in [1, n - 1] */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (start_of(e, p, q, &p->ring[(p->head + mid) & m]) <= e->now)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Puts packet k (a trimmed header) into port q's queue ahead of every
 * packet there that has not begun its serialization: strict priority
 * without preemption, the packet on the link finishes first. The packets
 * it overtakes keep the departures they were given (they are not delayed
 * by its serialization, ack_bytes at the port's rate); the link's time is
 * charged to the packets that join after it (busy_until grows by it). The
 * ring stays in arrival order: the head of a non-empty ring has always
 * begun (a packet waits only behind one still leaving), so k never goes
 * before it and the head's event stands. */
void pkt_commit_first(struct pkt_eng *e, uint32_t q, struct pkt *k)
{
    if (e->ctrlq) { /* the control class: the packets it overtakes are delayed (pkt_ctrlq.c) */
        pkt_ctrlq_commit(e, q, k);
        return;
    }
    struct port_rt *p = &e->ports[q];
    simtime_t ser = pkt_ser_of(e, p, q, k);
    uint32_t m = p->cap - 1, j = p->n > 1 ? first_waiting(e, q, p) : p->n;
    simtime_t start = e->now;
    if (j > 0) {
        simtime_t prev = p->ring[(p->head + j - 1) & m].t - p->lat_ps;
        if (prev > start) start = prev;
    }
    k->t = start + ser + p->lat_ps;
    if (j < p->n && p->ring[(p->head + j) & m].t < k->t) k->t = p->ring[(p->head + j) & m].t;
    /* the starts no longer rise along the ring where k goes (first_waiting) */
    simtime_t ks = k->t - p->lat_ps - ser;
    if ((j > 0 && ks < start_of(e, p, q, &p->ring[(p->head + j - 1) & m])) ||
        (j < p->n && ks > start_of(e, p, q, &p->ring[(p->head + j) & m])))
        if (k->t > e->trim_mixed[q]) e->trim_mixed[q] = k->t;
    p->busy_until = (p->busy_until > e->now ? p->busy_until : e->now) + ser;
    if (p->busy_until - e->now > p->max_backlog_ps) p->max_backlog_ps = p->busy_until - e->now;
    p->bytes += k->wire;
    p->busy_ps += ser;
    if (p->n == p->cap) ring_grow(p);
    /* the packets from j on move one slot down: ring slots a .. b - 1 to
     * a + 1 .. b, in at most two runs and a wrap */
    m = p->cap - 1;
    uint32_t a = (p->head + j) & m, b = (p->head + p->n) & m;
    if (a <= b) {
        memmove(&p->ring[a + 1], &p->ring[a], (size_t)(b - a) * sizeof *p->ring);
    } else {
        memmove(&p->ring[1], &p->ring[0], (size_t)b * sizeof *p->ring);
        p->ring[0] = p->ring[m];
        memmove(&p->ring[a + 1], &p->ring[a], (size_t)(m - a) * sizeof *p->ring);
    }
    p->ring[a] = *k;
    if (p->n++ == 0) pkt_push(e, k->t, EV_ARRIVE, q);
}

uint64_t pkt_port_backlog(const struct eng *eb, uint32_t port)
{
    const struct pkt_eng *e = pkt_eng_ofc(eb);
    const struct port_rt *p = &e->ports[port];
    if (e->pfc) return pkt_pfc_backlog(e, port);
    if (p->busy_until <= e->now) return 0;
    unsigned __int128 bits =
        (unsigned __int128)(p->busy_until - e->now) * e->base.t->ports[port].bps;
    return (uint64_t)((bits + 8 * PS_PER_S - 1) / (8 * PS_PER_S));
}

uint64_t pkt_port_sent(const struct eng *eb, uint32_t port)
{
    const struct pkt_eng *e = pkt_eng_ofc(eb);
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

/* The port's counters as the links table records them (into the engine's
 * pst[port]: eng_port() returns a const pointer to it). */
const struct res_port_stats *pkt_port(const struct eng *eb, uint32_t port)
{
    struct pkt_eng *e = (struct pkt_eng *)eb;
    const struct port_rt *p = &e->ports[port];
    struct res_port_stats *s = &e->pst[port];
    unsigned __int128 bits = (unsigned __int128)p->max_backlog_ps * e->base.t->ports[port].bps;
    s->bytes = p->bytes;
    s->busy_ps = p->busy_ps;
    s->max_queue_bytes = (uint64_t)((bits + 8 * PS_PER_S - 1) / (8 * PS_PER_S));
    s->ecn_marks = p->ecn_marks;
    s->drops = p->drops;
    s->trims = e->trims ? e->trims[port] : 0;
    s->pause_ps = e->pfc ? pkt_pfc_pause_ps(e, port) : 0;
    return s;
}
