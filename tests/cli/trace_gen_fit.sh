#!/bin/sh
# trace_gen_fit.sh - `moesim trace gen` is deterministic (same seed, same
# file; another seed, another file), and `moesim trace fit` on the real
# Mixtral trace (data/; the excerpt if it is absent) prints a gen command
# whose trace reproduces the source's mean per-layer imbalance and affinity
# within 10%. Run from the repository root with $MOESIM.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { "$MOESIM" trace gen --experts 8 --topk 2 --layers 4 --sequences 2 --tokens 100 \
    --zipf 1.1 --affinity 0.3 "$@"; }
gen --seed 5 -o "$tmp/a.csv"
gen --seed 5 -o "$tmp/b.csv"
gen --seed 6 -o "$tmp/c.csv"
cmp "$tmp/a.csv" "$tmp/b.csv"
! cmp -s "$tmp/a.csv" "$tmp/c.csv"
[ "$(grep -vc '^#' "$tmp/a.csv")" = $((1 + 2 * 100 * 4 * 2)) ]
gen --seed 5 -o - | cmp - "$tmp/a.csv"

src=data/mixtral8x7b_gsm8k_routing.csv
[ -r "$src" ] || src=tests/data/mixtral_excerpt.csv
"$MOESIM" trace fit "$src" >"$tmp/fit.txt"
cat "$tmp/fit.txt"
cmd=$(tail -1 "$tmp/fit.txt")
case "$cmd" in "moesim trace gen "*" -o fitted.csv") ;; *) echo "bad command: $cmd"; exit 1 ;; esac
# the printed command, writing into $tmp instead of ./fitted.csv
args=$(echo "$cmd" | sed 's/^moesim //; s/ -o fitted.csv$//')
# shellcheck disable=SC2086
"$MOESIM" $args -o "$tmp/fitted.csv"
"$MOESIM" trace stats "$src" --csv | grep '^all,' >"$tmp/src.all"
"$MOESIM" trace stats "$tmp/fitted.csv" --csv | grep '^all,' >"$tmp/gen.all"
paste -d, "$tmp/src.all" "$tmp/gen.all" | awk -F, '{
    di = ($8 - $3) / $3; da = ($10 - $5) / $5
    printf "imbalance %s -> %s (%+.2f%%), affinity %s -> %s (%+.2f%%)\n", $3, $8, 100 * di, $5, $10, 100 * da
    if (di > 0.1 || di < -0.1 || da > 0.1 || da < -0.1) exit 1
}'
echo "trace_gen_fit: ok"
