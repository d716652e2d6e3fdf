#!/bin/sh
# deps.sh - installs the Debian 12 packages moesim needs, only when missing.
# Called by `make deps` (and so by `make run` and `make test`). `deps.sh fuzz`
# also wants clang and its libFuzzer runtime (`make fuzz` only); `deps.sh
# valgrind` also wants valgrind (`make valgrind` only); `deps.sh mpi` also
# wants OpenMPI (mpicc, mpirun), so that tests/cli/mpi_sweep.sh compares an
# MPI sweep's rows with a local one's instead of skipping (.ci/run).
set -eu
PKGS="libgsl-dev libigraph-dev libsqlite3-dev sqlite3 libcsv-dev libcmocka-dev libinih-dev
libjansson-dev libglpk-dev gnuplot-nox pkg-config libxxhash-dev libxml2-dev"
case "${1:-}" in
fuzz) PKGS="$PKGS clang libclang-rt-14-dev" ;;
valgrind) PKGS="$PKGS valgrind" ;;
mpi) PKGS="$PKGS libopenmpi-dev openmpi-bin" ;;
esac
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: missing packages:$missing (run as root or install them)" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
