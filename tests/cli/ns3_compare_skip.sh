#!/bin/sh
# ns3_compare_skip.sh - tools/ns3_compare.sh never needs ns-3: where g++,
# pkg-config or Debian's libns3-dev are missing (here: a PATH that holds
# only the few tools the script needs before its check) it prints one line
# saying it skipped and exits 0 (docs/validation.md, "ns-3 on the matched
# set"; the comparison itself is run by hand where ns-3 is installed).
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
for t in sh dirname mktemp rm; do ln -s "$(command -v "$t")" "$tmp/bin/$t"; done
out=$(env -i PATH="$tmp/bin" sh tools/ns3_compare.sh "$MOESIM" a2a16)
want="ns3_compare.sh: ns-3 not found (needs g++, pkg-config and Debian's libns3-dev); skipped"
[ "$out" = "$want" ] || { echo "ns3_compare_skip: got '$out'" >&2; exit 1; }
echo "ns3_compare_skip: ok"
