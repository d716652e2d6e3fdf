/* gpu_api.h - the interface between moesim and build/libmoesim_cuda.so.
 *
 * The CUDA library (moe_cuda.cu, built by `make kernels`) exports one C
 * symbol, kn_gpu_ops, returning this table; gpu.c dlopen()s the library, so
 * the default binary needs no CUDA to build or run. Plain C types only. Every
 * function returns 0, or -1 with a one-line message in err[errlen].
 */
#ifndef MOESIM_KN_GPU_API_H
#define MOESIM_KN_GPU_API_H

#include <stddef.h>
#include <stdint.h>

#define KN_GPU_ABI 1

struct kn_gpu_dims {
    int hidden, ffn, experts, topk, renorm;
    float eps;
};

struct kn_gpu_ops {
    int abi; /* KN_GPU_ABI */
    /* Name of device 0, or an error when there is no usable GPU. */
    int (*probe)(char *name, size_t namelen, char *err, size_t errlen);
    /* A context for up to max_tokens tokens per forward call. */
    void *(*create)(const struct kn_gpu_dims *d, int max_tokens, char *err, size_t errlen);
    /* Uploads one layer (fp32 host arrays in the layout of kernels/layer.h;
     * rounded to bf16 on the device). */
    int (*load_layer)(void *ctx, const float *norm, const float *gate, const float *w1,
                      const float *w3, const float *w2, char *err, size_t errlen);
    /* One MoE block over h [n][H] in place; routing into expert, weight [n][k]. */
    int (*forward)(void *ctx, float *h, int n, int16_t *expert, float *weight, char *err,
                   size_t errlen);
    /* Median time in microseconds of expert 0's SwiGLU FFN on `tokens` rows
     * (CUDA events around the three GEMMs and the activation). */
    int (*time_ffn)(void *ctx, int tokens, int warmup, int repeats, double *us, char *err,
                    size_t errlen);
    void (*destroy)(void *ctx);
};

typedef const struct kn_gpu_ops *(*kn_gpu_ops_fn)(void);

#endif
