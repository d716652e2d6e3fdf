/* fuzz_scenario.c - libFuzzer target for the scenario INI parser (sc_load).
 *
 * Input: the INI text, optionally followed by a NUL byte and --set overrides,
 * one per line; or a 0x01 byte, then INI text taken whole (NUL bytes
 * included, which a scenario must refuse). On success every run's label and memory estimate are
 * computed (what `moesim run` does next); on failure the message must be one
 * non-empty line.
 */
#include <stdlib.h>
#include <string.h>

#include "app/scenario.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_SETS_MAX 16

FUZZ_ENTRY(scenario)
{
    int raw = size > 0 && data[0] == 0x01;
    if (raw) {
        data++;
        size--;
    }
    const uint8_t *nul = raw ? NULL : memchr(data, 0, size);
    size_t ini_len = nul ? (size_t)(nul - data) : size;
    char path[64];
    int fd = fuzz_memfile(data, ini_len, path, sizeof path);
    if (fd < 0) return 0;
    char *sets_text = NULL;
    const char *sets[FUZZ_SETS_MAX];
    size_t nsets = 0;
    if (nul) {
        size_t n = size - ini_len - 1;
        sets_text = malloc(n + 1);
        memcpy(sets_text, nul + 1, n);
        sets_text[n] = '\0';
        for (char *p = sets_text; p && *p && nsets < FUZZ_SETS_MAX;) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = '\0';
            sets[nsets++] = p;
            p = nl ? nl + 1 : NULL;
        }
    }
    struct sc_sweep *s = NULL;
    struct err e = {""};
    if (sc_load(path, sets, nsets, &s, &e) == 0) {
        if (raw && memchr(data, 0, size)) __builtin_trap(); /* a NUL byte was let through */
        for (size_t i = 0; i < sc_count(s); i++) {
            char label[256];
            sc_label(s, i, label, sizeof label);
            (void)cfg_memory_estimate(sc_run(s, i));
        }
        sc_free(s);
    } else {
        fuzz_check_msg(e.msg);
    }
    free(sets_text);
    close(fd);
    return 0;
}
