/* test_results.c - the results database (results/db.c), read back through the
 * plain sqlite3 API, and the CSV export of phases (results/csv.c). */
#include "testutil.h"

#include <sys/stat.h>

#include <sqlite3.h>

#include "results/res.h"
#include "app/cli.h"

/* Each test works in a fresh temporary directory, removed afterwards. */
static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/moesim_res_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_tmp(const char *name)
{
    static char buf[4][256];
    static int slot;
    char *p = buf[slot++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

static struct res_db *open_ok(const char *path)
{
    struct res_db *db = NULL;
    struct err e = {""};
    int rc = res_open(path, &db, &e);
    if (rc) print_error("res_open: %s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_non_null(db);
    return db;
}

static int64_t begin_ok(struct res_db *db, const struct cfg *c, const char *scenario)
{
    int64_t id = -1;
    struct err e = {""};
    int rc = tu_run_begin(db, c, scenario, &id, &e);
    if (rc) print_error("res_run_begin: %s\n", e.msg);
    assert_int_equal(rc, 0);
    return id;
}

/* ---- reading back with the sqlite3 API ---- */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return s;
}

static sqlite3_stmt *raw_query(sqlite3 *s, const char *sql, int64_t arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
        print_error("%s: %s\n", sql, sqlite3_errmsg(s));
    assert_non_null(st);
    if (sqlite3_bind_parameter_count(st) > 0) sqlite3_bind_int64(st, 1, arg);
    return st;
}

static int64_t raw_int(sqlite3 *s, const char *sql, int64_t arg)
{
    sqlite3_stmt *st = raw_query(s, sql, arg);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void raw_exec(sqlite3 *s, const char *sql)
{
    assert_int_equal(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "(null)";
}

/* "YYYY-MM-DDTHH:MM:SSZ" */
static void assert_iso_utc(const char *t)
{
    assert_int_equal(strlen(t), 20);
    int y, mo, d, h, mi, s;
    char z;
    assert_int_equal(sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z), 7);
    assert_int_equal(z, 'Z');
    assert_true(y >= 2024 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31);
}

/* ---- fixtures ---- */

static const struct res_phase phases2[] = {
    {.iter = 0,
     .layer = 0,
     .phase = "alltoall",
     .start_ps = 1499,
     .end_ps = 1240000500,
     .ideal_ps = 1200000000,
     .bytes = 16777216,
     .ideal_kind = "lp"},
    {.iter = 1,
     .layer = 7,
     .phase = "combine",
     .start_ps = 2000000000,
     .end_ps = 2000000000,
     .ideal_ps = 0,
     .bytes = 0},
};

static struct res_link links2[] = {
    {.link = 0,
     .kind = "host_up",
     .src = "h0",
     .dst = "l0",
     .gbps = 100,
     .st = {.bytes = 1048576,
            .busy_ps = 83886080000,
            .max_queue_bytes = 8192,
            .drops = 0,
            .ecn_marks = 3}},
    {.link = 17,
     .kind = "spine_down",
     .src = "s3",
     .dst = "l1",
     .gbps = 400.5,
     .st = {.bytes = 42,
            .busy_ps = 1500,
            .max_queue_bytes = 0,
            .drops = 5,
            .ecn_marks = 0,
            .trims = 6,
            .pause_ps = 2600000}},
};

static struct res_run run2(void)
{
    struct res_run r = {.engine = "packet",
                        .seed = 99,
                        .wall_s = 0.25,
                        .events = 123456,
                        .sim_ps = 2000000499,
                        .phases = phases2,
                        .nphases = 2,
                        .links = links2,
                        .nlinks = 2};
    return r;
}

/* ---- tests ---- */

static void test_begin_finish_every_column(void **state)
{
    (void)state;
    const char *path = in_tmp("a/b/c/results.db"); /* nested, none exists */
    struct res_db *db = open_ok(path);
    struct cfg c;
    cfg_defaults(&c);
    c.sim.seed = 99;
    c.tr.path = PATH_SPRAY;
    int64_t id = begin_ok(db, &c, "scenarios/x.ini");
    assert_int_equal(id, 1);
    struct res_run r = run2();
    struct err e = {""};
    assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    res_close(db);

    sqlite3 *s = raw_open(path);
    sqlite3_stmt *st = raw_query(s,
                                 "SELECT id, scenario, status, started_at, finished_at, seed, "
                                 "engine, wall_s, events, sim_ns, version, message FROM runs",
                                 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 1);
    assert_string_equal(col_text(st, 1), "scenarios/x.ini");
    assert_string_equal(col_text(st, 2), "done");
    assert_iso_utc(col_text(st, 3));
    assert_iso_utc(col_text(st, 4));
    assert_true(strcmp(col_text(st, 3), col_text(st, 4)) <= 0);
    assert_int_equal(sqlite3_column_int64(st, 5), 99);
    assert_string_equal(col_text(st, 6), "packet");
    assert_true(sqlite3_column_double(st, 7) == 0.25);
    assert_int_equal(sqlite3_column_int64(st, 8), 123456);
    assert_int_equal(sqlite3_column_int64(st, 9), 2000000); /* 2000000499 ps rounds down */
    assert_string_equal(col_text(st, 10), MOESIM_VERSION);
    assert_int_equal(sqlite3_column_type(st, 11), SQLITE_NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    /* params: every option once, as opt_format writes it */
    assert_int_equal(raw_int(s, "SELECT count(*) FROM params WHERE run_id = ?", id),
                     (int64_t)opt_count);
    assert_int_equal(raw_int(s, "SELECT count(DISTINCT key) FROM params", 0), (int64_t)opt_count);
    st = raw_query(s, "SELECT key, value FROM params WHERE run_id = ? ORDER BY rowid", id);
    for (size_t i = 0; i < opt_count; i++) {
        char key[128], value[CFG_STR_MAX + 32];
        snprintf(key, sizeof key, "%s.%s", opt_table[i].section, opt_table[i].key);
        opt_format(&opt_table[i], &c, value, sizeof value);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal(col_text(st, 0), key);
        assert_string_equal(col_text(st, 1), value);
    }
    sqlite3_finalize(st);
    st = raw_query(s, "SELECT value FROM params WHERE key = 'transport.path'", 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(col_text(st, 0), "spray");
    sqlite3_finalize(st);

    /* phases */
    st = raw_query(s,
                   "SELECT run_id, iter, layer, phase, start_ns, end_ns, cct_ns, ideal_ns, bytes, "
                   "ideal_kind FROM phases ORDER BY rowid",
                   0);
    const int64_t want_ph[2][9] = {{1, 0, 0, 0, 1, 1240001, 1240000, 1200000, 16777216},
                                   {1, 1, 7, 0, 2000000, 2000000, 0, 0, 0}};
    const char *want_name[2] = {"alltoall", "combine"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        for (int k = 0; k < 9; k++)
            if (k == 3)
                assert_string_equal(col_text(st, k), want_name[i]);
            else
                assert_int_equal(sqlite3_column_int64(st, k), want_ph[i][k]);
        /* the bound's kind: text, or NULL where there is none */
        if (i == 0)
            assert_string_equal(col_text(st, 9), "lp");
        else
            assert_int_equal(sqlite3_column_type(st, 9), SQLITE_NULL);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    /* links */
    st = raw_query(s,
                   "SELECT run_id, link, kind, src, dst, gbps, bytes, busy_ns, max_queue_bytes, "
                   "drops, ecn_marks, trims, pause_ns FROM links ORDER BY rowid",
                   0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 1);
    assert_int_equal(sqlite3_column_int64(st, 1), 0);
    assert_string_equal(col_text(st, 2), "host_up");
    assert_string_equal(col_text(st, 3), "h0");
    assert_string_equal(col_text(st, 4), "l0");
    assert_true(sqlite3_column_double(st, 5) == 100.0);
    assert_int_equal(sqlite3_column_int64(st, 6), 1048576);
    assert_int_equal(sqlite3_column_int64(st, 7), 83886080);
    assert_int_equal(sqlite3_column_int64(st, 8), 8192);
    assert_int_equal(sqlite3_column_int64(st, 9), 0);
    assert_int_equal(sqlite3_column_int64(st, 10), 3);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 1), 17);
    assert_string_equal(col_text(st, 2), "spine_down");
    assert_string_equal(col_text(st, 3), "s3");
    assert_string_equal(col_text(st, 4), "l1");
    assert_true(sqlite3_column_double(st, 5) == 400.5);
    assert_int_equal(sqlite3_column_int64(st, 6), 42);
    assert_int_equal(sqlite3_column_int64(st, 7), 2); /* 1500 ps rounds to 2 ns */
    assert_int_equal(sqlite3_column_int64(st, 9), 5);
    assert_int_equal(sqlite3_column_int64(st, 11), 6);
    assert_int_equal(sqlite3_column_int64(st, 12), 2600); /* ns */
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(s);
}

/* PRAGMA journal_mode as s sees it. */
static void expect_journal(sqlite3 *s, const char *want)
{
    sqlite3_stmt *st = raw_query(s, "PRAGMA journal_mode", 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(col_text(st, 0), want);
    sqlite3_finalize(st);
}

static int file_exists(const char *path, const char *suffix)
{
    char buf[300];
    snprintf(buf, sizeof buf, "%s%s", path, suffix);
    struct stat sb;
    return stat(buf, &sb) == 0;
}

/* The file is in WAL mode while a writer has it open, and back in rollback
 * mode, with no -wal or -shm beside it, once the last writer closed. */
static void test_schema_meta_wal_indexes(void **state)
{
    (void)state;
    const char *path = in_tmp("schema.db");
    struct res_db *db = open_ok(path);
    sqlite3 *s = raw_open(path);
    expect_journal(s, "wal");
    sqlite3_close(s);
    res_close(db);
    assert_false(file_exists(path, "-wal"));
    assert_false(file_exists(path, "-shm"));
    s = raw_open(path);
    sqlite3_stmt *st = raw_query(s, "SELECT value FROM meta WHERE key = 'schema_version'", 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(col_text(st, 0), "6");
    sqlite3_finalize(st);
    expect_journal(s, "delete");
    assert_int_equal(raw_int(s,
                             "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                             "name IN ('params_run', 'phases_run', 'links_run', 'flows_run',"
                             " 'timeseries_run', 'gpu_load_run')",
                             0),
                     6);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM pragma_table_info('runs')", 0), 12);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM pragma_table_info('phases')", 0), 10);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM pragma_table_info('links')", 0), 13);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM pragma_table_info('flows')", 0), 11);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM pragma_table_info('timeseries')", 0), 5);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM pragma_table_info('gpu_load')", 0), 4);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM pragma_table_info('inputs')", 0), 5);
    sqlite3_close(s);
}

/* Two writers on one file: the first to close leaves it in WAL mode (the
 * other still has it open, the switch would need it alone), the second
 * switches it back; a writer reopening it goes to WAL again and its runs are
 * all there. */
static void test_last_writer_leaves_rollback_mode(void **state)
{
    (void)state;
    const char *path = in_tmp("two.db");
    struct cfg c;
    cfg_defaults(&c);
    struct res_db *a = open_ok(path), *b = open_ok(path);
    begin_ok(a, &c, "a");
    begin_ok(b, &c, "b");
    res_close(a);
    sqlite3 *s = raw_open(path);
    expect_journal(s, "wal");
    sqlite3_close(s);
    assert_true(file_exists(path, "-wal"));
    res_close(b);
    assert_false(file_exists(path, "-wal"));
    assert_false(file_exists(path, "-shm"));
    a = open_ok(path);
    s = raw_open(path);
    expect_journal(s, "wal");
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs", 0), 2);
    sqlite3_close(s);
    res_close(a);
}

/* A version-1 file (as moesim 0.1.0 wrote it) is migrated in place: the new
 * tables, columns and indexes appear, the version becomes 6, the old rows
 * stay. */
/* flows.cnps came within version 6: a version-6 file whose flows table
 * lacks it gains it (res_added); its old rows read NULL, a row with
 * RES_NO_COUNT is NULL, a count is itself. */
static void test_flows_cnps_added(void **state)
{
    (void)state;
    const char *path = in_tmp("v6.db");
    struct res_db *db = open_ok(path);
    res_close(db);
    sqlite3 *s = raw_open(path);
    raw_exec(s, "ALTER TABLE flows DROP COLUMN cnps;"
                "INSERT INTO flows (run_id, flow, bytes) VALUES (1, 0, 10);");
    assert_int_equal(
        raw_int(s, "SELECT count(*) FROM pragma_table_info('flows') WHERE name = 'cnps'", 0), 0);
    sqlite3_close(s);
    db = open_ok(path);
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "x.ini");
    struct res_flow fl[2] = {{0, 1, 2, 4096, 1000, 9000, {0, 0, 0, RES_NO_COUNT}},
                             {1, 2, 1, 4096, 1000, 9000, {0, 0, 0, 7}}};
    struct res_run r = {.engine = "packet", .flows = fl, .nflows = 2};
    struct err e = {""};
    assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    res_close(db);
    s = raw_open(path);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM flows WHERE cnps IS NULL", 0), 2);
    assert_int_equal(raw_int(s, "SELECT cnps FROM flows WHERE flow = 1 AND run_id = ?", id), 7);
    assert_int_equal(raw_int(s, "SELECT value FROM meta WHERE key = 'schema_version'", 0), 6);
    sqlite3_close(s);
}

