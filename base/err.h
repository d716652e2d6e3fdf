/* err.h - the three tiers of errors.
 *
 * 1. Bad input and I/O: functions return -1 and fill a `struct err` whose
 *    message is one line naming file:line: key: reason. The CLI prints it and
 *    exits with status 2 (MOESIM_EXIT_INPUT).
 * 2. Programmer errors: assert().
 * 3. The unrecoverable (out of memory): err_fatal(), which exits with status 1.
 */
#ifndef MOESIM_ERR_H
#define MOESIM_ERR_H

#include <stddef.h>

#define MOESIM_EXIT_INPUT 2
#define ERR_MSG_MAX       1024

struct err {
    char msg[ERR_MSG_MAX];
};

/* Sets e->msg (printf-style) and returns -1, so `return err_set(e, ...)` works.
 * e may be NULL. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rewrites e->msg so that it is safe to print on a terminal: a control byte
 * (below 0x20, 0x7f), a C1 control (U+0080..U+009F) and a byte that is not
 * part of well-formed UTF-8 become "\xNN"; printable ASCII and the rest of
 * UTF-8 (an accented path, a fullwidth digit) stay as they are. A message
 * that then no longer fits is cut at a character's boundary. */
void err_escape(struct err *e);

/* Prints "moesim: <msg>" to stderr and exits with status 1. */
_Noreturn void err_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation wrappers that go through err_fatal on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
