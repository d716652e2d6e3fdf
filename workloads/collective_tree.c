/* collective_tree.c - allreduce by a double binary tree (workload.algo =
 * tree), pipelined in workload.chunks chunks (docs/moe-steps.md).
 *
 * The trees. Tree A is the in-order binary tree over positions 1..N
 * (position v = host v-1): the root of an interval of positions is the one
 * whose lowest set bit is the largest (the whole range's: the largest power
 * of two <= N), its left subtree the interval below it, its right the
 * interval above. Odd positions (even hosts) are A's leaves. Tree B is A
 * with host h playing the role of host N-1-h (N even) or of host h-1 mod N
 * (N odd), so that a host inside one tree is a leaf of the other (but for
 * the wrap of odd N): each host forwards, in all, about one tree's worth.
 *
 * The schedule. Every host's buffer of S bytes: tree A reduces and
 * broadcasts the first ceil(S/2) bytes, B the rest, each half cut into P =
 * workload.chunks chunks (the first half mod P one byte larger). Per tree,
 * per chunk c, per host v that is not the root:
 *   tree_reduce  (v -> parent, chunk c): after v's children's tree_reduce of
 *                chunk c (v has reduced theirs into its own), and after v's
 *                own tree_reduce of chunk c-1 (one chunk at a time on an edge);
 *   tree_broadcast (parent -> v, chunk c): after the parent's own
 *                tree_broadcast of chunk c (or, when the parent is the root,
 *                after the root's children's tree_reduce of chunk c: the root
 *                has the sum), and after the edge's chunk c-1.
 * The two trees, the reduce and the broadcast, and consecutive chunks all
 * run at once where those dependencies allow, on one engine (one part per
 * iteration; iterations are separated by a barrier). The reduction's
 * compute is not modeled.
 *
 * Rows: `tree_reduce` and `tree_broadcast`, `layer` = the tree (0 = A,
 * 1 = B), the tasks table's `chunk` = c; in chunk order, then tree, then
 * (reduce) children before parents or (broadcast) parents before children.
 */
#include <stdlib.h>

#include "workloads/wl.h"

#define NO UINT32_MAX

struct tree {
    uint32_t N, P, iter, iterations;
    uint64_t bytes;
    /* per tree t, per host: its parent host (NO: the root) and children */
    uint32_t *parent[2], (*kids[2])[2];
    uint32_t root[2];
    uint32_t *post[2];  /* hosts, children before parents */
    uint64_t *red, *bc; /* task ids of the chunk being built, [t*N + host] */
    uint64_t *red_prev, *bc_prev;
};

/* The position in (lo, hi] whose lowest set bit is the largest; 0 when the
 * interval is empty. */
static uint32_t top_of(uint32_t lo, uint32_t hi)
{
    if (hi <= lo) return 0;
    uint32_t k = 1;
    while ((uint64_t)k * 2 <= hi)
        k *= 2;
    for (; k; k /= 2) {
        uint32_t x = (lo / k + 1) * k;
        if (x <= hi) return x;
    }
    return 0;
}

/* Builds tree A's subtree on positions (lo, hi] under `par` (a position, 0
 * none); returns its root's position. */
static uint32_t build(uint32_t lo, uint32_t hi, uint32_t par, uint32_t *parent, uint32_t (*kids)[2])
{
    uint32_t v = top_of(lo, hi);
    if (!v) return 0;
    parent[v - 1] = par ? par - 1 : NO;
    uint32_t l = build(lo, v - 1, v, parent, kids), r = build(v, hi, v, parent, kids);
    kids[v - 1][0] = l ? l - 1 : NO;
    kids[v - 1][1] = r ? r - 1 : NO;
    return v;
}

/* Host h's role in tree B: the tree-A host whose place it takes. */
static uint32_t role_b(uint32_t N, uint32_t h)
{
    return N % 2 == 0 ? N - 1 - h : (h + N - 1) % N;
}

static void post_order(uint32_t v, uint32_t (*kids)[2], uint32_t *out, uint32_t *n)
{
    for (int j = 0; j < 2; j++)
        if (kids[v][j] != NO) post_order(kids[v][j], kids, out, n);
    out[(*n)++] = v;
}

static void trees_build(struct tree *s)
{
    uint32_t N = s->N;
    uint32_t *pa = xmalloc(N * sizeof *pa), (*ka)[2] = xmalloc(N * sizeof *ka);
    uint32_t ra = build(0, N, 0, pa, ka) - 1;
    for (int t = 0; t < 2; t++) {
        s->parent[t] = xmalloc(N * sizeof *s->parent[t]);
        s->kids[t] = xmalloc(N * sizeof *s->kids[t]);
        s->post[t] = xmalloc(N * sizeof *s->post[t]);
    }
    /* B: host h in the place of host role_b(h), so A's host x is B's host
     * inv(x) */
    uint32_t *inv = xmalloc(N * sizeof *inv);
    for (uint32_t h = 0; h < N; h++)
        inv[role_b(N, h)] = h;
    for (uint32_t h = 0; h < N; h++) {
        s->parent[0][h] = pa[h];
        s->kids[0][h][0] = ka[h][0];
        s->kids[0][h][1] = ka[h][1];
        uint32_t x = role_b(N, h);
        s->parent[1][h] = pa[x] == NO ? NO : inv[pa[x]];
        for (int j = 0; j < 2; j++)
            s->kids[1][h][j] = ka[x][j] == NO ? NO : inv[ka[x][j]];
    }
    s->root[0] = ra;
    s->root[1] = inv[ra];
    for (int t = 0; t < 2; t++) {
        uint32_t n = 0;
        post_order(s->root[t], s->kids[t], s->post[t], &n);
    }
    free(inv);
    free(pa);
    free(ka);
}

