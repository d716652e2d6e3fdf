#!/bin/sh
# report10k.sh [MOESIM] - how long `moesim report` and `moesim export` take on
# a 10,000-run database. The database is built synthetically: one real run of
# a small scenario, then SQL copies it into 10,000 done runs (5 transports x
# 4 message sizes x 500 seeds, a random completion time per run, the real
# run's 22 params and 16 links each: 220,000 params rows, 160,000 links).
# Prints the best of 3 wall times of each command. See bench/README.md.
set -eu
MOESIM=${1:-./moesim}
T=$(mktemp -d)
# REPORT10K_KEEP=FILE keeps the database there (for profiling)
trap '[ -n "${REPORT10K_KEEP:-}" ] && cp "$T/10k.db" "$REPORT10K_KEEP"; rm -rf "$T"' EXIT
DB=$T/10k.db
"$MOESIM" run tests/cli/sweep.ini --db "$DB" --set transport.path=ecmp --set sim.seed=1 \
    --set output.flows=false --set output.sample_ns=0 -q
sqlite3 "$DB" <<'SQL'
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO runs (id, scenario, status, started_at, finished_at, seed, engine, wall_s, events,
                  sim_ns, version)
SELECT i, 'synthetic', 'done', r.started_at, r.finished_at, i / 20, r.engine, r.wall_s, r.events,
       r.sim_ns, r.version FROM n, (SELECT * FROM runs WHERE id = 1) r;
INSERT INTO params
SELECT r.id, p.key,
       CASE p.key WHEN 'sim.seed' THEN CAST(r.id / 20 AS TEXT)
                  WHEN 'transport.path' THEN
                       CASE r.id % 5 WHEN 0 THEN 'ecmp' WHEN 1 THEN 'spray' WHEN 2 THEN 'spray_rr'
                                     WHEN 3 THEN 'split' ELSE 'adaptive' END
                  WHEN 'workload.bytes' THEN CAST(65536 << ((r.id / 5) % 4) AS TEXT)
                  ELSE p.value END
FROM runs r, params p WHERE p.run_id = 1 AND r.id > 1;
WITH x AS MATERIALIZED (
    SELECT r.id AS id, p.ideal_ns + abs(random()) % (p.ideal_ns / 4) AS c, p.ideal_ns AS ideal,
           p.bytes AS bytes
    FROM runs r, phases p WHERE p.run_id = 1 AND r.id > 1)
INSERT INTO phases SELECT id, 0, 0, 'alltoall', 0, c, c, ideal, bytes FROM x;
INSERT INTO links SELECT r.id, l.link, l.kind, l.src, l.dst, l.gbps, l.bytes, l.busy_ns,
                         l.max_queue_bytes, l.drops, l.ecn_marks
FROM runs r, links l WHERE l.run_id = 1 AND r.id > 1;
COMMIT;
SQL
echo "report10k: $(sqlite3 "$DB" "SELECT count(*) FROM runs") runs," \
    "$(sqlite3 "$DB" "SELECT count(*) FROM params") params rows," \
    "$(sqlite3 "$DB" "SELECT count(*) FROM links") links rows; $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
best() { # best of 3 wall times of the command, seconds
    b=""
    for _ in 1 2 3; do
        t0=$(date +%s.%N)
        "$@" >/dev/null
        t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    printf '%.3f' "$b"
}
echo "report (default grouping, 5 x 4 cells): $(best "$MOESIM" report --db "$DB") s"
echo "report --by transport.path --metric slowdown: $(best "$MOESIM" report --db "$DB" --by transport.path --metric slowdown) s"
echo "report --where transport.path=spray --by workload.bytes,sim.seed: $(best "$MOESIM" report --db "$DB" --where transport.path=spray --by workload.bytes,sim.seed) s"
echo "export --table phases (10,000 rows): $(best "$MOESIM" export --db "$DB" --table phases -o "$T/p.csv") s"
"$MOESIM" report --db "$DB" | head -5
