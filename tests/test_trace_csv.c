/* test_trace_csv.c - the routing-trace CSV reader and writer (workloads/trace_csv.c):
 * the real Mixtral trace and its excerpt, inference of missing dimensions,
 * streaming with max_tokens, the write/read round trip, and the exact
 * one-line error for each kind of malformed input. */
#include "tests/testutil.h"

#include "workloads/trace.h"

#define EXCERPT "tests/data/mixtral_excerpt.csv"
#define REAL    "data/mixtral8x7b_gsm8k_routing.csv"
#define H       "# experts=4 topk=2 layers=2\nseq,token,layer,slot,expert,weight\n"

static void test_excerpt(void **state)
{
    (void)state;
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(EXCERPT, 0, &t, &e), 0);
    assert_string_equal(t.model, "mixtral-8x7b-instruct-v0.1");
    assert_string_equal(t.source, "vLLM decode-phase router logging, gsm8k prompts; public data "
                                  "from the speculative-moe study");
    assert_int_equal(t.experts, 8);
    assert_int_equal(t.topk, 2);
    assert_int_equal(t.layers, 32);
    assert_int_equal(t.tokens, 9);
    /* seq 0 token 166 lacks 1 layer, token 167 9, seq 1 token 78 5. */
    assert_int_equal(t.missing, 15);
    assert_int_equal(t.seq[0], 0);
    assert_int_equal(t.pos[0], 164);
    assert_int_equal(t.seq[4], 1);
    assert_int_equal(t.pos[4], 0);
    assert_int_equal(t.seq[8], 1);
    assert_int_equal(t.pos[8], 78);
    /* first row: 0,164,0,0,2,0.764188 */
    assert_int_equal(t.expert[trace_idx(&t, 0, 0, 0)], 2);
    assert_float_equal(t.weight[trace_idx(&t, 0, 0, 0)], 0.764188, 1e-6);
    /* seq 0 token 166 has no layer 9 */
    assert_int_equal(t.expert[trace_idx(&t, 2, 9, 0)], -1);
    assert_int_equal(t.expert[trace_idx(&t, 2, 9, 1)], -1);
    assert_true(t.expert[trace_idx(&t, 2, 10, 1)] >= 0);
    trace_free(&t);
}

static void test_real(void **state)
{
    (void)state;
    if (access(REAL, R_OK) != 0) skip();
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(REAL, 0, &t, &e), 0);
    assert_int_equal(t.tokens, 247);
    assert_int_equal(t.missing, 15);
    assert_int_equal(t.experts, 8);
    assert_int_equal(t.layers, 32);
    size_t filled = 0;
    for (size_t i = 0; i < t.tokens * 32 * 2; i++)
        filled += t.expert[i] >= 0;
    /* 15783 lines - 5 of metadata and header */
    assert_int_equal(filled, 15778);
    trace_free(&t);
}

static void test_infer_dims(void **state)
{
    (void)state;
    const char *p = tu_write_temp("seq,token,layer,slot,expert,weight\n"
                                  "3,0,0,0,5,0.6\n3,0,0,1,2,0.4\n"
                                  "3,0,2,0,1,0.9\n3,0,2,1,0,0.1\n"
                                  "3,1,0,0,0,0.5\n3,1,0,1,1,0.5\n",
                                  ".csv");
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(p, 0, &t, &e), 0);
    assert_int_equal(t.experts, 6);
    assert_int_equal(t.topk, 2);
    assert_int_equal(t.layers, 3);
    assert_int_equal(t.tokens, 2);
    /* token 0 lacks layer 1, token 1 layers 1 and 2 */
    assert_int_equal(t.missing, 3);
    assert_string_equal(t.model, "");
    trace_free(&t);
}

static void test_max_tokens(void **state)
{
    (void)state;
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(EXCERPT, 3, &t, &e), 0);
    assert_int_equal(t.tokens, 3);
    assert_int_equal(t.pos[2], 166);
    assert_int_equal(t.missing, 1);
    trace_free(&t);
}

/* Rows grouped by token: reading stops at the first row of the token after
 * the kept ones, so what follows is never read (here: garbage). */
