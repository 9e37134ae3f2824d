/* SPDX-License-Identifier: MIT */
/*
 * test_gridded.c: source = gridded end to end on a synthetic gridMET file
 * written here with netCDF-C (uint16 packed, scale/offset, _FillValue holes,
 * lat north to south, 366 days of 2024, no grid_mapping) holding the linear
 * field f = 250 + 10(lon+90) + 5(lat-39) + 0.1 day (K). Runs af_pipeline_run on
 * MPI_COMM_WORLD (1 or more ranks) and compares the shard with sums computed
 * here independently: grid-aligned counties (spherical row weights), a triangle
 * (200x200 supersampling per cell), a county mostly outside, bilinear at a site.
 * Also a deflated float64 file whose chunk exceeds the netCDF chunk cache (and an
 * all-_FillValue variable in it), and the hyperslab read type rule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>
#include <mpi.h>
#include <ogr_srs_api.h>
#include <netcdf.h>

#include "af_test.h"
#include "agroflux/pipeline.h"
#include "gridded_impl.h" /* af__gridded_read_type */
#include "gridded_util.h"

#define NX 20
#define NY 20
#define ND 366
#define X0 (-90.0)
#define YTOP 41.0
#define DX 0.1

static char dir[256];
static int rank;

static double lon_c(int c) { return X0 + DX * (c + 0.5); }
static double lat_c(int r) { return YTOP - DX * (r + 0.5); }
static double field(double lon, double lat, int d) { return 250 + 10 * (lon + 90) + 5 * (lat - 39) + 0.1 * d; }

/* Holes: cell (5,3) always; column 4 on day 10; county A's cells (rows 4..7, cols 2..5) on day 20. */
static int hole(int r, int c, int d)
{
    return (r == 5 && c == 3) || (c == 4 && d == 10) || (d == 20 && r >= 4 && r <= 7 && c >= 2 && c <= 5);
}

static int write_nc(const char *path)
{
    int nc, dd, dl, dn, vd, vl, vn, vv;
    NCK(nc_create(path, NC_CLOBBER | NC_NETCDF4, &nc));
    NCK(nc_def_dim(nc, "day", ND, &dd));
    NCK(nc_def_dim(nc, "lat", NY, &dl));
    NCK(nc_def_dim(nc, "lon", NX, &dn));
    NCK(nc_def_var(nc, "day", NC_DOUBLE, 1, &dd, &vd));
    NCK(nc_put_att_text(nc, vd, "units", 30, "days since 1900-01-01 00:00:00"));
    NCK(nc_put_att_text(nc, vd, "calendar", 8, "standard"));
    NCK(nc_def_var(nc, "lat", NC_DOUBLE, 1, &dl, &vl));
    NCK(nc_put_att_text(nc, vl, "units", 13, "degrees_north"));
    NCK(nc_def_var(nc, "lon", NC_DOUBLE, 1, &dn, &vn));
    NCK(nc_put_att_text(nc, vn, "units", 12, "degrees_east"));
    int dims[3] = { dd, dl, dn };
    NCK(nc_def_var(nc, "air_temperature", NC_USHORT, 3, dims, &vv));
    unsigned short fill = 65535;
    double scale = 0.01, offset = 250.0;
    NCK(nc_put_att(nc, vv, "_FillValue", NC_USHORT, 1, &fill));
    NCK(nc_put_att_double(nc, vv, "scale_factor", NC_DOUBLE, 1, &scale));
    NCK(nc_put_att_double(nc, vv, "add_offset", NC_DOUBLE, 1, &offset));
    NCK(nc_put_att_text(nc, vv, "units", 1, "K"));
    NCK(nc_enddef(nc));
    double t[ND], la[NY], lo[NX];
    for (int d = 0; d < ND; d++) t[d] = 45290.0 + d; /* 2024-01-01 is day 45290 since 1900-01-01 */
    for (int r = 0; r < NY; r++) la[r] = lat_c(r);
    for (int c = 0; c < NX; c++) lo[c] = lon_c(c);
    NCK(nc_put_var_double(nc, vd, t));
    NCK(nc_put_var_double(nc, vl, la));
    NCK(nc_put_var_double(nc, vn, lo));
    static unsigned short v[ND][NY][NX];
    for (int d = 0; d < ND; d++)
        for (int r = 0; r < NY; r++)
            for (int c = 0; c < NX; c++)
                v[d][r][c] = hole(r, c, d) ? fill : (unsigned short)lround((field(lon_c(c), lat_c(r), d) - 250) / 0.01);
    NCK(nc_put_var_ushort(nc, vv, &v[0][0][0]));
    NCK(nc_close(nc));
    return 0;
}

