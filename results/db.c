/* db.c - the results database on SQLite (see res.h for the tables).
 *
 * A `meta` table marks a file as a moesim database and holds its
 * schema_version; res_open refuses files that have tables but no `meta`, and
 * versions newer than RES_SCHEMA_VERSION. The database runs in WAL mode with
 * a busy timeout, so several moesim processes may write to one file (each
 * write transaction is short, and BEGIN IMMEDIATE takes the write lock up
 * front instead of failing on upgrade).
 *
 * Schema versions: 1 had runs, params, phases and links; 2 adds flows,
 * timeseries and gpu_load; 3 adds trace_use; 4 adds inputs (the content hash
 * of every input file of a run, inputs.c); 5 adds tasks (one row per task of
 * the executed graph, exec.h) and phases.ideal_kind (which bound ideal_ns
 * is, 'lp' or 'cut'; NULL in compute rows and in rows from older versions).
 * 6 adds links.trims and links.pause_ns (switch.trim, switch.pfc) and
 * flows.retx_bytes, timeouts and nacks (transport.recovery); flows.cnps
 * (transport.cc = dcqcn) came later within version 6, by res_added alone.
 * res_open migrates an older file in place: the CREATE ... IF NOT EXISTS
 * statements add what is missing, ALTER TABLE adds the later columns
 * (res_added), and the
 * version is raised, in the same write transaction (so a crash leaves the
 * old version intact).
 *
 * Every statement is prepared once in res_open and reused with bound
 * parameters: a run's phases and links go in through the same statement,
 * reset between rows, inside one transaction.
 *
 * A writer refuses a damaged file (res_check_sound: PRAGMA quick_check).
 *
 * Readers (res_open_read: report, export, plot) never write and leave no
 * file behind. A writer that closes last switches the file back to rollback
 * mode (journal_mode=DELETE), so a finished database is one self-contained
 * file that opens read-only anywhere, also in a directory the reader cannot
 * write in (WAL needs a -shm file beside it). A file still in WAL mode (a
 * writer is running, one was killed, or two closed at once) is opened by
 * res_read_mode's rules.
 */
#include "results/res.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/version.h"
#include "results/resdb.h"

#define RES_SCHEMA_VERSION 6
#define RES_BUSY_MS        10000

static const char res_schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, scenario TEXT, status TEXT,"
    " started_at TEXT, finished_at TEXT, seed INTEGER, engine TEXT, wall_s REAL,"
    " events INTEGER, sim_ns INTEGER, version TEXT, message TEXT);"
    "CREATE TABLE IF NOT EXISTS params (run_id INTEGER, key TEXT, value TEXT);"
    "CREATE TABLE IF NOT EXISTS phases (run_id INTEGER, iter INTEGER, layer INTEGER,"
    " phase TEXT, start_ns INTEGER, end_ns INTEGER, cct_ns INTEGER, ideal_ns INTEGER,"
    " bytes INTEGER, ideal_kind TEXT);"
    "CREATE TABLE IF NOT EXISTS links (run_id INTEGER, link INTEGER, kind TEXT, src TEXT,"
    " dst TEXT, gbps REAL, bytes INTEGER, busy_ns INTEGER, max_queue_bytes INTEGER,"
    " drops INTEGER, ecn_marks INTEGER, trims INTEGER, pause_ns INTEGER);"
    "CREATE TABLE IF NOT EXISTS flows (run_id INTEGER, flow INTEGER, src INTEGER, dst INTEGER,"
    " bytes INTEGER, start_ns INTEGER, end_ns INTEGER, retx_bytes INTEGER, timeouts INTEGER,"
    " nacks INTEGER, cnps INTEGER);"
    "CREATE TABLE IF NOT EXISTS timeseries (run_id INTEGER, t_ns INTEGER, link INTEGER,"
    " bytes INTEGER, queue_bytes INTEGER);"
    "CREATE TABLE IF NOT EXISTS gpu_load (run_id INTEGER, layer INTEGER, gpu INTEGER,"
    " tokens INTEGER);"
    "CREATE INDEX IF NOT EXISTS params_run ON params(run_id);"
    "CREATE INDEX IF NOT EXISTS phases_run ON phases(run_id);"
    "CREATE INDEX IF NOT EXISTS links_run ON links(run_id);"
    "CREATE INDEX IF NOT EXISTS flows_run ON flows(run_id);"
    "CREATE INDEX IF NOT EXISTS timeseries_run ON timeseries(run_id);"
    "CREATE INDEX IF NOT EXISTS gpu_load_run ON gpu_load(run_id);"
    "CREATE TABLE IF NOT EXISTS trace_use (run_id INTEGER, token INTEGER, uses INTEGER);"
    "CREATE INDEX IF NOT EXISTS trace_use_run ON trace_use(run_id);"
    "CREATE TABLE IF NOT EXISTS notes (run_id INTEGER, key TEXT, value TEXT);"
    "CREATE INDEX IF NOT EXISTS notes_run ON notes(run_id);"
    "CREATE TABLE IF NOT EXISTS inputs (run_id INTEGER, key TEXT, path TEXT, bytes INTEGER,"
    " xxh3 TEXT);"
    "CREATE INDEX IF NOT EXISTS inputs_run ON inputs(run_id);"
    /* version 5: the tasks table */
    "CREATE TABLE IF NOT EXISTS tasks (run_id INTEGER, task INTEGER, iter INTEGER,"
    " layer INTEGER, phase TEXT, kind TEXT, chunk INTEGER, pass TEXT, mb INTEGER,"
    " start_ns INTEGER, end_ns INTEGER, on_critical_path INTEGER);"
    "CREATE INDEX IF NOT EXISTS tasks_run ON tasks(run_id);"
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '6');";
/* The migration from versions 1 to 4, after res_schema in the same
 * transaction: the tables above exist now (notes came with version 4 too,
 * tasks with 5), and phases gains ideal_kind where it lacks it (version 5:
 * res_setup's ALTER TABLE; older rows read NULL). */
