/* test_trace_stats.c - trace statistics (workloads/trace_stats.c) on a
 * hand-made trace against hand-computed values, on the Mixtral excerpt and
 * trace, and on per-layer count files (workloads/trace_counts.c). */
#include "tests/testutil.h"

#include <math.h>

#include "workloads/trace.h"
#include "workloads/trace_counts.h"
#include "workloads/trace_stats.h"

#define REAL   "data/mixtral8x7b_gsm8k_routing.csv"
#define SWITCH "data/switch_base128_expert_load.csv"

/* 3 experts, top-2, 2 layers, 5 tokens; token 4 lacks layer 1.
 * layer 0: counts e0 4, e1 4, e2 2 -> imbalance 4 / (10/3) = 1.2,
 *          p = (.4,.4,.2), entropy 1.5219280948873621 bits
 * layer 1: counts e0 2, e1 3, e2 3 -> imbalance 3 / (8/3) = 1.125,
 *          p = (.25,.375,.375), entropy 1.561278124459133 bits
 * top-1 at layer 0 -> layer 1 (tokens 0..3): 0->2, 0->2, 1->1, 0->1; the
 * most frequent successor of 0 is 2, of 1 is 1: 3 of 4 tokens, 0.75. */
static const char *hand = "# experts=3 topk=2 layers=2\n"
                          "seq,token,layer,slot,expert,weight\n"
                          "0,0,0,0,0,0.6\n0,0,0,1,1,0.4\n0,0,1,0,2,0.6\n0,0,1,1,0,0.4\n"
                          "0,1,0,0,0,0.6\n0,1,0,1,2,0.4\n0,1,1,0,2,0.6\n0,1,1,1,1,0.4\n"
                          "0,2,0,0,1,0.6\n0,2,0,1,0,0.4\n0,2,1,0,1,0.6\n0,2,1,1,2,0.4\n"
                          "0,3,0,0,0,0.6\n0,3,0,1,1,0.4\n0,3,1,0,1,0.6\n0,3,1,1,0,0.4\n"
                          "0,4,0,0,2,0.6\n0,4,0,1,1,0.4\n";

static void test_hand(void **state)
{
    (void)state;
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(tu_write_temp(hand, ".csv"), 0, &t, &e), 0);
    assert_int_equal(t.missing, 1);
    double count[3];
    assert_int_equal(trace_layer_counts(&t, 0, count), 5);
    assert_float_equal(count[0], 4, 0);
    assert_float_equal(count[1], 4, 0);
    assert_float_equal(count[2], 2, 0);
    struct trace_stats s;
    trace_stats_compute(&t, &s);
    assert_int_equal(s.layers, 2);
    assert_int_equal(s.layer[0].tokens, 5);
    assert_int_equal(s.layer[1].tokens, 4);
    assert_float_equal(s.layer[0].imbalance, 1.2, 1e-12);
    assert_float_equal(s.layer[1].imbalance, 1.125, 1e-12);
    assert_float_equal(s.layer[0].entropy_bits, 1.5219280948873621, 1e-12);
    assert_float_equal(s.layer[1].entropy_bits, 1.561278124459133, 1e-12);
    assert_float_equal(s.layer[0].affinity_next, 0.75, 1e-12);
    assert_true(isnan(s.layer[1].affinity_next));
    assert_int_equal(s.all.tokens, 5);
    assert_float_equal(s.all.imbalance, (1.2 + 1.125) / 2, 1e-12);
    assert_float_equal(s.all.entropy_bits, 1.5416031096732477, 1e-12);
    assert_float_equal(s.all.affinity_next, 0.75, 1e-12);

    /* the CSV form */
    const char *p = tu_write_temp("", ".csv");
    FILE *f = fopen(p, "w");
    assert_int_equal(trace_stats_write_csv(f, &s), 0);
    fclose(f);
    char buf[512] = {0};
    f = fopen(p, "r");
    assert_int_equal(fread(buf, 1, sizeof buf - 1, f) > 0, 1);
    fclose(f);
    assert_string_equal(buf, "layer,tokens,imbalance,entropy_bits,affinity_next\n"
                             "0,5,1.200000,1.521928,0.750000\n"
                             "1,4,1.125000,1.561278,\n"
                             "all,5,1.162500,1.541603,0.750000\n");
    trace_stats_free(&s);
    trace_free(&t);
}

static void test_primitives(void **state)
{
    (void)state;
    double uniform[4] = {5, 5, 5, 5}, one[4] = {0, 9, 0, 0}, none[4] = {0};
    assert_float_equal(trace_imbalance(uniform, 4), 1.0, 1e-12);
    assert_float_equal(trace_entropy_bits(uniform, 4), 2.0, 1e-12);
    assert_float_equal(trace_imbalance(one, 4), 4.0, 1e-12);
    assert_float_equal(trace_entropy_bits(one, 4), 0.0, 1e-12);
    assert_true(isnan(trace_imbalance(none, 4)));
    assert_true(isnan(trace_entropy_bits(none, 4)));
}

