/* pkt_eng.h - the packet engine: output-queued ports, window transports.
 * Its state, shared by the files that implement it (not for other modules:
 * they use it through sim/eng.h, as sim.engine = packet).
 *
 * The engine splits each message into transport flows (one, or
 * transport.subflows for path=split), sends them as packets of at most
 * transport.mtu bytes under a window, and calls the workload back when a
 * message's last byte has reached its destination.
 *
 * Port model: every port is a FIFO output queue feeding one link. A packet
 * that joins a port's queue leaves it when every byte ahead of it has been
 * serialized (FIFO, work conserving), so its departure time is known on
 * arrival: the engine computes it at once instead of scheduling a
 * "transmission done" event per hop. Packets on a link are kept in a per-link
 * FIFO (they cannot overtake one another) and only the head's arrival is in
 * the event queue. One event per packet per hop, plus one per data packet at
 * the sending NIC, which serves its ready flows round robin, a packet at a
 * time. ECN marks are decided at the same place (enqueue, on the bytes the
 * packet finds ahead of it: pkt_port.c), and so would drop-tail be.
 *
 * The files, one concept each:
 *   pkt_eng.c    the engine: create, reset, the event loop, sampler, checks
 *   pkt_port.c   ports and their queues: enqueue (commit), counters; pkt_port.h
 *                the commit's common case, inline for the per-hop forwarding
 *   pkt_route.h  forwarding hop by hop and the choice of path (inline:
 *                it runs per packet and per hop), the prefetch of the arrivals
 *                ahead on large fabrics; pkt_route.c adaptive routing
 *   pkt_send.c   senders (NIC, NVLink): messages, flows, windows
 *   pkt_recv.c   receivers: delivery, acknowledgements, completion
 *   pkt_rail.c   NVLink relaying on a rail fabric with cross_rail = pxn
 *   pkt_cc.c     congestion control (cc = dctcp): windows from ECN echoes
 *   pkt_loss.c   loss recovery (transport.recovery): drop-tail and trimming
 *                at a full switch buffer, go-back-N and selective repeat,
 *                NACKs, the retransmission timer
 *   pkt_nscc.c   cc = nscc: windows from queueing delay and ECN echoes
 *   pkt_pfc.c    switch.pfc: pausable ports (a waiting queue and a
 *                transmission event each), per-ingress PAUSE and RESUME
 *   pkt_dcqcn.c  cc = dcqcn: rates from CNPs, and the senders' pacing (pkt_dcqcn.h)
 *   pkt_ctrlq.c  switch.ctrl_priority: control packets overtake queued data
 *   pkt_fault.c  faults.fail: links failing during the run, and the reroute
 * The per-packet functions call one another directly (no table between
 * them); the one table, pkt_eng_ops, is the engine's face to the driver.
 */
#ifndef MOESIM_PKT_ENG_H
#define MOESIM_PKT_ENG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "base/evq.h"
#include "sim/eng.h"
#include "sim/pkt.h"
#include "sim/pkt_nscc.h"

struct pkt_nscc;

extern const struct eng_ops pkt_eng_ops;

/* EV_ARRIVE_PFC .. EV_RESUME: switch.pfc only (pkt_pfc.c); they and EV_DCQCN are pkt_run's default
 * case (EV_TX and EV_ARRIVE_PFC tested first); EV_DCQCN: a paced
 * sender wakes (cc = dcqcn, pkt_dcqcn.c); EV_RTO: a flow's retransmission timer (recovery,
 * pkt_loss.c); EV_FAIL, EV_REROUTE: a link fails, routing leaves it out (faults.fail, pkt_fault.c)
 */
enum {
    EV_ARRIVE = 0,
    EV_NIC,
    EV_START,
    EV_SAMPLE,
    EV_ARRIVE_PFC,
    EV_TX,
    EV_PAUSE,
    EV_RESUME,
    EV_DCQCN,
    EV_RTO,
    EV_FAIL,
    EV_REROUTE
};

