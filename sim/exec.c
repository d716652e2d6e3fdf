/* exec.c - the executor (see exec.h for the model).
 *
 * The graph arrives in parts (the tasks between two barriers). The calling
 * thread builds each part as it is taken (checks it, computes the ideal
 * bounds, adds the stream order of compute tasks as dependencies, finds the
 * cycles and groups the network tasks that may overlap) and then simulates
 * it, or hands it to the worker threads. A part is simulated on its own,
 * from its start (time 0): tasks are released in dependency order, compute
 * tasks and network tasks with nothing to send end at once (start plus
 * duration), and the network tasks of one group run on one engine, which
 * releases the tasks waiting for them as their last bytes arrive. At the
 * end the parts are chained (each starts when the one before has ended) and
 * their rows gathered in task order.
 *
 * Why the groups are enough: two network tasks in different groups are
 * ordered (one waits for the other through some chain), so the groups of a
 * part are ordered too, every task of one before every task of the next, and
 * at most one group's engine runs at a time. A group's engine starts when its
 * first tasks are ready and nothing else can run without it; every task that
 * becomes ready while it runs is a compute task (ends at once), a task of the
 * same group (joins the engine at its start time, which is not before the
 * engine's clock) or waits until the engine is done.
 */
#include "sim/exec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/eng.h"
#include "sim/exec_ideal.h"
#include "topo/ideal_lp.h"

#define NONE UINT32_MAX

/* Parts built ahead of the threads may hold this many bytes (beyond two per
 * thread): enough for a training step's parts at 256 GPUs to be built before
 * the first is simulated, so the threads can take the largest first. */
#define EXEC_HELD_MAX ((size_t)192 << 20)

enum { T_WAITING = 0, T_RUNNING, T_DONE };

/* A task as the executor runs it; times from its part's start. */
struct xtask {
    enum graph_kind kind;
    const char *name;
    uint32_t iter, layer, gpu;
    uint32_t chunk, mb;
    enum graph_pass pass;
    simtime_t dur;
    struct topo_demand *dem; /* network: the messages, until launched (ndem stays) */
    size_t ndem;
    uint64_t bytes;
    simtime_t ideal;
    int ideal_kind; /* enum topo_ideal_kind */
    uint32_t group; /* network tasks with messages: their engine run; else NONE */
    uint32_t left;  /* dependencies not yet ended */
    int state;
    simtime_t ready; /* the latest end among its dependencies so far */
    uint32_t crit;   /* the dependency that ended at `ready` (NONE: none yet) */
    simtime_t start, end;
    size_t live; /* messages not yet delivered */
    struct res_flow *fl;
    size_t nfl;
};

/* Network tasks that may overlap: one engine run. */
struct group {
    uint64_t salt; /* network task number of its first task */
    uint32_t first, size;
    int ran;
};

/* The tasks between two barriers. */
struct part {
    struct xtask *t;
    size_t n;
    uint32_t *soff, *succ; /* successors of task i: succ[soff[i] .. soff[i+1]) */
    struct group *grp;
    uint32_t ngrp;
    /* what simulating it found */
    simtime_t abs;  /* its start in the run (known while simulating only with sampling) */
    simtime_t span; /* until its last task ended */
    simtime_t last; /* until its engines' last events (acknowledgements drained) */
    struct res_sample *sm;
    size_t nsm, capsm;
    char inv[512];
    uint32_t inv_task; /* the task the invariant names (NONE: none broken) */
    uint64_t cost;     /* the bytes its network tasks send: which thread takes first */
    size_t held;       /* the bytes it holds until simulated (tasks, messages, edges) */
    int taken;         /* a thread took it */
    struct part *next;
};

struct exec {
    const struct topo *t;
    const struct exec_opts *o;
    uint64_t nets;            /* network tasks so far: salts */
    struct part *head, *tail; /* every part, in order */
    struct part *waiting;     /* the first part no thread took yet */
    size_t pending;           /* parts handed to threads and not finished */
    size_t held;              /* their bytes held (part.held) */
    int closed;               /* no more parts */
    pthread_mutex_t mu;       /* guards the above and the counters */
    pthread_cond_t cv_work, cv_done;
    struct eng_stats st;
    struct res_port_stats *ports;
    struct exec_ideal *ideal; /* the tasks' ideal bounds (the building thread's) */
};

static simtime_t sat_add(simtime_t a, simtime_t b)
{
    return a > SIMTIME_MAX - b ? SIMTIME_MAX : a + b;
}

/* ---- building a part ---- */

static const char *describe(const struct xtask *x, uint64_t id, char *buf, size_t n)
{
    snprintf(buf, n, "task %llu (%s, iteration %u, layer %u)", (unsigned long long)id,
             x->name ? x->name : "?", x->iter, x->layer);
    return buf;
}

struct edges {
    uint32_t (*e)[2]; /* {from, to}: `to` waits for `from` */
    size_t n, cap;
};

static void edge(struct edges *E, uint32_t from, uint32_t to)
{
    if (E->n == E->cap) {
        E->cap = E->cap ? 2 * E->cap : 64;
        E->e = xrealloc(E->e, E->cap * sizeof *E->e);
    }
    E->e[E->n][0] = from;
    E->e[E->n][1] = to;
    E->n++;
}

