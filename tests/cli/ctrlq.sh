#!/bin/sh
# ctrlq.sh - switch.ctrl_priority from the command line (docs/transports.md,
# "Control packets' priority"): bench/a2a16.ini under PFC with small
# thresholds runs to the end with the key off and on, every byte delivered
# (the links into hosts carry the all-to-all and the acks alike either way),
# the acks no longer waiting behind paused data (less pause time, an earlier
# end), the same rows twice with the same seed; the key is refused on the
# flow engine and with a value that is not a boolean, file:line: key:
# reason, exit status 2, before anything runs.
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pfc="--set switch.pfc=true --set switch.pfc_xoff_bytes=16384 --set switch.pfc_xon_bytes=8192"
# shellcheck disable=SC2086
"$MOESIM" run bench/a2a16.ini $pfc --set switch.ctrl_priority=false,true --db "$T/a.db" -q
# shellcheck disable=SC2086
"$MOESIM" run bench/a2a16.ini $pfc --set switch.ctrl_priority=false,true --db "$T/b.db" -q
expect_eq "runs" "$(sqlite3 "$T/a.db" "SELECT group_concat(status) FROM runs")" "done,done"
expect_eq "params" "$(sqlite3 "$T/a.db" "SELECT group_concat(value) FROM params WHERE key = 'switch.ctrl_priority' ORDER BY run_id")" "false,true"
# 15 MiB into each of 16 hosts, and one 64-byte ack per 4096-byte packet out of each
expect_eq "bytes into hosts" "$(sqlite3 "$T/a.db" "SELECT group_concat(s) FROM (SELECT sum(bytes) AS s FROM links WHERE kind = 'host_down' GROUP BY run_id ORDER BY run_id)")" "255590400,255590400"
on=$(sqlite3 "$T/a.db" "SELECT sim_ns FROM runs WHERE id = 2")
off=$(sqlite3 "$T/a.db" "SELECT sim_ns FROM runs WHERE id = 1")
[ "$on" -lt "$off" ] || fail "acks ahead of paused data did not end sooner ($on ns against $off ns)"
pon=$(sqlite3 "$T/a.db" "SELECT sum(pause_ns) FROM links WHERE run_id = 2")
poff=$(sqlite3 "$T/a.db" "SELECT sum(pause_ns) FROM links WHERE run_id = 1")
[ "$pon" -lt "$poff" ] || fail "no less pause time with the key on ($pon ns against $poff ns)"
[ "$(dump "$T/a.db")" = "$(dump "$T/b.db")" ] || fail "two runs with the same seed differ"

expect_bad '[switch]\nctrl_priority = true\n[sim]\nengine = flow\n' 2 \
    "switch.ctrl_priority: the flow engine models no queues and no packets (sim.engine = flow): control packets' priority runs on sim.engine = packet"
expect_bad '[switch]\nctrl_priority = first\n' 2 "switch.ctrl_priority: expected true or false, got 'first'"
echo "ctrlq: ok"
