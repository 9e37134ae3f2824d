/* SPDX-License-Identifier: MIT */
/*
 * bench_aggregate.c: speed of `source = gridded` (one year of daily gridMET-format
 * data aggregated to counties with exact coverage weights) against two baselines
 * measured in the same run on the same file: (a) the I/O floor, GDAL reading just
 * the counties' window for every day (classic band RasterIO in day blocks, and
 * one multidimensional hyperslab read), and (b) a naive per-county approach
 * (GDALRasterizeGeometries mask per county, then one RasterIO and a masked mean
 * per county and day). The file (synth_grid.c, tmmx on the real gridMET lattice)
 * and a jittered-lattice county layer are generated in a temporary directory.
 * agroflux runs in child processes (one MPI rank each, `--child`), so each block
 * size reports its own peak RSS. See bench/README.md.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <mpi.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "af_util.h"
#include "agroflux/pipeline.h"
#include "synth/synth_geo.h"
#include "synth/synth_grid.h"

#define MAX_BLOCKS 4

typedef struct opts {
    af_synth_box box;
    double county_deg;
    long year, repeat, naive_counties;
    int keep;
    long blocks[MAX_BLOCKS];
    int nblocks;
    const char *dir;
} opts;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_aggregate: %s: %s\n", what, detail);
    exit(1);
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: bench_aggregate [--box LON0,LON1,LAT0,LAT1] [--county-deg D] [--year Y]\n"
                "                       [--blocks B1,B2,...] [--naive-counties N] [--repeat R] [--dir DIR] [--keep]\n"
                "defaults: box -104,-80,36,49 (576 x 312 gridMET cells, 22%% of CONUS), county-deg 0.4\n"
                "          (about 1800 counties), year 2004 (366 days), blocks 31,366, naive-counties all (0: skip),\n"
                "          repeat 2, DIR = ./bench_aggregate.<pid> (created and removed unless --keep)\n");
}

static int parse_list(const char *v, double *out, int max)
{
    int n = 0;
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", v);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max || !af_parse_double(t, &out[n])) return -1;
        n++;
    }
    return n;
}

static int parse_args(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 1; }
        if (!strcmp(a, "--keep")) { o->keep = 1; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "bench_aggregate: %s needs a value\n", a); return 2; }
        const char *v = argv[++i];
        double l[MAX_BLOCKS > 4 ? MAX_BLOCKS : 4];
        int ok = 1;
        if (!strcmp(a, "--box")) {
            ok = parse_list(v, l, 4) == 4;
            o->box = (af_synth_box){ l[0], l[1], l[2], l[3] };
        } else if (!strcmp(a, "--county-deg")) ok = af_parse_double(v, &o->county_deg) && o->county_deg >= 0.05;
        else if (!strcmp(a, "--year")) ok = af_parse_long(v, &o->year);
        else if (!strcmp(a, "--repeat")) ok = af_parse_long(v, &o->repeat) && o->repeat >= 1;
        else if (!strcmp(a, "--naive-counties")) ok = af_parse_long(v, &o->naive_counties) && o->naive_counties >= 0;
        else if (!strcmp(a, "--dir")) o->dir = v;
        else if (!strcmp(a, "--blocks")) {
            o->nblocks = parse_list(v, l, MAX_BLOCKS);
            ok = o->nblocks > 0;
            for (int k = 0; ok && k < o->nblocks; k++) { o->blocks[k] = (long)l[k]; ok = l[k] >= 1; }
        } else {
            fprintf(stderr, "bench_aggregate: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) { fprintf(stderr, "bench_aggregate: %s: bad value '%s'\n", a, v); return 2; }
    }
    return 0;
}

/* ------------------------------------------------------------ inputs */

/* Jitter of lattice node (i, j) in [-0.25, 0.25) cell (splitmix-style hash, deterministic). */
static double jitter(long i, long j, int axis)
{
    uint64_t z = (uint64_t)(i * 1000003L + j * 7919L + axis) + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) / 9007199254740992.0 - 0.5) * 0.5;
}

