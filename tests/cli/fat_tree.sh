#!/bin/sh
# fat_tree.sh - topology.kind = fat_tree from the command line: the shipped
# scenario runs, records every port with its tier's kind, and finishes no
# earlier than its ideal bound; a shape the build cannot make is refused
# with file:line: key and exit status 2 before anything runs.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run scenarios/fat_tree.ini --db "$T/a.db" -q
expect_eq "links by kind" "$(sqlite3 "$T/a.db" "SELECT kind || '=' || count(*) FROM links GROUP BY kind ORDER BY kind" | tr '\n' ' ')" \
    "agg_down=16 agg_up=16 core_down=16 host_down=32 host_up=32 leaf_up=16 "
expect_eq "an aggregation-core link" "$(sqlite3 "$T/a.db" "SELECT src || '-' || dst FROM links WHERE kind = 'agg_up' ORDER BY rowid LIMIT 1")" "a0-c0"
expect_eq "cct >= ideal" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
cat >"$T/bad.ini" <<'INI'
[topology]
kind = fat_tree
pods = 2
aggs_per_pod = 3
cores = 4
INI
rc=0
"$MOESIM" run "$T/bad.ini" --db "$T/b.db" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "exit status" "$rc" 2
expect_eq "stderr" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:5: topology.cores: 4 is not a multiple of topology.aggs_per_pod (3): each aggregation switch of a pod links to as many cores"
[ ! -e "$T/b.db" ] || fail "a refused run left a database"
printf '[topology]\nkind = fat_tree\n[sim]\nengine = flow\n' >"$T/flow.ini"
rc=0
"$MOESIM" run "$T/flow.ini" --db "$T/c.db" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "exit status (flow engine on a fat tree)" "$rc" 0
