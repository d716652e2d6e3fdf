/* test_evq_ref.c - the event queue (base/evq.h) against a reference: a
 * textbook binary heap ordered by (time, seq), cancellation by a flag per
 * sequence number. Random runs of pushes (at a few fixed delays after the
 * top, so that lanes form, at random delays, at the top's own time, in the
 * past), replaced tops, pops, dropped tops and cancellations, with the queue
 * growing well past EVQ_LANE_MIN and draining to empty, so that every path
 * (lanes starting and emptying, the top in the heap or in a lane, heap[1]
 * while one entry is held) is taken; every top is compared with the
 * reference's (cancellations with evq_cancel, evq_cancel_at or both). Also: a drain against qsort,
 * a lane far longer than its first ring, evq_each and evq_clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/evq.h"

static uint64_t rs;
static uint64_t rnd(void)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return rs >> 33;
}

static int ref_less(const struct ev *a, const struct ev *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* The reference: a binary min-heap of every pushed, not popped event, and
 * a flag per sequence number for the cancelled ones. */
static struct ev *rh;
static size_t rn, rcap;
static unsigned char *dead;
static size_t ndeadcap;

static void ref_push(struct ev e)
{
    if (rn == rcap) {
        rcap = rcap ? 2 * rcap : 1024;
        rh = realloc(rh, rcap * sizeof *rh);
    }
    size_t i = rn++;
    while (i && ref_less(&e, &rh[(i - 1) / 2])) {
        rh[i] = rh[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    rh[i] = e;
    if (e.seq >= ndeadcap) {
        size_t c = ndeadcap ? ndeadcap : 1024;
        while (c <= e.seq)
            c *= 2;
        dead = realloc(dead, c);
        memset(dead + ndeadcap, 0, c - ndeadcap);
        ndeadcap = c;
    }
}

static void ref_pop_raw(void)
{
    struct ev x = rh[--rn];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= rn) break;
        if (c + 1 < rn && ref_less(&rh[c + 1], &rh[c])) c++;
        if (!ref_less(&rh[c], &x)) break;
        rh[i] = rh[c];
        i = c;
    }
    if (rn) rh[i] = x;
}

/* The earliest live event of the reference, or NULL. */
static const struct ev *ref_top(void)
{
    while (rn && dead[rh[0].seq])
        ref_pop_raw();
    return rn ? &rh[0] : NULL;
}

/* The live events, to cancel one at random: seq and time of the
 * reference's i-th entry when live. */
static int ref_live_at(size_t i, uint64_t *seq, simtime_t *time)
{
    if (i >= rn || dead[rh[i].seq]) return 0;
    *seq = rh[i].seq;
    *time = rh[i].time;
    return 1;
}

/* How the random runs cancel: 0 evq_cancel, 1 either at random, 2
 * evq_cancel_at (with the event's time) */
static int cancel_mode;

static simtime_t when(simtime_t now, int phase)
{
    static const simtime_t fixed[] = {327680, 1327680, 5120,   1005120, 40960, 163840,
                                      7,      11,      655360, 81920,   3,     1000};
    uint64_t r = rnd() % 1000;
    if (r < 780) return now + fixed[rnd() % (phase ? 12 : 3)];
    if (r < 960) return now + rnd() % 3000000;
    if (r < 990) return now;                    /* the top's own time */
    return now > 5000 ? now - rnd() % 5000 : 0; /* the past */
}

static size_t each_count;
static void count_each(const struct ev *v, void *ctx)
{
    (void)v;
    (void)ctx;
    each_count++;
}

static void check_top(struct evq *q)
{
    const struct ev *t = evq_peek(q), *r = ref_top();
    if (!r) {
        assert_null(t);
        return;
    }
    assert_non_null(t);
    assert_int_equal(t->time, r->time);
    assert_int_equal(t->seq, r->seq);
    assert_int_equal(t->kind, r->kind);
    assert_int_equal(t->id, r->id);
}

/* One random run: `steps` operations with a target size that rises to
 * `peak` events and falls back to zero twice. */
