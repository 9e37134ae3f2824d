/* SPDX-License-Identifier: MIT */
/*
 * export_verify.c: af_export_verify. Reads DEST/export.json and the index of
 * the output it came from, then checks: the manifest agrees with the index
 * (days, county samples in AgroFlux order, the sign choice), every listed file is a .npy
 * v1.0 float32 little-endian C-order array of the listed shape and exact byte
 * size, the shapes are those of the AgroFlux layout for this index, and every
 * scaler file holds the index's scalers for the split recorded in the
 * manifest (county target means negated where the sign choice negates). AF_EVERIFY with file, field, expected and found. Not collective.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "af_check.h"
#include "af_util.h"
#include "export_impl.h"

static int check_npy(const char *dest, json_t *f, af_error *err)
{
    int rc = AF_OK, ndim = 0;
    char path[4400], descr[32];
    size_t shape[8], hlen = 0, n = 1;
    long long bytes = 0;
    const char *rel = json_string_value(json_object_get(f, "path"));
    json_t *want = json_object_get(f, "shape");
    if (!rel || !json_is_array(want)) AF_FAIL(AF_EVERIFY, "%s: a files entry lacks path or shape", AF_EXPORT_MANIFEST);
    snprintf(path, sizeof path, "%s/%s", dest, rel);
    int prc = af__npy_parse(path, descr, sizeof descr, shape, &ndim, &hlen, err);
    if (prc == AF_ENOTFOUND) AF_FAIL(AF_EVERIFY, "%s: missing", rel);
    if (prc != AF_OK) AF_FAIL(AF_EVERIFY, "%s: %s", rel, err->msg);
    const char *dt = json_string_value(json_object_get(f, "dtype"));
    size_t es = dt && !strcmp(dt, "<f8") ? 8 : dt && !strcmp(dt, "|u1") ? 1 : 4;
    if (!dt || strcmp(descr, dt) != 0) AF_FAIL(AF_EVERIFY, "%s: dtype: expected %s, file has %s", rel, dt ? dt : "?", descr);
    if ((size_t)ndim != json_array_size(want))
        AF_FAIL(AF_EVERIFY, "%s: shape: expected %zu dimensions, file has %d", rel, json_array_size(want), ndim);
    for (int d = 0; d < ndim; d++) {
        size_t w = (size_t)json_integer_value(json_array_get(want, (size_t)d));
        if (shape[d] != w) AF_FAIL(AF_EVERIFY, "%s: shape[%d]: expected %zu, file has %zu", rel, d, w, shape[d]);
        n *= shape[d];
    }
    AF_CHECK(af_file_size(path, &bytes, err));
    if ((size_t)bytes != hlen + es * n)
        AF_FAIL(AF_EVERIFY, "%s: size: expected %zu bytes, file has %lld", rel, hlen + es * n, bytes);
cleanup:
    return rc;
}

/* Shapes the layout implies for this index: first dimension and, for county files, samples. */
static int check_layout(const af_index *idx, json_t *man, json_t *f, af_error *err)
{
    int rc = AF_OK;
    const char *rel = json_string_value(json_object_get(f, "path"));
    json_t *sh = json_object_get(f, "shape");
    size_t d0 = (size_t)json_integer_value(json_array_get(sh, 0)), d1 = (size_t)json_integer_value(json_array_get(sh, 1));
    size_t ncounty = json_array_size(json_object_get(man, "county_samples"));
    int ny = idx->end.year - idx->start.year + 1;
    if (strstr(rel, "/t0_") && !strstr(rel, "t0_scalers")) {
        if (d0 != (size_t)idx->ndays || d1 != ncounty)
            AF_FAIL(AF_EVERIFY, "%s: shape (%zu, %zu, ...) but the index has %d days and %zu county samples", rel, d0, d1,
                    idx->ndays, ncounty);
    } else if (strstr(rel, "/t1_n2o/")) {
        if (d0 != 365 || d1 != (size_t)ny)
            AF_FAIL(AF_EVERIFY, "%s: shape (%zu, %zu, ...) but chambers are (365, %d years, ...)", rel, d0, d1, ny);
    } else if (strstr(rel, "/t1_co2/")) {
        if (d0 != (size_t)idx->ndays || d1 != 1)
            AF_FAIL(AF_EVERIFY, "%s: shape (%zu, %zu, ...) but towers are (%d days, 1, ...)", rel, d0, d1, idx->ndays);
    }
cleanup:
    return rc;
}

