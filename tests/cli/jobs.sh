#!/bin/sh
# jobs.sh - a sweep in 2 worker processes writes exactly the rows of the same
# sweep in 1 (wall-clock columns aside), flows and samples included.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --jobs 1 -q
"$MOESIM" run tests/cli/sweep.ini --db "$T/b.db" --jobs 2 >"$T/out.txt"
dump "$T/a.db" >"$T/a.txt"
dump "$T/b.db" >"$T/b.txt"
cmp "$T/a.txt" "$T/b.txt" || { diff "$T/a.txt" "$T/b.txt" | head -20; fail "--jobs 2 rows differ from --jobs 1"; }
expect_eq "done runs" "$(sqlite3 "$T/b.db" "SELECT count(*) FROM runs WHERE status = 'done'")" 6
# 4 hosts all-to-all: 12 messages per run
expect_eq "flows" "$(sqlite3 "$T/b.db" "SELECT count(*) FROM flows")" 72
[ "$(sqlite3 "$T/b.db" "SELECT count(*) FROM timeseries")" -gt 0 ] || fail "no samples"
expect_eq "summary lines" "$(grep -c '^run [1-6] \[' "$T/out.txt")" 6
expect_eq "closing line" "$(tail -1 "$T/out.txt" | sed 's/; peak memory.*//')" \
    "6 runs done, 0 failed; results in $T/b.db"
# no progress line when stderr is not a terminal
"$MOESIM" run tests/cli/sweep.ini --db "$T/c.db" --jobs 2 -q 2>"$T/err.txt"
[ ! -s "$T/err.txt" ] || fail "stderr is not empty: $(cat "$T/err.txt")"
