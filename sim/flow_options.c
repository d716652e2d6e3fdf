/* flow_options.c - the [flow] options, over struct fl_spec (spec.h): the
 * flow engine's (sim.engine = flow; docs/flow-engine.md) own settings.
 *
 * struct fl_spec sits inside struct tr_spec (tr.fl), so the engine reads it
 * from the transport spec it is created with (sim/eng.h); app/options.c
 * registers this table at that offset. The packet engine ignores it.
 */
#include "sim/spec.h"

/* clang-format off */
#define F(field) offsetof(struct fl_spec, field)
static const struct opt_def fl_options_rows[] = {
    {"flow", "resolve_slack", OPT_REAL, "0", 0, 1, NULL,
     "sim.engine = flow: after fluid flows end, the others keep their rates (the ended flows' capacity idle) "
     "until a re-solve, one for all of them: at once when the flows ended since the last re-solve have freed "
     "more than this fraction of some link's capacity (0: this trigger off); starts re-solve at once. With "
     "flow.resolve_window also 0, every end re-solves (the exact max-min rates at every instant). The rates "
     "stay feasible (no link over its capacity), so no phase beats its ideal bound (docs/flow-engine.md)",
     F(resolve_slack)},
    {"flow", "resolve_window", OPT_REAL, "0", 0, 1, NULL,
     "sim.engine = flow: re-solve at the latest w x n / N x an ended flow's lifetime after its end, w this "
     "value, n the flows still active, N the most there were since the engine started (a dense phase's "
     "first ends wait longest, its last re-solve at once); 0: this trigger off; see flow.resolve_slack",
     F(resolve_window)},
};
#undef F
/* clang-format on */
const struct opt_table fl_options = {fl_options_rows,
                                     sizeof fl_options_rows / sizeof fl_options_rows[0]};
