#!/bin/sh
# kill9.sh - crash safety of the results database: KILL9_TRIALS times (20 by
# default) `moesim run` starts a sweep into one database and is killed with
# SIGKILL at a random moment. After every kill: PRAGMA integrity_check says
# ok, every `done` run has its phases and all its links, the run that was
# interrupted is not `done` and left no phase or link rows, and nothing but
# `running` and `done` is there. At the end one more sweep runs to completion
# on the same file, so a crashed database stays usable.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
trials=${KILL9_TRIALS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/k.db
# 4x4x4 leaf-spine: 2*16 host ports + 2*16 fabric ports = 64 links per run
# 5 paths x 96 seeds = 480 runs, longer than the 1.2 s window the kill lands in
sweep="--set transport.path=ecmp,spray,spray_rr,split,adaptive
--set sim.seed=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96
--set workload.bytes=131072"

check() {
    ic=$(sqlite3 "$db" "PRAGMA integrity_check")
    [ "$ic" = ok ] || { echo "trial $1: integrity_check: $ic"; exit 1; }
    # killed before the schema was committed: nothing more to check
    [ "$(sqlite3 "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'runs'")" = 1 ] || return 0
    bad=$(sqlite3 "$db" "SELECT count(*) FROM runs r WHERE status = 'done' AND (
            (SELECT count(*) FROM phases WHERE run_id = r.id) != 1 OR
            (SELECT count(*) FROM links WHERE run_id = r.id) != 64 OR
            (SELECT count(*) FROM params WHERE run_id = r.id) = 0 OR
            finished_at IS NULL OR events IS NULL)")
    [ "$bad" = 0 ] || { echo "trial $1: $bad done runs lack rows"; exit 1; }
    partial=$(sqlite3 "$db" "SELECT count(*) FROM runs r WHERE status != 'done' AND (
            EXISTS (SELECT 1 FROM phases WHERE run_id = r.id) OR
            EXISTS (SELECT 1 FROM links WHERE run_id = r.id) OR finished_at IS NOT NULL)")
    [ "$partial" = 0 ] || { echo "trial $1: $partial unfinished runs have result rows"; exit 1; }
    other=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status NOT IN ('running', 'done')")
    [ "$other" = 0 ] || { echo "trial $1: $other runs neither running nor done"; exit 1; }
}

killed=0
for i in $(seq 1 "$trials"); do
    # a random moment in the first ~1.2 s (the whole sweep takes longer)
    ms=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 1200 ))
    # shellcheck disable=SC2086
    "$MOESIM" run scenarios/alltoall.ini --db "$db" --quiet $sweep >/dev/null 2>"$tmp/err" &
    pid=$!
    sleep "$(printf '0.%03d' "$ms")"
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    [ "$rc" = 137 ] && killed=$((killed + 1))
    check "$i"
    # the interrupted run (if the kill landed inside one) is the newest and is not done
    last=$(sqlite3 "$db" "SELECT status FROM runs ORDER BY id DESC LIMIT 1" 2>/dev/null || true)
    case "$last" in running | done | "") ;; *) echo "trial $i: last run is '$last'"; exit 1 ;; esac
done
# the killed-into database takes a complete sweep afterwards
"$MOESIM" run scenarios/alltoall.ini --db "$db" --quiet --set sim.seed=99 --set workload.bytes=65536
check final
[ "$(sqlite3 "$db" "SELECT status FROM runs ORDER BY id DESC LIMIT 1")" = done ]
done_runs=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'done'")
running=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'running'")
echo "kill9: $trials trials, $killed killed mid-sweep, $done_runs done runs intact, $running interrupted runs left 'running'"
# most kills must land inside the sweep, or the test proves little
[ $((killed * 2)) -ge "$trials" ] || { echo "only $killed of $trials kills landed mid-sweep"; exit 1; }
