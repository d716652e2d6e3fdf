/* moe_cpu.c - the CPU MoE block (see moe_cpu.h).
 *
 * The expert FFN is where the time goes (3 GEMMs of rows x F x H per chosen
 * expert), so its row blocks are the unit of parallel work: a shared counter
 * hands out (expert, up to ROWS rows) items to the threads, each with its own
 * GEMM workspace and gate/up buffers. Every row's result depends only on that
 * row, so the output does not depend on the thread count. In bf16 the
 * weights are packed once per layer (kn_cpu_load), the (tensor, expert)
 * matrices shared among the same threads.
 */
#include "kernels/moe_cpu.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bgemm.h"
#include "kernels/permute.h"
#include "kernels/router.h"
#include "kernels/sgemm.h"
#include "kernels/silu.h"
#include "base/err.h"

#define ROWS 512 /* rows of one FFN work item */

struct worker {
    float *ws, *g, *u; /* fp32 GEMM pack workspace; [ROWS][F] gate and up */
    uint32_t *bws;     /* bf16 GEMM workspace */
    float *scratch;    /* bf16, kn_cpu_load_items: one tensor before packing */
};

struct kn_cpu {
    struct kn_dims d;
    int batch, threads;
    enum kn_precision prec;
    const struct kn_layer *lw; /* the loaded layer (fp32) */
    /* bf16: the loaded layer packed (bgemm.h), experts back to back */
    uint16_t *pgate, *p1, *p3, *p2;
    size_t n13, n2;  /* packed elements of one expert's w1 (w3), w2 */
    kn_fill_fn fill; /* kn_cpu_load_items' source */
    void *fill_ctx;
    float *xn, *logits, *xp, *yp;
    int *offset, *row, *pos;
    struct worker *wk;
    const float *norm; /* the loaded layer's RMSNorm gain */
    float *normbuf;    /* bf16: a copy of it */
    /* the job of the current parallel FFN phase */
    const float *jx;
    float *jh; /* the batch's hidden states, tokens, routing */
    int jn;
    int16_t *jexpert;
    float *jweight;
    float *jy;
    const int *joff;
    int nitems;
    int *item_e, *item_r0, *item_m;
    atomic_int next;
};

int kn_precision_parse(const char *s, enum kn_precision *p, struct err *e)
{
    if (!s || !strcmp(s, "auto"))
        *p = KN_PREC_AUTO;
    else if (!strcmp(s, "fp32"))
        *p = KN_FP32;
    else if (!strcmp(s, "bf16"))
        *p = KN_BF16;
    else
        return err_set(e, "--precision %s: expected fp32, bf16 or auto", s);
    return 0;
}

enum kn_precision kn_precision_resolve(enum kn_precision p)
{
    if (p != KN_PREC_AUTO) return p;
    return kn_bgemm_simd() ? KN_BF16 : KN_FP32;
}

const char *kn_precision_name(enum kn_precision p)
{
    return p == KN_FP32 ? "fp32" : p == KN_BF16 ? "bf16" : "auto";
}

/* n uint16_t elements, large-page backed like kn_alloc_big. */
static uint16_t *alloc_u16(size_t n)
{
    return (uint16_t *)kn_alloc_big((n + 1) / 2);
}

