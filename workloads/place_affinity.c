/* place_affinity.c - ExFlow-style affinity placement: keep a token's
 * consecutive-layer hops on one GPU.
 *
 * The expert transition graph has a node per (layer, expert) and an edge from
 * (l-1, a) to (l, b) weighted by the tokens routed from a to b (the profile's
 * pair mass). A placement keeps the weight of the edges whose two ends share a
 * GPU; the policy maximises it subject to every GPU holding the same number of
 * experts in every layer (a balanced k-way partition of the layered graph).
 *
 * 1. Seeds. (a) Community seed: Louvain communities of the weighted graph
 *    (igraph_community_multilevel, a private igraph rng seeded from the
 *    placement seed); communities, heaviest first, each take the GPU with the most room
 *    for them and put as many of their nodes there as fit; what does not fit
 *    goes, strongest affinity first, to the GPU with room holding most of its
 *    weight. (b) Chain seed: layer 0 by load (balanced packing), then each
 *    layer by an exact assignment (Hungarian method) against the layer before.
 * 2. Kernighan-Lin style refinement: with its neighbour layers fixed, a layer's
 *    gain table A[b][g] (weight between expert b and the experts of layers l-1
 *    and l+1 on GPU g) does not depend on the layer's own assignment, so swaps
 *    of two experts on different GPUs are taken while gain
 *    A[b][h] + A[c][g] - A[b][g] - A[c][h] is positive; passes sweep the
 *    layers until none improves.
 * The better refined seed is kept. Load balance is left to `refine`.
 */
#include <stdlib.h>
#include <string.h>

#include <igraph.h>

#include "workloads/place_internal.h"

struct aff {
    const struct pl_profile *pr;
    int L, E, G, m;
    int *gpu; /* [L][E] */
    double *A;
};

static double kept(const struct aff *s)
{
    double k = 0;
    for (int l = 1; l < s->L; l++)
        for (int a = 0; a < s->E; a++) {
            const double *p = pl_pair_at(s->pr, l, a);
            for (int b = 0; b < s->E; b++)
                if (s->gpu[(size_t)(l - 1) * s->E + a] == s->gpu[(size_t)l * s->E + b]) k += p[b];
        }
    return k;
}

/* Gain table of layer l against its neighbours. */
static void gains(struct aff *s, int l)
{
    int E = s->E, G = s->G;
    memset(s->A, 0, sizeof(double) * (size_t)E * G);
    for (int b = 0; b < E; b++) {
        double *Ab = s->A + (size_t)b * G;
        if (l > 0)
            for (int a = 0; a < E; a++)
                Ab[s->gpu[(size_t)(l - 1) * E + a]] += pl_pair_at(s->pr, l, a)[b];
        if (l + 1 < s->L)
            for (int c = 0; c < E; c++)
                Ab[s->gpu[(size_t)(l + 1) * E + c]] += pl_pair_at(s->pr, l + 1, b)[c];
    }
}

static void kl_refine(struct aff *s)
{
    int E = s->E, G = s->G;
    for (int pass = 0; pass < 100; pass++) {
        int any = 0;
        for (int l = 0; l < s->L; l++) {
            gains(s, l);
            int *gp = s->gpu + (size_t)l * E;
            int improved = 1;
            while (improved) {
                improved = 0;
                double best = 1e-9;
                int bb = -1, bc = -1;
                for (int b = 0; b < E; b++)
                    for (int c = b + 1; c < E; c++) {
                        int g = gp[b], h = gp[c];
                        if (g == h) continue;
                        const double *Ab = s->A + (size_t)b * G, *Ac = s->A + (size_t)c * G;
                        double d = Ab[h] + Ac[g] - Ab[g] - Ac[h];
                        if (d > best) {
                            best = d;
                            bb = b;
                            bc = c;
                        }
                    }
                if (bb >= 0) {
                    int t = gp[bb];
                    gp[bb] = gp[bc];
                    gp[bc] = t;
                    improved = any = 1;
                }
            }
        }
        if (!any) break;
    }
}

/* Places the still unplaced experts (gpu -1) of layer l, strongest affinity to
 * the placed neighbours first; cap[g] is GPU g's remaining room. */
