#!/bin/sh
# moe_timeline.sh DB OUT - the step timeline of README.md and
# docs/moe-steps.md (not a `moesim plot` kind): every task of the done runs
# in DB (meant for two, e.g. overlap = none then dual_batch: lanes 0-1 the
# first run, 2-3 the second) as a bar on its
# run's compute or network lane, OUT.csv (lane, run label, start and end in
# ms, kind, micro-batch) and OUT.png through plots/moe_timeline.gp. The
# micro-batch of a dual_batch row comes from its order in its layer (two
# attention rows, then micro-batch 0's rows, then 1's: docs/moe-steps.md).
set -eu
DB=${1:?usage: moe_timeline.sh DB OUT}
OUT=${2:?usage: moe_timeline.sh DB OUT}
here=$(dirname "$0")
sqlite3 -separator ' ' "$DB" "
SELECT p.run_id, (SELECT value FROM params WHERE run_id = p.run_id AND key = 'workload.overlap'),
 p.layer, p.phase, p.start_ns, p.end_ns
FROM phases p JOIN runs r ON r.id = p.run_id WHERE r.status = 'done' ORDER BY p.run_id, p.rowid" |
    awk 'BEGIN { print "lane,run,start_ms,end_ms,kind,mb" }
    {
        run = $1; ov = $2; layer = $3; ph = $4
        if (run != prun) { runs++; prun = run; pl = -1 }
        if (layer != pl) { att = 0; disp = 0; pl = layer }
        if (ph == "attention") { mb = ov == "dual_batch" ? att : 0; att++ }
        else { if (ph == "dispatch") disp++; mb = ov == "dual_batch" ? disp - 1 : 0 }
        kind = ph == "attention" ? 0 : ph == "compute" ? 1 : ph ~ /^dispatch/ ? 2 : 3
        net = kind >= 2
        lane = 2 * (runs - 1) + (net ? 0 : 1)
        printf "%d,%s,%.6f,%.6f,%d,%d\n", lane, ov, $5 / 1e6, $6 / 1e6, kind, mb
    }' >"$OUT.csv"
# each run's lanes named by its overlap
l1=$(awk -F, '$1 == 0 { print $2; exit }' "$OUT.csv")
l2=$(awk -F, '$1 == 2 { print $2; exit }' "$OUT.csv")
gnuplot -e "csv='$OUT.csv'; out='$OUT.png'; l1='overlap = $l1'; l2='overlap = ${l2:-}'" "$here/moe_timeline.gp"
