/* compute.c - the expert compute model (see compute.h). The calibration CSV
 * is read with libcsv. */
#include "workloads/compute.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALIB_MAX_ROWS 1000000

struct calib_parse {
    const char *path;
    size_t line;     /* physical line of the record being parsed */
    int field;       /* index within the record */
    int header_done; /* the tokens,us header (or the first data row) seen */
    int is_header;
    char f0[64], f1[64];
    int nfields;
    struct wl_compute *m;
    size_t cap;
    struct err *e;
    int failed;
};

static void on_field(void *s, size_t len, void *data)
{
    struct calib_parse *p = data;
    char *dst = p->nfields == 0 ? p->f0 : p->f1;
    if (p->nfields < 2) {
        size_t n = len < 63 ? len : 63;
        memcpy(dst, s, n);
        dst[n] = '\0';
        for (size_t i = 0; i < n; i++) /* a quoted field may span lines: keep errors one line */
            if ((unsigned char)dst[i] < 0x20) dst[i] = '?';
    }
    p->nfields++;
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static void on_record(int c, void *data)
{
    (void)c;
    struct calib_parse *p = data;
    if (p->failed) return;
    int nf = p->nfields;
    p->nfields = 0;
    if (!p->header_done && nf == 2 && !strcmp(p->f0, "tokens") && !strcmp(p->f1, "us")) {
        p->header_done = 1;
        return;
    }
    p->header_done = 1;
    if (nf != 2) {
        p->failed = 1;
        err_set(p->e, "%s:%zu: expected 2 fields (tokens,us), got %d", p->path, p->line, nf);
        return;
    }
    double tok, us;
    if (parse_num(p->f0, &tok) < 0 || tok < 1 || tok != floor(tok) || tok > 1e12) {
        p->failed = 1;
        err_set(p->e, "%s:%zu: tokens: expected a whole number >= 1, got '%s'", p->path, p->line,
                p->f0);
        return;
    }
    if (parse_num(p->f1, &us) < 0 || us < 0 || us > 1e12) {
        p->failed = 1;
        err_set(p->e, "%s:%zu: us: expected a time >= 0 in microseconds, got '%s'", p->path,
                p->line, p->f1);
        return;
    }
    struct wl_compute *m = p->m;
    if (m->n && tok <= m->tokens[m->n - 1]) {
        p->failed = 1;
        err_set(p->e, "%s:%zu: tokens: %.0f does not increase (previous row %.0f)", p->path,
                p->line, tok, m->tokens[m->n - 1]);
        return;
    }
    if (m->n == CALIB_MAX_ROWS) {
        p->failed = 1;
        err_set(p->e, "%s:%zu: more than %d rows", p->path, p->line, CALIB_MAX_ROWS);
        return;
    }
    if (m->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        m->tokens = xrealloc(m->tokens, p->cap * sizeof *m->tokens);
        m->us = xrealloc(m->us, p->cap * sizeof *m->us);
    }
    m->tokens[m->n] = tok;
    m->us[m->n] = us;
    m->n++;
}

int wl_compute_load_csv(const char *path, struct wl_compute *m, struct err *e)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f) return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    struct csv_parser cp;
    csv_init(&cp, CSV_APPEND_NULL);
    struct calib_parse p = {.path = path, .m = m, .e = e};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    /* One physical line at a time, so errors can name it; '#' lines are
     * metadata and blank lines are skipped. */
    while (!p.failed && (len = getline(&line, &cap, f)) >= 0) {
        p.line++;
        if (len == 0 || line[0] == '#' || line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
            continue;
        if (memchr(line, '\0', (size_t)len)) {
            p.failed = 1;
            err_set(e, "%s:%zu: NUL byte in the file", path, p.line);
            break;
        }
        p.nfields = 0;
        if (csv_parse(&cp, line, (size_t)len, on_field, on_record, &p) != (size_t)len) {
            p.failed = 1;
            err_set(e, "%s:%zu: %s", path, p.line, csv_strerror(csv_error(&cp)));
            break;
        }
        csv_fini(&cp, on_field, on_record, &p);
    }
    int rerr = ferror(f);
    free(line);
    fclose(f);
    csv_free(&cp);
    if (!p.failed && rerr) p.failed = 1, err_set(e, "%s: read error", path);
    if (!p.failed && m->n == 0) p.failed = 1, err_set(e, "%s: no tokens,us rows", path);
    if (p.failed) {
        wl_compute_free(m);
        return -1;
    }
    m->calibrated = 1;
    return 0;
}

int wl_compute_init(const struct wl_spec *c, struct wl_compute *m, struct err *e)
{
    memset(m, 0, sizeof *m);
    if (strcmp(c->compute, "roofline") != 0) return wl_compute_load_csv(c->compute, m, e);
    double flops = 2.0 * 3.0 * (double)c->hidden * (double)c->ffn;
    m->ps_per_token = flops / (c->gpu_tflops * 1e12 * c->efficiency) * (double)PS_PER_S;
    m->overhead_ps = c->expert_overhead_us * (double)PS_PER_US;
    return 0;
}

void wl_compute_free(struct wl_compute *m)
{
    free(m->tokens);
    free(m->us);
    memset(m, 0, sizeof *m);
}

/* ps rounded, saturated at 2^63-1 (llround's result is unspecified beyond
 * long long; the driver refuses a phase that ends past the clock). */
static simtime_t ps_round(double ps)
{
    return ps < 9.2e18 ? (simtime_t)llround(ps) : (simtime_t)INT64_MAX;
}

simtime_t wl_compute_ps(const struct wl_compute *m, uint64_t tokens)
{
    if (tokens == 0) return 0;
    if (!m->calibrated) return ps_round(m->overhead_ps + m->ps_per_token * (double)tokens);
    double x = (double)tokens, us;
    size_t n = m->n;
    if (n == 1 || x <= m->tokens[0]) {
        us = n == 1 ? m->us[0] * (x > m->tokens[0] ? x / m->tokens[0] : 1.0) : m->us[0];
    } else if (x >= m->tokens[n - 1]) {
        double slope = (m->us[n - 1] - m->us[n - 2]) / (m->tokens[n - 1] - m->tokens[n - 2]);
        us = m->us[n - 1] + (slope > 0 ? slope : 0) * (x - m->tokens[n - 1]);
    } else {
        size_t lo = 0, hi = n - 1; /* tokens[lo] <= x < tokens[hi] */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (m->tokens[mid] <= x)
                lo = mid;
            else
                hi = mid;
        }
        double f = (x - m->tokens[lo]) / (m->tokens[hi] - m->tokens[lo]);
        us = m->us[lo] + f * (m->us[hi] - m->us[lo]);
    }
    return ps_round(us * (double)PS_PER_US);
}
