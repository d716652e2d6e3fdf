/* fabric_htsim.c - htsim's .topo files (topology.kind = file, topology.file =
 * X.topo): a tiered fat-tree as counts, speeds and latencies per tier.
 *
 * The format, as moesim reads it: one "Key value" per line, keys in any
 * case, '#' lines are comments. A header (Nodes: hosts; Tiers: 2 or 3;
 * Podsize: hosts per pod), then one block per tier opened by "Tier T" (0: the
 * leaves, 1: aggregation or spine switches, 2: cores) with
 * Downlink_speed_Gbps and Downlink_Latency_ns (the links below the tier: for
 * tier 0 the host links), Radix_Down and Radix_Up (links below and above a
 * switch of the tier; the top tier has none above), and optional
 * Switch_Latency_ns (0), Oversubscribed (1: down bandwidth over up
 * bandwidth, which must be what the radixes and speeds give) and Bundle
 * (1: in tier t >= 1, the parallel links from a tier-t switch to each
 * switch below it; the radixes count links).
 *
 * What it becomes: 2 tiers, one pod: a leaf_spine of Nodes/Radix_Down(0)
 * leaves and Radix_Up(0) spines, each spine with a link to every leaf
 * (Radix_Down(1) = leaves). 3 tiers: a fat_tree of Nodes/Podsize pods of
 * Podsize/Radix_Down(0) leaves and Radix_Up(0) aggregation switches
 * (Radix_Down(1) = leaves per pod), and Radix_Up(0)*Radix_Up(1) cores, one
 * link per pod each (Radix_Down(2) = pods). A switch's latency is charged
 * on every port out of it (topo_spec_port_lat_ps), so a route's delay is
 * its links' and switches' latencies, as in htsim. With a Bundle above 1
 * the fabric is a graph (ht_graph, topo_htsim_graph): every link of a
 * bundle its own port each way, so its own next hop in the ECMP groups and
 * the bundle's capacity their sum, as htsim builds it (each link its own
 * queue and route); the spec keeps the file's counts. Queue sizes are
 * refused: moesim's buffer is one switch.buffer_bytes for every port.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "topo/fabric_file.h"

enum {
    K_NODES,
    K_TIERS,
    K_PODSIZE,
    K_TIER,
    K_SPEED,
    K_RDOWN,
    K_RUP,
    K_LAT,
    K_SWLAT,
    K_OS,
    K_BUNDLE,
    K_QUP,
    K_QDOWN,
    K_COUNT
};
static const char *const ht_keys[K_COUNT] = {"Nodes",
                                             "Tiers",
                                             "Podsize",
                                             "Tier",
                                             "Downlink_speed_Gbps",
                                             "Radix_Down",
                                             "Radix_Up",
                                             "Downlink_Latency_ns",
                                             "Switch_Latency_ns",
                                             "Oversubscribed",
                                             "Bundle",
                                             "Queue_Up",
                                             "Queue_Down"};

struct ht_tier {
    double v[K_COUNT]; /* by key */
    int line[K_COUNT]; /* 0: not set */
};

struct ht {
    const char *path;
    double head[3];
    int head_line[3];
    struct ht_tier tier[3];
    int seen[3];
};

static int ht_key(const char *w)
{
    for (int k = 0; k < K_COUNT; k++)
        if (!strcasecmp(w, ht_keys[k])) return k;
    return -1;
}

/* A number: integer keys take digits only; speeds and latencies a decimal. */
static int ht_number(const char *w, int integer, double *out)
{
    if (!*w) return -1;
    for (const char *p = w; *p; p++)
        if (!isdigit((unsigned char)*p) && (integer || *p != '.')) return -1;
    char *end;
    errno = 0;
    double v = strtod(w, &end);
    if (*end || errno || !isfinite(v) || v > 1e12) return -1;
    *out = v;
    return 0;
}

