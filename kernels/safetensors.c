/* safetensors.c - safetensors header parsing (jansson), validation, and
 * conversion of BF16/F16/F32 data to fp32 (see safetensors.h). */
#include "kernels/safetensors.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    size_t size;
    int dtype;
} dtypes[] = {
    {"F32", 4, KN_ST_F32},    {"F16", 2, KN_ST_F16},       {"BF16", 2, KN_ST_BF16},
    {"F64", 8, KN_ST_OTHER},  {"I64", 8, KN_ST_OTHER},     {"I32", 4, KN_ST_OTHER},
    {"I16", 2, KN_ST_OTHER},  {"I8", 1, KN_ST_OTHER},      {"U8", 1, KN_ST_OTHER},
    {"U16", 2, KN_ST_OTHER},  {"U32", 4, KN_ST_OTHER},     {"U64", 8, KN_ST_OTHER},
    {"BOOL", 1, KN_ST_OTHER}, {"F8_E4M3", 1, KN_ST_OTHER}, {"F8_E5M2", 1, KN_ST_OTHER},
};

void kn_st_close(struct kn_st *st)
{
    if (!st) return;
    for (int i = 0; i < st->n; i++)
        free(st->t[i].name);
    free(st->t);
    if (st->map) munmap(st->map, st->size);
    free(st->path);
    free(st);
}

/* Fills one tensor entry from its JSON value; the data starts at data. */
static int parse_entry(struct kn_st *st, const char *name, json_t *v, const unsigned char *data,
                       size_t data_size, struct kn_st_tensor *t, struct err *e)
{
    const char *P = st->path;
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape");
    json_t *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) ||
        json_array_size(off) != 2)
        return err_set(e, "%s: tensor %s: entry needs dtype, shape and data_offsets [begin, end]",
                       P, name);
    t->name = xstrdup(name);
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", json_string_value(dt));
    t->dtype = KN_ST_OTHER;
    size_t esize = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(dtypes[i].name, json_string_value(dt)))
            t->dtype = dtypes[i].dtype, esize = dtypes[i].size;
    if (json_array_size(sh) > KN_ST_MAXDIM)
        return err_set(e, "%s: tensor %s: %zu dimensions, at most %d", P, name, json_array_size(sh),
                       KN_ST_MAXDIM);
    t->ndim = (int)json_array_size(sh);
    size_t count = 1;
    for (int i = 0; i < t->ndim; i++) {
        json_t *d = json_array_get(sh, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return err_set(e, "%s: tensor %s: shape entries must be integers >= 0", P, name);
        t->shape[i] = json_integer_value(d);
        if (t->shape[i] > 0 && count > ((size_t)1 << 48) / (size_t)t->shape[i])
            return err_set(e, "%s: tensor %s: shape too large", P, name);
        count *= (size_t)t->shape[i];
    }
    json_t *b = json_array_get(off, 0), *en = json_array_get(off, 1);
    if (!json_is_integer(b) || !json_is_integer(en) || json_integer_value(b) < 0 ||
        json_integer_value(en) < json_integer_value(b) ||
        (uint64_t)json_integer_value(en) > data_size)
        return err_set(e, "%s: tensor %s: data_offsets outside the %zu data bytes", P, name,
                       data_size);
    size_t begin = (size_t)json_integer_value(b), end = (size_t)json_integer_value(en);
    t->data = data + begin;
    t->nbytes = end - begin;
    if (esize && t->nbytes != count * esize)
        return err_set(e, "%s: tensor %s: data_offsets span %zu bytes, %s of this shape needs %zu",
                       P, name, t->nbytes, t->dtype_name, count * esize);
    return 0;
}

