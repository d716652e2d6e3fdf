/* err.c - error reporting and checked allocation (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int err_set(struct err *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Length of the well-formed UTF-8 sequence at s (2..4 bytes), 0 if there is
 * none (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t err_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    if (c == 0xC2 && s[1] <= 0x9F) return 0; /* a C1 control */
    return n;
}

void err_escape(struct err *e)
{
    if (!e) return;
    char out[ERR_MSG_MAX];
    size_t w = 0;
    const unsigned char *s = (const unsigned char *)e->msg;
    for (size_t i = 0; s[i];) {
        size_t n = s[i] >= 0x20 && s[i] < 0x7f ? 1 : s[i] >= 0x80 ? err_utf8_len(s + i) : 0;
        size_t need = n ? n : 4;
        if (w + need >= sizeof out) break;
        if (n) {
            memcpy(out + w, s + i, n);
            i += n;
        } else {
            snprintf(out + w, 5, "\\x%02x", s[i]);
            i++;
        }
        w += need;
    }
    out[w] = '\0';
    memcpy(e->msg, out, w + 1);
}

void err_fatal(const char *fmt, ...)
{
    va_list ap;
    fputs("moesim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) err_fatal("out of memory allocating %zu bytes", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) err_fatal("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) err_fatal("out of memory reallocating %zu bytes", n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}
