#!/bin/sh
# fat_tree_graphml.sh PODS LEAVES_PER_POD AGGS_PER_POD CORES HOSTS_PER_LEAF GBPS LATENCY_NS
# - writes to stdout, as GraphML for topology.kind = file (docs/fabrics.md
# "Fabrics from files"), a three-tier fat-tree whose every aggregation switch
# links to every core (the paper-style non-blocking tree that
# topology.kind = fat_tree, one link per core into each pod, cannot express):
# hosts h0.., leaves l0.., aggregation switches a0.., cores c0..; in a pod
# every leaf links to every aggregation switch; every link GBPS and
# LATENCY_NS. data/fabrics/ethereal_ft512.graphml is
#   sh tools/fat_tree_graphml.sh 2 16 16 16 16 400 500
set -eu
[ $# -eq 7 ] || { echo "usage: fat_tree_graphml.sh PODS LEAVES_PER_POD AGGS_PER_POD CORES HOSTS_PER_LEAF GBPS LATENCY_NS" >&2; exit 2; }
awk -v P="$1" -v L="$2" -v A="$3" -v C="$4" -v H="$5" -v G="$6" -v T="$7" 'BEGIN {
    print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    printf "<!-- A three-tier fat-tree: %d pods of %d leaves and %d aggregation switches, %d cores,\n", P, L, A, C
    printf "     %d hosts per leaf, every aggregation switch linked to every core, every link\n", H
    printf "     %s Gb/s and %s ns (tools/fat_tree_graphml.sh %d %d %d %d %d %s %s). -->\n", G, T, P, L, A, C, H, G, T
    print "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">"
    print "  <key id=\"role\" for=\"node\" attr.name=\"role\" attr.type=\"string\"/>"
    print "  <key id=\"gbps\" for=\"edge\" attr.name=\"gbps\" attr.type=\"double\"/>"
    print "  <key id=\"lat\" for=\"edge\" attr.name=\"latency_ns\" attr.type=\"double\"/>"
    print "  <graph edgedefault=\"undirected\">"
    nl = P * L; na = P * A
    for (h = 0; h < nl * H; h++) printf "    <node id=\"h%d\"><data key=\"role\">host</data></node>\n", h
    for (l = 0; l < nl; l++) printf "    <node id=\"l%d\"><data key=\"role\">switch</data></node>\n", l
    for (a = 0; a < na; a++) printf "    <node id=\"a%d\"><data key=\"role\">switch</data></node>\n", a
    for (c = 0; c < C; c++) printf "    <node id=\"c%d\"><data key=\"role\">switch</data></node>\n", c
    e = "<data key=\"gbps\">" G "</data><data key=\"lat\">" T "</data></edge>"
    for (h = 0; h < nl * H; h++) printf "    <edge source=\"h%d\" target=\"l%d\">%s\n", h, int(h / H), e
    for (l = 0; l < nl; l++)
        for (a = 0; a < A; a++) printf "    <edge source=\"l%d\" target=\"a%d\">%s\n", l, int(l / L) * A + a, e
    for (a = 0; a < na; a++)
        for (c = 0; c < C; c++) printf "    <edge source=\"a%d\" target=\"c%d\">%s\n", a, c, e
    print "  </graph>"
    print "</graphml>"
}'
