#!/bin/sh
# golden.sh - the regression gate as a test: tools/regress.sh's digest of
# every table for 16 small scenarios (two on the flow engine) must equal
# tests/golden/digests.txt. A change that moves a number on purpose
# regenerates the file
# (sh tools/regress.sh ./moesim tests/golden/digests.txt) and names, in its
# commit message and docs, which digests moved and why.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sh tools/regress.sh "$MOESIM" "$tmp"
if ! diff -u tests/golden/digests.txt "$tmp"; then
    echo "FAIL: digests differ from tests/golden/digests.txt (lines above)" >&2
    exit 1
fi
