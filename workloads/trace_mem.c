/* trace_mem.c - allocation and release of the dense arrays of a struct trace. */
#include <stdlib.h>
#include <string.h>

#include "workloads/trace.h"

int trace_alloc(struct trace *t, size_t tokens, int experts, int topk, int layers, struct err *e)
{
    if (experts < 1 || experts > TRACE_MAX_EXPERTS)
        return err_set(e, "experts %d outside [1, %d]", experts, TRACE_MAX_EXPERTS);
    if (topk < 1 || topk > TRACE_MAX_TOPK)
        return err_set(e, "topk %d outside [1, %d]", topk, TRACE_MAX_TOPK);
    if (topk > experts) return err_set(e, "topk %d exceeds experts %d", topk, experts);
    if (layers < 1 || layers > TRACE_MAX_LAYERS)
        return err_set(e, "layers %d outside [1, %d]", layers, TRACE_MAX_LAYERS);
    size_t cells, bytes;
    if (__builtin_mul_overflow(tokens, (size_t)layers * (size_t)topk, &cells) ||
        __builtin_mul_overflow(cells, sizeof(float) + sizeof(int16_t), &bytes) ||
        tokens > (size_t)INT32_MAX)
        return err_set(e, "%zu tokens x %d layers x %d slots is too large", tokens, layers, topk);
    t->experts = experts;
    t->topk = topk;
    t->layers = layers;
    t->tokens = tokens;
    t->missing = 0;
    t->seq = xcalloc(tokens, sizeof *t->seq);
    t->pos = xcalloc(tokens, sizeof *t->pos);
    t->expert = xmalloc(cells * sizeof *t->expert);
    t->weight = xcalloc(cells, sizeof *t->weight);
    for (size_t i = 0; i < cells; i++)
        t->expert[i] = -1;
    return 0;
}

void trace_free(struct trace *t)
{
    if (!t) return;
    free(t->seq);
    free(t->pos);
    free(t->expert);
    free(t->weight);
    t->seq = t->pos = NULL;
    t->expert = NULL;
    t->weight = NULL;
    t->tokens = 0;
    t->missing = 0;
}
