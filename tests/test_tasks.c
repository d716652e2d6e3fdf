/* test_tasks.c - the tasks rows (sim/exec.h, results/res.h): one per task of
 * the executed graph with the phases row's times, the chunk and pass tags,
 * dependency order kept, each step's critical path a chain without gaps from
 * the step's start to its end (a hand-built graph whose path is known, and
 * MoE steps with chunks, overlap and training), exposed communication at
 * most the network time and equal to it without overlap (and equal to the
 * phases' end-less-compute figure for the MoE workload), the rows through
 * the database, and determinism. */
#include "testutil.h"

#include <sqlite3.h>

#include "app/options.h"
#include "sim/exec.h"
#include "topo/topo.h"

#define EXCERPT "tests/data/mixtral_excerpt.csv"
#define US      PS_PER_US

/* ---- a hand-built graph ---- */

/* A: compute 10 us on GPU 0; B after A: compute 5 us on GPU 0; C after A:
 * compute 20 us on GPU 1; N after A: a network task 0 -> 3; D after B, C
 * and N: compute 1 us on GPU 0. Then a barrier and E: compute 3 us on GPU 2
 * (iteration 1). The critical path of iteration 0 is A, C, D when C outlasts
 * the network task: 31 us; iteration 1's is E alone. */
static void test_known_path(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 2;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct graph *g = graph_create();
    uint64_t A = graph_compute(g, "a", 0, 0, 0, 10 * US);
    uint64_t B = graph_compute(g, "b", 0, 0, 0, 5 * US);
    uint64_t C = graph_compute(g, "c", 0, 0, 1, 20 * US);
    struct topo_demand d = {0, 3, 10000}; /* about 3 us */
    uint64_t N = graph_net(g, "n", 0, 0, &d, 1);
    uint64_t D = graph_compute(g, "d", 0, 0, 0, 1 * US);
    graph_dep(g, B, A); /* also the stream order */
    graph_dep(g, C, A);
    graph_dep(g, N, A);
    graph_dep(g, D, B);
    graph_dep(g, D, C);
    graph_dep(g, D, N);
    graph_tag(g, C, 3, GRAPH_BACKWARD);
    graph_barrier(g);
    graph_compute(g, "e", 1, 0, 2, 3 * US);
    struct exec_opts o = {.tr = &c.tr, .seed = 1, .engine = ENGINE_PACKET, .tasks = 1};
    struct exec_result r;
    assert_int_equal(exec_run(g, NULL, NULL, t, &o, &r, &e), 0);
    assert_int_equal(r.ntasks, 6);
    static const int crit[6] = {1, 0, 1, 0, 1, 1};
    for (size_t i = 0; i < r.ntasks; i++) {
        assert_int_equal(r.tasks[i].task, i);
        assert_int_equal(r.tasks[i].critical, crit[i]);
        assert_int_equal(r.tasks[i].start_ps, r.phases[i].start_ps);
        assert_int_equal(r.tasks[i].end_ps, r.phases[i].end_ps);
    }
    assert_int_equal(r.tasks[N].kind, RES_TASK_NETWORK);
    assert_int_equal(r.tasks[D].kind, RES_TASK_COMPUTE);
    assert_int_equal(r.tasks[C].chunk, 3);
    assert_int_equal(r.tasks[C].pass, RES_PASS_BACKWARD);
    assert_int_equal(r.tasks[A].pass, RES_PASS_FORWARD);
    assert_int_equal(r.tasks[D].end_ps, 31 * US);
    assert_int_equal(r.tasks[5].start_ps, 31 * US);
    /* the network task runs under C: none of it exposed */
    struct res_step_comm sc[2];
    assert_int_equal(res_steps_comm(r.tasks, r.ntasks, sc, 2), 2);
    assert_int_equal(sc[0].iter, 0);
    assert_true(sc[0].net_ps > 0);
    assert_int_equal(sc[0].exposed_ps, 0);
    assert_int_equal(sc[0].end_ps - sc[0].start_ps, 31 * US);
    assert_int_equal(sc[1].net_ps, 0);
    /* tasks off: no rows, the same phases */
    struct exec_result r2;
    graph_destroy(g);
    g = graph_create();
    graph_compute(g, "a", 0, 0, 0, 10 * US);
    o.tasks = 0;
    assert_int_equal(exec_run(g, NULL, NULL, t, &o, &r2, &e), 0);
    assert_int_equal(r2.ntasks, 0);
    assert_null(r2.tasks);
    exec_result_free(&r2);
    exec_result_free(&r);
    graph_destroy(g);
    topo_destroy(t);
}

