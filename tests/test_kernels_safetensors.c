/* test_kernels_safetensors.c - checkpoints: a round trip through small
 * safetensors files written here, and malformed files, each rejected with its
 * exact one-line message. */
#include "testutil.h"

#include "kernels/moe_cpu.h"
#include "kernels/safetensors.h"
#include "kernels/weights.h"
#include "tests/kn_testutil.h"

static const struct kn_dims D = {.hidden = 8,
                                 .ffn = 4,
                                 .experts = 2,
                                 .topk = 1,
                                 .layers = 1,
                                 .renorm = 1,
                                 .eps = 1e-5f,
                                 .model = "test"};

/* The tensors of a valid one-layer Mixtral-named checkpoint for D. */
static int base_tensors(struct st_tensor *t, const char *dtype)
{
    static char names[8][96];
    int n = 0;
    snprintf(names[n], 96, "model.layers.0.block_sparse_moe.gate.weight");
    t[n] = (struct st_tensor){names[n], dtype, 2, {2, 8}, NULL};
    n++;
    for (int e = 0; e < 2; e++)
        for (int j = 0; j < 3; j++) {
            const char *w[3] = {"w1", "w3", "w2"};
            snprintf(names[n], 96, "model.layers.0.block_sparse_moe.experts.%d.%s.weight", e, w[j]);
            t[n] = (struct st_tensor){names[n], dtype, 2, {j < 2 ? 4 : 8, j < 2 ? 8 : 4}, NULL};
            n++;
        }
    return n;
}

static void expect_error(const char *path, const char *want_fmt)
{
    struct kn_weights *w = NULL;
    struct err e = {{0}};
    assert_int_equal(kn_weights_open(path, &D, 1, 1, &w, &e), -1);
    assert_null(w);
    char want[1024];
    snprintf(want, sizeof want, want_fmt, path);
    assert_string_equal(e.msg, want);
    assert_null(strchr(e.msg, '\n'));
}

static void test_valid_base_opens(void **state)
{
    (void)state;
    struct st_tensor t[8];
    int n = base_tensors(t, "F32");
    const char *p = tu_write_temp("", ".safetensors");
    assert_int_equal(st_write(p, t, n), 0);
    struct kn_weights *w;
    struct err e;
    assert_int_equal(kn_weights_open(p, &D, 1, 1, &w, &e), 0);
    assert_string_equal(kn_weights_source(w), p);
    kn_weights_destroy(w);
    unlink(p);
}

/* Malformed files made from raw header text: (header, data bytes, message). */
static void test_malformed_headers(void **state)
{
    (void)state;
    static const struct {
        const char *hdr;
        size_t data;
        const char *msg; /* %s: the path */
    } cases[] = {
        {"{not json}", 0,
         "%s: header is not valid JSON: string or '}' expected near 'not' (at byte 4 of 10)"},
        {"[1, 2]", 0, "%s: header is not a JSON object"},
        {"{\"a\": 3}", 0, "%s: tensor a: entry is not a JSON object"},
        {"{\"a\": {\"dtype\": \"F32\"}}", 0,
         "%s: tensor a: entry needs dtype, shape and data_offsets [begin, end]"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 16]}}", 8,
         "%s: tensor a: data_offsets outside the 8 data bytes"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 4]}}", 8,
         "%s: tensor a: data_offsets outside the 8 data bytes"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8,
         "%s: tensor a: data_offsets span 8 bytes, F32 of this shape needs 12"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8,
         "%s: tensor a: shape entries must be integers >= 0"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"a\": 1}", 8,
         "%s: header is not valid JSON: duplicate object key near '\"a\"' (at byte 65 of 69)"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8,
         "%s: tensor model.layers.0.block_sparse_moe.gate.weight: missing (nor "
         "model.layers.0.mlp.gate.weight)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = tu_write_temp("", ".safetensors");
        st_write_raw(p, strlen(cases[i].hdr), cases[i].hdr, strlen(cases[i].hdr), cases[i].data);
        print_message("case %zu: %s\n", i, cases[i].hdr);
        expect_error(p, cases[i].msg);
        unlink(p);
    }
}

