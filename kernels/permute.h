/* permute.h - grouping token rows by expert and putting them back.
 *
 * An assignment is one (token t, slot s) pair, numbered a = t*k + s. The
 * permutation orders assignments by expert (count, exclusive prefix sum,
 * scatter), stably: within an expert, by increasing a. The CUDA path builds
 * the same order, so both can be compared row for row.
 */
#ifndef MOESIM_KN_PERMUTE_H
#define MOESIM_KN_PERMUTE_H

#include <stdint.h>

/* expert [n*k] (each in [0, E)) -> offset [E+1] (rows of expert e are
 * [offset[e], offset[e+1])), row [n*k] (permuted row p holds assignment
 * row[p]) and pos [n*k] (assignment a sits at permuted row pos[a]). */
void kn_permute(const int16_t *expert, int n, int k, int E, int *offset, int *row, int *pos);

/* xp[p] = x[row[p] / k] for the m = n*k permuted rows of width H. */
void kn_gather(const float *x, int H, const int *row, int k, int m, float *xp);

/* Un-permute and combine: h[t] += sum over s (in slot order) of
 * weight[t*k+s] * yp[pos[t*k+s]]; the sum is formed first, then added. */
void kn_combine(const float *yp, int H, const int *pos, const float *weight, int n, int k,
                float *h);

#endif
