#!/bin/sh
# loss.sh - finite switch buffers and loss recovery from the command line
# (docs/transports.md): an 8-to-1 incast through 64 KiB switch buffers
# under go-back-N and selective repeat, drop-tail and trimming, completes
# (every run done: the engine's invariants hold, every byte delivered
# once); drops and trims are counted at switch ports only (never at a
# host's NIC), trimming drops nothing; the flows table's retx_bytes,
# timeouts and nacks add up to resending at least what was dropped; the
# default run (unbounded, recovery = none) counts none of them; runs repeat
# exactly; recovery under cc = dctcp completes; bad keys are refused with file:line: key: reason, exit 2,
# before anything runs.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/a.ini" <<'INI'
[topology]
leaves = 3
spines = 2
hosts_per_leaf = 4
[workload]
kind = incast
senders = 8
bytes = 1048576
[switch]
buffer_bytes = 65536
[output]
flows = true
INI
"$MOESIM" run "$T/a.ini" --set transport.recovery=goback_n,selective --set switch.trim=false,true \
    --db "$T/a.db" -q
q() { sqlite3 "$T/a.db" "$1"; }
expect_eq "runs" "$(q "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 4"
# per run: drops (drop-tail) or trims (trimming), never both, never at a NIC
expect_eq "NIC drops" "$(q "SELECT sum(drops) + sum(trims) FROM links WHERE kind = 'host_up'")" 0
run() { q "SELECT a.run_id FROM params a JOIN params b ON a.run_id = b.run_id WHERE a.key = 'transport.recovery' AND a.value = '$1' AND b.key = 'switch.trim' AND b.value = '$2'"; }
for r in goback_n selective; do
    D=$(run $r false) M=$(run $r true)
    [ "$(q "SELECT sum(drops) FROM links WHERE run_id = $D")" -gt 0 ] || fail "$r: no drops"
    expect_eq "$r drop-tail trims" "$(q "SELECT sum(trims) FROM links WHERE run_id = $D")" 0
    [ "$(q "SELECT sum(trims) FROM links WHERE run_id = $M")" -gt 0 ] || fail "$r: no trims"
    expect_eq "$r trimming drops" "$(q "SELECT sum(drops) FROM links WHERE run_id = $M")" 0
    for id in $D $M; do
        lost=$(q "SELECT 4096 * (sum(drops) + sum(trims)) FROM links WHERE run_id = $id")
        retx=$(q "SELECT sum(retx_bytes) FROM flows WHERE run_id = $id")
        [ "$retx" -ge "$lost" ] || fail "$r run $id: $retx bytes resent, $lost lost"
        [ "$(q "SELECT sum(nacks) FROM flows WHERE run_id = $id")" -gt 0 ] || fail "$r run $id: no NACK"
        expect_eq "$r run $id flows" "$(q "SELECT count(*) || ' ' || sum(bytes) FROM flows WHERE run_id = $id")" "8 8388608"
    done
done
# the default counts nothing, and runs repeat exactly
"$MOESIM" run "$T/a.ini" --set switch.buffer_bytes=0 --db "$T/b.db" -q
expect_eq "default counters" "$(sqlite3 "$T/b.db" "SELECT sum(retx_bytes) + sum(timeouts) + sum(nacks) FROM flows")" 0
expect_eq "default drops" "$(sqlite3 "$T/b.db" "SELECT sum(drops) + sum(trims) FROM links")" 0
"$MOESIM" run "$T/a.ini" --set transport.recovery=goback_n,selective --set switch.trim=false,true \
    --db "$T/c.db" -q
[ "$(dump "$T/a.db" | grep -v '^[0-9]*|output\.')" = "$(dump "$T/c.db" | grep -v '^[0-9]*|output\.')" ] ||
    fail "a rerun differs"

# a shared buffer (dynamic thresholds) drops and recovers too
"$MOESIM" run "$T/a.ini" --set transport.recovery=selective --set switch.buffer_bytes=131072 \
    --set switch.shared_alpha=1 --db "$T/s.db" -q
expect_eq "shared run" "$(sqlite3 "$T/s.db" "SELECT status FROM runs")" "done"
[ "$(sqlite3 "$T/s.db" "SELECT sum(drops) FROM links")" -gt 0 ] || fail "shared buffer: no drops"
# recovery under cc = dctcp (acks echo a mark in one bit): every run completes
"$MOESIM" run bench/a2a16.ini --set transport.recovery=goback_n,selective --set transport.cc=dctcp \
    --set switch.ecn_kmin_bytes=16384 --set switch.ecn_kmax_bytes=16384 --set switch.buffer_bytes=65536 \
    --set transport.path=ecmp,spray --db "$T/d.db" -q
expect_eq "dctcp runs" "$(sqlite3 "$T/d.db" "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 4"

# bad input: one line, file:line: key: reason, exit 2, nothing run
expect_bad '[switch]\nbuffer_bytes = 65536\n' 2 \
    "switch.buffer_bytes: a finite buffer drops packets, and transport.recovery = none recovers nothing: set transport.recovery = goback_n or selective"
expect_bad '[switch]\nbuffer_bytes = -1\n[transport]\nrecovery = goback_n\n' 2 \
    "switch.buffer_bytes: -1 is out of bounds [0, 1000000000000]"
expect_bad '[switch]\nbuffer_bytes = 1.5\n' 2 "switch.buffer_bytes: expected an integer, got '1.5'"
expect_bad '[transport]\nrecovery = selective\n[switch]\nbuffer_bytes = 1000\n' 4 \
    "switch.buffer_bytes: 1000 holds no packet of transport.mtu (4096 bytes)"
expect_bad '[transport]\nrecovery = selective\nack_every = 4\n' 3 \
    "transport.ack_every: 4: loss recovery (transport.recovery = selective) acknowledges every packet: use 1"
expect_bad '[transport]\nrecovery = fast\n' 2 "transport.recovery: 'fast' is not one of none|goback_n|selective"
expect_bad '[switch]\ntrim = true\n' 2 \
    "switch.trim: trimming acts on a full buffer, and switch.buffer_bytes = 0 (unbounded)"
expect_bad '[transport]\nrto_ns = 0\n' 2 "transport.rto_ns: 0 is out of bounds [1000, 1000000000000]"
expect_bad '[transport]\nreorder_ns = -5\n' 2 "transport.reorder_ns: -5 is out of bounds [0, 1000000000000]"
expect_bad '[transport]\nrecovery = goback_n\n[sim]\nengine = flow\n' 2 \
    "transport.recovery: the flow engine has no loss recovery (sim.engine = flow: it loses bytes only at a failing link, and resends them by its own model): loss recovery runs on sim.engine = packet"
expect_bad '[switch]\nshared_alpha = 1\n' 2 \
    "switch.shared_alpha: a shared buffer needs its size: set switch.buffer_bytes (each switch's)"
expect_bad '[switch]\nshared_alpha = -1\n' 2 "switch.shared_alpha: -1 is out of bounds [0, 64]"
expect_bad '[switch]\npfc = true\nbuffer_bytes = 1048576\ntrim = true\n[transport]\nrecovery = selective\n' 4 \
    "switch.trim: PFC is lossless (switch.pfc = true): no buffer overflows, nothing to trim"
echo "loss: ok"
