/* SPDX-License-Identifier: MIT */
/*
 * gridded.c: the gridded daily weather source ("source = gridded"): gridMET
 * (CF NetCDF, real calendar), Daymet (365 bands a year, Dec 31 absent in leap
 * years) and GDAL raster stacks (one band per day from stack_start). Counties
 * get an area-weighted statistic over their exact cell coverage, missing below
 * min_valid_fraction (cells outside the raster count as missing); sites get the
 * value at their location (nearest or bilinear). Each block of days reads only
 * the window of the samples opened, once per file and variable; on several ranks
 * the pipeline opens the group on every sample and divides the days instead
 * (split_days, fill_days: whole chunks in time per rank). The group's qc array carries
 * the per-county-day valid fraction (1/0 for sites). With multiply_path, each
 * cell-day is first multiplied by a second variable of the same grid and days
 * (Daymet srad x dayl), so aggregation and sampling see the product.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>

#include "af_check.h"
#include "agroflux/opts.h"
#include "sources_impl.h"
#include "af_util.h"
#include "gridded_impl.h"
#include "log.h"
#include "raster_zonal.h"

static const af_key_spec gridded_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "Raster file relative to the pipeline file; {year} gives one file per year (gridMET tmmx_{year}.nc)." },
    { "variable", AF_KEY_STRING, 0, "", NULL,
      "NetCDF variable (e.g. air_temperature for gridMET tmmx, tmax for Daymet); empty for GDAL raster stacks." },
    { "format", AF_KEY_CHOICE, 0, "gridmet", "gridmet|daymet|stack",
      "gridmet: CF time axis, real calendar; daymet: band i = Jan 1 + i (365 a year, Dec 31 of leap years missing); stack: band i = stack_start + i." },
    { "source_units", AF_KEY_STRING, 1, NULL, NULL, "Units of the (unpacked) values in the file (see the units table). A file's own `units` attribute must mean the same (units table, else UDUNITS-2): other units are an error, units neither understands a warning (not checked with multiply_path: the product has other units than either file)." },
    { "crs", AF_KEY_STRING, 0, "", NULL,
      "CRS of the raster when the file declares none (e.g. EPSG:4326); a file without CRS and no crs key is an error. The file's own CRS wins." },
    { "stack_start", AF_KEY_DATE, 0, "", NULL, "Date of band 1 (format = stack only; required there). With {year} in path, its month and day in each file's year." },
    { "statistic", AF_KEY_CHOICE, 0, "mean", "mean|min|max|std",
      "County statistic over covered cells (area-weighted mean and std; min and max over valid cells)." },
    { "min_valid_fraction", AF_KEY_DOUBLE, 0, "0.5", NULL,
      "A county-day is missing when the valid share of the county's area (cells outside the raster count as missing) is below this." },
    { "site_method", AF_KEY_CHOICE, 0, "bilinear", "nearest|bilinear",
      "Value at a site (site list lon/lat taken as EPSG:4326): containing cell, or bilinear between cell centres." },
    { "cropland_weights", AF_KEY_STRING, 0, "", NULL,
      "Optional raster (any grid and CRS, GDAL-readable) of cropland fraction 0..1 or a 0/1 mask: averaged (gdalwarp -r average) onto the weather cells of the rank's window and used as cell weights (no {year})." },
    { "cropland_classes", AF_KEY_LIST, 0, "", NULL,
      "With cropland_weights: that raster holds class codes (e.g. a CDL year) and a cell is cropland when its class is in this comma list (e.g. 1,5 corn and soybeans); the 0/1 mask is averaged onto the weather cells (crop fraction)." },
    { "multiply_path", AF_KEY_STRING, 0, "", NULL,
      "Optional second raster (template like path, e.g. {root}/daymet/daymet_v4_daily_na_dayl_{year}.nc): each cell's value is multiplied by the same cell and day of multiply_variable before aggregation and site sampling (Daymet srad x dayl = J m-2 d-1). Same grid and days as path (checked at open); nodata in either is nodata; source_units are the product's." },
    { "multiply_variable", AF_KEY_STRING, 0, "", NULL,
      "NetCDF variable of multiply_path (e.g. dayl); required with multiply_path except for format = stack." },
    { "cache_dir", AF_KEY_STRING, 0, ".agroflux-cache", NULL,
      "Directory of cached county weights (relative to the pipeline file, or under {root})." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

static void gridded_close(void *vst)
{
    gr_state *st = vst;
    if (!st) return;
    for (size_t v = 0; v < st->nvars; v++) {
        for (size_t i = 0; i < st->vars[v].nfiles; i++) {
            af__gridded_close_file(&st->vars[v].files[i]);
            if (st->vars[v].mfiles) af__gridded_close_file(&st->vars[v].mfiles[i]);
        }
        free(st->vars[v].files);
        free(st->vars[v].mfiles);
    }
    free(st->vars);
    free(st->feats);
    free(st->paths);
    af__gridded_scan_free(st);
    free(st->lut);
    free(st->mlut);
    if (st->grid_wkt) CPLFree(st->grid_wkt);
    free(st->sample_poly);
    free(st->inside);
    free(st->site_x);
    free(st->site_y);
    af_aggregator_destroy(&st->agg);
    af_weights_destroy(&st->weights);
    free(st);
}

/* Group-wide keys: every feature of the group must agree with the first. */
static int check_shared(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, af_error *err)
{
    static const char *const shared[] = { "format", "crs", "stack_start", "min_valid_fraction", "site_method",
                                          "cropland_weights", "cropland_classes", "cache_dir" };
    return af__group_keys_agree(ctx->cfg, feats, nfeat, shared, sizeof shared / sizeof shared[0], err);
}

