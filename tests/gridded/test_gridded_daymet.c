/* SPDX-License-Identifier: MIT */
/*
 * test_gridded_daymet.c: source = gridded with format = daymet and format =
 * stack. Daymet: a 30 x 30 km Lambert Conformal Conic NetCDF (CF grid_mapping,
 * 365 bands for 2024, -9999 fill) with a field linear in projected x, y and the
 * band; a lon/lat county is reprojected by the source and compared with a
 * 100x100-per-cell supersampled coverage of its projected outline; Dec 31 is
 * missing in the standard calendar, never shifted. Stack: a GeoTIFF of 5 bands
 * from stack_start crossing Feb 29 under noleap, nodata band, nearest site.
 * Multiplier (multiply_path): tmax x a second variable "mult" (2 everywhere,
 * all fill on day 2), beside plain tmax on the same path; and the error paths
 * (grid or days differ, missing file, multiply_path without multiply_variable
 * and the reverse).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <mpi.h>
#include <netcdf.h>
#include <ogr_srs_api.h>

#include "af_test.h"
#include "agroflux/pipeline.h"
#include "gridded_util.h"

#define N 30
#define NB 365
#define DXM 1000.0

static char dir[256];
static int rank;
static double X0, YTOP;        /* grid corner (LCC metres), north-up */
static double qx[5], qy[5];    /* county outline in LCC */
static double site_x, site_y;

static const char *lcc_proj4 =
    "+proj=lcc +lat_1=25 +lat_2=60 +lat_0=42.5 +lon_0=-100 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs";

static double fd(double x, double y, int b) { return 10 + 0.001 * (x - X0) + 0.0005 * (YTOP - y) + 0.01 * b; }
static double xc(int c) { return X0 + DXM * (c + 0.5); }
static double yc(int r) { return YTOP - DXM * (r + 0.5); }
static int dhole(int r, int c) { return r == 15 && c == 15; }

static int to_lcc(int n, double *x, double *y)
{
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL), d = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 4326);
    OSRImportFromProj4(d, lcc_proj4);
    OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(d, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(s, d);
    int ok = ct && OCTTransform(ct, n, x, y, NULL);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(s);
    OSRDestroySpatialReference(d);
    return ok ? 0 : 1;
}

/* Multiplier variable "mult": 2 everywhere, every cell fill on band 1 (Jan 2). */
static double fm(int b) { return b == 1 ? NAN : 2.0; }

/* A Daymet-layout file of variable var ("tmax": fd with holes; "mult": fm) of nb bands, its grid shifted
 * dcol cells east. */
