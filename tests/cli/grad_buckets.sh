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
. tests/cli/buckets.inc
scen neg 'grad_buckets = -1\n'
expect_refused "11: workload.grad_buckets: -1 is out of bounds [0, 65536]" neg
scen big 'grad_buckets = 65537\n'
expect_refused "11: workload.grad_buckets: 65537 is out of bounds [0, 65536]" big
scen word 'grad_buckets = many\n'
expect_refused "11: workload.grad_buckets: expected an integer, got 'many'" word
# 65536 bytes in 8192 buckets of 8 bytes: no byte for each of 12 GPUs' ring steps
scen empty 'grad_buckets = 8192\n'
expect_refused "11: workload.grad_buckets: 8192 buckets of workload.dense_bytes = 65536 leave a bucket of 8 bytes, 0 bytes a ring step: fewer than its 1 chunk (workload.grad_chunks)" empty
scen tree 'grad_algo = tree\ngrad_chunks = 8\ngrad_buckets = 8192\n'
expect_refused "13: workload.grad_buckets: 8192 buckets of workload.dense_bytes = 65536 leave a bucket of 8 bytes, 4 bytes a tree's half: fewer than its 8 chunks (workload.grad_chunks)" tree
# the good path: 3 buckets
scen three 'grad_buckets = 3\n'
# 3 buckets x 2 x 11 steps x 12 GPUs ring rows
expect_buckets three "0:0,1:0,2:0" 792
expect_same_forward three
echo "grad_buckets: ok"