/* Compute tasks on one stream run in the order they were added: each waits
 * for the one before on its GPU (a task on every GPU waits for each GPU's,
 * and each later task for it). */
static void stream_edges(const struct part *p, uint32_t ngpu, struct edges *E)
{
    uint32_t *lastg = NULL, last_all = NONE;
    for (uint32_t i = 0; i < p->n; i++) {
        const struct xtask *x = &p->t[i];
        if (x->kind != GRAPH_COMPUTE || x->gpu == GRAPH_NO_GPU) continue; /* delays: no stream */
        if (!lastg) {
            lastg = xmalloc(ngpu * sizeof *lastg);
            for (uint32_t g = 0; g < ngpu; g++)
                lastg[g] = NONE;
        }
        if (x->gpu == GRAPH_ALL_GPUS) {
            if (last_all != NONE) edge(E, last_all, i);
            for (uint32_t g = 0; g < ngpu; g++)
                if (lastg[g] != NONE && (last_all == NONE || lastg[g] > last_all))
                    edge(E, lastg[g], i);
            last_all = i;
        } else {
            uint32_t prev = lastg[x->gpu];
            if (last_all != NONE && (prev == NONE || last_all > prev)) prev = last_all;
            if (prev != NONE) edge(E, prev, i);
            lastg[x->gpu] = i;
        }
    }
    free(lastg);
}

/* A cycle among the tasks Kahn's order left out (done[i] == 0): each has a
 * dependency left out too, so walking back from one repeats a task. */
static int cycle_error(const struct part *p, uint64_t first, const struct edges *E,
                       const uint8_t *done, struct err *e)
{
    uint32_t *pred = xmalloc(p->n * sizeof *pred), *seen = xmalloc(p->n * sizeof *seen);
    for (uint32_t i = 0; i < p->n; i++)
        pred[i] = seen[i] = NONE;
    for (size_t k = 0; k < E->n; k++)
        if (!done[E->e[k][0]] && !done[E->e[k][1]] && pred[E->e[k][1]] == NONE)
            pred[E->e[k][1]] = E->e[k][0];
    uint32_t v = 0;
    while (done[v])
        v++;
    uint32_t step = 0;
    while (seen[v] == NONE) {
        seen[v] = step++;
        v = pred[v];
    }
    /* v starts the cycle: v waits for pred[v], ..., which waits for v */
    char msg[ERR_MSG_MAX], d[192];
    size_t len = (size_t)snprintf(msg, sizeof msg, "graph: a dependency cycle: %s",
                                  describe(&p->t[v], first + v, d, sizeof d));
    const char *sep = " waits for";
    for (uint32_t u = pred[v];; u = pred[u]) {
        if (len + 220 >= sizeof msg) {
            snprintf(msg + len, sizeof msg - len, "%s ...", sep);
            break;
        }
        if (u == v) {
            snprintf(msg + len, sizeof msg - len, "%s task %llu", sep,
                     (unsigned long long)(first + v));
            break;
        }
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s %s", sep,
                                describe(&p->t[u], first + u, d, sizeof d));
        sep = ", which waits for";
    }
    free(pred);
    free(seen);
    return err_set(e, "%s", msg);
}

/* Groups the network tasks with messages: two that neither waits for (through
 * any chain of tasks) may overlap and share an engine, as do those that may
 * overlap with a task of a group. order[] is a topological order.
 *
 * The groups are the components of the network tasks' incomparability
 * graph, and those follow one another: for two components, every task of one
 * comes before every task of the other (take a, a' of one component and b of
 * another with a before b: a' incomparable to a cannot come after b, so it
 * comes before; walk the component). So in the topological order the groups
 * are runs of consecutive network tasks, and a new group starts at the r-th
 * network task exactly when each of the first r is an ancestor of each task
 * from the r-th on. With low(j) = the rank of the first network task that is
 * not an ancestor of the j-th (j itself when all before it are), that is
 * min over j >= r of low(j) >= r. Ancestor sets (bits by rank) are kept only
 * for the tasks between a processed predecessor and their own turn, so a
 * chain-like graph holds a few of them, not one per task
 * (tests/test_exec_groups.c checks the groups against brute force). */
