/* SPDX-License-Identifier: MIT */
/*
 * gridded_weights.c: geometry of the gridded source. Each rank takes one
 * polygon per distinct county among its samples (scenarios share it),
 * transforms the layer's ISO WKB into the raster CRS with OGR (traditional GIS
 * axis order on both sides), builds exact-coverage weights once and caches
 * them on disk under af_weights_key (written atomically, reused on rerun).
 * Sites (lon/lat, EPSG:4326) are transformed too, and the rank's read window
 * is the union of its counties' windows and its sites' neighbourhoods. With
 * cropland_weights, the weights live on the sub-grid of that window and the
 * mask is averaged onto it (gdalwarp -r average), so nothing is CONUS-sized.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal_utils.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "gridded_impl.h"
#include "log.h"

typedef struct unit_pair {
    size_t unit, local;
} unit_pair;

static int cmp_unit(const void *a, const void *b)
{
    const unit_pair *x = a, *y = b;
    if (x->unit != y->unit) return x->unit < y->unit ? -1 : 1;
    return x->local < y->local ? -1 : x->local > y->local;
}

/* Polygon storage: coordinates and rings of one county in the raster CRS. */
typedef struct poly_buf {
    double *xy;
    size_t nxy;           /* doubles used */
    af_ring *rings;
    size_t nrings;
} poly_buf;

static int add_ring(poly_buf *pb, OGRGeometryH ring, int hole, af_error *err)
{
    int rc = AF_OK;
    int n = OGR_G_GetPointCount(ring);
    if (n < 3) goto cleanup;
    double *nxy = realloc(pb->xy, (pb->nxy + 2 * (size_t)n) * sizeof *nxy);
    AF_CHECK_ALLOC(nxy);
    pb->xy = nxy;
    af_ring *nr = realloc(pb->rings, (pb->nrings + 1) * sizeof *nr);
    AF_CHECK_ALLOC(nr);
    pb->rings = nr;
    for (int i = 0; i < n; i++) {
        pb->xy[pb->nxy + 2 * (size_t)i] = OGR_G_GetX(ring, i);
        pb->xy[pb->nxy + 2 * (size_t)i + 1] = OGR_G_GetY(ring, i);
    }
    /* xy pointers are fixed up once all rings are in (realloc may move xy). */
    pb->rings[pb->nrings].xy = (const double *)(uintptr_t)pb->nxy;
    pb->rings[pb->nrings].n = (size_t)n;
    pb->rings[pb->nrings].hole = hole;
    pb->nrings++;
    pb->nxy += 2 * (size_t)n;
cleanup:
    return rc;
}

static int add_polygon(poly_buf *pb, OGRGeometryH poly, af_error *err)
{
    int rc = AF_OK;
    int nr = OGR_G_GetGeometryCount(poly);
    for (int r = 0; r < nr; r++) AF_CHECK(add_ring(pb, OGR_G_GetGeometryRef(poly, r), r > 0, err));
cleanup:
    return rc;
}

static int county_polygon(const gr_state *st, size_t unit, OGRCoordinateTransformationH ct, poly_buf *pb,
                          af_error *err)
{
    int rc = AF_OK;
    OGRGeometryH g = NULL;
    size_t len = 0;
    const unsigned char *wkb = af_sampleset_county_wkb_ref(st->ctx->set, unit, &len);
    const char *fips = af_sampleset_county_fips_ref(st->ctx->set, unit);
    CPLErrorReset();
    if (!wkb || OGR_G_CreateFromWkb(wkb, NULL, &g, (int)len) != OGRERR_NONE)
        AF_FAIL(AF_EGDAL, "county %s: bad polygon WKB: %s", fips, CPLGetLastErrorMsg());
    if (OGR_G_Transform(g, ct) != OGRERR_NONE)
        AF_FAIL(AF_ECRS, "county %s: cannot transform into the raster CRS: %s", fips, CPLGetLastErrorMsg());
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) {
        AF_CHECK(add_polygon(pb, g, err));
    } else if (t == wkbMultiPolygon) {
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) AF_CHECK(add_polygon(pb, OGR_G_GetGeometryRef(g, i), err));
    } else {
        AF_FAIL(AF_EINVAL, "county %s: geometry is %s, not a polygon", fips, OGRGeometryTypeToName(t));
    }
    for (size_t r = 0; r < pb->nrings; r++) pb->rings[r].xy = pb->xy + (uintptr_t)pb->rings[r].xy;
