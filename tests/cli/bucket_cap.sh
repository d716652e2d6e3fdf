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
. tests/cli/buckets.inc
scen neg 'bucket_cap_mb = -1\n'
expect_refused "11: workload.bucket_cap_mb: -1 is out of bounds [0, 1e+09]" neg
scen word 'bucket_cap_mb = big\n'
expect_refused "11: workload.bucket_cap_mb: expected a number, got 'big'" word
scen both 'grad_buckets = 2\nbucket_cap_mb = 0.03125\n'
expect_refused "12: workload.bucket_cap_mb: not with workload.grad_buckets = 2 (buckets by bytes or by count: set one of the two)" both
scen tiny 'bucket_cap_mb = 1e-7\n'
expect_refused "11: workload.bucket_cap_mb: 1e-07 MiB is less than a byte" tiny
# 131072 bytes in buckets of 1 byte (0.000001 MiB, rounded): more buckets
# than the 65536 allowed; 65547 bytes in buckets of 64 KiB: a last bucket of
# 11 bytes, no byte for each of 12 GPUs' ring steps
scen many 'bucket_cap_mb = 0.000001\n' 131072
expect_refused "11: workload.bucket_cap_mb: buckets of 1 byte cut workload.dense_bytes = 131072 into 131072 buckets, more than 65536" many
scen last 'bucket_cap_mb = 0.0625\n' 65547
expect_refused "11: workload.bucket_cap_mb: buckets of 65536 bytes leave a last bucket of 11 bytes of workload.dense_bytes = 65547, 0 bytes a ring step: fewer than its 1 chunk (workload.grad_chunks)" last
# the good path: buckets of 16 KiB (0.015625 MiB): 4 of them
scen four 'bucket_cap_mb = 0.015625\n'
# 4 buckets x 2 x 11 steps x 12 GPUs ring rows
expect_buckets four "0:0,1:0,2:0,3:0" 1056
expect_eq "the params row" \
    "$(sqlite3 "$T/four.db" "SELECT value FROM params WHERE key = 'workload.bucket_cap_mb'")" 0.015625
expect_same_forward four
echo "bucket_cap: ok"