#define PKT_NONE    UINT32_MAX
#define PKT_TO_HOST UINT32_MAX /* port_rt.sw of a port into a host: its packets are delivered */
/* rail with PXN (pkt_rail.c): a port into an NVLink switch, and one into a
 * GPU over NVLink, which delivers or relays; PKT_NVSW is the least special */
#define PKT_RELAY (UINT32_MAX - 1)
#define PKT_NVSW  (UINT32_MAX - 2)

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
    uint32_t sw; /* its far end's routing-table row (topo_hop_at), or PKT_TO_HOST */
    uint64_t bytes;
    simtime_t busy_ps __attribute__((aligned(64)));
    simtime_t max_backlog_ps;
    /* ECN ([switch]): a data packet finding more than kmin_ps of
     * serialization queued ahead may be marked, above kmax_ps it is; both
     * SIMTIME_MAX on ports out of a host (no marking there) */
    simtime_t ecn_kmin_ps, ecn_kmax_ps;
    simtime_t watch_ps; /* min(max_backlog_ps, ecn_kmin_ps, buf_ps): pkt_commit's one test */
    uint64_t ecn_marks;
    /* switch.buffer_bytes in ps of the port's rate: a data packet that
     * would make the backlog exceed it is dropped or trimmed (pkt_loss.c);
     * SIMTIME_MAX (never) when unbounded and at a host's NIC */
    simtime_t buf_ps;
    uint64_t drops; /* (trims: e->trims, so a port stays two lines) */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct port_rt) == 128, "a port is two cache lines");

/* A transport flow, in one 64-byte line; its bytes in flight are sent -
 * acked. */
struct flow {
    uint64_t size, sent, delivered, acked;
    uint32_t src, dst;
    uint32_t msg;
    uint32_t sched;        /* its sender: 2*src for the NIC, 2*src+1 for NVLink */
    uint32_t next_ready;   /* in its sender's ready list */
    uint32_t unacked;      /* bytes delivered and not yet acknowledged (ack_every > 1) */
    uint32_t k;            /* ECMP path (+ entropy << 16, ecmp.h), or spray_rr's cursor */
    uint16_t unacked_pkts; /* ... and their packets */
    uint8_t ready;         /* 1: in the ready list; 2 (cc = dcqcn): waiting for its rate */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct flow) == 64, "a flow is one cache line");

/* A flow's congestion-control state (cc = dctcp: sim/pkt_cc.c; cc = nscc:
 * sim/pkt_nscc.c), beside e->flows (same index); NULL under cc = window.
 * Its window and the control's own state together, in lines of their own
 * (e->cc is 64-byte aligned): dctcp's in one, nscc's in two. */
struct cc_flow {
    double cwnd;        /* window, bytes */
    uint32_t rx_marked; /* receiver: marked bytes not yet acknowledged (ack_every) */
    union {
        struct {                            /* cc = dctcp */
            double alpha;                   /* DCTCP's estimate of the marked fraction */
            uint64_t win_end;               /* alpha is updated when acked reaches this */
            uint64_t cut_end;               /* no new cut (nor growth) until acked passes this */
            uint64_t win_acked, win_marked; /* bytes acknowledged, and marked, in this window */
        };
        struct nscc_flow ns; /* cc = nscc */
    };
} __attribute__((aligned(64)));

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

