/* fuzz_trace_csv.c - libFuzzer target for the routing trace CSV loader
 * (trace_load). The first byte picks max_tokens (0: all, else 1..255: the
 * streaming cut); the rest is the file. A loaded trace is walked end to end
 * and written back out, so every index the loader promises is touched.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "workloads/trace.h"

FUZZ_ENTRY(trace_csv)
{
    if (size < 1) return 0;
    size_t max_tokens = data[0] & 0x80 ? data[0] & 0x7f : 0;
    char path[64];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof path);
    if (fd < 0) return 0;
    struct trace t;
    memset(&t, 0, sizeof t);
    struct err e = {""};
    if (trace_load(path, max_tokens, &t, &e) == 0) {
        long sum = 0;
        for (size_t k = 0; k < t.tokens; k++)
            for (int l = 0; l < t.layers; l++)
                for (int s = 0; s < t.topk; s++) {
                    int x = t.expert[trace_idx(&t, k, l, s)];
                    if (x < -1 || x >= t.experts) __builtin_trap();
                    sum += x;
                }
        (void)sum;
        if (max_tokens && t.tokens > max_tokens) __builtin_trap();
        if (trace_write_csv("/dev/null", &t, &e) != 0) __builtin_trap();
        trace_free(&t);
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
