/* device.c - the CPU path or the dlopen()ed CUDA library behind one interface
 * (see device.h). */
#include "kernels/device.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/gpu_api.h"
#include "kernels/moe_cpu.h"
#include "kernels/bgemm.h"
#include "kernels/sgemm.h"

struct kn_device {
    struct kn_dims d;
    int gpu;
    char name[256];
    /* cpu */
    struct kn_cpu *cpu;
    /* gpu */
    void *lib;
    const struct kn_gpu_ops *ops;
    void *ctx;
};

/* dlopen()s the CUDA library; NULL with the reason in e. */
static void *load_lib(struct err *e)
{
    const char *env = getenv("MOESIM_CUDA_LIB");
    if (env && *env) {
        void *h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h) err_set(e, "cannot load the CUDA library $MOESIM_CUDA_LIB=%s: %s", env, dlerror());
        return h;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        err_set(e, "cannot find the moesim binary's directory to load libmoesim_cuda.so");
        return NULL;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    char path[PATH_MAX + 64];
    const char *sub[] = {"", "/build"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s%s/libmoesim_cuda.so", exe, sub[i]);
        if (access(path, F_OK) != 0) continue;
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) err_set(e, "cannot load %s: %s", path, dlerror());
        return h;
    }
    err_set(e,
            "no CUDA library: libmoesim_cuda.so is not in %s or %s/build (build it with "
            "`make kernels`, or set MOESIM_CUDA_LIB)",
            exe, exe);
    return NULL;
}

static int open_gpu(struct kn_device *dev, int max_tokens, struct err *e)
{
    dev->lib = load_lib(e);
    if (!dev->lib) return -1;
    kn_gpu_ops_fn fn;
    *(void **)&fn = dlsym(dev->lib, "kn_gpu_ops");
    if (!fn) return err_set(e, "the CUDA library has no kn_gpu_ops symbol");
    dev->ops = fn();
    if (!dev->ops || dev->ops->abi != KN_GPU_ABI)
        return err_set(e,
                       "the CUDA library's interface version differs from moesim's (%d); "
                       "rebuild it with `make kernels`",
                       KN_GPU_ABI);
    char msg[ERR_MSG_MAX] = "";
    if (dev->ops->probe(dev->name, sizeof dev->name, msg, sizeof msg) != 0)
        return err_set(e, "%s", msg);
    struct kn_gpu_dims gd = {dev->d.hidden, dev->d.ffn,    dev->d.experts,
                             dev->d.topk,   dev->d.renorm, dev->d.eps};
    dev->ctx = dev->ops->create(&gd, max_tokens, msg, sizeof msg);
    if (!dev->ctx) return err_set(e, "%s", msg);
    dev->gpu = 1;
    return 0;
}

static void cpu_name(struct kn_device *dev, int threads)
{
    int bf16 = kn_cpu_precision(dev->cpu) == KN_BF16;
    const char *kern = bf16 ? (kn_bgemm_simd() ? "AVX-512 BF16" : "plain C bf16")
                            : (kn_sgemm_simd() ? "AVX-512" : "plain C");
    char model[160] = "unknown CPU", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f) fclose(f);
    snprintf(dev->name, sizeof dev->name, "cpu %s, %s micro-kernel, %d thread%s", model, kern,
             threads, threads == 1 ? "" : "s");
}

static void release_gpu(struct kn_device *dev)
{
    if (dev->ctx) dev->ops->destroy(dev->ctx);
    if (dev->lib) dlclose(dev->lib);
    dev->ctx = dev->lib = NULL;
    dev->ops = NULL;
    dev->gpu = 0;
}

