#!/bin/sh
# grad_buckets.sh - workload.grad_buckets from the command line: bad values
# refused before anything runs with the scenario's file:line, the key and
# exit status 2 (no database written); the good path writes one grad_bucket
# row per bucket, each a delay of no duration, the all-reduce's rows after
# them, and the same forward rows as grad_buckets = 0.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TRACE=$PWD/tests/data/mixtral_excerpt.csv
# scen NAME WORKLOAD-LINES: a 12-GPU training scenario (2 leaves x 6), 2 layers
scen() {
    printf '[topology]\nleaves = 2\nhosts_per_leaf = 6\n[workload]\nkind = moe\ntrace = %s\ntokens_per_gpu = 4\nlayers = 2\npass = training\ndense_bytes = 65536\n%b[placement]\nreplicas = 4\n' \
        "$TRACE" "$2" >"$T/$1.ini"
}
# check WANT NAME: exit status 2, exactly WANT on stderr, no database
check() {
    rc=0
    "$MOESIM" run "$T/$2.ini" --db "$T/$2.db" >/dev/null 2>"$T/err.txt" || rc=$?
    expect_eq "exit status of $2" "$rc" 2
    expect_eq "stderr of $2" "$(cat "$T/err.txt")" "moesim: $T/$2.ini:$1"
    [ ! -e "$T/$2.db" ] || fail "$2: a refused run wrote $T/$2.db"
}
scen neg 'grad_buckets = -1\n'
check "11: workload.grad_buckets: -1 is out of bounds [0, 65536]" neg
scen big 'grad_buckets = 65537\n'
check "11: workload.grad_buckets: 65537 is out of bounds [0, 65536]" big
scen word 'grad_buckets = many\n'
check "11: workload.grad_buckets: expected an integer, got 'many'" word
# 65536 bytes in 8192 buckets of 8 bytes: no byte for each of 12 GPUs' ring steps
scen empty 'grad_buckets = 8192\n'
check "11: workload.grad_buckets: 8192 buckets of workload.dense_bytes = 65536 leave a bucket of 8 bytes, 0 bytes a ring step: fewer than its 1 chunk (workload.grad_chunks)" empty
scen tree 'grad_algo = tree\ngrad_chunks = 8\ngrad_buckets = 8192\n'
check "13: workload.grad_buckets: 8192 buckets of workload.dense_bytes = 65536 leave a bucket of 8 bytes, 4 bytes a tree's half: fewer than its 8 chunks (workload.grad_chunks)" tree
# the good path: 3 buckets
scen three 'grad_buckets = 3\n'
"$MOESIM" run "$T/three.ini" --db "$T/three.db" >/dev/null
expect_eq "grad_bucket rows" \
    "$(sqlite3 "$T/three.db" "SELECT group_concat(layer || ':' || (end_ns - start_ns), ',') FROM phases WHERE phase = 'grad_bucket'")" \
    "0:0,1:0,2:0"
expect_eq "grad rows after their gates" \
    "$(sqlite3 "$T/three.db" "SELECT count(*) FROM phases WHERE phase LIKE 'grad_%' AND phase != 'grad_bucket' AND start_ns < (SELECT min(start_ns) FROM phases WHERE phase = 'grad_bucket')")" 0
expect_eq "ring rows: 3 buckets x 2 x 11 steps x 12 GPUs" \
    "$(sqlite3 "$T/three.db" "SELECT count(*) FROM phases WHERE phase IN ('grad_reduce_scatter', 'grad_allgather')")" 792
scen zero ''
"$MOESIM" run "$T/zero.ini" --db "$T/zero.db" >/dev/null
fwd="SELECT group_concat(phase || start_ns || '-' || end_ns, ',') FROM phases WHERE rowid < (SELECT min(rowid) FROM phases WHERE phase LIKE 'bwd_%')"
expect_eq "forward rows" "$(sqlite3 "$T/three.db" "$fwd")" "$(sqlite3 "$T/zero.db" "$fwd")"
echo "grad_buckets: ok"