static void test_migrate_from_v1(void **state)
{
    (void)state;
    const char *path = in_tmp("v1.db");
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    raw_exec(s, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, scenario TEXT, status TEXT,"
                " started_at TEXT, finished_at TEXT, seed INTEGER, engine TEXT, wall_s REAL,"
                " events INTEGER, sim_ns INTEGER, version TEXT, message TEXT);"
                "CREATE TABLE params (run_id INTEGER, key TEXT, value TEXT);"
                "CREATE TABLE phases (run_id INTEGER, iter INTEGER, layer INTEGER,"
                " phase TEXT, start_ns INTEGER, end_ns INTEGER, cct_ns INTEGER, ideal_ns INTEGER,"
                " bytes INTEGER);"
                "CREATE TABLE links (run_id INTEGER, link INTEGER, kind TEXT, src TEXT,"
                " dst TEXT, gbps REAL, bytes INTEGER, busy_ns INTEGER, max_queue_bytes INTEGER,"
                " drops INTEGER, ecn_marks INTEGER);"
                "INSERT INTO meta VALUES ('schema_version', '1');"
                "INSERT INTO runs (id, status) VALUES (7, 'done');"
                "INSERT INTO phases (run_id, phase, cct_ns) VALUES (7, 'alltoall', 1234);");
    sqlite3_close(s);
    struct res_db *db = open_ok(path);
    struct res_flow fl = {3, 1, 2, 4096, 1000, 9000, {8192, 1, 2, 5}};
    struct res_sample sm = {5000, 4, 1500, 64};
    struct res_gpu_load gl = {1, 2, 300};
    struct res_trace_use tu = {17, 3};
    struct res_note no[2] = {{"placement.ilp_status", "optimal"}, {"placement.ilp_gap", "0"}};
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "x.ini");
    assert_int_equal(id, 8);
    struct res_run r = {.engine = "packet",
                        .flows = &fl,
                        .nflows = 1,
                        .samples = &sm,
                        .nsamples = 1,
                        .gpu_load = &gl,
                        .ngpu_load = 1,
                        .trace_use = &tu,
                        .ntrace_use = 1,
                        .notes = no,
                        .nnotes = 2};
    struct err e = {""};
    assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    res_close(db);
    s = raw_open(path);
    assert_int_equal(
        raw_int(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'", 0), 6);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM meta", 0), 1);
    assert_int_equal(raw_int(s, "SELECT cct_ns FROM phases WHERE run_id = 7", 0), 1234);
    /* version 5's column, NULL in the old row */
    assert_int_equal(raw_int(s, "SELECT ideal_kind IS NULL FROM phases WHERE run_id = 7", 0), 1);
    assert_int_equal(raw_int(s,
                             "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                             " AND name NOT LIKE 'sqlite_%'",
                             0),
                     10); /* tasks_run came with version 5 */
    assert_int_equal(
        raw_int(s, "SELECT flow + 10 * src + 100 * dst FROM flows WHERE run_id = 8", 0), 213);
    assert_int_equal(raw_int(s, "SELECT bytes FROM flows", 0), 4096);
    /* version 6's columns: the flows table (new here) has them, and links
     * (of version 1) gained them by ALTER TABLE */
    assert_int_equal(raw_int(s, "SELECT retx_bytes * 100 + timeouts * 10 + nacks FROM flows", 0),
                     819212);
    assert_int_equal(raw_int(s, "SELECT cnps FROM flows", 0), 5);
    assert_int_equal(raw_int(s,
                             "SELECT count(*) FROM pragma_table_info('links')"
                             " WHERE name IN ('trims', 'pause_ns')",
                             0),
                     2);
    assert_int_equal(raw_int(s, "SELECT end_ns - start_ns FROM flows", 0), 8);
    assert_int_equal(raw_int(s, "SELECT t_ns FROM timeseries", 0), 5);
    assert_int_equal(
        raw_int(s, "SELECT link * 100000 + bytes * 10 + queue_bytes FROM timeseries", 0),
        400000 + 15000 + 64);
    assert_int_equal(raw_int(s, "SELECT layer * 10000 + gpu * 1000 + tokens FROM gpu_load", 0),
                     12300);
    assert_int_equal(raw_int(s, "SELECT token * 100 + uses FROM trace_use WHERE run_id = 8", 0),
                     1703);
    /* a database of schema 1 gains the notes table too */
    assert_int_equal(raw_int(s,
                             "SELECT count(*) FROM notes WHERE run_id = 8 AND ((key ="
                             " 'placement.ilp_status' AND value = 'optimal') OR (key ="
                             " 'placement.ilp_gap' AND value = '0'))",
                             0),
                     2);
    sqlite3_close(s);
}

static void test_failed_run(void **state)
{
    (void)state;
    const char *path = in_tmp("failed.db");
    struct res_db *db = open_ok(path);
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "f.ini");
    struct err e = {""};
    assert_int_equal(res_run_fail(db, id, "engine: out of buffer space", &e), 0);
    /* a failed run can neither finish nor fail again */
    struct res_run r = run2();
    assert_int_equal(res_run_finish(db, id, &r, &e), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: run 1 is not a running run", path);
    assert_string_equal(e.msg, want);
    assert_int_equal(res_run_fail(db, id, "again", &e), -1);
    assert_string_equal(e.msg, want);
    res_close(db);

    sqlite3 *s = raw_open(path);
    sqlite3_stmt *st =
        raw_query(s, "SELECT status, message, finished_at FROM runs WHERE id = ?", id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(col_text(st, 0), "failed");
    assert_string_equal(col_text(st, 1), "engine: out of buffer space");
    assert_iso_utc(col_text(st, 2));
    sqlite3_finalize(st);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM phases", 0), 0);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM links", 0), 0);
    sqlite3_close(s);
}

