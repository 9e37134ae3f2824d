/* SPDX-License-Identifier: MIT */
/*
 * af_test.h: the tiny test harness every unit test program uses. A program
 * runs its cases with AF_RUN; each assertion failure prints file:line and the
 * error's message and frames; main returns 1 if any case failed. Prints
 * "N passed, N failed" at the end.
 */
#ifndef AF_TEST_H
#define AF_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "agroflux/error.h"

/* xorshift64 (shifts 13, 7, 17): the tests' reproducible random numbers; each program keeps its own
 * state, which is its seed. */
static inline uint64_t af_test_xorshift(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static int af_test_failed_cases = 0, af_test_passed_cases = 0, af_test_case_failed = 0;

#define AF_EXPECT(cond)                                                              \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);      \
            af_test_case_failed = 1;                                                 \
        }                                                                            \
    } while (0)

#define AF_EXPECT_NEAR(a, b, tol)                                                    \
    do {                                                                             \
        double af__a = (a), af__b = (b);                                             \
        if (!(fabs(af__a - af__b) <= (tol))) {                                       \
            fprintf(stderr, "%s:%d: %s = %.12g, expected %.12g (tol %g)\n", __FILE__, \
                    __LINE__, #a, af__a, af__b, (double)(tol));                      \
            af_test_case_failed = 1;                                                 \
        }                                                                            \
    } while (0)

#define AF_TEST_PASS(call)                                                           \
    do {                                                                             \
        af_error af__e = AF_ERROR_INIT;                                              \
        af_error *err = &af__e;                                                      \
        int af__rc = (call);                                                         \
        if (af__rc != AF_OK) {                                                       \
            char af__buf[4096];                                                      \
            af_error_format(err, 1, af__buf, sizeof af__buf);                        \
            fprintf(stderr, "%s:%d: %s failed (%s)\n%s\n", __FILE__, __LINE__, #call, \
                    af_status_name(af__rc), af__buf);                                \
            af_test_case_failed = 1;                                                 \
        }                                                                            \
    } while (0)

/* Expect a specific code, and that the message contains `needle` (may be ""). */
#define AF_TEST_FAILS_WITH(code, needle, call)                                       \
    do {                                                                             \
        af_error af__e = AF_ERROR_INIT;                                              \
        af_error *err = &af__e;                                                      \
        int af__rc = (call);                                                         \
        if (af__rc != (code)) {                                                      \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (msg: %s)\n",        \
                    __FILE__, __LINE__, #call, af_status_name(af__rc),               \
                    af_status_name(code), af__e.msg);                                \
            af_test_case_failed = 1;                                                 \
        } else if (!strstr(af__e.msg, (needle))) {                                   \
            fprintf(stderr, "%s:%d: message '%s' lacks '%s'\n", __FILE__, __LINE__,  \
                    af__e.msg, (needle));                                            \
            af_test_case_failed = 1;                                                 \
        }                                                                            \
    } while (0)

#define AF_RUN(fn)                                                                   \
    do {                                                                             \
        af_test_case_failed = 0;                                                     \
        fn();                                                                        \
        if (af_test_case_failed) {                                                   \
            fprintf(stderr, "FAIL %s\n", #fn);                                       \
            af_test_failed_cases++;                                                  \
        } else {                                                                     \
            af_test_passed_cases++;                                                  \
        }                                                                            \
    } while (0)

#define AF_TEST_END()                                                                \
    (printf("%d passed, %d failed\n", af_test_passed_cases, af_test_failed_cases),  \
     af_test_failed_cases ? 1 : 0)

#endif