static void group_tasks(struct part *p, const uint32_t *order, const uint64_t *salt)
{
    uint32_t m = 0, *net = xmalloc(p->n * sizeof *net); /* task -> its rank among network tasks */
    for (uint32_t k = 0; k < p->n; k++) {
        uint32_t i = order[k];
        net[i] = p->t[i].kind == GRAPH_NET && p->t[i].ndem ? m++ : NONE;
    }
    uint32_t *seg = xmalloc((m ? m : 1) * sizeof *seg); /* rank -> its group's first rank */
    for (uint32_t r = 0; r < m; r++)
        seg[r] = 0;
    if (m > 1) {
        size_t W = (m + 63) / 64;
        /* a set holds words 0 .. len-1 (the bits above are 0): a task's
         * ancestors rank below it, so sets stay as short as their highest
         * rank, and a successor's first set is a copy, not zeros and ORs */
        uint64_t **anc = xcalloc(p->n, sizeof *anc); /* NULL: no ancestor yet, or done */
        size_t *len = xcalloc(p->n, sizeof *len);
        uint32_t *low = xmalloc(m * sizeof *low);
        for (uint32_t k = 0; k < p->n; k++) {
            uint32_t i = order[k];
            uint64_t *ai = anc[i];
            size_t li = len[i];
            if (net[i] != NONE) {
                uint32_t r = net[i], l = 0;
                if (ai) {
                    size_t w = 0;
                    while (w < li && ai[w] == UINT64_MAX)
                        w++;
                    l = w < li  ? (uint32_t)(w * 64 + (uint32_t)__builtin_ctzll(~ai[w]))
                        : w < W ? (uint32_t)(w * 64)
                                : m;
                }
                low[r] = l < r ? l : r;
            }
            size_t need = li;
            if (net[i] != NONE && net[i] / 64 + 1 > need) need = net[i] / 64 + 1;
            for (uint32_t j = p->soff[i]; j < p->soff[i + 1]; j++) {
                uint32_t s = p->succ[j];
                uint64_t *as = anc[s];
                if (!as) {
                    as = anc[s] = xmalloc(need * sizeof *as);
                    if (li) memcpy(as, ai, li * sizeof *as);
                    memset(as + li, 0, (need - li) * sizeof *as);
                    len[s] = need;
                } else {
                    if (need > len[s]) {
                        as = anc[s] = xrealloc(as, need * sizeof *as);
                        memset(as + len[s], 0, (need - len[s]) * sizeof *as);
                        len[s] = need;
                    }
                    for (size_t w = 0; w < li; w++)
                        as[w] |= ai[w];
                }
                if (net[i] != NONE) as[net[i] / 64] |= 1ull << (net[i] % 64);
            }
            free(ai);
            anc[i] = NULL;
        }
        free(len);
        free(anc);
        /* cuts: a group starts at rank r when min(low[r..m-1]) >= r */
        uint32_t *cut = xcalloc(m, sizeof *cut), mn = UINT32_MAX;
        for (uint32_t r = m; r-- > 1;) {
            if (low[r] < mn) mn = low[r];
            cut[r] = mn >= r;
        }
        for (uint32_t r = 1; r < m; r++)
            seg[r] = cut[r] ? r : seg[r - 1];
        free(cut);
        free(low);
    }
    /* groups numbered by their first task (in task number) */
    uint32_t *gid = xmalloc((m ? m : 1) * sizeof *gid);
    for (uint32_t r = 0; r < m; r++)
        gid[r] = NONE;
    p->grp = xcalloc(m ? m : 1, sizeof *p->grp);
    for (uint32_t i = 0; i < p->n; i++) {
        if (net[i] == NONE) continue;
        uint32_t g = seg[net[i]];
        if (gid[g] == NONE) {
            gid[g] = p->ngrp++;
            p->grp[gid[g]] = (struct group){salt[i], i, 0, 0};
        }
        p->t[i].group = gid[g];
        p->grp[gid[g]].size++;
    }
    free(gid);
    free(seg);
    free(net);
}

