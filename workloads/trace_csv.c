/* trace_csv.c - reading and writing routing-trace CSV files (libcsv).
 *
 * The reader freads the file in chunks and hands it to csv_parse one
 * physical line at a time (a slice of the chunk, no copy), so the line number
 * of every record is exact without counting inside libcsv. Lines starting
 * with '#' before the header are metadata and never reach libcsv. A plain
 * line (no quote, space, tab, carriage return or NUL: libcsv would hand
 * over its comma-separated pieces as they are) is read here without libcsv,
 * its fields in place, plain digits and short decimals parsed exactly
 * without strtol and strtod (plain_line, trace_parse_weight); after the
 * first quote every line goes to libcsv. MOESIM_TRACE_LIBCSV=1: all of
 * them (the tests compare both ways).
 *
 * Memory follows the kept tokens: tokens are looked up in a hash map of the
 * kept ones only, and the dense (token, layer, slot) arrays grow by doubling.
 * When experts, topk or layers are missing from the metadata, a first pass
 * reads the same rows to infer them (max + 1) and a second pass fills; both
 * passes keep and skip exactly the same rows.
 */
#include <csv.h>
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/trace.h"

#define CHUNK    (64 * 1024)
#define META_MAX 4096

enum col { C_SEQ, C_TOKEN, C_LAYER, C_SLOT, C_EXPERT, C_WEIGHT, C_N };
static const char *const col_name[C_N] = {"seq", "token", "layer", "slot", "expert", "weight"};
#define HEADER "seq,token,layer,slot,expert,weight"

struct textbuf {
    char *s;
    size_t cap;
};

/* Open-addressing map from (seq, pos) to the index of a kept token. */
struct tokmap {
    uint64_t *key;
    uint32_t *val; /* UINT32_MAX: empty */
    size_t cap, n;
};

