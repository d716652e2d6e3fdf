#!/bin/sh
# readonly_db.sh - reading a results database never writes: report, export
# and plot work on a database in a directory the reader cannot write in
# (mode 555, as a non-root user), print what they print on a writable copy,
# and leave no -wal, -shm or -journal file behind, there or in a writable
# directory. Covered: a finished database (the last writer switched it back
# to rollback mode), a file left in WAL mode without its -wal (an older
# moesim, or two writers that closed at once), and a -wal left by a writer
# that was killed (its commits are read, the files stay as they were). Also
# four writers running at once on one database: every run lands. As root the
# readers run as nobody (setpriv); without setpriv the permission cases are
# skipped.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
. tests/cli/lib.inc
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
unprivileged readonly_db
cp "$MOESIM" "$tmp/moesim"
chmod 755 "$tmp/moesim"
bin=$tmp/moesim
scen=$PWD/scenarios/alltoall.ini

# four writers at once into one database, then one more after them
for s in 1 2 3 4; do
    "$bin" run "$scen" --db "$tmp/w/c.db" --quiet --set sim.seed=$s --set transport.path=ecmp,spray &
done
wait
"$bin" run "$scen" --db "$tmp/w/c.db" --quiet --set sim.seed=5 --set transport.path=ecmp,spray
expect_eq "done runs of 5 writers" \
    "$(sqlite3 "$tmp/w/c.db" "SELECT count(*) FROM runs WHERE status = 'done'")" 10
expect_eq "seeds" \
    "$(sqlite3 "$tmp/w/c.db" "SELECT group_concat(seed) FROM (SELECT DISTINCT seed FROM runs ORDER BY seed)")" \
    "1,2,3,4,5"
expect_eq "integrity" "$(sqlite3 "$tmp/w/c.db" "PRAGMA integrity_check")" ok
# the last writer left one self-contained file in rollback mode
expect_eq "journal mode after the writers" "$(sqlite3 "$tmp/w/c.db" "PRAGMA journal_mode")" delete
[ ! -e "$tmp/w/c.db-wal" ] && [ ! -e "$tmp/w/c.db-shm" ] || fail "a writer left -wal or -shm"

[ "$run_as" = skip ] && exit 0

# no_side_files DB WHAT: nothing but DB itself
no_side_files() {
    for x in -wal -shm -journal; do
        [ ! -e "$1$x" ] || fail "$2: reading left $1$x behind"
    done
}
# readall DB OUTDIR: report, export and plot of DB as the non-root user;
# prints report's output (minus its first line, which names the file) and
# the exported CSV
readall() {
    mkdir -p "$2"
    chmod 777 "$2"
    # shellcheck disable=SC2086
    $run_as "$bin" report --db "$1" --by transport.path >"$2/report.txt" 2>"$2/err" ||
        { cat "$2/err"; fail "report --db $1"; }
    # shellcheck disable=SC2086
    $run_as "$bin" export --db "$1" --table phases -o "$2/phases.csv" 2>"$2/err" ||
        { cat "$2/err"; fail "export --db $1"; }
    if command -v gnuplot >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        $run_as "$bin" plot cct --db "$1" -o "$2" >/dev/null 2>"$2/err" ||
            { cat "$2/err"; fail "plot --db $1"; }
        ls "$2"/*.png >/dev/null || fail "plot --db $1 made no PNG"
    fi
    sed 1d "$2/report.txt"
    cat "$2/phases.csv"
}

# the reference: the same file in a directory anyone may write in
mkdir "$tmp/ref"
cp "$tmp/w/c.db" "$tmp/ref/c.db"
chmod 777 "$tmp/ref"
chmod 666 "$tmp/ref/c.db"
readall "$tmp/ref/c.db" "$tmp/o0" >"$tmp/want.txt"
no_side_files "$tmp/ref/c.db" "writable directory"
[ "$(wc -l <"$tmp/want.txt")" -gt 10 ] || fail "reference output too short"

# 1. a finished database in a mode-555 directory
mkdir "$tmp/ro"
cp "$tmp/w/c.db" "$tmp/ro/ro.db"
chmod 644 "$tmp/ro/ro.db"
chmod 555 "$tmp/ro"
readall "$tmp/ro/ro.db" "$tmp/o1" >"$tmp/got.txt"
cmp "$tmp/want.txt" "$tmp/got.txt" || fail "finished database, read-only directory: output differs"
no_side_files "$tmp/ro/ro.db" "finished database, read-only directory"

# 2. the same file left in WAL mode without its -wal
chmod 755 "$tmp/ro"
sqlite3 "$tmp/ro/ro.db" "PRAGMA journal_mode=WAL" >/dev/null
no_side_files "$tmp/ro/ro.db" "sqlite3"
chmod 555 "$tmp/ro"
readall "$tmp/ro/ro.db" "$tmp/o2" >"$tmp/got.txt"
cmp "$tmp/want.txt" "$tmp/got.txt" || fail "WAL-mode file, read-only directory: output differs"
no_side_files "$tmp/ro/ro.db" "WAL-mode file, read-only directory"
#    and in a writable directory
chmod 777 "$tmp/ro"
chmod 666 "$tmp/ro/ro.db"
readall "$tmp/ro/ro.db" "$tmp/o3" >"$tmp/got.txt"
cmp "$tmp/want.txt" "$tmp/got.txt" || fail "WAL-mode file, writable directory: output differs"
no_side_files "$tmp/ro/ro.db" "WAL-mode file, writable directory"
expect_eq "journal mode after reading" "$(sqlite3 "$tmp/ro/ro.db" "PRAGMA journal_mode")" wal

# 3. a writer killed mid-sweep: its -wal (holding its commits) and -shm stay
#    in what is then a read-only directory
chmod 755 "$tmp/ro"
rm -f "$tmp/ro/ro.db"
cp "$tmp/w/c.db" "$tmp/ro/ro.db"
chmod 644 "$tmp/ro/ro.db"
# shellcheck disable=SC2086
"$bin" run "$scen" --db "$tmp/ro/ro.db" --quiet --set transport.path=ecmp \
    --set sim.seed="$(seq -s, 6 200)" --set workload.bytes=131072 &
pid=$!
while [ "$(sqlite3 "$tmp/ro/ro.db" "SELECT count(*) FROM runs WHERE seed >= 6 AND status = 'done'" 2>/dev/null || echo 0)" -lt 2 ]; do
    sleep 0.01
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
[ -e "$tmp/ro/ro.db-wal" ] && [ -e "$tmp/ro/ro.db-shm" ] || fail "the killed writer left no -wal and -shm"
# root's count through a read-only connection (which checkpoints nothing)
n=$(sqlite3 -readonly "$tmp/ro/ro.db" "SELECT count(*) FROM runs")
[ "$n" -ge 12 ] || fail "killed writer: only $n runs"
ls -l "$tmp/ro" >"$tmp/before.txt"
chmod 555 "$tmp/ro"
# shellcheck disable=SC2086
got=$($run_as "$bin" export --db "$tmp/ro/ro.db" --table runs -o "$tmp/o1/runs.csv" 2>&1) ||
    fail "killed writer, read-only directory: export: $got"
expect_eq "runs read beside a killed writer's -wal" "$(($(wc -l <"$tmp/o1/runs.csv") - 1))" "$n"
ls -l "$tmp/ro" >"$tmp/after.txt"
cmp "$tmp/before.txt" "$tmp/after.txt" || fail "reading changed the files beside a killed writer's database"
echo "readonly_db: 10 runs from 5 writers; report, export and plot read 3 kinds of file as a non-root user and left nothing beside them"
