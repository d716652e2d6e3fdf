/* fabric_spec.h - the fabric configurations the tests build (fabric_run.h
 * includes it): a fabric file, a small fat-tree, a rail fabric; each from
 * cfg_defaults, resolved (topo_spec_resolve) so that its derived shape is
 * set; speeds and delays may be set after. */
#ifndef MOESIM_TESTS_FABRIC_SPEC_H
#define MOESIM_TESTS_FABRIC_SPEC_H

#include "testutil.h"

#include "topo/topo.h"

/* topology.kind = file, read from `path`. */
static inline void file_spec(struct cfg *c, const char *path)
{
    cfg_defaults(c);
    c->topo.kind = TOPO_FILE;
    snprintf(c->topo.file, sizeof c->topo.file, "%s", path);
    topo_spec_resolve(&c->topo);
}

/* A small fat-tree: pods x leaves_per_pod x aggs_per_pod, cores, hosts per
 * leaf. */
static inline void ft_spec(struct cfg *c, int64_t pods, int64_t lpp, int64_t app, int64_t cores,
                           int64_t hpl)
{
    cfg_defaults(c);
    c->topo.kind = TOPO_FAT_TREE;
    c->topo.pods = pods;
    c->topo.leaves_per_pod = lpp;
    c->topo.aggs_per_pod = app;
    c->topo.cores = cores;
    c->topo.hosts_per_leaf = hpl;
    topo_spec_resolve(&c->topo);
}

/* A rail fabric: groups x servers_per_group servers of G GPUs, S spines a
 * plane, P planes, cross-rail traffic by xr (TOPO_XR_PXN or _SPINE). */
static inline void rail_spec(struct cfg *c, int64_t groups, int64_t spg, int64_t G, int64_t S,
                             int64_t P, int xr)
{
    cfg_defaults(c);
    c->topo.kind = TOPO_RAIL;
    c->topo.groups = groups;
    c->topo.servers_per_group = spg;
    c->topo.gpus_per_host = G;
    c->topo.spines = S;
    c->topo.planes = P;
    c->topo.cross_rail = xr;
    topo_spec_resolve(&c->topo);
}

/* The small two-plane rail the plane tests share: 2 groups x 2 servers of 4
 * GPUs, 1 spine a plane, 2 planes, 100 Gb/s host links, 200 Gb/s fabric
 * links, 700 ns, cross-rail traffic by xr. */
static inline void planes2_spec(struct cfg *c, int xr)
{
    cfg_defaults(c);
    c->topo.kind = TOPO_RAIL;
    c->topo.groups = 2;
    c->topo.servers_per_group = 2;
    c->topo.gpus_per_host = 4;
    c->topo.spines = 1;
    c->topo.planes = 2;
    c->topo.cross_rail = xr;
    c->topo.host_gbps = 100;
    c->topo.fabric_gbps = 200;
    c->topo.link_latency_ns = 700;
    topo_spec_resolve(&c->topo);
}

#endif
