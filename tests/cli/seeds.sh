#!/bin/sh
# seeds.sh - the two seeds end to end (scenario option, sweep, database):
# with workload.seed fixed, sim.seed = 1,2 gives the same traffic (phase
# bytes and ideal bounds, gpu_load, trace_use) and other ecmp completion
# times; with sim.seed fixed, workload.seed = 3,4 gives other traffic. The
# MoE replay of the real Mixtral trace reuses its held-out tokens over
# several passes (trace offsets) under a random placement.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # DB options...
    db=$1
    shift
    "$MOESIM" run scenarios/moe_mixtral.ini --db "$db" --quiet --set workload.layers=2 \
        --set workload.tokens_per_gpu=64 --set transport.path=ecmp \
        --set placement.policy=random "$@"
}
# traffic DB RUN: the run's traffic rows; cct DB RUN: its network time
traffic() {
    sqlite3 "$1" "SELECT 'p', iter, layer, phase, bytes, ideal_ns FROM phases WHERE run_id = $2
        ORDER BY iter, layer, phase;
      SELECT 'g', layer, gpu, tokens FROM gpu_load WHERE run_id = $2 ORDER BY layer, gpu;
      SELECT 'u', token, uses FROM trace_use WHERE run_id = $2 ORDER BY token;"
}
cct() {
    sqlite3 "$1" "SELECT sum(cct_ns) FROM phases WHERE run_id = $2 AND ideal_ns > 0"
}

run "$tmp/net.db" --set workload.seed=3 --set sim.seed=1,2
traffic "$tmp/net.db" 1 >"$tmp/n1"
traffic "$tmp/net.db" 2 >"$tmp/n2"
[ "$(grep -c '^g|' "$tmp/n1")" -gt 0 ] && [ "$(grep -c '^u|' "$tmp/n1")" -gt 0 ] ||
    { echo "no gpu_load or trace_use rows"; exit 1; }
diff "$tmp/n1" "$tmp/n2" >/dev/null || { echo "sim.seed moved the traffic"; exit 1; }
[ "$(cct "$tmp/net.db" 1)" != "$(cct "$tmp/net.db" 2)" ] ||
    { echo "sim.seed left the ecmp completion times as they were"; exit 1; }

run "$tmp/wl.db" --set workload.seed=3,4 --set sim.seed=1
traffic "$tmp/wl.db" 1 >"$tmp/w1"
traffic "$tmp/wl.db" 2 >"$tmp/w2"
diff "$tmp/n1" "$tmp/w1" >/dev/null || { echo "the same seeds gave other traffic"; exit 1; }
for k in g u; do
    [ "$(grep "^$k|" "$tmp/w1")" != "$(grep "^$k|" "$tmp/w2")" ] ||
        { echo "workload.seed left the $k rows as they were"; exit 1; }
done

# -1 (the default) is sim.seed's value
run "$tmp/d.db" --set sim.seed=3
traffic "$tmp/d.db" 1 >"$tmp/d1"
diff "$tmp/n1" "$tmp/d1" >/dev/null || { echo "workload.seed = -1 is not sim.seed"; exit 1; }
[ "$(sqlite3 "$tmp/d.db" "SELECT value FROM params WHERE key = 'workload.seed'")" = -1 ] ||
    { echo "params does not record workload.seed = -1"; exit 1; }
echo "seeds: sim.seed moves the network only, workload.seed the traffic"
