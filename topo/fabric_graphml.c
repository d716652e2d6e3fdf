/* fabric_graphml.c - a fabric from a GraphML file (topology.kind = file,
 * topology.file = X.graphml), read with igraph and checked before the run.
 *
 * The file: <node>s with a string attribute `role` (host or switch; a
 * <default> of its <key> counts) and <edge>s, each a link both ways, or one
 * way (source -> target) under <graph edgedefault="directed"> or with its
 * own directed="true", with numeric attributes `gbps` (> 0) and
 * `latency_ns` (>= 0, fractions of a ns kept to the ps). Every host has
 * exactly one link, to a switch (in a directed graph an edge to it and one
 * from it): its edge switch, the host's leaf (multi-homed hosts are not
 * modelled); leaves may hold different numbers of hosts (hosts_per_leaf is
 * then the gcd of the counts); every host reaches every other along the
 * links' directions; a route between two leaves crosses at most
 * TOPO_ROUTE_MAX_PORTS - 2 switch links. Node ids name the nodes in the
 * links table and in faults.down, so they are 1 to 31 letters, digits, '_',
 * '.' or ':'.
 *
 * Two passes: libxml2's reader walks the document first, for what igraph's
 * reader lets through (it merges duplicate ids, makes up the nodes a
 * dangling edge names and keeps the last of two roles) and for the line of
 * each element; then igraph_read_graph_graphml() reads the graph and its
 * attributes, which give the speeds and latencies. Every error is one line,
 * "FILE:LINE: node 'x': reason" or "FILE:LINE: edge 'a'-'b': reason".
 *
 * Numbering (struct topo_gml): hosts leaf by leaf (each leaf's in file
 * order), then the switches, leaves first, each group in file order; host
 * h's link is link h, the switch-switch links follow in file order, so a
 * file that lists a leaf-spine's links leaf by leaf and spine by spine gets
 * the ports of topology.kind = leaf_spine.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <igraph.h>
#include <libxml/xmlreader.h>

#include "base/num.h"
#include "topo/fabric_file.h"

enum { ROLE_NONE = 0, ROLE_HOST, ROLE_SWITCH, ROLE_BAD };

struct gnode {
    char *id;
    int line, nroles, role;
    char role_text[2][40];
};
struct gedge {
    char *src, *dst;
    int line, directed; /* directed: the edge is the one-way link src -> dst */
    uint32_t a, b;      /* node indexes */
};
struct gkey {
    char *id, *name, *type;
    int line;
};

struct scan {
    const char *path;
    struct gnode *nodes;
    size_t nnodes, capn;
    struct gedge *edges;
    size_t nedges, cape;
    struct gkey *keys;
    size_t nkeys, capk;
    uint32_t *hash; /* open addressing over node ids: index + 1, 0 empty */
    size_t hcap;
    char role_default[40];
    int have_default, edgedefault; /* <graph edgedefault>: 1 directed, 0 undirected (or none) */
    int xml_line;
    char xml_msg[200];
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void hash_grow(struct scan *s)
{
    free(s->hash);
    s->hcap = s->hcap ? 2 * s->hcap : 1024;
    s->hash = xcalloc(s->hcap, sizeof *s->hash);
    for (size_t i = 0; i < s->nnodes; i++) {
        size_t j = fnv(s->nodes[i].id) & (s->hcap - 1);
        while (s->hash[j])
            j = (j + 1) & (s->hcap - 1);
        s->hash[j] = (uint32_t)i + 1;
    }
}

/* The node of id, or -1. */
static long find_node(const struct scan *s, const char *id)
{
    if (!s->hcap) return -1;
    for (size_t j = fnv(id) & (s->hcap - 1); s->hash[j]; j = (j + 1) & (s->hcap - 1))
        if (!strcmp(s->nodes[s->hash[j] - 1].id, id)) return (long)s->hash[j] - 1;
    return -1;
}

static void scan_free(struct scan *s)
{
    for (size_t i = 0; i < s->nnodes; i++)
        free(s->nodes[i].id);
    for (size_t i = 0; i < s->nedges; i++) {
        free(s->edges[i].src);
        free(s->edges[i].dst);
    }
    for (size_t i = 0; i < s->nkeys; i++) {
        free(s->keys[i].id);
        free(s->keys[i].name);
        free(s->keys[i].type);
    }
    free(s->nodes);
    free(s->edges);
    free(s->keys);
    free(s->hash);
}

static void on_xml_error(void *arg, xmlErrorPtr err)
{
    struct scan *s = arg;
    if (s->xml_msg[0] || !err) return;
    s->xml_line = err->line;
    snprintf(s->xml_msg, sizeof s->xml_msg, "%s", err->message ? err->message : "malformed");
    size_t n = strlen(s->xml_msg);
    while (n && (s->xml_msg[n - 1] == '\n' || s->xml_msg[n - 1] == ' '))
        s->xml_msg[--n] = '\0';
    for (char *p = s->xml_msg; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '?';
}

static char *attr(xmlTextReaderPtr rd, const char *name)
{
    xmlChar *v = xmlTextReaderGetAttribute(rd, (const xmlChar *)name);
    if (!v) return NULL;
    char *r = xstrdup((const char *)v);
    xmlFree(v);
    return r;
}

/* A printable quote of s for an error line (at most 40 characters). */
static const char *q(const char *s, char *buf)
{
    size_t i = 0;
    for (; s[i] && i < 40; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
    buf[i] = '\0';
    if (s[i]) strcpy(buf + 37, "...");
    return buf;
}

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= TOPO_NAME_MAX) return 0;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != ':') return 0;
    return 1;
}

