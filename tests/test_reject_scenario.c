/* test_reject_scenario.c - more malformed scenarios and overrides, each with
 * its exact one-line error (the first table is in test_scenario.c): values
 * of every type out of shape or bounds, INI syntax corners, binary input,
 * sizes whose products pass the 64-bit clock, 2^63 bytes or the engine's
 * 32-bit counters, and --set arguments out of shape. */
#include "testutil.h"

#include "app/scenario.h"

struct reject {
    const char *name;
    const char *ini;  /* file text (may hold NUL bytes) */
    size_t len;       /* its length */
    const char *want; /* "FILE" stands for the file's path */
};

/* A case from string literals: the length counts embedded NULs. */
#define R(name, ini, want)                                                                         \
    {                                                                                              \
        name, ini, sizeof(ini) - 1, want                                                           \
    }

/* clang-format off */
static const struct reject file_cases[] = {
    R("int with a space",
     "[topology]\nleaves = 2 3\n",
     "FILE:2: topology.leaves: expected an integer, got '2 3'"),
    R("hex int",
     "[topology]\nspines = 0x10\n",
     "FILE:2: topology.spines: expected an integer, got '0x10'"),
    R("negative seed",
     "[sim]\nseed = -1\n",
     "FILE:2: sim.seed: -1 is out of bounds [0, 9200000000000000000]"),
    R("workload seed below its sim.seed sentinel",
     "[workload]\nseed = -2\n",
     "FILE:2: workload.seed: -2 is out of bounds [-1, 9200000000000000000]"),
    R("fractional int",
     "[topology]\nleaves = 4.5\n",
     "FILE:2: topology.leaves: expected an integer, got '4.5'"),
    R("int with exponent",
     "[workload]\nbytes = 1e6\n",
     "FILE:2: workload.bytes: expected an integer, got '1e6'"),
    R("real nan",
     "[topology]\nhost_gbps = nan\n",
     "FILE:2: topology.host_gbps: expected a number, got 'nan'"),
    R("real inf",
     "[topology]\nhost_gbps = inf\n",
     "FILE:2: topology.host_gbps: expected a number, got 'inf'"),
    R("real overflow",
     "[topology]\nfabric_gbps = 1e999\n",
     "FILE:2: topology.fabric_gbps: expected a number, got '1e999'"),
    R("real zero rate",
     "[topology]\nhost_gbps = 0\n",
     "FILE:2: topology.host_gbps: 0 is out of bounds [0.001, 1e+06]"),
    R("real negative",
     "[topology]\nhost_gbps = -100\n",
     "FILE:2: topology.host_gbps: -100 is out of bounds [0.001, 1e+06]"),
    R("real with unit",
     "[topology]\nhost_gbps = 100Gbps\n",
     "FILE:2: topology.host_gbps: expected a number, got '100Gbps'"),
    R("real hex float out of bounds",
     "[topology]\nhost_gbps = 0x1p30\n",
     "FILE:2: topology.host_gbps: 1.07374e+09 is out of bounds [0.001, 1e+06]"),
    R("enum with two words",
     "[transport]\npath = ecmp spray\n",
     "FILE:2: transport.path: 'ecmp spray' is not one of ecmp|spray|spray_rr|split|adaptive|flowlet|ethereal"),
    R("enum blank sweep element",
     "[transport]\npath = ecmp, ,spray\n",
     "FILE:2: transport.path: empty element in sweep 'ecmp, ,spray'"),
    R("unknown topology kind",
     "[topology]\nkind = torus\n",
     "FILE:2: topology.kind: 'torus' is not one of leaf_spine|fat_tree|file|rail"),
    R("unknown cc",
     "[transport]\ncc = reno\n",
     "FILE:2: transport.cc: 'reno' is not one of window|dctcp|nscc|dcqcn"),
    R("dctcp without marking",
     "[transport]\ncc = dctcp\n",
     "FILE:2: transport.cc: dctcp reacts to ECN marks, and no switch marks: set "
     "switch.ecn_kmax_bytes (and switch.ecn_kmin_bytes)"),
    R("nscc without marking",
     "[transport]\ncc = nscc\n",
     "FILE:2: transport.cc: nscc decreases its window only on ECN-marked acknowledgements, and no "
     "switch marks: set switch.ecn_kmax_bytes (and switch.ecn_kmin_bytes)"),
    R("nscc with a fixed window",
     "[transport]\ncc = nscc\nwindow_bytes = 65536\n[switch]\necn_kmax_bytes = 4096\n",
     "FILE:3: transport.window_bytes: nscc sizes its own windows (transport.nscc_max_bdp): leave "
     "window_bytes at 0"),
    R("unknown engine",
     "[sim]\nengine = fluid\n",
     "FILE:2: sim.engine: 'fluid' is not one of packet|flow"),
    R("flow engine with a window",
     "[transport]\nwindow_bytes = 65536\n[sim]\nengine = flow\n",
     "FILE:2: transport.window_bytes: the flow engine models no window (sim.engine = flow)"),
    R("mtu too large",
     "[transport]\nmtu = 65536\n",
     "FILE:2: transport.mtu: 65536 is out of bounds [64, 65535]"),
    R("mtu too small",
     "[transport]\nmtu = 63\n",
     "FILE:2: transport.mtu: 63 is out of bounds [64, 65535]"),
    R("no subflows",
     "[transport]\nsubflows = 0\n",
     "FILE:2: transport.subflows: 0 is out of bounds [1, 4096]"),
    R("too many subflows",
     "[transport]\nsubflows = 4097\n",
     "FILE:2: transport.subflows: 4097 is out of bounds [1, 4096]"),
    R("zero iterations",
     "[sim]\niterations = 0\n",
     "FILE:2: sim.iterations: 0 is out of bounds [1, 1000000]"),
    R("too many iterations",
     "[sim]\niterations = 1000001\n",
     "FILE:2: sim.iterations: 1000001 is out of bounds [1, 1000000]"),
    R("negative window",
     "[transport]\nwindow_bytes = -1\n",
     "FILE:2: transport.window_bytes: -1 is out of bounds [0, 1000000000000]"),
    R("window too large",
     "[transport]\nwindow_bytes = 1000000000001\n",
     "FILE:2: transport.window_bytes: 1000000000001 is out of bounds [0, 1000000000000]"),
    R("zero bytes",
     "[workload]\nbytes = 0\n",
     "FILE:2: workload.bytes: 0 is out of bounds [1, 1000000000000000]"),
    R("bytes too large",
     "[workload]\nbytes = 1000000000000001\n",
     "FILE:2: workload.bytes: 1000000000000001 is out of bounds [1, 1000000000000000]"),
    R("latency too large",
     "[topology]\nlink_latency_ns = 1000000001\n",
     "FILE:2: topology.link_latency_ns: 1000000001 is out of bounds [0, 1000000000]"),
    R("negative latency",
     "[topology]\nlink_latency_ns = -1\n",
     "FILE:2: topology.link_latency_ns: -1 is out of bounds [0, 1000000000]"),
    R("too many spines",
     "[topology]\nspines = 1025\n",
     "FILE:2: topology.spines: 1025 is out of bounds [1, 1024]"),
    R("too many hosts per leaf",
     "[topology]\nhosts_per_leaf = 4097\n",
     "FILE:2: topology.hosts_per_leaf: 4097 is out of bounds [1, 4096]"),
    R("too many leaves",
     "[topology]\nleaves = 4097\n",
     "FILE:2: topology.leaves: 4097 is out of bounds [1, 4096]"),
    R("ack zero",
     "[transport]\nack_bytes = 0\n",
     "FILE:2: transport.ack_bytes: 0 is out of bounds [1, 65535]"),
    R("blank section name",
     "[ ]\nseed = 1\n",
     "FILE:1: [ ]: unknown section"),
    R("empty section name",
     "[]\nseed = 1\n",
     "FILE:1: []: unknown section"),
    R("lone equals",
     "[sim]\n=\n",
     "FILE:2: syntax error: expected [section] or key = value, got '='"),
    R("unknown output key",
     "[output]\nfile = x.db\n",
     "FILE:2: output.file: unknown key"),
    R("duplicate through colon syntax",
     "[sim]\nseed: 1\nseed = 2\n",
     "FILE:3: sim.seed: duplicate key (first set on line 2)"),
    R("upper-case section",
     "[SIM]\nseed = 1\n",
     "FILE:1: [SIM]: unknown section"),
    R("upper-case key",
     "[sim]\nSeed = 1\n",
     "FILE:2: sim.Seed: unknown key"),
    R("fullwidth digit",
     "[topology]\nleaves = \xef\xbc\x94" "\n",
     "FILE:2: topology.leaves: expected an integer, got '\xef\xbc\x94'"),
    R("indented continuation line",
     "[topology]\nleaves = 2\n  3\n",
     "FILE:3: syntax error: expected [section] or key = value, got '3'"),
    R("double closing bracket",
     "[topology]]\nleaves = 2\n",
     "FILE:1: syntax error: text after [topology]"),
    R("semicolon without space",
     "[topology]\nleaves = 4;x\n",
     "FILE:2: topology.leaves: expected an integer, got '4;x'"),
    R("hash without space",
     "[topology]\nleaves = 4#four\n",
     "FILE:2: topology.leaves: expected an integer, got '4#four'"),
    R("terminal escapes and broken UTF-8 quoted as \\xNN",
     "[topology]\nleaves = \x1b[2J\x80\xff\n",
     "FILE:2: topology.leaves: expected an integer, got '\\x1b[2J\\x80\\xff'"),
    R("a C1 control and an overlong UTF-8 form",
     "[topology]\nleaves = \xc2\x9b\xc0\xaf\n",
     "FILE:2: topology.leaves: expected an integer, got '\\xc2\\x9b\\xc0\\xaf'"),
    R("control bytes in a syntax error",
     "[sim]\nse\x07" "ed\n",
     "FILE:2: syntax error: expected [section] or key = value, got 'se\\x07ed'"),
    R("empty file",
     "",
     "FILE: no options set (an empty scenario runs nothing; write the keys you mean)"),
    R("comments and a section only",
     "; nothing yet\n# still nothing\n[sim]\n",
     "FILE: no options set (an empty scenario runs nothing; write the keys you mean)"),
    R("a sweep listing a value twice",
     "[transport]\npath = ecmp,spray,ecmp\n",
     "FILE:2: transport.path: the sweep 'ecmp,spray,ecmp' lists ecmp twice"),
    R("a sweep listing one number twice in two spellings",
     "[topology]\nhost_gbps = 100,400,1e2\n",
     "FILE:2: topology.host_gbps: the sweep '100,400,1e2' lists 100 twice"),
    R("a sweep listing one boolean twice",
     "[output]\nflows = yes,true\n",
     "FILE:2: output.flows: the sweep 'yes,true' lists true twice"),
    R("window round trips past the clock",
     "[topology]\nleaves = 1\nhosts_per_leaf = 2\nlink_latency_ns = 1000000000\n[transport]\nmtu = 64\nack_bytes = 32\nwindow_bytes = 64\n[workload]\nbytes = 300000000\n",
     "FILE:8: transport.window_bytes: a flow needs at least 4.69e+06 round trips of 4 s with a window of 64 bytes, 1.88e+07 s of simulated time, more than the clock holds (9.22e+06 s)"),
    R("slow fabric past the clock",
     "[topology]\nhost_gbps = 1000000\nfabric_gbps = 0.001\n[workload]\nbytes = 1000000000000000\n",
     "FILE:3: topology.fabric_gbps: a leaf's uplinks need at least 9.6e+10 s of simulated time to carry its bytes, more than the clock holds (9.22e+06 s)"),
    R("alltoall bytes past 2^63",
     "[topology]\nleaves = 64\nhosts_per_leaf = 64\nspines = 1024\nfabric_gbps = 1000000\n[workload]\nbytes = 1000000000000\n",
     "FILE:7: workload.bytes: 16773120 flows of 1000000000000 bytes are 1.68e+19 bytes per phase, more than 2^63-1"),
    R("permutation bytes past 2^63",
     "[topology]\nleaves = 4096\n[workload]\nkind = permutation\nbytes = 1000000000000000\n",
     "FILE:5: workload.bytes: 16384 flows of 1000000000000000 bytes are 1.64e+19 bytes per phase, more than 2^63-1"),
    R("window below a swept mtu",
     "[transport]\nmtu = 1500,9000\nwindow_bytes = 8192\n",
     "FILE:3: transport.window_bytes: 8192 is less than transport.mtu (9000): use 0 (automatic) or at least one packet"),
    R("ack above the smallest swept mtu",
     "[transport]\nmtu = 64,4096\nack_bytes = 100\n",
     "FILE:3: transport.ack_bytes: 100 is not less than transport.mtu (64)"),
    R("window round trips over iterations",
     "[topology]\nlink_latency_ns = 100000000\n[transport]\nwindow_bytes = 4096\n"
     "[workload]\nkind = permutation\nbytes = 1048576\n[sim]\niterations = 100000\n",
     "FILE:4: transport.window_bytes: a flow needs at least 2.56e+07 round trips of 0.4 s with a "
     "window of 4096 bytes, 1.02e+07 s of simulated time, more than the clock holds (9.22e+06 s)"),
    R("window round trips across leaves (four links each way)",
     "[topology]\nleaves = 2\nhosts_per_leaf = 2\nlink_latency_ns = 100000000\n[transport]\n"
     "window_bytes = 4096\n[workload]\nbytes = 1048576\n[sim]\niterations = 100000\n",
     "FILE:6: transport.window_bytes: a flow needs at least 2.56e+07 round trips of 0.8 s with a "
     "window of 4096 bytes, 2.05e+07 s of simulated time, more than the clock holds (9.22e+06 s)"),
    R("window round trips over NVLink (the shorter route)",
     "[topology]\nleaves = 1\nhosts_per_leaf = 4\ngpus_per_host = 2\nlink_latency_ns = 100000000\n"
     "nvlink_latency_ns = 50000000\n[transport]\nwindow_bytes = 4096\n[workload]\n"
     "kind = permutation\nbytes = 4194304\n[sim]\niterations = 100000\n",
     "FILE:8: transport.window_bytes: a flow needs at least 1.02e+08 round trips of 0.2 s with a "
     "window of 4096 bytes, 2.05e+07 s of simulated time, more than the clock holds (9.22e+06 s)"),
    R("NUL byte in a value",
     "[sim]\nseed = 1\0junk\n",
     "FILE:2: line holds a NUL byte (not a text file?)"),
    R("NUL byte in a key",
     "[sim]\nse\0ed = 1\n",
     "FILE:2: line holds a NUL byte (not a text file?)"),
    R("NUL byte in a section header",
     "[s\0im]\nseed = 1\n",
     "FILE:1: line holds a NUL byte (not a text file?)"),
};
/* clang-format on */

