/* SPDX-License-Identifier: MIT */
/*
 * sampleset.c: implements the loading half of agroflux/samples.h. Reads the
 * county polygon layer with OGR (FIPS, centroid in degrees, ISO WKB, CRS WKT),
 * the optional selection and site CSV lists, and the scenario list; then puts
 * every sample in the global order (Hilbert curve over centroids, ties by
 * FIPS / site id), keeping each county's list position (selection-list row,
 * else FIPS order) as county_rank, and builds an id hash for af_sampleset_find. The order depends
 * only on the inputs. Not collective: every rank loads the same set.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "samples_impl.h"

#define HILBERT_ORDER 16u

typedef struct county_rec {
    char fips[8];
    double lon, lat;
    unsigned char *wkb;
    size_t wkblen;
    unsigned long long h;
    long rank;            /* county list position */
} county_rec;

typedef struct site_rec {
    char id[AF_ID_MAX];
    double lat, lon;
    long line;
    unsigned long long h;
} site_rec;

typedef struct sel_rec {
    char fips[8];
    long line;
    long rank;            /* data row of the selection list, 0-based */
    int found;
} sel_rec;

/* ---- small helpers ---- */

static int is_fips(const char *s)
{
    if (strlen(s) != 5) return 0;
    for (int i = 0; i < 5; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

static int cmp_sel(const void *a, const void *b)
{
    const sel_rec *x = a, *y = b;
    int c = strcmp(x->fips, y->fips);
    if (c) return c;
    return (x->line > y->line) - (x->line < y->line);
}

static int cmp_county_fips(const void *a, const void *b)
{
    return strcmp(((const county_rec *)a)->fips, ((const county_rec *)b)->fips);
}

static int cmp_county_order(const void *a, const void *b)
{
    const county_rec *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return strcmp(x->fips, y->fips);
}

static int cmp_site_id(const void *a, const void *b)
{
    const site_rec *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c) return c;
    return (x->line > y->line) - (x->line < y->line);
}

static int cmp_site_order(const void *a, const void *b)
{
    const site_rec *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int check_scenarios(const char *const *scen, size_t nscen, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < nscen; i++) {
        const char *s = scen[i];
        if (!s || !*s) AF_FAIL(AF_EINVAL, "scenario %zu: empty name", i + 1);
        for (const char *p = s; *p; p++)
            if (*p == ':' || *p == ',' || isspace((unsigned char)*p))
                AF_FAIL(AF_EINVAL, "scenario '%s': name may not contain ':', ',' or whitespace", s);
        if (strlen(s) > AF_ID_MAX - 7) /* "FIPS:" + name + NUL must fit in an id */
            AF_FAIL(AF_EINVAL, "scenario '%s': name longer than %d characters", s, AF_ID_MAX - 7);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(scen[j], s)) AF_FAIL(AF_EINVAL, "scenario '%s' declared twice", s);
    }
cleanup:
    return rc;
}

/* ---- selection list ---- */

static int read_selection(const char *path, sel_rec **out, size_t *nout, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    int opened = 0;
    sel_rec *sel = NULL;
    size_t n = 0, cap = 0;
    memset(&csv, 0, sizeof csv);

    AF_CHECK(af_csv_open(path, &csv, err));
    opened = 1;
    csv.skip_comments = 1;
    AF_CHECK(af_csv_read_header(&csv, err));
    int col = af_csv_column(&csv, "fips");
    if (col < 0) col = af_csv_column(&csv, "geoid");
    if (col < 0) AF_FAIL(AF_ENOTFOUND, "%s:%ld: no column 'fips' or 'geoid' in header", path, csv.line);
    for (;;) {
        int got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; af_error_push(err, __FILE__, __LINE__, __func__); goto cleanup; }
        if (got == 0) break;
        if (col >= csv.nfields)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, expected at least %d", path, csv.line, csv.nfields, col + 1);
        const char *v = csv.fields[col];
        size_t len = strlen(v);
        int digits = len >= 1 && len <= 5;
        for (size_t i = 0; digits && i < len; i++)
            if (!isdigit((unsigned char)v[i])) digits = 0;
        if (!digits)
            AF_FAIL(AF_EFORMAT, "%s:%ld: field '%s' value '%s' is not a 5-digit FIPS", path, csv.line,
                    csv.header[col], v);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            sel_rec *ns = realloc(sel, ncap * sizeof *ns);
            AF_CHECK_ALLOC(ns);
            sel = ns;
            cap = ncap;
        }
        /* spreadsheets drop leading zeros: "1001" is Autauga "01001" */
        snprintf(sel[n].fips, sizeof sel[n].fips, "%.*s%s", (int)(5 - len), "00000", v);
        sel[n].line = csv.line;
        sel[n].rank = (long)n;
        sel[n].found = 0;
        n++;
    }
    if (n == 0) AF_FAIL(AF_EINVAL, "selection list '%s' selects no county", path);
    qsort(sel, n, sizeof *sel, cmp_sel);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(sel[i].fips, sel[i - 1].fips))
            AF_FAIL(AF_EINVAL, "selection list '%s' line %ld: FIPS %s listed twice (first at line %ld)", path,
                    sel[i].line, sel[i].fips, sel[i - 1].line);
    *out = sel;
    *nout = n;
    sel = NULL;
