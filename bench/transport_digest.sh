#!/bin/sh
# transport_digest.sh MOESIM [OUT] - tools/regress.sh's digests (every row
# of every table, each run named by its parameters) for the transports
# that the golden set leaves out: finite buffers, ECN, trimming and
# drop-tail, nscc, dctcp and dcqcn, selective repeat and go-back-N, shared
# buffers, the control class, odd flow sizes (last packets shorter than a
# header), on small leaf-spines (ECMP and spraying). Two binaries whose
# transports simulate the same things print the same lines; `runs` holds
# the event count, `runs_noev` the same rows without it (a change that only
# drops events that do nothing moves the first and not the second).
set -eu
. "$(dirname "$0")/../tools/digest.inc"
MOESIM=${1:?usage: transport_digest.sh MOESIM [OUT]}
OUT=${2:-/dev/stdout}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/out"
digest() { # name db
    digest_db "$1" "$2" runs runs_noev phases links flows >>"$tmp/out"
}
one() { # name scenario [options]
    name=$1 scen=$2
    shift 2
    rm -f "$tmp"/r.db*
    "$MOESIM" run "$scen" --db "$tmp/r.db" --quiet --set output.flows=true "$@" >/dev/null
    digest "$name" "$tmp/r.db"
}
P=bench/perm8192.ini
LS="--set topology.leaves=16 --set topology.spines=8 --set topology.hosts_per_leaf=16"
ECN="--set switch.ecn_kmin_bytes=24576 --set switch.ecn_kmax_bytes=98304"
BUF="--set switch.buffer_bytes=118784"
# uec CC RECOVERY TRIM RTO_NS: issue 15's UEC-like settings, each part set
uec() { echo "$ECN $BUF --set transport.cc=$1 --set transport.recovery=$2 --set switch.trim=$3 --set transport.rto_ns=$4"; }
# shellcheck disable=SC2046,SC2086
{
    # issue 15's UEC-like permutation, scaled down (2:1 at the leaves: losses)
    one uec $P $LS $(uec nscc selective true 72016) --set workload.bytes=262144 \
        --set transport.path=ecmp,spray
    # the same on an all-to-all of odd sizes (a 3-byte last packet), shorter RTO
    one uec_odd $P $LS $(uec nscc selective true 20000) --set workload.kind=alltoall \
        --set workload.bytes=12291 --set transport.path=ecmp,spray
    # the control class; drop-tail, per port and shared
    one uec_ctrlq $P $LS $(uec nscc selective true 72016) --set workload.bytes=131072 \
        --set switch.ctrl_priority=true --set transport.path=ecmp,spray
    one uec_drop $P $LS $(uec nscc selective false 72016) --set workload.bytes=131072 \
        --set switch.shared_alpha=0,1 --set transport.path=ecmp,spray
    # go-back-N under nscc and dctcp, drop-tail and trimming
    one gbn $P $LS $(uec nscc,dctcp goback_n false,true 72016) --set workload.bytes=131072 \
        --set transport.path=ecmp,spray
    # selective under dctcp and window
    one sel_cc $P $LS $(uec dctcp,window selective true 72016) --set workload.bytes=131072 \
        --set transport.path=ecmp,spray
    # nscc and dctcp without recovery (unbounded buffers), acks coalesced or not
    one nscc_nr $P $LS $ECN --set workload.bytes=131072 --set transport.cc=nscc,dctcp \
        --set transport.ack_every=1,4 --set transport.path=ecmp,spray
    # a 32-to-1 incast: dcqcn + PFC (+ go-back-N); nscc + trimming + selective
    one incast scenarios/incast.ini --set workload.bytes=262144 --set transport.cc=dcqcn \
        --set switch.pfc=true --set switch.ecn_kmin_bytes=5120 --set switch.ecn_kmax_bytes=204800 \
        --set switch.ecn_pmax=0.01 --set transport.recovery=none,goback_n
    one incast_u scenarios/incast.ini --set workload.bytes=262144 $(uec nscc selective true 72016)
}
cat "$tmp/out" >"$OUT"