/* A layer nobody reached: undefined values, left out of the means. */
static void test_empty_layer(void **state)
{
    (void)state;
    struct trace t;
    struct err e = {{0}};
    const char *p = tu_write_temp("# experts=2 topk=1 layers=3\n"
                                  "seq,token,layer,slot,expert,weight\n"
                                  "0,0,0,0,0,1\n0,0,1,0,1,1\n0,1,0,0,0,1\n0,1,1,0,1,1\n",
                                  ".csv");
    assert_int_equal(trace_load(p, 0, &t, &e), 0);
    struct trace_stats s;
    trace_stats_compute(&t, &s);
    assert_int_equal(s.layer[2].tokens, 0);
    assert_true(isnan(s.layer[2].imbalance));
    assert_true(isnan(s.layer[1].affinity_next));
    assert_float_equal(s.layer[0].affinity_next, 1.0, 1e-12);
    assert_float_equal(s.all.imbalance, 2.0, 1e-12);
    assert_float_equal(s.all.affinity_next, 1.0, 1e-12);
    trace_stats_free(&s);
    trace_free(&t);
}

/* Values checked against tests/cli/trace_stats_check.sh's awk computation. */
static void test_real(void **state)
{
    (void)state;
    if (access(REAL, R_OK) != 0) skip();
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(REAL, 0, &t, &e), 0);
    struct trace_stats s;
    trace_stats_compute(&t, &s);
    assert_int_equal(s.all.tokens, 247);
    assert_int_equal(s.layer[0].tokens, 246);
    assert_float_equal(s.layer[2].imbalance, 1.878543, 1e-6);
    assert_float_equal(s.all.imbalance, 1.517453, 1e-6);
    assert_float_equal(s.all.entropy_bits, 2.920117, 1e-6);
    assert_float_equal(s.all.affinity_next, 0.382443, 1e-6);
    trace_stats_free(&s);
    trace_free(&t);
}

static void test_counts(void **state)
{
    (void)state;
    const char *p = tu_write_temp("# made up\nlayer,expert,count\n"
                                  "3,0,10\n3,1,30\n1,0,20\n1,3,20\n",
                                  ".csv");
    assert_int_equal(trace_counts_sniff(p), 1);
    struct trace_counts c;
    struct err e = {{0}};
    assert_int_equal(trace_counts_load(p, &c, &e), 0);
    assert_int_equal(c.experts, 4);
    assert_int_equal(c.layers, 2);
    assert_int_equal(c.layer_id[0], 1);
    assert_int_equal(c.layer_id[1], 3);
    struct trace_stats s;
    trace_counts_stats(&c, 1, &s);
    assert_int_equal(s.layer[0].tokens, 40);
    assert_float_equal(s.layer[0].imbalance, 2.0, 1e-12); /* 20 / (40/4) */
    assert_float_equal(s.layer[1].imbalance, 3.0, 1e-12); /* 30 / (40/4) */
    assert_float_equal(s.layer[0].entropy_bits, 1.0, 1e-12);
    assert_float_equal(s.all.imbalance, 2.5, 1e-12);
    assert_true(isnan(s.all.affinity_next));
    trace_stats_free(&s);
    trace_counts_free(&c);
    assert_int_equal(trace_counts_sniff(hand), 0);
}

static void test_counts_switch(void **state)
{
    (void)state;
    if (access(SWITCH, R_OK) != 0) skip();
    struct trace_counts c;
    struct err e = {{0}};
    assert_int_equal(trace_counts_load(SWITCH, &c, &e), 0);
    assert_int_equal(c.experts, 128);
    assert_int_equal(c.layers, 6);
    assert_int_equal(c.layer_id[5], 11);
    struct trace_stats s;
    trace_counts_stats(&c, 1, &s);
    /* workloads/README.md: max/mean 6.2 to 31.0 per layer */
    assert_float_equal(s.layer[0].imbalance, 6.2043, 1e-4);
    assert_float_equal(s.layer[1].imbalance, 31.0146, 1e-4);
    trace_stats_free(&s);
    trace_counts_free(&c);
}

static void test_counts_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"layer,expert\n1,0\n", ":1: missing header layer,expert,count"},
        {"layer,expert,count\n1,0\n", ":2: expected 3 fields, got 2"},
        {"layer,expert,count\n1,x,3\n", ":2: expert 'x': not an integer"},
        {"layer,expert,count\n1,0,-3\n", ":2: count '-3': negative"},
        {"layer,expert,count\n1,0,nan\n", ":2: count 'nan': not a finite number"},
        {"# c\nlayer,expert,count\n1,0,3\n1,1,3\n1,0,4\n",
         ":5: duplicate row for layer 1 expert 0"},
        {"layer,expert,count\n", ":1: no data rows"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = tu_write_temp(bad[i].text, ".csv");
        struct trace_counts c;
        struct err e = {{0}};
        char want[256];
        snprintf(want, sizeof want, "%s%s", p, bad[i].want);
        assert_int_equal(trace_counts_load(p, &c, &e), -1);
        assert_string_equal(e.msg, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand),          cmocka_unit_test(test_primitives),
        cmocka_unit_test(test_empty_layer),   cmocka_unit_test(test_real),
        cmocka_unit_test(test_counts),        cmocka_unit_test(test_counts_switch),
        cmocka_unit_test(test_counts_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
