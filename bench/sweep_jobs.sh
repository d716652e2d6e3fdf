#!/bin/sh
# sweep_jobs.sh [MOESIM] - a 200-run sweep of small scenarios (16-host
# all-to-all of 64 KiB per pair, 2 transports x 100 seeds) with --jobs 1 and
# with --jobs 2: wall time of each and their ratio, and a check that both
# wrote the same rows. See bench/README.md.
set -eu
MOESIM=${1:-./moesim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/s.ini" <<'INI'
[topology]
leaves = 4
spines = 4
hosts_per_leaf = 4
[transport]
path = ecmp,spray
[workload]
kind = alltoall
bytes = 65536
[sim]
seed = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100
INI
wall() { # wall time of the command, seconds
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}
echo "sweep_jobs: 200 runs; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
w1=$(wall "$MOESIM" run "$T/s.ini" --db "$T/j1.db" --jobs 1 -q)
w2=$(wall "$MOESIM" run "$T/s.ini" --db "$T/j2.db" --jobs 2 -q)
printf 'jobs 1: %.2f s\njobs 2: %.2f s\nspeed-up (jobs 1 / jobs 2): %.2f\n' "$w1" "$w2" "$(echo "$w1 / $w2" | bc -l)"
q="SELECT run_id, phase, cct_ns, ideal_ns FROM phases ORDER BY run_id"
[ "$(sqlite3 "$T/j1.db" "$q" | md5sum)" = "$(sqlite3 "$T/j2.db" "$q" | md5sum)" ] &&
    echo "rows: identical" || { echo "rows: DIFFER"; exit 1; }
