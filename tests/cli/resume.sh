#!/bin/sh
# resume.sh - --resume skips the runs already done with identical resolved
# parameters and reruns the failed one, whose rows then equal a clean sweep's.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
MOESIM_TEST_ABORT_RUN=2 "$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --jobs 2 -q 2>/dev/null || true
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --jobs 2 --resume >"$T/out.txt"
expect_eq "summary" "$(grep -c '^run ' "$T/out.txt")" 1
grep -q '^run 7 \[transport.path=ecmp sim.seed=3\]' "$T/out.txt" || fail "run 7 is not the rerun: $(cat "$T/out.txt")"
expect_eq "closing line" "$(tail -1 "$T/out.txt" | sed 's/; peak memory.*//')" \
    "1 run done, 0 failed, 5 skipped (already done); results in $T/a.db"
expect_eq "statuses" "$(sqlite3 "$T/a.db" "SELECT group_concat(id || ':' || status, ' ') FROM runs")" \
    "1:done 2:done 3:failed 4:done 5:done 6:done 7:done"
# the rerun's params are those of the failed run
expect_eq "params" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM params a JOIN params b ON a.key = b.key AND a.value = b.value WHERE a.run_id = 3 AND b.run_id = 7")" \
    "$(sqlite3 "$T/a.db" "SELECT count(*) FROM params WHERE run_id = 3")"
# its rows equal those of run 3 of a clean sweep
"$MOESIM" run tests/cli/sweep.ini --db "$T/b.db" --jobs 2 -q
q="SELECT iter, layer, phase, start_ns, end_ns, ideal_ns, bytes FROM phases WHERE run_id = ?"
expect_eq "rerun phases" "$(sqlite3 "$T/a.db" "$(echo "$q" | sed 's/?/7/')")" \
    "$(sqlite3 "$T/b.db" "$(echo "$q" | sed 's/?/3/')")"
# nothing left to do; a changed parameter is a new configuration
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --resume >"$T/out2.txt"
expect_eq "all done" "$(tail -1 "$T/out2.txt" | sed 's/; results.*//')" \
    "0 runs done, 0 failed, 6 skipped (already done)"
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --resume --set sim.seed=4 -q
expect_eq "runs" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM runs")" 9
