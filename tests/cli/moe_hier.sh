#!/bin/sh
# moe_hier.sh - the MoE step's keys from the command line: each bad
# combination of workload.dispatch, max_nodes, overlap = dual_batch, stage,
# chunks, dp_size and algo refused before anything runs, with the scenario's
# file:line, the key and exit status 2 (no database written); the run's line
# of workload.stage (prefill: tokens/s; decode: the latency per token) and
# the same from `moesim report --metric tokens_per_s | per_token_us`.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TRACE=$PWD/tests/data/mixtral_excerpt.csv
# scen NAME TOPOLOGY-LINES WORKLOAD-LINES: a 16-GPU scenario (2 leaves x 8)
scen() {
    printf '[topology]\nleaves = 2\nhosts_per_leaf = 8\n%b[workload]\nkind = moe\ntrace = %s\ntokens_per_gpu = 4\n%b' \
        "$2" "$TRACE" "$3" >"$T/$1.ini"
}
scen chunks '' 'chunks = 8\n'
expect_refused "8: workload.chunks: 8 chunks of workload.tokens_per_gpu = 4 tokens leave a chunk empty" chunks
scen nodes_hi 'gpus_per_host = 4\n' 'max_nodes = 5\n'
expect_refused "9: workload.max_nodes: 5 is more than the 4 nodes (servers of topology.gpus_per_host = 4 GPUs)" nodes_hi
scen nodes_lo 'gpus_per_host = 4\n' 'max_nodes = -1\n'
expect_refused "9: workload.max_nodes: -1 is out of bounds [0, 1048576]" nodes_lo
scen hier1 '' 'dispatch = hierarchical\n'
expect_refused "8: workload.dispatch: hierarchical needs servers of several GPUs (topology.gpus_per_host = 1)" hier1
scen hier_coh 'gpus_per_host = 4\n' 'dispatch = hierarchical\nep_mode = coherent\n'
expect_refused "9: workload.dispatch: hierarchical is not modeled with workload.ep_mode = coherent (use direct)" hier_coh
scen dual_ch '' 'overlap = dual_batch\nchunks = 2\n'
expect_refused "8: workload.overlap: dual_batch is not modeled with workload.chunks > 1 (two micro-batches of each GPU's tokens)" dual_ch
scen decode_tr '' 'stage = decode\npass = training\n'
expect_refused "8: workload.stage: decode is inference: not with workload.pass = training" decode_tr
scen dp '' 'pass = training\ndense_bytes = 65536\ndp_size = 3\n'
expect_refused "10: workload.dp_size: 3 GPUs per data-parallel group do not divide the 16 GPUs" dp
scen algo '' 'algo = ring\n'
expect_refused "8: workload.algo: ring is not an algorithm of workload.kind = moe (it has: auto)" algo
# the good path: the run's line per stage
scen dec 'gpus_per_host = 4\n' 'layers = 2\nstage = decode\ndispatch = hierarchical\nmax_nodes = 2\noverlap = dual_batch\n[placement]\nreplicas = 8\n[sim]\niterations = 2\n'
line=$("$MOESIM" run "$T/dec.ini" --db "$T/dec.db" | head -1)
t=$(echo "$line" | sed -n 's/.*[:,] time \([0-9.]*\) us,.*/\1/p')
per=$(echo "$line" | sed -n 's/.*, decode \([0-9.]*\) us per token,.*/\1/p')
expect_eq "decode latency = time / iterations" "$per" "$(awk -v t="$t" 'BEGIN { printf "%.3f", t / 2 }')"
expect_eq "notes" "$(sqlite3 "$T/dec.db" "SELECT key FROM notes WHERE key LIKE 'dispatch.%' ORDER BY key" | tr '\n' ' ')" \
    "dispatch.max_token_nodes dispatch.net_copies dispatch.node_dropped dispatch.node_moved "
scen pre '' 'layers = 2\n[placement]\nreplicas = 8\n'
line=$("$MOESIM" run "$T/pre.ini" --db "$T/pre.db" | head -1)
t=$(echo "$line" | sed -n 's/.*[:,] time \([0-9.]*\) us,.*/\1/p')
tps=$(echo "$line" | sed -n 's/.*, prefill \([0-9]*\) tokens\/s,.*/\1/p')
# 16 GPUs x 4 tokens in one step
# (the line's time has 3 decimals: within 1e-4)
expect_eq "prefill tokens/s = tokens / time" \
    "$(awk -v t="$t" -v x="$tps" 'BEGIN { w = 64 / (t * 1e-6); d = x - w; print (d < 0 ? -d : d) < 1e-4 * w }')" 1
# the same from the rows: moesim report --metric per_token_us / tokens_per_s
cell() { # DB METRIC: the table's one cell's median
    "$MOESIM" report --db "$1" --metric "$2" | tail -1 | awk '{print $2}'
}
expect_eq "report per_token_us = the line's" "$(cell "$T/dec.db" per_token_us)" "$per"
# (the rows are in ns, the line's figure from ps: within 1e-4)
expect_eq "report tokens_per_s = the line's" \
    "$(awk -v a="$(cell "$T/pre.db" tokens_per_s)" -v b="$tps" 'BEGIN { d = a - b; print (d < 0 ? -d : d) < 1e-4 * b }')" 1
printf '[topology]\nleaves = 1\nhosts_per_leaf = 4\n[workload]\nkind = allgather\n' >"$T/ag.ini"
"$MOESIM" run "$T/ag.ini" --db "$T/ag.db" >/dev/null
rc=0
"$MOESIM" report --db "$T/ag.db" --metric tokens_per_s >/dev/null 2>"$T/err.txt" || rc=$?
expect_eq "report tokens_per_s of no MoE run: status" "$rc" 2
expect_eq "report tokens_per_s of no MoE run" "$(cat "$T/err.txt")" \
    "moesim report: $T/ag.db: none of the 1 matching done runs is an MoE run (workload.kind = moe)"
expect_eq "no dispatch notes by default" "$(sqlite3 "$T/pre.db" "SELECT count(*) FROM notes WHERE key LIKE 'dispatch.%'")" 0