static int parse_group_keys(gr_state *st, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    static const int formats[] = { GR_GRIDMET, GR_DAYMET, GR_STACK };      /* gridmet|daymet|stack */
    static const int methods[] = { AF_GRID_NEAREST, AF_GRID_BILINEAR };   /* nearest|bilinear */
    const char *v;
    int i;
    AF_CHECK(af_opts_get_choice(cfg, sec, gridded_keys, "format", &i, err));
    st->format = formats[i];
    AF_CHECK(af_opts_get_string(cfg, sec, gridded_keys, "crs", &v, err));
    snprintf(st->crs_key, sizeof st->crs_key, "%s", v);
    AF_CHECK(af_opts_get_string(cfg, sec, gridded_keys, "stack_start", &v, err));
    if (st->format == GR_STACK) {
        af_date d;
        af_error e2 = AF_ERROR_INIT;
        if (!v[0]) AF_FAIL(AF_ECONFIG, "%s:%d: [%s] stack_start: required with format = stack", cfg->path, sec->line, sec->name);
        if (af_date_parse(v, &d, &e2) != AF_OK)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] stack_start: %s", cfg->path, af_config_line(sec, "stack_start"), sec->name, e2.msg);
        st->stack_start = af_date_to_epoch(d);
    }
    AF_CHECK(af_opts_get_double(cfg, sec, gridded_keys, "min_valid_fraction", &st->min_valid, err));
    if (!(st->min_valid >= 0 && st->min_valid <= 1))
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] min_valid_fraction: '%g' is not a number in 0..1", cfg->path,
                af_config_line(sec, "min_valid_fraction"), sec->name, st->min_valid);
    AF_CHECK(af_opts_get_choice(cfg, sec, gridded_keys, "site_method", &i, err));
    st->site_method = methods[i];
    AF_CHECK(af_opts_get_path(cfg, sec, gridded_keys, "cropland_weights", st->cropland, sizeof st->cropland, err));
    if (st->cropland[0]) {
        if (!af_path_is_virtual(st->cropland) && !af_file_readable(st->cropland))
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] cropland_weights: cannot read '%s'", cfg->path,
                    af_config_line(sec, "cropland_weights"), sec->name, st->cropland);
    }
    AF_CHECK(af_opts_get_string(cfg, sec, gridded_keys, "cropland_classes", &v, err));
    if (v[0]) {
        if (!st->cropland[0])
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] cropland_classes: needs cropland_weights (the class raster)", cfg->path,
                    af_config_line(sec, "cropland_classes"), sec->name);
        af_error e2 = AF_ERROR_INIT;
        if (af__rz_parse_classes(v, st->crop_classes, 256, &st->ncrop_classes, &e2) != AF_OK)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] cropland_classes: %s", cfg->path, af_config_line(sec, "cropland_classes"),
                    sec->name, e2.msg);
    }
    AF_CHECK(af_opts_get_path(cfg, sec, gridded_keys, "cache_dir", st->cache_dir, sizeof st->cache_dir, err));