static const char *write_case(const char *ini, size_t len)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/moesim_reject_XXXXXX.ini");
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ini, len), (ssize_t)len);
    close(fd);
    return path;
}

static void expect_error(const char *name, const char *path, const char *const *sets, size_t nsets,
                         const char *want)
{
    char expect[ERR_MSG_MAX];
    size_t used = 0;
    for (const char *p = want; *p && used + 1 < sizeof expect;) {
        if (path && !strncmp(p, "FILE", 4)) {
            used += (size_t)snprintf(expect + used, sizeof expect - used, "%s", path);
            p += 4;
        } else {
            expect[used++] = *p++;
        }
    }
    expect[used] = '\0';
    struct sc_sweep *s = NULL;
    struct err e = {""};
    int rc = sc_load(path, sets, nsets, &s, &e);
    if (rc != -1 || strcmp(e.msg, expect))
        print_error("case '%s':\n  got  %s\n  want %s\n", name, rc ? e.msg : "(accepted)", expect);
    if (rc == 0) sc_free(s);
    assert_int_equal(rc, -1);
    assert_null(s);
    assert_string_equal(e.msg, expect);
    assert_null(strchr(e.msg, '\n'));
}

static void test_file_cases(void **state)
{
    (void)state;
    size_t n = sizeof file_cases / sizeof file_cases[0];
    for (size_t i = 0; i < n; i++) {
        const struct reject *c = &file_cases[i];
        const char *path = write_case(c->ini, c->len);
        expect_error(c->name, path, NULL, 0, c->want);
        unlink(path);
    }
    assert_true(n >= 63);
}