static void test_max_tokens_stops(void **state)
{
    (void)state;
    const char *p = tu_write_temp(H "0,0,0,0,1,0.5\n0,0,0,1,2,0.5\n0,0,1,0,1,0.5\n0,0,1,1,3,0.5\n"
                                    "0,1,0,0,1,0.5\n0,1,0,1,2,0.5\n"
                                    "not,a,row\n",
                                  ".csv");
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(p, 1, &t, &e), 0);
    assert_int_equal(t.tokens, 1);
    assert_int_equal(t.missing, 0);
    trace_free(&t);
    assert_int_equal(trace_load(p, 0, &t, &e), -1);
    char want[256];
    snprintf(want, sizeof want, "%s:9: expected 6 fields, got 3", p);
    assert_string_equal(e.msg, want);
}

/* Rows not grouped by token: every row is read, only the kept tokens' rows
 * are stored. */
static void test_max_tokens_unordered(void **state)
{
    (void)state;
    const char *p = tu_write_temp(H "0,0,0,0,1,0.5\n0,0,0,1,2,0.5\n"
                                    "0,1,0,0,3,0.5\n0,1,0,1,2,0.5\n"
                                    "0,0,1,0,0,0.5\n0,0,1,1,3,0.5\n"
                                    "0,2,1,0,0,0.5\n0,2,1,1,3,0.5\n"
                                    "0,1,1,0,0,0.5\n0,1,1,1,3,0.5\n",
                                  ".csv");
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(p, 2, &t, &e), 0);
    assert_int_equal(t.tokens, 2);
    assert_int_equal(t.missing, 0);
    assert_int_equal(t.expert[trace_idx(&t, 0, 1, 1)], 3);
    assert_int_equal(t.expert[trace_idx(&t, 1, 1, 0)], 0);
    trace_free(&t);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct trace a, b;
    struct err e = {{0}};
    assert_int_equal(trace_load(EXCERPT, 0, &a, &e), 0);
    const char *p = tu_write_temp("", ".csv");
    assert_int_equal(trace_write_csv(p, &a, &e), 0);
    assert_int_equal(trace_load(p, 0, &b, &e), 0);
    assert_string_equal(a.model, b.model);
    assert_string_equal(a.source, b.source);
    assert_int_equal(a.tokens, b.tokens);
    assert_int_equal(a.missing, b.missing);
    size_t n = a.tokens * (size_t)a.layers * (size_t)a.topk;
    assert_memory_equal(a.expert, b.expert, n * sizeof *a.expert);
    assert_memory_equal(a.seq, b.seq, a.tokens * sizeof *a.seq);
    assert_memory_equal(a.pos, b.pos, a.tokens * sizeof *a.pos);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(a.weight[i], b.weight[i], 1e-6);
    trace_free(&a);
    trace_free(&b);
}

static void test_crlf_quotes_spaces(void **state)
{
    (void)state;
    const char *p = tu_write_temp("# moesim routing trace v1\r\n"
                                  "#model=m x  experts=4 topk=1 layers=1 note=a, b\r\n"
                                  "\r\n"
                                  "seq, token ,layer,slot,expert,weight,extra\r\n"
                                  "\"0\",\"0\",0,0, 3 ,0.25,\"x,y\"\r\n"
                                  "0,1,0,0,2,1e-1,\r\n",
                                  ".csv");
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(p, 0, &t, &e), 0);
    assert_string_equal(t.model, "m x");
    assert_int_equal(t.tokens, 2);
    assert_int_equal(t.expert[trace_idx(&t, 0, 0, 0)], 3);
    assert_float_equal(t.weight[trace_idx(&t, 1, 0, 0)], 0.1, 1e-7);
    trace_free(&t);
}

static void test_csv_field(void **state)
{
    (void)state;
    const char *p = tu_write_temp("", ".txt");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(trace_csv_field(f, "plain"), 0);
    fputc('|', f);
    assert_int_equal(trace_csv_field(f, "a,\"b\""), 0);
    fclose(f);
    char buf[64] = {0};
    f = fopen(p, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "plain|\"a,\"\"b\"\"\"");
}

/* A metadata line longer than a read chunk, a BOM, and an error line number
 * far past the first chunk. */
