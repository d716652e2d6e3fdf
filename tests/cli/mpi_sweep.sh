#!/bin/sh
# mpi_sweep.sh - with MPI installed: builds moesim with MPI=1 into a separate
# directory, runs the sweep over 3 ranks (rank 0 writes, 2 simulate) and
# checks its rows equal those of the local sweep (wall-clock columns aside).
# Without mpicc or mpirun it says so and passes.
set -eu
. tests/cli/lib.inc
if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi_sweep: skipped, MPI is not installed (apt-get install libopenmpi-dev openmpi-bin)"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
B=${MOESIM_MPI_BUILD:-build-mpi-test}
# a plain build whatever make invoked this test (SAN=1 must not leak in)
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s MPI=1 SAN=0 BUILD="$B" -j2 "$B/moesim" >"$T/build.txt" 2>&1 || { cat "$T/build.txt"; fail "MPI build"; }
"$MOESIM" run tests/cli/sweep.ini --db "$T/local.db" --jobs 2 -q
mpirun --oversubscribe --allow-run-as-root -n 3 "$B/moesim" run tests/cli/sweep.ini \
    --db "$T/mpi.db" -q >"$T/mpi.txt" 2>&1 || { cat "$T/mpi.txt"; fail "mpirun"; }
dump "$T/local.db" >"$T/a.txt"
dump "$T/mpi.db" >"$T/b.txt"
cmp "$T/a.txt" "$T/b.txt" || { diff "$T/a.txt" "$T/b.txt" | head; fail "MPI rows differ from the local sweep's"; }
expect_eq "done runs" "$(sqlite3 "$T/mpi.db" "SELECT count(*) FROM runs WHERE status = 'done'")" 6
echo "mpi_sweep: 6 runs over 3 ranks, rows equal to the local sweep's"
