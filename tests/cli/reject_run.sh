#!/bin/sh
# reject_run.sh - malformed `moesim` command lines and results files: each
# exits with status 2 and the exact first line on stderr, writes nothing to
# stdout, and adds no run to any database.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S=scenarios/alltoall.ini
n=0

# expect "ARGS" "FIRST STDERR LINE"
expect() {
    set +e
    # shellcheck disable=SC2086
    "$MOESIM" $1 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    first=$(head -1 "$tmp/err")
    if [ "$rc" != 2 ] || [ "$first" != "$2" ] || [ -s "$tmp/out" ]; then
        echo "moesim $1: status $rc, stderr '$first'"
        echo "expected status 2, '$2', no output"
        exit 1
    fi
    n=$((n + 1))
}

expect "run" "moesim run: no scenario file"
expect "run --bogus $S" "moesim run: --bogus: unknown option"
expect "run $S $S" "moesim run: more than one scenario file"
expect "run $S --set" "moesim run: --set: missing value"
expect "run $S --set --db $tmp/x.db" "moesim run: --set: missing value"
expect "run $S --db" "moesim run: --db: missing value"
expect "run $S --csv" "moesim run: --csv: missing value"
expect "run $S --quiet=1" "moesim run: --quiet: takes no value"
expect "run $S --db a.db --db b.db" "moesim run: --db: given more than once"
# one key set twice on the command line, as a key twice in a file
expect "run $S --set sim.seed=1 --set sim.seed=2 --db $tmp/x.db" \
    "moesim: --set sim.seed=2: duplicate key (first set by --set sim.seed=1)"
expect "run $S --db $tmp/x.db --set output.db=$tmp/y.db" \
    "moesim: --set output.db=$tmp/x.db: duplicate key (first set by --set output.db=$tmp/y.db)"
# an empty scenario runs nothing
expect "run /dev/null --db $tmp/x.db" \
    "moesim: /dev/null: no options set (an empty scenario runs nothing; write the keys you mean)"
printf '; only a comment\n[sim]\n' >"$tmp/empty.ini"
expect "run $tmp/empty.ini --db $tmp/x.db --set sim.seed=1" \
    "moesim: $tmp/empty.ini: no options set (an empty scenario runs nothing; write the keys you mean)"
# a sweep listing one value twice would run one configuration twice
expect "run $S --set transport.path=ecmp,ecmp --db $tmp/x.db" \
    "moesim: --set transport.path=ecmp,ecmp: the sweep 'ecmp,ecmp' lists ecmp twice"
expect "bogus" "moesim: unknown command 'bogus' (try moesim help)"
expect "run $S --set=topology.leaves=0 --db $tmp/x.db" \
    "moesim: --set topology.leaves=0: 0 is out of bounds [1, 4096]"
expect "run $tmp/missing.ini --db $tmp/x.db" "moesim: $tmp/missing.ini: cannot open: No such file or directory"
[ ! -e "$tmp/x.db" ] || { echo "a rejected scenario created the database"; exit 1; }

# results files that are not moesim databases
printf 'garbage garbage garbage\n' >"$tmp/g.db"
expect "run $S --quiet --db $tmp/g.db" "moesim: $tmp/g.db: not a moesim results database: file is not a database"
head -c 4096 /dev/zero >"$tmp/z.db"
expect "run $S --quiet --db $tmp/z.db" "moesim: $tmp/z.db: not a moesim results database: file is not a database"
sqlite3 "$tmp/o.db" "CREATE TABLE x (a)"
expect "run $S --quiet --db $tmp/o.db" \
    "moesim: $tmp/o.db: not a moesim results database (it has tables but no meta table)"
sqlite3 "$tmp/n.db" "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    INSERT INTO meta VALUES ('schema_version', '99')"
expect "run $S --quiet --db $tmp/n.db" \
    "moesim: $tmp/n.db: schema_version 99 is newer than this moesim handles (6); use a newer moesim"
sqlite3 "$tmp/v.db" "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    INSERT INTO meta VALUES ('schema_version', 'x')"
expect "run $S --quiet --db $tmp/v.db" \
    "moesim: $tmp/v.db: not a moesim results database (no schema_version in meta)"
[ "$(sqlite3 "$tmp/o.db" "SELECT count(*) FROM sqlite_master WHERE name = 'runs'")" = 0 ]

# a calibration whose times pass the 64-bit clock: refused, not wrapped
printf 'tokens,us\n1,1000000000000\n' >"$tmp/calib.csv"
expect "run scenarios/moe_mixtral.ini --quiet --db $tmp/m.db --set transport.path=ecmp
--set placement.policy=contiguous --set workload.compute=$tmp/calib.csv" \
    "moesim: scenarios/moe_mixtral.ini: workload: the compute phase of iteration 0, layer 0 would end past the clock's end (9.22e+06 s of simulated time)"
[ "$(sqlite3 "$tmp/m.db" "SELECT status FROM runs")" = failed ]
echo "reject_run: $n malformed command lines and files refused"