cleanup:
    if (opened) af_csv_close(&csv);
    free(sel);
    return rc;
}

static sel_rec *find_sel(sel_rec *sel, size_t n, const char *fips)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sel[mid].fips, fips);
        if (c == 0) return &sel[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* ---- county layer ---- */

/* FIPS of one feature: from attribute idx (>= 0) or the FID (idx < 0). */
static int feature_fips(OGRFeatureH f, int idx, const char *layer, const char *field, char fips[8],
                        af_error *err)
{
    int rc = AF_OK;
    GIntBig fid = OGR_F_GetFID(f);
    char buf[64];
    if (idx < 0) {
        if (fid < 0 || fid > 99999)
            AF_FAIL(AF_EFORMAT, "%s: feature " CPL_FRMT_GIB ": feature id is not a FIPS code", layer, fid);
        snprintf(buf, sizeof buf, "%05lld", (long long)fid);
    } else {
        if (!OGR_F_IsFieldSetAndNotNull(f, idx))
            AF_FAIL(AF_EFORMAT, "%s: feature " CPL_FRMT_GIB ": field '%s' is empty", layer, fid, field);
        OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, idx));
        if (t == OFTInteger || t == OFTInteger64) {
            GIntBig v = OGR_F_GetFieldAsInteger64(f, idx);
            if (v < 0 || v > 99999)
                AF_FAIL(AF_EFORMAT, "%s: feature " CPL_FRMT_GIB ": field '%s' value " CPL_FRMT_GIB
                        " is not a 5-digit FIPS", layer, fid, field, v);
            snprintf(buf, sizeof buf, "%05lld", (long long)v);
        } else {
            snprintf(buf, sizeof buf, "%s", OGR_F_GetFieldAsString(f, idx));
            af_strtrim(buf);
        }
    }
    if (!is_fips(buf))
        AF_FAIL(AF_EFORMAT, "%s: feature " CPL_FRMT_GIB ": %s%s%s value '%s' is not a 5-digit FIPS", layer,
                fid, idx < 0 ? "feature id" : "field '", idx < 0 ? "" : field, idx < 0 ? "" : "'", buf);
    memcpy(fips, buf, 6);
cleanup:
    return rc;
}

/* Centroid of geometry g in degrees (lon, lat); ct may be NULL (layer already lon/lat). */
static int feature_centroid(OGRGeometryH g, OGRCoordinateTransformationH ct, const char *layer,
                            const char *fips, double *lon, double *lat, af_error *err)
{
    int rc = AF_OK;
    OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
    AF_CHECK_ALLOC(pt);
    CPLErrorReset();
    if (OGR_G_Centroid(g, pt) != OGRERR_NONE || OGR_G_IsEmpty(pt))
        AF_FAIL(AF_EGDAL, "%s: county %s: cannot compute centroid: %s", layer, fips, af_gdal_why());
    double x = OGR_G_GetX(pt, 0), y = OGR_G_GetY(pt, 0);
    if (ct && !OCTTransform(ct, 1, &x, &y, NULL))
        AF_FAIL(AF_EGDAL, "%s: county %s: cannot transform centroid (%.6f, %.6f) to degrees: %s", layer,
                fips, OGR_G_GetX(pt, 0), OGR_G_GetY(pt, 0), af_gdal_why());
    if (!(fabs(y) <= 90.0) || !(fabs(x) <= 360.0))
        AF_FAIL(AF_ECRS, "%s: county %s: centroid (%g, %g) is not in degrees; is the CRS right?", layer,
                fips, x, y);
    *lon = x;
    *lat = y;
cleanup:
    if (pt) OGR_G_DestroyGeometry(pt);
    return rc;
}

