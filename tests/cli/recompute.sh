#!/bin/sh
# recompute.sh - workload.recompute from the command line: refused without
# the training pass (file:line, the key, exit status 2, no database); with
# it, one recompute row per layer and one recompute_attention row per layer,
# each as long as the forward's row of the same layer, and the step longer
# by the forward's compute (overlap = none; exact in tests/test_recompute.c,
# here to the rows' ns).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TRACE=$PWD/tests/data/mixtral_excerpt.csv
# scen NAME WORKLOAD-LINES: 12 GPUs (2 leaves x 6), 2 layers, 20 us of attention
scen() {
    printf '[topology]\nleaves = 2\nhosts_per_leaf = 6\n[workload]\nkind = moe\ntrace = %s\ntokens_per_gpu = 4\nlayers = 2\nattn_us = 20\n%b[placement]\nreplicas = 4\n' \
        "$TRACE" "$2" >"$T/$1.ini"
}
scen fwd 'recompute = true\n'
expect_refused "10: workload.recompute: activation recomputation is for workload.pass = training (there is no backward pass here)" fwd
scen on 'pass = training\nrecompute = true\n'
scen off 'pass = training\n'
"$MOESIM" run "$T/on.ini" --db "$T/on.db" >/dev/null
"$MOESIM" run "$T/off.ini" --db "$T/off.db" >/dev/null
pairs="SELECT group_concat(r.layer || ':' || (r.end_ns - r.start_ns) || '=' || (f.end_ns - f.start_ns), ',') FROM phases r JOIN phases f ON f.layer = r.layer AND f.phase = CASE r.phase WHEN 'recompute' THEN 'compute' ELSE 'attention' END WHERE r.phase IN ('recompute', 'recompute_attention')"
got=$(sqlite3 "$T/on.db" "$pairs")
expect_eq "four recomputation rows" "$(echo "$got" | tr ',' '\n' | wc -l)" 4
echo "$got" | tr ',' '\n' | while IFS=: read -r l d; do
    [ "${d%=*}" = "${d#*=}" ] || fail "layer $l: a recomputation of ${d%=*} ns against the forward's ${d#*=}"
done
fc=$(sqlite3 "$T/off.db" "SELECT sum(end_ns - start_ns) FROM phases WHERE phase IN ('compute', 'attention')")
grown=$(($(sqlite3 "$T/on.db" "SELECT max(end_ns) FROM phases") - $(sqlite3 "$T/off.db" "SELECT max(end_ns) FROM phases")))
# (to the ns each row is rounded to: the 4 rows' sum within 4 ns)
d=$((grown - fc))
[ "${d#-}" -le 4 ] || fail "the step grew by $grown ns, the forward's compute is $fc ns"
echo "recompute: ok"
