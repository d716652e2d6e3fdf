#!/bin/sh
# capture.sh - `moesim capture` on a few tokens of the GPL-3 text (CPU path,
# small olmoe-shaped model): the trace CSV's metadata, header and row count;
# then the input errors (exit 2, one line, no file written).
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
text=/usr/share/common-licenses/GPL-3

"$MOESIM" capture --preset olmoe --hidden 64 --ffn 32 --experts 16 --topk 4 --layers 2 \
    --text "$text" --tokens 25 --seed 3 --device cpu --quiet -o "$tmp/t.csv"
grep -qx '#model=olmoe' "$tmp/t.csv"
grep -qx '#experts=16' "$tmp/t.csv"
grep -qx '#topk=4' "$tmp/t.csv"
grep -qx '#layers=2' "$tmp/t.csv"
grep -qx '#source=capture' "$tmp/t.csv"
grep -qx '#device=cpu' "$tmp/t.csv"
[ "$(grep -v '^#' "$tmp/t.csv" | head -1)" = "seq,token,layer,slot,expert,weight" ]
rows=$(grep -v '^#' "$tmp/t.csv" | tail -n +2 | wc -l)
[ "$rows" -eq $((25 * 2 * 4)) ] || { echo "rows: $rows, expected 200"; exit 1; }
# every row has six fields, experts in [0, 16), slots 0..3
grep -v '^#' "$tmp/t.csv" | tail -n +2 | tr -d '"' | awk -F, '
    NF != 6 || $5 < 0 || $5 >= 16 || $4 < 0 || $4 > 3 || $6 <= 0 || $6 >= 1 { bad = 1 }
    END { exit bad }'
# the first paragraph's first token is "gnu" (GNU GENERAL PUBLIC LICENSE)
grep -v '^#' "$tmp/t.csv" | sed -n 2p | grep -q '^"0","0","0","0",'

# same seed, same file
"$MOESIM" capture --preset olmoe --hidden 64 --ffn 32 --experts 16 --topk 4 --layers 2 \
    --text "$text" --tokens 25 --seed 3 --device cpu --quiet -o "$tmp/u.csv"
cmp -s "$tmp/t.csv" "$tmp/u.csv"

# the captured trace is what the rest of moesim consumes: statistics, and a
# replay through the packet engine (16 experts on 4 GPUs)
"$MOESIM" trace stats "$tmp/t.csv" --csv >"$tmp/stats.csv"
[ "$(head -1 "$tmp/stats.csv")" = "layer,tokens,imbalance,entropy_bits,affinity_next" ]
grep -q '^0,25,' "$tmp/stats.csv"
printf '[topology]\nleaves = 2\nspines = 2\nhosts_per_leaf = 2\n[workload]\nkind = moe\ntrace = %s\ntokens_per_gpu = 8\n[placement]\ntrain = 0.4\n' \
    "$tmp/t.csv" >"$tmp/cap.ini"
"$MOESIM" run "$tmp/cap.ini" --db "$tmp/cap.db" --quiet --jobs 1
[ "$(sqlite3 "$tmp/cap.db" "select count(*) from phases where phase = 'dispatch'")" = 2 ]

# input errors: exit 2, one line on stderr, nothing written
set +e
"$MOESIM" capture --preset nope --text "$text" --tokens 5 -o "$tmp/x.csv" 2>"$tmp/err"
[ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -e "$tmp/x.csv" ] || exit 1
grep -q "unknown preset 'nope'" "$tmp/err" || exit 1
printf 'abc' >"$tmp/bad.safetensors"
"$MOESIM" capture --preset olmoe --weights "$tmp/bad.safetensors" --text "$text" --tokens 5 \
    --layers 1 -o "$tmp/x.csv" 2>"$tmp/err"
[ $? -eq 2 ] && [ ! -e "$tmp/x.csv" ] || exit 1
[ "$(cat "$tmp/err")" = "moesim capture: $tmp/bad.safetensors: truncated: 3 bytes, shorter than the 8-byte header length" ] || exit 1
MOESIM_CUDA_LIB=/nonexistent.so "$MOESIM" capture --preset olmoe --text "$text" --tokens 5 \
    --layers 1 --device gpu -o "$tmp/x.csv" 2>"$tmp/err"
[ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -e "$tmp/x.csv" ] || exit 1
grep -q -- '--device gpu: cannot load the CUDA library' "$tmp/err" || exit 1

# --states FILE.safetensors: hidden states instead of text
mk_st() { # FILE HEADER-JSON DATA-BYTES [TAIL]: a safetensors file of zeros (then TAIL)
    n=${#2}
    printf "$(printf '\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)))\000\000\000\000\000\000" >"$1"
    printf '%s' "$2" >>"$1"
    head -c "$3" /dev/zero >>"$1"
    [ -z "${4:-}" ] || printf "$4" >>"$1"
}
st_args="--preset olmoe --hidden 64 --ffn 32 --experts 16 --topk 4 --layers 2 --seed 3 --device cpu --quiet"
mk_st "$tmp/ok.safetensors" '{"hidden_states":{"dtype":"F32","shape":[3,64],"data_offsets":[0,768]}}' 764 '\000\000\200\077'
# shellcheck disable=SC2086
"$MOESIM" capture $st_args --states "$tmp/ok.safetensors" -o "$tmp/s.csv"
grep -qx "#states=$tmp/ok.safetensors" "$tmp/s.csv"
[ "$(grep -v '^#' "$tmp/s.csv" | tail -n +2 | wc -l)" -eq $((3 * 2 * 4)) ] || exit 1
check_st() { # EXPECTED-MESSAGE FILE [capture args...]
    want=$1 f=$2
    shift 2
    set +e
    # shellcheck disable=SC2086
    "$MOESIM" capture $st_args --states "$f" -o "$tmp/x.csv" "$@" 2>"$tmp/err"
    rc=$?
    set -e
    [ $rc -eq 2 ] && [ ! -e "$tmp/x.csv" ] && [ "$(cat "$tmp/err")" = "moesim capture: $want" ] ||
        { echo "states: exit $rc, got: $(cat "$tmp/err"), want: moesim capture: $want"; exit 1; }
}
mk_st "$tmp/noname.safetensors" '{"states":{"dtype":"F32","shape":[3,64],"data_offsets":[0,768]}}' 768
check_st "$tmp/noname.safetensors: tensor hidden_states: missing" "$tmp/noname.safetensors"
mk_st "$tmp/narrow.safetensors" '{"hidden_states":{"dtype":"F32","shape":[3,32],"data_offsets":[0,384]}}' 384
check_st "$tmp/narrow.safetensors: tensor hidden_states: shape [3, 32], expected [3, 64]" "$tmp/narrow.safetensors"
mk_st "$tmp/nan.safetensors" '{"hidden_states":{"dtype":"F32","shape":[3,64],"data_offsets":[0,768]}}' 508 '\000\000\300\177'
# (the NaN is row 1's last value; 256 more bytes of row 2 follow)
head -c 256 /dev/zero >>"$tmp/nan.safetensors"
check_st "$tmp/nan.safetensors: tensor hidden_states: row 1, column 63: not a finite number" "$tmp/nan.safetensors"
check_st "$tmp/ok.safetensors: tensor hidden_states: 3 rows, fewer than --tokens 4" "$tmp/ok.safetensors" --tokens 4
check_st "--text FILE with --tokens N, or --states FILE.safetensors, and -o FILE are required" "$tmp/ok.safetensors" --text "$text" --tokens 3
exit 0
