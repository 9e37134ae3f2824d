/* SPDX-License-Identifier: MIT */
/*
 * export_manifest.c: the end of an AgroFlux export, on rank 0, per
 * experiment tree: the scaler files (t0_scalers/ for county samples, float64
 * like the official files; t1_scalers/ for sites with observations = site)
 * and the manifest export.json, written last and atomically, that lists
 * every file with its shape and dtype, the samples (AgroFlux order) and
 * sites in array order, the sign choice, the missing-value policy with its
 * counts, the observation convention and the scalers used (for official
 * splits also the counties and years that fitted them). Its presence means
 * the tree is complete; with --experiments official, DEST/experiments.json
 * lists the trees and is written after every tree.
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

static json_t *shape_json(size_t a, size_t b, size_t c, int ndim)
{
    json_t *s = json_array();
    json_array_append_new(s, json_integer((json_int_t)a));
    json_array_append_new(s, json_integer((json_int_t)b));
    if (ndim == 3) json_array_append_new(s, json_integer((json_int_t)c));
    return s;
}

static void add_file(json_t *files, const char *rel, const char *role, const char *dtype, json_t *shape)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(rel));
    json_object_set_new(o, "role", json_string(role));
    json_object_set_new(o, "dtype", json_string(dtype));
    json_object_set_new(o, "shape", shape);
    json_array_append_new(files, o);
}

/* A (k, 2) float64 scaler file: column 0 mean, column 1 population std; absent variables (col -1): 0, 1. */
static int scaler_file(const af_export_exp *x, const char *rel, const int *cols, int k, size_t off, const double *mean,
                       const double *std, json_t *files, af_error *err)
{
    double buf[2 * AF_Y_N];
    char path[4400];
    size_t shape[2] = { (size_t)k, 2 };
    for (int c = 0; c < k; c++) {
        buf[2 * c] = cols[c] < 0 ? 0.0 : mean[off + (size_t)cols[c]];
        buf[2 * c + 1] = cols[c] < 0 ? 1.0 : std[off + (size_t)cols[c]];
    }
    snprintf(path, sizeof path, "%s/%s", x->dest, rel);
    add_file(files, rel, strstr(rel, "X_scaler") ? "scaler_x" : "scaler_y", "<f8", shape_json((size_t)k, 2, 0, 2));
    return af__npy_write(path, buf, 8, shape, 2, err);
}

/* t0 scaler files: X (11,2), one per module, Combined (6,2) in the official Combined order. */
static int county_scalers(const af_export *e, const af_export_exp *x, json_t *files, af_error *err)
{
    int rc = AF_OK;
    size_t ni = e->idx.ninputs;
    AF_CHECK(scaler_file(x, "data_files/t0_scalers/X_scaler.npy", e->xcol, AF_X_N, 0, x->mean, x->std, files, err));
    for (int m = 0, k0 = 0; m < AF_NMODULES; k0 += af__agx_module_size[m], m++) {
        char rel[256];
        snprintf(rel, sizeof rel, "data_files/t0_scalers/Y_scaler_%s.npy", af__agx_modules[m]);
        AF_CHECK(scaler_file(x, rel, e->ycol + k0, af__agx_module_size[m], ni, x->mean, x->std, files, err));
    }
    AF_CHECK(scaler_file(x, "data_files/t0_scalers/Y_scaler_Combined.npy", e->comb, AF_COMB_N, ni, x->mean, x->std,
                         files, err));
cleanup:
    return rc;
}

static int site_scalers(const af_export *e, const af_export_exp *x, json_t *files, af_error *err)
{
    int rc = AF_OK, co2[2] = { e->gpp, e->nee }, n2o[1] = { e->n2o };
    size_t ni = e->idx.ninputs;
    AF_CHECK(scaler_file(x, "data_files/t1_scalers/X_scaler.npy", e->xcol, AF_X_N, 0, x->t1_mean, x->t1_std, files, err));
    if (e->gpp >= 0 && e->nee >= 0)
        AF_CHECK(scaler_file(x, "data_files/t1_scalers/Y_scaler_co2.npy", co2, 2, ni, x->t1_mean, x->t1_std, files, err));
    if (e->n2o >= 0)
        AF_CHECK(scaler_file(x, "data_files/t1_scalers/Y_scaler_n2o.npy", n2o, 1, ni, x->t1_mean, x->t1_std, files, err));
cleanup:
    return rc;
}