#define RECT(id, x0, y0, x1, y1)                                                                  \
    "{\"type\":\"Feature\",\"id\":\"" id "\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\"," \
    "\"coordinates\":[[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]]}}"

static const char *geojson =
    "{\"type\":\"FeatureCollection\",\"features\":["
    RECT("19001", -89.8, 40.2, -89.4, 40.6) ","   /* A: cells rows 4..7, cols 2..5 */
    RECT("19002", -88.3, 39.5, -87.5, 39.9) ","   /* B: 37.5% inside the grid */
    RECT("19003", -88.2, 40.0, -87.9, 40.3) ","   /* C: 2/3 inside, cells rows 7..9, cols 18..19 */
    "{\"type\":\"Feature\",\"id\":\"19004\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[-89.73,39.27],[-89.21,39.33],[-89.48,39.81],[-89.73,39.27]]]}}"
    "]}";

#define SITE_LAT 40.333
#define SITE_LON (-89.1234)

/* Cropland mask, 0.05 degree (2x2 pixels per weather cell) over lon -90..-89, lat 40..41 (weather rows and
 * cols 0..9): even weather columns have 1 of 4 pixels cropped (fraction 0.25), odd columns all 4. */
static double crop_frac(int r, int c) { return (r > 9 || c > 9) ? 0 : (c % 2 ? 1.0 : 0.25); }

static int write_crop(const char *path)
{
    if (GDALGetDriverCount() == 0) GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds = drv ? GDALCreate(drv, path, 20, 20, 1, GDT_Byte, NULL) : NULL;
    if (!ds) return 1;
    double gt[6] = { -90.0, 0.05, 0, 41.0, 0, -0.05 };
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 4326);
    GDALSetSpatialRef(ds, s);
    OSRDestroySpatialReference(s);
    unsigned char m[400];
    for (int i = 0; i < 20; i++)
        for (int j = 0; j < 20; j++) m[i * 20 + j] = ((j / 2) % 2) ? 1 : (i % 2 == 0 && j % 2 == 0);
    int bad = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, 20, 20, m, 20, 20, GDT_Byte, 0, 0) != CE_None;
    GDALClose(ds);
    return bad;
}

static int write_ini(const char *name, const char *calendar, int with_crs)
{
    char text[4096];
    snprintf(text, sizeof text,
             "[pipeline]\nname = gt\nstart = 2024-01-01\nend = 2024-12-31\ncalendar = %s\noutput = out\n"
             "block_days = 50\n\n[counties]\nlayer = counties.geojson\nscenarios = base, s2\n\n"
             "[sites]\nlist = sites.csv\n\n"
             "[input.TMAX_AIR]\nsource = gridded\npath = tmmx_{year}.nc\nvariable = air_temperature\n"
             "source_units = K\nunits = degC\n%s\n"
             "[input.TMAX_MAX]\nsource = gridded\npath = tmmx_{year}.nc\nvariable = air_temperature\n"
             "source_units = K\nunits = degC\nstatistic = max\n%s\n"
             "[target.TMAX_T]\nsource = gridded\npath = tmmx_{year}.nc\nvariable = air_temperature\n"
             "source_units = K\nunits = degC\n%s\n",
             calendar, with_crs ? "crs = EPSG:4326" : "", with_crs ? "crs = EPSG:4326" : "",
             with_crs ? "crs = EPSG:4326" : "");
    if (with_crs == 2) { /* cropland weights on every feature of the group */
        char *q = text;
        char out[4600] = "";
        for (char *sec; (sec = strstr(q, "crs = EPSG:4326\n")) != NULL; q = sec + 16) {
            strncat(out, q, (size_t)(sec - q) + 16);
            strcat(out, "cropland_weights = crop.tif\n");
        }
        strcat(out, q);
        return gt_write_text(dir, name, out);
    }
    return gt_write_text(dir, name, text);
}

/* The shard (one: 9 samples), read back with netCDF-C. */

/* Spherical row weight; the ellipsoid changes relative row weights only at second order. */
static double roww(int r) { double d2r = M_PI / 180; return sin((YTOP - DX * r) * d2r) - sin((YTOP - DX * (r + 1)) * d2r); }

