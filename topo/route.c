/* route.c - the routing table of any fabric (topo.h: struct topo_hop), built
 * once with igraph before the run; the packet engine forwards by it.
 *
 * The fabric ports between two switches are the edges of a digraph over the
 * switches. igraph_distances() gives every switch's hop distance to every
 * leaf; a switch's next hops toward leaf d are its ports to a switch one hop
 * closer to d (shortest paths; in a leaf-spine or a fat-tree these are the
 * up-down paths). A lone next hop is stored in its row; a group holds its ports sorted by port id
 * (so on a leaf-spine a leaf's group toward any other leaf is its uplinks in spine order: next hop
 * k is spine k, as topo_up).
 *
 * Path numbers: between two leaves there are P(la, d) shortest paths (the
 * product of the group sizes along them in a tree). A packet carries one
 * number p in [0, npaths) (its ECMP hash, or its spray draw) and the switch
 * takes next hop (p / div) % n: the number is read as a mixed-radix number,
 * one digit per switch with a choice, the first switch's digit lowest. A
 * leaf's div is 1; another switch's is the most paths from a leaf to d over
 * its own, P_max(d) / P(u, d) (in a fat-tree an aggregation switch's div is
 * the leaf's choices, aggs_per_pod). In the trees built here every path
 * number in [0, npaths) then names one path and every path the same number
 * of them, so a uniform p is a uniform path, and the acknowledgement, which
 * carries its data packet's p back, takes the same switches in reverse.
 *
 * Ports marked down ([faults], topo/faults.h) are no edges: the groups hold
 * the live next hops only. Then the groups of one tier may differ in size,
 * every path number still names a live path (p / div % n is a next hop of
 * every group), though no longer every path equally often: topo/faults.c
 * (renumber_paths) then sets the divisors and npaths so that a uniform
 * path number splits every group evenly, every tier of choices included.
 *
 * Planes (a rail with topology.planes > 1): disjoint copies of the fabric
 * in one table; a switch reaches only its own plane's leaves, npaths counts
 * one plane's paths times the planes, and the path number's highest digit
 * is the plane (topo.h: topo_plane), read at the host.
 */
#include <igraph.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"

uint32_t topo_route_ports(const struct topo *t, uint32_t a, uint32_t b, uint32_t p, uint32_t *ports)
{
    uint32_t n = 0;
    if (topo_same_server(t, a, b)) {
        ports[n++] = t->nvl_up[a];
        ports[n++] = t->nvl_down[b];
        return n;
    }
    if (topo_pxn(t, a, b)) return topo_rail_route_ports(t, a, b, p, ports); /* rail.c */
    uint32_t q = topo_nic_port(t, a, b, p);
    ports[n++] = q;
    while (t->ports[q].dst >= t->hosts && n < TOPO_ROUTE_MAX_PORTS) {
        q = topo_next_port(t, t->ports[q].dst - t->hosts, b, p);
        ports[n++] = q;
    }
    return n;
}

/* Adds the ports of group `n` ports at g to switch u's table, reusing u's
 * previous group when it is the same; returns its offset. */
static uint32_t add_group(struct topo *t, uint32_t *cap, const uint32_t *g, uint32_t n,
                          uint32_t *last_off, uint32_t *last_n)
{
    if (*last_n == n && !memcmp(&t->route_ports[*last_off], g, n * sizeof *g)) return *last_off;
    if (t->nroute_ports + n > *cap) {
        while (t->nroute_ports + n > *cap)
            *cap = *cap ? 2 * *cap : 1024;
        t->route_ports = xrealloc(t->route_ports, *cap * sizeof *t->route_ports);
    }
    uint32_t off = t->nroute_ports;
    memcpy(&t->route_ports[off], g, n * sizeof *g);
    t->nroute_ports += n;
    *last_off = off;
    *last_n = n;
    return off;
}

