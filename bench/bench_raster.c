/* SPDX-License-Identifier: MIT */
/*
 * bench_raster.c: throughput of the streaming zonal statistics behind the soil
 * and cdl sources (af__rz_zonal: strips of rows, exact coverage of each
 * county, weighted sums) on a synthetic state-sized 30 m GeoTIFF (EPSG:5070,
 * Float32, 256x256 tiles) tiled by jittered quadrilateral "counties", against
 * GDAL reading the same raster in the same strips in the same run. Prints
 * cells/s of both, the ratio, and peak RSS next to the raster's size to show
 * memory is bounded by a strip, not by the raster. Removes its files.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "raster_zonal.h"

typedef struct opts {
    long cols, rows, counties, strip_cells, repeat;
    const char *dir;
} opts;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of this process: less sensitive than wall time to other jobs on a shared machine. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: bench_raster [--cols N] [--rows N] [--counties K] [--strip-cells S] [--repeat R] [--dir DIR]\n"
                "  defaults: 12000 x 10000 cells of 30 m (1.2e8 cells, 480 MB), K = 10 (10 x 10 counties),\n"
                "  S = 4194304 (the sources' default), R = 3. A state: --cols 20000 --rows 15000 (3e8 cells).\n");
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){ 12000, 10000, 10, 1L << 22, 3, "." };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        if (i + 1 >= argc) { usage(stderr); return 1; }
        const char *v = argv[++i];
        if (!strcmp(a, "--dir")) { o->dir = v; continue; }
        long n = atol(v);
        if (n <= 0) { usage(stderr); return 1; }
        if (!strcmp(a, "--cols")) o->cols = n;
        else if (!strcmp(a, "--rows")) o->rows = n;
        else if (!strcmp(a, "--counties")) o->counties = n;
        else if (!strcmp(a, "--strip-cells")) o->strip_cells = n;
        else if (!strcmp(a, "--repeat")) o->repeat = n;
        else { usage(stderr); return 1; }
    }
    return 0;
}

#define RES 30.0
#define X0 100000.0
#define Y0 2300000.0

/* Write the raster tile-row by tile-row (memory: 256 rows). */
static int write_raster(const char *path, const opts *o)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char *copts[] = { "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "BIGTIFF=IF_SAFER", NULL };
    GDALDatasetH ds = GDALCreate(drv, path, (int)o->cols, (int)o->rows, 1, GDT_Float32, copts);
    if (!ds) return 1;
    double gt[6] = { X0, RES, 0, Y0, 0, -RES };
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 5070);
    GDALSetSpatialRef(ds, s);
    OSRDestroySpatialReference(s);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, -9999);
    float *buf = malloc((size_t)o->cols * 256 * sizeof *buf);
    int bad = buf == NULL;
    for (long r0 = 0; !bad && r0 < o->rows; r0 += 256) {
        long h = o->rows - r0 < 256 ? o->rows - r0 : 256;
        for (long r = 0; r < h; r++)
            for (long c = 0; c < o->cols; c++) {
                long k = ((r0 + r) * 7 + c * 3) % 1000;
                buf[r * o->cols + c] = k == 999 ? -9999.0f : 1.0f + 0.001f * (float)k;
            }
        bad = GDALRasterIO(b, GF_Write, 0, (int)r0, (int)o->cols, (int)h, buf, (int)o->cols, (int)h, GDT_Float32, 0,
                           0) != CE_None;
    }
    free(buf);
    GDALClose(ds);
    return bad;
}

/* K x K quadrilaterals over the raster, interior nodes jittered by 30% of a county (deterministic). */
static void make_polys(const opts *o, double *xy, af_ring *rings, af_polygon *polys)
{
    long K = o->counties;
    double w = (double)o->cols * RES, h = (double)o->rows * RES;
    double *nx = malloc((size_t)((K + 1) * (K + 1)) * sizeof *nx), *ny = malloc((size_t)((K + 1) * (K + 1)) * sizeof *ny);
    uint64_t s = 12345;
    for (long j = 0; j <= K; j++)
        for (long i = 0; i <= K; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double jx = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double jy = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            int inner_x = i > 0 && i < K, inner_y = j > 0 && j < K;
            nx[j * (K + 1) + i] = X0 + w * ((double)i + (inner_x ? 0.3 * jx : 0)) / (double)K;
            ny[j * (K + 1) + i] = Y0 - h * ((double)j + (inner_y ? 0.3 * jy : 0)) / (double)K;
        }
    for (long j = 0; j < K; j++)
        for (long i = 0; i < K; i++) {
            long p = j * K + i;
            double *q = xy + 8 * p;
            long n[4] = { j * (K + 1) + i, j * (K + 1) + i + 1, (j + 1) * (K + 1) + i + 1, (j + 1) * (K + 1) + i };
            for (int k = 0; k < 4; k++) { q[2 * k] = nx[n[k]]; q[2 * k + 1] = ny[n[k]]; }
            rings[p] = (af_ring){ q, 4, 0 };
            polys[p] = (af_polygon){ &rings[p], 1 };
        }
    free(nx);
    free(ny);
}