/* Weighted mean (and max) over cells rows r0..r1, cols c0..c1 of day d, skipping holes; NaN if none. */
static double rect_mean(int r0, int r1, int c0, int c1, int d, double *mx)
{
    double sw = 0, swx = 0;
    *mx = -INFINITY;
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) {
            if (hole(r, c, d)) continue;
            double f = field(lon_c(c), lat_c(r), d);
            sw += roww(r);
            swx += roww(r) * f;
            if (f > *mx) *mx = f;
        }
    return sw > 0 ? swx / sw : NAN;
}

static int in_tri(double x, double y)
{
    static const double v[3][2] = { { -89.73, 39.27 }, { -89.21, 39.33 }, { -89.48, 39.81 } };
    int pos = 0, neg = 0;
    for (int i = 0; i < 3; i++) {
        const double *a = v[i], *b = v[(i + 1) % 3];
        double cr = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
        pos |= cr > 0;
        neg |= cr < 0;
    }
    return !(pos && neg);
}

/* Triangle county: coverage of each cell by 200x200 supersampling (computed once). */
static double tri_frac[NY][NX];

static void tri_fracs(void)
{
    for (int r = 10; r < 18; r++)
        for (int c = 1; c < 9; c++) {
            int in = 0;
            for (int i = 0; i < 200; i++)
                for (int j = 0; j < 200; j++)
                    in += in_tri(X0 + DX * (c + (i + 0.5) / 200), YTOP - DX * (r + (j + 0.5) / 200));
            tri_frac[r][c] = in / 40000.0;
        }
}

static double tri_mean(int d)
{
    double sw = 0, swx = 0;
    for (int r = 0; r < NY; r++)
        for (int c = 0; c < NX; c++) {
            if (tri_frac[r][c] == 0 || hole(r, c, d)) continue;
            double w = tri_frac[r][c] * roww(r);
            sw += w;
            swx += w * field(lon_c(c), lat_c(r), d);
        }
    return swx / sw;
}

static gt_shard s1, s2;
static double tri[ND];

static void check_common(const gt_shard *s, int noleap)
{
    const double K = 273.15;
    int a = gt_find_sample(s, "19001:base"), a2 = gt_find_sample(s, "19001:s2"), b = gt_find_sample(s, "19002:base");
    int c = gt_find_sample(s, "19003:base"), tr = gt_find_sample(s, "19004:base"), st = gt_find_sample(s, "S1");
    AF_EXPECT(s->ns == 9 && a >= 0 && a2 >= 0 && b >= 0 && c >= 0 && tr >= 0 && st >= 0);
    if (a < 0 || a2 < 0 || b < 0 || c < 0 || tr < 0 || st < 0) return;
    AF_EXPECT(s->nt == (noleap ? 365 : 366));
    for (int t = 0; t < s->nt; t++) {
        int d = (int)(s->time[t] - 19723); /* days since 2024-01-01 */
        AF_EXPECT(d == t);
        double mx, m = rect_mean(4, 7, 2, 5, d, &mx);
        if (d == 20) {
            AF_EXPECT(isnan(GT_X(s, a, t, 0)) && isnan(GT_Y(s, a, t)));
            AF_EXPECT_NEAR(GT_QC(s, a, t), 0.0, 1e-6);
            AF_EXPECT_NEAR(GT_XQC(s, a, t, 0), 0.0, 1e-6); /* inputs carry the same valid fraction */
        } else {
            AF_EXPECT_NEAR(GT_X(s, a, t, 0), m - K, 2e-4);
            AF_EXPECT_NEAR(GT_X(s, a, t, 1), mx - K, 2e-4);
            AF_EXPECT_NEAR(GT_Y(s, a, t), m - K, 2e-4);
            AF_EXPECT(GT_X(s, a2, t, 0) == GT_X(s, a, t, 0));
        }
        AF_EXPECT(isnan(GT_X(s, b, t, 0)) && isnan(GT_Y(s, b, t)));       /* 37.5% inside < 0.5 */
        AF_EXPECT_NEAR(GT_QC(s, b, t), 0.375, 1e-6);
        AF_EXPECT_NEAR(GT_XQC(s, b, t, 0), 0.375, 1e-6);
        AF_EXPECT_NEAR(GT_XQC(s, b, t, 1), 0.375, 1e-6);
        AF_EXPECT_NEAR(GT_X(s, c, t, 0), rect_mean(7, 9, 18, 19, d, &mx) - K, 2e-4);
        AF_EXPECT_NEAR(GT_QC(s, c, t), 2.0 / 3.0, 1e-6);
        AF_EXPECT_NEAR(GT_XQC(s, c, t, 0), 2.0 / 3.0, 1e-6);
        AF_EXPECT_NEAR(GT_XQC(s, st, t, 0), 1.0, 0); /* a site whose cell is valid */
        AF_EXPECT_NEAR(GT_X(s, tr, t, 0), tri[d] - K, 5e-3);
        AF_EXPECT_NEAR(GT_X(s, st, t, 0), field(SITE_LON, SITE_LAT, d) - K, 2e-4);
    }
}

