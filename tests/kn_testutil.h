/* kn_testutil.h - helpers for the kernels/ tests: a safetensors writer, a
 * float64 reference of the MoE block, and the batch/thread invariance check
 * of the CPU block. */
#ifndef MOESIM_KN_TESTUTIL_H
#define MOESIM_KN_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/layer.h"
#include "kernels/model.h"
#include "kernels/moe_cpu.h"
#include "kernels/weights.h"

struct st_tensor {
    const char *name, *dtype; /* "BF16": 2 bytes an element, anything else 4 */
    int ndim;
    long shape[2];
    const float *data; /* NULL: zeros */
};

static inline size_t st_count(const struct st_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

/* Writes a safetensors file; header_extra (may be NULL) is appended inside
 * the JSON object. Returns 0 on success. */
static inline int st_write(const char *path, const struct st_tensor *t, int n)
{
    size_t cap = 1 << 16, len = 0, off = 0;
    char *hdr = malloc(cap);
    len += (size_t)snprintf(hdr + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n; i++) {
        size_t bytes = st_count(&t[i]) * (strcmp(t[i].dtype, "BF16") ? 4 : 2);
        if (cap - len < 512) hdr = realloc(hdr, cap *= 2);
        len += (size_t)snprintf(hdr + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                                t[i].name, t[i].dtype);
        for (int d = 0; d < t[i].ndim; d++)
            len += (size_t)snprintf(hdr + len, cap - len, "%s%ld", d ? "," : "", t[i].shape[d]);
        len += (size_t)snprintf(hdr + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off,
                                off + bytes);
        off += bytes;
    }
    len += (size_t)snprintf(hdr + len, cap - len, "}");
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    for (int i = 0; i < 8; i++)
        fputc((int)(((uint64_t)len >> (8 * i)) & 0xff), f);
    fwrite(hdr, 1, len, f);
    for (int i = 0; i < n; i++) {
        size_t c = st_count(&t[i]);
        for (size_t j = 0; j < c; j++) {
            float v = t[i].data ? t[i].data[j] : 0.0f;
            uint32_t b;
            memcpy(&b, &v, 4);
            if (!strcmp(t[i].dtype, "BF16")) {
                fputc((int)((b >> 16) & 0xff), f);
                fputc((int)(b >> 24), f);
            } else {
                for (int k = 0; k < 4; k++)
                    fputc((int)((b >> (8 * k)) & 0xff), f);
            }
        }
    }
    free(hdr);
    return fclose(f);
}

/* Writes raw bytes: an 8-byte length then the given header and data. */
static inline void st_write_raw(const char *path, uint64_t hlen, const char *hdr, size_t hdrbytes,
                                size_t databytes)
{
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < 8; i++)
        fputc((int)((hlen >> (8 * i)) & 0xff), f);
    fwrite(hdr, 1, hdrbytes, f);
    for (size_t i = 0; i < databytes; i++)
        fputc(0, f);
    fclose(f);
}

/* The float64 MoE block: h [n][H] in place, routing out (selection on the
 * float64 logits, ties to the lower index). */
