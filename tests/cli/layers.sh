#!/bin/sh
# layers.sh - `make layers` (tools/layers.sh) passes on the tree and fails,
# naming file, line and header, on a tree with forbidden includes: topo/
# including the configuration layer, base/ including anything of the
# project, results/ including the engine, and a module other than results/
# talking to SQLite, and a workload including an engine.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh tools/layers.sh . >"$tmp/out" || { cat "$tmp/out"; echo "FAIL: the tree breaks its layers" >&2; exit 1; }
grep -q '^layers: [0-9]* files, every include allowed$' "$tmp/out" || { cat "$tmp/out"; exit 1; }
mkdir -p "$tmp/t/base" "$tmp/t/topo" "$tmp/t/results" "$tmp/t/sim"
printf '#include "topo/topo.h"\n' >"$tmp/t/topo/ok.h"
printf '/* x */\n#include "base/err.h"\n#include "app/options.h"\n' >"$tmp/t/topo/x.c"
printf '#include "sim/eng.h"\n' >"$tmp/t/results/y.c"
printf '#include <stdio.h>\n#include "base/err.h"\n#include "topo/topo.h"\n' >"$tmp/t/base/z.h"
printf '#include <sqlite3.h>\n' >"$tmp/t/sim/w.c"
mkdir -p "$tmp/t/workloads"
printf '#include "sim/graph.h"\n#include "sim/eng.h"\n' >"$tmp/t/workloads/v.c"
if sh tools/layers.sh "$tmp/t" >"$tmp/bad" 2>"$tmp/err"; then
    echo "FAIL: forbidden includes passed" >&2
    exit 1
fi
cat >"$tmp/want" <<'WANT'
base/z.h:3: base may not include topo/topo.h
results/y.c:1: results may not include sim/eng.h
sim/w.c:1: sim may not include <sqlite3.h>
topo/x.c:3: topo may not include app/options.h
workloads/v.c:2: workloads may not include sim/eng.h
WANT
diff -u "$tmp/want" "$tmp/bad"
grep -q '^layers: 5 forbidden include(s)$' "$tmp/err"