cleanup:
    if (g) OGR_G_DestroyGeometry(g);
    return rc;
}

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
    AF_CHECK(af_write_atomic(path, ser, len, err));
    af_log(AF_LOG_INFO, "gridded", "built weights for %zu counties, cached in %s", npoly, path);
cleanup:
    free(buf);
    free(ser);
    return rc;
}

static int make_transform(const char *src_wkt, int src_is_ll, const char *dst_wkt,
                          OGRCoordinateTransformationH *ct, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL), d = OSRNewSpatialReference(NULL);
    if (!s || !d) AF_FAIL(AF_ENOMEM, "out of memory");
    if (src_is_ll) {
        if (OSRImportFromEPSG(s, 4326) != OGRERR_NONE) AF_FAIL(AF_ECRS, "EPSG:4326: %s", CPLGetLastErrorMsg());
    } else if (OSRSetFromUserInput(s, src_wkt) != OGRERR_NONE) {
        AF_FAIL(AF_ECRS, "county layer CRS: %s", CPLGetLastErrorMsg());
    }
    if (OSRSetFromUserInput(d, dst_wkt) != OGRERR_NONE) AF_FAIL(AF_ECRS, "raster CRS: %s", CPLGetLastErrorMsg());
    OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(d, OAMS_TRADITIONAL_GIS_ORDER);
    *ct = OCTNewCoordinateTransformation(s, d);
    if (!*ct) AF_FAIL(AF_ECRS, "no transformation into the raster CRS: %s", CPLGetLastErrorMsg());
cleanup:
    if (s) OSRDestroySpatialReference(s);
    if (d) OSRDestroySpatialReference(d);
    return rc;
}

static void window_union(af_window *a, const af_window *b)
{
    if (b->ncols <= 0 || b->nrows <= 0) return;
    if (a->ncols <= 0 || a->nrows <= 0) { *a = *b; return; }
    long c1 = a->col0 + a->ncols, r1 = a->row0 + a->nrows;
    long bc1 = b->col0 + b->ncols, br1 = b->row0 + b->nrows;
    a->col0 = a->col0 < b->col0 ? a->col0 : b->col0;
    a->row0 = a->row0 < b->row0 ? a->row0 : b->row0;
    a->ncols = (c1 > bc1 ? c1 : bc1) - a->col0;
    a->nrows = (r1 > br1 ? r1 : br1) - a->row0;
}

/* Cells around a site (the 2x2 bilinear neighbourhood and the containing cell), clipped to the grid. */
static af_window site_window(const af_grid *g, double x, double y)
{
    af_window w = { 0, 0, 0, 0 };
    double fc = (x - g->x0) / g->dx;
    double fr = g->rows_up ? (y - g->y0) / g->dy : (g->y0 - y) / g->dy;
    if (!isfinite(fc) || !isfinite(fr)) return w;
    long c0 = (long)floor(fc) - 1, r0 = (long)floor(fr) - 1, c1 = c0 + 3, r1 = r0 + 3;
    if (c0 < 0) c0 = 0;
    if (r0 < 0) r0 = 0;
    if (c1 > g->nx) c1 = g->nx;
    if (r1 > g->ny) r1 = g->ny;
    if (c1 <= c0 || r1 <= r0) return w;
    w.col0 = c0; w.row0 = r0; w.ncols = c1 - c0; w.nrows = r1 - r0;
    return w;
}