static void run_random(uint64_t seed, int steps, size_t peak)
{
    rs = seed;
    struct evq q;
    evq_init(&q);
    rn = 0;
    if (dead) memset(dead, 0, ndeadcap);
    size_t live = 0, lane_tops = 0, tops = 0, each_checks = 0;
    for (int round = 0; round < 2; round++) {
        if (round) { /* reuse after evq_clear */
            evq_clear(&q);
            rn = 0;
            memset(dead, 0, ndeadcap);
            live = 0;
        }
        simtime_t now = 0;
        for (int s = 0; s < steps; s++) {
            size_t target = s < steps / 2 ? peak * (size_t)s / (size_t)(steps / 2)
                                          : peak * (size_t)(steps - s) / (size_t)(steps / 2);
            int grow = live < target;
            uint64_t r = rnd() % 100;
            if (live == 0 || (grow && r < 30)) { /* a push from outside the loop */
                struct ev e = {when(now, round), 0, (uint32_t)(r & 3), (uint32_t)s};
                e.seq = evq_push(&q, e.time, e.kind, e.id);
                ref_push(e);
                live++;
            } else if (r < 36) { /* a cancel */
                uint64_t seq;
                simtime_t at;
                if (ref_live_at(rnd() % rn, &seq, &at)) {
                    if (cancel_mode == 2 || (cancel_mode == 1 && (rnd() & 1)))
                        evq_cancel_at(&q, seq, at);
                    else
                        evq_cancel(&q, seq);
                    dead[seq] = 1;
                    live--;
                }
            } else { /* the loop: peek, then replace, pop or drop (and more pushes) */
                check_top(&q);
                const struct ev *t = evq_peek(&q);
                now = t->time;
                tops++;
                lane_tops += q.heap[0].kind == EVQ_LANE;
                ref_pop_raw(); /* (ref_top was just called: rh[0] is live) */
                live--;
                if (r < 80 || (grow && r < 90)) {
                    struct ev e = {when(now, round), 0, 4, (uint32_t)s};
                    e.seq = evq_replace_top(&q, e.time, e.kind, e.id);
                    ref_push(e);
                    live++;
                    if (grow && r < 50) { /* a second push from the same event */
                        struct ev f = {when(now, round), 0, 5, (uint32_t)s};
                        f.seq = evq_push(&q, f.time, f.kind, f.id);
                        ref_push(f);
                        live++;
                    }
                } else if (r < 95) {
                    evq_drop_top(&q);
                } else {
                    struct ev out;
                    assert_true(evq_pop(&q, &out)); /* (peeked: the same event) */
                    assert_int_equal(out.time, now);
                }
            }
            assert_int_equal(evq_size(&q), live);
            if (s % 997 == 0) { /* evq_each sees every event held, dead ones included */
                each_count = 0;
                evq_each(&q, count_each, NULL);
                assert_int_equal(each_count, q.n);
                each_checks++;
            }
        }
        while (ref_top()) { /* drain */
            check_top(&q);
            struct ev out;
            assert_true(evq_pop(&q, &out));
            ref_pop_raw();
            live--;
        }
        assert_null(evq_peek(&q));
        assert_int_equal(evq_size(&q), 0);
    }
    print_message("seed %llu: %zu tops, %zu from lanes\n", (unsigned long long)seed, tops,
                  lane_tops);
    if (peak > 2 * EVQ_LANE_MIN) {
        assert_true(lane_tops > tops / 3); /* the lanes were used */
        assert_true(lane_tops < tops);     /* and so was the heap */
    } else if (peak < EVQ_LANE_MIN) {
        assert_int_equal(lane_tops, 0); /* small: the heap alone */
    }
    assert_true(each_checks > 0);
    evq_destroy(&q);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    cancel_mode = 0;
    run_random(1, 400000, 6000);
    run_random(2, 200000, 1500);
    run_random(3, 200000, 20000);
}

/* The same with cancellations that name the event's time (evq_cancel_at:
 * tops before the earliest such time are not looked up), alone and mixed
 * with evq_cancel's. */
static void test_cancel_at_against_reference(void **state)
{
    (void)state;
    cancel_mode = 2;
    run_random(6, 300000, 6000);
    run_random(7, 100000, 40);
    cancel_mode = 1;
    run_random(8, 300000, 6000);
    run_random(9, 100000, 3);
    cancel_mode = 0;
}

/* Small queues (below EVQ_LANE_MIN: the heap alone), down to one entry and
 * empty again, many times. */
static void test_small_against_reference(void **state)
{
    (void)state;
    run_random(4, 100000, 3);
    run_random(5, 100000, 40);
}

static int cmp_ev(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;
    return ref_less(x, y) ? -1 : ref_less(y, x) ? 1 : 0;
}

/* Pushes only (many at equal times), then a drain: the order of qsort by
 * (time, seq). */
static void test_drain_is_sorted(void **state)
{
    (void)state;
    enum { N = 50000 };
    static struct ev all[N];
    struct evq q;
    evq_init(&q);
    rs = 99;
    for (int i = 0; i < N; i++) {
        simtime_t t = i < N / 2 ? rnd() % 1000 : (simtime_t)(i % 7) * 5120;
        all[i] = (struct ev){t, evq_push(&q, t, 0, (uint32_t)i), 0, (uint32_t)i};
    }
    qsort(all, N, sizeof *all, cmp_ev);
    for (int i = 0; i < N; i++) {
        struct ev out;
        assert_true(evq_pop(&q, &out));
        assert_int_equal(out.seq, all[i].seq);
        assert_int_equal(out.time, all[i].time);
        assert_int_equal(out.id, all[i].id);
    }
    struct ev out;
    assert_false(evq_pop(&q, &out));
    evq_destroy(&q);
}

/* One wire's events all at one delay: a lane far longer than its first ring
 * (grown while its ring has wrapped), in order. */
static void test_long_lane(void **state)
{
    (void)state;
    struct evq q;
    evq_init(&q);
    for (uint32_t i = 0; i < 2000; i++) /* past EVQ_LANE_MIN, spread out */
        evq_push(&q, 1000000000 + i, 1, i);
    simtime_t d = 100;
    /* a chain whose successors all go d later: each push lands in lane d */
    evq_push(&q, 0, 0, 0);
    uint64_t last_seq = 0;
    simtime_t last = 0;
    for (int i = 0; i < 30000; i++) {
        const struct ev *t = evq_peek(&q);
        assert_true(t->time >= last);
        assert_true(t->time > last || t->seq > last_seq || i == 0);
        last = t->time;
        last_seq = t->seq;
        if (t->kind == 0) {
            simtime_t at = t->time;
            evq_replace_top(&q, at + d, 0, 0);
            if (i < 20000) evq_push(&q, at + d, 0, 1); /* the lane grows */
        } else {
            evq_drop_top(&q);
        }
    }
    evq_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_cancel_at_against_reference),
        cmocka_unit_test(test_small_against_reference),
        cmocka_unit_test(test_drain_is_sorted),
        cmocka_unit_test(test_long_lane),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(rh);
    free(dead);
    return rc;
}
