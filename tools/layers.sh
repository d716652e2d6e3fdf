#!/bin/sh
# layers.sh [ROOT] - `make layers`: fails when a file includes a module that
# its layer may not use. The allowed matrix is written once, here, and
# docs/architecture.md draws it. A folder may include itself and the folders
# listed after it; app/ (the command line and the configuration) may include
# everything; tests/ are not checked. Library headers are limited too: only
# results/ talks to SQLite, only app/ to MPI and inih, only topo/ to igraph
# (and placement's community detection, workloads/place_affinity.c), only
# results/inputs.c (the input files' content hashes) to xxhash, only
# topo/fabric_graphml.c (the GraphML fabric's first pass) to libxml2. And workloads/
# build task graphs and never include an engine (sim/eng.h, sim/pkt*).
# Prints one line per forbidden include, "FILE:LINE: LAYER may not include
# HEADER", and exits 1; prints "layers: N files, every include allowed" and
# exits 0 otherwise.
set -eu
ROOT=${1:-.}
cd "$ROOT"
allowed() { # layer -> the folders it may include
    case $1 in
    base) echo "base" ;;
    topo) echo "base topo" ;;
    sim) echo "base topo results sim" ;;
    workloads) echo "base topo results sim workloads" ;;
    kernels) echo "base kernels" ;;
    results) echo "base results" ;;
    plots) echo "base results plots" ;;
    app) echo "base topo sim workloads kernels results plots app" ;;
    *) echo "" ;;
    esac
}
# project headers a layer may not include although it may include their
# folder: workloads build task graphs (sim/graph.h, sim/exec.h) and never
# include an engine
denied() { # layer header -> 0 when denied
    case $1:$2 in
    workloads:sim/eng.h | workloads:sim/pkt*) return 0 ;;
    *) return 1 ;;
    esac
}
# library header -> the files (extended regex on the path) that may include it
lib_allowed() {
    case $1 in
    igraph.h) echo '^(topo/|workloads/place_affinity\.c$)' ;;
    sqlite3.h) echo '^results/' ;;
    xxhash.h) echo '^results/inputs\.c$' ;;
    libxml/*) echo '^topo/fabric_graphml\.c$' ;;
    mpi.h | ini.h) echo '^app/' ;;
    *) echo '' ;;
    esac
}
bad=0
files=0
for f in $(find base topo sim workloads kernels results plots app -name '*.[ch]' -o -name '*.cu' 2>/dev/null | sort); do
    files=$((files + 1))
    layer=${f%%/*}
    ok=$(allowed "$layer")
    # project includes: #include "folder/file.h"
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
        n=${line%%:*}
        h=$(echo "$line" | sed 's/.*"\(.*\)".*/\1/')
        case $h in */*) ;; *) continue ;; esac
        dir=${h%%/*}
        case " $ok " in
        *" $dir "*) if denied "$layer" "$h"; then echo "$f:$n: $layer may not include $h"; fi ;;
        *) echo "$f:$n: $layer may not include $h" ;;
        esac
    done
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$f" | while IFS= read -r line; do
        n=${line%%:*}
        h=$(echo "$line" | sed 's/.*<\(.*\)>.*/\1/')
        re=$(lib_allowed "$h")
        [ -z "$re" ] && continue
        echo "$f" | grep -Eq "$re" || echo "$f:$n: $layer may not include <$h>"
    done
done >"${TMPDIR:-/tmp}/layers.$$"
if [ -s "${TMPDIR:-/tmp}/layers.$$" ]; then
    cat "${TMPDIR:-/tmp}/layers.$$"
    bad=$(wc -l <"${TMPDIR:-/tmp}/layers.$$")
    rm -f "${TMPDIR:-/tmp}/layers.$$"
    echo "layers: $bad forbidden include(s)" >&2
    exit 1
fi
rm -f "${TMPDIR:-/tmp}/layers.$$"
echo "layers: $files files, every include allowed"
