/* SPDX-License-Identifier: MIT */
/*
 * cdl.c: the USDA NASS Cropland Data Layer as a source ("source = cdl"): one
 * class raster per year ({year} in path). Per county-year, from the exact
 * coverage of the cells (streamed in strips, raster_zonal.c): the fraction of
 * the county's area in a set of classes, the dominant crop class among
 * crop_classes, or whether that dominant class is in a set (PLANTT: 1 = corn).
 * The county-year value is carried on every day of its year. Sites take the
 * class of the cell they are in. Output units are fixed by the statistic:
 * fraction "1", dominant "class", dominant_in "flag".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "cdl_impl.h"
#include "log.h"
#include "agroflux/opts.h"
#include "sources_impl.h"

static const af_key_spec cdl_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "Yearly CDL class raster relative to the pipeline file, with {year} (cdl/{year}_30m_cdls.tif); every year of the pipeline must exist." },
    { "statistic", AF_KEY_CHOICE, 0, "fraction", "fraction|dominant|dominant_in",
      "fraction: share of the county's area (exact coverage; nodata and outside count in the area) whose class is in classes (units 1); dominant: code of the crop_classes class with the largest area, missing if none (units class); dominant_in: 1 if that dominant class is in classes, else 0 (units flag; PLANTT with classes = 1)." },
    { "classes", AF_KEY_LIST, 0, "", NULL,
      "Comma list of class codes or class_table names (1,5 or corn,soybeans), or 'other' (valid classes not in crop_classes). Required for fraction and dominant_in." },
    { "crop_classes", AF_KEY_LIST, 0, "1,5", NULL,
      "Crop classes, in order, for dominant, dominant_in and other (ties go to the first listed)." },
    { "class_table", AF_KEY_STRING, 0, "", NULL, "Optional CSV with columns code,name giving class names usable in classes and crop_classes." },
    { "crs", AF_KEY_STRING, 0, "", NULL, "CRS of the rasters when they declare none (EPSG:5070); a raster without CRS and no crs key is an error." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

static void cdl_close(void *vst)
{
    cd_state *st = vst;
    if (!st) return;
    if (st->years)
        for (int y = st->y0; y <= st->y1; y++) af__rz_raster_close(&st->years[y - st->y0]);
    free(st->years);
    free(st->feats);
    free(st->paths);
    free(st->hist);
    free(st->denom);
    free(st->site_class);
    af__rz_geom_dispose(&st->geom);
    free(st);
}

static int check_shared(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, af_error *err)
{
    int rc = AF_OK;
    static const char *const shared[] = { "crop_classes", "class_table", "crs" };
    AF_CHECK(af__group_keys_agree(ctx->cfg, feats, nfeat, shared, sizeof shared / sizeof shared[0], err));
cleanup:
    return rc;
}

static int parse_feature(cd_state *st, const cd_table *tab, size_t k, af_error *err)
{
    int rc = AF_OK;
    cd_feat *cf = &st->feats[k];
    const af_config_section *fs = cf->f->section;
    const char *path = st->ctx->cfg->path;
    static const int stats[] = { CD_FRACTION, CD_DOMINANT, CD_DOMINANT_IN }; /* fraction|dominant|dominant_in */
    const char *s, *cls;
    int i;
    AF_CHECK(af_opts_get_string(st->ctx->cfg, fs, cdl_keys, "statistic", &s, err));
    AF_CHECK(af_opts_get_choice(st->ctx->cfg, fs, cdl_keys, "statistic", &i, err));
    cf->stat = stats[i];
    AF_CHECK(af_opts_get_string(st->ctx->cfg, fs, cdl_keys, "classes", &cls, err));
    if (cf->stat != CD_DOMINANT && !cls[0])
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] classes: required with statistic = %s", path, fs->line, fs->name, s);
    if (!strcmp(cls, "other")) {
        if (cf->stat != CD_FRACTION)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] classes: 'other' only with statistic = fraction", path,
                    af_config_line(fs, "classes"), fs->name);
        cf->other = 1;
    } else if (cls[0]) {
        af_error e2 = AF_ERROR_INIT;
        if (af__cdl_resolve(cls, tab, cf->in, NULL, NULL, &e2) != AF_OK)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] classes: %s", path, af_config_line(fs, "classes"), fs->name, e2.msg);
    }
    const char *from = cf->stat == CD_FRACTION ? "1" : cf->stat == CD_DOMINANT ? "class" : "flag";
    af_error ue = AF_ERROR_INIT;
    if (af_units_conversion(from, cf->f->units, &cf->conv, &ue) != AF_OK)
        AF_FAIL(AF_EUNITS, "%s:%d: [%s] units: statistic = %s gives '%s': %s", path, af_config_line(fs, "units"),
                fs->name, s, from, ue.msg);