int topo_route_build(struct topo *t, struct err *e)
{
    uint32_t H = t->hosts, W = t->nswitches, L = t->leaves;
    /* the switch-to-switch ports, by source (CSR), in port order */
    uint32_t *deg = xcalloc((size_t)W + 1, sizeof *deg);
    uint32_t nf = 0;
    for (uint32_t q = 0; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->src >= H && p->src < H + W && p->dst >= H && p->dst < H + W && !p->down) {
            deg[p->src - H + 1]++;
            nf++;
        }
    }
    for (uint32_t u = 0; u < W; u++)
        deg[u + 1] += deg[u];
    uint32_t *adj = xmalloc(((size_t)nf + 1) * sizeof *adj),
             *fill = xmalloc((size_t)W * sizeof *fill);
    memcpy(fill, deg, (size_t)W * sizeof *fill);
    igraph_vector_int_t edges;
    igraph_vector_int_init(&edges, 0);
    for (uint32_t q = 0; q < t->nports; q++) {
        const struct topo_port *p = &t->ports[q];
        if (p->src >= H && p->src < H + W && p->dst >= H && p->dst < H + W && !p->down) {
            adj[fill[p->src - H]++] = q;
            igraph_vector_int_push_back(&edges, p->src - H);
            igraph_vector_int_push_back(&edges, p->dst - H);
        }
    }
    free(fill);
    /* the far switch of each, contiguous: the loops below read it per edge */
    uint32_t *far = xmalloc(((size_t)nf + 1) * sizeof *far);
    for (uint32_t j = 0; j < nf; j++)
        far[j] = t->ports[adj[j]].dst - H;
    igraph_t g;
    int rc = 0;
    if (igraph_create(&g, &edges, W, IGRAPH_DIRECTED) != IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&edges);
        free(deg);
        free(adj);
        free(far);
        return err_set(e, "topology: igraph could not build the fabric graph");
    }
    igraph_vector_int_destroy(&edges);
    /* dist[u][d]: hops from switch u to leaf d (leaves are rows [0, L)) */
    igraph_matrix_t dist;
    igraph_matrix_init(&dist, 0, 0);
    igraph_vs_t to;
    igraph_vs_range(&to, 0, L);
    if (igraph_distances(&g, &dist, igraph_vss_all(), to, IGRAPH_OUT) != IGRAPH_SUCCESS)
        rc = err_set(e, "topology: igraph distance search failed");
    igraph_vs_destroy(&to);
    igraph_destroy(&g);

    t->route = xcalloc((size_t)W * L, sizeof *t->route);
    t->route_ports = NULL;
    t->nroute_ports = 0;
    uint32_t cap = 0, maxd = 0;
    uint32_t *last_off = xcalloc(W, sizeof *last_off), *last_n = xcalloc(W, sizeof *last_n);
    uint32_t *grp = xmalloc(((size_t)nf + 1) * sizeof *grp);
    uint32_t *hops = xmalloc((size_t)W * sizeof *hops);
    double *np = xmalloc((size_t)W * sizeof *np);
    uint64_t npaths = 1;
    for (uint32_t d = 0; d < L && rc == 0; d++) {
        maxd = 0;
        for (uint32_t u = 0; u < W; u++) {
            double x = MATRIX(dist, u, d);
            hops[u] = x == IGRAPH_INFINITY ? UINT32_MAX : (uint32_t)x;
            if (hops[u] != UINT32_MAX && hops[u] > maxd) maxd = hops[u];
            /* planes (rail) are disjoint: a leaf reaches its own plane's */
            if (u < L && hops[u] == UINT32_MAX &&
                (t->planes <= 1 || u / t->plane_leaves == d / t->plane_leaves)) {
                rc = err_set(e, "topology: leaf l%u cannot reach leaf l%u", u, d);
                break;
            }
        }
        if (rc) break;
        /* paths to d, nearest switches first */
        for (uint32_t u = 0; u < W; u++)
            np[u] = u == d ? 1 : 0;
        double pmax = 1;
        for (uint32_t h = 1; h <= maxd; h++)
            for (uint32_t u = 0; u < W; u++) {
                if (hops[u] != h) continue;
                for (uint32_t j = deg[u]; j < deg[u + 1]; j++)
                    if (hops[far[j]] == h - 1) np[u] += np[far[j]];
                if (u < L && np[u] > pmax) pmax = np[u];
            }
        if (pmax > npaths) npaths = pmax > 65534 ? 65535 : (uint64_t)pmax;
        for (uint32_t u = 0; u < W; u++) {
            struct topo_hop *r = &t->route[(size_t)u * L + d];
            if (u == d || hops[u] == UINT32_MAX) continue; /* n = 0 */
            uint32_t n = 0;
            for (uint32_t j = deg[u]; j < deg[u + 1]; j++)
                if (hops[far[j]] == hops[u] - 1) grp[n++] = adj[j];
            if (n > 65535) {
                rc = err_set(e, "topology: a switch has %u next hops, more than 65535", n);
                break;
            }
            double div = u < L || np[u] <= 0 ? 1 : pmax / np[u];
            r->off = n == 1 ? grp[0] : add_group(t, &cap, grp, n, &last_off[u], &last_n[u]);
            r->n = (uint16_t)n;
            r->div = (uint16_t)(div < 1 ? 1 : div > 65535 ? 65535 : div);
        }
    }
    if (rc == 0 && npaths * (t->planes > 1 ? t->planes : 1) > 65534)
        rc = err_set(e, "topology: more than 65534 equal-cost paths between two leaves");
    topo_set_npaths(t, (uint32_t)npaths);
    igraph_matrix_destroy(&dist);
    free(last_off);
    free(last_n);
    free(grp);
    free(hops);
    free(np);
    free(deg);
    free(adj);
    free(far);
    return rc;
}

