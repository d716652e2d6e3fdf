/* test_sweep.c - what the sweep machinery rests on: result blobs
 * (results/blob.c) survive the trip from worker to writer intact and a blob
 * cut short anywhere is refused; the done set (results/resume.c) matches a
 * configuration exactly when every parameter but the output paths is equal
 * and every input file has the same contents. */
#include "testutil.h"

#include <sqlite3.h>

#include "results/res.h"

static const struct res_phase ph[2] = {
    {0, 0, "dispatch", 5, 900, 700, 4096, "cut"},
    {1, 3, "combine", 900, 1800, 0, 0, NULL},
};
static const struct res_flow fl[2] = {{0, 1, 2, 4096, 5, 800, {0, 0, 0, 0}},
                                      {1, 2, 1, 10, 6, 7, {4096, 1, 3, 0}}};
static const struct res_sample sm[1] = {{1000, 3, 4000, 12}};
static const struct res_gpu_load gl[1] = {{3, 7, 123}};
static const struct res_trace_use tu[2] = {{5, 2}, {6, 0}};
static const struct res_note no[2] = {{"placement.ilp_status", "feasible"},
                                      {"placement.ilp_gap", "0.0125"}};
static const struct res_task tk[2] = {
    {0, 0, 0, 1, 0, "dispatch", RES_TASK_NETWORK, RES_PASS_FORWARD, 1, 5, 900},
    {1, 1, 3, 0, 0, "combine", RES_TASK_NETWORK, RES_PASS_BACKWARD, 0, 900, 1800},
};

static struct res_run sample_run(struct res_link *l)
{
    memset(l, 0, sizeof *l);
    l->link = 4;
    l->kind = "leaf_up";
    strcpy(l->src, "leaf0");
    strcpy(l->dst, "spine1");
    l->gbps = 400;
    l->st = (struct res_port_stats){
        .bytes = 99, .busy_ps = 77, .max_queue_bytes = 5, .drops = 1, .ecn_marks = 2};
    return (struct res_run){"packet", 42, 0.125, 1000, 1800, ph, 2,  l, 1,  fl, 2,
                            sm,       1,  gl,    1,    tu,   2,  no, 2, tk, 2};
}

static void test_blob_round_trip(void **state)
{
    (void)state;
    struct res_link l;
    struct res_run r = sample_run(&l);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(res_blob_write(f, 0, "", &r), 0);
    fclose(f);
    f = fmemopen(buf, len, "rb");
    struct res_blob b;
    struct err e;
    assert_int_equal(res_blob_read(f, &b, &e), 0);
    fclose(f);
    assert_int_equal(b.rc, 0);
    assert_string_equal(b.run.engine, "packet");
    assert_int_equal(b.run.seed, 42);
    assert_true(b.run.wall_s == 0.125);
    assert_int_equal(b.run.events, 1000);
    assert_int_equal(b.run.sim_ps, 1800);
    assert_int_equal(b.run.nphases, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(b.run.phases[i].phase, ph[i].phase);
        assert_int_equal(b.run.phases[i].iter, ph[i].iter);
        assert_int_equal(b.run.phases[i].layer, ph[i].layer);
        assert_int_equal(b.run.phases[i].start_ps, ph[i].start_ps);
        assert_int_equal(b.run.phases[i].end_ps, ph[i].end_ps);
        assert_int_equal(b.run.phases[i].ideal_ps, ph[i].ideal_ps);
        assert_int_equal(b.run.phases[i].bytes, ph[i].bytes);
    }
    assert_int_equal(b.run.nlinks, 1);
    assert_string_equal(b.run.links[0].kind, "leaf_up");
    assert_string_equal(b.run.links[0].src, "leaf0");
    assert_string_equal(b.run.links[0].dst, "spine1");
    assert_memory_equal(&b.run.links[0].gbps, &l.gbps, sizeof l.gbps);
    assert_int_equal(b.run.links[0].st.bytes + b.run.links[0].st.busy_ps + b.run.links[0].st.drops,
                     177);
    assert_int_equal(b.run.nflows, 2);
    assert_memory_equal(b.run.flows, fl, sizeof fl);
    assert_int_equal(b.run.nsamples, 1);
    assert_memory_equal(b.run.samples, sm, sizeof sm);
    assert_int_equal(b.run.ngpu_load, 1);
    assert_memory_equal(b.run.gpu_load, gl, sizeof gl);
    assert_int_equal(b.run.ntasks, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(b.run.tasks[i].phase, tk[i].phase);
        assert_int_equal(b.run.tasks[i].layer, tk[i].layer);
        assert_int_equal(b.run.tasks[i].chunk, tk[i].chunk);
        assert_int_equal(b.run.tasks[i].pass, tk[i].pass);
        assert_int_equal(b.run.tasks[i].critical, tk[i].critical);
        assert_int_equal(b.run.tasks[i].end_ps, tk[i].end_ps);
    }
    assert_int_equal(b.run.ntrace_use, 2);
    assert_memory_equal(b.run.trace_use, tu, sizeof tu);
    assert_int_equal(b.run.nnotes, 2);
    assert_string_equal(b.run.notes[1].key, "placement.ilp_gap");
    assert_string_equal(b.run.notes[1].value, "0.0125");
    res_blob_free(&b);

    /* every proper prefix (a worker that died while writing) is refused */
    for (size_t cut = 0; cut < len; cut++) {
        f = fmemopen(buf, cut ? cut : 1, "rb");
        if (cut == 0) fgetc(f);
        assert_int_equal(res_blob_read(f, &b, &e), -1);
        assert_string_equal(e.msg, "the worker's result is incomplete or corrupt");
        fclose(f);
    }
    free(buf);
}

