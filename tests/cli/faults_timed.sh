#!/bin/sh
# faults_timed.sh - links that fail during a run (faults.fail,
# faults.reroute_delay_ns; docs/fabrics.md) from the command line: the
# shipped scenario runs, its run line counts the failing link, the packets
# lost are counted at the failed link's two ports only, the flows recover
# (retransmissions, timeouts or NACKs) and deliver every byte (also under
# cc = nscc with switch.ctrl_priority); a longer
# reroute delay loses more and ends later; under RoCE (dcqcn, PFC) and on
# rail planes too, a GPU's link to a plane included (on both engines). Bad input is refused with
# file:line: faults.key: reason and exit status 2 before anything runs (no
# database).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run scenarios/link_failure.ini --db "$T/a.db" >"$T/out"
grep -q '^run 1 \[faults.reroute_delay_ns=0\]: leaf_spine 2x4x8, 1 link failing, time ' "$T/out" ||
    fail "run line: $(cat "$T/out")"
expect_eq "drops only at the failed link" "$(sqlite3 "$T/a.db" "SELECT group_concat(DISTINCT src || '-' || dst) FROM links WHERE drops > 0")" "l0-s1,s1-l0"
expect_eq "every byte delivered" "$(sqlite3 "$T/a.db" "SELECT group_concat(b) FROM (SELECT sum(bytes) AS b FROM flows GROUP BY run_id ORDER BY run_id)")" "33554432,33554432"
expect_eq "recovered" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM (SELECT run_id FROM flows GROUP BY run_id HAVING sum(retx_bytes) > 0 AND sum(timeouts) + sum(nacks) > 0)")" 2
expect_eq "a longer reroute loses more" "$(sqlite3 "$T/a.db" "SELECT (SELECT sum(drops) FROM links WHERE run_id = 2) > (SELECT sum(drops) FROM links WHERE run_id = 1)")" 1
expect_eq "a longer reroute ends later" "$(sqlite3 "$T/a.db" "SELECT (SELECT sim_ns FROM runs WHERE id = 2) > (SELECT sim_ns FROM runs WHERE id = 1)")" 1
# under nscc and with control packets' priority: the same accounting
"$MOESIM" run scenarios/link_failure.ini --db "$T/n.db" -q --set transport.cc=nscc \
    --set switch.ctrl_priority=true --set switch.ecn_kmin_bytes=20000 --set switch.ecn_kmax_bytes=80000
expect_eq "nscc, ctrl_priority: drops only at the failed link" "$(sqlite3 "$T/n.db" "SELECT group_concat(DISTINCT src || '-' || dst) FROM links WHERE drops > 0")" "l0-s1,s1-l0"
expect_eq "nscc, ctrl_priority: every byte delivered" "$(sqlite3 "$T/n.db" "SELECT group_concat(b) FROM (SELECT sum(bytes) AS b FROM flows GROUP BY run_id ORDER BY run_id)")" "33554432,33554432"
expect_eq "nscc, ctrl_priority: done" "$(sqlite3 "$T/n.db" "SELECT group_concat(status) FROM runs")" "done,done"
# the same run again: the same numbers
"$MOESIM" run scenarios/link_failure.ini --db "$T/b.db" -q
expect_eq "repeatable" "$(dump "$T/b.db")" "$(dump "$T/a.db")"

