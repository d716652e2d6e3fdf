#!/bin/sh
# place_cli.sh - `moesim place` from the command line: the exact one-line
# errors with exit status 2, the held-out report on the Mixtral trace, the
# --csv placement rows, a cut-short ilp. Run from the repository root with
# $MOESIM.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mix=data/mixtral8x7b_gsm8k_routing.csv
if [ ! -r "$mix" ]; then
    # Without data/'s trace: a generated trace of the same shape (8 experts,
    # top-2, 32 layers, 247 tokens), so every check below still applies.
    "$MOESIM" trace gen --experts 8 --topk 2 --layers 32 --sequences 1 --tokens 247 --seed 1 \
        -o "$tmp/mix.csv" >/dev/null
    mix=$tmp/mix.csv
fi

# expect STATUS STDERR-LINE COMMAND...
expect() {
    want_rc=$1 want_err=$2
    shift 2
    rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" != "$want_rc" ] || [ "$(head -1 "$tmp/err")" != "$want_err" ]; then
        echo "FAIL: $*: status $rc, stderr:"; cat "$tmp/err"
        echo "want: status $want_rc, $want_err"
        exit 1
    fi
}

P="moesim place:"
expect 2 "$P --policy: unknown policy 'best' (contiguous|round_robin|random|load_greedy|eplb|affinity|moetuner|ilp)" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy best
expect 2 "$P --gpus: 16 GPUs but only 8 expert slots per layer (experts + replicas)" \
    "$MOESIM" place --trace "$mix" --gpus 16 --policy contiguous
expect 2 "$P --gpus: 8 expert slots per layer (experts + replicas) do not split evenly over 3 GPUs" \
    "$MOESIM" place --trace "$mix" --gpus 3 --policy load_greedy
expect 2 "$P --gpus: 10 expert slots per layer (experts + replicas) do not split evenly over 4 GPUs" \
    "$MOESIM" place --trace "$mix" --gpus 4 --policy eplb --replicas 2
expect 2 "$P --replicas: policy 'affinity' does not replicate experts (contiguous, round_robin, random and eplb do)" \
    "$MOESIM" place --trace "$mix" --gpus 4 --policy affinity --replicas 4
expect 2 "$P --train 0.001: the split of 247 tokens leaves no training tokens" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --train 0.001
expect 2 "$P --train 1: the split of 247 tokens leaves no held-out tokens" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --train 1
expect 2 "$P --train: expected a number in [0, 1], got '1.5'" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --train 1.5
expect 2 "$P --leaves: 3 leaves do not split 4 GPUs evenly" \
    "$MOESIM" place --trace "$mix" --gpus 4 --leaves 3 --policy eplb
expect 2 "$P --mode: expected standard|coherent, got 'fast'" \
    "$MOESIM" place --trace "$mix" --gpus 8 --policy ilp --mode fast
expect 2 "$P --policy: missing (contiguous|round_robin|random|load_greedy|eplb|affinity|moetuner|ilp)" \
    "$MOESIM" place --trace "$mix" --gpus 8
expect 2 "$P --trace: missing (the routing trace CSV)" "$MOESIM" place --gpus 8 --policy random
expect 2 "$P --gpus: expected an integer in [1, 32768], got 'x'" \
    "$MOESIM" place --trace "$mix" --gpus x --policy random
expect 2 "$P --bogus: unknown option" "$MOESIM" place --trace "$mix" --bogus
expect 2 "$tmp/none.csv:0: cannot open: No such file or directory" \
    "$MOESIM" place --trace "$tmp/none.csv" --gpus 2 --policy random
"$MOESIM" trace gen --experts 16 --topk 2 --layers 32 --sequences 2 --tokens 20 --seed 3 \
    -o "$tmp/g16.csv" >/dev/null
expect 2 "$P --policy: ilp instance too large: 32 layers x 16 experts x 16 GPUs = 8192 binaries (limit 4096)" \
    "$MOESIM" place --trace "$tmp/g16.csv" --gpus 16 --policy ilp
expect 0 "" "$MOESIM" place --help

# The held-out report: one row per layer, the transfer fractions, the cost.
expect 0 "" "$MOESIM" place --trace "$mix" --gpus 8 --policy affinity --mode coherent
[ "$(grep -c '^[0-9]*,[0-9.]*,[0-9.]*,[0-9.]*$' "$tmp/out")" = 32 ]
grep -q '^placement affinity: 8 GPUs, 1 leaves, coherent mode, 8 experts x 32 layers' "$tmp/out"
grep -q '^profile: tokens \[0, 123); held out: tokens \[123, 247)' "$tmp/out"
grep -q 'layer-to-layer transitions, 0\.[0-9]* crossing GPUs' "$tmp/out"
grep -q '^held-out cost: [0-9.]* us' "$tmp/out"

# --csv: every (layer, expert) once, replicas as extra rows; same seed, same rows.
expect 0 "" "$MOESIM" place --trace "$mix" --gpus 4 --leaves 2 --policy eplb --replicas 4 --csv
[ "$(head -1 "$tmp/out")" = "layer,expert,gpu" ]
[ "$(wc -l <"$tmp/out")" = $((1 + 32 * 12)) ]
[ "$(tail -n +2 "$tmp/out" | cut -d, -f1,2 | sort -u | wc -l)" = 256 ]
[ "$(tail -n +2 "$tmp/out" | cut -d, -f1,3 | sort | uniq -c | awk '$1 != 3' | wc -l)" = 0 ]
"$MOESIM" place --trace "$mix" --gpus 4 --policy random --seed 9 --csv >"$tmp/a.csv"
"$MOESIM" place --trace "$mix" --gpus 4 --policy random --seed 9 --csv >"$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv"

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
expect 0 "" "$MOESIM" place --trace "$mix" --gpus 8 --leaves 2 --policy ilp --mode coherent \
    --ilp-time-limit-s 1
grep -q '^ilp: cut short by the time limit' "$tmp/out"
# ... and proves a small one optimal.
"$MOESIM" trace gen --experts 8 --topk 2 --layers 2 --sequences 2 --tokens 50 --seed 3 \
    -o "$tmp/g8.csv" >/dev/null
expect 0 "" "$MOESIM" place --trace "$tmp/g8.csv" --gpus 4 --policy ilp
grep -q '^ilp: optimal (training cost [0-9.]* us)$' "$tmp/out"
echo "place_cli: ok"