/* res_steps_comm on intervals by hand: network [0,10) and [5,20), compute
 * [8,12) and [15,30), a delay [0,20) (hides nothing): network time 20,
 * hidden 4 + 5, exposed 11. */
static void test_exposed_by_hand(void **state)
{
    (void)state;
    struct res_task t[6] = {
        {.iter = 4, .kind = RES_TASK_DELAY, .start_ps = 0, .end_ps = 20},
        {.iter = 4, .kind = RES_TASK_COMPUTE, .start_ps = 8, .end_ps = 12},
        {.iter = 4, .kind = RES_TASK_NETWORK, .start_ps = 5, .end_ps = 20},
        {.iter = 4, .kind = RES_TASK_NETWORK, .start_ps = 0, .end_ps = 10},
        {.iter = 4, .kind = RES_TASK_COMPUTE, .start_ps = 15, .end_ps = 30},
        {.iter = 4, .kind = RES_TASK_NETWORK, .start_ps = 7, .end_ps = 7},
    };
    struct res_step_comm sc;
    assert_int_equal(res_steps_comm(t, 6, &sc, 1), 1);
    assert_int_equal(sc.net_ps, 20);
    assert_int_equal(sc.exposed_ps, 11);
    assert_int_equal(sc.start_ps, 0);
    assert_int_equal(sc.end_ps, 30);
}

/* ---- MoE steps ---- */

static struct cfg moecfg(void)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", EXCERPT);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 4;
    c.topo.gpus_per_host = 1;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = 1024;
    c.wl.tokens_per_gpu = 32;
    c.wl.layers = 3;
    c.tr.path = PATH_SPRAY;
    c.pl.train = 0;
    c.sim.iterations = 2;
    return c;
}

