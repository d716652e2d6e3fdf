/* pkt_nscc.h - the packet engine's cc = nscc (sim/pkt_nscc.c): a window
 * steered by queueing delay and ECN echoes, in the style of the Ultra
 * Ethernet Transport's NSCC (docs/transports.md). Its state, beside the
 * engine's (pkt_eng.h: e->nscc; the window itself is e->cc[f].cwnd, as
 * dctcp's, so the sender's and receiver's window tests are shared).
 */
#ifndef MOESIM_PKT_NSCC_H
#define MOESIM_PKT_NSCC_H

#include <stdint.h>

#include "base/units.h"
#include "sim/spec.h"

struct pkt_eng;
struct flow;
struct pkt;

/* A flow's NSCC state (in its struct cc_flow, beside its window). */
struct nscc_flow {
    double maxwnd;      /* its largest window, bytes */
    double avg;         /* average queueing delay, ps */
    simtime_t base;     /* its path's unloaded RTT, ps */
    simtime_t last_md;  /* the last multiplicative decrease */
    simtime_t last_eta; /* the last probe (eta) */
    simtime_t qa_end;   /* the end of quick adapt's interval; 0 before the first */
    uint64_t achieved;  /* bytes acknowledged in this interval */
    uint64_t ignore;    /* acknowledged bytes whose marks are still ignored after a quick adapt */
    uint64_t fast;      /* bytes acknowledged in a row below the fast-increase delay */
    uint8_t fast_on;    /* fast increase under way */
    uint8_t qa_trigger; /* a NACK since the last quick adapt: the next interval's end fires it */
};

/* The engine's: the parameters in the units the control uses, and the
 * per-flow send-time rings (as e->flows, grown with them). */
struct pkt_nscc {
    uint32_t *sent_ns;       /* [flows << ring_bits]: send time (ns, mod 2^32) by packet number */
    uint32_t ring_bits;      /* a flow's ring holds 2^ring_bits send times */
    double target;           /* ps */
    double md_gain, md_keep; /* md_keep = 1 - nscc_md_max: the least a decrease keeps */
    double ewma;
    double fair;                 /* fair increase, bytes per RTT */
    double alpha;                /* proportional increase, bytes per RTT per ps below the target */
    double eta;                  /* bytes per base RTT */
    double fast_gain;            /* bytes per byte acknowledged */
    double fast_delay, qa_delay; /* ps */
    double nack_delay;           /* ps: the delay sample a NACK stands for (the base RTT) */
    double max_bdp;
    uint32_t qa_gate;
    uint8_t quick_adapt;
};

/* cc = nscc: sets e->cc, e->nscc and the packets' PKT_CC. */
void pkt_nscc_create(struct pkt_eng *e, const struct tr_spec *c);
void pkt_nscc_destroy(struct pkt_eng *e);
/* Room for n flows (e->flows was grown to n). */
void pkt_nscc_grow(struct pkt_eng *e, uint32_t n);
size_t pkt_nscc_flow_bytes(void); /* a flow's nscc state, at least (the memory estimate) */
/* Flows first .. first + n - 1 (one message's) start. */
void pkt_nscc_init(struct pkt_eng *e, uint32_t first, uint32_t n);
/* Flow fi sends the packet whose first byte is at offset `off`. */
void pkt_nscc_sent(struct pkt_eng *e, uint32_t fi, uint64_t off);
/* Acknowledgement k of flow f (f->acked already counts it). */
void pkt_nscc_ack(struct pkt_eng *e, struct flow *f, const struct pkt *k);
/* Under transport.recovery (sim/pkt_loss.c): an ack that answers flow f's
 * packet at offset off and newly acknowledges `bytes` (cumulatively or by
 * SACK; f->acked already counts it), CE echoed or not; a NACK, `bytes` the
 * NACKed packet's; a retransmission timeout. */
void pkt_nscc_on_ack(struct pkt_eng *e, struct flow *f, uint64_t off, uint64_t bytes, int marked);
void pkt_nscc_on_nack(struct pkt_eng *e, struct flow *f, uint64_t bytes);
void pkt_nscc_on_timeout(struct pkt_eng *e, struct flow *f);

#endif
