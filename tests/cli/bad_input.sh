#!/bin/sh
# bad_input.sh - report, export, plot and run refuse bad input with one exact
# line on stderr and exit status 2.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --set sim.seed=1 --set output.flows=false --set output.sample_ns=0 -q
sqlite3 "$T/other.db" "CREATE TABLE t (x INTEGER)"
cp "$T/a.db" "$T/new.db"
sqlite3 "$T/new.db" "UPDATE meta SET value = '7' WHERE key = 'schema_version'"
expect_exit 2 "moesim report: --by nope.key: unknown parameter nope.key (no run has it)" \
    "$MOESIM" report --db "$T/a.db" --by nope.key
expect_exit 2 "moesim report: --where x.y=1: unknown parameter x.y (no run has it)" \
    "$MOESIM" report --db "$T/a.db" --where x.y=1
expect_exit 2 "moesim report: $T/a.db: no done runs match" \
    "$MOESIM" report --db "$T/a.db" --where transport.path=adaptive
expect_exit 2 "moesim report: $T/other.db: not a moesim results database (it has tables but no meta table)" \
    "$MOESIM" report --db "$T/other.db"
expect_exit 2 "moesim report: $T/new.db: schema_version 7 is newer than this moesim handles (6); use a newer moesim" \
    "$MOESIM" report --db "$T/new.db"
expect_exit 2 "moesim report: $T/none.db: cannot open: No such file or directory" \
    "$MOESIM" report --db "$T/none.db"
expect_exit 2 "moesim report: --metric p50: expected cct, slowdown, step_time, exposed_comm, tokens_per_s or per_token_us" \
    "$MOESIM" report --db "$T/a.db" --metric p50
expect_exit 2 "moesim export: --table packets: expected runs, params, phases, links, flows, timeseries, gpu_load, trace_use, inputs, notes or tasks" \
    "$MOESIM" export --db "$T/a.db" --table packets -o "$T/x.csv"
expect_exit 2 "moesim export: --where sim.seed: expected section.key=value" \
    "$MOESIM" export --db "$T/a.db" --table runs --where sim.seed -o "$T/x.csv"
[ ! -e "$T/x.csv" ] || fail "a failed export left a file"
expect_exit 2 "moesim plot: no flow records in the 2 matching done runs (run with output.flows = true)" \
    "$MOESIM" plot fct --db "$T/a.db" -o "$T/p"
expect_exit 2 "moesim plot: no link samples in the 2 matching done runs (run with output.sample_ns > 0)" \
    "$MOESIM" plot heatmap --db "$T/a.db" -o "$T/p"
expect_exit 2 "moesim run: --jobs: expected an integer in [1, 4096], got '0'" \
    "$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --jobs 0
expect_exit 2 "moesim run: --threads: expected an integer in [1, 4096], got 'two'" \
    "$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --threads two
# and the good path of export: exact text
"$MOESIM" export --db "$T/a.db" --table phases -o "$T/p.csv" 2>/dev/null
expect_eq "export" "$(cut -d, -f1-4,11 "$T/p.csv")" 'run_id,iter,layer,phase,transport.path
1,0,0,"alltoall","ecmp"
2,0,0,"alltoall","spray"'
# an algorithm the workload kind does not have: the scenario's line, exit 2
printf '[topology]\nleaves = 1\nhosts_per_leaf = 4\n[workload]\nkind = reduce_scatter\nalgo = direct\n' >"$T/ring.ini"
expect_exit 2 "moesim: $T/ring.ini:6: workload.algo: direct is not an algorithm of workload.kind = reduce_scatter (it has: ring, halving_doubling)" \
    "$MOESIM" run "$T/ring.ini" --db "$T/ring.db"
# ring chunk pipelining: not with halving_doubling, and no empty chunk (a
# step's message of 100 / 4 = 25 bytes in 26 chunks)
printf '[topology]\nleaves = 1\nhosts_per_leaf = 4\n[workload]\nkind = allreduce\nalgo = halving_doubling\nchunks = 2\n' >"$T/ring_hd.ini"
expect_exit 2 "moesim: $T/ring_hd.ini:7: workload.chunks: chunk pipelining is modeled for workload.algo = ring and tree, not halving_doubling (use 1)" \
    "$MOESIM" run "$T/ring_hd.ini" --db "$T/ring_hd.db"
printf '[topology]\nleaves = 1\nhosts_per_leaf = 4\n[workload]\nkind = allgather\nbytes = 100\nchunks = 26\n' >"$T/ring_ch.ini"
expect_exit 2 "moesim: $T/ring_ch.ini:7: workload.chunks: 26 chunks of a ring step's workload.bytes / hosts = 25 bytes leave a chunk empty" \
    "$MOESIM" run "$T/ring_ch.ini" --db "$T/ring_ch.db"
