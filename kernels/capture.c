/* capture.c - `moesim capture`: the routing of real MoE router computations
 * over a text, written as a trace CSV (the format of "Routing traces (CSV)"
 * in workloads/README.md; kernels/README.md).
 *
 * Tokens go through in chunks: a chunk's hidden states [chunk][H] pass
 * through the L blocks one layer at a time (so one layer's weights are in
 * memory, not the stack's), then the chunk's rows are written in (token,
 * layer, slot) order. Everything that can be wrong with the input (options,
 * text, checkpoint, device) is checked before the output file is created.
 *
 * The first hidden states come from the text's tokens through the embedding
 * table (--text), or straight from a file (--states FILE.safetensors: a
 * tensor "hidden_states" of [N][hidden], BF16, F16 or F32, e.g. dumped from
 * a real model's residual stream); its rows are tokens 0..N-1 of sequence 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <csv.h>

#include "kernels/opts.h"
#include "kernels/device.h"
#include "kernels/layer.h"
#include "kernels/safetensors.h"
#include "kernels/tokenizer.h"
#include "kernels/weights.h"

#define CACHE_BYTES ((size_t)2 << 30) /* keep every layer when the stack fits */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int read_file(const char *path, char **buf, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, "%s: cannot open: %m", path);
    size_t cap = 1 << 16, n = 0;
    char *b = xmalloc(cap);
    for (size_t r; (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) b = xrealloc(b, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return err_set(e, "%s: read error", path);
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Appends field v (n bytes) to row buffer b at *len, quoted by libcsv
 * (csv_write), then `sep`. The buffer has room: a field is a short number. */
static void put_field(char *b, size_t *len, const char *v, int n, char sep)
{
    *len += csv_write(b + *len, 2 * (size_t)n + 2, v, (size_t)n);
    b[(*len)++] = sep;
}

/* One CSV row per (token, layer, slot) of the chunk's tokens [t0, t0 + n):
 * fields quoted by libcsv into a buffer written in large blocks (csv_fwrite
 * per field, through stdio a character at a time, took seconds for 2 M
 * rows). */
static int write_rows(FILE *f, const struct kn_tokens *tok, size_t t0, int n,
                      const struct kn_dims *d, const int16_t *expert, const float *weight)
{
    enum { CAP = 1 << 16, ROW = 512 }; /* a row: 6 fields of at most 32 bytes, quoted */
    char *buf = xmalloc(CAP), v[32];
    size_t len = 0, L = (size_t)d->layers, k = (size_t)d->topk;
    for (int t = 0; t < n; t++)
        for (size_t l = 0; l < L; l++)
            for (size_t s = 0; s < k; s++) {
                size_t a = ((size_t)t * L + l) * k + s;
                put_field(buf, &len, v, snprintf(v, sizeof v, "%d", tok->seq[t0 + (size_t)t]), ',');
                put_field(buf, &len, v, snprintf(v, sizeof v, "%d", tok->pos[t0 + (size_t)t]), ',');
                put_field(buf, &len, v, snprintf(v, sizeof v, "%zu", l), ',');
                put_field(buf, &len, v, snprintf(v, sizeof v, "%zu", s), ',');
                put_field(buf, &len, v, snprintf(v, sizeof v, "%d", expert[a]), ',');
                put_field(buf, &len, v, snprintf(v, sizeof v, "%.6f", weight[a]), '\n');
                if (len > CAP - ROW) {
                    fwrite(buf, 1, len, f);
                    len = 0;
                }
            }
    fwrite(buf, 1, len, f);
    free(buf);
    return ferror(f) ? -1 : 0;
}

/* The first want tokens of the text, cycling through it again (with new
 * sequence numbers) if it is shorter. */
static void take_tokens(const struct kn_tokens *all, size_t want, struct kn_tokens *t)
{
    t->n = want;
    t->id = xmalloc(sizeof *t->id * want);
    t->seq = xmalloc(sizeof *t->seq * want);
    t->pos = xmalloc(sizeof *t->pos * want);
    int32_t seqs = all->seq[all->n - 1] + 1;
    for (size_t i = 0; i < want; i++) {
        size_t j = i % all->n, round = i / all->n;
        t->id[i] = all->id[j];
        t->seq[i] = all->seq[j] + (int32_t)round * seqs;
        t->pos[i] = all->pos[j];
    }
}

/* Rows [r0, r0 + n) of the states tensor t ([N][H]) as fp32 into out. */
static void states_rows(const struct kn_st_tensor *t, size_t r0, size_t n, float *out)
{
    struct kn_st_tensor v = *t;
    size_t row = t->nbytes / (size_t)t->shape[0];
    v.data = t->data + r0 * row;
    v.nbytes = n * row;
    v.shape[0] = (int64_t)n;
    kn_st_to_f32(&v, out);
}

/* Opens --states: the tensor hidden_states, [N][H] with a float dtype and
 * every value finite; *tokens (0: all N) rows of it become tok (sequence 0,
 * positions 0..). */
static int open_states(const char *path, size_t H, long *tokens, struct kn_st **stp,
                       const struct kn_st_tensor **tp, struct kn_tokens *tok, struct err *e)
{
    struct kn_st *st;
    if (kn_st_open(path, &st, e)) return -1;
    const struct kn_st_tensor *t = kn_st_find(st, "hidden_states");
    /* any number of rows (at least one), H columns */
    int64_t want[2] = {t && t->ndim == 2 && t->shape[0] > 0 ? t->shape[0] : 1, (int64_t)H};
    t = kn_st_expect(st, "hidden_states", 2, want, e);
    if (!t) {
        kn_st_close(st);
        return -1;
    }
    size_t N = (size_t)t->shape[0];
    if (*tokens == 0) *tokens = (long)N;
    if ((size_t)*tokens > N) {
        kn_st_close(st);
        return err_set(e, "%s: tensor hidden_states: %zu rows, fewer than --tokens %ld", path, N,
                       *tokens);
    }
    float *row = xmalloc(sizeof *row * H);
    for (size_t r = 0; r < (size_t)*tokens; r++) {
        states_rows(t, r, 1, row);
        for (size_t i = 0; i < H; i++)
            if (!isfinite(row[i])) {
                free(row);
                kn_st_close(st);
                return err_set(e,
                               "%s: tensor hidden_states: row %zu, column %zu: not a finite "
                               "number",
                               path, r, i);
            }
    }
    free(row);
    tok->n = (size_t)*tokens;
    tok->id = xcalloc(tok->n, sizeof *tok->id);
    tok->seq = xcalloc(tok->n, sizeof *tok->seq);
    tok->pos = xmalloc(sizeof *tok->pos * tok->n);
    for (size_t r = 0; r < tok->n; r++)
        tok->pos[r] = (int32_t)r;
    *stp = st;
    *tp = t;
    return 0;
}

int kn_capture(const struct kn_capture_opts *co, struct err *e)
{
    const struct kn_opts *o = &co->k;
    const char *text = co->text, *states = co->states;
    long tokens = co->tokens, chunk = co->chunk;
    int quiet = co->quiet;
    struct kn_dims d;
    if (kn_opts_dims(o, &d, e)) return KN_BAD_INPUT;
    if (!text == !states || (text && !tokens) || !o->out) {
        return err_set(e, "--text FILE with --tokens N, or --states FILE.safetensors, and -o FILE "
                          "are required");
    }
    struct kn_tokens tok;
    struct kn_st *st = NULL;
    const struct kn_st_tensor *hs = NULL;
    if (states) {
        if (open_states(states, (size_t)d.hidden, &tokens, &st, &hs, &tok, e)) return KN_BAD_INPUT;
    } else {
        char *buf = NULL;
        size_t len = 0;
        if (read_file(text, &buf, &len, e)) return KN_BAD_INPUT;
        struct kn_tokens all;
        kn_tokenize(buf, len, (size_t)tokens, &all);
        free(buf);
        if (all.n == 0) {
            kn_tokens_free(&all);
            err_set(e, "%s: no words in the text", text);
            return KN_BAD_INPUT;
        }
        take_tokens(&all, (size_t)tokens, &tok);
        kn_tokens_free(&all);
    }

    struct kn_weights *w = NULL;
    if (o->weights) {
        if (kn_weights_open(o->weights, &d, o->seed, o->threads, &w, e)) {
            kn_tokens_free(&tok);
            kn_st_close(st);
            return KN_BAD_INPUT;
        }
    } else {
        w = kn_weights_seeded(&d, o->seed, o->threads);
    }
    size_t H = (size_t)d.hidden, L = (size_t)d.layers, k = (size_t)d.topk;
    if (!chunk) {
        size_t c = ((size_t)1 << 28) / (H * sizeof(float)); /* 256 MiB of hidden state */
        chunk = c < 1 ? 1 : (long)c;
    }
    if (chunk > tokens) chunk = tokens;
    struct kn_device *dev;
    char note[ERR_MSG_MAX + 64];
    if (kn_device_open(o->device, &d, (int)chunk, o->threads, o->precision, &dev, note, sizeof note,
                       e)) {
        kn_weights_destroy(w);
        kn_tokens_free(&tok);
        kn_st_close(st);
        return KN_BAD_INPUT;
    }
    if (note[0]) fprintf(stderr, "moesim capture: %s\n", note);

    FILE *f = fopen(o->out, "w");
    if (!f) {
        err_set(e, "%s: cannot create: %m", o->out);
        kn_device_close(dev);
        kn_weights_destroy(w);
        kn_tokens_free(&tok);
        kn_st_close(st);
        return KN_BAD_INPUT;
    }
    fprintf(f, "#model=%s\n#experts=%d\n#topk=%d\n#layers=%d\n#source=capture\n", d.model,
            d.experts, d.topk, d.layers);
    fprintf(f, "#preset=%s\n#hidden=%d\n#ffn=%d\n#renorm=%d\n#device=%s\n#device_name=%s\n",
            o->preset, d.hidden, d.ffn, d.renorm, kn_device_kind(dev), kn_device_name(dev));
    fprintf(f, "#precision=%s\n", kn_device_precision(dev));
    fprintf(f, "#weights=%s\n#seed=%llu\n", kn_weights_source(w), (unsigned long long)o->seed);
    if (states)
        fprintf(f,
                "#states=%s\n#tokens=%zu\n#tokenizer=none (hidden states from the file, seq "
                "0)\n",
                states, tok.n);
    else
        fprintf(f, "#text=%s\n#tokens=%zu\n#tokenizer=words fnv1a mod %d, seq = paragraph\n", text,
                tok.n, KN_VOCAB);
    fprintf(f, "#attention=none\n");
    fprintf(f, "seq,token,layer,slot,expert,weight\n");

    /* layer buffers: all L when they fit in CACHE_BYTES and there are several
     * chunks to reuse them for, else one refilled per layer */
    size_t nchunks = ((size_t)tokens + (size_t)chunk - 1) / (size_t)chunk;
    int cache_all = nchunks > 1 && L * kn_layer_bytes(&d) <= CACHE_BYTES;
    /* the CPU bf16 path makes and packs a layer one tensor at a time: no
     * fp32 layer buffer (unless all layers are kept for several chunks) */
    int direct = !cache_all && kn_device_direct(dev);
    size_t nbuf = direct ? 0 : cache_all ? L : 1;
    struct kn_layer *lay = xcalloc(nbuf ? nbuf : 1, sizeof *lay);
    for (size_t b = 0; b < nbuf; b++)
        kn_layer_alloc(&d, &lay[b]);
    float *h = kn_alloc_big((size_t)chunk * H);
    int16_t *ex = xmalloc(sizeof(int16_t) * (size_t)chunk * L * k);
    float *wt = xmalloc(sizeof(float) * (size_t)chunk * L * k);
    int16_t *ex1 = xmalloc(sizeof(int16_t) * (size_t)chunk * k);
    float *wt1 = xmalloc(sizeof(float) * (size_t)chunk * k);
    double t_start = now_s(), t_weights = 0.0, t_load = 0.0, t_forward = 0.0, t_embed = 0.0,
           t_write = 0.0;
    int rc = 0;
    for (size_t t0 = 0; t0 < tok.n && rc == 0; t0 += (size_t)chunk) {
        int n = tok.n - t0 < (size_t)chunk ? (int)(tok.n - t0) : (int)chunk;
        double te = now_s();
        if (hs)
            states_rows(hs, t0, (size_t)n, h);
        else
            kn_weights_embed_rows(w, tok.id + t0, (size_t)n, h);
        t_embed += now_s() - te;
        for (size_t l = 0; l < L && rc == 0; l++) {
            double t1 = now_s(), t2, t3;
            if (direct) {
                kn_device_load_weights(dev, w, (int)l);
                t2 = t3 = now_s();
            } else {
                struct kn_layer *cur = &lay[cache_all ? l : 0];
                if (!cache_all || t0 == 0) kn_weights_layer(w, (int)l, cur);
                t2 = now_s();
                rc = kn_device_load_layer(dev, cur, e);
                t3 = now_s();
            }
            if (rc == 0) rc = kn_device_forward(dev, h, n, ex1, wt1, e);
            t_weights += t2 - t1;
            t_load += t3 - t2;
            t_forward += now_s() - t3;
            for (int t = 0; rc == 0 && t < n; t++) {
                memcpy(ex + ((size_t)t * L + l) * k, ex1 + (size_t)t * k, sizeof *ex * k);
                memcpy(wt + ((size_t)t * L + l) * k, wt1 + (size_t)t * k, sizeof *wt * k);
            }
        }
        double tw = now_s();
        if (rc == 0 && write_rows(f, &tok, t0, n, &d, ex, wt)) {
            rc = err_set(e, "%s: write error", o->out);
        }
        t_write += now_s() - tw;
        if (rc == 0 && !quiet)
            fprintf(stderr, "moesim capture: %zu/%zu tokens, %.1f s\n", t0 + (size_t)n, tok.n,
                    now_s() - t_start);
    }
    if (fclose(f) != 0 && rc == 0) rc = err_set(e, "%s: write error", o->out);
    if (rc == 0 && !quiet)
        fprintf(stderr,
                "moesim capture: %zu tokens x %zu layers on %s, %s, in %.2f s (weights %.2f s%s, "
                "load %.2f s, forward %.2f s, embeddings %.2f s, writing %.2f s)\n",
                tok.n, L, kn_device_name(dev), kn_device_precision(dev), now_s() - t_start,
                t_weights, direct ? " made and packed" : "", t_load, t_forward, t_embed, t_write);
    if (rc != 0) unlink(o->out);
    for (size_t b = 0; b < nbuf; b++)
        kn_layer_free(&lay[b]);
    free(lay);
    free(h);
    free(ex);
    free(wt);
    free(ex1);
    free(wt1);
    kn_device_close(dev);
    kn_weights_destroy(w);
    kn_tokens_free(&tok);
    kn_st_close(st);
    return rc == 0 ? 0 : KN_FAILED;
}
