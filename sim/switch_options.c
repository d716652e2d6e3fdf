/* switch_options.c - the [switch] options, over struct sw_spec (spec.h):
 * the switches' output queues, their ECN marking (RED-style, at enqueue)
 * and their buffers. docs/transports.md describes the model.
 *
 * struct sw_spec sits inside struct tr_spec (tr.sw), so the engine reads it
 * from the transport spec it is created with (sim/eng.h); app/options.c
 * registers this table at that offset.
 */
#include "sim/spec.h"

/* clang-format off */
#define F(field) offsetof(struct sw_spec, field)
static const struct opt_def sw_options_rows[] = {
    {"switch", "buffer_bytes", OPT_INT, "0", 0, 1e12, NULL,
     "buffer per switch output port, bytes; 0 = unbounded. A data packet that would make the bytes queued exceed it is "
     "dropped (drop-tail; host NIC ports and acknowledgements never drop); needs transport.recovery (docs/transports.md)",
     F(buffer_bytes)},
    {"switch", "ecn_kmin_bytes", OPT_INT, "0", 0, 1e12, NULL,
     "ECN (RED-style, at enqueue): a data packet that finds more than this many bytes queued ahead of it at a switch "
     "output port may be marked CE; the probability ramps from 0 here to switch.ecn_pmax at switch.ecn_kmax_bytes",
     F(ecn_kmin_bytes)},
    {"switch", "ecn_kmax_bytes", OPT_INT, "0", 0, 1e12, NULL,
     "ECN: above this many bytes queued ahead every data packet is marked; 0 = no marking. kmin = kmax = K is "
     "DCTCP's step marking at K (DCTCP paper, SIGCOMM 2010: K > C x RTT / 7)", F(ecn_kmax_bytes)},
    {"switch", "ecn_pmax", OPT_REAL, "1", 0, 1, NULL,
     "ECN: marking probability at switch.ecn_kmax_bytes (RED's max_p, Floyd and Jacobson 1993), in (0, 1]",
     F(ecn_pmax)},
    {"switch", "trim", OPT_BOOL, "false", 0, 0, NULL,
     "a data packet the buffer cannot hold loses its payload and its header goes on ahead of the queue "
     "(NDP, Handley et al. SIGCOMM 2017; UEC): the receiver NACKs it at once; needs switch.buffer_bytes",
     F(trim)},
    {"switch", "shared_alpha", OPT_REAL, "0", 0, 64, NULL,
     "0: switch.buffer_bytes per output port; > 0: switch.buffer_bytes is each switch's buffer, shared by its output "
     "ports with dynamic thresholds (Choudhury and Hahne, IEEE/ACM ToN 1998): a data packet joins a port only while "
     "that port's queue stays within alpha x (the buffer - the bytes queued in the switch)", F(shared_alpha)},
    {"switch", "pfc", OPT_BOOL, "false", 0, 0, NULL,
     "PFC (802.1Qbb, one priority class), lossless: a switch pauses the upstream port feeding an ingress whose "
     "queued bytes pass switch.pfc_xoff_bytes, and resumes it at switch.pfc_xon_bytes (sim.engine = packet)",
     F(pfc)},
    {"switch", "pfc_xoff_bytes", OPT_INT, "65536", 1, 1e12, NULL,
     "PFC: bytes that entered a switch through one ingress port and are still queued there above which it "
     "sends PAUSE upstream", F(pfc_xoff_bytes)},
    {"switch", "pfc_xon_bytes", OPT_INT, "32768", 0, 1e12, NULL,
     "PFC: at or below this many bytes queued from the ingress the switch sends RESUME; less than "
     "switch.pfc_xoff_bytes", F(pfc_xon_bytes)},
    {"switch", "pfc_headroom_bytes", OPT_INT, "131072", 0, 1e12, NULL,
     "PFC: buffer reserved per ingress above switch.pfc_xoff_bytes for what arrives until a PAUSE takes effect "
     "(about 2 x link rate x latency + 3 MTU); switch.pfc_xoff_bytes + this must fit switch.buffer_bytes",
     F(pfc_headroom_bytes)},
    {"switch", "ctrl_priority", OPT_BOOL, "false", 0, 0, NULL,
     "control packets (acks, NACKs, CNPs, trimmed headers) have their own strict-priority queue at every output "
     "port: one waits only for the packet being serialized and earlier control packets (sim.engine = packet)",
     F(ctrl_priority)},
};
#undef F
/* clang-format on */
const struct opt_table sw_options = {sw_options_rows,
                                     sizeof sw_options_rows / sizeof sw_options_rows[0]};
