#!/bin/sh
# determinism.sh - same scenario and seed, same rows: two runs of a sweep
# (all five path modes on the default all-to-all, and seeded permutations
# with spraying) into two databases give identical rows in every table,
# wall-clock columns (started_at, finished_at, wall_s) left out. When the
# binary under test is the sanitizer build (-O1) and the default build
# (-O2, ./moesim) is there and up to date, the two builds must agree too.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# dump DB: every table's rows in a fixed order, minus the wall-clock columns
dump() {
    sqlite3 "$1" <<'SQL'
SELECT 'meta', key, value FROM meta ORDER BY key;
SELECT 'runs', id, scenario, status, seed, engine, events, sim_ns, version, message FROM runs ORDER BY id;
SELECT 'params', run_id, key, value FROM params ORDER BY run_id, key;
SELECT 'phases', * FROM phases ORDER BY run_id, iter, layer, phase, start_ns;
SELECT 'links', * FROM links ORDER BY run_id, link;
SQL
}

# sweep BIN OUT: runs the sweeps into a fresh $tmp/r.db (one path, as
# output.db is a recorded parameter) and dumps it to OUT
sweep() {
    rm -f "$tmp"/r.db*
    "$1" run scenarios/alltoall.ini --db "$tmp/r.db" --quiet --set workload.bytes=262144
    "$1" run scenarios/alltoall.ini --db "$tmp/r.db" --quiet --set workload.kind=permutation \
        --set transport.path=spray,adaptive --set sim.seed=1,2,3 --set sim.iterations=2
    dump "$tmp/r.db" >"$2"
}

sweep "$MOESIM" "$tmp/a.txt"
sweep "$MOESIM" "$tmp/b.txt"
[ "$(grep -c '^runs|' "$tmp/a.txt")" = 11 ] || { echo "expected 11 runs"; exit 1; }
[ "$(grep -c '^links|' "$tmp/a.txt")" = $((11 * 64)) ] || { echo "expected 704 link rows"; exit 1; }
diff "$tmp/a.txt" "$tmp/b.txt" || { echo "two runs of one binary differ"; exit 1; }

case "$MOESIM" in
*build-san/*)
    if [ ! -x ./moesim ]; then
        echo "note: ./moesim (the -O2 build) not built; cross-build comparison skipped"
    elif [ -n "$(find sim topo workloads results kernels -newer ./moesim \( -name '*.c' -o -name '*.h' \) | head -1)" ]; then
        echo "note: ./moesim is older than the sources; cross-build comparison skipped"
    else
        sweep ./moesim "$tmp/o2.txt"
        diff "$tmp/a.txt" "$tmp/o2.txt" || { echo "the -O1 sanitizer build and the -O2 build differ"; exit 1; }
        echo "determinism: -O2 and sanitizer builds agree"
    fi
    ;;
esac
echo "determinism: $(wc -l <"$tmp/a.txt") rows identical across two runs"