static void fill_layer(struct aff *s, int l, int *cap)
{
    int E = s->E, G = s->G;
    int *gp = s->gpu + (size_t)l * E;
    /* As gains(), skipping neighbours not yet placed. */
    memset(s->A, 0, sizeof(double) * (size_t)E * G);
    for (int b = 0; b < E; b++)
        for (int a = 0; a < E; a++) {
            if (l > 0 && s->gpu[(size_t)(l - 1) * E + a] >= 0)
                s->A[(size_t)b * G + s->gpu[(size_t)(l - 1) * E + a]] += pl_pair_at(s->pr, l, a)[b];
            if (l + 1 < s->L && s->gpu[(size_t)(l + 1) * E + a] >= 0)
                s->A[(size_t)b * G + s->gpu[(size_t)(l + 1) * E + a]] +=
                    pl_pair_at(s->pr, l + 1, b)[a];
        }
    for (;;) {
        int bb = -1, bg = -1;
        double best = -1;
        for (int b = 0; b < E; b++) {
            if (gp[b] >= 0) continue;
            for (int g = 0; g < G; g++) {
                if (cap[g] == 0) continue;
                double v = s->A[(size_t)b * G + g] + 1e-12 * s->pr->load[(size_t)l * E + b];
                if (v > best) {
                    best = v;
                    bb = b;
                    bg = g;
                }
            }
        }
        if (bb < 0) break;
        gp[bb] = bg;
        cap[bg]--;
    }
}

/* Layer 0 by load; then each layer optimally against the one before: an
 * assignment of its experts to the E GPU slots maximising the weight from the
 * previous layer's experts on the same GPU. With one expert per GPU the kept
 * weight splits into independent layer pairs, so this seed is optimal there. */
static void seed_chain(struct aff *s)
{
    int E = s->E, G = s->G, m = s->m;
    double *cost = xmalloc(sizeof(double) * (size_t)E * E);
    int *col = xmalloc(sizeof(int) * (size_t)E);
    pl_balanced_pack(E, s->pr->load, NULL, G, m, s->gpu);
    for (int l = 1; l < s->L; l++) {
        for (int b = 0; b < E; b++)
            for (int c = 0; c < E; c++)
                cost[(size_t)b * E + c] = 0;
        for (int a = 0; a < E; a++) {
            int g = s->gpu[(size_t)(l - 1) * E + a];
            const double *pa = pl_pair_at(s->pr, l, a);
            for (int b = 0; b < E; b++)
                for (int j = 0; j < m; j++)
                    cost[(size_t)b * E + g * m + j] -= pa[b];
        }
        pl_assign_min(E, cost, col);
        for (int b = 0; b < E; b++)
            s->gpu[(size_t)l * E + b] = col[b] / m;
    }
    free(cost);
    free(col);
}

/* Louvain communities, then community -> GPU with room. 0, or -1 when igraph
 * fails (the caller falls back on the chain seed alone). */