static int ht_line(struct ht *h, char *line, int ln, int *cur, struct err *e)
{
    char *save = NULL, *w[3];
    int n = 0;
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
        if (n < 3)
            w[n++] = tok;
        else
            n++;
    if (n == 0 || w[0][0] == '#') return 0;
    int k = ht_key(w[0]);
    if (k < 0)
        return err_set(e,
                       "%s:%d: %.60s: unknown key (the header has Nodes, Tiers, Podsize; a Tier "
                       "has Downlink_speed_Gbps, Downlink_Latency_ns, Radix_Down, Radix_Up, "
                       "Switch_Latency_ns, Oversubscribed, Bundle)",
                       h->path, ln, w[0]);
    if (n != 2)
        return err_set(e, "%s:%d: %s: expected one value, got %d", h->path, ln, ht_keys[k], n - 1);
    int integer = k != K_SPEED && k != K_LAT && k != K_SWLAT;
    double v;
    if (ht_number(w[1], integer, &v) < 0)
        return err_set(e, "%s:%d: %s: expected a %s, got '%.60s'", h->path, ln, ht_keys[k],
                       integer ? "non-negative integer" : "non-negative number", w[1]);
    if (k == K_QUP || k == K_QDOWN)
        return err_set(e,
                       "%s:%d: %s: queue sizes are not read from a .topo file (moesim's "
                       "buffer is one size for every switch port: set switch.buffer_bytes)",
                       h->path, ln, ht_keys[k]);
    if (k <= K_PODSIZE) {
        if (*cur >= 0)
            return err_set(e, "%s:%d: %s: a header key inside Tier %d", h->path, ln, ht_keys[k],
                           *cur);
        if (h->head_line[k])
            return err_set(e, "%s:%d: %s: set twice (first on line %d)", h->path, ln, ht_keys[k],
                           h->head_line[k]);
        h->head[k] = v;
        h->head_line[k] = ln;
        return 0;
    }
    if (k == K_TIER) {
        if (v > 2) return err_set(e, "%s:%d: Tier: %.0f is not a tier (0, 1 or 2)", h->path, ln, v);
        *cur = (int)v;
        if (h->seen[*cur])
            return err_set(e, "%s:%d: Tier: tier %d twice (first on line %d)", h->path, ln, *cur,
                           h->seen[*cur]);
        h->seen[*cur] = ln;
        return 0;
    }
    if (*cur < 0)
        return err_set(e, "%s:%d: %s: before the first Tier line", h->path, ln, ht_keys[k]);
    struct ht_tier *t = &h->tier[*cur];
    if (t->line[k])
        return err_set(e, "%s:%d: %s: set twice in Tier %d (first on line %d)", h->path, ln,
                       ht_keys[k], *cur, t->line[k]);
    t->v[k] = v;
    t->line[k] = ln;
    return 0;
}

/* The value of key k of tier t, or def when unset. */
static double tv(const struct ht *h, int t, int k, double def)
{
    return h->tier[t].line[k] ? h->tier[t].v[k] : def;
}

