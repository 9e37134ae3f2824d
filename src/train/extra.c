/* SPDX-License-Identifier: MIT */
/*
 * extra.c: af_train_scalers, reading one split definition's scalers back
 * from the index "extra" JSON text (jansson). Not collective.
 */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "af_check.h"
#include "train_impl.h"

/* Copy block->{count,mean,std}[0..n) into the arrays at offset off. */
static int copy_stats(json_t *block, const char *what, size_t off, size_t n, double *mean, double *std,
                      long long *count, af_error *err)
{
    int rc = AF_OK;
    json_t *c = json_object_get(block, "count"), *m = json_object_get(block, "mean"), *s = json_object_get(block, "std");
    if (!json_is_array(c) || !json_is_array(m) || !json_is_array(s) || json_array_size(m) != n ||
        json_array_size(s) != n || json_array_size(c) != n)
        AF_FAIL(AF_EFORMAT, "index extra: scalers %s: expected count/mean/std arrays of %zu values", what, n);
    for (size_t j = 0; j < n; j++) {
        json_t *mj = json_array_get(m, j), *sj = json_array_get(s, j);
        mean[off + j] = json_is_number(mj) ? json_number_value(mj) : NAN;
        std[off + j] = json_is_number(sj) ? json_number_value(sj) : NAN;
        if (count) count[off + j] = (long long)json_integer_value(json_array_get(c, j));
    }
cleanup:
    return rc;
}

int af_train_scalers(const char *extra_json, const char *split, int fold, size_t nvars, double *mean,
                     double *std, long long *count, af_error *err)
{
    int rc = AF_OK;
    json_t *root = NULL;
    json_error_t jerr;
    AF_CHECK_ARG(split != NULL && mean != NULL && std != NULL);
    if (!extra_json || !extra_json[0])
        AF_FAIL(AF_ENOTFOUND, "the index has no splits or scalers: add a [splits] section to the pipeline and rerun it");
    root = json_loads(extra_json, 0, &jerr);
    if (!root) AF_FAIL(AF_EFORMAT, "index extra is not JSON: %s", jerr.text);
    json_t *sc = json_object_get(root, "scalers");
    if (!json_is_object(sc))
        AF_FAIL(AF_ENOTFOUND, "the index has no scalers: add a [splits] section to the pipeline and rerun it");
    json_t *set = json_object_get(sc, split);
    if (!set) AF_FAIL(AF_ENOTFOUND, "the index has no '%s' scalers (declare that split in [splits])", split);
    if (json_is_array(set)) {
        if (fold < 0 || (size_t)fold >= json_array_size(set))
            AF_FAIL(AF_ENOTFOUND, "the index has no %s fold %d (folds 0..%zu)", split, fold, json_array_size(set) - 1);
        set = json_array_get(set, (size_t)fold);
    }
    json_t *in = json_object_get(set, "inputs"), *tg = json_object_get(set, "targets");
    json_t *c = json_object_get(in, "count"), *c2 = json_object_get(tg, "count");
    size_t ni = json_array_size(c), nt = json_array_size(c2);
    if (ni + nt != nvars)
        AF_FAIL(AF_EFORMAT, "index extra: %s scalers have %zu inputs + %zu targets, the index %zu variables", split, ni,
                nt, nvars);
    AF_CHECK(copy_stats(in, "inputs", 0, ni, mean, std, count, err));
    AF_CHECK(copy_stats(tg, "targets", ni, nt, mean, std, count, err));
cleanup:
    json_decref(root);
    return rc;
}
