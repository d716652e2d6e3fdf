#!/bin/sh
# run.sh - `moesim run` end to end: a sweep lands in the database as `done`
# runs with their params, phases and links; phases match the CSV; bad
# scenarios stop with the exact one-line error, status 2, and no `done` run;
# an MoE scenario replays the real trace. Run from the repository root with
# $MOESIM.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/r.db
q() { sqlite3 "$db" "$1"; }
fail() { echo "FAIL: $*"; exit 1; }

"$MOESIM" run scenarios/alltoall.ini --db "$db" --csv "$tmp/p.csv" \
    --set transport.path=ecmp,spray --set workload.bytes=65536 >"$tmp/out"
[ "$(grep -c '^run ' "$tmp/out")" = 2 ] || fail "two summary lines expected"
[ "$(q "select count(*) from runs where status='done'")" = 2 ] || fail "two done runs"
[ "$(q "select group_concat(value) from params where key='transport.path'")" = "ecmp,spray" ] ||
    fail "params record the sweep"
# Every option is recorded for every run.
n=$("$MOESIM" help | grep -c '^  [a-z_]* *= ')
[ "$(q "select count(*) from params where run_id=1")" = "$n" ] || fail "params has every option ($n)"
# 16 hosts x 15 peers x 64 KiB in the one phase; ideal below the completion.
[ "$(q "select bytes from phases where run_id=1")" = $((16 * 15 * 65536)) ] || fail "phase bytes"
[ "$(q "select count(*) from phases where cct_ns < ideal_ns")" = 0 ] || fail "cct >= ideal"
[ "$(q "select count(*) from links where run_id=2")" = 64 ] || fail "32 host + 32 fabric ports"
# Bytes into the spines equal bytes out of them.
[ "$(q "select sum(case kind when 'leaf_up' then bytes else -bytes end) from links
        where run_id=2 and kind in ('leaf_up','spine_down')")" = 0 ] || fail "spine conservation"
[ "$(wc -l <"$tmp/p.csv")" = 3 ] || fail "CSV: header and two rows"
head -1 "$tmp/p.csv" | grep -q '^run_id,iter,layer,phase,start_ns,end_ns,cct_ns,ideal_ns,bytes' ||
    fail "CSV header"

# Bad input: exact error, status 2, nothing done.
expect_bad() { # file-content expected-line
    printf '%b' "$1" >"$tmp/bad.ini"
    rc=0
    "$MOESIM" run "$tmp/bad.ini" --db "$tmp/bad.db" >/dev/null 2>"$tmp/err" || rc=$?
    [ "$rc" = 2 ] || fail "status $rc for: $1"
    [ "$(cat "$tmp/err")" = "moesim: $2" ] || fail "got '$(cat "$tmp/err")', want 'moesim: $2'"
    if [ -f "$tmp/bad.db" ]; then
        [ "$(sqlite3 "$tmp/bad.db" "select count(*) from runs where status='done'")" = 0 ] ||
            fail "a done run after bad input"
    fi
}
expect_bad '[topology]\nspines = 0\n' "$tmp/bad.ini:2: topology.spines: 0 is out of bounds [1, 1024]"
expect_bad '[topology]\nleaves = 1\nhosts_per_leaf = 1\n' \
    "$tmp/bad.ini:3: topology.hosts_per_leaf: leaves*hosts_per_leaf = 1 host, need at least 2"
expect_bad '[transport]\npath = wormhole\n' \
    "$tmp/bad.ini:2: transport.path: 'wormhole' is not one of ecmp|spray|spray_rr|split|adaptive|flowlet|ethereal"
expect_bad '[fabric]\nx = 1\n' "$tmp/bad.ini:1: [fabric]: unknown section"
expect_bad '[transport]\nack_every = 20\n' \
    "$tmp/bad.ini:2: transport.ack_every: 20 packets of transport.mtu 4096 bytes are more than one acknowledgement covers (65535 bytes)"
expect_bad '[topology]\nhosts_per_leaf = 6\ngpus_per_host = 4\n' \
    "$tmp/bad.ini:3: topology.gpus_per_host: 4 does not divide topology.hosts_per_leaf (6): a server's GPUs sit under one leaf"
expect_bad '[workload]\nkind = moe\ntrace = /nonexistent.csv\n' \
    "$tmp/bad.ini:3: workload.trace: /nonexistent.csv: cannot open: No such file or directory"
rc=0
"$MOESIM" run "$tmp/none.ini" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] && grep -q "none.ini: cannot open: No such file or directory" "$tmp/err" || fail "missing file"

# The real Mixtral trace replays end to end (4 layers here to stay quick).
"$MOESIM" run scenarios/moe_mixtral.ini --db "$db" --set workload.layers=4 \
    --set transport.path=spray --set placement.policy=contiguous --set workload.tokens_per_gpu=32 >"$tmp/out"
