/* test_loss.c - finite switch buffers (drop-tail, switch.buffer_bytes) and
 * loss recovery (transport.recovery = goback_n | selective,
 * docs/transports.md), on the packet engine directly:
 *  - drop-tail losses are all recovered under both recoveries: every byte
 *    delivered exactly once (the engine's invariants: bytes sent = delivered
 *    + duplicates + dropped, every message delivered and acknowledged, no
 *    packet left), drops counted at switch ports only, never at a NIC;
 *  - the per-message counters (eng_set_msg_loss) add up to the run's;
 *  - on an unbounded fabric, spraying under go-back-N retransmits (its
 *    reordering is taken for loss) and selective repeat does not; under
 *    ECMP neither does, and both take the time recovery = none takes;
 *  - one flow through a buffer of one packet completes;
 *  - a timeout recovers the tail of a window when nothing follows it;
 *  - trimming drops nothing and recovers sooner than drop-tail;
 *  - a shared buffer's dynamic thresholds hold k congested ports at
 *    alpha B / (1 + k alpha) each;
 *  - a broken byte count is reported with its four terms;
 *  - runs repeat exactly. */
#include "testutil.h"

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

/* 4 leaves x 4 spines x 4 hosts at 100 Gb/s, 1 us links (bench/a2a16.ini) */
static struct cfg ls_cfg(int recovery, int path, int64_t buffer)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 4;
    c.topo.spines = 4;
    c.topo.hosts_per_leaf = 4;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.path = path;
    c.tr.recovery = recovery;
    c.tr.sw.buffer_bytes = buffer;
    c.tr.rto_ns = 20000;
    return c;
}

struct sums {
    uint64_t retx, timeouts, nacks; /* eng_set_msg_loss's: final */
    uint64_t retx_done;             /* msg_done's: the counts at the last byte's arrival */
    uint32_t no_loss;               /* msg_done calls without counters (recovery = none) */
    uint32_t msgs;                  /* messages whose counters came */
    uint32_t done;                  /* messages delivered */
    simtime_t last;                 /* the last delivery */
};

static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)e, (void)tag, (void)start;
    struct sums *s = ctx;
    if (loss)
        s->retx_done += loss->retx_bytes;
    else
        s->no_loss++;
    s->done++;
    if (end > s->last) s->last = end;
}

static void on_counters(void *ctx, struct eng *e, uint64_t tag, const struct res_flow_loss *c)
{
    (void)e, (void)tag;
    struct sums *s = ctx;
    s->retx += c->retx_bytes;
    s->timeouts += c->timeouts;
    s->nacks += c->nacks;
    s->msgs++;
}

/* An all-to-all of `bytes` per pair on c's fabric; checks the invariants
 * and returns the engine (the caller destroys it and *t). */
static struct eng *a2a(const struct cfg *c, uint64_t bytes, struct topo **t, struct sums *s)
{
    struct err er;
    assert_int_equal(topo_build(&c->topo, t, &er), 0);
    memset(s, 0, sizeof *s);
    struct eng_hooks h = {s, on_done};
    struct eng *e = eng_create(*t, &c->tr, 1, &h);
    eng_set_msg_loss(e, on_counters, s);
    uint32_t n = (*t)->hosts, m = 0;
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = 0; b < n; b++)
            if (a != b) eng_add_msg(e, a, b, bytes, 0, m++);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(s->done, m);
    return e;
}

static uint64_t drops(const struct eng *e, const struct topo *t, int at_hosts)
{
    uint64_t d = 0;
    for (uint32_t p = 0; p < t->nports; p++)
        if ((t->ports[p].src < t->hosts) == at_hosts) d += eng_port(e, p)->drops;
    return d;
}

