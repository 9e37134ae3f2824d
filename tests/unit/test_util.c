/* SPDX-License-Identifier: MIT */
/*
 * test_util.c: small helpers of af_util.h that no module test covers on its own: af_array_grow's
 * capacities (first, then doubling, no reallocation while there is room) and its overflow error.
 */
#include <stdint.h>
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

int main(void)
{
    AF_RUN(test_array_grow);
    AF_RUN(test_array_grow_overflow);
    return AF_TEST_END();
}