static int write_daymet_var(const char *path, const char *var, int dcol, int nb)
{
    int nc, dt, dy, dx, vt, vy, vx, vg, vv;
    NCK(nc_create(path, NC_CLOBBER | NC_NETCDF4, &nc));
    NCK(nc_def_dim(nc, "time", (size_t)nb, &dt));
    NCK(nc_def_dim(nc, "y", N, &dy));
    NCK(nc_def_dim(nc, "x", N, &dx));
    NCK(nc_def_var(nc, "time", NC_FLOAT, 1, &dt, &vt));
    NCK(nc_put_att_text(nc, vt, "units", 30, "days since 1950-01-01 00:00:00"));
    NCK(nc_def_var(nc, "y", NC_DOUBLE, 1, &dy, &vy));
    NCK(nc_put_att_text(nc, vy, "units", 1, "m"));
    NCK(nc_put_att_text(nc, vy, "standard_name", 23, "projection_y_coordinate"));
    NCK(nc_def_var(nc, "x", NC_DOUBLE, 1, &dx, &vx));
    NCK(nc_put_att_text(nc, vx, "units", 1, "m"));
    NCK(nc_put_att_text(nc, vx, "standard_name", 23, "projection_x_coordinate"));
    NCK(nc_def_var(nc, "lambert_conformal_conic", NC_SHORT, 0, NULL, &vg));
    const char *gm = "lambert_conformal_conic";
    NCK(nc_put_att_text(nc, vg, "grid_mapping_name", strlen(gm), gm));
    double sp[2] = { 25, 60 }, cm = -100, lat0 = 42.5, fe = 0, a = 6378137.0, invf = 298.257223563;
    NCK(nc_put_att_double(nc, vg, "standard_parallel", NC_DOUBLE, 2, sp));
    NCK(nc_put_att_double(nc, vg, "longitude_of_central_meridian", NC_DOUBLE, 1, &cm));
    NCK(nc_put_att_double(nc, vg, "latitude_of_projection_origin", NC_DOUBLE, 1, &lat0));
    NCK(nc_put_att_double(nc, vg, "false_easting", NC_DOUBLE, 1, &fe));
    NCK(nc_put_att_double(nc, vg, "false_northing", NC_DOUBLE, 1, &fe));
    NCK(nc_put_att_double(nc, vg, "semi_major_axis", NC_DOUBLE, 1, &a));
    NCK(nc_put_att_double(nc, vg, "inverse_flattening", NC_DOUBLE, 1, &invf));
    int dims[3] = { dt, dy, dx };
    NCK(nc_def_var(nc, var, NC_FLOAT, 3, dims, &vv));
    float fill = -9999.0f;
    NCK(nc_put_att_float(nc, vv, "_FillValue", NC_FLOAT, 1, &fill));
    NCK(nc_put_att_text(nc, vv, "grid_mapping", strlen(gm), gm));
    NCK(nc_put_att_text(nc, vv, "units", 9, "degrees C"));
    NCK(nc_enddef(nc));
    float t[NB];
    double ys[N], xs[N];
    for (int b = 0; b < NB; b++) t[b] = 27028.5f + (float)b; /* 2024-01-01 12:00 */
    for (int i = 0; i < N; i++) { ys[i] = yc(i); xs[i] = xc(i + dcol); }
    NCK(nc_put_var_float(nc, vt, t));
    NCK(nc_put_var_double(nc, vy, ys));
    NCK(nc_put_var_double(nc, vx, xs));
    static float v[NB][N][N];
    int mult = !strcmp(var, "mult");
    for (int b = 0; b < nb; b++)
        for (int r = 0; r < N; r++)
            for (int c = 0; c < N; c++) {
                double x = mult ? fm(b) : dhole(r, c) ? NAN : fd(xc(c), yc(r), b);
                v[b][r][c] = isnan(x) ? fill : (float)x;
            }
    size_t st0[3] = { 0, 0, 0 }, cnt[3] = { (size_t)nb, N, N };
    NCK(nc_put_vara_float(nc, vv, st0, cnt, &v[0][0][0]));
    NCK(nc_close(nc));
    return 0;
}

static int write_daymet(const char *path) { return write_daymet_var(path, "tmax", 0, NB); }

/* 5-band GeoTIFF, 10 x 10 cells of 0.1 degree from (-89.5, 40.5); band b value 100 + b + col; band 3 all nodata. */
static int write_stack(const char *path)
{
    if (GDALGetDriverCount() == 0) GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds = drv ? GDALCreate(drv, path, 10, 10, 5, GDT_Float32, NULL) : NULL;
    if (!ds) return 1;
    double gt[6] = { -89.5, 0.1, 0, 40.5, 0, -0.1 };
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 4326);
    GDALSetSpatialRef(ds, s);
    OSRDestroySpatialReference(s);
    float buf[100];
    int bad = 0;
    for (int b = 1; b <= 5; b++) {
        GDALRasterBandH h = GDALGetRasterBand(ds, b);
        GDALSetRasterNoDataValue(h, -1);
        for (int i = 0; i < 100; i++) buf[i] = b == 3 ? -1.0f : (float)(100 + b + i % 10);
        bad |= GDALRasterIO(h, GF_Write, 0, 0, 10, 10, buf, 10, 10, GDT_Float32, 0, 0) != CE_None;
    }
    GDALClose(ds);
    return bad;
}

static const char *geojson =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"id\":\"17001\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[-89.05,39.96],[-88.95,39.96],[-88.95,40.04],[-89.05,40.04],[-89.05,39.96]]]}},"
    "{\"type\":\"Feature\",\"id\":\"17002\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[-89.4,40.1],[-89.2,40.1],[-89.2,40.3],[-89.4,40.3],[-89.4,40.1]]]}}"
    "]}";