static const char res_version[] =
    "UPDATE meta SET value = '6' WHERE key = 'schema_version' AND CAST(value AS INTEGER) < 6;";

/* Columns that came after their table (ALTER TABLE adds them to an older
 * file; its old rows read NULL): version 5's phases.ideal_kind, version 6's
 * links.trims and pause_ns and flows.retx_bytes, timeouts and nacks, and
 * flows.cnps (added within version 6: an older binary writes its rows
 * without it, NULL). */
static const struct {
    const char *table, *column, *type;
} res_added[] = {
    {"phases", "ideal_kind", "TEXT"}, {"links", "trims", "INTEGER"},
    {"links", "pause_ns", "INTEGER"}, {"flows", "retx_bytes", "INTEGER"},
    {"flows", "timeouts", "INTEGER"}, {"flows", "nacks", "INTEGER"},
    {"flows", "cnps", "INTEGER"},
};

/* The prepared statements, in the order of res_sql[]. */
enum res_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_RUN,
    ST_PARAM,
    ST_PHASE,
    ST_LINK,
    ST_FLOW,
    ST_SAMPLE,
    ST_GPU_LOAD,
    ST_TRACE_USE,
    ST_NOTE,
    ST_INPUT,
    ST_TASK,
    ST_DONE,
    ST_FAIL,
    ST_COUNT
};