/* Drop-tail under both recoveries, both paths: every loss recovered. */
static void droptail(int recovery, int path)
{
    struct cfg c = ls_cfg(recovery, path, 16384);
    struct topo *t;
    struct sums s;
    struct eng *e = a2a(&c, 1 << 20, &t, &s);
    const struct eng_stats *st = eng_stats(e);
    uint64_t d = drops(e, t, 0);
    print_message("recovery %d path %d: %llu drops, %llu retx bytes, %llu timeouts, %llu nacks, "
                  "%llu dup bytes, end %.1f us\n",
                  recovery, path, (unsigned long long)d, (unsigned long long)st->retx_bytes,
                  (unsigned long long)st->timeouts, (unsigned long long)st->nacks,
                  (unsigned long long)st->dup_bytes, (double)s.last / PS_PER_US);
    assert_true(d > 0);                  /* the buffer was too small */
    assert_int_equal(drops(e, t, 1), 0); /* NICs never drop */
    /* every packet dropped was a full one, counted once */
    assert_int_equal(st->drop_bytes, d * 4096);
    /* each byte delivered once: the bytes of the messages */
    assert_int_equal(st->data_bytes_delivered, (uint64_t)16 * 15 << 20);
    assert_int_equal(st->data_bytes_sent,
                     st->data_bytes_delivered + st->dup_bytes + st->drop_bytes);
    /* whatever was dropped was sent again */
    assert_true(st->retx_bytes >= st->drop_bytes);
    assert_int_equal(st->data_bytes_sent - st->retx_bytes, st->data_bytes_delivered);
    /* the messages' counters add up to the run's */
    assert_int_equal(s.msgs, 16 * 15);
    assert_int_equal(s.retx, st->retx_bytes);
    assert_int_equal(s.timeouts, st->timeouts);
    assert_int_equal(s.nacks, st->nacks);
    assert_int_equal(s.no_loss, 0);
    assert_true(s.retx_done <= s.retx); /* a sender may resend after the last byte arrived */
    eng_destroy(e);
    topo_destroy(t);
}

static void test_droptail_gbn_ecmp(void **state)
{
    (void)state;
    droptail(REC_GOBACK_N, PATH_ECMP);
}
static void test_droptail_gbn_spray(void **state)
{
    (void)state;
    droptail(REC_GOBACK_N, PATH_SPRAY);
}
static void test_droptail_sel_ecmp(void **state)
{
    (void)state;
    droptail(REC_SELECTIVE, PATH_ECMP);
}
static void test_droptail_sel_spray(void **state)
{
    (void)state;
    droptail(REC_SELECTIVE, PATH_SPRAY);
}

/* Unbounded buffers: reordering alone. Spraying costs go-back-N
 * retransmissions (and time), selective repeat none; ECMP keeps each
 * flow's order, so neither retransmits and both finish with none. */
static void test_reordering(void **state)
{
    (void)state;
    simtime_t end[3][2];
    uint64_t retx[3][2];
    int paths[2] = {PATH_ECMP, PATH_SPRAY};
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < 2; j++) {
            struct cfg c = ls_cfg(r, paths[j], 0);
            c.tr.rto_ns = 320000;
            struct topo *t;
            struct sums s;
            struct eng *e = a2a(&c, 1 << 20, &t, &s);
            end[r][j] = s.last;
            assert_int_equal(s.no_loss, r ? 0 : 16 * 15); /* no counters without recovery */
            assert_int_equal(s.msgs, r ? 16 * 15 : 0);
            retx[r][j] = eng_stats(e)->retx_bytes;
            assert_int_equal(eng_stats(e)->drop_bytes, 0);
            if (r) assert_int_equal(eng_stats(e)->timeouts, 0);
            eng_destroy(e);
            topo_destroy(t);
        }
    print_message("spray: none %.1f us, goback_n %.1f us (%llu retx bytes), selective %.1f us\n",
                  (double)end[0][1] / PS_PER_US, (double)end[1][1] / PS_PER_US,
                  (unsigned long long)retx[1][1], (double)end[2][1] / PS_PER_US);
    assert_int_equal(retx[REC_GOBACK_N][0], 0);
    assert_int_equal(retx[REC_SELECTIVE][0], 0);
    assert_int_equal(end[REC_GOBACK_N][0], end[REC_NONE][0]);
    assert_int_equal(end[REC_SELECTIVE][0], end[REC_NONE][0]);
    assert_true(retx[REC_GOBACK_N][1] > 0);
    assert_true(end[REC_GOBACK_N][1] > end[REC_NONE][1]);
    assert_int_equal(retx[REC_SELECTIVE][1], 0);
    assert_int_equal(end[REC_SELECTIVE][1], end[REC_NONE][1]);
}

/* One flow through a switch buffer of one packet: its window overflows
 * the leaf's port into the slower fabric at once, and it completes. */
