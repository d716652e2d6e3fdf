/* testutil.h - helpers shared by the cmocka tests. */
#ifndef MOESIM_TESTUTIL_H
#define MOESIM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Writes `text` to a fresh temporary file and returns its path (static buffer
 * per call slot; the file lives until the process exits or it is unlinked). */
static inline const char *tu_write_temp(const char *text, const char *suffix)
{
    static char paths[16][64];
    static int slot;
    char *p = paths[slot++ % 16];
    snprintf(p, 64, "/tmp/moesim_test_XXXXXX%s", suffix);
    int fd = mkstemps(p, (int)strlen(suffix));
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return p;
}

#endif
