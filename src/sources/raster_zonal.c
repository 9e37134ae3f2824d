/* SPDX-License-Identifier: MIT */
/*
 * raster_zonal.c: one GDAL raster band with its grid and CRS, windowed reads,
 * point sampling, class lists and class-mask VRTs, and streaming zonal
 * statistics: the raster is read in strips of whole blocks of rows over the
 * union of the polygons' envelopes; in each strip every polygon's exact cell
 * coverage (af_coverage_compute_dense on the strip's sub-grid of its envelope,
 * in one workspace reused for every polygon and strip) weights the cells. Strip boundaries are fixed rows of the raster (not of the rank's
 * polygons) and each polygon sums its own cells in a fixed order, so a
 * county's result does not depend on which other counties share its rank.
 * Plain means (no mask, log10 or classes) go to raster_plain.c: coverage runs,
 * and for unpacked Float32 bands (tile mode) whole blocks read with
 * GDALReadBlock as a polygon's runs first need them.
 */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/opts.h"
#include "raster_zonal_impl.h"

#define RZ_STRIP_CELLS (1L << 22) /* default cells per strip: 16 MiB of float */

int af__rz_parse_classes(const char *list, int *out, size_t cap, size_t *n, af_error *err)
{
    int rc = AF_OK;
    af_list l = AF_LIST_INIT;
    *n = 0;
    AF_CHECK(af_list_split(list, &l, err));
    for (size_t i = 0; i < l.n; i++) {
        const char *item = l.items[i];
        char *end;
        errno = 0;
        long v = strtol(item, &end, 10);
        if (*end || errno || v < 0 || v >= RZ_NCLASS)
            AF_FAIL(AF_EINVAL, "class '%s' is not a class code 0..%d", item, RZ_NCLASS - 1);
        size_t k = 0;
        while (k < *n && out[k] != (int)v) k++;
        if (k == *n) {
            if (*n >= cap) AF_FAIL(AF_EINVAL, "more than %zu classes", cap);
            out[(*n)++] = (int)v;
        }
    }
    if (*n == 0) AF_FAIL(AF_EINVAL, "empty class list '%s'", list);
cleanup:
    af_list_dispose(&l);
    return rc;
}

int af__rz_class_mask_vrt(GDALDatasetH src, const char *path, const int *classes, size_t n, GDALDatasetH *out,
                          af_error *err)
{
    int rc = AF_OK;
    char *xml = NULL, *epath = NULL, *ewkt = NULL;
    double gt[6];
    int is[RZ_NCLASS] = { 0 };
    for (size_t k = 0; k < n; k++) is[classes[k]] = 1;
    if (GDALGetGeoTransform(src, gt) != CE_None) AF_FAIL(AF_EGDAL, "%s: no geotransform", path);
    const char *wkt = GDALGetProjectionRef(src);
    epath = CPLEscapeString(path, -1, CPLES_XML);
    ewkt = CPLEscapeString(wkt ? wkt : "", -1, CPLES_XML);
    size_t cap = strlen(epath) + strlen(ewkt) + 16 * RZ_NCLASS + 1024, len = 0;
    xml = malloc(cap);
    AF_CHECK_ALLOC(xml);
    len += (size_t)snprintf(xml + len, cap - len,
                            "<VRTDataset rasterXSize=\"%d\" rasterYSize=\"%d\"><SRS>%s</SRS>"
                            "<GeoTransform>%.17g,%.17g,%.17g,%.17g,%.17g,%.17g</GeoTransform>"
                            "<VRTRasterBand dataType=\"Float32\" band=\"1\"><ComplexSource>"
                            "<SourceFilename relativeToVRT=\"0\">%s</SourceFilename><SourceBand>1</SourceBand><LUT>",
                            GDALGetRasterXSize(src), GDALGetRasterYSize(src), ewkt, gt[0], gt[1], gt[2], gt[3],
                            gt[4], gt[5], epath);
    for (int c = 0; c < RZ_NCLASS; c++)
        len += (size_t)snprintf(xml + len, cap - len, "%s%d:%d", c ? "," : "", c, is[c]);
    snprintf(xml + len, cap - len, "</LUT></ComplexSource></VRTRasterBand></VRTDataset>");
    CPLErrorReset();
    *out = GDALOpenEx(xml, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!*out) AF_FAIL(AF_EGDAL, "%s: class mask VRT: %s", path, af_gdal_why());
cleanup:
    free(xml);
    CPLFree(epath);
    CPLFree(ewkt);
    return rc;
}

