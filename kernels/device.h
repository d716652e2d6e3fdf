/* device.h - where the MoE blocks run: the CPU reference or the CUDA library.
 *
 * kn_device_open("cpu") always works. "gpu" loads libmoesim_cuda.so
 * ($MOESIM_CUDA_LIB, else next to the moesim binary, else in build/ next to
 * it) and asks it for a GPU; failing that it is an error. NULL means "gpu if
 * there is one": on failure it falls back to the CPU and says why in note.
 *
 * prec is the CPU path's precision (moe_cpu.h; AUTO: bf16 where the CPU has
 * AVX-512 BF16, else fp32). The GPU path is bf16 only: KN_FP32 with a GPU
 * is an error.
 */
#ifndef MOESIM_KN_DEVICE_H
#define MOESIM_KN_DEVICE_H

#include <stdint.h>

#include "kernels/layer.h"
#include "kernels/model.h"
#include "kernels/moe_cpu.h"
#include "kernels/weights.h"
#include "base/err.h"

struct kn_device;

int kn_device_open(const char *kind, const struct kn_dims *d, int max_tokens, int threads,
                   enum kn_precision prec, struct kn_device **out, char *note, size_t notelen,
                   struct err *e);
void kn_device_close(struct kn_device *dev);

/* "cpu" or "gpu". */
const char *kn_device_kind(const struct kn_device *dev);
/* "fp32" or "bf16": the operand precision of the GEMMs. */
const char *kn_device_precision(const struct kn_device *dev);
/* A description: the GPU's name, or the CPU and its micro-kernel. */
const char *kn_device_name(const struct kn_device *dev);

int kn_device_load_layer(struct kn_device *dev, const struct kn_layer *w, struct err *e);
/* 1 when the device can take layer l straight from the weights
 * (kn_device_load_weights): the CPU bf16 path, which makes and packs one
 * tensor at a time, so that no fp32 copy of the layer is needed. */
int kn_device_direct(const struct kn_device *dev);
void kn_device_load_weights(struct kn_device *dev, struct kn_weights *w, int l);
int kn_device_forward(struct kn_device *dev, float *h, int n, int16_t *expert, float *weight,
                      struct err *e);
/* Median microseconds of one expert's FFN over `tokens` rows. */
int kn_device_time_ffn(struct kn_device *dev, int tokens, int warmup, int repeats, double *us,
                       struct err *e);

#endif