struct pkt_eng {
    struct eng base; /* ops, topology */
    struct eng_hooks hooks;
    eng_msg_loss_fn msg_loss; /* eng_set_msg_loss; NULL: none */
    void *msg_loss_ctx;
    struct evq q;
    struct port_rt *ports;
    uint32_t live_pkts, peak_pkts;
    struct res_port_stats *pst; /* [nports]: filled by eng_port() */
    struct host *hosts;         /* [2 * hosts]: NIC and NVLink sender of each host */
    struct flow *flows;         /* [capmsgs * subflows] */
    struct msg *msgs;
    uint32_t nmsgs, capmsgs, free_msg, live_msgs;
    uint32_t *adapt_rr;      /* per switch row: where the adaptive scan starts */
    simtime_t *flowlet_last; /* path = flowlet, per flow: when its last packet left */
    simtime_t flowlet_gap;
    struct cc_flow *cc;        /* cc = dctcp, per flow (as flows); NULL under cc = window */
    size_t cc_n;               /* flows e->cc holds (pkt_cc_grow) */
    struct rec_flow *rec;      /* transport.recovery, per flow (pkt_loss.c); NULL under none */
    struct rec_cold *rec_cold; /* ... its counters and timer handle, per flow */
    size_t rec_n;              /* flows e->rec holds */
    uint64_t *rec_bits;        /* recovery = selective: 3 bitmaps of rec_pkts bits per flow */
    uint32_t rec_pkts;         /* selective: packets a bitmap covers (a power of two) */
    uint8_t recovery;          /* enum rec_kind */
    uint8_t trim;              /* switch.trim */
    uint64_t *trims;           /* switch.trim: per port, packets trimmed; else NULL */
    simtime_t *trim_mixed; /* switch.trim: per port, pkt_commit_first's ring order (pkt_port.c) */
    /* switch.shared_alpha > 0 (pkt_loss.c): each switch's output ports (CSR
     * by node - hosts), its buffer and alpha; sw_first NULL: per-port buffers */
    uint32_t *sw_first, *sw_ports;
    double shared_alpha, shared_bytes;
    simtime_t rto_ps, reorder_ps;
    struct pkt_pfc *pfc; /* switch.pfc (pkt_pfc.c); NULL without it */
    struct dcqcn *dq;    /* cc = dcqcn (pkt_dcqcn.h); NULL otherwise */
    double dctcp_g, dctcp_alpha_init;
    /* cc = nscc (sim/pkt_nscc.h; its windows are in cc); NULL otherwise */
    struct pkt_nscc *nscc;
    double ecn_pmax;    /* [switch] marking probability at kmax */
    uint64_t ecn_state; /* the marking draws' splitmix64 counter (RNG_NET_ECN) */
    uint8_t ecn;        /* some switch port marks */
    uint8_t pkt_flags;  /* every data packet's: PKT_CC under cc = dctcp or dcqcn, else 0 */
    uint8_t hop_hash;   /* switches past the first hash data packets (ecmp, split, flowlet), from
                         * 16 bits of entropy the flows carry above their path (flow.k) */
    uint8_t fixed_path; /* a flow's packets take its path number (ecmp, split, ethereal) */
    uint8_t nic_pace;   /* rail planes: a NIC sends at its own rate over its plane ports */
    uint8_t ctrlq;      /* switch.ctrl_priority: control packets' strict priority (pkt_ctrlq.c) */
    struct ctrlq_port
        *cq; /* ... its fast-path ports' class and lazy shift (without pfc), or NULL */
    gsl_rng *rng;
    uint64_t seed, base_seed; /* base_seed: sim.seed; seed: the flow hash's (seed_streams) */
    int path;
    uint32_t subflows, mtu, ack_bytes, ack_every;
    uint8_t mtu_shift; /* log2(mtu) where mtu is a power of two, else 0xff (pkt_mtus) */
    uint64_t window;
    uint64_t win_fast; /* pkt_flow_can_send: window under cc = window, 0 under dctcp; under dcqcn
                        * transport.window_bytes, or UINT64_MAX (no window) when it is 0 */
    simtime_t now;
    int top_live; /* the event being handled is still at the top of q */
    struct eng_stats st;
    /* the sampler (eng_set_sampler); period 0 = none */
    simtime_t sample_period;
    eng_sample_fn sample_fn;
    void *sample_ctx;
    uint8_t sample_queued; /* a sample event is in q */
    /* faults.fail (pkt_fault.c); NULL without it */
    struct pkt_fault *fault;
};

static inline struct pkt_eng *pkt_eng_of(struct eng *e)
{
    return (struct pkt_eng *)e;
}
static inline const struct pkt_eng *pkt_eng_ofc(const struct eng *e)
{
    return (const struct pkt_eng *)e;
}

/* pkt_eng.c: schedules an event; returns its sequence number (evq_cancel). */
uint64_t pkt_push(struct pkt_eng *e, simtime_t t, uint32_t kind, uint32_t id);