/* Layer CRS as WKT (malloc'd, "" if none) and a transform to lon/lat degrees (NULL if none needed). */
static int layer_crs(OGRLayerH layer, const char *lname, const char *path, char **wkt_out,
                     OGRCoordinateTransformationH *ct_out, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH src = NULL, dst = NULL;
    char *wkt = NULL;
    OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(layer);
    if (!lsrs) {
        af_log(AF_LOG_WARN, "samples", "layer '%s' in '%s' has no CRS; assuming geographic lon/lat degrees",
               lname, path);
        *wkt_out = af_strdup("");
        AF_CHECK_ALLOC(*wkt_out);
        goto cleanup;
    }
    const char *wkt_opts[] = {"FORMAT=WKT2", NULL};
    CPLErrorReset();
    if (OSRExportToWktEx(lsrs, &wkt, wkt_opts) != OGRERR_NONE || !wkt)
        AF_FAIL(AF_EGDAL, "layer '%s' in '%s': cannot export CRS as WKT: %s", lname, path, af_gdal_why());
    *wkt_out = af_strdup(wkt);
    AF_CHECK_ALLOC(*wkt_out);
    if (!OSRIsProjected(lsrs) && !OSRIsGeographic(lsrs))
        AF_FAIL(AF_ECRS, "layer '%s' in '%s': CRS is neither geographic nor projected", lname, path);
    /* Always go through PROJ: this also normalises the axis order of geographic layers. */
    src = OSRClone(lsrs);
    dst = OSRCloneGeogCS(lsrs);
    AF_CHECK_ALLOC(src);
    AF_CHECK_ALLOC(dst);
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    CPLErrorReset();
    *ct_out = OCTNewCoordinateTransformation(src, dst);
    if (!*ct_out)
        AF_FAIL(AF_EGDAL, "layer '%s' in '%s': no transformation to geographic coordinates: %s", lname, path,
                af_gdal_why());
cleanup:
    if (wkt) CPLFree(wkt);
    if (src) OSRDestroySpatialReference(src);
    if (dst) OSRDestroySpatialReference(dst);
    return rc;
}

