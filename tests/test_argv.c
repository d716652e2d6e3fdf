/* test_argv.c - the command-line parser (base/argv.h): both value forms,
 * flags, repeats, positionals, "--", --help, and the exact one-line error of
 * every way a command line can be wrong. */
#include "testutil.h"

#include <fcntl.h>
#include <math.h>

#include "base/argv.h"

static const struct argv_opt opts[] = {
    {"--db", NULL, "FILE", 0, "the database"}, {"--set", NULL, "K=V", ARGV_REPEAT, "an override"},
    {"--jobs", "-j", "N", 0, "workers"},       {"--quiet", "-q", NULL, 0, "no summary"},
    {"-o", NULL, "OUT", 0, "the output"},      {"--zipf", NULL, "S", 0, "a real"},
    {"--seed", NULL, "S", 0, "a seed"},        {"--mode", NULL, "M", 0, "a choice"},
};
static const struct argv_cmd cmd = {
    "moesim t", "t FILE [--db FILE]", opts, sizeof opts / sizeof opts[0], 0, NULL};

/* Output of one call, captured from stdout and stderr. */
static char out_text[4096], err_text[4096];

static void slurp_fd(int fd, char *buf, size_t n)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t got = read(fd, buf, n - 1);
    buf[got > 0 ? got : 0] = '\0';
}

/* Parses the words of `line` (space-separated) with c; captures what it
 * prints. Returns argv_parse's result; *r is the parse. */
static int parse_c(const struct argv_cmd *c, const char *line, struct argv_res *r)
{
    static char buf[1024];
    static char *words[64];
    snprintf(buf, sizeof buf, "%s", line);
    int argc = 0;
    words[argc++] = "t";
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " "))
        words[argc++] = w;
    words[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    FILE *fo = tmpfile(), *fe = tmpfile();
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = argv_parse(c, argc, words, r);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    slurp_fd(fileno(fo), out_text, sizeof out_text);
    slurp_fd(fileno(fe), err_text, sizeof err_text);
    fclose(fo);
    fclose(fe);
    return rc;
}

static int parse(const char *line, struct argv_res *r)
{
    return parse_c(&cmd, line, r);
}

/* The command line is refused with exactly `want` (one line) and status 2. */
static void expect_error(const char *line, const char *want)
{
    struct argv_res r;
    char w[512];
    snprintf(w, sizeof w, "%s\n", want);
    assert_int_equal(parse(line, &r), -1);
    assert_int_equal(r.status, MOESIM_EXIT_INPUT);
    assert_string_equal(err_text, w);
    assert_string_equal(out_text, "");
}

static void test_values_both_forms(void **state)
{
    (void)state;
    struct argv_res r;
    assert_int_equal(parse("a.ini --db x.db --set a.b=1 --set=c.d=2,3 -j 4 -o=out -q", &r), 0);
    assert_string_equal(err_text, "");
    assert_string_equal(argv_str(&r, "--db", NULL), "x.db");
    assert_string_equal(argv_str(&r, "--jobs", NULL), "4");
    assert_string_equal(argv_str(&r, "-o", NULL), "out");
    assert_null(argv_str(&r, "--zipf", NULL));
    assert_string_equal(argv_str(&r, "--zipf", "dflt"), "dflt");
    assert_int_equal(argv_count(&r, "--quiet"), 1);
    assert_int_equal(argv_count(&r, "--set"), 2);
    int pos = 0;
    assert_string_equal(argv_each(&r, "--set", &pos), "a.b=1");
    assert_string_equal(argv_each(&r, "--set", &pos), "c.d=2,3");
    assert_null(argv_each(&r, "--set", &pos));
    assert_int_equal(argv_npos(&r), 1);
    assert_string_equal(argv_pos(&r, 0), "a.ini");
    assert_null(argv_pos(&r, 1));
}