int af__rz_warp_average(GDALDatasetH src, const char *label, const af_grid *g, const char *wkt, GDALDataType type,
                        void *out, af_error *err)
{
    int rc = AF_OK;
    GDALDatasetH dst = NULL;
    GDALWarpAppOptions *wo = NULL;
    unsigned char *row = NULL;
    char xa[64], ya[64], xb[64], yb[64], nx[32], ny[32];
    double ybot = g->rows_up ? g->y0 : g->y0 - (double)g->ny * g->dy;
    snprintf(xa, sizeof xa, "%.17g", g->x0);
    snprintf(xb, sizeof xb, "%.17g", g->x0 + (double)g->nx * g->dx);
    snprintf(ya, sizeof ya, "%.17g", ybot);
    snprintf(yb, sizeof yb, "%.17g", ybot + (double)g->ny * g->dy);
    snprintf(nx, sizeof nx, "%ld", g->nx);
    snprintf(ny, sizeof ny, "%ld", g->ny);
    char *argv[] = { "-of", "MEM", "-ot", type == GDT_Float32 ? "Float32" : "Float64", "-r", "average", "-t_srs",
                     (char *)wkt, "-te", xa, ya, xb, yb, "-ts", nx, ny, "-dstnodata", "nan", NULL };
    AF_CHECK_ARG(type == GDT_Float32 || type == GDT_Float64);
    CPLErrorReset();
    wo = GDALWarpAppOptionsNew(argv, NULL);
    if (!wo) AF_FAIL(AF_EGDAL, "%s: warp options: %s", label, af_gdal_why());
    int usage = 0;
    dst = GDALWarp("", NULL, 1, &src, wo, &usage);
    if (!dst) AF_FAIL(AF_EGDAL, "%s: averaging onto the target grid: %s", label, af_gdal_why());
    if (GDALRasterIO(GDALGetRasterBand(dst, 1), GF_Read, 0, 0, (int)g->nx, (int)g->ny, out, (int)g->nx, (int)g->ny,
                     type, 0, 0) != CE_None)
        AF_FAIL(AF_EGDAL, "%s: reading the averaged values: %s", label, af_gdal_why());
    if (g->rows_up) { /* the warp is north-up; storage rows go south to north */
        size_t rb = (size_t)g->nx * (size_t)GDALGetDataTypeSizeBytes(type);
        row = malloc(rb);
        AF_CHECK_ALLOC(row);
        unsigned char *o = out;
        for (long r = 0; r < g->ny / 2; r++) {
            unsigned char *a = o + (size_t)r * rb, *b = o + (size_t)(g->ny - 1 - r) * rb;
            memcpy(row, a, rb);
            memcpy(a, b, rb);
            memcpy(b, row, rb);
        }
    }
cleanup:
    if (wo) GDALWarpAppOptionsFree(wo);
    if (dst) GDALClose(dst);
    free(row);
    return rc;
}

void af__rz_raster_close(rz_raster *r)
{
    if (!r) return;
    if (r->ds) GDALClose(r->ds);
    if (r->wkt) CPLFree(r->wkt);
    r->ds = NULL;
    r->band = NULL;
    r->wkt = NULL;
}

int af__rz_raster_open(rz_raster *r, const char *path, const char *crs_key, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH srs = NULL;
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    af_gdal_register();
    CPLErrorReset();
    r->ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!r->ds) AF_FAIL(AF_EGDAL, "cannot open raster '%s': %s", path, af_gdal_open_why(path));
    if (GDALGetRasterCount(r->ds) < 1) AF_FAIL(AF_EFORMAT, "%s: no raster bands", path);
    r->band = GDALGetRasterBand(r->ds, 1);
    if (GDALGetGeoTransform(r->ds, r->gt) != CE_None)
        AF_FAIL(AF_EGDAL, "%s: no geotransform: %s", path, af_gdal_why());
    AF_CHECK(af__raster_crs(r->ds, r->path, crs_key, "EPSG:5070", &srs, err));
    if (OSRExportToWkt(srs, &r->wkt) != OGRERR_NONE) AF_FAIL(AF_ECRS, "%s: cannot export the CRS", path);
    AF_CHECK_AT(af_grid_from_geotransform(r->gt, GDALGetRasterXSize(r->ds), GDALGetRasterYSize(r->ds),
                                          OSRIsGeographic(srs) ? 1 : 0, &r->grid, err), "%s", path);
    OGRErr e1, e2;
    double a = OSRGetSemiMajor(srs, &e1), invf = OSRGetInvFlattening(srs, &e2);
    if (e1 == OGRERR_NONE && a > 0) { r->grid.semi_major = a; r->grid.inv_flattening = e2 == OGRERR_NONE ? invf : 0; }
    int has;
    r->scale = GDALGetRasterScale(r->band, &has);
    if (!has) r->scale = 1.0;
    r->offset = GDALGetRasterOffset(r->band, &has);
    if (!has) r->offset = 0.0;
    r->nodata = GDALGetRasterNoDataValue(r->band, &r->has_nodata);
    int bx = 0, by = 0;
    GDALGetBlockSize(r->band, &bx, &by);
    r->blk_x = bx > 0 ? bx : 1;
    r->blk_y = by > 0 ? by : 1;
    r->type = GDALGetRasterDataType(r->band);
