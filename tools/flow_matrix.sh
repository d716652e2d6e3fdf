#!/bin/sh
# flow_matrix.sh - the flow engine's accuracy matrix (docs/flow-engine.md):
# each case runs through both engines (tools/engine_compare.sh) and prints
# one row per run of its sweep: case, run label, network phases, median and
# worst |phase error| %, flow-completion p50 and p99 errors %, the run's
# end (step) error %.
#   sh tools/flow_matrix.sh ./moesim [quick|all|ethereal|files] [--set k=v ...]
# quick: the cases that take seconds (no MoE on the 64-expert trace);
# ethereal: only the transport.path = ethereal rows (also in quick); files:
# only the fabrics from files (also in quick); the
# --set options go to every case (both engines: the packet engine ignores
# the [flow] keys), e.g. --set flow.resolve_window=0.01.
set -eu
bin=$1
mode=${2:-all}
shift 2 2>/dev/null || shift $#
extra="$*"
here=$(dirname "$0")
row() {
    name=$1
    shift
    # shellcheck disable=SC2086 # extra: words on purpose
    sh "$here/engine_compare.sh" "$bin" "$@" $extra | awk -v name="$name" '
        $1 == "phase" { n[$2]++; e = $7 < 0 ? -$7 : $7; v[$2, n[$2]] = e }
        $1 == "fct" { p50[$2] = $6; p99[$2] = $10 }
        $1 == "step" { st[$2] = $5 }
        END {
            for (l in n) {
                m = n[l]
                for (i = 1; i <= m; i++) a[i] = v[l, i]
                for (i = 2; i <= m; i++) { x = a[i]; j = i - 1
                    while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
                printf "%s | %s | %d | %.2f | %.2f | %s | %s | %s\n", name, l, m,
                    a[int((m + 1) / 2)], a[m], p50[l] == "" ? "-" : p50[l], p99[l] == "" ? "-" : p99[l], st[l]
            }
        }' | sort
}
S=scenarios
ethereal() {
    row "ethereal alltoall 16h 1:1" $S/alltoall.ini --set transport.path=ethereal
    row "ethereal alltoall 16h 4:1" $S/alltoall.ini --set transport.path=ethereal --set topology.fabric_gbps=25
    row "ethereal permutation 16h 1:1" $S/alltoall.ini --set workload.kind=permutation \
        --set transport.path=ethereal
    row "ethereal alltoall fat tree 32h" $S/fat_tree.ini --set transport.path=ethereal
    row "ethereal moe mixtral 16 GPUs" $S/moe_mixtral.ini --set placement.policy=contiguous \
        --set transport.path=ethereal
}
# fabrics read from files (topology.kind = file: data/fabrics/), every mode
# the flow engine runs; files: only these rows
files() {
    F=data/fabrics
    for f in leaf_spine_4x4.graphml ring_mesh.graphml fat_tree_16.topo; do
        for w in alltoall permutation; do
            row "file $f $w" $S/fabric_file.ini --set topology.file=$F/$f --set workload.kind=$w \
                --set transport.path=ecmp,spray,spray_rr,split,adaptive,ethereal
        done
    done
}
if [ "$mode" = files ]; then
    files
    exit 0
fi
if [ "$mode" = ethereal ]; then
    ethereal
    exit 0
fi
row "alltoall 16h 1:1" $S/alltoall.ini
row "alltoall 16h 4:1" $S/alltoall.ini --set topology.fabric_gbps=25
row "permutation 16h 1:1" $S/alltoall.ini --set workload.kind=permutation --set transport.path=ecmp,spray,split
row "permutation 16h 4:1" $S/alltoall.ini --set workload.kind=permutation --set topology.fabric_gbps=25 \
    --set transport.path=ecmp,spray,split
row "ring allreduce 16h 1:1" $S/alltoall.ini --set workload.kind=allreduce --set workload.algo=ring \
    --set transport.path=ecmp,spray
row "ring allreduce 16h 4:1" $S/alltoall.ini --set workload.kind=allreduce --set workload.algo=ring \
    --set topology.fabric_gbps=25 --set transport.path=spray
row "incast 32-to-1, 256h" $S/incast.ini
row "alltoall fat tree 32h" $S/fat_tree.ini --set transport.path=ecmp,spray,split,adaptive
row "moe mixtral 16 GPUs" $S/moe_mixtral.ini --set placement.policy=contiguous
row "moe mixtral 16 GPUs 4:1" $S/moe_mixtral.ini --set placement.policy=contiguous \
    --set topology.fabric_gbps=100 --set transport.path=ecmp,spray
files
ethereal
[ "$mode" = quick ] && exit 0
row "moe fit-e64 256 GPUs (1 layer, 256 tok)" $S/moe_large.ini --set workload.layers=1 \
    --set workload.tokens_per_gpu=256 --set transport.path=ecmp