uint64_t topo_ftr_bytes(uint64_t pods, uint64_t leaves_per_pod, uint64_t aggs_per_pod,
                        uint64_t cores)
{
    uint64_t L = pods * leaves_per_pod, PA = pods * aggs_per_pod;
    return sizeof(struct topo_ftr) + (L + PA) * sizeof(uint32_t) +
           (L + PA + PA * leaves_per_pod + cores * pods) * sizeof(struct topo_hop);
}

/* Whether rows a and b lead to the same next hops in the same order (the
 * same group, or an equal copy of it). */
static int same_row(const struct topo *t, const struct topo_hop *a, const struct topo_hop *b)
{
    if (a->n != b->n) return 0;
    if (a->n == 0) return 1;
    if (a->div != b->div) return 0;
    if (a->off == b->off) return 1;
    return a->n > 1 &&
           !memcmp(&t->route_ports[a->off], &t->route_ports[b->off], a->n * sizeof(uint32_t));
}

/* A fat-tree's rows by tier (topo.h: struct topo_ftr), taken from the table
 * itself and kept only if every row of the table is its factored one: the
 * engine then forwards by the same ports, reading 136 KB instead of 5.2 MB
 * at 8192 hosts. Faults that leave a row different from its tier's (a
 * group without a down link) leave t->ftr NULL: the rows as before. */
void topo_ftr_free(struct topo *t)
{
    if (!t->ftr) return;
    free(t->ftr->pod);
    free(t->ftr->hop);
    free(t->ftr);
    t->ftr = NULL;
}

void topo_route_factor(struct topo *t)
{
    topo_ftr_free(t);
    if (t->kind != TOPO_FAT_TREE || t->planes > 1 || !t->route || t->leaves < 2) return;
    uint32_t L = t->leaves, P = t->pods, Lp = t->leaves_per_pod, A = t->aggs_per_pod;
    uint32_t PA = P * A, C = t->cores, W = L + PA + C;
    if (W != t->nswitches || P * Lp != L) return;
    struct topo_ftr *f = xcalloc(1, sizeof *f);
    f->route = t->route;
    f->leaves = L;
    f->core0 = L + PA;
    f->pods = P;
    f->leaves_per_pod = Lp;
    f->down0 = L + PA;
    f->core_hop0 = L + PA + PA * Lp;
    f->pod = xmalloc(((size_t)L + PA) * sizeof *f->pod);
    f->hop = xcalloc((size_t)f->core_hop0 + (size_t)C * P, sizeof *f->hop);
    for (uint32_t u = 0; u < L; u++)
        f->pod[u] = u / Lp;
    for (uint32_t a = 0; a < PA; a++)
        f->pod[L + a] = a / A;
    for (uint32_t u = 0; u < L; u++)
        f->hop[u] = *topo_hop_at(t, u, u ? 0 : 1);
    for (uint32_t a = 0; a < PA; a++) {
        uint32_t sw = L + a, pa = a / A;
        if (P > 1) f->hop[sw] = *topo_hop_at(t, sw, ((pa + 1) % P) * Lp);
        for (uint32_t i = 0; i < Lp; i++)
            f->hop[f->down0 + (size_t)a * Lp + i] = *topo_hop_at(t, sw, pa * Lp + i);
    }
    for (uint32_t c = 0; c < C; c++)
        for (uint32_t q = 0; q < P; q++)
            f->hop[f->core_hop0 + (size_t)c * P + q] = *topo_hop_at(t, f->core0 + c, q * Lp);
    for (uint32_t sw = 0; sw < W; sw++)
        for (uint32_t d = 0; d < L; d++)
            if (sw != d && !same_row(t, topo_hop_at(t, sw, d), topo_ftr_hop(f, sw, d))) {
                free(f->pod);
                free(f->hop);
                free(f);
                return;
            }
    t->ftr = f;
}
