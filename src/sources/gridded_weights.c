/* SPDX-License-Identifier: MIT */
/*
 * gridded_weights.c: geometry of the gridded source. Counties and sites come
 * into the raster CRS through raster_geom.c; exact-coverage weights are built
 * once and cached on disk under af_weights_key (written atomically, reused on
 * rerun). The rank's read window is the union of its counties' windows and its
 * sites' neighbourhoods. With cropland_weights, the weights live on the
 * sub-grid of that window and the mask is averaged onto it (gdalwarp -r
 * average), so nothing is CONUS-sized; with cropland_classes the mask raster
 * holds classes (CDL) and a VRT lookup table turns them into 0/1 first.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "gridded_impl.h"
#include "log.h"
#include "raster_zonal.h"

/* Weights from the cache when present, else built and cached. */
static int load_or_build(gr_state *st, const af_grid *g, const af_polygon *polys, size_t npoly,
                         const double *cw, af_error *err)
{
    int rc = AF_OK;
    char hex[65], path[4400];
    char *buf = NULL;
    unsigned char *ser = NULL;
    size_t len = 0;
    AF_CHECK(af_weights_key(g, polys, npoly, cw, hex, err));
    snprintf(path, sizeof path, "%s/%s", st->cache_dir, hex); /* file name = the key */
    if (af_file_readable(path)) {
        af_error e2 = AF_ERROR_INIT;
        if (af_read_file(path, &buf, &len, &e2) == AF_OK &&
            af_weights_deserialize((const unsigned char *)buf, len, &st->weights, &e2) == AF_OK &&
            af_weights_npoly(st->weights) == npoly) {
            af_log(AF_LOG_INFO, "gridded", "reusing cached weights %s (%zu counties)", path, npoly);
            goto cleanup;
        }
        af_weights_destroy(&st->weights);
        af_log(AF_LOG_WARN, "gridded", "cached weights %s unusable (%s); rebuilding", path, e2.msg);
    }
    AF_CHECK(af_weights_build(g, polys, npoly, cw, &st->weights, err));
    AF_CHECK(af_weights_serialize(st->weights, &ser, &len, err));
    AF_CHECK(af_mkdirs(st->cache_dir, err));
    /* Every rank of a split group builds the same weights: each writes under its own temporary
     * name, then renames over the key (same bytes, so whichever rename lands last is the same file). */
    char tmp[4500];
    snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
    AF_CHECK(af_write_atomic(tmp, ser, len, err));
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        AF_FAIL(AF_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
    }
    af_log(AF_LOG_INFO, "gridded", "built weights for %zu counties, cached in %s", npoly, path);
cleanup:
    free(buf);
    free(ser);
    return rc;
}

/* Cropland raster averaged onto the cells of sub-grid s (storage order); NaN (no data) -> 0. */
static int cropland_cells(const gr_state *st, const af_grid *s, double **out, af_error *err)
{
    int rc = AF_OK;
    GDALDatasetH src = NULL;
    double *cw = NULL;
    CPLErrorReset();
    af_gdal_register();
    src = GDALOpenEx(st->cropland, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!src) AF_FAIL(AF_EGDAL, "cannot open cropland_weights '%s': %s", st->cropland, af_gdal_open_why(st->cropland));
    if (st->ncrop_classes) { /* class raster: 1 where the class is listed, then averaged = crop fraction */
        GDALDatasetH vrt = NULL;
        rc = af__rz_class_mask_vrt(src, st->cropland, st->crop_classes, st->ncrop_classes, &vrt, err);
        GDALClose(src);
        src = vrt;
        AF_CHECK(rc);
    }
    size_t n = (size_t)s->nx * (size_t)s->ny;
    cw = malloc(n * sizeof *cw);
    AF_CHECK_ALLOC(cw);
    AF_CHECK(af__rz_warp_average(src, st->cropland, s, st->grid_wkt, GDT_Float64, cw, err));
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(cw[i])) cw[i] = 0;
        else if (cw[i] < 0) AF_FAIL(AF_EFORMAT, "%s: negative cropland weight %g", st->cropland, cw[i]);
    }
    *out = cw;
    cw = NULL;
cleanup:
    if (src) GDALClose(src);
    free(cw);
    return rc;
}

int af__gridded_check_crs(const gr_state *st, af_error *err)
{
    int rc = af__rz_check_crs(st->ctx, st->grid_wkt, err);
    if (rc != AF_OK && st->npaths) af_error_prefix(err, "%s", st->paths[0]); /* the file whose CRS it is */
    return rc;
}

/* Move the geometry's per-sample arrays into st (gridded.c owns and frees them). */
static void take_samples(gr_state *st, rz_geom *g)
{
    st->sample_poly = g->sample_poly;
    st->site_x = g->site_x;
    st->site_y = g->site_y;
    g->sample_poly = NULL;
    g->site_x = g->site_y = NULL;
}

