/* SPDX-License-Identifier: MIT */
/*
 * synth_geo.c: implements synth_geo.h, the synthetic county polygons of
 * `agroflux synth`. A C x R lattice over the region; every lattice node and every
 * edge midpoint is jittered once and shared by the polygons on both sides, outer
 * nodes move only along the boundary, and a few horizontally adjacent cells are
 * merged so that exactly n polygons remain. Jitter bounds (in cell units: nodes
 * 0.15, midpoints 0.12 across / 0.05 along) keep every edge inside its own band,
 * so polygons are simple and tile the rectangle. Not collective.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "synth_geo.h"

/* ---- splitmix64: tiny, portable, deterministic ---- */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [-1, 1) */
static double jitter(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
}

typedef struct lattice {
    int C, R;
    double *nx, *ny;   /* nodes (C+1) x (R+1), index j*(C+1)+i, cell units */
    double *hx, *hy;   /* horizontal edge midpoints C x (R+1), index j*C+i */
    double *vx, *vy;   /* vertical edge midpoints (C+1) x R, index j*(C+1)+i */
    unsigned char *wall; /* (C+1) x R: 1 if the vertical edge at column i of row j exists */
} lattice;

static void lattice_free(lattice *L)
{
    free(L->nx); free(L->ny); free(L->hx); free(L->hy); free(L->vx); free(L->vy); free(L->wall);
    memset(L, 0, sizeof *L);
}

static int lattice_make(int n, uint64_t *rng, lattice *L, af_error *err)
{
    int rc = AF_OK;
    int C = 1;
    while (C * C < 2 * n) C++; /* region is 2:1, so cells come out about square */
    int R = (n + C - 1) / C;
    L->C = C;
    L->R = R;
    size_t nn = (size_t)(C + 1) * (size_t)(R + 1), nh = (size_t)C * (size_t)(R + 1), nv = (size_t)(C + 1) * (size_t)R;
    L->nx = malloc(nn * sizeof(double)); L->ny = malloc(nn * sizeof(double));
    L->hx = malloc(nh * sizeof(double)); L->hy = malloc(nh * sizeof(double));
    L->vx = malloc(nv * sizeof(double)); L->vy = malloc(nv * sizeof(double));
    L->wall = malloc(nv);
    AF_CHECK_ALLOC(L->nx); AF_CHECK_ALLOC(L->ny); AF_CHECK_ALLOC(L->hx); AF_CHECK_ALLOC(L->hy);
    AF_CHECK_ALLOC(L->vx); AF_CHECK_ALLOC(L->vy); AF_CHECK_ALLOC(L->wall);

    /* Draw two numbers per element whatever its position, so the stream is fixed. */
    for (int j = 0; j <= R; j++)
        for (int i = 0; i <= C; i++) {
            double jx = jitter(rng), jy = jitter(rng);
            size_t k = (size_t)j * (size_t)(C + 1) + (size_t)i;
            L->nx[k] = (i == 0 || i == C) ? i : i + 0.15 * jx;
            L->ny[k] = (j == 0 || j == R) ? j : j + 0.15 * jy;
        }
    for (int j = 0; j <= R; j++)
        for (int i = 0; i < C; i++) {
            double ja = jitter(rng), jc = jitter(rng);
            size_t a = (size_t)j * (size_t)(C + 1) + (size_t)i, k = (size_t)j * (size_t)C + (size_t)i;
            L->hx[k] = 0.5 * (L->nx[a] + L->nx[a + 1]) + 0.05 * ja;
            L->hy[k] = (j == 0 || j == R) ? j : 0.5 * (L->ny[a] + L->ny[a + 1]) + 0.12 * jc;
        }
    for (int j = 0; j < R; j++)
        for (int i = 0; i <= C; i++) {
            double ja = jitter(rng), jc = jitter(rng);
            size_t a = (size_t)j * (size_t)(C + 1) + (size_t)i, b = a + (size_t)(C + 1);
            L->vy[a] = 0.5 * (L->ny[a] + L->ny[b]) + 0.05 * ja;
            L->vx[a] = (i == 0 || i == C) ? i : 0.5 * (L->nx[a] + L->nx[b]) + 0.12 * jc;
            L->wall[a] = 1;
        }
    /* Merge pairs of single-width neighbours in a row until exactly n cells remain. */
    int extra = C * R - n;
    for (int m = 0; m < extra; m++) {
        long npos = (long)R * (long)(C - 1);
        long start = (long)(splitmix64(rng) % (uint64_t)npos);
        int done = 0;
        for (long q = 0; q < npos && !done; q++) {
            long p = (start + q) % npos;
            int j = (int)(p / (C - 1)), i = (int)(p % (C - 1)); /* cells i and i+1 of row j */
            const unsigned char *w = L->wall + (size_t)j * (size_t)(C + 1);
            if (w[i] && w[i + 1] && w[i + 2]) {
                L->wall[(size_t)j * (size_t)(C + 1) + (size_t)i + 1] = 0;
                done = 1;
            }
        }
        if (!done) AF_FAIL(AF_EINTERNAL, "synthetic lattice %dx%d cannot be reduced to %d cells", C, R, n);
    }
cleanup:
    return rc;
}

