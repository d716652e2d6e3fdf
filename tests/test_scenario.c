/* test_scenario.c - scenario files, --set overrides, sweeps and cross-key
 * checks (app/scenario.c, app/validate.c), including the exact one-line error
 * for each kind of bad input. */
#include "testutil.h"

#include <sys/stat.h>

#include "app/scenario.h"
#include "sim/eng.h"
#include "workloads/moe.h"
#include "workloads/place.h"

static struct sc_sweep *load_ok(const char *ini, const char *const *sets, size_t nsets)
{
    const char *path = ini ? tu_write_temp(ini, ".ini") : NULL;
    struct sc_sweep *s = NULL;
    struct err e = {""};
    int rc = sc_load(path, sets, nsets, &s, &e);
    if (path) unlink(path);
    if (rc != 0) print_error("unexpected error: %s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_non_null(s);
    return s;
}

static void test_defaults_resolve(void **state)
{
    (void)state;
    struct sc_sweep *s = load_ok(NULL, NULL, 0);
    struct cfg def;
    cfg_defaults(&def);
    assert_int_equal(sc_count(s), 1);
    assert_string_equal(sc_path(s), "");
    assert_memory_equal(sc_run(s, 0), &def, sizeof def);
    for (size_t i = 0; i < opt_count; i++)
        assert_int_equal(sc_values(s, &opt_table[i]), 1);
    assert_int_equal(def.topo.leaves, 4);
    assert_int_equal(def.tr.path, PATH_ECMP);
    assert_string_equal(def.out.db, "results/moesim.db");
    sc_free(s);
}

static void test_file_overrides_keys(void **state)
{
    (void)state;
    const char *ini = "; a comment\n"
                      "# another\n"
                      "\n"
                      "[topology]\n"
                      "  leaves = 8 ; inline comment\n"
                      "spines: 2\r\n"
                      "host_gbps = 400 # inline comment, '#' after white space\n"
                      "[transport]\n"
                      "path = spray_rr\n"
                      "[workload]\n"
                      "kind = permutation\n"
                      "[output]\n"
                      "db = /tmp/x y.db\n";
    struct sc_sweep *s = load_ok(ini, NULL, 0);
    assert_int_equal(sc_count(s), 1);
    const struct cfg *c = sc_run(s, 0);
    assert_int_equal(c->topo.leaves, 8);
    assert_int_equal(c->topo.spines, 2);
    assert_true(c->topo.host_gbps == 400.0);
    assert_int_equal(c->tr.path, PATH_SPRAY_RR);
    assert_int_equal(c->wl.kind, WL_PERMUTATION);
    assert_string_equal(c->out.db, "/tmp/x y.db");
    /* untouched keys keep their defaults */
    assert_int_equal(c->topo.hosts_per_leaf, 4);
    assert_int_equal(c->tr.mtu, 4096);
    assert_true(c->topo.fabric_gbps == 100.0);
    assert_string_not_equal(sc_path(s), "");
    sc_free(s);
}

static void test_bom_and_longest_line(void **state)
{
    (void)state;
    /* a line of exactly 8191 characters is the longest accepted */
    size_t n = 8191;
    char *ini = malloc(n + 64);
    strcpy(ini, "\xEF\xBB\xBF[sim]\nseed = 7\n#");
    size_t at = strlen(ini);
    memset(ini + at, 'x', n - 1);
    strcpy(ini + at + n - 1, "\n");
    struct sc_sweep *s = load_ok(ini, NULL, 0);
    assert_int_equal(sc_run(s, 0)->sim.seed, 7);
    sc_free(s);
    free(ini);
}

static void test_sweep_2x3_order(void **state)
{
    (void)state;
    /* the file lists path before spines; table order decides: spines slowest */
    const char *ini = "[transport]\npath = ecmp, spray ,adaptive\n[topology]\nspines = 2,4\n";
    struct sc_sweep *s = load_ok(ini, NULL, 0);
    assert_int_equal(sc_count(s), 6);
    assert_int_equal(sc_values(s, opt_find("topology", "spines")), 2);
    assert_int_equal(sc_values(s, opt_find("transport", "path")), 3);
    assert_int_equal(sc_values(s, opt_find("topology", "leaves")), 1);
    const int64_t spines[6] = {2, 2, 2, 4, 4, 4};
    const int path[6] = {PATH_ECMP, PATH_SPRAY, PATH_ADAPTIVE,
                         PATH_ECMP, PATH_SPRAY, PATH_ADAPTIVE};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(sc_run(s, i)->topo.spines, spines[i]);
        assert_int_equal(sc_run(s, i)->tr.path, path[i]);
        assert_int_equal(sc_run(s, i)->topo.leaves, 4);
    }
    char label[256];
    sc_label(s, 4, label, sizeof label);
    assert_string_equal(label, "topology.spines=4 transport.path=spray");
    sc_free(s);
}

