#!/bin/sh
# fabric_file.sh - topology.kind = file from the command line: the shipped
# GraphML leaf-spine gives the phases and links rows of topology.kind =
# leaf_spine, the shipped .topo fat-tree those of topology.kind = fat_tree,
# under every path mode; the file's hash is an input of the run; the shipped
# scenario runs; the flow engine gives its rows of the built-in kinds on
# both and runs the mesh; every bad file is refused with one line naming the file and
# the element, exit status 2, before anything runs (no database).
set -eu
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf '[sim]\nseed = 1\n' >"$T/base.ini"
rows() { sqlite3 "$1" "SELECT * FROM phases ORDER BY run_id, rowid; SELECT * FROM links ORDER BY run_id, rowid;" | md5sum; }
P="--set transport.path=ecmp,spray,spray_rr,split,adaptive,flowlet,ethereal --set workload.kind=alltoall --set workload.bytes=65536 -q"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=file --set topology.file=data/fabrics/leaf_spine_4x4.graphml $P --db "$T/f.db"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" $P --db "$T/l.db"
expect_eq "GraphML leaf-spine = leaf_spine (phases, links)" "$(rows "$T/f.db")" "$(rows "$T/l.db")"
expect_eq "seven runs" "$(sqlite3 "$T/f.db" "SELECT count(*) FROM runs")" 7
expect_eq "the file is an input" "$(sqlite3 "$T/f.db" "SELECT DISTINCT key || ' ' || bytes FROM inputs")" \
    "topology.file $(wc -c <data/fabrics/leaf_spine_4x4.graphml | tr -d ' ')"
FT="--set topology.pods=2 --set topology.leaves_per_pod=2 --set topology.aggs_per_pod=2 --set topology.cores=4 --set topology.hosts_per_leaf=4"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=file --set topology.file=data/fabrics/fat_tree_16.topo $P --db "$T/g.db"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=fat_tree $FT $P --db "$T/h.db"
expect_eq ".topo fat-tree = fat_tree (phases, links)" "$(rows "$T/g.db")" "$(rows "$T/h.db")"
"$MOESIM" run scenarios/fabric_file.ini --set workload.bytes=16384 --db "$T/s.db" -q
expect_eq "the mesh's links by kind" "$(sqlite3 "$T/s.db" "SELECT kind || '=' || count(*) FROM links WHERE run_id = 3 GROUP BY kind ORDER BY kind" | tr '\n' ' ')" \
    "across=8 host_down=8 host_up=8 leaf_up=2 spine_down=2 "
expect_eq "cct >= ideal" "$(sqlite3 "$T/s.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
# a .topo with bundles of 2 parallel links at tiers 1 and 2: a link per port each way
printf 'Nodes 16\nTiers 3\nPodsize 8\nTier 0\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 500\nRadix_Down 4\nRadix_Up 4\nTier 1\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 600\nRadix_Down 4\nRadix_Up 4\nBundle 2\nTier 2\nDownlink_speed_Gbps 100\nDownlink_Latency_ns 700\nRadix_Down 4\nBundle 2\n' >"$T/bundle2.topo"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=file --set topology.file="$T/bundle2.topo" $P --db "$T/b.db"
expect_eq "bundles: links by kind" "$(sqlite3 "$T/b.db" "SELECT kind || '=' || count(*) FROM links WHERE run_id = 1 GROUP BY kind ORDER BY kind" | tr '\n' ' ')" \
    "agg_down=16 agg_up=16 core_down=16 host_down=16 host_up=16 leaf_up=16 "
expect_eq "bundles: cct >= ideal" "$(sqlite3 "$T/b.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
# a GraphML directed ring of three leaves (one-way switch links)
{
    printf '<?xml version="1.0"?>\n<graphml>\n<key id="r" for="node" attr.name="role" attr.type="string"><default>switch</default></key>\n'
    printf '<key id="g" for="edge" attr.name="gbps" attr.type="double"/>\n<key id="d" for="edge" attr.name="latency_ns" attr.type="double"/>\n<graph edgedefault="directed">\n'
    for i in 0 1 2 3 4 5; do printf '<node id="h%s"><data key="r">host</data></node>\n' $i; done
    printf '<node id="l0"/><node id="l1"/><node id="l2"/>\n'
    for i in 0 1 2 3 4 5; do
        l=$((i / 2))
        printf '<edge source="h%s" target="l%s"><data key="g">100</data><data key="d">500</data></edge>\n' $i $l
        printf '<edge source="l%s" target="h%s"><data key="g">100</data><data key="d">500</data></edge>\n' $l $i
    done
    for e in 0:1 1:2 2:0; do
        printf '<edge source="l%s" target="l%s"><data key="g">200</data><data key="d">300</data></edge>\n' "${e%:*}" "${e#*:}"
    done
    printf '</graph>\n</graphml>\n'
} >"$T/ring.graphml"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=file --set topology.file="$T/ring.graphml" $P --db "$T/r.db"
expect_eq "one-way ring: links by kind" "$(sqlite3 "$T/r.db" "SELECT kind || '=' || count(*) FROM links WHERE run_id = 1 GROUP BY kind ORDER BY kind" | tr '\n' ' ')" \
    "across=3 host_down=6 host_up=6 "