struct kn_cpu *kn_cpu_create(const struct kn_dims *d, int batch, int threads,
                             enum kn_precision prec)
{
    struct kn_cpu *c = xcalloc(1, sizeof *c);
    c->d = *d;
    c->prec = kn_precision_resolve(prec);
    size_t H = (size_t)d->hidden, k = (size_t)d->topk;
    if (batch <= 0) {
        /* about 256 MiB for each of the permuted input and output rows */
        size_t b = ((size_t)1 << 28) / (k * H * sizeof(float));
        batch = b < 64 ? 64 : b > 8192 ? 8192 : (int)b;
    }
    c->batch = batch;
    c->threads = threads < 1 ? 1 : threads;
    c->xn = kn_alloc_big((size_t)batch * H);
    c->normbuf = xmalloc(sizeof(float) * H);
    c->logits = xmalloc(sizeof(float) * (size_t)batch * (size_t)d->experts);
    c->xp = kn_alloc_big((size_t)batch * k * H);
    c->yp = kn_alloc_big((size_t)batch * k * H);
    c->offset = xmalloc(sizeof(int) * (size_t)(d->experts + 1));
    c->row = xmalloc(sizeof(int) * (size_t)batch * k);
    c->pos = xmalloc(sizeof(int) * (size_t)batch * k);
    size_t items = (size_t)batch * k / ROWS + (size_t)d->experts + 1;
    c->item_e = xmalloc(sizeof(int) * items);
    c->item_r0 = xmalloc(sizeof(int) * items);
    c->item_m = xmalloc(sizeof(int) * items);
    c->wk = xcalloc((size_t)c->threads, sizeof *c->wk);
    for (int t = 0; t < c->threads; t++) {
        c->wk[t].ws = xmalloc(sizeof(float) * kn_sgemm_ws_floats());
        c->wk[t].g = xmalloc(sizeof(float) * ROWS * (size_t)d->ffn);
        c->wk[t].u = xmalloc(sizeof(float) * ROWS * (size_t)d->ffn);
        if (c->prec == KN_BF16) c->wk[t].bws = xmalloc(sizeof(uint32_t) * kn_bgemm_ws_elems());
    }
    if (c->prec == KN_BF16) {
        size_t E = (size_t)d->experts;
        c->n13 = kn_bgemm_packed_elems(d->ffn, d->hidden);
        c->n2 = kn_bgemm_packed_elems(d->hidden, d->ffn);
        c->pgate = alloc_u16(kn_bgemm_packed_elems(d->experts, d->hidden));
        c->p1 = alloc_u16(E * c->n13);
        c->p3 = alloc_u16(E * c->n13);
        c->p2 = alloc_u16(E * c->n2);
        size_t most = kn_layer_item_elems(d, 1) > kn_layer_item_elems(d, 2)
                          ? kn_layer_item_elems(d, 1)
                          : kn_layer_item_elems(d, 2);
        for (int t = 0; t < c->threads; t++)
            c->wk[t].scratch = kn_alloc_big(most);
    }
    return c;
}

void kn_cpu_destroy(struct kn_cpu *c)
{
    if (!c) return;
    for (int t = 0; t < c->threads; t++) {
        free(c->wk[t].ws);
        free(c->wk[t].g);
        free(c->wk[t].u);
        free(c->wk[t].bws);
        free(c->wk[t].scratch);
    }
    free(c->pgate);
    free(c->p1);
    free(c->p3);
    free(c->p2);
    free(c->wk);
    free(c->xn);
    free(c->normbuf);
    free(c->logits);
    free(c->xp);
    free(c->yp);
    free(c->offset);
    free(c->row);
    free(c->pos);
    free(c->item_e);
    free(c->item_r0);
    free(c->item_m);
    free(c);
}

/* SwiGLU of m <= ROWS rows through expert e: y = (silu(x W1^T) * x W3^T) W2^T. */
static void ffn_rows(const struct kn_cpu *c, const struct worker *wk, int e, const float *x, int m,
                     float *y)
{
    size_t H = (size_t)c->d.hidden, F = (size_t)c->d.ffn;
    if (c->prec == KN_BF16) {
        kn_bgemm_nt(m, (int)F, (int)H, x, H, c->p1 + (size_t)e * c->n13, wk->g, F, 0, wk->bws);
        kn_bgemm_nt(m, (int)F, (int)H, x, H, c->p3 + (size_t)e * c->n13, wk->u, F, 0, wk->bws);
    } else {
        const struct kn_layer *w = c->lw;
        kn_sgemm_nt(m, (int)F, (int)H, x, H, w->w1 + (size_t)e * F * H, H, wk->g, F, 0, wk->ws);
        kn_sgemm_nt(m, (int)F, (int)H, x, H, w->w3 + (size_t)e * F * H, H, wk->u, F, 0, wk->ws);
    }
    if (c->prec == KN_BF16) /* silu.h: a vectorised exp; the product is rounded to bf16 next */
        kn_silu_mul(wk->g, wk->u, (size_t)m * F, kn_bgemm_simd());
    else
        for (size_t i = 0; i < (size_t)m * F; i++) {
            float g = wk->g[i];
            wk->g[i] = g / (1.0f + expf(-g)) * wk->u[i];
        }
    if (c->prec == KN_BF16)
        kn_bgemm_nt(m, (int)H, (int)F, wk->g, F, c->p2 + (size_t)e * c->n2, y, H, 0, wk->bws);
    else
        kn_sgemm_nt(m, (int)H, (int)F, wk->g, F, c->lw->w2 + (size_t)e * H * F, F, y, H, 0, wk->ws);
}

