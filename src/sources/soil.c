/* SPDX-License-Identifier: MIT */
/*
 * soil.c: static soil properties from rasters ("source = soil"): one raster
 * per property and depth layer (gSSURGO/gNATSGO property rasters, POLARIS,
 * SoilGrids), path template with {layer}. Counties get the (optionally
 * cropland-weighted) mean over their exact cell coverage, streamed in strips
 * (raster_zonal.c); sites the value at their location. A feature's value is
 * the depth-weighted profile mean over its depth (layers weighted by their
 * overlap with it; a layer missing for the sample drops out and the weights
 * renormalise). log10 properties are averaged in linear space. The value is
 * the same on every day; qc carries the valid share of the county.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "raster_zonal.h"
#include "agroflux/opts.h"
#include "soil_impl.h"
#include "sources_impl.h"

static const af_key_spec soil_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "Raster of one depth layer, relative to the pipeline file; {layer} is replaced by each entry of layers as written (soil/bd_{layer}.tif)." },
    { "layers", AF_KEY_LIST, 1, NULL, NULL,
      "Depth layers in cm, top-bottom, comma separated, '-' or '_' between (0-5,5-15,15-30 or POLARIS 0_5,5_15,15_30)." },
    { "depth", AF_KEY_STRING, 0, "", NULL,
      "Profile depth in cm (0-30): layers weighted by their overlap with it; must be covered by the layers. Default: all layers." },
    { "transform", AF_KEY_CHOICE, 0, "none", "none|log10",
      "log10: the raster holds log10 of the property (POLARIS om, ksat, alpha, hb); averaged as 10^value, output in linear units." },
    { "source_units", AF_KEY_STRING, 1, NULL, NULL, "Units of the (linear, unpacked) property in the rasters (see the units table)." },
    { "crs", AF_KEY_STRING, 0, "", NULL, "CRS of the rasters when they declare none (e.g. EPSG:5070); a raster without CRS and no crs key is an error." },
    { "cropland_weights", AF_KEY_STRING, 0, "", NULL,
      "Optional raster of cropland fraction 0..1 (or 0/1 mask), or classes with cropland_classes; county means weight cells by it. On the soil rasters' grid it is read cell for cell; on any other grid or CRS averaged (gdalwarp -r average) onto the soil cells, strip by strip." },
    { "cropland_classes", AF_KEY_LIST, 0, "", NULL,
      "With cropland_weights: that raster holds class codes (a CDL year) and cells whose class is in this comma list (1,5) weigh 1, others 0 (on another grid: the averaged 0/1 mask, a crop fraction)." },
    { "site_method", AF_KEY_CHOICE, 0, "bilinear", "nearest|bilinear",
      "Value at a site (lon/lat, EPSG:4326): containing cell, or bilinear between cell centres (missing neighbours dropped)." },
    { "min_valid_fraction", AF_KEY_DOUBLE, 0, "0", NULL,
      "A county layer is missing when the valid (weighted) share of the county's area is below this (cells outside the raster count as missing)." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

static void soil_close(void *vst)
{
    so_state *st = vst;
    if (!st) return;
    for (size_t l = 0; l < st->nlayers; l++) af__rz_raster_close(&st->layers[l].r);
    if (st->crop_vrt) GDALClose(st->crop_vrt);
    af__rz_raster_close(&st->crop);
    free(st->layers);
    free(st->feats);
    free(st->paths);
    free(st->mean);
    free(st->share);
    free(st->site);
    af__rz_geom_dispose(&st->geom);
    free(st);
}

/* Group-wide keys: every feature of the group must agree with the first. */
static int check_shared(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, af_error *err)
{
    int rc = AF_OK;
    static const char *const shared[] = { "layers", "transform", "crs", "cropland_weights", "cropland_classes",
                                          "site_method", "min_valid_fraction" };
    AF_CHECK(af__group_keys_agree(ctx->cfg, feats, nfeat, shared, sizeof shared / sizeof shared[0], err));
cleanup:
    return rc;
}

