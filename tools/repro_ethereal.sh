#!/bin/sh
# repro_ethereal.sh [DB [ring]] - every run behind docs/fabrics.md "Reproduction:
# does ethereal match spraying?": scenarios/repro_ethereal_ls.ini (256 GPUs,
# leaf-spine) and repro_ethereal_ft.ini (512 GPUs, fat-tree), all-to-all
# under ecmp, spray, adaptive, ethereal and split with 2/4/8 subflows, with
# 0, 1 and 2 links down (packet engine), and larger leaf-spine sizes on the
# flow engine (with 0, 1 and 2 links down), the fat-tree's too; with
# `ring` instead the ring all-reduce of 4 MiB (RING_BYTES, a comma list sweeps) on both fabrics
# under ecmp, spray and ethereal (packet engine); with `ft512` the all-to-all
# on the paper's non-blocking 512-GPU fat-tree (repro_ethereal_ft512.ini, a
# GraphML file) at 4 MiB with 0-2 links down and at 16 MiB, every mode
# (ethereal with its per-tier rule, docs/fabrics.md). Then plots/repro_ethereal.sh
# DB docs/figures/repro_ethereal draws the figure and prints the table.
set -eu
M=${MOESIM:-./moesim}
DB=${1:-results/repro_ethereal.db}
LS=scenarios/repro_ethereal_ls.ini
FT=scenarios/repro_ethereal_ft.ini
r() { "$M" run "$@" --db "$DB" --jobs 1 --quiet; }
modes=${MODES:-transport.path=ecmp,spray,adaptive,ethereal}
if [ "${2:-}" = ring ]; then
    for f in "$LS" "$FT"; do
        r "$f" --set workload.kind=allreduce --set workload.algo=ring \
            --set workload.bytes=${RING_BYTES:-4194304} --set transport.path=ecmp,ethereal,spray
    done
    exit 0
fi
# every mode: four plain ones, split at 2/4/8 subflows
each() { r "$@" --set "$modes" && r "$@" --set transport.path=split --set transport.subflows=2,4,8; }
if [ "${2:-}" = ft512 ]; then
    # the paper's non-blocking 512-GPU fat-tree (a GraphML file), packet
    # engine: 4 MiB per host with none, one, two links down; 16 MiB
    F5=scenarios/repro_ethereal_ft512.ini
    each "$F5" --set workload.bytes=8192
    each "$F5" --set workload.bytes=8192 --set faults.down=l0-a1
    each "$F5" --set workload.bytes=8192 --set "faults.down=l0-a1 l5-a6"
    each "$F5" --set workload.bytes=32768
    exit 0
fi
# leaf-spine, packet engine: 4 and 16 MiB per host; none, one, two links down
each "$LS" --set workload.bytes=16384,65536
each "$LS" --set workload.bytes=16384,65536 --set faults.down=l0-s3
each "$LS" --set workload.bytes=16384,65536 --set "faults.down=l0-s3 l5-s9"
# leaf-spine, flow engine: 16 MiB (the engines' agreement), 64 and 256 MiB
each "$LS" --set sim.engine=flow --set workload.bytes=65536,262144,1048576
each "$LS" --set sim.engine=flow --set workload.bytes=65536,262144,1048576 --set faults.down=l0-s3
each "$LS" --set sim.engine=flow --set workload.bytes=65536,262144,1048576 --set "faults.down=l0-s3 l5-s9"
# fat-tree, packet engine: 4 MiB with none, one, two links down; 16 MiB
each "$FT" --set workload.bytes=8192
each "$FT" --set workload.bytes=8192 --set faults.down=l0-a1
each "$FT" --set workload.bytes=8192 --set "faults.down=l0-a1 l5-a6"
each "$FT" --set workload.bytes=32768
# fat-tree, flow engine: 16 MiB (the engines' agreement), 64 and 256 MiB
each "$FT" --set sim.engine=flow --set workload.bytes=32768,131072,524288
each "$FT" --set sim.engine=flow --set workload.bytes=32768,131072,524288 --set faults.down=l0-a1
each "$FT" --set sim.engine=flow --set workload.bytes=32768,131072,524288 --set "faults.down=l0-a1 l5-a6"
