/* test_trace_import.c - JSON-lines router logs to traces
 * (workloads/trace_import.c): every field-name variant, defaults, token
 * numbering and missing layers, and the exact one-line errors. */
#include "tests/testutil.h"

#include "workloads/trace.h"
#include "workloads/trace_import.h"

static void test_variants(void **state)
{
    (void)state;
    const char *p = tu_write_temp(
        "{\"layer\":0,\"token_idx\":0,\"topk_ids\":[1,2],\"topk_weights\":[0.7,0.3],\"req_id\":5}\n"
        "{\"layer_id\":\"1\",\"token\":0,\"experts\":[\"3\",\"0\"],\"gating_probs\":[0.6,0.4],"
        "\"problem_id\":\"5\"}\n"
        "{\"layer\":0,\"position\":1,\"expert_ids\":[2,3],\"weights\":[0.5,0.5],\"seq\":5}\n"
        "{\"layer\":1,\"token_idx\":1,\"topk_ids\":[0,1],\"request_id\":5}\n"
        "\n"
        "  {\"layer\":0,\"token_idx\":0,\"topk_ids\":[1,0],\"extra\":{\"x\":[1]}}\r\n",
        ".jsonl");
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_import_jsonl(p, "m", 0, &t, &e), 0);
    assert_string_equal(t.model, "m");
    assert_int_equal(t.tokens, 3);
    assert_int_equal(t.experts, 4);
    assert_int_equal(t.topk, 2);
    assert_int_equal(t.layers, 2);
    assert_int_equal(t.missing, 1);
    assert_int_equal(t.seq[0], 5);
    assert_int_equal(t.pos[0], 0);
    assert_int_equal(t.seq[1], 5);
    assert_int_equal(t.pos[1], 1);
    assert_int_equal(t.seq[2], 0);
    assert_int_equal(t.expert[trace_idx(&t, 0, 0, 0)], 1);
    assert_float_equal(t.weight[trace_idx(&t, 0, 0, 0)], 0.7, 1e-7);
    assert_int_equal(t.expert[trace_idx(&t, 0, 1, 0)], 3);
    assert_float_equal(t.weight[trace_idx(&t, 0, 1, 1)], 0.4, 1e-7);
    assert_int_equal(t.expert[trace_idx(&t, 1, 0, 1)], 3);
    assert_float_equal(t.weight[trace_idx(&t, 1, 1, 0)], 0.5, 1e-7); /* no weights: 1/topk */
    assert_int_equal(t.expert[trace_idx(&t, 2, 0, 1)], 0);
    assert_int_equal(t.expert[trace_idx(&t, 2, 1, 0)], -1);

    /* written and read back */
    const char *out = tu_write_temp("", ".csv");
    struct trace r;
    assert_int_equal(trace_write_csv(out, &t, &e), 0);
    assert_int_equal(trace_load(out, 0, &r, &e), 0);
    assert_int_equal(r.tokens, 3);
    assert_int_equal(r.missing, 1);
    assert_memory_equal(r.expert, t.expert, 3 * 2 * 2 * sizeof *r.expert);
    assert_true(strstr(r.source, "imported from ") == r.source);
    trace_free(&r);
    trace_free(&t);

    /* --experts larger than the largest id */
    assert_int_equal(trace_import_jsonl(p, NULL, 16, &t, &e), 0);
    assert_int_equal(t.experts, 16);
    assert_string_equal(t.model, "");
    trace_free(&t);
}

/* String request ids (vLLM's "cmpl-...", SGLang's hex rids) are numbered in
 * the order first seen; an integer id among them is one more name ("7" and
 * 7 are one sequence). */
static void test_string_request_ids(void **state)
{
    (void)state;
    const char *p =
        tu_write_temp("{\"layer\":0,\"token_idx\":0,\"topk_ids\":[1,2],\"req_id\":\"cmpl-b7\"}\n"
                      "{\"layer\":0,\"token_idx\":0,\"topk_ids\":[0,2],\"req_id\":\"3f9a\"}\n"
                      "{\"layer\":0,\"token_idx\":1,\"topk_ids\":[0,1],\"req_id\":\"cmpl-b7\"}\n"
                      "{\"layer\":0,\"token_idx\":0,\"topk_ids\":[2,3],\"req_id\":7}\n"
                      "{\"layer\":1,\"token_idx\":0,\"topk_ids\":[3,1],\"req_id\":\"7\"}\n",
                      ".jsonl");
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_import_jsonl(p, NULL, 0, &t, &e), 0);
    assert_int_equal(t.tokens, 4);
    const int32_t seq[4] = {0, 1, 0, 2}, pos[4] = {0, 0, 1, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(t.seq[i], seq[i]);
        assert_int_equal(t.pos[i], pos[i]);
    }
    assert_int_equal(t.expert[trace_idx(&t, 3, 1, 0)], 3); /* 7 and "7": one sequence */
    assert_int_equal(t.missing, 3);
    trace_free(&t);
    unlink(p);
}