static const struct gkey *key_named(const struct scan *s, const char *name)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].name && !strcmp(s->keys[i].name, name)) return &s->keys[i];
    return NULL;
}

/* The text of the element the reader is on (its text children), trimmed. */
static void elem_text(xmlTextReaderPtr rd, char *out, size_t n)
{
    xmlChar *v = xmlTextReaderReadString(rd);
    const char *t = v ? (const char *)v : "";
    while (isspace((unsigned char)*t))
        t++;
    size_t len = strlen(t);
    while (len && isspace((unsigned char)t[len - 1]))
        len--;
    if (len >= n) len = n - 1;
    memcpy(out, t, len);
    out[len] = '\0';
    xmlFree(v);
}

/* First pass: the document's structure, with libxml2's reader. */
static int scan_file(struct scan *s, struct err *e)
{
    char b1[48], b2[48], b3[48];
    xmlTextReaderPtr rd = xmlReaderForFile(s->path, NULL,
                                           XML_PARSE_NONET | XML_PARSE_NOERROR |
                                               XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES);
    if (!rd) return err_set(e, "%s: cannot open: %s", s->path, strerror(errno ? errno : EIO));
    xmlTextReaderSetStructuredErrorHandler(rd, on_xml_error, s);
    int rc = 0, r, graphs = 0, first = 1;
    int owner = 0, owner_depth = -10; /* 1: a node, 2: an edge, 3: a key */
    while (rc == 0 && (r = xmlTextReaderRead(rd)) == 1) {
        if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT) continue;
        const char *name = (const char *)xmlTextReaderConstLocalName(rd);
        int line = xmlGetLineNo(xmlTextReaderCurrentNode(rd)), depth = xmlTextReaderDepth(rd);
        if (!name) name = "";
        if (first && strcmp(name, "graphml")) {
            rc = err_set(e, "%s:%d: <%s>: not GraphML (the root element must be <graphml>)",
                         s->path, line, q(name, b1));
            break;
        }
        first = 0;
        if (depth <= owner_depth) owner = 0;
        if (!strcmp(name, "graph")) {
            if (++graphs > 1) {
                rc = err_set(e, "%s:%d: <graph>: a second graph (one fabric per file)", s->path,
                             line);
                break;
            }
            char *ed = attr(rd, "edgedefault");
            if (ed && strcmp(ed, "directed") && strcmp(ed, "undirected"))
                rc = err_set(e, "%s:%d: <graph>: edgedefault '%s' is not directed or undirected",
                             s->path, line, q(ed, b1));
            s->edgedefault = ed && !strcmp(ed, "directed");
            free(ed);
        } else if (!strcmp(name, "hyperedge")) {
            rc = err_set(e, "%s:%d: <hyperedge>: not a link (a link joins two nodes)", s->path,
                         line);
        } else if (!strcmp(name, "key")) {
            if (s->nkeys == s->capk) {
                s->capk = s->capk ? 2 * s->capk : 8;
                s->keys = xrealloc(s->keys, s->capk * sizeof *s->keys);
            }
            struct gkey *k = &s->keys[s->nkeys++];
            k->id = attr(rd, "id");
            k->name = attr(rd, "attr.name");
            k->type = attr(rd, "attr.type");
            k->line = line;
            owner = 3;
            owner_depth = depth;
        } else if (!strcmp(name, "default") && owner == 3 && depth == owner_depth + 1) {
            const struct gkey *k = &s->keys[s->nkeys - 1];
            if (k->name && !strcmp(k->name, "role")) {
                elem_text(rd, s->role_default, sizeof s->role_default);
                s->have_default = 1;
            }
        } else if (!strcmp(name, "node")) {
            char *id = attr(rd, "id");
            if (!id) {
                rc = err_set(e, "%s:%d: <node>: no id", s->path, line);
                break;
            }
            if (!id_ok(id)) {
                rc = err_set(e,
                             "%s:%d: node '%s': an id is 1 to %d letters, digits, '_', '.' or "
                             "':' (it names the node in the links table)",
                             s->path, line, q(id, b1), TOPO_NAME_MAX - 1);
                free(id);
                break;
            }
            long dup = find_node(s, id);
            if (dup >= 0) {
                rc = err_set(e, "%s:%d: node '%s': duplicate id (first on line %d)", s->path, line,
                             id, s->nodes[dup].line);
                free(id);
                break;
            }
            if (s->nnodes >= TOPO_MAX_HOSTS + (1u << 20)) {
                rc = err_set(e, "%s:%d: node '%s': more nodes than this build holds", s->path, line,
                             id);
                free(id);
                break;
            }
            if (s->nnodes == s->capn) {
                s->capn = s->capn ? 2 * s->capn : 64;
                s->nodes = xrealloc(s->nodes, s->capn * sizeof *s->nodes);
            }
            s->nodes[s->nnodes++] = (struct gnode){.id = id, .line = line};
            if (2 * s->nnodes > s->hcap)
                hash_grow(s);
            else {
                size_t j = fnv(id) & (s->hcap - 1);
                while (s->hash[j])
                    j = (j + 1) & (s->hcap - 1);
                s->hash[j] = (uint32_t)s->nnodes;
            }
            owner = 1;
            owner_depth = depth;
        } else if (!strcmp(name, "edge")) {
            char *src = attr(rd, "source"), *dst = attr(rd, "target");
            if (!src || !dst) {
                free(src);
                free(dst);
                rc = err_set(e, "%s:%d: <edge>: no %s", s->path, line, src ? "target" : "source");
                break;
            }
            if (s->nedges == s->cape) {
                s->cape = s->cape ? 2 * s->cape : 64;
                s->edges = xrealloc(s->edges, s->cape * sizeof *s->edges);
            }
            char *dir = attr(rd, "directed");
            int directed = s->edgedefault;
            if (dir && (!strcmp(dir, "true") || !strcmp(dir, "false")))
                directed = !strcmp(dir, "true");
            else if (dir)
                rc = err_set(e, "%s:%d: edge '%s'-'%s': directed '%s' is not true or false",
                             s->path, line, q(src, b1), q(dst, b2), q(dir, b3));
            free(dir);
            s->edges[s->nedges++] =
                (struct gedge){.src = src, .dst = dst, .line = line, .directed = directed};
            owner = 2;
            owner_depth = depth;
        } else if (!strcmp(name, "data") && owner == 2 && depth == owner_depth + 1) {
            /* a link's number that igraph would refuse without saying where */
            char *key = attr(rd, "key");
            for (int k = 0; key && k < 2 && rc == 0; k++) {
                const struct gkey *nk = key_named(s, k ? "latency_ns" : "gbps");
                if (!nk || !nk->id || strcmp(key, nk->id)) continue;
                char text[40], *end;
                elem_text(rd, text, sizeof text);
                const struct gedge *x = &s->edges[s->nedges - 1];
                errno = 0;
                (void)strtod(text, &end);
                if (!*text || *end || errno)
                    rc = err_set(e, "%s:%d: edge '%s'-'%s': %s '%s' is not a number", s->path, line,
                                 q(x->src, b1), q(x->dst, b2), nk->name, q(text, b3));
            }
            free(key);
        } else if (!strcmp(name, "data") && owner == 1 && depth == owner_depth + 1) {
            char *key = attr(rd, "key");
            const struct gkey *rk = key_named(s, "role");
            if (key && rk && rk->id && !strcmp(key, rk->id)) {
                struct gnode *n = &s->nodes[s->nnodes - 1];
                char text[40];
                elem_text(rd, text, sizeof text);
                if (n->nroles == 1)
                    rc = err_set(e, "%s:%d: node '%s': two roles ('%s' and '%s')", s->path, line,
                                 n->id, q(n->role_text[0], b1), q(text, b2));
                else
                    snprintf(n->role_text[n->nroles++], sizeof n->role_text[0], "%s", text);
            }
            free(key);
        }
    }
    if (rc == 0 && (r < 0 || s->xml_msg[0]))
        rc = err_set(e, "%s:%d: XML: %s", s->path, s->xml_line,
                     s->xml_msg[0] ? s->xml_msg : "malformed");
    if (rc == 0 && first) rc = err_set(e, "%s: not GraphML (no <graphml> element)", s->path);
    if (rc == 0 && !graphs) rc = err_set(e, "%s: no <graph>", s->path);
    xmlFreeTextReader(rd);
    return rc;
}