/* Sites: position in the raster CRS, and their neighbourhoods added to st->win. */
static int add_site_windows(gr_state *st, OGRCoordinateTransformationH *cts, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
        if (s->kind != AF_SAMPLE_SITE) continue;
        if (!*cts) AF_CHECK(make_transform(NULL, 1, st->grid_wkt, cts, err));
        double x = s->lon, y = s->lat;
        if (!OCTTransform(*cts, 1, &x, &y, NULL))
            AF_FAIL(AF_ECRS, "site %s (%g, %g): cannot transform into the raster CRS", s->id, s->lat, s->lon);
        st->site_x[i] = x;
        st->site_y[i] = y;
        af_window sw = site_window(&st->grid, x, y);
        window_union(&st->win, &sw);
    }
cleanup:
    return rc;
}

/* Window of the cells a polygon's envelope touches (clipped to the grid). */
static af_window envelope_window(const af_grid *g, const af_polygon *p)
{
    af_window w = { 0, 0, 0, 0 };
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t r = 0; r < p->nrings; r++)
        for (size_t i = 0; i < p->rings[r].n; i++) {
            double x = p->rings[r].xy[2 * i], y = p->rings[r].xy[2 * i + 1];
            xmin = x < xmin ? x : xmin; xmax = x > xmax ? x : xmax;
            ymin = y < ymin ? y : ymin; ymax = y > ymax ? y : ymax;
        }
    if (!(xmin <= xmax)) return w;
    long c0 = (long)floor((xmin - g->x0) / g->dx), c1 = (long)ceil((xmax - g->x0) / g->dx);
    long r0 = g->rows_up ? (long)floor((ymin - g->y0) / g->dy) : (long)floor((g->y0 - ymax) / g->dy);
    long r1 = g->rows_up ? (long)ceil((ymax - g->y0) / g->dy) : (long)ceil((g->y0 - ymin) / g->dy);
    c0 = c0 < 0 ? 0 : c0; r0 = r0 < 0 ? 0 : r0;
    c1 = c1 > g->nx ? g->nx : c1; r1 = r1 > g->ny ? g->ny : r1;
    if (c1 <= c0 || r1 <= r0) return w;
    w.col0 = c0; w.row0 = r0; w.ncols = c1 - c0; w.nrows = r1 - r0;
    return w;
}

/* The sub-grid of g covering window w. */
static af_grid sub_grid(const af_grid *g, const af_window *w)
{
    af_grid s = *g;
    s.x0 = g->x0 + (double)w->col0 * g->dx;
    s.y0 = g->rows_up ? g->y0 + (double)w->row0 * g->dy : g->y0 - (double)w->row0 * g->dy;
    s.nx = w->ncols;
    s.ny = w->nrows;
    return s;
}

