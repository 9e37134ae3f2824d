/* SPDX-License-Identifier: MIT */
/*
 * gdal_why.c: the reason part of GDAL/OGR/OSR error messages. GDAL's last error message is
 * often empty (a NetCDF file without the variable, a file of no known format, a CRS call that
 * fails without CPLError): these return its text when it has one, else what agroflux can tell
 * itself, so that no message ends in an empty reason (docs/architecture.md, "Error messages").
 * And af_gdal_register, which every GDAL open goes through first.
 */
#include <cpl_error.h>
#include <gdal.h>

#include "af_util.h"

const char *af_gdal_why(void)
{
    const char *m = CPLGetLastErrorMsg();
    return m && m[0] ? m : "GDAL gave no reason";
}

const char *af_gdal_open_why(const char *path)
{
    const char *m = CPLGetLastErrorMsg();
    if (m && m[0]) return m;
    if (!path || af_path_is_virtual(path)) return "GDAL gave no reason";
    if (!af_file_readable(path)) return "the file is missing or not readable";
    return "GDAL does not recognise the file's format (damaged, truncated or not a raster/vector file)";
}

void af_gdal_register(void)
{
    if (GDALGetDriverCount() == 0) GDALAllRegister();
}
