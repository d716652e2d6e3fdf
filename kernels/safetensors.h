/* safetensors.h - reading a safetensors checkpoint, mmapped and validated.
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON
 * mapping each tensor name to {"dtype", "shape", "data_offsets": [begin,
 * end]} (offsets relative to the data after the header; an optional
 * "__metadata__" object), then the data. kn_st_open checks the whole header
 * against the file (length, JSON, every entry's offsets within the data and
 * its byte span against dtype and shape). Errors are one line, "FILE: reason"
 * or "FILE: tensor NAME: reason".
 */
#ifndef MOESIM_KN_SAFETENSORS_H
#define MOESIM_KN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum kn_st_dtype { KN_ST_F32, KN_ST_F16, KN_ST_BF16, KN_ST_OTHER };

#define KN_ST_MAXDIM 8

struct kn_st_tensor {
    char *name;
    int dtype; /* enum kn_st_dtype */
    char dtype_name[16];
    int ndim;
    int64_t shape[KN_ST_MAXDIM];
    const unsigned char *data; /* inside the mapping; any alignment */
    size_t nbytes;
};

struct kn_st {
    char *path;
    void *map;
    size_t size;
    int n;
    struct kn_st_tensor *t;
};

int kn_st_open(const char *path, struct kn_st **out, struct err *e);
void kn_st_close(struct kn_st *st);
/* The tensor called name, or NULL. */
const struct kn_st_tensor *kn_st_find(const struct kn_st *st, const char *name);
/* The tensor called name if it exists with a float dtype (BF16, F16, F32)
 * and the given shape; NULL with the error otherwise. */
const struct kn_st_tensor *kn_st_expect(const struct kn_st *st, const char *name, int ndim,
                                        const int64_t *shape, struct err *e);
/* Converts a float tensor's elements to fp32. */
void kn_st_to_f32(const struct kn_st_tensor *t, float *out);

#endif
