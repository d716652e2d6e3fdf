/* trace_counts.c - per-layer expert selection count files (trace_counts.h),
 * read with libcsv one physical line at a time so errors name exact lines. */
#include "workloads/trace_counts.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/trace.h"

struct crow {
    long layer, expert;
    double count;
    size_t line;
};

struct creader {
    const char *path;
    struct err *e;
    int failed, header_done;
    size_t line, nf;
    char f[3][64];
    int toolong;
    struct crow *row;
    size_t n, cap;
};

static int cfail(struct creader *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cfail(struct creader *R, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    R->failed = 1;
    return err_set(R->e, "%s:%zu: %s", R->path, R->line, msg);
}

static void c_field(void *s, size_t len, void *data)
{
    struct creader *R = data;
    if (R->nf < 3) {
        if (len >= sizeof R->f[0]) {
            len = sizeof R->f[0] - 1;
            R->toolong = 1;
        }
        memcpy(R->f[R->nf], s ? s : "", len);
        R->f[R->nf][len] = '\0';
        for (size_t i = 0; i < len; i++)
            if (!isprint((unsigned char)R->f[R->nf][i])) R->f[R->nf][i] = '?';
    }
    R->nf++;
}

static void c_record(int c, void *data)
{
    (void)c;
    struct creader *R = data;
    size_t nf = R->nf;
    R->nf = 0;
    if (R->failed) return;
    if (!R->header_done) {
        R->header_done = 1;
        if (nf != 3 || strcmp(R->f[0], "layer") || strcmp(R->f[1], "expert") ||
            strcmp(R->f[2], "count"))
            cfail(R, "missing header layer,expert,count");
        return;
    }
    if (nf != 3) {
        cfail(R, "expected 3 fields, got %zu", nf);
        return;
    }
    struct crow r = {.line = R->line};
    char *end;
    r.layer = strtol(R->f[0], &end, 10);
    if (end == R->f[0] || *end || R->toolong) {
        cfail(R, "layer '%s': not an integer", R->f[0]);
        return;
    }
    if (r.layer < 0 || r.layer > INT32_MAX) {
        cfail(R, "layer %s: negative or too large", R->f[0]);
        return;
    }
    r.expert = strtol(R->f[1], &end, 10);
    if (end == R->f[1] || *end || R->toolong) {
        cfail(R, "expert '%s': not an integer", R->f[1]);
        return;
    }
    if (r.expert < 0 || r.expert >= TRACE_MAX_EXPERTS) {
        cfail(R, "expert %s outside [0, %d)", R->f[1], TRACE_MAX_EXPERTS);
        return;
    }
    r.count = strtod(R->f[2], &end);
    if (end == R->f[2] || *end || !isfinite(r.count) || R->toolong) {
        cfail(R, "count '%s': not a finite number", R->f[2]);
        return;
    }
    if (r.count < 0) {
        cfail(R, "count '%s': negative", R->f[2]);
        return;
    }
    if (R->n == R->cap) {
        R->cap = R->cap ? 2 * R->cap : 256;
        R->row = xrealloc(R->row, R->cap * sizeof *R->row);
    }
    R->row[R->n++] = r;
}

static int cmp_row(const void *a, const void *b)
{
    const struct crow *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    if (x->expert != y->expert) return x->expert < y->expert ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

int trace_counts_load(const char *path, struct trace_counts *c, struct err *e)
{
    memset(c, 0, sizeof *c);
    struct creader R = {.path = path, .e = e, .line = 0};
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, "%s:0: cannot open: %s", path, strerror(errno));
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
        err_fatal("out of memory initialising libcsv");
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while (!R.failed && (len = getline(&line, &lcap, f)) >= 0) {
        R.line++;
        if (!R.header_done && line[0] == '#') continue;
        if (csv_parse(&p, line, (size_t)len, c_field, c_record, &R) != (size_t)len)
            cfail(&R, "malformed CSV: %s", csv_strerror(csv_error(&p)));
    }
    if (!R.failed && ferror(f)) cfail(&R, "read error: %s", strerror(errno));
    if (!R.failed && csv_fini(&p, c_field, c_record, &R))
        cfail(&R, "malformed CSV: %s", csv_strerror(csv_error(&p)));
    if (!R.failed && !R.header_done) cfail(&R, "missing header layer,expert,count");
    if (!R.failed && R.n == 0) cfail(&R, "no data rows");
    free(line);
    csv_free(&p);
    fclose(f);
    if (R.failed) {
        free(R.row);
        return -1;
    }
    /* Sort by (layer, expert, line): duplicates become neighbours. */
    qsort(R.row, R.n, sizeof *R.row, cmp_row);
    long max_expert = 0;
    int layers = 0;
    for (size_t i = 0; i < R.n; i++) {
        if (i && R.row[i].layer == R.row[i - 1].layer && R.row[i].expert == R.row[i - 1].expert) {
            R.line = R.row[i].line;
            cfail(&R, "duplicate row for layer %ld expert %ld", R.row[i].layer, R.row[i].expert);
            free(R.row);
            return -1;
        }
        if (R.row[i].expert > max_expert) max_expert = R.row[i].expert;
        if (!i || R.row[i].layer != R.row[i - 1].layer) layers++;
    }
    if (layers > TRACE_MAX_LAYERS) {
        R.line = R.row[R.n - 1].line;
        cfail(&R, "more than %d layers", TRACE_MAX_LAYERS);
        free(R.row);
        return -1;
    }
    c->experts = (int)max_expert + 1;
    c->layers = layers;
    c->layer_id = xcalloc((size_t)layers, sizeof *c->layer_id);
    c->count = xcalloc((size_t)layers * (size_t)c->experts, sizeof *c->count);
    int l = -1;
    for (size_t i = 0; i < R.n; i++) {
        if (!i || R.row[i].layer != R.row[i - 1].layer) c->layer_id[++l] = (int)R.row[i].layer;
        c->count[(size_t)l * (size_t)c->experts + (size_t)R.row[i].expert] = R.row[i].count;
    }
    free(R.row);
    return 0;
}

void trace_counts_free(struct trace_counts *c)
{
    free(c->layer_id);
    free(c->count);
    memset(c, 0, sizeof *c);
}

int trace_counts_sniff(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[256];
    int yes = 0;
    while (fgets(buf, sizeof buf, f)) {
        if (buf[0] == '#') continue;
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!buf[0]) continue;
        yes = !strcmp(buf, "layer,expert,count");
        break;
    }
    fclose(f);
    return yes;
}

void trace_counts_stats(const struct trace_counts *c, int topk, struct trace_stats *s)
{
    memset(s, 0, sizeof *s);
    s->layers = c->layers;
    s->layer = xcalloc((size_t)c->layers, sizeof *s->layer);
    s->layer_id = xcalloc((size_t)c->layers, sizeof *s->layer_id);
    for (int l = 0; l < c->layers; l++) {
        const double *row = c->count + (size_t)l * (size_t)c->experts;
        double sum = 0;
        for (int x = 0; x < c->experts; x++)
            sum += row[x];
        s->layer_id[l] = c->layer_id[l];
        s->layer[l].tokens = (size_t)llround(sum / topk);
        s->layer[l].imbalance = trace_imbalance(row, c->experts);
        s->layer[l].entropy_bits = trace_entropy_bits(row, c->experts);
        s->layer[l].affinity_next = NAN;
        if (s->layer[l].tokens > s->all.tokens) s->all.tokens = s->layer[l].tokens;
    }
    trace_stats_overall(s);
}
