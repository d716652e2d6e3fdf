#!/bin/sh
# argv_errors.sh - every subcommand reads its command line with the one
# parser (base/argv.h): an unknown option, a missing value, a value that is
# another option, a flag given a value, an option given twice are refused
# with status 2, exactly one line "moesim SUB: --opt: reason" on stderr and
# nothing on stdout, before anything runs or is written.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

# expect "STDERR" ARGS...
expect() {
    want=$1
    shift
    rc=0
    (cd "$tmp" && "$MOESIM" "$@") >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" != 2 ] || [ "$(cat "$tmp/err")" != "$want" ] || [ -s "$tmp/out" ]; then
        echo "moesim $*: status $rc, stderr:"; cat "$tmp/err"
        echo "want: status 2, exactly: $want"
        exit 1
    fi
    n=$((n + 1))
}

S=$PWD/scenarios/alltoall.ini
for sub in run report export plot place capture calibrate; do
    expect "moesim $sub: --bogus: unknown option" $sub --bogus
    expect "moesim $sub: --bogus: unknown option" $sub --bogus=1
done
for sub in stats import gen fit; do
    expect "moesim trace: --bogus: unknown option" trace $sub --bogus
done
expect "moesim: --bogus: unknown option" --bogus run

expect "moesim run: --db: missing value" run "$S" --db
expect "moesim run: --set: missing value" run "$S" --set --db x.db
expect "moesim run: -j: missing value" run "$S" -j -q
expect "moesim report: --where: missing value" report --where
expect "moesim report: --by: missing value" report --by --db x.db
expect "moesim export: -o: missing value" export --table runs -o
expect "moesim plot: --run: missing value" plot cct --run --db x.db
expect "moesim place: --policy: missing value" place --trace t.csv --gpus 4 --policy
expect "moesim trace: --experts: missing value" trace gen --experts --topk 2
expect "moesim trace: -o: missing value" trace import x.jsonl -o
expect "moesim capture: --text: missing value" capture --preset olmoe --text -o x.csv
expect "moesim calibrate: --preset: missing value" calibrate --preset

expect "moesim run: --resume: takes no value" run "$S" --resume=yes
expect "moesim place: --csv: takes no value" place --csv=1
expect "moesim report: --db: given more than once" report --db a.db --db b.db
expect "moesim capture: --renorm: contradicts --no-renorm" capture --preset olmoe --renorm --no-renorm

# bad values, named the same way
expect "moesim report: unexpected argument 'x'" report x
expect "moesim plot: --run: expected an integer in [1, 9223372036854775807], got '0'" plot cct --run 0
expect "moesim capture: --threads: expected an integer in [1, 64], got '65'" capture --threads 65
expect "moesim capture: --seed: expected a non-negative integer, got '-1'" capture --seed -1
expect "moesim calibrate: --precision: expected fp32|bf16|auto, got 'fp8'" calibrate --precision fp8
[ -z "$(ls "$tmp" | grep -v '^out$\|^err$')" ] || { echo "a refused command wrote a file"; ls "$tmp"; exit 1; }
echo "argv_errors: $n command lines refused"
