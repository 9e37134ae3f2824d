/* SPDX-License-Identifier: MIT */
/*
 * raster_geom.c: geometry shared by the raster source kinds (gridded, soil,
 * cdl). Each rank takes one polygon per distinct county among its samples
 * (scenarios share it) and transforms the layer's ISO WKB into the raster CRS
 * with OGR (traditional GIS axis order on both sides); sites (lon/lat,
 * EPSG:4326) become points in that CRS. Plus window arithmetic on grids.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "raster_zonal.h"
#include "sources_impl.h"

/* Polygon storage: coordinates and rings of one county in the raster CRS. */
typedef struct rz_pbuf {
    double *xy;
    size_t nxy;           /* doubles used */
    af_ring *rings;
    size_t nrings;
} rz_pbuf;

typedef struct unit_pair {
    size_t unit, local;
} unit_pair;

static int cmp_unit(const void *a, const void *b)
{
    const unit_pair *x = a, *y = b;
    if (x->unit != y->unit) return x->unit < y->unit ? -1 : 1;
    return x->local < y->local ? -1 : x->local > y->local;
}

static int add_ring(rz_pbuf *pb, OGRGeometryH ring, int hole, af_error *err)
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

static int add_polygon(rz_pbuf *pb, OGRGeometryH poly, af_error *err)
{
    int rc = AF_OK;
    int nr = OGR_G_GetGeometryCount(poly);
    for (int r = 0; r < nr; r++) AF_CHECK(add_ring(pb, OGR_G_GetGeometryRef(poly, r), r > 0, err));
cleanup:
    return rc;
}

static int county_polygon(const af_sampleset *set, size_t unit, OGRCoordinateTransformationH ct, rz_pbuf *pb,
                          af_error *err)
{
    int rc = AF_OK;
    OGRGeometryH g = NULL;
    size_t len = 0;
    const unsigned char *wkb = af_sampleset_county_wkb_ref(set, unit, &len);
    const char *fips = af_sampleset_county_fips_ref(set, unit);
    CPLErrorReset();
    if (!wkb || OGR_G_CreateFromWkb(wkb, NULL, &g, (int)len) != OGRERR_NONE)
        AF_FAIL(AF_EGDAL, "county %s: bad polygon WKB: %s", fips, af_gdal_why());
    if (OGR_G_Transform(g, ct) != OGRERR_NONE)
        AF_FAIL(AF_ECRS, "county %s: cannot transform into the raster CRS: %s", fips, af_gdal_why());
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

static int make_transform(const char *src_wkt, int src_is_ll, const char *dst_wkt,
                          OGRCoordinateTransformationH *ct, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL), d = OSRNewSpatialReference(NULL);
    if (!s || !d) AF_FAIL(AF_ENOMEM, "out of memory");
    if (src_is_ll) {
        if (OSRImportFromEPSG(s, 4326) != OGRERR_NONE) AF_FAIL(AF_ECRS, "EPSG:4326: %s", af_gdal_why());
    } else if (OSRSetFromUserInput(s, src_wkt) != OGRERR_NONE) {
        AF_FAIL(AF_ECRS, "county layer CRS: %s", af_gdal_why());
    }
    if (OSRSetFromUserInput(d, dst_wkt) != OGRERR_NONE) AF_FAIL(AF_ECRS, "raster CRS: %s", af_gdal_why());
    OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(d, OAMS_TRADITIONAL_GIS_ORDER);
    *ct = OCTNewCoordinateTransformation(s, d);
    if (!*ct) AF_FAIL(AF_ECRS, "no transformation into the raster CRS: %s", af_gdal_why());
cleanup:
    if (s) OSRDestroySpatialReference(s);
    if (d) OSRDestroySpatialReference(d);
    return rc;
}

int af__rz_check_crs(const af_source_ctx *ctx, const char *raster_wkt, af_error *err)
{
    int rc = AF_OK;
    OGRCoordinateTransformationH ct = NULL;
    /* the run's samples into this CRS: the same check for every layer of that CRS */
    if (af__memo_seen(ctx->memo, raster_wkt)) return AF_OK;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const char *lwkt = af_sampleset_county_crs_wkt_ref(ctx->set);
    if (af_sampleset_ncounties(ctx->set))
        AF_CHECK(make_transform(lwkt, !lwkt || !lwkt[0], raster_wkt, &ct, err));
    if (ct) OCTDestroyCoordinateTransformation(ct);
    ct = NULL;
    if (af_sampleset_nsites(ctx->set)) AF_CHECK(make_transform(NULL, 1, raster_wkt, &ct, err));
    AF_CHECK(af__memo_note(ctx->memo, raster_wkt, err));
cleanup:
    if (ct) OCTDestroyCoordinateTransformation(ct);
    CPLPopErrorHandler();
    return rc;
}

void af__rz_geom_dispose(rz_geom *g)
{
    if (!g) return;
    if (g->pbs)
        for (size_t p = 0; p < g->npoly; p++) { free(g->pbs[p].xy); free(g->pbs[p].rings); }
    free(g->pbs);
    free(g->polys);
    free(g->poly_unit);
    free(g->sample_poly);
    free(g->site_x);
    free(g->site_y);
    memset(g, 0, sizeof *g);
}