int kn_st_open(const char *path, struct kn_st **out, struct err *e)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return err_set(e, "%s: cannot open: %m", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return err_set(e, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return err_set(e, "%s: truncated: %zu bytes, shorter than the 8-byte header length", path,
                       size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return err_set(e, "%s: cannot map: %m", path);
    struct kn_st *st = xcalloc(1, sizeof *st);
    st->path = xstrdup(path);
    st->map = map;
    st->size = size;
    const unsigned char *p = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | p[i];
    if (hlen > size - 8) {
        err_set(e, "%s: header length %llu beyond the file's %zu bytes", path,
                (unsigned long long)hlen, size);
        kn_st_close(st);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        for (char *c = jerr.text; *c; c++) /* jansson quotes the text, line breaks too */
            if ((unsigned char)*c < 0x20) *c = ' ';
        err_set(e, "%s: header is not valid JSON: %s (at byte %d of %llu)", path, jerr.text,
                jerr.position, (unsigned long long)hlen);
        kn_st_close(st);
        return -1;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        err_set(e, "%s: header is not a JSON object", path);
        kn_st_close(st);
        return -1;
    }
    st->t = xcalloc(json_object_size(root) + 1, sizeof *st->t);
    const char *name;
    json_t *v;
    json_object_foreach(root, name, v)
    {
        if (!strcmp(name, "__metadata__")) continue;
        if (!json_is_object(v) ||
            parse_entry(st, name, v, p + 8 + hlen, size - 8 - hlen, &st->t[st->n], e) != 0) {
            if (!json_is_object(v))
                err_set(e, "%s: tensor %s: entry is not a JSON object", path, name);
            for (char *c = e ? e->msg : NULL; c && *c; c++) /* a name may hold line breaks */
                if ((unsigned char)*c < 0x20) *c = ' ';
            st->n++; /* so that close frees the name */
            json_decref(root);
            kn_st_close(st);
            return -1;
        }
        st->n++;
    }
    json_decref(root);
    *out = st;
    return 0;
}

const struct kn_st_tensor *kn_st_find(const struct kn_st *st, const char *name)
{
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->t[i].name, name)) return &st->t[i];
    return NULL;
}

static void fmt_shape(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used +=
            (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

const struct kn_st_tensor *kn_st_expect(const struct kn_st *st, const char *name, int ndim,
                                        const int64_t *shape, struct err *e)
{
    const struct kn_st_tensor *t = kn_st_find(st, name);
    if (!t) {
        err_set(e, "%s: tensor %s: missing", st->path, name);
        return NULL;
    }
    if (t->dtype == KN_ST_OTHER) {
        err_set(e, "%s: tensor %s: dtype %s, expected BF16, F16 or F32", st->path, name,
                t->dtype_name);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[128], want[128];
        fmt_shape(got, sizeof got, t->ndim, t->shape);
        fmt_shape(want, sizeof want, ndim, shape);
        err_set(e, "%s: tensor %s: shape %s, expected %s", st->path, name, got, want);
        return NULL;
    }
    return t;
}

static float half_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | man << 13; /* inf, nan */
    } else if (exp != 0) {
        bits = sign | (exp + 112) << 23 | man << 13;
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: normalise */
        int sh = 0;
        while (!(man & 0x400))
            man <<= 1, sh++;
        bits = sign | (uint32_t)(113 - sh) << 23 | (man & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void kn_st_to_f32(const struct kn_st_tensor *t, float *out)
{
    size_t esize = t->dtype == KN_ST_F32 ? 4 : 2, n = t->nbytes / esize;
    const unsigned char *p = t->data;
    for (size_t i = 0; i < n; i++, p += esize) {
        if (t->dtype == KN_ST_F32) {
            uint32_t b =
                (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            memcpy(&out[i], &b, 4);
        } else {
            uint16_t h = (uint16_t)(p[0] | p[1] << 8);
            if (t->dtype == KN_ST_BF16) {
                uint32_t b = (uint32_t)h << 16;
                memcpy(&out[i], &b, 4);
            } else {
                out[i] = half_to_f32(h);
            }
        }
    }
}
