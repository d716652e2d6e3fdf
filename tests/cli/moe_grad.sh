#!/bin/sh
# moe_grad.sh - the training step's gradient all-reduce keys
# (workload.grad_algo, grad_chunks, dp_layout) and decode's KV keys
# (workload.kv_context) from the command line: each bad combination refused
# before anything runs with the scenario's file:line, the key and exit
# status 2 (no database written); every workload.kind x workload.algo either
# runs or is refused with its one line; the good paths run.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TRACE=$PWD/tests/data/mixtral_excerpt.csv
# scen NAME WORKLOAD-LINES: a 12-GPU training scenario (2 leaves x 6)
scen() {
    printf '[topology]\nleaves = 2\nhosts_per_leaf = 6\n[workload]\nkind = moe\ntrace = %s\ntokens_per_gpu = 4\nlayers = 1\n%b[placement]\nreplicas = 4\n' \
        "$TRACE" "$2" >"$T/$1.ini"
}
TR='pass = training\ndense_bytes = 65536\n'
scen hd12 "${TR}grad_algo = halving_doubling\n"
expect_refused "11: workload.grad_algo: halving_doubling needs a data-parallel group of a power of two GPUs, not 12" hd12
scen hd_ch "${TR}dp_size = 4\ngrad_algo = halving_doubling\ngrad_chunks = 2\n"
expect_refused "13: workload.grad_chunks: chunk pipelining is modeled for workload.grad_algo = ring and tree, not halving_doubling (use 1)" hd_ch
scen ring_ch "${TR}dp_size = 4\ngrad_chunks = 16385\n"
expect_refused "12: workload.grad_chunks: 16385 chunks of 16384 bytes (a ring step of workload.dense_bytes) leave a chunk empty" ring_ch
scen tree_ch "${TR}grad_algo = tree\ngrad_chunks = 32769\n"
expect_refused "12: workload.grad_chunks: 32769 chunks of 32768 bytes (a tree's half of workload.dense_bytes) leave a chunk empty" tree_ch
scen kv_pre 'kv_context = 1024\n'
expect_refused "9: workload.kv_context: the KV-cache read model is for workload.stage = decode (prefill's attention: workload.attn_us)" kv_pre
scen layout 'dp_layout = rows\n'
expect_refused "9: workload.dp_layout: 'rows' is not one of strided|contiguous" layout
# the good paths: tree, halving-doubling and the pipelined ring on
# contiguous groups; decode with the KV model
scen tree "${TR}dp_size = 4\ndp_layout = contiguous\ngrad_algo = tree\ngrad_chunks = 4\n"
"$MOESIM" run "$T/tree.ini" --db "$T/tree.db" >/dev/null
expect_eq "tree rows: 3 groups x 2 trees x 3 edges x 2 x 4 chunks" \
    "$(sqlite3 "$T/tree.db" "SELECT count(*) FROM phases WHERE phase LIKE 'grad_tree_%'")" 144
scen hd "${TR}dp_size = 4\ngrad_algo = halving_doubling\n"
"$MOESIM" run "$T/hd.ini" --db "$T/hd.db" >/dev/null
expect_eq "halving-doubling rows: 3 groups x 4 steps x 4 GPUs" \
    "$(sqlite3 "$T/hd.db" "SELECT count(*) FROM phases WHERE phase LIKE 'grad_%'")" 48
scen dec 'stage = decode\nkv_context = 4096\n'
"$MOESIM" run "$T/dec.ini" --db "$T/dec.db" >/dev/null
# 4 sequences x 4096 tokens x 4096 bytes at 3350 GB/s = 20.0325 us, with no
# attn_us an attention row of its own (the rows are in whole ns: 20032)
expect_eq "decode attention row" \
    "$(sqlite3 "$T/dec.db" "SELECT end_ns - start_ns FROM phases WHERE phase = 'attention'")" 20032
# every kind x algo: runs, or its one line
printf '%s\n' \
    'alltoall auto ok' 'alltoall direct ok' 'alltoall ring no direct' 'alltoall halving_doubling no direct' 'alltoall tree no direct' \
    'alltoallv auto ok' 'alltoallv direct ok' 'alltoallv ring no direct' 'alltoallv halving_doubling no direct' 'alltoallv tree no direct' \
    'permutation auto ok' 'permutation direct ok' 'permutation ring no direct' 'permutation halving_doubling no direct' 'permutation tree no direct' \
    'allreduce auto ok' 'allreduce ring ok' 'allreduce halving_doubling ok' 'allreduce tree ok' 'allreduce direct no ring, halving_doubling, tree' \
    'reduce_scatter auto ok' 'reduce_scatter ring ok' 'reduce_scatter halving_doubling ok' 'reduce_scatter direct no ring, halving_doubling' 'reduce_scatter tree no ring, halving_doubling' \
    'allgather auto ok' 'allgather ring ok' 'allgather halving_doubling ok' 'allgather direct no ring, halving_doubling' 'allgather tree no ring, halving_doubling' \
    'incast auto ok' 'incast direct ok' 'incast ring no direct' 'incast halving_doubling no direct' 'incast tree no direct' \
    'moe auto ok' 'moe direct no auto' 'moe ring no auto' 'moe halving_doubling no auto' 'moe tree no auto' >"$T/matrix"
while read -r kind algo what has; do
    printf '[topology]\nleaves = 1\nhosts_per_leaf = 4\n[workload]\nkind = %s\nalgo = %s\nbytes = 65536\ntrace = %s\ntokens_per_gpu = 4\nlayers = 1\n' \
        "$kind" "$algo" "$TRACE" >"$T/ka.ini"
    rm -f "$T/ka.db"
    rc=0
    "$MOESIM" run "$T/ka.ini" --db "$T/ka.db" >/dev/null 2>"$T/err.txt" || rc=$?
    if [ "$what" = ok ]; then
        expect_eq "$kind x $algo runs" "$rc" 0
    else
        expect_eq "$kind x $algo: status" "$rc" 2
        expect_eq "$kind x $algo" "$(cat "$T/err.txt")" \
            "moesim: $T/ka.ini:6: workload.algo: $algo is not an algorithm of workload.kind = $kind (it has: $has)"
    fi
done <"$T/matrix"