static inline void ref_block(const struct kn_dims *d, const struct kn_layer *w, double *h, int n,
                             int16_t *expert, double *weight)
{
    int H = d->hidden, F = d->ffn, E = d->experts, k = d->topk;
    double *xn = malloc(sizeof(double) * (size_t)H), *lg = malloc(sizeof(double) * (size_t)E);
    double *a = malloc(sizeof(double) * (size_t)F), *out = malloc(sizeof(double) * (size_t)H);
    for (int t = 0; t < n; t++) {
        double *ht = h + (size_t)t * H, ss = 0;
        for (int i = 0; i < H; i++)
            ss += ht[i] * ht[i];
        double r = 1.0 / sqrt(ss / H + d->eps);
        for (int i = 0; i < H; i++)
            xn[i] = ht[i] * r * w->norm[i];
        double mx = -INFINITY, sum = 0;
        for (int e = 0; e < E; e++) {
            lg[e] = 0;
            for (int i = 0; i < H; i++)
                lg[e] += xn[i] * w->gate[(size_t)e * H + i];
            mx = fmax(mx, lg[e]);
        }
        for (int e = 0; e < E; e++)
            sum += exp(lg[e] - mx);
        int16_t *ex = expert + (size_t)t * k;
        double *wt = weight + (size_t)t * k, ks = 0;
        for (int s = 0; s < k; s++) {
            int best = -1;
            for (int e = 0; e < E; e++) {
                int taken = 0;
                for (int q = 0; q < s; q++)
                    taken |= ex[q] == e;
                if (!taken && (best < 0 || lg[e] > lg[best])) best = e;
            }
            ex[s] = (int16_t)best;
            wt[s] = exp(lg[best] - mx) / sum;
            ks += wt[s];
        }
        if (d->renorm)
            for (int s = 0; s < k; s++)
                wt[s] /= ks;
        memset(out, 0, sizeof(double) * (size_t)H);
        for (int s = 0; s < k; s++) {
            size_t e = (size_t)ex[s];
            const float *w1 = w->w1 + e * F * H, *w3 = w->w3 + e * F * H, *w2 = w->w2 + e * H * F;
            for (int j = 0; j < F; j++) {
                double g = 0, u = 0;
                for (int i = 0; i < H; i++) {
                    g += xn[i] * w1[(size_t)j * H + i];
                    u += xn[i] * w3[(size_t)j * H + i];
                }
                a[j] = g / (1.0 + exp(-g)) * u;
            }
            for (int i = 0; i < H; i++) {
                double y = 0;
                for (int j = 0; j < F; j++)
                    y += a[j] * w2[(size_t)i * F + j];
                out[i] += wt[s] * y;
            }
        }
        for (int i = 0; i < H; i++)
            ht[i] += out[i];
    }
    free(xn);
    free(lg);
    free(a);
    free(out);
}

/* The CPU block (precision prec) on n seeded tokens through layer `layer`
 * of weights seeded with `seed` gives bitwise the same hidden states,
 * weights and experts with a batch of `batch` tokens on `threads` threads
 * as with one batch on one thread. Returns 0 when they agree. */
static inline int kn_check_batch_threads(const struct kn_dims *d, uint64_t seed, int layer, int n,
                                         int batch, int threads, int prec)
{
    size_t H = (size_t)d->hidden, k = (size_t)d->topk;
    struct kn_weights *w = kn_weights_seeded(d, seed, 1);
    struct kn_layer lay;
    kn_layer_alloc(d, &lay);
    kn_weights_layer(w, layer, &lay);
    float *h[2], *wt[2];
    int16_t *ex[2];
    for (int r = 0; r < 2; r++) {
        h[r] = malloc(sizeof(float) * (size_t)n * H);
        wt[r] = malloc(sizeof(float) * (size_t)n * k);
        ex[r] = malloc(sizeof(int16_t) * (size_t)n * k);
        for (int t = 0; t < n; t++)
            kn_weights_embed(w, (uint32_t)t, h[r] + (size_t)t * H);
        struct kn_cpu *cpu = kn_cpu_create(d, r ? batch : 0, r ? threads : 1, prec);
        kn_cpu_load(cpu, &lay);
        kn_cpu_forward(cpu, h[r], n, ex[r], wt[r]);
        kn_cpu_destroy(cpu);
    }
    int differ = memcmp(h[0], h[1], sizeof(float) * (size_t)n * H) ||
                 memcmp(wt[0], wt[1], sizeof(float) * (size_t)n * k) ||
                 memcmp(ex[0], ex[1], sizeof(int16_t) * (size_t)n * k);
    for (int r = 0; r < 2; r++)
        free(h[r]), free(wt[r]), free(ex[r]);
    kn_layer_free(&lay);
    kn_weights_destroy(w);
    return differ;
}

#endif