struct set_case {
    const char *name;
    const char *sets[3];
    const char *want;
};

/* clang-format off */
static const struct set_case set_cases[] = {
    {"--set equals before the dot", {"topology=leaves.x"}, "--set topology=leaves.x: expected section.key=value"},
    {"--set empty section", {".leaves=4"}, "--set .leaves=4: expected section.key=value"},
    {"--set nothing", {""}, "--set : expected section.key=value"},
    {"--set only an equals sign", {"="}, "--set =: expected section.key=value"},
    {"--set trailing comma", {"topology.leaves=2,"}, "--set topology.leaves=2,: empty element in sweep '2,'"},
    {"--set bad enum", {"transport.cc=reno"}, "--set transport.cc=reno: 'reno' is not one of window|dctcp|nscc|dcqcn"},
    {"--set key case", {"sim.SEED=1"}, "--set sim.SEED=1: unknown key"},
    {"--set section case", {"Sim.seed=1"}, "--set Sim.seed=1: unknown section [Sim]"},
    {"--set one key twice", {"sim.seed=1", "sim.seed=2"},
     "--set sim.seed=2: duplicate key (first set by --set sim.seed=1)"},
    {"--set one key twice, sweeps", {"transport.path=ecmp", "sim.seed=3", "transport.path=spray,split"},
     "--set transport.path=spray,split: duplicate key (first set by --set transport.path=ecmp)"},
    {"--set a sweep listing a value twice", {"sim.seed=1,2,1"},
     "--set sim.seed=1,2,1: the sweep '1,2,1' lists 1 twice"},
    {"--set binary garbage in a value", {"sim.seed=\x1b]0;x\x07"},
     "--set sim.seed=\\x1b]0;x\\x07: expected an integer, got '\\x1b]0;x\\x07'"},
    {"--set the later bad one", {"sim.seed=1", "sim.iterations=0"},
     "--set sim.iterations=0: 0 is out of bounds [1, 1000000]"},
    {"--set a cross-key check against the file", {"transport.mtu=1500", "transport.window_bytes=1000"},
     "--set transport.window_bytes=1000: 1000 is less than transport.mtu (1500): use 0 (automatic) "
     "or at least one packet"},
    {"--set the clock", {"workload.bytes=1000000000000000", "topology.host_gbps=0.001"},
     "--set workload.bytes=1000000000000000: a host needs at least 1.2e+11 s of simulated time to "
     "send its bytes, more than the clock holds (9.22e+06 s)"},
};
/* clang-format on */