static const char *const res_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_RUN] = "INSERT INTO runs (scenario, status, started_at, seed, engine, version)"
               " VALUES (?, 'running', ?, ?, ?, ?)",
    [ST_PARAM] = "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)",
    [ST_PHASE] = "INSERT INTO phases (run_id, iter, layer, phase, start_ns, end_ns, cct_ns,"
                 " ideal_ns, bytes, ideal_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_LINK] = "INSERT INTO links (run_id, link, kind, src, dst, gbps, bytes, busy_ns,"
                " max_queue_bytes, drops, ecn_marks, trims, pause_ns)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_FLOW] = "INSERT INTO flows (run_id, flow, src, dst, bytes, start_ns, end_ns, retx_bytes,"
                " timeouts, nacks, cnps) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_SAMPLE] = "INSERT INTO timeseries (run_id, t_ns, link, bytes, queue_bytes)"
                  " VALUES (?, ?, ?, ?, ?)",
    [ST_GPU_LOAD] = "INSERT INTO gpu_load (run_id, layer, gpu, tokens) VALUES (?, ?, ?, ?)",
    [ST_TRACE_USE] = "INSERT INTO trace_use (run_id, token, uses) VALUES (?, ?, ?)",
    [ST_NOTE] = "INSERT INTO notes (run_id, key, value) VALUES (?, ?, ?)",
    [ST_INPUT] = "INSERT INTO inputs (run_id, key, path, bytes, xxh3) VALUES (?, ?, ?, ?, ?)",
    [ST_TASK] = "INSERT INTO tasks (run_id, task, iter, layer, phase, kind, chunk, pass, mb,"
                " start_ns, end_ns, on_critical_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_DONE] = "UPDATE runs SET status = 'done', finished_at = ?, wall_s = ?, events = ?,"
                " sim_ns = ? WHERE id = ? AND status = 'running'",
    [ST_FAIL] = "UPDATE runs SET status = 'failed', finished_at = ?, message = ?"
                " WHERE id = ? AND status = 'running'",
};

struct res_db {
    sqlite3 *db;
    char *path;
    int writer; /* opened by res_open */
    sqlite3_stmt *st[ST_COUNT];
};

sqlite3 *res_sqlite(struct res_db *d)
{
    return d->db;
}

const char *res_path(const struct res_db *d)
{
    return d->path;
}

/* ---- helpers ---- */

/* "PATH: what: sqlite's message". Returns -1. */
static int res_fail(struct res_db *d, const char *what, struct err *e)
{
    return err_set(e, "%s: %s: %s", d->path, what, sqlite3_errmsg(d->db));
}

/* Current UTC time as ISO 8601, e.g. "2026-11-23T11:28:31Z". */
static void res_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Steps a statement that returns no rows (then resets it). */
static int res_exec(struct res_db *d, enum res_stmt s)
{
    int rc = sqlite3_step(d->st[s]);
    sqlite3_reset(d->st[s]);
    sqlite3_clear_bindings(d->st[s]);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void res_rollback(struct res_db *d)
{
    if (!sqlite3_get_autocommit(d->db)) res_exec(d, ST_ROLLBACK);
}

/* Binds an unsigned count; SQLite integers are signed 64-bit. */
static int res_bind_u64(sqlite3_stmt *st, int col, uint64_t v)
{
    if (v > (uint64_t)INT64_MAX) return SQLITE_RANGE;
    return sqlite3_bind_int64(st, col, (sqlite3_int64)v);
}

/* mkdir -p of the directory part of `path`. Returns 0 or -1 (e set). */
static int res_mkdirs(const char *path, struct err *e)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash) {
        *slash = '\0';
        for (char *p = dir + 1; rc == 0 && p <= slash; p++) {
            if (*p != '/' && *p != '\0') continue;
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) < 0 && errno != EEXIST)
                rc = err_set(e, "%s: cannot create directory %s: %s", path, dir, strerror(errno));
            *p = c;
        }
    }
    free(dir);
    return rc;
}

/* ---- opening ---- */

/* The directory part of path (to free): "." or "/" when it has none. */
static char *res_dirname(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    return dir;
}

/* WAL mode keeps PATH-wal and PATH-shm beside the database, so its directory
 * must be writable too. Returns 0 or -1 (e set). */
static int res_dir_writable(const char *path, struct err *e)
{
    char *d = res_dirname(path);
    int rc = 0;
    if (access(d, W_OK | X_OK) != 0)
        rc = err_set(e, "%s: cannot write in directory %s: %s", path, d, strerror(errno));
    free(d);
    return rc;
}

/* Runs a query returning one integer (0 when no row). -1 on error. */
static int res_query_int(struct res_db *d, const char *sql, const char *arg, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (arg) sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Refuses a file that is not a moesim database, or one of a newer schema. */
static int res_check_kind(struct res_db *d, struct err *e)
{
    int64_t both, version;
    /* one statement, one snapshot: two queries could see another writer's
     * schema commit between them (no meta, then tables) */
    if (res_query_int(d,
                      "SELECT count(*) * 2 + coalesce(max(name = 'meta'), 0) FROM sqlite_master "
                      "WHERE type = 'table'",
                      NULL, &both) < 0)
        return res_fail(d,
                        sqlite3_errcode(d->db) == SQLITE_NOTADB ? "not a moesim results database"
                                                                : "cannot read",
                        e);
    int64_t has_meta = both & 1, tables = both >> 1;
    if (!has_meta && tables > 0)
        return err_set(e, "%s: not a moesim results database (it has tables but no meta table)",
                       d->path);
    if (!has_meta) return 0;
    if (res_query_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", "schema_version",
                      &version) < 0)
        return res_fail(d, "cannot read the schema version", e);
    if (version < 1)
        return err_set(e, "%s: not a moesim results database (no schema_version in meta)", d->path);
    if (version > RES_SCHEMA_VERSION)
        return err_set(e,
                       "%s: schema_version %lld is newer than this moesim handles (%d); use a "
                       "newer moesim",
                       d->path, (long long)version, RES_SCHEMA_VERSION);
    return 0;
}