# bad input: one line, file:line: key: reason, exit 2, nothing run
bad() { # LINES WANT [LINE]: the [faults] lines, the message after "FILE:LINE: "
    printf '[topology]\nleaves = 2\nspines = 4\nhosts_per_leaf = 2\n[faults]\n%s\n[transport]\nrecovery = goback_n\n' "$1" >"$T/bad.ini"
    expect_refused "${3:-6}: $2" bad
}
bad "fail = l0-s7@10us" "faults.fail: l0-s7@10us: no node s7 in this fabric"
bad "fail = l0-l1@10us" "faults.fail: l0-l1@10us: no link between l0 and l1"
bad "fail = l0-s1@10" "faults.fail: l0-s1@10: expected a time with a unit (ns, us, ms or s) after '@', got '10'"
bad "fail = l0-s1@-5us" "faults.fail: l0-s1@-5us: expected a time with a unit (ns, us, ms or s) after '@', got '-5us'"
bad "fail = l0-s1@5 us" "faults.fail: l0-s1@5: expected a time with a unit (ns, us, ms or s) after '@', got '5'"
bad "fail = l0-s1" "faults.fail: l0-s1: expected src-dst@time, as l0-s3@50us"
bad "fail = l0-s1@5us s1-l0@9us" "faults.fail: s1-l0@9us: the link is listed twice (as l0-s1@5us)"
bad "down = l0-s1
fail = l0-s1@5us" "faults.fail: l0-s1@5us: the link is also listed in faults.down (as l0-s1)" 7
bad "fail = l0-s0@1us l0-s1@2us l0-s2@3us l0-s3@4us" "faults.fail: the links down with l0-s3@4us disconnect leaf l1 from leaf l0"
bad "fail = h0-l0@1us" "faults.fail: the links down with h0-l0@1us disconnect host h0"
# a link of the list and one down before the run together cut a leaf off
bad "down = l0-s0 l0-s1 l0-s2
fail = l0-s3@1us" "faults.fail: the links down with l0-s3@1us disconnect leaf l1 from leaf l0" 7
# without loss recovery
printf '[topology]\nleaves = 2\nspines = 4\nhosts_per_leaf = 2\n[faults]\nfail = l0-s1@5us\n' >"$T/none.ini"
rc=0
"$MOESIM" run "$T/none.ini" --db "$T/bad.db" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "exit status (recovery none)" "$rc" 2
expect_eq "stderr (recovery none)" "$(cat "$T/err")" "moesim: $T/none.ini:6: faults.fail: a failing link loses the packets it holds, and transport.recovery = none recovers nothing: set transport.recovery = goback_n or selective"
# the flow engine runs them (sim/flow_fault.c), without loss recovery:
# every byte delivered, the lost ones counted at the failed link's ports,
# the reroute delay on top
"$MOESIM" run scenarios/link_failure.ini --set sim.engine=flow --set transport.recovery=none --db "$T/f.db" -q
expect_eq "flow engine: every byte delivered" "$(sqlite3 "$T/f.db" "SELECT group_concat(b) FROM (SELECT sum(bytes) AS b FROM flows GROUP BY run_id ORDER BY run_id)")" "33554432,33554432"
expect_eq "flow engine: drops only at the failed link" "$(sqlite3 "$T/f.db" "SELECT group_concat(DISTINCT src || '-' || dst) FROM links WHERE drops > 0")" "l0-s1,s1-l0"
# against the packet engine on scenarios/fat_tree.ini (l0-a0 failing at 20
# us; rto_ns above the queueing delay, docs/fabrics.md's caution): each
# run's all-to-all phase within 2% (docs/flow-engine.md has the figures)
for eng in packet flow; do
    rec=selective
    [ $eng = flow ] && rec=none
    "$MOESIM" run scenarios/fat_tree.ini --set sim.engine=$eng --set transport.recovery=$rec \
        --set transport.rto_ns=3000000 --set transport.path=ecmp,spray --set faults.fail=l0-a0@20us \
        --set faults.reroute_delay_ns=0,20000 --db "$T/ft_$eng.db" -q
done
expect_eq "fat tree failing, flow against packet within 2%" "$(for eng in packet flow; do sqlite3 "$T/ft_$eng.db" "SELECT cct_ns FROM phases ORDER BY run_id"; done |
    awk '{ v[NR] = $1 } END { n = NR / 2; bad = 0; for (i = 1; i <= n; i++) { e = (v[i + n] - v[i]) / v[i]; if (e < -0.02 || e > 0.02) bad++ } print n " runs, " bad " beyond" }')" "4 runs, 0 beyond"
expect_eq "flow engine: the reroute delay waited" "$(sqlite3 "$T/f.db" "SELECT (SELECT sim_ns FROM runs WHERE id = 2) - (SELECT sim_ns FROM runs WHERE id = 1)")" 20000
# RoCE (cc = dcqcn, switch.pfc, control packets first, go-back-N, ECMP)
# and rail planes: the
# failure's losses only, every byte delivered, no PFC deadlock (the
# engine's checks end a run that has one with status failed)
"$MOESIM" run scenarios/link_failure.ini --db "$T/r.db" -q --set transport.cc=dcqcn \
    --set switch.pfc=true --set switch.ctrl_priority=true --set transport.path=ecmp --set transport.recovery=goback_n \
    --set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 --set switch.ecn_pmax=0.01