/* Counties: a jittered lattice of quads tiling the box shrunk by 0.25 degree (shared nodes, no gaps). */
static int make_counties(const opts *o, af_synth_county **out, int *n)
{
    double lo0 = o->box.lon_min + 0.25, la0 = o->box.lat_min + 0.25;
    long nx = (long)floor((o->box.lon_max - o->box.lon_min - 0.5) / o->county_deg);
    long ny = (long)floor((o->box.lat_max - o->box.lat_min - 0.5) / o->county_deg);
    if (nx < 1 || ny < 1 || nx * ny > 89999) return 1;
    af_synth_county *c = calloc((size_t)(nx * ny), sizeof *c);
    if (!c) return 1;
    double d = o->county_deg;
    for (long j = 0; j < ny; j++)
        for (long i = 0; i < nx; i++) {
            af_synth_county *p = &c[j * nx + i];
            snprintf(p->fips, sizeof p->fips, "%05u", (unsigned)((10001 + j * nx + i) % 100000));
            snprintf(p->name, sizeof p->name, "Bench %ld", j * nx + i);
            p->nvert = 5;
            p->lon = malloc(5 * sizeof *p->lon);
            p->lat = malloc(5 * sizeof *p->lat);
            if (!p->lon || !p->lat) return 1;
            static const int di[5] = { 0, 1, 1, 0, 0 }, dj[5] = { 0, 0, 1, 1, 0 };
            for (int v = 0; v < 5; v++) {
                long a = i + di[v], b = j + dj[v];
                double jx = (a == 0 || a == nx) ? 0 : jitter(a, b, 0), jy = (b == 0 || b == ny) ? 0 : jitter(a, b, 1);
                p->lon[v] = lo0 + d * ((double)a + jx);
                p->lat[v] = la0 + d * ((double)b + jy);
            }
            p->area_deg2 = d * d;
        }
    *out = c;
    *n = (int)(nx * ny);
    return 0;
}

static void write_ini(const opts *o, long block, const char *name)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", o->dir, name);
    FILE *fp = fopen(p, "w");
    if (!fp) die("cannot write", p);
    fprintf(fp, "[pipeline]\nname = bench\nstart = %04ld-01-01\nend = %04ld-12-31\ncalendar = standard\n"
                "output = out\nshard_samples = 100000\nblock_days = %ld\n\n"
                "[counties]\nlayer = counties.geojson\nid_field = GEOID\nscenarios = base\n\n"
                "[input.TMAX_AIR]\nsource = gridded\npath = tmmx_{year}.nc\nvariable = air_temperature\n"
                "source_units = K\nunits = degC\n",
            o->year, o->year, block);
    if (fclose(fp) != 0) die("cannot write", p);
}

/* ------------------------------------------------------------ agroflux (child process) */

static int child_main(const char *ini, const char *outdir)
{
    MPI_Init(NULL, NULL);
    af_error e = AF_ERROR_INIT;
    af_run_opts ro = AF_RUN_OPTS_INIT;
    ro.output = outdir;
    af_run_summary s;
    int rc = af_pipeline_run(MPI_COMM_WORLD, ini, &ro, &s, &e);
    if (rc != AF_OK) fprintf(stderr, "bench_aggregate: run: %s\n", e.msg);
    else
        printf("read %.6f setup %.6f total %.6f rss %lld samples %zu days %d\n", s.stages[1].max, s.stages[0].max,
               s.seconds, s.peak_rss_bytes, s.nsamples, s.ndays);
    af_run_summary_dispose(&s);
    MPI_Finalize();
    return rc == AF_OK ? 0 : 1;
}

typedef struct run_res {
    double read, setup, total;
    long long rss;
    size_t samples;
    int days;
} run_res;

static run_res run_child(const opts *o, const char *ini, const char *out)
{
    char cmd[9000];
    run_res r;
    memset(&r, 0, sizeof r);
    snprintf(cmd, sizeof cmd, "/proc/%ld/exe --child '%s/%s' '%s/%s'", (long)getpid(), o->dir, ini, o->dir, out);
    FILE *p = popen(cmd, "r");
    if (!p) die("popen", strerror(errno));
    int n = fscanf(p, "read %lf setup %lf total %lf rss %lld samples %zu days %d", &r.read, &r.setup, &r.total,
                   &r.rss, &r.samples, &r.days);
    if (pclose(p) != 0 || n != 6) die("agroflux run failed", ini);
    return r;
}

/* ------------------------------------------------------------ baselines */

typedef struct window {
    int c0, r0, nc, nr;
} window;

/* Cells of the grid touched by the counties' region (what agroflux's read window covers). */
static window county_window(const double gt[6], const opts *o, int nx, int ny)
{
    double lo0 = o->box.lon_min + 0.25, lo1 = o->box.lon_max - 0.25;
    double la0 = o->box.lat_min + 0.25, la1 = o->box.lat_max - 0.25;
    window w;
    w.c0 = (int)floor((lo0 - gt[0]) / gt[1]);
    w.r0 = (int)floor((la1 - gt[3]) / gt[5]);
    int c1 = (int)ceil((lo1 - gt[0]) / gt[1]), r1 = (int)ceil((la0 - gt[3]) / gt[5]);
    w.c0 = w.c0 < 0 ? 0 : w.c0;
    w.r0 = w.r0 < 0 ? 0 : w.r0;
    w.nc = (c1 > nx ? nx : c1) - w.c0;
    w.nr = (r1 > ny ? ny : r1) - w.r0;
    return w;
}

