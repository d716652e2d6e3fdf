/* test_place_speed.c - every heuristic placement policy on a 64-expert,
 * 32-layer, 64-GPU instance (8 leaves, top-2, 4096 tokens): prints the time
 * each takes (the target is under 2 s; printed, not asserted, since the
 * machine is shared) and checks the result's shape. */
#include "tests/testutil.h"

#include <time.h>

#include "tests/place_gen.h"
#include "workloads/place.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_speed_64(void **state)
{
    (void)state;
    struct trace t;
    gen_trace(&t, 4096, 32, 64, 2, 1.0, 0.5, 42);
    const char *pol[] = {"contiguous", "round_robin", "random",  "load_greedy",
                         "eplb",       "affinity",    "moetuner"};
    for (int mode = 0; mode < 2; mode++)
        for (size_t k = 0; k < sizeof pol / sizeof pol[0]; k++) {
            struct pl_fabric f;
            pl_fabric_default(&f, 64, 8);
            f.mode = (enum pl_mode)mode;
            struct pl_params p = {.replicas = 0, .seed = 1, .ilp_time_limit_s = 1};
            if (!strcmp(pol[k], "eplb")) p.replicas = 64;
            struct pl_placement pl;
            struct err e;
            double t0 = now();
            assert_int_equal(pl_compute(pol[k], &t, 0, 2048, &f, &p, &pl, &e), 0);
            double dt = now() - t0;
            print_message("speed: %-11s %-8s 64 experts x 32 layers on 64 GPUs: %.3f s "
                          "(cost %.1f)\n",
                          pol[k], mode ? "coherent" : "standard", dt, pl.cost);
            assert_int_equal(pl.slots_per_gpu, p.replicas ? 2 : 1);
            pl_free(&pl);
        }
    /* refine's budget is a fixed amount of evaluation work. */
    const char *rp[] = {"moetuner", "eplb"};
    for (int k = 0; k < 2; k++) {
        struct pl_fabric f;
        pl_fabric_default(&f, 64, 8);
        struct pl_params p = {.replicas = k ? 64 : 0, .refine = 1, .seed = 1};
        struct pl_placement pl;
        struct err e;
        double t0 = now();
        assert_int_equal(pl_compute(rp[k], &t, 0, 2048, &f, &p, &pl, &e), 0);
        print_message("speed: %s+refine standard: %.3f s (cost %.1f -> %.1f)\n", rp[k], now() - t0,
                      pl.cost_policy, pl.cost);
        assert_true(pl.cost <= pl.cost_policy);
        pl_free(&pl);
    }
    gen_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_speed_64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
