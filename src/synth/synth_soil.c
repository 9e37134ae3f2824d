/* SPDX-License-Identifier: MIT */
/*
 * synth_soil.c: implements synth_soil.h, synthetic soil property rasters
 * (several depth layers, one log10 property, a cropland fraction) and yearly
 * CDL class rasters in EPSG:5070 over the synth region, tile-wise constant with
 * documented values. Each file is written under a temporary name with GDAL and
 * renamed once closed. Not collective.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "synth_geo.h"
#include "synth_soil.h"

static const af_synth_soil_prop props[AF_SYNTH_SOIL_NPROP] = {
    { "bd", "g cm-3", 0 }, { "sand", "%", 0 }, { "silt", "%", 0 }, { "ph", "pH", 0 },
    { "cec", "cmol kg-1", 0 }, { "soc", "g kg-1", 0 }, { "om", "%", 1 },
};
static const double base[AF_SYNTH_SOIL_NPROP] = { 1.1, 10, 20, 5.0, 5, 5, 0.5 };
static const double step[AF_SYNTH_SOIL_NPROP] = { 0.05, 4, 3, 0.25, 2.5, 2, 0.4 };
static const char *const layers[AF_SYNTH_SOIL_NLAYER] = { "0-5", "5-15", "15-30" };

const af_synth_soil_prop *af_synth_soil_props(void) { return props; }
const char *af_synth_soil_layer(int layer) { return layers[layer]; }

double af_synth_soil_value(int p, int l, long ti, long tj)
{
    if ((ti + 2 * tj + l + p) % 13 == 0) return NAN;
    double v = base[p] + step[p] * (double)((7 * ti + 3 * tj + 5 * l + p) % 11);
    return props[p].log10 ? log10(v) : v;
}

double af_synth_cropland_value(long ti, long tj) { return (double)((3 * ti + 5 * tj) % 5) / 4.0; }

int af_synth_cdl_class(long ti, long tj, int year)
{
    static const int cls[9] = { 1, 5, 1, 24, 5, 111, 176, 1, 0 };
    return cls[(5 * ti + 3 * tj + year) % 9];
}

/* The synth region's EPSG:5070 envelope (boundary sampled) plus 2 cells, snapped to res. */
static int region_grid(double res, double gt[6], int *nx, int *ny, char **wkt, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL), d = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    if (!s || !d) AF_FAIL(AF_ENOMEM, "out of memory");
    if (OSRImportFromEPSG(s, 4269) != OGRERR_NONE || OSRImportFromEPSG(d, 5070) != OGRERR_NONE)
        AF_FAIL(AF_ECRS, "EPSG:4269/5070: %s", af_gdal_why());
    OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(d, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(s, d);
    if (!ct) AF_FAIL(AF_ECRS, "EPSG:4269 -> 5070: %s", af_gdal_why());
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int e = 0; e < 4; e++)
        for (int i = 0; i <= 100; i++) {
            double f = i / 100.0;
            double lon = e < 2 ? AF_SYNTH_LON_MIN + f * (AF_SYNTH_LON_MAX - AF_SYNTH_LON_MIN)
                               : (e == 2 ? AF_SYNTH_LON_MIN : AF_SYNTH_LON_MAX);
            double lat = e < 2 ? (e == 0 ? AF_SYNTH_LAT_MIN : AF_SYNTH_LAT_MAX)
                               : AF_SYNTH_LAT_MIN + f * (AF_SYNTH_LAT_MAX - AF_SYNTH_LAT_MIN);
            if (!OCTTransform(ct, 1, &lon, &lat, NULL)) AF_FAIL(AF_ECRS, "cannot transform the synth region");
            xmin = fmin(xmin, lon); xmax = fmax(xmax, lon);
            ymin = fmin(ymin, lat); ymax = fmax(ymax, lat);
        }
    double x0 = floor(xmin / res) * res - 2 * res, y1 = ceil(ymax / res) * res + 2 * res;
    *nx = (int)ceil((xmax - x0) / res) + 2;
    *ny = (int)ceil((y1 - ymin) / res) + 2;
    gt[0] = x0; gt[1] = res; gt[2] = 0; gt[3] = y1; gt[4] = 0; gt[5] = -res;
    if (OSRExportToWkt(d, wkt) != OGRERR_NONE) AF_FAIL(AF_ECRS, "cannot export EPSG:5070");
cleanup:
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (s) OSRDestroySpatialReference(s);
    if (d) OSRDestroySpatialReference(d);
    return rc;
}

typedef double (*tile_fn)(long ti, long tj, const void *arg);