cleanup:
    if (srs) OSRDestroySpatialReference(srs);
    if (rc != AF_OK) af__rz_raster_close(r);
    CPLPopErrorHandler();
    return rc;
}

int af__rz_raster_same_grid(const rz_raster *a, const rz_raster *b)
{
    if (a->grid.nx != b->grid.nx || a->grid.ny != b->grid.ny) return 0;
    for (int i = 0; i < 6; i++)
        if (fabs(a->gt[i] - b->gt[i]) > 1e-9 * (fabs(a->gt[i]) + 1)) return 0;
    OGRSpatialReferenceH x = OSRNewSpatialReference(a->wkt), y = OSRNewSpatialReference(b->wkt);
    int same = x && y && OSRIsSame(x, y);
    if (x) OSRDestroySpatialReference(x);
    if (y) OSRDestroySpatialReference(y);
    return same;
}

/* Non-finite values and nodata to NaN. For a float v, (double)v == nodata exactly when v == (float)nodata
 * and nodata is a float; when it is not, v == (float)nodata is what marked the cell before: so v == nd. */
void af__rz_nodata_to_nan(float *buf, size_t n, int has_nodata, float nd)
{
    int hn = has_nodata ? 1 : 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float v = buf[i + (size_t)j];
            uint32_t u;
            memcpy(&u, &v, sizeof u);
            int bad = ((u & 0x7f800000u) == 0x7f800000u) | (hn & (v == nd));
            buf[i + (size_t)j] = bad ? NAN : v;
        }
    for (; i < n; i++) {
        float v = buf[i];
        if (!isfinite(v) || (hn && v == nd)) buf[i] = NAN;
    }
}

int af__rz_raster_read(const rz_raster *r, const af_window *w, float *buf, af_error *err)
{
    int rc = AF_OK;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    if (GDALRasterIO(r->band, GF_Read, (int)w->col0, (int)w->row0, (int)w->ncols, (int)w->nrows, buf, (int)w->ncols,
                     (int)w->nrows, GDT_Float32, 0, 0) != CE_None)
        AF_FAIL(AF_EGDAL, "%s: reading rows %ld..%ld: %s", r->path, w->row0, w->row0 + w->nrows - 1,
                af_gdal_why());
    size_t n = (size_t)w->ncols * (size_t)w->nrows;
    int packed = r->scale != 1.0 || r->offset != 0.0;
    float nd = (float)r->nodata;
    if (!packed) { /* the common case of every soil and CDL read: branch-free, vectorised in blocks of 8 */
        af__rz_nodata_to_nan(buf, n, r->has_nodata, nd);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        float v = buf[i];
        if (!isfinite(v) || (r->has_nodata && (v == nd || (double)v == r->nodata))) buf[i] = NAN;
        else buf[i] = (float)((double)v * r->scale + r->offset);
    }
cleanup:
    CPLPopErrorHandler();
    return rc;
}

int af__rz_raster_sample(const rz_raster *r, double x, double y, af_grid_interp m, int log10v, double *out,
                         af_error *err)
{
    int rc = AF_OK;
    float buf[9];
    *out = NAN;
    af_window w = af__rz_site_window(&r->grid, x, y);
    if (w.ncols <= 0 || w.nrows <= 0) goto cleanup;
    AF_CHECK(af__rz_raster_read(r, &w, buf, err));
    if (log10v)
        for (long i = 0; i < w.ncols * w.nrows; i++) buf[i] = (float)pow(10.0, (double)buf[i]);
    *out = af_grid_sample_point(&r->grid, buf, &w, NULL, x, y, m);
cleanup:
    return rc;
}

