/* moe_cuda.cu - the MoE block on an NVIDIA GPU, built by `make kernels` into
 * build/libmoesim_cuda.so and loaded by kernels/device.c (interface:
 * kernels/gpu_api.h).
 *
 * The math is the CPU reference's (kernels/moe_cpu.h) with bf16 operands:
 * RMSNorm in fp32 writing bf16; router GEMM (cuBLAS, bf16 x bf16, fp32
 * accumulate and output); softmax/top-k one thread per token with the same
 * rule as kernels/router.c (selection on the logits, ties to the lower
 * expert); permutation by count (atomics), exclusive scan, and a stable
 * scatter (one block per expert, block-wide scan in assignment order) so the
 * permuted order equals the CPU's; per-expert SwiGLU with cuBLAS GEMMs (gate
 * and up in fp32, SiLU*up rounded to bf16, down projection in fp32);
 * un-permute and gate-weighted combine plus residual, one block per token.
 * Every CUDA and cuBLAS call is checked; memory is plain cudaMalloc.
 *
 * Per-expert GEMMs are issued one cublasGemmEx per expert (E x 3 calls per
 * block); cublasGemmGroupedBatchedEx would batch them but needs the per-expert
 * sizes on the device side as pointer arrays, which is not done here.
 */
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cub/block/block_scan.cuh>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "kernels/gpu_api.h"
}

typedef __nv_bfloat16 bf16;

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            snprintf(err, errlen, "%s:%d: %s: %s", __FILE__, __LINE__, #call,                      \
                     cudaGetErrorString(e_));                                                      \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

#define CB(call)                                                                                   \
    do {                                                                                           \
        cublasStatus_t s_ = (call);                                                                \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                         \
            snprintf(err, errlen, "%s:%d: %s: %s", __FILE__, __LINE__, #call,                      \
                     cublasGetStatusString(s_));                                                   \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

#define CL() CK(cudaGetLastError()) /* after a kernel launch */

static const int SCAN_THREADS = 256;
static const int MAX_BATCH = 8192; /* tokens per device pass */

struct ctx {
    kn_gpu_dims d;
    int batch;
    cublasHandle_t blas;
    cudaStream_t s;
    float *norm;
    bf16 *gate, *w1, *w3, *w2;
    float *stage; /* fp32 upload staging: max(E*H, F*H) floats */
    float *h, *logits, *weight, *g, *u, *yp;
    bf16 *xn, *xp, *a;
    int16_t *expert;
    int *count, *offset, *row, *pos;
    std::vector<int> h_offset;
    cudaEvent_t ev0, ev1;
};

/* ---- kernels ---- */

__global__ void k_to_bf16(const float *in, bf16 *out, size_t n)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (; i < n; i += stride)
        out[i] = __float2bfloat16_rn(in[i]);
}

/* one block per token: xn = bf16(h / sqrt(mean(h^2) + eps) * gain) */
__global__ void k_rmsnorm(const float *h, const float *gain, int H, float eps, bf16 *xn)
{
    __shared__ float part[32];
    const float *ht = h + (size_t)blockIdx.x * H;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < H; i += blockDim.x)
        ss += ht[i] * ht[i];
    for (int o = 16; o > 0; o >>= 1)
        ss += __shfl_down_sync(0xffffffffu, ss, o);
    if ((threadIdx.x & 31) == 0)
        part[threadIdx.x >> 5] = ss;
    __syncthreads();
    if (threadIdx.x < 32) {
        ss = threadIdx.x < (blockDim.x + 31) / 32 ? part[threadIdx.x] : 0.0f;
        for (int o = 16; o > 0; o >>= 1)
            ss += __shfl_down_sync(0xffffffffu, ss, o);
        if (threadIdx.x == 0)
            part[0] = ss;
    }
    __syncthreads();
    float r = rsqrtf(part[0] / H + eps);
    for (int i = threadIdx.x; i < H; i += blockDim.x)
        xn[(size_t)blockIdx.x * H + i] = __float2bfloat16_rn(ht[i] * r * gain[i]);
}