static void to_deg(const lattice *L, double x, double y, double *lon, double *lat)
{
    *lon = AF_SYNTH_LON_MIN + (x / L->C) * (AF_SYNTH_LON_MAX - AF_SYNTH_LON_MIN);
    *lat = AF_SYNTH_LAT_MIN + (y / L->R) * (AF_SYNTH_LAT_MAX - AF_SYNTH_LAT_MIN);
}

/* Ring of the cell spanning columns [a, b) of row r, counter-clockwise. */
static int cell_ring(const lattice *L, int r, int a, int b, af_synth_county *c, af_error *err)
{
    int rc = AF_OK;
    int C = L->C, nv = 4 * (b - a) + 5, k = 0;
    c->lon = malloc((size_t)nv * sizeof(double));
    c->lat = malloc((size_t)nv * sizeof(double));
    AF_CHECK_ALLOC(c->lon);
    AF_CHECK_ALLOC(c->lat);
#define NODE(i, j) ((size_t)(j) * (size_t)(C + 1) + (size_t)(i))
#define PUT(x, y) (to_deg(L, (x), (y), &c->lon[k], &c->lat[k]), k++)
    for (int i = a; i < b; i++) {
        PUT(L->nx[NODE(i, r)], L->ny[NODE(i, r)]);
        PUT(L->hx[(size_t)r * C + i], L->hy[(size_t)r * C + i]);
    }
    PUT(L->nx[NODE(b, r)], L->ny[NODE(b, r)]);
    PUT(L->vx[NODE(b, r)], L->vy[NODE(b, r)]);
    for (int i = b; i > a; i--) {
        PUT(L->nx[NODE(i, r + 1)], L->ny[NODE(i, r + 1)]);
        PUT(L->hx[(size_t)(r + 1) * C + i - 1], L->hy[(size_t)(r + 1) * C + i - 1]);
    }
    PUT(L->nx[NODE(a, r + 1)], L->ny[NODE(a, r + 1)]);
    PUT(L->vx[NODE(a, r)], L->vy[NODE(a, r)]);
    c->lon[k] = c->lon[0];
    c->lat[k] = c->lat[0];
    k++;
#undef PUT
#undef NODE
    c->nvert = k;
    /* shoelace relative to the first vertex, for accuracy */
    double s = 0.0;
    for (int i = 0; i + 1 < k; i++)
        s += (c->lon[i] - c->lon[0]) * (c->lat[i + 1] - c->lat[0]) -
             (c->lon[i + 1] - c->lon[0]) * (c->lat[i] - c->lat[0]);
    c->area_deg2 = 0.5 * s;
cleanup:
    return rc;
}

int af_synth_counties_make(int ncounties, unsigned long seed, af_synth_county **out, af_error *err)
{
    int rc = AF_OK;
    lattice L;
    af_synth_county *cs = NULL;
    int made = 0;
    uint64_t rng = (uint64_t)seed;
    memset(&L, 0, sizeof L);

    AF_CHECK_ARG(out != NULL);
    *out = NULL;
    if (ncounties < 1 || ncounties > AF_SYNTH_MAX_COUNTIES)
        AF_FAIL(AF_EINVAL, "synthetic county count %d outside 1..%d", ncounties, AF_SYNTH_MAX_COUNTIES);
    AF_CHECK(lattice_make(ncounties, &rng, &L, err));
    cs = calloc((size_t)ncounties, sizeof *cs);
    AF_CHECK_ALLOC(cs);
    /* number like a state: rows from the north, west to east */
    for (int r = L.R - 1; r >= 0; r--) {
        const unsigned char *w = L.wall + (size_t)r * (size_t)(L.C + 1);
        int a = 0;
        for (int b = 1; b <= L.C; b++) {
            if (b < L.C && !w[b]) continue;
            if (made >= ncounties) AF_FAIL(AF_EINTERNAL, "synthetic lattice has more than %d cells", ncounties);
            af_synth_county *c = &cs[made];
            int code = 2 * made + 1;
            snprintf(c->fips, sizeof c->fips, "19%03d", code);
            snprintf(c->name, sizeof c->name, "Synth %03d", code);
            made++;
            AF_CHECK(cell_ring(&L, r, a, b, c, err));
            a = b;
        }
    }
    if (made != ncounties) AF_FAIL(AF_EINTERNAL, "synthetic lattice has %d cells, expected %d", made, ncounties);
    *out = cs;
    cs = NULL;
cleanup:
    af_synth_counties_free(cs, made);
    lattice_free(&L);
    return rc;
}

void af_synth_counties_free(af_synth_county *c, int n)
{
    if (!c) return;
    for (int i = 0; i < n; i++) {
        free(c[i].lon);
        free(c[i].lat);
    }
    free(c);
}