static int check_samples(const af_index *idx, json_t *man, af_error *err)
{
    int rc = AF_OK;
    json_t *ids = json_object_get(man, "county_samples");
    size_t nc = 0, *order = NULL;
    if (json_integer_value(json_object_get(man, "ndays")) != idx->ndays)
        AF_FAIL(AF_EVERIFY, "%s: ndays %lld, the index has %d", AF_EXPORT_MANIFEST,
                (long long)json_integer_value(json_object_get(man, "ndays")), idx->ndays);
    while (nc < idx->nsamples && idx->samples[nc].kind == AF_SAMPLE_COUNTY) nc++;
    if (json_array_size(ids) != nc)
        AF_FAIL(AF_EVERIFY, "%s: %zu county_samples, the index has %zu", AF_EXPORT_MANIFEST, json_array_size(ids), nc);
    order = malloc((nc + 1) * sizeof *order);
    AF_CHECK_ALLOC(order);
    AF_CHECK(af__export_order(idx->samples, nc, order, err));
    for (size_t p = 0; p < nc; p++) {
        const char *id = json_string_value(json_array_get(ids, p));
        if (!id || strcmp(idx->samples[order[p]].id, id) != 0)
            AF_FAIL(AF_EVERIFY, "%s: county_samples[%zu] is '%s', AgroFlux order (county list position x scenario) "
                    "has '%s'", AF_EXPORT_MANIFEST, p, id ? id : "", idx->samples[order[p]].id);
    }
cleanup:
    free(order);
    return rc;
}

/* The recorded sign choice against the index: which targets the county arrays negate. */
static int check_sign(const af_index *idx, json_t *man, unsigned char *negate, af_error *err)
{
    int rc = AF_OK;
    json_t *sg = json_object_get(man, "sign"), *neg = json_object_get(sg, "negated");
    const char *conv = json_string_value(json_object_get(sg, "convention"));
    size_t nc = json_array_size(json_object_get(man, "county_samples")), k = 0;
    if (!conv || (strcmp(conv, "agroflux") != 0 && strcmp(conv, "native") != 0) || !json_is_array(neg))
        AF_FAIL(AF_EVERIFY, "%s: field 'sign' must be {\"convention\": \"agroflux\"|\"native\", \"negated\": [...]} "
                "(an export by an older agroflux: export again)", AF_EXPORT_MANIFEST);
    if (af__export_signs(idx, !strcmp(conv, "native"), nc, negate, err) != AF_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        AF_FAIL(AF_EVERIFY, "%s: sign %s does not hold for the index: %s", AF_EXPORT_MANIFEST, conv, why);
    }
    for (size_t j = 0; j < idx->ntargets; j++) {
        if (!negate[idx->ninputs + j]) continue;
        const char *got = json_string_value(json_array_get(neg, k++));
        if (!got || strcmp(got, idx->targets[j].name) != 0)
            AF_FAIL(AF_EVERIFY, "%s: sign %s negates %s, the manifest lists '%s'", AF_EXPORT_MANIFEST, conv,
                    idx->targets[j].name, got ? got : "(nothing)");
    }
    if (k != json_array_size(neg))
        AF_FAIL(AF_EVERIFY, "%s: sign %s negates %zu targets, the manifest lists %zu", AF_EXPORT_MANIFEST, conv, k,
                json_array_size(neg));
cleanup:
    return rc;
}