/* The data files with their shapes; sample and site lists. */
static void list_data(const af_export *e, json_t *root, json_t *files)
{
    const char *sub = e->opts->subset;
    size_t nd = (size_t)e->idx.ndays, ny = (size_t)e->nyears;
    int fill = e->missing == AF_MISS_FILL;
    char rel[512];
    json_t *ids = json_array(), *co2 = json_array(), *n2o = json_array();
    if (e->ncounty > 0)
        for (int mask = 0; mask <= fill; mask++) {
            const char *kind = mask ? "mask" : "scaled", *dt = mask ? "|u1" : "<f4";
            snprintf(rel, sizeof rel, "data_files/t0_%s/X_%s_%s.npy", sub, sub, kind);
            add_file(files, rel, mask ? "mask_x" : "x", dt, shape_json(nd, e->ncounty, AF_X_N, 3));
            for (int m = 0; m <= AF_NMODULES; m++) {
                int k = m == AF_NMODULES ? AF_COMB_N : af__agx_module_size[m];
                snprintf(rel, sizeof rel, "data_files/t0_%s/Y_%s_%s_%s.npy", sub, sub, kind,
                         m == AF_NMODULES ? "Combined" : af__agx_modules[m]);
                add_file(files, rel, mask ? "mask_y" : "y", dt, shape_json(nd, e->ncounty, (size_t)k, 3));
            }
        }
    for (size_t p = 0; p < e->ncounty; p++) json_array_append_new(ids, json_string(e->idx.samples[e->order[p]].id));
    for (size_t s = 0; s < e->idx.nsamples - e->ncounty; s++) {
        const char *id = e->idx.samples[e->ncounty + s].id;
        for (int ch = 0; ch < 2; ch++) {
            if (!(ch ? e->n2o_site[s] : e->co2[s])) continue;
            json_t *list = ch ? n2o : co2;
            size_t k = json_array_size(list), d0 = ch ? 365 : nd, d1 = ch ? ny : 1;
            const char *dir = ch ? "t1_n2o" : "t1_co2", *tag = ch ? "" : "ECfluxnet_";
            snprintf(rel, sizeof rel, "data_files/%s/X_real_scaled_%s%zu.npy", dir, tag, k);
            add_file(files, rel, "x", "<f4", shape_json(d0, d1, AF_X_N, 3));
            if (fill) {
                snprintf(rel, sizeof rel, "data_files/%s/X_real_mask_%s%zu.npy", dir, tag, k);
                add_file(files, rel, "mask_x", "|u1", shape_json(d0, d1, AF_X_N, 3));
            }
            snprintf(rel, sizeof rel, "data_files/%s/Y_real_scaled_%sCombined_%zu.npy", dir, tag, k);
            add_file(files, rel, "y", "<f4", shape_json(d0, d1, ch ? 1 : 2, 3));
            json_array_append_new(list, json_string(id));
        }
    }
    json_object_set_new(root, "county_samples", ids);
    json_object_set_new(root, "co2_sites", co2);
    json_object_set_new(root, "n2o_sites", n2o);
}

/* {"convention": "agroflux"|"native", "negated": [target names negated in the county arrays]} */
static json_t *sign_json(const af_export *e)
{
    json_t *o = json_object(), *neg = json_array();
    json_object_set_new(o, "convention", json_string(e->native ? "native" : "agroflux"));
    for (size_t j = 0; j < e->idx.ntargets; j++)
        if (e->negate[e->idx.ninputs + j]) json_array_append_new(neg, json_string(e->idx.targets[j].name));
    json_object_set_new(o, "negated", neg);
    return o;
}

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t j = 0; j < n; j++) json_array_append_new(a, isfinite(v[j]) ? json_real(v[j]) : json_null());
    return a;
}