static int add_string_field(OGRLayerH layer, const char *name, int width, af_error *err)
{
    int rc = AF_OK;
    OGRFieldDefnH fld = OGR_Fld_Create(name, OFTString);
    AF_CHECK_ALLOC(fld);
    OGR_Fld_SetWidth(fld, width);
    CPLErrorReset();
    if (OGR_L_CreateField(layer, fld, TRUE) != OGRERR_NONE)
        AF_FAIL(AF_EGDAL, "cannot create field '%s': %s", name, af_gdal_why());
cleanup:
    if (fld) OGR_Fld_Destroy(fld);
    return rc;
}

int af_synth_counties_write(const char *path, const af_synth_county *c, int n, af_error *err)
{
    int rc = AF_OK;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH srs = NULL;
    OGRFeatureH f = NULL;
    OGRGeometryH poly = NULL, ring = NULL;

    AF_CHECK_ARG(path != NULL && *path);
    AF_CHECK_ARG(c != NULL || n == 0);
    size_t len = strlen(path);
    int gpkg = len >= 5 && !strcmp(path + len - 5, ".gpkg");
    af_gdal_register();
    GDALDriverH drv = GDALGetDriverByName(gpkg ? "GPKG" : "GeoJSON");
    if (!drv) AF_FAIL(AF_EGDAL, "GDAL has no %s driver", gpkg ? "GPKG" : "GeoJSON");
    if (unlink(path) != 0 && errno != ENOENT) AF_FAIL(AF_EIO, "cannot replace '%s': %s", path, strerror(errno));

    srs = OSRNewSpatialReference(NULL);
    AF_CHECK_ALLOC(srs);
    if (OSRImportFromEPSG(srs, 4269) != OGRERR_NONE)
        AF_FAIL(AF_EGDAL, "cannot build EPSG:4269: %s", af_gdal_why());
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER); /* x = lon, y = lat */

    CPLErrorReset();
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) AF_FAIL(AF_EGDAL, "cannot create '%s': %s", path, af_gdal_why());
    OGRLayerH layer = GDALDatasetCreateLayer(ds, "counties", srs, wkbPolygon, NULL);
    if (!layer) AF_FAIL(AF_EGDAL, "cannot create layer in '%s': %s", path, af_gdal_why());
    AF_CHECK(add_string_field(layer, "GEOID", 5, err));
    AF_CHECK(add_string_field(layer, "NAME", 31, err));
    AF_CHECK(add_string_field(layer, "STATEFP", 2, err));
    AF_CHECK(add_string_field(layer, "COUNTYFP", 3, err));
    int in_tx = gpkg && GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    for (int i = 0; i < n; i++) {
        char st[3], co[4];
        memcpy(st, c[i].fips, 2); st[2] = '\0';
        memcpy(co, c[i].fips + 2, 3); co[3] = '\0';
        f = OGR_F_Create(defn);
        AF_CHECK_ALLOC(f);
        OGR_F_SetFieldString(f, 0, c[i].fips);
        OGR_F_SetFieldString(f, 1, c[i].name);
        OGR_F_SetFieldString(f, 2, st);
        OGR_F_SetFieldString(f, 3, co);
        poly = OGR_G_CreateGeometry(wkbPolygon);
        ring = OGR_G_CreateGeometry(wkbLinearRing);
        AF_CHECK_ALLOC(poly);
        AF_CHECK_ALLOC(ring);
        for (int v = 0; v < c[i].nvert; v++) OGR_G_AddPoint_2D(ring, c[i].lon[v], c[i].lat[v]);
        OGRErr e = OGR_G_AddGeometryDirectly(poly, ring);
        ring = NULL;
        if (e != OGRERR_NONE) AF_FAIL(AF_EGDAL, "county %s: cannot build polygon", c[i].fips);
        OGR_F_SetGeometryDirectly(f, poly);
        poly = NULL;
        CPLErrorReset();
        if (OGR_L_CreateFeature(layer, f) != OGRERR_NONE)
            AF_FAIL(AF_EGDAL, "'%s': cannot write county %s: %s", path, c[i].fips, af_gdal_why());
        OGR_F_Destroy(f);
        f = NULL;
    }
    if (in_tx && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        AF_FAIL(AF_EGDAL, "'%s': cannot commit: %s", path, af_gdal_why());
    CPLErrorReset();
    GDALClose(ds);
    ds = NULL;
    if (CPLGetLastErrorType() >= CE_Failure)
        AF_FAIL(AF_EGDAL, "'%s': cannot finish writing: %s", path, af_gdal_why());
cleanup:
    if (ring) OGR_G_DestroyGeometry(ring);
    if (poly) OGR_G_DestroyGeometry(poly);
    if (f) OGR_F_Destroy(f);
    if (ds) GDALClose(ds);
    if (srs) OSRDestroySpatialReference(srs);
    return rc;
}
