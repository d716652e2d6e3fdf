#!/bin/sh
# flows_input.sh - workload.kind = flows and incast from the command line: a
# malformed flows file, a missing one, and too many incast senders are each
# refused before anything runs (exit status 2, one line naming the scenario's
# line, the key, and the flows file's own line; no database written); the
# shipped scenarios run, and a flows file's runs are keyed by its content
# (the inputs table).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/s.ini" <<INI
[topology]
leaves = 2
spines = 2
hosts_per_leaf = 4
[workload]
kind = flows
flows_file = f.cm
INI
check() { # WANT: exit status 2, exactly WANT on stderr, no database
    rc=0
    "$MOESIM" run "$T/s.ini" --db "$T/out.db" >/dev/null 2>"$T/err" || rc=$?
    expect_eq "exit status" "$rc" 2
    expect_eq "stderr" "$(cat "$T/err")" "$1"
    [ ! -e "$T/out.db" ] || fail "a refused run wrote $T/out.db"
}
printf 'Nodes 8\nConnections 1\n0->9 start 0 size 10\n' >"$T/f.cm"
check "moesim: $T/s.ini:7: workload.flows_file: $T/f.cm:3: host 9: the Nodes line (line 1) says 8 hosts"
printf 'Nodes 16\n' >"$T/f.cm"
check "moesim: $T/s.ini:7: workload.flows_file: $T/f.cm:1: Nodes 16: the fabric has 8 hosts"
printf '0,1,10\n1,2,ten\n' >"$T/f.cm"
check "moesim: $T/s.ini:7: workload.flows_file: $T/f.cm:2: bytes: expected bytes from 1 to 1e15, got 'ten'"
rm "$T/f.cm"
check "moesim: $T/s.ini:7: workload.flows_file: $T/f.cm: cannot open: No such file or directory"
sed -i 's/^flows_file = f.cm$//' "$T/s.ini"
check "moesim: $T/s.ini: workload.flows_file: workload.kind = flows needs a flows file (htsim connection matrix or src,dst,bytes,start_ns CSV)"
sed -i 's/^kind = flows$/kind = incast\nsenders = 8/' "$T/s.ini"
check "moesim: $T/s.ini:7: workload.senders: 8 senders, but the fabric has 7 hosts besides the receiver"
# the shipped scenarios: the incast at the receiver link's bound; the serial
# all-to-all's 57 flows (56 by triggers, one by start time) in 58 rows
"$MOESIM" run scenarios/incast.ini --db "$T/i.db" -q
expect_eq "incast rows" "$(sqlite3 "$T/i.db" "SELECT count(*), sum(bytes), min(end_ns = ideal_ns) FROM phases")" "2|67108864|1"
"$MOESIM" run scenarios/flows.ini --db "$T/f.db" -q
expect_eq "flows rows" "$(sqlite3 "$T/f.db" "SELECT count(*), sum(bytes) FROM phases WHERE run_id = 1 AND phase = 'flows'")" "57|15728640"
expect_eq "flow records" "$(sqlite3 "$T/f.db" "SELECT count(*) FROM flows WHERE run_id = 1")" "57"
expect_eq "inputs" "$(sqlite3 "$T/f.db" "SELECT count(*) FROM inputs WHERE run_id = 1 AND key = 'workload.flows_file'")" "1"
# a triggered flow starts when the flow before it on its host ended
expect_eq "serial" "$(sqlite3 "$T/f.db" "SELECT count(*), sum(prev = start_ns) FROM (SELECT start_ns, LAG(end_ns) OVER (ORDER BY start_ns) AS prev FROM flows WHERE run_id = 1 AND src = 3) WHERE prev IS NOT NULL")" "6|6"
