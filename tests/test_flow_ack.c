/* test_flow_ack.c - acknowledgements in the flow engine (sim/flow_ack.c):
 * a flow whose acknowledgements cross a link that others' data saturate
 * runs at its forward bottleneck's share (closed form, and the old
 * constraint's freeze shown beside it), every link's bytes equal to the
 * packet engine's under every acknowledgement mode (at the end and, for
 * the acknowledgement uses, halfway), and a lone flow at its closed form
 * under every mode and path. */
#include "flow_run.h"

#include <math.h>

/* The freeze case on 2 leaves x 4 hosts at 100 Gb/s, 400 Gb/s fabric: A1
 * and A2 (hosts 4 and 5 to host 0) saturate host 0's downlink with data;
 * B (host 0 to host 6) sends alone on its route, its acknowledgements come
 * back on that downlink. B's forward bottleneck is host 0's uplink, which
 * carries A1's and A2's acknowledgements: with the reserve its data gets
 * B / (1 + a) (a = ack_bytes / mtu), so B ends at S (1 + a) / B + tail. A1
 * and A2 share the downlink less its reserve (B's acks) until B ends, then
 * the whole of it: each has S / 2 left at B's fluid end and ends S / B
 * later (sticky: the reserve stays, 2 S (1 + a) / B). Free: as the
 * reserve with a = 0. With the acknowledgements as constraints (the engine before) B
 * froze at the downlink's level, about B / 2: twice as long. */
static void test_freeze_closed_form(void **state)
{
    (void)state;
    struct cfg c = mkcfg(2, 2, 4, 100, 400, PATH_ECMP);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct eng_hooks h = {NULL, on_done};
    const uint64_t S = 1 << 20;
    const double ps_per_byte = 80.0, a = 64.0 / 4096.0; /* 100 Gb/s; ack_bytes / mtu */
    simtime_t tail_b = topo_path_latency(t, 0, 6, 4096) - 4096 * 80;
    simtime_t tail_a = topo_path_latency(t, 4, 0, 4096) - 4096 * 80;
    for (int mode = FLOW_ACK_RESERVE; mode <= FLOW_ACK_STICKY; mode++) {
        flow_ack_mode = mode;
        struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
        eng_add_msg(g, 4, 0, S, 0, 0);
        eng_add_msg(g, 5, 0, S, 0, 1);
        eng_add_msg(g, 0, 6, S, 0, 2);
        eng_run(g);
        char msg[256];
        assert_int_equal(eng_check(g, msg, sizeof msg), 0);
        int res = mode == FLOW_ACK_RESERVE || mode == FLOW_ACK_STICKY;
        double fb = (double)S * ps_per_byte * (res ? 1 + a : 1);
        double want_b = fb + (double)tail_b, want_a = fb + (double)S * ps_per_byte + tail_a;
        if (mode == FLOW_ACK_STICKY) want_a = 2 * fb + tail_a; /* the reserve stays after B */
        if (mode == FLOW_ACK_CONSTRAIN) {
            /* frozen at host 0's downlink: B / (2 + B's ack weight), not B */
            assert_true((double)ends[2] > 1.9 * (double)S * ps_per_byte);
        } else {
            if (fabs((double)ends[2] - want_b) > 4)
                fail_msg("mode %d: B ends at %llu, closed form %.0f", mode,
                         (unsigned long long)ends[2], want_b);
            for (int i = 0; i < 2; i++)
                if (fabs((double)ends[i] - want_a) > 4)
                    fail_msg("mode %d: A%d ends at %llu, closed form %.0f", mode, i + 1,
                             (unsigned long long)ends[i], want_a);
        }
        eng_destroy(g);
    }
    flow_ack_mode = FLOW_ACK_RESERVE;
    topo_destroy(t);
}

/* Halfway through a lone flow, a link that carries only its
 * acknowledgements has carried half of their bytes (the flow's sent
 * fraction), as the data links have half of the data. */
static uint64_t half_ack, half_data;
static uint32_t ack_port, data_port;
static void sample_half(void *ctx, const struct eng *e, simtime_t now)
{
    (void)ctx, (void)now;
    if (half_ack == UINT64_MAX) {
        half_ack = eng_port_sent(e, ack_port);
        half_data = eng_port_sent(e, data_port);
    }
}