struct loader {
    const char *path;
    struct err *e;
    size_t max_tokens;
    int fill; /* 0: inferring pass, 1: filling pass */
    int failed, stop;
    size_t line, rec_line;
    int rec_begun;
    /* metadata */
    int m_experts, m_topk, m_layers;
    char model[128], source[256];
    char meta[META_MAX];
    size_t meta_len;
    /* header */
    int header_done, ncols, header_hits;
    int canon; /* the header is exactly HEADER: fast_row may read the data rows */
    int *role; /* [ncols]: column -> enum col, or -1 */
    size_t role_cap;
    char header_err[ERR_MSG_MAX];
    /* current record: each column's text (fv: libcsv's in f, or a plain
     * line's in the read buffer) */
    size_t nfields;
    struct textbuf f[C_N];
    const char *fv[C_N];
    /* bounds in force for layer, slot, expert */
    int b_layers, b_topk, b_experts;
    int max_layer, max_slot, max_expert;
    /* tokens */
    struct tokmap map;
    size_t ntok;
    int have_last, grouped;
    uint64_t last_key;
    /* filling pass */
    struct trace *t;
    size_t cap;
    size_t *first_line;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void map_init(struct tokmap *m, size_t cap)
{
    m->cap = cap;
    m->n = 0;
    m->key = xmalloc(cap * sizeof *m->key);
    m->val = xmalloc(cap * sizeof *m->val);
    memset(m->val, 0xff, cap * sizeof *m->val);
}

static void map_free(struct tokmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static size_t map_slot(const struct tokmap *m, uint64_t key)
{
    size_t i = (size_t)mix64(key) & (m->cap - 1);
    while (m->val[i] != UINT32_MAX && m->key[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void map_put(struct tokmap *m, uint64_t key, uint32_t val)
{
    if (2 * (m->n + 1) > m->cap) {
        struct tokmap g;
        map_init(&g, m->cap * 2);
        for (size_t i = 0; i < m->cap; i++)
            if (m->val[i] != UINT32_MAX) {
                size_t j = map_slot(&g, m->key[i]);
                g.key[j] = m->key[i];
                g.val[j] = m->val[i];
            }
        g.n = m->n;
        map_free(m);
        *m = g;
    }
    size_t i = map_slot(m, key);
    m->key[i] = key;
    m->val[i] = val;
    m->n++;
}

/* A field's text made safe for a one-line message: at most 40 printable
 * characters. */
static const char *show(const char *s, char buf[64])
{
    size_t n = 0;
    for (; s[n] && n < 40; n++)
        buf[n] = isprint((unsigned char)s[n]) ? s[n] : '?';
    if (s[n]) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static int fail(struct loader *L, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct loader *L, size_t line, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    L->failed = 1;
    return err_set(L->e, "%s:%zu: %s", L->path, line, msg);
}

/* Parses a whole decimal integer; 0 when s is one (clamped on overflow, with
 * errno ERANGE; else errno is 0). Plain digits (at most 18: no overflow)
 * are read here, anything else by strtol: the same value either way. */
static int parse_long(const char *s, long *v)
{
    long x = 0;
    int i = 0;
    while (i < 18 && s[i] >= '0' && s[i] <= '9')
        x = 10 * x + (s[i++] - '0');
    if (i > 0 && s[i] == '\0') {
        errno = 0;
        *v = x;
        return 0;
    }
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return (end == s || *end) ? -1 : 0;
}

/* strtod(s, end) for a whole field (fast_row computes the same). The common form, digits with at
 * most one
 * '.' and at most 15 digits in all, is read as an integer below 10^15 over
 * a power of ten up to 10^15: both exact doubles, so their quotient is
 * correctly rounded, the value strtod gives (Clinger's fast path). */
static const double weight_p10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

double trace_parse_weight(const char *s, char **end)
{
    const double *p10 = weight_p10;
    int64_t m = 0;
    int digits = 0, frac = -1, i = 0;
    for (;; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (++digits > 15) break;
            m = 10 * m + (c - '0');
            if (frac >= 0) frac++;
        } else if (c == '.' && frac < 0) {
            frac = 0;
        } else {
            break;
        }
    }
    if (s[i] == '\0' && digits > 0 && digits <= 15) {
        *end = (char *)s + i;
        return (double)m / p10[frac > 0 ? frac : 0];
    }
    return strtod(s, end);
}

/* ---- metadata ---------------------------------------------------------- */

static int meta_int(struct loader *L, const char *key, const char *val, int hi, int *out)
{
    long v;
    char b[64];
    if (parse_long(val, &v) || v < 1 || v > hi)
        return fail(L, L->line, "%s '%s': not an integer in [1, %d]", key, show(val, b), hi);
    *out = (int)v;
    return 0;
}

static int is_key_start(const char *s, size_t i)
{
    if (i > 0 && !isspace((unsigned char)s[i - 1])) return 0;
    if (!isalpha((unsigned char)s[i]) && s[i] != '_') return 0;
    while (isalnum((unsigned char)s[i]) || s[i] == '_')
        i++;
    return s[i] == '=';
}

static void copy_trim(char *dst, size_t cap, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* One '#' line: "key=value" pairs; a value runs to the next " key=" or the
 * end of the line, so free text (commas, spaces) is fine in the last one.
 * Unknown keys and lines without '=' are ignored. */
static int meta_line(struct loader *L)
{
    char *s = L->meta + 1;
    size_t n = strlen(s);
    size_t i = 0;
    while (i < n && !is_key_start(s, i))
        i++;
    while (i < n) {
        size_t k = i, eq = i;
        while (s[eq] != '=')
            eq++;
        size_t j = eq + 1;
        while (j < n && !is_key_start(s, j))
            j++;
        char key[32], val[META_MAX];
        copy_trim(key, sizeof key, s + k, eq - k);
        copy_trim(val, sizeof val, s + eq + 1, j - eq - 1);
        if (!strcmp(key, "model"))
            copy_trim(L->model, sizeof L->model, val, strlen(val));
        else if (!strcmp(key, "source"))
            copy_trim(L->source, sizeof L->source, val, strlen(val));
        else if (!strcmp(key, "experts")) {
            if (meta_int(L, key, val, TRACE_MAX_EXPERTS, &L->m_experts)) return -1;
        } else if (!strcmp(key, "topk")) {
            if (meta_int(L, key, val, TRACE_MAX_TOPK, &L->m_topk)) return -1;
        } else if (!strcmp(key, "layers")) {
            if (meta_int(L, key, val, TRACE_MAX_LAYERS, &L->m_layers)) return -1;
        }
        i = j;
    }
    return 0;
}

/* ---- rows --------------------------------------------------------------- */

static int field_int(struct loader *L, enum col c, long hi, long *v)
{
    char b[64];
    const char *s = L->fv[c];
    if (parse_long(s, v))
        return fail(L, L->rec_line, "%s '%s': not an integer", col_name[c], show(s, b));
    if (*v < 0 || *v >= hi || errno == ERANGE)
        return fail(L, L->rec_line, "%s %s outside [0, %ld)", col_name[c], show(s, b), hi);
    return 0;
}

static int grow_tokens(struct loader *L)
{
    struct trace *t = L->t;
    size_t per = (size_t)t->layers * (size_t)t->topk;
    size_t ncap = L->cap ? L->cap * 2 : 64;
    if (L->max_tokens && ncap > L->max_tokens) ncap = L->max_tokens;
    size_t cells, bytes;
    if (ncap > (size_t)INT32_MAX || __builtin_mul_overflow(ncap, per, &cells) ||
        __builtin_mul_overflow(cells, sizeof(float) + sizeof(int16_t), &bytes))
        return fail(L, L->rec_line, "too many tokens: %zu x %d layers x %d slots", ncap, t->layers,
                    t->topk);
    t->seq = xrealloc(t->seq, ncap * sizeof *t->seq);
    t->pos = xrealloc(t->pos, ncap * sizeof *t->pos);
    L->first_line = xrealloc(L->first_line, ncap * sizeof *L->first_line);
    t->expert = xrealloc(t->expert, cells * sizeof *t->expert);
    t->weight = xrealloc(t->weight, cells * sizeof *t->weight);
    for (size_t i = L->cap * per; i < cells; i++) {
        t->expert[i] = -1;
        t->weight[i] = 0.0f;
    }
    L->cap = ncap;
    return 0;
}

static void data_values(struct loader *L, long seq, long pos, long layer, long slot, long expert,
                        double w);

static void data_row(struct loader *L)
{
    char b[64];
    if (L->nfields != (size_t)L->ncols) {
        fail(L, L->rec_line, "expected %d fields, got %zu", L->ncols, L->nfields);
        return;
    }
    long seq, pos, layer, slot, expert;
    if (field_int(L, C_SEQ, INT32_MAX, &seq) || field_int(L, C_TOKEN, INT32_MAX, &pos) ||
        field_int(L, C_LAYER, L->b_layers, &layer) || field_int(L, C_SLOT, L->b_topk, &slot) ||
        field_int(L, C_EXPERT, L->b_experts, &expert))
        return;
    const char *ws = L->fv[C_WEIGHT];
    char *end;
    double w = trace_parse_weight(ws, &end);
    if (end == ws || *end || isnan(w)) {
        fail(L, L->rec_line, "weight '%s': not a number", show(ws, b));
        return;
    }
    if (isinf(w)) {
        fail(L, L->rec_line, "weight '%s': not finite", show(ws, b));
        return;
    }
    if (w < 0) {
        fail(L, L->rec_line, "weight '%s': negative", show(ws, b));
        return;
    }
    data_values(L, seq, pos, layer, slot, expert, w);
}

/* A data row's values, each within its bounds (data_row's checks, or
 * fast_row's): its token found or kept, its slot's expert and weight. */
static void data_values(struct loader *L, long seq, long pos, long layer, long slot, long expert,
                        double w)
{
    uint64_t key = (uint64_t)seq << 32 | (uint64_t)pos;
    uint32_t tok = L->map.val[map_slot(&L->map, key)];
    if (tok == UINT32_MAX) {
        if (L->max_tokens && L->ntok == L->max_tokens) {
            if (L->grouped) L->stop = 1;
            L->have_last = 1;
            L->last_key = key;
            return;
        }
        tok = (uint32_t)L->ntok;
        if (L->fill && L->ntok == L->cap && grow_tokens(L)) return;
        map_put(&L->map, key, tok);
        L->ntok++;
        if (L->fill) {
            L->t->seq[tok] = (int32_t)seq;
            L->t->pos[tok] = (int32_t)pos;
            L->first_line[tok] = L->rec_line;
        }
    } else if (L->have_last && key != L->last_key) {
        L->grouped = 0;
    }
    L->have_last = 1;
    L->last_key = key;

    if (!L->fill) {
        if (layer > L->max_layer) L->max_layer = (int)layer;
        if (slot > L->max_slot) L->max_slot = (int)slot;
        if (expert > L->max_expert) L->max_expert = (int)expert;
        return;
    }
    struct trace *t = L->t;
    size_t base = trace_idx(t, tok, (int)layer, 0);
    if (t->expert[base + (size_t)slot] >= 0) {
        fail(L, L->rec_line, "duplicate row for seq %ld token %ld layer %ld slot %ld", seq, pos,
             layer, slot);
        return;
    }
    for (int k = 0; k < t->topk; k++)
        if (t->expert[base + (size_t)k] == expert) {
            fail(L, L->rec_line,
                 "expert %ld repeated in seq %ld token %ld layer %ld (slots %d and %ld)", expert,
                 seq, pos, layer, k, slot);
            return;
        }
    t->expert[base + (size_t)slot] = (int16_t)expert;
    t->weight[base + (size_t)slot] = (float)w;
}

static void header_row(struct loader *L)
{
    L->header_done = 1;
    if (L->header_err[0]) {
        fail(L, L->rec_line, "%s", L->header_err);
        return;
    }
    if (!L->header_hits) {
        fail(L, L->rec_line, "missing header " HEADER);
        return;
    }
    for (int c = 0; c < C_N; c++) {
        int found = 0;
        for (int i = 0; i < L->ncols; i++)
            found |= L->role[i] == c;
        if (!found) {
            fail(L, L->rec_line, "header lacks column '%s'", col_name[c]);
            return;
        }
    }
    if (L->m_experts && L->m_topk && L->m_topk > L->m_experts) {
        fail(L, L->rec_line, "topk %d exceeds experts %d", L->m_topk, L->m_experts);
        return;
    }
    L->canon = L->ncols == C_N;
    for (int i = 0; i < L->ncols && L->canon; i++)
        L->canon = L->role[i] == i;
    if (!L->fill && L->m_experts && L->m_topk && L->m_layers) {
        /* Complete metadata: this first pass fills, no second one. */
        L->fill = 1;
        L->t->experts = L->b_experts = L->m_experts;
        L->t->topk = L->b_topk = L->m_topk;
        L->t->layers = L->b_layers = L->m_layers;
    } else if (!L->fill) {
        L->b_experts = L->m_experts ? L->m_experts : TRACE_MAX_EXPERTS;
        L->b_topk = L->m_topk ? L->m_topk : TRACE_MAX_TOPK;
        L->b_layers = L->m_layers ? L->m_layers : TRACE_MAX_LAYERS;
    }
}

static void on_field(void *s, size_t len, void *data)
{
    struct loader *L = data;
    if (L->failed || L->stop) return;
    if (!L->rec_begun) {
        L->rec_begun = 1;
        L->rec_line = L->line;
    }
    size_t i = L->nfields++;
    if (!L->header_done) {
        char name[32];
        size_t n = len < sizeof name - 1 ? len : sizeof name - 1;
        memcpy(name, s ? s : "", n);
        name[n] = '\0';
        if (i >= L->role_cap) {
            L->role_cap = L->role_cap ? 2 * L->role_cap : 16;
            L->role = xrealloc(L->role, L->role_cap * sizeof *L->role);
        }
        L->role[i] = -1;
        for (int c = 0; c < C_N; c++)
            if (len == strlen(col_name[c]) && !strcmp(name, col_name[c])) {
                for (size_t j = 0; j < i; j++)
                    if (L->role[j] == c && !L->header_err[0])
                        snprintf(L->header_err, sizeof L->header_err, "header repeats column '%s'",
                                 col_name[c]);
                L->role[i] = c;
                L->header_hits++;
            }
        L->ncols = (int)L->nfields;
        return;
    }
    if (i >= (size_t)L->ncols || L->role[i] < 0) return;
    struct textbuf *b = &L->f[L->role[i]];
    if (len + 1 > b->cap) {
        b->cap = len + 1 > 64 ? len + 1 : 64;
        b->s = xrealloc(b->s, b->cap);
    }
    if (len) memcpy(b->s, s, len);
    b->s[len] = '\0';
    /* An embedded NUL would hide the rest of the field from strtol/strtod. */
    if (memchr(b->s, '\0', len)) b->s[0] = '?';
    L->fv[L->role[i]] = b->s;
}

static void on_record(int c, void *data)
{
    (void)c;
    struct loader *L = data;
    if (L->failed || L->stop) return;
    if (!L->header_done)
        header_row(L);
    else
        data_row(L);
    L->rec_begun = 0;
    L->nfields = 0;
}

/* ---- one pass over the file --------------------------------------------- */

static void meta_append(struct loader *L, const char *s, size_t n)
{
    if (n > sizeof L->meta - 1 - L->meta_len) n = sizeof L->meta - 1 - L->meta_len;
    memcpy(L->meta + L->meta_len, s, n);
    L->meta_len += n;
    L->meta[L->meta_len] = '\0';
}

/* The bytes libcsv (CSV_STRICT; the default delimiter, quote, spaces and
 * terminators) treats specially, and a NUL, which on_field replaces: a line
 * without any of them but commas is plain. */
static const unsigned char plain_class[256] = {
    [','] = 1, ['"'] = 2, [' '] = 2, ['\t'] = 2, ['\r'] = 2, ['\n'] = 2, ['\0'] = 2};

/* One of fast_row's integer fields at s[*i]: 1 to 18 plain digits, then
 * a comma, the value below hi (field_int's bounds; parse_long reads these
 * digits alike); 0 when not so. The line's '\n' ends every scan. */
static inline int fast_int(const char *s, size_t *i, long hi, long *v)
{
    const char *p = s + *i, *q = p;
    long x = 0;
    while ((unsigned)(*q - '0') <= 9 && q - p < 18)
        x = 10 * x + (*q++ - '0');
    if (q == p || *q != ',' || x >= hi) return 0;
    *v = x;
    *i = (size_t)(q - s) + 1;
    return 1;
}

/* A data row of a HEADER-ordered file (L->canon) in the common form: five
 * fields of plain digits within their bounds and a weight of plain digits
 * with at most one '.' and 15 digits, read straight to data_values: the
 * values plain_line, data_row and field_int would read (the weight as
 * trace_parse_weight's exact path computes it: the digits as an integer
 * over 10^(digits after the point)). s[n] is the line's '\n'. 0 when the
 * line is not of that form (anything else, errors included, takes
 * plain_line's way): then nothing was done. */
static int fast_row(struct loader *L, const char *s, size_t n)
{
    long v[5];
    const long hi[5] = {INT32_MAX, INT32_MAX, L->b_layers, L->b_topk, L->b_experts};
    size_t i = 0;
    for (int f = 0; f < 5; f++)
        if (!fast_int(s, &i, hi[f], &v[f])) return 0;
    int64_t m = 0;
    int digits = 0, frac = -1;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d <= 9) {
            if (++digits > 15) return 0; /* (before m could overflow) */
            m = 10 * m + (int64_t)d;
            if (frac >= 0) frac++;
        } else if (s[i] == '.' && frac < 0) {
            frac = 0;
        } else {
            return 0;
        }
    }
    if (digits == 0) return 0;
    double w = (double)m / weight_p10[frac > 0 ? frac : 0];
    L->rec_line = L->line;
    data_values(L, v[0], v[1], v[2], v[3], v[4], w);
    L->rec_begun = 0;
    L->nfields = 0;
    return 1;
}

/* A whole line (the n bytes of s before its '\n', at the start of a record)
 * that libcsv would read as the plain fields between its commas: read here
 * as it would hand them over (on_field, then on_record), a data row's fields
 * read in place (NUL-terminated over the commas and the '\n' in the read
 * buffer, which is not read again). 0 when the line is not plain (a quote, a
 * space or tab, which libcsv trims, a carriage return, which ends a record,
 * or empty, which it skips): then nothing was done. */
static int plain_line(struct loader *L, char *s, size_t n)
{
    enum { MAXC = 64 };
    size_t comma[MAXC], nc = 0;
    if (n == 0) return 0;
    if (L->canon && L->header_done && fast_row(L, s, n)) return 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char k = plain_class[(unsigned char)s[i]];
        if (k == 0) continue;
        if (k == 2) return 0;
        if (nc < MAXC) comma[nc] = i;
        nc++;
    }
    if (!L->header_done || nc >= MAXC) { /* the header, or past the columns: as libcsv */
        for (char *end = s + n;;) {
            char *c = memchr(s, ',', (size_t)(end - s));
            char *fe = c ? c : end;
            on_field(s, (size_t)(fe - s), L);
            if (!c) break;
            s = c + 1;
        }
        on_record('\n', L);
        return 1;
    }
    L->rec_line = L->line;
    L->nfields = nc + 1;
    s[n] = '\0';
    size_t ncols = (size_t)L->ncols;
    for (size_t f = 0, from = 0; f <= nc && f < ncols; f++) {
        size_t to = f < nc ? comma[f] : n;
        s[to] = '\0';
        if (L->role[f] >= 0) L->fv[L->role[f]] = s + from;
        from = to + 1;
    }
    on_record('\n', L);
    return 1;
}

static int load_pass(struct loader *L)
{
    FILE *f = fopen(L->path, "rb");
    if (!f) return fail(L, 0, "cannot open: %s", strerror(errno));
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
        err_fatal("out of memory initialising libcsv");
    char *buf = xmalloc(CHUNK);
    int at_line_start = 1, in_meta = 0;
    /* The plain lines' fast path (plain_record), until a quote reaches
     * libcsv; MOESIM_TRACE_LIBCSV=1 gives every line to libcsv (tests). */
    const char *slow = getenv("MOESIM_TRACE_LIBCSV");
    int fast = !(slow && *slow == '1');
    size_t n;
    while (!L->failed && !L->stop && (n = fread(buf, 1, CHUNK, f)) > 0) {
        char *s = buf, *end = buf + n;
        /* A UTF-8 byte order mark (spreadsheet exports) is not data. */
        if (L->line == 1 && at_line_start && !in_meta && n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
            s += 3;
        while (s < end && !L->failed && !L->stop) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            char *seg = nl ? (char *)nl + 1 : end;
            if (at_line_start && !L->header_done && !L->rec_begun && *s == '#') {
                in_meta = 1;
                L->meta_len = 0;
                L->meta[0] = '\0';
            }
            if (in_meta) {
                meta_append(L, s, (size_t)(seg - s));
                if (nl) {
                    in_meta = 0;
                    L->meta[strcspn(L->meta, "\r\n")] = '\0';
                    meta_line(L);
                }
            } else if (fast && at_line_start && nl && plain_line(L, s, (size_t)(nl - s))) {
                /* read */
            } else {
                /* Without a quote so far, libcsv ends every record at a
                 * line's end, so the next whole line starts one. */
                if (memchr(s, '"', (size_t)(seg - s))) fast = 0;
                if (csv_parse(&p, s, (size_t)(seg - s), on_field, on_record, L) !=
                    (size_t)(seg - s))
                    fail(L, L->rec_begun ? L->rec_line : L->line, "malformed CSV: %s",
                         csv_strerror(csv_error(&p)));
            }
            if (nl) L->line++;
            at_line_start = nl != NULL;
            s = seg;
        }
    }
    if (!L->failed && ferror(f)) fail(L, L->line, "read error: %s", strerror(errno));
    if (!L->failed && !L->stop) {
        if (in_meta) {
            L->meta[strcspn(L->meta, "\r\n")] = '\0';
            meta_line(L);
        }
        if (!L->failed && csv_fini(&p, on_field, on_record, L))
            fail(L, L->rec_begun ? L->rec_line : L->line, "malformed CSV: %s",
                 csv_strerror(csv_error(&p)));
    }
    if (!L->failed && !L->header_done) fail(L, L->line, "missing header " HEADER);
    if (!L->failed && L->ntok == 0) fail(L, L->line, "no data rows");
    csv_free(&p);
    free(buf);
    fclose(f);
    return L->failed ? -1 : 0;
}

static void pass_reset(struct loader *L)
{
    L->failed = L->stop = 0;
    L->line = 1;
    L->rec_line = 1;
    L->rec_begun = 0;
    L->header_done = L->ncols = L->header_hits = L->canon = 0;
    L->header_err[0] = '\0';
    L->nfields = 0;
    L->ntok = 0;
    L->have_last = 0;
    L->grouped = 1;
    map_free(&L->map);
    map_init(&L->map, 1024);
}

static void loader_free(struct loader *L)
{
    map_free(&L->map);
    free(L->role);
    free(L->first_line);
    for (int c = 0; c < C_N; c++)
        free(L->f[c].s);
}

/* Every kept (token, layer) has all its slots or none. */
static int check_slots(struct loader *L)
{
    struct trace *t = L->t;
    for (size_t i = 0; i < t->tokens; i++)
        for (int l = 0; l < t->layers; l++) {
            size_t base = trace_idx(t, i, l, 0);
            int have = 0, hole = -1;
            for (int k = 0; k < t->topk; k++) {
                if (t->expert[base + (size_t)k] >= 0)
                    have++;
                else if (hole < 0)
                    hole = k;
            }
            if (have == 0)
                t->missing++;
            else if (have < t->topk)
                return fail(L, L->first_line[i], "seq %d token %d layer %d: slot %d missing",
                            t->seq[i], t->pos[i], l, hole);
        }
    return 0;
}

int trace_load(const char *path, size_t max_tokens, struct trace *t, struct err *e)
{
    memset(t, 0, sizeof *t);
    struct loader L;
    memset(&L, 0, sizeof L);
    L.path = path;
    L.e = e;
    L.max_tokens = max_tokens;
    L.max_layer = L.max_slot = L.max_expert = -1;
    map_init(&L.map, 1024);

    L.t = t;

    /* First pass: metadata, and the dimensions the metadata lacks. When the
     * metadata is complete, header_row() turns it into the filling pass. */
    pass_reset(&L);
    L.fill = 0;
    int rc = load_pass(&L);
    if (rc == 0 && !L.fill) {
        int experts = L.m_experts ? L.m_experts : L.max_expert + 1;
        int topk = L.m_topk ? L.m_topk : L.max_slot + 1;
        int layers = L.m_layers ? L.m_layers : L.max_layer + 1;
        if (topk > experts) {
            rc = fail(&L, 0, "topk %d exceeds experts %d", topk, experts);
        } else {
            L.b_experts = t->experts = experts;
            L.b_topk = t->topk = topk;
            L.b_layers = t->layers = layers;
            pass_reset(&L);
            L.fill = 1;
            rc = load_pass(&L);
        }
    }
    t->tokens = L.ntok;
    if (rc == 0) {
        /* Give back the spare capacity of the doubling. */
        size_t cells = t->tokens * (size_t)t->layers * (size_t)t->topk;
        t->seq = xrealloc(t->seq, t->tokens * sizeof *t->seq);
        t->pos = xrealloc(t->pos, t->tokens * sizeof *t->pos);
        t->expert = xrealloc(t->expert, cells * sizeof *t->expert);
        t->weight = xrealloc(t->weight, cells * sizeof *t->weight);
        rc = check_slots(&L);
    }
    if (rc == 0) {
        snprintf(t->model, sizeof t->model, "%s", L.model);
        snprintf(t->source, sizeof t->source, "%s", L.source);
    }
    loader_free(&L);
    if (rc) trace_free(t);
    return rc;
}

int trace_read_meta(const char *path, struct trace_meta *m, struct err *e)
{
    memset(m, 0, sizeof *m);
    struct loader L;
    memset(&L, 0, sizeof L);
    L.path = path;
    L.e = e;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    int c = getc(f);
    if (c == 0xEF) { /* a UTF-8 byte order mark, as load_pass skips it */
        if (getc(f) != 0xBB || getc(f) != 0xBF)
            c = EOF;
        else
            c = getc(f);
    }
    L.line = 1;
    while (c == '#' && !L.failed) {
        L.meta_len = 0;
        L.meta[0] = '\0';
        char ch = '#';
        while (c != EOF && c != '\n') {
            ch = (char)c;
            meta_append(&L, &ch, 1);
            c = getc(f);
        }
        L.meta[strcspn(L.meta, "\r")] = '\0';
        meta_line(&L);
        L.line++;
        c = c == EOF ? EOF : getc(f);
    }
    if (!L.failed && ferror(f)) fail(&L, L.line, "read error: %s", strerror(errno));
    fclose(f);
    if (!L.failed && L.m_experts && L.m_topk > L.m_experts)
        fail(&L, L.line, "topk %d exceeds experts %d", L.m_topk, L.m_experts);
    if (L.failed) return -1;
    m->experts = L.m_experts;
    m->topk = L.m_topk;
    m->layers = L.m_layers;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

int trace_csv_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    int quote = n && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]));
    quote |= strpbrk(s, ",\"\r\n") != NULL;
    if (quote) return csv_fwrite(f, s, n) ? -1 : 0;
    return fputs(s, f) < 0 ? -1 : 0;
}

