/* plot_timeline.c - figure 6, `moesim plot timeline`: one step of one run as
 * a timeline (a Gantt chart) from the tasks table: a lane per role (compute:
 * every compute task, attention included; dispatch and combine, forward and
 * backward; other: the other network tasks, such as the gradient all-reduce
 * and collectives' steps, and delays),
 * a box per task from its start to its end, the step's critical path filled
 * and the tasks off it hollow. The run: --run, else the latest matching run
 * with task rows; the step: its first iteration. Data: timeline.csv (lane,
 * start, end, critical, phase, layer, chunk), times from the step's start.
 * Script: plots/timeline.gp. */
#include "plots/plot.h"

#include <stdlib.h>
#include <string.h>

#include "results/cursor.h"

static const char *const tl_lanes[4] = {"compute", "dispatch", "combine", "other"};

static int tl_lane(const char *kind, const char *phase)
{
    if (!strcmp(kind, "compute")) return 0;
    if (!strcmp(kind, "delay")) return 3;
    if (strstr(phase, "dispatch")) return 1;
    if (strstr(phase, "combine")) return 2;
    return 3;
}

/* The run to draw: --run (it must be selected and have tasks), else the
 * latest selected run with task rows; 0 when there is none. */
static int64_t tl_run(struct plot_ctx *c)
{
    struct res_cursor *st =
        res_cursor_open(c->db, "SELECT DISTINCT run_id FROM tasks ORDER BY run_id DESC", c->e);
    if (!st) return 0;
    int64_t id = 0;
    while (res_cursor_next(st) == 1) {
        int64_t r = res_cursor_int(st, 0);
        if (res_sel_find(c->sel, r) < 0) continue;
        if (c->o->run && r != c->o->run) continue;
        id = r;
        break;
    }
    res_cursor_close(st);
    return id;
}

int plot_timeline(struct plot_ctx *c)
{
    if (!res_has_table(c->db, "tasks"))
        return err_set(c->e, "%s: has no tasks table (an older schema; run with this moesim)",
                       res_path(c->db));
    if (c->o->by)
        return err_set(c->e, "--by %s: the timeline draws one run (pick it with --run)", c->o->by);
    int64_t id = tl_run(c);
    if (!id) {
        if (c->o->run)
            return err_set(c->e, "run %lld is not a matching done run with task rows",
                           (long long)c->o->run);
        return err_set(c->e,
                       "no task rows in the %zu matching done runs (run with output.tasks = true)",
                       c->sel->nruns);
    }
    struct res_cursor *st =
        res_cursor_open(c->db,
                        "SELECT kind, phase, layer, chunk, start_ns, end_ns, on_critical_path"
                        " FROM tasks WHERE run_id = ? AND iter = (SELECT min(iter) FROM tasks"
                        " WHERE run_id = ?) ORDER BY task",
                        c->e);
    if (!st) return PLOT_FAIL;
    res_cursor_bind_int(st, 1, id);
    res_cursor_bind_int(st, 2, id);
    struct row {
        int lane, crit;
        int64_t layer, chunk, a, b;
        char phase[32];
    } *rows = NULL;
    size_t n = 0, cap = 0;
    int64_t t0 = INT64_MAX, t1 = 0;
    int used[4] = {0};
    while (res_cursor_next(st) == 1) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        struct row *w = &rows[n++];
        w->lane = tl_lane(res_cursor_text(st, 0), res_cursor_text(st, 1));
        snprintf(w->phase, sizeof w->phase, "%s", res_cursor_text(st, 1));
        w->layer = res_cursor_int(st, 2);
        w->chunk = res_cursor_int(st, 3);
        w->a = res_cursor_int(st, 4);
        w->b = res_cursor_int(st, 5);
        w->crit = (int)res_cursor_int(st, 6);
        used[w->lane] = 1;
        if (w->a < t0) t0 = w->a;
        if (w->b > t1) t1 = w->b;
    }
    if (res_cursor_close(st) < 0) {
        free(rows);
        return PLOT_FAIL;
    }
    /* lanes top to bottom in tl_lanes' order, those without tasks left out */
    int y[4], nl = 0;
    const char *names[4];
    for (int l = 3; l >= 0; l--)
        if (used[l]) y[l] = nl, names[nl++] = tl_lanes[l];
    double unit = t1 - t0 >= 10000000 ? 1e6 : 1e3; /* ms for steps of 10 ms and more */
    FILE *d = plot_file(c, "timeline.csv");
    int rc = 0;
    if (!d) {
        free(rows);
        return PLOT_FAIL;
    }
    fprintf(d, "lane,start,end,critical,phase,layer,chunk\n");
    for (size_t i = 0; i < n; i++) {
        const struct row *w = &rows[i];
        fprintf(d, "%d,%.6f,%.6f,%d,", y[w->lane], (double)(w->a - t0) / unit,
                (double)(w->b - t0) / unit, w->crit);
        plot_csv_text(d, w->phase);
        fprintf(d, ",%lld,%lld\n", (long long)w->layer, (long long)w->chunk);
    }
    free(rows);
    if (fclose(d) != 0) return err_set(c->e, "%s/timeline.csv: cannot write", c->o->dir);
    char note[256];
    snprintf(note, sizeof note, "run %lld, its first step; filled: the critical path",
             (long long)id);
    FILE *f = plot_script(c, "timeline", note);
    if (!f) return PLOT_FAIL;
    plot_var_str(f, "xlabel",
                 unit > 1e3 ? "time from the step's start (ms)"
                            : "time from the step's start (us)");
    plot_var_num(f, "nlanes", nl);
    plot_var_strs(f, "lanes", names, (size_t)nl);
    rc = plot_draw(c, f, "timeline");
    return rc;
}
