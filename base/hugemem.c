/* hugemem.c - large arrays on transparent huge pages (hugemem.h). */
#include "base/hugemem.h"

#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *huge_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE) return aligned_alloc(64, (bytes + 63) / 64 * 64);
    size_t n = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, n)) return NULL;
    (void)madvise(p, n, MADV_HUGEPAGE); /* advice: a refusal leaves small pages */
    return p;
}
