#!/bin/sh
# crash.sh - a worker that dies mid-run (MOESIM_TEST_ABORT_RUN=2 makes the
# worker of sweep run 2 call abort(), as a crash would) costs only its run:
# that run is `failed` with the signal as its message, the other five are
# done, the database is intact, and the exit status is 1.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
MOESIM_TEST_ABORT_RUN=2 "$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --jobs 2 -q \
    2>"$T/err.txt" || rc=$?
expect_eq "exit status" "$rc" 1
expect_eq "stderr" "$(cat "$T/err.txt")" "moesim: run 3 failed: worker killed by signal 6 (Aborted)"
expect_eq "statuses" "$(sqlite3 "$T/a.db" "SELECT group_concat(id || ':' || status, ' ') FROM runs")" \
    "1:done 2:done 3:failed 4:done 5:done 6:done"
expect_eq "message" "$(sqlite3 "$T/a.db" "SELECT message FROM runs WHERE id = 3")" \
    "worker killed by signal 6 (Aborted)"
expect_eq "rows of the failed run" \
    "$(sqlite3 "$T/a.db" "SELECT (SELECT count(*) FROM phases WHERE run_id = 3) + (SELECT count(*) FROM links WHERE run_id = 3)")" 0
expect_eq "integrity" "$(sqlite3 "$T/a.db" "PRAGMA integrity_check")" ok
