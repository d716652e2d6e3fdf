#!/bin/sh
# dcqcn.sh - transport.cc = dcqcn from the command line (docs/transports.md):
# an 8-to-1 incast (workload.kind = incast, 32 MiB each at 100 Gb/s) with the
# DCQCN paper's switch settings (kmin 5 KB, kmax 200 KB, pmax 1%) sends CNPs,
# and once the rates have settled (after 16 ms) the receiver link's sampled
# queue stays below kmax plus what the link sends in one CNP interval
# (50 us: 625000 bytes at 100 Gb/s); two runs of it write the same rows;
# coalesced acks and every path mode run to completion; bad keys are refused
# with file:line: key: reason and exit status 2 before anything runs.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/a.ini" <<'INI'
[topology]
leaves = 2
spines = 1
hosts_per_leaf = 8
host_gbps = 100
fabric_gbps = 800
[transport]
cc = dcqcn
[workload]
kind = incast
senders = 8
bytes = 33554432
[switch]
ecn_kmin_bytes = 5120
ecn_kmax_bytes = 204800
ecn_pmax = 0.01
[output]
sample_ns = 10000
INI
"$MOESIM" run "$T/a.ini" --db "$T/a.db" -q
expect_eq "status" "$(sqlite3 "$T/a.db" "SELECT status FROM runs")" "done"
marks=$(sqlite3 "$T/a.db" "SELECT ecn_marks FROM links WHERE dst = 'h15'")
[ "$marks" -gt 0 ] || fail "no marks at the receiver's link"
L=$(sqlite3 "$T/a.db" "SELECT link FROM links WHERE dst = 'h15'")
end=$(sqlite3 "$T/a.db" "SELECT sim_ns FROM runs")
late=$(sqlite3 "$T/a.db" "SELECT max(queue_bytes) FROM timeseries WHERE link = $L AND t_ns BETWEEN 16000000 AND $end")
[ "$late" -le $((204800 + 625000)) ] || fail "settled queue $late above kmax + one CNP interval at line rate"
# the peak is the first RTTs' burst at line rate, before the first CNPs act
peak=$(sqlite3 "$T/a.db" "SELECT max_queue_bytes FROM links WHERE dst = 'h15'")
[ "$peak" -gt "$late" ] || fail "peak $peak not above the settled queue $late"
# repeatable: the same rows again
"$MOESIM" run "$T/a.ini" --db "$T/b.db" -q
[ "$(dump "$T/a.db")" = "$(dump "$T/b.db")" ] || fail "two dcqcn runs differ"
# every path mode, coalesced acks, a window cap: all complete (the engine's
# end-of-run checks: every byte delivered, no packet left)
"$MOESIM" run bench/a2a16.ini --set transport.cc=dcqcn --set transport.ack_every=1,4 \
    --set transport.path=ecmp,spray,spray_rr,adaptive,flowlet --set transport.window_bytes=0,65536 \
    --set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 --set switch.ecn_pmax=0.01 \
    --db "$T/c.db" -q
expect_eq "a2a16 dcqcn runs" "$(sqlite3 "$T/c.db" "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 20"
# under switch.pfc too (CNPs join pausable ports as acks do: before that
# fix, events were scheduled in the past)
"$MOESIM" run bench/a2a16.ini --set transport.cc=dcqcn --set switch.pfc=true \
    --set transport.path=ecmp,spray --set switch.ecn_kmin_bytes=5120 \
    --set switch.ecn_kmax_bytes=204800 --set switch.ecn_pmax=0.01 --db "$T/p.db" -q
expect_eq "a2a16 dcqcn pfc runs" "$(sqlite3 "$T/p.db" "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 2"

# bad input: one line, file:line: key: reason, exit 2, nothing run
expect_bad '[transport]\ncc = dcqcn\n' 2 \
    "transport.cc: dcqcn reacts to ECN marks, and no switch marks: set switch.ecn_kmax_bytes (and switch.ecn_kmin_bytes)"
expect_bad '[transport]\ncc = dcqcn\n[switch]\necn_kmax_bytes = 4096\n[sim]\nengine = flow\n' 2 \
    "transport.cc: dcqcn needs packets and queues: it runs on sim.engine = packet"
expect_bad '[switch]\necn_kmax_bytes = 4096\n[transport]\ncc = dcqcn\ndcqcn_alpha_timer_ns = 50000\n' 5 \
    "transport.dcqcn_alpha_timer_ns: 50000 is not more than transport.dcqcn_cnp_interval_ns (50000): alpha would decay between two CNPs of a flow congested throughout (DCQCN paper: K > N)"
expect_bad '[transport]\ndcqcn_g = 0\n' 2 "transport.dcqcn_g: 0 is out of bounds [1e-09, 1]"
expect_bad '[transport]\ndcqcn_rate_min_mbps = 0\n' 2 "transport.dcqcn_rate_min_mbps: 0 is out of bounds [0.001, 1e+07]"
expect_bad '[transport]\ndcqcn_fast_recovery = -1\n' 2 "transport.dcqcn_fast_recovery: -1 is out of bounds [0, 1000000]"
expect_bad '[transport]\ndcqcn_cnp_interval_ns = 1.5\n' 2 "transport.dcqcn_cnp_interval_ns: expected an integer, got '1.5'"
echo "dcqcn: ok"