static GDALDatasetH open_classic(const char *dir, long year, char *name, size_t n)
{
    snprintf(name, n, "NETCDF:\"%s/tmmx_%04ld.nc\":air_temperature", dir, year);
    GDALDatasetH ds = GDALOpenEx(name, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) die("cannot open", name);
    return ds;
}

/* (a1) classic API: every band of the window, block days per RasterIO, as Float32 (what the source asks for). */
static double floor_classic(const opts *o, long block, window *wout, int *nbands)
{
    char name[4300];
    GDALDatasetH ds = open_classic(o->dir, o->year, name, sizeof name);
    double gt[6];
    GDALGetGeoTransform(ds, gt);
    window w = county_window(gt, o, GDALGetRasterXSize(ds), GDALGetRasterYSize(ds));
    int nb = GDALGetRasterCount(ds);
    float *buf = malloc((size_t)block * (size_t)w.nc * (size_t)w.nr * sizeof *buf);
    int *map = malloc((size_t)block * sizeof *map);
    if (!buf || !map) die("malloc", "floor");
    double t = now();
    for (int b0 = 0; b0 < nb; b0 += (int)block) {
        int n = nb - b0 < block ? nb - b0 : (int)block;
        for (int i = 0; i < n; i++) map[i] = b0 + 1 + i;
        if (GDALDatasetRasterIO(ds, GF_Read, w.c0, w.r0, w.nc, w.nr, buf, w.nc, w.nr, GDT_Float32, n, map, 0, 0, 0) !=
            CE_None)
            die("RasterIO", CPLGetLastErrorMsg());
    }
    t = now() - t;
    GDALClose(ds);
    free(buf);
    free(map);
    *wout = w;
    *nbands = nb;
    return t;
}

/* (a2) multidimensional API: the same window, block days per hyperslab read, in the stored type (uint16). */
static double floor_multidim(const opts *o, long block, window w, int nb)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tmmx_%04ld.nc", o->dir, o->year);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_MULTIDIM_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) die("cannot open (multidim)", path);
    GDALGroupH root = GDALDatasetGetRootGroup(ds);
    GDALMDArrayH arr = root ? GDALGroupOpenMDArray(root, "air_temperature", NULL) : NULL;
    if (!arr) die("no array", "air_temperature");
    GDALExtendedDataTypeH nat = GDALMDArrayGetDataType(arr); /* as stored: no per-value conversion */
    float *buf = malloc((size_t)block * (size_t)w.nc * (size_t)w.nr * sizeof *buf);
    if (!buf) die("malloc", "multidim");
    double t = now();
    for (int b0 = 0; b0 < nb; b0 += (int)block) {
        int n = nb - b0 < block ? nb - b0 : (int)block;
        GUInt64 start[3] = { (GUInt64)b0, (GUInt64)w.r0, (GUInt64)w.c0 };
        size_t count[3] = { (size_t)n, (size_t)w.nr, (size_t)w.nc };
        if (!GDALMDArrayRead(arr, start, count, NULL, NULL, nat, buf, NULL, 0)) die("MDArrayRead", CPLGetLastErrorMsg());
    }
    t = now() - t;
    free(buf);
    GDALExtendedDataTypeRelease(nat);
    GDALMDArrayRelease(arr);
    GDALGroupRelease(root);
    GDALClose(ds);
    return t;
}