expect_eq "one-way ring: cct >= ideal" "$(sqlite3 "$T/r.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0

# ---- bad files: FILE, then the expected line after "topology.file: " ----
hdr() {
    printf '<?xml version="1.0"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
    printf '<key id="r" for="node" attr.name="role" attr.type="string"/>\n'
    printf '<key id="g" for="edge" attr.name="gbps" attr.type="%s"/>\n' "${1:-double}"
    printf '<key id="d" for="edge" attr.name="latency_ns" attr.type="double"/>\n<graph edgedefault="undirected">\n'
}
ftr() { printf '</graph>\n</graphml>\n'; }
N() { printf '<node id="%s"><data key="r">%s</data></node>\n' "$1" "$2"; }
E() { printf '<edge source="%s" target="%s"><data key="g">%s</data><data key="d">%s</data></edge>\n' "$1" "$2" "$3" "$4"; }
base() { N h0 host; N h1 host; N l0 switch; N l1 switch; N s0 switch; E h0 l0 100 1000; E h1 l1 100 1000; E l0 s0 100 1000; E l1 s0 100 1000; }
{ hdr; base; } >"$T/truncated.graphml"
{ hdr; base; printf '<node id="x"></edge>\n'; ftr; } >"$T/mismatch.graphml"
{ hdr; base; E l1 x9 100 1000; ftr; } >"$T/dangling.graphml"
{ hdr; N h0 host; N h1 host; N l0 switch; N l1 switch; N s0 switch; E h0 l0 100 1000; E h1 l1 100 1000; E l0 s0 0 1000; E l1 s0 100 1000; ftr; } >"$T/zero.graphml"
{ hdr; N h0 host; N h1 host; N l0 switch; N l1 switch; N s0 switch; E h0 l0 -100 1000; E h1 l1 100 1000; E l0 s0 100 1000; E l1 s0 100 1000; ftr; } >"$T/negative.graphml"
{ hdr; N h0 host; N h1 host; N l0 switch; N l1 switch; N s0 switch; E h0 l0 100 1000; E h1 l1 100 -5; E l0 s0 100 1000; E l1 s0 100 1000; ftr; } >"$T/neglat.graphml"
{ hdr; base; printf '<edge source="l0" target="l1"><data key="g">100</data></edge>\n'; ftr; } >"$T/missing.graphml"
{ hdr; printf '<node id="h0"><data key="r">host</data><data key="r">switch</data></node>\n'; N h1 host; N l0 switch; N l1 switch; N s0 switch; E h0 l0 100 1000; E h1 l1 100 1000; E l0 s0 100 1000; E l1 s0 100 1000; ftr; } >"$T/tworoles.graphml"
{ hdr; base; N x hub; ftr; } >"$T/unknown.graphml"
{ hdr; base; printf '<node id="y"/>\n'; ftr; } >"$T/norole.graphml"
{ hdr; N h0 host; N h1 host; N l0 switch; N l1 switch; E h0 l0 100 1000; E h1 l1 100 1000; ftr; } >"$T/unreachable.graphml"
{ hdr; base; N h2 host; ftr; } >"$T/nolink.graphml"
{ hdr; base; N h2 host; E h2 h1 100 1000; ftr; } >"$T/hosthost.graphml"
{ hdr; base; N l0 switch; ftr; } >"$T/duplicate.graphml"
{ hdr; base; E h0 l1 100 1000; ftr; } >"$T/twolinks.graphml"
{ hdr; base; ftr; } | sed 's/edgedefault="undirected"/edgedefault="directed"/' >"$T/oneway.graphml"
{ hdr; base; E l0 h0 100 1000; E l1 h1 100 1000; E s0 l0 100 1000; ftr; } | sed 's/edgedefault="undirected"/edgedefault="directed"/' >"$T/oneway2.graphml"
{ hdr; base; E l0 l0 100 1000; ftr; } >"$T/loop.graphml"
{ hdr string; base; ftr; } >"$T/strgbps.graphml"
{ hdr; base; E l0 l1 fast 1000; ftr; } >"$T/nonnumber.graphml"
{ hdr; N h0 host; N 'h-1' host; ftr; } >"$T/badid.graphml"
{
    hdr; N h0 host; N h1 host
    for i in 0 1 2 3 4 5 6 7; do N "c$i" switch; done
    E h0 c0 100 1000; E h1 c7 100 1000
    for i in 0 1 2 3 4 5 6; do E "c$i" "c$((i + 1))" 100 1000; done
    ftr
} >"$T/long.graphml"
printf '<?xml version="1.0"?>\n<gexf/>\n' >"$T/notgml.graphml"
TP=data/fabrics/fat_tree_16.topo
sed 's/^Radix_Up 2$/Radix_Upp 2/' $TP >"$T/unknown.topo"
sed 's/^Nodes 16/Nodes sixteen/' $TP >"$T/badnum.topo"
sed 's/^Downlink_speed_Gbps 100/Downlink_speed_Gbps 0/' $TP >"$T/zero.topo"
awk '/^Tier 1/ { t = 1 } /^Tier 2/ { t = 0 } t && /^Radix_(Down|Up) 2$/ { sub(/2$/, "4") } { print }' $TP >"$T/radix.topo"
sed 's/^Oversubscribed 2/Oversubscribed 1/' $TP >"$T/oversub.topo"
sed 's/^Tiers 3/Tiers 4/' $TP >"$T/tiers.topo"
sed '/^Radix_Down 4/d' $TP >"$T/noradix.topo"
sed 's/^Switch_Latency_ns 0/Bundle 2/' $TP >"$T/bundle.topo"
printf 'x\n' >"$T/fabric.txt"
bad=0
while IFS='|' read -r f want; do
    printf '[topology]\nkind = file\nfile = %s\n' "$f" >"$T/bad.ini"
    rc=0
    "$MOESIM" run "$T/bad.ini" --db "$T/bad.db" >"$T/out" 2>"$T/err" || rc=$?
    expect_eq "$f: exit status" "$rc" 2
    [ "$(cat "$T/err")" = "moesim: $T/bad.ini:3: topology.file: $T/$want" ] || { echo "MISMATCH $f: $(sed "s#$T/##g" "$T/err")"; bad=1; }
    [ ! -e "$T/bad.db" ] || fail "$f: a refused run left a database"
done <<EOF2
truncated.graphml|truncated.graphml:15: XML: Extra content at the end of the document
mismatch.graphml|mismatch.graphml:16: XML: Opening and ending tag mismatch: node line 16 and edge
dangling.graphml|dangling.graphml:16: edge 'l1'-'x9': node 'x9' is not declared
zero.graphml|zero.graphml:14: edge 'l0'-'s0': gbps = 0, a link needs a positive speed (at most 1e6)
negative.graphml|negative.graphml:12: edge 'h0'-'l0': gbps = -100, a link needs a positive speed (at most 1e6)
neglat.graphml|neglat.graphml:13: edge 'h1'-'l1': latency_ns = -5, a latency is 0 to 1e9 ns
missing.graphml|missing.graphml:16: edge 'l0'-'l1': no latency_ns
tworoles.graphml|tworoles.graphml:7: node 'h0': two roles ('host' and 'switch')
unknown.graphml|unknown.graphml:16: node 'x': role 'hub' is not host or switch
norole.graphml|norole.graphml:16: node 'y': no role (a <data> of the key named role: host or switch)
unreachable.graphml|unreachable.graphml:8: node 'h1': host not reachable from node 'h0'
nolink.graphml|nolink.graphml:16: node 'h2': host not reachable (it has no link)
hosthost.graphml|hosthost.graphml:17: edge 'h2'-'h1': links two hosts (a host links to a switch)
duplicate.graphml|duplicate.graphml:16: node 'l0': duplicate id (first on line 9)
twolinks.graphml|twolinks.graphml:7: node 'h0': a second link (line 16); a host has one, to its edge switch (multi-homed hosts are not modelled)
oneway.graphml|oneway.graphml:7: node 'h0': a one-way link to its edge switch (line 12) and none back (a host needs a link each way)
oneway2.graphml|oneway2.graphml:8: node 'h1': host not reachable from node 'h0'
loop.graphml|loop.graphml:16: edge 'l0'-'l0': links a node to itself
nonnumber.graphml|nonnumber.graphml:16: edge 'l0'-'l1': gbps 'fast' is not a number
strgbps.graphml|strgbps.graphml:4: key 'gbps': not a number (attr.type double, float, int or long)
badid.graphml|badid.graphml:8: node 'h-1': an id is 1 to 31 letters, digits, '_', '.' or ':' (it names the node in the links table)
long.graphml|long.graphml: node 'c0' to node 'c7': 7 switch links, more than a route holds (6)
notgml.graphml|notgml.graphml:2: <gexf>: not GraphML (the root element must be <graphml>)
unknown.topo|unknown.topo:14: Radix_Upp: unknown key (the header has Nodes, Tiers, Podsize; a Tier has Downlink_speed_Gbps, Downlink_Latency_ns, Radix_Down, Radix_Up, Switch_Latency_ns, Oversubscribed, Bundle)
badnum.topo|badnum.topo:6: Nodes: expected a non-negative integer, got 'sixteen'
zero.topo|zero.topo:11: Downlink_speed_Gbps: 0, a link needs a positive speed
radix.topo|radix.topo:21: Radix_Down: Tier 1's 4 is not the 2 leaves of a pod (Podsize / Tier 0's Radix_Down): an aggregation switch links to every leaf of its pod
oversub.topo|oversub.topo: Tier 0: Oversubscribed 1, but Radix_Down x speed / Radix_Up x speed above = 4 x 100 / (2 x 100) = 2
tiers.topo|tiers.topo:7: Tiers: 4, this reader takes 2 (leaf-spine) or 3 (fat-tree)
noradix.topo|noradix.topo: Tier 0: Radix_Down: missing
bundle.topo|bundle.topo:16: Bundle: Tier 0's 2 would give a host parallel links (a host has one link, to its leaf: use 1)
fabric.txt|fabric.txt: not a .graphml, .xml or .topo file (the name says which reader)
nothere.graphml|nothere.graphml: cannot open: No such file or directory
EOF2
[ "$bad" = 0 ] || fail "bad files: the lines above differ from the expected ones"
printf '[topology]\nkind = file\n' >"$T/nofile.ini"
rc=0
"$MOESIM" run "$T/nofile.ini" --db "$T/bad.db" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "no file: exit status" "$rc" 2
expect_eq "no file: stderr" "$(cat "$T/err")" \
    "moesim: $T/nofile.ini: topology.file: topology.kind = file needs a file (a .graphml or an htsim .topo)"
