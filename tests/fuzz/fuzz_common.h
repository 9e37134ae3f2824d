/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h: what every libFuzzer harness in tests/fuzz shares. The parsers
 * under test read files by path, so a harness writes the input to a file in a
 * directory private to the process (created on first use, removed at exit) and
 * calls the parser on it. FZ_ASSERT checks an invariant of a parse that
 * succeeded and aborts (a finding) when it does not hold. The same harness
 * source builds two ways: linked with -fsanitize=fuzzer (clang, meson -Dfuzz=true)
 * or with fuzz_replay.c, a main() that runs it over corpus files (any compiler).
 */
#ifndef AF_FUZZ_COMMON_H
#define AF_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "agroflux/error.h"

/** The libFuzzer entry point every harness defines. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** The process's private directory (mkdtemp under $TMPDIR or /tmp); aborts if it cannot be made. */
const char *fz_dir(void);

/** Write data to fz_dir()/name (replacing it) and put the path in path[n]; aborts on I/O failure. */
void fz_write(const char *name, const uint8_t *data, size_t size, char *path, size_t n);

/** A NUL-terminated malloc'd copy of data (the caller frees it). */
char *fz_strndup(const uint8_t *data, size_t size);

/** With AF_FUZZ_DEBUG set, print why the parser rejected the input (for checking seeds). */
void fz_rejected(const char *what, const af_error *err);

#define FZ_ASSERT(cond)                                                                    \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