/* Replace {layer} by the layer's text, then the common template expander (no year, no sample). */
static int layer_path(const so_state *st, const af_config_section *sec, const char *tmpl, const char *layer,
                      char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    char buf[4096];
    const char *p = strstr(tmpl, "{layer}");
    if (!p)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] path: '%s' has no {layer} placeholder", st->ctx->cfg->path,
                af_config_line(sec, "path"), sec->name, tmpl);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - tmpl), tmpl, layer, p + 7);
    AF_CHECK(af__template_expand(st->ctx->cfg, sec, "path", buf, NULL, 0, out, n, err));
cleanup:
    return rc;
}

static int open_layers(so_state *st, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const char *tmpl = af_config_get(sec, "path");
    const char *crs;
    char cw[4096];
    AF_CHECK(af_opts_get_string(cfg, sec, soil_keys, "crs", &crs, err));
    st->paths = calloc(st->nlayers + 1, sizeof *st->paths);
    AF_CHECK_ALLOC(st->paths);
    for (size_t l = 0; l < st->nlayers; l++) {
        so_layer *L = &st->layers[l];
        char path[4096];
        AF_CHECK(layer_path(st, sec, tmpl, L->text, path, sizeof path, err));
        if (!af_path_is_virtual(path) && !af_file_readable(path))
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] path: layer %s: cannot read '%s'", cfg->path,
                    af_config_line(sec, "path"), sec->name, L->text, path);
        AF_CHECK(af__rz_raster_open(&L->r, path, crs, err));
        if (l > 0 && !af__rz_raster_same_grid(&L->r, &st->layers[0].r))
            AF_FAIL(AF_EFORMAT, "%s: grid or CRS differs from layer %s (%s)", path, st->layers[0].text,
                    st->layers[0].r.path);
        st->paths[st->npaths++] = L->r.path;
    }
    AF_CHECK(af_opts_get_path(cfg, sec, soil_keys, "cropland_weights", cw, sizeof cw, err));
    if (cw[0]) {
        const char *path = cw;
        if (!af_path_is_virtual(path) && !af_file_readable(path))
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] cropland_weights: cannot read '%s'", cfg->path,
                    af_config_line(sec, "cropland_weights"), sec->name, path);
        AF_CHECK(af__rz_raster_open(&st->crop, path, crs, err));
        if (!af__rz_raster_same_grid(&st->crop, &st->layers[0].r)) {
            /* another grid or CRS (CDL 30 m Albers under POLARIS 1" lon/lat): averaged onto each strip */
            st->crop_warp = 1;
            if (st->ncrop_classes)
                AF_CHECK(af__rz_class_mask_vrt(st->crop.ds, path, st->crop_classes, st->ncrop_classes, &st->crop_vrt,
                                               err));
            af_log(AF_LOG_INFO, "soil", "%s: cropland weights on another grid, averaged onto the soil cells", path);
        }
        st->paths[st->npaths++] = st->crop.path;
    }
    AF_CHECK_AT(af__rz_check_crs(st->ctx, st->layers[0].r.wkt, err), "%s", st->layers[0].r.path);
cleanup:
    return rc;
}

