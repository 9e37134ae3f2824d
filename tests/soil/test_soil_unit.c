/* SPDX-License-Identifier: MIT */
/*
 * test_soil_unit.c: the soil and cdl source kinds' pieces, by hand. Depth
 * layers and profile weights; class lists and class tables; streaming zonal
 * statistics on a 4x3 GeoTIFF with hand-computed coverage (log10 averaged in
 * linear space, nodata dropped and weights renormalised, cropland fraction and
 * class weights, strip height has no effect); tiled rasters against analytic
 * rectangle coverage (tile mode) and a block that cannot be read; plain means over coverage runs
 * against a cell-by-cell reference (holes, parts, a polygon thinner than a row, nodata, NaN and
 * infinite values; tile and strip modes bit for bit); site sampling; and every error
 * path of the two source kinds through af_pipeline_plan / af_pipeline_run.
 */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "af_test.h"
#include "agroflux/pipeline.h"
#include "agroflux/units.h"
#include "cdl_impl.h"
#include "raster_zonal_impl.h"
#include "soil_impl.h"
#include "synth_geo.h"
#include "synth_soil.h"

static char dir[256];

/* the one-raster list of af__rz_zonal */
#define RP(r) ((const rz_raster *const[]){ &(r) })

static int write_text(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    if (!fp) return 1;
    fputs(text, fp);
    return fclose(fp) != 0;
}

/* A w x h GeoTIFF at (x0, y0 top) with cell size d; epsg 0 = no CRS. */
static int write_tif(const char *name, GDALDataType type, int w, int h, double x0, double y0, double d, int epsg,
                     const double *v, int has_nd, double nd)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), p, w, h, 1, type, NULL);
    if (!ds) return 1;
    double gt[6] = { x0, d, 0, y0, 0, -d };
    GDALSetGeoTransform(ds, gt);
    if (epsg) {
        OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(s, epsg);
        GDALSetSpatialRef(ds, s);
        OSRDestroySpatialReference(s);
    }
    if (has_nd) GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), nd);
    int bad = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, w, h, (void *)v, w, h, GDT_Float64, 0, 0) != CE_None;
    GDALClose(ds);
    return bad;
}

