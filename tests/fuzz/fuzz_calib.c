/* fuzz_calib.c - libFuzzer target for the compute calibration CSV reader
 * (wl_compute_load_csv, workload.compute). A file that loads is evaluated
 * at token counts from 1 to 2^40: every time must fit the clock (below
 * 2^63 ps) and the rows must have increasing token counts.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "workloads/compute.h"

FUZZ_ENTRY(calib)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    struct wl_compute m;
    struct err e = {""};
    if (wl_compute_load_csv(path, &m, &e) == 0) {
        if (!m.calibrated || m.n == 0) __builtin_trap();
        for (size_t i = 1; i < m.n; i++)
            if (!(m.tokens[i] > m.tokens[i - 1])) __builtin_trap();
        for (uint64_t t = 1; t <= (1ull << 40); t = t * 3 + 1)
            if (wl_compute_ps(&m, t) > (simtime_t)INT64_MAX) __builtin_trap();
        wl_compute_free(&m);
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
