#!/bin/sh
# cnps.sh - the flows table's cnps column (docs/transports.md, "Per-flow
# CNPs"): under transport.cc = dcqcn every flow row counts the CNPs its
# receiver sent, zero where nothing was marked and more than zero on an
# incast's marked link; NULL under cc = window and dctcp (and on the flow
# engine).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ECN="--set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 --set switch.ecn_pmax=0.01"
# shellcheck disable=SC2086
"$MOESIM" run scenarios/incast.ini --db "$T/a.db" -q --set workload.senders=8 --set transport.path=ecmp \
    --set workload.bytes=1048576 --set output.flows=true $ECN \
    --set transport.cc=dcqcn,window,dctcp
q() { sqlite3 "$T/a.db" "SELECT $1 FROM flows JOIN params p ON p.run_id = flows.run_id AND p.key = 'transport.cc' WHERE p.value = '$2'"; }
expect_eq "dcqcn: every row counted" "$(q "count(*) - count(cnps)" dcqcn)" 0
[ "$(q "sum(cnps)" dcqcn)" -gt 0 ] || fail "dcqcn: no CNPs on an 8-to-1 incast"
expect_eq "window: NULL" "$(q "count(cnps)" window)" 0
expect_eq "dctcp: NULL" "$(q "count(cnps)" dctcp)" 0
expect_eq "rows" "$(q "count(*)" window)" 8
# a lone sender: nothing marked, its row 0
# shellcheck disable=SC2086
"$MOESIM" run scenarios/incast.ini --db "$T/b.db" -q --set workload.senders=1 --set transport.path=ecmp \
    --set workload.bytes=1048576 --set output.flows=true --set transport.cc=dcqcn $ECN
expect_eq "unmarked: 0" "$(sqlite3 "$T/b.db" "SELECT count(*) || ',' || sum(cnps) FROM flows")" "1,0"
expect_eq "unmarked: no marks" "$(sqlite3 "$T/b.db" "SELECT sum(ecn_marks) FROM links")" 0
# the flow engine: NULL
"$MOESIM" run scenarios/incast.ini --db "$T/c.db" -q --set workload.senders=8 --set transport.path=ecmp \
    --set workload.bytes=262144 --set output.flows=true --set sim.engine=flow
expect_eq "flow engine: NULL" "$(sqlite3 "$T/c.db" "SELECT count(*) || ',' || count(cnps) FROM flows")" "8,0"
