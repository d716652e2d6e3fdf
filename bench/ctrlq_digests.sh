#!/bin/sh
# ctrlq_digests.sh MOESIM [OUT] - digests (tools/digest.inc: every row of
# runs, phases, links, flows and timeseries, each run named by its
# parameters) of runs with switch.ctrl_priority = true on the fast path:
# a2a16 under ecmp and spray, 4:1 oversubscribed, nscc with ECN, dcqcn,
# 16 KiB buffers with trimming and selective repeat, a scaled UEC-like
# permutation, an incast, a MoE layer with sampling (pkt_ctrlq_sent) and a
# link failing during the run (pkt_ctrlq_flatten). Two binaries whose
# control class simulates the same things print the same lines (the lazy
# shift against the eager walk it replaced: docs/transports.md). The flows
# table's cnps column (newer than the walk) is left out so that binaries
# from before it compare.
set -eu
. "$(dirname "$0")/../tools/digest.inc"
MOESIM=${1:?usage: ctrlq_digests.sh MOESIM [OUT]}
OUT=${2:-/dev/stdout}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/out"
one() { # name scenario [options]
    name=$1 scen=$2
    shift 2
    rm -f "$tmp"/r.db*
    "$MOESIM" run "$scen" --db "$tmp/r.db" --quiet --set output.flows=true \
        --set switch.ctrl_priority=true "$@" >/dev/null
    if sqlite3 "$tmp/r.db" "SELECT 1 FROM pragma_table_info('flows') WHERE name = 'cnps'" | grep -q 1; then
        sqlite3 "$tmp/r.db" "ALTER TABLE flows DROP COLUMN cnps"
    fi
    digest_db "$name" "$tmp/r.db" runs phases links flows timeseries >>"$tmp/out"
}
A=bench/a2a16.ini
ECN="--set switch.ecn_kmin_bytes=20000 --set switch.ecn_kmax_bytes=80000"
TRIM="--set switch.buffer_bytes=16384 --set switch.trim=true --set transport.recovery=selective --set transport.rto_ns=20000"
# shellcheck disable=SC2086
{
    one a2a16 $A --set workload.bytes=262144 --set transport.path=ecmp,spray,adaptive
    one a2a16_4to1 $A --set workload.bytes=262144 --set topology.fabric_gbps=25
    one a2a16_nscc $A --set workload.bytes=262144 $ECN --set transport.cc=nscc,dctcp \
        --set transport.path=ecmp,spray
    one a2a16_dcqcn $A --set workload.bytes=262144 --set transport.cc=dcqcn \
        --set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 --set switch.ecn_pmax=0.01
    one a2a16_trim $A --set workload.bytes=262144 $TRIM --set transport.path=ecmp,spray
    one a2a16_drop $A --set workload.bytes=262144 --set switch.buffer_bytes=16384 \
        --set transport.recovery=goback_n --set transport.rto_ns=20000 --set transport.path=ecmp,spray
    one uec bench/perm8192.ini --set topology.leaves=8 --set topology.spines=4 \
        --set topology.hosts_per_leaf=8 --set workload.bytes=131072 $ECN \
        --set switch.buffer_bytes=118784 --set switch.trim=true --set transport.cc=nscc \
        --set transport.recovery=selective --set transport.path=ecmp,spray
    one incast scenarios/incast.ini --set workload.bytes=65536 --set switch.buffer_bytes=65536 \
        --set switch.trim=true --set transport.recovery=selective
    one moe scenarios/moe_mixtral.ini --set workload.layers=2 --set workload.tokens_per_gpu=32 \
        --set output.sample_ns=5000
    one fail scenarios/link_failure.ini --set transport.cc=nscc,window $ECN
}
cat "$tmp/out" >"$OUT"
