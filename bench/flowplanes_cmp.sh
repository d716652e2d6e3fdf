# flowplanes_cmp.sh - the flow engine against the packet engine on rail planes (branch flowplanes):
# scenarios/rail.ini's all-to-all, 2 and 3 planes, spray and ecmp, 4 KiB / 64 KiB / 256 KiB a pair.
# usage: sh bench/flowplanes_cmp.sh [BIN [TAG]] (from the repository root; TAG names the scratch db)
BIN=${1:-./moesim}; TAG=${2:-new}
for P in 2 3; do for path in spray ecmp; do for b in 4096 65536 262144; do for eng in packet flow; do
 db=/tmp/fp_$TAG.db; rm -f $db
 $BIN run scenarios/rail.ini --db $db --quiet --set topology.planes=$P --set transport.path=$path --set workload.bytes=$b --set sim.engine=$eng >/dev/null 2>&1 || echo FAIL
 echo "P=$P $path bytes=$b $eng $(sqlite3 $db 'select cct_ns, ideal_ns, round(1.0*cct_ns/ideal_ns,4) from phases')"
done; done; done; done