/* one thread per token: softmax over E, top-k on the logits, lower index wins ties */
__global__ void k_topk(const float *logits, int n, int E, int k, int renorm, int16_t *expert,
                       float *weight)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n)
        return;
    const float *lg = logits + (size_t)t * E;
    int16_t *ex = expert + (size_t)t * k;
    float *w = weight + (size_t)t * k;
    float mx = lg[0];
    for (int e = 1; e < E; e++)
        mx = fmaxf(mx, lg[e]);
    float sum = 0.0f;
    for (int e = 0; e < E; e++)
        sum += expf(lg[e] - mx);
    float ksum = 0.0f;
    for (int s = 0; s < k; s++) {
        int best = -1;
        for (int e = 0; e < E; e++) {
            bool taken = false;
            for (int q = 0; q < s; q++)
                taken |= ex[q] == e;
            if (!taken && (best < 0 || lg[e] > lg[best]))
                best = e;
        }
        ex[s] = (int16_t)best;
        w[s] = expf(lg[best] - mx) / sum;
        ksum += w[s];
    }
    if (renorm)
        for (int s = 0; s < k; s++)
            w[s] /= ksum;
}

__global__ void k_count(const int16_t *expert, int m, int *count)
{
    int a = blockIdx.x * blockDim.x + threadIdx.x;
    if (a < m)
        atomicAdd(&count[expert[a]], 1);
}

/* a single thread: offset = exclusive prefix sum of count (E is small) */
__global__ void k_scan(const int *count, int E, int *offset)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        int acc = 0;
        for (int e = 0; e < E; e++) {
            offset[e] = acc;
            acc += count[e];
        }
        offset[E] = acc;
    }
}

/* one block per expert: the assignments of expert blockIdx.x, in increasing
 * assignment order, get the rows offset[e], offset[e] + 1, ... (stable, so
 * the order is the CPU's) */
__global__ void k_scatter(const int16_t *expert, int m, const int *offset, int *row, int *pos)
{
    typedef cub::BlockScan<int, SCAN_THREADS> scan_t;
    __shared__ typename scan_t::TempStorage tmp;
    __shared__ int base;
    int e = blockIdx.x;
    if (threadIdx.x == 0)
        base = offset[e];
    __syncthreads();
    for (int a0 = 0; a0 < m; a0 += SCAN_THREADS) {
        int a = a0 + threadIdx.x;
        int hit = a < m && expert[a] == e;
        int before, total;
        scan_t(tmp).ExclusiveSum(hit, before, total);
        if (hit) {
            int p = base + before;
            row[p] = a;
            pos[a] = p;
        }
        __syncthreads();
        if (threadIdx.x == 0)
            base += total;
        __syncthreads();
    }
}

/* one block per permuted row: xp[p] = xn[row[p] / k] */
__global__ void k_gather(const bf16 *xn, int H, const int *row, int k, bf16 *xp)
{
    int p = blockIdx.x;
    const bf16 *src = xn + (size_t)(row[p] / k) * H;
    for (int i = threadIdx.x; i < H; i += blockDim.x)
        xp[(size_t)p * H + i] = src[i];
}

__global__ void k_silu_mul(const float *g, const float *u, size_t n, bf16 *a)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (; i < n; i += stride) {
        float x = g[i];
        a[i] = __float2bfloat16_rn(x / (1.0f + expf(-x)) * u[i]);
    }
}

/* one block per token: h[t] += sum over slots (in order) of w * yp[pos] */
__global__ void k_combine(const float *yp, int H, const int *pos, const float *weight, int k,
                          float *h)
{
    int t = blockIdx.x;
    for (int i = threadIdx.x; i < H; i += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < k; s++)
            acc += weight[t * k + s] * yp[(size_t)pos[t * k + s] * H + i];
        h[(size_t)t * H + i] += acc;
    }
}

__global__ void k_fill_pattern(bf16 *x, size_t n)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        x[i] = __float2bfloat16_rn((float)((i * 2654435761u) % 1000u) / 1000.0f - 0.5f);
}

/* ---- host side ---- */

static unsigned grid_for(size_t n, int threads)
{
    size_t b = (n + (size_t)threads - 1) / (size_t)threads;
    return (unsigned)std::min<size_t>(std::max<size_t>(b, 1), 65535);
}