static void test_truncated_and_length_beyond_file(void **state)
{
    (void)state;
    const char *p = tu_write_temp("abcde", ".safetensors");
    expect_error(p, "%s: truncated: 5 bytes, shorter than the 8-byte header length");
    st_write_raw(p, 1000, "{}", 2, 8);
    expect_error(p, "%s: header length 1000 beyond the file's 18 bytes");
    /* a valid file cut short: the last tensor's data is gone */
    struct st_tensor t[8];
    int n = base_tensors(t, "F32");
    assert_int_equal(st_write(p, t, n), 0);
    FILE *f = fopen(p, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    assert_int_equal(truncate(p, size - 4), 0);
    expect_error(p, "%s: tensor model.layers.0.block_sparse_moe.experts.1.w2.weight: "
                    "data_offsets outside the 828 data bytes");
    unlink(p);
}

/* Valid files whose tensors do not fit the dimensions. */
static void test_wrong_tensors(void **state)
{
    (void)state;
    struct st_tensor t[9];
    const char *p = tu_write_temp("", ".safetensors");
    int n = base_tensors(t, "F32");
    t[0].shape[0] = 3;
    assert_int_equal(st_write(p, t, n), 0);
    expect_error(p, "%s: tensor model.layers.0.block_sparse_moe.gate.weight: shape [3, 8], "
                    "expected [2, 8]");
    n = base_tensors(t, "F32");
    t[6].ndim = 1, t[6].shape[0] = 32;
    assert_int_equal(st_write(p, t, n), 0);
    expect_error(p, "%s: tensor model.layers.0.block_sparse_moe.experts.1.w2.weight: shape [32], "
                    "expected [8, 4]");
    n = base_tensors(t, "F32");
    t[2].dtype = "I32";
    assert_int_equal(st_write(p, t, n), 0);
    expect_error(p, "%s: tensor model.layers.0.block_sparse_moe.experts.0.w3.weight: dtype I32, "
                    "expected BF16, F16 or F32");
    n = base_tensors(t, "BF16");
    assert_int_equal(st_write(p, t, n - 1), 0); /* expert 1 has no w2 */
    expect_error(p, "%s: tensor model.layers.0.block_sparse_moe.experts.1.w2.weight: missing");
    n = base_tensors(t, "BF16");
    t[n++] = (struct st_tensor){"model.embed_tokens.weight", "BF16", 2, {10, 7}, NULL};
    assert_int_equal(st_write(p, t, n), 0);
    expect_error(p, "%s: tensor model.embed_tokens.weight: shape [10, 7], expected [10, 8]");
    n = base_tensors(t, "F32");
    t[n++] =
        (struct st_tensor){"model.layers.0.post_attention_layernorm.weight", "F32", 1, {9}, NULL};
    assert_int_equal(st_write(p, t, n), 0);
    expect_error(p, "%s: tensor model.layers.0.post_attention_layernorm.weight: shape [9], "
                    "expected [8]");
    unlink(p);
    expect_error("/nonexistent/x.safetensors", "%s: cannot open: No such file or directory");
}

/* Seeded weights written to a checkpoint (F32 Mixtral names, BF16 OLMoE
 * names) load back to the same numbers and give the same outputs. */
static void round_trip(int olmoe, const char *dtype)
{
    struct kn_dims d = {.hidden = 16,
                        .ffn = 12,
                        .experts = 4,
                        .topk = 2,
                        .layers = 2,
                        .renorm = 0,
                        .eps = 1e-5f,
                        .model = "test"};
    size_t H = 16, F = 12, E = 4;
    struct kn_weights *seeded = kn_weights_seeded(&d, 5, 1);
    struct kn_layer lay[2];
    struct st_tensor t[64];
    static char names[64][96];
    float norm[2][16], embed[5 * 16];
    int n = 0;
    const char *pre = olmoe ? "mlp" : "block_sparse_moe";
    const char *wn[3] = {olmoe ? "gate_proj" : "w1", olmoe ? "up_proj" : "w3",
                         olmoe ? "down_proj" : "w2"};
    for (int l = 0; l < 2; l++) {
        kn_layer_alloc(&d, &lay[l]);
        kn_weights_layer(seeded, l, &lay[l]);
        for (size_t i = 0; i < H; i++)
            norm[l][i] = lay[l].norm[i] = 1.0f + (float)(i + l) / 8.0f;
        snprintf(names[n], 96, "model.layers.%d.post_attention_layernorm.weight", l);
        t[n] = (struct st_tensor){names[n], dtype, 1, {16}, norm[l]};
        n++;
        snprintf(names[n], 96, "model.layers.%d.%s.gate.weight", l, pre);
        t[n] = (struct st_tensor){names[n], dtype, 2, {4, 16}, lay[l].gate};
        n++;
        for (size_t e = 0; e < E; e++) {
            const float *src[3] = {lay[l].w1 + e * F * H, lay[l].w3 + e * F * H,
                                   lay[l].w2 + e * H * F};
            for (int j = 0; j < 3; j++) {
                snprintf(names[n], 96, "model.layers.%d.%s.experts.%zu.%s.weight", l, pre, e,
                         wn[j]);
                t[n] = (struct st_tensor){
                    names[n], dtype, 2, {j < 2 ? 12 : 16, j < 2 ? 16 : 12}, src[j]};
                n++;
            }
        }
    }
    for (int r = 0; r < 5; r++)
        kn_weights_embed(seeded, (uint32_t)r, embed + r * 16);
    t[n++] = (struct st_tensor){"model.embed_tokens.weight", dtype, 2, {5, 16}, embed};
    const char *p = tu_write_temp("", ".safetensors");
    assert_int_equal(st_write(p, t, n), 0);
    struct kn_weights *fw;
    struct err e;
    if (kn_weights_open(p, &d, 99, 2, &fw, &e)) fail_msg("%s", e.msg);
    struct kn_layer got;
    kn_layer_alloc(&d, &got);
    float hs[6 * 16], hf[6 * 16], ws[12], wf[12];
    int16_t es[12], ef[12];
    for (int tk = 0; tk < 6; tk++) {
        kn_weights_embed(seeded, (uint32_t)(tk * 7 % 5), hs + tk * 16);
        kn_weights_embed(fw, (uint32_t)(tk * 7), hf + tk * 16); /* id modulo V = 5 */
    }
    assert_memory_equal(hs, hf, sizeof hs);
    struct kn_cpu *cpu = kn_cpu_create(&d, 0, 1, KN_FP32);
    for (int l = 0; l < 2; l++) {
        kn_weights_layer(fw, l, &got);
        assert_memory_equal(got.norm, lay[l].norm, sizeof(float) * H);
        assert_memory_equal(got.gate, lay[l].gate, sizeof(float) * E * H);
        assert_memory_equal(got.w1, lay[l].w1, sizeof(float) * E * F * H);
        assert_memory_equal(got.w3, lay[l].w3, sizeof(float) * E * F * H);
        assert_memory_equal(got.w2, lay[l].w2, sizeof(float) * E * F * H);
        kn_cpu_load(cpu, &lay[l]);
        kn_cpu_forward(cpu, hs, 6, es, ws);
        kn_cpu_load(cpu, &got);
        kn_cpu_forward(cpu, hf, 6, ef, wf);
        assert_memory_equal(es, ef, sizeof es);
        assert_memory_equal(ws, wf, sizeof ws);
        assert_memory_equal(hs, hf, sizeof hs);
    }
    kn_cpu_destroy(cpu);
    kn_layer_free(&got);
    kn_layer_free(&lay[0]);
    kn_layer_free(&lay[1]);
    kn_weights_destroy(fw);
    kn_weights_destroy(seeded);
    unlink(p);
}

static void test_round_trip_f32_mixtral_names(void **state)
{
    (void)state;
    round_trip(0, "F32");
}

static void test_round_trip_bf16_olmoe_names(void **state)
{
    (void)state;
    round_trip(1, "BF16"); /* seeded values are bf16 already: exact */
}

static void test_f16_conversion(void **state)
{
    (void)state;
    const unsigned char bytes[] = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x01,
                                   0x00, 0x00, 0x7c, 0xff, 0x7b, 0x00, 0x80};
    struct kn_st_tensor t = {.dtype = KN_ST_F16, .data = bytes, .nbytes = sizeof bytes};
    float out[7];
    kn_st_to_f32(&t, out);
    assert_true(out[0] == 1.0f);
    assert_true(out[1] == -2.0f);
    assert_true(out[2] == 0.5f);
    assert_true(out[3] == 0x1p-24f); /* smallest subnormal */
    assert_true(isinf(out[4]) && out[4] > 0);
    assert_true(out[5] == 65504.0f);
    assert_true(out[6] == 0.0f && signbit(out[6]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_base_opens),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_truncated_and_length_beyond_file),
        cmocka_unit_test(test_wrong_tensors),
        cmocka_unit_test(test_round_trip_f32_mixtral_names),
        cmocka_unit_test(test_round_trip_bf16_olmoe_names),
        cmocka_unit_test(test_f16_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