static void test_long_lines_and_chunks(void **state)
{
    (void)state;
    size_t n = 200000 + 100 * 30000;
    char *text = malloc(n), *p = text;
    assert_non_null(text);
    p += sprintf(p, "\xEF\xBB\xBF# experts=4 topk=1 layers=1 note=");
    memset(p, 'x', 150000);
    p += 150000;
    p += sprintf(p, "\n# model=long\nseq,token,layer,slot,expert,weight\n");
    for (int i = 0; i < 30000; i++)
        p += sprintf(p, "0,%d,0,0,%d,1\n", i, i % 4);
    const char *path = tu_write_temp(text, ".csv");
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load(path, 0, &t, &e), 0);
    assert_int_equal(t.tokens, 30000);
    assert_string_equal(t.model, "long");
    assert_int_equal(t.expert[trace_idx(&t, 29999, 0, 0)], 3);
    trace_free(&t);
    sprintf(p, "0,30000,0,0,4,1\n");
    path = tu_write_temp(text, ".csv");
    assert_int_equal(trace_load(path, 0, &t, &e), -1);
    char want[256];
    snprintf(want, sizeof want, "%s:30004: expert 4 outside [0, 4)", path);
    assert_string_equal(e.msg, want);
    free(text);
}

struct bad {
    const char *text, *want; /* want: the message after "PATH" */
};

/* clang-format off */
static const struct bad bad_inputs[] = {
    {"", ":1: missing header seq,token,layer,slot,expert,weight"},
    {"# experts=4\n", ":2: missing header seq,token,layer,slot,expert,weight"},
    {"0,0,0,0,1,0.5\n", ":1: missing header seq,token,layer,slot,expert,weight"},
    {"seq,token,layer,slot,expert\n0,0,0,0,1\n", ":1: header lacks column 'weight'"},
    {"seq,token,layer,slot,expert,weight,slot\n", ":1: header repeats column 'slot'"},
    {H "0,0,0,0,1\n", ":3: expected 6 fields, got 5"},
    {H "0,0,0,0,1,0.5,7\n", ":3: expected 6 fields, got 7"},
    {H "0,0,x,0,1,0.5\n", ":3: layer 'x': not an integer"},
    {H "0,,0,0,1,0.5\n", ":3: token '': not an integer"},
    {H "0,0,0,0,1.5,0.5\n", ":3: expert '1.5': not an integer"},
    {H "0,0,0,0,4,0.5\n", ":3: expert 4 outside [0, 4)"},
    {H "0,0,0,0,-1,0.5\n", ":3: expert -1 outside [0, 4)"},
    {H "0,0,0,2,1,0.5\n", ":3: slot 2 outside [0, 2)"},
    {H "0,0,2,0,1,0.5\n", ":3: layer 2 outside [0, 2)"},
    {H "-1,0,0,0,1,0.5\n", ":3: seq -1 outside [0, 2147483647)"},
    {H "99999999999999999999,0,0,0,1,0.5\n", ":3: seq 99999999999999999999 outside [0, 2147483647)"},
    {H "0,0,0,0,1,-0.5\n", ":3: weight '-0.5': negative"},
    {H "0,0,0,0,1,abc\n", ":3: weight 'abc': not a number"},
    {H "0,0,0,0,1,nan\n", ":3: weight 'nan': not a number"},
    {H "0,0,0,0,1,\n", ":3: weight '': not a number"},
    {H "0,0,0,0,1,inf\n", ":3: weight 'inf': not finite"},
    {H "0,0,0,0,1,0.5\n0,0,0,0,2,0.5\n", ":4: duplicate row for seq 0 token 0 layer 0 slot 0"},
    {H "0,0,0,0,1,0.5\n0,0,0,1,1,0.5\n", ":4: expert 1 repeated in seq 0 token 0 layer 0 (slots 0 and 1)"},
    {H "0,0,0,0,1,0.5\n", ":3: seq 0 token 0 layer 0: slot 1 missing"},
    {H "0,0,0,0,1,0.5\n0,0,0,1,2,0.5\n0,0,1,1,2,0.5\n", ":3: seq 0 token 0 layer 1: slot 0 missing"},
    {H, ":3: no data rows"},
    {"# experts=abc\n", ":1: experts 'abc': not an integer in [1, 32767]"},
    {"# experts=40000\n", ":1: experts '40000': not an integer in [1, 32767]"},
    {"# experts=8 topk=65\n", ":1: topk '65': not an integer in [1, 64]"},
    {"# layers=0\n", ":1: layers '0': not an integer in [1, 4096]"},
    {"# experts=2 topk=3\nseq,token,layer,slot,expert,weight\n", ":2: topk 3 exceeds experts 2"},
    {"seq,token,layer,slot,expert,weight\n0,0,0,0,40000,0.5\n", ":2: expert 40000 outside [0, 32767)"},
    {"seq,token,layer,slot,expert,weight\n0,0,5000,0,1,0.5\n", ":2: layer 5000 outside [0, 4096)"},
    {"seq,token,layer,slot,expert,weight\n0,0,0,64,1,0.5\n", ":2: slot 64 outside [0, 64)"},
    {"seq,token,layer,slot,expert,weight\n0,0,0,0,0,0.5\n0,0,0,1,1,0.5\n0,0,0,2,2,0.5\n"
     "0,1,0,2,0,0.5\n", ":5: seq 0 token 1 layer 0: slot 0 missing"},
    {H "0,0,0,0,1,0.5\n0,0,0,1,2,0.5\n\n\n0,0,1,0,9,0.1\n", ":7: expert 9 outside [0, 4)"},
    {"# experts=4 topk=2 layers=2\r\nseq,token,layer,slot,expert,weight\r\n0,0,0,0,7,0.5\r\n",
     ":3: expert 7 outside [0, 4)"},
    {H "0,0,0,0,1\"x,0.5\n", ":3: malformed CSV: error parsing data while strict checking enabled"},
    {H "0,0,0,0,\"1,0.5\n", ":3: malformed CSV: error parsing data while strict checking enabled"},
    {H "0,0,0,0,1,0.5\n# experts=3\n", ":4: expected 6 fields, got 1"},
};
/* clang-format on */