/* Refuses a damaged file: PRAGMA quick_check (every page, cell and record
 * of every b-tree; not whether each index matches its table, which only the
 * slower integrity_check compares) must say ok before a writer adds runs,
 * or a sweep would append to it and fail, or worse succeed, somewhere later.
 * 0.1 s on a 10,000-run, 30 MB database. */
static int res_check_sound(struct res_db *d, struct err *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
        return res_fail(d, "cannot check", e);
    int rc = sqlite3_step(st);
    const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int ok = r && !strcmp(r, "ok");
    if (!ok && r) {
        static const char head[] = "*** in database main ***\n";
        if (!strncmp(r, head, sizeof head - 1)) r += sizeof head - 1;
        char what[256];
        snprintf(what, sizeof what, "%s", r);
        for (char *c = what; *c; c++)
            if (*c == '\n') *c = ' ';
        err_set(e,
                "%s: the database is damaged (PRAGMA quick_check: %s); no run was added, "
                "write to another --db",
                d->path, what);
    } else if (!ok) {
        res_fail(d, "cannot check", e);
    }
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* PRAGMA journal_mode=WAL. Switching into WAL takes an exclusive lock and
 * SQLite returns SQLITE_BUSY without calling the busy handler when another
 * connection holds one (a writer switching the file back to rollback mode as
 * it closes, see res_close), so this retries for RES_BUSY_MS itself. */
static int res_wal(struct res_db *d)
{
    for (int waited = 0;; waited += 5) {
        int rc = sqlite3_exec(d->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc != SQLITE_BUSY || waited >= RES_BUSY_MS) return rc;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Journal mode, schema (in one write transaction) and statements. */
static int res_setup(struct res_db *d, struct err *e)
{
    if (res_wal(d) != SQLITE_OK) return res_fail(d, "cannot switch to WAL mode", e);
    /* In WAL mode NORMAL keeps the database consistent through a crash of
     * moesim or of the machine; a power loss may lose the last commit (which
     * `moesim run --resume` reruns). A commit no longer waits for fsync: it
     * halves the time of a sweep of small runs (bench/README.md). */
    if (sqlite3_exec(d->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
        return res_fail(d, "cannot set synchronous mode", e);
    if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return res_fail(d, "cannot lock", e);
    int bad = sqlite3_exec(d->db, res_schema, NULL, NULL, NULL) != SQLITE_OK;
    for (size_t i = 0; !bad && i < sizeof res_added / sizeof res_added[0]; i++) {
        char sql[160];
        int64_t has = 0;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = ?",
                 res_added[i].table);
        bad = res_query_int(d, sql, res_added[i].column, &has) < 0;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", res_added[i].table,
                 res_added[i].column, res_added[i].type);
        if (!bad && !has) bad = sqlite3_exec(d->db, sql, NULL, NULL, NULL) != SQLITE_OK;
    }
    if (bad || sqlite3_exec(d->db, res_version, NULL, NULL, NULL) != SQLITE_OK) {
        res_fail(d, "cannot create the tables", e);
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return res_fail(d, "cannot create the tables", e);
    for (int s = 0; s < ST_COUNT; s++)
        if (sqlite3_prepare_v3(d->db, res_sql[s], -1, SQLITE_PREPARE_PERSISTENT, &d->st[s], NULL) !=
            SQLITE_OK)
            return res_fail(d, "cannot prepare a statement", e);
    return 0;
}

int res_open(const char *path, struct res_db **out, struct err *e)
{
    *out = NULL;
    if (res_mkdirs(path, e) < 0 || res_dir_writable(path, e) < 0) return -1;
    struct res_db *d = xcalloc(1, sizeof *d);
    d->path = xstrdup(path);
    int rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        if (d->db)
            res_fail(d, "cannot open", e);
        else
            err_set(e, "%s: cannot open: %s", path, sqlite3_errstr(rc));
        res_close(d);
        return -1;
    }
    sqlite3_busy_timeout(d->db, RES_BUSY_MS);
    /* SQLite falls back to read-only when the file cannot be written; say so
     * now rather than as a failed query later. */
    if (sqlite3_db_readonly(d->db, "main") == 1) {
        err_set(e, "%s: cannot write: the database file is read-only", path);
        res_close(d);
        return -1;
    }
    if (res_check_kind(d, e) < 0 || res_check_sound(d, e) < 0 || res_setup(d, e) < 0) {
        res_close(d);
        return -1;
    }
    d->writer = 1;
    *out = d;
    return 0;
}

/* ---- opening to read ---- */

/* How res_open_read opens a database. */
enum res_read_mode {
    RD_RO,        /* SQLITE_OPEN_READONLY */
    RD_RW_QUERY,  /* read-write with query_only: SQLite removes the -wal/-shm it makes */
    RD_IMMUTABLE, /* ?immutable=1: nothing can change the file, take no locks */
};

static int res_exists(const char *path, const char *suffix)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", path, suffix);
    return access(buf, F_OK) == 0;
}

/* Whether the file's header says WAL mode (bytes 18 and 19 are 2). */
static int res_header_wal(const char *path)
{
    unsigned char h[20];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    return n == sizeof h && h[18] == 2 && h[19] == 2;
}

/* A file in rollback mode, or one with a -wal beside it (a writer is running
 * or was killed: the -wal holds its commits, and SQLite reads it with the
 * -shm that came with it), opens read-only and leaves nothing behind. A file
 * in WAL mode without its -wal holds all its data, but a read-only
 * connection would create -wal and -shm and leave them: where the reader may
 * write the file and its directory it opens read-write with query_only, and
 * SQLite's last connection removes them on close, under its locks, even
 * while a writer starts; where the directory is read-only no writer can
 * create a -wal either, so the file cannot change and opens immutable. Else
 * (a read-only file in a writable directory) read-only: it may leave an
 * empty -wal and a -shm. */
static enum res_read_mode res_read_mode(const char *path)
{
    if (res_exists(path, "-wal") || res_exists(path, "-journal") || !res_header_wal(path))
        return RD_RO;
    char *dir = res_dirname(path);
    int dir_w = access(dir, W_OK | X_OK) == 0;
    free(dir);
    if (!dir_w) return RD_IMMUTABLE;
    return access(path, W_OK) == 0 ? RD_RW_QUERY : RD_RO;
}

/* "file:PATH?immutable=1" with PATH's '%', '?' and '#' escaped (to free). */
static char *res_immutable_uri(const char *path)
{
    size_t n = strlen(path);
    char *u = xmalloc(3 * n + 32);
    char *p = u + sprintf(u, "file:%s", path[0] == '/' ? "//" : "");
    for (const char *c = path; *c; c++) {
        if (*c == '%' || *c == '?' || *c == '#')
            p += sprintf(p, "%%%02X", (unsigned char)*c);
        else
            *p++ = *c;
    }
    strcpy(p, "?immutable=1");
    return u;
}

static int res_open_reader(struct res_db *d, struct err *e)
{
    enum res_read_mode m = res_read_mode(d->path);
    int rc;
    if (m == RD_IMMUTABLE) {
        char *uri = res_immutable_uri(d->path);
        rc = sqlite3_open_v2(uri, &d->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        free(uri);
    } else {
        rc = sqlite3_open_v2(d->path, &d->db,
                             m == RD_RW_QUERY ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL);
    }
    if (rc == SQLITE_OK && m == RD_RW_QUERY)
        rc = sqlite3_exec(d->db, "PRAGMA query_only=ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        if (d->db) return res_fail(d, "cannot open", e);
        return err_set(e, "%s: cannot open: %s", d->path, sqlite3_errstr(rc));
    }
    return 0;
}

int res_open_read(const char *path, struct res_db **out, struct err *e)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) < 0) return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    struct res_db *d = xcalloc(1, sizeof *d);
    d->path = xstrdup(path);
    if (res_open_reader(d, e) < 0) {
        res_close(d);
        return -1;
    }
    sqlite3_busy_timeout(d->db, RES_BUSY_MS);
    int64_t has_meta = 0;
    if (res_check_kind(d, e) < 0) {
        res_close(d);
        return -1;
    }
    if (res_query_int(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                      "meta", &has_meta) < 0 ||
        !has_meta) {
        err_set(e, "%s: not a moesim results database (it has no meta table)", path);
        res_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

int res_has_table(struct res_db *d, const char *name)
{
    int64_t n = 0;
    if (res_query_int(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                      name, &n) < 0)
        return 0;
    return n > 0;
}

void res_close(struct res_db *d)
{
    if (!d) return;
    for (int s = 0; s < ST_COUNT; s++)
        sqlite3_finalize(d->st[s]);
    /* Back to rollback mode when this is the last connection (a checkpoint,
     * then the -wal and -shm go); with other connections open it fails at
     * once, and the last of them does it. */
    if (d->writer && d->db) {
        sqlite3_busy_timeout(d->db, 0);
        sqlite3_exec(d->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    }
    sqlite3_close(d->db);
    free(d->path);
    free(d);
}

/* ---- runs ---- */

static int res_insert_run(struct res_db *d, const struct res_run_id *c, const char *scenario,
                          int64_t *run_id)
{
    char now[32];
    res_now(now, sizeof now);
    sqlite3_stmt *st = d->st[ST_RUN];
    sqlite3_bind_text(st, 1, scenario ? scenario : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, c->seed);
    sqlite3_bind_text(st, 4, c->engine, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, MOESIM_VERSION, -1, SQLITE_STATIC);
    if (res_exec(d, ST_RUN) < 0) return -1;
    *run_id = sqlite3_last_insert_rowid(d->db);
    return 0;
}

/* An inputs row for parameter key = value when it names an input file that
 * can be read (one that cannot has no row: the run then fails on it, and
 * --resume never takes it for a done run's input). */
static int res_insert_input(struct res_db *d, int64_t run_id, const char *key, const char *value)
{
    if (res_key_role(key, value) != RES_KEY_INPUT) return 0;
    char hex[17];
    uint64_t bytes;
    if (res_input_hash(value, hex, &bytes) < 0) return 0;
    sqlite3_stmt *st = d->st[ST_INPUT];
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_TRANSIENT);
    if (res_bind_u64(st, 4, bytes) != SQLITE_OK) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return -1;
    }
    sqlite3_bind_text(st, 5, hex, -1, SQLITE_TRANSIENT);
    return res_exec(d, ST_INPUT);
}

/* The params rows (every option) and the inputs rows of a run. */
static int res_insert_params(struct res_db *d, const struct res_run_id *c, int64_t run_id)
{
    sqlite3_stmt *st = d->st[ST_PARAM];
    for (size_t i = 0; i < c->np; i++) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_text(st, 2, c->p[i].key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, c->p[i].value, -1, SQLITE_TRANSIENT);
        if (res_exec(d, ST_PARAM) < 0 ||
            res_insert_input(d, run_id, c->p[i].key, c->p[i].value) < 0)
            return -1;
    }
    return 0;
}

