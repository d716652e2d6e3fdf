/* eng.c - the engines this build has, by sim.engine's value (see eng.h). */
#include "sim/eng.h"

#include "sim/flow_eng.h"
#include "sim/pkt_eng.h"

void (*eng_test_hook)(struct eng_stats *st);

/* Indexed by enum engine_kind. */
static const struct eng_ops *const engines[] = {
    [ENGINE_PACKET] = &pkt_eng_ops,
    [ENGINE_FLOW] = &flow_eng_ops,
};

const struct eng_ops *eng_ops_find(int kind)
{
    if (kind < 0 || (size_t)kind >= sizeof engines / sizeof engines[0]) return NULL;
    return engines[kind];
}

struct eng *eng_create(const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                       const struct eng_hooks *h)
{
    return pkt_eng_ops.create(t, tr, seed, h);
}

struct eng *eng_create_kind(int kind, const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                            const struct eng_hooks *h)
{
    const struct eng_ops *ops = eng_ops_find(kind);
    return ops ? ops->create(t, tr, seed, h) : NULL;
}