static void test_bad_inputs(void **state)
{
    (void)state;
    size_t n = sizeof bad_inputs / sizeof bad_inputs[0];
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        const char *p = tu_write_temp(bad_inputs[i].text, ".csv");
        struct trace t;
        struct err e = {{0}};
        char want[512];
        snprintf(want, sizeof want, "%s%s", p, bad_inputs[i].want);
        int rc = trace_load(p, 0, &t, &e);
        if (rc != -1 || strcmp(e.msg, want))
            fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, e.msg, want);
        assert_null(strchr(e.msg, '\n'));
        unlink(p);
    }
}

/* Loads path with the plain lines' fast path (fast = 1) or every line
 * through libcsv (MOESIM_TRACE_LIBCSV=1): rc, and the message in msg. */
static int load_way(const char *path, size_t max_tokens, int fast, struct trace *t, char *msg)
{
    struct err e = {{0}};
    if (fast)
        unsetenv("MOESIM_TRACE_LIBCSV");
    else
        setenv("MOESIM_TRACE_LIBCSV", "1", 1);
    int rc = trace_load(path, max_tokens, t, &e);
    unsetenv("MOESIM_TRACE_LIBCSV");
    snprintf(msg, ERR_MSG_MAX, "%s", rc ? e.msg : "");
    return rc;
}

/* The fast path and libcsv read path alike: the same rc and message, and
 * on success the same trace to the bit (weights compared as bytes). */
static void assert_same_both_ways(const char *path, size_t max_tokens)
{
    struct trace a, b;
    char ma[ERR_MSG_MAX], mb[ERR_MSG_MAX];
    int ra = load_way(path, max_tokens, 1, &a, ma), rb = load_way(path, max_tokens, 0, &b, mb);
    if (ra != rb || strcmp(ma, mb))
        fail_msg("%s: fast rc %d \"%s\", libcsv rc %d \"%s\"", path, ra, ma, rb, mb);
    if (ra) return;
    assert_string_equal(a.model, b.model);
    assert_string_equal(a.source, b.source);
    assert_int_equal(a.experts, b.experts);
    assert_int_equal(a.topk, b.topk);
    assert_int_equal(a.layers, b.layers);
    assert_int_equal(a.tokens, b.tokens);
    assert_int_equal(a.missing, b.missing);
    size_t n = a.tokens * (size_t)a.layers * (size_t)a.topk;
    assert_memory_equal(a.seq, b.seq, a.tokens * sizeof *a.seq);
    assert_memory_equal(a.pos, b.pos, a.tokens * sizeof *a.pos);
    assert_memory_equal(a.expert, b.expert, n * sizeof *a.expert);
    assert_memory_equal(a.weight, b.weight, n * sizeof *a.weight);
    trace_free(&a);
    trace_free(&b);
}

