/* SPDX-License-Identifier: MIT */
/*
 * fetch_derive.c: files `fetch` makes from what it downloads (the `fetch` key).
 * crop: a national raster (CDL, often a zip whose GeoTIFF name varies by year) is
 * cut to the pipeline's region: the box of the counties and sites in the raster's
 * CRS, widened to whole source pixels plus a margin (GDALTranslate -srcwin: the
 * values are the national file's, on its own grid). tiles: the 1x1 degree tiles
 * covering the region (POLARIS) are downloaded and joined in a VRT (GDALBuildVRT).
 * Every result is written as PATH.part, fsynced and renamed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/fetch.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static void widen(double b[4], double x, double y)
{
    if (!isfinite(x) || !isfinite(y)) return;
    b[0] = fmin(b[0], x), b[1] = fmin(b[1], y), b[2] = fmax(b[2], x), b[3] = fmax(b[3], y);
}

static int srs_from(const char *text, OGRSpatialReferenceH *out, af_error *err)
{
    *out = OSRNewSpatialReference(NULL);
    if (!*out) return af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (OSRSetFromUserInput(*out, text) != OGRERR_NONE)
        return af_error_set(err, AF_ECRS, __FILE__, __LINE__, __func__, "cannot read the CRS '%.80s': %s", text,
                            af_gdal_why());
    OSRSetAxisMappingStrategy(*out, OAMS_TRADITIONAL_GIS_ORDER);
    return AF_OK;
}

int af_fetch_region_bounds(const af_sampleset *set, const char *crs, double b[4], af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH dst = NULL, src = NULL, ll = NULL;
    OGRCoordinateTransformationH ct = NULL, ctll = NULL;
    OGRGeometryH g = NULL;
    b[0] = b[1] = INFINITY;
    b[2] = b[3] = -INFINITY;
    AF_CHECK_ARG(set && crs);
    AF_CHECK(srs_from(crs, &dst, err));
    AF_CHECK(srs_from("EPSG:4326", &ll, err));
    const char *lwkt = af_sampleset_county_crs_wkt_ref(set);
    AF_CHECK(srs_from(lwkt && lwkt[0] ? lwkt : "EPSG:4326", &src, err));
    size_t nc = af_sampleset_ncounties(set);
    if (nc) {
        ct = OCTNewCoordinateTransformation(src, dst);
        if (!ct) AF_FAIL(AF_ECRS, "no transformation from the county layer's CRS into %.80s: %s", crs, af_gdal_why());
    }
    for (size_t i = 0; i < nc; i++) {
        size_t len = 0;
        const unsigned char *wkb = af_sampleset_county_wkb_ref(set, i, &len);
        OGREnvelope e;
        if (!wkb || OGR_G_CreateFromWkb(wkb, NULL, &g, (int)len) != OGRERR_NONE || OGR_G_Transform(g, ct) != OGRERR_NONE)
            AF_FAIL(AF_ECRS, "county %s: cannot transform its polygon into %.80s: %s",
                    af_sampleset_county_fips_ref(set, i), crs, af_gdal_why());
        OGR_G_GetEnvelope(g, &e);
        widen(b, e.MinX, e.MinY);
        widen(b, e.MaxX, e.MaxY);
        OGR_G_DestroyGeometry(g);
        g = NULL;
    }
    for (size_t i = 0; i < af_sampleset_count(set); i++) {
        const af_sample *s = af_sampleset_get_ref(set, i);
        if (s->kind == AF_SAMPLE_COUNTY) continue;
        if (!ctll && !(ctll = OCTNewCoordinateTransformation(ll, dst)))
            AF_FAIL(AF_ECRS, "no transformation from lon/lat into %.80s: %s", crs, af_gdal_why());
        double x = s->lon, y = s->lat;
        if (!OCTTransform(ctll, 1, &x, &y, NULL)) AF_FAIL(AF_ECRS, "site %s: cannot transform its location", s->id);
        widen(b, x, y);
    }
    if (!(b[0] <= b[2] && b[1] <= b[3])) AF_FAIL(AF_EINVAL, "the pipeline has no counties or sites: no region to cut");
cleanup:
    if (g) OGR_G_DestroyGeometry(g);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (ctll) OCTDestroyCoordinateTransformation(ctll);
    if (dst) OSRDestroySpatialReference(dst);
    if (src) OSRDestroySpatialReference(src);
    if (ll) OSRDestroySpatialReference(ll);
    return rc;
}

/* The tiles of tile_url covering the region: URLs and local paths (src_path/NAME). */
static int tile_list(const af_fetch_item *it, const af_sampleset *set, char ***urls, char ***paths, size_t *n,
                     af_error *err)
{
    int rc = AF_OK;
    double b[4];
    *urls = *paths = NULL;
    *n = 0;
    AF_CHECK(af_fetch_region_bounds(set, "EPSG:4326", b, err));
    int lon0 = (int)floor(b[0]), lat0 = (int)floor(b[1]);
    int lon1 = (int)ceil(b[2]), lat1 = (int)ceil(b[3]);
    if (lon1 == lon0) lon1++;
    if (lat1 == lat0) lat1++;
    size_t cap = (size_t)(lon1 - lon0) * (size_t)(lat1 - lat0);
    if (cap > 10000) AF_FAIL(AF_EINVAL, "[%s] the region spans %zu 1x1 degree tiles: not a region", it->key, cap);
    *urls = calloc(cap, sizeof **urls);
    *paths = calloc(cap, sizeof **paths);
    AF_CHECK_ALLOC(*urls);
    AF_CHECK_ALLOC(*paths);
    for (int lat = lat0; lat < lat1; lat++)
        for (int lon = lon0; lon < lon1; lon++) {
            char url[4096] = "", v[16];
            size_t o = 0;
            for (const char *p = it->tile_url; *p && o + 16 < sizeof url;) {
                static const char *const ph[] = { "{lat0}", "{lat1}", "{lon0}", "{lon1}" };
                int k = 0;
                while (k < 4 && strncmp(p, ph[k], 6)) k++;
                if (k < 4) {
                    snprintf(v, sizeof v, "%d", k == 0 ? lat : k == 1 ? lat + 1 : k == 2 ? lon : lon + 1);
                    o += (size_t)snprintf(url + o, sizeof url - o, "%s", v);
                    p += 6;
                } else {
                    url[o++] = *p++;
                    url[o] = '\0';
                }
            }
            const char *end = url + strcspn(url, "?#"), *slash = url;
            for (const char *c = url; c < end; c++)
                if (*c == '/') slash = c + 1;
            char name[1024], path[4096];
            snprintf(name, sizeof name, "%.*s", (int)(end - slash), slash);
            if (!name[0]) AF_FAIL(AF_ECONFIG, "%s: tile URL '%s' has no file name", it->key, url);
            AF_CHECK(af_path_join(it->src_path, name, path, sizeof path, err));
            (*urls)[*n] = af_strdup(url);
            (*paths)[*n] = af_strdup(path);
            (*n)++;
            AF_CHECK_ALLOC((*urls)[*n - 1]);
            AF_CHECK_ALLOC((*paths)[*n - 1]);
        }
cleanup:
    return rc;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static int push(af_fetch_list *l, const af_fetch_item *from, const char *path, const char *url, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(af_array_grow((void **)&l->items, &l->cap, l->n, sizeof *l->items, 16, err));
    af_fetch_item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    snprintf(it->key, sizeof it->key, "%s", from->key);
    snprintf(it->url_key, sizeof it->url_key, "%s", from->url_key);
    const char *dot = strrchr(from->key, '.');
    if (from->mode == AF_FETCH_TILES && dot) /* "input.X.path" -> "input.X.tile_url" */
        snprintf(it->url_key, sizeof it->url_key, "%.*s.tile_url", (int)(dot - from->key), from->key);
    snprintf(it->doc, sizeof it->doc, "%s", from->doc);
    it->line = from->line;
    it->size = -1;
    it->path = af_strdup(path);
    it->url = af_strdup(url);
    it->sums_url = from->sums_url ? af_strdup(from->sums_url) : NULL;
    if (!it->path || !it->url || (from->sums_url && !it->sums_url)) {
        free(it->path), free(it->url), free(it->sums_url);
        AF_FAIL(AF_ENOMEM, "out of memory");
    }
    l->n++;
cleanup:
    return rc;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int af_fetch_derived_downloads(af_fetch_item *const *items, size_t n, const af_sampleset *set, af_fetch_list *out,
                               af_error *err)
{
    int rc = AF_OK;
    char **urls = NULL, **paths = NULL;
    size_t nt = 0;
    AF_CHECK_ARG(out && (items || !n));
    for (size_t i = 0; i < n; i++) {
        const af_fetch_item *it = items[i];
        if (it->present || it->mode == AF_FETCH_COPY) continue;
        if (it->mode == AF_FETCH_CROP) {
            if (!exists(it->src_path)) AF_CHECK(push(out, it, it->src_path, it->url, err));
            continue;
        }
        AF_CHECK(tile_list(it, set, &urls, &paths, &nt, err));
        for (size_t t = 0; t < nt; t++) {
            if (!exists(paths[t])) AF_CHECK(push(out, it, paths[t], urls[t], err));
        }
        free_strs(urls, nt), free_strs(paths, nt);
        urls = paths = NULL;
        nt = 0;
    }
cleanup:
    free_strs(urls, nt);
    free_strs(paths, nt);
    return rc;
}

/* The raster an archive holds (one member ending .tif/.tiff, or .img: ERDAS Imagine, as some older
 * national CDL years were published), or the file itself. */
static int raster_in(const af_fetch_item *it, char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    char **names = NULL;
    if (!ends_with(it->src_path, ".zip")) {
        snprintf(out, n, "%s", it->src_path);
        goto cleanup;
    }
    char zip[4200];
    snprintf(zip, sizeof zip, "/vsizip/%s", it->src_path);
    CPLErrorReset();
    names = VSIReadDirRecursive(zip);
    int found = -1;
    for (int i = 0; names && names[i]; i++)
        if (ends_with(names[i], ".tif") || ends_with(names[i], ".tiff") || ends_with(names[i], ".img")) {
            if (found >= 0)
                AF_FAIL(AF_EFORMAT, "%s: '%s' holds more than one GeoTIFF ('%s', '%s', ...): cannot tell which to "
                        "crop", it->key, it->src_path, names[found], names[i]);
            found = i;
            snprintf(out, n, "%s/%s", zip, names[i]);
        }
    if (found < 0)
        AF_FAIL(AF_EFORMAT, "%s: '%s' holds no GeoTIFF (.tif) or .img member", it->key,
                it->src_path);
cleanup:
    CSLDestroy(names);
    return rc;
}

/* The source-pixel window covering box b plus margin, clipped to the raster. */
static int pixel_window(const double gt[6], int nx, int ny, const double b[4], int margin, int win[4])
{
    double c0 = (b[0] - gt[0]) / gt[1], c1 = (b[2] - gt[0]) / gt[1];
    double r0 = (b[1] - gt[3]) / gt[5], r1 = (b[3] - gt[3]) / gt[5];
    long x0 = (long)floor(fmin(c0, c1)) - margin, x1 = (long)ceil(fmax(c0, c1)) + margin;
    long y0 = (long)floor(fmin(r0, r1)) - margin, y1 = (long)ceil(fmax(r0, r1)) + margin;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > nx) x1 = nx;
    if (y1 > ny) y1 = ny;
    win[0] = (int)x0, win[1] = (int)y0, win[2] = (int)(x1 - x0), win[3] = (int)(y1 - y0);
    return x1 > x0 && y1 > y0;
}

static int crop(af_fetch_item *it, const af_sampleset *set, const char *tmp, af_error *err)
{
    int rc = AF_OK;
    GDALDatasetH src = NULL, dst = NULL;
    GDALTranslateOptions *to = NULL;
    char in[4400];
    double gt[6], b[4];
    int win[4];
    AF_CHECK(raster_in(it, in, sizeof in, err));
    CPLErrorReset();
    src = GDALOpenEx(in, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!src) AF_FAIL(AF_EGDAL, "%s: cannot open '%s': %s", it->key, in, af_gdal_open_why(in));
    if (GDALGetGeoTransform(src, gt) != CE_None || gt[2] != 0 || gt[4] != 0 || gt[1] == 0 || gt[5] == 0)
        AF_FAIL(AF_EFORMAT, "%s: '%s' has no north-up geotransform: cannot crop by pixels", it->key, in);
    const char *wkt = GDALGetProjectionRef(src);
    if (!wkt || !wkt[0]) AF_FAIL(AF_ECRS, "%s: '%s' has no CRS: cannot place the region in it", it->key, in);
    AF_CHECK(af_fetch_region_bounds(set, wkt, b, err));
    if (!pixel_window(gt, GDALGetRasterXSize(src), GDALGetRasterYSize(src), b, it->margin, win))
        AF_FAIL(AF_EINVAL, "%s: the region (%.0f %.0f %.0f %.0f in the raster's CRS) lies outside '%s'", it->key,
                b[0], b[1], b[2], b[3], in);
    char w[4][16];
    for (int i = 0; i < 4; i++) snprintf(w[i], sizeof w[i], "%d", win[i]);
    char *argv[] = { "-of", "GTiff", "-srcwin", w[0], w[1], w[2], w[3], "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE",
                     NULL };
    to = GDALTranslateOptionsNew(argv, NULL);
    if (!to) AF_FAIL(AF_EINTERNAL, "GDALTranslateOptionsNew: %s", af_gdal_why());
    int usage = 0;
    CPLErrorReset();
    dst = GDALTranslate(tmp, src, to, &usage);
    if (!dst) AF_FAIL(AF_EGDAL, "%s: cropping '%s' to '%s': %s", it->key, in, tmp, af_gdal_why());
    GDALClose(dst);
    dst = NULL;
    if (CPLGetLastErrorType() >= CE_Failure) AF_FAIL(AF_EGDAL, "%s: writing '%s': %s", it->key, tmp, af_gdal_why());
cleanup:
    if (to) GDALTranslateOptionsFree(to);
    if (src) GDALClose(src);
    return rc;
}

static int build_vrt(af_fetch_item *it, const af_sampleset *set, const char *tmp, af_error *err)
{
    int rc = AF_OK;
    char **urls = NULL, **paths = NULL;
    size_t nt = 0;
    GDALDatasetH vrt = NULL;
    AF_CHECK(tile_list(it, set, &urls, &paths, &nt, err));
    for (size_t t = 0; t < nt; t++)
        if (!exists(paths[t])) AF_FAIL(AF_ENOTFOUND, "%s: tile '%s' (%s) is missing", it->key, paths[t], urls[t]);
    int usage = 0;
    CPLErrorReset();
    vrt = GDALBuildVRT(tmp, (int)nt, NULL, (const char *const *)paths, NULL, &usage);
    if (!vrt) AF_FAIL(AF_EGDAL, "%s: building the VRT '%s' of %zu tiles: %s", it->key, tmp, nt, af_gdal_why());
    GDALClose(vrt);
    vrt = NULL;
    if (CPLGetLastErrorType() >= CE_Failure) AF_FAIL(AF_EGDAL, "%s: writing '%s': %s", it->key, tmp, af_gdal_why());
cleanup:
    free_strs(urls, nt);
    free_strs(paths, nt);
    return rc;
}

int af_fetch_derive(af_fetch_item *it, const af_sampleset *set, af_error *err)
{
    int rc = AF_OK;
    char tmp[4200], dir[4096];
    AF_CHECK_ARG(it && set && it->mode != AF_FETCH_COPY);
    af_gdal_register();
    snprintf(tmp, sizeof tmp, "%s.part", it->path);
    af_path_dirname(it->path, dir, sizeof dir);
    AF_CHECK(af_mkdirs(dir, err));
    unlink(tmp);
    if (it->mode == AF_FETCH_CROP) AF_CHECK(crop(it, set, tmp, err));
    else AF_CHECK(build_vrt(it, set, tmp, err));
    AF_CHECK(af_fsync_path(tmp, err));
    AF_CHECK(af_rename_durable(tmp, it->path, err));
    if (it->mode == AF_FETCH_CROP && !it->keep_src) unlink(it->src_path);
    struct stat st;
    it->present = 1;
    it->size = stat(it->path, &st) == 0 ? (long long)st.st_size : -1;
cleanup:
    if (rc != AF_OK) unlink(tmp);
    return rc;
}
