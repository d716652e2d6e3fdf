/* router.c - softmax, top-k and RMSNorm for the CPU path (see router.h). */
#include "kernels/router.h"

#include <math.h>

void kn_route_token(const float *logits, int E, int k, int renorm, int16_t *expert, float *weight)
{
    float mx = logits[0];
    for (int e = 1; e < E; e++)
        if (logits[e] > mx) mx = logits[e];
    float sum = 0.0f;
    for (int e = 0; e < E; e++)
        sum += expf(logits[e] - mx);
    /* k selection passes: the best expert not yet taken, ties to the lower
     * index (strict > while scanning upwards). k is small. */
    float ksum = 0.0f;
    for (int s = 0; s < k; s++) {
        int best = -1;
        for (int e = 0; e < E; e++) {
            int taken = 0;
            for (int t = 0; t < s; t++)
                if (expert[t] == e) taken = 1;
            if (!taken && (best < 0 || logits[e] > logits[best])) best = e;
        }
        expert[s] = (int16_t)best;
        weight[s] = expf(logits[best] - mx) / sum;
        ksum += weight[s];
    }
    if (renorm)
        for (int s = 0; s < k; s++)
            weight[s] /= ksum;
}

void kn_rmsnorm(const float *x, const float *gain, int H, float eps, float *out)
{
    double ss = 0.0;
    for (int i = 0; i < H; i++)
        ss += (double)x[i] * x[i];
    float r = (float)(1.0 / sqrt(ss / H + eps));
    for (int i = 0; i < H; i++)
        out[i] = x[i] * r * gain[i];
}
