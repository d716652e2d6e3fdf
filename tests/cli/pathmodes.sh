#!/bin/sh
# pathmodes.sh - transport.path = flowlet and ethereal from the command line
# (docs/fabrics.md, Routing): ethereal loads every uplink of a 2-leaf
# leaf-spine all-to-all, and of a ring all-reduce on four leaves, with the
# same bytes (ecmp does not); flowlet with an endless gap is ecmp exactly;
# an unknown mode, a negative gap and flowlet on the flow engine are
# refused with file:line: key and exit status 2 before anything runs.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/a.ini" <<'INI'
[topology]
leaves = 2
spines = 8
hosts_per_leaf = 3
[workload]
kind = alltoall
bytes = 98304
INI
# spread DB PATH: "max/min" of the leaf_up bytes of the run with that path
spread() {
    sqlite3 "$1" "SELECT max(bytes) || '/' || min(bytes) FROM links WHERE kind = 'leaf_up' AND run_id =
        (SELECT run_id FROM params WHERE key = 'transport.path' AND value = '$2')"
}
"$MOESIM" run "$T/a.ini" --set transport.path=ethereal,ecmp --db "$T/a.db" -q
s=$(spread "$T/a.db" ethereal)
expect_eq "ethereal all-to-all uplinks" "$s" "${s#*/}/${s#*/}"
s=$(spread "$T/a.db" ecmp)
[ "${s%/*}" != "${s#*/}" ] || fail "ecmp all-to-all uplinks all equal: $s"
cat >"$T/r.ini" <<'INI'
[topology]
leaves = 4
spines = 4
hosts_per_leaf = 2
[workload]
kind = allreduce
algo = ring
bytes = 262144
INI
"$MOESIM" run "$T/r.ini" --set transport.path=ethereal,ecmp --db "$T/r.db" -q
s=$(spread "$T/r.db" ethereal)
expect_eq "ethereal ring uplinks" "$s" "${s#*/}/${s#*/}"
s=$(spread "$T/r.db" ecmp)
[ "${s%/*}" != "${s#*/}" ] || fail "ecmp ring uplinks all equal: $s"
# flowlet with a gap longer than the run: ecmp's phases and links
"$MOESIM" run "$T/a.ini" --set transport.path=flowlet,ecmp --set transport.flowlet_gap_ns=1000000000 --db "$T/f.db" -q
expect_eq "flowlet = ecmp" "$(sqlite3 "$T/f.db" "SELECT count(DISTINCT cct_ns) FROM phases")" 1
expect_eq "flowlet = ecmp links" "$(sqlite3 "$T/f.db" "SELECT count(*) FROM links a JOIN links b ON a.link = b.link AND a.run_id < b.run_id WHERE a.bytes != b.bytes")" 0
expect_bad '[transport]\npath = ethernet\n' 2 \
    "transport.path: 'ethernet' is not one of ecmp|spray|spray_rr|split|adaptive|flowlet|ethereal"
expect_bad '[transport]\npath = flowlet\nflowlet_gap_ns = -1\n' 3 \
    "transport.flowlet_gap_ns: -1 is out of bounds [0, 1000000000000]"
expect_bad '[transport]\npath = flowlet\n[sim]\nengine = flow\n' 2 \
    "transport.path: flowlet needs packets (gaps between them): it runs on sim.engine = packet"
# ethereal on a fat-tree with a leaf's uplink down: [faults] renumbers the
# path digits (the aggregation switches read theirs at the lcm of the
# leaves' group sizes), and ethereal's path numbers follow them, so every
# live aggregation-to-core link carries bytes and none more than 1.2x their
# mean (before the fix: some carried none, one 3.6x, the run 2.2x its bound)
cat >"$T/ftf.ini" <<'INI'
[topology]
kind = fat_tree
pods = 4
leaves_per_pod = 4
aggs_per_pod = 4
cores = 16
hosts_per_leaf = 4
host_gbps = 100
fabric_gbps = 100
[workload]
kind = alltoall
bytes = 65536
[transport]
path = ethereal
[faults]
down = l0-a1
INI
"$MOESIM" run "$T/ftf.ini" --db "$T/ftf.db" -q
expect_eq "ethereal agg_up under a fault" \
    "$(sqlite3 "$T/ftf.db" "SELECT min(bytes) > 0, max(bytes) < 1.2 * avg(bytes) FROM links WHERE kind = 'agg_up' AND gbps > 0")" "1|1"
expect_eq "ethereal under a fault near its bound" \
    "$(sqlite3 "$T/ftf.db" "SELECT cct_ns < 1.1 * ideal_ns FROM phases")" "1"
