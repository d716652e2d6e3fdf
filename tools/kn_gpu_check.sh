#!/bin/sh
# kn_gpu_check.sh [MOESIM] - the first check to run on a machine with a GPU
# (never run yet: no GPU was available where the CUDA path was written).
# Captures the same small seeded model over the same text on the GPU and on
# the CPU (twice: bf16 operands as the GPU, then fp32), then compares the
# routing row by row. Summation orders differ, so a few near-tied choices may
# differ, more so in later layers (fewer against the bf16 CPU path); layer
# 0's first choice should almost always agree and the gate weights should be
# close. Prints the agreement per CPU precision; exits 1 below 95% on layer 0
# slot 0 against either, 2 if the GPU capture fails. Needs `make kernels`
# first.
set -eu
MOESIM=${1:-./moesim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args="--preset olmoe --hidden 256 --ffn 128 --experts 16 --topk 4 --layers 4 \
    --text /usr/share/common-licenses/GPL-3 --tokens 2000 --seed 1 --quiet"
# shellcheck disable=SC2086
"$MOESIM" capture $args --device gpu -o "$tmp/gpu.csv" || exit 2
grep '^#device_name=' "$tmp/gpu.csv"
grep -v '^#' "$tmp/gpu.csv" | tail -n +2 | tr -d '"' >"$tmp/g"
rc=0
for prec in bf16 fp32; do
    # shellcheck disable=SC2086
    "$MOESIM" capture $args --device cpu --precision $prec -o "$tmp/cpu.csv"
    grep -v '^#' "$tmp/cpu.csv" | tail -n +2 | tr -d '"' >"$tmp/c"
    echo "GPU against the CPU in $prec:"
    paste -d, "$tmp/c" "$tmp/g" | awk -F, '
        { n[$3]++; same[$3] += ($5 == $11); d = $6 - $12; if (d < 0) d = -d;
          if ($5 == $11 && d > maxd[$3]) maxd[$3] = d;
          if ($3 == 0 && $4 == 0) { n00++; s00 += ($5 == $11) } }
        END {
          for (l in n) printf "  layer %s: %.2f%% same expert, max |weight diff| %.2e where same\n",
                              l, 100 * same[l] / n[l], maxd[l];
          printf "  layer 0 slot 0: %.2f%% same\n", 100 * s00 / n00;
          exit (s00 / n00 < 0.95) }' || rc=1
done
exit $rc