/* Bytes of chunk c of tree t's half. */
static uint64_t tree_chunk_bytes(const struct tree *s, int t, uint32_t c)
{
    uint64_t half = t == 0 ? (s->bytes + 1) / 2 : s->bytes / 2;
    return half / s->P + (c < half % s->P);
}

/* One allreduce of s (trees built, id arrays allocated) over `hosts` (NULL:
 * hosts 0..N-1), rows named rname / bname. */
static void tree_add(struct tree *s, struct graph *g, const char *rname, const char *bname,
                     uint32_t iter, const uint32_t *hosts)
{
    uint32_t N = s->N;
#define HOST(i) (hosts ? hosts[i] : (i))
    for (uint32_t c = 0; c < s->P; c++) {
        for (int t = 0; t < 2; t++) {
            uint64_t b = tree_chunk_bytes(s, t, c);
            uint64_t *red = s->red + (size_t)t * N, *rp = s->red_prev + (size_t)t * N;
            for (uint32_t k = 0; k < N; k++) {
                uint32_t v = s->post[t][k], p = s->parent[t][v];
                if (p == NO) continue;
                struct topo_demand d = {HOST(v), HOST(p), b};
                uint64_t id = graph_net(g, rname, iter, (uint32_t)t, &d, 1);
                graph_tag(g, id, c, GRAPH_FORWARD);
                for (int j = 0; j < 2; j++)
                    if (s->kids[t][v][j] != NO) graph_dep(g, id, red[s->kids[t][v][j]]);
                if (c) graph_dep(g, id, rp[v]);
                red[v] = id;
            }
            uint64_t *bc = s->bc + (size_t)t * N, *bp = s->bc_prev + (size_t)t * N;
            for (uint32_t k = N; k-- > 0;) {
                uint32_t v = s->post[t][k], p = s->parent[t][v];
                if (p == NO) continue;
                struct topo_demand d = {HOST(p), HOST(v), b};
                uint64_t id = graph_net(g, bname, iter, (uint32_t)t, &d, 1);
                graph_tag(g, id, c, GRAPH_FORWARD);
                if (s->parent[t][p] != NO) {
                    graph_dep(g, id, bc[p]);
                } else {
                    for (int j = 0; j < 2; j++)
                        if (s->kids[t][p][j] != NO) graph_dep(g, id, red[s->kids[t][p][j]]);
                }
                if (c) graph_dep(g, id, bp[v]);
                bc[v] = id;
            }
        }
        uint64_t *x = s->red_prev;
        s->red_prev = s->red;
        s->red = x;
        x = s->bc_prev;
        s->bc_prev = s->bc;
        s->bc = x;
    }
#undef HOST
}

static int tree_next(void *state, struct graph *g)
{
    struct tree *s = state;
    if (s->iter >= s->iterations) return 0;
    tree_add(s, g, "tree_reduce", "tree_broadcast", s->iter++, NULL);
    graph_barrier(g);
    return 1;
}

static void tree_init(struct tree *s)
{
    trees_build(s);
    s->red = xcalloc(2 * (size_t)s->N, sizeof *s->red);
    s->bc = xcalloc(2 * (size_t)s->N, sizeof *s->bc);
    s->red_prev = xcalloc(2 * (size_t)s->N, sizeof *s->red_prev);
    s->bc_prev = xcalloc(2 * (size_t)s->N, sizeof *s->bc_prev);
}

static void tree_destroy(void *state)
{
    struct tree *s = state;
    for (int t = 0; t < 2; t++) {
        free(s->parent[t]);
        free(s->kids[t]);
        free(s->post[t]);
    }
    free(s->red);
    free(s->bc);
    free(s->red_prev);
    free(s->bc_prev);
    free(s);
}

int wl_tree_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g)
{
    struct tree *s = xcalloc(1, sizeof *s);
    s->N = t->hosts;
    s->P = (uint32_t)c->wl->chunks;
    s->iterations = (uint32_t)c->sim->iterations;
    s->bytes = (uint64_t)c->wl->bytes;
    tree_init(s);
    g->state = s;
    g->next = tree_next;
    g->destroy = tree_destroy;
    return 0;
}

void wl_tree_add(struct graph *g, const char *rname, const char *bname, uint32_t iter,
                 const uint32_t *hosts, uint32_t n, uint32_t chunks, uint64_t bytes)
{
    struct tree *s = xcalloc(1, sizeof *s);
    s->N = n;
    s->P = chunks ? chunks : 1;
    s->bytes = bytes;
    tree_init(s);
    tree_add(s, g, rname, bname, iter, hosts);
    tree_destroy(s);
}

void wl_tree_shape(uint32_t N, uint32_t *parent_a, uint32_t *parent_b)
{
    struct tree s = {.N = N};
    trees_build(&s);
    for (uint32_t h = 0; h < N; h++) {
        parent_a[h] = s.parent[0][h];
        parent_b[h] = s.parent[1][h];
    }
    for (int t = 0; t < 2; t++) {
        free(s.parent[t]);
        free(s.kids[t]);
        free(s.post[t]);
    }
}
