#!/bin/sh
# help.sh - `moesim SUB --help` (and -h, and `moesim help SUB`) for every
# subcommand `moesim help` lists, trace's four included: exit status 0,
# nothing on stderr, and stdout starts with exactly the usage text `moesim
# help` shows for it ("usage: moesim ..." and its continuation lines).
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$MOESIM" help >"$tmp/help"
# the usage entries: from a "  moesim X" line to the next one or a blank line
awk '/^  moesim /{n++} /^$/{n=0; next} n{print > (dir "/entry." n)}' dir="$tmp" n=0 "$tmp/help"
count=0
for entry in "$tmp"/entry.*; do
    set -- $(head -1 "$entry")
    cmd=$2
    [ "$cmd" = trace ] && cmd="trace $3"
    # what --help must start with
    { printf 'usage: moesim '; head -1 "$entry" | sed 's/^  moesim //'; tail -n +2 "$entry"; } >"$tmp/want"
    for how in "--help" "-h"; do
        rc=0
        # shellcheck disable=SC2086
        "$MOESIM" $cmd $how >"$tmp/out" 2>"$tmp/err" || rc=$?
        [ "$rc" = 0 ] || { echo "moesim $cmd $how: exit $rc"; cat "$tmp/err"; exit 1; }
        [ ! -s "$tmp/err" ] || { echo "moesim $cmd $how: stderr:"; cat "$tmp/err"; exit 1; }
        if [ "$cmd" = help ]; then
            cmp -s "$tmp/out" "$tmp/help" || { echo "moesim help $how differs from moesim help"; exit 1; }
            continue
        fi
        head -n "$(wc -l <"$tmp/want")" "$tmp/out" >"$tmp/got"
        diff "$tmp/want" "$tmp/got" || { echo "moesim $cmd $how: not its usage"; exit 1; }
        grep -q '^  -h, --help  *print this help and exit$' "$tmp/out" ||
            { echo "moesim $cmd $how: no option list"; exit 1; }
    done
    # moesim help SUB is SUB --help (trace's subcommands: through trace)
    case $cmd in
    help | "trace "*) ;;
    *)
        "$MOESIM" help "$cmd" >"$tmp/viahelp"
        cmp -s "$tmp/viahelp" "$tmp/out" || { echo "moesim help $cmd differs from $cmd --help"; exit 1; }
        ;;
    esac
    count=$((count + 1))
done
# every command and trace subcommand has an entry
[ "$count" = 12 ] || { echo "expected 12 usage entries in moesim help, found $count"; exit 1; }
# trace --help is its first subcommand's usage and the others follow
"$MOESIM" trace --help >"$tmp/out"
for s in stats import gen fit; do
    grep -q "moesim trace $s " "$tmp/out" || { echo "trace --help lacks trace $s"; exit 1; }
done
"$MOESIM" --help >"$tmp/out"
cmp -s "$tmp/out" "$tmp/help" || { echo "moesim --help differs from moesim help"; exit 1; }
echo "help: $count usage entries, each printed by its --help and -h"