cleanup:
    return rc;
}

/* The group's keys, then step 1 of the file scan (gridded_scan.c): this rank's share described. */
static int gridded_open_scan(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat,
                             void **out, af_error *err)
{
    int rc = AF_OK;
    gr_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->nlocal = ctx->range.end - ctx->range.begin;
    const af_config_section *sec = feats[0]->section;
    AF_CHECK(check_shared(ctx, feats, nfeat, err));
    AF_CHECK(parse_group_keys(st, sec, err));
    st->feats = calloc(nfeat, sizeof *st->feats);
    st->vars = calloc(nfeat, sizeof *st->vars);
    AF_CHECK_ALLOC(st->feats);
    AF_CHECK_ALLOC(st->vars);
    st->nfeat = nfeat;
    for (size_t k = 0; k < nfeat; k++) {
        const af_config_section *fs = feats[k]->section;
        gr_feat *gf = &st->feats[k];
        gf->f = feats[k];
        const char *var, *mpath, *mvar, *path;
        int stat;
        AF_CHECK(af_opts_get_string(ctx->cfg, fs, gridded_keys, "variable", &var, err));
        AF_CHECK(af_opts_get_string(ctx->cfg, fs, gridded_keys, "multiply_path", &mpath, err));
        AF_CHECK(af_opts_get_string(ctx->cfg, fs, gridded_keys, "multiply_variable", &mvar, err));
        AF_CHECK(af_opts_get_string(ctx->cfg, fs, gridded_keys, "path", &path, err));
        AF_CHECK(af_opts_get_choice(ctx->cfg, fs, gridded_keys, "statistic", &stat, err));
        if (st->format == GR_STACK && var[0])
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] variable: leave empty with format = stack", ctx->cfg->path,
                    af_config_line(fs, "variable"), fs->name);
        if (mpath[0] && !mvar[0] && st->format != GR_STACK)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] multiply_path: needs multiply_variable (the NetCDF variable to multiply by)",
                    ctx->cfg->path, af_config_line(fs, "multiply_path"), fs->name);
        if (mvar[0] && !mpath[0])
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] multiply_variable: needs multiply_path (the file of '%s')", ctx->cfg->path,
                    af_config_line(fs, "multiply_variable"), fs->name, mvar);
        if (mvar[0] && st->format == GR_STACK)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] multiply_variable: leave empty with format = stack", ctx->cfg->path,
                    af_config_line(fs, "multiply_variable"), fs->name);
        if (mpath[0] && (strstr(mpath, "{year}") != NULL) != (strstr(path, "{year}") != NULL))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] multiply_path: '%s' and path must both have {year} or neither", ctx->cfg->path,
                    af_config_line(fs, "multiply_path"), fs->name, mpath);
        /* A variable is its name and its multiplier: features of one path with different multipliers read apart. */
        size_t v = 0;
        while (v < st->nvars && (strcmp(st->vars[v].name, var) || strcmp(st->vars[v].mtmpl, mpath) ||
                                 strcmp(st->vars[v].mname, mvar)))
            v++;
        if (v == st->nvars) {
            gr_var *nv = &st->vars[st->nvars++];
            snprintf(nv->name, sizeof nv->name, "%s", var);
            snprintf(nv->mtmpl, sizeof nv->mtmpl, "%s", mpath);
            snprintf(nv->mname, sizeof nv->mname, "%s", mvar);
            nv->msec = fs;
            nv->sec = fs;
        }
        gf->var = v;
        static const int stats[] = { GR_MEAN, GR_MIN, GR_MAX, GR_STD }; /* mean|min|max|std */
        gf->stat = stats[stat];
        af_error uerr = AF_ERROR_INIT;
        if (af_units_conversion(af_config_get(fs, "source_units"), feats[k]->units, &gf->conv, &uerr) != AF_OK)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: %s", ctx->cfg->path, af_config_line(fs, "source_units"),
                    fs->name, uerr.msg);
    }
    AF_CHECK(af__gridded_scan_files(st, sec, err));
    *out = st;
    st = NULL;