int kn_device_open(const char *kind, const struct kn_dims *d, int max_tokens, int threads,
                   enum kn_precision prec, struct kn_device **out, char *note, size_t notelen,
                   struct err *e)
{
    *out = NULL;
    if (note && notelen) note[0] = '\0';
    if (kind && strcmp(kind, "cpu") && strcmp(kind, "gpu"))
        return err_set(e, "--device %s: expected gpu or cpu", kind);
    struct kn_device *dev = xcalloc(1, sizeof *dev);
    dev->d = *d;
    if (!kind || !strcmp(kind, "gpu")) {
        struct err ge;
        if (open_gpu(dev, max_tokens, &ge) == 0) {
            if (prec == KN_FP32) {
                release_gpu(dev);
                free(dev);
                return err_set(e, "--precision fp32: the GPU path is bf16 only (fp32 needs "
                                  "--device cpu)");
            }
            *out = dev;
            return 0;
        }
        release_gpu(dev);
        if (kind) {
            free(dev);
            return err_set(e, "--device gpu: %s", ge.msg);
        }
        if (note) snprintf(note, notelen, "no GPU (%s); using the CPU path", ge.msg);
    }
    dev->cpu = kn_cpu_create(d, 0, threads, prec);
    cpu_name(dev, threads);
    *out = dev;
    return 0;
}

void kn_device_close(struct kn_device *dev)
{
    if (!dev) return;
    release_gpu(dev);
    kn_cpu_destroy(dev->cpu);
    free(dev);
}

const char *kn_device_kind(const struct kn_device *dev)
{
    return dev->gpu ? "gpu" : "cpu";
}

const char *kn_device_precision(const struct kn_device *dev)
{
    return dev->gpu ? "bf16" : kn_precision_name(kn_cpu_precision(dev->cpu));
}

const char *kn_device_name(const struct kn_device *dev)
{
    return dev->name;
}

int kn_device_load_layer(struct kn_device *dev, const struct kn_layer *w, struct err *e)
{
    if (!dev->gpu) {
        kn_cpu_load(dev->cpu, w); /* fp32 reads w's arrays, bf16 packs them */
        return 0;
    }
    char msg[ERR_MSG_MAX] = "";
    if (dev->ops->load_layer(dev->ctx, w->norm, w->gate, w->w1, w->w3, w->w2, msg, sizeof msg))
        return err_set(e, "gpu: %s", msg);
    return 0;
}

int kn_device_direct(const struct kn_device *dev)
{
    return !dev->gpu && kn_cpu_precision(dev->cpu) == KN_BF16;
}

struct fill_ctx {
    struct kn_weights *w;
    int l;
};

static void fill_from_weights(void *p, int item, float *dst)
{
    struct fill_ctx *f = p;
    kn_weights_item(f->w, f->l, item, dst);
}

void kn_device_load_weights(struct kn_device *dev, struct kn_weights *w, int l)
{
    struct fill_ctx f = {w, l};
    kn_cpu_load_items(dev->cpu, fill_from_weights, &f);
}

int kn_device_forward(struct kn_device *dev, float *h, int n, int16_t *expert, float *weight,
                      struct err *e)
{
    if (!dev->gpu) {
        kn_cpu_forward(dev->cpu, h, n, expert, weight);
        return 0;
    }
    char msg[ERR_MSG_MAX] = "";
    if (dev->ops->forward(dev->ctx, h, n, expert, weight, msg, sizeof msg))
        return err_set(e, "gpu: %s", msg);
    return 0;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int kn_device_time_ffn(struct kn_device *dev, int tokens, int warmup, int repeats, double *us,
                       struct err *e)
{
    if (dev->gpu) {
        char msg[ERR_MSG_MAX] = "";
        if (dev->ops->time_ffn(dev->ctx, tokens, warmup, repeats, us, msg, sizeof msg))
            return err_set(e, "gpu: %s", msg);
        return 0;
    }
    size_t H = (size_t)dev->d.hidden;
    float *x = xmalloc(sizeof(float) * (size_t)tokens * H);
    float *y = xmalloc(sizeof(float) * (size_t)tokens * H);
    for (size_t i = 0; i < (size_t)tokens * H; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    double *t = xmalloc(sizeof(double) * (size_t)(repeats > 0 ? repeats : 1));
    for (int r = 0; r < warmup; r++)
        kn_cpu_ffn(dev->cpu, 0, x, tokens, y);
    for (int r = 0; r < repeats; r++) {
        double t0 = now_us();
        kn_cpu_ffn(dev->cpu, 0, x, tokens, y);
        t[r] = now_us() - t0;
    }
    qsort(t, (size_t)repeats, sizeof *t, cmp_double);
    *us = repeats > 0 ? t[repeats / 2] : 0.0;
    free(t);
    free(x);
    free(y);
    return 0;
}
