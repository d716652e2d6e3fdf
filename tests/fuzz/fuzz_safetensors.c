/* fuzz_safetensors.c - libFuzzer target for the safetensors checkpoint
 * reader (kn_st_open). A checkpoint that opens has every float tensor
 * converted to fp32, which reads every byte its header claims.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/safetensors.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(safetensors)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    struct kn_st *st = NULL;
    struct err e = {""};
    if (kn_st_open(path, &st, &e) == 0) {
        for (int i = 0; i < st->n; i++) {
            const struct kn_st_tensor *t = &st->t[i];
            if (kn_st_find(st, t->name) == NULL) __builtin_trap();
            size_t esz = t->dtype == KN_ST_F32 ? 4 : 2;
            if (t->dtype == KN_ST_OTHER) continue;
            float *out = malloc(t->nbytes / esz * sizeof *out + 1);
            kn_st_to_f32(t, out);
            free(out);
        }
        kn_st_close(st);
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
