/* pkt_dcqcn.h - cc = dcqcn in the packet engine (pkt_eng.h): the reaction
 * point's (sender's) state machine of DCQCN (Zhu et al., "Congestion
 * Control for Large-Scale RDMA Deployments", SIGCOMM 2015) as plain
 * functions over one flow's state, so that a test can drive it alone, and
 * the engine's face to it (sim/pkt_dcqcn.c).
 *
 * A flow's rate Rc and target Rt start at its NIC's line rate and alpha at
 * transport.dcqcn_alpha_init. On a CNP: Rt = Rc, Rc = Rc (1 - alpha/2)
 * (never below the floor), alpha = (1 - g) alpha + g, and the increase
 * timer, the byte counter and their stage counts T and BC restart. Each
 * period of the alpha timer without a CNP, alpha = (1 - g) alpha. Each
 * period of the increase timer (T += 1) and each byte_counter bytes sent
 * (BC += 1) since the last CNP is an increase step: fast recovery while
 * max(T, BC) <= F (Rt unchanged), hyper increase once min(T, BC) > F (Rt +=
 * (min(T, BC) - F) R_HAI), additive increase otherwise (Rt += R_AI); then Rt
 * is capped at the line rate and Rc = (Rt + Rc) / 2.
 *
 * The timers are lazy: nothing is scheduled for them. A flow's elapsed
 * periods are replayed, in time order, whenever the flow is touched (before
 * it sends, and when a CNP reaches it), which is all an eager timer could
 * change: its rate matters only when it sends, alpha only at a CNP. The
 * alpha timer's periods are one power, (1 - g)^k. The increase timer stops
 * once Rc and Rt are back at the line rate (every later step would leave
 * them there) and restarts at the next CNP; the alpha timer runs from the
 * flow's first CNP on (as a NIC's rate limiter, which exists from then).
 *
 * Pacing: after a packet of w bytes the flow may send again w / Rc later
 * (next_send); a rate change while it waits rescales what is left of the
 * wait (the rate limiter's credit accrues at the rate of the moment).
 */
#ifndef MOESIM_PKT_DCQCN_H
#define MOESIM_PKT_DCQCN_H

#include <stdint.h>

#include "base/units.h"

struct pkt_eng;
struct pkt;
struct tr_spec;

/* The parameters, in the engine's units: rates in bits per second. */
struct dcqcn_par {
    double g, alpha_init;
    double rai, rhai, rate_min;
    simtime_t cnp_ps, alpha_ps, rate_ps;
    uint64_t byte_counter;
    uint32_t fast_recovery;
};

/* One flow's state: the reaction point (sender), and the notification
 * point's (receiver's) last CNP. */
struct dcqcn_rp {
    double rc, rt, alpha, line; /* current, target and line rates (b/s) */
    simtime_t next_send;        /* the flow may send its next packet from then */
    simtime_t rate_next;        /* the increase timer's next expiry (SIMTIME_MAX: stopped) */
    simtime_t alpha_next;       /* the alpha timer's next expiry (SIMTIME_MAX: no CNP yet) */
    simtime_t key;              /* its key in its sender's heap of waiting flows */
    simtime_t np_last; /* receiver: when it last sent this flow a CNP (SIMTIME_MAX: never) */
    uint64_t bc;       /* bytes sent since the last byte-counter step or CNP */
    uint32_t t_stage, bc_stage; /* T and BC: increase steps since the last CNP */
};

void dcqcn_par_of(struct dcqcn_par *p, const struct tr_spec *c);
void dcqcn_rp_init(const struct dcqcn_par *p, struct dcqcn_rp *r, double line_bps);
/* Replays r's timer expiries up to and including time now. */
void dcqcn_rp_advance(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t now);
/* A CNP reaches the sender at now (r advanced to now first). */
void dcqcn_rp_cnp(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t now);
/* The flow sends a packet of `bytes` at now (r advanced to now first). */
void dcqcn_rp_sent(const struct dcqcn_par *p, struct dcqcn_rp *r, simtime_t now, uint32_t bytes);

/* The engine's hooks (pkt_dcqcn.c). */
struct dcqcn *pkt_dcqcn_create(const struct tr_spec *c, uint32_t hosts);
void pkt_dcqcn_destroy(struct dcqcn *d);
void pkt_dcqcn_reset(struct dcqcn *d);
/* Flows first .. first + n - 1 start (at their NICs' line rate). */
void pkt_dcqcn_init(struct pkt_eng *e, uint32_t first, uint32_t n);
/* Sender h is free: its waiting flows whose rate allows join its ready
 * list, ready flows whose rate does not leave it to wait; 1 if the head of
 * the ready list may send now (its packet is then counted), 0 if none may
 * (a wake-up is then scheduled, EV_DCQCN, at the earliest one's time). */
int pkt_dcqcn_pick(struct pkt_eng *e, uint32_t h);
/* EV_DCQCN for sender h. */
void pkt_dcqcn_wake(struct pkt_eng *e, uint32_t h);
/* A packet of a dcqcn flow (PKT_CC) at its destination: a CNP is consumed
 * (returns 1); a data packet marked CE may send a CNP back (returns 0: the
 * caller delivers it). */
int pkt_dcqcn_rx(struct pkt_eng *e, struct pkt *k);
/* Flow fi's state, and the CNPs sent so far (tests, docs). */
const struct dcqcn_rp *pkt_dcqcn_flow(const struct pkt_eng *e, uint32_t fi);
uint64_t pkt_dcqcn_cnps(const struct pkt_eng *e);
/* The CNPs message m's receivers have sent its flows so far (the flows
 * table's cnps); RES_NO_COUNT (results/res.h) when cc is not dcqcn. */
struct msg;
uint64_t pkt_dcqcn_msg_cnps(const struct pkt_eng *e, const struct msg *m);

#endif