static void test_label_empty_without_sweep(void **state)
{
    (void)state;
    struct sc_sweep *s = load_ok("[sim]\nseed = 3\n", NULL, 0);
    char label[64] = "junk";
    sc_label(s, 0, label, sizeof label);
    assert_string_equal(label, "");
    sc_free(s);
}

static void test_set_overrides_file(void **state)
{
    (void)state;
    const char *sets[] = {"topology.leaves=8", "sim.seed=42"};
    struct sc_sweep *s = load_ok("[topology]\nleaves = 2\n[sim]\nseed = 5\n", sets, 2);
    assert_int_equal(sc_count(s), 1);
    assert_int_equal(sc_run(s, 0)->topo.leaves, 8);
    assert_int_equal(sc_run(s, 0)->sim.seed, 42);
    sc_free(s);
}

static void test_set_sweeps_over_file(void **state)
{
    (void)state;
    const char *sets[] = {"transport.path=ecmp,spray", "topology.leaves=2,3"};
    struct sc_sweep *s = load_ok("[transport]\npath = adaptive\n", sets, 2);
    assert_int_equal(sc_count(s), 4);
    const int64_t leaves[4] = {2, 2, 3, 3};
    const int path[4] = {PATH_ECMP, PATH_SPRAY, PATH_ECMP, PATH_SPRAY};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(sc_run(s, i)->topo.leaves, leaves[i]);
        assert_int_equal(sc_run(s, i)->tr.path, path[i]);
    }
    sc_free(s);
}

/* Relative paths written in a scenario file resolve against its folder;
 * "DIR/.." steps are taken out where DIR is a real folder, kept where it is
 * a symbolic link; --set paths and words that are not paths stay. */