/* The split and fold of the county scalers; for official splits what fitted them and the values. */
static json_t *county_ref(const af_export *e, const af_export_exp *x)
{
    json_t *o = json_object();
    size_t nv = e->idx.ninputs + e->idx.ntargets;
    int official = !strncmp(x->split, "official-", 9);
    json_object_set_new(o, "split", json_string(x->split));
    json_object_set_new(o, "fold", strstr(x->split, "spatial") ? json_integer(x->fold) : json_null());
    if (official) {
        json_t *c = json_array();
        for (size_t i = 0; i < x->ntrain_fips; i++) json_array_append_new(c, json_string(x->train_fips[i]));
        json_object_set_new(o, "train_counties", c);
        json_object_set_new(o, "train_years", shape_json((size_t)x->train_years[0], (size_t)x->train_years[1], 0, 2));
        json_object_set_new(o, "mean", doubles(x->mean, nv));
        json_object_set_new(o, "std", doubles(x->std, nv));
    }
    return o;
}

static json_t *missing_json(const af_export *e)
{
    static const char *const pol[] = { "fill", "keep", "error" };
    const af_index *x = &e->idx;
    json_t *o = json_object(), *cnt = json_object(), *absent = json_array();
    json_object_set_new(o, "policy", json_string(pol[e->missing]));
    if (e->missing == AF_MISS_FILL) {
        json_object_set_new(o, "max_gap_days", json_integer(AF_EXPORT_GAP));
        json_object_set_new(o, "method", json_string(
            "per sample and variable, unscaled: runs of at most max_gap_days missing days with valid days on both sides "
            "in the series are interpolated linearly in time; longer runs and runs at either end take the training "
            "mean (scaled value 0); masks (1 observed, 0 filled) beside each filled array; site targets keep NaN"));
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < x->ninputs + x->ntargets; j++) {
            const unsigned long long *m = (pass ? e->miss_site : e->miss) + 2 * j;
            if (m[0] + m[1] == 0) continue;
            char key[160];
            snprintf(key, sizeof key, "%s %s", pass ? "site" : "county",
                     j < x->ninputs ? x->inputs[j].name : x->targets[j - x->ninputs].name);
            json_t *c = json_object();
            json_object_set_new(c, e->missing == AF_MISS_FILL ? "interpolated" : "short_gaps", json_integer((json_int_t)m[0]));
            json_object_set_new(c, e->missing == AF_MISS_FILL ? "training_mean" : "long_gaps", json_integer((json_int_t)m[1]));
            json_object_set_new(cnt, key, c);
        }
    for (int m = 0, k = 0; m < AF_NMODULES; m++)
        for (int j = 0; j < af__agx_module_size[m]; j++, k++)
            if (e->ycol[k] < 0 && e->ncounty > 0) json_array_append_new(absent, json_string(af__agx_module_targets[m][j]));
    json_object_set_new(o, "counts", cnt);
    json_object_set_new(o, "absent_targets", absent);
    return o;
}

static json_t *obs_json(const af_export *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "convention", json_string(e->official_obs ? "official" : "site"));
    if (e->official_obs) {
        const char *neg = !e->native && e->co2flux >= 0 && e->negate[e->idx.ninputs + (size_t)e->co2flux] ? ", negated" : "";
        char nee[160], n2o[160];
        snprintf(nee, sizeof nee, "t0 scaler of CO2_FLUX (Y_scaler_Carbon row 2)%s", neg);
        snprintf(n2o, sizeof n2o, "t0 scaler of N2O_FLUX (Y_scaler_Nitrogen row 0)%s",
                 e->n2o >= 0 && e->negate[e->idx.ninputs + (size_t)e->n2o] ? ", negated" : "");
        json_object_set_new(o, "inputs", json_string("t0 X_scaler"));
        json_object_set_new(o, "GPP", json_string("t0 scaler of GPP (Y_scaler_Carbon row 1)"));
        json_object_set_new(o, "NEE", json_string(nee));
        json_object_set_new(o, "N2O_FLUX", json_string(n2o));
        json_object_set_new(o, "joint_mask", json_string("tower GPP and NEE share one mask: a day keeps both only when both are valid"));
        json_object_set_new(o, "joint_mask_dropped", json_integer((json_int_t)e->njoint));
    } else {
        json_object_set_new(o, "scalers", json_string("leave-one-site-out fold site_scalers, our sign"));
        json_object_set_new(o, "joint_mask_dropped", json_integer((json_int_t)e->njoint));
    }
    return o;
}