/* Runs fn(c, thread, item) for items [0, n) on the threads (the calling one
 * included), handed out by a shared counter. */
typedef void (*item_fn)(struct kn_cpu *c, int t, int item);

struct thread_arg {
    struct kn_cpu *c;
    int t, n;
    item_fn fn;
};

static void *worker_main(void *p)
{
    struct thread_arg *a = p;
    for (int i; (i = atomic_fetch_add(&a->c->next, 1)) < a->n;)
        a->fn(a->c, a->t, i);
    return NULL;
}

static void run_items(struct kn_cpu *c, int n, item_fn fn)
{
    atomic_store(&c->next, 0);
    pthread_t tid[64];
    struct thread_arg args[64];
    int nt = c->threads < 64 ? c->threads : 64, started = 0;
    for (int t = 0; t < nt; t++)
        args[t] = (struct thread_arg){c, t, n, fn};
    for (int t = 1; t < nt && t < n; t++) {
        if (pthread_create(&tid[t], NULL, worker_main, &args[t]) != 0) break;
        started = t;
    }
    worker_main(&args[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}

static void ffn_item(struct kn_cpu *c, int t, int i)
{
    size_t H = (size_t)c->d.hidden, r0 = (size_t)c->item_r0[i];
    ffn_rows(c, &c->wk[t], c->item_e[i], c->jx + r0 * H, c->item_m[i], c->jy + r0 * H);
}

/* Runs every expert's FFN over its rows of x (grouped by offset) into y. */
static void ffn_all(struct kn_cpu *c, const float *x, float *y)
{
    c->nitems = 0;
    for (int e = 0; e < c->d.experts; e++)
        for (int r = c->offset[e]; r < c->offset[e + 1]; r += ROWS) {
            int m = c->offset[e + 1] - r < ROWS ? c->offset[e + 1] - r : ROWS;
            c->item_e[c->nitems] = e;
            c->item_r0[c->nitems] = r;
            c->item_m[c->nitems] = m;
            c->nitems++;
        }
    c->jx = x;
    c->jy = y;
    run_items(c, c->nitems, ffn_item);
}

/* Rounds and packs tensor `item` (layer.h's numbering) from src. */
static void pack_from(struct kn_cpu *c, int item, const float *src)
{
    int H = c->d.hidden, F = c->d.ffn;
    if (item == 0) {
        memcpy(c->normbuf, src, sizeof(float) * (size_t)H);
        return;
    }
    if (item == 1) {
        kn_bgemm_pack_b(c->d.experts, H, src, (size_t)H, c->pgate);
        return;
    }
    size_t x = (size_t)(item - 2) / 3;
    switch ((item - 2) % 3) {
    case 0:
        kn_bgemm_pack_b(F, H, src, (size_t)H, c->p1 + x * c->n13);
        break;
    case 1:
        kn_bgemm_pack_b(F, H, src, (size_t)H, c->p3 + x * c->n13);
        break;
    default:
        kn_bgemm_pack_b(H, F, src, (size_t)F, c->p2 + x * c->n2);
    }
}

static void pack_item(struct kn_cpu *c, int t, int item)
{
    (void)t;
    pack_from(c, item, kn_layer_item(&c->d, c->lw, item));
}

static void fill_pack_item(struct kn_cpu *c, int t, int item)
{
    float *dst = item == 0 ? c->normbuf : c->wk[t].scratch;
    c->fill(c->fill_ctx, item, dst);
    if (item > 0) pack_from(c, item, dst);
}

void kn_cpu_load(struct kn_cpu *c, const struct kn_layer *w)
{
    c->lw = w;
    if (c->prec == KN_BF16) {
        run_items(c, kn_layer_items(&c->d), pack_item);
        c->lw = NULL; /* not kept: the packed copy is what the GEMMs read */
        c->norm = c->normbuf;
    } else {
        c->norm = w->norm;
    }
}

void kn_cpu_load_items(struct kn_cpu *c, kn_fill_fn fill, void *ctx)
{
    assert(c->prec == KN_BF16 && "the fp32 path reads a whole layer (kn_cpu_load)");
    c->fill = fill;
    c->fill_ctx = ctx;
    c->lw = NULL;
    run_items(c, kn_layer_items(&c->d), fill_pack_item);
    c->norm = c->normbuf;
}

enum kn_precision kn_cpu_precision(const struct kn_cpu *c)
{
    return c->prec;
}

/* Tokens of one block of the per-token phases (norm and routing, combine)
 * and permuted rows of one block of the gather: work items for the threads.
 * Each token's (row's) result depends on it alone, as in the FFN. */
#define TOKENS 256
#define GROWS  1024

static void route_item(struct kn_cpu *c, int t, int i)
{
    int H = c->d.hidden, E = c->d.experts, k = c->d.topk;
    int t0 = i * TOKENS, m = c->jn - t0 < TOKENS ? c->jn - t0 : TOKENS;
    float *xn = c->xn + (size_t)t0 * H, *logits = c->logits + (size_t)t0 * E;
    for (int r = 0; r < m; r++)
        kn_rmsnorm(c->jh + (size_t)(t0 + r) * H, c->norm, H, c->d.eps, xn + (size_t)r * H);
    if (c->prec == KN_BF16)
        kn_bgemm_nt(m, E, H, xn, (size_t)H, c->pgate, logits, (size_t)E, 0, c->wk[t].bws);
    else
        kn_sgemm_nt(m, E, H, xn, (size_t)H, c->lw->gate, (size_t)H, logits, (size_t)E, 0,
                    c->wk[t].ws);
    for (int r = 0; r < m; r++)
        kn_route_token(logits + (size_t)r * E, E, k, c->d.renorm, c->jexpert + (size_t)(t0 + r) * k,
                       c->jweight + (size_t)(t0 + r) * k);
}

static void gather_item(struct kn_cpu *c, int t, int i)
{
    (void)t;
    int H = c->d.hidden, k = c->d.topk, p0 = i * GROWS, all = c->jn * k;
    int m = all - p0 < GROWS ? all - p0 : GROWS;
    kn_gather(c->xn, H, c->row + p0, k, m, c->xp + (size_t)p0 * H);
}

static void combine_item(struct kn_cpu *c, int t, int i)
{
    (void)t;
    int H = c->d.hidden, k = c->d.topk, t0 = i * TOKENS;
    int m = c->jn - t0 < TOKENS ? c->jn - t0 : TOKENS;
    kn_combine(c->yp, H, c->pos + (size_t)t0 * k, c->jweight + (size_t)t0 * k, m, k,
               c->jh + (size_t)t0 * H);
}

static void forward_batch(struct kn_cpu *c, float *h, int n, int16_t *expert, float *weight)
{
    int E = c->d.experts, k = c->d.topk;
    c->jh = h;
    c->jn = n;
    c->jexpert = expert;
    c->jweight = weight;
    int blocks = (n + TOKENS - 1) / TOKENS;
    run_items(c, blocks, route_item);
    kn_permute(expert, n, k, E, c->offset, c->row, c->pos);
    run_items(c, (n * k + GROWS - 1) / GROWS, gather_item);
    ffn_all(c, c->xp, c->yp);
    run_items(c, blocks, combine_item);
}

void kn_cpu_forward(struct kn_cpu *c, float *h, int n, int16_t *expert, float *weight)
{
    size_t H = (size_t)c->d.hidden, k = (size_t)c->d.topk;
    for (int t0 = 0; t0 < n; t0 += c->batch) {
        int b = n - t0 < c->batch ? n - t0 : c->batch;
        forward_batch(c, h + (size_t)t0 * H, b, expert + (size_t)t0 * k, weight + (size_t)t0 * k);
    }
}

void kn_cpu_ffn(struct kn_cpu *c, int e, const float *x, int m, float *y)
{
    size_t H = (size_t)c->d.hidden;
    for (int r = 0; r < m; r += ROWS)
        ffn_rows(c, &c->wk[0], e, x + (size_t)r * H, m - r < ROWS ? m - r : ROWS,
                 y + (size_t)r * H);
}