static const char *daymet_ini =
    "[pipeline]\nname = dm\nstart = 2024-01-01\nend = 2024-12-31\ncalendar = standard\nblock_days = 120\n\n"
    "[counties]\nlayer = counties.geojson\n\n[sites]\nlist = sites.csv\n\n"
    "[input.TMAX_AIR]\nsource = gridded\nformat = daymet\npath = daymet_tmax_{year}.nc\nvariable = tmax\n"
    "source_units = degC\nunits = degC\n";

static const char *stack_ini =
    "[pipeline]\nname = st\nstart = 2024-02-25\nend = 2024-03-05\ncalendar = noleap\n\n"
    "[counties]\nlayer = counties.geojson\n\n[sites]\nlist = sites.csv\n\n"
    "[input.TMAX_AIR]\nsource = gridded\nformat = stack\npath = stack.tif\nstack_start = 2024-02-27\n"
    "source_units = degC\nunits = degC\nsite_method = nearest\n";

/* TMAX_AIR plain and TMAX_X2 = tmax x mult, both on the same path (one group, two variables). */
static const char *mult_ini =
    "[pipeline]\nname = mu\nstart = 2024-01-01\nend = 2024-01-10\ncalendar = standard\n\n"
    "[counties]\nlayer = counties.geojson\n\n[sites]\nlist = sites.csv\n\n"
    "[input.TMAX_AIR]\nsource = gridded\nformat = daymet\npath = daymet_tmax_{year}.nc\nvariable = tmax\n"
    "source_units = degC\nunits = degC\n\n"
    "[input.TMAX_X2]\nsource = gridded\nformat = daymet\npath = daymet_tmax_{year}.nc\nvariable = tmax\n"
    "multiply_path = %s\nmultiply_variable = %s\nsource_units = degC\nunits = degC\n";

static int in_quad(double x, double y)
{
    int in = 0;
    for (int i = 0, j = 3; i < 4; j = i++)
        if ((qy[i] > y) != (qy[j] > y) && x < (qx[j] - qx[i]) * (y - qy[i]) / (qy[j] - qy[i]) + qx[i]) in = !in;
    return in;
}

static double cov[N][N];

static double quad_mean(int b)
{
    double sw = 0, swx = 0;
    for (int r = 0; r < N; r++)
        for (int c = 0; c < N; c++) {
            if (cov[r][c] == 0 || dhole(r, c)) continue;
            sw += cov[r][c];
            swx += cov[r][c] * fd(xc(c), yc(r), b);
        }
    return swx / sw;
}

static void test_gridded__daymet_lcc(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "daymet.ini", "dm", &e);
    if (rc != AF_OK) fprintf(stderr, "run: %s\n", e.msg);
    AF_EXPECT(rc == AF_OK);
    if (rc != AF_OK || rank) return;
    static gt_shard s;
    AF_EXPECT(gt_read_shard(dir, "dm", &s) == 0);
    int a = gt_find_sample(&s, "17001:base"), b = gt_find_sample(&s, "17002:base"), st = gt_find_sample(&s, "S1");
    AF_EXPECT(a >= 0 && b >= 0 && st >= 0 && s.nt == 366);
    if (a < 0 || b < 0 || st < 0 || s.nt != 366) return;
    for (int t = 0; t < 365; t++) {
        AF_EXPECT_NEAR(GT_X(&s, a, t, 0), quad_mean(t), 2e-3);              /* band t is day t: never shifted */
        AF_EXPECT_NEAR(GT_X(&s, st, t, 0), fd(site_x, site_y, t), 1e-3);
        AF_EXPECT(isnan(GT_X(&s, b, t, 0)));                                /* 17002 lies outside the 30 km grid */
    }
    AF_EXPECT(isnan(GT_X(&s, a, 365, 0)) && isnan(GT_X(&s, st, 365, 0)));          /* Dec 31 of 2024: no band */
    AF_EXPECT_NEAR(GT_X(&s, st, 59, 0), fd(site_x, site_y, 59), 1e-3);     /* Feb 29 is band 59 */
}

