/* tasks.c - what the tasks table's rows say per step (see res.h): the
 * names of a task's kind and pass, and per step (iteration) the network time
 * (the union of its network tasks' intervals) and the exposed communication
 * (the part of that union when no compute task of the step runs; a delay,
 * a timer on no stream, is neither). One
 * definition, for `moesim report --metric exposed_comm`, the docs and the
 * tests. */
#include "results/res.h"

#include <stdlib.h>

const char *res_task_kind_name(int kind)
{
    return kind == RES_TASK_COMPUTE ? "compute" : kind == RES_TASK_DELAY ? "delay" : "network";
}

const char *res_task_pass_name(int pass)
{
    return pass == RES_PASS_BACKWARD ? "backward" : "forward";
}

struct ival {
    uint32_t iter;
    uint8_t kind;
    simtime_t a, b;
};

static int cmp_ival(const void *x, const void *y)
{
    const struct ival *p = x, *q = y;
    if (p->iter != q->iter) return p->iter < q->iter ? -1 : 1;
    if (p->kind != q->kind) return p->kind < q->kind ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Merges the sorted intervals v[0..n-1] in place; returns how many remain. */
static size_t merge(struct ival *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].b <= v[i].a) continue; /* no time */
        if (k && v[i].a <= v[k - 1].b) {
            if (v[i].b > v[k - 1].b) v[k - 1].b = v[i].b;
        } else {
            v[k++] = v[i];
        }
    }
    return k;
}

size_t res_steps_comm(const struct res_task *t, size_t n, struct res_step_comm *out, size_t nmax)
{
    if (!n) return 0;
    struct ival *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct ival){t[i].iter, t[i].kind, t[i].start_ps, t[i].end_ps};
    qsort(v, n, sizeof *v, cmp_ival);
    size_t steps = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        simtime_t s0 = v[i].a, s1 = v[i].b;
        while (j < n && v[j].iter == v[i].iter) {
            if (v[j].a < s0) s0 = v[j].a;
            if (v[j].b > s1) s1 = v[j].b;
            j++;
        }
        /* [i, m): network, [m, q): compute (the kinds sort in that order),
         * then delays, which count as neither */
        size_t m = i, q;
        while (m < j && v[m].kind == RES_TASK_NETWORK)
            m++;
        for (q = m; q < j && v[q].kind == RES_TASK_COMPUTE; q++)
            ;
        size_t nn = merge(v + i, m - i), nc = merge(v + m, q - m);
        const struct ival *N = v + i, *C = v + m;
        simtime_t net = 0, hidden = 0;
        for (size_t a = 0; a < nn; a++)
            net += N[a].b - N[a].a;
        for (size_t a = 0, c = 0; a < nn && c < nc;) {
            simtime_t lo = N[a].a > C[c].a ? N[a].a : C[c].a;
            simtime_t hi = N[a].b < C[c].b ? N[a].b : C[c].b;
            if (hi > lo) hidden += hi - lo;
            if (N[a].b < C[c].b)
                a++;
            else
                c++;
        }
        if (steps < nmax) out[steps] = (struct res_step_comm){v[i].iter, s0, s1, net, net - hidden};
        steps++;
        i = j;
    }
    free(v);
    return steps;
}
