#!/bin/sh
# dctcp.sh - [switch] ECN marking and transport.cc = dctcp from the command
# line (docs/transports.md): a 4-to-1 incast whose one bottleneck is the
# receiver's link marks there and nowhere else (links.ecn_marks); under
# dctcp the queue the timeseries samples there stays near K, at most K + N
# packets (+2 for the packet in service and sampling), and never empties
# while the flows run, where the fixed window holds its whole excess; bad
# keys are refused with file:line: key: reason and exit status 2 before
# anything runs; coalesced acknowledgements under dctcp never stall.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/a.ini" <<'INI'
[topology]
leaves = 2
spines = 1
hosts_per_leaf = 4
fabric_gbps = 400
[workload]
kind = incast
senders = 4
bytes = 4194304
[switch]
ecn_kmin_bytes = 65536
ecn_kmax_bytes = 65536
[output]
sample_ns = 2000
INI
"$MOESIM" run "$T/a.ini" --set transport.cc=window,dctcp --db "$T/a.db" -q
run() { sqlite3 "$T/a.db" "SELECT run_id FROM params WHERE key = 'transport.cc' AND value = '$1'"; }
W=$(run window) D=$(run dctcp)
# marks on the receiver's link only, in both runs (marking does not depend on cc)
expect_eq "marking links" "$(sqlite3 "$T/a.db" "SELECT group_concat(DISTINCT kind || ':' || dst) FROM links WHERE ecn_marks > 0")" "host_down:h7"
expect_eq "marked runs" "$(sqlite3 "$T/a.db" "SELECT count(DISTINCT run_id) FROM links WHERE ecn_marks > 0")" 2
# the queue at h7's link once the first windows are cut (after 300 us) and
# before the flows end (1.2 ms): K = 65536, N = 4 packets of 4096
L=$(sqlite3 "$T/a.db" "SELECT link FROM links WHERE run_id = $D AND dst = 'h7'")
q() { sqlite3 "$T/a.db" "SELECT $2(queue_bytes) FROM timeseries WHERE run_id = $1 AND link = $L AND t_ns BETWEEN 300000 AND 1200000"; }
[ "$(q "$D" max)" -le $((65536 + 4 * 4096 + 2 * 4096)) ] || fail "dctcp queue above K + N packets: $(q "$D" max)"
[ "$(q "$D" min)" -gt 0 ] || fail "dctcp queue emptied: $(q "$D" min)"
# the fixed window keeps (N-1) windows of one BDP standing at the receiver's
# link, about 3.9x what dctcp holds here
[ "$(q "$W" min)" -gt $((3 * $(q "$D" max))) ] || fail "window queue $(q "$W" min) not above 3x dctcp's $(q "$D" max)"
# coalesced acks under dctcp never stall a flow (a cut after a held ack):
# every run of a 16-host all-to-all completes (it failed before the fix)
"$MOESIM" run bench/a2a16.ini --set transport.cc=dctcp --set transport.ack_every=1,4,15 \
    --set transport.path=ecmp,spray --set switch.ecn_kmin_bytes=32768 \
    --set switch.ecn_kmax_bytes=131072 --set switch.ecn_pmax=0.5 --db "$T/c.db" -q
expect_eq "coalesced dctcp runs" "$(sqlite3 "$T/c.db" "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 6"

# bad input: one line, file:line: key: reason, exit 2, nothing run
expect_bad '[switch]\necn_kmin_bytes = 8192\necn_kmax_bytes = 4096\n' 2 \
    "switch.ecn_kmin_bytes: 8192 is more than switch.ecn_kmax_bytes (4096)"
expect_bad '[switch]\necn_kmax_bytes = 4096\necn_pmax = 0\n' 3 \
    "switch.ecn_pmax: 0 marks nothing: the probability at switch.ecn_kmax_bytes is in (0, 1]"
expect_bad '[switch]\necn_pmax = 1.5\n' 2 "switch.ecn_pmax: 1.5 is out of bounds [0, 1]"
expect_bad '[transport]\ncc = dctcp\n' 2 \
    "transport.cc: dctcp reacts to ECN marks, and no switch marks: set switch.ecn_kmax_bytes (and switch.ecn_kmin_bytes)"
expect_bad '[transport]\ncc = dctcp\n[switch]\necn_kmax_bytes = 4096\n[sim]\nengine = flow\n' 2 \
    "transport.cc: dctcp needs packets and queues: it runs on sim.engine = packet"
expect_bad '[switch]\necn_kmax_bytes = 4096\n[sim]\nengine = flow\n' 2 \
    "switch.ecn_kmax_bytes: the flow engine models no queues and no ECN marks (sim.engine = flow)"
expect_bad '[switch]\nbuffer_bytes = 65536\n' 2 \
    "switch.buffer_bytes: a finite buffer drops packets, and transport.recovery = none recovers nothing: set transport.recovery = goback_n or selective"
expect_bad '[transport]\ncc = reno\n' 2 "transport.cc: 'reno' is not one of window|dctcp|nscc|dcqcn"
expect_bad '[transport]\ndctcp_g = 0\n' 2 "transport.dctcp_g: 0 is out of bounds [1e-06, 1]"
echo "dctcp: ok"
