#!/bin/sh
# plot.sh - `moesim plot` and `moesim report` on real runs: the heatmap's
# cells are exact intervals of time (on links one flow saturates, never above
# 100 % plus one packet's share of a cell; the cells' bytes add up to the
# timeseries bytes), `--by placement.policy` draws a bar per policy, the
# report gives every cell n and min-max and no ratio for step_time, and the
# gnuplot scripts are found in $MOESIM_PLOTS, next to the binary, in an
# installed share/moesim/plots or in ./plots, else one line names where.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
REPO=$PWD

# ---- heatmap: two hosts sending 4 MB to each other, samples every 1 us ----
cat >"$T/one.ini" <<EOF
[topology]
leaves = 1
spines = 1
hosts_per_leaf = 2
host_gbps = 100
fabric_gbps = 100
[workload]
kind = permutation
bytes = 4000000
[output]
sample_ns = 1000
EOF
"$MOESIM" run "$T/one.ini" --db "$T/one.db" -q
"$MOESIM" plot heatmap --db "$T/one.db" -o "$T/h" >/dev/null
expect_eq "heatmap bytes" "$(awk -F, 'NR > 1 { s += $6 } END { printf "%.0f", s }' "$T/h/heatmap.csv")" \
    "$(sqlite3 "$T/one.db" "SELECT sum(bytes) FROM timeseries")"
mtu=$(sqlite3 "$T/one.db" "SELECT value FROM params WHERE key = 'transport.mtu'")
# check_cells LINKS CELLS: every cell <= 100 % + one packet of mtu bytes
# over capacity x the cell's width; prints the largest cell
check_cells() {
    awk -F, -v mtu="$mtu" '
        NR == FNR { if (FNR > 1) gbps[$1] = $6; next }
        FNR > 1 {
            lim = 100 + 100 * mtu * 8 / (gbps[$2] * ($5 - $4))
            if ($7 > lim + 1e-9) { print "cell " $0 " is over " lim " %" > "/dev/stderr"; bad = 1 }
            if ($7 > m) m = $7
        }
        END { print m; exit bad }' "$1" "$2"
}
top=$(check_cells "$T/h/heatmap_links.csv" "$T/h/heatmap.csv") || fail "heatmap cells over 100 % + a packet"
# the hosts' links are saturated: the bound was tested where it binds
awk -v m="$top" 'BEGIN { exit !(m >= 95) }' || fail "no saturated cell (largest $top %)"

# ---- a placement sweep: three policies, MoE on the Mixtral trace ----
"$MOESIM" run scenarios/paper.ini --db "$T/p.db" -q --set workload.layers=2 \
    --set transport.path=spray --set sim.seed=1,2 --set placement.policy=contiguous,round_robin,eplb \
    --set output.sample_ns=2000
"$MOESIM" plot cct --db "$T/p.db" -o "$T/f" --by placement.policy >/dev/null
expect_eq "cct bars" "$(tail -n +2 "$T/f/cct.csv" | cut -d, -f1 | tr '\n' ' ')" \
    '"contiguous" "round_robin" "eplb" '
expect_eq "cct runs per bar" "$(tail -n +2 "$T/f/cct.csv" | cut -d, -f5 | tr '\n' ' ')" "2 2 2 "
grep -qx "note = 'pooled: sim.seed (1, 2)'" "$T/f/cct.gp" || fail "cct.gp: $(grep '^note' "$T/f/cct.gp")"
"$MOESIM" plot moe --db "$T/p.db" -o "$T/f" >/dev/null
expect_eq "moe bars" "$(tail -n +2 "$T/f/moe.csv" | cut -d, -f2 | tr '\n' ' ')" \
    '"contiguous" "round_robin" "eplb" '
# the MoE run's cells (queues, many flows per link) conserve bytes and keep
# within capacity plus a packet too: samples count bytes as they leave
"$MOESIM" plot heatmap --db "$T/p.db" -o "$T/m" --run 3 >/dev/null
expect_eq "moe heatmap bytes" "$(awk -F, 'NR > 1 { s += $6 } END { printf "%.0f", s }' "$T/m/heatmap.csv")" \
    "$(sqlite3 "$T/p.db" "SELECT sum(bytes) FROM timeseries WHERE run_id = 3")"