static void test_layers_and_depth(void)
{
    so_layer *L = NULL;
    size_t n = 0;
    double w[SO_MAX_LAYERS];
    AF_TEST_PASS(af__soil_parse_layers("0-5, 5-15,15-30", &L, &n, err));
    AF_EXPECT(n == 3 && L && !strcmp(L[1].text, "5-15") && L[2].top == 15 && L[2].bottom == 30);
    if (n != 3) { free(L); return; }
    AF_TEST_PASS(af__soil_depth_weights("0-30", L, n, w, err));
    AF_EXPECT_NEAR(w[0], 5.0 / 30, 1e-15);
    AF_EXPECT_NEAR(w[1], 10.0 / 30, 1e-15);
    AF_EXPECT_NEAR(w[2], 15.0 / 30, 1e-15);
    AF_TEST_PASS(af__soil_depth_weights("2-10", L, n, w, err)); /* 3 cm of 0-5, 5 cm of 5-15 */
    AF_EXPECT_NEAR(w[0], 3.0 / 8, 1e-15);
    AF_EXPECT_NEAR(w[1], 5.0 / 8, 1e-15);
    AF_EXPECT(w[2] == 0);
    AF_TEST_PASS(af__soil_depth_weights("", L, n, w, err)); /* default: every layer, 0-30 */
    AF_EXPECT_NEAR(w[2], 0.5, 1e-15);
    AF_TEST_FAILS_WITH(AF_EINVAL, "depth 0-100 cm is not covered", af__soil_depth_weights("0-100", L, n, w, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "'30-0' is not top-bottom", af__soil_depth_weights("30-0", L, n, w, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "'deep' is not top-bottom", af__soil_depth_weights("deep", L, n, w, err));
    free(L);
    L = NULL;
    AF_TEST_PASS(af__soil_parse_layers("0_5,5_15,30_60", &L, &n, err)); /* POLARIS spelling, a gap 15-30 */
    if (L) AF_TEST_FAILS_WITH(AF_EINVAL, "not covered", af__soil_depth_weights("0-60", L, n, w, err));
    free(L);
    L = NULL;
    AF_TEST_FAILS_WITH(AF_EINVAL, "layer '3-15' starts above", af__soil_parse_layers("0-5,3-15", &L, &n, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "layer '5' is not top-bottom", af__soil_parse_layers("0-5,5", &L, &n, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "no layers", af__soil_parse_layers("", &L, &n, err));
}

/* Soil unit rows (SoilGrids' integer-scaled units) convert as documented. */
static void test_units(void)
{
    af_unit_conv c;
    AF_TEST_PASS(af_units_conversion("dg kg-1", "g kg-1", &c, err));
    AF_EXPECT_NEAR(af_units_apply(c, 123), 12.3, 1e-12);
    AF_TEST_PASS(af_units_conversion("cg cm-3", "Mg m-3", &c, err));
    AF_EXPECT_NEAR(af_units_apply(c, 135), 1.35, 1e-12);
    AF_TEST_PASS(af_units_conversion("mmol(c) kg-1", "cmol kg-1", &c, err));
    AF_EXPECT_NEAR(af_units_apply(c, 150), 15, 1e-12);
    AF_TEST_PASS(af_units_conversion("pH x 10", "pH", &c, err));
    AF_EXPECT_NEAR(af_units_apply(c, 62), 6.2, 1e-12);
    AF_TEST_PASS(af_units_conversion("%", "g kg-1", &c, err));
    AF_EXPECT_NEAR(af_units_apply(c, 2.5), 25, 1e-12);
    AF_TEST_FAILS_WITH(AF_EUNITS, "", af_units_conversion("dg kg-1", "Mg m-3", &c, err));
}

static void test_classes(void)
{
    int c[256];
    size_t n = 0;
    AF_TEST_PASS(af__rz_parse_classes(" 5, 1,5 ", c, 256, &n, err));
    AF_EXPECT(n == 2 && c[0] == 5 && c[1] == 1);
    AF_TEST_FAILS_WITH(AF_EINVAL, "class '300' is not a class code", af__rz_parse_classes("1,300", c, 256, &n, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "class 'corn' is not a class code", af__rz_parse_classes("corn", c, 256, &n, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "empty class list", af__rz_parse_classes("", c, 256, &n, err));
    AF_EXPECT(write_text("t.csv", "code,name\n1,corn\n5,soybeans\n121,developed\n122,Developed\n") == 0);
    AF_EXPECT(write_text("bad.csv", "code,name\n1,corn\nx,soy\n") == 0);
    AF_EXPECT(write_text("nocol.csv", "value,name\n1,corn\n") == 0);
    static cd_table t;
    unsigned char in[256];
    char p[512];
    snprintf(p, sizeof p, "%s/t.csv", dir);
    AF_TEST_PASS(af__cdl_table_load(p, &t, err));
    AF_TEST_PASS(af__cdl_resolve("Corn, 24 ,developed", &t, in, c, &n, err));
    AF_EXPECT(n == 4 && c[0] == 1 && c[1] == 24 && c[2] == 121 && c[3] == 122 && in[1] && in[24] && !in[5]);
    AF_TEST_FAILS_WITH(AF_EINVAL, "unknown class 'maize' (not in class_table)", af__cdl_resolve("maize", &t, in, c, &n, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "a name needs class_table", af__cdl_resolve("corn", NULL, in, c, &n, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "class 256 is not a code", af__cdl_resolve("256", NULL, in, c, &n, err));
    snprintf(p, sizeof p, "%s/bad.csv", dir);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "bad.csv:3: code 'x'", af__cdl_table_load(p, &t, err));
    snprintf(p, sizeof p, "%s/nocol.csv", dir);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "code", af__cdl_table_load(p, &t, err));
}

/*
 * 4x3 cells of 10 m at (1000, 2000); values log10: row 0: 0 1 2 nodata, row 1: 1 1 1 0,
 * row 2: 3 3 3 3. Polygon x 1000..1025, y 1990..2000 covers row 0 cols 0,1 fully and col 2
 * half; plus, as a second polygon, x 1005..1015, y 1975..1995: quarter cells (0,0.5 row 0..).
 */
static const double lv[12] = { 0, 1, 2, -9999, 1, 1, 1, 0, 3, 3, 3, 3 };
static const double cf[12] = { 1, 0.5, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1 };
static const double cls[12] = { 1, 5, 1, 0, 24, 1, 1, 1, 5, 5, 5, 300 };

static void test_zonal(void)
{
    static const double r1[10] = { 1000, 1990, 1025, 1990, 1025, 2000, 1000, 2000, 1000, 1990 };
    static const double r2[10] = { 1005, 1975, 1015, 1975, 1015, 1995, 1005, 1995, 1005, 1975 };
    af_ring g1 = { r1, 5, 0 }, g2 = { r2, 5, 0 };
    af_polygon polys[2] = { { &g1, 1 }, { &g2, 1 } };
    AF_EXPECT(write_tif("lv.tif", GDT_Float32, 4, 3, 1000, 2000, 10, 5070, lv, 1, -9999) == 0);
    AF_EXPECT(write_tif("cf.tif", GDT_Float32, 4, 3, 1000, 2000, 10, 5070, cf, 0, 0) == 0);
    AF_EXPECT(write_tif("cls.tif", GDT_UInt16, 4, 3, 1000, 2000, 10, 5070, cls, 1, 0) == 0);
    char p[512];
    rz_raster r, m, c;
    memset(&m, 0, sizeof m);
    memset(&c, 0, sizeof c);
    snprintf(p, sizeof p, "%s/lv.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&r, p, "", err));
    snprintf(p, sizeof p, "%s/cf.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&m, p, "", err));
    snprintf(p, sizeof p, "%s/cls.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&c, p, "", err));
    if (!r.ds || !m.ds || !c.ds) goto out;
    double b[12];
    rz_result res = { b, b + 2, b + 4, NULL, b + 6, b + 8 };
    for (long strip = 0; strip <= 4; strip += 4) { /* default strips, and 1-row strips */
        AF_TEST_PASS(af__rz_zonal(RP(r), 1, NULL, polys, 2, RZ_MEAN, 1, strip, &res, NULL, err));
        /* polygon 1: cells 1, 10, 100 with weights 100, 100, 50 m^2 */
        AF_EXPECT_NEAR(b[0] / b[2], (100 * 1 + 100 * 10 + 50 * 100) / 250.0, 1e-12);
        AF_EXPECT_NEAR(b[4], 250, 1e-9);
        AF_EXPECT_NEAR(b[8], 1.0, 1e-12);
        /* polygon 2: half of col 0 and half of col 1 in rows 0 (5 m of it) and 1 (10 m) and 2 (5 m):
         * areas 25 25 / 50 50 / 25 25: values 10^(0,1 / 1,1 / 3,3) */
        double exp = (25 * 1 + 25 * 10 + 50 * 10 + 50 * 10 + 25 * 1000 + 25 * 1000) / 200.0;
        AF_EXPECT_NEAR(b[1] / b[3], exp, 1e-12);
    }
    rz_mask mk = { &m, NULL, 0, 0, NULL };
    AF_TEST_PASS(af__rz_zonal(RP(r), 1, &mk, polys, 2, RZ_MEAN, 0, 0, &res, NULL, err));
    /* polygon 1 linear, weights 100*1, 100*0.5, 50*1; nodata cell never covered */
    AF_EXPECT_NEAR(b[0] / b[2], (100 * 0 + 50 * 1 + 50 * 2) / 200.0, 1e-12);
    /* polygon 2, row 1 has no cropland: (25*0 + 12.5*1 + 25*3 + 25*3) / 87.5 */
    AF_EXPECT_NEAR(b[1] / b[3], (12.5 * 1 + 25 * 3 + 25 * 3) / 87.5, 1e-12);
    int crop[1] = { 1 };
    rz_mask mc = { &c, crop, 1, 0, NULL };
    AF_TEST_PASS(af__rz_zonal(RP(r), 1, &mc, polys, 1, RZ_MEAN, 0, 0, &res, NULL, err));
    AF_EXPECT_NEAR(b[0] / b[2], (100 * 0 + 50 * 2) / 150.0, 1e-12); /* classes 1, 5, 1 */
    /* two rasters in one pass: each gets the sums of its own pass */
    {
        double b2[20];
        rz_result two[2] = { { b2, b2 + 2, b2 + 4, NULL, b2 + 6, b2 + 8 }, { b2 + 10, b2 + 12, b2 + 14, NULL, b2 + 16, b2 + 18 } };
        const rz_raster *both[2] = { &r, &m };
        AF_TEST_PASS(af__rz_zonal(both, 2, NULL, polys, 2, RZ_MEAN, 0, 4, two, NULL, err));
        AF_TEST_PASS(af__rz_zonal(RP(m), 1, NULL, polys, 2, RZ_MEAN, 0, 4, &res, NULL, err));
        for (int k = 0; k < 10; k++) AF_EXPECT(b2[10 + k] == b[k]);
        AF_TEST_PASS(af__rz_zonal(RP(r), 1, NULL, polys, 2, RZ_MEAN, 0, 4, &res, NULL, err));
        for (int k = 0; k < 10; k++) AF_EXPECT(b2[k] == b[k]);
    }
    /* the same weights on a 5 m grid (each 10 m cell split in 2x2): averaged back, the same means */
    {
        double cf5[48], cl5[48];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 8; j++) { cf5[i * 8 + j] = cf[(i / 2) * 4 + j / 2]; cl5[i * 8 + j] = cls[(i / 2) * 4 + j / 2]; }
        AF_EXPECT(write_tif("cf5.tif", GDT_Float32, 8, 6, 1000, 2000, 5, 5070, cf5, 0, 0) == 0);
        AF_EXPECT(write_tif("cl5.tif", GDT_UInt16, 8, 6, 1000, 2000, 5, 5070, cl5, 1, 0) == 0);
        rz_raster m5, c5;
        GDALDatasetH vrt = NULL;
        snprintf(p, sizeof p, "%s/cf5.tif", dir);
        AF_TEST_PASS(af__rz_raster_open(&m5, p, "", err));
        snprintf(p, sizeof p, "%s/cl5.tif", dir);
        AF_TEST_PASS(af__rz_raster_open(&c5, p, "", err));
        AF_EXPECT(!af__rz_raster_same_grid(&m5, &r));
        const rz_raster *mixed[2] = { &r, &m5 };
        AF_TEST_FAILS_WITH(AF_EINVAL, "cf5.tif: grid or CRS differs from",
                           af__rz_zonal(mixed, 2, NULL, polys, 2, RZ_MEAN, 0, 0, &res, NULL, err));
        rz_mask w5 = { &m5, NULL, 0, 1, m5.ds };
        AF_TEST_PASS(af__rz_zonal(RP(r), 1, &w5, polys, 2, RZ_MEAN, 0, 4, &res, NULL, err));
        AF_EXPECT_NEAR(b[0] / b[2], (100 * 0 + 50 * 1 + 50 * 2) / 200.0, 1e-6);
        AF_EXPECT_NEAR(b[1] / b[3], (12.5 * 1 + 25 * 3 + 25 * 3) / 87.5, 1e-6);
        AF_TEST_PASS(af__rz_class_mask_vrt(c5.ds, c5.path, crop, 1, &vrt, err));
        rz_mask wc = { &c5, crop, 1, 1, vrt };
        AF_TEST_PASS(af__rz_zonal(RP(r), 1, &wc, polys, 1, RZ_MEAN, 0, 0, &res, NULL, err));
        AF_EXPECT_NEAR(b[0] / b[2], (100 * 0 + 50 * 2) / 150.0, 1e-6);
        if (vrt) GDALClose(vrt);
        af__rz_raster_close(&m5);
        af__rz_raster_close(&c5);
    }
    /* a nodata cell inside: polygon over row 0 cols 2..3 -> only col 2 valid, weight renormalised */
    static const double r3[10] = { 1020, 1990, 1040, 1990, 1040, 2000, 1020, 2000, 1020, 1990 };
    af_ring g3 = { r3, 5, 0 };
    af_polygon p3 = { &g3, 1 };
    AF_TEST_PASS(af__rz_zonal(RP(r), 1, NULL, &p3, 1, RZ_MEAN, 0, 0, &res, NULL, err));
    AF_EXPECT_NEAR(b[0] / b[2], 2.0, 1e-12);
    AF_EXPECT_NEAR(b[2] / b[4], 0.5, 1e-12); /* valid share */
    /* classes: histogram of polygon 1; the class 300 cell makes polygon over row 2 col 3 an error */
    static double hist[2 * RZ_NCLASS];
    rz_result rh = { NULL, NULL, NULL, hist, b, b + 2 };
    AF_TEST_PASS(af__rz_zonal(RP(c), 1, NULL, polys, 1, RZ_CLASSES, 0, 0, &rh, NULL, err));
    AF_EXPECT_NEAR(hist[1], 150, 1e-9);
    AF_EXPECT_NEAR(hist[5], 100, 1e-9);
    static const double r4[10] = { 1030, 1970, 1040, 1970, 1040, 1980, 1030, 1980, 1030, 1970 };
    af_ring g4 = { r4, 5, 0 };
    af_polygon p4 = { &g4, 1 };
    AF_TEST_FAILS_WITH(AF_EFORMAT, "class value 300", af__rz_zonal(RP(c), 1, NULL, &p4, 1, RZ_CLASSES, 0, 0, &rh, NULL, err));
    /* sites: nearest and bilinear (log10) by hand, at (1012, 1988): centres 1005/1015, 1995/1985 */
    double v;
    AF_TEST_PASS(af__rz_raster_sample(&r, 1012, 1988, AF_GRID_NEAREST, 1, &v, err));
    AF_EXPECT_NEAR(v, 10.0, 1e-5);
    AF_TEST_PASS(af__rz_raster_sample(&r, 1012, 1988, AF_GRID_BILINEAR, 1, &v, err));
    double fu = 0.7, fv = 0.7; /* from centre (1005, 1995) */
    AF_EXPECT_NEAR(v, (1 - fu) * (1 - fv) * 1 + fu * (1 - fv) * 10 + (1 - fu) * fv * 10 + fu * fv * 10, 1e-5);
    AF_TEST_PASS(af__rz_raster_sample(&r, 1032, 1998, AF_GRID_NEAREST, 0, &v, err));
    AF_EXPECT(isnan(v)); /* the nodata cell */
out:
    af__rz_raster_close(&r);
    af__rz_raster_close(&m);
    af__rz_raster_close(&c);
}

/* ---- error paths through the pipeline ---- */

static const char *head =
    "[pipeline]\nname = e\nstart = 2020-01-01\nend = 2020-01-02\noutput = out\n\n"
    "[counties]\nlayer = counties.geojson\nid_field = GEOID\n\n";

/* Tiled rasters (the tile-mode plain means: blocks read where polygons need them, coverage per tile
 * column): rectangles with fractional edges against the analytic reference (overlap lengths in x and y
 * times the value over valid cells), for strips of one and of several block rows, two rasters in one
 * pass, a Float64 copy (strip mode) and a block that cannot be read. */
#define TW 70
#define TH 50
static double tv[TH * TW];

static int south_up; /* write_tiled: rows stored south to north (positive y step), the same values in place */

static int write_tiled(const char *name, GDALDataType type, double scale)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *opts[] = { "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", NULL };
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), p, TW, TH, 1, type, opts);
    if (!ds) return 1;
    double gt[6] = { 1000, 10, 0, south_up ? 1500 : 2000, 0, south_up ? 10 : -10 }, sv[TH * TW];
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 5070);
    GDALSetSpatialRef(ds, s);
    OSRDestroySpatialReference(s);
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), -9999);
    for (int i = 0; i < TH * TW; i++) {
        double v = tv[south_up ? (TH - 1 - i / TW) * TW + i % TW : i];
        sv[i] = v == -9999 ? -9999 : v * scale;
    }
    int bad = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, TW, TH, sv, TW, TH, GDT_Float64, 0, 0) != CE_None;
    GDALClose(ds);
    return bad;
}

static double overlap(double a0, double a1, double b0, double b1)
{
    double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

/* rectangle x0..x1, y0..y1 (CRS units): the analytic weighted mean and covered area of tv */
static void rect_reference(const double *xy, double *mean, double *area)
{
    double sw = 0, swx = 0, sa = 0;
    for (int r = 0; r < TH; r++)
        for (int c = 0; c < TW; c++) {
            double a = overlap(xy[0], xy[2], 1000 + 10.0 * c, 1000 + 10.0 * (c + 1)) *
                       overlap(xy[1], xy[5], 2000 - 10.0 * (r + 1), 2000 - 10.0 * r);
            sa += a;
            if (tv[r * TW + c] != -9999) { sw += a; swx += a * tv[r * TW + c]; }
        }
    *mean = swx / sw;
    *area = sa;
}

static void test_zonal_tiles(void)
{
    for (int r = 0; r < TH; r++)
        for (int c = 0; c < TW; c++) tv[r * TW + c] = (r * 7 + c) % 13 == 0 ? -9999 : 1 + r * 0.5 + c * 0.25;
    AF_EXPECT(write_tiled("t1.tif", GDT_Float32, 1) == 0);
    AF_EXPECT(write_tiled("t2.tif", GDT_Float32, 2) == 0);
    AF_EXPECT(write_tiled("t8.tif", GDT_Float64, 1) == 0);
    /* one rectangle over many tiles starting mid-tile at odd columns; one inside a single tile */
    static const double q1[10] = { 1033, 1548, 1617, 1548, 1617, 1974, 1033, 1974, 1033, 1548 };
    static const double q2[10] = { 1171, 1905, 1199, 1905, 1199, 1938, 1171, 1938, 1171, 1905 };
    af_ring g1 = { q1, 5, 0 }, g2 = { q2, 5, 0 };
    af_polygon polys[2] = { { &g1, 1 }, { &g2, 1 } };
    rz_raster t1, t2, t8;
    char p[512];
    snprintf(p, sizeof p, "%s/t1.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&t1, p, "", err));
    snprintf(p, sizeof p, "%s/t2.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&t2, p, "", err));
    snprintf(p, sizeof p, "%s/t8.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&t8, p, "", err));
    AF_EXPECT(t1.blk_x == 16 && t1.blk_y == 16);
    double m1, a1, m2, a2;
    rect_reference(q1, &m1, &a1);
    rect_reference(q2, &m2, &a2);
    double b[20];
    rz_result two[2] = { { b, b + 2, b + 4, NULL, b + 6, b + 8 }, { b + 10, b + 12, b + 14, NULL, b + 16, b + 18 } };
    const rz_raster *both[2] = { &t1, &t2 }, *f64[1] = { &t8 };
    /* strip cells over 2 rasters: default (tile mode, one strip); 8 rows (below a block: strip mode); 16 rows
     * (tile mode, one block row a strip: four strips) */
    for (long strip = 0; strip <= 2 * TW * 16; strip += TW * 16) {
        AF_TEST_PASS(af__rz_zonal(both, 2, NULL, polys, 2, RZ_MEAN, 0, strip, two, NULL, err));
        AF_EXPECT_NEAR(b[0] / b[2], m1, 1e-9);
        AF_EXPECT_NEAR(b[1] / b[3], m2, 1e-9);
        AF_EXPECT_NEAR(b[6], a1, 1e-6);
        AF_EXPECT_NEAR(b[7], a2, 1e-6);
        AF_EXPECT_NEAR(b[8], 1.0, 1e-12);
        AF_EXPECT_NEAR(b[10] / b[12], 2 * m1, 2e-9);
        AF_EXPECT_NEAR(b[11] / b[13], 2 * m2, 2e-9);
        AF_TEST_PASS(af__rz_zonal(f64, 1, NULL, polys, 2, RZ_MEAN, 0, strip, two, NULL, err));
        AF_EXPECT_NEAR(b[0] / b[2], m1, 1e-9);
        AF_EXPECT_NEAR(b[1] / b[3], m2, 1e-9);
    }
    /* the file cut short under an open dataset: the first block past the cut cannot be read */
    AF_EXPECT(truncate(t1.path, 2048) == 0);
    AF_TEST_FAILS_WITH(AF_EGDAL, "t1.tif: reading block", af__rz_zonal(both, 1, NULL, polys, 2, RZ_MEAN, 0, 0, two, NULL, err));
    af__rz_raster_close(&t1);
    af__rz_raster_close(&t2);
    af__rz_raster_close(&t8);
}

static int plan(const char *feat, af_error *err)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", head, feat);
    if (write_text("e.ini", text)) return AF_EIO;
    char p[512];
    snprintf(p, sizeof p, "%s/e.ini", dir);
    af_plan pl;
    memset(&pl, 0, sizeof pl);
    int rc = af_pipeline_plan(p, 1, &pl, err);
    if (rc == AF_OK) af_plan_dispose(&pl);
    return rc;
}

static int run(const char *feat, af_error *err)
{
    char text[4096], p[512], o[512];
    snprintf(text, sizeof text, "%s%s", head, feat);
    if (write_text("e.ini", text)) return AF_EIO;
    snprintf(p, sizeof p, "%s/e.ini", dir);
    snprintf(o, sizeof o, "%s/out", dir);
    af_run_opts opts = AF_RUN_OPTS_INIT;
    opts.output = o;
    af_run_summary sum;
    int rc = af_pipeline_run(MPI_COMM_WORLD, p, &opts, &sum, err);
    af_run_summary_dispose(&sum);
    return rc;
}

#define SOIL "[input.B]\nsource = soil\nsource_units = g cm-3\nunits = Mg m-3\n"
#define CDL "[input.C]\nsource = cdl\nunits = 1\n"

static void test_errors(void)
{
    AF_TEST_PASS(plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5,5-15\n", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "layer 30-60: cannot read",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5,5-15,15-30,30-60\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "depth: 'top' is not top-bottom",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5\ndepth = top\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "depth: depth 0-30 cm is not covered",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5,5-15\ndepth = 0-30\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "layers: layer '5-3'", plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5,5-3\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "has no {layer} placeholder", plan(SOIL "path = soil/bd_0-5.tif\nlayers = 0-5\n", err));
    AF_TEST_FAILS_WITH(AF_ECRS, "has no CRS", plan(SOIL "path = nocrs_{layer}.tif\nlayers = 0-5\n", err));
    AF_TEST_PASS(plan(SOIL "path = nocrs_{layer}.tif\nlayers = 0-5\ncrs = EPSG:5070\n", err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "grid or CRS differs from layer 0-5",
                       plan(SOIL "path = {layer}.tif\nlayers = 0-5,5-15\ncrs = EPSG:5070\n", err));
    /* cropland weights on another grid are averaged onto the soil cells: accepted */
    AF_TEST_PASS(plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5\ncropland_weights = nocrs_0-5.tif\ncrs = EPSG:5070\n", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "cropland_weights: cannot read",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5\ncropland_weights = nope.tif\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "cropland_classes: needs cropland_weights",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5\ncropland_classes = 1\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "cropland_classes: class 'corn' is not a class code",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5\ncropland_weights = soil/cropland.tif\n"
                                 "cropland_classes = corn\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "min_valid_fraction: '2' is not a number in 0..1",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5\nmin_valid_fraction = 2\n", err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "source_units",
                       plan("[input.B]\nsource = soil\nsource_units = g cm-3\nunits = g kg-1\n"
                            "path = soil/bd_{layer}.tif\nlayers = 0-5\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "transform: differs from [input.B]",
                       plan(SOIL "path = soil/bd_{layer}.tif\nlayers = 0-5\n"
                                 "[input.B2]\nsource = soil\nsource_units = g cm-3\nunits = Mg m-3\n"
                                 "path = soil/bd_{layer}.tif\nlayers = 0-5\ntransform = log10\n", err));
    /* cdl */
    AF_TEST_PASS(plan(CDL "path = cdl/{year}_30m_cdls.tif\nclasses = 1\n", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no CDL raster for year 2020: cannot read",
                       plan(CDL "path = cdl/{year}_cdls.tif\nclasses = 1\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "has no {year}", plan(CDL "path = cdl/2020_30m_cdls.tif\nclasses = 1\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "classes: unknown class 'maize'",
                       plan(CDL "path = cdl/{year}_30m_cdls.tif\nclasses = maize\nclass_table = cdl/classes.csv\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "crop_classes: unknown class 'maize'",
                       plan(CDL "path = cdl/{year}_30m_cdls.tif\nclasses = 1\ncrop_classes = maize\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "classes: required with statistic = fraction",
                       plan(CDL "path = cdl/{year}_30m_cdls.tif\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "'other' only with statistic = fraction",
                       plan("[input.C]\nsource = cdl\nunits = flag\nstatistic = dominant_in\nclasses = other\n"
                            "path = cdl/{year}_30m_cdls.tif\n", err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "statistic = dominant gives 'class'",
                       plan("[input.C]\nsource = cdl\nunits = 1\nstatistic = dominant\npath = cdl/{year}_30m_cdls.tif\n", err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "class_table: cannot read",
                       plan(CDL "path = cdl/{year}_30m_cdls.tif\nclasses = 1\nclass_table = none.csv\n", err));
    AF_TEST_FAILS_WITH(AF_ECRS, "has no CRS", plan(CDL "path = nocrs{year}.tif\nclasses = 1\n", err));
    /* at run time: a class value outside 0..255 (a county over the bad cell) */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "class value 300", run(CDL "path = big{year}.tif\nclasses = 1\n", err));
    /* gridded */
    AF_TEST_FAILS_WITH(AF_ECONFIG, "cropland_classes: needs cropland_weights",
                       plan("[input.W]\nsource = gridded\npath = soil/bd_0-5.tif\nformat = stack\nstack_start = 2020-01-01\n"
                            "source_units = degC\nunits = degC\ncropland_classes = 1\n", err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "cropland_classes: class '256'",
                       plan("[input.W]\nsource = gridded\npath = soil/bd_0-5.tif\nformat = stack\nstack_start = 2020-01-01\n"
                            "source_units = degC\nunits = degC\ncropland_weights = cdl/2020_30m_cdls.tif\n"
                            "cropland_classes = 1,256\n", err));
}

/* The plain means over coverage runs (wholly covered runs summed without fractions, the rest weighted)
 * against a plain reference: af_coverage_compute's cells and fractions times the cell area and value,
 * summed cell by cell. Polygons with a hole (one hole edge on a grid line), two parts, one thinner than a
 * row (boundary cells only) and a slanted quadrilateral; values with nodata, NaN and infinity; rows stored
 * north to south and south to north. Tile mode (Float32) and strip mode (a Float64 copy, same strips)
 * must give the same bits. */
static void zonal_reference(const rz_raster *t, const af_polygon *p, double out[5])
{
    af_coverage cov;
    memset(out, 0, 5 * sizeof *out);
    AF_TEST_PASS(af_coverage_compute(&t->grid, p, &cov, err));
    for (size_t k = 0; k < cov.n; k++) {
        long cell = t->grid.rows_up ? (TH - 1 - cov.cell[k] / TW) * TW + cov.cell[k] % TW : cov.cell[k];
        double a = cov.frac[k] * 100.0, v = (double)(float)tv[cell];
        out[0] += a;
        out[3] += 1;
        if (isfinite(v) && v != -9999) { out[1] += a; out[2] += a * v; out[4] += fabs(a * v); }
    }
    af_coverage_dispose(&cov);
}

/* One orientation (south_up) of test_zonal_runs. */
static void zonal_runs_check(void)
{
    AF_EXPECT(write_tiled("r4.tif", GDT_Float32, 1) == 0);
    AF_EXPECT(write_tiled("r8.tif", GDT_Float64, 1) == 0);
    static const double outer[] = { 1012, 1515, 1395, 1515, 1395, 1985, 1012, 1985 };
    static const double hole[] = { 1100, 1600, 1255.5, 1600, 1255.5, 1803.3, 1100, 1803.3 };
    static const double part1[] = { 1420, 1520, 1690, 1530, 1550, 1700 };
    static const double part2[] = { 1420, 1750, 1600, 1760, 1680, 1990, 1450, 1950 };
    static const double thin[] = { 1050, 1502, 1650, 1504, 1650, 1508, 1050, 1507 };
    static const double quad[] = { 1003.3, 1640, 1480, 1511, 1697, 1780, 1200, 1996.5 };
    af_ring rings[6] = { { outer, 4, 0 }, { hole, 4, 1 }, { part1, 3, 0 }, { part2, 4, 0 }, { thin, 4, 0 },
                         { quad, 4, 0 } };
    af_polygon polys[4] = { { rings, 2 }, { rings + 2, 2 }, { rings + 4, 1 }, { rings + 5, 1 } };
    rz_raster t4, t8;
    char p[512];
    snprintf(p, sizeof p, "%s/r4.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&t4, p, "", err));
    snprintf(p, sizeof p, "%s/r8.tif", dir);
    AF_TEST_PASS(af__rz_raster_open(&t8, p, "", err));
    AF_EXPECT(t4.grid.rows_up == south_up);
    double b4[20], b8[20];
    for (long strip = 0; strip <= TW * 16; strip += TW * 16) { /* one strip; strips of one block row */
        rz_result r4 = { b4, b4 + 4, b4 + 8, NULL, b4 + 12, b4 + 16 }, r8 = { b8, b8 + 4, b8 + 8, NULL, b8 + 12, b8 + 16 };
        rz_stats st4, st8;
        const rz_raster *a4[1] = { &t4 }, *a8[1] = { &t8 };
        AF_TEST_PASS(af__rz_zonal(a4, 1, NULL, polys, 4, RZ_MEAN, 0, strip, &r4, &st4, err));
        AF_TEST_PASS(af__rz_zonal(a8, 1, NULL, polys, 4, RZ_MEAN, 0, strip, &r8, &st8, err));
        AF_EXPECT(memcmp(b4, b8, sizeof b4) == 0); /* tile and strip modes: the same bits */
        double cells = 0;
        for (int q = 0; q < 4; q++) {
            double ref[5];
            zonal_reference(&t4, &polys[q], ref);
            AF_EXPECT_NEAR(r4.area_cov[q], ref[0], 1e-9 * ref[0]);
            AF_EXPECT_NEAR(r4.sum_wall[q], ref[0], 1e-9 * ref[0]);
            AF_EXPECT_NEAR(r4.sum_wv[q], ref[1], 1e-9 * ref[1]);
            AF_EXPECT_NEAR(r4.sum_wx[q], ref[2], 1e-9 * ref[4]);
            AF_EXPECT(ref[1] > 0 && ref[1] < ref[0]); /* every polygon has invalid cells */
            cells += ref[3];
        }
        AF_EXPECT(st4.cells == (long long)cells && st8.cells == st4.cells);
    }
    af__rz_raster_close(&t4);
    af__rz_raster_close(&t8);
}

static void test_zonal_runs(void)
{
    for (int r = 0; r < TH; r++)
        for (int c = 0; c < TW; c++) {
            int k = (r * 7 + c * 3) % 29;
            tv[r * TW + c] = k == 0 ? -9999 : k == 1 ? NAN : k == 2 ? INFINITY : 1 + r * 0.5 - c * 0.125;
        }
    for (south_up = 0; south_up <= 1; south_up++) zonal_runs_check();
    south_up = 0;
}

/* The kernel of the wholly covered runs (SSE2 or scalar body, and AVX2 where the CPU has it) against
 * lane sums written here: cell c in lane (col + c) % 8, ascending, valid = finite and not nodata. Every
 * length 0..70 at every alignment, values with NaN, infinities, nodata and -0.0: the same bits. */
static void test_full_lanes(void)
{
    float v[80];
    uint64_t s = 12345;
    for (int i = 0; i < 80; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int k = (int)(s >> 59);
        v[i] = k == 0 ? NAN : k == 1 ? INFINITY : k == 2 ? -INFINITY : k == 3 ? -9999.0f : k == 4 ? -0.0f
             : (float)((double)(s >> 11) / 9007199254740992.0 * 200 - 100);
    }
    int bad = 0;
    for (long n = 0; n <= 70; n++)
        for (long col = 0; col < 9; col++)
            for (int avx2 = 0; avx2 <= 1; avx2++) {
                double ref[8] = { 0 }, got[8] = { 0 };
                long long rn = 0, gn = -1;
                for (long c = 0; c < n; c++)
                    if (isfinite(v[c]) && v[c] != -9999.0f) { ref[(col + c) % 8] += (double)v[c]; rn++; }
                af__rz_full_lanes(v, -9999.0f, n, col, avx2, got, &gn);
                bad += memcmp(ref, got, sizeof ref) != 0 || rn != gn;
                /* no nodata value (NaN): -9999 counts */
                double ref2[8] = { 0 }, got2[8] = { 0 };
                rn = 0;
                for (long c = 0; c < n; c++)
                    if (isfinite(v[c])) { ref2[(col + c) % 8] += (double)v[c]; rn++; }
                af__rz_full_lanes(v, NAN, n, col, avx2, got2, &gn);
                bad += memcmp(ref2, got2, sizeof ref2) != 0 || rn != gn;
            }
    AF_EXPECT(bad == 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    GDALAllRegister();
    snprintf(dir, sizeof dir, "/tmp/af-soil-unit-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    af_error e = AF_ERROR_INIT;
    af_synth_county *c = NULL;
    char p[512];
    snprintf(p, sizeof p, "%s/counties.geojson", dir);
    int ok = af_synth_counties_make(4, 3, &c, &e) == AF_OK && af_synth_counties_write(p, c, 4, &e) == AF_OK &&
             af_synth_soil_write(dir, 20000, 2, &e) == AF_OK && af_synth_cdl_write(dir, 2020, 2020, 20000, 2, &e) == AF_OK;
    af_synth_counties_free(c, 4);
    /* rasters for error cases: no CRS; a second layer on another grid; a CDL with class 300 everywhere */
    static double z[4] = { 1, 1, 1, 1 };
    static double big[40 * 30];
    for (int i = 0; i < 40 * 30; i++) big[i] = 300;
    ok = ok && write_tif("nocrs_0-5.tif", GDT_Float32, 2, 2, 0, 0, 1, 0, z, 0, 0) == 0 &&
         write_tif("nocrs2020.tif", GDT_Byte, 2, 2, 0, 0, 1, 0, z, 0, 0) == 0 &&
         write_tif("0-5.tif", GDT_Float32, 2, 2, 0, 0, 1, 5070, z, 0, 0) == 0 &&
         write_tif("5-15.tif", GDT_Float32, 2, 2, 0, 0, 2, 5070, z, 0, 0) == 0 &&
         write_tif("big2020.tif", GDT_UInt16, 40, 30, 0, 2400000, 20000, 5070, big, 0, 0) == 0;
    if (!ok) {
        fprintf(stderr, "cannot write the test inputs in %s: %s\n", dir, e.msg);
        MPI_Finalize();
        return 1;
    }
    AF_RUN(test_layers_and_depth);
    AF_RUN(test_units);
    AF_RUN(test_classes);
    AF_RUN(test_zonal);
    AF_RUN(test_zonal_tiles);
    AF_RUN(test_zonal_runs);
    AF_RUN(test_full_lanes);
    AF_RUN(test_errors);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    MPI_Finalize();
    return AF_TEST_END();
}
