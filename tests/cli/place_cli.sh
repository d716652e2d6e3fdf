#!/bin/sh
# place_cli.sh - `moesim place` from the command line: the exact one-line
# errors with exit status 2, the held-out report on the Mixtral trace, the
# --csv placement rows, a cut-short ilp. Run from the repository root with
# $MOESIM.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mix=data/mixtral8x7b_gsm8k_routing.csv
if [ ! -r "$mix" ]; then
    # Without data/'s trace: a generated trace of the same shape (8 experts,
    # top-2, 32 layers, 247 tokens), so every check below still applies.
    "$MOESIM" trace gen --experts 8 --topk 2 --layers 32 --sequences 1 --tokens 247 --seed 1 \
        -o "$T/mix.csv" >/dev/null
    mix=$T/mix.csv
fi

P="moesim place:"
expect_exit 2 "$P --policy: unknown policy 'best' (contiguous|round_robin|random|load_greedy|eplb|affinity|moetuner|ilp)" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy best
expect_exit 2 "$P --gpus: 16 GPUs but only 8 expert slots per layer (experts + replicas)" \
    "$MOESIM" place --trace "$mix" --gpus 16 --policy contiguous
expect_exit 2 "$P --gpus: 8 expert slots per layer (experts + replicas) do not split evenly over 3 GPUs" \
    "$MOESIM" place --trace "$mix" --gpus 3 --policy load_greedy
expect_exit 2 "$P --gpus: 10 expert slots per layer (experts + replicas) do not split evenly over 4 GPUs" \
    "$MOESIM" place --trace "$mix" --gpus 4 --policy eplb --replicas 2
expect_exit 2 "$P --replicas: policy 'affinity' does not replicate experts (contiguous, round_robin, random and eplb do)" \
    "$MOESIM" place --trace "$mix" --gpus 4 --policy affinity --replicas 4
expect_exit 2 "$P --train 0.001: the split of 247 tokens leaves no training tokens" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --train 0.001
expect_exit 2 "$P --train 1: the split of 247 tokens leaves no held-out tokens" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --train 1
expect_exit 2 "$P --train: expected a number in [0, 1], got '1.5'" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --train 1.5
expect_exit 2 "$P --leaves: 3 leaves do not split 4 GPUs evenly" \
    "$MOESIM" place --trace "$mix" --gpus 4 --leaves 3 --policy eplb
expect_exit 2 "$P --mode: expected standard|coherent, got 'fast'" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy ilp --mode fast
expect_exit 2 "$P --policy: missing (contiguous|round_robin|random|load_greedy|eplb|affinity|moetuner|ilp)" \
    "$MOESIM" place --trace "$mix" --gpus 8
expect_exit 2 "$P --trace: missing (the routing trace CSV)" "$MOESIM" place --gpus 8 --policy random
expect_exit 2 "$P --gpus: expected an integer in [1, 32768], got 'x'" \
    "$MOESIM" place --trace "$mix" --gpus x --policy random
expect_exit 2 "$P --bogus: unknown option" "$MOESIM" place --trace "$mix" --bogus
expect_exit 2 "$T/none.csv:0: cannot open: No such file or directory" \
    "$MOESIM" place --trace "$T/none.csv" --gpus 2 --policy random
"$MOESIM" trace gen --experts 16 --topk 2 --layers 32 --sequences 2 --tokens 20 --seed 3 \
    -o "$T/g16.csv" >/dev/null
expect_exit 2 "$P --policy: ilp instance too large: 32 layers x 16 experts x 16 GPUs = 8192 binaries (limit 4096)" \
    "$MOESIM" place --trace "$T/g16.csv" --gpus 16 --policy ilp
expect_exit 2 "$P --shard: expected contiguous|round_robin, got 'fast'" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy random --shard fast
expect_exit 2 "$P --gpus-per-server: servers of 3 GPUs do not split the 8 GPUs of a leaf evenly" \
    "$MOESIM" place --trace "$mix" --gpus 8 --gpus-per-server 3 --policy random
expect_exit 2 "$P --policy: ilp in coherent mode needs one GPU per server (its linearisation has no NVLink terms), this fabric has 2" \
    "$MOESIM" place --trace "$mix" --gpus 4 --gpus-per-server 2 --policy ilp --mode coherent
expect_exit 2 "$P --scenario scenarios/placement_compare.ini: workload.ep_mode takes 2 values; moesim place scores one fabric" \
    "$MOESIM" place --scenario scenarios/placement_compare.ini --policy random
expect_exit 2 "$P --scenario: $T/none.ini: cannot open: No such file or directory" \
    "$MOESIM" place --scenario "$T/none.ini" --policy random
expect_exit 0 "" "$MOESIM" place --help

# The held-out report: one row per layer, the transfer fractions, the cost.
expect_exit 0 "" "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --mode coherent
[ "$(grep -c '^[0-9]*,[0-9.]*,[0-9.]*,[0-9.]*$' "$T/out")" = 32 ]
grep -q '^placement affinity: 8 GPUs, 1 leaves, coherent mode, 8 experts x 32 layers' "$T/out"
grep -q '^profile: tokens \[0, 123); held out: tokens \[123, 247)' "$T/out"
grep -q 'layer-to-layer transitions, 0\.[0-9]* crossing GPUs' "$T/out"
grep -q '^held-out cost: [0-9.]* us' "$T/out"