/* Builds a part from the graph's; NULL with e set when it is refused. */
static struct part *part_build(struct exec *x, struct graph_part *gp, struct err *e)
{
    const struct topo *t = x->t;
    struct part *p = xcalloc(1, sizeof *p);
    p->n = gp->n;
    p->t = xcalloc(p->n ? p->n : 1, sizeof *p->t);
    p->inv_task = NONE;
    uint64_t *salt = xmalloc((p->n ? p->n : 1) * sizeof *salt);
    char d[192];
    int rc = 0;
    if (p->n >= NONE) rc = err_set(e, "graph: more than %u tasks between two barriers", NONE - 1);
    for (uint32_t i = 0; i < p->n && rc == 0; i++) {
        struct graph_task *g = &gp->task[i];
        struct xtask *xt = &p->t[i];
        xt->kind = g->kind;
        xt->name = g->name;
        xt->iter = g->iter;
        xt->layer = g->layer;
        xt->gpu = g->gpu;
        xt->dur = g->dur;
        xt->chunk = g->chunk;
        xt->mb = g->micro_batch;
        xt->pass = g->pass;
        xt->group = NONE;
        xt->crit = NONE;
        if (g->kind == GRAPH_COMPUTE) {
            if (g->gpu != GRAPH_ALL_GPUS && g->gpu != GRAPH_NO_GPU && g->gpu >= t->hosts)
                rc = err_set(e, "graph: %s runs on GPU %u, but the fabric has %u GPUs",
                             describe(xt, gp->first + i, d, sizeof d), g->gpu, t->hosts);
            continue;
        }
        salt[i] = x->nets++;
        xt->dem = g->dem;
        xt->ndem = g->ndem;
        g->dem = NULL;
        g->ndem = 0;
        if (xt->ndem > UINT32_MAX) /* a message's tag holds its index in 32 bits */
            rc = err_set(e, "graph: %s has more than 2^32 messages",
                         describe(xt, gp->first + i, d, sizeof d));
        for (size_t k = 0; k < xt->ndem && rc == 0; k++) {
            if (xt->dem[k].src >= t->hosts || xt->dem[k].dst >= t->hosts)
                rc = err_set(e,
                             "graph: %s sends from host %u to host %u, but the fabric has %u "
                             "hosts",
                             describe(xt, gp->first + i, d, sizeof d), xt->dem[k].src,
                             xt->dem[k].dst, t->hosts);
            xt->bytes += xt->dem[k].bytes;
        }
        /* ethereal's bound counts its own subflows (the cut bound per
         * subflow count); the LP takes one packet split for a phase
         * (exec_ideal.h: remembered for one-message tasks) */
        if (rc == 0) xt->ideal = exec_ideal_ps(x->ideal, xt->dem, xt->ndem, &xt->ideal_kind);
    }
    struct edges E = {0};
    for (size_t k = 0; k < gp->ndep; k++)
        edge(&E, (uint32_t)(gp->dep[k].on - gp->first), (uint32_t)(gp->dep[k].task - gp->first));
    if (rc == 0) stream_edges(p, t->hosts, &E);
    /* successors, and Kahn's order (which finds the cycles) */
    p->soff = xcalloc(p->n + 1, sizeof *p->soff);
    p->succ = xmalloc((E.n ? E.n : 1) * sizeof *p->succ);
    for (size_t k = 0; k < E.n; k++)
        p->soff[E.e[k][0] + 1]++;
    for (uint32_t i = 0; i < p->n; i++)
        p->soff[i + 1] += p->soff[i];
    uint32_t *fill = xmalloc((p->n ? p->n : 1) * sizeof *fill);
    memcpy(fill, p->soff, p->n * sizeof *fill);
    for (size_t k = 0; k < E.n; k++) {
        p->succ[fill[E.e[k][0]]++] = E.e[k][1];
        p->t[E.e[k][1]].left++;
    }
    uint32_t *order = fill, *left = xmalloc((p->n ? p->n : 1) * sizeof *left);
    uint8_t *done = xcalloc(p->n ? p->n : 1, 1);
    size_t no = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        left[i] = p->t[i].left;
        if (!left[i]) order[no++] = i;
    }
    for (size_t k = 0; k < no; k++) {
        uint32_t i = order[k];
        done[i] = 1;
        for (uint32_t j = p->soff[i]; j < p->soff[i + 1]; j++)
            if (--left[p->succ[j]] == 0) order[no++] = p->succ[j];
    }
    if (rc == 0 && no < p->n) rc = cycle_error(p, gp->first, &E, done, e);
    if (rc == 0) group_tasks(p, order, salt);
    p->held = p->n * sizeof *p->t + E.n * sizeof *p->succ + (p->n + 1) * sizeof *p->soff;
    for (uint32_t i = 0; i < p->n; i++) {
        p->cost += p->t[i].bytes;
        p->held += p->t[i].ndem * sizeof *p->t[i].dem;
    }
    free(done);
    free(left);
    free(order);
    free(E.e);
    free(salt);
    if (rc == 0) return p;
    for (uint32_t i = 0; i < p->n; i++)
        free(p->t[i].dem);
    free(p->t);
    free(p->soff);
    free(p->succ);
    free(p->grp);
    free(p);
    return NULL;
}

/* ---- simulating a part ---- */

/* One part being simulated, and the group whose engine runs. */
struct run {
    struct exec *x;
    struct part *p;
    struct eng *e;
    uint32_t *q; /* tasks ready, not yet started: a FIFO (each task enters once) */
    size_t qh, qt;
    uint32_t *park; /* network tasks ready, waiting for their group's engine */
    size_t npark;
    int in_engine;
    uint32_t cur;           /* the running group */
    simtime_t origin;       /* its engine's time 0, from the part's start */
    simtime_t period, gabs; /* sampling: the period, the engine's time 0 in the run */
    uint64_t *last_bytes;   /* sampling: per port, at the previous sample */
};

static void add_sample(struct part *p, simtime_t t, uint32_t port, uint64_t sent, uint64_t q)
{
    if (p->nsm == p->capsm) {
        p->capsm = p->capsm ? 2 * p->capsm : 1024;
        p->sm = xrealloc(p->sm, p->capsm * sizeof *p->sm);
    }
    p->sm[p->nsm++] = (struct res_sample){t, port, sent, q};
}

/* The sampler: one row per link that sent bytes or holds a queue, at the
 * run's time. */
static void on_sample(void *ctx, const struct eng *e, simtime_t now)
{
    struct run *r = ctx;
    uint32_t nports = eng_nports(e);
    for (uint32_t p = 0; p < nports; p++) {
        uint64_t bytes = eng_port_sent(e, p), q = eng_port_backlog(e, p);
        uint64_t sent = bytes - r->last_bytes[p];
        r->last_bytes[p] = bytes;
        if (sent || q) add_sample(r->p, r->gabs + now, p, sent, q);
    }
}

static void finish(struct run *r, uint32_t i, simtime_t end)
{
    struct part *p = r->p;
    struct xtask *x = &p->t[i];
    x->end = end;
    x->state = T_DONE;
    for (uint32_t j = p->soff[i]; j < p->soff[i + 1]; j++) {
        struct xtask *s = &p->t[p->succ[j]];
        if (end > s->ready || s->crit == NONE) {
            s->ready = end;
            s->crit = i;
        }
        if (--s->left == 0) r->q[r->qt++] = p->succ[j];
    }
}

