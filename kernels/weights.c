/* weights.c - seeded or checkpoint weights, one layer at a time (see weights.h).
 *
 * Layers are produced on demand into the caller's buffer rather than held all
 * at once: an OLMoE layer is 1.6 GB in fp32 and a Mixtral one 5.6 GB, so a
 * whole stack does not fit in memory. Filling a seeded layer draws E*3*F*H
 * normals; the tensors are shared among threads.
 *
 * The streams are GSL's taus2 (L'Ecuyer's maximally equidistributed combined
 * Tausworthe generator) under gsl_ran_gaussian_ziggurat: measured on the
 * development machine, 5.2 ns a normal against 10.1 ns with mt19937, which
 * drew the same values until 2026-11-23 (the draws were a seventh of the
 * CPU time of an OLMoE capture). Changing the generator changed the seeded
 * weights, not the contract: same seed, same weights, any thread count.
 */
#include "kernels/weights.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/safetensors.h"

enum { T_NORM, T_GATE, T_W1, T_W3, T_W2, T_EMBED };

struct kn_weights {
    struct kn_dims d;
    uint64_t seed;
    int threads;
    struct kn_st *st;                    /* NULL when seeded */
    const struct kn_st_tensor **tensors; /* [L][2 + 3E] when from a file */
    const struct kn_st_tensor *embed;
    char *source;
};

float kn_round_bf16(float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    if ((b & 0x7f800000u) != 0x7f800000u) b += 0x7fffu + ((b >> 16) & 1u);
    b &= 0xffff0000u;
    memcpy(&x, &b, 4);
    return x;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* n bf16-rounded normals of std sd from the stream of (seed, a, b, c). */
static void fill_normal(gsl_rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c, float *out,
                        size_t n, double sd)
{
    uint64_t s = mix(mix(mix(mix(seed) ^ a) ^ b) ^ c);
    gsl_rng_set(r, (unsigned long)(s ^ (s >> 32)));
    for (size_t i = 0; i < n; i++)
        out[i] = kn_round_bf16((float)gsl_ran_gaussian_ziggurat(r, sd));
}

struct kn_weights *kn_weights_seeded(const struct kn_dims *d, uint64_t seed, int threads)
{
    struct kn_weights *w = xcalloc(1, sizeof *w);
    w->d = *d;
    w->seed = seed;
    w->threads = threads < 1 ? 1 : threads;
    w->source = xstrdup("seeded");
    return w;
}

void kn_weights_destroy(struct kn_weights *w)
{
    if (!w) return;
    kn_st_close(w->st);
    free(w->tensors);
    free(w->source);
    free(w);
}

const char *kn_weights_source(const struct kn_weights *w)
{
    return w->source;
}

int kn_weights_open(const char *path, const struct kn_dims *d, uint64_t seed, int threads,
                    struct kn_weights **out, struct err *e)
{
    *out = NULL;
    struct kn_st *st;
    if (kn_st_open(path, &st, e) != 0) return -1;
    struct kn_weights *w = kn_weights_seeded(d, seed, threads);
    free(w->source);
    w->source = xstrdup(path);
    w->st = st;
    int E = d->experts, per = 2 + 3 * E;
    int64_t H = d->hidden, F = d->ffn;
    w->tensors = xcalloc((size_t)d->layers * (size_t)per, sizeof *w->tensors);
    char name[256], alt[256];
    for (int l = 0; l < d->layers; l++) {
        const struct kn_st_tensor **t = w->tensors + (size_t)l * (size_t)per;
        /* the naming scheme, from the router's name */
        const char *pre = "block_sparse_moe", *n1 = "w1", *n3 = "w3", *n2 = "w2";
        snprintf(name, sizeof name, "model.layers.%d.block_sparse_moe.gate.weight", l);
        snprintf(alt, sizeof alt, "model.layers.%d.mlp.gate.weight", l);
        if (!kn_st_find(st, name) && kn_st_find(st, alt))
            pre = "mlp", n1 = "gate_proj", n3 = "up_proj", n2 = "down_proj";
        if (!kn_st_find(st, name) && !kn_st_find(st, alt)) {
            err_set(e, "%s: tensor %s: missing (nor %s)", path, name, alt);
            goto fail;
        }
        snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", l);
        if (kn_st_find(st, name) && !(t[0] = kn_st_expect(st, name, 1, (int64_t[]){H}, e)))
            goto fail;
        snprintf(name, sizeof name, "model.layers.%d.%s.gate.weight", l, pre);
        if (!(t[1] = kn_st_expect(st, name, 2, (int64_t[]){E, H}, e))) goto fail;
        for (int x = 0; x < E; x++) {
            const char *nm[3] = {n1, n3, n2};
            for (int j = 0; j < 3; j++) {
                snprintf(name, sizeof name, "model.layers.%d.%s.experts.%d.%s.weight", l, pre, x,
                         nm[j]);
                int64_t shape[2] = {j < 2 ? F : H, j < 2 ? H : F};
                if (!(t[2 + 3 * x + j] = kn_st_expect(st, name, 2, shape, e))) goto fail;
            }
        }
    }
    const struct kn_st_tensor *emb = kn_st_find(st, "model.embed_tokens.weight");
    if (emb) {
        int64_t shape[2] = {emb->ndim == 2 && emb->shape[0] > 0 ? emb->shape[0] : 1, H};
        if (!(w->embed = kn_st_expect(st, "model.embed_tokens.weight", 2, shape, e))) goto fail;
    }
    *out = w;
    return 0;
fail:
    kn_weights_destroy(w);
    return -1;
}

/* One unit of layer filling: tensor `kind` of expert x (0 for norm, gate). */
struct fill_job {
    struct kn_weights *w;
    int l;
    struct kn_layer *out;
    atomic_int next;
};

/* Tensor `item` (layer.h's numbering) of layer l into dst. */
static void fill_item(struct kn_weights *w, int l, int item, float *dst, gsl_rng *r)
{
    size_t H = (size_t)w->d.hidden, F = (size_t)w->d.ffn, E = (size_t)w->d.experts;
    int kind = item < 2 ? T_NORM + item : T_W1 + (item - 2) % 3, x = item < 2 ? 0 : (item - 2) / 3;
    size_t n = kn_layer_item_elems(&w->d, item);
    if (w->st) {
        const struct kn_st_tensor *t = w->tensors[(size_t)l * (2 + 3 * E) + (size_t)item];
        if (t)
            kn_st_to_f32(t, dst);
        else /* optional norm gain absent */
            for (size_t i = 0; i < n; i++)
                dst[i] = 1.0f;
        return;
    }
    if (kind == T_NORM) {
        for (size_t i = 0; i < n; i++)
            dst[i] = 1.0f;
        return;
    }
    double sd = 1.0 / sqrt((double)(kind == T_W2 ? F : H));
    fill_normal(r, w->seed, (uint64_t)l, (uint64_t)kind, (uint64_t)x, dst, n, sd);
}

static void *fill_worker(void *p)
{
    struct fill_job *j = p;
    int items = 2 + 3 * j->w->d.experts;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!r) err_fatal("out of memory allocating a random number generator");
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < items;)
        fill_item(j->w, j->l, i, kn_layer_item(&j->w->d, j->out, i), r);
    gsl_rng_free(r);
    return NULL;
}