# the flow engine on fabrics from files: the GraphML leaf-spine and the
# .topo fat-tree give its rows of the built-in kinds too (the same ports,
# routes and path numbers), and the irregular mesh runs every path mode
# it runs (no flowlet: it has no packets) with no phase below its bound
PF="--set transport.path=ecmp,spray,spray_rr,split,adaptive,ethereal --set workload.kind=alltoall --set workload.bytes=65536 --set sim.engine=flow -q"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=file --set topology.file=data/fabrics/leaf_spine_4x4.graphml $PF --db "$T/ff.db"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" $PF --db "$T/fl.db"
expect_eq "flow engine: GraphML leaf-spine = leaf_spine (phases, links)" "$(rows "$T/ff.db")" "$(rows "$T/fl.db")"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=file --set topology.file=data/fabrics/fat_tree_16.topo $PF --db "$T/fg.db"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=fat_tree $FT $PF --db "$T/fh.db"
expect_eq "flow engine: .topo fat-tree = fat_tree (phases, links)" "$(rows "$T/fg.db")" "$(rows "$T/fh.db")"
# shellcheck disable=SC2086
"$MOESIM" run "$T/base.ini" --set topology.kind=file --set topology.file=data/fabrics/ring_mesh.graphml $PF --db "$T/fm.db"
expect_eq "flow engine: the mesh, six runs" "$(sqlite3 "$T/fm.db" "SELECT count(*) FROM runs WHERE status = 'done'")" 6
expect_eq "flow engine: the mesh, cct >= ideal" "$(sqlite3 "$T/fm.db" "SELECT count(*) FROM phases WHERE cct_ns < ideal_ns")" 0
# ethereal splits a flow only for the source's own choices (the leaf's and
# the aggregation switch's: 256 on the paper's 512-GPU tree, which runs);
# on a 2048-GPU tree of the same kind (32 x 32 of them: 1024 subflows a
# flow, an all-to-all's 4 M flows) that is still too much, and the run is
# refused before it starts, naming transport.path, rather than running out
# of memory halfway (the estimate builds a file fabric to count them)
sh tools/fat_tree_graphml.sh 2 32 32 32 32 400 500 >"$T/ft2048.graphml"
rc=0
"$MOESIM" run scenarios/repro_ethereal_ft512.ini --set topology.file="$T/ft2048.graphml" \
    --set transport.path=ethereal --db "$T/e2048.db" >/dev/null 2>"$T/e2048.err" || rc=$?
expect_eq "ethereal on ft2048: exit status" "$rc" 2
expect_eq "ethereal on ft2048: the error" "$(sed 's/at least [0-9.]* GiB of memory, this machine has [0-9.]* GiB$/at least N GiB/' "$T/e2048.err")" \
    "moesim: --set transport.path=ethereal: ethereal splits a message into up to 1024 subflows on this fabric: the run needs at least N GiB"
[ ! -e "$T/e2048.db" ] || fail "ethereal on ft2048: a refused run wrote a database"
echo "fabric_file: ok"