static void test_gridded__standard(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "standard.ini", "out1", &e);
    if (rc != AF_OK) fprintf(stderr, "run: %s\n", e.msg);
    AF_EXPECT(rc == AF_OK);
    if (rc != AF_OK || rank) return;
    AF_EXPECT(gt_read_shard(dir, "out1", &s1) == 0);
    check_common(&s1, 0);
    /* Day 10: county A lost a column and cell (5,3): 11 of 16 cells, renormalised over them. */
    int a = gt_find_sample(&s1, "19001:base");
    AF_EXPECT(a >= 0 && GT_QC(&s1, a, 10) > 0.65 && GT_QC(&s1, a, 10) < 0.72); /* 11 of 16 cells */
    AF_EXPECT(a >= 0 && GT_QC(&s1, a, 11) > 0.9 && GT_QC(&s1, a, 11) < 1.0); /* cell (5,3) always missing */
    AF_EXPECT(a >= 0 && GT_XQC(&s1, a, 10, 0) == GT_QC(&s1, a, 10)); /* same variable, same fraction */
}

static void test_gridded__noleap_uses_cache(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "noleap.ini", "out2", &e);
    if (rc != AF_OK) fprintf(stderr, "run: %s\n", e.msg);
    AF_EXPECT(rc == AF_OK);
    if (rc != AF_OK || rank) return;
    AF_EXPECT(gt_read_shard(dir, "out2", &s2) == 0);
    check_common(&s2, 1); /* 365 days, the last one Dec 30 */
    AF_EXPECT_NEAR(s2.time[364], 19723 + 364, 0);
    char p[512];
    snprintf(p, sizeof p, "%s/.agroflux-cache", dir);
    AF_EXPECT(access(p, F_OK) == 0);
}

/* Weighted by the cropland fraction of each cell, averaged from the finer mask by the source. */
static double crop_mean(int r0, int r1, int c0, int c1, int d)
{
    double sw = 0, swx = 0;
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) {
            if (hole(r, c, d)) continue;
            sw += roww(r) * crop_frac(r, c);
            swx += roww(r) * crop_frac(r, c) * field(lon_c(c), lat_c(r), d);
        }
    return sw > 0 ? swx / sw : NAN;
}

static void test_gridded__cropland_weights(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "crop.ini", "out4", &e);
    if (rc != AF_OK) fprintf(stderr, "run: %s\n", e.msg);
    AF_EXPECT(rc == AF_OK);
    if (rc != AF_OK || rank) return;
    static gt_shard s;
    AF_EXPECT(gt_read_shard(dir, "out4", &s) == 0);
    int a = gt_find_sample(&s, "19001:base"), c = gt_find_sample(&s, "19003:base"), st = gt_find_sample(&s, "S1");
    AF_EXPECT(a >= 0 && c >= 0 && st >= 0);
    if (a < 0 || c < 0 || st < 0) return;
    for (int t = 0; t < s.nt; t++) {
        if (t != 20) {
            AF_EXPECT_NEAR(GT_X(&s, a, t, 0), crop_mean(4, 7, 2, 5, t) - 273.15, 2e-4);
            AF_EXPECT(fabs(GT_X(&s, a, t, 0) - GT_X(&s1, a, t, 0)) > 1e-3); /* the weights changed the mean */
        }
        AF_EXPECT(isnan(GT_X(&s, c, t, 0)));                        /* no cropland under county C */
        AF_EXPECT_NEAR(GT_X(&s, st, t, 0), field(SITE_LON, SITE_LAT, t) - 273.15, 2e-4);
    }
}

static void test_gridded__no_crs_is_an_error(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "nocrs.ini", "out3", &e);
    AF_EXPECT(rc == AF_ECRS);
    AF_EXPECT(strstr(e.msg, "tmmx_2024.nc") != NULL && strstr(e.msg, "crs") != NULL);
}

