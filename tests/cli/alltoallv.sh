#!/bin/sh
# alltoallv.sh - workload.kind = alltoallv from the command line
# (docs/moe-steps.md, "Collectives"): every ordered pair once, each pair's
# bytes in [1, 2*workload.bytes - 1] and their mean near workload.bytes;
# the sizes follow workload.seed (sim.seed when it is -1) and not sim.seed
# once workload.seed is set; the same seed gives the
# same rows; every network phase ends at or after its ideal bound; an
# algorithm the kind does not have is refused with file:line, exit 2.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: "${MOESIM:?set MOESIM to the moesim binary}"
v="--set workload.kind=alltoallv --set workload.bytes=65536 --set output.flows=true --set transport.path=ecmp,spray"
# shellcheck disable=SC2086
run() { "$MOESIM" run scenarios/alltoall.ini $v "$@" -q; }
run --db "$T/a.db"
run --db "$T/b.db"
run --db "$T/c.db" --set workload.seed=7
run --db "$T/d.db" --set sim.seed=9 --set workload.seed=1
q() { sqlite3 "$1" "$2"; }
# 16 hosts: 240 pairs per run, each once
expect_eq "pairs" "$(q "$T/a.db" "SELECT count(*), count(DISTINCT src || '-' || dst) FROM flows WHERE run_id = 1")" "240|240"
expect_eq "no self pair" "$(q "$T/a.db" "SELECT count(*) FROM flows WHERE src = dst")" 0
expect_eq "range" "$(q "$T/a.db" "SELECT min(bytes) >= 1 AND max(bytes) <= 131071 FROM flows")" 1
# the mean of 240 uniform draws: within 15% of 65536 (about 4 standard errors)
expect_eq "mean" "$(q "$T/a.db" "SELECT abs(avg(bytes) - 65536) < 0.15 * 65536 FROM flows WHERE run_id = 1")" 1
expect_eq "sizes vary" "$(q "$T/a.db" "SELECT count(DISTINCT bytes) > 200 FROM flows WHERE run_id = 1")" 1
# both path modes send the same sizes; the phase's bytes are their sum
sizes() { q "$1" "SELECT group_concat(bytes) FROM (SELECT bytes FROM flows WHERE run_id = $2 ORDER BY src, dst)"; }
expect_eq "same sizes under both paths" "$(sizes "$T/a.db" 1)" "$(sizes "$T/a.db" 2)"
expect_eq "phase bytes" "$(q "$T/a.db" "SELECT bytes FROM phases WHERE run_id = 1")" \
    "$(q "$T/a.db" "SELECT sum(bytes) FROM flows WHERE run_id = 1")"
expect_eq "ideal bound" "$(q "$T/a.db" "SELECT count(*) FROM phases WHERE cct_ns + 1 < ideal_ns")" 0
[ "$(dump "$T/a.db")" = "$(dump "$T/b.db")" ] || fail "two runs with the same seeds differ"
[ "$(sizes "$T/a.db" 1)" != "$(sizes "$T/c.db" 1)" ] || fail "workload.seed does not move the sizes"
expect_eq "sim.seed does not move the sizes workload.seed fixes" "$(sizes "$T/a.db" 1)" "$(sizes "$T/d.db" 1)"
printf '[workload]\nkind = alltoallv\nalgo = ring\n' >"$T/bad.ini"
rc=0
"$MOESIM" run "$T/bad.ini" --db "$T/bad.db" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "exit status" "$rc" 2
expect_eq "stderr" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:3: workload.algo: ring is not an algorithm of workload.kind = alltoallv (it has: direct)"
[ ! -e "$T/bad.db" ] || fail "a refused run left a database"
echo "alltoallv: ok"