/* Y [m][N] (fp32) = X [m][K] (bf16) * W^T, W [N][K] bf16, row-major */
static int gemm(ctx *c, int m, int N, int K, const bf16 *X, const bf16 *W, float *Y, char *err,
                size_t errlen)
{
    const float one = 1.0f, zero = 0.0f;
    CB(cublasGemmEx(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, N, m, K, &one, W, CUDA_R_16BF, K, X,
                    CUDA_R_16BF, K, &zero, Y, CUDA_R_32F, N, CUBLAS_COMPUTE_32F,
                    CUBLAS_GEMM_DEFAULT));
    return 0;
}

/* Expert e's SwiGLU on its m rows starting at permuted row r0. */
static int ffn(ctx *c, int e, int r0, int m, char *err, size_t errlen)
{
    size_t H = c->d.hidden, F = c->d.ffn;
    if (gemm(c, m, (int)F, (int)H, c->xp + r0 * H, c->w1 + e * F * H, c->g + r0 * F, err,
             errlen) ||
        gemm(c, m, (int)F, (int)H, c->xp + r0 * H, c->w3 + e * F * H, c->u + r0 * F, err, errlen))
        return -1;
    size_t n = (size_t)m * F;
    k_silu_mul<<<grid_for(n, 256), 256, 0, c->s>>>(c->g + r0 * F, c->u + r0 * F, n, c->a + r0 * F);
    CL();
    return gemm(c, m, (int)H, (int)F, c->a + r0 * F, c->w2 + e * H * F, c->yp + r0 * H, err,
                errlen);
}

static int probe(char *name, size_t namelen, char *err, size_t errlen)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(err, errlen, "no CUDA GPU: %s",
                 e != cudaSuccess ? cudaGetErrorString(e) : "no device found");
        return -1;
    }
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    if (p.major < 9) {
        snprintf(err, errlen, "GPU %s is sm_%d%d; libmoesim_cuda.so is built for sm_90 and up",
                 p.name, p.major, p.minor);
        return -1;
    }
    snprintf(name, namelen, "%s (sm_%d%d, %.0f GiB)", p.name, p.major, p.minor,
             (double)p.totalGlobalMem / (1 << 30));
    return 0;
}

/* Frees everything; a failing call is reported on stderr (destroy has no
 * error return) and the rest is still released. */
static void destroy(void *vc)
{
    ctx *c = (ctx *)vc;
    if (!c)
        return;
    void *bufs[] = {c->norm, c->gate, c->w1,    c->w3,     c->w2,     c->stage,
                    c->h,    c->logits, c->weight, c->g,  c->u,     c->yp,
                    c->xn,   c->xp,   c->a,     c->expert, c->count, c->offset,
                    c->row,  c->pos};
    cudaError_t e = cudaSuccess, r;
    for (void *b : bufs)
        if (b && (r = cudaFree(b)) != cudaSuccess && e == cudaSuccess)
            e = r;
    if (c->ev0 && (r = cudaEventDestroy(c->ev0)) != cudaSuccess && e == cudaSuccess)
        e = r;
    if (c->ev1 && (r = cudaEventDestroy(c->ev1)) != cudaSuccess && e == cudaSuccess)
        e = r;
    if (c->s && (r = cudaStreamDestroy(c->s)) != cudaSuccess && e == cudaSuccess)
        e = r;
    cublasStatus_t bs = c->blas ? cublasDestroy(c->blas) : CUBLAS_STATUS_SUCCESS;
    if (e != cudaSuccess)
        fprintf(stderr, "moesim: gpu: releasing the context: %s\n", cudaGetErrorString(e));
    if (bs != CUBLAS_STATUS_SUCCESS)
        fprintf(stderr, "moesim: gpu: cublasDestroy: %s\n", cublasGetStatusString(bs));
    delete c;
}

