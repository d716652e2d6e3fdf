#!/bin/sh
# compare.sh OLD NEW [RUNS] - every bench case (bench/run.sh's: the 16-host
# all-to-all with five transports, the 256-host all-to-all with three, the
# 8192-host permutation with two on the leaf-spine and on the fat-tree, the
# 256-GPU MoE step) run by two binaries
# side by side: for each case the two alternate, RUNS times each (default 5),
# each run its own process; prints per case the median wall time of each and
# the new one's over the old one's. COMPARE_QUICK=1 leaves out the 8192-host
# and MoE cases. The regression gate of docs/architecture.md: no case slower
# by more than 3%.
set -eu
OLD=${1:?usage: compare.sh OLD NEW [RUNS]}
NEW=${2:?usage: compare.sh OLD NEW [RUNS]}
RUNS=${3:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
case_() { # name scenario path [options]
    name=$1 scen=$2 path=$3
    shift 3
    : >"$tmp/old" && : >"$tmp/new"
    i=0
    while [ $i -lt "$RUNS" ]; do
        for which in old new; do
            bin=$OLD
            [ $which = new ] && bin=$NEW
            rm -f "$tmp"/db*
            t0=$(now)
            "$bin" run "$scen" --set transport.path="$path" --db "$tmp/db" "$@" >"$tmp/out"
            t1=$(now)
            echo "$t1 - $t0" | bc >>"$tmp/$which"
            sed -n 's/.*, \([0-9]*\) events in .*/\1/p' "$tmp/out" | head -1 >"$tmp/ev.$which"
        done
        i=$((i + 1))
    done
    mo=$(median <"$tmp/old")
    mn=$(median <"$tmp/new")
    eo=$(cat "$tmp/ev.old")
    en=$(cat "$tmp/ev.new")
    # the two may simulate different events (a change of random streams moves
    # ECMP's hashing): then compare the time per event too
    printf '%-9s %-9s old %8.3f s  new %8.3f s  new/old %.3f  events %s / %s  per event %.3f\n' \
        "$name" "$path" "$mo" "$mn" "$(echo "$mn / $mo" | bc -l)" "$eo" "$en" \
        "$(echo "($mn / $en) / ($mo / $eo)" | bc -l)"
}
echo "compare.sh: $RUNS runs each, $(date -u '+%Y-%m-%d %H:%M UTC'), uptime:$(uptime | sed 's/.*up/ up/')"
for p in ecmp spray spray_rr split adaptive; do case_ a2a16 bench/a2a16.ini $p; done
for p in ecmp spray adaptive; do case_ a2a256 bench/a2a256.ini $p; done
if [ "${COMPARE_QUICK:-0}" != 1 ]; then
    for p in ecmp spray; do case_ perm8192 bench/perm8192.ini $p; done
    # both binaries need topology.kind = fat_tree (issue 12)
    for p in ecmp spray; do case_ ft8192 bench/fat_tree8192.ini $p; done
    # the trace by absolute path: binaries before scenario-relative paths
    # read the scenario's relative paths from the current directory
    case_ moe256 scenarios/moe_large.ini spray --set transport.ack_every=8 \
        --set workload.trace="$PWD/data/mixtral_fit_e64.csv"
fi
echo "uptime at the end:$(uptime | sed 's/.*up/ up/')"
