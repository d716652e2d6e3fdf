/* fuzz.h - shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Each target defines its entry with FUZZ_ENTRY(name). Built by `make fuzz`
 * (clang, -fsanitize=fuzzer) it is libFuzzer's LLVMFuzzerTestOneInput; built
 * into tests/test_fuzz_replay.c (FUZZ_REPLAY defined, plain cc, part of `make
 * test` and `make test SAN=1`) it is fuzz_<name>(), which the replay test
 * calls on every committed corpus and regression input.
 *
 * The parsers read files by path, so an input becomes an anonymous in-memory
 * file (memfd) named /proc/self/fd/N: no disk traffic, nothing left behind.
 */
#ifndef MOESIM_FUZZ_H
#define MOESIM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef FUZZ_REPLAY
#define FUZZ_ENTRY(name) int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

/* Writes data[0..size) to a fresh memfd and its path into path; returns the
 * descriptor (close it when done) or -1. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t n)
{
    int fd = memfd_create("moesim-fuzz", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, n, "/proc/self/fd/%d", fd);
    return fd;
}

/* Every parser's error is one line: no newline in it, and not empty. */
static inline void fuzz_check_msg(const char *msg)
{
    const char *p = msg;
    if (!*p) __builtin_trap();
    for (; *p; p++)
        if (*p == '\n') __builtin_trap();
}

#endif