static void test_unfinished_run_stays_running(void **state)
{
    (void)state;
    const char *path = in_tmp("crash.db");
    struct res_db *db = open_ok(path);
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "crash.ini");
    res_close(db); /* as if the process died mid-run */

    sqlite3 *s = raw_open(path);
    sqlite3_stmt *st = raw_query(
        s, "SELECT status, finished_at, wall_s, events, sim_ns FROM runs WHERE id = ?", id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(col_text(st, 0), "running");
    for (int k = 1; k < 5; k++)
        assert_int_equal(sqlite3_column_type(st, k), SQLITE_NULL);
    sqlite3_finalize(st);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM params WHERE run_id = ?", id),
                     (int64_t)opt_count);
    sqlite3_close(s);
}

static void test_finish_failure_rolls_back(void **state)
{
    (void)state;
    const char *path = in_tmp("rollback.db");
    struct res_db *db = open_ok(path);
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "r.ini");
    struct res_phase ph[2] = {phases2[0], phases2[1]};
    ph[1].bytes = UINT64_MAX; /* does not fit SQLite's signed integers */
    struct res_run r = run2();
    r.phases = ph;
    struct err e = {""};
    assert_int_equal(res_run_finish(db, id, &r, &e), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: run 1: phase 1: a value is beyond 2^63-1", path);
    assert_string_equal(e.msg, want);
    /* unknown run id */
    assert_int_equal(res_run_finish(db, 77, &r, &e), -1);
    snprintf(want, sizeof want, "%s: run 77 is not a running run", path);
    assert_string_equal(e.msg, want);
    /* the database is still usable: the run can still finish */
    r.phases = phases2;
    assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    res_close(db);

    sqlite3 *s = raw_open(path);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM phases", 0), 2);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM links", 0), 2);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs WHERE status = 'done'", 0), 1);
    sqlite3_close(s);
}

