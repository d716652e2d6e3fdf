/* place_assign.c - the linear assignment problem (Hungarian method with
 * potentials, O(n^3)): rows to columns one to one at minimum summed cost.
 * Affinity uses it to place a layer's experts onto GPU slots optimally
 * against the layer placed before it. */
#include <math.h>
#include <stdlib.h>

#include "workloads/place_internal.h"

void pl_assign_min(int n, const double *cost, int *row_col)
{
    /* 1-based arrays; p[j]: row matched to column j (0: none). */
    double *u = xcalloc((size_t)n + 1, sizeof(double)), *v = xcalloc((size_t)n + 1, sizeof(double));
    double *minv = xmalloc(sizeof(double) * ((size_t)n + 1));
    int *p = xcalloc((size_t)n + 1, sizeof(int)), *way = xcalloc((size_t)n + 1, sizeof(int));
    char *used = xmalloc((size_t)n + 1);
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= n; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (int j = 1; j <= n; j++) {
                if (used[j]) continue;
                double cur = cost[(size_t)(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= n; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int j = 1; j <= n; j++)
        row_col[p[j] - 1] = j - 1;
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
}
