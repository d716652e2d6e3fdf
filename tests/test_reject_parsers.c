/* test_reject_parsers.c - malformed routing logs (JSON lines), safetensors
 * checkpoints and compute calibration CSVs, each with its exact one-line
 * error; the first tables are in test_trace_import.c,
 * test_kernels_safetensors.c and test_moe.c. Includes the inputs the fuzzers
 * turned up (an error message that quoted a line break). */
#include "testutil.h"

#include "kernels/safetensors.h"
#include "workloads/compute.h"
#include "workloads/trace.h"
#include "workloads/trace_import.h"

struct bad {
    const char *name;
    const char *data; /* file contents (may hold NUL bytes) */
    size_t len;
    const char *want; /* "%s" = the file's path */
};

#define B(name, data, want)                                                                        \
    {                                                                                              \
        name, data, sizeof(data) - 1, want                                                         \
    }

static const char *write_bytes(const char *data, size_t len, const char *suffix)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/moesim_rejp_XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void check(const char *name, const char *got, int rc, const char *want_fmt, const char *path)
{
    char want[1024];
    snprintf(want, sizeof want, want_fmt, path);
    if (rc != -1 || strcmp(got, want))
        print_error("case '%s':\n  got  %s\n  want %s\n", name, rc ? got : "(accepted)", want);
    assert_int_equal(rc, -1);
    assert_string_equal(got, want);
    assert_null(strchr(got, '\n'));
}

/* clang-format off */
static const struct bad jsonl_cases[] = {
    B("line break quoted by jansson", "{\"layer\": 0, \"to\\\n\"x\": 1}\n",
      "%s:1: bad JSON: invalid escape near '\"to\\ '"),
    B("text after the object", "{\"layer\":0,\"token\":0,\"topk_ids\":[1]} x\n",
      "%s:1: bad JSON: end of file expected near 'x'"),
    B("NUL byte", "{\"layer\":0,\"token\":0,\"topk_ids\":[1]}\0\n",
      "%s:1: bad JSON: end of file expected near end of file"),
    B("token id past 64 bits", "{\"layer\":0,\"token\":100000000000000000000,\"topk_ids\":[1]}\n",
      "%s:1: bad JSON: too big integer"),
    B("token id as a float string", "{\"layer\":0,\"token\":\"1.0\",\"topk_ids\":[1]}\n",
      "%s:1: token: not an integer id"),
    B("expert id null", "{\"layer\":0,\"token\":0,\"topk_ids\":[null]}\n",
      "%s:1: topk_ids[0]: not an integer id"),
    B("layer past the bound", "{\"layer\":4096,\"token\":0,\"topk_ids\":[1]}\n",
      "%s:1: layer 4096 outside [0, 4096)"),
    B("weight infinite", "{\"layer\":0,\"token\":0,\"topk_ids\":[1],\"weights\":[1e999]}\n",
      "%s:1: bad JSON: real number overflow near '1e999'"),
    B("unclosed array", "{\"layer\":0,\"token\":0,\"topk_ids\":[1\n",
      "%s:1: bad JSON: ']' expected near end of file"),
    B("only a string", "\"layer\"\n",
      "%s:1: bad JSON: '[' or '{' expected near '\"layer\"'"),
};

static const struct bad st_cases[] = {
    B("line break quoted by jansson", "\x0a\0\0\0\0\0\0\0{\"a\\\n\": 1}", "%s: header is not valid JSON: invalid escape near '\"a\\ ' (at byte 5 of 10)"),
    B("header length 2^64-1", "\xff\xff\xff\xff\xff\xff\xff\xff{}",
      "%s: header length 18446744073709551615 beyond the file's 10 bytes"),
    B("header length 0", "\0\0\0\0\0\0\0\0",
      "%s: header is not valid JSON: '[' or '{' expected near end of file (at byte 0 of 0)"),
    B("nine dimensions", "\x45\x00\x00\x00\x00\x00\x00\x00" "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}" "x",
      "%s: tensor a: 9 dimensions, at most 8"),
    B("shape past 2^48 elements", "\x47\x00\x00\x00\x00\x00\x00\x00" "{\"a\":{\"dtype\":\"U8\",\"shape\":[16777216,16777216,2],\"data_offsets\":[0,1]}}" "x",
      "%s: tensor a: shape too large"),
    B("float offsets", "\x37\x00\x00\x00\x00\x00\x00\x00" "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0.0,1]}}" "x",
      "%s: tensor a: data_offsets outside the 1 data bytes"),
    B("offsets past the data", "\x47\x00\x00\x00\x00\x00\x00\x00" "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,9223372036854775807]}}" "x",
      "%s: tensor a: data_offsets outside the 1 data bytes"),
    B("shape entry a string", "\x37\x00\x00\x00\x00\x00\x00\x00" "{\"a\":{\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]}}" "x",
      "%s: tensor a: shape entries must be integers >= 0"),
    B("tensor name with a line break", "\x38\x00\x00\x00\x00\x00\x00\x00" "{\"a\\nb\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,2]}}" "x",
      "%s: tensor a b: data_offsets outside the 1 data bytes"),
};

static const struct bad calib_cases[] = {
    B("quoted field spanning lines", "tokens,us\n1,\"9\nx\"\n",
      "%s:2: us: expected a time >= 0 in microseconds, got '9?'"),
    B("NUL byte", "tokens,us\n1,2\0\n", "%s:2: NUL byte in the file"),
    B("time past 1e12 us", "tokens,us\n1,1e13\n", "%s:2: us: expected a time >= 0 in microseconds, got '1e13'"),
    B("tokens past 1e12", "tokens,us\n10000000000000,1\n", "%s:2: tokens: expected a whole number >= 1, got '10000000000000'"),
    B("unterminated quote", "tokens,us\n\"1,2\n",
      "%s:2: expected 2 fields (tokens,us), got 1"),
    B("quote inside a field", "tokens,us\n1\"x,2\n",
      "%s:2: tokens: expected a whole number >= 1, got '1\"x'"),
    B("empty fields", "tokens,us\n,\n",
      "%s:2: tokens: expected a whole number >= 1, got ''"),
};
/* clang-format on */

static void test_jsonl(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof jsonl_cases / sizeof jsonl_cases[0]; i++) {
        const struct bad *c = &jsonl_cases[i];
        const char *p = write_bytes(c->data, c->len, ".jsonl");
        struct trace t;
        struct err e = {""};
        int rc = trace_import_jsonl(p, NULL, 0, &t, &e);
        if (rc == 0) trace_free(&t);
        check(c->name, e.msg, rc, c->want, p);
        unlink(p);
    }
}

static void test_safetensors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof st_cases / sizeof st_cases[0]; i++) {
        const struct bad *c = &st_cases[i];
        const char *p = write_bytes(c->data, c->len, ".safetensors");
        struct kn_st *st = NULL;
        struct err e = {""};
        int rc = kn_st_open(p, &st, &e);
        if (rc == 0) kn_st_close(st);
        check(c->name, e.msg, rc, c->want, p);
        unlink(p);
    }
}

static void test_calib(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof calib_cases / sizeof calib_cases[0]; i++) {
        const struct bad *c = &calib_cases[i];
        const char *p = write_bytes(c->data, c->len, ".csv");
        struct wl_compute m;
        struct err e = {""};
        int rc = wl_compute_load_csv(p, &m, &e);
        if (rc == 0) wl_compute_free(&m);
        check(c->name, e.msg, rc, c->want, p);
        unlink(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_safetensors),
        cmocka_unit_test(test_calib),
    };
    return cmocka_run_group_tests_name("reject_parsers", tests, NULL, NULL);
}