id=$(q "select max(id) from runs")
[ "$(q "select status from runs where id=$id")" = done ] || fail "moe run done"
[ "$(q "select count(*) from phases where run_id=$id")" = 12 ] || fail "4 layers x 3 phases"
[ "$(q "select count(*) from phases p1 join phases p2 on p1.run_id=p2.run_id and p1.layer=p2.layer
        where p1.run_id=$id and p1.phase='dispatch' and p2.phase='combine' and p1.bytes=p2.bytes")" = 4 ] ||
    fail "dispatch bytes = combine bytes per layer"
# GPU loads: 4 layers x 16 GPUs; every trace token the replay drew from is
# listed with its uses, which add up to the batch (16 GPUs x 32 tokens).
[ "$(q "select count(*) from gpu_load where run_id=$id")" = 64 ] || fail "gpu_load rows"
[ "$(q "select sum(uses) from trace_use where run_id=$id")" = 512 ] || fail "trace_use sums to the batch"
# ... and trace_use exports like every other table (a column per swept key)
"$MOESIM" export --db "$db" --table trace_use --where placement.policy=contiguous -o "$tmp/tu.csv"
[ "$(head -1 "$tmp/tu.csv" | cut -d, -f1-3)" = "run_id,token,uses" ] || fail "trace_use export header"
[ "$(awk -F, -v id="$id" 'NR > 1 && $1 == id { s += $3 } END { print s }' "$tmp/tu.csv")" = 512 ] ||
    fail "trace_use export sums to the batch"
[ "$(q "select min(token) from trace_use where run_id=$id")" = 123 ] || fail "held-out tokens only (train 0.5 of 247)"

# What a run computes besides its rows goes to notes: the placement's cost,
# the ilp's status and gap (as `moesim place` prints them), and a
# calibrated compute model's range; asked past the calibration's last row,
# the sweep says so once.
printf 'tokens,us\n1,10\n8,20\n' >"$tmp/cal.csv"
"$MOESIM" run scenarios/placement_compare.ini --db "$tmp/n.db" --quiet --set workload.layers=2 \
    --set workload.tokens_per_gpu=8 --set placement.policy=ilp,contiguous --set workload.ep_mode=standard \
    --set workload.compute="$tmp/cal.csv" 2>"$tmp/err" || fail "notes run"
nq() { sqlite3 "$tmp/n.db" "$1"; }
[ "$(nq "SELECT n.value FROM notes n JOIN params p ON p.run_id = n.run_id AND p.key = 'placement.policy'
         AND p.value = 'ilp' WHERE n.key = 'placement.ilp_status'")" = optimal ] || fail "ilp status"
[ "$(nq "SELECT value FROM notes WHERE run_id = 1 AND key = 'placement.ilp_gap'")" = 0 ] || fail "ilp gap"
[ "$(nq "SELECT count(*) FROM notes WHERE run_id = 2 AND key LIKE 'placement.ilp%'")" = 0 ] ||
    fail "no ilp notes for contiguous"
[ "$(nq "SELECT count(*) FROM notes WHERE key = 'placement.cost_us'")" = 2 ] || fail "placement cost notes"
[ "$(nq "SELECT value FROM notes WHERE run_id = 1 AND key = 'compute.calibrated_tokens'")" = 8 ] ||
    fail "calibrated range"
got=$(nq "SELECT value FROM notes WHERE run_id = 1 AND key = 'compute.max_expert_tokens'")
[ "$(cat "$tmp/err")" = "moesim: warning: run 1: workload.compute: an expert computed $got tokens at once, more than the last row of $tmp/cal.csv (8 tokens): its time is extrapolated from the last two rows (notes table: compute.max_expert_tokens; said once per sweep)" ] ||
    fail "extrapolation warning: $(cat "$tmp/err")"
"$MOESIM" export --db "$tmp/n.db" --table notes -o "$tmp/notes.csv" 2>/dev/null
[ "$(head -1 "$tmp/notes.csv" | cut -d, -f1-3)" = "run_id,key,value" ] || fail "notes export"

# Every shipped scenario resolves and runs (shrunk to stay quick).
# (The 4096- and 16384-GPU steps at 512 GPUs: their placement alone takes
# seconds at full size; tests/cli/ideal_bound.sh runs them smaller still.)
for f in scenarios/*.ini; do
    case $f in
    scenarios/moe_4096.ini | scenarios/moe_16384.ini)
        set -- --set topology.leaves=8 --set topology.spines=8 --set topology.hosts_per_leaf=64 \
            --set placement.replicas=256 ;;
    *) set -- ;;
    esac
    b=8192
    [ "$f" != scenarios/repro_ethereal_ft512.ini ] || b=512 # 512 hosts: one packet a pair
    "$MOESIM" run "$f" --db "$tmp/all.db" --quiet --jobs 1 --set sim.seed=1 \
        --set workload.bytes=$b --set workload.tokens_per_gpu=4 --set workload.layers=2 \
        --set workload.chunks=1 --set placement.ilp_time_limit_s=1 "$@" || fail "scenario $f"
done
[ "$(sqlite3 "$tmp/all.db" "select count(*) from runs where status != 'done'")" = 0 ] ||
    fail "every shipped scenario's runs done"
echo ok
