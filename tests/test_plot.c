/* test_plot.c - the figures of `moesim plot` (results/plot*.c) on a database
 * of synthetic rows written through the res_ API: MoE phases and GPU loads
 * (the rows an MoE workload will write), flows and link samples. Each figure
 * must come out as a PNG and a PDF with its CSV and script; a figure asked
 * of runs that lack its data gives one exact line. Set MOESIM_PLOT_KEEP=DIR
 * to draw into DIR and look at the figures. */
#include "testutil.h"

#include <sys/stat.h>

#include "results/res.h"

static char tmpdir[64], dbpath[128], outdir[256];

/* Two policies x two seeds; 4 layers of dispatch/compute/combine, GPU loads
 * (8 GPUs), 20 flows and 10 samples of 4 links per run. Run 5 (seed 7): one
 * network phase and none of the rest. */
static void make_db(void)
{
    struct res_db *db;
    struct err e;
    assert_int_equal(res_open(dbpath, &db, &e), 0);
    for (int i = 0; i < 5; i++) {
        struct cfg c;
        cfg_defaults(&c);
        c.sim.seed = i == 4 ? 7 : i % 2 + 1;
        c.tr.path = i < 2 ? PATH_ECMP : PATH_SPRAY;
        c.out.sample_ns = 1000;
        assert_int_equal(
            opt_parse(opt_find("placement", "policy"), i < 2 ? "contiguous" : "eplb", &c, &e), 0);
        int64_t id;
        assert_int_equal(tu_run_begin(db, &c, "synthetic", &id, &e), 0);
        struct res_phase ph[12];
        struct res_gpu_load gl[32];
        struct res_flow fl[20];
        struct res_sample sm[40];
        struct res_link ln[4];
        static const char *const names[3] = {"dispatch", "compute", "combine"};
        simtime_t t = 0;
        for (int k = 0; k < 12; k++) {
            simtime_t d = (simtime_t)(30 + 10 * (k % 3) + 5 * i) * PS_PER_US;
            ph[k] = (struct res_phase){0,     (uint32_t)(k / 3),          names[k % 3], t,
                                       t + d, k % 3 == 1 ? 0 : d * 4 / 5, 1000};
            t += d;
        }
        for (int k = 0; k < 32; k++)
            gl[k] = (struct res_gpu_load){(uint32_t)(k / 8), (uint32_t)(k % 8),
                                          (uint64_t)(100 + (k % 8) * (i < 2 ? 30 : 5))};
        for (int k = 0; k < 20; k++)
            fl[k] = (struct res_flow){(uint64_t)k,
                                      (uint32_t)k % 4,
                                      (uint32_t)(k + 1) % 4,
                                      1000,
                                      0,
                                      (simtime_t)(1000 + 37 * k * (i + 1)) * PS_PER_NS};
        for (int k = 0; k < 40; k++)
            sm[k] = (struct res_sample){(simtime_t)(k / 4 + 1) * 1000 * PS_PER_NS,
                                        (uint32_t)(k % 4), (uint64_t)(k % 4 + 1) * 3000, 0};
        for (int k = 0; k < 4; k++) {
            memset(&ln[k], 0, sizeof ln[k]);
            ln[k].link = (uint32_t)k;
            ln[k].kind = "leaf_up";
            ln[k].gbps = 100;
        }
        struct res_run r = {.engine = "packet",
                            .phases = ph,
                            .nphases = 12,
                            .links = ln,
                            .nlinks = 4,
                            .flows = fl,
                            .nflows = 20,
                            .samples = sm,
                            .nsamples = 40,
                            .gpu_load = gl,
                            .ngpu_load = 32};
        if (i == 4) { /* one all-to-all phase and nothing else */
            ph[0].phase = "alltoall";
            r = (struct res_run){.engine = "packet", .phases = ph, .nphases = 1};
        }
        assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    }
    res_close(db);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/moesim_plot_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(dbpath, sizeof dbpath, "%s/p.db", tmpdir);
    const char *keep = getenv("MOESIM_PLOT_KEEP");
    snprintf(outdir, sizeof outdir, "%s", keep && *keep ? keep : tmpdir);
    make_db();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int plot(const char *kind, const char *where, int64_t run, char *msg)
{
    struct res_db *db;
    struct err e = {""};
    assert_int_equal(res_open_read(dbpath, &db, &e), 0);
    int rc = plot_make(db, kind, outdir, &where, where ? 1 : 0, run, &e);
    res_close(db);
    strcpy(msg, e.msg);
    return rc;
}

/* The file starts with magic and is larger than min bytes. */
static void expect_file(const char *name, const char *magic, long min)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", outdir, name);
    FILE *f = fopen(p, "rb");
    if (!f) fail_msg("%s is missing", p);
    char head[8] = "";
    assert_int_equal(fread(head, 1, strlen(magic), f), strlen(magic));
    assert_memory_equal(head, magic, strlen(magic));
    fseek(f, 0, SEEK_END);
    assert_true(ftell(f) > min);
    fclose(f);
}