void kn_weights_layer(struct kn_weights *w, int l, struct kn_layer *out)
{
    struct fill_job j = {.w = w, .l = l, .out = out};
    atomic_store(&j.next, 0);
    pthread_t tid[64];
    int nt = w->threads < 64 ? w->threads : 64, started = 0;
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&tid[t], NULL, fill_worker, &j) != 0) break;
        started = t;
    }
    fill_worker(&j);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}

void kn_weights_item(struct kn_weights *w, int l, int item, float *dst)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!r) err_fatal("out of memory allocating a random number generator");
    fill_item(w, l, item, dst, r);
    gsl_rng_free(r);
}

static void embed_one(struct kn_weights *w, uint32_t id, float *out, gsl_rng *r)
{
    size_t H = (size_t)w->d.hidden;
    if (w->embed) {
        struct kn_st_tensor row = *w->embed;
        size_t esize = row.dtype == KN_ST_F32 ? 4 : 2;
        row.data += (size_t)(id % (uint64_t)w->embed->shape[0]) * H * esize;
        row.nbytes = H * esize;
        kn_st_to_f32(&row, out);
        return;
    }
    fill_normal(r, w->seed, 0xffffffffu, T_EMBED, id, out, H, 1.0);
}

void kn_weights_embed(struct kn_weights *w, uint32_t id, float *out)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!r) err_fatal("out of memory allocating a random number generator");
    embed_one(w, id, out, r);
    gsl_rng_free(r);
}

struct embed_job {
    struct kn_weights *w;
    const uint32_t *ids;
    size_t n;
    float *out;
    atomic_size_t next;
};

#define EMBED_BLOCK 256

static void *embed_worker(void *p)
{
    struct embed_job *j = p;
    size_t H = (size_t)j->w->d.hidden;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!r) err_fatal("out of memory allocating a random number generator");
    for (size_t b; (b = atomic_fetch_add(&j->next, EMBED_BLOCK)) < j->n;)
        for (size_t i = b; i < j->n && i < b + EMBED_BLOCK; i++)
            embed_one(j->w, j->ids[i], j->out + i * H, r);
    gsl_rng_free(r);
    return NULL;
}

void kn_weights_embed_rows(struct kn_weights *w, const uint32_t *ids, size_t n, float *out)
{
    struct embed_job j = {.w = w, .ids = ids, .n = n, .out = out};
    atomic_store(&j.next, 0);
    pthread_t tid[64];
    int nt = w->threads < 64 ? w->threads : 64, started = 0;
    for (int t = 1; t < nt && (size_t)t * EMBED_BLOCK < n; t++) {
        if (pthread_create(&tid[t], NULL, embed_worker, &j) != 0) break;
        started = t;
    }
    embed_worker(&j);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}
