#!/bin/sh
# ns3_compare.sh MOESIM [CASE ...] - moesim against ns-3 on matched scenarios
# (docs/validation.md, "ns-3 on the matched set"): the same leaf-spine and
# the same flows as tools/htsim_compare.sh (one htsim connection matrix,
# read by moesim through workload.kind = flows and by tools/ns3/moesim_ref.cc),
# both under DCTCP with step ECN marking, single path and sprayed; prints
# one table row per case and path mode with the last flow's end and the
# flow-completion p50 / p99 of each simulator.
#
# ns-3 is a reference only: never needed by the build or the tests. With
# Debian's libns3-dev installed (apt-get install libns3-dev: ns-3.37) this
# script compiles tools/ns3/moesim_ref.cc in a temporary folder; without it
# it says so and exits 0. NS3_REF names a binary built before instead.
#
#   sh tools/ns3_compare.sh ./moesim [a2a16 perm128 perm128_2to1 incast32]
#
# SEEDS (default "1 2 3 4 5", as htsim_compare.sh): ns-3 --seed, moesim sim.seed; one seed is one
# sample of the ECMP hash's collisions. The last flow's end is the median
# over the seeds; p50 and p99 pool every seed's flows. K (default 65536)
# is the marking threshold: moesim's switch.ecn_kmin_bytes = ecn_kmax_bytes
# = K on the bytes ahead of a packet (the one in service included); ns-3's
# RED step on its queue disc at K - MTU (the device's one-packet queue and
# the packet in service are below the queue disc). WINDOW (segments,
# default 29, about one BDP) is both initial windows. NS3_ARGS adds options
# to every ns-3 run (e.g. "--dupthresh=3": TCP's own reordering
# threshold), MOESIM_ARGS to every moesim run; PATHS (default "ecmp spray")
# the path modes.
#
# Finite buffers and loss (docs/validation.md, "ns-3 with finite buffers and
# loss"): BUF (bytes, default empty: unbounded, as above) gives every switch
# output port a drop-tail buffer, moesim's switch.buffer_bytes = BUF (on the
# bytes ahead of a packet, the one in service included) and ns-3's queue
# disc MaxSize = BUF - MTU (its device's one-packet queue and the packet in
# service below it, as for K). Both sides then recover their losses: moesim
# with transport.recovery = selective and rto_ns = RTO_NS (default 320000,
# moesim's default), ns-3 with TCP's SACK recovery (RFC 6675), fast
# retransmit after DUPTHRESH (default 3 with BUF, TCP's own; 10^6 without)
# duplicate acks and MinRto = RTO_NS with a 1 us clock granularity.
#
# Cases (every link 100 Gb/s and 1 us, MTU 4096, flows start at 0; kept in
# step with tools/htsim_compare.sh, whose generator lines these repeat):
#   a2a16         16 hosts (4 leaves x 4, 4 spines), every ordered pair, 1,000,000 bytes
#   perm128       128 hosts (8 leaves x 16, 16 spines, 1:1), a random derangement, FLOW_BYTES
#   perm128_2to1  the same hosts and permutation, 8 spines (2:1)
#   incast32      the 1:1 128-host fabric, hosts 0-31 to host 127, FLOW_BYTES each
# FLOW_BYTES defaults to 2,000,000 (htsim_compare.sh's size).
set -eu
MOESIM=${1:?usage: ns3_compare.sh MOESIM [CASE ...]}
shift
SEEDS=${SEEDS:-1 2 3 4 5}
K=${K:-65536}
WINDOW=${WINDOW:-29}
FLOW_BYTES=${FLOW_BYTES:-2000000}
NS3_ARGS=${NS3_ARGS:-}
MOESIM_ARGS=${MOESIM_ARGS:-}
PATHS=${PATHS:-ecmp spray}
BUF=${BUF:-}
RTO_NS=${RTO_NS:-320000}
if [ -n "$BUF" ]; then DUPTHRESH=${DUPTHRESH:-3}; else DUPTHRESH=${DUPTHRESH:-1000000}; fi
MTU=4096
[ $# -gt 0 ] || set -- a2a16 perm128 perm128_2to1 incast32
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

NS3_REF=${NS3_REF:-}
if [ -z "$NS3_REF" ]; then
    libs="ns3-core ns3-network ns3-internet ns3-point-to-point ns3-traffic-control ns3-applications"
    # shellcheck disable=SC2086
    if ! command -v g++ >/dev/null || ! command -v pkg-config >/dev/null ||
        ! pkg-config --exists $libs || [ ! -f /usr/include/ns3/tcp-dctcp.h ]; then
        echo "ns3_compare.sh: ns-3 not found (needs g++, pkg-config and Debian's libns3-dev); skipped"
        exit 0
    fi
    # shellcheck disable=SC2086,SC2046
    g++ -O2 -std=c++17 -o "$tmp/moesim_ref" "$here/ns3/moesim_ref.cc" $(pkg-config --libs $libs)
    NS3_REF=$tmp/moesim_ref
fi

# cm NAME NODES: the connection matrix from "src dst bytes" lines on stdin
cm() {
    awk -v n="$2" '{ s[NR] = $1; d[NR] = $2; b[NR] = $3 }
        END { print "Nodes " n; print "Connections " NR;
              for (i = 1; i <= NR; i++) print s[i] "->" d[i] " id " i " start 0 size " b[i] }' \
        >"$tmp/$1.cm"
}

setup() { # case: writes $tmp/$case.cm, sets L H S
    case $1 in
    a2a16)
        L=4 H=4 S=4
        awk 'BEGIN { for (s = 0; s < 16; s++) for (d = 0; d < 16; d++) if (s != d) print s, d, 1000000 }' |
            cm a2a16 16
        ;;
    perm128 | perm128_2to1)
        L=8 H=16 S=16
        [ "$1" = perm128 ] || S=8
        # a random derangement of 128 hosts (awk's generator, seed 1)
        awk -v b="$FLOW_BYTES" 'BEGIN { srand(1); n = 128
              do { for (i = 0; i < n; i++) p[i] = i
                   for (i = n - 1; i > 0; i--) { j = int(rand() * (i + 1)); t = p[i]; p[i] = p[j]; p[j] = t }
                   ok = 1; for (i = 0; i < n; i++) if (p[i] == i) ok = 0 } while (!ok)
              for (i = 0; i < n; i++) print i, p[i], b }' | cm "$1" 128
        ;;
    incast32)
        L=8 H=16 S=16
        awk -v b="$FLOW_BYTES" 'BEGIN { for (s = 0; s < 32; s++) print s, 127, b }' | cm incast32 128
        ;;
    *)
        echo "ns3_compare.sh: unknown case '$1' (a2a16, perm128, perm128_2to1, incast32)" >&2
        exit 2
        ;;
    esac
}