/* (b) naive: per county, rasterise a mask (cell centres) on its window, then per day read and average. */
static double naive(const opts *o, const af_synth_county *c, int ncounty, long *county_days)
{
    char name[4300];
    GDALDatasetH ds = open_classic(o->dir, o->year, name, sizeof name);
    double gt[6];
    GDALGetGeoTransform(ds, gt);
    int nb = GDALGetRasterCount(ds), has = 0;
    GDALRasterBandH b1 = GDALGetRasterBand(ds, 1);
    double scale = GDALGetRasterScale(b1, &has), offset = GDALGetRasterOffset(b1, &has);
    double nodata = GDALGetRasterNoDataValue(b1, &has);
    GDALDriverH mem = GDALGetDriverByName("MEM");
    double sink = 0, t = now();
    for (int k = 0; k < ncounty; k++) {
        const af_synth_county *p = &c[k];
        double xmin = 1e9, xmax = -1e9, ymin = 1e9, ymax = -1e9;
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing), poly = OGR_G_CreateGeometry(wkbPolygon);
        for (int v = 0; v < p->nvert; v++) {
            OGR_G_AddPoint_2D(ring, p->lon[v], p->lat[v]);
            xmin = fmin(xmin, p->lon[v]); xmax = fmax(xmax, p->lon[v]);
            ymin = fmin(ymin, p->lat[v]); ymax = fmax(ymax, p->lat[v]);
        }
        OGR_G_AddGeometryDirectly(poly, ring);
        int c0 = (int)floor((xmin - gt[0]) / gt[1]), c1 = (int)ceil((xmax - gt[0]) / gt[1]);
        int r0 = (int)floor((ymax - gt[3]) / gt[5]), r1 = (int)ceil((ymin - gt[3]) / gt[5]);
        int nc = c1 - c0, nr = r1 - r0;
        GDALDatasetH m = GDALCreate(mem, "", nc, nr, 1, GDT_Byte, NULL);
        double mgt[6] = { gt[0] + c0 * gt[1], gt[1], 0, gt[3] + r0 * gt[5], 0, gt[5] };
        GDALSetGeoTransform(m, mgt);
        int band = 1;
        double burn = 1;
        if (GDALRasterizeGeometries(m, 1, &band, 1, &poly, NULL, NULL, &burn, NULL, NULL, NULL) != CE_None)
            die("GDALRasterizeGeometries", CPLGetLastErrorMsg());
        unsigned char *mask = malloc((size_t)nc * (size_t)nr);
        float *v = malloc((size_t)nc * (size_t)nr * sizeof *v);
        if (!mask || !v) die("malloc", "naive");
        if (GDALRasterIO(GDALGetRasterBand(m, 1), GF_Read, 0, 0, nc, nr, mask, nc, nr, GDT_Byte, 0, 0) != CE_None)
            die("mask read", CPLGetLastErrorMsg());
        for (int d = 0; d < nb; d++) {
            if (GDALRasterIO(GDALGetRasterBand(ds, d + 1), GF_Read, c0, r0, nc, nr, v, nc, nr, GDT_Float32, 0, 0) != CE_None)
                die("RasterIO", CPLGetLastErrorMsg());
            double s = 0;
            long n = 0;
            for (int i = 0; i < nc * nr; i++)
                if (mask[i] && v[i] != nodata) { s += v[i] * scale + offset; n++; }
            sink += n ? s / (double)n : 0;
        }
        free(mask);
        free(v);
        GDALClose(m);
        OGR_G_DestroyGeometry(poly);
    }
    t = now() - t;
    GDALClose(ds);
    *county_days = (long)ncounty * nb;
    if (sink == 12345.678) printf(" "); /* keep the means alive */
    return t;
}

/* ------------------------------------------------------------ driver */

static void setup(opts *o, af_synth_county **c, int *nc)
{
    af_error e = AF_ERROR_INIT;
    char p[4200];
    if (af_mkdirs(o->dir, &e) != AF_OK) die("mkdir", e.msg);
    double t = now();
    if (af__synth_gridmet_write(o->dir, "tmmx", (int)o->year, &o->box, &e) != AF_OK) die("synth gridMET", e.msg);
    if (make_counties(o, c, nc)) die("counties", "bad box or county size");
    snprintf(p, sizeof p, "%s/counties.geojson", o->dir);
    remove(p);
    if (af_synth_counties_write(p, *c, *nc, &e) != AF_OK) die("write counties", e.msg);
    printf("inputs: %d counties, tmmx_%ld.nc written in %.1f s\n", *nc, o->year, now() - t);
}

