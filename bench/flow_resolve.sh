#!/bin/sh
# flow_resolve.sh - the flow engine's re-solve, old binary against new, on
# scaled-down cases of scenarios/moe_large.ini and bench/moe256_train.ini
# (bench/README.md, "Session 8: flow re-solve"). For each case: both
# binaries' user seconds, wall seconds and peak memory (/usr/bin/time, one
# run each, --threads 1), and whether every table's digest (tools/digest.inc)
# is the same. ICOUNT=1: instead, the instructions of each run's simulating
# process (valgrind callgrind; the largest count of the processes), which
# loaded machines do not move.
#   sh bench/flow_resolve.sh OLD_MOESIM NEW_MOESIM [CASE...]
# Cases: ecmp1 spray1 split1 (moe_large, 1 layer, flow.resolve_window = 0.1),
# exact128 (1 layer, 128 tokens per GPU, exact re-solves), exact64 (64),
# train1 (the training step, 1 layer, 256 tokens per GPU, an 8 MiB gradient
# ring, window 0.1), trainw (64 tokens, 1 MiB ring, window 0.1), trainx
# (64 tokens, 1 MiB ring, exact). Default: all.
set -eu
OLD=$1
NEW=$2
shift 2
R=$(cd "$(dirname "$0")/.." && pwd)
. "$R/tools/digest.inc"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$OLD" "$tmp/old"
cp "$NEW" "$tmp/new"
M=$R/scenarios/moe_large.ini
T=$R/bench/moe256_train.ini
L1="--set workload.layers=1"
W="--set flow.resolve_window=0.1"
args() {
    case $1 in
    ecmp1) echo "$M --set transport.path=ecmp $L1 $W" ;;
    spray1) echo "$M --set transport.path=spray $L1 $W" ;;
    split1) echo "$M --set transport.path=split $L1 $W" ;;
    exact128) echo "$M --set transport.path=ecmp $L1 --set workload.tokens_per_gpu=128" ;;
    exact64) echo "$M --set transport.path=ecmp $L1 --set workload.tokens_per_gpu=64" ;;
    train1) echo "$T $L1 --set workload.tokens_per_gpu=256 --set workload.dense_bytes=8388608 $W" ;;
    trainw) echo "$T $L1 --set workload.tokens_per_gpu=64 --set workload.dense_bytes=1048576 $W" ;;
    trainx) echo "$T $L1 --set workload.tokens_per_gpu=64 --set workload.dense_bytes=1048576" ;;
    *)
        echo "flow_resolve.sh: unknown case $1" >&2
        exit 2
        ;;
    esac
}
[ $# -gt 0 ] || set -- ecmp1 spray1 split1 exact128 train1 trainw trainx
for c in "$@"; do
    a=$(args "$c")
    for b in old new; do
        db=$tmp/$b.$c.db
        # shellcheck disable=SC2086 # the case's arguments split on purpose
        if [ "${ICOUNT:-0}" = 1 ]; then
            valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/$b.$c.%p.cg" \
                "$tmp/$b" run $a --set sim.engine=flow --threads 1 -q --db "$db" >/dev/null 2>&1
            n=$(for f in "$tmp/$b.$c".*.cg; do grep '^summary' "$f" | cut -d' ' -f2; done | sort -n | tail -1)
            echo "$c $b instructions $n"
        else
            /usr/bin/time -f "$c $b %U s user %e s wall %M KB" "$tmp/$b" run $a --set sim.engine=flow \
                --threads 1 -q --db "$db" >/dev/null 2>"$tmp/time"
            tail -1 "$tmp/time"
        fi
        digest_db "$c" "$db" runs phases links flows gpu_load >"$tmp/$b.$c.digest"
        rm -f "$db" "$db"-wal "$db"-shm "$tmp/$b.$c".*.cg
    done
    if cmp -s "$tmp/old.$c.digest" "$tmp/new.$c.digest"; then
        echo "$c tables identical"
    else
        echo "$c tables DIFFER:"
        diff "$tmp/old.$c.digest" "$tmp/new.$c.digest" || true
    fi
done
