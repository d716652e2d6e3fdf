/* run.c - `moesim run`: the sweep of a scenario, run by run, into the results. */
#include <stdio.h>

#include "sim/cli.h"

int sim_run_cli(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moesim run: not built yet\n");
    return 1;
}
