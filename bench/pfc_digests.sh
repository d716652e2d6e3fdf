#!/bin/sh
# pfc_digests.sh MOESIM OUT - a digest of every table (as tools/regress.sh) of
# the PFC and dcqcn cases of bench/README.md "PFC and dcqcn per event": two
# binaries that simulate the same things write the same lines. Run from the
# repository root; QUICK=1: the 256-host case alone.
set -eu
. "$(dirname "$0")/../tools/digest.inc"
M=$1; OUT=$2; S=.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
: > "$OUT"
digest() { digest_db "$1" "$2" runs params phases links flows timeseries >>"$OUT"; }
one() { name=$1 scen=$2; shift 2; rm -f "$tmp"/r.db*; "$M" run "$scen" --db "$tmp/r.db" --quiet "$@" > /dev/null; digest "$name" "$tmp/r.db"; }
R="--set transport.cc=dcqcn --set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 --set switch.ecn_pmax=0.01 --set switch.pfc=true --set output.flows=true --set output.sample_ns=20000"
one a2a256 $S/bench/a2a256.ini $R
[ "${QUICK:-}" ] && exit 0
one a2a256_gbn $S/bench/a2a256.ini $R --set transport.recovery=goback_n --set topology.leaves=8 --set topology.hosts_per_leaf=8
one a2a256_cp $S/bench/a2a256.ini $R --set switch.ctrl_priority=true --set topology.leaves=8 --set topology.hosts_per_leaf=8
one a2a16 $S/bench/a2a16.ini $R --set transport.path=ecmp,spray,adaptive
one incast $S/scenarios/incast.ini --set switch.pfc=true --set transport.path=ecmp,spray --set output.flows=true --set output.sample_ns=20000
one incast_cp $S/scenarios/incast.ini --set switch.pfc=true --set switch.ctrl_priority=true --set transport.cc=dcqcn --set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 --set output.flows=true
one incast_w $S/scenarios/incast.ini --set switch.pfc=true --set switch.pfc_xoff_bytes=8192 --set switch.pfc_xon_bytes=4096 --set transport.recovery=selective --set transport.path=spray
