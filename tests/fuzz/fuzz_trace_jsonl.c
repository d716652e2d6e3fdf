/* fuzz_trace_jsonl.c - libFuzzer target for the JSON-lines router log import
 * (trace_import_jsonl). The first byte picks the expert count given on the
 * command line (0: inferred); the rest is the log. A trace that loads is
 * walked end to end and written out as CSV.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "workloads/trace.h"
#include "workloads/trace_import.h"

FUZZ_ENTRY(trace_jsonl)
{
    if (size < 1) return 0;
    int experts = data[0] & 0x80 ? data[0] & 0x7f : 0;
    char path[64];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof path);
    if (fd < 0) return 0;
    struct trace t;
    memset(&t, 0, sizeof t);
    struct err e = {""};
    if (trace_import_jsonl(path, "fuzz", experts, &t, &e) == 0) {
        for (size_t k = 0; k < t.tokens; k++)
            for (int l = 0; l < t.layers; l++)
                for (int s = 0; s < t.topk; s++) {
                    int x = t.expert[trace_idx(&t, k, l, s)];
                    if (x < -1 || x >= t.experts) __builtin_trap();
                }
        if (trace_write_csv("/dev/null", &t, &e) != 0) __builtin_trap();
        trace_free(&t);
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