/* Cropland raster averaged onto the cells of sub-grid s (storage order); NaN (no data) -> 0. */
static int cropland_cells(const gr_state *st, const af_grid *s, double **out, af_error *err)
{
    int rc = AF_OK;
    GDALDatasetH src = NULL, dst = NULL;
    GDALWarpAppOptions *wo = NULL;
    double *cw = NULL, *row = NULL;
    char xa[64], ya[64], xb[64], yb[64], nx[32], ny[32];
    double ybot = s->rows_up ? s->y0 : s->y0 - (double)s->ny * s->dy;
    snprintf(xa, sizeof xa, "%.17g", s->x0);
    snprintf(xb, sizeof xb, "%.17g", s->x0 + (double)s->nx * s->dx);
    snprintf(ya, sizeof ya, "%.17g", ybot);
    snprintf(yb, sizeof yb, "%.17g", ybot + (double)s->ny * s->dy);
    snprintf(nx, sizeof nx, "%ld", s->nx);
    snprintf(ny, sizeof ny, "%ld", s->ny);
    char *argv[] = { "-of", "MEM", "-ot", "Float64", "-r", "average", "-t_srs", st->grid_wkt, "-te", xa, ya, xb, yb,
                     "-ts", nx, ny, "-dstnodata", "nan", NULL };
    CPLErrorReset();
    src = GDALOpenEx(st->cropland, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!src) AF_FAIL(AF_EGDAL, "cannot open cropland_weights '%s': %s", st->cropland, CPLGetLastErrorMsg());
    wo = GDALWarpAppOptionsNew(argv, NULL);
    if (!wo) AF_FAIL(AF_EGDAL, "%s: warp options: %s", st->cropland, CPLGetLastErrorMsg());
    int usage = 0;
    dst = GDALWarp("", NULL, 1, &src, wo, &usage);
    if (!dst) AF_FAIL(AF_EGDAL, "%s: averaging onto the weather grid: %s", st->cropland, CPLGetLastErrorMsg());
    size_t n = (size_t)s->nx * (size_t)s->ny;
    cw = malloc(n * sizeof *cw);
    AF_CHECK_ALLOC(cw);
    if (GDALRasterIO(GDALGetRasterBand(dst, 1), GF_Read, 0, 0, (int)s->nx, (int)s->ny, cw, (int)s->nx, (int)s->ny,
                     GDT_Float64, 0, 0) != CE_None)
        AF_FAIL(AF_EGDAL, "%s: reading the averaged weights: %s", st->cropland, CPLGetLastErrorMsg());
    if (s->rows_up) { /* the warp is north-up; the weather grid's storage rows go south to north */
        row = malloc((size_t)s->nx * sizeof *row);
        AF_CHECK_ALLOC(row);
        for (long r = 0; r < s->ny / 2; r++) {
            double *a = cw + (size_t)r * (size_t)s->nx, *b = cw + (size_t)(s->ny - 1 - r) * (size_t)s->nx;
            memcpy(row, a, (size_t)s->nx * sizeof *row);
            memcpy(a, b, (size_t)s->nx * sizeof *row);
            memcpy(b, row, (size_t)s->nx * sizeof *row);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(cw[i])) cw[i] = 0;
        else if (cw[i] < 0) AF_FAIL(AF_EFORMAT, "%s: negative cropland weight %g", st->cropland, cw[i]);
    }
    *out = cw;
    cw = NULL;
cleanup:
    if (wo) GDALWarpAppOptionsFree(wo);
    if (dst) GDALClose(dst);
    if (src) GDALClose(src);
    free(cw);
    free(row);
    return rc;
}

int af__gridded_check_crs(const gr_state *st, af_error *err)
{
    int rc = AF_OK;
    OGRCoordinateTransformationH ct = NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const char *lwkt = af_sampleset_county_crs_wkt_ref(st->ctx->set);
    if (af_sampleset_ncounties(st->ctx->set))
        AF_CHECK(make_transform(lwkt, !lwkt || !lwkt[0], st->grid_wkt, &ct, err));
    if (ct) OCTDestroyCoordinateTransformation(ct);
    ct = NULL;
    if (af_sampleset_nsites(st->ctx->set)) AF_CHECK(make_transform(NULL, 1, st->grid_wkt, &ct, err));
cleanup:
    if (ct) OCTDestroyCoordinateTransformation(ct);
    CPLPopErrorHandler();
    return rc;
}

