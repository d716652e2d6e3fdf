/* trace_import.h - routing traces from JSON-lines router logs (jansson).
 *
 * One JSON object per line and per (token, layer); blank lines are skipped.
 * Field names, the first present wins:
 *   layer:    layer, layer_id                          (required)
 *   token:    token_idx, token, position                (required)
 *   experts:  topk_ids, experts, expert_ids            (required, array)
 *   weights:  topk_weights, gating_probs, weights      (optional array of
 *             numbers; absent: 1/topk each)
 *   sequence: req_id, problem_id, seq, request_id       (optional; absent: 0)
 * Ids are JSON integers or strings holding a decimal integer, >= 0; a
 * sequence id may be any other non-empty string (vLLM, SGLang request ids):
 * sequences are then numbered in the order first seen, each by its text
 * (7 and "7" are one). Every line has the same number of experts (topk);
 * experts = the largest id + 1 unless given; layers = the largest layer + 1.
 * Tokens are numbered in the order first seen; a (token, layer) absent from
 * the log is missing. Errors: one line "FILE:LINE: reason".
 */
#ifndef MOESIM_TRACE_IMPORT_H
#define MOESIM_TRACE_IMPORT_H

#include "base/err.h"
#include "workloads/trace.h"

/* experts 0: inferred. model may be NULL. */
int trace_import_jsonl(const char *path, const char *model, int experts, struct trace *t,
                       struct err *e);

#endif
