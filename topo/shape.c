/* shape.c - a fabric's shape in words (topo_spec_shape, topo.h): what the
 * run line shows of the topology, from the spec alone (the parent process
 * prints it; the fabric is built in the worker). */
#include <stdio.h>
#include <string.h>

#include "topo/fabric_file.h"
#include "topo/topo.h"

void topo_spec_shape(const struct topo_spec *s, char *buf, size_t n)
{
    uint64_t links = 0;
    int w = 0, k = topo_spec_build_kind(s);
    if (s->kind == TOPO_FILE && k == TOPO_FILE) { /* GraphML */
        const char *name = strrchr(s->file, '/');
        links = s->info.fabric_links;
        w = snprintf(buf, n, "file %s: %llu hosts, %lld leaves, %llu switches",
                     name ? name + 1 : s->file, (unsigned long long)s->info.hosts,
                     (long long)s->info.leaves, (unsigned long long)s->info.switches);
    } else if (k == TOPO_FAT_TREE) {
        links = (uint64_t)s->pods * (uint64_t)s->leaves_per_pod * (uint64_t)s->aggs_per_pod +
                (uint64_t)s->pods * (uint64_t)s->cores;
        w = snprintf(buf, n,
                     "fat_tree %lld pods x %lld leaves x %lld aggs, %lld cores, %lld hosts/leaf",
                     (long long)s->pods, (long long)s->leaves_per_pod, (long long)s->aggs_per_pod,
                     (long long)s->cores, (long long)s->hosts_per_leaf);
    } else if (s->kind == TOPO_RAIL) {
        links = (uint64_t)s->planes * (uint64_t)s->groups * (uint64_t)s->gpus_per_host *
                (uint64_t)s->spines;
        w = snprintf(buf, n, "rail %lld group%s x %lld server%s x %lld GPUs, %lld spine%s, %s",
                     (long long)s->groups, s->groups == 1 ? "" : "s",
                     (long long)s->servers_per_group, s->servers_per_group == 1 ? "" : "s",
                     (long long)s->gpus_per_host, (long long)s->spines, s->spines == 1 ? "" : "s",
                     s->cross_rail == TOPO_XR_PXN ? "pxn" : "spine");
        if (w >= 0 && (size_t)w < n && s->planes > 1)
            w += snprintf(buf + w, n - (size_t)w, ", %lld planes", (long long)s->planes);
    } else {
        links = (uint64_t)s->leaves * (uint64_t)s->spines;
        w = snprintf(buf, n, "leaf_spine %lldx%lldx%lld", (long long)s->leaves,
                     (long long)s->spines, (long long)s->hosts_per_leaf);
    }
    if (w >= 0 && (size_t)w < n && s->kind == TOPO_FILE && k != TOPO_FILE) { /* .topo */
        const char *name = strrchr(s->file, '/');
        w += snprintf(buf + w, n - (size_t)w, " (%s)", name ? name + 1 : s->file);
    }
    if (w < 0 || (size_t)w >= n) return;
    topo_faults_describe(s, links, buf + w, n - (size_t)w);
}
