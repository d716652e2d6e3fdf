/* test_evq_lanes.c - the event queue's lanes (base/evq.h): events pushed at a
 * few fixed delays after the top (the lanes), mixed with others at random
 * delays and in the past (the heap), with replaced tops and cancellations,
 * come out exactly in (time, sequence) order, checked pop by pop against a
 * reference that searches every live event; and the lanes are used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/evq.h"

enum { CAP = 3000 };
static struct ev live[CAP];
static size_t nlive;

static uint64_t x = 7;
static uint64_t rnd(void)
{
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x >> 33;
}

/* The reference's earliest live event. */
static size_t ref_best(void)
{
    size_t best = 0;
    for (size_t i = 1; i < nlive; i++)
        if (live[i].time < live[best].time ||
            (live[i].time == live[best].time && live[i].seq < live[best].seq))
            best = i;
    return best;
}

/* A delay: mostly one of a few fixed ones (some of them sharing a lane's
 * slot), sometimes a random one, rarely in the past (before the current
 * top). */
static simtime_t when(simtime_t now)
{
    static const simtime_t fixed[] = {0,      327680, 1327680, 5120, 1005120, 40960,
                                      163840, 7,      11,      13,   17,      19};
    uint64_t r = rnd() % 1000;
    if (r < 800) return now + fixed[rnd() % (sizeof fixed / sizeof *fixed)];
    if (r < 995) return now + rnd() % 2000000;
    return now > 1000 ? now - rnd() % 1000 : now;
}

static void test_lanes_against_reference(void **state)
{
    (void)state;
    struct evq q;
    evq_init(&q);
    nlive = 0;
    simtime_t now = 0;
    size_t pops = 0, replaces = 0, cancels = 0, lane_hits = 0;
    for (int step = 0; step < 300000; step++) {
        uint64_t r = rnd() % 20;
        if ((r < 9 || nlive == 0) && nlive < CAP) {
            simtime_t t = when(now);
            uint64_t seq = evq_push(&q, t, 0, (uint32_t)step);
            live[nlive++] = (struct ev){t, seq, 0, (uint32_t)step};
        } else if (r < 10) {
            size_t i = rnd() % nlive;
            evq_cancel(&q, live[i].seq);
            live[i] = live[--nlive];
            cancels++;
        } else {
            size_t best = ref_best();
            const struct ev *top = evq_peek(&q);
            assert_non_null(top);
            assert_int_equal(top->seq, live[best].seq);
            assert_int_equal(top->id, live[best].id);
            assert_int_equal(top->time, live[best].time);
            if (top->time > now) now = top->time;
            lane_hits += q.heap[0].kind == EVQ_LANE;
            if (r < 15 && nlive < CAP) { /* the top handled, a successor pushed */
                simtime_t t = when(top->time);
                live[best] = live[--nlive];
                uint64_t seq = evq_replace_top(&q, t, 1, (uint32_t)step);
                live[nlive++] = (struct ev){t, seq, 1, (uint32_t)step};
                replaces++;
            } else {
                struct ev ev;
                assert_true(evq_pop(&q, &ev));
                assert_int_equal(ev.seq, live[best].seq);
                live[best] = live[--nlive];
                pops++;
            }
        }
        assert_int_equal(evq_size(&q), nlive);
    }
    /* drain in order */
    while (nlive) {
        size_t best = ref_best();
        struct ev ev;
        assert_true(evq_pop(&q, &ev));
        assert_int_equal(ev.seq, live[best].seq);
        live[best] = live[--nlive];
    }
    struct ev ev;
    assert_false(evq_pop(&q, &ev));
    assert_int_equal(evq_size(&q), 0);
    assert_true(pops > 10000 && replaces > 10000 && cancels > 10000);
    /* most tops came from lanes; the heap held the rest */
    print_message("lane tops %zu of %zu\n", lane_hits, pops + replaces);
    assert_true(lane_hits > (pops + replaces) / 2);
    evq_destroy(&q);
}

/* A packet engine's pattern: many wires, each one's next arrival one
 * serialization after the one being handled; the queue's heap holds one
 * entry per lane, not one per wire. */
static void test_lanes_keep_heap_small(void **state)
{
    (void)state;
    struct evq q;
    evq_init(&q);
    for (uint32_t w = 0; w < 10000; w++)
        evq_push(&q, 1000 + w, 0, w);
    size_t max_heap = 0;
    simtime_t last = 0;
    for (int i = 0; i < 200000; i++) {
        const struct ev *top = evq_peek(&q);
        assert_true(top->time >= last);
        last = top->time;
        evq_replace_top(&q, top->time + 327680, 0, top->id);
        if (i >= 20000 && q.hn > max_heap) max_heap = q.hn; /* the first round is in the heap */
    }
    assert_int_equal(evq_size(&q), 10000);
    assert_true(max_heap <= 3);
    evq_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lanes_against_reference),
        cmocka_unit_test(test_lanes_keep_heap_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
