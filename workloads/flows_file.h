/* flows_file.h - the flows file of workload.kind = flows: a list of flows
 * (source, destination, bytes, start time, and what each waits for), read
 * from htsim's connection-matrix text or from CSV (flows_file.c).
 */
#ifndef MOESIM_FLOWS_FILE_H
#define MOESIM_FLOWS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/units.h"

/* The most flows one file may hold. */
#define WL_FLOWS_MAX (1u << 24)

enum wl_flows_format { WL_FLOWS_MATRIX = 0, WL_FLOWS_CSV };

struct wl_flow {
    uint32_t src, dst;
    uint64_t bytes;
    simtime_t start_ps; /* from the run's start; 0 for a flow started by a trigger */
    uint32_t line;      /* where the file says it */
    /* what it waits for: flows wait[woff .. woff + nwait) of wl_flows.wait
     * (indices into wl_flows.f), every one of them ended */
    uint32_t woff, nwait;
    uint8_t fires; /* 1: another flow waits for it */
};

struct wl_flows {
    int format; /* enum wl_flows_format */
    struct wl_flow *f;
    size_t n;
    uint32_t *wait; /* the flows each flow waits for, in one array */
    size_t nwait;
    uint32_t *order; /* [n]: the flows in an order where each comes after those it waits for */
    uint32_t nodes;  /* hosts the file names: its Nodes line, else its largest host + 1 */
};

/* Reads the flows file at path. Its format is found from its first line
 * that is not blank or a '#' comment: htsim's connection matrix when that
 * line starts with Nodes, Connections, Triggers, Failures, trigger or
 * failure, or holds `->`, else CSV
 * (docs/workloads.md says both). Every host must be below `hosts` (the
 * fabric's; 0: not checked). An error names the file and line:
 * "PATH:LINE: message" (0 with *out filled, else -1 with e set and nothing
 * to free). */
int wl_flows_load(const char *path, uint32_t hosts, struct wl_flows *out, struct err *e);
void wl_flows_free(struct wl_flows *fl);

#endif