/* Scaler file rows against the index: the names come from the manifest's file name. */
static int check_scaler(const char *dest, const af_index *idx, json_t *man, json_t *f, const unsigned char *negate,
                        af_error *err)
{
    int rc = AF_OK;
    const char *rel = json_string_value(json_object_get(f, "path"));
    int site = strstr(rel, "t1_scalers") != NULL;
    json_t *ref = json_object_get(man, site ? "site_scalers" : "county_scalers");
    const char *split = json_string_value(json_object_get(ref, "split"));
    json_int_t jfold = json_integer_value(json_object_get(ref, "fold"));
    int fold = jfold >= 0 && jfold <= INT_MAX ? (int)jfold : -1; /* out of range: no such fold, never a wrapped one */
    size_t nv = idx->ninputs + idx->ntargets, k = (size_t)json_integer_value(json_array_get(json_object_get(f, "shape"), 0));
    double *mean = calloc(nv + 1, sizeof *mean), *std = calloc(nv + 1, sizeof *std);
    char *buf = NULL, path[4400];
    size_t len = 0;
    AF_CHECK_ALLOC(mean);
    AF_CHECK_ALLOC(std);
    const char *pol = json_string_value(json_object_get(json_object_get(man, "missing"), "policy"));
    if (!split) AF_FAIL(AF_EVERIFY, "%s: no scaler split recorded for %s", AF_EXPORT_MANIFEST, rel);
    if (!strncmp(split, "official-", 9)) {
        /* fitted by the export on the fold's training part: the manifest records them (in the export's sign) */
        json_t *jm = json_object_get(ref, "mean"), *js = json_object_get(ref, "std");
        if (json_array_size(jm) != nv || json_array_size(js) != nv)
            AF_FAIL(AF_EVERIFY, "%s: county_scalers of split %s lack mean/std of %zu variables", AF_EXPORT_MANIFEST, split, nv);
        for (size_t j = 0; j < nv; j++) {
            json_t *a = json_array_get(jm, j), *b = json_array_get(js, j);
            mean[j] = json_is_number(a) ? json_number_value(a) : NAN;
            std[j] = json_is_number(b) ? json_number_value(b) : NAN;
        }
    } else {
        AF_CHECK(af_train_scalers(idx->extra_json, split, fold, nv, mean, std, NULL, err));
        for (size_t j = 0; j < nv && !site; j++)
            if (negate[j]) mean[j] = -mean[j];
        for (size_t j = 0; j < nv && pol && !strcmp(pol, "fill"); j++) {
            if (!isfinite(mean[j])) mean[j] = 0.0;
            if (!isfinite(std[j])) std[j] = 1.0;
        }
    }
    /* the variables of this file, by its name */
    int cols[AF_Y_N], off = 0, n = 0;
    const char *base = strrchr(rel, '/') + 1;
    if (!strcmp(base, "X_scaler.npy")) {
        for (int c = 0; c < AF_X_N; c++) {
            int j = -1;
            for (size_t i = 0; i < idx->ninputs; i++)
                if (!strcmp(idx->inputs[i].name, af__agx_inputs[c]) || (c == AF_X_N - 1 && j < 0 && !strcmp(idx->inputs[i].name, "TSOC")))
                    j = (int)i;
            cols[n++] = j;
        }
    } else {
        static const char *const co2[] = { "GPP", "NEE" }, *const n2o[] = { "N2O_FLUX" };
        const char *const *names = NULL;
        int cnt = 0;
        char mod[32] = "";
        off = (int)idx->ninputs;
        if (!strcmp(base, "Y_scaler_co2.npy")) { names = co2; cnt = 2; }
        else if (!strcmp(base, "Y_scaler_n2o.npy")) { names = n2o; cnt = 1; }
        else sscanf(base, "Y_scaler_%31[A-Za-z].npy", mod);
        if (!strcmp(mod, "Combined")) { names = af__agx_combined; cnt = AF_COMB_N; }
        for (int m = 0; m < AF_NMODULES && !names; m++) {
            if (strcmp(mod, af__agx_modules[m])) continue;
            for (int j = 0; j < af__agx_module_size[m]; j++) {
                int col = -1;
                for (size_t i = 0; i < idx->ntargets; i++)
                    if (!strcmp(idx->targets[i].name, af__agx_module_targets[m][j])) col = (int)i;
                cols[n++] = col;
            }
        }
        for (int j = 0; j < cnt; j++) {
            int col = -1;
            for (size_t i = 0; i < idx->ntargets; i++)
                if (!strcmp(idx->targets[i].name, names[j])) col = (int)i;
            cols[n++] = col;
        }
    }
    if ((size_t)n != k) AF_FAIL(AF_EVERIFY, "%s: %zu rows, the layout has %d", rel, k, n);
    snprintf(path, sizeof path, "%s/%s", dest, rel);
    AF_CHECK(af_read_file(path, &buf, &len, err));
    size_t hl = len - k * 16;
    for (int r = 0; r < n; r++) {
        if (cols[r] < 0 && !(pol && !strcmp(pol, "fill")))
            AF_FAIL(AF_EVERIFY, "%s: row %d names a variable the index lacks", rel, r);
        for (int c = 0; c < 2; c++) {
            double got, want = cols[r] < 0 ? (double)c : (c ? std : mean)[off + cols[r]];
            memcpy(&got, buf + hl + (size_t)(r * 2 + c) * 8, 8);
            if (!(got == want || (isnan(got) && isnan(want))))
                AF_FAIL(AF_EVERIFY, "%s: row %d %s: the index's %s scalers (fold %d)%s say %.9g, file has %.9g", rel,
                        r, c ? "std" : "mean", split, fold, !c && !site && cols[r] >= 0 && negate[off + cols[r]] ? " negated" : "",
                        (double)want, (double)got);
        }
    }
cleanup:
    free(mean);
    free(std);
    free(buf);
    return rc;
}

