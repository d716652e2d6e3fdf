/* spec.h - what the simulation layer is configured with: the transport
 * ([transport]), the switches' queues ([switch], inside the transport's spec
 * so the engine is created from one struct) and the run's simulation
 * settings ([sim]). Plain values, filled
 * by the configuration layer from the option rows of spec_options.c.
 */
#ifndef MOESIM_SIM_SPEC_H
#define MOESIM_SIM_SPEC_H

#include <stdint.h>

#include "base/opt.h"

enum path_mode {
    PATH_ECMP = 0,
    PATH_SPRAY,
    PATH_SPRAY_RR,
    PATH_SPLIT,
    PATH_ADAPTIVE,
    PATH_FLOWLET, /* ecmp, a new random path after an idle gap (sim/pkt_route.c) */
    PATH_ETHEREAL /* a step's flows split and assigned to paths (sim/ethereal.h) */
};
enum cc_kind { CC_WINDOW = 0, CC_DCTCP, CC_NSCC, CC_DCQCN };
enum engine_kind { ENGINE_PACKET = 0, ENGINE_FLOW };
/* transport.recovery (sim/pkt_loss.c): what a sender does about a lost packet */
enum rec_kind { REC_NONE = 0, REC_GOBACK_N, REC_SELECTIVE };

/* [switch] (sim/switch_options.c): output queues' ECN marking and buffers. */
struct sw_spec {
    int64_t buffer_bytes;                   /* per output port; 0 = unbounded */
    int64_t ecn_kmin_bytes, ecn_kmax_bytes; /* RED thresholds; kmax = 0: no marking */
    double ecn_pmax;                        /* marking probability at kmax */
    int trim;            /* a packet the buffer cannot hold is trimmed, not dropped */
    double shared_alpha; /* > 0: buffer_bytes is each switch's, shared with dynamic thresholds */
    /* PFC (sim/pkt_pfc.c): lossless, per-ingress XOFF/XON with headroom */
    int pfc;
    int64_t pfc_xoff_bytes, pfc_xon_bytes, pfc_headroom_bytes;
    int ctrl_priority; /* control packets: a strict-priority class (pkt_ctrlq.c) */
};

/* cc = nscc's parameters ([transport] nscc_*, sim/nscc_options.c;
 * docs/transports.md gives each one's source). */
struct nscc_spec {
    int64_t target_ns;      /* queueing-delay target; 0 = the fabric's base RTT */
    double max_bdp;         /* largest (and first) window, in the flow's BDPs */
    double md_gain, md_max; /* multiplicative decrease: gain on the delay excess, largest cut */
    double delay_ewma;      /* gain of the average queueing delay */
    double fair_mtus, prop_mtus, eta_mtus; /* increases per RTT, MTUs at the reference BDP */
    int64_t fast_delay_ns;                 /* fast increase below this delay */
    double fast_gain;                      /* ... growth per acknowledged byte */
    int quick_adapt;                       /* quick adapt on */
    double qa_delay;                       /* ... above this delay, in targets */
    int64_t qa_gate;                       /* ... when the bytes achieved < max window / 2^gate */
};

/* [flow] (sim/flow_options.c): the flow engine's (sim.engine = flow). */
struct fl_spec {
    double resolve_slack;  /* re-solve after ends once they free this x a link's capacity */
    double resolve_window; /* ... or this x the first ended sub's lifetime after it; both 0: every
                              end */
};

/* transport.dcqcn_* (sim/dcqcn_options.c): cc = dcqcn's parameters, the
 * DCQCN paper's values by default (docs/transports.md). */
struct dcqcn_spec {
    double g, alpha_init;                      /* alpha's gain, its start */
    int64_t cnp_interval_ns;                   /* NP: at most one CNP per flow per interval */
    int64_t alpha_timer_ns, rate_timer_ns;     /* RP: alpha's decay period, the increase timer */
    int64_t byte_counter, fast_recovery;       /* RP: bytes per increase step; F */
    double rai_mbps, rhai_mbps, rate_min_mbps; /* additive, hyper increase steps; the floor */
};

/* [transport] */
struct tr_spec {
    int path; /* enum path_mode */
    int64_t subflows, mtu, window_bytes, ack_bytes, ack_every;
    int cc;                           /* enum cc_kind */
    int64_t flowlet_gap_ns;           /* path = flowlet: idle gap that starts a new flowlet */
    double dctcp_g, dctcp_alpha_init; /* cc = dctcp: alpha's gain and start value */
    int recovery;                     /* enum rec_kind */
    int64_t rto_ns, reorder_ns; /* recovery: retransmission timeout; selective: reorder window */
    struct sw_spec sw;          /* [switch] */
    struct nscc_spec nscc;      /* cc = nscc */
    struct fl_spec fl;          /* [flow] */
    struct dcqcn_spec dcqcn;    /* transport.dcqcn_* */
};

/* [sim] */
struct sim_spec {
    int engine; /* enum engine_kind */
    int64_t seed, iterations;
    int64_t ideal_lp_max; /* the ideal bound's LP up to this many variables (topo/ideal_lp.h) */
};

extern const struct opt_table tr_options, sim_options, sw_options, nscc_options, fl_options,
    dcqcn_options;

#endif
