/* test_fuzz_replay.c - replays every committed fuzz input through its target.
 *
 * The libFuzzer targets of tests/fuzz/ are compiled in here as plain
 * functions (FUZZ_REPLAY, see tests/fuzz/fuzz.h) and fed each file of
 * tests/fuzz/corpus/NAME/ (the seeds) and tests/fuzz/regress/NAME/ (inputs
 * that once crashed or hung a parser, kept so the fix stays). A regression
 * shows as a crash, a sanitizer report (make test SAN=1) or a trap on a
 * broken promise (an error message that is not one line, an expert id out
 * of range). Runs from the repository root, as tests/run.sh does.
 */
#define FUZZ_REPLAY 1
#include "testutil.h"

#include <dirent.h>

#include "tests/fuzz/fuzz_calib.c"
#include "tests/fuzz/fuzz_flows.c"
#include "tests/fuzz/fuzz_graphml.c"
#include "tests/fuzz/fuzz_htsim_topo.c"
#include "tests/fuzz/fuzz_safetensors.c"
#include "tests/fuzz/fuzz_scenario.c"
#include "tests/fuzz/fuzz_trace_csv.c"
#include "tests/fuzz/fuzz_trace_jsonl.c"

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

/* Feeds every regular file of dir to fn; returns how many. */
static size_t replay_dir(const char *dir, fuzz_fn fn)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
            if (len == cap) {
                cap = cap ? 2 * cap : 4096;
                buf = realloc(buf, cap);
                assert_non_null(buf);
            }
            size_t r = fread(buf + len, 1, cap - len, f);
            if (r == 0) break;
            len += r;
        }
        fclose(f);
        fn(buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *name, fuzz_fn fn)
{
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name);
    size_t seeds = replay_dir(dir, fn);
    snprintf(dir, sizeof dir, "tests/fuzz/regress/%s", name);
    size_t regress = replay_dir(dir, fn);
    print_message("%s: %zu seeds, %zu regression inputs\n", name, seeds, regress);
    assert_true(seeds > 0);
}

static void test_replay_scenario(void **state)
{
    (void)state;
    replay("scenario", fuzz_scenario);
}

static void test_replay_trace_csv(void **state)
{
    (void)state;
    replay("trace_csv", fuzz_trace_csv);
}

static void test_replay_trace_jsonl(void **state)
{
    (void)state;
    replay("trace_jsonl", fuzz_trace_jsonl);
}

static void test_replay_calib(void **state)
{
    (void)state;
    replay("calib", fuzz_calib);
}

static void test_replay_graphml(void **state)
{
    (void)state;
    replay("graphml", fuzz_graphml);
}

static void test_replay_htsim_topo(void **state)
{
    (void)state;
    replay("htsim_topo", fuzz_htsim_topo);
}

static void test_replay_safetensors(void **state)
{
    (void)state;
    replay("safetensors", fuzz_safetensors);
}

static void test_replay_flows(void **state)
{
    (void)state;
    replay("flows", fuzz_flows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_scenario),    cmocka_unit_test(test_replay_trace_csv),
        cmocka_unit_test(test_replay_trace_jsonl), cmocka_unit_test(test_replay_safetensors),
        cmocka_unit_test(test_replay_calib),       cmocka_unit_test(test_replay_flows),
        cmocka_unit_test(test_replay_graphml),     cmocka_unit_test(test_replay_htsim_topo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
