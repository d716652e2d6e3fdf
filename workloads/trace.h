/* trace.h - MoE routing traces in memory: which experts each token chose.
 *
 * The CSV form (workloads/README.md, "Routing traces"): '#key=value' metadata
 * lines (model, experts, topk, layers, source), then the header
 * seq,token,layer,slot,expert,weight and one row per (sequence, token, layer,
 * slot). In memory a trace is a dense array over (token, layer, slot); a token
 * is one (seq, token position) pair, numbered in the order first seen. A
 * missing (token, layer) has expert -1 in every slot and is counted.
 */
#ifndef MOESIM_TRACE_H
#define MOESIM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

/* Sane bounds, checked before anything is allocated. */
#define TRACE_MAX_EXPERTS 32767
#define TRACE_MAX_TOPK    64
#define TRACE_MAX_LAYERS  4096

struct trace {
    char model[128];
    char source[256];
    int experts, topk, layers;
    size_t tokens;   /* distinct (seq, token) pairs */
    int32_t *seq;    /* [tokens]: sequence id of each token */
    int32_t *pos;    /* [tokens]: token position within its sequence */
    int16_t *expert; /* [tokens * layers * topk], -1 where missing */
    float *weight;   /* [tokens * layers * topk] */
    size_t missing;  /* (token, layer) pairs absent from the file */
};

static inline size_t trace_idx(const struct trace *t, size_t token, int layer, int slot)
{
    return (token * (size_t)t->layers + (size_t)layer) * (size_t)t->topk + (size_t)slot;
}

/* Reads a trace CSV (libcsv; plain lines without it, the same values and
 * errors). max_tokens > 0 keeps only the first max_tokens
 * tokens (streaming: memory follows what is kept, not the file; reading stops
 * at the first row of token max_tokens+1 when the rows read so far were
 * grouped by token). Dimensions missing from the metadata are inferred from
 * the rows (max + 1; the file is then read twice). Errors are one line
 * "FILE:LINE: reason" (LINE 0: the file as a whole). */
int trace_load(const char *path, size_t max_tokens, struct trace *t, struct err *e);
void trace_free(struct trace *t);
/* How trace_load reads a weight: strtod(s, end)'s value and end for any s,
 * the plain decimals of at most 15 digits without strtod (exactly: an
 * integer over a power of ten, both exact doubles). */
double trace_parse_weight(const char *s, char **end);

/* What a trace's '#key=value' metadata lines say (0: not given). */
struct trace_meta {
    int experts, topk, layers;
};
/* Reads only the metadata lines at the top of a trace CSV (up to the first
 * line that is not one), so it costs the same for any size of trace: what
 * `moesim run` checks before any run starts. Errors as trace_load's ("FILE:
 * cannot open: ...", "FILE:LINE: experts 'x': not an integer in [1, 32767]",
 * "FILE:LINE: topk 4 exceeds experts 2"). */
int trace_read_meta(const char *path, struct trace_meta *m, struct err *e);
/* Writes t as a trace CSV with its metadata; rows of missing (token, layer)
 * pairs are left out. */
int trace_write_csv(const char *path, const struct trace *t, struct err *e);

/* Allocates the arrays of an empty trace of `tokens` tokens (expert -1,
 * weight 0 everywhere) after checking the dimensions against the bounds above
 * and the size against overflow. t's model and source are left as they are. */
int trace_alloc(struct trace *t, size_t tokens, int experts, int topk, int layers, struct err *e);

/* The pieces of trace_write_csv, for writers that stream (trace gen):
 * the metadata and header; the rows of one token (expert/weight: its
 * [layers * topk] cells; layers whose slot 0 is -1 are left out); opening
 * the output ("-": stdout) and closing it with a check for write errors. */
void trace_csv_write_meta(FILE *f, const char *model, const char *source, int experts, int topk,
                          int layers);
void trace_csv_write_token(FILE *f, int32_t seq, int32_t pos, int layers, int topk,
                           const int16_t *expert, const float *weight);
FILE *trace_csv_open_out(const char *path, struct err *e);
int trace_csv_close_out(FILE *f, const char *path, struct err *e);

/* Writes one CSV field to f through libcsv, quoted only when it has to be
 * (a comma, quote, space at either end, or line break in it). */
int trace_csv_field(FILE *f, const char *s);

#endif