static int finish_one(const af_export *e, const af_export_exp *x, size_t *nfiles, af_error *err)
{
    int rc = AF_OK;
    char src[PATH_MAX], path[4400], *text = NULL;
    json_t *root = json_object(), *files = json_array();
    AF_CHECK_ALLOC(root);
    AF_CHECK_ALLOC(files);
    if (!realpath(e->opts->outdir, src)) snprintf(src, sizeof src, "%s", e->opts->outdir);
    json_object_set_new(root, "schema", json_string("agroflux-export"));
    json_object_set_new(root, "layout", json_string("agroflux"));
    json_object_set_new(root, "experiment", x->name[0] ? json_string(x->name) : json_null());
    json_object_set_new(root, "subset", json_string(e->opts->subset));
    json_object_set_new(root, "source", json_string(src));
    json_object_set_new(root, "config_sha256", json_string(e->idx.config_sha256));
    json_object_set_new(root, "ndays", json_integer(e->idx.ndays));
    json_object_set_new(root, "years", shape_json((size_t)e->idx.start.year, (size_t)e->idx.end.year, 0, 2));
    json_object_set_new(root, "county_scalers", e->ncounty ? county_ref(e, x) : json_null());
    json_object_set_new(root, "sign", sign_json(e));
    json_object_set_new(root, "missing", missing_json(e));
    json_object_set_new(root, "observations", obs_json(e));
    list_data(e, root, files);
    int sites = e->nco2 + e->nn2o > 0;
    json_t *sref = json_object();
    json_object_set_new(sref, "split", json_string("loso"));
    json_object_set_new(sref, "fold", json_integer(e->opts->site_fold));
    json_object_set_new(root, "site_scalers", sites && !e->official_obs ? sref : json_null());
    if (!(sites && !e->official_obs)) json_decref(sref);
    if (e->ncounty > 0) AF_CHECK(county_scalers(e, x, files, err));
    if (sites && !e->official_obs) AF_CHECK(site_scalers(e, x, files, err));
    *nfiles += json_array_size(files) + 1;
    json_object_set_new(root, "files", files);
    files = NULL;
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    AF_CHECK_ALLOC(text);
    snprintf(path, sizeof path, "%s/%s", x->dest, AF_EXPORT_MANIFEST);
    AF_CHECK(af_write_atomic(path, text, strlen(text), err));
cleanup:
    free(text);
    json_decref(files);
    json_decref(root);
    return rc;
}

int af__export_finish(af_export *e, af_export_summary *sum, af_error *err)
{
    int rc = AF_OK;
    char path[4400], *text = NULL;
    json_t *list = NULL;
    for (int k = 0; k < e->nexp; k++) AF_CHECK(finish_one(e, &e->exp[k], &sum->nfiles, err));
    sum->ncounty_samples = e->ncounty;
    sum->nco2_sites = e->nco2;
    sum->nn2o_sites = e->nn2o;
    if (!e->opts->experiments) goto cleanup;
    list = json_object();
    json_t *names = json_array();
    for (int k = 0; k < e->nexp; k++) json_array_append_new(names, json_string(e->exp[k].name));
    json_object_set_new(list, "schema", json_string("agroflux-export-experiments"));
    json_object_set_new(list, "experiments", names);
    json_object_set_new(list, "note", json_string(
        "one data_files/ tree per official experiment (run the official scripts from inside a tree); each tree's "
        "export.json describes it; masks are hard links shared by the trees"));
    text = json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    AF_CHECK_ALLOC(text);
    snprintf(path, sizeof path, "%s/experiments.json", e->opts->dest);
    AF_CHECK(af_write_atomic(path, text, strlen(text), err));
    sum->nfiles++;
cleanup:
    free(text);
    json_decref(list);
    return rc;
}