static int ht_derive(const struct ht *h, struct topo_spec *s, struct err *e)
{
    const char *f = h->path;
    for (int k = 0; k < 3; k++)
        if (!h->head_line[k]) return err_set(e, "%s: %s: missing from the header", f, ht_keys[k]);
    int T = (int)h->head[K_TIERS];
    if (T < 2 || T > 3)
        return err_set(e, "%s:%d: Tiers: %d, this reader takes 2 (leaf-spine) or 3 (fat-tree)", f,
                       h->head_line[K_TIERS], T);
    double N = h->head[K_NODES], Pz = h->head[K_PODSIZE];
    if (N < 2 || N > TOPO_MAX_HOSTS)
        return err_set(e, "%s:%d: Nodes: %.0f, expected 2 to %u hosts", f, h->head_line[K_NODES], N,
                       TOPO_MAX_HOSTS);
    for (int t = 0; t < 3; t++) {
        if (t >= T && h->seen[t])
            return err_set(e, "%s:%d: Tier: tier %d in a file of %d tiers", f, h->seen[t], t, T);
        if (t >= T) continue;
        if (!h->seen[t]) return err_set(e, "%s: Tier %d: missing", f, t);
        static const int need[] = {K_SPEED, K_RDOWN, K_LAT};
        for (int i = 0; i < 3; i++)
            if (!h->tier[t].line[need[i]])
                return err_set(e, "%s: Tier %d: %s: missing", f, t, ht_keys[need[i]]);
        if (t < T - 1 && !h->tier[t].line[K_RUP])
            return err_set(e, "%s: Tier %d: Radix_Up: missing", f, t);
        if (t == T - 1 && h->tier[t].line[K_RUP])
            return err_set(e, "%s:%d: Radix_Up: the top tier (%d) has no uplinks", f,
                           h->tier[t].line[K_RUP], t);
        if (!(h->tier[t].v[K_SPEED] > 0))
            return err_set(e, "%s:%d: Downlink_speed_Gbps: 0, a link needs a positive speed", f,
                           h->tier[t].line[K_SPEED]);
        int pos[] = {K_RDOWN, K_RUP, K_OS, K_BUNDLE};
        for (int i = 0; i < 4; i++)
            if (h->tier[t].line[pos[i]] && h->tier[t].v[pos[i]] < 1)
                return err_set(e, "%s:%d: %s: 0, expected at least 1", f, h->tier[t].line[pos[i]],
                               ht_keys[pos[i]]);
    }
    if (tv(h, 0, K_BUNDLE, 1) != 1)
        return err_set(e,
                       "%s:%d: Bundle: Tier 0's %.0f would give a host parallel links (a host has "
                       "one link, to its leaf: use 1)",
                       f, h->tier[0].line[K_BUNDLE], tv(h, 0, K_BUNDLE, 1));
    /* Bundle(t): parallel links from a tier-t switch to each switch below */
    for (int t = 1; t < T; t++) {
        double b = tv(h, t, K_BUNDLE, 1), ru = h->tier[t - 1].v[K_RUP], rd = h->tier[t].v[K_RDOWN];
        if (fmod(ru, b) != 0)
            return err_set(
                e, "%s:%d: Radix_Up: Tier %d's %.0f is not a multiple of Tier %d's Bundle (%.0f)",
                f, h->tier[t - 1].line[K_RUP], t - 1, ru, t, b);
        if (fmod(rd, b) != 0)
            return err_set(
                e, "%s:%d: Radix_Down: Tier %d's %.0f is not a multiple of its Bundle (%.0f)", f,
                h->tier[t].line[K_RDOWN], t, rd, b);
    }
    double b1 = tv(h, 1, K_BUNDLE, 1), b2 = T > 2 ? tv(h, 2, K_BUNDLE, 1) : 1;
    int bundled = b1 > 1 || b2 > 1;
    double rd0 = h->tier[0].v[K_RDOWN], ru0 = h->tier[0].v[K_RUP];
    if (fmod(N, Pz) != 0 || Pz < 1)
        return err_set(e, "%s:%d: Podsize: %.0f does not divide Nodes (%.0f)", f,
                       h->head_line[K_PODSIZE], Pz, N);
    if (fmod(Pz, rd0) != 0)
        return err_set(e, "%s:%d: Radix_Down: Tier 0's %.0f does not divide Podsize (%.0f)", f,
                       h->tier[0].line[K_RDOWN], rd0, Pz);
    /* oversubscription: a switch's down bandwidth over its up bandwidth */
    for (int t = 0; t < T - 1; t++) {
        double down = tv(h, t, K_RDOWN, 0) * h->tier[t].v[K_SPEED],
               up = tv(h, t, K_RUP, 0) * h->tier[t + 1].v[K_SPEED], os = tv(h, t, K_OS, 1);
        if (fabs(down - os * up) > 1e-9 * down)
            return err_set(e,
                           "%s: Tier %d: Oversubscribed %g, but Radix_Down x speed / Radix_Up x "
                           "speed above = %g x %g / (%g x %g) = %g",
                           f, t, os, tv(h, t, K_RDOWN, 0), h->tier[t].v[K_SPEED],
                           tv(h, t, K_RUP, 0), h->tier[t + 1].v[K_SPEED], down / up);
    }
    double pods = N / Pz, lpp = Pz / rd0, rd1 = h->tier[1].v[K_RDOWN] / b1;
    struct topo_file_info *in = &s->info;
    for (int t = 0; t < 3; t++) {
        in->link_ps[t] = t < T ? llround(h->tier[t].v[K_LAT] * 1e3) : 0;
        in->switch_ps[t] = t < T ? llround(tv(h, t, K_SWLAT, 0) * 1e3) : 0;
    }
    s->hosts_per_leaf = (int64_t)rd0;
    s->host_gbps = h->tier[0].v[K_SPEED];
    s->fabric_gbps = h->tier[1].v[K_SPEED];
    s->link_latency_ns = (int64_t)h->tier[0].v[K_LAT];
    if (T == 2) {
        if (pods != 1)
            return err_set(
                e, "%s:%d: Podsize: %.0f, a 2-tier file has one pod (Podsize = Nodes, %.0f)", f,
                h->head_line[K_PODSIZE], Pz, N);
        if (rd1 != lpp)
            return err_set(e,
                           "%s:%d: Radix_Down: Tier 1's %.0f%s is not the %.0f leaves (Nodes / "
                           "Tier 0's Radix_Down): each spine links to every leaf",
                           f, h->tier[1].line[K_RDOWN], rd1 * b1, b1 > 1 ? " / Bundle" : "", lpp);
        s->leaves = (int64_t)lpp;
        s->spines = (int64_t)ru0; /* a leaf's uplinks */
        if (ru0 / b1 > 1024 || s->leaves > 4096)
            return err_set(
                e, "%s: %.0f leaves and %.0f spines, more than leaf_spine takes (4096, 1024)", f,
                lpp, ru0 / b1);
        in->shape = bundled ? TOPO_FILE : TOPO_LEAF_SPINE;
        return 0;
    }
    double ru1 = h->tier[1].v[K_RUP], rd2 = h->tier[2].v[K_RDOWN] / b2;
    if (rd1 != lpp)
        return err_set(
            e,
            "%s:%d: Radix_Down: Tier 1's %.0f%s is not the %.0f leaves of a pod (Podsize "
            "/ Tier 0's Radix_Down): an aggregation switch links to every leaf of its pod",
            f, h->tier[1].line[K_RDOWN], rd1 * b1, b1 > 1 ? " / Bundle" : "", lpp);
    if (rd2 != pods)
        return err_set(e,
                       "%s:%d: Radix_Down: Tier 2's %.0f%s is not the %.0f pods (Nodes / Podsize): "
                       "a core links to every pod once",
                       f, h->tier[2].line[K_RDOWN], rd2 * b2, b2 > 1 ? " / Bundle" : "", pods);
    s->pods = (int64_t)pods;
    s->leaves_per_pod = (int64_t)lpp;
    s->aggs_per_pod = (int64_t)(ru0 / b1);
    s->cores = (int64_t)(ru0 / b1 * (ru1 / b2));
    s->core_gbps = h->tier[2].v[K_SPEED];
    s->leaves = s->pods * s->leaves_per_pod;
    s->spines = (int64_t)ru0; /* a leaf's uplinks: aggs_per_pod x Bundle */
    if (pods > 4096 || lpp > 4096 || ru0 > 4096 || (double)s->cores > 65536)
        return err_set(e,
                       "%s: %.0f pods of %.0f leaves and %.0f aggregation switches, %.0f cores: "
                       "more than fat_tree takes (4096, 4096, 4096, 65536)",
                       f, pods, lpp, ru0 / b1, (double)s->cores);
    in->shape = bundled ? TOPO_FILE : TOPO_FAT_TREE;
    return 0;
}