int res_run_begin(struct res_db *d, const struct res_run_id *c, const char *scenario,
                  int64_t *run_id, struct err *e)
{
    if (res_exec(d, ST_BEGIN) < 0) return res_fail(d, "cannot start a run", e);
    if (res_insert_run(d, c, scenario, run_id) < 0 || res_insert_params(d, c, *run_id) < 0 ||
        res_exec(d, ST_COMMIT) < 0) {
        res_fail(d, "cannot record a run", e);
        res_rollback(d);
        return -1;
    }
    return 0;
}

/* Binds the unsigned columns first..first+n-1 of st; a value beyond SQLite's
 * signed integers resets st and fails. */
static int res_bind_counts(sqlite3_stmt *st, int first, const uint64_t *v, int n)
{
    for (int i = 0; i < n; i++)
        if (res_bind_u64(st, first + i, v[i]) != SQLITE_OK) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return -1;
        }
    return 0;
}

static int res_insert_phase(struct res_db *d, int64_t run_id, size_t i, const struct res_phase *p,
                            struct err *e)
{
    assert(p->end_ps >= p->start_ps);
    uint64_t start = ps_to_ns(p->start_ps), end = ps_to_ns(p->end_ps);
    uint64_t counts[5] = {start, end, end - start, ps_to_ns(p->ideal_ps), p->bytes};
    sqlite3_stmt *st = d->st[ST_PHASE];
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, p->iter);
    sqlite3_bind_int64(st, 3, p->layer);
    sqlite3_bind_text(st, 4, p->phase, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, p->ideal_kind, -1, SQLITE_STATIC); /* NULL: none */
    if (res_bind_counts(st, 5, counts, 5) < 0)
        return err_set(e, "%s: run %lld: phase %zu: a value is beyond 2^63-1", d->path,
                       (long long)run_id, i);
    if (res_exec(d, ST_PHASE) < 0)
        return err_set(e, "%s: run %lld: cannot record phase %zu: %s", d->path, (long long)run_id,
                       i, sqlite3_errmsg(d->db));
    return 0;
}

