#!/bin/sh
# question.sh [DB] - every run behind docs/question.md ("single-path or
# spraying, once reordering and loss have a cost?"): the 256-GPU leaf-spine
# of scenarios/question_roce.ini and question_uec.ini under three transport
# profiles: (a) RoCE (dcqcn, PFC, go-back-N), (b) UEC-like (nscc, 1-BDP
# buffers, trimming, selective repeat), and (0) today's idealized model
# (unbounded buffers, fixed window, free reordering) as the reference;
# three workloads: an all-to-all of 16 KiB per pair (4 MiB per host), a
# ring all-reduce of 16 MiB (RING_BYTES) and the real Mixtral-8x7B trace
# (4 layers of 256 tokens per GPU, the network phases compared); path
# modes ecmp, spray, adaptive, ethereal. Then plots/question.sh DB
# docs/figures/question draws the figure and prints the table.
set -eu
M=${MOESIM:-./moesim}
DB=${1:-results/question.db}
R=scenarios/question_roce.ini
U=scenarios/question_uec.ini
r() { "$M" run "$@" --db "$DB" --jobs "${JOBS:-1}" --quiet; }
ideal="--set switch.ctrl_priority=false --set transport.cc=window --set transport.recovery=none --set switch.pfc=false --set switch.ecn_kmin_bytes=0 --set switch.ecn_kmax_bytes=0 --set switch.buffer_bytes=0 --set switch.trim=false"
a2a="--set workload.kind=alltoall --set workload.bytes=16384"
ring="--set workload.kind=allreduce --set workload.algo=ring --set workload.bytes=${RING_BYTES:-16777216}"
moe="--set workload.kind=moe --set workload.trace=data/mixtral8x7b_gsm8k_routing.csv --set workload.hidden=4096 --set workload.ffn=14336 --set workload.dtype_bytes=2 --set workload.tokens_per_gpu=256 --set workload.layers=4 --set placement.policy=contiguous --set placement.replicas=248"
for w in a2a ring moe; do
    eval "wl=\$$w"
    # shellcheck disable=SC2086
    r "$R" $wl $ideal
    # shellcheck disable=SC2086
    r "$R" $wl
    # shellcheck disable=SC2086
    r "$U" $wl
done
