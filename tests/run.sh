#!/bin/sh
# run.sh BUILD BIN - runs every cmocka test binary in BUILD/tests and the CLI
# tests (tests/cli/*.sh with the moesim binary), then prints one closing line
# "tests: N passed, M failed".
BUILD=$1
BIN=$2
passed=0
failed=0
log=$(mktemp)
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "$t: exited with status $rc"; fi
    passed=$((passed + p))
    failed=$((failed + f))
done
for s in tests/cli/*.sh; do
    [ -f "$s" ] || continue
    if MOESIM="$PWD/$BIN" sh "$s" >"$log" 2>&1; then
        passed=$((passed + 1)); echo "[       OK ] $s"
    else
        failed=$((failed + 1)); echo "[  FAILED  ] $s"; cat "$log"
    fi
done
rm -f "$log"
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
