/* SPDX-License-Identifier: MIT */
/*
 * gridded_read.c: GDAL I/O of the gridded source. Opens one year of one
 * variable (NETCDF:"file":var for NetCDF formats, the file itself for raster
 * stacks), checks that its grid and CRS match the group's, maps each band to a
 * real date (CF time axis for gridMET, band index from Jan 1 for Daymet,
 * stack_start for stacks), reads a range of bands over the rank's window in
 * one call (a multidimensional hyperslab read in the stored type for NetCDF, or
 * a type at least as wide: see af__gridded_read_type; RasterIO as float32 for
 * other rasters), and unpacks one day plane at a time
 * (scale/offset, fill values to NaN; 8/16-bit values through a lookup table
 * built with the same per-value rule).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <netcdf.h>

#include "af_check.h"
#include "af_util.h"
#include "gridded_impl.h"
#include "raster_zonal.h"
#include "log.h"

/* "days since 1900-01-01 00:00:00" (also hours): base epoch and days per unit. */
static int parse_time_units(const char *path, const char *units, long *base, double *per_unit,
                            af_error *err)
{
    int rc = AF_OK;
    char word[32];
    int y, m, d, n = 0;
    if (sscanf(units, "%31s since %d-%d-%d%n", word, &y, &m, &d, &n) != 4 || n == 0)
        AF_FAIL(AF_EFORMAT, "%s: time units '%s': expected '<days|hours> since YYYY-MM-DD'", path, units);
    if (!strcmp(word, "days") || !strcmp(word, "day")) *per_unit = 1.0;
    else if (!strcmp(word, "hours") || !strcmp(word, "hour")) *per_unit = 1.0 / 24.0;
    else AF_FAIL(AF_EFORMAT, "%s: time units '%s': unsupported unit '%s'", path, units, word);
    af_date a = { y, m, d };
    if (!af_date_valid(a)) AF_FAIL(AF_EFORMAT, "%s: time units '%s': bad reference date", path, units);
    *base = af_date_to_epoch(a);
cleanup:
    return rc;
}

/* CF time axis of a NetCDF subdataset, as seen by GDAL's netCDF driver. */
static int read_time_axis(gr_file *gf, af_error *err)
{
    int rc = AF_OK;
    const char *extra = GDALGetMetadataItem(gf->ds, "NETCDF_DIM_EXTRA", NULL);
    char dim[128], key[300];
    if (!extra || sscanf(extra, "{%127[^,}]}", dim) != 1)
        AF_FAIL(AF_EFORMAT, "%s: no time dimension (NETCDF_DIM_EXTRA) on the variable", gf->path);
    snprintf(key, sizeof key, "%s#units", dim);
    const char *units = GDALGetMetadataItem(gf->ds, key, NULL);
    if (!units) AF_FAIL(AF_EFORMAT, "%s: time variable '%s' has no units", gf->path, dim);
    snprintf(key, sizeof key, "%s#calendar", dim);
    const char *cal = GDALGetMetadataItem(gf->ds, key, NULL);
    if (cal && strcmp(cal, "standard") && strcmp(cal, "gregorian") && strcmp(cal, "proleptic_gregorian"))
        AF_FAIL(AF_EFORMAT, "%s: time calendar '%s' is not standard (use format = daymet for 365-day files)",
                gf->path, cal);
    long base = 0;
    double per = 1.0;
    AF_CHECK(parse_time_units(gf->path, units, &base, &per, err));
    snprintf(key, sizeof key, "NETCDF_DIM_%s", dim);
    for (int b = 0; b < gf->nbands; b++) {
        const char *v = GDALGetMetadataItem(GDALGetRasterBand(gf->ds, b + 1), key, NULL);
        char *end;
        double t = v ? strtod(v, &end) : NAN;
        if (!v || end == v || !isfinite(t))
            AF_FAIL(AF_EFORMAT, "%s: band %d has no time value (%s)", gf->path, b + 1, key);
        gf->epoch[b] = base + (long)floor(t * per + 1e-6);
        if (b > 0 && gf->epoch[b] <= gf->epoch[b - 1])
            AF_FAIL(AF_EFORMAT, "%s: time axis not increasing at band %d", gf->path, b + 1);
    }
cleanup:
    return rc;
}