/* Every shipped trace, the excerpt and every bad input, both ways. */
static void test_fast_path_equals_libcsv(void **state)
{
    (void)state;
    static const char *const files[] = {EXCERPT,
                                        REAL,
                                        "data/mixtral_fit_e64.csv",
                                        "data/mixtral_fit_e256_top8.csv",
                                        "data/switch_fit_e128.csv",
                                        "data/switch_base128_expert_load.csv"};
    int read = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (access(files[i], R_OK) != 0) continue;
        assert_same_both_ways(files[i], 0);
        assert_same_both_ways(files[i], 5);
        read++;
    }
    assert_true(read >= 3);
    for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++) {
        const char *p = tu_write_temp(bad_inputs[i].text, ".csv");
        assert_same_both_ways(p, 0);
        unlink(p);
    }
}

/* Weights and integers in every form the fast path reads or hands on to
 * strtod/strtol (at its 15-digit and 18-digit edges, exponents, signs,
 * leading dots and zeros, a quote that turns the fast path off halfway,
 * spaces and CRs that libcsv trims), both ways to the bit. */
static void test_fast_path_forms(void **state)
{
    (void)state;
    static const char *const w[] = {"0.764188",
                                    "1",
                                    "1.",
                                    ".5",
                                    "0",
                                    "0.0",
                                    "000.25",
                                    "1e-1",
                                    "2E3",
                                    "+0.5",
                                    "0.1",
                                    "0.3",
                                    "123456789012345",
                                    "0.123456789012345",
                                    "1234567890123456",
                                    "0.1234567890123456",
                                    "9.99999999999999",
                                    "99999999999999.9",
                                    "0.000000000000001",
                                    "3.14159265358979",
                                    "0x1p-2",
                                    "0.33333333333333333333",
                                    "7.000000",
                                    "1.0000000000000002"};
    static const char *const seq[] = {
        "0", "7", "000000000000000012", "0000000000000000013", "2147483646", "+3"};
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text, cap,
                            "# experts=8 topk=1 layers=1\nseq,token,layer,slot,expert,weight\n");
    int tok = 0;
    for (size_t s = 0; s < sizeof seq / sizeof seq[0]; s++)
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
            len += (size_t)snprintf(text + len, cap - len, "%s,%d,0,0,%d,%s\n", seq[s], tok++,
                                    (int)(i % 8), w[i]);
    /* trimmed spaces, a CR, then a quote: libcsv from there on */
    len += (size_t)snprintf(text + len, cap - len, "1, %d ,0,0,1,0.5\r\n", tok++);
    len += (size_t)snprintf(text + len, cap - len, "1,%d,0,0,\"2\",0.25\n", tok++);
    len += (size_t)snprintf(text + len, cap - len, "1,%d,0,0,3,0.125\n", tok++);
    const char *p = tu_write_temp(text, ".csv");
    assert_same_both_ways(p, 0);
    struct trace t;
    char m[ERR_MSG_MAX];
    assert_int_equal(load_way(p, 0, 1, &t, m), 0);
    assert_int_equal((int)t.tokens, tok);
    assert_true(t.weight[trace_idx(&t, 0, 0, 0)] == (float)0.764188);
    assert_true(t.weight[trace_idx(&t, 12, 0, 0)] == (float)123456789012345.0);
    assert_int_equal(t.seq[2 * (int)(sizeof w / sizeof w[0])], 12);
    assert_int_equal(t.expert[trace_idx(&t, (size_t)tok - 2, 0, 0)], 2);
    trace_free(&t);
    /* columns in another order with an unknown one, then a row of 70 fields */
    const char *x = tu_write_temp("# experts=4 topk=1 layers=1\n"
                                  "weight,extra,expert,slot,layer,token,seq\n"
                                  "0.5,zz,1,0,0,0,0\n0.25,,2,0,0,1,0\n",
                                  ".csv");
    assert_same_both_ways(x, 0);
    assert_int_equal(load_way(x, 0, 1, &t, m), 0);
    assert_int_equal(t.expert[trace_idx(&t, 1, 0, 0)], 2);
    assert_true(t.weight[trace_idx(&t, 1, 0, 0)] == 0.25f);
    trace_free(&t);
    len = (size_t)snprintf(text, cap, H "0,0,0,0,1,0.5");
    for (int i = 0; i < 64; i++)
        len += (size_t)snprintf(text + len, cap - len, ",%d", i);
    snprintf(text + len, cap - len, "\n");
    x = tu_write_temp(text, ".csv");
    assert_same_both_ways(x, 0);
    assert_int_equal(load_way(x, 0, 1, &t, m), -1);
    assert_non_null(strstr(m, ":3: expected 6 fields, got 70"));
    /* a NUL inside a field (libcsv's path: on_field marks the field) */
    x = tu_write_temp("", ".csv");
    FILE *f = fopen(x, "wb");
    assert_non_null(f);
    static const char nul[] = H "0,0,0,0,1,0.5\n0,0,0,1,2\0003,0.5\n";
    fwrite(nul, 1, sizeof nul - 1, f);
    fclose(f);
    assert_same_both_ways(x, 0);
    assert_int_equal(load_way(x, 0, 1, &t, m), -1);
    assert_non_null(strstr(m, ":4: expert '?': not an integer"));
    /* a record whose quoted field spans lines: the next line is its end */
    const char *q = tu_write_temp(H "0,0,0,0,1,0.5\n0,0,0,1,\"2\n\",0.5\n", ".csv");
    assert_same_both_ways(q, 0);
    free(text);
}