cleanup:
    gridded_close(st);
    return rc;
}

/* Step 2: the descriptions exchanged and checked, then the CRS check (the state stays the caller's,
 * closed by it on failure). */
static int gridded_open_join(void *vst, af_error *err)
{
    int rc = AF_OK;
    gr_state *st = vst;
    AF_CHECK(af__gridded_join_files(st, err));
    AF_CHECK(af__gridded_check_crs(st, err));
cleanup:
    return rc;
}

static int gridded_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat,
                        void **out, af_error *err)
{
    int rc = AF_OK;
    void *st = NULL;
    AF_CHECK(gridded_open_scan(ctx, feats, nfeat, &st, err));
    AF_CHECK(gridded_open_join(st, err));
    *out = st;
    st = NULL;
cleanup:
    gridded_close(st);
    return rc;
}

/* Scratch of one fill: a piece of raw days, unpacked day planes, site values, the multiplier's piece
 * and plane (the unpacking tables live in gr_state, kept from fill to fill). */
typedef struct gr_scratch {
    void *raw;
    size_t raw_cap;        /* bytes */
    float *plane;          /* [GR_DAYS][win cells]: unpacked planes (other than 16-bit values, and sites) */
    double *site;          /* [nlocal][nt]: site values of the current variable */
    void *mraw;            /* the multiplier's raw piece (same bands as raw) */
    size_t mraw_cap;       /* bytes */
    float *mplane;         /* [win cells]: one unpacked multiplier plane */
} gr_scratch;

/* Days per raw read: whole chunks in time (each chunk decoded once, memory a few chunks deep), at
 * least 8 days; the whole range for band reads and unchunked files (tchunk is 0 unless the file
 * reads as a hyperslab: open_multidim). */
static int piece_days(const gr_file *gf, int nb)
{
    if (gf->tchunk <= 0 || gf->tchunk >= nb) return nb;
    int k = (8 + gf->tchunk - 1) / gf->tchunk;
    return gf->tchunk * k;
}

#define GR_DAYS 4 /* float day planes unpacked and aggregated together (af_aggregator_days) */

/* Every site's value on day t of the block from one unpacked plane. */
static void sample_sites(const gr_state *st, const float *plane, int t, int nt, double *site)
{
    for (size_t i = 0; i < st->nlocal; i++)
        if (isfinite(st->site_x[i]))
            site[i * (size_t)nt + (size_t)t] =
                af_grid_sample_point(&st->grid, plane, &st->win, NULL, st->site_x[i], st->site_y[i], st->site_method);
}

/* plane *= the multiplier's plane of the same day, cell by cell (NaN in either stays NaN). */
static void multiply_plane(const gr_state *st, const gr_file *mf, gr_scratch *sc, const unsigned char *mraw, float *plane)
{
    size_t wc = (size_t)st->win.ncols * (size_t)st->win.nrows;
    af__gridded_unpack_plane(st, mf, mraw, st->mlut, sc->mplane);
    for (size_t i = 0; i < wc; i++) plane[i] = (float)((double)plane[i] * (double)sc->mplane[i]);
}

/*
 * nd consecutive days (from day t of the block) of raw planes of gf as read. 16-bit values go to the
 * aggregation as stored, unpacked through the table as they are gathered (no float plane); other types
 * are unpacked GR_DAYS planes at a time. Sites get an unpacked plane of their own day. With a multiplier
 * (mf, its raw planes of the same days in mraw), always the float planes, each multiplied cell by cell.
 */