GDALDataType af__gridded_read_type(GDALDataType stored)
{
    switch (stored) {
    case GDT_Byte:
    case GDT_UInt16:
    case GDT_Int16: return stored; /* unpacked through a table (GDAL's per-value conversion is slow) */
    case GDT_Float32: return GDT_Float32;
    case GDT_UInt32:
    case GDT_Int32:
    case GDT_UInt64:
    case GDT_Int64:
    case GDT_Float64: return GDT_Float64;
    default: return GDALGetDataTypeSizeBytes(stored) == 1 && !GDALDataTypeIsComplex(stored) ? GDT_Float32 : GDT_Unknown;
    }
}

static int coord_ends(GDALMDArrayH v, size_t n, double *first, double *last)
{
    GDALExtendedDataTypeH f64 = GDALExtendedDataTypeCreate(GDT_Float64);
    GUInt64 s0 = 0, s1 = (GUInt64)(n - 1);
    size_t one = 1;
    int ok = f64 && GDALMDArrayRead(v, &s0, &one, NULL, NULL, f64, first, NULL, 0) &&
             GDALMDArrayRead(v, &s1, &one, NULL, NULL, f64, last, NULL, 0);
    if (f64) GDALExtendedDataTypeRelease(f64);
    return ok;
}

/*
 * The variable of a NetCDF file through GDAL's multidimensional API as well: a block of days
 * then is one hyperslab read, where the band API decodes each compressed chunk once per band
 * (bench/README.md: about 12x slower on gridMET-style chunking). The array must be
 * (time, y, x) with the band view's sizes; rows are flipped when the file's y axis ascends
 * (GDAL's band view shows such files north-up). Anything else keeps the band API.
 */
