#!/bin/sh
# ideal_bound.sh - the ideal bound is a lower bound on every shipped
# scenario: each of scenarios/*.ini and bench/*.ini, scaled down to run in
# seconds (every path mode where the scenario sweeps transports), and no
# network phase in the database finishes before its ideal_ns. The database
# rounds start and end to the nanosecond separately, so cct_ns may be one
# below a bound the phase met to the picosecond: that is allowed, nothing
# more (tests/test_ideal.c checks the picoseconds). Every network phase
# names its bound's kind (ideal_kind lp or cut). A scenario added to
# scenarios/ or bench/ must get its scale-down here.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
paths=transport.path=ecmp,spray,spray_rr,split,adaptive
for f in scenarios/*.ini bench/*.ini; do
    case $f in
    scenarios/alltoall.ini) set -- --set workload.bytes=65536 --set "$paths" ;;
    scenarios/flows.ini | scenarios/incast.ini) set -- --set "$paths" ;;
    scenarios/fat_tree.ini) set -- --set workload.bytes=16384 --set "$paths" ;;
    scenarios/rail.ini)
        set -- --set workload.bytes=16384 --set topology.cross_rail=pxn,spine --set "$paths" ;;
    scenarios/fabric_file.ini) set -- --set workload.bytes=16384 --set "$paths" ;;
    scenarios/faults.ini) set -- --set workload.bytes=65536 --set "$paths" ;;
    scenarios/link_failure.ini) set -- --set "$paths,ethereal" ;;
    scenarios/question_roce.ini | scenarios/question_uec.ini)
        set -- --set topology.leaves=4 --set topology.spines=4 --set topology.hosts_per_leaf=4 \
            --set workload.bytes=16384 --set "$paths,ethereal" ;;
    scenarios/repro_ethereal_ls.ini)
        set -- --set topology.leaves=4 --set topology.spines=4 --set topology.hosts_per_leaf=4 \
            --set workload.bytes=16384 --set "$paths,ethereal" --set faults.down=l0-s3 ;;
    scenarios/repro_ethereal_ft.ini)
        set -- --set topology.pods=4 --set topology.leaves_per_pod=2 --set topology.aggs_per_pod=2 \
            --set topology.cores=4 --set topology.hosts_per_leaf=2 --set workload.bytes=16384 \
            --set "$paths,ethereal" --set faults.down=l0-a1 ;;
    scenarios/repro_ethereal_ft512.ini)
        set -- --set workload.bytes=1024 --set "$paths" --set faults.down=l0-a1 ;;
    scenarios/moe_large.ini)
        set -- --set topology.leaves=4 --set topology.spines=4 --set topology.hosts_per_leaf=8 \
            --set placement.replicas=0 --set workload.layers=2 --set workload.tokens_per_gpu=64 \
            --set "$paths" ;;
    scenarios/moe_4096.ini | scenarios/moe_16384.ini)
        set -- --set topology.leaves=4 --set topology.spines=4 --set topology.hosts_per_leaf=8 \
            --set placement.replicas=0 --set workload.layers=2 --set workload.tokens_per_gpu=16 \
            --set "$paths" ;;
    scenarios/moe_hier.ini)
        set -- --set workload.layers=2 --set workload.tokens_per_gpu=32 \
            --set workload.overlap=none,dual_batch ;;
    scenarios/moe_grad.ini)
        set -- --set workload.tokens_per_gpu=64 --set workload.dense_bytes=1048576 ;;
    scenarios/moe_mixtral.ini)
        set -- --set workload.layers=4 --set workload.tokens_per_gpu=64 --set "$paths" ;;
    scenarios/paper.ini)
        set -- --set workload.layers=2 --set workload.tokens_per_gpu=32 --set sim.seed=1 \
            --set placement.policy=contiguous,eplb --set output.flows=false \
            --set output.sample_ns=0 ;;
    scenarios/permutation.ini)
        set -- --set topology.leaves=8 --set topology.spines=8 --set topology.hosts_per_leaf=8 \
            --set workload.bytes=262144 --set "$paths" ;;
    scenarios/placement_compare.ini)
        set -- --set workload.tokens_per_gpu=32 --set "$paths" --set \
            placement.policy=contiguous,round_robin,random,load_greedy,eplb,affinity,moetuner ;;
    scenarios/placement_servers.ini)
        set -- --set workload.tokens_per_gpu=64 --set workload.layers=2 --set "$paths" ;;
    scenarios/placement_skew.ini)
        set -- --set workload.tokens_per_gpu=64 --set workload.layers=2 --set "$paths" ;;
    scenarios/moetuner_repro.ini)
        set -- --set workload.tokens_per_gpu=32 --set workload.layers=2 --set "$paths" ;;
    scenarios/tutel_chunks.ini | bench/moe256_train.ini)
        set -- --set topology.leaves=4 --set topology.spines=4 --set topology.hosts_per_leaf=8 \
            --set placement.replicas=0 --set workload.layers=2 --set workload.tokens_per_gpu=64 \
            --set "$paths" ;;
    bench/a2a16.ini) set -- --set workload.bytes=65536 --set "$paths" ;;
    bench/a2a256.ini)
        set -- --set topology.leaves=8 --set topology.hosts_per_leaf=8 \
            --set workload.bytes=16384 --set "$paths" ;;
    bench/perm8192.ini)
        set -- --set topology.leaves=16 --set topology.spines=8 --set topology.hosts_per_leaf=16 \
            --set workload.bytes=262144 --set "$paths" ;;
    bench/fat_tree8192.ini)
        set -- --set topology.pods=4 --set topology.leaves_per_pod=2 --set topology.aggs_per_pod=2 \
            --set topology.cores=4 --set topology.hosts_per_leaf=4 --set workload.bytes=65536 \
            --set "$paths" ;;
    *) fail "$f: no scale-down in tests/cli/ideal_bound.sh" ;;
    esac
    db=$tmp/$(basename "$f" .ini).db
    "$MOESIM" run "$f" --db "$db" --quiet "$@" >/dev/null || fail "$f: moesim run failed"
    q() { sqlite3 "$db" "$1"; }
    [ "$(q "select count(*) from runs where status != 'done'")" = 0 ] || fail "$f: a run not done"
    [ "$(q "select count(*) from phases where ideal_ns > 0")" -gt 0 ] || fail "$f: no network phase"
    [ "$(q "select count(*) from phases where ideal_ns > 0 and
        coalesce(ideal_kind, '') not in ('lp', 'cut')")" = 0 ] || fail "$f: a phase without ideal_kind"
    below=$(q "select count(*) from phases where ideal_ns > 0 and cct_ns + 1 < ideal_ns")
    [ "$below" = 0 ] || fail "$f: $below phases below their ideal bound: $(q "select run_id, iter,
        layer, phase, cct_ns, ideal_ns from phases where ideal_ns > 0 and cct_ns + 1 < ideal_ns
        limit 3")"
done
