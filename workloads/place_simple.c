/* place_simple.c - the placements that ignore the profile: contiguous (expert
 * e on GPU floor(e * G / E)), round_robin (expert e on GPU e mod G) and random
 * (a seeded shuffle of each layer's slots). With replicas (S = E + R slots per
 * layer, as when there are more GPUs than experts) contiguous gives slot s to
 * expert floor(s * E / S), so each expert holds a run of neighbouring slots;
 * round_robin and random deal the experts out cyclically. */
#include <stdlib.h>

#include <gsl/gsl_randist.h>

#include "workloads/place_internal.h"

int pl_policy_contiguous(struct pl_placement *pl)
{
    for (int l = 0; l < pl->layers; l++)
        for (int s = 0; s < pl->slots; s++)
            pl->slot_expert[(size_t)l * pl->slots + s] = (int)((long)s * pl->experts / pl->slots);
    return 0;
}

int pl_policy_round_robin(struct pl_placement *pl)
{
    int m = pl->slots_per_gpu, G = pl->gpus;
    for (int l = 0; l < pl->layers; l++)
        for (int s = 0; s < pl->slots; s++)
            pl->slot_expert[(size_t)l * pl->slots + s] = ((s % m) * G + s / m) % pl->experts;
    return 0;
}

int pl_policy_random(struct pl_placement *pl, gsl_rng *r)
{
    for (int l = 0; l < pl->layers; l++) {
        int *row = pl->slot_expert + (size_t)l * pl->slots;
        for (int s = 0; s < pl->slots; s++)
            row[s] = s % pl->experts;
        gsl_ran_shuffle(r, row, (size_t)pl->slots, sizeof(int));
    }
    return 0;
}