static void open_multidim(gr_file *gf, const char *var)
{
    GDALGroupH root = NULL;
    GDALDimensionH *dims = NULL;
    GDALMDArrayH yv = NULL;
    size_t nd = 0;
    int ok = 0;
    /* an OPeNDAP URL needs the driver prefix (a bare http:// is not identified as netCDF) */
    char name[sizeof gf->path + 16];
    snprintf(name, sizeof name, strncmp(gf->path, "http://", 7) && strncmp(gf->path, "https://", 8) ? "%s" : "NETCDF:\"%s\"",
             gf->path);
    gf->mds = GDALOpenEx(name, GDAL_OF_MULTIDIM_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    root = gf->mds ? GDALDatasetGetRootGroup(gf->mds) : NULL;
    gf->marr = root ? GDALGroupOpenMDArray(root, var, NULL) : NULL;
    dims = gf->marr ? GDALMDArrayGetDimensions(gf->marr, &nd) : NULL;
    if (!dims || nd != 3) goto done;
    size_t ny = (size_t)gf->ny, nx = (size_t)gf->nx;
    if (GDALDimensionGetSize(dims[0]) != (GUInt64)gf->nbands || GDALDimensionGetSize(dims[1]) != ny ||
        GDALDimensionGetSize(dims[2]) != nx)
        goto done;
    double y0 = 0, y1 = 0;
    yv = GDALDimensionGetIndexingVariable(dims[1]);
    if (ny > 1 && (!yv || !coord_ends(yv, ny, &y0, &y1))) goto done;
    gf->mflip = y1 > y0;
    GDALExtendedDataTypeH nat = GDALMDArrayGetDataType(gf->marr);
    GDALDataType dt = nat && GDALExtendedDataTypeGetClass(nat) == GEDTC_NUMERIC ? GDALExtendedDataTypeGetNumericDataType(nat)
                                                                             : GDT_Unknown;
    if (nat) GDALExtendedDataTypeRelease(nat);
    gf->rtype = af__gridded_read_type(dt);
    if (gf->rtype == GDT_Unknown) goto done;
    size_t nbs = 0;
    GUInt64 *bs = GDALMDArrayGetBlockSize(gf->marr, &nbs);
    gf->tchunk = bs && nbs == 3 ? (int)bs[0] : 0;
    CPLFree(bs);
    ok = 1;
    gf->mdim = 1;
done:
    if (yv) GDALMDArrayRelease(yv);
    if (dims) GDALReleaseDimensions(dims, nd);
    if (root) GDALGroupRelease(root);
    if (!ok) {
        if (gf->marr) GDALMDArrayRelease(gf->marr);
        if (gf->mds) GDALClose(gf->mds);
        gf->marr = NULL;
        gf->mds = NULL;
        gf->rtype = GDT_Float32;
        gf->tchunk = 0;
        gf->mdim = 0;
    }
    af_log(AF_LOG_DEBUG, "gridded", "%s: %s", gf->dsname,
           ok ? (gf->mflip ? "hyperslab reads, rows flipped" : "hyperslab reads") : "band reads");
}

void af__gridded_detach(gr_file *gf)
{
    if (!gf) return;
    if (gf->marr) GDALMDArrayRelease(gf->marr);
    gf->marr = NULL;
    if (gf->mds) GDALClose(gf->mds);
    gf->mds = NULL;
    if (gf->ds) GDALClose(gf->ds);
    gf->ds = NULL;
}

void af__gridded_close_file(gr_file *gf)
{
    if (!gf) return;
    af__gridded_detach(gf);
    free(gf->epoch);
    gf->epoch = NULL;
    free(gf->wkt);
    gf->wkt = NULL;
    free(gf->dmsg);
    gf->dmsg = NULL;
}

/*
 * netCDF/HDF5 chunk cache of every variable opened after this call (a process-wide default of
 * netCDF-C, which GDAL's netCDF driver uses in-process). Set explicitly so that the memory of an
 * open file is known: at most AF_GRIDDED_CHUNK_CACHE bytes per variable, and only the files of the
 * current block are open (af__gridded_attach / detach). Reads are hyperslabs of whole chunks in time,
 * which do not profit from a cache (a chunk larger than it is read straight into the buffer): on the
 * synth pipeline 2 MiB instead of 32 saved ~50 MiB per rank at the same read time. The band-API
 * fallback (files that are not (time, y, x)) decodes each chunk once per band whatever the cache.
 */
static void set_chunk_cache(void)
{
    nc_set_chunk_cache(AF_GRIDDED_CHUNK_CACHE, 1009, 0.75f);
}

int af__gridded_attach(const gr_state *st, gr_file *gf, const char *var, af_error *err)
{
    int rc = AF_OK;
    if (gf->ds || gf->marr) goto cleanup;
    af_gdal_register(); /* a rank may read files that another rank described */
    set_chunk_cache();
    if (gf->mdim) {
        /* hyperslab reads need only the multidimensional view (its sizes are checked again) */
        CPLPushErrorHandler(CPLQuietErrorHandler);
        CPLErrorReset();
        open_multidim(gf, var);
        CPLPopErrorHandler();
        if (!gf->marr)
            AF_FAIL(AF_EGDAL, "cannot reopen '%s' as a (time, y, x) array of %d x %ld x %ld: %s (the file changed?)",
                    gf->dsname, gf->nbands, gf->ny, gf->nx, af_gdal_why());
        goto cleanup;
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    gf->ds = GDALOpenEx(gf->dsname, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    CPLPopErrorHandler();
    if (!gf->ds) AF_FAIL(AF_EGDAL, "cannot reopen '%s': %s", gf->dsname, af_gdal_open_why(gf->path));
    if (GDALGetRasterCount(gf->ds) != gf->nbands)
        AF_FAIL(AF_EFORMAT, "%s: %d bands, %d when the run started (the file changed)", gf->dsname,
                GDALGetRasterCount(gf->ds), gf->nbands);
    gf->rtype = GDT_Float32;
    if (st->format != GR_STACK && var[0]) open_multidim(gf, var);
cleanup:
    return rc;
}

void af__gridded_dsname(const gr_state *st, gr_file *gf, const char *var)
{
    if (st->format != GR_STACK && var[0])
        snprintf(gf->dsname, sizeof gf->dsname, "NETCDF:\"%s\":%s", gf->path, var);
    else
        snprintf(gf->dsname, sizeof gf->dsname, "%s", gf->path);
}

int af__gridded_describe_file(const gr_state *st, gr_file *gf, const char *var, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH srs = NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    af_gdal_register();
    set_chunk_cache();
    af__gridded_dsname(st, gf, var);
    CPLErrorReset();
    gf->ds = GDALOpenEx(gf->dsname, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!gf->ds) {
        /* GDAL's message may be empty (a NetCDF file without that variable): say what we know */
        const char *why = CPLGetLastErrorMsg();
        if (!why || !why[0])
            why = af_path_is_virtual(gf->path) ? "GDAL gave no reason (NetCDF over http(s) must be an OPeNDAP "
                      "endpoint, e.g. THREDDS dodsC; a file on a plain web server: /vsicurl/URL or fetch it)"
                  : !af_file_readable(gf->path) ? "the file is not readable"
                  : var[0] ? "GDAL found no raster there (not a NetCDF/GDAL raster, or no such variable)"
                           : "GDAL found no raster in the file";
        AF_FAIL(AF_EGDAL, "cannot open '%s': %s", gf->dsname, why);
    }
    gf->nbands = GDALGetRasterCount(gf->ds);
    if (gf->nbands < 1)
        AF_FAIL(AF_EFORMAT, "%s: no raster bands%s", gf->dsname,
                var[0] ? "" : " (a NetCDF file with several variables needs the variable key)");
    if (GDALGetGeoTransform(gf->ds, gf->gt) != CE_None)
        AF_FAIL(AF_EGDAL, "%s: no geotransform: %s", gf->dsname, af_gdal_why());
    gf->nx = GDALGetRasterXSize(gf->ds);
    gf->ny = GDALGetRasterYSize(gf->ds);
    AF_CHECK(af__raster_crs(gf->ds, gf->path, st->crs_key, "EPSG:4326", &srs, err));
    char *wkt = NULL;
    if (OSRExportToWkt(srs, &wkt) != OGRERR_NONE) {
        if (wkt) CPLFree(wkt);
        AF_FAIL(AF_ECRS, "%s: cannot export the CRS: %s", gf->dsname, af_gdal_why());
    }
    free(gf->wkt);
    gf->wkt = af_strdup(wkt);
    CPLFree(wkt);
    AF_CHECK_ALLOC(gf->wkt);
    gf->geographic = OSRIsGeographic(srs) ? 1 : 0;
    OGRErr e1, e2;
    double a = OSRGetSemiMajor(srs, &e1), invf = OSRGetInvFlattening(srs, &e2);
    gf->has_ellps = e1 == OGRERR_NONE && a > 0;
    gf->semi_major = gf->has_ellps ? a : 0;
    gf->inv_flattening = gf->has_ellps && e2 == OGRERR_NONE ? invf : 0;
    /* Packing and fill values (the same on every band of a NetCDF variable; band 1 decides). */
    GDALRasterBandH b1 = GDALGetRasterBand(gf->ds, 1);
    int has;
    gf->scale = GDALGetRasterScale(b1, &has);
    if (!has) gf->scale = 1.0;
    gf->offset = GDALGetRasterOffset(b1, &has);
    if (!has) gf->offset = 0.0;
    gf->nodata = GDALGetRasterNoDataValue(b1, &gf->has_nodata);
    const char *ut = GDALGetRasterUnitType(b1);
    snprintf(gf->units, sizeof gf->units, "%s", ut ? ut : "");
    if (st->format != GR_STACK && var[0]) {
        char key[200];
        snprintf(key, sizeof key, "%s#units", var);
        const char *u = GDALGetMetadataItem(gf->ds, key, NULL);
        if (u && u[0]) snprintf(gf->units, sizeof gf->units, "%s", u);
        snprintf(key, sizeof key, "%s#missing_value", var);
        const char *mv = GDALGetMetadataItem(gf->ds, key, NULL);
        char *end;
        if (mv) {
            gf->missing = strtod(mv, &end);
            gf->has_missing = end != mv;
        }
    }
    /* Dates of the bands. */
    free(gf->epoch);
    gf->epoch = calloc((size_t)gf->nbands, sizeof *gf->epoch);
    AF_CHECK_ALLOC(gf->epoch);
    if (st->format == GR_GRIDMET) {
        AF_CHECK(read_time_axis(gf, err));
    } else if (st->format == GR_DAYMET) {
        if (!gf->year) AF_FAIL(AF_ECONFIG, "%s: format = daymet needs {year} in path", gf->path);
        if (gf->nbands != 365)
            af_log(AF_LOG_WARN, "gridded", "%s: %d bands, Daymet years have 365", gf->dsname, gf->nbands);
        af_date j1 = { gf->year, 1, 1 };
        for (int b = 0; b < gf->nbands; b++) gf->epoch[b] = af_date_to_epoch(j1) + b;
    } else {
        /* Stacks: band 1 is stack_start; with {year}, stack_start's month and day in the file's year. */
        long e0 = st->stack_start;
        if (gf->year) {
            af_date s0 = af_date_from_epoch(st->stack_start), d = { gf->year, s0.month, s0.day };
            if (!af_date_valid(d)) AF_FAIL(AF_ECONFIG, "%s: stack_start %02d-%02d does not exist in %d", gf->path, s0.month, s0.day, gf->year);
            e0 = af_date_to_epoch(d);
        }
        for (int b = 0; b < gf->nbands; b++) gf->epoch[b] = e0 + b;
    }
    gf->rtype = GDT_Float32; /* band reads */
    if (st->format != GR_STACK && var[0]) open_multidim(gf, var);
    af_log(AF_LOG_DEBUG, "gridded", "%s: %ldx%ld cells, %d bands, scale %g offset %g", gf->dsname, gf->nx, gf->ny,
           gf->nbands, gf->scale, gf->offset);
cleanup:
    af__gridded_detach(gf); /* described: reopened only for the blocks that read it */
    if (srs) OSRDestroySpatialReference(srs);
    CPLPopErrorHandler();
    return rc;
}

int af__gridded_adopt_file(gr_state *st, gr_file *gf, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH g0 = NULL, g1 = NULL;
    long nx = gf->nx, ny = gf->ny;
    if (!gf->wkt) AF_FAIL(AF_EINTERNAL, "%s: not described", gf->dsname);
    if (!st->grid_wkt) {
        af_grid g;
        AF_CHECK_AT(af_grid_from_geotransform(gf->gt, nx, ny, gf->geographic, &g, err), "%s", gf->dsname);
        if (gf->has_ellps) { g.semi_major = gf->semi_major; g.inv_flattening = gf->inv_flattening; }
        st->grid = g;
        memcpy(st->gt, gf->gt, sizeof st->gt);
        st->grid_wkt = CPLStrdup(gf->wkt);
    } else {
        int same = nx == st->grid.nx && ny == st->grid.ny;
        for (int i = 0; i < 6; i++) same = same && fabs(gf->gt[i] - st->gt[i]) <= 1e-9 * (fabs(st->gt[i]) + 1);
        if (!same) AF_FAIL(AF_EFORMAT, "%s: grid (%ldx%ld, geotransform) differs from the group's first file", gf->dsname, nx, ny);
        if (strcmp(gf->wkt, st->grid_wkt)) {
            g0 = OSRNewSpatialReference(st->grid_wkt);
            g1 = OSRNewSpatialReference(gf->wkt);
            /* A CRS read back from WKT has the authority axis mapping, a raster's the GIS order: compare the CRSs only. */
            const char *opt[] = { "IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", NULL };
            if (!g0 || !g1 || !OSRIsSameEx(g0, g1, opt))
                AF_FAIL(AF_ECRS, "%s: CRS differs from the group's first file", gf->dsname);
        }
    }
    free(gf->wkt);
    gf->wkt = NULL;
cleanup:
    if (g0) OSRDestroySpatialReference(g0);
    if (g1) OSRDestroySpatialReference(g1);
    return rc;
}


static int is_fill(double raw, int has, double fill)
{
    if (!has) return 0;
    if (raw == fill) return 1;
    return fabs(fill) > 1e30 && fabs(raw - fill) <= 1e-6 * fabs(fill); /* float-rounded huge fills */
}

/* One stored value: NaN for fill or missing values, else raw * scale + offset. */
static float unpack(const gr_file *gf, double raw)
{
    if (!isfinite(raw) || is_fill(raw, gf->has_nodata, gf->nodata) || is_fill(raw, gf->has_missing, gf->missing))
        return NAN;
    return (float)(raw * gf->scale + gf->offset);
}

size_t af__gridded_raw_size(const gr_file *gf)
{
    return (size_t)GDALGetDataTypeSizeBytes(gf->rtype);
}

void af__gridded_build_lut(const gr_file *gf, float *lut)
{
    if (gf->rtype == GDT_Byte)
        for (int i = 0; i < 256; i++) lut[i] = unpack(gf, i);
    else if (gf->rtype == GDT_UInt16)
        for (int i = 0; i < 65536; i++) lut[i] = unpack(gf, i);
    else if (gf->rtype == GDT_Int16)
        for (int i = 0; i < 65536; i++) lut[i] = unpack(gf, (short)(unsigned short)i); /* indexed by the bits */
}

void af__gridded_unpack_plane(const gr_state *st, const gr_file *gf, const void *raw, const float *lut, float *out)
{
    const af_window *w = &st->win;
    size_t nc = (size_t)w->ncols;
    const unsigned char *rb = raw; /* byte access: no aliasing assumption */
    int packed = gf->scale != 1.0 || gf->offset != 0.0;
    for (long r = 0; r < w->nrows; r++) {
        long sr = gf->mflip ? w->nrows - 1 - r : r; /* the file's rows run south to north */
        float *o = out + (size_t)r * nc;
        if (gf->rtype == GDT_Byte) {
            const unsigned char *src = rb + (size_t)sr * nc;
            for (size_t c = 0; c < nc; c++) o[c] = lut[src[c]];
        } else if (gf->rtype == GDT_UInt16 || gf->rtype == GDT_Int16) {
            const unsigned char *src = rb + 2 * (size_t)sr * nc;
            for (size_t c = 0; c < nc; c++) {
                unsigned short v;
                memcpy(&v, src + 2 * c, 2);
                o[c] = lut[v];
            }
        } else if (gf->rtype == GDT_Float64) {
            const unsigned char *src = rb + 8 * (size_t)sr * nc;
            for (size_t c = 0; c < nc; c++) {
                double v;
                memcpy(&v, src + 8 * c, 8);
                o[c] = unpack(gf, v);
            }
        } else {
            const unsigned char *src = rb + 4 * (size_t)sr * nc;
            for (size_t c = 0; c < nc; c++) {
                float f;
                memcpy(&f, src + 4 * c, 4);
                double v = f;
                if (!isfinite(v) || is_fill(v, gf->has_nodata, gf->nodata) || is_fill(v, gf->has_missing, gf->missing))
                    o[c] = NAN;
                else
                    o[c] = packed ? (float)(v * gf->scale + gf->offset) : f;
            }
        }
    }
}

/* Days b0..b0+nb-1 of window w in one multidimensional read, in the stored type, rows as in the file. */
static int read_hyperslab(const gr_file *gf, const af_window *w, int b0, int nb, void *buf, af_error *err)
{
    int rc = AF_OK;
    GDALExtendedDataTypeH dt = GDALExtendedDataTypeCreate(gf->rtype);
    AF_CHECK_ALLOC(dt);
    long ny = gf->ny;
    long r0 = gf->mflip ? ny - (w->row0 + w->nrows) : w->row0;
    GUInt64 start[3] = { (GUInt64)b0, (GUInt64)r0, (GUInt64)w->col0 };
    size_t count[3] = { (size_t)nb, (size_t)w->nrows, (size_t)w->ncols };
    if (!GDALMDArrayRead(gf->marr, start, count, NULL, NULL, dt, buf, NULL, 0))
        AF_FAIL(AF_EGDAL, "%s: reading days %d..%d (rows %ld..%ld, columns %ld..%ld): %s", gf->dsname, b0 + 1, b0 + nb,
                r0, r0 + w->nrows - 1, w->col0, w->col0 + w->ncols - 1, af_gdal_why());
cleanup:
    if (dt) GDALExtendedDataTypeRelease(dt);
    return rc;
}

int af__gridded_read_raw(const gr_state *st, const gr_file *gf, int b0, int b1, void *buf, af_error *err)
{
    int rc = AF_OK;
    int nb = b1 - b0 + 1;
    int *map = NULL;
    const af_window *w = &st->win;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    if (gf->marr) {
        AF_CHECK(read_hyperslab(gf, w, b0, nb, buf, err));
        goto cleanup;
    }
    map = malloc((size_t)nb * sizeof *map);
    AF_CHECK_ALLOC(map);
    for (int i = 0; i < nb; i++) map[i] = b0 + 1 + i;
    if (GDALDatasetRasterIO(gf->ds, GF_Read, (int)w->col0, (int)w->row0, (int)w->ncols, (int)w->nrows, buf,
                            (int)w->ncols, (int)w->nrows, GDT_Float32, nb, map, 0, 0, 0) != CE_None)
        AF_FAIL(AF_EGDAL, "%s: reading bands %d..%d: %s", gf->dsname, b0 + 1, b1 + 1, af_gdal_why());
cleanup:
    free(map);
    CPLPopErrorHandler();
    return rc;
}
