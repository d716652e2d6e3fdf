/* exec_ideal.h - the ideal bound of a network task (its phases row's
 * ideal_ps and ideal_kind), as the executor computes it, remembered for
 * tasks of one message.
 *
 * The bound is a pure function of the fabric, the transport (path, MTU,
 * subflows), sim.ideal_lp_max and the task's messages, so a task whose one
 * message (src, dst, bytes) was seen before gets the same bound without
 * computing it: a collective's tasks are one message each and repeat the
 * same few (a ring of N hosts has 2(N-1)N tasks over N pairs and two sizes),
 * and each costs a pass over every host's records and, where the program is
 * small enough, a linear program (topo/ideal_lp.h). Tasks of several
 * messages are computed every time (their cost is linear in the messages,
 * and they seldom repeat). The memo is one builder's: not thread-safe.
 */
#ifndef MOESIM_EXEC_IDEAL_H
#define MOESIM_EXEC_IDEAL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/spec.h"
#include "topo/topo.h"

struct exec_ideal;

struct exec_ideal *exec_ideal_create(const struct topo *t, const struct tr_spec *tr,
                                     uint64_t lp_max);
void exec_ideal_destroy(struct exec_ideal *m);

/* The bound of the messages d[0..n-1] and its kind (enum topo_ideal_kind),
 * exactly as computing it would give. */
simtime_t exec_ideal_ps(struct exec_ideal *m, const struct topo_demand *d, size_t n, int *kind);

#endif