/* pkt_port.c */
void pkt_commit(struct pkt_eng *e, uint32_t q, struct pkt *k);
/* ... ahead of the packets queued there (a trimmed header's priority) */
void pkt_commit_first(struct pkt_eng *e, uint32_t q, struct pkt *k);
uint64_t pkt_port_backlog(const struct eng *e, uint32_t port);
uint64_t pkt_port_sent(const struct eng *e, uint32_t port);
const struct res_port_stats *pkt_port(const struct eng *e, uint32_t port);

/* pkt_ctrlq.c: switch.ctrl_priority. A control packet: an ack, NACK or CNP
 * (PKT_ACK), or a trimmed header (PKT_TRIM). */
static inline int pkt_is_ctrl(const struct pkt *k)
{
    return (k->flags & (PKT_ACK | PKT_TRIM)) != 0;
}
/* Control packet k joins port q's fast-path queue ahead of every data packet
 * there that has not begun, behind the one being serialized and earlier
 * control packets; the data it overtakes leave its serialization later. */
void pkt_ctrlq_commit(struct pkt_eng *e, uint32_t q, struct pkt *k);
/* e->cq under switch.ctrl_priority without switch.pfc; its end; its phase reset */
void pkt_ctrlq_create(struct pkt_eng *e);
void pkt_ctrlq_destroy(struct pkt_eng *e);
void pkt_ctrlq_reset(struct pkt_eng *e);
/* A fast-path port's control class and lazy shift (pkt_ctrlq.c). */
struct ctrlq_port {
    struct pkt *c; /* control packets that overtook waiting data: ring of ccap, oldest at chead */
    uint32_t chead, cn, ccap;
    uint32_t m, a; /* ring[0, m) exact and fixed, ring[m, a) hold t - off, ring[a, n) exact */
    simtime_t off;
};
void pkt_ctrlq_take(struct pkt_eng *e, uint32_t q); /* c's head to ring[1] */
/* Port q's wire's head arrives now (pkt_arrive follows): the packet that
 * follows it at the far end is put behind it, with its exact time. */
static inline void pkt_ctrlq_pre_arrive(struct pkt_eng *e, uint32_t q)
{
    struct port_rt *p = &e->ports[q];
    struct ctrlq_port *c = &e->cq[q];
    if (c->cn) {
        pkt_ctrlq_take(e, q);
    } else if (c->m < 2 && p->n > 1) {
        if (c->a > 1) p->ring[(p->head + 1) & (p->cap - 1)].t += c->off;
        c->m = 2;
        if (c->a < 2) c->a = 2;
    }
    /* the pop, as pkt_arrive_at makes it next */
    c->m -= c->m > 0;
    c->a -= c->a > 0;
}
/* pkt_port_sent where e->cq is set */
uint64_t pkt_ctrlq_sent(const struct pkt_eng *e, uint32_t q);
/* Port q's packets back on its ring alone, every time exact (for code that
 * reads the whole ring: faults.fail's kill_port); nothing without e->cq */
void pkt_ctrlq_flatten(struct pkt_eng *e, uint32_t q);

/* pkt_route.h: pkt_choose_path, pkt_arrive (inline, per packet and hop) */
void pkt_hop(struct pkt_eng *e, struct pkt *k, uint32_t sw);
uint16_t pkt_flowlet(struct pkt_eng *e, struct flow *f);
/* Rail planes under adaptive: the plane whose NIC port (the relay's under
 * PXN) empties first, as the path number of that plane's first path. */
uint16_t pkt_adapt_plane(struct pkt_eng *e, uint32_t src, uint32_t dst);

/* pkt_cc.c: cc = dctcp */
void pkt_cc_init(struct pkt_eng *e, uint32_t first, uint32_t n);
/* e->cc for a flow (cc = dctcp or nscc), and room for n flows (64-byte aligned) */
void pkt_cc_create(struct pkt_eng *e);
void pkt_cc_grow(struct pkt_eng *e, size_t n);
void pkt_dctcp_ack(struct pkt_eng *e, struct flow *f, uint32_t acked, uint32_t marked);

