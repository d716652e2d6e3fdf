#!/bin/sh
# resume.sh - --resume skips the runs already done with identical resolved
# parameters and reruns the failed one, whose rows then equal a clean sweep's.
# A copied database resumes as its original (output.db and output.csv are no
# part of a run); a trace regenerated under the same path reruns its runs, the
# same trace under another path does not (inputs are hashed, the inputs table).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
MOESIM_TEST_ABORT_RUN=2 "$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --jobs 2 -q 2>/dev/null || true
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --jobs 2 --resume >"$T/out.txt"
expect_eq "summary" "$(grep -c '^run ' "$T/out.txt")" 1
grep -q '^run 7 \[transport.path=ecmp sim.seed=3\]' "$T/out.txt" || fail "run 7 is not the rerun: $(cat "$T/out.txt")"
expect_eq "closing line" "$(tail -1 "$T/out.txt" | sed 's/; peak memory.*//')" \
    "1 run done, 0 failed, 5 skipped (already done); results in $T/a.db"
expect_eq "statuses" "$(sqlite3 "$T/a.db" "SELECT group_concat(id || ':' || status, ' ') FROM runs")" \
    "1:done 2:done 3:failed 4:done 5:done 6:done 7:done"
# the rerun's params are those of the failed run
expect_eq "params" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM params a JOIN params b ON a.key = b.key AND a.value = b.value WHERE a.run_id = 3 AND b.run_id = 7")" \
    "$(sqlite3 "$T/a.db" "SELECT count(*) FROM params WHERE run_id = 3")"
# its rows equal those of run 3 of a clean sweep
"$MOESIM" run tests/cli/sweep.ini --db "$T/b.db" --jobs 2 -q
q="SELECT iter, layer, phase, start_ns, end_ns, ideal_ns, bytes FROM phases WHERE run_id = ?"
expect_eq "rerun phases" "$(sqlite3 "$T/a.db" "$(echo "$q" | sed 's/?/7/')")" \
    "$(sqlite3 "$T/b.db" "$(echo "$q" | sed 's/?/3/')")"
# nothing left to do; a changed parameter is a new configuration
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --resume >"$T/out2.txt"
expect_eq "all done" "$(tail -1 "$T/out2.txt" | sed 's/; results.*//')" \
    "0 runs done, 0 failed, 6 skipped (already done)"
"$MOESIM" run tests/cli/sweep.ini --db "$T/a.db" --resume --set sim.seed=4 -q
expect_eq "runs" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM runs")" 9

# a copied database resumes as its original: output.db is no part of a run
cp "$T/a.db" "$T/copy.db"
"$MOESIM" run tests/cli/sweep.ini --db "$T/copy.db" --resume --set sim.seed=4 >"$T/out3.txt"
expect_eq "copy resumed" "$(tail -1 "$T/out3.txt" | sed 's/; results.*//')" \
    "0 runs done, 0 failed, 2 skipped (already done)"
expect_eq "copy runs" "$(sqlite3 "$T/copy.db" "SELECT count(*) FROM runs")" 9
# nor is output.csv
"$MOESIM" run tests/cli/sweep.ini --db "$T/copy.db" --resume --csv "$T/p.csv" -q
expect_eq "csv resumed" "$(sqlite3 "$T/copy.db" "SELECT count(*) FROM runs")" 9

# a trace counts by its contents: regenerated under the same path, its runs
# run again; the same contents under another path are the same runs
"$MOESIM" trace gen --experts 8 --topk 2 --layers 2 --sequences 2 --tokens 64 --seed 1 \
    -o "$T/t.csv" >/dev/null
moe="--set workload.kind=moe --set workload.trace=$T/t.csv --set workload.hidden=256
--set workload.ffn=512 --set workload.tokens_per_gpu=16 --set workload.layers=2
--set transport.path=ecmp --set sim.seed=1,2"
# shellcheck disable=SC2086
"$MOESIM" run tests/cli/sweep.ini --db "$T/m.db" -q $moe
expect_eq "input rows" "$(sqlite3 "$T/m.db" "SELECT count(*), count(DISTINCT xxh3), min(key), min(path) FROM inputs")" \
    "2|1|workload.trace|$T/t.csv"
# shellcheck disable=SC2086
"$MOESIM" run tests/cli/sweep.ini --db "$T/m.db" --resume $moe >"$T/out4.txt"
expect_eq "same trace" "$(tail -1 "$T/out4.txt" | sed 's/; results.*//')" \
    "0 runs done, 0 failed, 2 skipped (already done)"
cp "$T/t.csv" "$T/t2.csv"
# shellcheck disable=SC2086
"$MOESIM" run tests/cli/sweep.ini --db "$T/m.db" --resume $moe --set workload.trace="$T/t2.csv" >"$T/out5.txt"
expect_eq "trace moved" "$(tail -1 "$T/out5.txt" | sed 's/; results.*//')" \
    "0 runs done, 0 failed, 2 skipped (already done)"
"$MOESIM" trace gen --experts 8 --topk 2 --layers 2 --sequences 2 --tokens 64 --seed 2 \
    -o "$T/t.csv" >/dev/null
# shellcheck disable=SC2086
"$MOESIM" run tests/cli/sweep.ini --db "$T/m.db" --resume $moe >"$T/out6.txt"
expect_eq "regenerated trace" "$(tail -1 "$T/out6.txt" | sed 's/; results.*//')" \
    "2 runs done, 0 failed, 0 skipped (already done)"
expect_eq "two traces" "$(sqlite3 "$T/m.db" "SELECT count(DISTINCT xxh3) FROM inputs")" 2
# the new runs simulated the new trace: run 3 (seed 1) differs from run 1
ph="SELECT group_concat(end_ns) FROM (SELECT end_ns FROM phases WHERE run_id = ? ORDER BY rowid)"
[ "$(sqlite3 "$T/m.db" "$(echo "$ph" | sed 's/?/1/')")" != "$(sqlite3 "$T/m.db" "$(echo "$ph" | sed 's/?/3/')")" ] ||
    fail "the rerun on the regenerated trace has the old trace's phases"
expect_eq "seeds of the reruns" "$(sqlite3 "$T/m.db" "SELECT group_concat(seed) FROM runs WHERE id > 2")" "1,2"
"$MOESIM" export --db "$T/m.db" --table inputs -o "$T/inputs.csv" 2>/dev/null
expect_eq "inputs export header" "$(head -1 "$T/inputs.csv")" "run_id,key,path,bytes,xxh3,sim.seed"
expect_eq "inputs export rows" "$(($(wc -l <"$T/inputs.csv") - 1))" 4
echo "resume: ok"