/* Roles, endpoints and the key types. */
static int scan_check(struct scan *s, struct err *e)
{
    char b1[48], b2[48], b3[48];
    const struct gkey *rk = key_named(s, "role");
    if (rk && rk->type && strcmp(rk->type, "string"))
        return err_set(e, "%s:%d: key 'role': attr.type '%s', expected string", s->path, rk->line,
                       q(rk->type, b1));
    for (size_t i = 0; i < s->nnodes; i++) {
        struct gnode *n = &s->nodes[i];
        const char *role = n->nroles ? n->role_text[0] : s->have_default ? s->role_default : NULL;
        if (!role)
            return err_set(e,
                           "%s:%d: node '%s': no role (a <data> of the key named role: host or "
                           "switch)",
                           s->path, n->line, n->id);
        n->role = !strcmp(role, "host")     ? ROLE_HOST
                  : !strcmp(role, "switch") ? ROLE_SWITCH
                                            : ROLE_BAD;
        if (n->role == ROLE_BAD)
            return err_set(e, "%s:%d: node '%s': role '%s' is not host or switch", s->path, n->line,
                           n->id, q(role, b1));
    }
    for (size_t i = 0; i < s->nedges; i++) {
        struct gedge *g = &s->edges[i];
        long a = find_node(s, g->src), b = find_node(s, g->dst);
        if (a < 0 || b < 0)
            return err_set(e, "%s:%d: edge '%s'-'%s': node '%s' is not declared", s->path, g->line,
                           q(g->src, b1), q(g->dst, b2), q(a < 0 ? g->src : g->dst, b3));
        g->a = (uint32_t)a;
        g->b = (uint32_t)b;
    }
    return 0;
}

