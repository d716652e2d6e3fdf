/* test_report.c - `moesim report` and `moesim export` (results/report.c,
 * results/export.c, results/query.c) on a database of known rows written
 * through the res_ API: exact tables, exact CSV text, and the exact error
 * lines. */
#include "testutil.h"

#include <sqlite3.h>

#include "results/res.h"

static char tmpdir[64];
static char dbpath[128];

/* Runs 1-3: ecmp, seeds 1-3, network cct 110/120/130 us; runs 4-6: spray,
 * seeds 1-3 (run 5 also workload.seed 7), cct 101/102/106 us; every ideal
 * 100 us, then a 50 us compute phase. Run 7: adaptive, failed. Run 8: ecmp,
 * seed 4, still running. */
static void make_db(void)
{
    struct res_db *db;
    struct err e;
    assert_int_equal(res_open(dbpath, &db, &e), 0);
    static const uint64_t cct[6] = {110000, 120000, 130000, 101000, 102000, 106000};
    for (int i = 0; i < 8; i++) {
        struct cfg c;
        cfg_defaults(&c);
        c.tr.path = i < 3 || i == 7 ? PATH_ECMP : i < 6 ? PATH_SPRAY : PATH_ADAPTIVE;
        c.sim.seed = i < 6 ? i % 3 + 1 : i == 6 ? 1 : 4;
        c.wl.seed = i == 4 ? 7 : WL_SEED_SIM; /* swept, yet no grouping key: a seed */
        snprintf(c.out.db, sizeof c.out.db, "%s", dbpath);
        int64_t id;
        assert_int_equal(tu_run_begin(db, &c, "t.ini", &id, &e), 0);
        assert_int_equal(id, i + 1);
        if (i == 6) assert_int_equal(res_run_fail(db, id, "boom", &e), 0);
        if (i >= 6) continue;
        struct res_phase ph[2] = {
            {0, 0, "alltoall", 0, cct[i] * 1000, 100000000, 1000, "lp"},
            {0, 1, "compute", cct[i] * 1000, cct[i] * 1000 + 50000000, 0, 0, NULL},
        };
        struct res_run r = {.engine = "packet",
                            .seed = (uint64_t)c.sim.seed,
                            .wall_s = 0.5,
                            .events = 10,
                            .sim_ps = ph[1].end_ps,
                            .phases = ph,
                            .nphases = 2};
        assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    }
    res_close(db);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/moesim_rep_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(dbpath, sizeof dbpath, "%s/r.db", tmpdir);
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

/* Runs res_report; returns its output (static) or the error message. */
static const char *report(const char *by, const char *metric, const char *w1, const char *w2,
                          int want_rc)
{
    static char out[4096];
    struct res_db *db;
    struct err e = {""};
    assert_int_equal(res_open_read(dbpath, &db, &e), 0);
    const char *where[2] = {w1, w2};
    struct res_report_opts o = {by, metric, where, (size_t)(w1 != NULL) + (w2 != NULL)};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = res_report(db, &o, f, &e);
    fclose(f);
    res_close(db);
    assert_int_equal(rc, want_rc);
    snprintf(out, sizeof out, "%s", rc == 0 ? buf : e.msg);
    free(buf);
    return out;
}

static void expect(const char *got, const char *fmt_with_path)
{
    char want[4096];
    snprintf(want, sizeof want, fmt_with_path, dbpath);
    assert_string_equal(got, want);
}

static void test_report_default_groups_by_swept_key(void **state)
{
    (void)state;
    /* sim.seed is swept too, but seeds are what a cell's spread is over */
    expect(report(NULL, NULL, NULL, NULL, 0),
           "%s: 6 done runs; cct = sum of network phases' completion time, us\n"
           "cell: median [min-max] over the cell's runs, x = median ratio to ideal_ns, n = runs\n"
           "cells pool: sim.seed (1, 2, 3), workload.seed (-1, 7)\n"
           "transport.path  cct (us)\n"
           "ecmp            120.000 [110.000-130.000] x1.2000 n=3\n"
           "spray           102.000 [101.000-106.000] x1.0200 n=3\n");
}

static void test_report_slowdown_and_step_time(void **state)
{
    (void)state;
    expect(report("transport.path", "slowdown", NULL, NULL, 0),
           "%s: 6 done runs; slowdown = network phases' completion time / ideal_ns\n"
           "cell: median [min-max] over the cell's runs, n = runs\n"
           "cells pool: sim.seed (1, 2, 3), workload.seed (-1, 7)\n"
           "transport.path  slowdown\n"
           "ecmp            1.2000 [1.1000-1.3000] n=3\n"
           "spray           1.0200 [1.0100-1.0600] n=3\n");
    /* step time = network + 50 us of compute: no ratio to the network-only
     * bound (it would read x1.7000, as if the network took 70 % longer) */
    expect(report("transport.path", "step_time", "sim.seed=2", NULL, 0),
           "%s: 2 done runs; step_time = run's end (max end_ns), us; compute included, so no "
           "ratio to ideal_ns (a network-only bound)\n"
           "cell: median [min-max] over the cell's runs, n = runs\n"
           "cells pool: no parameter (a cell's runs share every parameter)\n"
           "transport.path  step_time (us)\n"
           "ecmp            170.000 [170.000-170.000] n=1\n"
           "spray           152.000 [152.000-152.000] n=1\n");
    /* every seed: n and the min-max of each cell */
    expect(report("transport.path", "step_time", NULL, NULL, 0),
           "%s: 6 done runs; step_time = run's end (max end_ns), us; compute included, so no "
           "ratio to ideal_ns (a network-only bound)\n"
           "cell: median [min-max] over the cell's runs, n = runs\n"
           "cells pool: sim.seed (1, 2, 3), workload.seed (-1, 7)\n"
           "transport.path  step_time (us)\n"
           "ecmp            170.000 [160.000-180.000] n=3\n"
           "spray           152.000 [151.000-156.000] n=3\n");
    /* exposed communication: the run's end less its 50 us of compute (these
     * runs have no task rows), so here exactly the network phase */
    expect(report("transport.path", "exposed_comm", "sim.seed=2", NULL, 0),
           "%s: 2 done runs; exposed_comm = network time when no compute runs (tasks table; "
           "without one the run's end less its compute rows' time), us\n"
           "cell: median [min-max] over the cell's runs, n = runs\n"
           "cells pool: no parameter (a cell's runs share every parameter)\n"
           "transport.path  exposed_comm (us)\n"
           "ecmp            120.000 [120.000-120.000] n=1\n"
           "spray           102.000 [102.000-102.000] n=1\n");
}

static void test_report_rows_and_columns(void **state)
{
    (void)state;
    expect(report("sim.seed,transport.path", "cct", NULL, NULL, 0),
           "%s: 6 done runs; cct = sum of network phases' completion time, us\n"
           "cell: median [min-max] over the cell's runs, x = median ratio to ideal_ns, n = runs\n"
           "cells pool: no parameter (a cell's runs share every parameter)\n"
           "sim.seed \\ transport.path  ecmp                                   spray\n"
           "1                          110.000 [110.000-110.000] x1.1000 n=1  "
           "101.000 [101.000-101.000] x1.0100 n=1\n"
           "2                          120.000 [120.000-120.000] x1.2000 n=1  "
           "102.000 [102.000-102.000] x1.0200 n=1\n"
           "3                          130.000 [130.000-130.000] x1.3000 n=1  "
           "106.000 [106.000-106.000] x1.0600 n=1\n");
}

static void test_report_where_numeric_and_all(void **state)
{
    (void)state;
    /* "2.0" matches the recorded "2"; nothing swept is left: one row */
    expect(report(NULL, "slowdown", "sim.seed=2.0", "transport.path=spray", 0),
           "%s: 1 done runs; slowdown = network phases' completion time / ideal_ns\n"
           "cell: median [min-max] over the cell's runs, n = runs\n"
           "cells pool: no parameter (a cell's runs share every parameter)\n"
           "(all runs)  slowdown\n"
           "all         1.0200 [1.0200-1.0200] n=1\n");
}

static void test_report_errors(void **state)
{
    (void)state;
    assert_string_equal(report("topology.nope", NULL, NULL, NULL, -1),
                        "--by topology.nope: unknown parameter topology.nope (no run has it)");
    assert_string_equal(report("sim.seed,transport.path,sim.engine", NULL, NULL, NULL, -1),
                        "--by sim.seed,transport.path,sim.engine: at most two keys (rows, then "
                        "columns)");
    assert_string_equal(report(NULL, NULL, "nope.x=1", NULL, -1),
                        "--where nope.x=1: unknown parameter nope.x (no run has it)");
    assert_string_equal(report(NULL, NULL, "seed", NULL, -1),
                        "--where seed: expected section.key=value");
    assert_string_equal(report(NULL, "p99", NULL, NULL, -1),
                        "--metric p99: expected cct, slowdown, step_time, exposed_comm, "
                        "tokens_per_s or per_token_us");
    expect(report(NULL, NULL, "transport.path=adaptive", NULL, -1), "%s: no done runs match");
}

static const char *export_csv(const char *table, const char *w, long want_rows)
{
    static char out[8192];
    struct res_db *db;
    struct err e = {""};
    assert_int_equal(res_open_read(dbpath, &db, &e), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    long rows = res_export(db, table, &w, w ? 1 : 0, f, &e);
    fclose(f);
    res_close(db);
    assert_int_equal(rows, want_rows);
    snprintf(out, sizeof out, "%s", rows >= 0 ? buf : e.msg);
    free(buf);
    return out;
}

static void test_export_exact(void **state)
{
    (void)state;
    assert_string_equal(export_csv("phases", "transport.path=spray", 6),
                        "run_id,iter,layer,phase,start_ns,end_ns,cct_ns,ideal_ns,bytes,ideal_kind,"
                        "sim.seed,workload.seed\n"
                        "4,0,0,\"alltoall\",0,101000,101000,100000,1000,\"lp\",\"1\",\"-1\"\n"
                        "4,0,1,\"compute\",101000,151000,50000,0,0,,\"1\",\"-1\"\n"
                        "5,0,0,\"alltoall\",0,102000,102000,100000,1000,\"lp\",\"2\",\"7\"\n"
                        "5,0,1,\"compute\",102000,152000,50000,0,0,,\"2\",\"7\"\n"
                        "6,0,0,\"alltoall\",0,106000,106000,100000,1000,\"lp\",\"3\",\"-1\"\n"
                        "6,0,1,\"compute\",106000,156000,50000,0,0,,\"3\",\"-1\"\n");
    /* every status; only transport.path varies among these runs */
    const char *runs = export_csv("runs", "sim.seed=1", 3);
    assert_non_null(strstr(runs, "version,message,transport.path\n"));
    assert_non_null(strstr(runs, "\"failed\""));
    assert_non_null(strstr(runs, ",\"boom\",\"adaptive\"\n"));
    /* a table with no rows for the runs: the header alone */
    assert_string_equal(
        export_csv("flows", "transport.path=spray", 0),
        "run_id,flow,src,dst,bytes,start_ns,end_ns,retx_bytes,timeouts,nacks,cnps,sim.seed,"
        "workload.seed\n");
    assert_string_equal(export_csv("packets", NULL, -1),
                        "--table packets: expected runs, params, phases, links, flows, "
                        "timeseries, gpu_load, trace_use, inputs, notes or tasks");
    char want[256];
    snprintf(want, sizeof want, "%s: no runs match", dbpath);
    assert_string_equal(export_csv("phases", "sim.seed=9", -1), want);
}

/* report refuses what is not a moesim database, and a newer schema */
static void test_open_read_refusals(void **state)
{
    (void)state;
    char other[160], newer[160], missing[160];
    snprintf(other, sizeof other, "%s/o.db", tmpdir);
    snprintf(newer, sizeof newer, "%s/n.db", tmpdir);
    snprintf(missing, sizeof missing, "%s/none.db", tmpdir);
    sqlite3 *s;
    assert_int_equal(sqlite3_open(other, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", dbpath, newer);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(sqlite3_open(newer, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "UPDATE meta SET value = '9'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    struct res_db *db;
    struct err e;
    char want[512];
    assert_int_equal(res_open_read(other, &db, &e), -1);
    snprintf(want, sizeof want,
             "%s: not a moesim results database (it has tables but no meta table)", other);
    assert_string_equal(e.msg, want);
    assert_int_equal(res_open_read(newer, &db, &e), -1);
    snprintf(want, sizeof want,
             "%s: schema_version 9 is newer than this moesim handles (6); use a newer moesim",
             newer);
    assert_string_equal(e.msg, want);
    assert_int_equal(res_open_read(missing, &db, &e), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
    assert_string_equal(e.msg, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_default_groups_by_swept_key),
        cmocka_unit_test(test_report_slowdown_and_step_time),
        cmocka_unit_test(test_report_rows_and_columns),
        cmocka_unit_test(test_report_where_numeric_and_all),
        cmocka_unit_test(test_report_errors),
        cmocka_unit_test(test_export_exact),
        cmocka_unit_test(test_open_read_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