static void test_gridded__stack_noleap(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "stack.ini", "st", &e);
    if (rc != AF_OK) fprintf(stderr, "run: %s\n", e.msg);
    AF_EXPECT(rc == AF_OK);
    if (rc != AF_OK || rank) return;
    static gt_shard s;
    AF_EXPECT(gt_read_shard(dir, "st", &s) == 0);
    int b = gt_find_sample(&s, "17002:base"), st = gt_find_sample(&s, "S1");
    AF_EXPECT(b >= 0 && st >= 0 && s.nt == 10);
    if (b < 0 || st < 0 || s.nt != 10) return;
    /* Feb 25, 26: before band 1; Feb 27 .. Mar 2: bands 1..5 (band 3 = Feb 29 all nodata); Mar 3..5: after. */
    const int band[10] = { 0, 0, 1, 2, 3, 4, 5, 0, 0, 0 };
    for (int t = 0; t < 10; t++) {
        if (band[t] == 0 || band[t] == 3) {
            AF_EXPECT(isnan(GT_X(&s, b, t, 0)) && isnan(GT_X(&s, st, t, 0)));
            continue;
        }
        /* 17002: cols 1..2 (lon -89.4..-89.2), equal weights per column: mean of 100+band+col. */
        AF_EXPECT_NEAR(GT_X(&s, b, t, 0), 100 + band[t] + 1.5, 1e-4);
        AF_EXPECT_NEAR(GT_X(&s, st, t, 0), 100 + band[t] + 4, 0);         /* site at -89.03: col 4 */
    }
}

static void test_gridded__multiply(void)
{
    af_error e = AF_ERROR_INIT;
    int rc = gt_run(dir, "mult.ini", "mu", &e);
    if (rc != AF_OK) fprintf(stderr, "run: %s\n", e.msg);
    AF_EXPECT(rc == AF_OK);
    if (rc != AF_OK || rank) return;
    static gt_shard s;
    AF_EXPECT(gt_read_shard(dir, "mu", &s) == 0);
    int a = gt_find_sample(&s, "17001:base"), st = gt_find_sample(&s, "S1");
    AF_EXPECT(a >= 0 && st >= 0 && s.nt == 10 && s.ni == 2);
    if (a < 0 || st < 0 || s.nt != 10 || s.ni != 2) return;
    for (int t = 0; t < 10; t++) {
        AF_EXPECT_NEAR(GT_X(&s, a, t, 0), quad_mean(t), 2e-3);               /* the plain feature is untouched */
        AF_EXPECT_NEAR(GT_X(&s, st, t, 0), fd(site_x, site_y, t), 1e-3);
        if (t == 1) { /* the multiplier is all fill on Jan 2: nodata in either is nodata */
            AF_EXPECT(isnan(GT_X(&s, a, t, 1)) && isnan(GT_X(&s, st, t, 1)));
            continue;
        }
        AF_EXPECT_NEAR(GT_X(&s, a, t, 1), fm(t) * quad_mean(t), 4e-3);
        AF_EXPECT_NEAR(GT_X(&s, st, t, 1), fm(t) * fd(site_x, site_y, t), 2e-3);
    }
    gt_shard_free(&s);
}

/* The ini of mult_ini with multiply_path / multiply_variable (empty: key left out); the run's status. */
static int run_mult(const char *mpath, const char *mvar, af_error *err)
{
    char text[2048];
    snprintf(text, sizeof text, mult_ini, mpath, mvar);
    if (!mvar[0]) { /* drop the empty key line */
        char *p = strstr(text, "multiply_variable = \n");
        if (p) memmove(p, p + 21, strlen(p + 21) + 1);
    }
    if (!mpath[0]) {
        char *p = strstr(text, "multiply_path = \n");
        if (p) memmove(p, p + 17, strlen(p + 17) + 1);
    }
    int bad = rank == 0 && gt_write_text(dir, "multx.ini", text) != 0; /* one writer, then every rank runs */
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return bad ? AF_EIO : gt_run(dir, "multx.ini", "mx", err);
}