static int load_counties(const af_sample_opts *opts, sel_rec *sel, size_t nsel, county_rec **out,
                         size_t *nout, char **wkt_out, af_error *err)
{
    int rc = AF_OK;
    const char *path = opts->county_layer;
    GDALDatasetH ds = NULL;
    OGRFeatureH f = NULL;
    OGRCoordinateTransformationH ct = NULL;
    county_rec *recs = NULL;
    size_t n = 0, cap = 0;

    if (!af_path_is_virtual(path) && access(path, F_OK) != 0)
        AF_FAIL(AF_ENOTFOUND, "county layer '%s' does not exist", path);
    af_gdal_register();
    CPLErrorReset();
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        AF_FAIL(AF_EGDAL, "cannot open county layer '%s': %s", path,
                af_gdal_open_why(path));
    OGRLayerH layer = NULL;
    if (opts->county_layer_name && *opts->county_layer_name) {
        layer = GDALDatasetGetLayerByName(ds, opts->county_layer_name);
        if (!layer) AF_FAIL(AF_ENOTFOUND, "no layer '%s' in '%s'", opts->county_layer_name, path);
    } else {
        layer = GDALDatasetGetLayer(ds, 0);
        if (!layer) AF_FAIL(AF_ENOTFOUND, "no vector layer in '%s'", path);
    }
    const char *lname = OGR_L_GetName(layer);
    char where[4400]; /* "'PATH' layer 'NAME'": messages about one feature name the file too */
    snprintf(where, sizeof where, "'%s' layer '%s'", path, lname);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    int idx = -1;
    const char *field = "id";
    if (opts->id_field && *opts->id_field) {
        field = opts->id_field;
        idx = OGR_FD_GetFieldIndex(defn, field);
        if (idx < 0) AF_FAIL(AF_ENOTFOUND, "layer '%s' in '%s' has no field '%s'", lname, path, field);
    } else {
        idx = OGR_FD_GetFieldIndex(defn, "id"); /* GeoJSON string ids; else the FID */
    }
    AF_CHECK(layer_crs(layer, lname, path, wkt_out, &ct, err));

    OGR_L_ResetReading(layer);
    CPLErrorReset();
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        char fips[8];
        long rank = -1;
        AF_CHECK(feature_fips(f, idx, where, field, fips, err));
        if (sel) {
            sel_rec *s = find_sel(sel, nsel, fips);
            if (!s) { OGR_F_Destroy(f); f = NULL; continue; }
            s->found = 1;
            rank = s->rank;
        }
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (!g) AF_FAIL(AF_EINVAL, "%s: county %s has no geometry", where, fips);
        OGRwkbGeometryType gt = wkbFlatten(OGR_G_GetGeometryType(g));
        if (gt != wkbPolygon && gt != wkbMultiPolygon)
            AF_FAIL(AF_EINVAL, "%s: county %s: geometry is %s, expected a polygon", where, fips,
                    OGRGeometryTypeToName(gt));
        if (OGR_G_IsEmpty(g)) AF_FAIL(AF_EINVAL, "%s: county %s: empty polygon", where, fips);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            county_rec *nr = realloc(recs, ncap * sizeof *nr);
            AF_CHECK_ALLOC(nr);
            recs = nr;
            cap = ncap;
        }
        county_rec *r = &recs[n];
        memset(r, 0, sizeof *r);
        n++;
        memcpy(r->fips, fips, sizeof r->fips);
        r->rank = rank;
        AF_CHECK(feature_centroid(g, ct, where, fips, &r->lon, &r->lat, err));
        int sz = OGR_G_WkbSize(g);
        if (sz <= 0) AF_FAIL(AF_EGDAL, "%s: county %s: cannot size WKB", where, fips);
        r->wkb = malloc((size_t)sz);
        AF_CHECK_ALLOC(r->wkb);
        r->wkblen = (size_t)sz;
        if (OGR_G_ExportToIsoWkb(g, wkbNDR, r->wkb) != OGRERR_NONE)
            AF_FAIL(AF_EGDAL, "%s: county %s: cannot export WKB: %s", where, fips, af_gdal_why());
        OGR_F_Destroy(f);
        f = NULL;
    }
    if (CPLGetLastErrorType() >= CE_Failure)
        AF_FAIL(AF_EGDAL, "reading layer '%s' in '%s': %s", lname, path, af_gdal_why());
    if (sel) {
        const sel_rec *missing = NULL;
        for (size_t i = 0; i < nsel; i++)
            if (!sel[i].found && (!missing || sel[i].line < missing->line)) missing = &sel[i];
        if (missing)
            AF_FAIL(AF_ENOTFOUND, "selection list '%s' line %ld: FIPS %s not in layer '%s'", opts->select_csv,
                    missing->line, missing->fips, lname);
    }
    if (n > 1) {
        qsort(recs, n, sizeof *recs, cmp_county_fips);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(recs[i].fips, recs[i - 1].fips))
                AF_FAIL(AF_EINVAL, "layer '%s' in '%s': FIPS %s appears more than once", lname, path, recs[i].fips);
    }
    /* without a selection list the county list is the layer's counties in FIPS order */
    for (size_t i = 0; i < n && !sel; i++) recs[i].rank = (long)i;
    *out = recs;
    *nout = n;
    recs = NULL;
    n = 0;
cleanup:
    if (f) OGR_F_Destroy(f);
    for (size_t i = 0; i < n; i++) free(recs[i].wkb);
    free(recs);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (ds) GDALClose(ds);
    return rc;
}

/* ---- site list ---- */

static int parse_coord(const af_csv *csv, int col, double lo, double hi, double *out, af_error *err)
{
    int rc = AF_OK;
    const char *v = csv->fields[col];
    if (!af_parse_double(v, out) || !isfinite(*out))
        AF_FAIL(AF_EFORMAT, "%s:%ld: field '%s' value '%s' is not a number", csv->path, csv->line, csv->header[col], v);
    if (*out < lo || *out > hi)
        AF_FAIL(AF_EFORMAT, "%s:%ld: field '%s' value '%s' is outside [%g, %g]", csv->path, csv->line,
                csv->header[col], v, lo, hi);
cleanup:
    return rc;
}