/* ------------------------------------------------------------------ zonal */

static double mask_weight(const zonal_ctx *z, size_t k)
{
    if (!z->mask) return 1.0;
    float m = z->msk[k];
    if (z->mask->classes && !z->mask->warp) return isfinite(m) && m >= 0 && m < RZ_NCLASS && z->is_mask[(int)m] ? 1.0 : 0.0;
    return isfinite(m) && m > 0 ? (double)m : 0.0;
}

/* Raster j's sums for polygon p over its dense coverage d on the strip (window w of the raster):
 * local accumulators over the covered cells in ascending cell order, then added. *inside: the sum of
 * the covered fractions in the same order (af_coverage's area_inside / cell area). */
static int add_cells(const zonal_ctx *z, size_t j, const af_coverage_dense *d, const af_window *w, size_t p,
                     rz_result *res, long long *ncells, double *inside, af_error *err)
{
    int rc = AF_OK;
    const float *val = z->val + j * z->scells;
    double acov = 0, wall = 0, wv = 0, wx = 0, ins = 0;
    double *hist = z->mode == RZ_CLASSES ? res->hist + p * RZ_NCLASS : NULL;
    long long cnt = 0;
    for (long i = 0; i < d->window.nrows; i++) {
        long srow = w->row0 - z->strip.row0 + d->window.row0 + i;
        const double *fr = d->frac + (size_t)i * (size_t)d->window.ncols;
        size_t k0 = (size_t)srow * (size_t)z->strip.ncols + (size_t)(w->col0 - z->strip.col0 + d->window.col0);
        double ra = z->rowarea[srow];
        for (long c = 0; c < d->window.ncols; c++) {
            if (fr[c] <= 0) continue;
            size_t k = k0 + (size_t)c;
            double a = fr[c] * ra, wgt = z->mask ? a * mask_weight(z, k) : a;
            float v = val[k];
            ins += fr[c];
            acov += a;
            cnt++;
            if (!hist) {
                wall += wgt;
                if (!isnan(v)) {
                    double x = z->log10v ? pow(10.0, (double)v) : (double)v;
                    wv += wgt;
                    wx += wgt * x;
                }
            } else if (!isnan(v)) {
                if (!(v >= 0 && v < RZ_NCLASS) || v != floorf(v)) {
                    long row = z->strip.row0 + srow;
                    long col = z->strip.col0 + (long)(k - (size_t)srow * (size_t)z->strip.ncols);
                    AF_FAIL(AF_EFORMAT, "%s: row %ld column %ld: class value %g is not a code 0..%d", z->rs[j]->path,
                            row, col, (double)v, RZ_NCLASS - 1);
                }
                hist[(size_t)v] += wgt;
            }
        }
    }
    res->area_cov[p] += acov;
    if (!hist) {
        res->sum_wall[p] += wall;
        res->sum_wv[p] += wv;
        res->sum_wx[p] += wx;
    }
    *ncells = cnt;
    *inside = ins;
cleanup:
    return rc;
}

/* Plain means: no mask, no log10, no classes (raster_plain.c). */
static int plain_means(const zonal_ctx *z)
{
    return z->mode != RZ_CLASSES && !z->mask && !z->log10v;
}

/* One polygon over the current strip: its exact coverage on the strip's part of its envelope. */
static int zonal_poly(const zonal_ctx *z, const af_polygon *poly, const af_window *env, size_t p, rz_result *res,
                      rz_stats *st, af_error *err)
{
    int rc = AF_OK;
    af_coverage_dense cov;
    long r0 = env->row0 > z->strip.row0 ? env->row0 : z->strip.row0;
    long r1 = env->row0 + env->nrows < z->strip.row0 + z->strip.nrows ? env->row0 + env->nrows
                                                                        : z->strip.row0 + z->strip.nrows;
    if (r1 <= r0) goto cleanup;
    af_window w = { env->col0, r0, env->ncols, r1 - r0 };
    af_grid sg = af__rz_sub_grid(&z->rs[0]->grid, &w);
    if (plain_means(z)) {
        rc = af__rz_plain_poly(z, &sg, poly, &w, p, res, st, err);
        goto cleanup;
    }
    AF_CHECK(af_coverage_compute_dense(z->ws, &sg, poly, &cov, err));
    long long n = 0;
    double inside = 0;
    for (size_t j = 0; j < z->nr; j++) AF_CHECK(add_cells(z, j, &cov, &w, p, &res[j], &n, &inside, err));
    /* af_coverage's area_inside: the fractions summed in storage order, times the cell area */
    for (size_t j = 0; j < z->nr; j++) res[j].inside[p] += inside * sg.dx * sg.dy;
    st->cells += n;
cleanup:
    return rc;
}

