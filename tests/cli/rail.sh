#!/bin/sh
# rail.sh - topology.kind = rail from the command line: the shipped scenario
# runs, shows its shape in the run line, records every port with its tier's kind (host_up/host_down: a GPU's
# NIC and its rail switch, rail_up/rail_down: rail switch and spine, nvl_up/
# nvl_down) and finishes no earlier than its ideal bound; with cross_rail =
# pxn an all-to-all inside one group never reaches a spine, with spine its
# cross-rail bytes load every rail uplink; faults and the flow engine run;
# two planes double the rail switches and spines, each NIC a port on each;
# bad shapes are refused with file:line: key and exit status 2 before
# anything runs.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run scenarios/rail.ini --db "$T/a.db" >"$T/line"
expect_eq "run line" "$(head -1 "$T/line" | sed 's/, time .*//')" "run 1: rail 2 groups x 2 servers x 8 GPUs, 4 spines, pxn"
expect_eq "links by kind" "$(sqlite3 "$T/a.db" "SELECT kind || '=' || count(*) FROM links GROUP BY kind ORDER BY kind" | tr '\n' ' ')" \
    "host_down=32 host_up=32 nvl_down=32 nvl_up=32 rail_down=64 rail_up=64 "
expect_eq "a GPU's NIC" "$(sqlite3 "$T/a.db" "SELECT src || '-' || dst FROM links WHERE kind = 'host_up' AND src = 'h17'")" "h17-r9"
expect_eq "a rail uplink" "$(sqlite3 "$T/a.db" "SELECT src || '-' || dst FROM links WHERE kind = 'rail_up' ORDER BY rowid LIMIT 1")" "r0-s0"
expect_eq "cct >= ideal" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
expect_eq "bytes" "$(sqlite3 "$T/a.db" "SELECT bytes FROM phases")" "$((32 * 31 * 262144))"
# one group: under PXN no byte on a spine; under spine cross-rail bytes
# cross every rail switch's uplinks
"$MOESIM" run scenarios/rail.ini --db "$T/g.db" -q --set topology.groups=1 --set topology.cross_rail=pxn,spine
expect_eq "pxn: spines idle" "$(sqlite3 "$T/g.db" "SELECT sum(bytes) FROM links JOIN params p ON p.run_id = links.run_id AND p.key = 'topology.cross_rail' WHERE p.value = 'pxn' AND kind LIKE 'rail_%'")" 0
expect_eq "spine: every rail uplink carries cross-rail bytes" "$(sqlite3 "$T/g.db" "SELECT count(*) FROM links JOIN params p ON p.run_id = links.run_id AND p.key = 'topology.cross_rail' WHERE p.value = 'spine' AND kind = 'rail_up' AND bytes = 0")" 0
# a MoE step on a rail (the placement models take a group for a leaf)
"$MOESIM" run scenarios/moe_mixtral.ini --db "$T/m.db" -q --set topology.kind=rail \
    --set topology.gpus_per_host=4 --set topology.servers_per_group=2 --set topology.groups=2 \
    --set workload.layers=2 --set workload.tokens_per_gpu=64 --set topology.cross_rail=pxn,spine
expect_eq "moe on a rail: all done" "$(sqlite3 "$T/m.db" "SELECT count(*) > 0, sum(status != 'done') FROM runs")" "1|0"
expect_eq "moe on a rail: cct >= ideal" "$(sqlite3 "$T/m.db" "SELECT count(*) FROM phases WHERE ideal_ns > 0 AND cct_ns + 1 < ideal_ns")" 0
bad() { # WHAT LINE... : the text refused
    what=$1
    shift
    printf '%s\n' "$@" >"$T/bad.ini"
    rc=0
    "$MOESIM" run "$T/bad.ini" --db "$T/b.db" >"$T/out" 2>"$T/err" || rc=$?
    expect_eq "exit status ($what)" "$rc" 2
    [ ! -e "$T/b.db" ] || fail "a refused run left a database ($what)"
}
bad "one GPU" "[topology]" "kind = rail" "gpus_per_host = 1"
expect_eq "stderr (one GPU)" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:3: topology.gpus_per_host: 1 GPU per server: a rail fabric has a rail per GPU of a server and needs at least 2"
bad "planes" "[topology]" "kind = rail" "gpus_per_host = 8" "planes = 17"
expect_eq "stderr (planes)" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:4: topology.planes: 17 is out of bounds [1, 16]"
bad "plane links down" "[topology]" "kind = rail" "gpus_per_host = 8" "planes = 2" "[faults]" "down = h1-r1 h9-r9"
expect_eq "stderr (plane links down)" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:6: faults.down: the links down leave hosts h0 and h9 no plane on which both reach each other (a packet keeps its plane end to end, its answer too)"
bad "cross_rail" "[topology]" "kind = rail" "gpus_per_host = 8" "cross_rail = nvlink"
expect_eq "stderr (cross_rail)" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:4: topology.cross_rail: 'nvlink' is not one of pxn|spine"
bad "links" "[topology]" "kind = rail" "gpus_per_host = 8" "groups = 4096" "spines = 1024"
expect_eq "stderr (links)" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:5: topology.spines: 33554432 rail switches x spines links, more than this build holds (16777216)"
bad "hosts" "[topology]" "kind = rail" "gpus_per_host = 8" "groups = 4096" "servers_per_group = 4096"
expect_eq "stderr (hosts)" "$(cat "$T/err")" \
    "moesim: $T/bad.ini:5: topology.servers_per_group: groups*servers_per_group*gpus_per_host = 134217728 hosts, more than this build holds (1048576)"