static int read_sites(const char *path, site_rec **out, size_t *nout, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    int opened = 0;
    site_rec *sites = NULL;
    size_t n = 0, cap = 0;
    int cid, clat, clon;
    memset(&csv, 0, sizeof csv);

    AF_CHECK(af_csv_open(path, &csv, err));
    opened = 1;
    csv.skip_comments = 1;
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(af_csv_require_column(&csv, "site_id", &cid, err));
    AF_CHECK(af_csv_require_column(&csv, "lat", &clat, err));
    AF_CHECK(af_csv_require_column(&csv, "lon", &clon, err));
    int need = cid;
    if (clat > need) need = clat;
    if (clon > need) need = clon;
    for (;;) {
        int got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; af_error_push(err, __FILE__, __LINE__, __func__); goto cleanup; }
        if (got == 0) break;
        if (csv.nfields <= need)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, expected at least %d", path, csv.line, csv.nfields, need + 1);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            site_rec *ns = realloc(sites, ncap * sizeof *ns);
            AF_CHECK_ALLOC(ns);
            sites = ns;
            cap = ncap;
        }
        site_rec *s = &sites[n];
        memset(s, 0, sizeof *s);
        const char *id = csv.fields[cid];
        if (!*id) AF_FAIL(AF_EFORMAT, "%s:%ld: field '%s' is empty", path, csv.line, csv.header[cid]);
        if (strchr(id, ':'))
            AF_FAIL(AF_EFORMAT, "%s:%ld: field '%s' value '%s' may not contain ':'", path, csv.line,
                    csv.header[cid], id);
        if (strlen(id) >= AF_ID_MAX)
            AF_FAIL(AF_EFORMAT, "%s:%ld: field '%s' value '%s' is longer than %d characters", path, csv.line,
                    csv.header[cid], id, AF_ID_MAX - 1);
        memcpy(s->id, id, strlen(id) + 1);
        AF_CHECK(parse_coord(&csv, clat, -90.0, 90.0, &s->lat, err));
        AF_CHECK(parse_coord(&csv, clon, -180.0, 180.0, &s->lon, err));
        s->line = csv.line;
        n++;
    }
    if (n > 1) {
        qsort(sites, n, sizeof *sites, cmp_site_id);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(sites[i].id, sites[i - 1].id))
                AF_FAIL(AF_EINVAL, "site list '%s' line %ld: duplicate site id '%s' (first at line %ld)", path,
                        sites[i].line, sites[i].id, sites[i - 1].line);
    }
    *out = sites;
    *nout = n;
    sites = NULL;
cleanup:
    if (opened) af_csv_close(&csv);
    free(sites);
    return rc;
}

/* ---- ordering and lookup ---- */