static int parse_group(so_state *st, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    af_error e2 = AF_ERROR_INIT;
    static const int methods[] = { AF_GRID_NEAREST, AF_GRID_BILINEAR }; /* nearest|bilinear */
    const char *v, *cw;
    int i;
    AF_CHECK(af_opts_get_string(cfg, sec, soil_keys, "layers", &v, err));
    if (af__soil_parse_layers(v, &st->layers, &st->nlayers, &e2) != AF_OK)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] layers: %s", cfg->path, af_config_line(sec, "layers"), sec->name, e2.msg);
    AF_CHECK(af_opts_get_choice(cfg, sec, soil_keys, "transform", &st->log10v, err)); /* none|log10 */
    AF_CHECK(af_opts_get_choice(cfg, sec, soil_keys, "site_method", &i, err));
    st->site_method = methods[i];
    AF_CHECK(af_opts_get_double(cfg, sec, soil_keys, "min_valid_fraction", &st->min_valid, err));
    if (!(st->min_valid >= 0 && st->min_valid <= 1))
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] min_valid_fraction: '%g' is not a number in 0..1", cfg->path,
                af_config_line(sec, "min_valid_fraction"), sec->name, st->min_valid);
    AF_CHECK(af_opts_get_string(cfg, sec, soil_keys, "cropland_classes", &v, err));
    AF_CHECK(af_opts_get_string(cfg, sec, soil_keys, "cropland_weights", &cw, err));
    if (v[0]) {
        if (!cw[0])
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] cropland_classes: needs cropland_weights (the class raster)", cfg->path,
                    af_config_line(sec, "cropland_classes"), sec->name);
        if (af__rz_parse_classes(v, st->crop_classes, RZ_NCLASS, &st->ncrop_classes, &e2) != AF_OK)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] cropland_classes: %s", cfg->path, af_config_line(sec, "cropland_classes"),
                    sec->name, e2.msg);
    }
cleanup:
    return rc;
}

static int soil_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out,
                     af_error *err)
{
    int rc = AF_OK;
    so_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->nlocal = ctx->range.end - ctx->range.begin;
    const af_config_section *sec = feats[0]->section;
    AF_CHECK(check_shared(ctx, feats, nfeat, err));
    AF_CHECK(parse_group(st, sec, err));
    st->feats = calloc(nfeat, sizeof *st->feats);
    AF_CHECK_ALLOC(st->feats);
    st->nfeat = nfeat;
    for (size_t k = 0; k < nfeat; k++) {
        const af_config_section *fs = feats[k]->section;
        so_feat *sf = &st->feats[k];
        sf->f = feats[k];
        af_error e2 = AF_ERROR_INIT;
        const char *depth;
        AF_CHECK(af_opts_get_string(ctx->cfg, fs, soil_keys, "depth", &depth, err));
        if (af__soil_depth_weights(depth, st->layers, st->nlayers, sf->w, &e2) != AF_OK)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] depth: %s", ctx->cfg->path, af_config_line(fs, "depth"), fs->name, e2.msg);
        if (af_units_conversion(af_config_get(fs, "source_units"), feats[k]->units, &sf->conv, &e2) != AF_OK)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: %s", ctx->cfg->path, af_config_line(fs, "source_units"),
                    fs->name, e2.msg);
    }
    AF_CHECK(open_layers(st, sec, err));
    *out = st;
    st = NULL;
cleanup:
    soil_close(st);
    return rc;
}