/* "-" and negative numbers are values and positionals; "--" ends options. */
static void test_dash_values_and_dashdash(void **state)
{
    (void)state;
    struct argv_res r;
    assert_int_equal(parse("-o - --zipf -1.5 - -- --db -q", &r), 0);
    assert_string_equal(argv_str(&r, "-o", NULL), "-");
    double z = 0;
    assert_int_equal(argv_real(&r, "--zipf", -HUGE_VAL, HUGE_VAL, &z), 0);
    assert_true(z == -1.5);
    assert_int_equal(argv_npos(&r), 3);
    assert_string_equal(argv_pos(&r, 0), "-");
    assert_string_equal(argv_pos(&r, 1), "--db");
    assert_string_equal(argv_pos(&r, 2), "-q");
    assert_null(argv_str(&r, "--db", NULL));
    assert_int_equal(argv_count(&r, "--quiet"), 0);
    /* a value that starts with "--", given with '=' */
    assert_int_equal(parse("--db=--odd", &r), 0);
    assert_string_equal(argv_str(&r, "--db", NULL), "--odd");
}

static void test_errors_name_the_option(void **state)
{
    (void)state;
    expect_error("--bogus", "moesim t: --bogus: unknown option");
    expect_error("--bogus=3 a", "moesim t: --bogus: unknown option");
    expect_error("-x", "moesim t: -x: unknown option");
    expect_error("a --db", "moesim t: --db: missing value");
    expect_error("-j", "moesim t: -j: missing value");
    /* a value that looks like another option is not swallowed */
    expect_error("--set --db x.db", "moesim t: --set: missing value");
    expect_error("--db -o out", "moesim t: --db: missing value");
    expect_error("--db -h", "moesim t: --db: missing value");
    expect_error("--quiet=yes", "moesim t: --quiet: takes no value");
    expect_error("--help=1", "moesim t: --help: takes no value");
    expect_error("--db a --db b", "moesim t: --db: given more than once");
    expect_error("-j 1 --jobs 2", "moesim t: --jobs: given more than once");
    /* the first error wins */
    expect_error("--db --bogus", "moesim t: --db: missing value");
}

static void test_help_everywhere(void **state)
{
    (void)state;
    struct argv_res r;
    assert_int_equal(parse("a.ini --db x -h", &r), -1);
    assert_int_equal(r.status, 0);
    assert_string_equal(err_text, "");
    assert_int_equal(strncmp(out_text, "usage: moesim t FILE [--db FILE]\noptions:\n", 42), 0);
    assert_non_null(strstr(out_text, "\n  -j, --jobs N            workers\n"));
    assert_non_null(strstr(out_text, "\n  -h, --help              print this help and exit\n"));
    assert_int_equal(parse("--help", &r), -1);
    assert_int_equal(r.status, 0);
    /* after "--" it is an argument */
    assert_int_equal(parse("-- --help", &r), 0);
    assert_string_equal(argv_pos(&r, 0), "--help");
}