# The fabric is stated; unspecified, the uplinks are the GPUs' total (1:1).
grep -q '^fabric: 8 GPUs, 1 per server, 1 leaves; NIC 400 Gb/s; contiguous token homes; flags and defaults$' "$T/out"
expect_exit 0 "" "$MOESIM" place --trace "$mix" --gpus 8 --leaves 2 --policy random
grep -q '^fabric: 8 GPUs, 1 per server, 2 leaves; NIC 400 Gb/s, leaf uplink 1600 Gb/s (oversubscription 1:1); contiguous' "$T/out"

# --scenario: the fabric a run would simulate (servers of 2 GPUs on NVLink,
# 2 spines of 100 Gb/s under 4 x 400 Gb/s: 8:1), read through the same views;
# the flags that say the same give the same placement, and without the
# servers moetuner places differently.
cat >"$T/srv.ini" <<EOF
[topology]
leaves = 2
spines = 2
hosts_per_leaf = 4
gpus_per_host = 2
host_gbps = 400
fabric_gbps = 100
[workload]
kind = moe
trace = $PWD/$mix
hidden = 4096
dtype_bytes = 2
EOF
expect_exit 0 "" "$MOESIM" place --scenario "$T/srv.ini" --policy moetuner
grep -q "^fabric: 8 GPUs, 2 per server (NVLink 3600 Gb/s), 2 leaves; NIC 400 Gb/s, leaf uplink 200 Gb/s (oversubscription 8:1); contiguous token homes; $T/srv.ini\$" "$T/out"
grep -q 'dispatches, 0\.[0-9]* crossing GPUs, 0\.[0-9]* crossing servers, 0\.[0-9]* crossing leaves$' "$T/out"
expect_exit 2 "$P --gpus: the fabric comes from --scenario $T/srv.ini" \
    "$MOESIM" place --scenario "$T/srv.ini" --policy moetuner --gpus 8
"$MOESIM" place --scenario "$T/srv.ini" --policy moetuner --csv >"$T/s.csv"
"$MOESIM" place --trace "$mix" --gpus 8 --leaves 2 --gpus-per-server 2 --leaf-uplink-gbps 200 \
    --policy moetuner --csv >"$T/f.csv"
cmp -s "$T/s.csv" "$T/f.csv"
"$MOESIM" place --trace "$mix" --gpus 8 --leaves 2 --leaf-uplink-gbps 200 --policy moetuner \
    --csv >"$T/n.csv"
if cmp -s "$T/s.csv" "$T/n.csv"; then echo "FAIL: NVLink changed no placement"; exit 1; fi

# --csv: every (layer, expert) once, replicas as extra rows; same seed, same rows.
expect_exit 0 "" "$MOESIM" place --trace "$mix" --gpus 4 --leaves 2 --policy eplb --replicas 4 --csv
[ "$(head -1 "$T/out")" = "layer,expert,gpu" ]
[ "$(wc -l <"$T/out")" = $((1 + 32 * 12)) ]
[ "$(tail -n +2 "$T/out" | cut -d, -f1,2 | sort -u | wc -l)" = 256 ]
[ "$(tail -n +2 "$T/out" | cut -d, -f1,3 | sort | uniq -c | awk '$1 != 3' | wc -l)" = 0 ]
"$MOESIM" place --trace "$mix" --gpus 4 --policy random --seed 9 --csv >"$T/a.csv"
"$MOESIM" place --trace "$mix" --gpus 4 --policy random --seed 9 --csv >"$T/b.csv"
cmp -s "$T/a.csv" "$T/b.csv"

# The policies `moesim help` says take placement.replicas are exactly those
# that accept --replicas.
desc=$("$MOESIM" help | grep -A1 '^  replicas ' | tail -1)
policies=$("$MOESIM" help | sed -n 's/^  policy  *= [a-z_]*  *{\(.*\)}$/\1/p' | tr '|' ' ')
[ -n "$policies" ] || { echo "no placement.policy enum in help"; exit 1; }
for p in $policies; do
    named=no
    echo "$desc" | grep -qw "$p" && named=yes
    took=no
    "$MOESIM" place --trace "$mix" --gpus 8 --policy "$p" --replicas 8 >/dev/null 2>&1 && took=yes
    [ "$named" = "$took" ] || { echo "replicas help: $p named=$named, accepts --replicas=$took: $desc"; exit 1; }
done

# ilp cut short by its time limit still answers, and says so.
expect_exit 0 "" "$MOESIM" place --trace "$mix" --gpus 8 --leaves 2 --policy ilp --mode coherent \
    --ilp-time-limit-s 1
grep -q '^ilp: cut short by the time limit' "$T/out"
# ... and proves a small one optimal.
"$MOESIM" trace gen --experts 8 --topk 2 --layers 2 --sequences 2 --tokens 50 --seed 3 \
    -o "$T/g8.csv" >/dev/null
expect_exit 0 "" "$MOESIM" place --trace "$T/g8.csv" --gpus 4 --policy ilp
grep -q '^ilp: optimal (training cost [0-9.]* us)$' "$T/out"
echo "place_cli: ok"