/*
 * A float64 variable in a deflated netCDF-4 whose one chunk (366 x 40 x 40 doubles, 4.7 MB) is larger than
 * the chunk cache: read as float32 it went value by value through GDAL, each value decoding the whole
 * chunk (hours per block; this test then runs into its timeout). Values of county A and the site, and a
 * second variable that holds only its _FillValue (every sample-day missing, the run completes).
 */
#define NB 40
static int write_nc_double(const char *path)
{
    int nc, dd, dl, dn, vd, vl, vn, vv, vf;
    NCK(nc_create(path, NC_CLOBBER | NC_NETCDF4, &nc));
    NCK(nc_def_dim(nc, "day", ND, &dd));
    NCK(nc_def_dim(nc, "lat", NB, &dl));
    NCK(nc_def_dim(nc, "lon", NB, &dn));
    NCK(nc_def_var(nc, "day", NC_DOUBLE, 1, &dd, &vd));
    NCK(nc_put_att_text(nc, vd, "units", 30, "days since 1900-01-01 00:00:00"));
    NCK(nc_def_var(nc, "lat", NC_DOUBLE, 1, &dl, &vl));
    NCK(nc_def_var(nc, "lon", NC_DOUBLE, 1, &dn, &vn));
    int dims[3] = { dd, dl, dn };
    size_t chunk[3] = { ND, NB, NB };
    double fill = 32767.0;
    NCK(nc_def_var(nc, "air_temperature", NC_DOUBLE, 3, dims, &vv));
    NCK(nc_def_var(nc, "all_fill", NC_DOUBLE, 3, dims, &vf));
    int vars[2] = { vv, vf };
    for (int i = 0; i < 2; i++) {
        NCK(nc_def_var_chunking(nc, vars[i], NC_CHUNKED, chunk));
        NCK(nc_def_var_deflate(nc, vars[i], 0, 1, 1));
        NCK(nc_put_att_double(nc, vars[i], "_FillValue", NC_DOUBLE, 1, &fill));
        NCK(nc_put_att_text(nc, vars[i], "units", 1, "K"));
    }
    NCK(nc_enddef(nc));
    double t[ND], la[NB], lo[NB];
    for (int d = 0; d < ND; d++) t[d] = 45290.0 + d;
    for (int r = 0; r < NB; r++) la[r] = lat_c(r);
    for (int c = 0; c < NB; c++) lo[c] = lon_c(c);
    NCK(nc_put_var_double(nc, vd, t));
    NCK(nc_put_var_double(nc, vl, la));
    NCK(nc_put_var_double(nc, vn, lo));
    static double v[ND][NB][NB], f[ND][NB][NB];
    for (int d = 0; d < ND; d++)
        for (int r = 0; r < NB; r++)
            for (int c = 0; c < NB; c++) {
                v[d][r][c] = hole(r, c, d) ? fill : field(lon_c(c), lat_c(r), d);
                f[d][r][c] = fill;
            }
    NCK(nc_put_var_double(nc, vv, &v[0][0][0]));
    NCK(nc_put_var_double(nc, vf, &f[0][0][0]));
    NCK(nc_close(nc));
    return 0;
}

static void test_gridded__float64_chunk_larger_than_cache(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "double.ini", "out5", &e);
    if (rc != AF_OK) fprintf(stderr, "run: %s\n", e.msg);
    AF_EXPECT(rc == AF_OK);
    if (rc != AF_OK || rank) return;
    static gt_shard s;
    AF_EXPECT(gt_read_shard(dir, "out5", &s) == 0);
    int a = gt_find_sample(&s, "19001:base"), st = gt_find_sample(&s, "S1");
    AF_EXPECT(a >= 0 && st >= 0 && s.nt == ND && s.ni == 2);
    if (a < 0 || st < 0 || s.ni != 2) return;
    double mx;
    for (int t = 0; t < s.nt; t++) {
        if (t == 20) AF_EXPECT(isnan(GT_X(&s, a, t, 0)));
        else AF_EXPECT_NEAR(GT_X(&s, a, t, 0), rect_mean(4, 7, 2, 5, t, &mx) - 273.15, 1e-4);
        AF_EXPECT_NEAR(GT_X(&s, st, t, 0), field(SITE_LON, SITE_LAT, t) - 273.15, 1e-4);
        for (int i = 0; i < s.ns; i++) AF_EXPECT(isnan(GT_X(&s, i, t, 1)) && GT_XQC(&s, i, t, 1) == 0);
    }
    gt_shard_free(&s);
}

