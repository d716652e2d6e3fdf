/* nscc_options.c - the [transport] nscc_* options of cc = nscc, over struct
 * nscc_spec (spec.h; it sits in struct tr_spec as tr.nscc, and app/options.c
 * registers this table at that offset). sim/pkt_nscc.c is the control they
 * drive; docs/transports.md gives each default's source: the values of the
 * Ultra Ethernet Consortium's htsim model of NSCC (uec.cpp's
 * initNsccParams and initNscc), which normalizes its gains to a reference
 * network of 100 Gb/s and 12 us (a BDP of 150 KB).
 */
#include "sim/spec.h"

/* clang-format off */
#define F(field) offsetof(struct nscc_spec, field)
static const struct opt_def nscc_options_rows[] = {
    {"transport", "nscc_target_ns", OPT_INT, "0", 0, 1e9, NULL,
     "cc=nscc: the queueing delay (RTT less the path's unloaded RTT) the window steers to, ns; "
     "0 = the fabric's base RTT (the longest path's, as for the default window)", F(target_ns)},
    {"transport", "nscc_max_bdp", OPT_REAL, "1.5", 0.01, 1000, NULL,
     "cc=nscc: a flow's largest window, and its first, in bandwidth-delay products of its own "
     "path (its unloaded RTT x its NIC's rate)", F(max_bdp)},
    {"transport", "nscc_md_gain", OPT_REAL, "0.8", 0, 1, NULL,
     "cc=nscc: multiplicative decrease (a marked ack at delay >= target, at most once per base "
     "RTT): the window x (1 - gain (avg - target) / avg), avg the average delay", F(md_gain)},
    {"transport", "nscc_md_max", OPT_REAL, "0.5", 0, 1, NULL,
     "cc=nscc: the largest fraction of the window one decrease removes", F(md_max)},
    {"transport", "nscc_delay_ewma", OPT_REAL, "0.0125", 1e-6, 1, NULL,
     "cc=nscc: gain of the average queueing delay, per acknowledgement", F(delay_ewma)},
    {"transport", "nscc_fair_mtus", OPT_REAL, "5", 0, 1e6, NULL,
     "cc=nscc: fair increase (an unmarked ack at delay >= target): the window grows this many "
     "MTUs per RTT, scaled by the fabric's BDP / 150 KB", F(fair_mtus)},
    {"transport", "nscc_prop_mtus", OPT_REAL, "4", 0, 1e6, NULL,
     "cc=nscc: proportional increase (an unmarked ack below the target): the window grows this "
     "many MTUs per RTT x (target - delay) / 12 us, scaled by the fabric's BDP / 150 KB",
     F(prop_mtus)},
    {"transport", "nscc_eta_mtus", OPT_REAL, "0.15", 0, 1e6, NULL,
     "cc=nscc: a probe of this many MTUs (scaled by the fabric's BDP / 150 KB) added once per "
     "base RTT", F(eta_mtus)},
    {"transport", "nscc_fast_delay_ns", OPT_INT, "1000", 0, 1e9, NULL,
     "cc=nscc: fast increase once a whole window is acknowledged below this queueing delay, ns",
     F(fast_delay_ns)},
    {"transport", "nscc_fast_gain", OPT_REAL, "0.25", 0, 1e3, NULL,
     "cc=nscc: fast increase: the window grows by this many bytes per byte acknowledged, scaled "
     "by the fabric's BDP / 150 KB", F(fast_gain)},
    {"transport", "nscc_quick_adapt", OPT_BOOL, "true", 0, 0, NULL,
     "cc=nscc: quick adapt: at a delay above transport.nscc_qa_delay targets, the window drops "
     "to the bytes acknowledged in the last base RTT + target", F(quick_adapt)},
    {"transport", "nscc_qa_delay", OPT_REAL, "4", 0, 1e6, NULL,
     "cc=nscc: quick adapt's delay threshold, in targets", F(qa_delay)},
    {"transport", "nscc_qa_gate", OPT_INT, "3", 0, 30, NULL,
     "cc=nscc: quick adapt only while the bytes acknowledged in its interval are below the "
     "largest window / 2^gate", F(qa_gate)},
};
#undef F
/* clang-format on */
const struct opt_table nscc_options = {nscc_options_rows,
                                       sizeof nscc_options_rows / sizeof nscc_options_rows[0]};
