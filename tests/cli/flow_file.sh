#!/bin/sh
# flow_file.sh - the flow engine against the packet engine on fabrics read
# from files (tools/flow_matrix.sh files; docs/flow-engine.md's matrix):
# the all-to-all under every mode the flow engine runs and the permutation
# under ecmp and split, on the GraphML leaf-spine, the GraphML mesh and the
# .topo fat-tree, each phase within issue 13's 10% (worst) and the rows'
# median within 3%. (The permutation's spreading modes and ethereal on the
# mesh are the gaps docs/flow-engine.md explains.)
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sh tools/flow_matrix.sh "$MOESIM" files >"$T/rows"
awk -F' [|] ' '$1 ~ /alltoall/ || ($1 ~ /permutation/ && ($2 ~ /=ecmp$/ || $2 ~ /=split$/))' "$T/rows" >"$T/sub"
expect_eq "rows" "$(wc -l <"$T/sub" | tr -d ' ')" 24
expect_eq "phases beyond 10%" "$(awk -F' [|] ' '$5 > 10' "$T/sub" | wc -l | tr -d ' ')" 0
med=$(awk -F' [|] ' '{ print $4 }' "$T/sub" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
expect_eq "median within 3%" "$(awk -v m="$med" 'BEGIN { print (m <= 3) ? "yes" : "no: " m }')" yes
echo "flow_file: ok"
