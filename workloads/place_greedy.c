/* place_greedy.c - load_greedy: per layer, longest-processing-time packing of
 * the experts onto the GPUs by profiled token load, the same number of experts
 * on every GPU (pl_balanced_pack). */
#include <stdlib.h>

#include "workloads/place_internal.h"

int pl_policy_load_greedy(struct pl_placement *pl, const struct pl_profile *pr)
{
    int E = pl->experts;
    int *bin = xmalloc(sizeof(int) * (size_t)E), *ex = xmalloc(sizeof(int) * (size_t)E);
    for (int e = 0; e < E; e++)
        ex[e] = e;
    for (int l = 0; l < pl->layers; l++) {
        pl_balanced_pack(E, pr->load + (size_t)l * E, NULL, pl->gpus, pl->slots_per_gpu, bin);
        pl_bins_to_slots(E, bin, ex, pl->slots_per_gpu, pl->slot_expert + (size_t)l * pl->slots);
    }
    free(bin);
    free(ex);
    return 0;
}
