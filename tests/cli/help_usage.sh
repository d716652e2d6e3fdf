#!/bin/sh
# help_usage.sh - `moesim help`'s usage of capture and calibrate names the
# same options as kernels/README.md, and the command accepts every one of
# them (none is "unknown option"). Run from the repository root with $MOESIM.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" help >"$T/help.txt"
for cmd in capture calibrate; do
    # the command's usage lines in help: from "  moesim CMD " to the next command
    awk -v c="  moesim $cmd " 'index($0, c) == 1 { on = 1; print; next }
        /^  moesim / { on = 0 } on' "$T/help.txt" | grep -o -- '--[a-z-]*' | sort -u >"$T/help_$cmd"
    # and in kernels/README.md: from "moesim CMD --" to the closing fence
    awk -v c="moesim $cmd --" 'index($0, c) == 1 { on = 1 } /^```/ { on = 0 } on' kernels/README.md |
        grep -o -- '--[a-z-]*' | sort -u >"$T/doc_$cmd"
    [ -s "$T/help_$cmd" ] || fail "$cmd: no options in help"
    diff "$T/doc_$cmd" "$T/help_$cmd" >"$T/diff" ||
        fail "$cmd: kernels/README.md (<) and help (>) list different options: $(grep '^[<>]' "$T/diff" | tr '\n' ' ')"
    for o in $(cat "$T/help_$cmd"); do
        "$MOESIM" "$cmd" "$o" 1 >/dev/null 2>"$T/err" || true
        if grep -q "unknown option or missing value: $o\$" "$T/err"; then
            fail "$cmd: help lists $o but $cmd does not take it"
        fi
    done
done
echo "help_usage: capture $(wc -l <"$T/help_capture") and calibrate $(wc -l <"$T/help_calibrate") options, help = kernels/README.md"