static void use_run(const gr_state *st, const gr_file *gf, const gr_file *mf, gr_scratch *sc, const unsigned char *raw,
                    const unsigned char *mraw, int t, int nd, int nt, const af_aggregate_out *av)
{
    size_t wc = (size_t)st->win.ncols * (size_t)st->win.nrows, vsz = af__gridded_raw_size(gf);
    size_t msz = mf ? af__gridded_raw_size(mf) : 0;
    if (!mf && (gf->rtype == GDT_UInt16 || gf->rtype == GDT_Int16)) {
        if (st->agg) af_aggregator_days_u16(st->agg, (const uint16_t *)(const void *)raw, st->lut, gf->mflip, t, nd, nt, av);
        for (int d = 0; d < nd && st->has_sites; d++) {
            af__gridded_unpack_plane(st, gf, raw + (size_t)d * wc * vsz, st->lut, sc->plane);
            sample_sites(st, sc->plane, t + d, nt, sc->site);
        }
        return;
    }
    for (int d0 = 0; d0 < nd; d0 += GR_DAYS) {
        int g = nd - d0 < GR_DAYS ? nd - d0 : GR_DAYS;
        for (int d = 0; d < g; d++) {
            af__gridded_unpack_plane(st, gf, raw + (size_t)(d0 + d) * wc * vsz, st->lut, sc->plane + (size_t)d * wc);
            if (mf) multiply_plane(st, mf, sc, mraw + (size_t)(d0 + d) * wc * msz, sc->plane + (size_t)d * wc);
            if (st->has_sites) sample_sites(st, sc->plane + (size_t)d * wc, t + d0 + d, nt, sc->site);
        }
        if (st->agg) af_aggregator_days(st->agg, sc->plane, t + d0, g, nt, av);
    }
}

/*
 * The block's days of one variable, file by file, in pieces of whole chunks read in the stored
 * type; each run of consecutive days is aggregated from the raw values, so no float block of the
 * window x days is ever held. Days without a band keep the NaN / 0 the caller set.
 */
/* buf holds at least need bytes. */
static int ensure_cap(void **buf, size_t *cap, size_t need, af_error *err)
{
    int rc = AF_OK;
    if (need > *cap) {
        free(*buf);
        *cap = 0;
        *buf = malloc(need);
        AF_CHECK_ALLOC(*buf);
        *cap = need;
    }
cleanup:
    return rc;
}

/* Close the held file unless it is keep: one file (and its multiplier) per group open at a time. */
static void release_held(gr_state *st, const gr_file *keep)
{
    if (!st->held || st->held == keep) return;
    af__gridded_detach(st->held);
    af__gridded_detach(st->held_m);
    st->held = st->held_m = NULL;
}