static int alloc_all(ctx *c, char *err, size_t errlen)
{
    size_t H = c->d.hidden, F = c->d.ffn, E = c->d.experts, k = c->d.topk, B = c->batch;
    CK(cudaSetDevice(0));
    CK(cudaStreamCreate(&c->s));
    CB(cublasCreate(&c->blas));
    CB(cublasSetStream(c->blas, c->s));
    CK(cudaEventCreate(&c->ev0));
    CK(cudaEventCreate(&c->ev1));
    CK(cudaMalloc(&c->norm, H * sizeof(float)));
    CK(cudaMalloc(&c->gate, E * H * sizeof(bf16)));
    CK(cudaMalloc(&c->w1, E * F * H * sizeof(bf16)));
    CK(cudaMalloc(&c->w3, E * F * H * sizeof(bf16)));
    CK(cudaMalloc(&c->w2, E * F * H * sizeof(bf16)));
    CK(cudaMalloc(&c->stage, std::max(E * H, F * H) * sizeof(float)));
    CK(cudaMalloc(&c->h, B * H * sizeof(float)));
    CK(cudaMalloc(&c->xn, B * H * sizeof(bf16)));
    CK(cudaMalloc(&c->logits, B * E * sizeof(float)));
    CK(cudaMalloc(&c->expert, B * k * sizeof(int16_t)));
    CK(cudaMalloc(&c->weight, B * k * sizeof(float)));
    CK(cudaMalloc(&c->count, E * sizeof(int)));
    CK(cudaMalloc(&c->offset, (E + 1) * sizeof(int)));
    CK(cudaMalloc(&c->row, B * k * sizeof(int)));
    CK(cudaMalloc(&c->pos, B * k * sizeof(int)));
    CK(cudaMalloc(&c->xp, B * k * H * sizeof(bf16)));
    CK(cudaMalloc(&c->g, B * k * F * sizeof(float)));
    CK(cudaMalloc(&c->u, B * k * F * sizeof(float)));
    CK(cudaMalloc(&c->a, B * k * F * sizeof(bf16)));
    CK(cudaMalloc(&c->yp, B * k * H * sizeof(float)));
    c->h_offset.resize(E + 1);
    return 0;
}

static void *create(const kn_gpu_dims *d, int max_tokens, char *err, size_t errlen)
{
    ctx *c = new ctx();
    c->d = *d;
    c->batch = std::max(1, std::min(max_tokens, MAX_BATCH));
    if (alloc_all(c, err, errlen)) {
        destroy(c);
        return nullptr;
    }
    return c;
}

/* Uploads n fp32 values through the staging buffer, rounding to bf16. */
static int upload_bf16(ctx *c, const float *src, size_t n, bf16 *dst, char *err, size_t errlen)
{
    CK(cudaMemcpyAsync(c->stage, src, n * sizeof(float), cudaMemcpyHostToDevice, c->s));
    k_to_bf16<<<grid_for(n, 256), 256, 0, c->s>>>(c->stage, dst, n);
    CL();
    CK(cudaStreamSynchronize(c->s)); /* the staging buffer is reused next */
    return 0;
}

static int load_layer(void *vc, const float *norm, const float *gate, const float *w1,
                      const float *w3, const float *w2, char *err, size_t errlen)
{
    ctx *c = (ctx *)vc;
    size_t H = c->d.hidden, F = c->d.ffn, E = c->d.experts;
    CK(cudaMemcpyAsync(c->norm, norm, H * sizeof(float), cudaMemcpyHostToDevice, c->s));
    if (upload_bf16(c, gate, E * H, c->gate, err, errlen))
        return -1;
    for (size_t e = 0; e < E; e++)
        if (upload_bf16(c, w1 + e * F * H, F * H, c->w1 + e * F * H, err, errlen) ||
            upload_bf16(c, w3 + e * F * H, F * H, c->w3 + e * F * H, err, errlen) ||
            upload_bf16(c, w2 + e * F * H, F * H, c->w2 + e * F * H, err, errlen))
            return -1;
    return 0;
}

