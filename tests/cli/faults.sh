#!/bin/sh
# faults.sh - [faults] from the command line: the shipped scenario runs, its
# run line names the fabric and its faults, the links table records a down
# link at 0 Gb/s with no byte and a degraded one at its lowered rate; bad
# lists are refused with file:line: faults.key: reason and exit status 2
# before anything runs (no database).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run scenarios/faults.ini --db "$T/a.db" >"$T/out"
grep -q '^run 1 \[transport.path=ecmp\]: leaf_spine 4x4x4, 4 links down, 1 degraded, time ' "$T/out" ||
    fail "run line: $(cat "$T/out")"
expect_eq "down links" "$(sqlite3 "$T/a.db" "SELECT count(*) || ' ' || sum(bytes) || ' ' || max(gbps) FROM links WHERE dst = 's3' OR src = 's3'")" "16 0 0.0"
expect_eq "degraded link" "$(sqlite3 "$T/a.db" "SELECT group_concat(gbps) FROM links WHERE run_id = 1 AND ((src = 'l0' AND dst = 's1') OR (src = 's1' AND dst = 'l0'))")" "50.0,50.0"
expect_eq "live links carry bytes" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM links WHERE gbps > 0 AND bytes = 0")" 0
expect_eq "cct >= ideal" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
# the same fabric without faults prints its shape alone
"$MOESIM" run scenarios/alltoall.ini --db "$T/b.db" --set workload.bytes=4096 >"$T/out"
grep -q '^run 1[^:]*: leaf_spine 4x4x4, time ' "$T/out" || fail "run line: $(cat "$T/out")"

# bad [faults]: one line, file:line: key: reason, exit 2, nothing run
bad() { # KEY=VALUE-lines... then the expected message after "FILE:LINE: "
    printf '[topology]\nleaves = 2\nspines = 4\nhosts_per_leaf = 2\n[faults]\n%s\n' "$1" >"$T/bad.ini"
    expect_refused "6: $2" bad
}
bad "down = l0-s7" "faults.down: l0-s7: no node s7 in this fabric"
bad "down = l0-l1" "faults.down: l0-l1: no link between l0 and l1"
bad "down = l0-s1 s1-l0" "faults.down: s1-l0: the link is listed twice (as l0-s1)"
bad "down = l0-s0 l0-s1 l0-s2 l0-s3" "faults.down: the links down disconnect leaf l1 from leaf l0"
bad "down = h2-l1" "faults.down: the links down disconnect host h2"
bad "degraded = l0-s1:1.5" "faults.degraded: l0-s1:1.5: the fraction 1.5 is outside (0,1]"
bad "degraded = l0-s1" "faults.degraded: l0-s1: expected src-dst:fraction, as l0-s1:0.5"
bad "random_down = 1" "faults.random_down: 8 of the 8 switch-to-switch links down (sim.seed 1) disconnect leaf l1 from leaf l0"
bad "degrade_to = 0" "faults.degrade_to: 0 is outside (0,1]"
# the flow engine routes by the table too: no byte on a link down, every
# byte delivered, no phase below its bound, as the packet engine
printf '[faults]\ndown = l0-s1\n[sim]\nengine = flow,packet\n[transport]\npath = ecmp,spray,ethereal\n' >"$T/flow.ini"
"$MOESIM" run "$T/flow.ini" --db "$T/c.db" -q
expect_eq "flow engine: every run done" "$(sqlite3 "$T/c.db" "SELECT count(*), sum(status = 'done') FROM runs")" "6|6"
expect_eq "flow engine: nothing on the link down" "$(sqlite3 "$T/c.db" "SELECT count(*), sum(bytes) FROM links WHERE gbps = 0")" "12|0"
expect_eq "flow engine: cct >= ideal" "$(sqlite3 "$T/c.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
# a fat-tree's clock check reads its core tier too
printf '[topology]\nkind = fat_tree\ncores = 2\ncore_gbps = 0.001\n[workload]\nkind = alltoall\nbytes = 1000000000000\n' >"$T/ftc.ini"
rc=0
"$MOESIM" run "$T/ftc.ini" --db "$T/d.db" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "exit status (core clock)" "$rc" 2
expect_eq "stderr (core clock)" "$(cat "$T/err")" \
    "moesim: $T/ftc.ini:4: topology.core_gbps: a pod's core links need at least 2.56e+08 s of simulated time to carry its bytes, more than the clock holds (9.22e+06 s)"
echo "faults: ok"