static int res_insert_link(struct res_db *d, int64_t run_id, size_t i, const struct res_link *l,
                           struct err *e)
{
    const struct res_port_stats *s = &l->st;
    uint64_t counts[7] = {
        s->bytes, ps_to_ns(s->busy_ps), s->max_queue_bytes, s->drops, s->ecn_marks,
        s->trims, ps_to_ns(s->pause_ps)};
    sqlite3_stmt *st = d->st[ST_LINK];
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, l->link);
    sqlite3_bind_text(st, 3, l->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, l->src, (int)strnlen(l->src, sizeof l->src), SQLITE_STATIC);
    sqlite3_bind_text(st, 5, l->dst, (int)strnlen(l->dst, sizeof l->dst), SQLITE_STATIC);
    sqlite3_bind_double(st, 6, l->gbps);
    int bad = res_bind_counts(st, 7, counts, 2) < 0 || res_bind_counts(st, 10, counts + 3, 4) < 0;
    if (!bad && s->max_queue_bytes == RES_NOT_MODELED)
        sqlite3_bind_null(st, 9);
    else if (!bad)
        bad = res_bind_counts(st, 9, counts + 2, 1) < 0;
    if (bad)
        return err_set(e, "%s: run %lld: link %zu: a value is beyond 2^63-1", d->path,
                       (long long)run_id, i);
    if (res_exec(d, ST_LINK) < 0)
        return err_set(e, "%s: run %lld: cannot record link %zu: %s", d->path, (long long)run_id, i,
                       sqlite3_errmsg(d->db));
    return 0;
}