static void test_gridded__multiply_errors(void)
{
    AF_TEST_FAILS_WITH(AF_EFORMAT, "grid (30x30, geotransform) differs",
                       run_mult("daymet_shift_{year}.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "daymet_shift_2024.nc' as multiplier of '",
                       run_mult("daymet_shift_{year}.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "daymet_tmax_2024.nc", run_mult("daymet_shift_{year}.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "the days of", run_mult("daymet_short_{year}.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "(300 bands) differ from those of", run_mult("daymet_short_{year}.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "multiply_path: cannot read", run_mult("daymet_none_{year}.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "daymet_none_2024.nc' (multiplier of", run_mult("daymet_none_{year}.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "[input.TMAX_X2] multiply_path: needs multiply_variable",
                       run_mult("daymet_mult_{year}.nc", "", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "multiply_variable: needs multiply_path", run_mult("", "mult", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "must both have {year} or neither", run_mult("daymet_mult_2024.nc", "mult", err));
    AF_TEST_FAILS_WITH(AF_EGDAL, "as multiplier of", run_mult("daymet_mult_{year}.nc", "nosuchvar", err));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int ok = 1;
    if (rank == 0) {
        snprintf(dir, sizeof dir, "/tmp/af-gridded-dm-XXXXXX");
        ok = mkdtemp(dir) != NULL;
        double px = -89.0, py = 40.0;
        ok = ok && to_lcc(1, &px, &py) == 0;
        X0 = floor(px / DXM) * DXM - 15 * DXM;
        YTOP = floor(py / DXM) * DXM + 15 * DXM;
        double lon[5] = { -89.05, -88.95, -88.95, -89.05, -89.03 }, lat[5] = { 39.96, 39.96, 40.04, 40.04, 40.011 };
        memcpy(qx, lon, sizeof lon);
        memcpy(qy, lat, sizeof lat);
        ok = ok && to_lcc(5, qx, qy) == 0;
        site_x = qx[4];
        site_y = qy[4];
        for (int r = 0; r < N; r++)
            for (int c = 0; c < N; c++) {
                int in = 0;
                for (int i = 0; i < 100; i++)
                    for (int j = 0; j < 100; j++)
                        in += in_quad(X0 + DXM * (c + (i + 0.5) / 100), YTOP - DXM * (r + (j + 0.5) / 100));
                cov[r][c] = in / 10000.0;
            }
        char p[512];
        snprintf(p, sizeof p, "%s/daymet_tmax_2024.nc", dir);
        ok = ok && write_daymet(p) == 0;
        snprintf(p, sizeof p, "%s/daymet_mult_2024.nc", dir);
        ok = ok && write_daymet_var(p, "mult", 0, NB) == 0;
        snprintf(p, sizeof p, "%s/daymet_shift_2024.nc", dir);
        ok = ok && write_daymet_var(p, "mult", 1, NB) == 0;
        snprintf(p, sizeof p, "%s/daymet_short_2024.nc", dir);
        ok = ok && write_daymet_var(p, "mult", 0, 300) == 0;
        char mi[2048];
        snprintf(mi, sizeof mi, mult_ini, "daymet_mult_{year}.nc", "mult");
        ok = ok && gt_write_text(dir, "mult.ini", mi) == 0;
        snprintf(p, sizeof p, "%s/stack.tif", dir);
        ok = ok && write_stack(p) == 0 && gt_write_text(dir, "counties.geojson", geojson) == 0 &&
             gt_write_text(dir, "sites.csv", "site_id,lat,lon\nS1,40.011,-89.03\n") == 0 &&
             gt_write_text(dir, "daymet.ini", daymet_ini) == 0 && gt_write_text(dir, "stack.ini", stack_ini) == 0;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    MPI_Bcast(&X0, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Bcast(&YTOP, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (!ok) {
        if (rank == 0) fprintf(stderr, "cannot write the synthetic inputs in %s\n", dir);
        MPI_Finalize();
        return 1;
    }
    AF_RUN(test_gridded__daymet_lcc);
    AF_RUN(test_gridded__stack_noleap);
    AF_RUN(test_gridded__multiply);
    AF_RUN(test_gridded__multiply_errors);
    af_test_failed_cases = gt_max_failed(af_test_failed_cases);
    int res = 0;
    if (rank == 0 && (res = AF_TEST_END()) == 0) res = gt_remove_dir(dir);
    MPI_Bcast(&res, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return res;
}
