/* fuzz_flows.c - libFuzzer target for the flows file loader (wl_flows_load,
 * workloads/flows_file.c: htsim's connection matrix or CSV). The first byte
 * picks the fabric's host count (0: unchecked, else 2..257); the rest is the
 * file. A loaded file is walked: every host below the fabric's, every flow
 * with bytes, every flow it waits for before it in the order, and every
 * flow in the order once.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "workloads/flows_file.h"

FUZZ_ENTRY(flows)
{
    if (size < 1) return 0;
    uint32_t hosts = data[0] ? (uint32_t)data[0] + 2 : 0;
    char path[64];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof path);
    if (fd < 0) return 0;
    struct wl_flows fl;
    struct err e = {""};
    if (wl_flows_load(path, hosts, &fl, &e) == 0) {
        if (!fl.n) __builtin_trap();
        size_t *pos = calloc(fl.n, sizeof *pos);
        for (size_t i = 0; i < fl.n; i++) {
            if (fl.order[i] >= fl.n || pos[fl.order[i]]) __builtin_trap();
            pos[fl.order[i]] = i + 1;
        }
        for (size_t i = 0; i < fl.n; i++) {
            const struct wl_flow *f = &fl.f[i];
            if (f->src == f->dst || !f->bytes) __builtin_trap();
            if (hosts && (f->src >= hosts || f->dst >= hosts)) __builtin_trap();
            if (f->src >= fl.nodes || f->dst >= fl.nodes) __builtin_trap();
            if ((size_t)f->woff + f->nwait > fl.nwait) __builtin_trap();
            for (uint32_t k = 0; k < f->nwait; k++) {
                uint32_t a = fl.wait[f->woff + k];
                if (a >= fl.n || pos[a] >= pos[i] || !fl.f[a].fires) __builtin_trap();
            }
        }
        free(pos);
        wl_flows_free(&fl);
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