/* pkt_pfc.c: switch.pfc. Every port is pausable: pkt_pfc_commit queues
 * packet k at port q (from a switch's ingress port `ingress`, or PKT_NONE
 * from a host; `wake`: the sender to call again when k has left, or
 * PKT_NONE) instead of pkt_commit. */
struct pkt_pfc *pkt_pfc_create(const struct topo *t, const struct tr_spec *c);
void pkt_pfc_reset(struct pkt_pfc *f, const struct topo *t);
void pkt_pfc_destroy(struct pkt_pfc *f, uint32_t nports);
void pkt_pfc_commit(struct pkt_eng *e, uint32_t q, struct pkt *k, uint32_t ingress, uint32_t wake);
void pkt_pfc_event(struct pkt_eng *e, uint32_t kind, uint32_t q);
/* ... its two per-packet events, as pkt_pfc_event's: EV_ARRIVE_PFC, EV_TX */
void pkt_pfc_arrive(struct pkt_eng *e, uint32_t q);
void pkt_pfc_tx(struct pkt_eng *e, uint32_t q);
uint64_t pkt_pfc_backlog(const struct pkt_eng *e, uint32_t q);
simtime_t pkt_pfc_pause_ps(const struct pkt_eng *e, uint32_t q);
/* tests: an ingress's peak charge, bytes; the PAUSEs port q obeyed */
uint64_t pkt_pfc_ingress_max(const struct pkt_eng *e, uint32_t q);
uint64_t pkt_pfc_pauses(const struct pkt_eng *e, uint32_t q);
int pkt_pfc_check(const struct pkt_eng *e, char *msg, size_t n);
/* faults.fail: port q's link failed; its queue (pkt_pfc_queued packets)
 * into lost[], their ingress charges released (pkt_pfc.c) */
uint32_t pkt_pfc_queued(const struct pkt_eng *e, uint32_t q);
uint32_t pkt_pfc_fail(struct pkt_eng *e, uint32_t q, struct pkt *lost);
/* pkt_port.c, for pkt_pfc.c: the peak and ECN test pkt_commit makes (b:
 * the backlog, ps, k's serialization ser included), and the wire's ring */
void pkt_port_watch(struct pkt_eng *e, struct port_rt *p, struct pkt *k, simtime_t b,
                    simtime_t ser);
void pkt_port_ring_grow(struct port_rt *p);
/* Packet k joins port q, from switch ingress port `ingress` or PKT_NONE
 * (where a commit is not per hop: acks, relays). */
static inline void pkt_commit_from(struct pkt_eng *e, uint32_t q, struct pkt *k, uint32_t ingress)
{
    if (e->pfc)
        pkt_pfc_commit(e, q, k, ingress, PKT_NONE);
    else
        pkt_commit(e, q, k);
}

/* pkt_send.c */
void pkt_nic_send(struct pkt_eng *e, uint32_t h);
/* Whether flow f's window lets it send its next packet: transport.window_bytes
 * (or 1 BDP) under cc = window, where win_fast = window; under dctcp
 * (win_fast = 0) its own, read only after the first two tests fail, so
 * cc = window pays nothing while its window has room. */
static inline int pkt_flow_can_send(const struct pkt_eng *e, const struct flow *f)
{
    if (f->sent >= f->size) return 0;
    uint64_t left = f->size - f->sent;
    uint64_t next = left < e->mtu ? left : e->mtu;
    uint64_t inflight = f->sent - f->acked;
    return inflight + next <= e->win_fast || inflight == 0 ||
           (e->cc && inflight + next <= (uint64_t)e->cc[f - e->flows].cwnd);
}
/* x / mtu, a shift where mtu is a power of two (the default 4096) */
static inline uint64_t pkt_mtus(const struct pkt_eng *e, uint64_t x)
{
    return e->mtu_shift != 0xff ? x >> e->mtu_shift : x / e->mtu;
}
void pkt_ready_push(struct pkt_eng *e, uint32_t fi);
void pkt_start_msg(struct pkt_eng *e, uint32_t mi);
uint32_t pkt_add_msg(struct eng *e, uint32_t src, uint32_t dst, uint64_t bytes, simtime_t start,
                     uint64_t tag);
