/* SPDX-License-Identifier: MIT */
/*
 * export_manifest.c: the end of an AgroFlux export, on rank 0: the scaler
 * files (t0_scalers/ for county samples, t1_scalers/ for sites) and the
 * manifest DEST/export.json, written last and atomically, that lists every
 * file with its shape and dtype, the samples (AgroFlux order) and sites in
 * array order, the sign choice and the scalers used. Its presence means the export is complete.
 */
#include <limits.h>
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

static void add_file(json_t *files, const char *rel, const char *role, json_t *shape)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(rel));
    json_object_set_new(o, "role", json_string(role));
    json_object_set_new(o, "dtype", json_string("<f4"));
    json_object_set_new(o, "shape", shape);
    json_array_append_new(files, o);
}

/* t0 scaler files: X (11,2), one per module, Combined (20,2) in Carbon, Thermal, Water, Nitrogen order. */
static int county_scalers(af_export *e, json_t *files, af_error *err)
{
    int rc = AF_OK, comb[AF_Y_N], nc = 0;
    size_t ni = e->idx.ninputs;
    AF_CHECK(af__export_scaler_file(e, "data_files/t0_scalers/X_scaler.npy", e->xcol, AF_X_N, 0, e->t0_mean, e->t0_std, err));
    add_file(files, "data_files/t0_scalers/X_scaler.npy", "scaler_x", shape_json(AF_X_N, 2, 0, 2));
    int start[AF_NMODULES];
    for (int m = 0, k = 0; m < AF_NMODULES; k += af__agx_module_size[m], m++) start[m] = k;
    for (int m = 0; m < AF_NMODULES; m++) {
        char rel[256];
        snprintf(rel, sizeof rel, "data_files/t0_scalers/Y_scaler_%s.npy", af__agx_modules[m]);
        AF_CHECK(af__export_scaler_file(e, rel, e->ycol + start[m], af__agx_module_size[m], ni, e->t0_mean, e->t0_std, err));
        add_file(files, rel, "scaler_y", shape_json((size_t)af__agx_module_size[m], 2, 0, 2));
        int cm = af__agx_combined_order[m];
        for (int j = 0; j < af__agx_module_size[cm]; j++) comb[nc++] = e->ycol[start[cm] + j];
    }
    AF_CHECK(af__export_scaler_file(e, "data_files/t0_scalers/Y_scaler_Combined.npy", comb, nc, ni, e->t0_mean, e->t0_std, err));
    add_file(files, "data_files/t0_scalers/Y_scaler_Combined.npy", "scaler_y", shape_json(AF_Y_N, 2, 0, 2));
cleanup:
    return rc;
}

static int site_scalers(af_export *e, json_t *files, af_error *err)
{
    int rc = AF_OK, co2[2] = { e->gpp, e->nee }, n2o[1] = { e->n2o };
    size_t ni = e->idx.ninputs;
    AF_CHECK(af__export_scaler_file(e, "data_files/t1_scalers/X_scaler.npy", e->xcol, AF_X_N, 0, e->t1_mean, e->t1_std, err));
    add_file(files, "data_files/t1_scalers/X_scaler.npy", "scaler_x", shape_json(AF_X_N, 2, 0, 2));
    if (e->gpp >= 0 && e->nee >= 0) {
        AF_CHECK(af__export_scaler_file(e, "data_files/t1_scalers/Y_scaler_co2.npy", co2, 2, ni, e->t1_mean, e->t1_std, err));
        add_file(files, "data_files/t1_scalers/Y_scaler_co2.npy", "scaler_y", shape_json(2, 2, 0, 2));
    }
    if (e->n2o >= 0) {
        AF_CHECK(af__export_scaler_file(e, "data_files/t1_scalers/Y_scaler_n2o.npy", n2o, 1, ni, e->t1_mean, e->t1_std, err));
        add_file(files, "data_files/t1_scalers/Y_scaler_n2o.npy", "scaler_y", shape_json(1, 2, 0, 2));
    }
cleanup:
    return rc;
}