/* One GeoTIFF of nx x ny cells, cell value fn(tile of the cell), written row by row. */
static int write_tif(const char *path, GDALDataType type, double nodata, const double gt[6], int nx, int ny,
                     const char *wkt, int tile, tile_fn fn, const void *arg, af_error *err)
{
    int rc = AF_OK;
    char tmp[4200];
    double *row = NULL;
    GDALDatasetH ds = NULL;
    snprintf(tmp, sizeof tmp, "%s.tmp.tif", path);
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv) AF_FAIL(AF_EGDAL, "GDAL has no GTiff driver");
    char *opts[] = { "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", NULL };
    ds = GDALCreate(drv, tmp, nx, ny, 1, type, opts);
    if (!ds) AF_FAIL(AF_EGDAL, "cannot create '%s': %s", tmp, af_gdal_why());
    GDALSetGeoTransform(ds, (double *)gt);
    GDALSetProjection(ds, wkt);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, nodata);
    row = malloc((size_t)nx * sizeof *row);
    AF_CHECK_ALLOC(row);
    for (int r = 0; r < ny; r++) {
        for (int c = 0; c < nx; c++) {
            double v = fn(c / tile, r / tile, arg);
            row[c] = isnan(v) ? nodata : v;
        }
        if (GDALRasterIO(b, GF_Write, 0, r, nx, 1, row, nx, 1, GDT_Float64, 0, 0) != CE_None)
            AF_FAIL(AF_EGDAL, "%s: writing row %d: %s", tmp, r, af_gdal_why());
    }
    CPLErrorReset();
    GDALClose(ds);
    ds = NULL;
    if (CPLGetLastErrorType() == CE_Failure) AF_FAIL(AF_EGDAL, "%s: close: %s", tmp, af_gdal_why());
    AF_CHECK(af_rename_durable(tmp, path, err));
cleanup:
    if (ds) GDALClose(ds);
    free(row);
    return rc;
}

typedef struct soil_arg { int p, l; } soil_arg;
static double soil_tile(long ti, long tj, const void *a)
{
    const soil_arg *s = a;
    return af_synth_soil_value(s->p, s->l, ti, tj);
}
static double crop_tile(long ti, long tj, const void *a) { (void)a; return af_synth_cropland_value(ti, tj); }
static double cdl_tile(long ti, long tj, const void *a) { return af_synth_cdl_class(ti, tj, *(const int *)a); }

int af_synth_soil_write(const char *dir, double res, int tile, af_error *err)
{
    int rc = AF_OK;
    char *wkt = NULL, sub[4096], path[4200];
    double gt[6];
    int nx, ny;
    AF_CHECK_ARG(dir && res > 0 && tile > 0);
    af_gdal_register();
    AF_CHECK(region_grid(res, gt, &nx, &ny, &wkt, err));
    snprintf(sub, sizeof sub, "%s/soil", dir);
    AF_CHECK(af_mkdirs(sub, err));
    for (int p = 0; p < AF_SYNTH_SOIL_NPROP; p++)
        for (int l = 0; l < AF_SYNTH_SOIL_NLAYER; l++) {
            soil_arg a = { p, l };
            snprintf(path, sizeof path, "%s/%s_%s.tif", sub, props[p].name, layers[l]);
            AF_CHECK(write_tif(path, GDT_Float32, AF_SYNTH_SOIL_NODATA, gt, nx, ny, wkt, tile, soil_tile, &a, err));
        }
    snprintf(path, sizeof path, "%s/cropland.tif", sub);
    AF_CHECK(write_tif(path, GDT_Float32, AF_SYNTH_SOIL_NODATA, gt, nx, ny, wkt, tile, crop_tile, NULL, err));
cleanup:
    CPLFree(wkt);
    return rc;
}

int af_synth_cdl_write(const char *dir, int year0, int year1, double res, int tile, af_error *err)
{
    int rc = AF_OK;
    char *wkt = NULL, sub[4096], path[4200];
    double gt[6];
    int nx, ny;
    AF_CHECK_ARG(dir && res > 0 && tile > 0 && year0 <= year1);
    af_gdal_register();
    AF_CHECK(region_grid(res, gt, &nx, &ny, &wkt, err));
    snprintf(sub, sizeof sub, "%s/cdl", dir);
    AF_CHECK(af_mkdirs(sub, err));
    for (int y = year0; y <= year1; y++) {
        snprintf(path, sizeof path, "%s/%d_30m_cdls.tif", sub, y);
        AF_CHECK(write_tif(path, GDT_Byte, 0, gt, nx, ny, wkt, tile, cdl_tile, &y, err));
    }
    static const char table[] = "code,name\n1,corn\n5,soybeans\n24,winter wheat\n111,open water\n176,grassland\n";
    snprintf(path, sizeof path, "%s/classes.csv", sub);
    AF_CHECK(af_write_atomic(path, table, sizeof table - 1, err));
cleanup:
    CPLFree(wkt);
    return rc;
}