/* Every layer's county means (one pass: the layers share a grid) and site values; static. */
static int prepare(so_state *st, af_error *err)
{
    int rc = AF_OK;
    double *buf = NULL;
    const rz_raster **rs = NULL;
    rz_result *res = NULL;
    const rz_raster *r0 = &st->layers[0].r;
    AF_CHECK_AT(af__rz_geom_build(st->ctx, r0->wkt, &st->geom, err), "%s", r0->path);
    size_t np = st->geom.npoly, nl = st->nlayers;
    st->mean = malloc((np * nl + 1) * sizeof *st->mean);
    st->share = malloc((np * nl + 1) * sizeof *st->share);
    st->site = malloc((st->nlocal * nl + 1) * sizeof *st->site);
    buf = malloc((5 * np * nl + 1) * sizeof *buf);
    rs = malloc(nl * sizeof *rs);
    res = malloc(nl * sizeof *res);
    AF_CHECK_ALLOC(st->mean);
    AF_CHECK_ALLOC(st->share);
    AF_CHECK_ALLOC(st->site);
    AF_CHECK_ALLOC(buf);
    AF_CHECK_ALLOC(rs);
    AF_CHECK_ALLOC(res);
    for (size_t l = 0; l < nl; l++) {
        double *b = buf + 5 * np * l;
        rs[l] = &st->layers[l].r;
        res[l] = (rz_result){ b, b + np, b + 2 * np, NULL, b + 3 * np, b + 4 * np };
    }
    rz_mask mask = { &st->crop, st->ncrop_classes ? st->crop_classes : NULL, st->ncrop_classes, st->crop_warp,
                     st->crop_vrt ? st->crop_vrt : st->crop.ds };
    AF_CHECK(af__rz_zonal(rs, nl, st->crop.ds ? &mask : NULL, st->geom.polys, np, RZ_MEAN, st->log10v, 0, res, NULL,
                          err));
    for (size_t l = 0; l < nl; l++) {
        const rz_result *q = &res[l];
        for (size_t p = 0; p < np; p++) {
            /* valid share of the county: valid weight / all weight, times the part inside the raster */
            double share = q->sum_wall[p] > 0 ? q->sum_wv[p] / q->sum_wall[p] * q->inside[p] : 0;
            st->share[l * np + p] = share;
            st->mean[l * np + p] = q->sum_wv[p] > 0 && share >= st->min_valid ? q->sum_wx[p] / q->sum_wv[p] : NAN;
        }
        for (size_t i = 0; i < st->nlocal; i++) {
            st->site[l * st->nlocal + i] = NAN;
            if (isfinite(st->geom.site_x[i]))
                AF_CHECK(af__rz_raster_sample(&st->layers[l].r, st->geom.site_x[i], st->geom.site_y[i],
                                              st->site_method, st->log10v, &st->site[l * st->nlocal + i], err));
        }
    }
    af_log(AF_LOG_DEBUG, "soil", "%zu layers, %zu counties from %s", nl, np, r0->path);
cleanup:
    free(buf);
    free(rs);
    free(res);
    return rc;
}

/* Depth-weighted value of feature k for local sample i; qc = depth-weighted valid share. */
static double profile(const so_state *st, const so_feat *sf, size_t i, double *qc)
{
    double sw = 0, sx = 0, sq = 0, wall = 0;
    long p = st->geom.sample_poly[i];
    size_t np = st->geom.npoly;
    for (size_t l = 0; l < st->nlayers; l++) {
        if (sf->w[l] <= 0) continue;
        double x = p >= 0 ? st->mean[l * np + (size_t)p] : st->site[l * st->nlocal + i];
        double s = p >= 0 ? st->share[l * np + (size_t)p] : (isfinite(x) ? 1.0 : 0.0);
        wall += sf->w[l];
        sq += sf->w[l] * s;
        if (!isfinite(x)) continue;
        sw += sf->w[l];
        sx += sf->w[l] * x;
    }
    *qc = wall > 0 ? sq / wall : 0;
    return sw > 0 ? sx / sw : NAN;
}

static int soil_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    so_state *st = vst;
    (void)t0;
    size_t nf = st->nfeat, n = st->nlocal * (size_t)nt * nf;
    for (size_t i = 0; i < n; i++) { val[i] = NAN; valid[i] = 0; qc[i] = NAN; }
    if (!st->prepared && st->nlocal) {
        AF_CHECK(prepare(st, err));
        st->prepared = 1;
    }
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
        for (size_t k = 0; k < nf; k++) {
            const so_feat *sf = &st->feats[k];
            if (!af__kind_applies(sf->f, s)) continue;
            double q;
            double x = profile(st, sf, i, &q);
            for (int t = 0; t < nt; t++) {
                size_t o = ((size_t)i * (size_t)nt + (size_t)t) * nf + k;
                qc[o] = (float)q;
                if (isfinite(x)) {
                    val[o] = (float)af_units_apply(sf->conv, x);
                    valid[o] = 1;
                }
            }
        }
    }
cleanup:
    return rc;
}

AF_SOURCE_FILES_FN(soil_files, so_state, paths, npaths)

const af_source_kind af__source_soil = {
    .name = "soil",
    .help = "static soil properties from per-layer rasters (gSSURGO/gNATSGO, POLARIS): depth-weighted county means and site values",
    .keys = soil_keys,
    .open = soil_open,
    .fill = soil_fill,
    .files = soil_files,
    .close = soil_close,
};
