#!/bin/sh
# bucket_cap.sh - workload.bucket_cap_mb from the command line: bad values
# and the key with workload.grad_buckets refused before anything runs with
# the scenario's file:line, the key and exit status 2 (no database
# written); the good path writes ceil(dense_bytes / cap) grad_bucket rows,
# each a delay of no duration, the all-reduce's rows after them, and the
# same forward rows as without buckets.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TRACE=$PWD/tests/data/mixtral_excerpt.csv
# scen NAME WORKLOAD-LINES [DENSE_BYTES]: a 12-GPU training scenario (2
# leaves x 6), 2 layers, 65536 bytes of gradients unless told
scen() {
    printf '[topology]\nleaves = 2\nhosts_per_leaf = 6\n[workload]\nkind = moe\ntrace = %s\ntokens_per_gpu = 4\nlayers = 2\npass = training\ndense_bytes = %s\n%b[placement]\nreplicas = 4\n' \
        "$TRACE" "${3:-65536}" "$2" >"$T/$1.ini"
}
# check WANT NAME: exit status 2, exactly WANT on stderr, no database
check() {
    rc=0
    "$MOESIM" run "$T/$2.ini" --db "$T/$2.db" >/dev/null 2>"$T/err.txt" || rc=$?
    expect_eq "exit status of $2" "$rc" 2
    expect_eq "stderr of $2" "$(cat "$T/err.txt")" "moesim: $T/$2.ini:$1"
    [ ! -e "$T/$2.db" ] || fail "$2: a refused run wrote $T/$2.db"
}
scen neg 'bucket_cap_mb = -1\n'
check "11: workload.bucket_cap_mb: -1 is out of bounds [0, 1e+09]" neg
scen word 'bucket_cap_mb = big\n'
check "11: workload.bucket_cap_mb: expected a number, got 'big'" word
scen both 'grad_buckets = 2\nbucket_cap_mb = 0.03125\n'
check "12: workload.bucket_cap_mb: not with workload.grad_buckets = 2 (buckets by bytes or by count: set one of the two)" both
scen tiny 'bucket_cap_mb = 1e-7\n'
check "11: workload.bucket_cap_mb: 1e-07 MiB is less than a byte" tiny
# 131072 bytes in buckets of 1 byte (0.000001 MiB, rounded): more buckets
# than the 65536 allowed; 65547 bytes in buckets of 64 KiB: a last bucket of
# 11 bytes, no byte for each of 12 GPUs' ring steps
scen many 'bucket_cap_mb = 0.000001\n' 131072
check "11: workload.bucket_cap_mb: buckets of 1 byte cut workload.dense_bytes = 131072 into 131072 buckets, more than 65536" many
scen last 'bucket_cap_mb = 0.0625\n' 65547
check "11: workload.bucket_cap_mb: buckets of 65536 bytes leave a last bucket of 11 bytes of workload.dense_bytes = 65547, 0 bytes a ring step: fewer than its 1 chunk (workload.grad_chunks)" last
# the good path: buckets of 16 KiB (0.015625 MiB): 4 of them
scen four 'bucket_cap_mb = 0.015625\n'
"$MOESIM" run "$T/four.ini" --db "$T/four.db" >/dev/null
expect_eq "grad_bucket rows" \
    "$(sqlite3 "$T/four.db" "SELECT group_concat(layer || ':' || (end_ns - start_ns), ',') FROM phases WHERE phase = 'grad_bucket'")" \
    "0:0,1:0,2:0,3:0"
expect_eq "grad rows after their gates" \
    "$(sqlite3 "$T/four.db" "SELECT count(*) FROM phases WHERE phase LIKE 'grad_%' AND phase != 'grad_bucket' AND start_ns < (SELECT min(start_ns) FROM phases WHERE phase = 'grad_bucket')")" 0
expect_eq "ring rows: 4 buckets x 2 x 11 steps x 12 GPUs" \
    "$(sqlite3 "$T/four.db" "SELECT count(*) FROM phases WHERE phase IN ('grad_reduce_scatter', 'grad_allgather')")" 1056
expect_eq "the params row" \
    "$(sqlite3 "$T/four.db" "SELECT value FROM params WHERE key = 'workload.bucket_cap_mb'")" 0.015625
scen zero ''
"$MOESIM" run "$T/zero.ini" --db "$T/zero.db" >/dev/null
fwd="SELECT group_concat(phase || start_ns || '-' || end_ns, ',') FROM phases WHERE rowid < (SELECT min(rowid) FROM phases WHERE phase LIKE 'bwd_%')"
expect_eq "forward rows" "$(sqlite3 "$T/four.db" "$fwd")" "$(sqlite3 "$T/zero.db" "$fwd")"
echo "bucket_cap: ok"
