/* SPDX-License-Identifier: MIT */
/*
 * synth_grid.c: synthetic gridMET-format and Daymet-format daily weather
 * (synth_grid.h), written with netCDF-C. The value of a cell on a day is
 *   k = (7*gi + 13*gj + 3*doy + 5*vnum) mod 200
 * with (gi, gj) the cell's GLOBAL column and row on the product's lattice
 * (gridMET: lon = -124.7666666333333 + gi/24, lat = 49.4 - gj/24 at cell
 * centres; Daymet: x edges -4560750 + S*gi, y edges 4985000 - S*gj metres at
 * spacing S) and doy the day of the year (1..366; Daymet 1..365), then
 *   gridMET raw uint16 = rbase + rstep*k, value = raw*scale_factor + add_offset
 *   Daymet float32   = base + step*k (exact in float32)
 * Missing (_FillValue) where (3*gi + 5*gj + doy) mod 97 == 0, and on days with
 * doy mod 50 == 25 over the north-west quarter of the file (local column <
 * nx/2 and local row < ny/2, rows north to south). docs/formats.md, "Synth
 * gridded weather", states the same rules and the per-variable constants.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>
#include <netcdf.h>
#include <ogr_srs_api.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "synth_geo.h"
#include "synth_grid.h"

/* netCDF-C call: fail with the file name and the library's message. */
#define NC_TRY(call)                                                                              \
    do {                                                                                          \
        int nc__s = (call);                                                                       \
        if (nc__s != NC_NOERR) AF_FAIL(AF_EIO, "%s: %s: %s", tmp, #call, nc_strerror(nc__s));     \
    } while (0)

#define GM_LON0 (-124.7666666333333) /* centre of gridMET column 0 */
#define GM_LAT0 49.4                 /* centre of gridMET row 0 (rows go south) */
#define GM_D (1.0 / 24.0)
#define GM_FILL 32767
#define DM_X0 (-4560750.0)           /* west edge of Daymet v4 column 0 (1 km) */
#define DM_Y0 4985000.0              /* north edge of Daymet v4 row 0 */

typedef struct gm_var {
    const char *file, *name, *units, *desc;
    int vnum;
    double scale, offset;
    int rbase, rstep;
} gm_var;

static const gm_var gm_vars[] = {
    { "tmmx", "air_temperature", "K", "Daily Maximum Temperature", 1, 0.1, 220.0, 600, 1 },
    { "tmmn", "air_temperature", "K", "Daily Minimum Temperature", 2, 0.1, 220.0, 450, 1 },
    { "pr", "precipitation_amount", "mm", "Daily Accumulated Precipitation", 3, 0.1, 0.0, 0, 1 },
    { "srad", "surface_downwelling_shortwave_flux_in_air", "W m-2", "Daily Mean Downward Shortwave Radiation At Surface", 4, 0.1, 0.0, 1000, 10 },
    { "vs", "wind_speed", "m/s", "Daily Mean Wind Speed", 5, 0.1, 0.0, 10, 1 },
    { "rmax", "relative_humidity", "%", "Daily Maximum Relative Humidity", 6, 0.1, 0.0, 600, 2 },
    { "rmin", "relative_humidity", "%", "Daily Minimum Relative Humidity", 7, 0.1, 0.0, 200, 2 },
    { "vpd", "mean_vapor_pressure_deficit", "kPa", "Mean Vapor Pressure Deficit", 8, 0.01, 0.0, 10, 1 },
};

typedef struct dm_var {
    const char *name, *units, *long_name, *cell_methods;
    int vnum;
    double base, step;
} dm_var;

static const dm_var dm_vars[] = {
    { "tmax", "degrees C", "daily maximum temperature", "area: mean time: maximum", 1, 10.0, 0.125 },
    { "tmin", "degrees C", "daily minimum temperature", "area: mean time: minimum", 2, -5.0, 0.125 },
    { "prcp", "mm/day", "daily total precipitation", "area: mean time: sum", 3, 0.0, 0.0625 },
    { "srad", "W/m2", "daylight average incident shortwave radiation", "area: mean time: mean", 4, 100.0, 1.0 },
    { "vp", "Pa", "daily average vapor pressure", "area: mean time: mean", 5, 500.0, 4.0 },
    { "dayl", "s", "daylength", "area: mean", 6, 30000.0, 64.0 },
};

static int k_value(long gi, long gj, int doy, int vnum)
{
    return (int)((7 * gi + 13 * gj + 3 * doy + 5 * vnum) % 200);
}

static int is_hole(long gi, long gj, int doy, long c, long r, long nx, long ny)
{
    return (3 * gi + 5 * gj + doy) % 97 == 0 || (doy % 50 == 25 && c < nx / 2 && r < ny / 2);
}

af_synth_box af__synth_grid_region(void)
{
    af_synth_box b = { AF_SYNTH_LON_MIN - AF_SYNTH_GRID_MARGIN, AF_SYNTH_LON_MAX + AF_SYNTH_GRID_MARGIN,
                       AF_SYNTH_LAT_MIN - AF_SYNTH_GRID_MARGIN, AF_SYNTH_LAT_MAX + AF_SYNTH_GRID_MARGIN };
    return b;
}

static int check_common(const char *dir, const char *var, int year, const af_synth_box *b, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(dir && var);
    if (year < 1900 || year > 2100) AF_FAIL(AF_EINVAL, "synth grid: year %d: expected 1900..2100", year);
    if (!(b->lon_min < b->lon_max && b->lat_min < b->lat_max && b->lat_min >= -89 && b->lat_max <= 89))
        AF_FAIL(AF_EINVAL, "synth grid: empty or invalid box lon %g..%g lat %g..%g", b->lon_min, b->lon_max,
                b->lat_min, b->lat_max);
cleanup:
    return rc;
}

static int put_text(int nc, int var, const char *name, const char *text)
{
    return nc_put_att_text(nc, var, name, strlen(text), text);
}

/* ------------------------------------------------------------------ gridMET */

/* Header of a gridMET file: dims, coordinates, crs, the packed variable. */
static int gm_define(int nc, const char *tmp, const gm_var *v, int nd, long nx, long ny, long gi0, long gj0,
                     int ids[4], af_error *err)
{
    int rc = AF_OK;
    int dlon, dlat, dday, dcrs, vlon, vlat, vday, vcrs, vv;
    char buf[512];
    NC_TRY(nc_def_dim(nc, "lon", (size_t)nx, &dlon));
    NC_TRY(nc_def_dim(nc, "lat", (size_t)ny, &dlat));
    NC_TRY(nc_def_dim(nc, "day", (size_t)nd, &dday));
    NC_TRY(nc_def_dim(nc, "crs", 1, &dcrs));
    NC_TRY(nc_def_var(nc, "lon", NC_DOUBLE, 1, &dlon, &vlon));
    NC_TRY(put_text(nc, vlon, "units", "degrees_east"));
    NC_TRY(put_text(nc, vlon, "description", "longitude"));
    NC_TRY(put_text(nc, vlon, "long_name", "longitude"));
    NC_TRY(put_text(nc, vlon, "standard_name", "longitude"));
    NC_TRY(put_text(nc, vlon, "axis", "X"));
    NC_TRY(nc_def_var(nc, "lat", NC_DOUBLE, 1, &dlat, &vlat));
    NC_TRY(put_text(nc, vlat, "units", "degrees_north"));
    NC_TRY(put_text(nc, vlat, "description", "latitude"));
    NC_TRY(put_text(nc, vlat, "long_name", "latitude"));
    NC_TRY(put_text(nc, vlat, "standard_name", "latitude"));
    NC_TRY(put_text(nc, vlat, "axis", "Y"));
    NC_TRY(nc_def_var(nc, "day", NC_DOUBLE, 1, &dday, &vday));
    NC_TRY(put_text(nc, vday, "units", "days since 1900-01-01 00:00:00"));
    NC_TRY(put_text(nc, vday, "calendar", "gregorian"));
    NC_TRY(put_text(nc, vday, "description", "days since 1900-01-01"));
    NC_TRY(put_text(nc, vday, "long_name", "time"));
    NC_TRY(put_text(nc, vday, "standard_name", "time"));
    NC_TRY(nc_def_var(nc, "crs", NC_USHORT, 1, &dcrs, &vcrs));
    double zero = 0.0, a = 6378137.0, invf = 298.257223563;
    NC_TRY(put_text(nc, vcrs, "grid_mapping_name", "latitude_longitude"));
    NC_TRY(nc_put_att_double(nc, vcrs, "longitude_of_prime_meridian", NC_DOUBLE, 1, &zero));
    NC_TRY(nc_put_att_double(nc, vcrs, "semi_major_axis", NC_DOUBLE, 1, &a));
    NC_TRY(put_text(nc, vcrs, "long_name", "WGS 84"));
    NC_TRY(nc_put_att_double(nc, vcrs, "inverse_flattening", NC_DOUBLE, 1, &invf));
    snprintf(buf, sizeof buf, "%.17g %.17g 0 %.17g 0 %.17g", GM_LON0 + (double)gi0 * GM_D - GM_D / 2, GM_D,
             GM_LAT0 - (double)gj0 * GM_D + GM_D / 2, -GM_D);
    NC_TRY(put_text(nc, vcrs, "GeoTransform", buf));
    NC_TRY(put_text(nc, vcrs, "spatial_ref",
                    "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,"
                    "AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,"
                    "AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],"
                    "AUTHORITY[\"EPSG\",\"4326\"]]"));
    int dims[3] = { dday, dlat, dlon };
    NC_TRY(nc_def_var(nc, v->name, NC_USHORT, 3, dims, &vv));
    size_t chunk[3] = { (size_t)(nd < 61 ? nd : 61), (size_t)(ny < 98 ? ny : 98), (size_t)(nx < 231 ? nx : 231) };
    NC_TRY(nc_def_var_chunking(nc, vv, NC_CHUNKED, chunk));
    NC_TRY(nc_def_var_deflate(nc, vv, 0, 1, 1));
    unsigned short fill = GM_FILL;
    NC_TRY(nc_put_att(nc, vv, "_FillValue", NC_USHORT, 1, &fill));
    NC_TRY(put_text(nc, vv, "units", v->units));
    NC_TRY(put_text(nc, vv, "description", v->desc));
    NC_TRY(put_text(nc, vv, "long_name", v->file));
    NC_TRY(put_text(nc, vv, "standard_name", v->file));
    NC_TRY(nc_put_att(nc, vv, "missing_value", NC_USHORT, 1, &fill));
    NC_TRY(put_text(nc, vv, "dimensions", "lon lat time"));
    NC_TRY(put_text(nc, vv, "grid_mapping", "crs"));
    NC_TRY(put_text(nc, vv, "coordinate_system", "WGS84,EPSG:4326"));
    NC_TRY(nc_put_att_double(nc, vv, "scale_factor", NC_DOUBLE, 1, &v->scale));
    NC_TRY(nc_put_att_double(nc, vv, "add_offset", NC_DOUBLE, 1, &v->offset));
    NC_TRY(put_text(nc, vv, "coordinates", "lon lat"));
    NC_TRY(put_text(nc, NC_GLOBAL, "Conventions", "CF-1.6"));
    NC_TRY(put_text(nc, NC_GLOBAL, "geospatial_bounds_crs", "EPSG:4326"));
    NC_TRY(put_text(nc, NC_GLOBAL, "note1", "The projection information for this file is: GCS WGS 1984."));
    NC_TRY(put_text(nc, NC_GLOBAL, "source", "agroflux synth: synthetic values, gridMET layout (docs/formats.md)"));
    ids[0] = vlon; ids[1] = vlat; ids[2] = vday; ids[3] = vv;
cleanup:
    return rc;
}

/* Coordinates and values, written chunk-deep in time so the compressed chunks are written once. */
static int gm_fill(int nc, const char *tmp, const gm_var *v, int year, int nd, long nx, long ny, long gi0, long gj0,
                   const int ids[4], af_error *err)
{
    int rc = AF_OK;
    double *co = malloc((size_t)(nx > ny ? nx : ny) * sizeof *co);
    double *tday = malloc((size_t)nd * sizeof *tday);
    unsigned short *buf = NULL;
    AF_CHECK_ALLOC(co);
    AF_CHECK_ALLOC(tday);
    for (long c = 0; c < nx; c++) co[c] = GM_LON0 + (double)(gi0 + c) * GM_D;
    NC_TRY(nc_put_var_double(nc, ids[0], co));
    for (long r = 0; r < ny; r++) co[r] = GM_LAT0 - (double)(gj0 + r) * GM_D;
    NC_TRY(nc_put_var_double(nc, ids[1], co));
    af_date j1 = { year, 1, 1 }, e1900 = { 1900, 1, 1 };
    long e0 = af_date_to_epoch(j1);
    for (int d = 0; d < nd; d++) tday[d] = (double)(e0 + d - af_date_to_epoch(e1900));
    NC_TRY(nc_put_var_double(nc, ids[2], tday));
    const int depth = 61;
    size_t cells = (size_t)nx * (size_t)ny;
    buf = malloc((size_t)depth * cells * sizeof *buf);
    AF_CHECK_ALLOC(buf);
    for (int d0 = 0; d0 < nd; d0 += depth) {
        int n = nd - d0 < depth ? nd - d0 : depth;
        for (int d = 0; d < n; d++) {
            int doy = d0 + d + 1;
            unsigned short *p = buf + (size_t)d * cells;
            for (long r = 0; r < ny; r++)
                for (long c = 0; c < nx; c++) {
                    long gi = gi0 + c, gj = gj0 + r;
                    p[r * nx + c] = is_hole(gi, gj, doy, c, r, nx, ny)
                                        ? GM_FILL
                                        : (unsigned short)(v->rbase + v->rstep * k_value(gi, gj, doy, v->vnum));
                }
        }
        size_t start[3] = { (size_t)d0, 0, 0 }, count[3] = { (size_t)n, (size_t)ny, (size_t)nx };
        NC_TRY(nc_put_vara_ushort(nc, ids[3], start, count, buf));
    }
cleanup:
    free(co);
    free(tday);
    free(buf);
    return rc;
}

/* Write tmp (netCDF-4), then rename it to path durably. */
static int finish_file(int nc, const char *tmp, const char *path, af_error *err)
{
    int rc = AF_OK;
    NC_TRY(nc_close(nc));
    AF_CHECK(af_fsync_path(tmp, err));
    AF_CHECK(af_rename_durable(tmp, path, err));
cleanup:
    return rc;
}

int af__synth_gridmet_write(const char *dir, const char *var, int year, const af_synth_box *box, af_error *err)
{
    int rc = AF_OK;
    int nc = -1, ids[4] = { 0, 0, 0, 0 };
    char path[4096], tmp[4200], rel[64];
    af_synth_box b = box ? *box : af__synth_grid_region();
    const gm_var *v = NULL;
    tmp[0] = '\0';
    AF_CHECK(check_common(dir, var, year, &b, err));
    for (size_t i = 0; i < sizeof gm_vars / sizeof gm_vars[0]; i++)
        if (!strcmp(gm_vars[i].file, var)) v = &gm_vars[i];
    if (!v) AF_FAIL(AF_EINVAL, "synth gridMET: unknown variable '%s' (tmmx tmmn pr srad vs rmax rmin vpd)", var);
    long gi0 = (long)ceil((b.lon_min - GM_LON0) / GM_D - 1e-9), gi1 = (long)floor((b.lon_max - GM_LON0) / GM_D + 1e-9);
    long gj0 = (long)ceil((GM_LAT0 - b.lat_max) / GM_D - 1e-9), gj1 = (long)floor((GM_LAT0 - b.lat_min) / GM_D + 1e-9);
    if (gi0 < 0 || gj0 < 0 || gi1 < gi0 || gj1 < gj0)
        AF_FAIL(AF_EINVAL, "synth gridMET: the box holds no cell centre of the CONUS lattice");
    int nd = af_date_is_leap(year) ? 366 : 365;
    AF_CHECK(af_mkdirs(dir, err));
    snprintf(rel, sizeof rel, "%s_%04d.nc", v->file, year);
    AF_CHECK(af_path_join(dir, rel, path, sizeof path, err));
    snprintf(tmp, sizeof tmp, "%s.partial", path);
    NC_TRY(nc_create(tmp, NC_CLOBBER | NC_NETCDF4, &nc));
    AF_CHECK(gm_define(nc, tmp, v, nd, gi1 - gi0 + 1, gj1 - gj0 + 1, gi0, gj0, ids, err));
    NC_TRY(nc_enddef(nc));
    AF_CHECK(gm_fill(nc, tmp, v, year, nd, gi1 - gi0 + 1, gj1 - gj0 + 1, gi0, gj0, ids, err));
    int h = nc;
    nc = -1;
    AF_CHECK(finish_file(h, tmp, path, err));
    tmp[0] = '\0';
cleanup:
    if (nc >= 0) nc_close(nc);
    if (tmp[0]) remove(tmp);
    return rc;
}

/* ------------------------------------------------------------------- Daymet */

static const char *dm_proj4 =
    "+proj=lcc +lat_1=25 +lat_2=60 +lat_0=42.5 +lon_0=-100 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs";

/* Daymet cells covering the box in LCC: global column/row ranges [gi0, gi1), [gj0, gj1). */
static int dm_extent(const af_synth_box *b, double s, long *gi0, long *gi1, long *gj0, long *gj1,
                     OGRCoordinateTransformationH *inv, af_error *err)
{
    int rc = AF_OK;
    OGRSpatialReferenceH ll = OSRNewSpatialReference(NULL), lcc = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH fwd = NULL;
    enum { NS = 64 };
    double x[4 * NS], y[4 * NS];
    if (!ll || !lcc) AF_FAIL(AF_ENOMEM, "out of memory");
    if (OSRImportFromEPSG(ll, 4326) != OGRERR_NONE || OSRImportFromProj4(lcc, dm_proj4) != OGRERR_NONE)
        AF_FAIL(AF_ECRS, "synth Daymet: cannot build the CRSs: %s", af_gdal_why());
    OSRSetAxisMappingStrategy(ll, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(lcc, OAMS_TRADITIONAL_GIS_ORDER);
    fwd = OCTNewCoordinateTransformation(ll, lcc);
    *inv = OCTNewCoordinateTransformation(lcc, ll);
    if (!fwd || !*inv) AF_FAIL(AF_ECRS, "synth Daymet: no lon/lat <-> LCC transformation: %s", af_gdal_why());
    for (int i = 0; i < NS; i++) { /* the box outline, densified: LCC bends its edges */
        double f = (double)i / NS;
        x[i] = b->lon_min + f * (b->lon_max - b->lon_min); y[i] = b->lat_min;
        x[NS + i] = b->lon_max; y[NS + i] = b->lat_min + f * (b->lat_max - b->lat_min);
        x[2 * NS + i] = b->lon_max - f * (b->lon_max - b->lon_min); y[2 * NS + i] = b->lat_max;
        x[3 * NS + i] = b->lon_min; y[3 * NS + i] = b->lat_max - f * (b->lat_max - b->lat_min);
    }
    if (!OCTTransform(fwd, 4 * NS, x, y, NULL)) AF_FAIL(AF_ECRS, "synth Daymet: cannot project the box");
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < 4 * NS; i++) {
        xmin = fmin(xmin, x[i]); xmax = fmax(xmax, x[i]);
        ymin = fmin(ymin, y[i]); ymax = fmax(ymax, y[i]);
    }
    *gi0 = (long)floor((xmin - DM_X0) / s);
    *gi1 = (long)ceil((xmax - DM_X0) / s);
    *gj0 = (long)floor((DM_Y0 - ymax) / s);
    *gj1 = (long)ceil((DM_Y0 - ymin) / s);
cleanup:
    if (fwd) OCTDestroyCoordinateTransformation(fwd);
    if (ll) OSRDestroySpatialReference(ll);
    if (lcc) OSRDestroySpatialReference(lcc);
    return rc;
}

typedef struct dm_ids {
    int x, y, lat, lon, time, bnds, yday, v;
} dm_ids;

static int dm_define(int nc, const char *tmp, const dm_var *v, long nx, long ny, dm_ids *id, af_error *err)
{
    int rc = AF_OK;
    int dx, dy, dt, dnv, vg;
    NC_TRY(nc_def_dim(nc, "x", (size_t)nx, &dx));
    NC_TRY(nc_def_dim(nc, "y", (size_t)ny, &dy));
    NC_TRY(nc_def_dim(nc, "time", NC_UNLIMITED, &dt));
    NC_TRY(nc_def_dim(nc, "nv", 2, &dnv));
    NC_TRY(nc_def_var(nc, "x", NC_FLOAT, 1, &dx, &id->x));
    NC_TRY(put_text(nc, id->x, "units", "m"));
    NC_TRY(put_text(nc, id->x, "long_name", "x coordinate of projection"));
    NC_TRY(put_text(nc, id->x, "standard_name", "projection_x_coordinate"));
    NC_TRY(nc_def_var(nc, "y", NC_FLOAT, 1, &dy, &id->y));
    NC_TRY(put_text(nc, id->y, "units", "m"));
    NC_TRY(put_text(nc, id->y, "long_name", "y coordinate of projection"));
    NC_TRY(put_text(nc, id->y, "standard_name", "projection_y_coordinate"));
    int d2[2] = { dy, dx };
    NC_TRY(nc_def_var(nc, "lat", NC_FLOAT, 2, d2, &id->lat));
    NC_TRY(put_text(nc, id->lat, "units", "degrees_north"));
    NC_TRY(put_text(nc, id->lat, "long_name", "latitude coordinate"));
    NC_TRY(put_text(nc, id->lat, "standard_name", "latitude"));
    NC_TRY(nc_def_var(nc, "lon", NC_FLOAT, 2, d2, &id->lon));
    NC_TRY(put_text(nc, id->lon, "units", "degrees_east"));
    NC_TRY(put_text(nc, id->lon, "long_name", "longitude coordinate"));
    NC_TRY(put_text(nc, id->lon, "standard_name", "longitude"));
    NC_TRY(nc_def_var(nc, "time", NC_FLOAT, 1, &dt, &id->time));
    NC_TRY(put_text(nc, id->time, "standard_name", "time"));
    NC_TRY(put_text(nc, id->time, "calendar", "standard"));
    NC_TRY(put_text(nc, id->time, "units", "days since 1950-01-01 00:00:00"));
    NC_TRY(put_text(nc, id->time, "bounds", "time_bnds"));
    NC_TRY(put_text(nc, id->time, "long_name", "24-hour day based on local time"));
    int db[2] = { dt, dnv };
    NC_TRY(nc_def_var(nc, "time_bnds", NC_FLOAT, 2, db, &id->bnds));
    NC_TRY(nc_def_var(nc, "yearday", NC_SHORT, 1, &dt, &id->yday));
    NC_TRY(put_text(nc, id->yday, "long_name", "day of year (DOY) starting with day 1 on January 1st"));
    NC_TRY(nc_def_var(nc, "lambert_conformal_conic", NC_SHORT, 0, NULL, &vg));
    double sp[2] = { 25, 60 }, cm = -100, lat0 = 42.5, zero = 0, a = 6378137.0, invf = 298.257223563;
    NC_TRY(put_text(nc, vg, "grid_mapping_name", "lambert_conformal_conic"));
    NC_TRY(nc_put_att_double(nc, vg, "longitude_of_central_meridian", NC_DOUBLE, 1, &cm));
    NC_TRY(nc_put_att_double(nc, vg, "latitude_of_projection_origin", NC_DOUBLE, 1, &lat0));
    NC_TRY(nc_put_att_double(nc, vg, "false_easting", NC_DOUBLE, 1, &zero));
    NC_TRY(nc_put_att_double(nc, vg, "false_northing", NC_DOUBLE, 1, &zero));
    NC_TRY(nc_put_att_double(nc, vg, "standard_parallel", NC_DOUBLE, 2, sp));
    NC_TRY(nc_put_att_double(nc, vg, "semi_major_axis", NC_DOUBLE, 1, &a));
    NC_TRY(nc_put_att_double(nc, vg, "inverse_flattening", NC_DOUBLE, 1, &invf));
    int d3[3] = { dt, dy, dx };
    NC_TRY(nc_def_var(nc, v->name, NC_FLOAT, 3, d3, &id->v));
    size_t chunk[3] = { 1, (size_t)(ny < 1000 ? ny : 1000), (size_t)(nx < 1000 ? nx : 1000) };
    NC_TRY(nc_def_var_chunking(nc, id->v, NC_CHUNKED, chunk));
    NC_TRY(nc_def_var_deflate(nc, id->v, 0, 1, 1));
    float fill = -9999.0f;
    NC_TRY(nc_put_att_float(nc, id->v, "_FillValue", NC_FLOAT, 1, &fill));
    NC_TRY(nc_put_att_float(nc, id->v, "missing_value", NC_FLOAT, 1, &fill));
    NC_TRY(put_text(nc, id->v, "long_name", v->long_name));
    NC_TRY(put_text(nc, id->v, "units", v->units));
    NC_TRY(put_text(nc, id->v, "grid_mapping", "lambert_conformal_conic"));
    NC_TRY(put_text(nc, id->v, "cell_methods", v->cell_methods));
    NC_TRY(put_text(nc, id->v, "coordinates", "lat lon"));
    NC_TRY(put_text(nc, NC_GLOBAL, "Conventions", "CF-1.6"));
    NC_TRY(put_text(nc, NC_GLOBAL, "source", "agroflux synth: synthetic values, Daymet v4 layout (docs/formats.md)"));
cleanup:
    return rc;
}

/* Coordinates (cell centres, 2-D lat/lon by inverse projection) and 365 days of values. */
static int dm_fill(int nc, const char *tmp, const dm_var *v, int year, double s, long nx, long ny, long gi0,
                   long gj0, OGRCoordinateTransformationH inv, const dm_ids *id, af_error *err)
{
    int rc = AF_OK;
    size_t cells = (size_t)nx * (size_t)ny;
    float *f = malloc((size_t)(nx > ny ? nx : ny) * sizeof *f);
    double *lx = malloc(cells * sizeof *lx), *ly = malloc(cells * sizeof *ly);
    float *buf = malloc(cells * sizeof *buf);
    AF_CHECK_ALLOC(f);
    AF_CHECK_ALLOC(lx);
    AF_CHECK_ALLOC(ly);
    AF_CHECK_ALLOC(buf);
    for (long c = 0; c < nx; c++) f[c] = (float)(DM_X0 + s * ((double)(gi0 + c) + 0.5));
    NC_TRY(nc_put_var_float(nc, id->x, f));
    for (long r = 0; r < ny; r++) f[r] = (float)(DM_Y0 - s * ((double)(gj0 + r) + 0.5));
    NC_TRY(nc_put_var_float(nc, id->y, f));
    for (long r = 0; r < ny; r++)
        for (long c = 0; c < nx; c++) {
            lx[r * nx + c] = DM_X0 + s * ((double)(gi0 + c) + 0.5);
            ly[r * nx + c] = DM_Y0 - s * ((double)(gj0 + r) + 0.5);
        }
    if (!OCTTransform(inv, (int)cells, lx, ly, NULL)) AF_FAIL(AF_ECRS, "synth Daymet: cannot unproject cell centres");
    for (size_t i = 0; i < cells; i++) buf[i] = (float)ly[i];
    NC_TRY(nc_put_var_float(nc, id->lat, buf));
    for (size_t i = 0; i < cells; i++) buf[i] = (float)lx[i];
    NC_TRY(nc_put_var_float(nc, id->lon, buf));
    af_date j1 = { year, 1, 1 }, e1950 = { 1950, 1, 1 };
    long base = af_date_to_epoch(j1) - af_date_to_epoch(e1950);
    for (int d = 0; d < 365; d++) { /* Dec 31 of a leap year is not written */
        int doy = d + 1;
        size_t t1[1] = { (size_t)d }, one[1] = { 1 }, tb[2] = { (size_t)d, 0 }, tc[2] = { 1, 2 };
        float tv = (float)(base + d) + 0.5f, bnd[2] = { (float)(base + d), (float)(base + d + 1) };
        short yd = (short)doy;
        NC_TRY(nc_put_vara_float(nc, id->time, t1, one, &tv));
        NC_TRY(nc_put_vara_float(nc, id->bnds, tb, tc, bnd));
        NC_TRY(nc_put_vara_short(nc, id->yday, t1, one, &yd));
        for (long r = 0; r < ny; r++)
            for (long c = 0; c < nx; c++) {
                long gi = gi0 + c, gj = gj0 + r;
                buf[r * nx + c] = is_hole(gi, gj, doy, c, r, nx, ny)
                                      ? -9999.0f
                                      : (float)(v->base + v->step * k_value(gi, gj, doy, v->vnum));
            }
        size_t start[3] = { (size_t)d, 0, 0 }, count[3] = { 1, (size_t)ny, (size_t)nx };
        NC_TRY(nc_put_vara_float(nc, id->v, start, count, buf));
    }
cleanup:
    free(f);
    free(lx);
    free(ly);
    free(buf);
    return rc;
}

int af__synth_daymet_write(const char *dir, const char *var, int year, double spacing_m, const af_synth_box *box,
                           af_error *err)
{
    int rc = AF_OK;
    int nc = -1;
    char path[4096], tmp[4200], rel[96];
    OGRCoordinateTransformationH inv = NULL;
    af_synth_box b = box ? *box : af__synth_grid_region();
    const dm_var *v = NULL;
    dm_ids id = { 0, 0, 0, 0, 0, 0, 0, 0 };
    long gi0 = 0, gi1 = 0, gj0 = 0, gj1 = 0;
    tmp[0] = '\0';
    CPLPushErrorHandler(CPLQuietErrorHandler);
    AF_CHECK(check_common(dir, var, year, &b, err));
    for (size_t i = 0; i < sizeof dm_vars / sizeof dm_vars[0]; i++)
        if (!strcmp(dm_vars[i].name, var)) v = &dm_vars[i];
    if (!v) AF_FAIL(AF_EINVAL, "synth Daymet: unknown variable '%s' (tmax tmin prcp srad vp dayl)", var);
    if (!(spacing_m >= 1000 && spacing_m <= 100000 && fmod(spacing_m, 1000.0) == 0))
        AF_FAIL(AF_EINVAL, "synth Daymet: spacing %g m: expected a multiple of 1000 in 1000..100000", spacing_m);
    AF_CHECK(dm_extent(&b, spacing_m, &gi0, &gi1, &gj0, &gj1, &inv, err));
    if (gi0 < 0 || gj0 < 0) AF_FAIL(AF_EINVAL, "synth Daymet: the box reaches west or north of the Daymet grid");
    AF_CHECK(af_mkdirs(dir, err));
    snprintf(rel, sizeof rel, "daymet_v4_daily_na_%s_%04d.nc", v->name, year);
    AF_CHECK(af_path_join(dir, rel, path, sizeof path, err));
    snprintf(tmp, sizeof tmp, "%s.partial", path);
    NC_TRY(nc_create(tmp, NC_CLOBBER | NC_NETCDF4, &nc));
    AF_CHECK(dm_define(nc, tmp, v, gi1 - gi0, gj1 - gj0, &id, err));
    NC_TRY(nc_enddef(nc));
    AF_CHECK(dm_fill(nc, tmp, v, year, spacing_m, gi1 - gi0, gj1 - gj0, gi0, gj0, inv, &id, err));
    int h = nc;
    nc = -1;
    AF_CHECK(finish_file(h, tmp, path, err));
    tmp[0] = '\0';
cleanup:
    if (nc >= 0) nc_close(nc);
    if (tmp[0]) remove(tmp);
    if (inv) OCTDestroyCoordinateTransformation(inv);
    CPLPopErrorHandler();
    return rc;
}