/* Binds run_id then the counts v[0..n-1] and steps statement s; `what` and
 * i name the row in an error. */
static int res_insert_counts(struct res_db *d, enum res_stmt s, int64_t run_id, const char *what,
                             size_t i, const uint64_t *v, int n, struct err *e)
{
    sqlite3_stmt *st = d->st[s];
    sqlite3_bind_int64(st, 1, run_id);
    if (res_bind_counts(st, 2, v, n) < 0)
        return err_set(e, "%s: run %lld: %s %zu: a value is beyond 2^63-1", d->path,
                       (long long)run_id, what, i);
    if (res_exec(d, s) < 0)
        return err_set(e, "%s: run %lld: cannot record %s %zu: %s", d->path, (long long)run_id,
                       what, i, sqlite3_errmsg(d->db));
    return 0;
}

static int res_insert_extras(struct res_db *d, int64_t run_id, const struct res_run *r,
                             struct err *e)
{
    for (size_t i = 0; i < r->nflows; i++) {
        const struct res_flow *f = &r->flows[i];
        assert(f->end_ps >= f->start_ps);
        uint64_t v[9] = {f->flow,
                         f->src,
                         f->dst,
                         f->bytes,
                         ps_to_ns(f->start_ps),
                         ps_to_ns(f->end_ps),
                         f->loss.retx_bytes,
                         f->loss.timeouts,
                         f->loss.nacks};
        /* cnps: NULL where it does not apply (RES_NO_COUNT) */
        sqlite3_stmt *st = d->st[ST_FLOW];
        if (f->loss.cnps == RES_NO_COUNT)
            sqlite3_bind_null(st, 11);
        else if (res_bind_u64(st, 11, f->loss.cnps) != SQLITE_OK) {
            sqlite3_clear_bindings(st);
            return err_set(e, "%s: run %lld: flow %zu: a value is beyond 2^63-1", d->path,
                           (long long)run_id, i);
        }
        if (res_insert_counts(d, ST_FLOW, run_id, "flow", i, v, 9, e) < 0) return -1;
    }
    for (size_t i = 0; i < r->nsamples; i++) {
        const struct res_sample *p = &r->samples[i];
        uint64_t v[4] = {ps_to_ns(p->t_ps), p->link, p->bytes, p->queue_bytes};
        if (res_insert_counts(d, ST_SAMPLE, run_id, "sample", i, v, 4, e) < 0) return -1;
    }
    for (size_t i = 0; i < r->ngpu_load; i++) {
        const struct res_gpu_load *g = &r->gpu_load[i];
        uint64_t v[3] = {g->layer, g->gpu, g->tokens};
        if (res_insert_counts(d, ST_GPU_LOAD, run_id, "gpu_load row", i, v, 3, e) < 0) return -1;
    }
    for (size_t i = 0; i < r->ntrace_use; i++) {
        uint64_t v[2] = {r->trace_use[i].token, r->trace_use[i].uses};
        if (res_insert_counts(d, ST_TRACE_USE, run_id, "trace_use row", i, v, 2, e) < 0) return -1;
    }
    for (size_t i = 0; i < r->nnotes; i++) {
        const struct res_note *n = &r->notes[i];
        sqlite3_stmt *st = d->st[ST_NOTE];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_text(st, 2, n->key, (int)strnlen(n->key, sizeof n->key), SQLITE_STATIC);
        sqlite3_bind_text(st, 3, n->value, (int)strnlen(n->value, sizeof n->value), SQLITE_STATIC);
        if (res_exec(d, ST_NOTE) < 0)
            return err_set(e, "%s: run %lld: cannot record note %zu: %s", d->path,
                           (long long)run_id, i, sqlite3_errmsg(d->db));
    }
    return 0;
}

