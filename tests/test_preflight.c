/* test_preflight.c - a sweep is checked whole before any run starts
 * (app/preflight.c through sc_load_all): the placement's feasibility from the
 * trace's metadata, the trace against workload.experts/topk/layers, the
 * output paths; every distinct failure is one line "FILE:LINE: key: reason"
 * naming the key to change and where it was set, all of them at once. */
#include "testutil.h"

#include <sys/stat.h>

#include "app/scenario.h"

static char dir[] = "/tmp/moesim_preflight_XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes dir/name with text; returns its path (one of 8 static buffers). */
static const char *put(const char *name, const char *text)
{
    static char paths[8][256];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* A trace of E experts (top-2, L layers) in its metadata; its rows are
 * garbage, which a check that reads only the metadata never sees. */
static void put_trace(const char *name, int experts, int layers)
{
    char text[256];
    snprintf(text, sizeof text,
             "#model=test experts=%d topk=2 layers=%d\nseq,token,layer,slot,expert,weight\n"
             "these rows are never read up front\n",
             experts, layers);
    put(name, text);
}

/* Loads ini (written to dir/s.ini) with sets; expects failure with exactly
 * the lines want[0..n) ("FILE" stands for the scenario's path). */
static void expect_lines(const char *ini, const char *const *sets, size_t nsets,
                         const char *const *want, size_t n)
{
    const char *path = put("s.ini", ini);
    struct sc_sweep *s = NULL;
    struct sc_errors errs;
    struct err e = {""};
    int rc = sc_load_all(path, sets, nsets, &s, &errs, &e);
    if (rc == 0) {
        print_error("accepted\n");
        sc_free(s);
    }
    assert_int_equal(rc, -1);
    for (size_t i = 0; i < errs.n; i++)
        print_message("  got %s\n", errs.line[i]);
    assert_int_equal(errs.n, n);
    assert_int_equal(errs.more, 0);
    for (size_t i = 0; i < n; i++) {
        char line[1024];
        size_t used = 0;
        for (const char *p = want[i]; *p && used + 1 < sizeof line;) {
            if (!strncmp(p, "FILE", 4)) {
                used += (size_t)snprintf(line + used, sizeof line - used, "%s", path);
                p += 4;
            } else if (!strncmp(p, "DIR", 3)) {
                used += (size_t)snprintf(line + used, sizeof line - used, "%s", dir);
                p += 3;
            } else {
                line[used++] = *p++;
            }
        }
        line[used] = '\0';
        assert_string_equal(errs.line[i], line);
    }
    assert_string_equal(e.msg, errs.line[0]);
    sc_errors_free(&errs);
}

static void expect_ok(const char *ini, const char *const *sets, size_t nsets, size_t runs)
{
    const char *path = put("s.ini", ini);
    struct sc_sweep *s = NULL;
    struct err e = {""};
    int rc = sc_load(path, sets, nsets, &s, &e);
    if (rc) print_error("unexpected: %s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(sc_count(s), runs);
    sc_free(s);
}

/* 16 GPUs (4 leaves x 4), 8 experts with 8 replicas: the sweep. */
#define MOE16                                                                                      \
    "[topology]\nleaves = 4\nhosts_per_leaf = 4\ngpus_per_host = 2\n"                              \
    "[transport]\npath = ecmp,spray\n"                                                             \
    "[workload]\nkind = moe\ntrace = t8.csv\ntokens_per_gpu = 16\n"

/* Policies that do not replicate, swept with a transport: one line each
 * (not one per transport), blamed on placement.replicas where the file set
 * it; the good combinations are not reported. */
static void test_every_infeasible_policy_at_once(void **state)
{
    (void)state;
    put_trace("t8.csv", 8, 32);
    const char *want[] = {
        "FILE:13: placement.replicas: policy 'affinity' does not replicate experts "
        "(contiguous, round_robin, random and eplb do)",
        "FILE:13: placement.replicas: policy 'ilp' does not replicate experts (contiguous, "
        "round_robin, random and eplb do)",
    };
    expect_lines(MOE16 "[placement]\npolicy = contiguous,round_robin,affinity,ilp\nreplicas = 8\n",
                 NULL, 0, want, 2);
    /* the same through --set: the --set that set the key is named */
    const char *sets[] = {"placement.policy=contiguous,affinity", "placement.replicas=8"};
    const char *want2[] = {"--set placement.replicas=8: policy 'affinity' does not replicate "
                           "experts (contiguous, round_robin, random and eplb do)"};
    expect_lines(MOE16, sets, 2, want2, 1);
    expect_ok(MOE16 "[placement]\npolicy = contiguous,round_robin,eplb\nreplicas = 8\n", NULL, 0,
              6);
}

/* Without replicas 8 experts do not fill 16 GPUs: the default blamed (no
 * line), the file named. An ilp instance too large is blamed on the policy;
 * the layers it counts are workload.layers when set, else the trace's. */
static void test_slots_and_ilp_size(void **state)
{
    (void)state;
    put_trace("t8.csv", 8, 32);
    const char *want[] = {"FILE: placement.replicas: 16 GPUs but only 8 expert slots per layer "
                          "(experts + replicas)"};
    expect_lines(MOE16, NULL, 0, want, 1);
    put_trace("t16.csv", 16, 32);
    const char *ini = "[topology]\nleaves = 4\nhosts_per_leaf = 4\n"
                      "[workload]\nkind = moe\ntrace = t16.csv\ntokens_per_gpu = 16\n"
                      "[placement]\npolicy = contiguous,ilp\n";
    const char *want2[] = {"FILE:9: placement.policy: ilp instance too large: 32 layers x 16 "
                           "experts x 16 GPUs = 8192 binaries (limit 4096)"};
    expect_lines(ini, NULL, 0, want2, 1);
    const char *layers8[] = {"workload.layers=8"};
    expect_ok(ini, layers8, 1, 2);
    const char *layers16[] = {"workload.layers=8,16"};
    /* 16 x 16 x 16 = 4096 is the limit itself: accepted */
    expect_ok(ini, layers16, 1, 4);
    /* hierarchical eplb on 3 leaves: 16 experts do not split over them */
    const char *ini3 = "[topology]\nleaves = 3\nhosts_per_leaf = 4\n"
                       "[workload]\nkind = moe\ntrace = t16.csv\ntokens_per_gpu = 16\n"
                       "[placement]\npolicy = eplb\nreplicas = 8\n";
    const char *want4[] = {"FILE:9: placement.policy: hierarchical eplb needs experts (16) and "
                           "replicas (8) divisible by the 3 leaves"};
    expect_lines(ini3, NULL, 0, want4, 1);
}

/* The trace against the keys: workload.experts, topk and layers beyond the
 * metadata, a missing trace, a trace that is not there; a trace whose
 * metadata lacks the experts is left to the run. */
static void test_trace_against_the_keys(void **state)
{
    (void)state;
    put_trace("t8.csv", 8, 32);
    const char *base = "[topology]\nleaves = 2\nhosts_per_leaf = 4\n"
                       "[workload]\nkind = moe\ntrace = t8.csv\ntokens_per_gpu = 16\n";
    char want[3][512];
    snprintf(want[0], sizeof want[0],
             "--set workload.experts=4: 4 contradicts the trace's 8 experts (%s/t8.csv)", dir);
    snprintf(want[1], sizeof want[1],
             "--set workload.topk=3: 3 is more than the trace's top-2 (%s/t8.csv)", dir);
    snprintf(want[2], sizeof want[2],
             "--set workload.layers=33: 33 is more than the trace's 32 layers (%s/t8.csv)", dir);
    const char *sets[3][1] = {{"workload.experts=4"}, {"workload.topk=3"}, {"workload.layers=33"}};
    for (int i = 0; i < 3; i++) {
        const char *w[] = {want[i]};
        expect_lines(base, sets[i], 1, w, 1);
    }
    const char *none[] = {"FILE: workload.trace: workload.kind = moe needs a routing trace"};
    expect_lines("[workload]\nkind = moe\n", NULL, 0, none, 1);
    const char *missing[] = {"FILE:6: workload.trace: DIR/gone.csv: cannot open: No such file or "
                             "directory"};
    expect_lines("[topology]\nleaves = 2\nhosts_per_leaf = 4\n[workload]\nkind = moe\n"
                 "trace = gone.csv\n",
                 NULL, 0, missing, 1);
    put("bad.csv", "#experts=9999999\nseq,token,layer,slot,expert,weight\n");
    const char *badmeta[] = {"FILE:6: workload.trace: DIR/bad.csv:1: experts '9999999': not an "
                             "integer in [1, 32767]"};
    expect_lines("[topology]\nleaves = 2\nhosts_per_leaf = 4\n[workload]\nkind = moe\n"
                 "trace = bad.csv\n",
                 NULL, 0, badmeta, 1);
    /* no "#experts=" line: the rows would tell, so the run checks */
    put("nometa.csv", "seq,token,layer,slot,expert,weight\n0,0,0,0,1,1\n");
    expect_ok("[topology]\nleaves = 2\nhosts_per_leaf = 4\n[workload]\nkind = moe\n"
              "trace = nometa.csv\n[placement]\npolicy = affinity\nreplicas = 8\n",
              NULL, 0, 1);
}

/* Problems of different kinds in different runs of one sweep: each one's
 * line, in run order, all at once. */
static void test_mixed_failures_in_one_sweep(void **state)
{
    (void)state;
    put_trace("t8.csv", 8, 32);
    char d[300];
    snprintf(d, sizeof d, "%s/adir", dir);
    assert_int_equal(mkdir(d, 0755), 0);
    const char *ini = MOE16 "[placement]\npolicy = contiguous,affinity\nreplicas = 8\n"
                            "[output]\ncsv = adir\n";
    const char *sets[] = {"transport.mtu=1500,9000", "transport.window_bytes=8192"};
    const char *want[] = {
        "FILE:15: output.csv: DIR/adir is a directory",
        "FILE:13: placement.replicas: policy 'affinity' does not replicate experts "
        "(contiguous, round_robin, random and eplb do)",
        "--set transport.window_bytes=8192: 8192 is less than transport.mtu (9000): use 0 "
        "(automatic) or at least one packet",
    };
    expect_lines(ini, sets, 2, want, 3);
}

/* More distinct failures than SC_ERRORS_MAX: the first ones kept, the rest
 * counted. */
static void test_many_failures_counted(void **state)
{
    (void)state;
    size_t n = SC_ERRORS_MAX + 5, cap = n * 64 + 64, used = 0;
    char *set = malloc(cap);
    used += (size_t)snprintf(set, cap, "output.db=");
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "plain%zu", i);
        put(name, "x");
        used += (size_t)snprintf(set + used, cap - used, "%s%s/%s/r.db", i ? "," : "", dir, name);
    }
    const char *sets[] = {set};
    const char *path = put("s.ini", "[sim]\nseed = 1\n");
    struct sc_sweep *s = NULL;
    struct sc_errors errs;
    struct err e = {""};
    assert_int_equal(sc_load_all(path, sets, 1, &s, &errs, &e), -1);
    assert_int_equal(errs.n, SC_ERRORS_MAX);
    assert_int_equal(errs.more, 5);
    /* a long --set is quoted shortened, the reason whole */
    char want[600];
    snprintf(want, sizeof want, "--set %.300s... (%zu values): %s/plain0 is not a directory", set,
             n, dir);
    assert_string_equal(errs.line[0], want);
    sc_errors_free(&errs);
    free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_infeasible_policy_at_once),
        cmocka_unit_test(test_slots_and_ilp_size),
        cmocka_unit_test(test_trace_against_the_keys),
        cmocka_unit_test(test_mixed_failures_in_one_sweep),
        cmocka_unit_test(test_many_failures_counted),
    };
    return cmocka_run_group_tests_name("preflight", tests, setup, teardown);
}