/* Every link's bytes equal the packet engine's under each mode: an
 * all-to-all of distinct sizes plus the freeze case's flows, on ECMP,
 * split and ethereal link by link, the totals and the acknowledgements for
 * the spreading modes; and the bytes by halfway of a lone flow. */
static void test_bytes_match_packet(void **state)
{
    (void)state;
    for (int mode = FLOW_ACK_RESERVE; mode <= FLOW_ACK_STICKY; mode++)
        for (int path = PATH_ECMP; path <= PATH_ETHEREAL; path++) {
            if (path == PATH_FLOWLET) continue; /* refused on the flow engine */
            flow_ack_mode = mode;
            struct cfg c = mkcfg(2, 4, 3, 100, 200, path);
            struct topo *t;
            struct err e;
            assert_int_equal(topo_build(&c.topo, &t, &e), 0);
            struct topo_demand dem[40];
            size_t nd = all_to_all(t, 50000, 777, 1, dem);
            struct eng *g[2];
            both_engines("ack mode", t, &c, 5, dem, nd, g);
            eng_destroy(g[0]);
            eng_destroy(g[1]);
            topo_destroy(t);
        }
    /* halfway: host 0 to host 1 on one leaf, S = 1 MiB: 256 acks of 64
     * bytes on host 1's uplink, at S/2 sent 128 of them */
    for (int mode = FLOW_ACK_RESERVE; mode <= FLOW_ACK_STICKY; mode++) {
        flow_ack_mode = mode;
        struct cfg c = mkcfg(2, 2, 2, 100, 100, PATH_ECMP);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct eng_hooks h = {NULL, on_done};
        struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
        const uint64_t S = 1 << 20;
        ack_port = t->host_up[1];
        data_port = t->host_up[0];
        half_ack = UINT64_MAX;
        eng_set_sampler(g, (simtime_t)S * 80 / 2, 1000000000, sample_half, NULL);
        eng_add_msg(g, 0, 1, S, 0, 0);
        eng_run(g);
        assert_true(half_ack != UINT64_MAX);
        assert_true(llabs((long long)half_data - (long long)(S / 2)) <= 1);
        assert_true(llabs((long long)half_ack - 128 * 64) <= 1);
        assert_int_equal(eng_port(g, ack_port)->bytes, 256 * 64);
        eng_destroy(g);
        topo_destroy(t);
    }
    flow_ack_mode = FLOW_ACK_RESERVE;
}

/* A lone flow ends at the ideal bound (size over its bottleneck plus its
 * first packet's way after the first hop) under every mode and path but
 * split (several subs, each with its own tail): its
 * forward route carries no acknowledgements, so no reserve. */
static void test_lone_flow_unchanged(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1048576, 1000000, 100, 777777};
    const uint32_t pairs[][2] = {{0, 3}, {0, 2}, {1, 0}, {3, 1}};
    for (int mode = FLOW_ACK_RESERVE; mode <= FLOW_ACK_STICKY; mode++)
        for (int path = PATH_ECMP; path <= PATH_ADAPTIVE; path++) {
            /* (split: a message of several subs, not one flow) */
            if (path == PATH_SPLIT || path == PATH_FLOWLET || path == PATH_ETHEREAL) continue;
            flow_ack_mode = mode;
            struct cfg c = mkcfg(2, 2, 2, 100, 100, path);
            struct topo *t;
            struct err e;
            assert_int_equal(topo_build(&c.topo, &t, &e), 0);
            struct eng_hooks h = {NULL, on_done};
            for (int i = 0; i < 4; i++) {
                struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
                eng_add_msg(g, pairs[i][0], pairs[i][1], sizes[i], 12345, 0);
                eng_run(g);
                struct topo_demand d = {pairs[i][0], pairs[i][1], sizes[i]};
                simtime_t want = topo_ideal_ps(t, &d, 1, 4096, 1);
                if (ends[0] - 12345 != want)
                    fail_msg("mode %d path %d lone %d: %llu, ideal %llu", mode, path, i,
                             (unsigned long long)(ends[0] - 12345), (unsigned long long)want);
                eng_destroy(g);
            }
            topo_destroy(t);
        }
    flow_ack_mode = FLOW_ACK_RESERVE;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_freeze_closed_form),
        cmocka_unit_test(test_bytes_match_packet),
        cmocka_unit_test(test_lone_flow_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