/* A bundled file's fabric as a graph (topo_gml, built by topo_gml_build):
 * hosts h0.., leaves l0.., then the spines s0.. (2 tiers) or the
 * aggregation switches a0.. and cores c0.. (3 tiers), numbered as the
 * fat_tree kind numbers them; each link of a bundle its own link. The
 * latency of a port is its tier's link latency plus that of the switch it
 * leaves. */
static void ht_graph(const struct ht *h, const struct topo_spec *s, struct topo_gml *g)
{
    int T = (int)h->head[K_TIERS];
    uint32_t H = (uint32_t)(s->leaves * s->hosts_per_leaf), L = (uint32_t)s->leaves,
             hpl = (uint32_t)s->hosts_per_leaf;
    uint32_t P = T == 3 ? (uint32_t)s->pods : 1, Lp = L / P;
    uint32_t A =
        T == 3 ? (uint32_t)s->aggs_per_pod : (uint32_t)(s->spines / (int64_t)tv(h, 1, K_BUNDLE, 1));
    uint32_t C = T == 3 ? (uint32_t)s->cores : 0, b1 = (uint32_t)tv(h, 1, K_BUNDLE, 1),
             b2 = T == 3 ? (uint32_t)tv(h, 2, K_BUNDLE, 1) : 1;
    uint32_t W = L + P * A + C, cpa = T == 3 ? C / A : 0; /* cores per aggregation position */
    const struct topo_file_info *in = &s->info;
    memset(g, 0, sizeof *g);
    g->hosts = H;
    g->leaves = L;
    g->switches = W;
    g->hosts_per_leaf = hpl;
    g->names = xcalloc((size_t)H + W, sizeof *g->names);
    g->host_leaf = xmalloc((size_t)H * sizeof *g->host_leaf);
    g->leaf_first = xmalloc(((size_t)L + 1) * sizeof *g->leaf_first);
    g->tier = xmalloc((size_t)W * sizeof *g->tier);
    uint64_t nf = (uint64_t)L * A * b1 + (uint64_t)P * A * cpa * b2;
    g->nlinks = (uint32_t)(H + nf);
    g->fabric_ports = (uint32_t)(2 * nf);
    g->links = xmalloc((size_t)g->nlinks * sizeof *g->links);
    for (uint32_t l = 0; l <= L; l++)
        g->leaf_first[l] = l * hpl;
    for (uint32_t u = 0; u < W; u++) {
        g->tier[u] = u < L ? 0 : u < L + P * A ? 1 : 2;
        if (u < L)
            snprintf(g->names[H + u], TOPO_NAME_MAX, "l%u", u);
        else if (u < L + P * A)
            snprintf(g->names[H + u], TOPO_NAME_MAX, T == 3 ? "a%u" : "s%u", u - L);
        else
            snprintf(g->names[H + u], TOPO_NAME_MAX, "c%u", u - L - P * A);
    }
    simtime_t lk[3], sw[3];
    uint64_t bps[3];
    for (int t = 0; t < 3; t++) {
        lk[t] = (simtime_t)in->link_ps[t];
        sw[t] = (simtime_t)in->switch_ps[t];
        bps[t] = t < T ? gbps_to_bps(h->tier[t].v[K_SPEED]) : 0;
    }
    for (uint32_t x = 0; x < H; x++) {
        snprintf(g->names[x], TOPO_NAME_MAX, "h%u", x);
        g->host_leaf[x] = x / hpl;
        g->links[x] =
            (struct topo_gml_link){x, H + x / hpl, bps[0], lk[0], bps[0], lk[0] + sw[0], 0};
    }
    uint32_t k = H;
    for (uint32_t l = 0; l < L; l++)
        for (uint32_t j = 0; j < A; j++)
            for (uint32_t b = 0; b < b1; b++)
                g->links[k++] = (struct topo_gml_link){
                    H + l, H + L + (l / Lp) * A + j, bps[1], lk[1] + sw[0], bps[1], lk[1] + sw[1],
                    0};
    for (uint32_t a = 0; a < P * A; a++)
        for (uint32_t i = 0; i < cpa; i++)
            for (uint32_t b = 0; b < b2; b++)
                g->links[k++] = (struct topo_gml_link){H + L + a, H + L + P * A + i * A + a % A,
                                                       bps[2],    lk[2] + sw[1],
                                                       bps[2],    lk[2] + sw[2],
                                                       0};
}