int af_export_verify(const char *dest, size_t *nfiles, af_error *err)
{
    int rc = AF_OK;
    char path[4400], *text = NULL;
    json_t *man = NULL;
    json_error_t jerr;
    af_index idx;
    unsigned char *negate = NULL;
    memset(&idx, 0, sizeof idx);
    if (nfiles) *nfiles = 0;
    snprintf(path, sizeof path, "%s/%s", dest, AF_EXPORT_MANIFEST);
    AF_CHECK(af_read_file(path, &text, NULL, err));
    man = json_loads(text, 0, &jerr);
    if (!man) AF_FAIL(AF_EVERIFY, "'%s': line %d: not JSON: %s", path, jerr.line, jerr.text);
    if (!json_is_object(man)) AF_FAIL(AF_EVERIFY, "'%s': the document is not a JSON object", path);
    const char *src = json_string_value(json_object_get(man, "source"));
    if (!src) AF_FAIL(AF_EVERIFY, "'%s': field 'source' is missing", path);
    AF_CHECK(af_index_read(src, &idx, err));
    if (strcmp(idx.config_sha256, json_string_value(json_object_get(man, "config_sha256")) ? json_string_value(json_object_get(man, "config_sha256")) : "") != 0)
        AF_FAIL(AF_EVERIFY, "'%s': config_sha256 differs from the index in '%s' (the output was rerun: export again)", path, src);
    AF_CHECK(check_samples(&idx, man, err));
    negate = calloc(idx.ninputs + idx.ntargets + 1, 1);
    AF_CHECK_ALLOC(negate);
    AF_CHECK(check_sign(&idx, man, negate, err));
    json_t *files = json_object_get(man, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        json_t *f = json_array_get(files, i);
        AF_CHECK(check_npy(dest, f, err));
        AF_CHECK(check_layout(&idx, man, f, err));
        const char *role = json_string_value(json_object_get(f, "role"));
        if (role && !strncmp(role, "scaler", 6)) AF_CHECK(check_scaler(dest, &idx, man, f, negate, err));
        if (nfiles) *nfiles = i + 1;
    }
cleanup:
    free(negate);
    af_index_dispose(&idx);
    json_decref(man);
    free(text);
    return rc;
}
