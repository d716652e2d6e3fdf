#!/bin/sh
# moe_hier.sh DB OUT - the figure of docs/moe-steps.md "Hierarchical dispatch
# (measured)" (not a `moesim plot` kind): from the runs of
# scenarios/moe_hier.ini in DB, OUT.csv (per run: placement, dispatch,
# max_nodes, compute and network time in ms, GB on the GPUs' NIC uplinks and
# on the leaf uplinks) and OUT.png through plots/moe_hier.gp.
set -eu
DB=${1:?usage: moe_hier.sh DB OUT}
OUT=${2:?usage: moe_hier.sh DB OUT}
here=$(dirname "$0")
{
    echo "policy,dispatch,max_nodes,compute_ms,network_ms,nic_gb,leaf_up_gb"
    sqlite3 -csv "$DB" "
SELECT (SELECT value FROM params WHERE run_id = r.id AND key = 'placement.policy'),
 (SELECT value FROM params WHERE run_id = r.id AND key = 'workload.dispatch'),
 (SELECT value FROM params WHERE run_id = r.id AND key = 'workload.max_nodes'),
 (SELECT sum(end_ns - start_ns) FROM phases WHERE run_id = r.id AND phase = 'compute') / 1e6,
 (SELECT sum(end_ns - start_ns) FROM phases WHERE run_id = r.id AND phase != 'compute') / 1e6,
 (SELECT sum(bytes) FROM links WHERE run_id = r.id AND kind = 'host_up') / 1e9,
 (SELECT sum(bytes) FROM links WHERE run_id = r.id AND kind = 'leaf_up') / 1e9
FROM runs r WHERE status = 'done' ORDER BY 1, 3, 2"
} >"$OUT.csv"
gnuplot -e "csv='$OUT.csv'; out='$OUT.png'" "$here/moe_hier.gp"