/* Task i's messages join the running engine at the task's start. */
static void launch(struct run *r, uint32_t i)
{
    struct xtask *x = &r->p->t[i];
    x->state = T_RUNNING;
    x->live = x->ndem;
    if (r->x->o->flows) {
        x->fl = xcalloc(x->ndem, sizeof *x->fl);
        x->nfl = x->ndem;
    }
    /* transport.path = ethereal: the task is a collective step, whose flows
     * from each source are split and assigned to paths together */
    struct eth_sub *subs = NULL;
    size_t *off = NULL;
    /* (on the engine's fabric: with faults.fail its routing after a reroute) */
    if (r->x->o->tr->path == PATH_ETHEREAL) eth_assign(r->e->t, x->dem, x->ndem, &subs, &off);
    for (size_t m = 0; m < x->ndem; m++) {
        const struct topo_demand *d = &x->dem[m];
        if (x->fl) /* (cnps: NULL unless the engine counts them, cc = dcqcn) */
            x->fl[m] = (struct res_flow){
                .src = d->src, .dst = d->dst, .bytes = d->bytes, .loss.cnps = RES_NO_COUNT};
        if (subs)
            eng_add_msg_paths(r->e, d->src, d->dst, x->start - r->origin, (uint64_t)i << 32 | m,
                              &subs[off[m]], (uint32_t)(off[m + 1] - off[m]));
        else
            eng_add_msg(r->e, d->src, d->dst, d->bytes, x->start - r->origin,
                        (uint64_t)i << 32 | m);
    }
    free(subs);
    free(off);
    /* the engine holds the messages now: a part's demands need not all be
     * held until it ends (a training step's backward part is one part) */
    free(x->dem);
    x->dem = NULL;
}

/* Starts the tasks that are ready: compute tasks (and network tasks with
 * nothing to send) end at once; network tasks join the running engine when
 * theirs, else wait for their group's. */
static void release(struct run *r)
{
    struct part *p = r->p;
    while (r->qh < r->qt) {
        uint32_t i = r->q[r->qh++];
        struct xtask *x = &p->t[i];
        x->start = x->ready;
        if (x->kind == GRAPH_COMPUTE)
            finish(r, i, sat_add(x->start, x->dur));
        else if (!x->ndem || x->start > (simtime_t)INT64_MAX) /* past the clock: refused later */
            finish(r, i, x->start);
        else if (r->in_engine && x->group == r->cur)
            launch(r, i);
        else
            r->park[r->npark++] = i;
    }
}

/* A message's loss-recovery counters, final (eng_set_msg_loss). */
static void on_msg_loss(void *ctx, struct eng *e, uint64_t tag, const struct res_flow_loss *loss)
{
    (void)e;
    struct run *r = ctx;
    struct xtask *x = &r->p->t[(uint32_t)(tag >> 32)];
    if (x->fl) x->fl[tag & 0xffffffffu].loss = *loss;
}

static void on_msg_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                        const struct res_flow_loss *loss)
{
    (void)e;
    struct run *r = ctx;
    uint32_t i = (uint32_t)(tag >> 32);
    struct xtask *x = &r->p->t[i];
    if (x->fl) {
        x->fl[tag & 0xffffffffu].start_ps = r->origin + start;
        x->fl[tag & 0xffffffffu].end_ps = r->origin + end;
        if (loss) x->fl[tag & 0xffffffffu].loss = *loss;
    }
    if (--x->live == 0) {
        finish(r, i, r->origin + end);
        release(r);
    }
}

