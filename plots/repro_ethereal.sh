#!/bin/sh
# repro_ethereal.sh DB OUT - the table and figure of docs/fabrics.md
# "Reproduction: does ethereal match spraying?" (not a `moesim plot` kind),
# from the runs of tools/repro_ethereal.sh in DB: OUT.csv, one row per done
# run (fabric, engine, workload, MiB per host (an all-to-all's bytes per
# pair x hosts, an all-reduce's buffer), links down, path mode (split-N for
# N subflows), completion (last end - first start) and the sum of the
# phases' ideal bounds in us, the sum of the phases' cct over that sum
# (an all-to-all is one phase; a ring all-reduce one per host and step),
# and max over mean of the bytes on the live leaf uplinks and, on the
# fat-tree, on the aggregation-to-core uplinks, then on the cores' and the
# aggregation switches' downlinks, columns the CSVs written before session
# 10 lack); OUT.png through plots/repro_ethereal.gp (or, for the runs on
# the GraphML 512-GPU tree, plots/repro_ethereal_ft512.gp); and on stdout the markdown table (per case the
# ratio and leaf-uplink max/mean of every mode, ECMP's completion over
# ethereal's and over spray's).
set -eu
DB=${1:?usage: repro_ethereal.sh DB OUT}
OUT=${2:?usage: repro_ethereal.sh DB OUT}
here=$(dirname "$0")
p() { echo "(SELECT value FROM params WHERE run_id = r.id AND key = '$1')"; }
# max over mean of the bytes on the live ports of one kind
lm() {
    echo "(SELECT CASE WHEN count(*) = 0 THEN '' ELSE printf('%.3f', max(bytes) * 1.0 / avg(bytes)) END
      FROM links WHERE run_id = r.id AND kind = '$1' AND gbps > 0)"
}
{
    echo "fabric,engine,workload,mib_per_host,down,mode,cct_us,ideal_us,ratio,leaf_up_max_mean,agg_up_max_mean,core_down_max_mean,agg_down_max_mean"
    sqlite3 -csv "$DB" "
SELECT $(p topology.kind), $(p sim.engine), $(p workload.kind),
 CASE $(p workload.kind) WHEN 'alltoall'
   THEN $(p workload.bytes) * (SELECT count(*) FROM links WHERE run_id = r.id AND kind = 'host_up') / 1048576.0
   ELSE $(p workload.bytes) / 1048576.0 END,
 CASE $(p faults.down) WHEN '' THEN 'none' ELSE $(p faults.down) END,
 CASE $(p transport.path) WHEN 'split' THEN 'split-' || $(p transport.subflows) ELSE $(p transport.path) END,
 printf('%.3f', (SELECT max(end_ns) - min(start_ns) FROM phases WHERE run_id = r.id) / 1e3),
 printf('%.3f', (SELECT sum(ideal_ns) FROM phases WHERE run_id = r.id) / 1e3),
 printf('%.3f', (SELECT sum(cct_ns) * 1.0 / sum(ideal_ns) FROM phases WHERE run_id = r.id)),
 $(lm leaf_up), $(lm agg_up), $(lm core_down), $(lm agg_down)
FROM runs r WHERE status = 'done' ORDER BY r.id"
} >"$OUT.csv"
# the figure: the two built-in fabrics', or (a database of runs on a file
# fabric: tools/repro_ethereal.sh DB ft512) the 512-GPU GraphML tree's
gp=repro_ethereal.gp
if [ "$(sqlite3 "$DB" "SELECT count(*) FROM params WHERE key = 'topology.kind' AND value = 'file'")" -gt 0 ]; then
    gp=repro_ethereal_ft512.gp
fi
gnuplot -e "csv='$OUT.csv'; out='$OUT.png'" "$here/$gp"
# the table: one row per case, ratio (leaf-uplink max/mean) per mode
awk -F, 'NR > 1 {
    c = $1 " | " $2 " | " $3 " | " $4 " | " $5
    if (!(c in seen)) { seen[c] = 1; order[++n] = c }
    v[c, $6] = $9; l[c, $6] = $10
}
END {
    m = split("ecmp spray adaptive split-2 split-4 split-8 ethereal", mode, " ")
    printf "| fabric | engine | workload | MiB/host | down |"
    for (i = 1; i <= m; i++) printf " %s |", mode[i]
    print " ECMP / ethereal | ECMP / spray |"
    printf "|---|---|---|---|---|"
    for (i = 1; i <= m + 2; i++) printf "---|"
    print ""
    for (k = 1; k <= n; k++) {
        c = order[k]
        printf "| %s |", c
        for (i = 1; i <= m; i++) {
            if ((c, mode[i]) in v) printf " %s (%s) |", v[c, mode[i]], l[c, mode[i]]
            else printf " - |"
        }
        e = v[c, "ecmp"]; t = v[c, "ethereal"]; s = v[c, "spray"]
        printf " %s | %s |\n", (t > 0 ? sprintf("%.3f", e / t) : "-"), (s > 0 ? sprintf("%.3f", e / s) : "-")
    }
}' "$OUT.csv"
