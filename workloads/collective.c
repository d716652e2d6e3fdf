/* collective.c - the collective workloads: alltoall and permutation.
 *
 * alltoall: every host sends workload.bytes to every other host, in the
 * shifted order of pairwise-exchange collectives.
 * permutation: a random permutation with no fixed point (GSL shuffle on the
 * RNG_PERMUTATION stream of workload.seed, base/rng.h, then any host mapped
 * to itself swaps with its neighbour); each host sends
 * workload.bytes to its image. Both repeat for sim.iterations.
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdlib.h>

#include "base/rng.h"
#include "workloads/wl.h"

struct coll {
    struct topo_demand *dem;
    size_t ndem;
    uint32_t iter, iterations;
    const char *name;
};

static int coll_next(void *state, struct wl_phase *out)
{
    struct coll *s = state;
    if (s->iter >= s->iterations)
        return 0;
    out->kind = WL_NET;
    out->iter = s->iter++;
    out->layer = 0;
    out->name = s->name;
    out->dem = s->dem;
    out->ndem = s->ndem;
    out->duration = 0;
    return 1;
}

static void coll_destroy(void *state)
{
    struct coll *s = state;
    free(s->dem);
    free(s);
}

static struct coll *coll_new(const struct wl_specs *c, const char *name, size_t ndem, struct wl_gen *g)
{
    struct coll *s = xcalloc(1, sizeof *s);
    s->dem = xcalloc(ndem, sizeof *s->dem);
    s->ndem = ndem;
    s->iterations = (uint32_t)c->sim->iterations;
    s->name = name;
    g->state = s;
    g->next = coll_next;
    g->destroy = coll_destroy;
    return s;
}

int wl_alltoall_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e)
{
    (void)e;
    uint32_t H = t->hosts;
    struct coll *s = coll_new(c, "alltoall", (size_t)H * (H - 1), g);
    /* Shifted order, as collective libraries schedule it: in round j every
     * host a sends to a+j, so no destination is hit by every sender at once
     * (each NIC serves its messages round robin in this order). */
    size_t k = 0;
    for (uint32_t j = 1; j < H; j++)
        for (uint32_t a = 0; a < H; a++)
            s->dem[k++] = (struct topo_demand){a, (a + j) % H, (uint64_t)c->wl->bytes};
    return 0;
}

int wl_permutation_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                          struct err *e)
{
    (void)e;
    uint32_t H = t->hosts;
    struct coll *s = coll_new(c, "permutation", H, g);
    uint32_t *perm = xmalloc(H * sizeof *perm);
    for (uint32_t i = 0; i < H; i++)
        perm[i] = i;
    gsl_rng *r = rng_alloc(wl_seed(c), RNG_PERMUTATION, 0);
    gsl_ran_shuffle(r, perm, H, sizeof *perm);
    gsl_rng_free(r);
    for (uint32_t i = 0; i < H; i++)
        if (perm[i] == i) {
            uint32_t j = (i + 1) % H, tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
    for (uint32_t i = 0; i < H; i++)
        s->dem[i] = (struct topo_demand){i, perm[i], (uint64_t)c->wl->bytes};
    free(perm);
    return 0;
}