/* The mask over strip window w: read on the same grid, else averaged onto the strip's cells. */
static int read_mask(const rz_raster *r, const rz_mask *mask, const af_window *w, float *buf, af_error *err)
{
    if (!mask->warp) return af__rz_raster_read(mask->r, w, buf, err);
    af_grid sg = af__rz_sub_grid(&r->grid, w);
    return af__rz_warp_average(mask->src, mask->r->path, &sg, r->wkt, GDT_Float32, buf, err);
}

/* Planar area in CRS units^2: outer rings minus holes (each ring's own orientation ignored). */
static double polygon_area(const af_polygon *p)
{
    double total = 0;
    for (size_t r = 0; r < p->nrings; r++) {
        const af_ring *g = &p->rings[r];
        double s2 = 0, x0 = g->xy[0], y0 = g->xy[1];
        for (size_t j = 0; j < g->n; j++) {
            size_t k = (j + 1) % g->n;
            s2 += (g->xy[2 * j] - x0) * (g->xy[2 * k + 1] - y0) - (g->xy[2 * k] - x0) * (g->xy[2 * j + 1] - y0);
        }
        total += (g->hole ? -0.5 : 0.5) * fabs(s2);
    }
    return total;
}

static void zero_result(rz_result *res, size_t npoly, rz_mode mode)
{
    for (size_t p = 0; p < npoly; p++) {
        res->area_cov[p] = res->inside[p] = 0;
        if (mode == RZ_MEAN) res->sum_wx[p] = res->sum_wv[p] = res->sum_wall[p] = 0;
    }
    if (mode == RZ_CLASSES) memset(res->hist, 0, npoly * RZ_NCLASS * sizeof *res->hist);
}

/* Strip height: about strip_cells cells (over all nr rasters) of the full raster width, in whole
 * blocks when a block is not taller than that (a one-strip file is still read in parts), and one row
 * of blocks when that is at most twice the cells (a wide tiled raster: whole blocks for tile mode,
 * memory still bounded); independent of the polygons, so a county's sums do not depend on its rank. */
static long strip_rows(const rz_raster *r, size_t nr, long strip_cells)
{
    long cells = strip_cells > 0 ? strip_cells : RZ_STRIP_CELLS, nx = r->grid.nx > 0 ? r->grid.nx : 1;
    long h = cells / nx / (long)nr;
    if (h >= r->blk_y) h = h / r->blk_y * r->blk_y;
    else if ((double)r->blk_y * (double)nx * (double)nr <= 2.0 * (double)cells) h = r->blk_y;
    return h < 1 ? 1 : h;
}

/* Whole blocks in the native type when the sums are plain means of unpacked Float32 bands whose
 * strips are whole rows of blocks: GDALReadBlock fills the buffer without GDAL's copy into a strip. */
static int use_tiles(const zonal_ctx *z, long h)
{
    if (!plain_means(z)) return 0;
    for (size_t j = 0; j < z->nr; j++) {
        const rz_raster *r = z->rs[j];
        if (r->type != GDT_Float32 || r->scale != 1.0 || r->offset != 0.0 || r->blk_x != z->rs[0]->blk_x ||
            r->blk_y != z->rs[0]->blk_y)
            return 0;
    }
    return h % z->rs[0]->blk_y == 0;
}

/* Envelope windows, their union and each polygon's planar area (also when wholly outside). */
static void envelopes(const af_grid *g, const af_polygon *polys, size_t npoly, af_window *env, af_window *u,
                      double *total)
{
    for (size_t p = 0; p < npoly; p++) {
        env[p] = af__rz_envelope_window(g, &polys[p]);
        af__rz_window_union(u, &env[p]);
        total[p] = polygon_area(&polys[p]);
    }
}

