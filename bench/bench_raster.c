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
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "raster_zonal.h"

typedef struct opts {
    long cols, rows, counties, strip_cells, repeat;
    const char *dir, *polygons; /* polygons: an OGR layer of real outlines instead of the quadrilaterals */
    double segment;             /* > 0: densify the outlines to segments of at most this length (m) */
    double x0, y0, res;         /* the raster's top-left corner and cell size (EPSG:5070 metres) */
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
                "                    [--polygons FILE [--segment M]]\n"
                "  defaults: 12000 x 10000 cells of 30 m (1.2e8 cells, 480 MB), K = 10 (10 x 10 counties),\n"
                "  S = 4194304 (the sources' default), R = 3. A state: --cols 20000 --rows 15000 (3e8 cells).\n"
                "  --polygons: the outlines of an OGR layer (e.g. ../shared/fixtures/counties_ia_il_in.geojson) in\n"
                "  EPSG:5070 instead of K x K quadrilaterals, the raster's square cells over their envelope;\n"
                "  --segment M: edges cut into pieces of at most M metres (outlines with many vertices).\n");
}

#define RES 30.0
#define X0 100000.0
#define Y0 2300000.0

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){ 12000, 10000, 10, 1L << 22, 3, ".", NULL, 0, X0, Y0, RES };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        if (i + 1 >= argc) { usage(stderr); return 1; }
        const char *v = argv[++i];
        if (!strcmp(a, "--dir")) { o->dir = v; continue; }
        if (!strcmp(a, "--polygons")) { o->polygons = v; continue; }
        if (!strcmp(a, "--segment")) { o->segment = atof(v); if (o->segment > 0) continue; usage(stderr); return 1; }
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

/* Write the raster tile-row by tile-row (memory: 256 rows). */
static int write_raster(const char *path, const opts *o)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char *copts[] = { "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "BIGTIFF=IF_SAFER", NULL };
    GDALDatasetH ds = GDALCreate(drv, path, (int)o->cols, (int)o->rows, 1, GDT_Float32, copts);
    if (!ds) return 1;
    double gt[6] = { o->x0, o->res, 0, o->y0, 0, -o->res };
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
    double w = (double)o->cols * o->res, h = (double)o->rows * o->res;
    double *nx = malloc((size_t)((K + 1) * (K + 1)) * sizeof *nx), *ny = malloc((size_t)((K + 1) * (K + 1)) * sizeof *ny);
    uint64_t s = 12345;
    for (long j = 0; j <= K; j++)
        for (long i = 0; i <= K; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double jx = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double jy = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            int inner_x = i > 0 && i < K, inner_y = j > 0 && j < K;
            nx[j * (K + 1) + i] = o->x0 + w * ((double)i + (inner_x ? 0.3 * jx : 0)) / (double)K;
            ny[j * (K + 1) + i] = o->y0 - h * ((double)j + (inner_y ? 0.3 * jy : 0)) / (double)K;
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

/* Real outlines: every polygon part of an OGR layer in EPSG:5070 (optionally densified), as one polygon
 * per feature; vertices in one array (ring pointers set once all are read). */
typedef struct polyset {
    double *xy;
    size_t nxy, nv;
    af_ring *rings;
    size_t nrings;
    size_t *roff;           /* [nrings] offset of each ring in xy */
    af_polygon *polys;
    size_t np;
    size_t *p0;             /* [np] first ring of each polygon */
    double area, env[4];    /* total area (m^2); envelope minx, maxx, miny, maxy */
} polyset;

static int add_ogr_ring(polyset *ps, OGRGeometryH ring, int hole)
{
    int n = OGR_G_GetPointCount(ring);
    if (n < 3) return 0;
    double *xy = realloc(ps->xy, (ps->nxy + 2 * (size_t)n) * sizeof *xy);
    af_ring *rg = realloc(ps->rings, (ps->nrings + 1) * sizeof *rg);
    size_t *ro = realloc(ps->roff, (ps->nrings + 1) * sizeof *ro);
    if (xy) ps->xy = xy;
    if (rg) ps->rings = rg;
    if (ro) ps->roff = ro;
    if (!xy || !rg || !ro) return 1;
    for (int i = 0; i < n; i++) {
        ps->xy[ps->nxy + 2 * (size_t)i] = OGR_G_GetX(ring, i);
        ps->xy[ps->nxy + 2 * (size_t)i + 1] = OGR_G_GetY(ring, i);
    }
    ps->roff[ps->nrings] = ps->nxy;
    ps->rings[ps->nrings++] = (af_ring){ NULL, (size_t)n, hole };
    ps->nxy += 2 * (size_t)n;
    ps->nv += (size_t)n;
    return 0;
}

static int add_ogr_geometry(polyset *ps, OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbMultiPolygon) {
        for (int k = 0; k < OGR_G_GetGeometryCount(g); k++)
            if (add_ogr_geometry(ps, OGR_G_GetGeometryRef(g, k))) return 1;
        return 0;
    }
    if (t != wkbPolygon) return 0;
    for (int r = 0; r < OGR_G_GetGeometryCount(g); r++)
        if (add_ogr_ring(ps, OGR_G_GetGeometryRef(g, r), r > 0)) return 1;
    return 0;
}

static int load_polys(const char *path, double segment, polyset *ps)
{
    memset(ps, 0, sizeof *ps);
    ps->env[0] = ps->env[2] = INFINITY;
    ps->env[1] = ps->env[3] = -INFINITY;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) return 1;
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRSpatialReferenceH dst = OSRNewSpatialReference(NULL), src = l ? OSRClone(OGR_L_GetSpatialRef(l)) : NULL;
    OSRImportFromEPSG(dst, 5070);
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    if (src) OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = src ? OCTNewCoordinateTransformation(src, dst) : NULL;
    int bad = ct == NULL;
    OGRFeatureH f;
    if (!bad) OGR_L_ResetReading(l);
    while (!bad && (f = OGR_L_GetNextFeature(l)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f) ? OGR_G_Clone(OGR_F_GetGeometryRef(f)) : NULL;
        size_t r0 = ps->nrings;
        if (g && OGR_G_Transform(g, ct) == OGRERR_NONE) {
            if (segment > 0) OGR_G_Segmentize(g, segment);
            OGREnvelope e;
            OGR_G_GetEnvelope(g, &e);
            ps->env[0] = fmin(ps->env[0], e.MinX);
            ps->env[1] = fmax(ps->env[1], e.MaxX);
            ps->env[2] = fmin(ps->env[2], e.MinY);
            ps->env[3] = fmax(ps->env[3], e.MaxY);
            ps->area += OGR_G_Area(g);
            bad = add_ogr_geometry(ps, g);
        }
        if (g) OGR_G_DestroyGeometry(g);
        OGR_F_Destroy(f);
        if (bad || ps->nrings == r0) continue;
        af_polygon *pp = realloc(ps->polys, (ps->np + 1) * sizeof *pp);
        size_t *p0 = realloc(ps->p0, (ps->np + 1) * sizeof *p0);
        if (pp) ps->polys = pp;
        if (p0) ps->p0 = p0;
        if (!pp || !p0) { bad = 1; break; }
        ps->p0[ps->np] = r0;
        ps->polys[ps->np++] = (af_polygon){ NULL, ps->nrings - r0 };
    }
    for (size_t i = 0; !bad && i < ps->nrings; i++) ps->rings[i].xy = ps->xy + ps->roff[i];
    for (size_t p = 0; !bad && p < ps->np; p++) ps->polys[p].rings = ps->rings + ps->p0[p];
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (src) OSRDestroySpatialReference(src);
    OSRDestroySpatialReference(dst);
    GDALClose(ds);
    return bad || ps->np == 0;
}

