/* spec_options.c - the [transport] and [sim] options, over struct tr_spec
 * and struct sim_spec (spec.h).
 *
 * To add a transport parameter (a congestion control's, say): a field in
 * struct tr_spec and a row here.
 */
#include "sim/spec.h"

#define I64MAX 9.2e18

/* clang-format off */
#define F(field) offsetof(struct tr_spec, field)
static const struct opt_def tr_options_rows[] = {
    {"transport", "path", OPT_ENUM, "ecmp", 0, 0, "ecmp|spray|spray_rr|split|adaptive|flowlet|ethereal",
     "path selection: ecmp (hash per flow, a seeded hash per switch), spray (random per packet), spray_rr (round robin per packet), "
     "split (transport.subflows ECMP subflows per flow), adaptive (least-queued next hop at every switch, per packet), "
     "flowlet (ecmp, a new random path after an idle gap of transport.flowlet_gap_ns), "
     "ethereal (a step's flows from a source split into equal subflows assigned to paths so every uplink carries the same bytes; docs/fabrics.md)", F(path)},
    {"transport", "subflows", OPT_INT, "4", 1, 4096, NULL, "subflows per flow for path=split", F(subflows)},
    {"transport", "mtu", OPT_INT, "4096", 64, 65535, NULL, "packet size on the wire, bytes", F(mtu)},
    {"transport", "window_bytes", OPT_INT, "0", 0, 1e12, NULL,
     "sender window per flow, bytes; 0 = one bandwidth-delay product of the longest path", F(window_bytes)},
    {"transport", "ack_bytes", OPT_INT, "64", 1, 65535, NULL, "acknowledgement size on the wire, bytes", F(ack_bytes)},
    {"transport", "ack_every", OPT_INT, "1", 1, 64, NULL,
     "data packets per acknowledgement (coalescing, as RDMA NICs do); a flow's last packet and "
     "half a window of unacknowledged bytes are acknowledged at once", F(ack_every)},
    {"transport", "flowlet_gap_ns", OPT_INT, "50000", 0, 1e12, NULL,
     "path=flowlet: a flow's packet after at least this idle time since its previous one starts a new flowlet on a new random path, ns (0: every packet)", F(flowlet_gap_ns)},
    {"transport", "cc", OPT_ENUM, "window", 0, 0, "window|dctcp|nscc|dcqcn",
     "congestion control: window (fixed window, no loss), dctcp (the ECN-fraction window of DCTCP, "
     "Alizadeh et al., SIGCOMM 2010), nscc (delay and ECN, in the style of the Ultra Ethernet "
     "Transport's NSCC: transport.nscc_*) or dcqcn (RoCEv2's rate control: CNPs, rate cuts with alpha, "
     "timed increases; Zhu et al., SIGCOMM 2015; transport.dcqcn_*); all three need switch.ecn_kmax_bytes; "
     "docs/transports.md", F(cc)},
    {"transport", "dctcp_g", OPT_REAL, "0.0625", 1e-6, 1, NULL,
     "cc=dctcp: gain g of alpha = (1-g) alpha + g F, F the fraction of a window's bytes marked "
     "(DCTCP paper: g = 1/16)", F(dctcp_g)},
    {"transport", "dctcp_alpha_init", OPT_REAL, "1", 0, 1, NULL,
     "cc=dctcp: alpha at a flow's start (Linux tcp_dctcp.c: dctcp_alpha_on_init = 1024/1024 = 1)",
     F(dctcp_alpha_init)},
    {"transport", "recovery", OPT_ENUM, "none", 0, 0, "none|goback_n|selective",
     "loss recovery: none (nothing is lost: unbounded buffers), goback_n (RoCE NICs: an out-of-order "
     "arrival is discarded and NACKed, the sender resends from the missing byte) or selective (IRN, "
     "Mittal et al. SIGCOMM 2018, and UEC: a bitmap at the receiver, SACKs, only missing packets resent); "
     "needs transport.ack_every = 1 (docs/transports.md)", F(recovery)},
    {"transport", "rto_ns", OPT_INT, "320000", 1000, 1e12, NULL,
     "recovery: retransmission timeout, ns: a flow with bytes in flight and no new cumulative "
     "acknowledgement for this long resends (IRN's RTO_high = 320 us)", F(rto_ns)},
    {"transport", "reorder_ns", OPT_INT, "10000", 0, 1e12, NULL,
     "recovery = selective: a hole at the receiver's cumulative point is NACKed once it has been open "
     "this long when a packet beyond it arrives (reordering tolerance: spraying reorders; 0 = at the "
     "first out-of-order arrival, as IRN); a trimmed packet is NACKed at once", F(reorder_ns)},
};
#undef F
/* clang-format on */
const struct opt_table tr_options = {tr_options_rows,
                                     sizeof tr_options_rows / sizeof tr_options_rows[0]};

/* clang-format off */
#define F(field) offsetof(struct sim_spec, field)
static const struct opt_def sim_options_rows[] = {
    {"sim", "engine", OPT_ENUM, "packet", 0, 0, "packet|flow",
     "simulation engine: packet (packets hop by hop, queues, windows) or flow (max-min fair fluid "
     "rates on the same paths; docs/flow-engine.md)", F(engine)},
    {"sim", "seed", OPT_INT, "1", 0, I64MAX, NULL, "seed of the network's random choices (flow hash, spraying); also of the traffic's while workload.seed = -1", F(seed)},
    {"sim", "iterations", OPT_INT, "1", 1, 1000000, NULL, "times the workload's phases repeat", F(iterations)},
    {"sim", "ideal_lp_max", OPT_INT, "1000", 0, 1e9, NULL,
     "each phase's ideal bound is the maximum concurrent flow LP (GLPK) when it has at most this many "
     "variables (destination leaves x ports), the cut bound beyond; 0 = the cut bound always "
     "(phases.ideal_kind says which; docs/fabrics.md)", F(ideal_lp_max)},
};
#undef F
/* clang-format on */
const struct opt_table sim_options = {sim_options_rows,
                                      sizeof sim_options_rows / sizeof sim_options_rows[0]};