int af__gridded_prepare_geometry(gr_state *st, af_error *err)
{
    int rc = AF_OK;
    unit_pair *pairs = NULL;
    poly_buf *pbs = NULL;
    af_polygon *polys = NULL;
    OGRCoordinateTransformationH ct = NULL, cts = NULL;
    size_t np = 0, npairs = 0;
    double *cw = NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    st->sample_poly = malloc((st->nlocal ? st->nlocal : 1) * sizeof *st->sample_poly);
    st->site_x = malloc((st->nlocal ? st->nlocal : 1) * sizeof *st->site_x);
    st->site_y = malloc((st->nlocal ? st->nlocal : 1) * sizeof *st->site_y);
    pairs = malloc((st->nlocal ? st->nlocal : 1) * sizeof *pairs);
    AF_CHECK_ALLOC(st->sample_poly);
    AF_CHECK_ALLOC(st->site_x);
    AF_CHECK_ALLOC(st->site_y);
    AF_CHECK_ALLOC(pairs);
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
        st->sample_poly[i] = -1;
        st->site_x[i] = st->site_y[i] = NAN;
        if (s->kind == AF_SAMPLE_COUNTY) {
            pairs[npairs].unit = s->unit;
            pairs[npairs].local = i;
            npairs++;
        }
    }
    qsort(pairs, npairs, sizeof *pairs, cmp_unit);
    for (size_t k = 0; k < npairs; k++) {
        if (k > 0 && pairs[k].unit != pairs[k - 1].unit) np++;
        st->sample_poly[pairs[k].local] = (long)np;
    }
    if (npairs) np++;
    st->npoly = np;
    memset(&st->win, 0, sizeof st->win);
    if (np) {
        const char *lwkt = af_sampleset_county_crs_wkt_ref(st->ctx->set);
        if (!lwkt || !lwkt[0])
            af_log(AF_LOG_WARN, "gridded", "county layer has no CRS: assuming EPSG:4326 lon/lat");
        AF_CHECK(make_transform(lwkt, !lwkt || !lwkt[0], st->grid_wkt, &ct, err));
        pbs = calloc(np, sizeof *pbs);
        polys = calloc(np, sizeof *polys);
        st->inside = calloc(np, sizeof *st->inside);
        AF_CHECK_ALLOC(pbs);
        AF_CHECK_ALLOC(polys);
        AF_CHECK_ALLOC(st->inside);
        size_t p = 0;
        for (size_t k = 0; k < npairs; k++) {
            if (k > 0 && pairs[k].unit == pairs[k - 1].unit) continue;
            AF_CHECK(county_polygon(st, pairs[k].unit, ct, &pbs[p], err));
            polys[p].rings = pbs[p].rings;
            polys[p].nrings = pbs[p].nrings;
            p++;
        }
        if (!st->cropland[0]) {
            AF_CHECK(load_or_build(st, &st->grid, polys, np, NULL, err));
            AF_CHECK(af_weights_union_window(st->weights, NULL, 0, &st->win, err));
        } else {
            /* Weights on the sub-grid of the rank's window (counties' envelopes and sites), so the
             * cropland array is window-sized, never the whole grid. */
            for (size_t q = 0; q < np; q++) {
                af_window ew = envelope_window(&st->grid, &polys[q]);
                window_union(&st->win, &ew);
            }
            AF_CHECK(add_site_windows(st, &cts, err));
            if (st->win.ncols > 0 && st->win.nrows > 0) {
                af_grid sg = sub_grid(&st->grid, &st->win);
                AF_CHECK(cropland_cells(st, &sg, &cw, err));
                AF_CHECK(load_or_build(st, &sg, polys, np, cw, err));
            } else {
                AF_CHECK(load_or_build(st, &st->grid, polys, np, NULL, err)); /* all outside: nothing to read */
            }
            st->agg_win.ncols = st->win.ncols;
            st->agg_win.nrows = st->win.nrows;
        }
        size_t nout = 0;
        p = 0;
        for (size_t k = 0; k < npairs; k++) {
            if (k > 0 && pairs[k].unit == pairs[k - 1].unit) continue;
            double at = af_weights_area_total(st->weights, p), ai = af_weights_area_inside(st->weights, p);
            st->inside[p] = at > 0 ? ai / at : 0;
            if (st->inside[p] < 1 - 1e-9) {
                nout++;
                af_log(AF_LOG_DEBUG, "gridded", "county %s: %.1f%% of its area inside the raster",
                       af_sampleset_county_fips_ref(st->ctx->set, pairs[k].unit), 100 * st->inside[p]);
            }
            p++;
        }
        if (nout)
            af_log(AF_LOG_INFO, "gridded", "%zu of %zu counties lie partly outside the raster; valid fraction counts the outside as missing",
                   nout, np);
    }
    if (!st->cropland[0] || !np) {
        AF_CHECK(add_site_windows(st, &cts, err));
        st->agg_win = st->win;
    }
cleanup:
    if (pbs)
        for (size_t p = 0; p < np; p++) { free(pbs[p].xy); free(pbs[p].rings); }
    free(pbs);
    free(polys);
    free(cw);
    free(pairs);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (cts) OCTDestroyCoordinateTransformation(cts);
    CPLPopErrorHandler();
    return rc;
}