static void test_rollback_leaves_run_running(void **state)
{
    (void)state;
    const char *path = in_tmp("rb2.db");
    struct res_db *db = open_ok(path);
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "r.ini");
    struct res_link l[1] = {links2[0]};
    l[0].st.drops = (uint64_t)INT64_MAX + 1;
    struct res_run r = run2();
    r.links = l;
    r.nlinks = 1;
    struct err e = {""};
    assert_int_equal(res_run_finish(db, id, &r, &e), -1);
    res_close(db);
    sqlite3 *s = raw_open(path);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs WHERE status = 'running'", 0), 1);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM phases", 0), 0);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM links", 0), 0);
    sqlite3_close(s);
}

/* An SQLite error in the middle of a run's rows: its message comes through,
 * and nothing of the run's rows stays. */
static void test_sqlite_error_mid_run(void **state)
{
    (void)state;
    const char *path = in_tmp("trigger.db");
    struct res_db *db = open_ok(path);
    sqlite3 *s = raw_open(path);
    raw_exec(s, "CREATE TRIGGER no_links BEFORE INSERT ON links BEGIN SELECT RAISE(ABORT, "
                "'boom'); END");
    sqlite3_close(s);
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "t.ini");
    struct res_run r = run2();
    struct err e = {""};
    assert_int_equal(res_run_finish(db, id, &r, &e), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: run 1: cannot record link 0: boom", path);
    assert_string_equal(e.msg, want);
    res_close(db);
    s = raw_open(path);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs WHERE status = 'running'", 0), 1);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM phases", 0), 0);
    sqlite3_close(s);
}

