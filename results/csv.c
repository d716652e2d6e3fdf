/* csv.c - phase rows as CSV (res_csv_phases, see res.h).
 *
 * Columns: run_id,iter,layer,phase,start_ns,end_ns,cct_ns,ideal_ns,bytes, the
 * same values as the `phases` table. Numbers are written bare (they never need
 * quoting); the one text field, phase, goes through libcsv's csv_fwrite, which
 * always quotes and doubles embedded quotes (RFC 4180). The header is written
 * when the file is new or empty, so appending runs to one file keeps a single
 * header line.
 */
#include "results/res.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <csv.h>

static const char res_csv_header[] =
    "run_id,iter,layer,phase,start_ns,end_ns,cct_ns,ideal_ns,bytes\n";

static int res_csv_row(FILE *f, int64_t run_id, const struct res_phase *p)
{
    uint64_t start = ps_to_ns(p->start_ps), end = ps_to_ns(p->end_ps);
    const char *phase = p->phase ? p->phase : "";
    if (fprintf(f, "%" PRId64 ",%" PRIu32 ",%" PRIu32 ",", run_id, p->iter, p->layer) < 0 ||
        csv_fwrite(f, phase, strlen(phase)) != 0)
        return -1;
    if (fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", start, end,
                end - start, ps_to_ns(p->ideal_ps), p->bytes) < 0)
        return -1;
    return 0;
}

int res_csv_phases(const char *path, int64_t run_id, const struct res_run *r, int append,
                   struct err *e)
{
    if (res_out_mkdirs(path, e) < 0) return -1;
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f) return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    int bad = fseek(f, 0, SEEK_END) != 0;
    long size = bad ? 0 : ftell(f);
    if (!bad && size <= 0) bad = fputs(res_csv_header, f) == EOF;
    for (size_t i = 0; !bad && i < r->nphases; i++)
        bad = res_csv_row(f, run_id, &r->phases[i]) < 0;
    if (bad) {
        int saved = errno;
        fclose(f);
        return err_set(e, "%s: cannot write: %s", path, strerror(saved));
    }
    if (fclose(f) != 0) return err_set(e, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}