static void test_tiny_buffer(void **state)
{
    (void)state;
    for (int r = REC_GOBACK_N; r <= REC_SELECTIVE; r++) {
        struct cfg c = ls_cfg(r, PATH_ECMP, 4096);
        c.topo.fabric_gbps = 25; /* host 100 Gb/s into 25 Gb/s: a bottleneck */
        struct topo *t;
        struct err er;
        assert_int_equal(topo_build(&c.topo, &t, &er), 0);
        struct sums s = {0};
        struct eng_hooks h = {&s, on_done};
        struct eng *e = eng_create(t, &c.tr, 1, &h);
        eng_set_msg_loss(e, on_counters, &s);
        eng_add_msg(e, 0, 15, 1 << 20, 0, 0);
        eng_run(e);
        char why[512];
        if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
        const struct eng_stats *st = eng_stats(e);
        print_message("tiny buffer, recovery %d: %llu drops, %llu retx bytes, %llu timeouts, end "
                      "%.1f us\n",
                      r, (unsigned long long)drops(e, t, 0), (unsigned long long)st->retx_bytes,
                      (unsigned long long)st->timeouts, (double)s.last / PS_PER_US);
        assert_int_equal(s.done, 1);
        assert_true(drops(e, t, 0) > 0);
        assert_int_equal(st->data_bytes_delivered, 1 << 20);
        /* at least the time 1 MiB takes at 25 Gb/s */
        assert_true(s.last > ser_ps(1 << 20, 25e9));
        eng_destroy(e);
        topo_destroy(t);
    }
}

/* Trimming (switch.trim): nothing is dropped; every overflow is a
 * trimmed header the receiver NACKs at once, so losses are found without
 * waiting for the timer: against drop-tail with the same buffer and
 * timeout, fewer timeouts, and under selective repeat an earlier end
 * (go-back-N resends the window behind each either way). Links count the trims (never
 * at a NIC); every trimmed byte is resent. */
static void test_trim(void **state)
{
    (void)state;
    for (int r = REC_GOBACK_N; r <= REC_SELECTIVE; r++)
        for (int path = PATH_ECMP; path <= PATH_SPRAY; path++) {
            struct eng_stats st[2];
            simtime_t last[2];
            uint64_t trims = 0;
            for (int trim = 0; trim < 2; trim++) {
                struct cfg c = ls_cfg(r, path, 16384);
                c.tr.sw.trim = trim;
                c.tr.rto_ns = 320000;
                struct topo *t;
                struct sums s;
                struct eng *e = a2a(&c, 1 << 20, &t, &s);
                st[trim] = *eng_stats(e);
                last[trim] = s.last;
                if (trim) {
                    const struct pkt_eng *pe = pkt_eng_ofc(e);
                    for (uint32_t p = 0; p < t->nports; p++) {
                        trims += pe->trims[p];
                        if (t->ports[p].src < t->hosts) assert_int_equal(pe->trims[p], 0);
                    }
                    assert_int_equal(drops(e, t, 0) + drops(e, t, 1), 0);
                }
                assert_int_equal(st[trim].data_bytes_delivered, (uint64_t)16 * 15 << 20);
                eng_destroy(e);
                topo_destroy(t);
            }
            print_message("recovery %d path %d: drop-tail %llu timeouts, end %.1f us; trim %llu "
                          "trims, %llu timeouts, %llu retx bytes, end %.1f us\n",
                          r, path, (unsigned long long)st[0].timeouts, (double)last[0] / PS_PER_US,
                          (unsigned long long)trims, (unsigned long long)st[1].timeouts,
                          (unsigned long long)st[1].retx_bytes, (double)last[1] / PS_PER_US);
            assert_true(trims > 0);
            assert_int_equal(st[1].drop_bytes, trims * 4096);
            assert_true(st[1].timeouts < st[0].timeouts);
            if (r == REC_SELECTIVE) assert_true(last[1] < last[0]);
            assert_true(st[1].retx_bytes >= st[1].drop_bytes);
        }
}

/* A shared buffer with dynamic thresholds (switch.shared_alpha): k ports
 * of one switch congested at once each hold at most alpha B / (1 + k alpha)
 * (Choudhury and Hahne's steady state: q = alpha (B - k q)), give or take
 * a packet per port: the one admitted, and with k = 2 the other port's
 * queue a packet below its share at that instant (and the acks queued at
 * the switch's other ports). Senders 0-3 on the receivers' leaf, 256 KiB windows. */
