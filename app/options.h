/* options.h - every scenario option, declared once.
 *
 * The table opt_table[] (options.c) names each option (section, key), its type,
 * default, bounds, choices and help. It drives INI parsing and validation
 * (scenario.c), `moesim help` and the record of the resolved configuration in
 * the results database's `params` table. A run's configuration is a flat
 * struct cfg; each option points at its field by offset.
 *
 * To add an option: add a field to struct cfg and one row to opt_table[].
 */
#ifndef MOESIM_OPTIONS_H
#define MOESIM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define CFG_STR_MAX 1024

enum topo_kind { TOPO_LEAF_SPINE = 0 };
enum path_mode { PATH_ECMP = 0, PATH_SPRAY, PATH_SPRAY_RR, PATH_SPLIT, PATH_ADAPTIVE };
enum cc_kind { CC_WINDOW = 0 };
enum wl_kind { WL_ALLTOALL = 0, WL_PERMUTATION, WL_MOE };
enum engine_kind { ENGINE_PACKET = 0 };
enum shard_kind { SHARD_CONTIGUOUS = 0, SHARD_ROUND_ROBIN };
enum ep_mode { EP_STANDARD = 0, EP_COHERENT };

struct cfg {
    /* [topology] */
    int topo_kind;
    int64_t leaves, spines, hosts_per_leaf;
    double host_gbps, fabric_gbps;
    int64_t link_latency_ns;
    int64_t gpus_per_host;
    double nvlink_gbps;
    int64_t nvlink_latency_ns;
    /* [transport] */
    int path;
    int64_t subflows, mtu, window_bytes, ack_bytes, ack_every;
    int cc;
    /* [workload] */
    int wl_kind;
    int64_t bytes;
    char trace[CFG_STR_MAX];
    int64_t experts, topk, layers, hidden, ffn, dtype_bytes, tokens_per_gpu;
    int shard, ep_mode, dedup;
    char compute[CFG_STR_MAX];
    double gpu_tflops, efficiency, expert_overhead_us;
    /* [placement] */
    int placement; /* index into the policy choices; the name goes to pl_compute */
    int64_t replicas;
    int refine;
    double train, ilp_time_limit_s, w_compute, w_network;
    /* [sim] */
    int engine;
    int64_t seed, iterations;
    /* [output] */
    char db[CFG_STR_MAX];
    char csv[CFG_STR_MAX];
    int flows;         /* record every message's completion in `flows` */
    int64_t sample_ns; /* link sampling period for `timeseries`; 0 = off */
};

enum opt_type { OPT_INT, OPT_REAL, OPT_BOOL, OPT_ENUM, OPT_STR };

struct opt_def {
    const char *section;
    const char *key;
    enum opt_type type;
    const char *def;     /* default, as written in a scenario */
    double min, max;     /* bounds for OPT_INT and OPT_REAL (inclusive) */
    const char *choices; /* OPT_ENUM: "a|b|c"; the field holds the index */
    const char *help;
    size_t offset; /* of the field in struct cfg */
};

extern const struct opt_def opt_table[];
extern const size_t opt_count;

/* Finds an option by section and key; NULL when there is none. */
const struct opt_def *opt_find(const char *section, const char *key);

/* Parses one value into cfg's field. On a bad value returns -1 with e->msg set
 * to the reason alone (e.g. "expected an integer, got 'x'"); the caller adds
 * file, line and key. */
int opt_parse(const struct opt_def *o, const char *value, struct cfg *c, struct err *e);

/* Writes the field's canonical text (what `params` records) into buf. */
void opt_format(const struct opt_def *o, const struct cfg *c, char *buf, size_t n);

/* Fills every field with its default. */
void cfg_defaults(struct cfg *c);

/* Name of an enum option's value (e.g. path_mode_name(PATH_SPRAY) = "spray"). */
const char *opt_enum_name(const char *section, const char *key, int value);

/* Prints the table as `moesim help` shows it. */
void opt_print_help(void *file);

#endif
