#!/bin/sh
# regress.sh MOESIM [OUT] - the regression gate (docs/architecture.md): runs a
# fixed set of small scenarios (every shipped scenario at a size that runs in
# seconds, the bench cases scaled down, a sweep with --jobs 2 and one with
# --threads 2) and prints one digest line per scenario and table: every row of
# every table, wall-clock columns (started_at, finished_at, wall_s, version)
# and output.* paths left out, each run named by its resolved parameters
# rather than its id (so worker order does not matter). Two binaries that
# simulate the same things print the same lines. tests/golden/digests.txt
# holds main's; tests/cli/golden.sh compares.
set -eu
. "$(dirname "$0")/digest.inc"
MOESIM=${1:?usage: regress.sh MOESIM [OUT]}
OUT=${2:-/dev/stdout}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/out"
digest() { # name db: every table
    digest_db "$1" "$2" runs params phases links flows timeseries gpu_load trace_use tasks >>"$tmp/out"
}
one() { # name scenario [options]
    name=$1 scen=$2
    shift 2
    rm -f "$tmp"/r.db*
    "$MOESIM" run "$scen" --db "$tmp/r.db" --quiet "$@" >/dev/null
    digest "$name" "$tmp/r.db"
}
one alltoall scenarios/alltoall.ini --set workload.bytes=262144
one alltoall_s scenarios/alltoall.ini --set workload.bytes=65536 --set output.sample_ns=5000 \
    --set output.flows=true
one permutation scenarios/permutation.ini --set topology.leaves=8 --set topology.spines=8 \
    --set topology.hosts_per_leaf=8 --set workload.bytes=262144
one moe_mixtral scenarios/moe_mixtral.ini --set workload.layers=4 --set workload.tokens_per_gpu=64
one moe_large scenarios/moe_large.ini --set topology.leaves=4 --set topology.spines=4 \
    --set topology.hosts_per_leaf=8 --set placement.replicas=0 \
    --set workload.layers=2 --set workload.tokens_per_gpu=64 --threads 2
one paper scenarios/paper.ini --set workload.layers=2 --set workload.tokens_per_gpu=32 \
    --set placement.policy=contiguous,eplb --set sim.seed=1 --set output.sample_ns=20000
one place_cmp scenarios/placement_compare.ini --set workload.tokens_per_gpu=32 \
    --set placement.policy=contiguous,round_robin,random,load_greedy,eplb,affinity,moetuner
one place_skew scenarios/placement_skew.ini --set workload.tokens_per_gpu=64 --set workload.layers=2
one fabric_file scenarios/fabric_file.ini --set workload.bytes=16384
one a2a16 bench/a2a16.ini --set transport.path=ecmp,spray,spray_rr,split,adaptive
one a2a256 bench/a2a256.ini --set topology.leaves=8 --set topology.hosts_per_leaf=8 \
    --set workload.bytes=16384 --set transport.path=ecmp,spray,adaptive
one perm8192 bench/perm8192.ini --set topology.leaves=16 --set topology.spines=8 \
    --set topology.hosts_per_leaf=16 --set workload.bytes=262144 --set transport.path=ecmp,spray
one jobs2 scenarios/alltoall.ini --set workload.kind=permutation --set sim.seed=1,2,3 \
    --set sim.iterations=2 --set transport.path=spray,adaptive --jobs 2
one threads2 scenarios/moe_mixtral.ini --set workload.layers=3 --set workload.tokens_per_gpu=32 \
    --set transport.path=ecmp --threads 2
one moe_hier scenarios/moe_hier.ini --set workload.layers=2 --set workload.tokens_per_gpu=32 \
    --set workload.overlap=none,dual_batch --set placement.policy=round_robin --threads 2
# the flow engine (none of the above runs it): a small MoE step and the
# permutation on the fabrics from files (the mesh's acknowledgement case)
one flow_moe scenarios/moe_mixtral.ini --set workload.layers=4 --set workload.tokens_per_gpu=64 \
    --set sim.engine=flow --set transport.path=ecmp,spray
one flow_file scenarios/fabric_file.ini --set workload.kind=permutation --set sim.engine=flow \
    --set transport.path=ecmp,ethereal
cat "$tmp/out" >"$OUT"