static void test_paths_resolve_against_the_file(void **state)
{
    (void)state;
    char root[] = "/tmp/moesim_paths_XXXXXX", p[512];
    assert_non_null(mkdtemp(root));
    snprintf(p, sizeof p, "%s/scen", root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/data", root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/data/t.csv", root);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("#experts=8 topk=2 layers=4\nseq,token,layer,slot,expert,weight\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/scen/s.ini", root);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("[topology]\nleaves = 2\nhosts_per_leaf = 4\n[workload]\nkind = moe\n"
          "trace = ../data/./t.csv\ncompute = roofline\n[output]\ndb = out/r.db\n"
          "csv = /tmp/moesim_paths_abs.csv\n",
          f);
    fclose(f);
    char link[512], want[512];
    snprintf(link, sizeof link, "%s/link", root);
    assert_int_equal(symlink("scen", link), 0);

    struct sc_sweep *s = NULL;
    struct err e = {""};
    assert_int_equal(sc_load(p, NULL, 0, &s, &e), 0);
    const struct cfg *c = sc_run(s, 0);
    snprintf(want, sizeof want, "%s/data/t.csv", root);
    assert_string_equal(c->wl.trace, want);
    snprintf(want, sizeof want, "%s/scen/out/r.db", root);
    assert_string_equal(c->out.db, want);
    assert_string_equal(c->out.csv, "/tmp/moesim_paths_abs.csv");
    assert_string_equal(c->wl.compute, "roofline");
    sc_free(s);

    /* through the symbolic link: "link/.." is not "." */
    snprintf(p, sizeof p, "%s/link/s.ini", root);
    assert_int_equal(sc_load(p, NULL, 0, &s, &e), 0);
    snprintf(want, sizeof want, "%s/link/../data/t.csv", root);
    assert_string_equal(sc_run(s, 0)->wl.trace, want);
    sc_free(s);

    /* --set paths are the command line's: relative to the current directory */
    const char *sets[] = {"output.db=rel/x.db"};
    assert_int_equal(sc_load(p, sets, 1, &s, &e), 0);
    assert_string_equal(sc_run(s, 0)->out.db, "rel/x.db");
    sc_free(s);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_set_without_file(void **state)
{
    (void)state;
    const char *sets[] = {"output.csv=out.csv"};
    struct sc_sweep *s = load_ok(NULL, sets, 1);
    assert_string_equal(sc_run(s, 0)->out.csv, "out.csv");
    sc_free(s);
}

static void test_cfg_validate_direct(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    const struct opt_def *bad = NULL;
    struct err e = {""};
    assert_int_equal(cfg_validate(&c, &bad, &e), 0);
    c.tr.window_bytes = 100;
    assert_int_equal(cfg_validate(&c, &bad, &e), -1);
    assert_ptr_equal(bad, opt_find("transport", "window_bytes"));
    assert_string_equal(e.msg, "transport.window_bytes: 100 is less than transport.mtu (4096): use "
                               "0 (automatic) or at least one packet");
    c.tr.window_bytes = 4096;
    assert_int_equal(cfg_validate(&c, &bad, &e), 0);
    c.topo.leaves = 4096;
    c.topo.hosts_per_leaf = 256;
    c.wl.kind = WL_PERMUTATION;
    assert_int_equal(cfg_validate(&c, &bad, &e), 0); /* exactly CFG_HOSTS_MAX */
    /* An all-to-all over a million hosts needs a trillion flows: refused up
     * front with the estimate, not killed halfway. */
    c.wl.kind = WL_ALLTOALL;
    assert_int_equal(cfg_validate(&c, &bad, &e), -1);
    assert_ptr_equal(bad, opt_find("topology", "hosts_per_leaf"));
    assert_non_null(strstr(e.msg, "topology.hosts_per_leaf: the run needs at least "));
}

/* ---- bad input: the exact error line ---- */

struct bad_case {
    const char *name;
    const char *ini;     /* file text; NULL: use `path` as is */
    const char *path;    /* when ini is NULL; NULL: no file */
    const char *sets[3]; /* overrides */
    const char *want;    /* "FILE" stands for the file's path */
};

#define OOB_LEAVES "is out of bounds [1, 4096]"
#define PATHS      "ecmp|spray|spray_rr|split|adaptive|flowlet|ethereal"

/* clang-format off */
static const struct bad_case bad_cases[] = {
    {"unknown section", "[topology]\nleaves = 2\n[bogus]\nx = 1\n", NULL, {0},
     "FILE:3: [bogus]: unknown section"},
    {"unknown empty section", "[sim]\nseed = 1\n[Topology]\n", NULL, {0},
     "FILE:3: [Topology]: unknown section"},
    {"unknown key", "[topology]\nfoo = 1\n", NULL, {0}, "FILE:2: topology.foo: unknown key"},
    {"key of another section", "[sim]\nleaves = 1\n", NULL, {0}, "FILE:2: sim.leaves: unknown key"},
    {"key outside a section", "leaves = 4\n", NULL, {0},
     "FILE:1: leaves: key outside any [section]"},
    {"bad int", "[topology]\nleaves = four\n", NULL, {0},
     "FILE:2: topology.leaves: expected an integer, got 'four'"},
    {"int with a suffix", "[topology]\nleaves = 4x\n", NULL, {0},
     "FILE:2: topology.leaves: expected an integer, got '4x'"},
    {"int overflow", "[sim]\nseed = 99999999999999999999\n", NULL, {0},
     "FILE:2: sim.seed: expected an integer, got '99999999999999999999'"},
    {"bad real", "[topology]\nhost_gbps = fast\n", NULL, {0},
     "FILE:2: topology.host_gbps: expected a number, got 'fast'"},
    {"int out of bounds", "[topology]\nleaves = 0\n", NULL, {0},
     "FILE:2: topology.leaves: 0 " OOB_LEAVES},
    {"real out of bounds", "[topology]\nfabric_gbps = 2e6\n", NULL, {0},
     "FILE:2: topology.fabric_gbps: 2e+06 is out of bounds [0.001, 1e+06]"},
    {"bad enum", "\n\n[transport]\n\n\n\npath = foo\n", NULL, {0},
     "FILE:7: transport.path: 'foo' is not one of " PATHS},
    {"enum is case sensitive", "[workload]\nkind = AllToAll\n", NULL, {0},
     "FILE:2: workload.kind: 'AllToAll' is not one of "
     "alltoall|permutation|moe|allreduce|reduce_scatter|allgather|incast|flows|alltoallv"},
    {"empty value", "[topology]\nleaves =\n", NULL, {0}, "FILE:2: topology.leaves: empty value"},
    {"value only a comment", "[topology]\nleaves = ; none\n", NULL, {0},
     "FILE:2: topology.leaves: empty value"},
    {"duplicate key", "[topology]\nleaves = 2\n\nleaves = 3\n", NULL, {0},
     "FILE:4: topology.leaves: duplicate key (first set on line 2)"},
    {"duplicate key in a repeated section", "[topology]\nleaves = 2\n[sim]\n[topology]\nleaves = 2\n",
     NULL, {0}, "FILE:5: topology.leaves: duplicate key (first set on line 2)"},
    {"syntax: no equals", "[topology]\nleaves 4\n", NULL, {0},
     "FILE:2: syntax error: expected [section] or key = value, got 'leaves 4'"},
    {"syntax: no key", "[topology]\n = 4\n", NULL, {0},
     "FILE:2: syntax error: expected [section] or key = value, got '= 4'"},
    {"syntax: unclosed section", "[sim]\nseed = 2\n[topology\n", NULL, {0},
     "FILE:3: syntax error: expected [section] or key = value, got '[topology'"},
    {"syntax: text after a section", "[topology] leaves = 4\n", NULL, {0},
     "FILE:1: syntax error: text after [topology]"},
    {"bad sweep element", "[topology]\nleaves = 2, x ,4\n", NULL, {0},
     "FILE:2: topology.leaves: expected an integer, got 'x'"},
    {"empty sweep element", "[topology]\nleaves = 2,,4\n", NULL, {0},
     "FILE:2: topology.leaves: empty element in sweep '2,,4'"},
    {"trailing comma", "[topology]\nspines = 2,\n", NULL, {0},
     "FILE:2: topology.spines: empty element in sweep '2,'"},
    {"sweep element out of bounds", "[topology]\nspines = 2, 5000\n", NULL, {0},
     "FILE:2: topology.spines: 5000 is out of bounds [1, 1024]"},
    {"bad enum in a sweep", "[transport]\npath = ecmp,sprey\n", NULL, {0},
     "FILE:2: transport.path: 'sprey' is not one of " PATHS},
    {"algorithm a kind lacks", "[workload]\nkind = allreduce\nalgo = direct\n", NULL, {0},
     "FILE:3: workload.algo: direct is not an algorithm of workload.kind = allreduce (it has: "
     "ring, halving_doubling, tree)"},
    {"tree for a reduce_scatter", "[workload]\nkind = reduce_scatter\nalgo = tree\n", NULL, {0},
     "FILE:3: workload.algo: tree is not an algorithm of workload.kind = reduce_scatter (it has: "
     "ring, halving_doubling)"},
    {"tree chunks above half the bytes",
     "[workload]\nkind = allreduce\nalgo = tree\nbytes = 10\nchunks = 6\n", NULL, {0},
     "FILE:5: workload.chunks: 6 chunks of half of workload.bytes = 10 leave a chunk empty"},
    {"halving_doubling on 6 hosts",
     "[topology]\nleaves = 1\nhosts_per_leaf = 6\n[workload]\nkind = allgather\n"
     "algo = halving_doubling\n", NULL, {0},
     "FILE:3: topology.hosts_per_leaf: workload.algo = halving_doubling needs a power of two of "
     "hosts, not leaves*hosts_per_leaf = 6"},
    {"ring for an alltoall", "[workload]\nalgo = ring\n", NULL, {0},
     "FILE:2: workload.algo: ring is not an algorithm of workload.kind = alltoall (it has: "
     "direct)"},
    {"algorithm for moe", "[workload]\nkind = moe\ntrace = x.csv\nalgo = ring\n", NULL, {0},
     "FILE:4: workload.algo: ring is not an algorithm of workload.kind = moe (it has: auto)"},
    {"more chunks than tokens", "[workload]\nkind = moe\ntrace = x.csv\ntokens_per_gpu = 4\n"
     "chunks = 8\n", NULL, {0},
     "FILE:5: workload.chunks: 8 chunks of workload.tokens_per_gpu = 4 tokens leave a chunk empty"},
    {"training with coherent", "[workload]\nkind = moe\ntrace = x.csv\nep_mode = coherent\n"
     "pass = training\n", NULL, {0},
     "FILE:5: workload.pass: training is not modeled with workload.ep_mode = coherent (use forward)"},
    {"overlap with coherent", "[workload]\nkind = moe\ntrace = x.csv\nep_mode = coherent\n"
     "overlap = chunks\n", NULL, {0},
     "FILE:5: workload.overlap: chunks is not modeled with workload.ep_mode = coherent (use none)"},
    {"too few hosts", "[topology]\nleaves = 1\nhosts_per_leaf = 1\n", NULL, {0},
     "FILE:3: topology.hosts_per_leaf: leaves*hosts_per_leaf = 1 host, need at least 2"},
    {"too many hosts", "[topology]\nleaves = 4096\nhosts_per_leaf = 512\n", NULL, {0},
     "FILE:3: topology.hosts_per_leaf: leaves*hosts_per_leaf = 2097152 hosts, more than this "
     "build holds (1048576)"},
    {"hosts check in one sweep element", "[topology]\nleaves = 1\nhosts_per_leaf = 4,1\n", NULL,
     {0}, "FILE:3: topology.hosts_per_leaf: leaves*hosts_per_leaf = 1 host, need at least 2"},
    {"ack not below mtu", "[transport]\nmtu = 100\nack_bytes = 200\n", NULL, {0},
     "FILE:3: transport.ack_bytes: 200 is not less than transport.mtu (100)"},
    {"ack default not below mtu", "[transport]\nmtu = 64\n", NULL, {0},
     "FILE: transport.ack_bytes: 64 is not less than transport.mtu (64)"},
    {"window below mtu", "[transport]\nwindow_bytes = 1000\n", NULL, {0},
     "FILE:2: transport.window_bytes: 1000 is less than transport.mtu (4096): use 0 (automatic) "
     "or at least one packet"},
    {"clock overflow", "[workload]\nbytes = 1000000000000000\n[topology]\nhost_gbps = 0.001\n",
     NULL, {0},
     "FILE:2: workload.bytes: a host needs at least 1.2e+11 s of simulated time to send its "
     "bytes, more than the clock holds (9.22e+06 s)"},
    {"sweep too large",
     "[topology]\nleaves = 1,2,3,4,5,6,7,8,9,10\nspines = 1,2,3,4,5,6,7,8,9,10\n"
     "hosts_per_leaf = 1,2,3,4,5,6,7,8,9,10\nhost_gbps = 1,2,3,4,5,6,7,8,9,10\n"
     "fabric_gbps = 1,2,3,4,5,6,7,8,9,10\nlink_latency_ns = 1,2,3,4,5,6,7,8,9,10\n",
     NULL, {0}, "FILE:7: topology.link_latency_ns: the sweep expands to more than 100000 runs"},
    {"missing file", NULL, "/nonexistent/moesim/x.ini", {0},
     "/nonexistent/moesim/x.ini: cannot open: No such file or directory"},
    {"a directory", NULL, "/tmp", {0}, "/tmp: cannot read: Is a directory"},
    {"--set without =", NULL, NULL, {"topology.leaves"},
     "--set topology.leaves: expected section.key=value"},
    {"--set without section", NULL, NULL, {"leaves=4"}, "--set leaves=4: expected section.key=value"},
    {"--set empty key", NULL, NULL, {"topology.=4"}, "--set topology.=4: expected section.key=value"},
    {"--set unknown key", "[sim]\nseed = 1\n", NULL, {"topology.foo=1"},
     "--set topology.foo=1: unknown key"},
    {"--set unknown section", NULL, NULL, {"bogus.x=1"}, "--set bogus.x=1: unknown section [bogus]"},
    {"--set bad value", NULL, NULL, {"sim.seed=3", "topology.leaves=2,y"},
     "--set topology.leaves=2,y: expected an integer, got 'y'"},
    {"--set empty value", NULL, NULL, {"topology.leaves="}, "--set topology.leaves=: empty value"},
    {"--set out of bounds", NULL, NULL, {"transport.mtu=10"},
     "--set transport.mtu=10: 10 is out of bounds [64, 65535]"},
    {"--set breaks a cross-key check", "[topology]\nleaves = 1\n", NULL,
     {"topology.hosts_per_leaf=1"},
     "--set topology.hosts_per_leaf=1: leaves*hosts_per_leaf = 1 host, need at least 2"},
    {"--set blames a default without a file", NULL, NULL, {"transport.mtu=64"},
     "transport.ack_bytes: 64 is not less than transport.mtu (64)"},
};
/* clang-format on */

/* Expected message with every "FILE" replaced by path. */
static void expand_want(const char *want, const char *path, char *out, size_t n)
{
    size_t used = 0;
    for (const char *p = want; *p && used + 1 < n;) {
        if (path && !strncmp(p, "FILE", 4)) {
            used += (size_t)snprintf(out + used, n - used, "%s", path);
            p += 4;
        } else {
            out[used++] = *p++;
        }
    }
    out[used < n ? used : n - 1] = '\0';
}

static void check_bad(const char *name, const char *path, const char *const *sets, size_t nsets,
                      const char *want)
{
    struct sc_sweep *s = (struct sc_sweep *)1;
    struct err e = {""};
    int rc = sc_load(path, sets, nsets, &s, &e);
    char expect[ERR_MSG_MAX];
    expand_want(want, path, expect, sizeof expect);
    if (rc != -1 || strcmp(e.msg, expect))
        print_error("case '%s':\n  got  %s\n  want %s\n", name, rc ? e.msg : "(success)", expect);
    assert_int_equal(rc, -1);
    assert_null(s);
    assert_string_equal(e.msg, expect);
    assert_null(strchr(e.msg, '\n'));
}

static void test_bad_input_table(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        if (!c->want) continue;
        const char *path = c->ini ? tu_write_temp(c->ini, ".ini") : c->path;
        size_t nsets = 0;
        while (nsets < 3 && c->sets[nsets])
            nsets++;
        check_bad(c->name, path, c->sets, nsets, c->want);
        if (c->ini) unlink(path);
        checked++;
    }
    assert_true(checked >= 40);
}