static int forward_batch(ctx *c, float *h, int n, int16_t *expert, float *weight, char *err,
                         size_t errlen)
{
    int H = c->d.hidden, E = c->d.experts, k = c->d.topk, m = n * k;
    CK(cudaMemcpyAsync(c->h, h, (size_t)n * H * sizeof(float), cudaMemcpyHostToDevice, c->s));
    k_rmsnorm<<<n, 256, 0, c->s>>>(c->h, c->norm, H, c->d.eps, c->xn);
    CL();
    if (gemm(c, n, E, H, c->xn, c->gate, c->logits, err, errlen))
        return -1;
    k_topk<<<grid_for(n, 128), 128, 0, c->s>>>(c->logits, n, E, k, c->d.renorm, c->expert,
                                                c->weight);
    CL();
    CK(cudaMemsetAsync(c->count, 0, E * sizeof(int), c->s));
    k_count<<<grid_for(m, 256), 256, 0, c->s>>>(c->expert, m, c->count);
    CL();
    k_scan<<<1, 1, 0, c->s>>>(c->count, E, c->offset);
    CL();
    k_scatter<<<E, SCAN_THREADS, 0, c->s>>>(c->expert, m, c->offset, c->row, c->pos);
    CL();
    k_gather<<<m, 256, 0, c->s>>>(c->xn, H, c->row, k, c->xp);
    CL();
    CK(cudaMemcpyAsync(c->h_offset.data(), c->offset, (E + 1) * sizeof(int),
                       cudaMemcpyDeviceToHost, c->s));
    CK(cudaStreamSynchronize(c->s));
    for (int e = 0; e < E; e++) {
        int r0 = c->h_offset[e], cnt = c->h_offset[e + 1] - r0;
        if (cnt > 0 && ffn(c, e, r0, cnt, err, errlen))
            return -1;
    }
    k_combine<<<n, 256, 0, c->s>>>(c->yp, H, c->pos, c->weight, k, c->h);
    CL();
    CK(cudaMemcpyAsync(h, c->h, (size_t)n * H * sizeof(float), cudaMemcpyDeviceToHost, c->s));
    CK(cudaMemcpyAsync(expert, c->expert, (size_t)m * sizeof(int16_t), cudaMemcpyDeviceToHost,
                       c->s));
    CK(cudaMemcpyAsync(weight, c->weight, (size_t)m * sizeof(float), cudaMemcpyDeviceToHost,
                       c->s));
    CK(cudaStreamSynchronize(c->s));
    return 0;
}

static int forward(void *vc, float *h, int n, int16_t *expert, float *weight, char *err,
                   size_t errlen)
{
    ctx *c = (ctx *)vc;
    size_t H = c->d.hidden, k = c->d.topk;
    for (int t0 = 0; t0 < n; t0 += c->batch) {
        int b = std::min(c->batch, n - t0);
        if (forward_batch(c, h + t0 * H, b, expert + t0 * k, weight + t0 * k, err, errlen))
            return -1;
    }
    return 0;
}

static int time_ffn(void *vc, int tokens, int warmup, int repeats, double *us, char *err,
                    size_t errlen)
{
    ctx *c = (ctx *)vc;
    size_t H = c->d.hidden;
    if (tokens > c->batch * c->d.topk) {
        snprintf(err, errlen, "%d tokens beyond the context's %d rows", tokens,
                 c->batch * c->d.topk);
        return -1;
    }
    k_fill_pattern<<<grid_for((size_t)tokens * H, 256), 256, 0, c->s>>>(c->xp,
                                                                         (size_t)tokens * H);
    CL();
    for (int r = 0; r < warmup; r++)
        if (ffn(c, 0, 0, tokens, err, errlen))
            return -1;
    std::vector<float> t((size_t)std::max(repeats, 1));
    for (int r = 0; r < repeats; r++) {
        CK(cudaEventRecord(c->ev0, c->s));
        if (ffn(c, 0, 0, tokens, err, errlen))
            return -1;
        CK(cudaEventRecord(c->ev1, c->s));
        CK(cudaEventSynchronize(c->ev1));
        CK(cudaEventElapsedTime(&t[r], c->ev0, c->ev1));
    }
    std::sort(t.begin(), t.begin() + repeats);
    *us = repeats > 0 ? 1000.0 * t[repeats / 2] : 0.0;
    return 0;
}

static const kn_gpu_ops ops = {KN_GPU_ABI, probe, create, load_layer, forward, time_ffn, destroy};

extern "C" __attribute__((visibility("default"))) const kn_gpu_ops *kn_gpu_ops(void)
{
    return &ops;
}