static void test_typed_values(void **state)
{
    (void)state;
    struct argv_res r;
    long j = 7;
    assert_int_equal(parse("a", &r), 0);
    assert_int_equal(argv_long(&r, "--jobs", 1, 8, &j), 0);
    assert_int_equal(j, 7); /* absent: unchanged */
    assert_int_equal(parse("-j 8", &r), 0);
    assert_int_equal(argv_long(&r, "--jobs", 1, 8, &j), 0);
    assert_int_equal(j, 8);

    static const struct {
        const char *line, *want;
    } bad[] = {
        {"-j 9", "moesim t: -j: expected an integer in [1, 8], got '9'\n"},
        {"--jobs=x", "moesim t: --jobs: expected an integer in [1, 8], got 'x'\n"},
        {"--jobs 3x", "moesim t: --jobs: expected an integer in [1, 8], got '3x'\n"},
        {"--jobs=", "moesim t: --jobs: expected an integer in [1, 8], got ''\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i].line, &r), 0);
        fflush(stderr);
        int se = dup(2);
        FILE *fe = tmpfile();
        dup2(fileno(fe), 2);
        assert_int_equal(argv_long(&r, "--jobs", 1, 8, &j), -1);
        fflush(stderr);
        dup2(se, 2);
        close(se);
        slurp_fd(fileno(fe), err_text, sizeof err_text);
        fclose(fe);
        assert_string_equal(err_text, bad[i].want);
    }

    double z = 0;
    assert_int_equal(parse("--zipf 0.25", &r), 0);
    assert_int_equal(argv_real(&r, "--zipf", 0, 1, &z), 0);
    assert_true(z == 0.25);
    uint64_t seed = 0;
    assert_int_equal(parse("--seed 18446744073709551615", &r), 0);
    assert_int_equal(argv_u64(&r, "--seed", &seed), 0);
    assert_true(seed == UINT64_MAX);
    int m = -1;
    assert_int_equal(parse("--mode coherent", &r), 0);
    assert_int_equal(argv_choice(&r, "--mode", "standard|coherent", &m), 0);
    assert_int_equal(m, 1);
}

/* Each typed reader's refusal, as one line. */
static void test_typed_errors(void **state)
{
    (void)state;
    struct argv_res r;
    double z;
    uint64_t s;
    int m;
    static const struct {
        const char *line, *want;
        int which;
    } bad[] = {
        {"--zipf y", "moesim t: --zipf: expected a number, got 'y'\n", 0},
        {"--zipf nan", "moesim t: --zipf: expected a number, got 'nan'\n", 0},
        {"--zipf 2", "moesim t: --zipf: expected a number in [0, 1], got '2'\n", 1},
        {"--seed -1", "moesim t: --seed: expected a non-negative integer, got '-1'\n", 2},
        {"--seed 99999999999999999999",
         "moesim t: --seed: expected a non-negative integer, got '99999999999999999999'\n", 2},
        {"--mode fast", "moesim t: --mode: expected standard|coherent, got 'fast'\n", 3},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i].line, &r), 0);
        fflush(stderr);
        int se = dup(2);
        FILE *fe = tmpfile();
        dup2(fileno(fe), 2);
        int rc = bad[i].which == 0   ? argv_real(&r, "--zipf", -HUGE_VAL, HUGE_VAL, &z)
                 : bad[i].which == 1 ? argv_real(&r, "--zipf", 0, 1, &z)
                 : bad[i].which == 2 ? argv_u64(&r, "--seed", &s)
                                     : argv_choice(&r, "--mode", "standard|coherent", &m);
        fflush(stderr);
        dup2(se, 2);
        close(se);
        slurp_fd(fileno(fe), err_text, sizeof err_text);
        fclose(fe);
        assert_int_equal(rc, -1);
        assert_string_equal(err_text, bad[i].want);
    }
}

/* A dispatcher (main, `moesim trace`) stops at the subcommand and hands
 * over the rest untouched, options included. */
static void test_stop_at_positional(void **state)
{
    (void)state;
    static const struct argv_opt top[] = {{"--version", NULL, NULL, 0, "the version"}};
    static const struct argv_cmd disp = {"moesim", "CMD ...", top, 1, 1, NULL};
    struct argv_res r;
    assert_int_equal(parse_c(&disp, "run x.ini --bogus --help", &r), 0);
    char **rest;
    int n = argv_rest(&r, &rest);
    assert_int_equal(n, 4);
    assert_string_equal(rest[0], "run");
    assert_string_equal(rest[3], "--help");
    assert_int_equal(parse_c(&disp, "--version", &r), 0);
    assert_int_equal(argv_count(&r, "--version"), 1);
    assert_int_equal(argv_rest(&r, &rest), 0);
    assert_int_equal(parse_c(&disp, "--bogus run", &r), -1);
    assert_string_equal(err_text, "moesim: --bogus: unknown option\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_both_forms),
        cmocka_unit_test(test_dash_values_and_dashdash),
        cmocka_unit_test(test_errors_name_the_option),
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_typed_values),
        cmocka_unit_test(test_typed_errors),
        cmocka_unit_test(test_stop_at_positional),
    };
    return cmocka_run_group_tests_name("argv", tests, NULL, NULL);
}