static int read_days(gr_state *st, gr_var *gv, int t0, int nt, gr_scratch *sc, const af_aggregate_out *av,
                     af_error *err)
{
    int rc = AF_OK;
    size_t wc = (size_t)st->win.ncols * (size_t)st->win.nrows;
    long e0 = af_calendar_epoch(st->ctx->cal, t0), e1 = af_calendar_epoch(st->ctx->cal, t0 + nt - 1);
    for (size_t f = 0; f < gv->nfiles; f++) {
        gr_file *gf = &gv->files[f];
        gr_file *mf = gv->mfiles ? &gv->mfiles[f] : NULL; /* same bands and days (checked at open) */
        int b0 = 0, b1 = gf->nbands - 1;
        while (b0 < gf->nbands && gf->epoch[b0] < e0) b0++;
        while (b1 >= 0 && gf->epoch[b1] > e1) b1--;
        if (b0 > b1) {
            /* not this block's: closed, so memory and descriptors follow the block, not the years */
            af__gridded_detach(gf);
            af__gridded_detach(mf);
            continue;
        }
        release_held(st, gf);
        AF_CHECK(af__gridded_attach(st, gf, gv->name, err));
        if (mf) AF_CHECK(af__gridded_attach(st, mf, gv->mname, err));
        int step = piece_days(gf, b1 - b0 + 1);
        size_t vsz = af__gridded_raw_size(gf), need = (size_t)step * wc * vsz;
        AF_CHECK(ensure_cap(&sc->raw, &sc->raw_cap, need, err));
        if (st->lut_for != gf) af__gridded_build_lut(gf, st->lut); /* the file's (scale, offset, fill) */
        st->lut_for = gf;
        if (mf) {
            AF_CHECK(ensure_cap(&sc->mraw, &sc->mraw_cap, (size_t)step * wc * af__gridded_raw_size(mf), err));
            if (!st->mlut) st->mlut = malloc(65536 * sizeof *st->mlut);
            if (!sc->mplane) sc->mplane = malloc(wc * sizeof *sc->mplane);
            AF_CHECK_ALLOC(st->mlut);
            AF_CHECK_ALLOC(sc->mplane);
            if (st->mlut_for != mf) af__gridded_build_lut(mf, st->mlut);
            st->mlut_for = mf;
        }
        for (int bs = b0; bs <= b1;) {
            int be = step == b1 - b0 + 1 ? b1 : (bs / step + 1) * step - 1; /* aligned to whole chunks */
            if (be > b1) be = b1;
            AF_CHECK(af__gridded_read_raw(st, gf, bs, be, sc->raw, err));
            if (mf) AF_CHECK(af__gridded_read_raw(st, mf, bs, be, sc->mraw, err));
            for (int b = bs; b <= be;) {
                int t = af_calendar_index_epoch(st->ctx->cal, gf->epoch[b]);
                if (t < t0 || t >= t0 + nt) { b++; continue; } /* a day the calendar drops (Dec 31 under noleap) */
                int e = b; /* bands b..e are the consecutive days t.. */
                while (e < be && af_calendar_index_epoch(st->ctx->cal, gf->epoch[e + 1]) == t + (e + 1 - b) &&
                       t + (e + 1 - b) < t0 + nt)
                    e++;
                const unsigned char *mr = mf ? (const unsigned char *)sc->mraw + (size_t)(b - bs) * wc * af__gridded_raw_size(mf)
                                             : NULL;
                use_run(st, gf, mf, sc, (const unsigned char *)sc->raw + (size_t)(b - bs) * wc * vsz, mr, t - t0,
                        e - b + 1, nt, av);
                b = e + 1;
            }
            bs = be + 1;
        }
        /* read: kept open for the next run of days or block, which mostly reads the same file (a
         * year's file spans several blocks; fill_days reads a block in runs), and closed when a
         * block needs another file (release_held) or none (above): one file (and its multiplier)
         * per group is open at a time, whatever the number of years. Reopening per block cost
         * ~2 ms a file on every rank (GDAL's multidimensional netCDF open): ~45 % of the gridded
         * fill of the bench_scale pipeline, and it did not divide over ranks. */
        st->held = gf;
        st->held_m = mf;
    }
cleanup:
    return rc;
}

static int applies(const gr_feat *gf, const af_sample *s) { return af__kind_applies(gf->f, s); }

static double convert_stat(const gr_feat *gf, double x)
{
    if (gf->stat == GR_STD) return x * fabs(gf->conv.scale);
    return af_units_apply(gf->conv, x);
}

/* What a day without data gives: as af_aggregate_apply on an all-NaN plane. */
static void init_outputs(const af_aggregate_out *av, size_t pn, double *site, size_t ns)
{
    for (size_t i = 0; i < pn; i++) {
        av->mean[i] = NAN;
        av->valid_fraction[i] = 0;
        if (av->min) av->min[i] = NAN;
        if (av->max) av->max[i] = NAN;
        if (av->std) av->std[i] = NAN;
    }
    for (size_t i = 0; i < ns; i++) site[i] = NAN;
}

/* Geometry, weights and the prepared aggregation, at the first block (plan opens sources and must write nothing). */
static int prepare(gr_state *st, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(af__gridded_prepare_geometry(st, err));
    if (st->npoly) {
        af_aggregate_opts opts = AF_AGGREGATE_OPTS_INIT;
        opts.min_valid_fraction = 0.0; /* the threshold is applied in fill, counting the outside part */
        AF_CHECK(af_aggregator_create(st->weights, NULL, st->npoly, &st->agg_win, &opts, &st->agg, err));
    }
    for (size_t i = 0; i < st->nlocal; i++) st->has_sites |= isfinite(st->site_x[i]);
    st->prepared = 1;
    af_log(AF_LOG_DEBUG, "gridded", "%zu files, %zu counties, read window %ldx%ld at (%ld,%ld)", st->npaths,
           st->npoly, st->win.ncols, st->win.nrows, st->win.col0, st->win.row0);
cleanup:
    return rc;
}

