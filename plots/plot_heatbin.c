/* plot_heatbin.c - exact time binning of link samples for the heatmap (see
 * plot.h): a cell is an interval of simulated time, and its utilisation is
 * the bytes sent in it over capacity x its width. A sample reports the bytes
 * sent during the period that ends at its time; where that period straddles
 * two cells, each gets the share of the bytes its overlap is of the period
 * (so the cells' bytes add up to the samples' bytes exactly, up to
 * rounding), and a period reaching past the end counts only up to it.
 */
#include "plots/plot.h"

#include <stdlib.h>

int64_t plot_heatbin_width(int64_t period_ns, int64_t end_ns, size_t max_cells)
{
    int64_t periods = (end_ns + period_ns - 1) / period_ns;
    int64_t m = (periods + (int64_t)max_cells - 1) / (int64_t)max_cells;
    return (m < 1 ? 1 : m) * period_ns;
}

void plot_heatbin_init(struct plot_heatbin *h, int64_t period_ns, int64_t width_ns, int64_t end_ns,
                       size_t nlinks)
{
    h->period_ns = period_ns;
    h->width_ns = width_ns;
    h->end_ns = end_ns;
    h->ncells = (size_t)((end_ns + width_ns - 1) / width_ns);
    h->nlinks = nlinks;
    h->bytes = xcalloc(h->ncells * nlinks + 1, sizeof *h->bytes);
}

void plot_heatbin_add(struct plot_heatbin *h, int64_t t_ns, size_t link, double bytes)
{
    int64_t lo = t_ns - h->period_ns, hi = t_ns;
    if (link >= h->nlinks || hi <= 0 || lo >= h->end_ns) return;
    /* the part of the period inside [0, end) */
    int64_t a = lo < 0 ? 0 : lo, b = hi > h->end_ns ? h->end_ns : hi;
    double *row = h->bytes + link * h->ncells;
    for (int64_t k = a / h->width_ns; k * h->width_ns < b; k++) {
        int64_t c0 = k * h->width_ns, c1 = c0 + h->width_ns;
        int64_t ov = (b < c1 ? b : c1) - (a > c0 ? a : c0);
        row[k] += bytes * (double)ov / (double)h->period_ns;
    }
}

int64_t plot_heatbin_span(const struct plot_heatbin *h, size_t k)
{
    int64_t c0 = (int64_t)k * h->width_ns, c1 = c0 + h->width_ns;
    return (c1 < h->end_ns ? c1 : h->end_ns) - c0;
}

void plot_heatbin_free(struct plot_heatbin *h)
{
    free(h->bytes);
    h->bytes = NULL;
}