static void free_polys(polyset *ps)
{
    free(ps->xy);
    free(ps->rings);
    free(ps->roff);
    free(ps->polys);
    free(ps->p0);
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
    polyset ps;
    memset(&ps, 0, sizeof ps);
    if (o.polygons) { /* square cells over the outlines' envelope */
        if (load_polys(o.polygons, o.segment, &ps)) { fprintf(stderr, "cannot read polygons from %s\n", o.polygons); return 1; }
        np = (long)ps.np;
        o.res = fmax((ps.env[1] - ps.env[0]) / (double)o.cols, (ps.env[3] - ps.env[2]) / (double)o.rows) * (1 + 1e-9);
        o.x0 = ps.env[0];
        o.y0 = ps.env[3];
        printf("polygons: %zu outlines from %s (%zu rings, %zu vertices, %.1f a ring)\n", ps.np, o.polygons,
               ps.nrings, ps.nv, (double)ps.nv / (double)ps.nrings);
    }
    double cells = (double)o.cols * (double)o.rows;
    printf("raster %ld x %ld cells of %.4g m (%.3g cells, %.0f MB Float32), %ld counties, strips of ~%ld cells\n", o.cols,
           o.rows, o.res, cells, cells * 4 / 1e6, np, o.strip_cells);
    printf("peak RSS at start %.1f MB\n", peak_rss_mb());
    double t = now();
    if (write_raster(path, &o)) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    printf("generated in %.2f s; peak RSS after generation %.1f MB\n", now() - t, peak_rss_mb());
    double *xy = malloc((size_t)np * 8 * sizeof *xy), *b = malloc((size_t)np * 5 * sizeof *b);
    af_ring *rings = malloc((size_t)np * sizeof *rings);
    af_polygon *polys = malloc((size_t)np * sizeof *polys);
    if (!xy || !b || !rings || !polys) return 1;
    if (o.polygons) memcpy(polys, ps.polys, (size_t)np * sizeof *polys);
    else make_polys(&o, xy, rings, polys);
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
    if (o.polygons)
        printf("coverage check: covered area / polygon area %.9f (1 expected: the raster holds them all), %lld cell "
               "visits, %ld strips\n", sum / ps.area, st.cells, st.strips);
    else
        printf("coverage check: counties cover %.9f of the raster (1 expected), %lld cell visits, %ld strips\n",
               sum / (cells * o.res * o.res), st.cells, st.strips);
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
    free_polys(&ps);
    return 0;
}