static int gridded_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    gr_state *st = vst;
    gr_scratch sc = { NULL, 0, NULL, NULL, NULL, 0, NULL };
    double *agg = NULL;
    size_t nf = st->nfeat;
    size_t n = st->nlocal * (size_t)nt * nf;
    for (size_t i = 0; i < n; i++) { val[i] = NAN; valid[i] = 0; qc[i] = NAN; }
    if (!st->prepared && st->nlocal) AF_CHECK(prepare(st, err));
    size_t wc = (size_t)st->win.ncols * (size_t)st->win.nrows;
    if (st->nlocal == 0 || wc == 0) goto cleanup;
    size_t pn = st->npoly * (size_t)nt, ns = st->nlocal * (size_t)nt;
    sc.plane = malloc(GR_DAYS * wc * sizeof *sc.plane);
    if (!st->lut) st->lut = malloc(65536 * sizeof *st->lut);
    sc.site = malloc(ns * sizeof *sc.site);
    agg = malloc((pn ? pn : 1) * 5 * sizeof *agg);
    AF_CHECK_ALLOC(sc.plane);
    AF_CHECK_ALLOC(st->lut);
    AF_CHECK_ALLOC(sc.site);
    AF_CHECK_ALLOC(agg);
    af_aggregate_out ao = { agg, agg + pn, agg + 2 * pn, agg + 3 * pn, agg + 4 * pn };
    for (size_t v = 0; v < st->nvars; v++) {
        af_aggregate_out av = { ao.mean, ao.valid_fraction, NULL, NULL, NULL }; /* only the statistics asked for */
        for (size_t k = 0; k < nf; k++) {
            if (st->feats[k].var != v) continue;
            if (st->feats[k].stat == GR_MIN || st->feats[k].stat == GR_MAX) { av.min = ao.min; av.max = ao.max; }
            if (st->feats[k].stat == GR_STD) av.std = ao.std;
        }
        init_outputs(&av, pn, sc.site, ns);
        AF_CHECK(read_days(st, &st->vars[v], t0, nt, &sc, &av, err));
        for (size_t k = 0; k < nf; k++) {
            const gr_feat *gf = &st->feats[k];
            if (gf->var != v) continue;
            const double *stat = gf->stat == GR_MIN ? ao.min : gf->stat == GR_MAX ? ao.max
                               : gf->stat == GR_STD ? ao.std : ao.mean;
            int flip = gf->conv.scale < 0 && (gf->stat == GR_MIN || gf->stat == GR_MAX);
            if (flip) stat = gf->stat == GR_MIN ? ao.max : ao.min;
            for (size_t i = 0; i < st->nlocal; i++) {
                const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
                if (!applies(gf, s)) continue;
                for (int t = 0; t < nt; t++) {
                    size_t o = ((size_t)i * (size_t)nt + (size_t)t) * nf + k;
                    double x = NAN, frac = NAN;
                    if (s->kind == AF_SAMPLE_COUNTY) {
                        size_t p = (size_t)st->sample_poly[i];
                        frac = ao.valid_fraction[p * (size_t)nt + (size_t)t] * st->inside[p];
                        if (frac >= st->min_valid) x = stat[p * (size_t)nt + (size_t)t];
                    } else {
                        x = sc.site[i * (size_t)nt + (size_t)t];
                        frac = isfinite(x) ? 1.0 : 0.0;
                    }
                    qc[o] = (float)frac;
                    if (isfinite(x)) {
                        val[o] = (float)convert_stat(gf, x);
                        valid[o] = 1;
                    }
                }
            }
        }
    }
cleanup:
    free(sc.raw);
    free(sc.plane);
    free(sc.site);
    free(sc.mraw);
    free(sc.mplane);
    free(agg);
    return rc;
}

/*
 * Day split over ranks (split_days / fill_days of source.h): a piece is what read_days reads in one
 * call, whole chunks in time of one file of the group's first variable; every day of a piece goes
 * to one part, the part with the least work so far (ties: the lowest), pieces taken in file order.
 * Work of a piece: its days (aggregation) plus the days of the chunks it decodes. Days no file
 * holds go to part 0 (nothing to read). Uses only what open read from the files: the same on
 * every rank.
 */
