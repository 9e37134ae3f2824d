/* SPDX-License-Identifier: MIT */
/*
 * fetch_check.c: is a downloaded file what its name says, before it takes that
 * name? Rasters and NetCDF (.tif .tiff .nc .nc4 .vrt .img), vectors (.geojson
 * .json .gpkg) and zip archives must open with GDAL; the reason GDAL gives is kept.
 * Text files (CSV, model outputs) have no structure to check beyond their size.
 * Also the size and SHA-256 of a virtual or remote file (/vsicurl/, /vsizip/, ...)
 * read through GDAL's VSI layer, for the provenance of runs that read such paths.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/fetch.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

int af_fetch_check_file(const char *tmp_path, const char *final_path, af_error *err)
{
    int rc = AF_OK;
    static const char *const raster[] = { ".tif", ".tiff", ".nc", ".nc4", ".vrt", ".img", NULL };
    static const char *const vector[] = { ".geojson", ".json", ".gpkg", NULL };
    unsigned flags = 0;
    for (int i = 0; raster[i]; i++)
        if (ends_with(final_path, raster[i])) flags = GDAL_OF_RASTER | GDAL_OF_MULTIDIM_RASTER;
    for (int i = 0; vector[i]; i++)
        if (ends_with(final_path, vector[i])) flags = GDAL_OF_VECTOR;
    af_gdal_register();
    if (ends_with(final_path, ".zip")) {
        char vsi[4200];
        snprintf(vsi, sizeof vsi, "/vsizip/%s", tmp_path);
        CPLErrorReset();
        char **names = VSIReadDir(vsi);
        int ok = names && names[0];
        CSLDestroy(names);
        if (!ok)
            AF_FAIL(AF_EFORMAT, "'%s' is not a readable zip archive: %s", tmp_path, af_gdal_why());
        goto cleanup;
    }
    if (!flags) goto cleanup;
    CPLErrorReset();
    /* the driver is chosen by content; the temporary name has the extension plus .part */
    GDALDatasetH ds = GDALOpenEx(tmp_path, flags | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds && (flags & GDAL_OF_MULTIDIM_RASTER))
        ds = GDALOpenEx(tmp_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        AF_FAIL(AF_EFORMAT, "'%s' does not open as a %s with GDAL: %s", tmp_path,
                (flags & GDAL_OF_VECTOR) ? "vector dataset" : "raster or NetCDF file",
                af_gdal_open_why(tmp_path));
    GDALClose(ds);
cleanup:
    return rc;
}

int af_fetch_vsi_sha256(const char *path, long long *bytes, char hex[65], af_error *err)
{
    int rc = AF_OK;
    VSILFILE *fp = NULL;
    af_sha256 *md = NULL;
    unsigned char *buf = NULL;
    long long total = 0;
    char vsi[4200];
    /* a bare URL is read through /vsicurl/ (an OPeNDAP endpoint has no file bytes: it fails) */
    if (strstr(path, "://") && strncmp(path, "/vsi", 4)) snprintf(vsi, sizeof vsi, "/vsicurl/%s", path);
    else snprintf(vsi, sizeof vsi, "%s", path);
    CPLErrorReset();
    fp = VSIFOpenL(vsi, "rb");
    if (!fp) AF_FAIL(AF_ENOTFOUND, "cannot open '%s': %s", path, af_gdal_open_why(vsi));
    md = af_sha256_begin();
    buf = malloc(1 << 20);
    AF_CHECK_ALLOC(md);
    AF_CHECK_ALLOC(buf);
    for (size_t got; (got = VSIFReadL(buf, 1, 1 << 20, fp)) > 0;) {
        af_sha256_update(md, buf, got);
        total += (long long)got;
    }
    if (CPLGetLastErrorType() >= CE_Failure)
        AF_FAIL(AF_EIO, "reading '%s': %s", path, af_gdal_why());
    af_sha256_end(&md, hex);
    *bytes = total;
cleanup:
    if (fp) VSIFCloseL(fp);
    char unused[65];
    af_sha256_end(&md, unused); /* frees the context on an error path; NULL after success */
    free(buf);
    return rc;
}