static void add_site_windows(gr_state *st)
{
    for (size_t i = 0; i < st->nlocal; i++) {
        if (!isfinite(st->site_x[i])) continue;
        af_window sw = af__rz_site_window(&st->grid, st->site_x[i], st->site_y[i]);
        af__rz_window_union(&st->win, &sw);
    }
}

/* Weights over the counties; with cropland weights on the sub-grid of the rank's window. */
/* A coverage error names "polygon I": say which county that is (FIPS) and what it was laid on. */
static void name_county(const gr_state *st, const rz_geom *g, af_error *err)
{
    size_t i;
    int n = 0;
    if (sscanf(err->msg, "polygon %zu: %n", &i, &n) != 1 || n == 0 || i >= g->npoly) return;
    char msg[AF_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg + n);
    af_error_set(err, err->code, __FILE__, __LINE__, __func__, "county %s (counties layer %s) on the grid of %s: %s",
                 af_sampleset_county_fips_ref(st->ctx->set, g->poly_unit[i]), st->ctx->cfg->county_layer,
                 st->nvars && st->vars[0].nfiles ? st->vars[0].files[0].path : "the gridded source", msg);
}

static int build_weights(gr_state *st, const rz_geom *g, af_error *err)
{
    int rc = AF_OK;
    double *cw = NULL;
    if (!st->cropland[0]) {
        AF_CHECK(load_or_build(st, &st->grid, g->polys, g->npoly, NULL, err));
        AF_CHECK(af_weights_union_window(st->weights, NULL, 0, &st->win, err));
        add_site_windows(st);
        st->agg_win = st->win;
        goto cleanup;
    }
    /* The cropland array is window-sized (counties' envelopes and sites), never the whole grid. */
    for (size_t q = 0; q < g->npoly; q++) {
        af_window ew = af__rz_envelope_window(&st->grid, &g->polys[q]);
        af__rz_window_union(&st->win, &ew);
    }
    add_site_windows(st);
    if (st->win.ncols > 0 && st->win.nrows > 0) {
        af_grid sg = af__rz_sub_grid(&st->grid, &st->win);
        AF_CHECK(cropland_cells(st, &sg, &cw, err));
        AF_CHECK(load_or_build(st, &sg, g->polys, g->npoly, cw, err));
    } else {
        AF_CHECK(load_or_build(st, &st->grid, g->polys, g->npoly, NULL, err)); /* all outside: nothing to read */
    }
    st->agg_win.ncols = st->win.ncols;
    st->agg_win.nrows = st->win.nrows;
cleanup:
    free(cw);
    return rc;
}

int af__gridded_prepare_geometry(gr_state *st, af_error *err)
{
    int rc = AF_OK;
    rz_geom g;
    memset(&g, 0, sizeof g);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    AF_CHECK_AT(af__rz_geom_build(st->ctx, st->grid_wkt, &g, err), "%s", st->npaths ? st->paths[0] : "gridded");
    take_samples(st, &g);
    st->npoly = g.npoly;
    memset(&st->win, 0, sizeof st->win);
    if (!g.npoly) {
        add_site_windows(st);
        st->agg_win = st->win;
        goto cleanup;
    }
    st->inside = calloc(g.npoly, sizeof *st->inside);
    AF_CHECK_ALLOC(st->inside);
    if (build_weights(st, &g, err) != AF_OK) {
        name_county(st, &g, err);
        rc = err->code;
        goto cleanup;
    }
    size_t nout = 0;
    for (size_t p = 0; p < g.npoly; p++) {
        double at = af_weights_area_total(st->weights, p), ai = af_weights_area_inside(st->weights, p);
        st->inside[p] = at > 0 ? ai / at : 0;
        if (st->inside[p] <= 0)
            af_log(AF_LOG_WARN, "gridded", "county %s lies entirely outside the raster of %s: its values are missing",
                   af_sampleset_county_fips_ref(st->ctx->set, g.poly_unit[p]),
                   st->nvars && st->vars[0].nfiles ? st->vars[0].files[0].path : "the gridded source");
        if (st->inside[p] < 1 - 1e-9) {
            nout++;
            af_log(AF_LOG_DEBUG, "gridded", "county %s: %.1f%% of its area inside the raster",
                   af_sampleset_county_fips_ref(st->ctx->set, g.poly_unit[p]), 100 * st->inside[p]);
        }
    }
    if (nout)
        af_log(AF_LOG_INFO, "gridded", "%zu of %zu counties lie partly outside the raster; valid fraction counts the outside as missing",
               nout, g.npoly);
cleanup:
    af__rz_geom_dispose(&g);
    CPLPopErrorHandler();
    return rc;
}
