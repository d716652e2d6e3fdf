#!/bin/sh
# unwritable.sh - a results database or CSV that cannot be written: a
# read-only file, a directory without write permission (WAL mode needs its
# -wal and -shm files), a directory that cannot be created, a path that is a
# directory, a path through a regular file. Each is found before any run
# starts (every distinct output path of the sweep is checked), gives one
# line naming the key where it was set, exit status 2, and leaves no run
# behind. Permissions do not stop root, so as root the binary runs as
# nobody (setpriv); without setpriv the permission cases are skipped.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
. tests/cli/lib.inc
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
unprivileged unwritable
scen=$PWD/scenarios/alltoall.ini
bin=$MOESIM

# expect DB MESSAGE: the run fails with exactly MESSAGE on stderr, status 2
expect() {
    set +e
    # shellcheck disable=SC2086
    $run_as "$bin" run "$scen" --db "$1" --quiet --set transport.path=ecmp >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [ "$rc" = 2 ] || { echo "$1: exit status $rc, expected 2"; cat "$tmp/err"; exit 1; }
    [ "$(cat "$tmp/err")" = "$2" ] || { echo "$1: got '$(cat "$tmp/err")'"; echo "expected '$2'"; exit 1; }
}

# a path that is a directory (no permissions involved)
mkdir "$tmp/isdir.db"
save=$run_as
run_as=""
expect "$tmp/isdir.db" "moesim: --set output.db=$tmp/isdir.db: $tmp/isdir.db is a directory"
: >"$tmp/file"
expect "$tmp/file/sub/r.db" "moesim: --set output.db=$tmp/file/sub/r.db: $tmp/file is not a directory"
# the CSV: a directory, from the scenario file (its line named), and
# both bad paths of one sweep at once
printf '[transport]\npath = ecmp\n[output]\ncsv = isdir.db\n' >"$tmp/csv.ini"
set +e
"$bin" run "$tmp/csv.ini" --db "$tmp/ok.db" --quiet >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || { echo "csv a directory: exit status $rc"; exit 1; }
[ "$(cat "$tmp/err")" = "moesim: $tmp/csv.ini:4: output.csv: $tmp/isdir.db is a directory" ] ||
    { echo "csv a directory: got '$(cat "$tmp/err")'"; exit 1; }
[ ! -e "$tmp/ok.db" ] || { echo "a sweep with a bad output path created the database"; exit 1; }
set +e
"$bin" run "$scen" --quiet --set transport.path=ecmp,spray --db "$tmp/isdir.db" \
    --set output.csv="$tmp/file/p.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || { echo "two bad outputs: exit status $rc"; exit 1; }
[ "$(cat "$tmp/err")" = "moesim: --set output.db=$tmp/isdir.db: $tmp/isdir.db is a directory
moesim: --set output.csv=$tmp/file/p.csv: $tmp/file is not a directory" ] ||
    { echo "two bad outputs: got '$(cat "$tmp/err")'"; exit 1; }
run_as=$save

if [ "$run_as" != skip ]; then
    # the binary and scenario must be reachable by nobody
    cp "$MOESIM" "$tmp/moesim"
    cp "$scen" "$tmp/s.ini"
    chmod 755 "$tmp/moesim"
    chmod 644 "$tmp/s.ini"
    bin=$tmp/moesim
    scen=$tmp/s.ini
    # a read-only database file in a writable directory (one good run in it)
    mkdir "$tmp/w"
    chmod 777 "$tmp/w"
    "$bin" run "$scen" --db "$tmp/w/ro.db" --quiet --set transport.path=ecmp
    chmod 444 "$tmp/w/ro.db"
    expect "$tmp/w/ro.db" "moesim: --set output.db=$tmp/w/ro.db: cannot write $tmp/w/ro.db: Permission denied"
    [ "$(sqlite3 "$tmp/w/ro.db" "SELECT count(*) FROM runs")" = 1 ]
    # a directory nobody may write in: new file, then an existing writable file
    mkdir "$tmp/rodir"
    chmod 555 "$tmp/rodir"
    expect "$tmp/rodir/r.db" "moesim: --set output.db=$tmp/rodir/r.db: cannot write in directory $tmp/rodir: Permission denied"
    [ ! -e "$tmp/rodir/r.db" ]
    expect "$tmp/rodir/sub/r.db" "moesim: --set output.db=$tmp/rodir/sub/r.db: cannot create directory $tmp/rodir/sub: Permission denied"
    chmod 755 "$tmp/rodir"
    "$bin" run "$scen" --db "$tmp/rodir/w.db" --quiet --set transport.path=ecmp
    chmod 666 "$tmp/rodir/w.db"
    rm -f "$tmp/rodir/w.db-wal" "$tmp/rodir/w.db-shm"
    chmod 555 "$tmp/rodir"
    expect "$tmp/rodir/w.db" "moesim: --set output.db=$tmp/rodir/w.db: cannot write in directory $tmp/rodir: Permission denied"
    [ "$(sqlite3 -readonly "$tmp/rodir/w.db" "SELECT count(*) FROM runs WHERE status = 'done'")" = 1 ]
fi
echo "unwritable: every case refused with its message"
