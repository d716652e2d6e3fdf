/* topo_options.c - the [topology] options, over struct topo_spec (topo.h).
 *
 * To add a fabric parameter: a field in struct topo_spec and a row here.
 */
#include "topo/topo.h"

/* clang-format off */
#define F(field) offsetof(struct topo_spec, field)
static const struct opt_def topo_options_rows[] = {
    {"topology", "kind", OPT_ENUM, "leaf_spine", 0, 0, "leaf_spine|fat_tree|file|rail",
     "fabric shape: leaf_spine (a two-tier Clos of leaves and spines), fat_tree (three tiers: "
     "leaves and aggregation switches in pods, core switches), file (read from topology.file) or "
     "rail (GPU g of every server of a group on that group's rail switch g, rail switches under "
     "spines; see docs/fabrics.md)", F(kind)},
    {"topology", "leaves", OPT_INT, "4", 1, 4096, NULL, "leaf (top-of-rack) switches", F(leaves)},
    {"topology", "spines", OPT_INT, "4", 1, 1024, NULL, "spine switches; every leaf has one uplink to each", F(spines)},
    {"topology", "hosts_per_leaf", OPT_INT, "4", 1, 4096, NULL, "hosts under each leaf", F(hosts_per_leaf)},
    {"topology", "host_gbps", OPT_REAL, "100", 0.001, 1e6, NULL, "host link speed, Gb/s", F(host_gbps)},
    {"topology", "fabric_gbps", OPT_REAL, "100", 0.001, 1e6, NULL,
     "leaf-spine link speed, Gb/s (oversubscription = hosts_per_leaf*host_gbps / (spines*fabric_gbps))", F(fabric_gbps)},
    {"topology", "link_latency_ns", OPT_INT, "1000", 0, 1e9, NULL, "propagation delay of every link, ns", F(link_latency_ns)},
    {"topology", "gpus_per_host", OPT_INT, "1", 1, 64, NULL,
     "GPUs per server; each GPU is a fabric host with its own NIC, and the GPUs of one server also "
     "share an NVLink switch (consecutive hosts under one leaf)", F(gpus_per_host)},
    {"topology", "nvlink_gbps", OPT_REAL, "3600", 0.001, 1e6, NULL,
     "NVLink speed per GPU and direction, Gb/s (3600 = 450 GB/s, H100)", F(nvlink_gbps)},
    {"topology", "pods", OPT_INT, "2", 1, 4096, NULL, "fat_tree: pods", F(pods)},
    {"topology", "leaves_per_pod", OPT_INT, "2", 1, 4096, NULL,
     "fat_tree: leaves per pod (each links to every aggregation switch of its pod)", F(leaves_per_pod)},
    {"topology", "aggs_per_pod", OPT_INT, "2", 1, 4096, NULL,
     "fat_tree: aggregation switches per pod", F(aggs_per_pod)},
    {"topology", "cores", OPT_INT, "4", 1, 65536, NULL,
     "fat_tree: core switches, a multiple of aggs_per_pod: aggregation switch j of every pod links to "
     "cores j*cores/aggs_per_pod ... (j+1)*cores/aggs_per_pod - 1", F(cores)},
    {"topology", "core_gbps", OPT_REAL, "0", 0, 1e6, NULL,
     "fat_tree: aggregation-core link speed, Gb/s (0: fabric_gbps, the leaf-aggregation speed)", F(core_gbps)},
    {"topology", "file", OPT_PATH, "", 0, 0, NULL,
     "kind = file: the fabric, a GraphML file (.graphml: nodes of role host or switch, links with "
     "gbps and latency_ns) or an htsim .topo file; it sets the fabric's shape, speeds and "
     "latencies", F(file)},
    {"topology", "groups", OPT_INT, "1", 1, 4096, NULL,
     "rail: groups (scalable units), each of servers_per_group servers and gpus_per_host rail "
     "switches", F(groups)},
    {"topology", "servers_per_group", OPT_INT, "4", 1, 4096, NULL,
     "rail: servers per group; rail switch g of a group has GPU g of each of them", F(servers_per_group)},
    {"topology", "cross_rail", OPT_ENUM, "pxn", 0, 0, "pxn|spine",
     "rail: traffic between GPUs on different rails: pxn (over NVLink to the GPU of the source's "
     "server on the destination's rail, then that rail, as NCCL's PXN) or spine (up the source's "
     "rail switch, through a spine, down the destination's)", F(cross_rail)},
    {"topology", "planes", OPT_INT, "1", 1, 16, NULL,
     "rail: planes each GPU's NIC is split over (host_gbps/planes per plane, each plane its own rail "
     "switches and spines)", F(planes)},
    {"topology", "nvlink_latency_ns", OPT_INT, "250", 0, 1e9, NULL, "NVLink hop latency, ns", F(nvlink_latency_ns)},
};
#undef F
/* clang-format on */
const struct opt_table topo_options = {topo_options_rows, sizeof topo_options_rows / sizeof topo_options_rows[0]};