static int gridded_split_days(void *vst, int t0, int nt, int nparts, double *load, int *part, af_error *err)
{
    int rc = AF_OK;
    gr_state *st = vst;
    AF_CHECK_ARG(nparts >= 1 && nt >= 0);
    for (int t = 0; t < nt; t++) part[t] = 0;
    if (st->nvars == 0) goto cleanup;
    const gr_var *gv = &st->vars[0];
    long e0 = af_calendar_epoch(st->ctx->cal, t0), e1 = af_calendar_epoch(st->ctx->cal, t0 + nt - 1);
    for (size_t f = 0; f < gv->nfiles; f++) {
        const gr_file *gf = &gv->files[f];
        int b0 = 0, b1 = gf->nbands - 1;
        while (b0 < gf->nbands && gf->epoch[b0] < e0) b0++;
        while (b1 >= 0 && gf->epoch[b1] > e1) b1--;
        if (b0 > b1) continue;
        int nb = b1 - b0 + 1;
        int step = piece_days(gf, nb); /* as read_days */
        for (int bs = b0; bs <= b1;) {
            int be = step == nb ? b1 : (bs / step + 1) * step - 1;
            if (be > b1) be = b1;
            int q = 0;
            for (int p = 1; p < nparts; p++)
                if (load[p] < load[q]) q = p;
            int days = 0;
            for (int b = bs; b <= be; b++) {
                int t = af_calendar_index_epoch(st->ctx->cal, gf->epoch[b]);
                if (t < t0 || t >= t0 + nt) continue;
                part[t - t0] = q;
                days++;
            }
            int tc = gf->tchunk > 0 ? gf->tchunk : 1;
            load[q] += days + (double)((be / tc - bs / tc + 1) * tc);
            bs = be + 1;
        }
    }
cleanup:
    return rc;
}

static int gridded_fill_days(void *vst, int t0, int nt, const int *part, int mine, float *val, unsigned char *valid,
                             float *qc, af_error *err)
{
    int rc = AF_OK;
    gr_state *st = vst;
    float *tv = NULL, *tq = NULL;
    unsigned char *tk = NULL;
    size_t nf = st->nfeat, n = st->nlocal;
    int nmine = 0;
    for (int t = 0; t < nt; t++) nmine += part[t] == mine;
    for (int a = 0, j = 0; a < nt;) {
        if (part[a] != mine) { a++; continue; }
        int b = a; /* days a..b-1: a run of this part's days, filled as one block */
        while (b < nt && part[b] == mine) b++;
        size_t len = (size_t)(b - a), cells = n * len * nf;
        tv = malloc((cells ? cells : 1) * sizeof *tv);
        tq = malloc((cells ? cells : 1) * sizeof *tq);
        tk = malloc(cells ? cells : 1);
        AF_CHECK_ALLOC(tv);
        AF_CHECK_ALLOC(tq);
        AF_CHECK_ALLOC(tk);
        AF_CHECK(gridded_fill(st, t0 + a, b - a, tv, tk, tq, err));
        for (size_t i = 0; i < n; i++) {
            size_t src = i * len * nf, dst = (i * (size_t)nmine + (size_t)j) * nf;
            memcpy(val + dst, tv + src, len * nf * sizeof *val);
            memcpy(qc + dst, tq + src, len * nf * sizeof *qc);
            memcpy(valid + dst, tk + src, len * nf);
        }
        free(tv); tv = NULL;
        free(tq); tq = NULL;
        free(tk); tk = NULL;
        j += (int)len;
        a = b;
    }
cleanup:
    free(tv);
    free(tq);
    free(tk);
    return rc;
}

AF_SOURCE_FILES_FN(gridded_files, gr_state, paths, npaths)

const af_source_kind af__source_gridded = {
    .name = "gridded",
    .help = "gridded daily weather (gridMET, Daymet NetCDF, GDAL raster stacks) aggregated over counties",
    .keys = gridded_keys,
    .open = gridded_open,
    .open_scan = gridded_open_scan,
    .open_join = gridded_open_join,
    .fill = gridded_fill,
    .files = gridded_files,
    .close = gridded_close,
    .split_days = gridded_split_days,
    .fill_days = gridded_fill_days,
    .shares_open = 1,
};