uint32_t pkt_add_msg_paths(struct eng *e, uint32_t src, uint32_t dst, simtime_t start, uint64_t tag,
                           const struct eth_sub *subs, uint32_t n);

/* pkt_recv.c */
void pkt_deliver(struct pkt_eng *e, struct pkt *k);

/* pkt_recv.c, for pkt_loss.c: flow f is delivered entirely (the hook
 * hears of its message's last); flow f is acknowledged entirely (its
 * message's slot is freed with its last). */
void pkt_msg_flow_done(struct pkt_eng *e, struct flow *f);
void pkt_flow_acked(struct pkt_eng *e, struct flow *f);

/* pkt_loss.c: loss recovery (transport.recovery != none: e->rec set; every
 * data packet carries PKT_REC and its acks are handled here). */
void pkt_rec_create(struct pkt_eng *e, const struct tr_spec *c);
/* Message m's counters so far, summed over its flows. */
void pkt_rec_msg_loss(const struct pkt_eng *e, const struct msg *m, struct res_flow_loss *loss);
void pkt_rec_destroy(struct pkt_eng *e);
void pkt_rec_grow(struct pkt_eng *e, size_t nflows); /* room for nflows flows */
/* A flow's recovery state, at least (the memory estimate). */
size_t pkt_rec_flow_bytes(int selective);
void pkt_rec_init(struct pkt_eng *e, uint32_t first, uint32_t n); /* flows that start */
/* The offset flow f, just taken off its sender's ready list, sends next
 * (a retransmission, or f->sent); UINT64_MAX when it has nothing to send
 * any more (an acknowledgement answered its retransmission meanwhile). */
uint64_t pkt_rec_next(struct pkt_eng *e, struct flow *f);
/* ... it was sent (committed to its NIC's port): returns whether f may send
 * another packet now. */
int pkt_rec_sent(struct pkt_eng *e, struct flow *f, uint64_t off, uint32_t payload);
int pkt_rec_can_send(const struct pkt_eng *e, const struct flow *f);
void pkt_rec_deliver(struct pkt_eng *e, struct pkt *k); /* a PKT_REC packet at its host */
void pkt_rec_timer(struct pkt_eng *e, uint32_t fi);     /* EV_RTO */
/* Data packet k would make port q's backlog exceed its buffer: dropped, or
 * trimmed and queued as a header (switch.trim). */
void pkt_rec_overflow(struct pkt_eng *e, uint32_t q, struct pkt *k);
/* Whether data packet k (b ps of backlog at port q with it) does not fit:
 * the port's buffer, or its switch's shared one (switch.shared_alpha). */
int pkt_rec_full(const struct pkt_eng *e, uint32_t q, const struct pkt *k, simtime_t b);

/* pkt_loss.c, for pkt_fault.c: packet k of a recovering flow is lost on a
 * failed link (its data bytes, if it carries any, are dropped bytes). */
void pkt_rec_lost(struct pkt_eng *e, const struct pkt *k);

/* pkt_fault.c: faults.fail. create points e->base.t at the engine's own
 * view of t; start queues the failures (each engine run); event handles
 * EV_FAIL and EV_REROUTE (before: the clock before it); pending: fault
 * events queued (0 without faults); dead: whether port q has failed (only
 * with e->fault); drop: packet k at dead port q is lost. */
void pkt_fault_create(struct pkt_eng *e, const struct topo *t);
void pkt_fault_destroy(struct pkt_eng *e);
void pkt_fault_start(struct pkt_eng *e);
void pkt_fault_event(struct pkt_eng *e, uint32_t kind, uint32_t i, simtime_t before);
uint32_t pkt_fault_pending(const struct pkt_eng *e);
int pkt_fault_dead(const struct pkt_eng *e, uint32_t q);
void pkt_fault_drop(struct pkt_eng *e, uint32_t q, const struct pkt *k);

/* pkt_rail.c: packet k at the far end of port q, a PKT_NVSW or PKT_RELAY
 * port, goes on (returns 0) or is at its destination (returns 1). */
int pkt_rail_arrive(struct pkt_eng *e, uint32_t q, struct pkt *k);

#endif