static void expect_figure(const char *kind, const char *where, const char *csv)
{
    char msg[1024];
    int rc = plot(kind, where, 0, msg);
    if (rc) fail_msg("plot %s: %s", kind, msg);
    char png[64], pdf[64], gp[64];
    snprintf(png, sizeof png, "%s.png", kind);
    snprintf(pdf, sizeof pdf, "%s.pdf", kind);
    snprintf(gp, sizeof gp, "%s.gp", kind);
    expect_file(png, "\x89PNG", 5000);
    expect_file(pdf, "%PDF", 2000);
    expect_file(gp, "# ", 100);
    expect_file(csv, "", 10);
}

static void test_figures(void **state)
{
    (void)state;
    expect_figure("cct", NULL, "cct.csv");
    expect_figure("fct", NULL, "fct_1.csv");
    expect_figure("moe", NULL, "moe_1.csv");
    expect_figure("heatmap", NULL, "heatmap.csv");
    expect_figure("gpu_load", NULL, "gpu_load_1.csv");
}

/* The numbers behind the figures. */
static void test_figure_data(void **state)
{
    (void)state;
    char msg[1024], p[512], line[256];
    assert_int_equal(plot("2", NULL, 0, msg), 0); /* kinds by number too */
    assert_int_equal(plot("gpu_load", NULL, 0, msg), 0);
    snprintf(p, sizeof p, "%s/gpu_load_0.csv", outdir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "layer,max_over_mean\n");
    /* contiguous: tokens 100..310 by 30, mean 205, max 310 */
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "0,1.512195\n");
    fclose(f);
    assert_int_equal(plot("heatmap", NULL, 2, msg), 0);
    snprintf(p, sizeof p, "%s/heatmap.csv", outdir);
    f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    /* 3000 bytes in 1000 ns on 100 Gb/s = 24 % */
    assert_string_equal(line, "0.500000,0,24.0000\n");
    fclose(f);
}

static void test_lacking_data(void **state)
{
    (void)state;
    char msg[1024];
    assert_int_equal(plot("moe", "sim.seed=9", 0, msg), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: no done runs match", dbpath);
    assert_string_equal(msg, want);
    /* run 5 (seed 7): one network phase and none of the other rows */
    static const char *const kinds[] = {"fct", "moe", "heatmap", "gpu_load"};
    static const char *const lines[] = {
        "no flow records in the 1 matching done runs (run with output.flows = true)",
        "no dispatch, compute or combine phases in the 1 matching done runs (an MoE workload "
        "writes them)",
        "no link samples in the 1 matching done runs (run with output.sample_ns > 0)",
        "no gpu_load rows in the 1 matching done runs (an MoE workload writes them)",
    };
    for (int k = 0; k < 4; k++) {
        int rc = plot(kinds[k], "sim.seed=7", 0, msg);
        if (rc != -1) fail_msg("plot %s of run 5: %d (%s)", kinds[k], rc, msg);
        assert_string_equal(msg, lines[k]);
    }
    assert_int_equal(plot("heatmap", NULL, 5, msg), -1);
    assert_string_equal(msg, "no link samples in run 5 (run with output.sample_ns > 0)");
    assert_int_equal(plot("violin", NULL, 0, msg), -1);
    assert_string_equal(msg, "unknown figure 'violin' (cct, fct, moe, heatmap, gpu_load, or 1-5)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_figure_data),
        cmocka_unit_test(test_lacking_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
