/* main.c - the moesim command line: dispatches to a subcommand (cli.h). */
#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "base/err.h"
#include "app/options.h"

static int help_cli(int argc, char **argv);

/* clang-format off */
static const struct cli_command cli_commands[] = {
    {"run", sim_run_cli,
     "run SCENARIO.ini [--set section.key=v[,v...]]... [--db FILE] [--csv FILE] [--jobs N]\n"
     "        [--threads N] [--resume] [--quiet]\n"
     "        simulate every run of the scenario's sweep in N worker processes, up to --threads\n"
     "        network phases of a run at once (default: runs of several phases, as MoE, one at a\n"
     "        time on every core; others a worker per core); results go to the database;\n"
     "        --resume skips runs already done"},
    {"report", res_report_cli,
     "report [--db FILE] [--by section.key[,section.key]] [--metric cct|slowdown|step_time]\n"
     "        [--where section.key=value]...\n"
     "        a table of the done runs: median [min-max] per group of swept parameters"},
    {"export", res_export_cli,
     "export [--db FILE] --table runs|params|phases|links|flows|timeseries|gpu_load|trace_use|inputs\n"
     "        [--where section.key=value]... -o OUT.csv\n"
     "        the table's rows as CSV, one column per swept parameter"},
    {"plot", plot_cli,
     "plot cct|fct|moe|heatmap|gpu_load [--db FILE] [-o DIR] [--where section.key=value]...\n"
     "        [--run ID]\n"
     "        a figure (PNG and PDF, gnuplot) of the done runs; see docs/results.md"},
    {"trace", wl_trace_cli,
     "trace stats|import|gen|fit ...\n"
     "        routing traces: statistics, JSON-lines import, synthetic generation, fitting"},
    {"place", wl_place_cli,
     "place --trace FILE --gpus G --policy P [--leaves L] [--train F] [--replicas R] [--refine]\n"
     "        [--mode standard|coherent] [--seed S] [--csv]   expert placement on a trace"},
    {"capture", kn_capture_cli,
     "capture --preset mixtral|olmoe (--text FILE --tokens N | --states FILE.safetensors [--tokens N])\n"
     "        -o TRACE.csv [--layers L] [--weights FILE.safetensors] [--hidden H --ffn F --experts E\n"
     "        --topk K] [--seed S] [--device gpu|cpu] [--precision fp32|bf16|auto]\n"
     "        [--no-renorm|--renorm] [--threads T] [--chunk N] [--quiet]\n"
     "        route the text's tokens (or the file's hidden_states rows) through L MoE blocks;\n"
     "        write every decision as a trace"},
    {"calibrate", kn_calibrate_cli,
     "calibrate --preset mixtral|olmoe -o CALIB.csv [--device gpu|cpu] [--max-tokens N]\n"
     "        [--repeats R] [--warmup W] [--hidden H --ffn F] [--seed S] [--threads T]\n"
     "        [--precision fp32|bf16|auto]\n"
     "        time one expert's FFN against its token count (tokens,us rows)"},
    {"help", help_cli, "help    the scenario options, their defaults, bounds and meaning"},
};
/* clang-format on */
static const size_t n_commands = sizeof cli_commands / sizeof cli_commands[0];

static void usage(FILE *f)
{
    fprintf(f, "moesim %s - packet-level simulator of MoE expert-parallel traffic\n\nusage:\n",
            MOESIM_VERSION);
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  moesim %s\n", cli_commands[i].usage);
}

static int help_cli(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    printf("\nscenario options (INI sections and keys; a comma-separated value sweeps):\n");
    opt_print_help(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MOESIM_EXIT_INPUT;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return help_cli(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--version")) {
        printf("moesim %s\n", MOESIM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < n_commands; i++)
        if (!strcmp(argv[1], cli_commands[i].name))
            return cli_commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "moesim: unknown command '%s' (try moesim help)\n", argv[1]);
    return MOESIM_EXIT_INPUT;
}
