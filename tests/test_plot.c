/* test_plot.c - the figures of `moesim plot` (plots/plot_*.c) on a database
 * of synthetic rows written through the res_ API: MoE phases and GPU loads
 * (the rows an MoE workload will write), flows and link samples. Each figure
 * must come out as a PNG and a PDF with its CSV and script; the CSV holds
 * the exact numbers (a bar per --by value, heatmap cells exact in time and
 * conserving bytes); a figure asked of runs that lack its data gives one
 * exact line. Set MOESIM_PLOT_KEEP=DIR to draw into DIR and look at the
 * figures. Runs from the repository root (the scripts in ./plots). */
#include "testutil.h"

#include <math.h>
#include <sys/stat.h>

#include "plots/plot.h"
#include "results/res.h"

static char tmpdir[64], dbpath[128], outdir[256];

/* The period and length of run 6's samples: 1000 periods, which no cell
 * count of 300 or fewer divides into equal whole numbers but 250 of 4. */
#define R6_PERIOD  1000
#define R6_SAMPLES 1000

/* Two policies x two seeds; 4 layers of dispatch/compute/combine, GPU loads
 * (8 GPUs), 20 flows and 10 samples of 4 links per run; the spray runs (3
 * and 4) have 2 GPUs per server, so that flows 0->1 and 2->3 are NVLink
 * flows there. Run 5 (seed 7): one network phase and none of the rest. Run
 * 6 (seed 8): one network phase and R6_SAMPLES samples of two 100 Gb/s
 * links, link 0 sending at exactly its capacity (12500 bytes per 1000 ns),
 * link 1 at a quarter of it. */
