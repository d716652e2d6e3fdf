#!/bin/sh
# engine_compare.sh - runs one scenario through both engines (sim.engine =
# packet and = flow) and prints, per run of its sweep and per phase, the
# packet engine's completion time, the flow engine's and the error, then
# each run's flow-completion p50 and p99 errors (docs/flow-engine.md).
#   sh tools/engine_compare.sh ./moesim SCENARIO [--set k=v ...]
# Rows: "phase <label> <layer> <phase> <packet_ns> <flow_ns> <err%>",
# "fct <label> p50 <packet_ns> <flow_ns> <err%> p99 <packet_ns> <flow_ns> <err%>"
# and "step <label> <packet_ns> <flow_ns> <err%>" (the run's end, sim_ns),
# label = the run's swept values (transport.path and the like).
set -eu
bin=$1
scn=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for eng in packet flow; do
    "$bin" run "$scn" "$@" --set sim.engine=$eng --set output.db="$dir/$eng.db" --set output.flows=true >/dev/null
done
# A run's label: the values of its swept keys (those that differ between runs).
q() {
    sqlite3 -separator ' ' "$dir/$1.db" "$2"
}
label_sql="WITH v AS (SELECT key FROM params WHERE key NOT LIKE 'output.%' AND key <> 'sim.engine'
  GROUP BY key HAVING COUNT(DISTINCT value) > 1),
 l AS (SELECT r.id AS run_id, COALESCE(group_concat(p.key || '=' || p.value, ','), 'run') AS lab
  FROM runs r LEFT JOIN params p ON p.run_id = r.id AND p.key IN (SELECT key FROM v) GROUP BY r.id)"
for eng in packet flow; do
    q $eng "$label_sql SELECT l.lab, ph.iter || ':' || ph.layer, ph.phase, ph.cct_ns FROM phases ph JOIN l ON l.run_id = ph.run_id ORDER BY l.lab, ph.run_id, ph.rowid;" >"$dir/$eng.ph"
    q $eng "$label_sql SELECT l.lab, f.end_ns - f.start_ns FROM flows f JOIN l ON l.run_id = f.run_id ORDER BY l.lab, f.end_ns - f.start_ns;" >"$dir/$eng.fct"
    q $eng "$label_sql SELECT l.lab, r.sim_ns FROM runs r JOIN l ON l.run_id = r.id ORDER BY l.lab, r.id;" >"$dir/$eng.step"
done
paste -d' ' "$dir/packet.ph" "$dir/flow.ph" | awk '{
    if ($1 != $5 || $2 != $6 || $3 != $7) { print "engine_compare: phases differ: " $0 > "/dev/stderr"; exit 1 }
    e = $4 ? 100 * ($8 - $4) / $4 : 0
    printf "phase %s %s %s %d %d %.2f\n", $1, $2, $3, $4, $8, e }'
for eng in packet flow; do
    awk '{ n[$1]++; v[$1, n[$1]] = $2 }
        END { for (l in n) { i50 = int(0.5 * (n[l] - 1)) + 1; i99 = int(0.99 * (n[l] - 1)) + 1
              print l, v[l, i50], v[l, i99] } }' "$dir/$eng.fct" | sort >"$dir/$eng.pct"
done
join "$dir/packet.pct" "$dir/flow.pct" | awk '{
    printf "fct %s p50 %d %d %.2f p99 %d %d %.2f\n", $1, $2, $4, $2 ? 100 * ($4 - $2) / $2 : 0,
        $3, $5, $3 ? 100 * ($5 - $3) / $3 : 0 }'
paste -d' ' "$dir/packet.step" "$dir/flow.step" | awk '{
    printf "step %s %d %d %.2f\n", $1, $2, $4, $2 ? 100 * ($4 - $2) / $2 : 0 }'