expect_eq "roce: done" "$(sqlite3 "$T/r.db" "SELECT group_concat(status) FROM runs")" "done,done"
expect_eq "roce: drops only at the failed link" "$(sqlite3 "$T/r.db" "SELECT group_concat(DISTINCT src || '-' || dst) FROM links WHERE drops > 0")" "l0-s1,s1-l0"
expect_eq "roce: every byte delivered" "$(sqlite3 "$T/r.db" "SELECT group_concat(b) FROM (SELECT sum(bytes) AS b FROM flows GROUP BY run_id ORDER BY run_id)")" "33554432,33554432"
expect_eq "roce: paused" "$(sqlite3 "$T/r.db" "SELECT count(DISTINCT run_id) FROM links WHERE pause_ns > 0")" 2
"$MOESIM" run scenarios/rail.ini --db "$T/p.db" -q --set topology.planes=2 \
    --set faults.fail=r0-s0@20us --set transport.recovery=selective --set transport.rto_ns=50000 \
    --set transport.path=spray,ecmp,ethereal --set output.flows=true
expect_eq "planes: done" "$(sqlite3 "$T/p.db" "SELECT group_concat(status) FROM runs")" "done,done,done"
expect_eq "planes: drops only at the failed link" "$(sqlite3 "$T/p.db" "SELECT group_concat(l) FROM (SELECT DISTINCT src || '-' || dst AS l FROM links WHERE drops > 0 ORDER BY l)")" "r0-s0,s0-r0"
expect_eq "planes: every byte delivered" "$(sqlite3 "$T/p.db" "SELECT count(DISTINCT b) || ' ' || min(b) FROM (SELECT sum(bytes) AS b FROM flows GROUP BY run_id)")" "1 $((32 * 31 * 262144))"
# a GPU's link to a plane failing: its packets lost there only, every byte delivered
"$MOESIM" run scenarios/rail.ini --db "$T/g.db" -q --set topology.planes=2 \
    --set faults.fail=h1-r1@20us --set transport.recovery=selective --set transport.rto_ns=50000 \
    --set transport.path=spray,ecmp --set output.flows=true
expect_eq "gpu plane link: done" "$(sqlite3 "$T/g.db" "SELECT group_concat(status) FROM runs")" "done,done"
expect_eq "gpu plane link: drops only at the failed link" "$(sqlite3 "$T/g.db" "SELECT group_concat(l) FROM (SELECT DISTINCT src || '-' || dst AS l FROM links WHERE drops > 0 ORDER BY l)")" "h1-r1,r1-h1"
expect_eq "gpu plane link: every byte delivered" "$(sqlite3 "$T/g.db" "SELECT count(DISTINCT b) || ' ' || min(b) FROM (SELECT sum(bytes) AS b FROM flows GROUP BY run_id)")" "1 $((32 * 31 * 262144))"
# a GPU left without a plane by a failure: refused
cp scenarios/rail.ini "$T/x.ini"
rc=0
"$MOESIM" run "$T/x.ini" --db "$T/bad.db" --set faults.down=h1-r1 --set faults.fail=h1-r17@5us \
    --set transport.recovery=goback_n --set topology.planes=2 >"$T/out" 2>"$T/err" || rc=$?
expect_eq "exit status (a GPU's last plane link failing)" "$rc" 2
expect_eq "stderr (a GPU's last plane link failing)" "$(cat "$T/err")" "moesim: --set faults.fail=h1-r17@5us: the links down with h1-r17@5us leave hosts h0 and h9 no plane on which both reach each other (a packet keeps its plane end to end, its answer too)"
# the flow engine on planes (it was refused; sim/flow_fault.c): a
# rail-spine link and a GPU's plane link failing, every byte delivered, the
# losses at the failed links' ports only
"$MOESIM" run scenarios/rail.ini --db "$T/fp.db" -q --set topology.planes=2 --set sim.engine=flow \
    --set faults.fail=r0-s0@20us,h1-r1@20us --set transport.path=spray,ecmp,ethereal --set output.flows=true
expect_eq "flow engine, planes: done" "$(sqlite3 "$T/fp.db" "SELECT group_concat(status) FROM runs")" "done,done,done,done,done,done"
expect_eq "flow engine, planes: drops only at the failed links" "$(sqlite3 "$T/fp.db" "SELECT group_concat(l) FROM (SELECT DISTINCT src || '-' || dst AS l FROM links WHERE drops > 0 ORDER BY l)")" "h1-r1,r0-s0,r1-h1,s0-r0"
expect_eq "flow engine, planes: every byte delivered" "$(sqlite3 "$T/fp.db" "SELECT count(DISTINCT b) || ' ' || min(b) FROM (SELECT sum(bytes) AS b FROM flows GROUP BY run_id)")" "1 $((32 * 31 * 262144))"
echo "faults_timed: ok"