static void make_db(void)
{
    struct res_db *db;
    struct err e;
    assert_int_equal(res_open(dbpath, &db, &e), 0);
    for (int i = 0; i < 6; i++) {
        struct cfg c;
        cfg_defaults(&c);
        c.sim.seed = i == 4 ? 7 : i == 5 ? 8 : i % 2 + 1;
        c.tr.path = i < 2 ? PATH_ECMP : PATH_SPRAY;
        c.out.sample_ns = 1000;
        /* run 6 records a database name that a shell, or gnuplot's
         * backquotes, would run: it reaches cct.gp's note only as text */
        if (i == 5) snprintf(c.out.db, sizeof c.out.db, "%s", "a`touch pwned`'b.db");
        assert_int_equal(
            opt_parse(opt_find("placement", "policy"), i < 2 ? "contiguous" : "eplb", &c, &e), 0);
        if (i == 2 || i == 3)
            assert_int_equal(opt_parse(opt_find("topology", "gpus_per_host"), "2", &c, &e), 0);
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
            ph[k] = (struct res_phase){
                0,     (uint32_t)(k / 3),          names[k % 3], t,
                t + d, k % 3 == 1 ? 0 : d * 4 / 5, 1000,         k % 3 == 1 ? NULL : "lp"};
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
                                      (simtime_t)(1000 + 37 * k * (i + 1)) * PS_PER_NS,
                                      {0, 0, 0, 0}};
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
        struct res_sample *s6 = NULL;
        if (i == 5) { /* one phase and a long, even series of samples */
            ph[0].phase = "alltoall";
            s6 = calloc(2 * R6_SAMPLES, sizeof *s6);
            for (int k = 0; k < 2 * R6_SAMPLES; k++)
                s6[k] = (struct res_sample){(simtime_t)(k / 2 + 1) * R6_PERIOD * PS_PER_NS,
                                            (uint32_t)(k % 2), k % 2 ? 3125 : 12500, 0};
            r = (struct res_run){.engine = "packet",
                                 .phases = ph,
                                 .nphases = 1,
                                 .links = ln,
                                 .nlinks = 2,
                                 .samples = s6,
                                 .nsamples = 2 * R6_SAMPLES};
        }
        assert_int_equal(res_run_finish(db, id, &r, &e), 0);
        free(s6);
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

/* Draws a figure with --where `where`, --run `run`, --by `by` and --flows
 * `flows` (NULL: none); returns plot_make's status and its message. */
static const char *phase_opt; /* --phase for plot_opts */

static int plot_opts(const char *kind, const char *where, int64_t run, const char *by,
                     const char *flows, char *msg)
{
    struct res_db *db;
    struct err e = {""};
    assert_int_equal(res_open_read(dbpath, &db, &e), 0);
    struct plot_opts o = {.dir = outdir,
                          .by = by,
                          .where = &where,
                          .nwhere = where ? 1 : 0,
                          .run = run,
                          .flows = flows,
                          .phase = phase_opt};
    int rc = plot_make(db, kind, &o, &e);
    res_close(db);
    strcpy(msg, e.msg);
    return rc;
}

static int plot(const char *kind, const char *where, int64_t run, char *msg)
{
    return plot_opts(kind, where, run, NULL, NULL, msg);
}

/* The lines of DIR/name (static, at most 64 of 256 characters); their
 * number in *n. */
static char (*read_lines(const char *name, size_t *n))[256]
{
    static char lines[64][256];
    char p[512];
    snprintf(p, sizeof p, "%s/%s", outdir, name);
    FILE *f = fopen(p, "r");
    if (!f) fail_msg("%s is missing", p);
    *n = 0;
    while (*n < 64 && fgets(lines[*n], sizeof lines[0], f))
        (*n)++;
    fclose(f);
    return lines;
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
    expect_figure("moe", NULL, "moe.csv");
    expect_figure("heatmap", NULL, "heatmap.csv");
    expect_figure("gpu_load", NULL, "gpu_load_1.csv");
}

/* The numbers behind the figures. */
static void test_figure_data(void **state)
{
    (void)state;
    char msg[1024];
    size_t n;
    assert_int_equal(plot("2", NULL, 0, msg), 0); /* kinds by number too */
    assert_int_equal(plot("gpu_load", NULL, 0, msg), 0);
    char(*l)[256] = read_lines("gpu_load_0.csv", &n);
    assert_string_equal(l[0], "layer,median,min,max,runs\n");
    /* contiguous: tokens 100..310 by 30, mean 205, max 310, in both runs */
    assert_string_equal(l[1], "0,1.512195,1.512195,1.512195,2\n");
    assert_int_equal(plot("heatmap", NULL, 2, msg), 0);
    l = read_lines("heatmap.csv", &n);
    assert_string_equal(l[0], "t_us,row,link,t0_ns,t1_ns,bytes,util_pct\n");
    /* 3000 bytes in 1000 ns on 100 Gb/s = 24 % */
    assert_string_equal(l[1], "0.500000,0,0,0,1000,3000.000,24.0000\n");
    /* moe: per run, the layers' sums; eplb (runs 3 and 4, i = 2, 3):
     * dispatch 4 x (30 + 5 i) us, compute 4 x (40 + 5 i), combine 4 x (50 + 5 i) */
    assert_int_equal(plot("moe", NULL, 0, msg), 0);
    l = read_lines("moe.csv", &n);
    assert_int_equal(n, 3);
    assert_string_equal(l[0], "x,\"placement.policy\",\"cluster\",dispatch,compute,combine,"
                              "total_min,total_max,runs\n");
    assert_string_equal(l[2], "1,\"eplb\",\"\",170.000000,210.000000,250.000000,600.000000,"
                              "660.000000,2\n");
}

/* cct splits by --by: a bar per placement policy, and with a second key a
 * cluster per bar; the script says what a bar pooled (wrapped to the
 * figure's width between two parameters): transport.path, the same within each policy's runs, is
 * not pooled. */
static void test_plot_by(void **state)
{
    (void)state;
    char msg[1024];
    size_t n;
    assert_int_equal(plot_opts("cct", NULL, 0, "placement.policy", NULL, msg), 0);
    char(*l)[256] = read_lines("cct.csv", &n);
    assert_int_equal(n, 3);
    assert_string_equal(l[0], "\"placement.policy\",\"median\",\"min\",\"max\",\"runs\"\n");
    /* contiguous: runs 1-2, network 30 + 5 i and 50 + 5 i us over 4 layers
     * of ideal 0.8 of each: 1.25 */
    assert_string_equal(l[1], "\"contiguous\",1.250000,1.250000,1.250000,2\n");
    assert_true(!strncmp(l[2], "\"eplb\",", 7));
    l = read_lines("cct.gp", &n);
    int noted = 0;
    const char *got = "(none)";
    for (size_t i = 0; i < n; i++)
        if (!strncmp(l[i], "note = ", 7)) got = l[i];
    for (size_t i = 0; i < n; i++)
        noted |= !strcmp(l[i], "note = 'pooled: output.db (results/moesim.db, a`touch'.\"\\n\"."
                               "'pwned`''b.db), sim.seed (1, 2, 7, 8),'.\"\\n\".'"
                               "topology.gpus_per_host (1, 2)'\n");
    if (!noted) fail_msg("cct.gp does not say what it pooled: %s", got);
    char pw[512];
    snprintf(pw, sizeof pw, "%s/pwned", outdir);
    if (access(pw, F_OK) == 0 || access("pwned", F_OK) == 0) fail_msg("gnuplot ran a label");
    assert_int_equal(plot_opts("cct", NULL, 0, "placement.policy,transport.path", NULL, msg), 0);
    l = read_lines("cct.csv", &n);
    assert_int_equal(n, 3);
    const char *head = "\"placement.policy\",\"transport.path=ecmp:median\",";
    assert_memory_equal(l[0], head, strlen(head));
    /* contiguous ran only on ecmp: no spray bar in its cluster */
    assert_string_equal(l[1], "\"contiguous\",1.250000,1.250000,1.250000,2,NaN,NaN,NaN,0\n");
    assert_int_equal(plot_opts("cct", NULL, 0, "nope.x", NULL, msg), -1);
    assert_string_equal(msg, "--by nope.x: unknown parameter nope.x (no run has it)");
    assert_int_equal(plot_opts("fct", NULL, 0, "sim.seed,transport.path", NULL, msg), -1);
    assert_string_equal(msg, "--by sim.seed,transport.path: this figure splits by at most 1 key");
    assert_int_equal(plot_opts("heatmap", NULL, 0, "sim.seed", NULL, msg), -1);
    assert_string_equal(msg, "--by sim.seed: the heatmap draws one run (pick it with --run)");
}

/* fct keeps the flows between servers by default: on the spray runs (2
 * GPUs per server) half of the 20 flows per run are NVLink flows. */
static void test_fct_flows(void **state)
{
    (void)state;
    char msg[1024];
    size_t n;
    /* fct_1.csv: spray; one line per flow plus the 0 at the start */
    assert_int_equal(plot_opts("fct", NULL, 0, NULL, NULL, msg), 0);
    read_lines("fct_1.csv", &n);
    assert_int_equal(n, 1 + 1 + 20);
    assert_int_equal(plot_opts("fct", NULL, 0, NULL, "all", msg), 0);
    read_lines("fct_1.csv", &n);
    assert_int_equal(n, 1 + 1 + 40);
    assert_int_equal(plot_opts("fct", "transport.path=spray", 0, NULL, "nvlink", msg), 0);
    read_lines("fct_0.csv", &n);
    assert_int_equal(n, 1 + 1 + 20);
    assert_int_equal(plot_opts("fct", "transport.path=ecmp", 0, NULL, "nvlink", msg), -1);
    assert_string_equal(msg, "no NVLink flows (inside a server) in the 2 matching done runs");
    /* every flow starts with its run, in the first phase (a dispatch) */
    phase_opt = "dispatch";
    assert_int_equal(plot_opts("fct", NULL, 0, NULL, NULL, msg), 0);
    read_lines("fct_1.csv", &n);
    assert_int_equal(n, 1 + 1 + 20);
    phase_opt = "combine";
    assert_int_equal(plot_opts("fct", NULL, 0, NULL, NULL, msg), -1);
    phase_opt = NULL;
    assert_string_equal(msg,
                        "no network flows (between servers) of phase combine in the 6 matching "
                        "done runs");
}

/* Cells are whole intervals of time: on run 6 every cell of link 0 is
 * exactly 100 % (the old binning into 300 columns of 3.33 samples gave
 * 120 % in one column of three), link 1's 25 %, and the cells' bytes add
 * up to the samples' bytes. */
static void test_heatmap_exact(void **state)
{
    (void)state;
    char msg[1024], p[512], line[256];
    assert_int_equal(plot("heatmap", NULL, 6, msg), 0);
    snprintf(p, sizeof p, "%s/heatmap.csv", outdir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    double bytes[2] = {0, 0};
    size_t cells = 0;
    while (fgets(line, sizeof line, f)) {
        double t, b, u;
        int row, link;
        long long t0, t1;
        assert_int_equal(
            sscanf(line, "%lf,%d,%d,%lld,%lld,%lf,%lf", &t, &row, &link, &t0, &t1, &b, &u), 7);
        assert_int_equal(t1 - t0, 4 * R6_PERIOD);
        assert_true(fabs(u - (link ? 25.0 : 100.0)) < 1e-9);
        bytes[link] += b;
        cells++;
    }
    fclose(f);
    assert_int_equal(cells, 2 * R6_SAMPLES / 4);
    assert_true(bytes[0] == 12500.0 * R6_SAMPLES && bytes[1] == 3125.0 * R6_SAMPLES);
    char *gp = NULL;
    size_t n;
    char(*l)[256] = read_lines("heatmap.gp", &n);
    for (size_t i = 0; i < n && !gp; i++)
        if (!strncmp(l[i], "note = ", 7)) gp = l[i];
    assert_non_null(gp);
    /* the run named by what varies among the runs (wrapped to the figure's
     * width); the cell's width */
    assert_string_equal(gp, "note = 'run 6: placement.policy=eplb, sim.seed=8,'.\"\\n\".'"
                            "topology.gpus_per_host=1, transport.path=spray'.\"\\n\".'a cell: 4 "
                            "us (4 samples of 1000 ns)'\n");
}

/* The binning itself, with cells that are not whole sample periods: a
 * period across a cell boundary splits by overlap, bytes are conserved,
 * the last cell ends at the end. */
static void test_heatbin(void **state)
{
    (void)state;
    struct plot_heatbin h;
    assert_int_equal(plot_heatbin_width(2000, 3734000, 300), 14000);
    assert_int_equal(plot_heatbin_width(1000, 1000000, 300), 4000);
    assert_int_equal(plot_heatbin_width(1000, 5000, 300), 1000);
    /* periods of 1000 ns, cells of 1500 ns over 4000 ns: 3 cells */
    plot_heatbin_init(&h, 1000, 1500, 4000, 1);
    assert_int_equal(h.ncells, 3);
    for (int k = 1; k <= 4; k++)
        plot_heatbin_add(&h, k * 1000, 0, 1000.0);
    /* [0,1500): all of (0,1000] and half of (1000,2000] */
    assert_true(h.bytes[0] == 1500.0 && h.bytes[1] == 1500.0 && h.bytes[2] == 1000.0);
    assert_int_equal(plot_heatbin_span(&h, 2), 1000);
    plot_heatbin_free(&h);
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
    assert_string_equal(
        msg, "unknown figure 'violin' (cct, fct, moe, heatmap, gpu_load, timeline, or 1-6)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures),       cmocka_unit_test(test_figure_data),
        cmocka_unit_test(test_plot_by),       cmocka_unit_test(test_fct_flows),
        cmocka_unit_test(test_heatmap_exact), cmocka_unit_test(test_heatbin),
        cmocka_unit_test(test_lacking_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