/* Runs group k's engine with its parked tasks, and those that join it. */
static void run_group(struct run *r, uint32_t k, struct eng **ep)
{
    struct exec *x = r->x;
    struct part *p = r->p;
    struct group *g = &p->grp[k];
    g->ran = 1;
    /* its parked tasks, in task order, out of the parking */
    uint32_t *mine = xmalloc(r->npark * sizeof *mine);
    size_t nm = 0, kept = 0;
    for (size_t j = 0; j < r->npark; j++)
        if (p->t[r->park[j]].group == k)
            mine[nm++] = r->park[j];
        else
            r->park[kept++] = r->park[j];
    r->npark = kept;
    for (size_t a = 1; a < nm; a++)
        for (size_t b = a; b > 0 && mine[b - 1] > mine[b]; b--) {
            uint32_t tmp = mine[b];
            mine[b] = mine[b - 1];
            mine[b - 1] = tmp;
        }
    simtime_t origin = SIMTIME_MAX;
    for (size_t j = 0; j < nm; j++)
        if (p->t[mine[j]].start < origin) origin = p->t[mine[j]].start;
    struct eng_hooks h = {r, on_msg_done};
    if (!*ep) *ep = eng_create_kind(x->o->engine, x->t, x->o->tr, x->o->seed, &h);
    struct eng *e = r->e = *ep;
    eng_reset(e, &h, g->salt);
    eng_set_msg_loss(e, on_msg_loss, r);
    r->in_engine = 1;
    r->cur = k;
    r->origin = origin;
    for (size_t j = 0; j < nm; j++)
        launch(r, mine[j]);
    free(mine);
    r->period = x->o->sample_ps;
    if (r->period) {
        r->gabs = p->abs + origin;
        r->last_bytes = xcalloc(x->t->nports, sizeof *r->last_bytes);
        /* the first point of the run's grid after the engine's start */
        eng_set_sampler(e, (r->gabs / r->period + 1) * r->period - r->gabs, r->period, on_sample,
                        r);
    }
    eng_run(e);
    r->in_engine = 0;
    simtime_t now = eng_now(e);
    if (origin + now > p->last) p->last = origin + now;
    if (r->period) {
        /* What the links sent after the last sample shows at the first
         * point of the grid at or after the engine's last event (every
         * departure is at or before it, and after the last sample, which is
         * at most one period earlier); the next engine's samples there add
         * to it. So a link's samples add up to its bytes in the links table. */
        simtime_t at = (r->gabs + now + r->period - 1) / r->period * r->period;
        for (uint32_t q = 0; q < x->t->nports; q++) {
            uint64_t sent = eng_port(e, q)->bytes - r->last_bytes[q];
            if (sent) add_sample(p, at, q, sent, 0);
        }
        free(r->last_bytes);
        r->last_bytes = NULL;
    }
    char why[320];
    if (eng_check(e, why, sizeof why) < 0 && (p->inv_task == NONE || g->first < p->inv_task)) {
        const struct xtask *f = &p->t[g->first];
        int n = snprintf(p->inv, sizeof p->inv, "%s, in the %s phase of iteration %u, layer %u",
                         why, f->name, f->iter, f->layer);
        if (g->size > 1 && n > 0 && (size_t)n < sizeof p->inv)
            snprintf(p->inv + n, sizeof p->inv - (size_t)n,
                     " (one engine with %u other network task%s)", g->size - 1,
                     g->size == 2 ? "" : "s");
        p->inv_task = g->first;
    }
    /* a broken engine may leave tasks unfinished: they end with it */
    for (uint32_t i = 0; i < p->n; i++)
        if (p->t[i].state == T_RUNNING) finish(r, i, origin + now);
    pthread_mutex_lock(&x->mu);
    eng_stats_fold(&x->st, eng_stats(e));
    for (uint32_t q = 0; q < x->t->nports; q++)
        res_port_stats_fold(&x->ports[q], eng_port(e, q));
    pthread_mutex_unlock(&x->mu);
}

/* Simulates part p on *ep (an engine made here or kept from an earlier part,
 * reset per group). */
static void part_run(struct exec *x, struct part *p, struct eng **ep)
{
    struct run r = {.x = x, .p = p};
    r.q = xmalloc((p->n ? p->n : 1) * sizeof *r.q);
    r.park = xmalloc((p->n ? p->n : 1) * sizeof *r.park);
    for (uint32_t i = 0; i < p->n; i++)
        if (!p->t[i].left) r.q[r.qt++] = i;
    release(&r);
    while (r.npark) {
        uint32_t k = p->t[r.park[0]].group;
        if (p->grp[k].ran) {
            /* only after a broken engine: its late tasks are not simulated */
            uint32_t i = r.park[0];
            r.park[0] = r.park[--r.npark];
            finish(&r, i, p->t[i].start);
        } else {
            run_group(&r, k, ep);
        }
        release(&r);
    }
    for (uint32_t i = 0; i < p->n; i++) {
        if (p->t[i].end > p->span) p->span = p->t[i].end;
        free(p->t[i].dem);
        p->t[i].dem = NULL;
    }
    if (p->span > p->last) p->last = p->span;
    free(r.q);
    free(r.park);
    free(p->soff);
    free(p->succ);
    free(p->grp);
    p->soff = p->succ = NULL;
    p->grp = NULL;
}

/* The waiting part that sends the most bytes (the first such), taken: the
 * largest parts first, so that a long part does not start last and run
 * alone (longest processing time first). NULL when none waits. */
static struct part *take(struct exec *x)
{
    struct part *best = NULL;
    for (struct part *p = x->waiting; p; p = p->next)
        if (!p->taken && (!best || p->cost > best->cost)) best = p;
    if (!best) return NULL;
    best->taken = 1;
    while (x->waiting && x->waiting->taken)
        x->waiting = x->waiting->next;
    return best;
}

static void *worker(void *arg)
{
    struct exec *x = arg;
    struct eng *e = NULL;
    pthread_mutex_lock(&x->mu);
    for (;;) {
        while (!x->waiting && !x->closed)
            pthread_cond_wait(&x->cv_work, &x->mu);
        struct part *p = take(x);
        if (!p) break;
        pthread_mutex_unlock(&x->mu);
        part_run(x, p, &e);
        pthread_mutex_lock(&x->mu);
        x->pending--;
        x->held -= p->held;
        pthread_cond_broadcast(&x->cv_done);
    }
    pthread_mutex_unlock(&x->mu);
    eng_destroy(e);
    return NULL;
}

/* ---- the rows ---- */

static int cmp_sample(const void *a, const void *b)
{
    const struct res_sample *x = a, *y = b;
    if (x->t_ps != y->t_ps) return x->t_ps < y->t_ps ? -1 : 1;
    return (x->link > y->link) - (x->link < y->link);
}

