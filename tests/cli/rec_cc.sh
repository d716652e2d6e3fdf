#!/bin/sh
# rec_cc.sh - loss recovery with cc = nscc, cc = dcqcn and switch.pfc from
# the command line (docs/transports.md, "Recovery with nscc, dcqcn and
# PFC"), on bench/a2a16.ini at 256 KiB per pair: the issue's two
# configurations run to the end, every byte delivered once (the flows
# table), and repeat row for row:
#  - RoCE: dcqcn, PFC, go-back-N: nothing dropped; spraying resends
#    (reordering taken for loss), ecmp does not; selective repeat sprayed
#    resends nothing;
#  - UEC-like: nscc, ~1-BDP buffers, trimming, selective repeat: ecmp's
#    collisions trim, nothing is dropped, every trimmed byte resent.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
roce="--set transport.cc=dcqcn --set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 --set switch.ecn_pmax=0.01 --set switch.pfc=true"
# shellcheck disable=SC2086
"$MOESIM" run bench/a2a16.ini --set workload.bytes=262144 --set transport.path=ecmp,spray \
    --set transport.recovery=goback_n,selective $roce --set output.flows=true --db "$T/r.db" -q
q() { sqlite3 "$1" "$2"; }
run() { q "$T/r.db" "SELECT a.run_id FROM params a JOIN params b ON a.run_id = b.run_id WHERE a.key = 'transport.path' AND a.value = '$1' AND b.key = 'transport.recovery' AND b.value = '$2'"; }
expect_eq "roce runs" "$(q "$T/r.db" "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 4"
expect_eq "roce bytes" "$(q "$T/r.db" "SELECT count(*), sum(bytes) FROM flows")" "960|251658240"
expect_eq "roce drops" "$(q "$T/r.db" "SELECT sum(drops) + sum(trims) FROM links")" 0
retx() { q "$T/r.db" "SELECT sum(retx_bytes) FROM flows WHERE run_id = $(run "$1" "$2")"; }
expect_eq "roce ecmp goback_n retx" "$(retx ecmp goback_n)" 0
expect_eq "roce spray selective retx" "$(retx spray selective)" 0
[ "$(retx spray goback_n)" -gt 0 ] || fail "go-back-N under spraying resent nothing"
[ "$(q "$T/r.db" "SELECT count(*) FROM links WHERE pause_ns > 0")" -gt 0 ] || fail "PFC never paused"
# UEC-like: ECN at 20%-80% of the BDP (110592 bytes), buffers of one BDP
uec="--set transport.cc=nscc --set switch.ecn_kmin_bytes=22118 --set switch.ecn_kmax_bytes=88474 --set switch.buffer_bytes=110592 --set switch.trim=true --set transport.recovery=selective"
for db in u v; do
    # shellcheck disable=SC2086
    "$MOESIM" run bench/a2a16.ini --set workload.bytes=262144 --set transport.path=ecmp,spray \
        $uec --set output.flows=true --db "$T/$db.db" -q
done
expect_eq "uec runs" "$(q "$T/u.db" "SELECT group_concat(DISTINCT status) || ' ' || count(*) FROM runs")" "done 2"
expect_eq "uec bytes" "$(q "$T/u.db" "SELECT count(*), sum(bytes) FROM flows")" "480|125829120"
expect_eq "uec drops" "$(q "$T/u.db" "SELECT sum(drops) FROM links")" 0
[ "$(q "$T/u.db" "SELECT sum(trims) FROM links")" -gt 0 ] || fail "no trims"
# every trimmed packet (4096 bytes of payload) was sent again
[ "$(q "$T/u.db" "SELECT (SELECT sum(retx_bytes) FROM flows) >= 4096 * (SELECT sum(trims) FROM links)")" = 1 ] ||
    fail "fewer bytes resent than trimmed"
[ "$(dump "$T/u.db")" = "$(dump "$T/v.db")" ] || fail "two runs with the same seed differ"
echo "rec_cc: ok"