static void test_set_cases(void **state)
{
    (void)state;
    size_t n = sizeof set_cases / sizeof set_cases[0];
    for (size_t i = 0; i < n; i++) {
        const struct set_case *c = &set_cases[i];
        size_t nsets = 0;
        while (nsets < 3 && c->sets[nsets])
            nsets++;
        expect_error(c->name, NULL, c->sets, nsets, c->want);
    }
}

/* A sweep spread over three --set arguments: 47^3 runs. */
static void test_set_sweep_too_large(void **state)
{
    (void)state;
    static char a[512], b[512], c[512];
    char *bufs[3] = {a, b, c};
    const char *keys[3] = {"sim.seed=", "workload.bytes=", "transport.mtu="};
    for (int k = 0; k < 3; k++) {
        size_t used = (size_t)snprintf(bufs[k], 512, "%s", keys[k]);
        for (int v = 0; v < 47; v++)
            used += (size_t)snprintf(bufs[k] + used, 512 - used, "%s%d", v ? "," : "", 1000 + v);
    }
    const char *sets[3] = {a, b, c};
    char want[1600];
    snprintf(want, sizeof want, "--set %s: the sweep expands to more than 100000 runs", a);
    expect_error("--set sweep too large", NULL, sets, 3, want);
}

/* An output path one character too long, through --set as `--db` passes it. */
static void test_set_long_db(void **state)
{
    (void)state;
    static char set[1100];
    size_t used = (size_t)snprintf(set, sizeof set, "output.db=");
    memset(set + used, 'p', 1024);
    set[used + 1024] = '\0';
    const char *sets[1] = {set};
    char want[1200];
    snprintf(want, sizeof want, "--set %s: value is longer than 1023 characters", set);
    expect_error("--set long db", NULL, sets, 1, want);
}