/* The parts' samples in time order, those at one point of the grid and one
 * link added up (the last at the first point of the grid at or after the
 * run's end). */
static void gather_samples(struct exec *x, struct exec_result *r)
{
    size_t n = 0;
    for (struct part *p = x->head; p; p = p->next)
        n += p->nsm;
    if (!n) return;
    struct res_sample *s = xmalloc(n * sizeof *s);
    size_t k = 0;
    for (struct part *p = x->head; p; p = p->next) {
        if (!p->nsm) continue; /* p->sm may be NULL: memcpy's is nonnull */
        memcpy(s + k, p->sm, p->nsm * sizeof *s);
        k += p->nsm;
    }
    qsort(s, n, sizeof *s, cmp_sample);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && s[k - 1].t_ps == s[i].t_ps && s[k - 1].link == s[i].link) {
            s[k - 1].bytes += s[i].bytes;
            s[k - 1].queue_bytes += s[i].queue_bytes;
        } else {
            s[k++] = s[i];
        }
    }
    r->samples = s;
    r->nsamples = k;
}

/* Flow records, numbered in task order, at the run's time. */
static void gather_flows(struct exec *x, struct exec_result *r)
{
    size_t n = 0;
    for (struct part *p = x->head; p; p = p->next)
        for (size_t i = 0; i < p->n; i++)
            n += p->t[i].nfl;
    if (!n) return;
    r->flows = xmalloc(n * sizeof *r->flows);
    for (struct part *p = x->head; p; p = p->next)
        for (size_t i = 0; i < p->n; i++)
            for (size_t m = 0; m < p->t[i].nfl; m++) {
                struct res_flow *f = &r->flows[r->nflows];
                *f = p->t[i].fl[m];
                f->flow = r->nflows++;
                f->start_ps += p->abs;
                f->end_ps += p->abs;
            }
}

/* Chains the parts (each starts when the one before has ended) into the
 * phase rows; -1 when a task would end past the clock's end. */
static int gather_phases(struct exec *x, struct exec_result *r, struct err *e)
{
    size_t n = 0;
    for (struct part *p = x->head; p; p = p->next)
        n += p->n;
    r->phases = xcalloc(n ? n : 1, sizeof *r->phases);
    simtime_t clock = 0, end = 0;
    for (struct part *p = x->head; p; p = p->next) {
        p->abs = clock;
        for (size_t i = 0; i < p->n; i++) {
            const struct xtask *t = &p->t[i];
            struct res_phase *ph = &r->phases[r->nphases++];
            ph->iter = t->iter;
            ph->layer = t->layer;
            ph->phase = t->name;
            ph->ideal_ps = t->ideal;
            ph->ideal_kind = t->kind == GRAPH_COMPUTE ? NULL : topo_ideal_kind_name(t->ideal_kind);
            ph->bytes = t->bytes;
            if (t->end > (simtime_t)INT64_MAX - clock) {
                /* the clock (kept below 2^63 ps) would wrap */
                ph->start_ps = ph->end_ps = clock;
                r->st.now = end;
                return err_set(e,
                               "workload: the %s phase of iteration %u, layer %u would end past "
                               "the clock's end (%.3g s of simulated time)",
                               t->name, t->iter, t->layer, (double)INT64_MAX / (double)PS_PER_S);
            }
            ph->start_ps = clock + t->start;
            ph->end_ps = clock + t->end;
        }
        if (clock + p->last > end) end = clock + p->last;
        clock += p->span;
    }
    r->st.now = end;
    return 0;
}

/* The task rows (after gather_phases: the parts' starts are known), each
 * step's critical path marked (exec.h). */
static void gather_tasks(struct exec *x, struct exec_result *r)
{
    size_t n = 0;
    for (struct part *p = x->head; p; p = p->next)
        n += p->n;
    if (!n) return;
    struct res_task *t = xcalloc(n, sizeof *t);
    uint64_t *pred = xmalloc(n * sizeof *pred);
    size_t k = 0;
    uint64_t prev_last = UINT64_MAX; /* the previous part's last task to end */
    for (struct part *p = x->head; p; p = p->next) {
        uint64_t first = k, last = UINT64_MAX;
        for (size_t i = 0; i < p->n; i++, k++) {
            const struct xtask *xt = &p->t[i];
            t[k] = (struct res_task){.task = k,
                                     .iter = xt->iter,
                                     .layer = xt->layer,
                                     .chunk = xt->chunk,
                                     .mb = xt->mb,
                                     .phase = xt->name,
                                     .kind = xt->kind != GRAPH_COMPUTE ? RES_TASK_NETWORK
                                             : xt->gpu == GRAPH_NO_GPU ? RES_TASK_DELAY
                                                                       : RES_TASK_COMPUTE,
                                     .pass = xt->pass == GRAPH_BACKWARD ? RES_PASS_BACKWARD
                                                                        : RES_PASS_FORWARD,
                                     .start_ps = r->phases[k].start_ps,
                                     .end_ps = r->phases[k].end_ps};
            pred[k] = xt->crit != NONE ? first + xt->crit : prev_last;
            if (last == UINT64_MAX || t[k].end_ps > t[last].end_ps) last = k;
        }
        if (last != UINT64_MAX) prev_last = last;
    }
    /* per step (a run of tasks of one iteration): back from its last task */
    for (size_t i = 0; i < n;) {
        size_t j = i, end = i;
        while (j < n && t[j].iter == t[i].iter) {
            if (t[j].end_ps > t[end].end_ps) end = j;
            j++;
        }
        for (uint64_t v = end; v != UINT64_MAX && t[v].iter == t[i].iter && !t[v].critical;
             v = pred[v])
            t[v].critical = 1;
        i = j;
    }
    free(pred);
    r->tasks = t;
    r->ntasks = n;
}