/* GDAL alone: the same strips over the whole raster, summed so the read cannot be skipped. */
static double gdal_read(const rz_raster *r, long strip_cells, double *checksum, double *cpu)
{
    long h = strip_cells / r->grid.nx / r->blk_y * r->blk_y;
    if (h < r->blk_y) h = r->blk_y;
    float *buf = malloc((size_t)h * (size_t)r->grid.nx * sizeof *buf);
    double t0 = now(), c0 = cpu_now(), s = 0;
    for (long r0 = 0; buf && r0 < r->grid.ny; r0 += h) {
        long n = r->grid.ny - r0 < h ? r->grid.ny - r0 : h;
        if (GDALRasterIO(r->band, GF_Read, 0, (int)r0, (int)r->grid.nx, (int)n, buf, (int)r->grid.nx, (int)n,
                         GDT_Float32, 0, 0) != CE_None)
            break;
        for (long i = 0; i < n * r->grid.nx; i++) s += buf[i];
    }
    double t = now() - t0;
    *cpu = cpu_now() - c0;
    free(buf);
    *checksum = s;
    return t;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o)) return 2;
    GDALAllRegister();
    CPLSetConfigOption("GDAL_CACHEMAX", "64"); /* MB: GDAL's block cache must not hold the raster */
    char path[4200];
    snprintf(path, sizeof path, "%s/bench_raster.%ld.tif", o.dir, (long)getpid());
    long K = o.counties, np = K * K;
    double cells = (double)o.cols * (double)o.rows;
    printf("raster %ld x %ld cells of 30 m (%.3g cells, %.0f MB Float32), %ld counties, strips of ~%ld cells\n", o.cols,
           o.rows, cells, cells * 4 / 1e6, np, o.strip_cells);
    printf("peak RSS at start %.1f MB\n", peak_rss_mb());
    double t = now();
    if (write_raster(path, &o)) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    printf("generated in %.2f s; peak RSS after generation %.1f MB\n", now() - t, peak_rss_mb());
    double *xy = malloc((size_t)np * 8 * sizeof *xy), *b = malloc((size_t)np * 5 * sizeof *b);
    af_ring *rings = malloc((size_t)np * sizeof *rings);
    af_polygon *polys = malloc((size_t)np * sizeof *polys);
    if (!xy || !b || !rings || !polys) return 1;
    make_polys(&o, xy, rings, polys);
    rz_raster r;
    af_error err = AF_ERROR_INIT;
    int rc = af__rz_raster_open(&r, path, "", &err);
    if (rc != AF_OK) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double best_g = INFINITY, best_z = INFINITY, cpu_g = INFINITY, cpu_z = INFINITY, sum = 0;
    rz_stats st = { 0, 0, 0 };
    for (long rep = 0; rep < o.repeat && rc == AF_OK; rep++) {
        double ck, cg, tg = gdal_read(&r, o.strip_cells, &ck, &cg);
        rz_result res = { b, b + np, b + 2 * np, NULL, b + 3 * np, b + 4 * np };
        double t0 = now(), c0 = cpu_now();
        const rz_raster *rp = &r;
        rc = af__rz_zonal(&rp, 1, NULL, polys, (size_t)np, RZ_MEAN, 0, o.strip_cells, &res, &st, &err);
        double tz = now() - t0, cz = cpu_now() - c0;
        sum = 0;
        for (long p = 0; p < np; p++) sum += res.area_cov[p];
        fprintf(stderr, "repeat %ld: gdal %.3f s (cpu %.3f s), zonal %.3f s (cpu %.3f s)\n", rep, tg, cg, tz, cz);
        best_g = tg < best_g ? tg : best_g;
        best_z = tz < best_z ? tz : best_z;
        cpu_g = cg < cpu_g ? cg : cpu_g;
        cpu_z = cz < cpu_z ? cz : cpu_z;
    }
    af__rz_raster_close(&r);
    remove(path);
    if (rc != AF_OK) { fprintf(stderr, "zonal: %s\n", err.msg); return 1; }
    printf("coverage check: counties cover %.9f of the raster (1 expected), %lld cell visits, %ld strips\n",
           sum / (cells * RES * RES), st.cells, st.strips);
    printf("gdal read   %.3f s  %.1f Mcells/s  (cpu %.3f s)\n", best_g, cells / best_g / 1e6, cpu_g);
    printf("zonal       %.3f s  %.1f Mcells/s  (cpu %.3f s)\n", best_z, cells / best_z / 1e6, cpu_z);
    printf("peak RSS %.1f MB for a %.0f MB raster\n", peak_rss_mb(), cells * 4 / 1e6);
    printf("cpu-time ratio zonal/gdal = %.3f (best CPU times: what a loaded machine distorts least)\n",
           cpu_g / cpu_z);
    printf("RATIO zonal/gdal cells per second = %.3f\n", best_g / best_z);
    free(xy);
    free(b);
    free(rings);
    free(polys);
    return 0;
}