/* trace_parse_weight against strtod, value to the bit and end: random
 * decimals of 1-18 digits with the point anywhere (or none), leading zeros,
 * and the forms it leaves to strtod. */
static void test_parse_weight_is_strtod(void **state)
{
    (void)state;
    static const char *const odd[] = {"",
                                      ".",
                                      "1e5",
                                      "-0.5",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "0x10",
                                      "inf",
                                      "nan",
                                      "1.2.3",
                                      "..5",
                                      "5..",
                                      "1e",
                                      "00000000000000001",
                                      "0.0000000000000001",
                                      "999999999999999.",
                                      ".999999999999999"};
    char buf[64];
    uint64_t x = 88172645463325252ull;
    int fast = 0;
    for (int i = 0; i < 200000 + (int)(sizeof odd / sizeof odd[0]); i++) {
        if (i < (int)(sizeof odd / sizeof odd[0])) {
            snprintf(buf, sizeof buf, "%s", odd[i]);
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int nd = 1 + (int)(x % 18), dot = (int)((x >> 8) % (uint64_t)(nd + 2)) - 1, n = 0;
            uint64_t y = x >> 16;
            for (int d = 0; d < nd; d++) {
                if (d == dot) buf[n++] = '.';
                y = y * 6364136223846793005ull + 1442695040888963407ull;
                buf[n++] = (char)('0' + (y >> 60) % 10);
            }
            if (dot == nd) buf[n++] = '.';
            buf[n] = '\0';
            fast += nd <= 15;
        }
        char *e1, *e2;
        double a = trace_parse_weight(buf, &e1), b = strtod(buf, &e2);
        if (memcmp(&a, &b, sizeof a) || e1 != e2)
            fail_msg("'%s': %.17g (end %td) against strtod's %.17g (end %td)", buf, a, e1 - buf, b,
                     e2 - buf);
    }
    assert_true(fast > 100000);
}

static void test_unreadable(void **state)
{
    (void)state;
    struct trace t;
    struct err e = {{0}};
    assert_int_equal(trace_load("/nonexistent/x.csv", 0, &t, &e), -1);
    assert_string_equal(e.msg, "/nonexistent/x.csv:0: cannot open: No such file or directory");
    assert_int_equal(trace_load("tests", 0, &t, &e), -1);
    assert_string_equal(e.msg, "tests:1: read error: Is a directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_excerpt),
        cmocka_unit_test(test_real),
        cmocka_unit_test(test_infer_dims),
        cmocka_unit_test(test_max_tokens),
        cmocka_unit_test(test_max_tokens_stops),
        cmocka_unit_test(test_max_tokens_unordered),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_crlf_quotes_spaces),
        cmocka_unit_test(test_csv_field),
        cmocka_unit_test(test_long_lines_and_chunks),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_fast_path_equals_libcsv),
        cmocka_unit_test(test_fast_path_forms),
        cmocka_unit_test(test_parse_weight_is_strtod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