# pct P: the P-th percentile (nearest rank) of the numbers on stdin
pct() {
    sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        i = int(p / 100 * NR + 0.999999); printf "%.1f\n", v[i < 1 ? 1 : i] }'
}

printf '| case | path | ns-3 last / p50 / p99 (us) | moesim last / p50 / p99 (us) | last: moesim / ns-3 | last / busiest link: ns-3, moesim | ns-3 marks / drops / retx bytes (all seeds) | moesim marks / drops / retx bytes / timeouts |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for c in "$@"; do
    setup "$c"
    for path in $PATHS; do
        : >"$tmp/nf" && : >"$tmp/nl" && : >"$tmp/mf" && : >"$tmp/ml" && : >"$tmp/nb" && : >"$tmp/mb"
        nm=0 nd=0 nr=0 mm=0 md=0 mr=0 mt=0
        nbuf=
        [ -z "$BUF" ] || nbuf="--buffer_bytes=$((BUF - MTU)) --min_rto_us=$((RTO_NS / 1000)) --clock_us=1"
        for seed in $SEEDS; do
            # shellcheck disable=SC2086
            "$NS3_REF" --cm="$tmp/$c.cm" --leaves="$L" --spines="$S" --hpl="$H" --gbps=100 \
                --lat_ns=1000 --mtu=$MTU --window_pkts="$WINDOW" --k_bytes=$((K - MTU)) \
                --dupthresh="$DUPTHRESH" --path=$path --seed="$seed" $nbuf $NS3_ARGS >"$tmp/n.out" ||
                { echo "ns-3 failed on $c $path seed $seed:" >&2; tail -3 "$tmp/n.out" >&2; exit 1; }
            awk '$1 == "flow" { print $6 }' "$tmp/n.out" >"$tmp/n1"
            cat "$tmp/n1" >>"$tmp/nf"
            pct 100 <"$tmp/n1" >>"$tmp/nl"
            sum() { awk -v k="$1" '$1 == "summary" { for (i = 2; i < NF; i++) if ($i == k) print $(i + 1) }' "$tmp/n.out"; }
            # the last flow over the busiest link's time at 100 Gb/s (its collisions' bound)
            echo "$(pct 100 <"$tmp/n1") $(sum maxlink_bytes)" | awk '{ printf "%.4f\n", $1 / ($2 * 8 / 1e5) }' >>"$tmp/nb"
            nm=$((nm + $(sum marks))) nd=$((nd + $(sum drops))) nr=$((nr + $(sum retx_bytes)))
            {
                printf '[topology]\nleaves = %s\nspines = %s\nhosts_per_leaf = %s\n' "$L" "$S" "$H"
                printf 'host_gbps = 100\nfabric_gbps = 100\nlink_latency_ns = 1000\n'
                printf '[transport]\npath = %s\nmtu = %s\ncc = dctcp\n' "$path" $MTU
                printf 'window_bytes = %s\nack_bytes = 42\n' $((WINDOW * MTU))
                [ -z "$BUF" ] || printf 'recovery = selective\nrto_ns = %s\n' "$RTO_NS"
                printf '[switch]\necn_kmin_bytes = %s\necn_kmax_bytes = %s\n' "$K" "$K"
                [ -z "$BUF" ] || printf 'buffer_bytes = %s\n' "$BUF"
                printf '[workload]\nkind = flows\nflows_file = %s.cm\n' "$c"
                printf '[sim]\nseed = %s\n[output]\nflows = true\n' "$seed"
            } >"$tmp/m.ini"
            rm -f "$tmp/m.db"
            # shellcheck disable=SC2086
            "$MOESIM" run "$tmp/m.ini" --db "$tmp/m.db" --quiet $MOESIM_ARGS >/dev/null
            sqlite3 "$tmp/m.db" "SELECT (end_ns - start_ns) / 1000.0 FROM flows" >"$tmp/m1"
            cat "$tmp/m1" >>"$tmp/mf"
            pct 100 <"$tmp/m1" >>"$tmp/ml"
            echo "$(pct 100 <"$tmp/m1") $(sqlite3 "$tmp/m.db" "SELECT MAX(bytes) FROM links")" |
                awk '{ printf "%.4f\n", $1 / ($2 * 8 / 1e5) }' >>"$tmp/mb"
            mm=$((mm + $(sqlite3 "$tmp/m.db" "SELECT COALESCE(SUM(ecn_marks), 0) FROM links")))
            md=$((md + $(sqlite3 "$tmp/m.db" "SELECT COALESCE(SUM(drops), 0) FROM links")))
            mr=$((mr + $(sqlite3 "$tmp/m.db" "SELECT COALESCE(SUM(retx_bytes), 0) FROM flows")))
            mt=$((mt + $(sqlite3 "$tmp/m.db" "SELECT COALESCE(SUM(timeouts), 0) FROM flows")))
        done
        n="$(pct 50 <"$tmp/nl") $(pct 50 <"$tmp/nf") $(pct 99 <"$tmp/nf")"
        m="$(pct 50 <"$tmp/ml") $(pct 50 <"$tmp/mf") $(pct 99 <"$tmp/mf")"
        r=$(echo "$n $m" | awk '{ if ($1 == "-" || $1 == 0) print "-"; else printf "%.3f", $4 / $1 }')
        b="$(sort -g "$tmp/nb" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'), $(sort -g "$tmp/mb" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }')"
        printf '| %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s / %s |\n' "$c" "$path" \
            "$(echo "$n" | tr ' ' '/')" "$(echo "$m" | tr ' ' '/')" "$r" "$b" "$nm" "$nd" "$nr" \
            "$mm" "$md" "$mr" "$mt"
    done
done