static void test_reopen_preserves_runs(void **state)
{
    (void)state;
    const char *path = in_tmp("reopen.db");
    struct cfg c;
    cfg_defaults(&c);
    struct res_run r = run2();
    struct err e = {""};
    struct res_db *db = open_ok(path);
    assert_int_equal(begin_ok(db, &c, "one.ini"), 1);
    assert_int_equal(res_run_finish(db, 1, &r, &e), 0);
    assert_int_equal(begin_ok(db, &c, "two.ini"), 2);
    res_close(db);
    db = open_ok(path);
    assert_int_equal(begin_ok(db, &c, NULL), 3);
    res_close(db);

    sqlite3 *s = raw_open(path);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs", 0), 3);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs WHERE id = 1 AND status = 'done'", 0),
                     1);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs WHERE id = 2 AND status = 'running'", 0),
                     1);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM runs WHERE id = 3 AND scenario = ''", 0), 1);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM phases WHERE run_id = 1", 0), 2);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM params", 0), 3 * (int64_t)opt_count);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM meta", 0), 1);
    sqlite3_close(s);
}

static void expect_open_error(const char *path, const char *tail)
{
    struct res_db *db = (struct res_db *)1;
    struct err e = {""};
    assert_int_equal(res_open(path, &db, &e), -1);
    assert_null(db);
    char want[512];
    snprintf(want, sizeof want, "%s: %s", path, tail);
    assert_string_equal(e.msg, want);
}

