#!/bin/sh
# diskfull.sh - the results database on a full disk: a sweep into a 160 KiB
# tmpfs runs out of space partway. moesim must say so ("database or disk is
# full") once, start no further run (one line counts them), exit 1, and leave a database that
# passes PRAGMA integrity_check in which every `done` run is complete. Mounting a
# tmpfs needs root (or CAP_SYS_ADMIN); elsewhere the test is skipped.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
mnt=$tmp/tiny
mkdir "$mnt"
if ! mount -t tmpfs -o size=160k tmpfs "$mnt" 2>/dev/null; then
    rm -rf "$tmp"
    echo "note: cannot mount a tmpfs here (not root?): disk-full test skipped"
    exit 0
fi
trap 'umount "$mnt"; rm -rf "$tmp"' EXIT
db=$mnt/r.db
set +e
"$MOESIM" run scenarios/alltoall.ini --db "$db" --quiet --jobs 2 --set sim.seed=1,2,3,4,5,6,7,8,9,10 \
    --set workload.bytes=65536 >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 1 ] || { echo "exit status $rc, expected 1"; cat "$tmp/err"; exit 1; }
grep -q 'database or disk is full' "$tmp/err" || { echo "no disk-full message:"; cat "$tmp/err"; exit 1; }
# the first run that could not be recorded names the database (and so may a
# run still in flight then); no further run starts, and one line counts them
bad_lines=$(grep -v "^moesim: $db: .*database or disk is full$" "$tmp/err" |
    grep -vc "^moesim: [0-9]* runs\{0,1\} not started: the database could not record a run$" || true)
[ "$bad_lines" = 0 ] || { echo "unexpected error lines:"; cat "$tmp/err"; exit 1; }
full_lines=$(grep -c "database or disk is full" "$tmp/err")
[ "$full_lines" -le 2 ] || { echo "$full_lines disk-full lines, expected at most 2 (--jobs 2):"; cat "$tmp/err"; exit 1; }
grep -q "not started: the database could not record a run" "$tmp/err" ||
    { echo "no line counting the runs not started:"; cat "$tmp/err"; exit 1; }
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ]
done_runs=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'done'")
[ "$done_runs" -lt 50 ]
bad=$(sqlite3 "$db" "SELECT count(*) FROM runs r WHERE status = 'done' AND (
        (SELECT count(*) FROM phases WHERE run_id = r.id) != 1 OR
        (SELECT count(*) FROM links WHERE run_id = r.id) != 64)")
[ "$bad" = 0 ] || { echo "$bad done runs are incomplete"; exit 1; }
partial=$(sqlite3 "$db" "SELECT count(*) FROM runs r WHERE status != 'done' AND
        EXISTS (SELECT 1 FROM links WHERE run_id = r.id)")
[ "$partial" = 0 ]
# a CSV on the full disk: a clear error too
set +e
"$MOESIM" run scenarios/alltoall.ini --db "$tmp/ok.db" --csv "$mnt/p.csv" --quiet \
    --set transport.path=ecmp 2>"$tmp/err2"
rc=$?
set -e
[ "$rc" = 1 ] || { echo "csv on a full disk: exit status $rc, expected 1"; exit 1; }
[ "$(cat "$tmp/err2")" = "moesim: $mnt/p.csv: cannot write: No space left on device" ] ||
    { echo "csv on a full disk:"; cat "$tmp/err2"; exit 1; }
echo "disk full: $done_runs done runs intact, then: $(head -1 "$tmp/err")"