static void put_meta(FILE *f, const char *key, const char *val)
{
    fprintf(f, "# %s=", key);
    for (const char *c = val; *c; c++)
        fputc(*c == '\n' || *c == '\r' ? ' ' : *c, f);
    fputc('\n', f);
}

void trace_csv_write_meta(FILE *f, const char *model, const char *source, int experts, int topk,
                          int layers)
{
    fputs("# moesim routing trace v1\n", f);
    if (model[0]) put_meta(f, "model", model);
    fprintf(f, "# experts=%d topk=%d layers=%d\n", experts, topk, layers);
    if (source[0]) put_meta(f, "source", source);
    fputs(HEADER "\n", f);
}

void trace_csv_write_token(FILE *f, int32_t seq, int32_t pos, int layers, int topk,
                           const int16_t *expert, const float *weight)
{
    for (int l = 0; l < layers; l++) {
        size_t base = (size_t)l * (size_t)topk;
        if (expert[base] < 0) continue;
        for (int k = 0; k < topk; k++)
            fprintf(f, "%d,%d,%d,%d,%d,%.6f\n", seq, pos, l, k, expert[base + (size_t)k],
                    (double)weight[base + (size_t)k]);
    }
}

FILE *trace_csv_open_out(const char *path, struct err *e)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) err_set(e, "%s:0: cannot write: %s", path, strerror(errno));
    return f;
}

int trace_csv_close_out(FILE *f, const char *path, struct err *e)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad) return err_set(e, "%s:0: write error: %s", path, strerror(errno));
    return 0;
}

int trace_write_csv(const char *path, const struct trace *t, struct err *e)
{
    FILE *f = trace_csv_open_out(path, e);
    if (!f) return -1;
    trace_csv_write_meta(f, t->model, t->source, t->experts, t->topk, t->layers);
    for (size_t i = 0; i < t->tokens; i++) {
        size_t base = trace_idx(t, i, 0, 0);
        trace_csv_write_token(f, t->seq[i], t->pos[i], t->layers, t->topk, t->expert + base,
                              t->weight + base);
    }
    return trace_csv_close_out(f, path, e);
}