static void test_overlong_line(void **state)
{
    (void)state;
    size_t n = 8192;
    char *ini = malloc(n + 64);
    strcpy(ini, "[sim]\n#");
    size_t at = strlen(ini);
    memset(ini + at, 'y', n - 1);
    strcpy(ini + at + n - 1, "\nseed = 2\n");
    const char *path = tu_write_temp(ini, ".ini");
    check_bad("overlong line", path, NULL, 0, "FILE:2: line is longer than 8191 characters");
    free(ini);
}

static void test_long_string(void **state)
{
    (void)state;
    char ini[1200] = "[output]\ndb = ";
    size_t at = strlen(ini);
    memset(ini + at, 'd', 1024);
    strcpy(ini + at + 1024, "\n");
    const char *path = tu_write_temp(ini, ".ini");
    check_bad("string too long", path, NULL, 0,
              "FILE:2: output.db: value is longer than 1023 characters");
}

/* The file's path goes through a regular file: open fails with ENOTDIR. */
static void test_unopenable_path(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/x.ini", tu_write_temp("[sim]\n", ".ini"));
    check_bad("path through a file", path, NULL, 0, "FILE: cannot open: Not a directory");
    *strrchr(path, '/') = '\0';
    unlink(path);
}

/* Every enum option's choices are in the order of the enum its field holds
 * (the field is the choice's index): one row per choice of every OPT_ENUM
 * option, so a choice or an enum option added without its row fails here. */
