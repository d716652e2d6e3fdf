#!/bin/sh
# all.sh MOESIM DB OUT [PLOT OPTIONS...] - `make plots`: draws every figure of
# `moesim plot` that the database has the data for into OUT (PNG and PDF,
# with the CSV data and the gnuplot script of each), passing the options on
# (e.g. --size page), and says which it skipped and why, and what a figure
# pooled beyond seeds. Exits non-zero only when a figure failed for a reason
# other than missing data, or when none could be drawn.
MOESIM=${1:-./moesim}
DB=${2:-results/moesim.db}
OUT=${3:-plots/out}
[ $# -gt 3 ] && shift 3 || set --
made=0
bad=0
for kind in cct fct moe heatmap gpu_load timeline; do
    err=$("$MOESIM" plot "$kind" --db "$DB" -o "$OUT" "$@" 2>&1 >/dev/null)
    case $? in
    0) made=$((made + 1)); echo "plots: $kind -> $OUT/$kind.png, $OUT/$kind.pdf"
       [ -n "$err" ] && echo "plots: $kind: ${err#moesim plot: }" ;;
    2) echo "plots: $kind skipped: ${err#moesim plot: }" ;;
    *) bad=1; echo "plots: $kind failed: $err" >&2 ;;
    esac
done
[ "$bad" = 0 ] && [ "$made" -gt 0 ]