# faults on a rail, and the flow engine: no byte on the link down, no
# phase below its bound, on both engines
"$MOESIM" run scenarios/rail.ini --db "$T/f.db" -q --set sim.engine=packet,flow \
    --set "faults.down=r0-s0" --set faults.degraded=r9-s1:0.5 --set transport.path=ecmp,spray
expect_eq "faults: every run done" "$(sqlite3 "$T/f.db" "SELECT count(*), sum(status = 'done') FROM runs")" "4|4"
expect_eq "faults: nothing on r0-s0" "$(sqlite3 "$T/f.db" "SELECT count(*), sum(bytes) FROM links WHERE src || '-' || dst IN ('r0-s0', 's0-r0')")" "8|0"
expect_eq "faults: cct >= ideal" "$(sqlite3 "$T/f.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
# two planes: every NIC a port of 200 Gb/s on each plane's rail switch, each
# plane its own rail switches and spines, both carrying the all-to-all
"$MOESIM" run scenarios/rail.ini --db "$T/p.db" --set topology.planes=2 --set sim.engine=packet,flow >"$T/pline"
expect_eq "planes: run line" "$(grep 'engine=packet' "$T/pline" | sed 's/, time .*//')" "run 1 [sim.engine=packet]: rail 2 groups x 2 servers x 8 GPUs, 4 spines, pxn, 2 planes"
expect_eq "planes: links by kind" "$(sqlite3 "$T/p.db" "SELECT kind || '=' || count(*) FROM links WHERE run_id = 1 GROUP BY kind ORDER BY kind" | tr '\n' ' ')" \
    "host_down=64 host_up=64 nvl_down=32 nvl_up=32 rail_down=128 rail_up=128 "
expect_eq "planes: a GPU's NIC ports" "$(sqlite3 "$T/p.db" "SELECT src || '-' || dst || ':' || gbps FROM links WHERE run_id = 1 AND kind = 'host_up' AND src = 'h17' ORDER BY rowid" | tr '\n' ' ')" "h17-r9:200.0 h17-r25:200.0 "
expect_eq "planes: plane 1's first rail uplink" "$(sqlite3 "$T/p.db" "SELECT src || '-' || dst FROM links WHERE run_id = 1 AND kind = 'rail_up' ORDER BY rowid LIMIT 1 OFFSET 64")" "r16-s4"
expect_eq "planes: both planes carry bytes" "$(sqlite3 "$T/p.db" "SELECT count(*) FROM links WHERE kind LIKE 'rail_%' AND bytes = 0")" 0
expect_eq "planes: cct >= ideal" "$(sqlite3 "$T/p.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
# a GPU's link to plane 1 down, on both engines: nothing on it, its plane 0 port busier
"$MOESIM" run scenarios/rail.ini --db "$T/pd.db" -q --set topology.planes=2 --set faults.down=h1-r17 \
    --set sim.engine=packet,flow
expect_eq "plane link down: nothing on it" "$(sqlite3 "$T/pd.db" "SELECT count(*), sum(bytes) FROM links WHERE src || '-' || dst IN ('h1-r17', 'r17-h1')")" "4|0"
expect_eq "plane link down: cct >= ideal" "$(sqlite3 "$T/pd.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
