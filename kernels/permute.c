/* permute.c - expert permutation, gather and gate-weighted combine (see permute.h). */
#include "kernels/permute.h"

#include <string.h>

void kn_permute(const int16_t *expert, int n, int k, int E, int *offset, int *row, int *pos)
{
    int m = n * k;
    memset(offset, 0, sizeof(int) * (size_t)(E + 1));
    for (int a = 0; a < m; a++)
        offset[expert[a] + 1]++;
    for (int e = 0; e < E; e++)
        offset[e + 1] += offset[e];
    /* offset[e] doubles as the cursor of expert e, then is restored. */
    for (int a = 0; a < m; a++) {
        int p = offset[expert[a]]++;
        row[p] = a;
        pos[a] = p;
    }
    for (int e = E; e > 0; e--)
        offset[e] = offset[e - 1];
    offset[0] = 0;
}

void kn_gather(const float *x, int H, const int *row, int k, int m, float *xp)
{
    for (int p = 0; p < m; p++)
        memcpy(xp + (size_t)p * H, x + (size_t)(row[p] / k) * H, sizeof(float) * (size_t)H);
}

void kn_combine(const float *yp, int H, const int *pos, const float *weight, int n, int k, float *h)
{
    for (int t = 0; t < n; t++) {
        float *ht = h + (size_t)t * H;
        for (int i = 0; i < H; i++) {
            float acc = 0.0f;
            for (int s = 0; s < k; s++)
                acc += weight[t * k + s] * yp[(size_t)pos[t * k + s] * H + i];
            ht[i] += acc;
        }
    }
}