static void test_blob_failed_run(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(res_blob_write(f, 2, "workload.kind: 'moe' is not available", NULL), 0);
    fclose(f);
    f = fmemopen(buf, len, "rb");
    struct res_blob b;
    struct err e;
    assert_int_equal(res_blob_read(f, &b, &e), 0);
    fclose(f);
    assert_int_equal(b.rc, 2);
    assert_string_equal(b.msg, "workload.kind: 'moe' is not available");
    assert_int_equal(b.run.nphases + b.run.nlinks + b.run.nflows, 0);
    res_blob_free(&b);
    free(buf);
}

static void test_doneset(void **state)
{
    (void)state;
    char dir[] = "/tmp/moesim_sweep_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/d.out.db", dir);
    struct res_db *db;
    struct err e;
    assert_int_equal(res_open(path, &db, &e), 0);
    struct cfg a, b, c;
    cfg_defaults(&a);
    b = a;
    b.sim.seed = 2;
    c = a;
    c.topo.host_gbps = 400;
    int64_t id;
    struct res_run r = {.engine = "packet"};
    assert_int_equal(tu_run_begin(db, &a, "x", &id, &e), 0); /* done */
    assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    assert_int_equal(tu_run_begin(db, &b, "x", &id, &e), 0); /* failed */
    assert_int_equal(res_run_fail(db, id, "x", &e), 0);
    assert_int_equal(tu_run_begin(db, &c, "x", &id, &e), 0); /* running */
    struct res_doneset *s;
    assert_int_equal(res_doneset_load(db, &s, &e), 0);
    assert_int_equal(res_doneset_count(s), 1);
    assert_true(tu_doneset_has(s, &a));
    assert_false(tu_doneset_has(s, &b));
    assert_false(tu_doneset_has(s, &c));
    struct cfg d = a;
    d.wl.dedup = !d.wl.dedup; /* any simulated parameter counts */
    assert_false(tu_doneset_has(s, &d));
    d = a; /* where the results go does not */
    snprintf(d.out.csv, sizeof d.out.csv, "out.csv");
    snprintf(d.out.db, sizeof d.out.db, "/elsewhere/copy.db");
    assert_true(tu_doneset_has(s, &d));
    res_doneset_free(s);
    res_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Input files count by their contents: the inputs table holds each one's
 * size and XXH3-64; the same file under another path is the same run, a file
 * rewritten under the same path is another, and one that cannot be read
 * matches no done run. */
static void test_doneset_inputs(void **state)
{
    (void)state;
    char dir[] = "/tmp/moesim_sweep_XXXXXX", path[64], tr[64], tr2[64], cal[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/d.db", dir);
    snprintf(tr, sizeof tr, "%s/t.csv", dir);
    snprintf(tr2, sizeof tr2, "%s/t2.csv", dir);
    snprintf(cal, sizeof cal, "%s/c.csv", dir);
    write_file(tr, "abc");
    write_file(tr2, "abc");
    write_file(cal, "tokens,us\n1,10\n");
    struct res_db *db;
    struct err e;
    assert_int_equal(res_open(path, &db, &e), 0);
    struct cfg a;
    cfg_defaults(&a);
    snprintf(a.wl.trace, sizeof a.wl.trace, "%s", tr);
    snprintf(a.wl.compute, sizeof a.wl.compute, "%s", cal);
    int64_t id;
    struct res_run r = {.engine = "packet"};
    assert_int_equal(tu_run_begin(db, &a, "x", &id, &e), 0);
    assert_int_equal(res_run_finish(db, id, &r, &e), 0);
    res_close(db);

    sqlite3 *q;
    assert_int_equal(sqlite3_open(path, &q), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(q,
                                        "SELECT run_id, key, path, bytes, xxh3 FROM inputs"
                                        " ORDER BY key",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), id);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "workload.compute");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), cal);
    assert_int_equal(sqlite3_column_int64(st, 3), 15);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "workload.trace");
    assert_int_equal(sqlite3_column_int64(st, 3), 3);
    /* XXH3-64 of "abc", the published test vector */
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "78af5f94892f3950");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(q);

    assert_int_equal(res_open(path, &db, &e), 0);
    struct res_doneset *s;
    assert_int_equal(res_doneset_load(db, &s, &e), 0);
    assert_true(tu_doneset_has(s, &a));
    struct cfg b = a; /* the same contents under another path */
    snprintf(b.wl.trace, sizeof b.wl.trace, "%s", tr2);
    assert_true(tu_doneset_has(s, &b));
    write_file(tr, "abd"); /* regenerated under the same path */
    assert_false(tu_doneset_has(s, &a));
    write_file(tr, "abc");
    assert_true(tu_doneset_has(s, &a));
    write_file(cal, "tokens,us\n1,11\n"); /* a new calibration */
    assert_false(tu_doneset_has(s, &a));
    write_file(cal, "tokens,us\n1,10\n");
    assert_true(tu_doneset_has(s, &a));
    assert_int_equal(unlink(tr2), 0); /* unreadable: not taken for done */
    assert_false(tu_doneset_has(s, &b));
    struct cfg c = a; /* roofline: no calibration file */
    snprintf(c.wl.compute, sizeof c.wl.compute, "roofline");
    assert_false(tu_doneset_has(s, &c));
    res_doneset_free(s);
    res_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_round_trip),
        cmocka_unit_test(test_blob_failed_run),
        cmocka_unit_test(test_doneset),
        cmocka_unit_test(test_doneset_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