int af__rz_zonal(const rz_raster *const *rs, size_t nr, const rz_mask *mask, const af_polygon *polys, size_t npoly,
                 rz_mode mode, int log10v, long strip_cells, rz_result *res, rz_stats *stats, af_error *err)
{
    int rc = AF_OK;
    af_window *env = NULL, u = { 0, 0, 0, 0 };
    float *val = NULL, *msk = NULL;
    double *rowarea = NULL, *total = NULL;
    rz_stats st = { 0, 0, 0 };
    zonal_ctx z;
    memset(&z, 0, sizeof z);
    AF_CHECK_ARG(rs != NULL && nr > 0);
    for (size_t j = 1; j < nr; j++)
        if (!af__rz_raster_same_grid(rs[j], rs[0]))
            AF_FAIL(AF_EINVAL, "%s: grid or CRS differs from %s", rs[j]->path, rs[0]->path);
    const rz_raster *r = rs[0];
    z.rs = rs; z.nr = nr; z.mask = mask; z.mode = mode; z.log10v = log10v;
    if (mask && mask->classes)
        for (size_t k = 0; k < mask->nclasses; k++) z.is_mask[mask->classes[k]] = 1;
    for (size_t j = 0; j < nr; j++) zero_result(&res[j], npoly, mode);
    AF_CHECK(af_coverage_ws_create(&z.ws, err));
    env = calloc(npoly ? npoly : 1, sizeof *env);
    total = calloc(npoly ? npoly : 1, sizeof *total);
    AF_CHECK_ALLOC(env);
    AF_CHECK_ALLOC(total);
    envelopes(&r->grid, polys, npoly, env, &u, total);
    if (u.ncols > 0 && u.nrows > 0) {
        long h = strip_rows(r, nr, strip_cells);
        z.scells = (size_t)h * (size_t)u.ncols;
        z.h = h;
        z.tiled = use_tiles(&z, h);
        if (z.tiled) { /* h / blk_y rows of the blocks over the union's columns */
            z.tc0 = u.col0 / r->blk_x;
            z.ntc = (u.col0 + u.ncols - 1) / r->blk_x - z.tc0 + 1;
            z.scells = (size_t)h * (size_t)z.ntc * (size_t)r->blk_x;
        }
        val = malloc(nr * z.scells * sizeof *val);
        rowarea = malloc((size_t)h * sizeof *rowarea);
        AF_CHECK_ALLOC(val);
        AF_CHECK_ALLOC(rowarea);
        if (z.tiled) {
            z.tbuf = val;
            z.have = calloc(nr * z.scells / ((size_t)r->blk_x * (size_t)r->blk_y), 1);
            AF_CHECK_ALLOC(z.have);
        }
        if (plain_means(&z)) AF_CHECK(af__rz_plain_create(&z, err));
        if (mask) {
            msk = malloc(z.scells * sizeof *msk);
            AF_CHECK_ALLOC(msk);
        }
        for (long s0 = u.row0 / h * h; s0 < u.row0 + u.nrows; s0 += h) {
            long a = s0 > u.row0 ? s0 : u.row0, b = s0 + h < u.row0 + u.nrows ? s0 + h : u.row0 + u.nrows;
            af_window sw = { u.col0, a, u.ncols, b - a };
            z.trow0 = s0;
            if (z.tiled) memset(z.have, 0, nr * z.scells / ((size_t)r->blk_x * (size_t)r->blk_y));
            for (size_t j = 0; j < nr && !z.tiled; j++) AF_CHECK(af__rz_raster_read(rs[j], &sw, val + j * z.scells, err));
            if (mask) AF_CHECK(read_mask(r, mask, &sw, msk, err));
            for (long i = 0; i < sw.nrows; i++) rowarea[i] = af_grid_cell_area(&r->grid, sw.row0 + i);
            z.strip = sw; z.val = val; z.msk = msk; z.rowarea = rowarea;
            for (size_t p = 0; p < npoly; p++)
                if (env[p].ncols > 0) AF_CHECK(zonal_poly(&z, &polys[p], &env[p], p, res, &st, err));
            st.cells_read += (long long)sw.ncols * sw.nrows * (long long)nr;
            st.strips++;
        }
    }
    for (size_t j = 0; j < nr; j++)
        for (size_t p = 0; p < npoly; p++) res[j].inside[p] = total[p] > 0 ? res[j].inside[p] / total[p] : 0;
    if (stats) *stats = st;
cleanup:
    af_coverage_ws_destroy(&z.ws);
    af__rz_plain_destroy(&z);
    free(z.have);
    free(env);
    free(total);
    free(val);
    free(msk);
    free(rowarea);
    return rc;
}