/* The hyperslab read type is never narrower than the stored type (the value-by-value path above). */
static void test_gridded__read_type_never_narrower(void)
{
    for (int t = GDT_Unknown + 1; t < GDT_TypeCount; t++) {
        GDALDataType r = af__gridded_read_type((GDALDataType)t);
        if (GDALDataTypeIsComplex((GDALDataType)t)) {
            AF_EXPECT(r == GDT_Unknown);
            continue;
        }
        AF_EXPECT(r == GDT_Byte || r == GDT_UInt16 || r == GDT_Int16 || r == GDT_Float32 || r == GDT_Float64);
        AF_EXPECT(GDALGetDataTypeSizeBytes(r) >= GDALGetDataTypeSizeBytes((GDALDataType)t));
        /* integers wider than 16 bits are exact in float64, not in float32 */
        if (!GDALDataTypeIsFloating((GDALDataType)t) && GDALGetDataTypeSizeBytes((GDALDataType)t) > 2) AF_EXPECT(r == GDT_Float64);
    }
    AF_EXPECT(af__gridded_read_type(GDT_UInt16) == GDT_UInt16 && af__gridded_read_type(GDT_Float32) == GDT_Float32);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int ok = 1;
    if (rank == 0) {
        snprintf(dir, sizeof dir, "/tmp/af-gridded-XXXXXX");
        ok = mkdtemp(dir) != NULL;
        char p[512];
        snprintf(p, sizeof p, "%s/tmmx_2024.nc", dir);
        ok = ok && write_nc(p) == 0 && gt_write_text(dir, "counties.geojson", geojson) == 0 &&
             gt_write_text(dir, "sites.csv", "site_id,lat,lon\nS1,40.333,-89.1234\n") == 0 &&
             write_ini("standard.ini", "standard", 1) == 0 && write_ini("noleap.ini", "noleap", 1) == 0 &&
             write_ini("nocrs.ini", "standard", 0) == 0 && write_ini("crop.ini", "standard", 2) == 0;
        snprintf(p, sizeof p, "%s/crop.tif", dir);
        ok = ok && write_crop(p) == 0;
        snprintf(p, sizeof p, "%s/tdbl_2024.nc", dir);
        ok = ok && write_nc_double(p) == 0 &&
             gt_write_text(dir, "double.ini",
                           "[pipeline]\nname = gt\nstart = 2024-01-01\nend = 2024-12-31\noutput = out\nblock_days = 50\n\n"
                           "[counties]\nlayer = counties.geojson\nscenarios = base\n\n[sites]\nlist = sites.csv\n\n"
                           "[input.TMAX_AIR]\nsource = gridded\npath = tdbl_{year}.nc\nvariable = air_temperature\n"
                           "source_units = K\nunits = degC\ncrs = EPSG:4326\n\n"
                           "[input.TFILL]\nsource = gridded\npath = tdbl_{year}.nc\nvariable = all_fill\n"
                           "source_units = K\nunits = degC\ncrs = EPSG:4326\n\n"
                           "[target.TMAX_T]\nsource = gridded\npath = tdbl_{year}.nc\nvariable = air_temperature\n"
                           "source_units = K\nunits = degC\ncrs = EPSG:4326\n") == 0;
        tri_fracs();
        for (int d = 0; d < ND; d++) tri[d] = tri_mean(d);
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (!ok) {
        if (rank == 0) fprintf(stderr, "cannot write the synthetic inputs in %s\n", dir);
        MPI_Finalize();
        return 1;
    }
    AF_RUN(test_gridded__standard);
    AF_RUN(test_gridded__noleap_uses_cache);
    AF_RUN(test_gridded__cropland_weights);
    AF_RUN(test_gridded__no_crs_is_an_error);
    AF_RUN(test_gridded__float64_chunk_larger_than_cache);
    if (rank == 0) AF_RUN(test_gridded__read_type_never_narrower);
    af_test_failed_cases = gt_max_failed(af_test_failed_cases);
    int res = 0;
    if (rank == 0 && (res = AF_TEST_END()) == 0) res = gt_remove_dir(dir);
    MPI_Bcast(&res, 1, MPI_INT, 0, MPI_COMM_WORLD);
    gt_shard_free(&s1);
    gt_shard_free(&s2);
    MPI_Finalize();
    return res;
}