static void report(const opts *o, int nc, run_res *cold, run_res *warm, double *fl_c, double *fl_m, window w, int nb,
                   double tnaive, long naive_cd)
{
    double cd = (double)nc * nb;
    printf("window: %d x %d cells (box lon %g..%g, lat %g..%g), %d days, %.1f MB as float32\n", w.nc, w.nr,
           o->box.lon_min, o->box.lon_max, o->box.lat_min, o->box.lat_max, nb, 4.0 * w.nc * w.nr * nb / 1e6);
    printf("\n%-34s %10s %14s %12s %12s\n", "method (best of repeats)", "seconds", "county-days/s", "vs floor", "peak RSS MB");
    for (int k = 0; k < o->nblocks; k++) {
        double fl = fmin(fl_c[k], fl_m[k]);
        char lab[64];
        snprintf(lab, sizeof lab, "I/O floor, classic, block %ld", o->blocks[k]);
        printf("%-34s %10.3f %14s %12.2f %12s\n", lab, fl_c[k], "-", fl_c[k] / fl, "-");
        snprintf(lab, sizeof lab, "I/O floor, multidim, block %ld", o->blocks[k]);
        printf("%-34s %10.3f %14s %12.2f %12s\n", lab, fl_m[k], "-", fl_m[k] / fl, "-");
        snprintf(lab, sizeof lab, "agroflux, block %ld (cached wts)", o->blocks[k]);
        printf("%-34s %10.3f %14.0f %12.2f %12.1f\n", lab, warm[k].read, cd / warm[k].read, warm[k].read / fl,
               (double)warm[k].rss / 1048576.0);
        snprintf(lab, sizeof lab, "agroflux, block %ld (build wts)", o->blocks[k]);
        printf("%-34s %10.3f %14.0f %12.2f %12.1f\n", lab, cold[k].read, cd / cold[k].read, cold[k].read / fl,
               (double)cold[k].rss / 1048576.0);
    }
    if (naive_cd > 0) {
        double fl = fmin(fl_c[o->nblocks - 1], fl_m[o->nblocks - 1]);
        double rate = (double)naive_cd / tnaive;
        printf("%-34s %10.3f %14.0f %12.2f %12s\n", "naive per county (extrapolated)", cd / rate, rate,
               cd / rate / fl, "-");
        printf("  (naive timed on %ld of %d counties: %.3f s)\n", naive_cd / nb, nc, tnaive);
        printf("\nagroflux (block %ld, cached weights): speed %.2fx the naive approach's, time %.2fx the I/O floor (target <= 1.5)\n",
               o->blocks[o->nblocks - 1], (cd / warm[o->nblocks - 1].read) / rate, warm[o->nblocks - 1].read / fl);
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--child")) return child_main(argv[2], argv[3]);
    opts o = { { -104, -80, 36, 49 }, 0.4, 2004, 2, 1000000, 0, { 31, 366 }, 2, NULL };
    int prc = parse_args(argc, argv, &o);
    if (prc) return prc == 1 ? 0 : prc;
    char defdir[64];
    int own = o.dir == NULL;
    if (own) {
        snprintf(defdir, sizeof defdir, "./bench_aggregate.%ld", (long)getpid());
        o.dir = defdir;
    }
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    af_synth_county *c = NULL;
    int nc = 0;
    setup(&o, &c, &nc);
    run_res cold[MAX_BLOCKS], warm[MAX_BLOCKS];
    double fl_c[MAX_BLOCKS], fl_m[MAX_BLOCKS];
    window w = { 0, 0, 0, 0 };
    int nb = 0;
    for (int k = 0; k < o.nblocks; k++) {
        char ini[64], cmd[4400];
        snprintf(ini, sizeof ini, "bench_%ld.ini", o.blocks[k]);
        write_ini(&o, o.blocks[k], ini);
        snprintf(cmd, sizeof cmd, "rm -rf '%s/.agroflux-cache'", o.dir);
        if (system(cmd) != 0) die("cannot clear", cmd);
        fl_c[k] = fl_m[k] = warm[k].read = INFINITY;
        cold[k] = run_child(&o, ini, "out");
        for (long r = 0; r < o.repeat; r++) {
            run_res x = run_child(&o, ini, "out");
            if (x.read < warm[k].read) warm[k] = x;
            fl_c[k] = fmin(fl_c[k], floor_classic(&o, o.blocks[k], &w, &nb));
            fl_m[k] = fmin(fl_m[k], floor_multidim(&o, o.blocks[k], w, nb));
        }
    }
    long naive_cd = 0;
    double tn = 0;
    if (o.naive_counties > 0)
        tn = naive(&o, c, o.naive_counties < nc ? (int)o.naive_counties : nc, &naive_cd);
    report(&o, nc, cold, warm, fl_c, fl_m, w, nb, tn, naive_cd);
    af_synth_counties_free(c, nc);
    char cmd[4400];
    if (o.keep) return 0;
    if (own) snprintf(cmd, sizeof cmd, "rm -rf '%s'", o.dir);
    else snprintf(cmd, sizeof cmd, "rm -rf '%s'/tmmx_* '%s'/counties.geojson '%s'/bench_*.ini '%s'/out '%s'/.agroflux-cache",
                  o.dir, o.dir, o.dir, o.dir, o.dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_aggregate: could not remove %s\n", o.dir);
    return 0;
}
