/* test_flows.c - workload.kind = incast and flows (workloads/incast.c,
 * flows.c, flows_file.c): both flows-file formats read back exactly, every
 * malformed file refused with its file:line and message, triggers and start
 * times honoured to the picosecond, an incast's time against the receiver
 * link's bound, its senders under other leaves, bytes conserved, and the
 * same rows from the same seed. */
#include "testutil.h"

#include <math.h>

#include "workloads/flows_file.h"

static struct cfg fabric(int kind)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = kind;
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 4;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.out.flows = 1;
    return c;
}

static void test_matrix_read(void **state)
{
    (void)state;
    const char *p = tu_write_temp("# a comment\n"
                                  "Nodes 8\nConnections 3\nTriggers 1\n\n"
                                  "0->7 id 1 start 2.5 size 1000 send_done_trigger 4\n"
                                  "1->6 start 0 size 2000 recv_done_trigger 4\n"
                                  "2->5 id 3 trigger 4 size 3000\n"
                                  "trigger id 4 barrier count 2\n",
                                  ".cm");
    struct wl_flows fl;
    struct err e = {""};
    if (wl_flows_load(p, 8, &fl, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(fl.format, WL_FLOWS_MATRIX);
    assert_int_equal(fl.n, 3);
    assert_int_equal(fl.nodes, 8);
    assert_int_equal(fl.f[0].src, 0);
    assert_int_equal(fl.f[0].dst, 7);
    assert_int_equal(fl.f[0].bytes, 1000);
    assert_int_equal(fl.f[0].start_ps, 2500000); /* 2.5 us */
    assert_int_equal(fl.f[0].line, 6);
    assert_true(fl.f[0].fires && fl.f[1].fires && !fl.f[2].fires);
    assert_int_equal(fl.f[2].nwait, 2);
    uint32_t a = fl.wait[fl.f[2].woff], b = fl.wait[fl.f[2].woff + 1];
    assert_true((a == 0 && b == 1) || (a == 1 && b == 0));
    assert_int_equal(fl.order[2], 2); /* after both it waits for */
    wl_flows_free(&fl);
}

static void test_csv_read(void **state)
{
    (void)state;
    struct wl_flows fl;
    struct err e = {""};
    const char *p = tu_write_temp("src,dst,bytes,start_ns\n0,7,100,0\n3,4,200,1500\n", ".csv");
    if (wl_flows_load(p, 8, &fl, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(fl.format, WL_FLOWS_CSV);
    assert_int_equal(fl.n, 2);
    assert_int_equal(fl.f[1].src, 3);
    assert_int_equal(fl.f[1].bytes, 200);
    assert_int_equal(fl.f[1].start_ps, 1500 * PS_PER_NS);
    assert_int_equal(fl.f[1].line, 3);
    assert_int_equal(fl.nodes, 8); /* no Nodes line: the largest host + 1 */
    wl_flows_free(&fl);
    p = tu_write_temp("0,1,5\n", ".csv"); /* no header, no start */
    if (wl_flows_load(p, 2, &fl, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(fl.n, 1);
    assert_int_equal(fl.f[0].start_ps, 0);
    wl_flows_free(&fl);
}

/* Each malformed file, its line and message (after "PATH:"). */
static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"Nodes 8\n0->9 start 0 size 10\n", "2: host 9: the Nodes line (line 1) says 8 hosts"},
        {"0->8 start 0 size 10\n", "1: host 8: the fabric has 8 hosts (0 to 7)"},
        {"Nodes 9\n", "1: Nodes 9: the fabric has 8 hosts"},
        {"3->3 start 0 size 10\n", "1: a flow from host 3 to itself"},
        {"0->1 start 0\n", "1: size: missing (every flow needs `size BYTES`)"},
        {"0->1 size 10\n", "1: start: missing (a flow needs `start US` or `trigger K`)"},
        {"0->1 start -1 size 10\n",
         "1: start: expected a time >= 0 in microseconds (up to 1e12), got '-1'"},
        {"0->1 start 0 size 0\n", "1: size: expected bytes from 1 to 1e15, got '0'"},
        {"0->1 start 0 size 10 prio 2\n", "1: prio: not modelled by moesim (remove it)"},
        {"0->1 start 0 size 10 colour red\n",
         "1: unknown token 'colour' (a flow has: id, start, size, trigger, send_done_trigger, "
         "recv_done_trigger)"},
        {"0->1 start 0 size\n", "1: size: no value after it"},
        {"a->1 start 0 size 10\n", "1: expected SRC->DST with host numbers, got 'a->1'"},
        {"Connections 2\n0->1 start 0 size 10\n",
         "1: Connections 2, but the file has 1 flow lines"},
        {"0->1 id 5 start 0 size 10\n1->2 id 5 start 0 size 10\n",
         "2: id 5: given to two flows (line 1 too)"},
        {"0->1 trigger 3 size 10\n", "1: trigger 3: no `trigger id 3` line defines it"},
        {"0->1 trigger 3 size 10\ntrigger id 3 oneshot\n",
         "1: trigger 3: no flow fires it (send_done_trigger or recv_done_trigger 3)"},
        {"0->1 start 0 trigger 3 size 10\n",
         "1: start and trigger: a flow starts at a time or on a trigger, not both"},
        {"0->1 start 0 size 10 send_done_trigger 1\n2->1 start 0 size 10 send_done_trigger 1\n"
         "3->1 trigger 1 size 10\ntrigger id 1 oneshot\n",
         "4: trigger 1: a oneshot trigger fired by 2 flows (moesim starts a flow once all it waits "
         "for have ended: write `barrier count 2`)"},
        {"0->1 start 0 size 10 send_done_trigger 1\n3->1 trigger 1 size 10\ntrigger id 1 barrier "
         "count 3\n",
         "3: trigger 1: count 3, but 1 flows fire it"},
        {"0->1 trigger 1 size 10 send_done_trigger 2\n1->2 trigger 2 size 10 send_done_trigger 1\n"
         "trigger id 1 oneshot\ntrigger id 2 oneshot\n",
         "1: this flow waits for itself through its triggers (a cycle)"},
        {"trigger id 1 multishot\n",
         "1: multishot: not modelled by moesim (oneshot and barrier are)"},
        {"trigger id 1 barrier\n", "1: trigger 1: a barrier needs `count C`"},
        {"Failures 1\n", "1: Failures: failures are not read from a flows file (use [faults])"},
        {"Nodes 4\nhello\n", "2: unknown line starting 'hello' (expected Nodes, Connections, "
                             "Triggers, SRC->DST or trigger)"},
        {"src,dst,bytes,start_ns\n0,1,-5,0\n", "2: bytes: expected bytes from 1 to 1e15, got '-5'"},
        {"0,1\n", "1: expected 3 or 4 fields (src,dst,bytes[,start_ns]), got 2"},
        {"0,1,2,3,4\n", "1: expected 3 or 4 fields (src,dst,bytes[,start_ns]), got 5"},
        {"src,dest,bytes\n",
         "1: header: column 2 is 'dest', expected 'dst' (src,dst,bytes[,start_ns])"},
        {"0,1,2,x\n", "1: start_ns: expected a time >= 0 in nanoseconds (up to 1e15), got 'x'"},
        {"0,1,2\n0,1\"2,3\n", "2: error parsing data while strict checking enabled"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = tu_write_temp(cases[i].text, ".flows");
        struct wl_flows fl;
        struct err e = {""};
        if (wl_flows_load(p, 8, &fl, &e) == 0) fail_msg("case %zu: accepted", i);
        char want[512];
        snprintf(want, sizeof want, "%s:%s", p, cases[i].want);
        if (strcmp(e.msg, want)) fail_msg("case %zu:\n got  %s\n want %s", i, e.msg, want);
    }
    const char *p = tu_write_temp("# only a comment\n\n", ".flows");
    struct wl_flows fl;
    struct err e = {""};
    assert_int_equal(wl_flows_load(p, 8, &fl, &e), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: no flows", p);
    assert_string_equal(e.msg, want);
}

static simtime_t flow_end(const struct wl_result *r, uint32_t src)
{
    for (size_t i = 0; i < r->run.nflows; i++)
        if (r->run.flows[i].src == src) return r->run.flows[i].end_ps;
    fail_msg("no flow from %u", src);
    return 0;
}

static simtime_t flow_start(const struct wl_result *r, uint32_t src)
{
    for (size_t i = 0; i < r->run.nflows; i++)
        if (r->run.flows[i].src == src) return r->run.flows[i].start_ps;
    fail_msg("no flow from %u", src);
    return 0;
}

/* A flow on a trigger starts when the last flow that fires it has ended; a
 * flow with `start T` starts at T exactly; a lone flow takes its bound. */
static void test_triggers_and_starts(void **state)
{
    (void)state;
    struct cfg c = fabric(WL_FLOWS);
    const char *p = tu_write_temp("Nodes 8\n"
                                  "0->4 start 0 size 100000 send_done_trigger 1\n"
                                  "1->5 start 3 size 300000 recv_done_trigger 1\n"
                                  "2->6 trigger 1 size 50000\n"
                                  "3->7 start 7.25 size 1000\n"
                                  "trigger id 1 barrier count 2\n",
                                  ".cm");
    snprintf(c.wl.flows_file, sizeof c.wl.flows_file, "%s", p);
    struct wl_result r;
    struct topo *t;
    tu_run(&c, &r, &t);
    assert_int_equal(r.run.nflows, 4);
    assert_int_equal(flow_start(&r, 1), 3 * PS_PER_US);
    assert_int_equal(flow_start(&r, 3), 7250 * PS_PER_NS);
    simtime_t last = flow_end(&r, 0) > flow_end(&r, 1) ? flow_end(&r, 0) : flow_end(&r, 1);
    assert_int_equal(flow_start(&r, 2), last);
    /* the 1 KB flow alone on its path: its phase's time is its bound */
    uint64_t bytes = 0;
    for (size_t i = 0; i < r.run.nphases; i++) {
        const struct res_phase *ph = &r.run.phases[i];
        bytes += ph->bytes;
        if (!strcmp(ph->phase, "flows") && ph->start_ps == 7250 * PS_PER_NS)
            assert_int_equal(ph->end_ps - ph->start_ps, ph->ideal_ps);
        if (!strcmp(ph->phase, "wait")) assert_int_equal(ph->start_ps, 0);
    }
    assert_int_equal(bytes, 100000 + 300000 + 50000 + 1000);
    wl_result_free(&r);
    topo_destroy(t);
}

/* The senders sit under the other leaf; the receiver's downlink carries
 * every byte; the time is within 2% of senders*bytes at the host rate plus
 * a route's latency (the phase's ideal bound), never under it. */
static void test_incast(void **state)
{
    (void)state;
    struct cfg c = fabric(WL_INCAST);
    c.wl.senders = 5;
    c.wl.bytes = 2000000;
    struct wl_result r;
    struct topo *t;
    tu_run(&c, &r, &t);
    assert_int_equal(r.run.nflows, 5);
    int same = 0;
    for (size_t i = 0; i < r.run.nflows; i++) {
        assert_int_equal(r.run.flows[i].dst, 7);
        same += topo_leaf_of(t, r.run.flows[i].src) == topo_leaf_of(t, 7);
    }
    assert_int_equal(same, 1); /* 4 under the other leaf, then host 4 */
    uint32_t who[8];
    assert_int_equal(wl_incast_pick(t, 5, who), 5);
    assert_int_equal(who[3], 3);
    assert_int_equal(who[4], 4);
    const struct res_phase *ph = &r.run.phases[0];
    assert_int_equal(ph->bytes, 5 * 2000000);
    double got = (double)(ph->end_ps - ph->start_ps), ideal = (double)ph->ideal_ps;
    double wire = 5.0 * 2e6 * 8 / 100e9 * (double)PS_PER_S;
    assert_true(ideal >= wire);
    assert_true(got >= ideal);
    if (got > 1.02 * ideal) fail_msg("incast %.0f ps, bound %.0f ps", got, ideal);
    wl_result_free(&r);
    topo_destroy(t);
}

/* Same seed, same rows: a flows file with collisions on ECMP. */
static void test_determinism(void **state)
{
    (void)state;
    struct cfg c = fabric(WL_FLOWS);
    const char *p = tu_write_temp("0,4,300000,0\n1,5,300000,0\n2,6,300000,100\n3,7,300000,200\n"
                                  "4,0,300000,0\n5,1,300000,50\n",
                                  ".csv");
    snprintf(c.wl.flows_file, sizeof c.wl.flows_file, "%s", p);
    c.sim.iterations = 2;
    struct wl_result a, b;
    struct topo *t1, *t2;
    tu_run(&c, &a, &t1);
    tu_run(&c, &b, &t2);
    assert_int_equal(a.run.nphases, b.run.nphases);
    for (size_t i = 0; i < a.run.nphases; i++) {
        assert_int_equal(a.run.phases[i].start_ps, b.run.phases[i].start_ps);
        assert_int_equal(a.run.phases[i].end_ps, b.run.phases[i].end_ps);
    }
    assert_int_equal(a.run.nflows, 12);
    for (size_t i = 0; i < a.run.nflows; i++)
        assert_int_equal(a.run.flows[i].end_ps, b.run.flows[i].end_ps);
    wl_result_free(&a);
    wl_result_free(&b);
    topo_destroy(t1);
    topo_destroy(t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_read), cmocka_unit_test(test_csv_read),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_triggers_and_starts),
        cmocka_unit_test(test_incast),      cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