cleanup:
    return rc;
}

static int open_years(cd_state *st, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const char *tmpl = af_config_get(sec, "path"), *crs;
    AF_CHECK(af_opts_get_string(cfg, sec, cdl_keys, "crs", &crs, err));
    if (!af__template_per_year(tmpl))
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] path: '%s' has no {year} (the CDL is one raster per year)", cfg->path,
                af_config_line(sec, "path"), sec->name, tmpl);
    st->y0 = af_calendar_start(st->ctx->cal).year;
    st->y1 = af_calendar_end(st->ctx->cal).year;
    size_t ny = (size_t)(st->y1 - st->y0 + 1);
    st->years = calloc(ny, sizeof *st->years);
    st->paths = calloc(ny, sizeof *st->paths);
    AF_CHECK_ALLOC(st->years);
    AF_CHECK_ALLOC(st->paths);
    for (int y = st->y0; y <= st->y1; y++) {
        char path[4096];
        AF_CHECK(af__template_expand(cfg, sec, "path", tmpl, NULL, y, path, sizeof path, err));
        if (!af_path_is_virtual(path) && !af_file_readable(path))
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] path: no CDL raster for year %d: cannot read '%s'", cfg->path,
                    af_config_line(sec, "path"), sec->name, y, path);
        rz_raster *r = &st->years[y - st->y0];
        AF_CHECK(af__rz_raster_open(r, path, crs, err));
        st->paths[st->npaths++] = r->path;
    }
    AF_CHECK_AT(af__rz_check_crs(st->ctx, st->years[0].wkt, err), "%s", st->years[0].path);
cleanup:
    return rc;
}

static int cdl_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out,
                    af_error *err)
{
    int rc = AF_OK;
    cd_table *tab = NULL;
    cd_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->nlocal = ctx->range.end - ctx->range.begin;
    const af_config_section *sec = feats[0]->section;
    const char *cfgp = ctx->cfg->path;
    AF_CHECK(check_shared(ctx, feats, nfeat, err));
    tab = calloc(1, sizeof *tab);
    AF_CHECK_ALLOC(tab);
    char path[4096];
    AF_CHECK(af_opts_get_path(ctx->cfg, sec, cdl_keys, "class_table", path, sizeof path, err));
    if (path[0]) {
        if (!af_file_readable(path))
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] class_table: cannot read '%s'", cfgp, af_config_line(sec, "class_table"),
                    sec->name, path);
        AF_CHECK(af__cdl_table_load(path, tab, err));
    }
    af_error e2 = AF_ERROR_INIT;
    const char *crop;
    AF_CHECK(af_opts_get_string(ctx->cfg, sec, cdl_keys, "crop_classes", &crop, err));
    if (af__cdl_resolve(crop, tab, st->is_crop, st->crop, &st->ncrop, &e2) != AF_OK)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] crop_classes: %s", cfgp, af_config_line(sec, "crop_classes"), sec->name, e2.msg);
    st->feats = calloc(nfeat, sizeof *st->feats);
    AF_CHECK_ALLOC(st->feats);
    st->nfeat = nfeat;
    for (size_t k = 0; k < nfeat; k++) {
        st->feats[k].f = feats[k];
        AF_CHECK(parse_feature(st, tab, k, err));
    }
    AF_CHECK(open_years(st, sec, err));
    *out = st;
    st = NULL;
cleanup:
    free(tab);
    cdl_close(st);
    return rc;
}

/* Class areas of every county and the class at every site, for one year. */
static int load_year(cd_state *st, int year, af_error *err)
{
    int rc = AF_OK;
    double *buf = NULL;
    const rz_raster *r = &st->years[year - st->y0];
    size_t np = st->geom.npoly;
    buf = malloc((2 * np + 1) * sizeof *buf);
    AF_CHECK_ALLOC(buf);
    rz_result res = { NULL, NULL, NULL, st->hist, buf, buf + np };
    AF_CHECK(af__rz_zonal(&r, 1, NULL, st->geom.polys, np, RZ_CLASSES, 0, 0, &res, NULL, err));
    for (size_t p = 0; p < np; p++) st->denom[p] = res.inside[p] > 0 ? res.area_cov[p] / res.inside[p] : 0;
    for (size_t i = 0; i < st->nlocal; i++) {
        st->site_class[i] = NAN;
        if (isfinite(st->geom.site_x[i]))
            AF_CHECK(af__rz_raster_sample(r, st->geom.site_x[i], st->geom.site_y[i], AF_GRID_NEAREST, 0,
                                          &st->site_class[i], err));
    }
    st->cur_year = year;
    af_log(AF_LOG_DEBUG, "cdl", "%d: %zu counties from %s", year, np, r->path);
cleanup:
    free(buf);
    return rc;
}