static void test_enum_orders(void **state)
{
    (void)state;
    static const struct {
        const char *section, *key;
        int value;
        const char *name;
    } rows[] = {
        {"topology", "kind", TOPO_LEAF_SPINE, "leaf_spine"},
        {"topology", "kind", TOPO_FAT_TREE, "fat_tree"},
        {"topology", "kind", TOPO_FILE, "file"},
        {"topology", "kind", TOPO_RAIL, "rail"},
        {"topology", "cross_rail", TOPO_XR_PXN, "pxn"},
        {"topology", "cross_rail", TOPO_XR_SPINE, "spine"},
        {"transport", "path", PATH_ECMP, "ecmp"},
        {"transport", "path", PATH_SPRAY, "spray"},
        {"transport", "path", PATH_SPRAY_RR, "spray_rr"},
        {"transport", "path", PATH_SPLIT, "split"},
        {"transport", "path", PATH_ADAPTIVE, "adaptive"},
        {"transport", "path", PATH_FLOWLET, "flowlet"},
        {"transport", "path", PATH_ETHEREAL, "ethereal"},
        {"transport", "cc", CC_WINDOW, "window"},
        {"transport", "cc", CC_DCTCP, "dctcp"},
        {"transport", "cc", CC_NSCC, "nscc"},
        {"transport", "cc", CC_DCQCN, "dcqcn"},
        {"transport", "recovery", REC_NONE, "none"},
        {"transport", "recovery", REC_GOBACK_N, "goback_n"},
        {"transport", "recovery", REC_SELECTIVE, "selective"},
        {"sim", "engine", ENGINE_PACKET, "packet"},
        {"sim", "engine", ENGINE_FLOW, "flow"},
        {"workload", "kind", WL_ALLTOALL, "alltoall"},
        {"workload", "kind", WL_PERMUTATION, "permutation"},
        {"workload", "kind", WL_MOE, "moe"},
        {"workload", "kind", WL_ALLREDUCE, "allreduce"},
        {"workload", "kind", WL_REDUCE_SCATTER, "reduce_scatter"},
        {"workload", "kind", WL_ALLGATHER, "allgather"},
        {"workload", "kind", WL_INCAST, "incast"},
        {"workload", "kind", WL_FLOWS, "flows"},
        {"workload", "kind", WL_ALLTOALLV, "alltoallv"},
        {"workload", "algo", WL_ALGO_AUTO, "auto"},
        {"workload", "algo", WL_ALGO_DIRECT, "direct"},
        {"workload", "algo", WL_ALGO_RING, "ring"},
        {"workload", "algo", WL_ALGO_HALVING_DOUBLING, "halving_doubling"},
        {"workload", "algo", WL_ALGO_TREE, "tree"},
        {"workload", "overlap", WL_OVERLAP_NONE, "none"},
        {"workload", "overlap", WL_OVERLAP_CHUNKS, "chunks"},
        {"workload", "overlap", WL_OVERLAP_DUAL_BATCH, "dual_batch"},
        {"workload", "dispatch", WL_DISPATCH_DIRECT, "direct"},
        {"workload", "dispatch", WL_DISPATCH_HIERARCHICAL, "hierarchical"},
        {"workload", "stage", WL_STAGE_PREFILL, "prefill"},
        {"workload", "stage", WL_STAGE_DECODE, "decode"},
        {"workload", "pass", WL_PASS_FORWARD, "forward"},
        {"workload", "pass", WL_PASS_TRAINING, "training"},
        {"workload", "shard", SHARD_CONTIGUOUS, "contiguous"},
        {"workload", "shard", SHARD_ROUND_ROBIN, "round_robin"},
        {"workload", "ep_mode", EP_STANDARD, "standard"},
        {"workload", "ep_mode", EP_COHERENT, "coherent"},
        {"workload", "dp_layout", WL_DP_STRIDED, "strided"},
        {"workload", "dp_layout", WL_DP_CONTIGUOUS, "contiguous"},
        {"workload", "grad_algo", WL_GRAD_RING, "ring"},
        {"workload", "grad_algo", WL_GRAD_TREE, "tree"},
        {"workload", "grad_algo", WL_GRAD_HALVING_DOUBLING, "halving_doubling"},
    };
    size_t n = sizeof rows / sizeof rows[0], checked = 0;
    for (size_t i = 0; i < n; i++) {
        const struct opt_def *o = opt_find(rows[i].section, rows[i].key);
        assert_non_null(o);
        assert_int_equal(o->type, OPT_ENUM);
        assert_int_equal(opt_choice_index(o->choices, rows[i].name), rows[i].value);
        assert_string_equal(opt_enum_name(rows[i].section, rows[i].key, rows[i].value),
                            rows[i].name);
    }
    for (size_t k = 0; k < opt_count; k++) {
        const struct opt_def *o = &opt_table[k];
        if (o->type != OPT_ENUM) continue;
        if (!strcmp(o->section, "placement") && !strcmp(o->key, "policy")) {
            /* its choices are PL_POLICY_LIST's, the table pl_policies[] too */
            assert_int_equal(opt_choice_count(o->choices), PL_NPOLICIES);
            for (int p = 0; p < PL_NPOLICIES; p++)
                assert_int_equal(opt_choice_index(o->choices, pl_policies[p].name), p);
            continue;
        }
        size_t have = 0;
        for (size_t i = 0; i < n; i++)
            have += !strcmp(rows[i].section, o->section) && !strcmp(rows[i].key, o->key);
        if ((int)have != opt_choice_count(o->choices))
            fail_msg("%s.%s: %d choices, %zu rows here", o->section, o->key,
                     opt_choice_count(o->choices), have);
        checked += have;
    }
    assert_int_equal(checked, n);
}

