/* test_exec_groups.c - the executor's grouping of network tasks
 * (sim/exec.c group_tasks, compiled in here to reach it): on random task
 * graphs (network tasks with and without messages, compute tasks, random
 * dependencies, random topological orders) its groups equal the components
 * of the incomparability graph computed by brute force (reachability by
 * depth-first search, then union-find over every unordered pair), numbered
 * by their first task, with the first task's salt. */
#include "testutil.h"

#include "sim/exec.c"

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static uint32_t find(uint32_t *up, uint32_t a)
{
    while (up[a] != a)
        a = up[a] = up[up[a]];
    return a;
}

static void one_case(uint64_t seed)
{
    uint64_t s = seed;
    uint32_t n = 2 + (uint32_t)(lcg(&s) % 60);
    unsigned density = 1 + (unsigned)(lcg(&s) % 30); /* percent of pairs i < j with an edge */
    struct part p = {0};
    p.n = n;
    p.t = xcalloc(n, sizeof *p.t);
    for (uint32_t i = 0; i < n; i++) {
        unsigned k = (unsigned)(lcg(&s) % 10);
        p.t[i].kind = k < 7 ? GRAPH_NET : GRAPH_COMPUTE;
        p.t[i].ndem = k < 6 ? 1 : 0; /* some network tasks send nothing */
        p.t[i].group = NONE;
    }
    /* edges along a hidden random order h: h[a] before h[b] when a < b */
    uint32_t *h = xmalloc(n * sizeof *h);
    for (uint32_t i = 0; i < n; i++)
        h[i] = i;
    for (uint32_t i = n; i-- > 1;) {
        uint32_t j = (uint32_t)(lcg(&s) % (i + 1)), x = h[i];
        h[i] = h[j];
        h[j] = x;
    }
    uint8_t *adj = xcalloc((size_t)n * n, 1);
    size_t ne = 0;
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = a + 1; b < n; b++)
            if (lcg(&s) % 100 < density) adj[(size_t)h[a] * n + h[b]] = 1, ne++;
    p.soff = xcalloc(n + 1, sizeof *p.soff);
    p.succ = xmalloc((ne ? ne : 1) * sizeof *p.succ);
    for (uint32_t i = 0, k = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++)
            if (adj[(size_t)i * n + j]) p.succ[k++] = j;
        p.soff[i + 1] = k;
    }
    /* a random topological order (Kahn, picking a random ready task) */
    uint32_t *left = xcalloc(n, sizeof *left), *order = xmalloc(n * sizeof *order),
             *ready = xmalloc(n * sizeof *ready);
    for (size_t k = 0; k < ne; k++)
        left[p.succ[k]]++;
    uint32_t nr = 0, no = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!left[i]) ready[nr++] = i;
    while (nr) {
        uint32_t k = (uint32_t)(lcg(&s) % nr), i = ready[k];
        ready[k] = ready[--nr];
        order[no++] = i;
        for (uint32_t j = p.soff[i]; j < p.soff[i + 1]; j++)
            if (--left[p.succ[j]] == 0) ready[nr++] = p.succ[j];
    }
    assert_int_equal(no, n);
    uint64_t *salt = xmalloc(n * sizeof *salt);
    for (uint32_t i = 0; i < n; i++)
        salt[i] = 1000 + i;
    group_tasks(&p, order, salt);
    /* brute force: reach[a][b] = b waits for a (through any chain) */
    uint8_t *reach = xcalloc((size_t)n * n, 1);
    for (uint32_t k = n; k-- > 0;) {
        uint32_t i = order[k];
        for (uint32_t j = p.soff[i]; j < p.soff[i + 1]; j++) {
            uint32_t c = p.succ[j];
            reach[(size_t)i * n + c] = 1;
            for (uint32_t x = 0; x < n; x++)
                if (reach[(size_t)c * n + x]) reach[(size_t)i * n + x] = 1;
        }
    }
    uint32_t *up = xmalloc(n * sizeof *up);
    for (uint32_t i = 0; i < n; i++)
        up[i] = i;
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = a + 1; b < n; b++) {
            int na = p.t[a].kind == GRAPH_NET && p.t[a].ndem,
                nb = p.t[b].kind == GRAPH_NET && p.t[b].ndem;
            if (na && nb && !reach[(size_t)a * n + b] && !reach[(size_t)b * n + a])
                up[find(up, a)] = find(up, b);
        }
    uint32_t *gid = xmalloc(n * sizeof *gid), ng = 0;
    for (uint32_t i = 0; i < n; i++)
        gid[i] = NONE;
    for (uint32_t i = 0; i < n; i++) {
        int ni = p.t[i].kind == GRAPH_NET && p.t[i].ndem;
        if (!ni) {
            assert_int_equal(p.t[i].group, NONE);
            continue;
        }
        uint32_t r = find(up, i);
        if (gid[r] == NONE) {
            gid[r] = ng++;
            assert_int_equal(p.grp[gid[r]].first, i);
            assert_int_equal(p.grp[gid[r]].salt, salt[i]);
        }
        if (p.t[i].group != gid[r])
            fail_msg("seed %llu: task %u in group %u, expected %u", (unsigned long long)seed, i,
                     p.t[i].group, gid[r]);
    }
    assert_int_equal(p.ngrp, ng);
    free(gid);
    free(up);
    free(reach);
    free(salt);
    free(left);
    free(order);
    free(ready);
    free(adj);
    free(h);
    free(p.soff);
    free(p.succ);
    free(p.grp);
    free(p.t);
}

static void test_groups_are_incomparability_components(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3000; seed++)
        one_case(seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_are_incomparability_components),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