static unsigned long grid_coord(double v, double lo, double hi)
{
    const double top = (double)((1ul << HILBERT_ORDER) - 1);
    if (!(hi > lo)) return 0;
    double t = floor((v - lo) / (hi - lo) * top + 0.5);
    if (t < 0) t = 0;
    if (t > top) t = top;
    return (unsigned long)t;
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int af__sampleset_build_hash(af_sampleset *set, af_error *err)
{
    int rc = AF_OK;
    if (set->n == 0) goto cleanup;
    size_t cap = 16;
    while (cap < 2 * set->n) cap *= 2;
    set->htab = calloc(cap, sizeof *set->htab);
    AF_CHECK_ALLOC(set->htab);
    set->hcap = cap;
    for (size_t i = 0; i < set->n; i++) {
        size_t k = (size_t)hash_id(set->samples[i].id) & (cap - 1);
        while (set->htab[k]) {
            if (!strcmp(set->samples[set->htab[k] - 1].id, set->samples[i].id))
                AF_FAIL(AF_EINVAL, "sample id '%s' is not unique", set->samples[i].id);
            k = (k + 1) & (cap - 1);
        }
        set->htab[k] = i + 1;
    }
cleanup:
    return rc;
}

const char *af_sample_field(const char *name, const af_sample *s, int year, char *buf, size_t n)
{
    if (!strcmp(name, "year")) {
        if (year <= 0) return NULL;
        snprintf(buf, n, "%04d", year);
        return buf;
    }
    if (!s) return NULL;
    int county = s->kind == AF_SAMPLE_COUNTY;
    if (!strcmp(name, "id")) {
        /* "FIPS:SCENARIO" as FIPS_SCENARIO: no ':' in file names (rsync/scp host:path, SMB) */
        snprintf(buf, n, "%s", s->id);
        for (char *c = buf; *c; c++)
            if (*c == ':') *c = '_';
        return buf;
    }
    if (!strcmp(name, "fips")) return county ? s->fips : NULL;
    if (!strcmp(name, "state")) {
        if (!county) return NULL;
        snprintf(buf, n, "%.2s", s->fips);
        return buf;
    }
    if (!strcmp(name, "scenario")) return county ? s->scenario : NULL;
    if (!strcmp(name, "site")) return county ? NULL : s->id;
    return NULL;
}

void af_sample_opts_from_config(const af_config *cfg, af_sample_opts *so)
{
    memset(so, 0, sizeof *so);
    so->county_layer = cfg->has_counties ? cfg->county_layer : NULL;
    so->county_layer_name = cfg->county_layer_name[0] ? cfg->county_layer_name : NULL;
    so->id_field = cfg->id_field;
    so->select_csv = cfg->county_select[0] ? cfg->county_select : NULL;
    so->scenarios = (const char *const *)cfg->scenarios;
    so->nscenarios = cfg->nscenarios;
    so->site_csv = cfg->has_sites ? cfg->site_list : NULL;
    so->site_work = af_sample_site_work(cfg);
}

double af_sample_site_work(const af_config *cfg)
{
    for (size_t i = 0; i < cfg->nfeatures; i++) {
        const af_feature_cfg *f = &cfg->features[i];
        if ((!strcmp(f->source, "tower") || !strcmp(f->source, "chamber")) && f->applies != AF_APPLIES_COUNTIES)
            return AF_SITE_WORK_OBS;
    }
    return 1.0;
}

int af_sampleset_load(const af_sample_opts *opts, af_sampleset **out, af_error *err)
{
    int rc = AF_OK;
    static const char *const default_scen[] = {"base"};
    af_sampleset *set = NULL;
    county_rec *counties = NULL;
    site_rec *sites = NULL;
    sel_rec *sel = NULL;
    size_t ncounties = 0, nsites = 0, nsel = 0;
    char *wkt = NULL;

    AF_CHECK_ARG(out != NULL);
    *out = NULL;
    AF_CHECK_ARG(opts != NULL);
    const char *const *scen = opts->scenarios;
    size_t nscen = opts->nscenarios;
    if (!scen || nscen == 0) { scen = default_scen; nscen = 1; }
    AF_CHECK(check_scenarios(scen, nscen, err));
    if (opts->select_csv && !opts->county_layer)
        AF_FAIL(AF_EINVAL, "selection list '%s' given without a county layer", opts->select_csv);

    if (opts->select_csv) AF_CHECK(read_selection(opts->select_csv, &sel, &nsel, err));
    if (opts->county_layer) AF_CHECK(load_counties(opts, sel, nsel, &counties, &ncounties, &wkt, err));
    if (opts->site_csv) AF_CHECK(read_sites(opts->site_csv, &sites, &nsites, err));

    /* Hilbert keys over the bounding box of all samples */
    double minx = HUGE_VAL, maxx = -HUGE_VAL, miny = HUGE_VAL, maxy = -HUGE_VAL;
    for (size_t i = 0; i < ncounties; i++) {
        minx = fmin(minx, counties[i].lon); maxx = fmax(maxx, counties[i].lon);
        miny = fmin(miny, counties[i].lat); maxy = fmax(maxy, counties[i].lat);
    }
    for (size_t i = 0; i < nsites; i++) {
        minx = fmin(minx, sites[i].lon); maxx = fmax(maxx, sites[i].lon);
        miny = fmin(miny, sites[i].lat); maxy = fmax(maxy, sites[i].lat);
    }
    for (size_t i = 0; i < ncounties; i++)
        counties[i].h = af_hilbert_index(HILBERT_ORDER, grid_coord(counties[i].lon, minx, maxx),
                                         grid_coord(counties[i].lat, miny, maxy));
    for (size_t i = 0; i < nsites; i++)
        sites[i].h = af_hilbert_index(HILBERT_ORDER, grid_coord(sites[i].lon, minx, maxx),
                                      grid_coord(sites[i].lat, miny, maxy));
    if (ncounties > 1) qsort(counties, ncounties, sizeof *counties, cmp_county_order);
    if (nsites > 1) qsort(sites, nsites, sizeof *sites, cmp_site_order);

    set = calloc(1, sizeof *set);
    AF_CHECK_ALLOC(set);
    set->crs_wkt = wkt ? wkt : af_strdup("");
    wkt = NULL;
    AF_CHECK_ALLOC(set->crs_wkt);
    set->n = ncounties * nscen + nsites;
    if (set->n > 0) {
        set->samples = calloc(set->n, sizeof *set->samples);
        AF_CHECK_ALLOC(set->samples);
    }
    if (ncounties > 0) {
        set->county_fips = calloc(ncounties, sizeof *set->county_fips);
        set->county_wkb = calloc(ncounties, sizeof *set->county_wkb);
        set->county_wkb_len = calloc(ncounties, sizeof *set->county_wkb_len);
        AF_CHECK_ALLOC(set->county_fips);
        AF_CHECK_ALLOC(set->county_wkb);
        AF_CHECK_ALLOC(set->county_wkb_len);
    }
    size_t k = 0;
    for (size_t c = 0; c < ncounties; c++) {
        memcpy(set->county_fips[c], counties[c].fips, sizeof set->county_fips[c]);
        set->county_wkb[c] = counties[c].wkb;
        set->county_wkb_len[c] = counties[c].wkblen;
        counties[c].wkb = NULL;
        set->ncounties = c + 1;
        for (size_t s = 0; s < nscen; s++, k++) {
            af_sample *smp = &set->samples[k];
            snprintf(smp->id, sizeof smp->id, "%s:%s", counties[c].fips, scen[s]);
            smp->kind = AF_SAMPLE_COUNTY;
            memcpy(smp->fips, counties[c].fips, sizeof smp->fips);
            snprintf(smp->scenario, sizeof smp->scenario, "%s", scen[s]);
            smp->scenario_index = (int)s;
            smp->county_rank = counties[c].rank;
            smp->lat = counties[c].lat;
            smp->lon = counties[c].lon;
            smp->unit = c;
            smp->work = 1.0;
        }
    }
    for (size_t i = 0; i < nsites; i++, k++) {
        af_sample *smp = &set->samples[k];
        memcpy(smp->id, sites[i].id, sizeof smp->id);
        smp->kind = AF_SAMPLE_SITE;
        smp->scenario_index = -1;
        smp->county_rank = -1;
        smp->lat = sites[i].lat;
        smp->lon = sites[i].lon;
        smp->unit = i;
        smp->work = opts->site_work > 0 ? opts->site_work : 1.0;
    }
    set->nsites = nsites;
    AF_CHECK(af__sampleset_build_hash(set, err));
    *out = set;
    set = NULL;
cleanup:
    for (size_t i = 0; i < ncounties; i++) free(counties[i].wkb);
    free(counties);
    free(sites);
    free(sel);
    free(wkt);
    af_sampleset_destroy(&set);
    return rc;
}

void af_sampleset_destroy(af_sampleset **set)
{
    if (!set || !*set) return;
    af_sampleset *s = *set;
    for (size_t i = 0; i < s->ncounties; i++) free(s->county_wkb[i]);
    free(s->county_wkb);
    free(s->county_wkb_len);
    free(s->county_fips);
    free(s->samples);
    free(s->crs_wkt);
    free(s->htab);
    free(s);
    *set = NULL;
}

size_t af_sampleset_count(const af_sampleset *set) { return set ? set->n : 0; }

const af_sample *af_sampleset_get_ref(const af_sampleset *set, size_t i)
{
    return (set && i < set->n) ? &set->samples[i] : NULL;
}

long af_sampleset_find(const af_sampleset *set, const char *id)
{
    if (!set || !id || set->hcap == 0) return -1;
    size_t k = (size_t)hash_id(id) & (set->hcap - 1);
    while (set->htab[k]) {
        size_t i = set->htab[k] - 1;
        if (!strcmp(set->samples[i].id, id)) return (long)i;
        k = (k + 1) & (set->hcap - 1);
    }
    return -1;
}

size_t af_sampleset_ncounties(const af_sampleset *set) { return set ? set->ncounties : 0; }

size_t af_sampleset_nsites(const af_sampleset *set) { return set ? set->nsites : 0; }

const unsigned char *af_sampleset_county_wkb_ref(const af_sampleset *set, size_t county, size_t *len)
{
    if (!set || county >= set->ncounties) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = set->county_wkb_len[county];
    return set->county_wkb[county];
}

const char *af_sampleset_county_fips_ref(const af_sampleset *set, size_t county)
{
    return (set && county < set->ncounties) ? set->county_fips[county] : NULL;
}

const char *af_sampleset_county_crs_wkt_ref(const af_sampleset *set)
{
    return (set && set->crs_wkt) ? set->crs_wkt : "";
}
