/* ideal_lp_cost.c - what the ideal bound's LP costs (docs/fabrics.md, "The
 * ideal bound"; bench/README.md, "Session 9: the ideal bound's LP on
 * ethereal and planes"): per fabric, a 256 KiB all-to-all's LP size and the
 * CPU time (median of 5) of the bound the executor records with the LP
 * (sim.ideal_lp_max unlimited) and without it (0), under spray and
 * ethereal. With arguments GROUPS SERVERS PLANES XR (0 pxn, 1 spine) [LP]
 * it builds that rail (8 GPUs a server, 4 spines a plane, 400 Gb/s) and
 * solves its LP once (LP = 0: not at all), for instruction counts under
 * valgrind. Not built by make:
 *   cc -std=c11 -O2 -D_GNU_SOURCE -I. -I/usr/include/igraph -o /tmp/lpcost \
 *      bench/ideal_lp_cost.c build/libmoesim.a -ligraph -lxml2 -lgsl -lgslcblas \
 *      -lsqlite3 -lcsv -linih -ljansson -lglpk -lxxhash -lm */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app/options.h"
#include "sim/exec_ideal.h"
#include "topo/ideal_lp.h"

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static struct topo_demand *all_to_all(const struct topo *t, size_t *n)
{
    struct topo_demand *d = malloc((size_t)t->hosts * t->hosts * sizeof *d);
    *n = 0;
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++)
            if (a != b) d[(*n)++] = (struct topo_demand){a, b, 262144};
    return d;
}

/* The executor's bound of d, CPU seconds (median of 5). */
static double timed(const struct topo *t, struct cfg *c, const struct topo_demand *d, size_t n,
                    uint64_t lp_max, simtime_t *v, int *kind)
{
    double s[5];
    for (int r = 0; r < 5; r++) {
        double t0 = cpu();
        struct exec_ideal *m = exec_ideal_create(t, &c->tr, lp_max);
        *v = exec_ideal_ps(m, d, n, kind);
        exec_ideal_destroy(m);
        s[r] = cpu() - t0;
    }
    qsort(s, 5, sizeof *s, dcmp);
    return s[2];
}

static void one(const char *name, struct cfg *c)
{
    topo_spec_resolve(&c->topo);
    struct topo *t;
    struct err e;
    if (topo_build(&c->topo, &t, &e) < 0) {
        printf("%s: %s\n", name, e.msg);
        return;
    }
    size_t n;
    struct topo_demand *d = all_to_all(t, &n);
    for (int p = 0; p < 2; p++) {
        c->tr.path = p ? PATH_ETHEREAL : PATH_SPRAY;
        simtime_t vl, vc;
        int kl, kc;
        double tl = timed(t, c, d, n, 1000000000, &vl, &kl), tc = timed(t, c, d, n, 0, &vc, &kc);
        printf("%-42s %-8s %4u GPUs %6llu vars: %8.3f ms (%s %.3f us), without the LP %.3f ms "
               "(%.3f us)\n",
               name, p ? "ethereal" : "spray", t->hosts,
               (unsigned long long)topo_ideal_lp_size(t, d, n, 1000000000), tl * 1e3,
               topo_ideal_kind_name(kl), (double)vl / 1e6, tc * 1e3, (double)vc / 1e6);
    }
    free(d);
    topo_destroy(t);
}

static void rail(struct cfg *c, int g, int spg, int G, int S, int P, int xr)
{
    cfg_defaults(c);
    c->topo.kind = TOPO_RAIL;
    c->topo.groups = g;
    c->topo.servers_per_group = spg;
    c->topo.gpus_per_host = G;
    c->topo.spines = S;
    c->topo.planes = P;
    c->topo.cross_rail = xr ? TOPO_XR_SPINE : TOPO_XR_PXN;
    c->topo.host_gbps = 400;
    c->topo.fabric_gbps = 400;
    c->topo.link_latency_ns = 500;
}

int main(int argc, char **argv)
{
    struct cfg c;
    if (argc >= 5) {
        rail(&c, atoi(argv[1]), atoi(argv[2]), 8, 4, atoi(argv[3]), atoi(argv[4]));
        topo_spec_resolve(&c.topo);
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e) < 0) return printf("%s\n", e.msg), 1;
        size_t n;
        struct topo_demand *d = all_to_all(t, &n);
        simtime_t v = 0;
        int rc = argc > 5 && !atoi(argv[5]) ? 0 : topo_ideal_lp_ps(t, d, n, 4096, 1, 1, &v);
        printf("%llu vars, rc %d, LP %llu ps, cut %llu ps\n",
               (unsigned long long)topo_ideal_lp_size(t, d, n, 1000000000), rc,
               (unsigned long long)v, (unsigned long long)topo_ideal_ps(t, d, n, 4096, 1));
        free(d);
        topo_destroy(t);
        return 0;
    }
    static const int sh[][6] = {{2, 2, 8, 4, 1, 0}, {2, 2, 8, 4, 2, 0}, {2, 2, 8, 4, 3, 0},
                                {2, 2, 8, 4, 4, 0}, {3, 2, 8, 4, 2, 0}, {4, 2, 8, 4, 2, 0},
                                {2, 2, 8, 4, 2, 1}, {4, 4, 8, 4, 2, 0}};
    char nm[96];
    for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        rail(&c, sh[i][0], sh[i][1], sh[i][2], sh[i][3], sh[i][4], sh[i][5]);
        snprintf(nm, sizeof nm, "rail %dx%dx%d, %d spines, %d plane%s, %s", sh[i][0], sh[i][1],
                 sh[i][2], sh[i][3], sh[i][4], sh[i][4] > 1 ? "s" : "", sh[i][5] ? "spine" : "pxn");
        one(nm, &c);
    }
    static const int l[][3] = {{4, 4, 4}, {8, 16, 8}, {16, 16, 8}};
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
        cfg_defaults(&c);
        c.topo.leaves = l[i][0];
        c.topo.spines = l[i][1];
        c.topo.hosts_per_leaf = l[i][2];
        snprintf(nm, sizeof nm, "leaf_spine %dx%dx%d", l[i][0], l[i][1], l[i][2]);
        one(nm, &c);
    }
    return 0;
}
