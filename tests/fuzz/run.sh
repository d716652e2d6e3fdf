#!/bin/sh
# run.sh SECONDS TARGET... - runs each libFuzzer target of build-fuzz/ for
# SECONDS, one after another, on a working copy of its committed seed corpus
# (build-fuzz/corpus/NAME: what the fuzzer finds stays out of git). Crashing
# inputs land in build-fuzz/crashes/NAME/; copy the ones that matter to
# tests/fuzz/regress/NAME/ so that the replay test keeps them fixed. Prints
# one line per target: runs, coverage (cov/ft) and status.
set -u
secs=$1
shift
status=0
for t in "$@"; do
    bin=build-fuzz/fuzz_$t
    work=build-fuzz/corpus/$t
    crashes=build-fuzz/crashes/$t
    mkdir -p "$work" "$crashes"
    [ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/$t/* "$work"/ 2>/dev/null
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    log=build-fuzz/$t.log
    t0=$(date +%s)
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$crashes/" $dict "$work" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - t0))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    if [ "$rc" = 0 ]; then r=ok; else r="CRASH (rc $rc, see $log and $crashes/)"; status=1; fi
    echo "fuzz $t: ${runs:-?} runs in ${took}s, ${cov:-no coverage line}, $r"
done
exit $status