/* igraph's reason for a failed read (reads happen one at a time per process:
 * runs are processes, and a run reads its fabric before its threads start). */
static char ig_reason[160];

static void ig_error(const char *reason, const char *file, int line, igraph_error_t err)
{
    (void)file;
    (void)line;
    (void)err;
    snprintf(ig_reason, sizeof ig_reason, "%s", reason ? reason : "failed");
    for (char *p = ig_reason; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '?';
    IGRAPH_FINALLY_FREE();
}

static void ig_warning(const char *reason, const char *file, int line)
{
    (void)reason;
    (void)file;
    (void)line;
}

/* The numeric edge attribute `name` into v[] (NaN where an edge lacks it);
 * -1 when the graph has no such attribute, -2 when it is not numeric. */
static int edge_numbers(const igraph_t *g, const char *name, double *v)
{
    if (!igraph_cattribute_has_attr(g, IGRAPH_ATTRIBUTE_EDGE, name)) return -1;
    igraph_strvector_t names;
    igraph_vector_int_t types;
    igraph_strvector_init(&names, 0);
    igraph_vector_int_init(&types, 0);
    int numeric = 0;
    if (igraph_cattribute_list(g, NULL, NULL, NULL, NULL, &names, &types) == IGRAPH_SUCCESS)
        for (igraph_integer_t i = 0; i < igraph_strvector_size(&names); i++)
            if (!strcmp(igraph_strvector_get(&names, i), name))
                numeric = VECTOR(types)[i] == IGRAPH_ATTRIBUTE_NUMERIC;
    igraph_strvector_destroy(&names);
    igraph_vector_int_destroy(&types);
    if (!numeric) return -2;
    for (igraph_integer_t i = 0; i < igraph_ecount(g); i++)
        v[i] = EAN(g, name, i);
    return 0;
}

/* Second pass: igraph reads the graph; the links' numbers from it. */
static int read_numbers(struct scan *s, double *gbps, double *lat, struct err *e)
{
    FILE *f = fopen(s->path, "r");
    if (!f) return err_set(e, "%s: cannot open: %s", s->path, strerror(errno));
    igraph_attribute_table_t *old_attr = igraph_set_attribute_table(&igraph_cattribute_table);
    igraph_error_handler_t *old_err = igraph_set_error_handler(ig_error);
    igraph_warning_handler_t *old_warn = igraph_set_warning_handler(ig_warning);
    igraph_t g;
    int rc = 0;
    ig_reason[0] = '\0';
    if (igraph_read_graph_graphml(&g, f, 0) != IGRAPH_SUCCESS) {
        rc = err_set(e, "%s: igraph: %s", s->path,
                     ig_reason[0] ? ig_reason : "could not read the graph");
    } else {
        if ((size_t)igraph_ecount(&g) != s->nedges || (size_t)igraph_vcount(&g) != s->nnodes)
            rc = err_set(e,
                         "%s: igraph read %lld nodes and %lld edges, the document has %zu and %zu",
                         s->path, (long long)igraph_vcount(&g), (long long)igraph_ecount(&g),
                         s->nnodes, s->nedges);
        static const char *const names[2] = {"gbps", "latency_ns"};
        double *dst[2] = {gbps, lat};
        for (int k = 0; k < 2 && rc == 0; k++) {
            int r = edge_numbers(&g, names[k], dst[k]);
            const struct gkey *key = key_named(s, names[k]);
            if (r == -1 && s->nedges)
                rc =
                    err_set(e, "%s:%d: edge '%s'-'%s': no %s (no <key> of attr.name %s)", s->path,
                            s->edges[0].line, s->edges[0].src, s->edges[0].dst, names[k], names[k]);
            else if (r == -2)
                rc = err_set(e,
                             "%s:%d: key '%s': not a number (attr.type double, float, int or long)",
                             s->path, key ? key->line : 0, names[k]);
        }
        igraph_destroy(&g);
    }
    igraph_set_warning_handler(old_warn);
    igraph_set_error_handler(old_err);
    igraph_set_attribute_table(old_attr);
    fclose(f);
    return rc;
}

void topo_gml_free(struct topo_gml *g)
{
    free(g->names);
    free(g->host_leaf);
    free(g->leaf_first);
    free(g->tier);
    free(g->links);
    memset(g, 0, sizeof *g);
}

/* Breadth-first hops over the switch links from the switches in src[0, ns)
 * (switch rows), into d[] (UINT32_MAX: unreached). */
static void bfs(uint32_t W, const uint32_t *off, const uint32_t *adj, const uint32_t *src,
                uint32_t ns, uint32_t *d, uint32_t *queue)
{
    for (uint32_t u = 0; u < W; u++)
        d[u] = UINT32_MAX;
    uint32_t head = 0, tail = 0;
    for (uint32_t i = 0; i < ns; i++)
        if (d[src[i]] == UINT32_MAX) {
            d[src[i]] = 0;
            queue[tail++] = src[i];
        }
    while (head < tail) {
        uint32_t u = queue[head++];
        for (uint32_t j = off[u]; j < off[u + 1]; j++)
            if (d[adj[j]] == UINT32_MAX) {
                d[adj[j]] = d[u] + 1;
                queue[tail++] = adj[j];
            }
    }
}

/* The switch links over switch rows (CSR): both ways for an undirected edge
 * (or for every edge with `both`), src -> dst for a directed one. */
static void switch_csr(const struct scan *s, const uint32_t *row, uint32_t W, int both,
                       uint32_t **offp, uint32_t **adjp)
{
    uint32_t *off = xcalloc((size_t)W + 2, sizeof *off);
    size_t cnt = 0;
    for (size_t i = 0; i < s->nedges; i++) {
        const struct gedge *x = &s->edges[i];
        if (s->nodes[x->a].role != ROLE_SWITCH || s->nodes[x->b].role != ROLE_SWITCH) continue;
        off[row[x->a] + 2]++;
        cnt++;
        if (both || !x->directed) {
            off[row[x->b] + 2]++;
            cnt++;
        }
    }
    for (uint32_t u = 0; u < W; u++)
        off[u + 2] += off[u + 1];
    uint32_t *adj = xmalloc((cnt + 1) * sizeof *adj);
    for (size_t i = 0; i < s->nedges; i++) {
        const struct gedge *x = &s->edges[i];
        if (s->nodes[x->a].role != ROLE_SWITCH || s->nodes[x->b].role != ROLE_SWITCH) continue;
        adj[off[row[x->a] + 1]++] = row[x->b];
        if (both || !x->directed) adj[off[row[x->b] + 1]++] = row[x->a];
    }
    *offp = off;
    *adjp = adj;
}

#define NOLINK UINT32_MAX

/* The checks on the graph and the renumbering into g. A host's link is an
 * undirected edge, or in a directed graph an edge to its switch (up) and
 * one from the same switch (down). */
static int shape(struct scan *s, const double *gbps, const double *lat, struct topo_gml *g,
                 struct err *e)
{
    const char *f = s->path;
    size_t N = s->nnodes, M = s->nedges;
    uint32_t *hup = xmalloc((N + 1) * sizeof *hup), *hdown = xmalloc((N + 1) * sizeof *hdown);
    for (size_t i = 0; i < N; i++)
        hup[i] = hdown[i] = NOLINK;
    int rc = 0;
    for (size_t i = 0; i < M && rc == 0; i++) {
        const struct gedge *x = &s->edges[i];
        int ha = s->nodes[x->a].role == ROLE_HOST, hb = s->nodes[x->b].role == ROLE_HOST;
        if (x->a == x->b)
            rc = err_set(e, "%s:%d: edge '%s'-'%s': links a node to itself", f, x->line, x->src,
                         x->dst);
        else if (ha && hb)
            rc = err_set(e, "%s:%d: edge '%s'-'%s': links two hosts (a host links to a switch)", f,
                         x->line, x->src, x->dst);
        else if (isnan(gbps[i]))
            rc = err_set(e, "%s:%d: edge '%s'-'%s': no gbps", f, x->line, x->src, x->dst);
        else if (isnan(lat[i]))
            rc = err_set(e, "%s:%d: edge '%s'-'%s': no latency_ns", f, x->line, x->src, x->dst);
        else if (!(gbps[i] > 0) || gbps[i] > 1e6)
            rc = err_set(e,
                         "%s:%d: edge '%s'-'%s': gbps = %g, a link needs a positive speed (at "
                         "most 1e6)",
                         f, x->line, x->src, x->dst, gbps[i]);
        else if (!(lat[i] >= 0) || lat[i] > 1e9)
            rc = err_set(e, "%s:%d: edge '%s'-'%s': latency_ns = %g, a latency is 0 to 1e9 ns", f,
                         x->line, x->src, x->dst, lat[i]);
        if (rc) break;
        if (ha || hb) {
            uint32_t h = ha ? x->a : x->b, sw = ha ? x->b : x->a;
            int up = !x->directed || ha, down = !x->directed || hb;
            /* a second edge the same way, or the other way to another switch */
            int clash = (up && hup[h] != NOLINK) || (down && hdown[h] != NOLINK);
            uint32_t other = hup[h] != NOLINK ? hup[h] : hdown[h];
            if (!clash && other != NOLINK) {
                const struct gedge *o = &s->edges[other];
                clash = (o->a == h ? o->b : o->a) != sw;
            }
            if (clash)
                rc = err_set(e,
                             "%s:%d: node '%s': a second link (line %d); a host has one, to its "
                             "edge switch (multi-homed hosts are not modelled)",
                             f, s->nodes[h].line, s->nodes[h].id, x->line);
            if (up) hup[h] = (uint32_t)i;
            if (down) hdown[h] = (uint32_t)i;
        }
    }
    /* hosts and leaves */
    uint32_t H = 0, W = 0, L = 0;
    uint32_t *nhosts = xcalloc(N + 1, sizeof *nhosts), *row = xmalloc((N + 1) * sizeof *row);
    for (size_t i = 0; i < N && rc == 0; i++) {
        if (s->nodes[i].role == ROLE_HOST) {
            H++;
            if (hup[i] == NOLINK && hdown[i] == NOLINK) {
                rc = err_set(e, "%s:%d: node '%s': host not reachable (it has no link)", f,
                             s->nodes[i].line, s->nodes[i].id);
                break;
            }
            if (hup[i] == NOLINK || hdown[i] == NOLINK) {
                int has_up = hup[i] != NOLINK;
                const struct gedge *x = &s->edges[has_up ? hup[i] : hdown[i]];
                rc = err_set(e,
                             "%s:%d: node '%s': a one-way link %s its edge switch (line %d) and "
                             "none %s (a host needs a link each way)",
                             f, s->nodes[i].line, s->nodes[i].id, has_up ? "to" : "from", x->line,
                             has_up ? "back" : "to it");
                break;
            }
            const struct gedge *x = &s->edges[hup[i]];
            nhosts[x->a == i ? x->b : x->a]++;
        } else {
            W++;
        }
    }
    if (rc == 0 && H < 2)
        rc = err_set(e, "%s: %u host%s, a fabric needs at least 2", f, H, H == 1 ? "" : "s");
    if (rc == 0 && H > TOPO_MAX_HOSTS)
        rc = err_set(e, "%s: %u hosts, more than this build holds (%u)", f, H, TOPO_MAX_HOSTS);
    /* switch rows: leaves first; hosts_per_leaf the gcd of their counts */
    uint32_t hpl = 0;
    for (size_t i = 0; i < N && rc == 0; i++)
        if (s->nodes[i].role == ROLE_SWITCH && nhosts[i]) {
            hpl = (uint32_t)num_gcd(hpl, nhosts[i]);
            row[i] = L++;
        }
    uint32_t r2 = L;
    for (size_t i = 0; i < N && rc == 0; i++)
        if (s->nodes[i].role == ROLE_SWITCH && !nhosts[i]) row[i] = r2++;
    uint64_t fabric = 0, fports = 0;
    for (size_t i = 0; i < M; i++)
        if (s->nodes[s->edges[i].a].role == ROLE_SWITCH &&
            s->nodes[s->edges[i].b].role == ROLE_SWITCH) {
            fabric++;
            fports += s->edges[i].directed ? 1 : 2;
        }
    if (rc == 0 && fports > TOPO_MAX_FABRIC_LINKS)
        rc = err_set(e, "%s: %llu switch links, more than this build holds (%llu)", f,
                     (unsigned long long)fabric, (unsigned long long)TOPO_MAX_FABRIC_LINKS / 2);
    if (rc == 0 && (uint64_t)W * L > (1ull << 32))
        rc = err_set(e, "%s: %u switches x %u leaves routing rows, more than this build holds", f,
                     W, L);
    uint32_t *off = NULL, *adj = NULL, *dist = NULL, *queue = NULL, *tier = NULL;
    if (rc == 0) {
        dist = xmalloc(((size_t)W + 1) * sizeof *dist);
        queue = xmalloc(((size_t)W + 1) * sizeof *queue);
        tier = xmalloc(((size_t)W + 1) * sizeof *tier);
        /* tiers: hops from the nearest leaf, whatever the links' directions */
        switch_csr(s, row, W, 1, &off, &adj);
        uint32_t *leaves = xmalloc(((size_t)L + 1) * sizeof *leaves);
        for (uint32_t l = 0; l < L; l++)
            leaves[l] = l;
        bfs(W, off, adj, leaves, L, tier, queue);
        free(leaves);
        free(off);
        free(adj);
        /* every leaf reaches every leaf along the links' directions (both
         * ways for each pair); routes fit a packet's route */
        switch_csr(s, row, W, 0, &off, &adj);
        uint32_t maxd = 0, far_a = 0, far_b = 0;
        for (uint32_t l = 0; l < L && rc == 0; l++) {
            uint32_t src = l;
            bfs(W, off, adj, &src, 1, dist, queue);
            for (uint32_t m = 0; m < L; m++) {
                if (dist[m] == UINT32_MAX) {
                    /* name a host of the unreached leaf and one of the source's */
                    const char *ha = NULL, *hb = NULL;
                    int line = 0;
                    for (size_t i = 0; i < N; i++) {
                        if (s->nodes[i].role != ROLE_HOST) continue;
                        const struct gedge *x = &s->edges[hup[i]];
                        uint32_t r = row[x->a == i ? x->b : x->a];
                        if (r == l && !ha) ha = s->nodes[i].id;
                        if (r == m && !hb) {
                            hb = s->nodes[i].id;
                            line = s->nodes[i].line;
                        }
                    }
                    rc = err_set(e, "%s:%d: node '%s': host not reachable from node '%s'", f, line,
                                 hb ? hb : "?", ha ? ha : "?");
                    break;
                }
                if (dist[m] > maxd) {
                    maxd = dist[m];
                    far_a = l;
                    far_b = m;
                }
            }
            if (rc == 0 && maxd + 2 > TOPO_ROUTE_MAX_PORTS) break;
        }
        if (rc == 0 && maxd + 2 > TOPO_ROUTE_MAX_PORTS) {
            const char *na = "?", *nb = "?";
            for (size_t i = 0; i < N; i++)
                if (s->nodes[i].role == ROLE_SWITCH && nhosts[i]) {
                    if (row[i] == far_a) na = s->nodes[i].id;
                    if (row[i] == far_b) nb = s->nodes[i].id;
                }
            rc = err_set(
                e, "%s: node '%s' to node '%s': %u switch links, more than a route holds (%d)", f,
                na, nb, maxd, TOPO_ROUTE_MAX_PORTS - 2);
        }
    }
    if (rc == 0) {
        memset(g, 0, sizeof *g);
        g->hosts = H;
        g->leaves = L;
        g->switches = W;
        g->hosts_per_leaf = hpl;
        g->names = xcalloc((size_t)H + W, sizeof *g->names);
        g->host_leaf = xmalloc((size_t)H * sizeof *g->host_leaf);
        g->leaf_first = xcalloc((size_t)L + 1, sizeof *g->leaf_first);
        g->tier = tier;
        tier = NULL;
        g->nlinks = (uint32_t)(H + fabric);
        g->fabric_ports = (uint32_t)fports;
        g->links = xmalloc((size_t)g->nlinks * sizeof *g->links);
        for (size_t i = 0; i < N; i++)
            if (s->nodes[i].role == ROLE_SWITCH && nhosts[i]) g->leaf_first[row[i] + 1] = nhosts[i];
        for (uint32_t l = 0; l < L; l++)
            g->leaf_first[l + 1] += g->leaf_first[l];
        /* hosts leaf by leaf: a running count per leaf */
        uint32_t *next = xcalloc((size_t)L + 1, sizeof *next);
        for (size_t i = 0; i < N; i++) {
            if (s->nodes[i].role == ROLE_SWITCH) {
                memcpy(g->names[H + row[i]], s->nodes[i].id, strlen(s->nodes[i].id) + 1);
                continue;
            }
            const struct gedge *x = &s->edges[hup[i]];
            uint32_t sw = x->a == i ? x->b : x->a, l = row[sw], h = g->leaf_first[l] + next[l]++;
            memcpy(g->names[h], s->nodes[i].id, strlen(s->nodes[i].id) + 1);
            g->host_leaf[h] = l;
            g->links[h] = (struct topo_gml_link){h,
                                                 H + l,
                                                 gbps_to_bps(gbps[hup[i]]),
                                                 (simtime_t)llround(lat[hup[i]] * 1e3),
                                                 gbps_to_bps(gbps[hdown[i]]),
                                                 (simtime_t)llround(lat[hdown[i]] * 1e3),
                                                 0};
        }
        free(next);
        uint32_t k = H;
        for (size_t i = 0; i < M; i++) {
            const struct gedge *x = &s->edges[i];
            if (s->nodes[x->a].role != ROLE_SWITCH || s->nodes[x->b].role != ROLE_SWITCH) continue;
            uint64_t bps = gbps_to_bps(gbps[i]);
            simtime_t l = (simtime_t)llround(lat[i] * 1e3);
            g->links[k++] = (struct topo_gml_link){
                H + row[x->a], H + row[x->b], bps, l, bps, l, (uint8_t)(x->directed != 0)};
        }
    }
    free(off);
    free(adj);
    free(dist);
    free(queue);
    free(tier);
    free(hup);
    free(hdown);
    free(nhosts);
    free(row);
    return rc;
}

int topo_gml_read(const char *path, struct topo_gml *g, struct err *e)
{
    struct scan s;
    memset(&s, 0, sizeof s);
    s.path = path;
    memset(g, 0, sizeof *g);
    int rc = scan_file(&s, e);
    if (rc == 0) rc = scan_check(&s, e);
    double *gbps = NULL, *lat = NULL;
    if (rc == 0) {
        gbps = xmalloc((s.nedges + 1) * sizeof *gbps);
        lat = xmalloc((s.nedges + 1) * sizeof *lat);
        rc = read_numbers(&s, gbps, lat, e);
    }
    if (rc == 0) rc = shape(&s, gbps, lat, g, e);
    free(gbps);
    free(lat);
    scan_free(&s);
    return rc;
}
