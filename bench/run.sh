#!/bin/sh
# run.sh MOESIM - the benchmarks of bench/README.md: each scenario and
# transport in its own process, so wall time and peak memory are the whole
# process's. Prints one line per run: wall time, events per second, peak
# memory, network time over the ideal bound. BENCH_QUICK=1 skips the 8192-host
# runs (leaf-spine and three-tier fat-tree) and the 256-GPU MoE steps.
set -eu
MOESIM=${1:-./moesim}
DB=$(mktemp -d)/bench.db
now() { date +%s.%N; }
one() { # name scenario path [moesim run options...]
    name=$1 scen=$2 path=$3
    shift 3
    t0=$(now)
    out=$("$MOESIM" run "$scen" --set transport.path="$path" --db "$DB" "$@")
    t1=$(now)
    line=$(echo "$out" | grep '^run ')
    ev=$(echo "$line" | sed -n 's/.*, \([0-9]*\) events in \([0-9.]*\) s (\([0-9.]*\) M\/s).*/\1 \3/p')
    ratio=$(echo "$line" | sed -n 's/.*(x\([0-9.]*\)).*/\1/p')
    mem=$(echo "$out" | sed -n 's/.*peak memory \([0-9.]*\) MiB.*/\1/p')
    printf '%-10s %-9s wall %7.3f s  events %10s  %6s M ev/s  peak %7s MiB  cct/ideal %s\n' \
        "$name" "$path" "$(echo "$t1 - $t0" | bc)" ${ev% *} ${ev#* } "$mem" "$ratio"
}
echo "moesim bench on $(nproc) cores, $(date -u +%Y-%m-%d)"
for p in ecmp spray spray_rr split adaptive; do one a2a16 bench/a2a16.ini $p; done
for p in ecmp spray adaptive; do one a2a256 bench/a2a256.ini $p; done
# The flow engine (sim.engine = flow) on the cases both engines run.
for p in ecmp spray spray_rr split adaptive; do one a2a16-flow bench/a2a16.ini $p --set sim.engine=flow; done
for p in ecmp spray adaptive; do one a2a256-flow bench/a2a256.ini $p --set sim.engine=flow; done
if [ "${BENCH_QUICK:-0}" != 1 ]; then
    for p in ecmp spray; do one perm8192 bench/perm8192.ini $p; done
    # issue 12: htsim's fat_tree_8192_1os shape, 2 MiB permutation (htsim's
    # own figures for the same case are in bench/README.md)
    for p in ecmp spray; do one ft8192 bench/fat_tree8192.ini $p; done
    # The MoE step of issue 3 (scenarios/moe_large.ini: 256 GPUs, 64 experts,
    # top-2, 8 layers, 4096 tokens per GPU): all cores, then one thread.
    for a in 8 1; do
        for th in $(nproc) 1; do
            echo "moe256: transport.ack_every=$a, --threads $th"
            one moe256 scenarios/moe_large.ini spray --set transport.ack_every=$a --threads $th
        done
    done
    one moe256 scenarios/moe_large.ini ecmp --set transport.ack_every=8
    for p in ecmp spray; do one perm8192-flow bench/perm8192.ini $p --set sim.engine=flow; done
    # exact re-solves take many minutes here; deferred (0.1) about 13 s of CPU
    one moe256-flow scenarios/moe_large.ini ecmp --set sim.engine=flow --set flow.resolve_window=0.1
    # issue 14's training step: forward and backward, 4 chunks pipelined
    one moe256t bench/moe256_train.ini spray
fi
rm -rf "$(dirname "$DB")"
