#!/bin/sh
# sweep_check.sh - a sweep is checked whole before any run starts: every
# infeasible combination (placement from the trace's metadata, output paths,
# keys against each other) is one line naming file:line:key, all at once,
# exit status 2, nothing run, no database created. And a scenario's
# relative paths resolve against its own folder, from any directory.
set -eu
. tests/cli/lib.inc
: "${MOESIM:?set MOESIM to the moesim binary}"
repo=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
M=scenarios/moe_mixtral.ini
AFF="placement.replicas: policy 'affinity' does not replicate experts (contiguous, round_robin, random and eplb do)"

# expect_lines WANT ARGS...: exit status 2, stderr exactly WANT, no stdout
expect_lines() {
    want=$1
    shift
    rc=0
    "$MOESIM" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    expect_eq "exit status of $*" "$rc" 2
    expect_eq "stderr of $*" "$(cat "$tmp/err")" "$want"
    [ ! -s "$tmp/out" ] || fail "output from $*: $(cat "$tmp/out")"
}

# The issue's sweep: two runs used to finish before the third stopped it.
expect_lines "moesim: $M:37: $AFF" run "$M" --db "$tmp/a.db" \
    --set placement.policy=contiguous,round_robin,affinity --set transport.path=ecmp,spray
[ ! -e "$tmp/a.db" ] || fail "a refused sweep created its database"

# Two policies that do not replicate, and an output CSV that is a directory:
# all three lines, in run order.
mkdir "$tmp/csvdir"
expect_lines "moesim: --set output.csv=$tmp/csvdir: $tmp/csvdir is a directory
moesim: $M:37: $AFF
moesim: $M:37: placement.replicas: policy 'ilp' does not replicate experts (contiguous, round_robin, random and eplb do)" \
    run "$M" --db "$tmp/a.db" --csv "$tmp/csvdir" \
    --set placement.policy=contiguous,affinity,ilp --set transport.path=ecmp,spray

# An ilp instance too large (64 experts x 8 layers x 64 GPUs), from the
# trace's metadata only.
expect_lines "moesim: --set placement.policy=ilp,contiguous: ilp instance too large: 8 layers x 64 experts x 64 GPUs = 32768 binaries (limit 4096)" \
    run scenarios/moe_large.ini --db "$tmp/a.db" --set placement.replicas=0 \
    --set topology.leaves=4 --set topology.hosts_per_leaf=16 --set placement.policy=ilp,contiguous
[ ! -e "$tmp/a.db" ] || fail "a refused sweep created its database"

# A scenario's paths are its folder's: moe_mixtral.ini runs from another
# directory, and the run records the path it opened.
mkdir "$tmp/elsewhere"
(cd "$tmp/elsewhere" && "$MOESIM" run "$repo/$M" --db "$tmp/m.db" --quiet \
    --set workload.layers=1 --set workload.tokens_per_gpu=4 --set transport.path=ecmp \
    --set placement.policy=contiguous) || fail "moe_mixtral.ini from another directory"
expect_eq "trace recorded" "$(sqlite3 "$tmp/m.db" "SELECT value FROM params WHERE key = 'workload.trace'")" \
    "$repo/data/mixtral8x7b_gsm8k_routing.csv"
# from the repository, the path is the one recorded before paths resolved
# against the scenario's folder (so --resume finds those runs done)
"$MOESIM" run "$M" --db "$tmp/r.db" --quiet --set workload.layers=1 --set workload.tokens_per_gpu=4 \
    --set transport.path=ecmp --set placement.policy=contiguous
expect_eq "trace recorded from the repository" \
    "$(sqlite3 "$tmp/r.db" "SELECT value FROM params WHERE key = 'workload.trace'")" \
    "data/mixtral8x7b_gsm8k_routing.csv"
# a scenario's db goes beside it (alltoall.ini: ../results/), not into the
# directory moesim runs in
mkdir "$tmp/s"
cp scenarios/alltoall.ini "$tmp/s/"
(cd "$tmp/elsewhere" && "$MOESIM" run "$tmp/s/alltoall.ini" --quiet --set transport.path=ecmp \
    --set workload.bytes=4096) || fail "alltoall.ini from another directory"
[ -f "$tmp/results/moesim.db" ] || fail "the scenario's db is not beside it"
[ ! -e "$tmp/elsewhere/results" ] || fail "a results/ folder in the current directory"

# A CSV that cannot be written once the sweep runs (/dev/full passes the
# check): every run failed, in the database as in the closing line.
rc=0
"$MOESIM" run scenarios/alltoall.ini --db "$tmp/f.db" --csv /dev/full --set transport.path=ecmp,spray \
    --set workload.bytes=4096 >"$tmp/out" 2>"$tmp/err" || rc=$?
expect_eq "exit status, CSV on /dev/full" "$rc" 1
grep -q "^0 runs done, 2 failed;" "$tmp/out" || fail "closing line: $(cat "$tmp/out")"
expect_eq "database statuses" "$(sqlite3 "$tmp/f.db" "SELECT group_concat(status || ':' || message, ' ') FROM runs")" \
    "failed:/dev/full: cannot write: No space left on device failed:/dev/full: cannot write: No space left on device"
echo "sweep_check: infeasible sweeps refused whole, paths resolved against the scenario"