#define OK1 "{\"layer\":0,\"token\":0,\"topk_ids\":[1,2]}\n"

/* clang-format off */
static const struct {
    const char *text;
    int experts;
    const char *want;
} bad[] = {
    {"{bad\n", 0, ":1: bad JSON: string or '}' expected near 'bad'"},
    {OK1 "[1,2]\n", 0, ":2: not a JSON object"},
    {"{\"token_idx\":0,\"topk_ids\":[1]}\n", 0, ":1: missing field layer (or layer_id)"},
    {"{\"layer\":0,\"topk_ids\":[1]}\n", 0, ":1: missing field token_idx (or token, position)"},
    {"{\"layer\":0,\"token\":0}\n", 0, ":1: missing field topk_ids (or experts, expert_ids)"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1,2],\"topk_weights\":[0.5]}\n", 0,
     ":1: 2 expert ids but 1 weights"},
    {"{\"layer\":\"x\",\"token\":0,\"topk_ids\":[1]}\n", 0, ":1: layer: not an integer id"},
    {"{\"layer\":1.5,\"token\":0,\"topk_ids\":[1]}\n", 0, ":1: layer: not an integer id"},
    {"{\"layer_id\":-1,\"token\":0,\"topk_ids\":[1]}\n", 0, ":1: layer_id -1 outside [0, 4096)"},
    {"{\"layer\":0,\"position\":\"-3\",\"topk_ids\":[1]}\n", 0, ":1: position -3 outside [0, 2147483647)"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1,\"a\"]}\n", 0, ":1: topk_ids[1]: not an integer id"},
    {"{\"layer\":0,\"token\":0,\"expert_ids\":[40000]}\n", 0, ":1: expert_ids[0] 40000 outside [0, 32767)"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[4]}\n", 4, ":1: topk_ids[0] 4 outside [0, 4)"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1,1]}\n", 0, ":1: topk_ids: expert 1 repeated"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[]}\n", 0, ":1: topk_ids: not a non-empty array"},
    {"{\"layer\":0,\"token\":0,\"experts\":3}\n", 0, ":1: experts: not a non-empty array"},
    {OK1 "\n{\"layer\":1,\"token\":0,\"topk_ids\":[1,2,3]}\n", 0, ":3: 3 expert ids, expected 2 as on line 1"},
    {OK1 OK1, 0, ":2: duplicate seq 0 token 0 layer 0"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1,2],\"weights\":[\"a\",0.5]}\n", 0, ":1: weights[0]: not a number"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1,2],\"gating_probs\":[0.5,-0.5]}\n", 0,
     ":1: gating_probs[1] -0.5: negative or not finite"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1,2],\"topk_weights\":{}}\n", 0, ":1: topk_weights: not an array"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1],\"req_id\":\"-3\"}\n", 0, ":1: req_id -3 outside [0, 2147483647)"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1],\"req_id\":\"\"}\n", 0,
     ":1: req_id: an empty string or one holding a NUL byte"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1],\"req_id\":[1]}\n", 0, ":1: req_id: not an integer id"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[1],\"req_id\":\"cmpl-a\"}\n"
     "{\"layer\":0,\"token\":0,\"topk_ids\":[2],\"req_id\":\"cmpl-a\"}\n", 0,
     ":2: duplicate seq 'cmpl-a' token 0 layer 0"},
    {"", 0, ":0: no records"},
    {"\n\n", 0, ":2: no records"},
    {"{\"layer\":0,\"token\":0,\"topk_ids\":[0,1,2]}\n", 2, ":1: topk_ids[2] 2 outside [0, 2)"},
};
/* clang-format on */

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = tu_write_temp(bad[i].text, ".jsonl");
        struct trace t;
        struct err e = {{0}};
        char want[512];
        snprintf(want, sizeof want, "%s%s", p, bad[i].want);
        int rc = trace_import_jsonl(p, NULL, bad[i].experts, &t, &e);
        if (rc != -1 || strcmp(e.msg, want))
            fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, e.msg, want);
        unlink(p);
    }
    struct trace t;
    struct err e;
    assert_int_equal(trace_import_jsonl("/nonexistent.jsonl", NULL, 0, &t, &e), -1);
    assert_string_equal(e.msg, "/nonexistent.jsonl:0: cannot open: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_string_request_ids),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
