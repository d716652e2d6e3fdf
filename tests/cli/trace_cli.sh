#!/bin/sh
# trace_cli.sh - `moesim trace` from the command line: exit statuses and the
# exact one-line errors, JSON-lines import end to end, statistics of the
# Switch per-layer counts. Run from the repository root with $MOESIM.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

expect_exit 2 "$T/none.csv:0: cannot open: No such file or directory" \
    "$MOESIM" trace stats "$T/none.csv"
printf '# experts=4 topk=1 layers=2\nseq,token,layer,slot,expert,weight\n0,0,0,0,1,0.5\n0,0,1,0,4,0.5\n' >"$T/bad.csv"
expect_exit 2 "$T/bad.csv:4: expert 4 outside [0, 4)" "$MOESIM" trace stats "$T/bad.csv"
expect_exit 2 "$T/bad.csv:4: expert 4 outside [0, 4)" "$MOESIM" trace fit "$T/bad.csv"
expect_exit 2 "moesim trace: gen needs --layers" \
    "$MOESIM" trace gen --experts 8 --topk 2 --sequences 1 --tokens 1 -o "$T/x.csv"
expect_exit 2 "moesim trace: --topk 9 outside [1, 8]" \
    "$MOESIM" trace gen --experts 8 --topk 9 --layers 2 --sequences 1 --tokens 1 -o "$T/x.csv"
expect_exit 2 "moesim trace: --experts: expected an integer in [1, 32767], got 'x'" \
    "$MOESIM" trace gen --experts x
expect_exit 2 "moesim trace: --zipf: expected a number, got 'y'" "$MOESIM" trace gen --zipf=y
expect_exit 2 "moesim trace: unknown subcommand 'nope'" "$MOESIM" trace nope
expect_exit 2 "moesim trace: --bogus: unknown option" "$MOESIM" trace stats x --bogus
expect_exit 2 "moesim trace: import needs FILE.jsonl and -o FILE.csv" "$MOESIM" trace import x.jsonl
expect_exit 0 "" "$MOESIM" trace --help

# import: each field-name variant; the CSV that comes out
cat >"$T/log.jsonl" <<'JSON'
{"layer": 0, "token_idx": 0, "topk_ids": [1, 2], "topk_weights": [0.75, 0.25], "req_id": 3}
{"layer_id": "1", "token": 0, "experts": ["0", "3"], "gating_probs": [0.5, 0.5], "problem_id": "3"}
{"layer": 0, "position": 1, "expert_ids": [2, 3], "weights": [0.625, 0.375], "seq": 3}
{"layer": 1, "token_idx": 1, "topk_ids": [3, 1], "request_id": 3}
JSON
expect_exit 0 "$T/log.csv: 2 tokens, 4 experts, top-2, 2 layers, 0 (token, layer) missing" \
    "$MOESIM" trace import "$T/log.jsonl" -o "$T/log.csv" --model tiny
cat >"$T/want.csv" <<EOF2
# moesim routing trace v1
# model=tiny
# experts=4 topk=2 layers=2
# source=imported from $T/log.jsonl
seq,token,layer,slot,expert,weight
3,0,0,0,1,0.750000
3,0,0,1,2,0.250000
3,0,1,0,0,0.500000
3,0,1,1,3,0.500000
3,1,0,0,2,0.625000
3,1,0,1,3,0.375000
3,1,1,0,3,0.500000
3,1,1,1,1,0.500000
EOF2
diff "$T/want.csv" "$T/log.csv"
printf '{"layer": 0, "token": 0, "topk_ids": [1, 2], "topk_weights": [0.5]}\n' >"$T/bad.jsonl"
expect_exit 2 "$T/bad.jsonl:1: 2 expert ids but 1 weights" \
    "$MOESIM" trace import "$T/bad.jsonl" -o "$T/bad_out.csv"
[ ! -e "$T/bad_out.csv" ]

# Switch per-layer counts: recognised by their header
sw=data/switch_base128_expert_load.csv
if [ -r "$sw" ]; then
    "$MOESIM" trace stats "$sw" --csv >"$T/sw.csv"
    [ "$(sed -n 2p "$T/sw.csv")" = "1,206866,6.204287,6.690392," ]
    [ "$(wc -l <"$T/sw.csv")" = 8 ]
    "$MOESIM" trace fit "$sw" | grep -q '^moesim trace gen --experts 128 --topk 1 --layers 6 '
fi
echo "trace_cli: ok"