/* The data files in the order they were written, with their shapes; sample and site lists. */
static void list_data(af_export *e, json_t *root, json_t *files, af_export_summary *sum)
{
    const char *sub = e->opts->subset;
    size_t nd = (size_t)e->idx.ndays, ny = (size_t)e->nyears;
    char rel[512];
    json_t *ids = json_array(), *co2 = json_array(), *n2o = json_array();
    if (e->ncounty > 0) {
        snprintf(rel, sizeof rel, "data_files/t0_%s/X_%s_scaled.npy", sub, sub);
        add_file(files, rel, "x", shape_json(nd, e->ncounty, AF_X_N, 3));
        for (int m = 0; m < AF_NMODULES; m++) {
            snprintf(rel, sizeof rel, "data_files/t0_%s/Y_%s_scaled_%s.npy", sub, sub, af__agx_modules[m]);
            add_file(files, rel, "y", shape_json(nd, e->ncounty, (size_t)af__agx_module_size[m], 3));
        }
    }
    for (size_t p = 0; p < e->ncounty; p++) json_array_append_new(ids, json_string(e->idx.samples[e->order[p]].id));
    for (size_t s = 0; s < e->idx.nsamples - e->ncounty; s++) {
        const char *id = e->idx.samples[e->ncounty + s].id;
        if (e->co2[s]) {
            size_t k = json_array_size(co2);
            snprintf(rel, sizeof rel, "data_files/t1_co2/X_real_scaled_ECfluxnet_%zu.npy", k);
            add_file(files, rel, "x", shape_json(nd, 1, AF_X_N, 3));
            snprintf(rel, sizeof rel, "data_files/t1_co2/Y_real_scaled_ECfluxnet_Combined_%zu.npy", k);
            add_file(files, rel, "y", shape_json(nd, 1, 2, 3));
            json_array_append_new(co2, json_string(id));
        }
        if (e->n2o_site[s]) {
            size_t k = json_array_size(n2o);
            snprintf(rel, sizeof rel, "data_files/t1_n2o/X_real_scaled_%zu.npy", k);
            add_file(files, rel, "x", shape_json(365, ny, AF_X_N, 3));
            snprintf(rel, sizeof rel, "data_files/t1_n2o/Y_real_scaled_Combined_%zu.npy", k);
            add_file(files, rel, "y", shape_json(365, ny, 1, 3));
            json_array_append_new(n2o, json_string(id));
        }
    }
    sum->ncounty_samples = e->ncounty;
    sum->nco2_sites = json_array_size(co2);
    sum->nn2o_sites = json_array_size(n2o);
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

static json_t *scaler_ref(const char *split, int fold, int with_fold)
{
    json_t *o = json_object();
    json_object_set_new(o, "split", json_string(split));
    json_object_set_new(o, "fold", with_fold ? json_integer(fold) : json_null());
    return o;
}

int af__export_finish(af_export *e, af_export_summary *sum, af_error *err)
{
    int rc = AF_OK;
    char src[PATH_MAX], path[4400], *text = NULL;
    json_t *root = json_object(), *files = json_array();
    AF_CHECK_ALLOC(root);
    AF_CHECK_ALLOC(files);
    if (!realpath(e->opts->outdir, src)) snprintf(src, sizeof src, "%s", e->opts->outdir);
    json_object_set_new(root, "schema", json_string("agroflux-export"));
    json_object_set_new(root, "layout", json_string("agroflux"));
    json_object_set_new(root, "subset", json_string(e->opts->subset));
    json_object_set_new(root, "source", json_string(src));
    json_object_set_new(root, "config_sha256", json_string(e->idx.config_sha256));
    json_object_set_new(root, "ndays", json_integer(e->idx.ndays));
    json_object_set_new(root, "years", shape_json((size_t)e->idx.start.year, (size_t)e->idx.end.year, 0, 2));
    int spatial = !strcmp(e->opts->split, "spatial");
    json_object_set_new(root, "county_scalers", e->ncounty ? scaler_ref(e->opts->split, e->opts->fold, spatial) : json_null());
    json_object_set_new(root, "sign", sign_json(e));
    list_data(e, root, files, sum);
    int sites = sum->nco2_sites + sum->nn2o_sites > 0;
    json_object_set_new(root, "site_scalers", sites ? scaler_ref("loso", e->opts->site_fold, 1) : json_null());
    if (e->ncounty > 0) AF_CHECK(county_scalers(e, files, err));
    if (sites) AF_CHECK(site_scalers(e, files, err));
    sum->nfiles = json_array_size(files) + 1;
    json_object_set_new(root, "files", files);
    files = NULL;
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    AF_CHECK_ALLOC(text);
    snprintf(path, sizeof path, "%s/%s", e->dest, AF_EXPORT_MANIFEST);
    AF_CHECK(af_write_atomic(path, text, strlen(text), err));
cleanup:
    free(text);
    json_decref(files);
    json_decref(root);
    return rc;
}
