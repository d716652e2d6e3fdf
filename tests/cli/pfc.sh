#!/bin/sh
# pfc.sh - switch.pfc from the command line (docs/transports.md): the
# 32-to-1 incast of scenarios/incast.ini (256 hosts, 400 Gb/s) runs
# lossless under ecmp and spray, every byte delivered (the flows table),
# the pauses in links.pause_ns reaching the senders' NICs from the
# receiver's leaf, the same rows twice with the same seed; bad PFC keys are refused with
# file:line: key: reason and exit status 2 before anything runs; a
# fat-tree and a rail fabric (PXN) run under PFC with small thresholds, and
# a rail with 2 planes (an incast, and a GPU's plane link failing).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run scenarios/incast.ini --set switch.pfc=true --db "$T/a.db" -q
"$MOESIM" run scenarios/incast.ini --set switch.pfc=true --db "$T/b.db" -q
expect_eq "runs" "$(sqlite3 "$T/a.db" "SELECT group_concat(status) FROM runs")" "done,done"
# bytes conserved: every flow delivered its 1 MiB, the receiver's link carried 32 MiB
expect_eq "flows" "$(sqlite3 "$T/a.db" "SELECT count(*), sum(bytes) FROM flows")" "64|67108864"
expect_eq "receiver link" "$(sqlite3 "$T/a.db" "SELECT group_concat(bytes) FROM links WHERE dst = 'h255'")" "33554432,33554432"
# links.pause_ns: the receiver's leaf (l15) pauses the spines' ports into it,
# the spines pause the senders' leaves' uplinks, those leaves the senders'
# NICs (hosts h0..h15 on l0, h16..h31 on l1: every one of them); nothing
# pauses a port into a host, nor the idle leaves' uplinks (l2..l15)
pz() { sqlite3 "$T/a.db" "SELECT count(*) FROM links WHERE pause_ns > 0 AND $1"; }
[ "$(pz "kind = 'spine_down' AND dst = 'l15'")" -gt 0 ] || fail "no spine port into l15 paused"
[ "$(pz "kind = 'leaf_up' AND src IN ('l0', 'l1')")" -gt 0 ] || fail "no uplink of the senders' leaves paused"
expect_eq "senders' NICs paused, per run" "$(pz "kind = 'host_up'")" 64
expect_eq "ports into hosts paused" "$(pz "kind = 'host_down'")" 0
expect_eq "idle leaves' uplinks paused" "$(pz "kind = 'leaf_up' AND src NOT IN ('l0', 'l1')")" 0
# no port is paused longer than its run
expect_eq "pause within the run" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM links l JOIN runs r ON r.id = l.run_id WHERE l.pause_ns > r.sim_ns")" 0
# without PFC every port reports 0
"$MOESIM" run scenarios/incast.ini --set transport.path=ecmp --db "$T/off.db" -q
expect_eq "no pfc, no pause" "$(sqlite3 "$T/off.db" "SELECT sum(pause_ns) FROM links")" 0
# determinism: the same rows
[ "$(dump "$T/a.db")" = "$(dump "$T/b.db")" ] || fail "two runs with the same seed differ"
# other fabrics, small thresholds (pauses everywhere): a fat-tree and a rail
# fabric with PXN's NVLink relay run to the end, every invariant holding
for s in fat_tree rail; do
    "$MOESIM" run scenarios/$s.ini --set switch.pfc=true --set switch.pfc_xoff_bytes=8192 \
        --set switch.pfc_xon_bytes=4096 --db "$T/$s.db" -q
    expect_eq "$s runs" "$(sqlite3 "$T/$s.db" "SELECT group_concat(DISTINCT status) FROM runs")" "done"
done
# rail planes (branch planefail): each NIC plane port is paused on its own
# (links.pause_ns on both planes' NIC ports, none into a GPU), lossless,
# every byte, the same rows twice
for db in p q; do
    "$MOESIM" run scenarios/rail.ini --set topology.planes=2 --set switch.pfc=true \
        --set workload.kind=incast --set workload.senders=24 --set workload.bytes=1048576 \
        --set transport.path=spray,ecmp --set output.flows=true --db "$T/$db.db" -q
done
expect_eq "planes: runs" "$(sqlite3 "$T/p.db" "SELECT group_concat(status) FROM runs")" "done,done"
expect_eq "planes: lossless" "$(sqlite3 "$T/p.db" "SELECT sum(drops) FROM links")" 0
expect_eq "planes: every byte" "$(sqlite3 "$T/p.db" "SELECT sum(bytes) FROM flows")" $((2 * 24 * 1048576))
expect_eq "planes: NIC ports paused on each plane, per run" "$(sqlite3 "$T/p.db" "SELECT count(DISTINCT run_id || '-' || (CAST(substr(dst, 2) AS INTEGER) >= 16)) FROM links WHERE kind = 'host_up' AND pause_ns > 0")" 4
expect_eq "planes: ports into GPUs paused" "$(sqlite3 "$T/p.db" "SELECT count(*) FROM links WHERE kind = 'host_down' AND pause_ns > 0")" 0
[ "$(dump "$T/p.db")" = "$(dump "$T/q.db")" ] || fail "planes: two runs with the same seed differ"
# and a GPU's plane link failing under PFC: lost there only, every byte
"$MOESIM" run scenarios/rail.ini --set topology.planes=2 --set switch.pfc=true \
    --set switch.pfc_xoff_bytes=8192 --set switch.pfc_xon_bytes=4096 --set faults.fail=h1-r17@20us \
    --set transport.recovery=selective --set transport.rto_ns=50000 --set transport.path=spray,ecmp \
    --set output.flows=true --db "$T/pf.db" -q
expect_eq "planes, failing: runs" "$(sqlite3 "$T/pf.db" "SELECT group_concat(status) FROM runs")" "done,done"
expect_eq "planes, failing: drops only at the failed link" "$(sqlite3 "$T/pf.db" "SELECT group_concat(l) FROM (SELECT DISTINCT src || '-' || dst AS l FROM links WHERE drops > 0 ORDER BY l)")" "h1-r17,r17-h1"
expect_eq "planes, failing: every byte" "$(sqlite3 "$T/pf.db" "SELECT sum(bytes) FROM flows")" $((2 * 32 * 31 * 262144))

expect_bad '[switch]\npfc = true\npfc_xoff_bytes = 8192\npfc_xon_bytes = 8192\n' 4 \
    "switch.pfc_xon_bytes: 8192 is not less than switch.pfc_xoff_bytes (8192)"
expect_bad '[switch]\npfc = true\npfc_xon_bytes = 70000\n' 3 \
    "switch.pfc_xon_bytes: 70000 is not less than switch.pfc_xoff_bytes (65536)"
expect_bad '[switch]\npfc = true\nbuffer_bytes = 131072\npfc_headroom_bytes = 65537\n' 3 \
    "switch.buffer_bytes: 131072 is less than switch.pfc_xoff_bytes + switch.pfc_headroom_bytes (65536 + 65537): PFC is lossless only if each ingress's share fits"
expect_bad '[switch]\npfc = true\n[sim]\nengine = flow\n' 2 \
    "switch.pfc: the flow engine models no queues and no pauses (sim.engine = flow)"
expect_bad '[switch]\npfc = yes please\n' 2 "switch.pfc: expected true or false, got 'yes please'"
expect_bad '[switch]\npfc_xoff_bytes = 0\n' 2 "switch.pfc_xoff_bytes: 0 is out of bounds [1, 1000000000000]"
echo "pfc: ok"
