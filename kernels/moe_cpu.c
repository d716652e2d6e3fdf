/* moe_cpu.c - the CPU MoE block (see moe_cpu.h).
 *
 * The expert FFN is where the time goes (3 GEMMs of rows x F x H per chosen
 * expert), so its row blocks are the unit of parallel work: a shared counter
 * hands out (expert, up to ROWS rows) items to the threads, each with its own
 * GEMM workspace and gate/up buffers. Every row's result depends only on that
 * row, so the output does not depend on the thread count.
 */
#include "kernels/moe_cpu.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kernels/permute.h"
#include "kernels/router.h"
#include "kernels/sgemm.h"
#include "sim/err.h"

#define ROWS 512 /* rows of one FFN work item */

struct worker {
    float *ws, *g, *u; /* GEMM pack workspace; [ROWS][F] gate and up */
};

struct kn_cpu {
    struct kn_dims d;
    int batch, threads;
    float *xn, *logits, *xp, *yp;
    int *offset, *row, *pos;
    struct worker *wk;
    /* the job of the current parallel FFN phase */
    const struct kn_layer *w;
    const float *jx;
    float *jy;
    const int *joff;
    int nitems;
    int *item_e, *item_r0, *item_m;
    atomic_int next;
};

struct kn_cpu *kn_cpu_create(const struct kn_dims *d, int batch, int threads)
{
    struct kn_cpu *c = xcalloc(1, sizeof *c);
    c->d = *d;
    size_t H = (size_t)d->hidden, k = (size_t)d->topk;
    if (batch <= 0) {
        /* about 256 MiB for each of the permuted input and output rows */
        size_t b = ((size_t)1 << 28) / (k * H * sizeof(float));
        batch = b < 64 ? 64 : b > 8192 ? 8192 : (int)b;
    }
    c->batch = batch;
    c->threads = threads < 1 ? 1 : threads;
    c->xn = kn_alloc_big((size_t)batch * H);
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
    }
    free(c->wk);
    free(c->xn);
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
static void ffn_rows(const struct kn_cpu *c, const struct worker *wk, const struct kn_layer *w,
                     int e, const float *x, int m, float *y)
{
    size_t H = (size_t)c->d.hidden, F = (size_t)c->d.ffn;
    const float *w1 = w->w1 + (size_t)e * F * H, *w3 = w->w3 + (size_t)e * F * H;
    const float *w2 = w->w2 + (size_t)e * H * F;
    kn_sgemm_nt(m, (int)F, (int)H, x, H, w1, H, wk->g, F, 0, wk->ws);
    kn_sgemm_nt(m, (int)F, (int)H, x, H, w3, H, wk->u, F, 0, wk->ws);
    for (size_t i = 0; i < (size_t)m * F; i++) {
        float g = wk->g[i];
        wk->g[i] = g / (1.0f + expf(-g)) * wk->u[i];
    }
    kn_sgemm_nt(m, (int)H, (int)F, wk->g, F, w2, F, y, H, 0, wk->ws);
}

struct thread_arg {
    struct kn_cpu *c;
    int t;
};

static void *ffn_worker(void *p)
{
    struct thread_arg *a = p;
    struct kn_cpu *c = a->c;
    size_t H = (size_t)c->d.hidden;
    for (;;) {
        int i = atomic_fetch_add(&c->next, 1);
        if (i >= c->nitems) break;
        size_t r0 = (size_t)c->item_r0[i];
        ffn_rows(c, &c->wk[a->t], c->w, c->item_e[i], c->jx + r0 * H, c->item_m[i], c->jy + r0 * H);
    }
    return NULL;
}

/* Runs every expert's FFN over its rows of x (grouped by offset) into y. */
static void ffn_all(struct kn_cpu *c, const struct kn_layer *w, const float *x, float *y)
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
    c->w = w;
    c->jx = x;
    c->jy = y;
    atomic_store(&c->next, 0);
    pthread_t tid[64];
    struct thread_arg args[64];
    int nt = c->threads < 64 ? c->threads : 64, started = 0;
    for (int t = 1; t < nt && t < c->nitems; t++) {
        args[t] = (struct thread_arg){c, t};
        if (pthread_create(&tid[t], NULL, ffn_worker, &args[t]) != 0) break;
        started = t;
    }
    args[0] = (struct thread_arg){c, 0};
    ffn_worker(&args[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}

static void forward_batch(struct kn_cpu *c, const struct kn_layer *w, float *h, int n,
                          int16_t *expert, float *weight)
{
    int H = c->d.hidden, E = c->d.experts, k = c->d.topk;
    for (int t = 0; t < n; t++)
        kn_rmsnorm(h + (size_t)t * H, w->norm, H, c->d.eps, c->xn + (size_t)t * H);
    kn_sgemm_nt(n, E, H, c->xn, (size_t)H, w->gate, (size_t)H, c->logits, (size_t)E, 0,
                c->wk[0].ws);
    for (int t = 0; t < n; t++)
        kn_route_token(c->logits + (size_t)t * E, E, k, c->d.renorm, expert + (size_t)t * k,
                       weight + (size_t)t * k);
    kn_permute(expert, n, k, E, c->offset, c->row, c->pos);
    kn_gather(c->xn, H, c->row, k, n * k, c->xp);
    ffn_all(c, w, c->xp, c->yp);
    kn_combine(c->yp, H, c->pos, weight, n, k, h);
}

void kn_cpu_forward(struct kn_cpu *c, const struct kn_layer *w, float *h, int n, int16_t *expert,
                    float *weight)
{
    size_t H = (size_t)c->d.hidden, k = (size_t)c->d.topk;
    for (int t0 = 0; t0 < n; t0 += c->batch) {
        int b = n - t0 < c->batch ? n - t0 : c->batch;
        forward_batch(c, w, h + (size_t)t0 * H, b, expert + (size_t)t0 * k,
                      weight + (size_t)t0 * k);
    }
}

void kn_cpu_ffn(struct kn_cpu *c, const struct kn_layer *w, int e, const float *x, int m, float *y)
{
    size_t H = (size_t)c->d.hidden;
    for (int r = 0; r < m; r += ROWS)
        ffn_rows(c, &c->wk[0], w, e, x + (size_t)r * H, m - r < ROWS ? m - r : ROWS,
                 y + (size_t)r * H);
}