static void shared(int k, double alpha)
{
    struct cfg c = ls_cfg(REC_SELECTIVE, PATH_ECMP, 256 << 10);
    c.topo.leaves = 2;
    c.topo.hosts_per_leaf = 6;
    c.tr.sw.shared_alpha = alpha;
    c.tr.window_bytes = 256 << 10;
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct sums s = {0};
    struct eng_hooks h = {&s, on_done};
    struct eng *e = eng_create(t, &c.tr, 1, &h);
    for (uint32_t a = 0; a < 4; a++)
        eng_add_msg(e, a, 4 + (k == 2 ? a / 2 : 0), 4 << 20, 0, a);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    assert_int_equal(s.done, 4);
    double B = 256 << 10, want = alpha * B / (1 + k * alpha);
    for (int j = 0; j < k; j++) {
        const struct res_port_stats *ps = eng_port(e, t->host_down[4 + j]);
        print_message("shared buffer, %d ports, alpha %g: peak queue %llu bytes, theory %.0f, %llu "
                      "drops\n",
                      k, alpha, (unsigned long long)ps->max_queue_bytes, want,
                      (unsigned long long)ps->drops);
        assert_true(ps->drops > 0);
        assert_true((double)ps->max_queue_bytes <= want + k * 4096 + 1);
        assert_true((double)ps->max_queue_bytes >= want - 2 * 4096);
    }
    eng_destroy(e);
    topo_destroy(t);
}

static void test_shared_buffer(void **state)
{
    (void)state;
    shared(1, 1);
    shared(2, 1);
    shared(1, 0.5);
    shared(2, 4);
}

/* The bookkeeping invariant names its four terms: a duplicate counted
 * that never arrived breaks sent = delivered + duplicates + dropped. */
static void hook_dup(struct eng_stats *st)
{
    st->dup_bytes++;
}

static void test_invariant_message(void **state)
{
    (void)state;
    struct cfg c = ls_cfg(REC_SELECTIVE, PATH_ECMP, 16384);
    struct topo *t;
    struct err er;
    assert_int_equal(topo_build(&c.topo, &t, &er), 0);
    struct sums s = {0};
    struct eng_hooks h = {&s, on_done};
    struct eng *e = eng_create(t, &c.tr, 1, &h);
    for (uint32_t a = 0; a < 8; a++)
        eng_add_msg(e, a, 15, 256 << 10, 0, a);
    eng_test_hook = hook_dup;
    eng_run(e);
    eng_test_hook = NULL;
    const struct eng_stats *st = eng_stats(e);
    char why[512], want[512];
    assert_true(st->drop_bytes > 0);
    snprintf(want, sizeof want,
             "invariant: %llu data bytes sent but %llu delivered, %llu duplicate or discarded and "
             "%llu dropped",
             (unsigned long long)st->data_bytes_sent, (unsigned long long)st->data_bytes_delivered,
             (unsigned long long)st->dup_bytes, (unsigned long long)st->drop_bytes);
    assert_int_equal(eng_check(e, why, sizeof why), -1);
    assert_string_equal(why, want);
    eng_destroy(e);
    topo_destroy(t);
}

/* Every run repeats exactly: the same counters and end. */
static void test_repeatable(void **state)
{
    (void)state;
    for (int r = REC_GOBACK_N; r <= REC_SELECTIVE; r++) {
        struct eng_stats a[2];
        simtime_t last[2];
        for (int i = 0; i < 2; i++) {
            struct cfg c = ls_cfg(r, PATH_SPRAY, 16384);
            struct topo *t;
            struct sums s;
            struct eng *e = a2a(&c, 256 << 10, &t, &s);
            a[i] = *eng_stats(e);
            last[i] = s.last;
            eng_destroy(e);
            topo_destroy(t);
        }
        assert_int_equal(last[0], last[1]);
        assert_memory_equal(&a[0], &a[1], sizeof a[0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_droptail_gbn_ecmp),
        cmocka_unit_test(test_droptail_gbn_spray),
        cmocka_unit_test(test_droptail_sel_ecmp),
        cmocka_unit_test(test_droptail_sel_spray),
        cmocka_unit_test(test_reordering),
        cmocka_unit_test(test_tiny_buffer),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_invariant_message),
        cmocka_unit_test(test_shared_buffer),
        cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