/* The memory estimate that gates a run, now counted from the sizes of the
 * engine's, the fabric's and the MoE generator's structs: the same bytes as
 * the formula of copied numbers it replaced (these values are that
 * formula's, computed before the change), plus the routing table that came
 * with the fat-tree (topo/route.c: a row per switch and leaf, the leaves'
 * uplinks and the spines' downlinks once each). */
#define ROUTE_BYTES(L, S) ((uint64_t)((L) + (S)) * (L)*8 + 2ull * (L) * (S)*4)
static void test_memory_estimate(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    assert_int_equal(cfg_memory_estimate(&c), 268864 + ROUTE_BYTES(4, 4));
    cfg_defaults(&c);
    c.tr.path = PATH_SPLIT, c.tr.subflows = 4;
    c.topo.leaves = 32, c.topo.hosts_per_leaf = 32, c.topo.spines = 16;
    assert_int_equal(cfg_memory_estimate(&c), 342032384 + ROUTE_BYTES(32, 16));
    cfg_defaults(&c);
    c.wl.kind = WL_PERMUTATION, c.tr.window_bytes = 65536;
    c.topo.leaves = 64, c.topo.hosts_per_leaf = 128, c.topo.spines = 64;
    assert_int_equal(cfg_memory_estimate(&c), 9568256 + ROUTE_BYTES(64, 64));
    cfg_defaults(&c);
    c.wl.kind = WL_MOE, c.wl.topk = 2, c.wl.tokens_per_gpu = 4096;
    c.topo.gpus_per_host = 2, c.topo.leaves = 4096, c.topo.hosts_per_leaf = 8;
    assert_int_equal(cfg_memory_estimate(&c), 26870546432ull + ROUTE_BYTES(4096, 4));
    /* the parts it is made of */
    assert_int_equal(eng_memory_per_flow(), 64);
    /* the transport's state per flow: the default adds none; dctcp 128
     * (struct cc_flow, two cache lines, nscc's state in the second), nscc
     * 128 + its least ring of 8 send times, dcqcn 88 (struct dcqcn_rp),
     * recovery 64 + 32 (struct rec_flow, rec_cold) and under selective
     * repeat three 64-packet bitmaps */
    cfg_defaults(&c);
    uint64_t plain = cfg_memory_estimate(&c);
    assert_int_equal(eng_memory_per_flow_tr(&c.tr), 64);
    c.tr.cc = CC_DCTCP;
    assert_int_equal(eng_memory_per_flow_tr(&c.tr), 64 + 128);
    c.tr.cc = CC_DCQCN, c.tr.recovery = REC_GOBACK_N;
    assert_int_equal(eng_memory_per_flow_tr(&c.tr), 64 + 88 + 4 + 96);
    c.tr.cc = CC_NSCC, c.tr.recovery = REC_SELECTIVE;
    assert_int_equal(eng_memory_per_flow_tr(&c.tr), 64 + 128 + 32 + 96 + 24);
    /* the default all-to-all's 240 flows each carry it */
    assert_int_equal(cfg_memory_estimate(&c) - plain, 240 * (128 + 32 + 96 + 24));
    assert_int_equal(eng_memory_per_packet(), 32);
    assert_int_equal(wl_moe_memory_per_token(2), sizeof(uint32_t) + 2 * sizeof(int16_t));
    assert_int_equal(wl_moe_memory_per_gpu_pair(), sizeof(uint64_t) + sizeof(struct topo_demand));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_resolve),
        cmocka_unit_test(test_file_overrides_keys),
        cmocka_unit_test(test_bom_and_longest_line),
        cmocka_unit_test(test_sweep_2x3_order),
        cmocka_unit_test(test_label_empty_without_sweep),
        cmocka_unit_test(test_set_overrides_file),
        cmocka_unit_test(test_set_sweeps_over_file),
        cmocka_unit_test(test_paths_resolve_against_the_file),
        cmocka_unit_test(test_set_without_file),
        cmocka_unit_test(test_cfg_validate_direct),
        cmocka_unit_test(test_bad_input_table),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_long_string),
        cmocka_unit_test(test_unopenable_path),
        cmocka_unit_test(test_enum_orders),
        cmocka_unit_test(test_memory_estimate),
    };
    return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