static int res_insert_tasks(struct res_db *d, int64_t run_id, const struct res_run *r,
                            struct err *e)
{
    sqlite3_stmt *st = d->st[ST_TASK];
    for (size_t i = 0; i < r->ntasks; i++) {
        const struct res_task *t = &r->tasks[i];
        assert(t->end_ps >= t->start_ps);
        uint64_t a[4] = {t->task, t->iter, t->layer, 0};
        uint64_t b[2] = {ps_to_ns(t->start_ps), ps_to_ns(t->end_ps)};
        sqlite3_bind_int64(st, 1, run_id);
        if (res_bind_counts(st, 2, a, 3) < 0 || res_bind_counts(st, 10, b, 2) < 0)
            return err_set(e, "%s: run %lld: task %zu: a value is beyond 2^63-1", d->path,
                           (long long)run_id, i);
        sqlite3_bind_text(st, 5, t->phase ? t->phase : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, res_task_kind_name(t->kind), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, t->chunk);
        sqlite3_bind_text(st, 8, res_task_pass_name(t->pass), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, t->mb);
        sqlite3_bind_int(st, 12, t->critical ? 1 : 0);
        if (res_exec(d, ST_TASK) < 0)
            return err_set(e, "%s: run %lld: cannot record task %zu: %s", d->path,
                           (long long)run_id, i, sqlite3_errmsg(d->db));
    }
    return 0;
}

/* Switches the run to done; fails when it is not a running run. */
static int res_mark_done(struct res_db *d, int64_t run_id, const struct res_run *r, struct err *e)
{
    char now[32];
    res_now(now, sizeof now);
    sqlite3_stmt *st = d->st[ST_DONE];
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 2, r->wall_s);
    uint64_t counts[2] = {r->events, ps_to_ns(r->sim_ps)};
    if (res_bind_counts(st, 3, counts, 2) < 0)
        return err_set(e, "%s: run %lld: events or sim_ns is beyond 2^63-1", d->path,
                       (long long)run_id);
    sqlite3_bind_int64(st, 5, run_id);
    if (res_exec(d, ST_DONE) < 0) return res_fail(d, "cannot finish a run", e);
    if (sqlite3_changes(d->db) != 1)
        return err_set(e, "%s: run %lld is not a running run", d->path, (long long)run_id);
    return 0;
}

static int res_finish_rows(struct res_db *d, int64_t run_id, const struct res_run *r, struct err *e)
{
    if (res_mark_done(d, run_id, r, e) < 0) return -1;
    for (size_t i = 0; i < r->nphases; i++)
        if (res_insert_phase(d, run_id, i, &r->phases[i], e) < 0) return -1;
    for (size_t i = 0; i < r->nlinks; i++)
        if (res_insert_link(d, run_id, i, &r->links[i], e) < 0) return -1;
    if (res_insert_extras(d, run_id, r, e) < 0 || res_insert_tasks(d, run_id, r, e) < 0) return -1;
    if (res_exec(d, ST_COMMIT) < 0) return res_fail(d, "cannot commit a run", e);
    return 0;
}

int res_run_finish(struct res_db *d, int64_t run_id, const struct res_run *r, struct err *e)
{
    if (res_exec(d, ST_BEGIN) < 0) return res_fail(d, "cannot finish a run", e);
    if (res_finish_rows(d, run_id, r, e) < 0) {
        res_rollback(d);
        return -1;
    }
    return 0;
}

int res_run_fail(struct res_db *d, int64_t run_id, const char *message, struct err *e)
{
    char now[32];
    res_now(now, sizeof now);
    sqlite3_stmt *st = d->st[ST_FAIL];
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, message ? message : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, run_id);
    if (res_exec(d, ST_FAIL) < 0) return res_fail(d, "cannot mark a run failed", e);
    if (sqlite3_changes(d->db) != 1)
        return err_set(e, "%s: run %lld is not a running run", d->path, (long long)run_id);
    return 0;
}
