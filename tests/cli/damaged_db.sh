#!/bin/sh
# damaged_db.sh - `moesim run` refuses a database that fails SQLite's
# quick_check: exit status 2, one line naming the file and the first problem,
# and the file is left byte for byte as it was (no run added, --resume or
# not). The damage is a zeroed page of a table an all-to-all run never
# writes (gpu_load), so without the check the sweep would append to the
# file and succeed. report and export still read the intact tables.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
db=$T/d.db
"$MOESIM" run scenarios/alltoall.ini --db "$db" --quiet --set transport.path=ecmp,spray
page=$(sqlite3 "$db" "PRAGMA page_size")
root=$(sqlite3 "$db" "SELECT rootpage FROM sqlite_master WHERE name = 'gpu_load'")
dd if=/dev/zero of="$db" bs="$page" seek=$((root - 1)) count=1 conv=notrunc 2>/dev/null
[ "$(sqlite3 "$db" "PRAGMA quick_check" 2>/dev/null)" != ok ] || fail "the damage did not damage"
cp "$db" "$T/before.db"
for resume in "" --resume; do
    set +e
    # shellcheck disable=SC2086
    "$MOESIM" run scenarios/alltoall.ini --db "$db" --quiet --set sim.seed=2 $resume >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    expect_eq "exit status ($resume)" "$rc" 2
    # SQLite words the problem itself (3.40: "btreeInitPage() returns error code 11")
    expect_eq "stderr lines ($resume)" "$(wc -l <"$T/err")" 1
    case "$(cat "$T/err")" in
    "moesim: $db: the database is damaged (PRAGMA quick_check: Page $root: "*"); no run was added, write to another --db") ;;
    *) fail "stderr ($resume): $(cat "$T/err")" ;;
    esac
    expect_eq "stdout ($resume)" "$(cat "$T/out")" ""
    cmp "$db" "$T/before.db" || fail "the damaged file was changed ($resume)"
    [ ! -e "$db-wal" ] || fail "a -wal was left ($resume)"
done
"$MOESIM" export --db "$db" --table runs -o "$T/runs.csv" 2>/dev/null
expect_eq "runs still readable" "$(($(wc -l <"$T/runs.csv") - 1))" 2
echo "damaged_db: refused with exit 2, file unchanged"
