/* test_invariants.c - the engine's end-of-run invariants (eng_check) and what
 * `moesim run` does when one fails: the run is recorded `failed` with the
 * invariant's message, the sweep goes on. A test-only hook (eng_test_hook,
 * eng.h) breaks one invariant at the end of a run on purpose; runs go
 * through a forked worker, which inherits the hook (so the hook keeps no
 * count the test could read back). */
#include "testutil.h"

#include <sqlite3.h>

#include "app/cli.h"
#include "sim/eng.h"
#include "topo/topo.h"

static char dir[64];
static char dbpath[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/moesim_inv_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/r.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    eng_test_hook = NULL;
    char p[160];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
    return rmdir(dir);
}

/* moesim run scenarios/alltoall.ini (16 hosts, single path) with the given
 * workload.bytes (64 KiB: 15728640 bytes in all) into dbpath; returns the
 * exit status. */
static int run_cli(const char *bytes)
{
    char set[64];
    snprintf(set, sizeof set, "workload.bytes=%s", bytes);
    char *argv[] = {"run",   "scenarios/alltoall.ini", "--db",   dbpath, "--set", set,
                    "--set", "transport.path=ecmp",    "--quiet"};
    return cmd_run((int)(sizeof argv / sizeof argv[0]), argv);
}

/* status and message of run id */
static void run_row(int64_t id, char *status, char *message, size_t n)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT status, coalesce(message, '') FROM runs WHERE id = ?", -1,
                           &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(status, n, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(message, n, "%s", (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void hook_past(struct eng_stats *st)
{
    st->past_events++;
}

static void hook_bytes(struct eng_stats *st)
{
    st->data_bytes_delivered--;
}

static void hook_underflow(struct eng_stats *st)
{
    st->underflows += 2;
}

static void hook_msgs(struct eng_stats *st)
{
    st->msgs_done--;
}

/* Breaks the 64 KiB run only. */
static void hook_first_only(struct eng_stats *st)
{
    if (st->data_bytes_sent == 15728640) st->past_events = 3;
}

static void expect_failed(void (*hook)(struct eng_stats *), const char *message)
{
    eng_test_hook = hook;
    assert_int_equal(run_cli("65536"), 1);
    eng_test_hook = NULL;
    char status[512], msg[512];
    run_row(1, status, msg, sizeof status);
    assert_string_equal(status, "failed");
    assert_string_equal(msg, message);
}

static void test_past_event_fails_run(void **state)
{
    (void)state;
    expect_failed(hook_past, "invariant: 1 events were scheduled in the past, in the alltoall "
                             "phase of iteration 0, layer 0");
}

static void test_lost_byte_fails_run(void **state)
{
    (void)state;
    /* 240 pairs x 65536 bytes */
    expect_failed(hook_bytes, "invariant: 15728640 data bytes sent but 15728639 delivered, in the "
                              "alltoall phase of iteration 0, layer 0");
}

static void test_underflow_fails_run(void **state)
{
    (void)state;
    expect_failed(hook_underflow,
                  "invariant: 2 counters (bytes in flight, flows or messages left) went "
                  "below zero, in the alltoall phase of iteration 0, layer 0");
}

static void test_unfinished_message_fails_run(void **state)
{
    (void)state;
    expect_failed(hook_msgs,
                  "invariant: 1 of 240 messages unfinished when no event was left "
                  "(every flow finished), in the alltoall phase of iteration 0, layer 0");
}

static void test_sweep_goes_on_after_failure(void **state)
{
    (void)state;
    eng_test_hook = hook_first_only;
    assert_int_equal(run_cli("65536,131072"), 1);
    eng_test_hook = NULL;
    char status[512], msg[512];
    run_row(1, status, msg, sizeof status);
    assert_string_equal(status, "failed");
    assert_string_equal(msg, "invariant: 3 events were scheduled in the past, in the alltoall "
                             "phase of iteration 0, layer 0");
    run_row(2, status, msg, sizeof status);
    assert_string_equal(status, "done");
    assert_string_equal(msg, "");
}

static void test_clean_run_is_done(void **state)
{
    (void)state;
    assert_int_equal(run_cli("65536"), 0);
    char status[512], msg[512];
    run_row(1, status, msg, sizeof status);
    assert_string_equal(status, "done");
}

/* Straight on the engine: a message that never ran is reported with the
 * state of its flow. */
static void test_unfinished_flow_named(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct eng_hooks h = {0};
    struct eng *eng = eng_create(t, &c.tr, (uint64_t)c.sim.seed, &h);
    eng_add_msg(eng, 0, 5, 10000, 1000, 7);
    char msg[512];
    assert_int_equal(eng_check(eng, msg, sizeof msg), -1);
    assert_string_equal(msg, "invariant: 1 of 1 messages unfinished when no event was left (flow "
                             "0 h0->h5: 0 of 10000 bytes delivered, 0 acknowledged, 0 in flight; 1 "
                             "flow unfinished)");
    eng_run(eng);
    assert_int_equal(eng_check(eng, msg, sizeof msg), 0);
    assert_int_equal(eng_stats(eng)->past_events, 0);
    assert_int_equal(eng_stats(eng)->underflows, 0);
    eng_destroy(eng);
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_past_event_fails_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_byte_fails_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_underflow_fails_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unfinished_message_fails_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_goes_on_after_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_run_is_done, setup, teardown),
        cmocka_unit_test(test_unfinished_flow_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
