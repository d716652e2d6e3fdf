#!/bin/sh
# htsim_compare.sh MOESIM [CASE ...] - moesim against htsim on matched
# scenarios (docs/validation.md, "Against a reference"): the same leaf-spine,
# the same flows (one connection matrix, read by both), single path and
# sprayed; prints one table row per case and path mode with the last flow's
# end and the flow-completion p50 / p99 of each simulator, and both
# simulators' retransmissions (moesim's: the flows table's retx_bytes over
# 4096-byte packets; 0 unless MOESIM_ARGS sets transport.recovery).
#
# htsim is a reference only: it is never downloaded, built or needed by this
# repository's build or tests. Build it by hand outside the repository
# (bench/README.md has the commands) and name its UEC binary:
#   HTSIM=/work/ref/build/datacenter/htsim_uec sh tools/htsim_compare.sh ./moesim
# HTSIM_ARGS adds options to every htsim run (e.g. "-disable_trim"),
# MOESIM_ARGS to every moesim run (e.g. "--set transport.cc=dctcp"), SEEDS
# the seeds (default "1 2 3 4 5": htsim -seed, moesim sim.seed; single-path
# results depend on which flows the hash collides, so one seed is one
# sample). The last flow's end is the median over the seeds; p50 and p99
# pool every seed's flows.
#
# Cases (the issue's matched set; every link 100 Gb/s and 1 us, MTU 4096,
# flows of 2,000,000 bytes (a2a16: 1,000,000) starting at 0):
#   a2a16       16 hosts (4 leaves x 4, 4 spines), every ordered pair
#   perm128     128 hosts (8 leaves x 16, 16 spines, 1:1), a random permutation
#   perm128_2to1  the same hosts and permutation, 8 spines (2:1)
#   incast32    the 1:1 128-host fabric, hosts 0-31 (leaves 0 and 1) to host 127
set -eu
MOESIM=${1:?usage: HTSIM=path/to/htsim_uec htsim_compare.sh MOESIM [CASE ...]}
shift
HTSIM=${HTSIM:?set HTSIM to htsim_uec (built by hand outside the repository)}
HTSIM_ARGS=${HTSIM_ARGS:-}
SEEDS=${SEEDS:-1 2 3 4 5}
MOESIM_ARGS=${MOESIM_ARGS:-}
[ $# -gt 0 ] || set -- a2a16 perm128 perm128_2to1 incast32
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# topo NAME LEAVES HOSTS_PER_LEAF SPINES: htsim's two-tier .topo
topo() {
    {
        echo "Nodes $(($2 * $3))"
        echo "Tiers 2"
        echo "Podsize $(($2 * $3))"
        echo
        echo "Tier 0"
        echo "Downlink_speed_Gbps 100"
        echo "Radix_Down $3"
        echo "Radix_Up $4"
        echo "Downlink_Latency_ns 1000"
        echo "Switch_Latency_ns 0"
        [ "$3" -eq "$4" ] || echo "Oversubscribed $(($3 / $4))"
        echo
        echo "Tier 1"
        echo "Downlink_speed_Gbps 100"
        echo "Radix_Down $2"
        echo "Downlink_Latency_ns 1000"
        echo "Switch_Latency_ns 0"
        echo "Bundle 1"
    } >"$tmp/$1.topo"
}

# cm NAME NODES: the connection matrix from "src dst bytes" lines on stdin
cm() {
    awk -v n="$2" '{ s[NR] = $1; d[NR] = $2; b[NR] = $3 }
        END { print "Nodes " n; print "Connections " NR;
              for (i = 1; i <= NR; i++) print s[i] "->" d[i] " id " i " start 0 size " b[i] }' \
        >"$tmp/$1.cm"
}

setup() { # case: writes $tmp/$case.{topo,cm}, sets L H S
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
        awk 'BEGIN { srand(1); n = 128
              do { for (i = 0; i < n; i++) p[i] = i
                   for (i = n - 1; i > 0; i--) { j = int(rand() * (i + 1)); t = p[i]; p[i] = p[j]; p[j] = t }
                   ok = 1; for (i = 0; i < n; i++) if (p[i] == i) ok = 0 } while (!ok)
              for (i = 0; i < n; i++) print i, p[i], 2000000 }' | cm "$1" 128
        ;;
    incast32)
        L=8 H=16 S=16
        awk 'BEGIN { for (s = 0; s < 32; s++) print s, 127, 2000000 }' | cm incast32 128
        ;;
    *)
        echo "htsim_compare.sh: unknown case '$1' (a2a16, perm128, perm128_2to1, incast32)" >&2
        exit 2
        ;;
    esac
    topo "$1" "$L" "$H" "$S"
}