static int seed_communities(struct aff *s, gsl_rng *r)
{
    int L = s->L, E = s->E, G = s->G, n = L * E;
    igraph_vector_int_t edges;
    igraph_vector_t w;
    igraph_vector_int_init(&edges, 0);
    igraph_vector_init(&w, 0);
    for (int l = 1; l < L; l++)
        for (int a = 0; a < E; a++)
            for (int b = 0; b < E; b++) {
                double x = pl_pair_at(s->pr, l, a)[b];
                if (x <= 0) continue;
                igraph_vector_int_push_back(&edges, (l - 1) * E + a);
                igraph_vector_int_push_back(&edges, l * E + b);
                igraph_vector_push_back(&w, x);
            }
    igraph_t g;
    igraph_vector_int_t memb;
    igraph_vector_int_init(&memb, 0);
    int rc = -1;
    if (igraph_create(&g, &edges, n, IGRAPH_UNDIRECTED) == IGRAPH_SUCCESS) {
        /* A private igraph rng, so neither the seed nor the draws leak into
         * other igraph users. */
        igraph_rng_t rng, *old = igraph_rng_default();
        if (igraph_rng_init(&rng, &igraph_rngtype_mt19937) == IGRAPH_SUCCESS) {
            igraph_rng_seed(&rng, (igraph_uint_t)gsl_rng_get(r));
            igraph_rng_set_default(&rng);
            if (igraph_vector_size(&w) > 0 &&
                igraph_community_multilevel(&g, &w, 1.0, &memb, NULL, NULL) == IGRAPH_SUCCESS)
                rc = 0;
            igraph_rng_set_default(old);
            igraph_rng_destroy(&rng);
        }
        igraph_destroy(&g);
    }
    if (rc == 0) {
        int nc = 0;
        for (int i = 0; i < n; i++)
            if (VECTOR(memb)[i] + 1 > nc) nc = (int)VECTOR(memb)[i] + 1;
        double *cw = xcalloc((size_t)nc, sizeof(double));
        for (int l = 1; l < L; l++)
            for (int a = 0; a < E; a++)
                for (int b = 0; b < E; b++)
                    if (VECTOR(memb)[(l - 1) * E + a] == VECTOR(memb)[l * E + b])
                        cw[VECTOR(memb)[l * E + b]] += pl_pair_at(s->pr, l, a)[b];
        int *cap = xmalloc(sizeof(int) * (size_t)L * G);
        for (int i = 0; i < L * G; i++)
            cap[i] = s->m;
        for (int i = 0; i < n; i++)
            s->gpu[i] = -1;
        int *done = xcalloc((size_t)nc, sizeof(int));
        for (int k = 0; k < nc; k++) {
            int c = -1;
            for (int j = 0; j < nc; j++)
                if (!done[j] && (c < 0 || cw[j] > cw[c])) c = j;
            done[c] = 1;
            int bestg = 0, bestfit = -1;
            for (int gg = 0; gg < G; gg++) {
                int fit = 0;
                for (int l = 0; l < L; l++) {
                    int cnt = 0;
                    for (int e = 0; e < E; e++)
                        cnt += VECTOR(memb)[l * E + e] == c;
                    fit += cnt < cap[l * G + gg] ? cnt : cap[l * G + gg];
                }
                if (fit > bestfit) {
                    bestfit = fit;
                    bestg = gg;
                }
            }
            for (int l = 0; l < L; l++)
                for (int e = 0; e < E; e++)
                    if (VECTOR(memb)[l * E + e] == c && cap[l * G + bestg] > 0) {
                        s->gpu[l * E + e] = bestg;
                        cap[l * G + bestg]--;
                    }
        }
        for (int l = 0; l < L; l++)
            fill_layer(s, l, cap + (size_t)l * G);
        free(cw);
        free(cap);
        free(done);
    }
    igraph_vector_int_destroy(&memb);
    igraph_vector_int_destroy(&edges);
    igraph_vector_destroy(&w);
    return rc;
}

static void to_slots(const struct aff *s, const int *gpu, struct pl_placement *pl)
{
    int *fill = xmalloc(sizeof(int) * (size_t)s->G);
    for (int l = 0; l < s->L; l++) {
        memset(fill, 0, sizeof(int) * (size_t)s->G);
        for (int e = 0; e < s->E; e++) {
            int g = gpu[(size_t)l * s->E + e];
            pl->slot_expert[(size_t)l * pl->slots + g * s->m + fill[g]++] = e;
        }
    }
    free(fill);
}

int pl_policy_affinity(struct pl_placement *pl, const struct pl_profile *pr, gsl_rng *r)
{
    struct aff s = {
        .pr = pr, .L = pl->layers, .E = pl->experts, .G = pl->gpus, .m = pl->slots_per_gpu};
    size_t n = (size_t)s.L * s.E;
    s.A = xmalloc(sizeof(double) * (size_t)s.E * s.G);
    s.gpu = xmalloc(sizeof(int) * n);
    seed_chain(&s);
    kl_refine(&s);
    double best = kept(&s);
    int *keep = xmalloc(sizeof(int) * n);
    memcpy(keep, s.gpu, sizeof(int) * n);
    if (seed_communities(&s, r) == 0) {
        kl_refine(&s);
        if (kept(&s) > best) memcpy(keep, s.gpu, sizeof(int) * n);
    }
    to_slots(&s, keep, pl);
    free(keep);
    free(s.gpu);
    free(s.A);
    return 0;
}