/* Sites: position in the raster CRS. */
static int site_points(const af_source_ctx *ctx, const char *wkt, rz_geom *g, af_error *err)
{
    int rc = AF_OK;
    OGRCoordinateTransformationH cts = NULL;
    for (size_t i = 0; i < g->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(ctx->set, ctx->range.begin + i);
        if (s->kind != AF_SAMPLE_SITE) continue;
        if (!cts) AF_CHECK(make_transform(NULL, 1, wkt, &cts, err));
        double x = s->lon, y = s->lat;
        if (!OCTTransform(cts, 1, &x, &y, NULL))
            AF_FAIL(AF_ECRS, "site %s (%g, %g): cannot transform into the raster CRS", s->id, s->lat, s->lon);
        g->site_x[i] = x;
        g->site_y[i] = y;
    }
cleanup:
    if (cts) OCTDestroyCoordinateTransformation(cts);
    return rc;
}

int af__rz_geom_build(const af_source_ctx *ctx, const char *wkt, rz_geom *g, af_error *err)
{
    int rc = AF_OK;
    unit_pair *pairs = NULL;
    OGRCoordinateTransformationH ct = NULL;
    size_t n = ctx->range.end - ctx->range.begin, np = 0, npairs = 0;
    memset(g, 0, sizeof *g);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    g->nlocal = n;
    g->sample_poly = malloc((n ? n : 1) * sizeof *g->sample_poly);
    g->site_x = malloc((n ? n : 1) * sizeof *g->site_x);
    g->site_y = malloc((n ? n : 1) * sizeof *g->site_y);
    pairs = malloc((n ? n : 1) * sizeof *pairs);
    AF_CHECK_ALLOC(g->sample_poly);
    AF_CHECK_ALLOC(g->site_x);
    AF_CHECK_ALLOC(g->site_y);
    AF_CHECK_ALLOC(pairs);
    for (size_t i = 0; i < n; i++) {
        const af_sample *s = af_sampleset_get_ref(ctx->set, ctx->range.begin + i);
        g->sample_poly[i] = -1;
        g->site_x[i] = g->site_y[i] = NAN;
        if (s->kind == AF_SAMPLE_COUNTY) {
            pairs[npairs].unit = s->unit;
            pairs[npairs].local = i;
            npairs++;
        }
    }
    qsort(pairs, npairs, sizeof *pairs, cmp_unit);
    for (size_t k = 0; k < npairs; k++) {
        if (k > 0 && pairs[k].unit != pairs[k - 1].unit) np++;
        g->sample_poly[pairs[k].local] = (long)np;
    }
    if (npairs) np++;
    if (np) {
        const char *lwkt = af_sampleset_county_crs_wkt_ref(ctx->set);
        if (!lwkt || !lwkt[0]) af_log(AF_LOG_WARN, "raster", "county layer has no CRS: assuming EPSG:4326 lon/lat");
        AF_CHECK(make_transform(lwkt, !lwkt || !lwkt[0], wkt, &ct, err));
        g->pbs = calloc(np, sizeof *g->pbs);
        g->polys = calloc(np, sizeof *g->polys);
        g->poly_unit = calloc(np, sizeof *g->poly_unit);
        AF_CHECK_ALLOC(g->pbs);
        AF_CHECK_ALLOC(g->polys);
        AF_CHECK_ALLOC(g->poly_unit);
        g->npoly = np;
        size_t p = 0;
        for (size_t k = 0; k < npairs; k++) {
            if (k > 0 && pairs[k].unit == pairs[k - 1].unit) continue;
            AF_CHECK(county_polygon(ctx->set, pairs[k].unit, ct, &g->pbs[p], err));
            g->polys[p].rings = g->pbs[p].rings;
            g->polys[p].nrings = g->pbs[p].nrings;
            g->poly_unit[p] = pairs[k].unit;
            p++;
        }
    }
    AF_CHECK(site_points(ctx, wkt, g, err));
cleanup:
    free(pairs);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (rc != AF_OK) af__rz_geom_dispose(g);
    CPLPopErrorHandler();
    return rc;
}

void af__rz_window_union(af_window *a, const af_window *b)
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

af_window af__rz_site_window(const af_grid *g, double x, double y)
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

af_window af__rz_envelope_window(const af_grid *g, const af_polygon *p)
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

af_grid af__rz_sub_grid(const af_grid *g, const af_window *w)
{
    af_grid s = *g;
    s.x0 = g->x0 + (double)w->col0 * g->dx;
    s.y0 = g->rows_up ? g->y0 + (double)w->row0 * g->dy : g->y0 - (double)w->row0 * g->dy;
    s.nx = w->ncols;
    s.ny = w->nrows;
    return s;
}

int af__raster_crs(GDALDatasetH ds, const char *path, const char *crs_key, const char *example,
                   OGRSpatialReferenceH *out, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH fs = GDALGetSpatialRef(ds), srs = NULL;
    if (fs && (OSRIsGeographic(fs) || OSRIsProjected(fs))) {
        srs = OSRClone(fs);
    } else if (crs_key && crs_key[0]) {
        srs = OSRNewSpatialReference(NULL);
        if (OSRSetFromUserInput(srs, crs_key) != OGRERR_NONE)
            AF_FAIL(AF_ECRS, "crs '%s' (for %s): %s", crs_key, path, af_gdal_why());
    } else {
        AF_FAIL(AF_ECRS, "%s: the raster has no CRS; set crs = %s (or the right CRS) in the pipeline file", path,
                example);
    }
    *out = srs;
    srs = NULL;
cleanup:
    if (srs) OSRDestroySpatialReference(srs);
    return rc;
}