# pct P: the P-th percentile (nearest rank) of the numbers on stdin
pct() {
    sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        i = int(p / 100 * NR + 0.999999); printf "%.1f\n", v[i < 1 ? 1 : i] }'
}

printf '| case | path | htsim last / p50 / p99 (us) | moesim last / p50 / p99 (us) | last: moesim / htsim | retransmits (all seeds): htsim / moesim |\n'
printf '|---|---|---|---|---|---|\n'
for c in "$@"; do
    setup "$c"
    for path in ecmp spray; do
        if [ $path = ecmp ]; then hp="-paths 1"; else hp="-paths 256 -load_balancing_algo oblivious"; fi
        : >"$tmp/hf" && : >"$tmp/hl" && : >"$tmp/mf" && : >"$tmp/ml" && rtx=0 mrtx=0
        for seed in $SEEDS; do
            # shellcheck disable=SC2086
            # (in $tmp: htsim writes idmap.txt and logout.dat where it runs)
            (cd "$tmp" && "$HTSIM" -topo "$c.topo" -tm "$c.cm" $hp -mtu 4096 -end 100000 \
                -seed "$seed" $HTSIM_ARGS >h.out 2>&1) ||
                { echo "htsim failed on $c $path:" >&2; tail -5 "$tmp/h.out" >&2; exit 1; }
            sed -n 's/.* finished at \([0-9.e+]*\) .*/\1/p' "$tmp/h.out" >"$tmp/h1"
            cat "$tmp/h1" >>"$tmp/hf"
            pct 100 <"$tmp/h1" >>"$tmp/hl"
            rtx=$((rtx + $(sed -n 's/.* Rtx: \([0-9]*\) .*/\1/p' "$tmp/h.out" | tail -1)))
            printf '[topology]\nleaves = %s\nspines = %s\nhosts_per_leaf = %s\n' "$L" "$S" "$H" >"$tmp/m.ini"
            printf 'host_gbps = 100\nfabric_gbps = 100\nlink_latency_ns = 1000\n' >>"$tmp/m.ini"
            printf '[transport]\npath = %s\nmtu = 4096\n' "$path" >>"$tmp/m.ini"
            printf '[workload]\nkind = flows\nflows_file = %s.cm\n' "$c" >>"$tmp/m.ini"
            printf '[sim]\nseed = %s\n[output]\nflows = true\n' "$seed" >>"$tmp/m.ini"
            rm -f "$tmp/m.db"
            # shellcheck disable=SC2086
            "$MOESIM" run "$tmp/m.ini" --db "$tmp/m.db" --quiet $MOESIM_ARGS >/dev/null
            sqlite3 "$tmp/m.db" "SELECT (end_ns - start_ns) / 1000.0 FROM flows" >"$tmp/m1"
            cat "$tmp/m1" >>"$tmp/mf"
            mrtx=$((mrtx + $(sqlite3 "$tmp/m.db" "SELECT (coalesce(sum(retx_bytes), 0) + 4095) / 4096 FROM flows")))
            pct 100 <"$tmp/m1" >>"$tmp/ml"
        done
        h="$(pct 50 <"$tmp/hl") $(pct 50 <"$tmp/hf") $(pct 99 <"$tmp/hf")"
        m="$(pct 50 <"$tmp/ml") $(pct 50 <"$tmp/mf") $(pct 99 <"$tmp/mf")"
        r=$(echo "$h $m" | awk '{ if ($1 == "-" || $1 == 0) print "-"; else printf "%.3f", $4 / $1 }')
        hl=$(echo "$h" | tr ' ' '/')
        ml=$(echo "$m" | tr ' ' '/')
        printf '| %s | %s | %s | %s | %s | %s / %s |\n' "$c" "$path" "$hl" "$ml" "$r" "$rtx" "$mrtx"
    done
done
