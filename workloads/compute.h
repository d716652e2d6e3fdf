/* compute.h - the expert compute model: time for one expert's SwiGLU FFN as a
 * function of the tokens routed to it.
 *
 * roofline (default): tokens * 2*3*hidden*ffn FLOPs at gpu_tflops*efficiency,
 * plus expert_overhead_us for every expert that has tokens.
 * calibration: a CSV of `tokens,us` rows (what `moesim calibrate` measures on
 * a GPU; '#key=value' metadata lines and the header are allowed), linearly
 * interpolated; below the first row its time is used, above the last the
 * last two rows' slope extends it.
 */
#ifndef MOESIM_COMPUTE_H
#define MOESIM_COMPUTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "workloads/wl_spec.h"
#include "base/units.h"

struct wl_compute {
    int calibrated;
    double ps_per_token, overhead_ps; /* roofline */
    double *tokens, *us;              /* calibration rows, tokens ascending */
    size_t n;
};

/* Sets up c's model (reads the calibration file if workload.compute names
 * one). Errors: "FILE:LINE: reason". */
int wl_compute_init(const struct wl_spec *c, struct wl_compute *m, struct err *e);
void wl_compute_free(struct wl_compute *m);
/* Time for one expert to process `tokens` tokens (0 for none). */
simtime_t wl_compute_ps(const struct wl_compute *m, uint64_t tokens);
/* Reads a calibration CSV into m (exposed for tests and fuzzing). */
int wl_compute_load_csv(const char *path, struct wl_compute *m, struct err *e);

#endif
