/* dcqcn_options.c - the transport.dcqcn_* options, over struct dcqcn_spec
 * (spec.h): the parameters of cc = dcqcn (sim/pkt_dcqcn.c). Defaults are
 * the values of the DCQCN paper (Zhu, Eran, Firestone, Guo, Lipshteyn,
 * Liron, Padhye, Raindel, Yahia, Zhang, "Congestion Control for
 * Large-Scale RDMA Deployments", SIGCOMM 2015), where it gives one; each
 * row's help names its source (docs/transports.md). app/options.c registers
 * the table at tr_spec.dcqcn.
 */
#include "sim/spec.h"

/* clang-format off */
#define F(field) offsetof(struct dcqcn_spec, field)
static const struct opt_def dcqcn_options_rows[] = {
    {"transport", "dcqcn_g", OPT_REAL, "0.00390625", 1e-9, 1, NULL,
     "cc=dcqcn: gain g of alpha = (1-g) alpha + g on a CNP and alpha = (1-g) alpha per silent "
     "alpha timer (DCQCN paper, SIGCOMM 2015: g = 1/256)", F(g)},
    {"transport", "dcqcn_alpha_init", OPT_REAL, "1", 0, 1, NULL,
     "cc=dcqcn: alpha at a flow's start, so the first CNP halves the rate (as ns-3's DCQCN model "
     "in HPCC's rdma-hw, and the NICs' initial alpha of 1023/1024; the paper leaves it open)", F(alpha_init)},
    {"transport", "dcqcn_cnp_interval_ns", OPT_INT, "50000", 1, 1e12, NULL,
     "cc=dcqcn: the receiver (NP) sends at most one CNP per flow per this interval, when a marked "
     "packet arrives, ns (DCQCN paper: N = 50 us)", F(cnp_interval_ns)},
    {"transport", "dcqcn_alpha_timer_ns", OPT_INT, "55000", 1, 1e12, NULL,
     "cc=dcqcn: alpha decays, alpha = (1-g) alpha, after each such period without a CNP; more than "
     "transport.dcqcn_cnp_interval_ns, ns (DCQCN paper: K = 55 us)", F(alpha_timer_ns)},
    {"transport", "dcqcn_rate_timer_ns", OPT_INT, "55000", 1, 1e12, NULL,
     "cc=dcqcn: the sender (RP) raises its rate once per this period since the last CNP, ns "
     "(DCQCN paper: timer T = 55 us)", F(rate_timer_ns)},
    {"transport", "dcqcn_byte_counter", OPT_INT, "10485760", 1, 1e15, NULL,
     "cc=dcqcn: the sender raises its rate once per this many bytes sent since the last CNP "
     "(DCQCN paper: byte counter B = 10 MB, taken as MiB)", F(byte_counter)},
    {"transport", "dcqcn_fast_recovery", OPT_INT, "5", 0, 1000000, NULL,
     "cc=dcqcn: F, the increase steps of fast recovery (rate halfway to the target) before additive "
     "increase, counted on the timer and the byte counter each (DCQCN paper and QCN: F = 5)", F(fast_recovery)},
    {"transport", "dcqcn_rai_mbps", OPT_REAL, "40", 0, 1e7, NULL,
     "cc=dcqcn: R_AI, the target rate's additive increase step, Mb/s (DCQCN paper: 40 Mb/s)", F(rai_mbps)},
    {"transport", "dcqcn_rhai_mbps", OPT_REAL, "400", 0, 1e7, NULL,
     "cc=dcqcn: R_HAI, hyper increase's step (the i-th hyper step adds i x R_HAI), Mb/s (10 x R_AI, "
     "the ratio of the ConnectX NICs' rpg_hai_rate to rpg_ai_rate; not checked against the paper)", F(rhai_mbps)},
    {"transport", "dcqcn_rate_min_mbps", OPT_REAL, "100", 1e-3, 1e7, NULL,
     "cc=dcqcn: no cut takes a flow's rate below this, Mb/s (not in the paper: ns-3 HPCC "
     "rdma-hw's MinRate default, 100 Mb/s)", F(rate_min_mbps)},
};
#undef F
/* clang-format on */
const struct opt_table dcqcn_options = {dcqcn_options_rows,
                                        sizeof dcqcn_options_rows / sizeof dcqcn_options_rows[0]};
