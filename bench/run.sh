#!/bin/sh
# run.sh MOESIM - the benchmarks of bench/README.md: each scenario and
# transport in its own process, so wall time and peak memory are the whole
# process's. Prints one line per run: wall time, events per second, peak
# memory, network time over the ideal bound. BENCH_QUICK=1 skips the 8192-host
# runs.
set -eu
MOESIM=${1:-./moesim}
DB=$(mktemp -d)/bench.db
now() { date +%s.%N; }
one() { # name scenario path
    t0=$(now)
    out=$("$MOESIM" run "$2" --set transport.path="$3" --db "$DB")
    t1=$(now)
    line=$(echo "$out" | grep '^run ')
    ev=$(echo "$line" | sed -n 's/.*, \([0-9]*\) events in \([0-9.]*\) s (\([0-9.]*\) M\/s).*/\1 \3/p')
    ratio=$(echo "$line" | sed -n 's/.*(x\([0-9.]*\)).*/\1/p')
    mem=$(echo "$out" | sed -n 's/.*peak memory \([0-9.]*\) MiB.*/\1/p')
    printf '%-10s %-9s wall %7.3f s  events %10s  %6s M ev/s  peak %7s MiB  cct/ideal %s\n' \
        "$1" "$3" "$(echo "$t1 - $t0" | bc)" ${ev% *} ${ev#* } "$mem" "$ratio"
}
echo "moesim bench on $(nproc) cores, $(date -u +%Y-%m-%d)"
for p in ecmp spray spray_rr split adaptive; do one a2a16 bench/a2a16.ini $p; done
for p in ecmp spray adaptive; do one a2a256 bench/a2a256.ini $p; done
if [ "${BENCH_QUICK:-0}" != 1 ]; then
    for p in ecmp spray; do one perm8192 bench/perm8192.ini $p; done
fi
rm -rf "$(dirname "$DB")"
