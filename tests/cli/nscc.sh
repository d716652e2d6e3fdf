#!/bin/sh
# nscc.sh - transport.cc = nscc from the command line (docs/transports.md):
# a 32-to-1 incast (workload.kind = incast) on a 2 x 16 leaf-spine
# completes; once the first windows' burst has drained, the queue the
# timeseries samples at the receiver's link stays within 1.25 x the target
# delay's bytes + 33 packets (test_nscc.c's bound, N = 32) where the fixed
# window holds 31 windows; every byte is delivered (the flows table);
# coalesced acknowledgements and spraying complete; two runs write the same
# rows; bad keys are refused with file:line: key: reason, exit 2.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/a.ini" <<'INI'
[topology]
leaves = 2
spines = 2
hosts_per_leaf = 32
host_gbps = 100
fabric_gbps = 1600
[workload]
kind = incast
senders = 32
bytes = 1048576
[switch]
# 20% and 80% of the fabric's BDP (114688 bytes), as htsim sets ECN for NSCC
ecn_kmin_bytes = 22937
ecn_kmax_bytes = 91750
[output]
sample_ns = 1000
flows = true
INI
"$MOESIM" run "$T/a.ini" --set transport.cc=window,nscc --db "$T/a.db" -q
run() { sqlite3 "$T/a.db" "SELECT run_id FROM params WHERE key = 'transport.cc' AND value = '$1'"; }
W=$(run window) N=$(run nscc)
expect_eq "runs" "$(sqlite3 "$T/a.db" "SELECT group_concat(status) FROM runs")" "done,done"
# every byte delivered: the flows table's bytes, per run
expect_eq "nscc bytes" "$(sqlite3 "$T/a.db" "SELECT count(*) || ' ' || sum(bytes) FROM flows WHERE run_id = $N")" "32 33554432"
L=$(sqlite3 "$T/a.db" "SELECT link FROM links WHERE run_id = $N AND dst = 'h63'")
# the target: the fabric's base RTT (9.0 us here, 112.5 KB at 100 Gb/s:
# test_nscc.c prints it for this fabric), bound 1.25 T + 33 packets
BOUND=$((112500 * 5 / 4 + 33 * 4096))
# after the burst (the first sample at or below T after the peak) and
# before the first flow ends
PEAK_T=$(sqlite3 "$T/a.db" "SELECT t_ns FROM timeseries WHERE run_id = $N AND link = $L ORDER BY queue_bytes DESC, t_ns LIMIT 1")
DRAIN_T=$(sqlite3 "$T/a.db" "SELECT min(t_ns) FROM timeseries WHERE run_id = $N AND link = $L AND t_ns > $PEAK_T AND queue_bytes <= 112500")
END_T=$(sqlite3 "$T/a.db" "SELECT min(end_ns) - 20000 FROM flows WHERE run_id = $N")
HI=$(sqlite3 "$T/a.db" "SELECT max(queue_bytes) FROM timeseries WHERE run_id = $N AND link = $L AND t_ns BETWEEN $DRAIN_T AND $END_T")
echo "incast: peak at $PEAK_T ns, drained $DRAIN_T, end $END_T, max $HI bound $BOUND" >&2
[ "$HI" -le "$BOUND" ] || fail "nscc incast queue $HI above $BOUND after the burst"
WLO=$(sqlite3 "$T/a.db" "SELECT min(queue_bytes) FROM timeseries WHERE run_id = $W AND link = $L AND t_ns BETWEEN $DRAIN_T AND $END_T")
echo "window least $WLO" >&2
[ "$WLO" -gt $((10 * BOUND)) ] || fail "window incast queue $WLO not above 10 x nscc's bound"
# the same inputs write the same rows
"$MOESIM" run "$T/a.ini" --set transport.cc=window,nscc --db "$T/b.db" -q
[ "$(dump "$T/a.db")" = "$(dump "$T/b.db")" ] || fail "two nscc runs differ"
# coalesced acks and spraying: every run of a 16-host all-to-all completes
"$MOESIM" run bench/a2a16.ini --set transport.cc=nscc --set transport.ack_every=1,4,15 \
    --set transport.path=ecmp,spray --set switch.ecn_kmin_bytes=32768 \
    --set switch.ecn_kmax_bytes=131072 --db "$T/c.db" -q
expect_eq "coalesced nscc runs" "$(sqlite3 "$T/c.db" "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 6"

# bad input: one line, file:line: key: reason, exit 2, nothing run
expect_bad '[transport]\ncc = nscc\n' 2 \
    "transport.cc: nscc decreases its window only on ECN-marked acknowledgements, and no switch marks: set switch.ecn_kmax_bytes (and switch.ecn_kmin_bytes)"
expect_bad '[switch]\necn_kmax_bytes = 4096\n[transport]\ncc = nscc\nwindow_bytes = 65536\n' 5 \
    "transport.window_bytes: nscc sizes its own windows (transport.nscc_max_bdp): leave window_bytes at 0"
expect_bad '[transport]\ncc = nscc\n[switch]\necn_kmax_bytes = 4096\n[sim]\nengine = flow\n' 2 \
    "transport.cc: nscc needs packets and queues: it runs on sim.engine = packet"
expect_bad '[transport]\nnscc_md_gain = 1.5\n' 2 "transport.nscc_md_gain: 1.5 is out of bounds [0, 1]"
expect_bad '[transport]\nnscc_max_bdp = 0\n' 2 "transport.nscc_max_bdp: 0 is out of bounds [0.01, 1000]"
expect_bad '[transport]\nnscc_target_ns = -5\n' 2 "transport.nscc_target_ns: -5 is out of bounds [0, 1000000000]"
expect_bad '[transport]\nnscc_quick_adapt = maybe\n' 2 "transport.nscc_quick_adapt: expected true or false, got 'maybe'"
echo "nscc: ok"