static void run(const struct cfg *c, struct topo **t, struct wl_result *r)
{
    struct err e;
    assert_int_equal(topo_build(&c->topo, t, &e), 0);
    struct wl_gen g;
    if (wl_create(TU_SPECS(c), *t, &g, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(wl_drive(&g, *t, TU_SPECS(c), r, &e), 0);
    if (r->run.invariant[0]) fail_msg("%s", r->run.invariant);
    g.destroy(g.state);
}

/* Checks every property of one run's task rows; returns the summed exposed
 * and network time over its steps. */
static void check_rows(const struct cfg *c, const struct wl_result *r, simtime_t *exposed,
                       simtime_t *net)
{
    const struct exec_result *x = &r->run;
    assert_int_equal(x->ntasks, x->nphases);
    uint32_t chunk_seen[4] = {0};
    for (size_t i = 0; i < x->ntasks; i++) {
        const struct res_task *t = &x->tasks[i];
        const struct res_phase *p = &x->phases[i];
        assert_int_equal(t->task, i);
        assert_int_equal(t->iter, p->iter);
        assert_int_equal(t->layer, p->layer);
        assert_string_equal(t->phase, p->phase);
        assert_int_equal(t->start_ps, p->start_ps);
        assert_int_equal(t->end_ps, p->end_ps);
        assert_true(t->start_ps < t->end_ps); /* every task here has bytes or time */
        int compute = !strcmp(p->phase, "compute") || !strcmp(p->phase, "bwd_compute") ||
                      strstr(p->phase, "attention");
        assert_int_equal(t->kind, compute ? RES_TASK_COMPUTE : RES_TASK_NETWORK);
        int bwd = !strncmp(p->phase, "bwd_", 4) || !strncmp(p->phase, "grad_", 5);
        assert_int_equal(t->pass, bwd ? RES_PASS_BACKWARD : RES_PASS_FORWARD);
        assert_int_equal(t->mb, 0);
        assert_true(t->chunk < (uint32_t)c->wl.chunks);
        if (!strcmp(p->phase, "dispatch")) chunk_seen[t->chunk]++;
    }
    /* every chunk of every layer of every iteration */
    for (int k = 0; k < c->wl.chunks; k++)
        assert_int_equal(chunk_seen[k], (uint32_t)(c->wl.layers * c->sim.iterations));
    /* dependency order within a chunk: dispatch, compute, combine */
    for (size_t i = 0; i + 2 < x->ntasks; i++) {
        const struct res_task *d = &x->tasks[i];
        if (strcmp(d->phase, "dispatch") && strcmp(d->phase, "bwd_dispatch")) continue;
        const struct res_task *k = d + 1, *o = d + 2;
        assert_int_equal(k->chunk, d->chunk);
        assert_int_equal(o->chunk, d->chunk);
        assert_true(k->start_ps >= d->end_ps);
        assert_true(o->start_ps >= k->end_ps);
    }
    /* the critical path of each step: a chain in time, without gaps, from
     * the step's first start to its last end */
    size_t ns = res_steps_comm(x->tasks, x->ntasks, NULL, 0);
    assert_int_equal(ns, (size_t)c->sim.iterations);
    struct res_step_comm *sc = xmalloc(ns * sizeof *sc);
    res_steps_comm(x->tasks, x->ntasks, sc, ns);
    *exposed = *net = 0;
    for (size_t s = 0; s < ns; s++) {
        simtime_t sum = 0, at = sc[s].start_ps;
        for (size_t i = 0; i < x->ntasks; i++) {
            const struct res_task *t = &x->tasks[i];
            if (t->iter != sc[s].iter || !t->critical) continue;
            /* tasks on the path are in task order here: each starts as the
             * one before ends (no gap) */
            assert_int_equal(t->start_ps, at);
            at = t->end_ps;
            sum += t->end_ps - t->start_ps;
        }
        assert_int_equal(at, sc[s].end_ps);
        assert_int_equal(sum, sc[s].end_ps - sc[s].start_ps);
        assert_true(sc[s].exposed_ps <= sc[s].net_ps);
        *exposed += sc[s].exposed_ps;
        *net += sc[s].net_ps;
    }
    free(sc);
}

/* Network time (sum of the network rows' durations) and the phases' figure:
 * the run's end less the compute rows' time. */
static void phase_sums(const struct wl_result *r, simtime_t *net_sum, simtime_t *end_less_compute)
{
    simtime_t end = 0, comp = 0, net = 0;
    for (size_t i = 0; i < r->run.nphases; i++) {
        const struct res_phase *p = &r->run.phases[i];
        if (p->end_ps > end) end = p->end_ps;
        if (r->run.tasks[i].kind == RES_TASK_COMPUTE)
            comp += p->end_ps - p->start_ps;
        else
            net += p->end_ps - p->start_ps;
    }
    *net_sum = net;
    *end_less_compute = end - comp;
}

static void test_moe_none(void **state)
{
    (void)state;
    struct cfg c = moecfg();
    c.wl.chunks = 2;
    c.wl.attn_us = 3;
    struct topo *t;
    struct wl_result r;
    run(&c, &t, &r);
    simtime_t exposed, net, net_sum, elc;
    check_rows(&c, &r, &exposed, &net);
    phase_sums(&r, &net_sum, &elc);
    /* without overlap every network task is exposed, and every task is on
     * the critical path (one chain) */
    assert_int_equal(exposed, net);
    assert_int_equal(net, net_sum);
    assert_int_equal(exposed, elc);
    for (size_t i = 0; i < r.run.ntasks; i++)
        assert_int_equal(r.run.tasks[i].critical, 1);
    wl_result_free(&r);
    topo_destroy(t);
}

static void test_moe_overlap_training(void **state)
{
    (void)state;
    struct cfg c = moecfg();
    c.wl.chunks = 4;
    c.wl.overlap = WL_OVERLAP_CHUNKS;
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.attn_us = 2;
    c.wl.dense_bytes = 1 << 20;
    struct topo *t;
    struct wl_result r;
    run(&c, &t, &r);
    simtime_t exposed, net, net_sum, elc;
    check_rows(&c, &r, &exposed, &net);
    phase_sums(&r, &net_sum, &elc);
    assert_true(exposed < net);     /* some network time hides under compute */
    assert_true(net < net_sum);     /* network tasks overlap one another */
    assert_int_equal(exposed, elc); /* compute rows never overlap, no idle time */
    size_t off = 0;
    for (size_t i = 0; i < r.run.ntasks; i++)
        off += !r.run.tasks[i].critical;
    assert_true(off > 0); /* overlapped tasks are off the path */
    /* determinism: the same rows again */
    struct topo *t2;
    struct wl_result r2;
    run(&c, &t2, &r2);
    assert_int_equal(r2.run.ntasks, r.run.ntasks);
    for (size_t i = 0; i < r.run.ntasks; i++) {
        const struct res_task *a = &r.run.tasks[i], *b = &r2.run.tasks[i];
        assert_int_equal(a->start_ps, b->start_ps);
        assert_int_equal(a->end_ps, b->end_ps);
        assert_int_equal(a->critical, b->critical);
        assert_int_equal(a->chunk, b->chunk);
    }
    wl_result_free(&r2);
    topo_destroy(t2);
    wl_result_free(&r);
    topo_destroy(t);
}

/* overlap = dual_batch: the tasks carry their micro-batch (both appear, each
 * layer's dispatches of micro-batch 0 before 1's), and each step's critical
 * path is still a gapless chain from its start to its end. */
static void test_dual_batch_mb(void **state)
{
    (void)state;
    struct cfg c = moecfg();
    c.wl.overlap = WL_OVERLAP_DUAL_BATCH;
    c.wl.attn_us = 4;
    struct topo *t;
    struct wl_result r;
    run(&c, &t, &r);
    const struct exec_result *x = &r.run;
    assert_int_equal(x->ntasks, x->nphases);
    size_t per_mb[2] = {0};
    for (size_t i = 0; i < x->ntasks; i++) {
        assert_true(x->tasks[i].mb < 2);
        per_mb[x->tasks[i].mb]++;
    }
    assert_true(per_mb[0] > 0 && per_mb[0] == per_mb[1]);
    size_t ns = res_steps_comm(x->tasks, x->ntasks, NULL, 0);
    struct res_step_comm *sc = xmalloc(ns * sizeof *sc);
    res_steps_comm(x->tasks, x->ntasks, sc, ns);
    for (size_t s = 0; s < ns; s++) {
        simtime_t at = sc[s].start_ps;
        for (size_t i = 0; i < x->ntasks; i++) {
            const struct res_task *k = &x->tasks[i];
            if (k->iter != sc[s].iter || !k->critical) continue;
            assert_int_equal(k->start_ps, at);
            at = k->end_ps;
        }
        assert_int_equal(at, sc[s].end_ps);
        assert_true(sc[s].exposed_ps <
                    sc[s].net_ps); /* one's all-to-alls under the other's compute */
    }
    free(sc);
    wl_result_free(&r);
    topo_destroy(t);
}

/* Through the database: the tasks rows as the run's, read back, and the
 * report's exposed_comm equal to res_steps_comm's. */
static void test_db_rows(void **state)
{
    (void)state;
    struct cfg c = moecfg();
    c.wl.chunks = 2;
    c.wl.overlap = WL_OVERLAP_CHUNKS;
    struct topo *t;
    struct wl_result r;
    run(&c, &t, &r);
    char path[] = "/tmp/moesim_test_tasksXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    struct res_db *db;
    struct err e;
    assert_int_equal(res_open(path, &db, &e), 0);
    int64_t id;
    assert_int_equal(tu_run_begin(db, &c, "t.ini", &id, &e), 0);
    struct res_run rr = {.engine = "packet",
                         .phases = r.run.phases,
                         .nphases = r.run.nphases,
                         .tasks = r.run.tasks,
                         .ntasks = r.run.ntasks};
    if (res_run_finish(db, id, &rr, &e) != 0) fail_msg("%s", e.msg);
    res_close(db);
    sqlite3 *sq;
    assert_int_equal(sqlite3_open(path, &sq), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(sq,
                                        "SELECT task, iter, layer, phase, kind, chunk, pass, mb,"
                                        " start_ns, end_ns, on_critical_path FROM tasks"
                                        " ORDER BY rowid",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const struct res_task *k = &r.run.tasks[n++];
        assert_int_equal(sqlite3_column_int64(st, 0), k->task);
        assert_int_equal(sqlite3_column_int64(st, 1), k->iter);
        assert_int_equal(sqlite3_column_int64(st, 2), k->layer);
        assert_string_equal((const char *)sqlite3_column_text(st, 3), k->phase);
        assert_string_equal((const char *)sqlite3_column_text(st, 4), res_task_kind_name(k->kind));
        assert_int_equal(sqlite3_column_int64(st, 5), k->chunk);
        assert_string_equal((const char *)sqlite3_column_text(st, 6), res_task_pass_name(k->pass));
        assert_int_equal(sqlite3_column_int64(st, 7), 0);
        assert_int_equal(sqlite3_column_int64(st, 8), ps_to_ns(k->start_ps));
        assert_int_equal(sqlite3_column_int64(st, 9), ps_to_ns(k->end_ps));
        assert_int_equal(sqlite3_column_int64(st, 10), k->critical);
    }
    sqlite3_finalize(st);
    assert_int_equal(n, r.run.ntasks);
    assert_int_equal(sqlite3_prepare_v2(sq, "SELECT value FROM meta WHERE key = 'schema_version'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "6");
    sqlite3_finalize(st);
    sqlite3_close(sq);
    unlink(path);
    wl_result_free(&r);
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_path), cmocka_unit_test(test_exposed_by_hand),
        cmocka_unit_test(test_moe_none),   cmocka_unit_test(test_moe_overlap_training),
        cmocka_unit_test(test_db_rows),    cmocka_unit_test(test_dual_batch_mb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
