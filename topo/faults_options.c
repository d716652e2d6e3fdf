/* faults_options.c - the [faults] options, over struct topo_spec (its member
 * `faults`, topo/faults.h): links down or degraded before the run, listed or
 * drawn at random. app/options.c joins this table at struct cfg's topo. */
#include "topo/topo.h"

/* clang-format off */
#define F(field) offsetof(struct topo_spec, faults.field)
static const struct opt_def topo_faults_rows[] = {
    {"faults", "down", OPT_STR, "", 0, 0, NULL,
     "links down for the whole run, space-separated, each src-dst with the node names of the links "
     "table, both directions (down = l0-s3 l1-s3); routing leaves them out", F(down)},
    {"faults", "degraded", OPT_STR, "", 0, 0, NULL,
     "links at a fraction of their rate, space-separated src-dst:fraction, fraction in (0,1] "
     "(degraded = l0-s1:0.5)", F(degraded)},
    {"faults", "random_down", OPT_REAL, "0", 0, 1, NULL,
     "fraction of the fabric's switch-to-switch links down, drawn from sim.seed (0: none)", F(random_down)},
    {"faults", "random_degraded", OPT_REAL, "0", 0, 1, NULL,
     "fraction of the fabric's switch-to-switch links degraded to faults.degrade_to of their rate, "
     "drawn from sim.seed among the links not down (0: none)", F(random_degraded)},
    {"faults", "degrade_to", OPT_REAL, "0.5", 0, 1, NULL,
     "the fraction of its rate a link of faults.random_degraded keeps, in (0,1]", F(degrade_to)},
    {"faults", "fail", OPT_STR, "", 0, 0, NULL,
     "links that fail during the run, space-separated src-dst@time (time with a unit: ns, us, ms "
     "or s, from the start of each network phase), both directions: what they hold is lost "
     "(fail = l0-s3@50us l1-s2@120us); needs transport.recovery", F(fail)},
    {"faults", "reroute_delay_ns", OPT_INT, "0", 0, 1e12, NULL,
     "from a link's failure (faults.fail) until routing leaves it out; meanwhile packets routed "
     "to it are lost (0: at once)", F(reroute_delay_ns)},
};
#undef F
/* clang-format on */
const struct opt_table topo_faults_options = {topo_faults_rows,
                                              sizeof topo_faults_rows / sizeof topo_faults_rows[0]};