static void test_foreign_files_rejected(void **state)
{
    (void)state;
    const char *other = in_tmp("other.db");
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(other, &s), SQLITE_OK);
    raw_exec(s, "CREATE TABLE foo (x INTEGER); INSERT INTO foo VALUES (1)");
    sqlite3_close(s);
    expect_open_error(other, "not a moesim results database (it has tables but no meta table)");
    /* it was left alone: no moesim tables, not switched to WAL */
    s = raw_open(other);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM sqlite_master", 0), 1);
    sqlite3_close(s);

    const char *text = in_tmp("notes.txt");
    FILE *f = fopen(text, "w");
    assert_non_null(f);
    fputs("this is not a database, just some text that is long enough to matter..........\n", f);
    fclose(f);
    expect_open_error(text, "not a moesim results database: file is not a database");

    const char *newer = in_tmp("newer.db");
    res_close(open_ok(newer));
    s = raw_open(newer);
    raw_exec(s, "UPDATE meta SET value = '7' WHERE key = 'schema_version'");
    sqlite3_close(s);
    expect_open_error(newer,
                      "schema_version 7 is newer than this moesim handles (6); use a newer moesim");
}

static void test_open_errors(void **state)
{
    (void)state;
    const char *file = in_tmp("plain");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    char path[300], want[600];
    snprintf(path, sizeof path, "%s/sub/x.db", file);
    struct res_db *db = NULL;
    struct err e = {""};
    assert_int_equal(res_open(path, &db, &e), -1);
    /* mkdir of FILE fails with EEXIST (ignored), then FILE/sub with ENOTDIR */
    snprintf(want, sizeof want, "%s: cannot create directory %s/sub: Not a directory", path, file);
    assert_string_equal(e.msg, want);

    /* an empty file is an empty database: it becomes a moesim one */
    const char *empty = in_tmp("empty.db");
    f = fopen(empty, "w");
    fclose(f);
    res_close(open_ok(empty));
}

