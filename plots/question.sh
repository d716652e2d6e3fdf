#!/bin/sh
# question.sh DB OUT - the table and figure of docs/question.md ("single-path
# or spraying, once reordering and loss have a cost?") from the runs of
# tools/question.sh in DB: OUT.csv, one row per done run (workload,
# profile: ideal = unbounded buffers and a fixed window, roce = dcqcn + PFC
# + go-back-N, uec = nscc + trimming + selective repeat; path mode; the
# completion in us (last end - first start over every phase: a whole MoE
# step with its compute, a whole all-reduce), the sum of the network
# phases' completion times and of their ideal bounds in us, and their
# ratio (each run's own bound: ethereal's counts its subflows, whose
# packets are smaller, sim/ethereal.c; a ring's phases are its (step,
# host) messages); bytes resent in MiB; timeouts; NACKs; pause time summed over
# every port in us; drops; trims; ECN marks); OUT.png through
# plots/question.gp; and on stdout the markdown table.
set -eu
DB=${1:?usage: question.sh DB OUT}
OUT=${2:?usage: question.sh DB OUT}
here=$(dirname "$0")
p() { echo "(SELECT value FROM params WHERE run_id = r.id AND key = '$1')"; }
net="FROM phases WHERE run_id = r.id AND ideal_ns > 0"
{
    echo "workload,profile,mode,completion_us,cct_us,ideal_us,ratio,retx_mib,timeouts,nacks,pause_us,drops,trims,ecn_marks"
    sqlite3 -csv "$DB" "
SELECT $(p workload.kind),
 CASE $(p transport.cc) WHEN 'window' THEN 'ideal' WHEN 'dcqcn' THEN 'roce' WHEN 'nscc' THEN 'uec' ELSE $(p transport.cc) END,
 $(p transport.path),
 printf('%.3f', (SELECT max(end_ns) - min(start_ns) FROM phases WHERE run_id = r.id) / 1e3),
 printf('%.3f', (SELECT sum(cct_ns) $net) / 1e3),
 printf('%.3f', (SELECT sum(ideal_ns) $net) / 1e3),
 printf('%.3f', (SELECT sum(cct_ns) * 1.0 / sum(ideal_ns) $net)),
 printf('%.3f', coalesce((SELECT sum(retx_bytes) FROM flows WHERE run_id = r.id), 0) / 1048576.0),
 coalesce((SELECT sum(timeouts) FROM flows WHERE run_id = r.id), 0),
 coalesce((SELECT sum(nacks) FROM flows WHERE run_id = r.id), 0),
 printf('%.3f', coalesce((SELECT sum(pause_ns) FROM links WHERE run_id = r.id), 0) / 1e3),
 (SELECT sum(drops) FROM links WHERE run_id = r.id),
 (SELECT sum(trims) FROM links WHERE run_id = r.id),
 (SELECT sum(ecn_marks) FROM links WHERE run_id = r.id)
FROM runs r WHERE status = 'done' ORDER BY r.id"
} >"$OUT.csv"
gnuplot -e "csv='$OUT.csv'; out='$OUT.png'" "$here/question.gp"
echo "| workload | profile | network / ideal: ecmp | spray | adaptive | ethereal | completion ecmp / spray | ethereal / spray | resent MiB (ecmp, spray, adaptive, ethereal) | pause ms summed (same order) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk -F, 'NR > 1 { k = $1 "," $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    ratio[k "," $3] = $7; cct[k "," $3] = $4; rx[k "," $3] = $8; pz[k "," $3] = $11 }
  END { for (i = 1; i <= n; i++) { k = order[i]; split(k, a, ",")
    printf "| %s | %s | %s | %s | %s | %s | %.3f | %.3f | %s, %s, %s, %s | %.3f, %.3f, %.3f, %.3f |\n", a[1], a[2],
      ratio[k ",ecmp"], ratio[k ",spray"], ratio[k ",adaptive"], ratio[k ",ethereal"],
      cct[k ",ecmp"] / cct[k ",spray"], cct[k ",ethereal"] / cct[k ",spray"],
      rx[k ",ecmp"], rx[k ",spray"], rx[k ",adaptive"], rx[k ",ethereal"],
      pz[k ",ecmp"] / 1e3, pz[k ",spray"] / 1e3, pz[k ",adaptive"] / 1e3, pz[k ",ethereal"] / 1e3 } }' "$OUT.csv"