check_cells "$T/m/heatmap_links.csv" "$T/m/heatmap.csv" >/dev/null || fail "moe heatmap cells over 100 % + a packet"
# the timeline of run 3: a box per task of its first step, all on the
# critical path (no overlap), the last ending at the step's time
"$MOESIM" plot timeline --db "$T/p.db" -o "$T/t" --run 3 >/dev/null
expect_eq "timeline rows" "$(tail -n +2 "$T/t/timeline.csv" | wc -l)" \
    "$(sqlite3 "$T/p.db" "SELECT count(*) FROM tasks WHERE run_id = 3 AND iter = 0")"
expect_eq "timeline critical" "$(tail -n +2 "$T/t/timeline.csv" | cut -d, -f4 | sort -u | tr '\n' ' ')" "1 "

# ---- report: n and min-max in every cell, no ratio for step_time ----
"$MOESIM" report --db "$T/p.db" --by placement.policy --metric step_time >"$T/rep.txt"
sed -n 2,3p "$T/rep.txt" >"$T/head.txt"
expect_eq "report header" "$(cat "$T/head.txt")" "cell: median [min-max] over the cell's runs, n = runs
cells pool: sim.seed (1, 2)"
expect_eq "report cells" "$(tail -n +5 "$T/rep.txt" | grep -cE '^[a-z_]+ +[0-9.]+ \[[0-9.]+-[0-9.]+\] n=2$')" 3
grep -q ' x[0-9]' "$T/rep.txt" && fail "step_time report prints a ratio: $(cat "$T/rep.txt")"
"$MOESIM" report --db "$T/p.db" --by placement.policy --metric cct | grep -q ' x[0-9.]* n=2$' ||
    fail "cct report lost its ratio to ideal"

# ---- where the scripts are found ----
mkdir -p "$T/bin" "$T/inst/bin" "$T/inst/share/moesim" "$T/cwd"
cp "$MOESIM" "$T/bin/moesim"
cd "$T/cwd"
rc=0
env -u MOESIM_PLOTS "$T/bin/moesim" plot cct --db "$T/p.db" -o "$T/g" >/dev/null 2>"$T/err.txt" || rc=$?
expect_eq "no scripts: status" "$rc" 1
expect_eq "no scripts: message" "$(cat "$T/err.txt")" \
    "moesim plot: no gnuplot scripts (style.gp) in $T/bin/plots, $T/bin/../share/moesim/plots or ./plots (set MOESIM_PLOTS to the folder holding moesim's plots/*.gp)"
rc=0
MOESIM_PLOTS="$T/none" "$T/bin/moesim" plot cct --db "$T/p.db" -o "$T/g" >/dev/null 2>"$T/err.txt" || rc=$?
expect_eq "bad MOESIM_PLOTS: status" "$rc" 1
expect_eq "bad MOESIM_PLOTS: message" "$(cat "$T/err.txt")" \
    "moesim plot: no gnuplot scripts (style.gp) in \$MOESIM_PLOTS=$T/none"
MOESIM_PLOTS="$REPO/plots" "$T/bin/moesim" plot cct --db "$T/p.db" -o "$T/g" >/dev/null
cp -r "$REPO/plots" "$T/bin/plots"
env -u MOESIM_PLOTS "$T/bin/moesim" plot cct --db "$T/p.db" -o "$T/g" >/dev/null
cp "$MOESIM" "$T/inst/bin/moesim"
cp -r "$REPO/plots" "$T/inst/share/moesim/plots"
env -u MOESIM_PLOTS "$T/inst/bin/moesim" plot cct --db "$T/p.db" -o "$T/g" >/dev/null
cd "$REPO"
env -u MOESIM_PLOTS "$MOESIM" plot cct --db "$T/p.db" -o "$T/g" >/dev/null
[ -s "$T/g/cct.pdf" ] || fail "no cct.pdf"