/* ---- the entry point ---- */

/* Simulates p here, or hands it to the threads (waiting while more than two
 * per thread wait and they hold more than EXEC_HELD_MAX bytes, so the
 * messages held stay bounded while the parts built ahead let the threads
 * take the largest first). */
static void dispatch(struct exec *x, struct part *p, unsigned started, struct eng **ep,
                     simtime_t *clock)
{
    pthread_mutex_lock(&x->mu);
    if (x->tail)
        x->tail->next = p;
    else
        x->head = p;
    x->tail = p;
    if (!started) {
        pthread_mutex_unlock(&x->mu);
        p->abs = *clock;
        part_run(x, p, ep);
        *clock = sat_add(*clock, p->span);
        return;
    }
    if (!x->waiting) x->waiting = p;
    x->pending++;
    x->held += p->held;
    pthread_cond_signal(&x->cv_work);
    while (x->pending > 2 * (size_t)started && x->held > EXEC_HELD_MAX)
        pthread_cond_wait(&x->cv_done, &x->mu);
    pthread_mutex_unlock(&x->mu);
}

static void free_parts(struct part *p)
{
    while (p) {
        struct part *next = p->next;
        for (size_t i = 0; i < p->n; i++) {
            free(p->t[i].dem);
            free(p->t[i].fl);
        }
        free(p->t);
        free(p->soff);
        free(p->succ);
        free(p->grp);
        free(p->sm);
        free(p);
        p = next;
    }
}

int exec_run(struct graph *g, exec_more_fn more, void *ctx, const struct topo *t,
             const struct exec_opts *o, struct exec_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    if (!eng_ops_find(o->engine))
        return err_set(e, "sim.engine: engine %d is not available in this build", o->engine);
    struct exec *x = xcalloc(1, sizeof *x);
    x->t = t;
    x->o = o;
    x->ports = xcalloc(t->nports, sizeof *x->ports);
    x->ideal = exec_ideal_create(t, o->tr, o->ideal_lp_max);
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv_work, NULL);
    pthread_cond_init(&x->cv_done, NULL);
    /* Sampling needs each part's start before it is simulated. */
    unsigned nthreads = o->sample_ps ? 1 : o->threads ? o->threads : 1;
    pthread_t *tid = xcalloc(nthreads, sizeof *tid);
    unsigned started = 0;
    if (nthreads > 1)
        for (; started < nthreads; started++)
            if (pthread_create(&tid[started], NULL, worker, x) != 0) break;

    struct eng *eng = NULL; /* the engine of the parts simulated here */
    simtime_t clock = 0;    /* the run's time so far (parts simulated here) */
    int rc = 0, done = !more;
    if (done) graph_close(g);
    for (;;) {
        if (graph_error(g)) {
            rc = err_set(e, "%s", graph_error(g));
            break;
        }
        /* Every part g holds is checked before any of them runs. */
        struct part *batch = NULL, **tail = &batch;
        struct graph_part gp;
        while (rc == 0 && graph_take(g, &gp)) {
            struct part *p = part_build(x, &gp, e);
            graph_part_free(&gp);
            if (!p) {
                rc = -1;
                break;
            }
            *tail = p;
            tail = &p->next;
        }
        if (rc) {
            free_parts(batch);
            break;
        }
        while (batch) {
            struct part *p = batch;
            batch = p->next;
            p->next = NULL;
            dispatch(x, p, started, &eng, &clock);
        }
        if (done) break;
        if (!more(ctx, g)) {
            graph_close(g);
            done = 1;
        }
    }
    pthread_mutex_lock(&x->mu);
    x->closed = 1;
    pthread_cond_broadcast(&x->cv_work);
    pthread_mutex_unlock(&x->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    eng_destroy(eng);

    r->st = x->st;
    r->ports = x->ports;
    if (gather_phases(x, r, rc ? NULL : e) < 0 && rc == 0) rc = -1;
    if (o->tasks && rc == 0) gather_tasks(x, r);
    for (struct part *p = x->head; p; p = p->next)
        if (p->inv_task != NONE) {
            snprintf(r->invariant, sizeof r->invariant, "%s", p->inv);
            break;
        }
    gather_flows(x, r);
    gather_samples(x, r);
    free_parts(x->head);
    exec_ideal_destroy(x->ideal);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv_work);
    pthread_cond_destroy(&x->cv_done);
    free(x);
    return rc;
}

void exec_result_free(struct exec_result *r)
{
    free(r->phases);
    free(r->flows);
    free(r->samples);
    free(r->tasks);
    free(r->ports);
    memset(r, 0, sizeof *r);
}