static int ht_parse(const char *path, struct ht *hp, struct err *e)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    struct ht h;
    memset(&h, 0, sizeof h);
    h.path = path;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int ln = 0, cur = -1, rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        ln++;
        if (n > 4096) {
            rc = err_set(e, "%s:%d: a line longer than 4096 characters", path, ln);
            break;
        }
        if (memchr(line, '\0', (size_t)n) != NULL) {
            rc = err_set(e, "%s:%d: a NUL byte", path, ln);
            break;
        }
        rc = ht_line(&h, line, ln, &cur, e);
    }
    free(line);
    if (rc == 0 && ferror(fp)) rc = err_set(e, "%s: read error", path);
    fclose(fp);
    *hp = h;
    return rc;
}

int topo_htsim_read(const char *path, struct topo_spec *s, struct err *e)
{
    struct ht h;
    int rc = ht_parse(path, &h, e);
    if (rc == 0) rc = ht_derive(&h, s, e);
    if (rc < 0) s->info.shape = -1;
    return rc;
}

int topo_htsim_graph(const char *path, struct topo_gml *g, struct err *e)
{
    struct ht h;
    struct topo_spec s;
    memset(&s, 0, sizeof s);
    memset(g, 0, sizeof *g);
    int rc = ht_parse(path, &h, e);
    if (rc == 0) rc = ht_derive(&h, &s, e);
    if (rc == 0 && s.info.shape != TOPO_FILE)
        rc = err_set(e, "%s: not a bundled fabric (it builds as its leaf_spine or fat_tree)", path);
    if (rc == 0) {
        double links =
            (double)s.leaves * (double)s.spines +
            (s.cores ? (double)s.pods * (double)s.aggs_per_pod * (double)h.tier[1].v[K_RUP] : 0);
        if (2 * links > (double)TOPO_MAX_FABRIC_LINKS)
            rc = err_set(e, "%s: %.0f switch links, more than this build holds (%llu)", path, links,
                         (unsigned long long)TOPO_MAX_FABRIC_LINKS / 2);
    }
    if (rc == 0) ht_graph(&h, &s, g);
    return rc;
}
