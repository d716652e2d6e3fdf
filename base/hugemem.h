/* hugemem.h - large arrays on transparent huge pages.
 *
 * Arrays read at random once per event (the packet engine's ports) touch a
 * new 4 KiB page nearly every time on large fabrics, a TLB miss each (and
 * in a virtual machine a two-level page walk). Where the kernel's THP mode
 * is `madvise` (as on this project's machines), an allocation asks for huge
 * pages with madvise(MADV_HUGEPAGE): 2 MiB per TLB entry. Advice only: a
 * kernel that refuses leaves ordinary pages, and nothing else changes.
 */
#ifndef MOESIM_HUGEMEM_H
#define MOESIM_HUGEMEM_H

#include <stddef.h>

/* At least `bytes` of uninitialised memory aligned to a cache line, freed
 * with free(); from 2 MiB up aligned to 2 MiB and advised onto huge pages.
 * NULL when out of memory. */
void *huge_alloc(size_t bytes);

#endif