/* A MoE batch no machine holds is refused before the trace is read; the
 * message ends with this machine's memory, so only its start is fixed. */
static void test_moe_memory(void **state)
{
    (void)state;
    const char ini[] = "[topology]\nleaves = 4096\nhosts_per_leaf = 7\n[workload]\nkind = moe\n"
                       "trace = x.csv\ntokens_per_gpu = 16777216\n";
    const char *path = write_case(ini, sizeof ini - 1);
    struct sc_sweep *s = NULL;
    struct err e = {""};
    assert_int_equal(sc_load(path, NULL, 0, &s, &e), -1);
    char want[256];
    snprintf(want, sizeof want,
             "%s:7: workload.tokens_per_gpu: the run needs at least 2706.5 GiB of memory, this "
             "machine has ",
             path);
    assert_int_equal(strncmp(e.msg, want, strlen(want)), 0);
    assert_non_null(strstr(e.msg + strlen(want), " GiB"));
    unlink(path);
}

static void test_empty_path(void **state)
{
    (void)state;
    expect_error("empty path", "", NULL, 0, ": cannot open: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_cases),          cmocka_unit_test(test_set_cases),
        cmocka_unit_test(test_set_sweep_too_large), cmocka_unit_test(test_set_long_db),
        cmocka_unit_test(test_empty_path),          cmocka_unit_test(test_moe_memory),
    };
    return cmocka_run_group_tests_name("reject_scenario", tests, NULL, NULL);
}
