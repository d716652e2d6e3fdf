/* test_kernels_capture.c - the tokenizer and `moesim capture`/`calibrate`
 * end to end on the CPU: determinism, chunking, rejected inputs. */
#include "testutil.h"

#include "kernels/bgemm.h"
#include "kernels/opts.h"
#include "kernels/tokenizer.h"
#include "app/cli.h"
#include "tests/kn_testutil.h"

static void test_tokenizer_words_ids_paragraphs(void **state)
{
    (void)state;
    const char *text = "Hello, hello WORLD!\n \n\nnext-para 42\nsame para\n.\nstill";
    struct kn_tokens t;
    kn_tokenize(text, strlen(text), 0, &t);
    assert_int_equal(t.n, 9);
    assert_int_equal(t.id[0], kn_token_id("HeLLo", 5));
    assert_int_equal(kn_token_id("hello", 5), 1335831723u % KN_VOCAB);
    assert_int_equal(t.id[0], t.id[1]);
    assert_int_equal(t.id[2], kn_token_id("world", 5));
    /* "\n.\n" is no blank line: "still" stays in paragraph 1 */
    int32_t seq[9] = {0, 0, 0, 1, 1, 1, 1, 1, 1}, pos[9] = {0, 1, 2, 0, 1, 2, 3, 4, 5};
    for (int i = 0; i < 9; i++) {
        assert_int_equal(t.seq[i], seq[i]);
        assert_int_equal(t.pos[i], pos[i]);
        assert_true(t.id[i] < KN_VOCAB);
    }
    kn_tokens_free(&t);
    kn_tokenize(text, strlen(text), 3, &t);
    assert_int_equal(t.n, 3);
    kn_tokens_free(&t);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *b = malloc(*len + 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    b[*len] = '\0';
    fclose(f);
    return b;
}

static const char *TEXT = "The quick brown fox jumps over the lazy dog.\n\nA second paragraph, "
                          "with seven more words.\n";

/* Runs `moesim capture` on the small model with extra arguments. */
static int capture_prec(const char *out, const char *seed, const char *chunk, const char *weights,
                        const char *prec)
{
    const char *text = tu_write_temp(TEXT, ".txt");
    char *argv[40] = {"capture",    "--preset",  "olmoe",      "--hidden", "32", "--ffn",
                      "24",         "--experts", "8",          "--topk",   "3",  "--layers",
                      "3",          "--text",    (char *)text, "--tokens", "40", "--seed",
                      (char *)seed, "--device",  "cpu",        "--quiet",  "-o", (char *)out};
    int argc = 24;
    if (chunk) argv[argc++] = "--chunk", argv[argc++] = (char *)chunk;
    if (weights) argv[argc++] = "--weights", argv[argc++] = (char *)weights;
    if (prec) argv[argc++] = "--precision", argv[argc++] = (char *)prec;
    return cmd_capture(argc, (char **)argv);
}

static int capture(const char *out, const char *seed, const char *chunk, const char *weights)
{
    return capture_prec(out, seed, chunk, weights, NULL);
}

static void test_capture_deterministic_and_chunk_invariant(void **state)
{
    (void)state;
    const char *a = tu_write_temp("", ".csv"), *b = tu_write_temp("", ".csv");
    const char *c = tu_write_temp("", ".csv");
    assert_int_equal(capture(a, "9", NULL, NULL), 0);
    assert_int_equal(capture(b, "9", "7", NULL), 0);
    assert_int_equal(capture(c, "10", NULL, NULL), 0);
    size_t la, lb, lc;
    char *fa = slurp(a, &la), *fb = slurp(b, &lb), *fc = slurp(c, &lc);
    /* same seed, other chunking: identical bytes (the text path differs) */
    char *ra = strstr(fa, "\n#text="), *rb = strstr(fb, "\n#text=");
    ra = strchr(ra + 1, '\n'), rb = strchr(rb + 1, '\n');
    assert_string_equal(ra, rb);
    assert_string_not_equal(strstr(fa, "seq,token"), strstr(fc, "seq,token"));
    /* shape: metadata, header, 40 tokens x 3 layers x 3 slots */
    assert_non_null(strstr(fa, "#model=olmoe\n#experts=8\n#topk=3\n#layers=3\n#source=capture\n"));
    assert_non_null(strstr(fa, "#device=cpu\n"));
    assert_non_null(strstr(fa, "#seed=9\n"));
    assert_non_null(strstr(fa, "#weights=seeded\n"));
    char *p = strstr(fa, "seq,token,layer,slot,expert,weight\n");
    assert_non_null(p);
    int rows = 0, seq, tok, layer, slot, ex, last_seq = 0;
    float w;
    for (char *line = strchr(p, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        assert_int_equal(sscanf(line, "\"%d\",\"%d\",\"%d\",\"%d\",\"%d\",\"%f\"", &seq, &tok,
                                &layer, &slot, &ex, &w),
                         6);
        assert_int_equal(layer, rows / 3 % 3);
        assert_int_equal(slot, rows % 3);
        assert_true(ex >= 0 && ex < 8 && w > 0 && w < 1);
        assert_true(seq >= last_seq);
        last_seq = seq;
        rows++;
    }
    assert_int_equal(rows, 40 * 3 * 3);
    /* 16 words in 2 paragraphs, cycled: 40 tokens make seq 0..4 */
    assert_int_equal(last_seq, 4);
    free(fa);
    free(fb);
    free(fc);
    unlink(a);
    unlink(b);
    unlink(c);
}

/* --precision: fp32 and bf16 both run and say so; the default is bf16 where
 * the CPU has AVX-512 BF16; a bad value is an input error that writes
 * nothing; the two precisions route the small model mostly alike. */
static void test_capture_precision(void **state)
{
    (void)state;
    const char *a = tu_write_temp("", ".csv"), *b = tu_write_temp("", ".csv");
    const char *c = tu_write_temp("", ".csv");
    assert_int_equal(capture_prec(a, "4", NULL, NULL, "fp32"), 0);
    assert_int_equal(capture_prec(b, "4", NULL, NULL, "bf16"), 0);
    assert_int_equal(capture(c, "4", NULL, NULL), 0);
    size_t la, lb, lc;
    char *fa = slurp(a, &la), *fb = slurp(b, &lb), *fc = slurp(c, &lc);
    assert_non_null(strstr(fa, "#precision=fp32\n"));
    assert_non_null(strstr(fb, "#precision=bf16\n"));
    assert_non_null(strstr(fc, kn_bgemm_simd() ? "#precision=bf16\n" : "#precision=fp32\n"));
    /* same rows but for a few near-ties: count the differing expert fields */
    char *ra = strstr(fa, "seq,token"), *rb = strstr(fb, "seq,token");
    int rows = 0, differ = 0;
    for (; ra && rb && *ra && *rb; rows++) {
        int ea, eb;
        char *na = strchr(ra, '\n'), *nb = strchr(rb, '\n');
        if (rows > 0 && sscanf(ra, "\"%*d\",\"%*d\",\"%*d\",\"%*d\",\"%d\"", &ea) == 1 &&
            sscanf(rb, "\"%*d\",\"%*d\",\"%*d\",\"%*d\",\"%d\"", &eb) == 1)
            differ += ea != eb;
        ra = na ? na + 1 : NULL, rb = nb ? nb + 1 : NULL;
    }
    assert_int_equal(rows, 1 + 40 * 3 * 3);
    print_message("fp32 vs bf16 capture: %d of %d expert fields differ\n", differ, rows - 1);
    assert_true(differ <= rows / 10);
    free(fa);
    free(fb);
    free(fc);
    unlink(a);
    unlink(b);
    unlink(c);
    char out[64];
    snprintf(out, sizeof out, "/tmp/moesim_test_prec_%d.csv", (int)getpid());
    unlink(out);
    assert_int_equal(capture_prec(out, "4", NULL, NULL, "fp8"), MOESIM_EXIT_INPUT);
    assert_int_equal(access(out, F_OK), -1);
}

static void test_capture_rejects_bad_checkpoint_writes_nothing(void **state)
{
    (void)state;
    const char *ck = tu_write_temp("short", ".safetensors");
    char out[64];
    snprintf(out, sizeof out, "/tmp/moesim_test_nothing_%d.csv", (int)getpid());
    unlink(out);
    assert_int_equal(capture(out, "1", NULL, ck), MOESIM_EXIT_INPUT);
    assert_int_equal(access(out, F_OK), -1);
    unlink(ck);
}

static void test_capture_gpu_without_library_is_an_error(void **state)
{
    (void)state;
    const char *text = tu_write_temp(TEXT, ".txt");
    char out[64];
    snprintf(out, sizeof out, "/tmp/moesim_test_gpu_%d.csv", (int)getpid());
    setenv("MOESIM_CUDA_LIB", "/nonexistent/libmoesim_cuda.so", 1);
    char *argv[] = {"capture",    "--preset", "olmoe",  "--hidden", "16",       "--ffn", "8",
                    "--experts",  "4",        "--topk", "2",        "--layers", "1",     "--text",
                    (char *)text, "--tokens", "4",      "--device", "gpu",      "-o",    out};
    assert_int_equal(cmd_capture(21, argv), MOESIM_EXIT_INPUT);
    assert_int_equal(access(out, F_OK), -1);
    unsetenv("MOESIM_CUDA_LIB");
}

/* The data rows from `layer` on (columns 3..6: layer, slot, expert, weight)
 * of a capture, in order, in one string. */
static char *routing_cols(const char *path)
{
    size_t len;
    char *f = slurp(path, &len), *out = calloc(len + 1, 1), *o = out;
    char *p = strstr(f, "seq,token,layer,slot,expert,weight\n");
    assert_non_null(p);
    p = strchr(p, '\n') + 1;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *c = p;
        for (int k = 0; k < 2; k++)
            c = strchr(c, ',') + 1;
        memcpy(o, c, (size_t)(eol - c + 1));
        o += eol - c + 1;
        p = eol + 1;
    }
    free(f);
    return out;
}

/* --states with the text's embeddings as hidden_states routes exactly as
 * --text does (the same blocks, the same first hidden states). */
static void test_capture_states_equal_text(void **state)
{
    (void)state;
    struct kn_opts o;
    kn_opts_init(&o);
    o.preset = "olmoe", o.hidden = 32, o.ffn = 24, o.experts = 8, o.topk = 3, o.layers = 3;
    struct kn_dims d;
    struct err e;
    assert_int_equal(kn_opts_dims(&o, &d, &e), 0);
    struct kn_tokens t;
    kn_tokenize(TEXT, strlen(TEXT), 0, &t);
    struct kn_weights *w = kn_weights_seeded(&d, 9, 1);
    float *hs = malloc(sizeof(float) * t.n * 32);
    for (size_t i = 0; i < t.n; i++)
        kn_weights_embed(w, t.id[i], hs + i * 32);
    kn_weights_destroy(w);
    char path[64];
    snprintf(path, sizeof path, "/tmp/moesim_test_states_%d.safetensors", (int)getpid());
    struct st_tensor ten = {"hidden_states", "F32", 2, {(long)t.n, 32}, hs};
    assert_int_equal(st_write(path, &ten, 1), 0);

    const char *a = tu_write_temp("", ".csv"), *b = tu_write_temp("", ".csv");
    const char *text = tu_write_temp(TEXT, ".txt");
    char n[16];
    snprintf(n, sizeof n, "%zu", t.n);
    char *base[] = {"capture",   "--preset", "olmoe",  "--hidden", "32",       "--ffn", "24",
                    "--experts", "8",        "--topk", "3",        "--layers", "3",     "--seed",
                    "9",         "--device", "cpu",    "--quiet",  "-o"};
    char *argv[32];
    int argc = 0;
    for (size_t i = 0; i < sizeof base / sizeof *base; i++)
        argv[argc++] = base[i];
    argv[argc++] = (char *)a;
    argv[argc++] = "--text", argv[argc++] = (char *)text, argv[argc++] = "--tokens";
    argv[argc++] = n;
    assert_int_equal(cmd_capture(argc, argv), 0);
    argc -= 5;
    argv[argc++] = (char *)b;
    argv[argc++] = "--states", argv[argc++] = path;
    assert_int_equal(cmd_capture(argc, argv), 0);
    char *ra = routing_cols(a), *rb = routing_cols(b);
    assert_true(strlen(ra) > 100);
    assert_string_equal(ra, rb);
    size_t len;
    char *fb = slurp(b, &len);
    assert_non_null(strstr(fb, "#states="));
    /* rows of sequence 0, tokens numbered from 0 */
    assert_non_null(strstr(fb, "\n\"0\",\"1\",\"0\",\"0\","));
    free(fb);
    free(ra);
    free(rb);
    free(hs);
    kn_tokens_free(&t);
    unlink(path);
}

static void test_calibrate_cpu_rows(void **state)
{
    (void)state;
    const char *out = tu_write_temp("", ".csv");
    char *argv[] = {"calibrate", "--preset",  "mixtral",  "--hidden", "64",
                    "--ffn",     "96",        "--device", "cpu",      "--max-tokens",
                    "16",        "--repeats", "3",        "-o",       (char *)out};
    assert_int_equal(cmd_calibrate(15, argv), 0);
    size_t len;
    char *f = slurp(out, &len);
    assert_non_null(strstr(f, "#device=cpu\n"));
    assert_non_null(strstr(f, "#timer=clock_gettime"));
    char *p = strstr(f, "tokens,us\n");
    assert_non_null(p);
    int want[] = {1, 2, 3, 4, 6, 8, 12, 16}, n = 0, tokens;
    double us;
    for (char *line = strchr(p, '\n') + 1; *line; line = strchr(line, '\n') + 1, n++) {
        assert_int_equal(sscanf(line, "\"%d\",\"%lf\"", &tokens, &us), 2);
        assert_int_equal(tokens, want[n]);
        assert_true(us > 0);
    }
    assert_int_equal(n, 8);
    free(f);
    unlink(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_words_ids_paragraphs),
        cmocka_unit_test(test_capture_deterministic_and_chunk_invariant),
        cmocka_unit_test(test_capture_rejects_bad_checkpoint_writes_nothing),
        cmocka_unit_test(test_capture_states_equal_text),
        cmocka_unit_test(test_capture_gpu_without_library_is_an_error),
        cmocka_unit_test(test_calibrate_cpu_rows),
        cmocka_unit_test(test_capture_precision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
