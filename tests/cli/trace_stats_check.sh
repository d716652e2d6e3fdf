#!/bin/sh
# trace_stats_check.sh - checks `moesim trace stats --csv` against an
# independent computation in awk of the per-layer tokens, imbalance, entropy
# and affinity (definitions in workloads/trace_stats.h) straight from the
# CSV rows, on the Mixtral excerpt, the real Mixtral trace in data/,
# and a generated trace. Run from the repository root with $MOESIM.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$MOESIM" trace gen --experts 16 --topk 4 --layers 6 --sequences 3 --tokens 200 --seed 7 \
    --zipf 0.9 --affinity 0.4 -o "$tmp/gen.csv"
files="tests/data/mixtral_excerpt.csv $tmp/gen.csv"
real=data/mixtral8x7b_gsm8k_routing.csv
[ -r "$real" ] && files="$files $real"

for f in $files; do
    awk -F, '
    /^#/ {
        if (match($0, /experts=[0-9]+/)) E = substr($0, RSTART + 8, RLENGTH - 8) + 0
        if (match($0, /layers=[0-9]+/)) L = substr($0, RSTART + 7, RLENGTH - 7) + 0
        next
    }
    $1 == "seq" { next }
    {
        tok = $1 ":" $2; l = $3 + 0; e = $5 + 0
        if (!(tok in seen)) { seen[tok] = 1; ntok++ }
        cnt[l, e]++
        if (e + 1 > maxe) maxe = e + 1
        if (l + 1 > maxl) maxl = l + 1
        if ($4 == 0) { top1[tok, l] = e; tokens[l]++; toks[l, tokens[l]] = tok }
    }
    END {
        if (!E) E = maxe
        if (!L) L = maxl
        si = se = sa = 0; ni = na = 0
        for (l = 0; l < L; l++) {
            sum = 0; max = 0
            for (e = 0; e < E; e++) { c = cnt[l, e] + 0; sum += c; if (c > max) max = c }
            if (sum > 0) {
                imb = max / (sum / E); h = 0
                for (e = 0; e < E; e++) { c = cnt[l, e] + 0; if (c > 0) { p = c / sum; h -= p * log(p) / log(2) } }
                si += imb; se += h; ni++
                imbs = sprintf("%.6f", imb); hs = sprintf("%.6f", h)
            } else { imbs = ""; hs = "" }
            affs = ""
            if (l < L - 1) {
                split("", pc); split("", best); n = 0
                for (i = 1; i <= tokens[l] + 0; i++) {
                    tok = toks[l, i]
                    if ((tok, l + 1) in top1) { a = top1[tok, l]; b = top1[tok, l + 1]; pc[a, b]++; n++ }
                }
                if (n > 0) {
                    for (k in pc) { split(k, ab, SUBSEP); if (pc[k] > best[ab[1]]) best[ab[1]] = pc[k] }
                    hits = 0; for (a in best) hits += best[a]
                    aff = hits / n; sa += aff; na++; affs = sprintf("%.6f", aff)
                }
            }
            printf "%d,%d,%s,%s,%s\n", l, tokens[l] + 0, imbs, hs, affs
        }
        printf "all,%d,%s,%s,%s\n", ntok, ni ? sprintf("%.6f", si / ni) : "", \
            ni ? sprintf("%.6f", se / ni) : "", na ? sprintf("%.6f", sa / na) : ""
    }' "$f" >"$tmp/awk.csv"
    "$MOESIM" trace stats "$f" --csv >"$tmp/moesim.csv"
    head -1 "$tmp/moesim.csv" | grep -qx 'layer,tokens,imbalance,entropy_bits,affinity_next'
    tail -n +2 "$tmp/moesim.csv" >"$tmp/moesim_rows.csv"
    # Same rows, numbers equal to the last printed digit (1 unit of rounding).
    paste -d, "$tmp/awk.csv" "$tmp/moesim_rows.csv" | awk -F, -v f="$f" '
    function close_enough(x, y) { if (x == "" || y == "") return x == y; d = x - y; return d < 1.5e-6 && d > -1.5e-6 }
    {
        if ($1 != $6 || $2 != $7 || !close_enough($3, $8) || !close_enough($4, $9) || !close_enough($5, $10)) {
            print f ": awk and moesim differ: " $0; bad = 1
        }
        n++
    }
    END { if (n < 2) { print f ": no rows"; bad = 1 } exit bad }'
    [ "$(wc -l <"$tmp/awk.csv")" = "$(wc -l <"$tmp/moesim_rows.csv")" ]
    tail -1 "$tmp/awk.csv"
done
echo "trace_stats_check: ok"
