#!/bin/sh
# flowrest_cmp.sh - the whole process of scenarios/moe_large.ini's MoE step
# on the flow engine (8 layers, flow.resolve_window = 0.1), old binary
# against new (bench/README.md, "Session 10: the flow run's whole process
# outside the solver (branch flowrest)").
#   sh bench/flowrest_cmp.sh OLD_MOESIM NEW_MOESIM [CASE...]
# Cases: spray, ecmp (the full step, each path mode), spray2, ecmp2
# (workload.layers = 2). Default: spray ecmp.
# For each case, by default: whether every table is the same (a run with
# output.flows = true; the sqlite3 dump of runs less its wall-clock and
# version columns, phases, links, flows and gpu_load, each in its key's
# order without run_id: a count and a hash per table, `dump`), then RUNS (default 5) whole-process runs of each binary alternating old,
# new, old, ... as the lead runs it (default --jobs and --threads, one run),
# each one's wall and user seconds (/usr/bin/time), and the medians.
# ICOUNT=1: instead of the timed runs, the instructions of each process
# (valgrind callgrind, --trace-children=yes, --threads 1, no flows table):
# the parent's, the simulating worker's and their sum (CGKEEP=DIR keeps
# the callgrind files there).
set -eu
OLD=$1
NEW=$2
shift 2
R=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$OLD" "$tmp/old"
cp "$NEW" "$tmp/new"
M=$R/scenarios/moe_large.ini
W="--set sim.engine=flow --set flow.resolve_window=0.1"
args() {
    case $1 in
    spray) echo "$M --set transport.path=spray $W" ;;
    ecmp) echo "$M --set transport.path=ecmp $W" ;;
    spray2) echo "$M --set transport.path=spray --set workload.layers=2 $W" ;;
    ecmp2) echo "$M --set transport.path=ecmp --set workload.layers=2 $W" ;;
    *)
        echo "flowrest_cmp.sh: unknown case $1" >&2
        exit 2
        ;;
    esac
}
# dump NAME DB: per table its rows and a hash of their dump.
dump() {
    for q in "runs|SELECT scenario, status, seed, engine, events, sim_ns, message FROM runs" \
        "phases|SELECT iter, layer, phase, start_ns, end_ns, cct_ns, ideal_ns, bytes, ideal_kind FROM phases ORDER BY rowid" \
        "links|SELECT link, kind, src, dst, gbps, bytes, busy_ns, max_queue_bytes, drops, ecn_marks, trims, pause_ns FROM links ORDER BY link" \
        "flows|SELECT flow, src, dst, bytes, start_ns, end_ns, retx_bytes, timeouts, nacks, cnps FROM flows ORDER BY flow" \
        "gpu_load|SELECT layer, gpu, tokens FROM gpu_load ORDER BY layer, gpu"; do
        t=${q%%|*}
        sqlite3 "$2" "${q#*|}" >"$tmp/dump"
        printf '%-8s %-9s %8s %s\n' "$1" "$t" "$(wc -l <"$tmp/dump")" "$(sha256sum <"$tmp/dump" | cut -c1-16)"
    done
}
median() {
    sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
[ $# -gt 0 ] || set -- spray ecmp
for c in "$@"; do
    a=$(args "$c")
    for b in old new; do
        db=$tmp/$b.$c.db
        # shellcheck disable=SC2086 # the case's arguments split on purpose
        "$tmp/$b" run $a --set output.flows=true -q --db "$db" >/dev/null 2>&1
        dump "$c" "$db" >"$tmp/$b.$c.digest"
        rm -f "$db" "$db"-wal "$db"-shm
        [ "${ICOUNT:-0}" = 1 ] || continue
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/$b.$c.%p.cg" \
            "$tmp/$b" run $a --threads 1 -q --db "$db" >/dev/null 2>&1
        for f in "$tmp/$b.$c".*.cg; do grep '^summary' "$f" | cut -d' ' -f2; done | sort -n |
            awk -v c="$c" -v b="$b" '{v[NR] = $1; s += $1}
                END {printf "%s %s instructions: parent %.0f, worker %.0f, sum %.0f\n", c, b, v[1], v[NR], s}'
        [ -z "${CGKEEP:-}" ] || cp "$tmp/$b.$c".*.cg "$CGKEEP"/
        rm -f "$tmp/$b.$c".*.cg "$db" "$db"-wal "$db"-shm
    done
    if cmp -s "$tmp/old.$c.digest" "$tmp/new.$c.digest"; then
        echo "$c tables identical"
        cat "$tmp/new.$c.digest"
    else
        echo "$c tables DIFFER:"
        diff "$tmp/old.$c.digest" "$tmp/new.$c.digest" || true
    fi
    [ "${ICOUNT:-0}" = 1 ] && continue
    uptime
    : >"$tmp/old.w"
    : >"$tmp/new.w"
    i=0
    while [ "$i" -lt "${RUNS:-5}" ]; do
        for b in old new; do
            db=$tmp/$b.$c.t.db
            rm -f "$db" "$db"-wal "$db"-shm
            # shellcheck disable=SC2086
            /usr/bin/time -f "%e %U" -o "$tmp/time" "$tmp/$b" run $a -q --db "$db" >/dev/null 2>&1
            read -r wall user <"$tmp/time"
            echo "$c $b run $i: $wall s wall, $user s user"
            echo "$wall" >>"$tmp/$b.w"
        done
        i=$((i + 1))
    done
    uptime
    echo "$c median wall: old $(median <"$tmp/old.w") s, new $(median <"$tmp/new.w") s"
done
