/* SPDX-License-Identifier: MIT */
/*
 * test_util.c: small helpers of af_util.h that no module test covers on its own: af_array_grow's
 * capacities (first, then doubling, no reallocation while there is room) and its overflow error;
 * af_path_join's "." segments.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "af_util.h"

static void test_array_grow(void)
{
    int *a = NULL;
    size_t cap = 0, n = 0;
    af_error e = AF_ERROR_INIT;
    for (int v = 0; v < 37; v++) {
        AF_EXPECT(af_array_grow((void **)&a, &cap, n, sizeof *a, 4, &e) == AF_OK);
        a[n++] = v * 3;
    }
    AF_EXPECT(cap == 64); /* 4, 8, 16, 32, 64 */
    int ok = 1;
    for (int v = 0; v < 37; v++) ok &= a[v] == v * 3;
    AF_EXPECT(ok);
    int *before = a;
    AF_EXPECT(af_array_grow((void **)&a, &cap, 40, sizeof *a, 4, &e) == AF_OK && a == before && cap == 64);
    free(a);
}

static void test_array_grow_overflow(void)
{
    char *a = NULL;
    size_t cap = SIZE_MAX / 2 + 1, n = cap;
    AF_TEST_FAILS_WITH(AF_ENOMEM, "out of memory", af_array_grow((void **)&a, &cap, n, 2, 4, err));
    AF_EXPECT(a == NULL && cap == SIZE_MAX / 2 + 1);
}

/* Each case: dir, rel, the joined path a reader expects (no "/./", no trailing "/."). */
static void test_path_join(void)
{
    static const char *const cases[][3] = {
        { "/data", "gridmet/x.nc", "/data/gridmet/x.nc" }, { "/data", ".", "/data" },
        { "/data", "./gridmet/x.nc", "/data/gridmet/x.nc" }, { "/data", ".//./a", "/data/a" },
        { "/data", "/abs/a", "/abs/a" }, { ".", "a/b", "a/b" }, { ".", ".", "." }, { "", "./a", "a" },
        { "/data", "", "/data" }, { "/data", "..", "/data/.." }, { "/data", ".hidden", "/data/.hidden" },
        { "rel/dir", "./x", "rel/dir/x" },
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        af_error e = AF_ERROR_INIT;
        AF_EXPECT(af_path_join(cases[i][0], cases[i][1], out, sizeof out, &e) == AF_OK);
        AF_EXPECT(strcmp(out, cases[i][2]) == 0);
        if (strcmp(out, cases[i][2]) != 0) fprintf(stderr, "join(%s, %s) = %s\n", cases[i][0], cases[i][1], out);
    }
    af_error e = AF_ERROR_INIT;
    AF_EXPECT(af_path_join("/a-long-directory-name", "and-a-long-file-name-that-does-not-fit.nc", out, 40, &e) ==
              AF_EINVAL);
    AF_EXPECT(strstr(e.msg, "path too long") != NULL);
}

int main(void)
{
    AF_RUN(test_array_grow);
    AF_RUN(test_array_grow_overflow);
    AF_RUN(test_path_join);
    return AF_TEST_END();
}
