/* fabric_file.h - topology.kind = file inside topo/: the two readers and what
 * they give (topo-internal; the rest of moesim reads struct topo).
 *
 * topology.file names a GraphML file (.graphml, .xml: fabric_graphml.c) or
 * an htsim .topo file (.topo: fabric_htsim.c). A .topo describes a tiered
 * fat-tree: it resolves into the leaf_spine (2 tiers) or fat_tree (3 tiers)
 * spec it equals, built by their builders, or with bundles of parallel
 * links into a graph (topo_htsim_graph) built as a GraphML one is. A GraphML file is its own graph
 * (struct topo_gml), built by topo_gml_build. Every reader's error is one
 * line that names the file and the element: "FILE:LINE: element: reason"
 * (GraphML: the node or edge; .topo: the key) or "FILE: element: reason".
 */
#ifndef MOESIM_FABRIC_FILE_H
#define MOESIM_FABRIC_FILE_H

#include "topo/topo.h"

/* A GraphML fabric as read and checked, nodes renumbered as struct topo
 * has them: hosts [0, hosts) leaf by leaf, then the switches, leaves
 * (switches with hosts) first. */
struct topo_gml_link {
    uint32_t a, b;    /* nodes; a port a->b, and b->a unless oneway */
    uint64_t bps;     /* a->b */
    simtime_t lat_ps; /* a->b */
    uint64_t bps_ba;  /* b->a (the same for an undirected edge) */
    simtime_t lat_ba_ps;
    uint8_t oneway; /* a directed switch link: the port a->b only */
};
/* hosts_per_leaf: the greatest common divisor of the leaves' host counts
 * (their count when every leaf holds as many); leaf l's hosts are
 * [leaf_first[l], leaf_first[l + 1]). */
struct topo_gml {
    uint32_t hosts, leaves, switches, hosts_per_leaf;
    uint32_t *leaf_first;         /* [leaves + 1] */
    char (*names)[TOPO_NAME_MAX]; /* [hosts + switches] */
    uint32_t *host_leaf;          /* [hosts]: leaf row */
    uint32_t *tier;               /* [switches]: hops from the nearest leaf */
    uint32_t
        nlinks; /* host links first (host h's is link h, a up to its leaf), then the file's order */
    uint32_t fabric_ports; /* the switch links' ports */
    struct topo_gml_link *links;
};

/* Reads and checks the GraphML fabric at path (0, or -1 with e set). */
int topo_gml_read(const char *path, struct topo_gml *g, struct err *e);
void topo_gml_free(struct topo_gml *g);
/* Builds struct topo from a checked GraphML fabric (gpus_per_host and the
 * NVLink keys of s add NVLink ports). */
int topo_gml_build(const struct topo_spec *s, const struct topo_gml *g, struct topo **out,
                   struct err *e);

/* Reads the htsim .topo file at path into s: the leaf_spine or fat_tree
 * counts, speeds and latencies it describes, s->info.shape set (0, or -1
 * with e set). */
int topo_htsim_read(const char *path, struct topo_spec *s, struct err *e);
/* A .topo with Bundle > 1 above tier 0 (s->info.shape = TOPO_FILE after
 * topo_htsim_read): its fabric as a graph, every link of a bundle its own
 * link (its own port each way: one next hop of the ECMP group, the
 * bundle's capacity their sum, as htsim builds them). */
int topo_htsim_graph(const char *path, struct topo_gml *g, struct err *e);

/* The fabric kind that builds s: s->kind, or for kind = file the file's
 * shape (-1 when it could not be read). */
int topo_spec_build_kind(const struct topo_spec *s);

/* kind = file: checks (reads the file again for its error), port count,
 * memory estimate and build (fabric_file.c). */
int topo_file_check(const struct topo_spec *s, const struct opt_def **bad, struct err *e);
uint64_t topo_file_port_count(const struct topo_spec *s);
uint64_t topo_file_memory_bytes(const struct topo_spec *s);
int topo_file_build(const struct topo_spec *s, struct topo **out, struct err *e);
void topo_file_resolve(struct topo_spec *s);

#endif