static int prepare(cd_state *st, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_AT(af__rz_geom_build(st->ctx, st->years[0].wkt, &st->geom, err), "%s", st->years[0].path);
    size_t np = st->geom.npoly;
    st->hist = calloc(np * RZ_NCLASS + 1, sizeof *st->hist);
    st->denom = calloc(np + 1, sizeof *st->denom);
    st->site_class = calloc(st->nlocal + 1, sizeof *st->site_class);
    AF_CHECK_ALLOC(st->hist);
    AF_CHECK_ALLOC(st->denom);
    AF_CHECK_ALLOC(st->site_class);
cleanup:
    return rc;
}

/* Dominant crop class of a class-area histogram: -1 if no crop class has area. */
static int dominant(const cd_state *st, const double *h)
{
    int best = -1;
    double a = 0;
    for (size_t k = 0; k < st->ncrop; k++)
        if (h[st->crop[k]] > a) { a = h[st->crop[k]]; best = st->crop[k]; }
    return best;
}

static double county_value(const cd_state *st, const cd_feat *cf, size_t p, double *qc)
{
    const double *h = st->hist + p * RZ_NCLASS;
    double d = st->denom[p], in = 0, all = 0;
    for (int c = 0; c < RZ_NCLASS; c++) {
        all += h[c];
        if (cf->other ? !st->is_crop[c] : cf->in[c]) in += h[c];
    }
    *qc = d > 0 ? all / d : 0;
    if (!(d > 0)) return NAN;
    if (cf->stat == CD_FRACTION) return in / d;
    int dom = dominant(st, h);
    if (dom < 0) return NAN;
    return cf->stat == CD_DOMINANT ? dom : cf->in[dom] ? 1.0 : 0.0;
}

static double site_value(const cd_state *st, const cd_feat *cf, double c, double *qc)
{
    *qc = isfinite(c) ? 1.0 : 0.0;
    if (!(c >= 0 && c < RZ_NCLASS)) return NAN;
    int k = (int)c;
    if (cf->stat == CD_FRACTION) return (cf->other ? !st->is_crop[k] : cf->in[k]) ? 1.0 : 0.0;
    if (!st->is_crop[k]) return NAN;
    return cf->stat == CD_DOMINANT ? k : cf->in[k] ? 1.0 : 0.0;
}

static void fill_day(const cd_state *st, int t, int t0, int nt, float *val, unsigned char *valid, float *qc)
{
    size_t nf = st->nfeat;
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
        long p = st->geom.sample_poly[i];
        for (size_t k = 0; k < nf; k++) {
            const cd_feat *cf = &st->feats[k];
            if (!af__kind_applies(cf->f, s)) continue;
            double q, x = p >= 0 ? county_value(st, cf, (size_t)p, &q) : site_value(st, cf, st->site_class[i], &q);
            size_t o = ((size_t)i * (size_t)nt + (size_t)(t - t0)) * nf + k;
            qc[o] = (float)q;
            if (isfinite(x)) {
                val[o] = (float)af_units_apply(cf->conv, x);
                valid[o] = 1;
            }
        }
    }
}

static int cdl_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    cd_state *st = vst;
    size_t n = st->nlocal * (size_t)nt * st->nfeat;
    for (size_t i = 0; i < n; i++) { val[i] = NAN; valid[i] = 0; qc[i] = NAN; }
    if (st->nlocal == 0) goto cleanup;
    if (!st->prepared) {
        AF_CHECK(prepare(st, err));
        st->prepared = 1;
    }
    for (int t = t0; t < t0 + nt; t++) {
        int year = af_date_from_epoch(af_calendar_epoch(st->ctx->cal, t)).year;
        if (year != st->cur_year) AF_CHECK(load_year(st, year, err));
        fill_day(st, t, t0, nt, val, valid, qc);
    }
cleanup:
    return rc;
}

AF_SOURCE_FILES_FN(cdl_files, cd_state, paths, npaths)

/* Units fixed by the statistic: a share of area, a class code, or a 0/1 flag. */
static int cdl_units(const af_config *cfg, const af_feature_cfg *f, char *out, size_t n, af_error *err)
{
    static const char *const units[] = { "1", "class", "flag" }; /* fraction|dominant|dominant_in */
    int i;
    int rc = af_opts_get_choice(cfg, f->section, cdl_keys, "statistic", &i, err);
    if (rc == AF_OK) snprintf(out, n, "%s", units[i]);
    return rc;
}

const af_source_kind af__source_cdl = {
    .name = "cdl",
    .help = "USDA Cropland Data Layer (yearly class rasters): county crop fractions and dominant crop (PLANTT) per county-year",
    .keys = cdl_keys,
    .open = cdl_open,
    .fill = cdl_fill,
    .files = cdl_files,
    .close = cdl_close,
    .source_units = cdl_units,
};