static void test_many_phases(void **state)
{
    (void)state;
    const char *path = in_tmp("many.db");
    size_t n = 100000;
    struct res_phase *ph = calloc(n, sizeof *ph);
    for (size_t i = 0; i < n; i++) {
        ph[i] = (struct res_phase){.iter = (uint32_t)(i / 32),
                                   .layer = (uint32_t)(i % 32),
                                   .phase = i % 2 ? "combine" : "dispatch",
                                   .start_ps = i * 1000,
                                   .end_ps = i * 1000 + 5000,
                                   .bytes = i};
    }
    struct res_db *db = open_ok(path);
    struct cfg c;
    cfg_defaults(&c);
    int64_t id = begin_ok(db, &c, "many.ini");
    struct res_run r = {.engine = "packet", .phases = ph, .nphases = n};
    struct err e = {""};
    assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    res_close(db);
    free(ph);
    sqlite3 *s = raw_open(path);
    assert_int_equal(raw_int(s, "SELECT count(*) FROM phases WHERE run_id = ?", id), (int64_t)n);
    assert_int_equal(raw_int(s, "SELECT sum(cct_ns) FROM phases", 0), 5 * (int64_t)n);
    sqlite3_close(s);
}

/* ---- CSV ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_csv_exact(void **state)
{
    (void)state;
    const char *path = in_tmp("phases.csv");
    struct res_run r = run2();
    struct err e = {""};
    assert_int_equal(res_csv_phases(path, 4, &r, 0, &e), 0);
    const char *one = "run_id,iter,layer,phase,start_ns,end_ns,cct_ns,ideal_ns,bytes\n"
                      "4,0,0,\"alltoall\",1,1240001,1240000,1200000,16777216\n"
                      "4,1,7,\"combine\",2000000,2000000,0,0,0\n";
    assert_string_equal(slurp(path), one);

    struct res_phase odd = {.iter = 2,
                            .layer = 3,
                            .phase = "we\"ird,name",
                            .start_ps = 0,
                            .end_ps = 999,
                            .ideal_ps = 500,
                            .bytes = 1};
    struct res_run r2 = {.phases = &odd, .nphases = 1};
    assert_int_equal(res_csv_phases(path, 5, &r2, 1, &e), 0);
    char want[1024];
    snprintf(want, sizeof want, "%s5,2,3,\"we\"\"ird,name\",0,1,1,1,1\n", one);
    assert_string_equal(slurp(path), want);

    /* without append the file starts over */
    assert_int_equal(res_csv_phases(path, 4, &r, 0, &e), 0);
    assert_string_equal(slurp(path), one);

    /* appending to a file that does not exist yet writes the header */
    const char *fresh = in_tmp("fresh.csv");
    assert_int_equal(res_csv_phases(fresh, 4, &r, 1, &e), 0);
    assert_string_equal(slurp(fresh), one);
}

static void test_csv_errors(void **state)
{
    (void)state;
    struct res_run r = run2();
    struct err e = {""};
    /* a missing folder is created, as the database's is */
    char path[512];
    snprintf(path, sizeof path, "%s", in_tmp("no/such/dir/p.csv"));
    assert_int_equal(res_csv_phases(path, 1, &r, 0, &e), 0);
    assert_int_equal(access(path, R_OK), 0);
    /* a folder on the way that is a regular file */
    snprintf(path, sizeof path, "%s", in_tmp("no/such/dir/p.csv/q.csv"));
    assert_int_equal(res_csv_phases(path, 1, &r, 0, &e), -1);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot open: Not a directory", path);
    assert_string_equal(e.msg, want);
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(res_csv_phases("/dev/full", 1, &r, 0, &e), -1);
        assert_string_equal(e.msg, "/dev/full: cannot write: No space left on device");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_begin_finish_every_column, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_schema_meta_wal_indexes, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_last_writer_leaves_rollback_mode, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_flows_cnps_added, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_failed_run, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_unfinished_run_stays_running, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_finish_failure_rolls_back, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_run_running, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_sqlite_error_mid_run, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_reopen_preserves_runs, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_foreign_files_rejected, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open_errors, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_many_phases, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_csv_exact, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_csv_errors, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests_name("results", tests, NULL, NULL);
}
