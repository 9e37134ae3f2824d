/* SPDX-License-Identifier: MIT */
/*
 * shard_define.c: the CF-1.8 timeSeries layout of one shard (docs/formats.md,
 * "Shards"): dimensions, the coordinate variables (time, sample, input,
 * target), one data variable per input and target with UDUNITS-2 units,
 * standard_name and cell_methods, the stacked quality variables, and the
 * static values rank 0 writes. Nothing here depends on the rank count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pnetcdf.h>

#include "agroflux/output.h"
#include "agroflux/units.h"
#include "af_check.h"
#include "af_util.h"
#include "shard_impl.h"

#ifndef AF_VERSION
#define AF_VERSION "unknown"
#endif

/* Variable names the layout itself uses: no feature may take one. */
static const char *const reserved[] = { "time", "sample", "sample_id", "input", "target", "kind", "fips", "scenario",
                                        "lat", "lon", "input_units", "input_long_name", "target_units",
                                        "target_long_name", "x_qc", "y_qc", "y_valid", NULL };

/* CF metadata of the AgroFlux names whose meaning is fixed: standard_name ("" if CF has
 * none we are sure of) and cell_methods of the daily value. A prefix ending in '_' matches
 * every layer (TMAX_SOIL_1, TMAX_SOIL_3, ...). */
static const struct cf_name {
    const char *name, *standard_name, *cell_methods;
} cf_names[] = {
    { "TMAX_AIR", "air_temperature", "time: maximum" },
    { "TMIN_AIR", "air_temperature", "time: minimum" },
    { "TAVG_AIR", "air_temperature", "time: mean" },
    { "PRECN", "lwe_precipitation_rate", "time: mean" },
    { "RADN", "surface_downwelling_shortwave_flux_in_air", "time: mean" },
    { "GPP", "gross_primary_productivity_of_biomass_expressed_as_carbon", "time: mean" },
    { "Rh", "heterotrophic_respiration_carbon_flux", "time: mean" },
    { "TMAX_SOIL_", "soil_temperature", "time: maximum" },
    { "TMIN_SOIL_", "soil_temperature", "time: minimum" },
    { "TAVG_SOIL_", "soil_temperature", "time: mean" },
    { "FERTZR_N", "", "time: sum" },
};

static const struct cf_name *cf_name_of(const char *name)
{
    for (size_t i = 0; i < sizeof cf_names / sizeof cf_names[0]; i++) {
        const char *n = cf_names[i].name;
        size_t len = strlen(n);
        if (n[len - 1] == '_' ? !strncmp(name, n, len) : !strcmp(name, n)) return &cf_names[i];
    }
    return NULL;
}

void af__shard_cf_metadata(const char *name, const char *units, const char **standard_name,
                           const char **cell_methods)
{
    const struct cf_name *c = cf_name_of(name);
    *standard_name = c ? c->standard_name : "";
    *cell_methods = c ? c->cell_methods : "";
    if (c) return;
    /* Not a known name: a daily rate (per day or per second) is the mean of the day. */
    size_t n = strlen(units);
    if ((n > 3 && !strcmp(units + n - 3, "d-1")) || (n > 3 && !strcmp(units + n - 3, "s-1")) ||
        strstr(units, "(daily mean)"))
        *cell_methods = "time: mean";
}

int af__shard_check_names(const af_layout *l, af_error *err)
{
    int rc = AF_OK;
    size_t n = l->ninputs + l->ntargets;
    for (size_t i = 0; i < n; i++) {
        const af_var_desc *v = i < l->ninputs ? &l->inputs[i] : &l->targets[i - l->ninputs];
        const char *role = i < l->ninputs ? "input" : "target";
        for (const char *const *r = reserved; *r; r++)
            if (!strcmp(v->name, *r))
                AF_FAIL(AF_EINVAL, "%s '%s': the shard layout uses this name for its own variable; "
                        "rename the feature", role, v->name);
        for (size_t j = 0; j < i; j++) {
            const af_var_desc *o = j < l->ninputs ? &l->inputs[j] : &l->targets[j - l->ninputs];
            if (!strcmp(v->name, o->name))
                AF_FAIL(AF_EINVAL, "'%s' is both an input and a target: each is one NetCDF variable "
                        "named after it, so the names must differ", v->name);
        }
        char ud[64];
        if (af_units_cf(v->units, ud, sizeof ud, NULL) != AF_OK)
            AF_FAIL(AF_EUNITS, "%s '%s': unknown units '%s' (see the units table in docs/formats.md)",
                    role, v->name, v->units);
    }
cleanup:
    return rc;
}

static int put_text(int ncid, int varid, const char *name, const char *value, const char *path,
                    af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_NC(ncmpi_put_att_text(ncid, varid, name, (MPI_Offset)strlen(value), value), path, name);
cleanup:
    return rc;
}

/* A char variable of fixed-width strings that xarray and netCDF4 decode as str. */
static int def_strings(int ncid, const char *name, int d_row, int d_len, const char *long_name,
                       const char *path, af_error *err)
{
    int rc = AF_OK, id, dims[2] = { d_row, d_len };
    AF_CHECK_NC(ncmpi_def_var(ncid, name, NC_CHAR, 2, dims, &id), path, name);
    AF_CHECK(put_text(ncid, id, "long_name", long_name, path, err));
    AF_CHECK(put_text(ncid, id, "_Encoding", "utf-8", path, err));
cleanup:
    return rc;
}

/* One data variable NAME(time, sample) for a feature. */
static int def_feature(int ncid, const int dims[2], const af_var_desc *v, int is_target, int *varid,
                       const char *path, af_error *err)
{
    int rc = AF_OK;
    float nan_fill = NAN;
    char ud[64], text[AF_LONGNAME_MAX + 160];
    const char *qual = "", *stdname, *cellm;
    AF_CHECK_NC(ncmpi_def_var(ncid, v->name, NC_FLOAT, 2, dims, varid), path, v->name);
    AF_CHECK_NC(ncmpi_put_att_float(ncid, *varid, "_FillValue", NC_FLOAT, 1, &nan_fill), path, v->name);
    if (af_units_cf(v->units, ud, sizeof ud, &qual) != AF_OK)
        AF_FAIL(AF_EUNITS, "'%s': unknown units '%s'", v->name, v->units);
    if (qual[0]) snprintf(text, sizeof text, "%s (%s)", v->long_name[0] ? v->long_name : v->name, qual);
    else snprintf(text, sizeof text, "%s", v->long_name[0] ? v->long_name : v->name);
    AF_CHECK(put_text(ncid, *varid, "long_name", text, path, err));
    AF_CHECK(put_text(ncid, *varid, "units", ud, path, err));
    af__shard_cf_metadata(v->name, v->units, &stdname, &cellm);
    if (stdname[0]) AF_CHECK(put_text(ncid, *varid, "standard_name", stdname, path, err));
    if (cellm[0]) AF_CHECK(put_text(ncid, *varid, "cell_methods", cellm, path, err));
    AF_CHECK(put_text(ncid, *varid, "coordinates", "lat lon sample_id", path, err));
    AF_CHECK(put_text(ncid, *varid, "agroflux_units", v->units, path, err));
    AF_CHECK(put_text(ncid, *varid, "agroflux_role", is_target ? "target" : "input", path, err));
    AF_CHECK(put_text(ncid, *varid, "source", v->source, path, err));
    AF_CHECK(put_text(ncid, *varid, "source_units", v->source_units, path, err));
    if (qual[0]) {
        snprintf(text, sizeof text, "units %s of %s (agroflux units '%s')", ud, qual, v->units);
        AF_CHECK(put_text(ncid, *varid, "comment", text, path, err));
    }
    if (is_target && v->sign[0]) AF_CHECK(put_text(ncid, *varid, "sign_convention", v->sign, path, err));
    AF_CHECK(put_text(ncid, *varid, "ancillary_variables", is_target ? "y_qc y_valid" : "x_qc", path, err));
cleanup:
    return rc;
}

/* A stacked quality variable NAME(time, sample, input|target), float, units 1. Its
 * coordinates attribute names the role's units and long names too, so that xarray keeps
 * them as coordinates (not data concatenated along sample). */
static int def_quality(int ncid, const char *name, const int dims[3], const char *long_name,
                       const char *comment, const char *coords, int *varid, const char *path, af_error *err)
{
    int rc = AF_OK;
    float nan_fill = NAN;
    AF_CHECK_NC(ncmpi_def_var(ncid, name, NC_FLOAT, 3, dims, varid), path, name);
    AF_CHECK_NC(ncmpi_put_att_float(ncid, *varid, "_FillValue", NC_FLOAT, 1, &nan_fill), path, name);
    AF_CHECK(put_text(ncid, *varid, "long_name", long_name, path, err));
    AF_CHECK(put_text(ncid, *varid, "units", "1", path, err));
    AF_CHECK(put_text(ncid, *varid, "coordinates", coords, path, err));
    if (comment) AF_CHECK(put_text(ncid, *varid, "comment", comment, path, err));
cleanup:
    return rc;
}

static int put_globals(int ncid, const af_layout *l, size_t k, size_t rows, const char *path, af_error *err)
{
    int rc = AF_OK, ival;
    AF_CHECK(put_text(ncid, NC_GLOBAL, "Conventions", "CF-1.8", path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "featureType", "timeSeries", path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "title", "agroflux shard", path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "institution", "agroflux", path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "source", "agroflux " AF_VERSION, path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "history", "written by agroflux " AF_VERSION, path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "pipeline", l->pipeline_name ? l->pipeline_name : "", path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "config_sha256", l->config_sha256 ? l->config_sha256 : "", path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "agroflux_format", l->cdf5 ? "cdf5" : "cdf2", path, err));
    AF_CHECK(put_text(ncid, NC_GLOBAL, "agroflux_layout", "2", path, err));
    ival = (int)k;
    AF_CHECK_NC(ncmpi_put_att_int(ncid, NC_GLOBAL, "shard_index", NC_INT, 1, &ival), path, "shard_index");
    ival = (int)(k * l->shard_samples);
    AF_CHECK_NC(ncmpi_put_att_int(ncid, NC_GLOBAL, "sample_start", NC_INT, 1, &ival), path, "sample_start");
    ival = (int)rows;
    AF_CHECK_NC(ncmpi_put_att_int(ncid, NC_GLOBAL, "sample_count", NC_INT, 1, &ival), path, "sample_count");
    ival = (int)l->nsamples;
    AF_CHECK_NC(ncmpi_put_att_int(ncid, NC_GLOBAL, "total_samples", NC_INT, 1, &ival), path, "total_samples");
    ival = (int)l->shard_samples;
    AF_CHECK_NC(ncmpi_put_att_int(ncid, NC_GLOBAL, "shard_samples", NC_INT, 1, &ival), path, "shard_samples");
cleanup:
    return rc;
}

static int def_time(int ncid, int d_time, const af_layout *l, const char *path, af_error *err)
{
    int rc = AF_OK, id;
    AF_CHECK_NC(ncmpi_def_var(ncid, "time", NC_DOUBLE, 1, &d_time, &id), path, "def_var time");
    AF_CHECK(put_text(ncid, id, "standard_name", "time", path, err));
    AF_CHECK(put_text(ncid, id, "units", "days since 1970-01-01", path, err));
    AF_CHECK(put_text(ncid, id, "calendar", "standard", path, err));
    AF_CHECK(put_text(ncid, id, "axis", "T", path, err));
    AF_CHECK(put_text(ncid, id, "agroflux_calendar", af_calendar_kind_name(af_calendar_kind_of(l->cal)), path, err));
    AF_CHECK(put_text(ncid, id, "comment",
                      af_calendar_kind_of(l->cal) == AF_CAL_NOLEAP
                          ? "noleap axis: every real day except Dec 31 of leap years, which is "
                            "dropped (365 days a year, Feb 29 kept); values are real dates, so "
                            "the axis has a gap where a day was dropped"
                          : "standard axis: every real day",
                      path, err));
cleanup:
    return rc;
}

/* Per-sample coordinates: sample (the global sample index: increasing over the shards, so
 * that xarray.open_mfdataset orders them without options), sample_id (the timeseries_id),
 * kind, fips, scenario, lat, lon. */
static int def_samples(int ncid, int d_sample, int d_id, int d_fips, const char *path, af_error *err)
{
    int rc = AF_OK, id;
    signed char flags[2] = { 0, 1 };
    AF_CHECK_NC(ncmpi_def_var(ncid, "sample", NC_INT, 1, &d_sample, &id), path, "def_var sample");
    AF_CHECK(put_text(ncid, id, "long_name", "global sample index (position in index.json samples)", path, err));
    AF_CHECK(put_text(ncid, id, "units", "1", path, err));
    AF_CHECK(def_strings(ncid, "sample_id", d_sample, d_id, "sample identifier: FIPS:SCENARIO or site id", path, err));
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "sample_id", &id), path, "sample_id");
    AF_CHECK(put_text(ncid, id, "cf_role", "timeseries_id", path, err));
    AF_CHECK_NC(ncmpi_def_var(ncid, "kind", NC_BYTE, 1, &d_sample, &id), path, "def_var kind");
    AF_CHECK(put_text(ncid, id, "long_name", "sample kind", path, err));
    AF_CHECK_NC(ncmpi_put_att_schar(ncid, id, "flag_values", NC_BYTE, 2, flags), path, "kind flag_values");
    AF_CHECK(put_text(ncid, id, "flag_meanings", "county site", path, err));
    AF_CHECK(def_strings(ncid, "fips", d_sample, d_fips, "5-digit county FIPS code, empty for sites", path, err));
    AF_CHECK(def_strings(ncid, "scenario", d_sample, d_id, "scenario name, empty for sites", path, err));
    AF_CHECK_NC(ncmpi_def_var(ncid, "lat", NC_DOUBLE, 1, &d_sample, &id), path, "def_var lat");
    AF_CHECK(put_text(ncid, id, "standard_name", "latitude", path, err));
    AF_CHECK(put_text(ncid, id, "units", "degrees_north", path, err));
    AF_CHECK(put_text(ncid, id, "long_name", "county centroid or site latitude", path, err));
    AF_CHECK_NC(ncmpi_def_var(ncid, "lon", NC_DOUBLE, 1, &d_sample, &id), path, "def_var lon");
    AF_CHECK(put_text(ncid, id, "standard_name", "longitude", path, err));
    AF_CHECK(put_text(ncid, id, "units", "degrees_east", path, err));
    AF_CHECK(put_text(ncid, id, "long_name", "county centroid or site longitude", path, err));
cleanup:
    return rc;
}

int af__shard_define(af_shardset *ss, size_t k, const char *path, af_error *err)
{
    int rc = AF_OK;
    const af_layout *l = &ss->layout;
    shard_vars *v = &ss->sh[k];
    int ncid = v->ncid, d_sample, d_time, d_input = -1, d_target = -1, d_id, d_fips, d_name, d_long;
    size_t rows = af__shard_rows(l, k);

    AF_CHECK_NC(ncmpi_def_dim(ncid, "time", ss->ndays, &d_time), path, "def_dim time");
    AF_CHECK_NC(ncmpi_def_dim(ncid, "sample", (MPI_Offset)rows, &d_sample), path, "def_dim sample");
    /* A zero-length fixed dimension cannot exist in classic formats (length 0
     * means unlimited): with no inputs (targets) the dimension and every
     * variable on it are omitted; readers treat the absent dimension as 0. */
    if (l->ninputs > 0)
        AF_CHECK_NC(ncmpi_def_dim(ncid, "input", (MPI_Offset)l->ninputs, &d_input), path, "def_dim input");
    if (l->ntargets > 0)
        AF_CHECK_NC(ncmpi_def_dim(ncid, "target", (MPI_Offset)l->ntargets, &d_target), path, "def_dim target");
    AF_CHECK_NC(ncmpi_def_dim(ncid, "id_len", AF_ID_MAX, &d_id), path, "def_dim id_len");
    AF_CHECK_NC(ncmpi_def_dim(ncid, "fips_len", AF_FIPS_LEN, &d_fips), path, "def_dim fips_len");
    AF_CHECK_NC(ncmpi_def_dim(ncid, "name_len", AF_NAME_MAX, &d_name), path, "def_dim name_len");
    AF_CHECK_NC(ncmpi_def_dim(ncid, "long_len", AF_LONGNAME_MAX, &d_long), path, "def_dim long_len");

    /* global attributes: nothing that depends on time, host or rank count */
    AF_CHECK(put_globals(ncid, l, k, rows, path, err));
    /* static variables first, the big ones last (CDF-2 lets only the last exceed 4 GiB) */
    AF_CHECK(def_time(ncid, d_time, l, path, err));
    AF_CHECK(def_samples(ncid, d_sample, d_id, d_fips, path, err));
    for (int which = 0; which < 2; which++) {
        int d = which == 0 ? d_input : d_target;
        const char *role = which == 0 ? "input" : "target";
        char vname[32];
        if (d < 0) continue;
        AF_CHECK(def_strings(ncid, role, d, d_name, which == 0 ? "input feature name" : "target name", path, err));
        snprintf(vname, sizeof vname, "%s_units", role);
        AF_CHECK(def_strings(ncid, vname, d, d_name, "agroflux units (docs/formats.md, units table)", path, err));
        snprintf(vname, sizeof vname, "%s_long_name", role);
        AF_CHECK(def_strings(ncid, vname, d, d_long, "description", path, err));
    }
    int dims2[2] = { d_time, d_sample };
    for (size_t i = 0; i < l->ninputs; i++) AF_CHECK(def_feature(ncid, dims2, &l->inputs[i], 0, &v->var[i], path, err));
    for (size_t i = 0; i < l->ntargets; i++)
        AF_CHECK(def_feature(ncid, dims2, &l->targets[i], 1, &v->var[l->ninputs + i], path, err));
    if (l->ninputs > 0) {
        int dims3[3] = { d_time, d_sample, d_input };
        AF_CHECK(def_quality(ncid, "x_qc", dims3,
                             "input quality: fraction of the sample covered by valid source data, NaN if none",
                             "gridded inputs: valid-weight fraction of the county (1 for a site whose cell is "
                             "valid, 0 otherwise); NaN where the source reports no quality",
                             "lat lon sample_id input_units input_long_name", &v->xqc, path, err));
    }
    if (l->ntargets > 0) {
        int dims3[3] = { d_time, d_sample, d_target };
        AF_CHECK(def_quality(ncid, "y_qc", dims3, "target quality flag from the source, NaN if none", NULL,
                             "lat lon sample_id target_units target_long_name", &v->yqc, path, err));
        AF_CHECK_NC(ncmpi_def_var(ncid, "y_valid", NC_BYTE, 3, dims3, &v->yvalid), path, "def_var y_valid");
        /* y_valid is the last variable: collective writes leave whatever the MPI-IO
         * aggregator's buffer held in the padding after a byte variable, so no
         * byte variable may be followed by collectively written data. */
        signed char flags[2] = { 0, 1 };
        AF_CHECK(put_text(ncid, v->yvalid, "long_name", "target validity", path, err));
        AF_CHECK_NC(ncmpi_put_att_schar(ncid, v->yvalid, "flag_values", NC_BYTE, 2, flags), path,
                    "y_valid flag_values");
        AF_CHECK(put_text(ncid, v->yvalid, "flag_meanings", "missing valid", path, err));
        AF_CHECK(put_text(ncid, v->yvalid, "coordinates", "lat lon sample_id target_units target_long_name", path, err));
    }
cleanup:
    return rc;
}

/* Copy a string into a zero-padded fixed-width cell. */
static void put_cell(char *dst, size_t width, const char *src)
{
    size_t n = strlen(src);
    memset(dst, 0, width);
    memcpy(dst, src, n < width ? n : width);
}

static int put_names(af_shardset *ss, size_t k, char *text, const char *path, af_error *err)
{
    int rc = AF_OK, id;
    const af_layout *l = &ss->layout;
    int ncid = ss->sh[k].ncid;
    MPI_Offset start[2] = { 0, 0 }, count[2];
    static const struct { const char *suffix; size_t width; size_t off; } flds[3] = {
        { "", AF_NAME_MAX, offsetof(af_var_desc, name) },
        { "_units", AF_NAME_MAX, offsetof(af_var_desc, units) },
        { "_long_name", AF_LONGNAME_MAX, offsetof(af_var_desc, long_name) },
    };
    for (int which = 0; which < 2; which++) {
        const af_var_desc *vd = which == 0 ? l->inputs : l->targets;
        size_t n = which == 0 ? l->ninputs : l->ntargets;
        if (n == 0) continue;
        for (int f = 0; f < 3; f++) {
            char vname[32];
            snprintf(vname, sizeof vname, "%s%s", which == 0 ? "input" : "target", flds[f].suffix);
            for (size_t i = 0; i < n; i++)
                put_cell(text + i * flds[f].width, flds[f].width, (const char *)&vd[i] + flds[f].off);
            count[0] = (MPI_Offset)n;
            count[1] = (MPI_Offset)flds[f].width;
            AF_CHECK_NC(ncmpi_inq_varid(ncid, vname, &id), path, vname);
            AF_CHECK_NC(ncmpi_put_vara_text(ncid, id, start, count, text), path, vname);
        }
    }
cleanup:
    return rc;
}

int af__shard_write_statics(af_shardset *ss, size_t k, const char *path, af_error *err)
{
    int rc = AF_OK;
    const af_layout *l = &ss->layout;
    int ncid = ss->sh[k].ncid, id;
    size_t rows = af__shard_rows(l, k), first = k * l->shard_samples;
    size_t nvar = l->ninputs > l->ntargets ? l->ninputs : l->ntargets;
    size_t cells = rows > nvar ? rows : nvar;
    size_t tbytes = (size_t)ss->ndays * sizeof(double);
    char *text = NULL;
    double *dbl = NULL;
    signed char *kind = NULL;
    MPI_Offset start[2] = { 0, 0 }, count[2];

    text = malloc(cells * AF_LONGNAME_MAX + 1);
    dbl = malloc((tbytes > rows * sizeof(double) ? tbytes : rows * sizeof(double)) + 1);
    kind = malloc(rows + 1);
    AF_CHECK_ALLOC(text);
    AF_CHECK_ALLOC(dbl);
    AF_CHECK_ALLOC(kind);

    for (int t = 0; t < ss->ndays; t++) dbl[t] = (double)af_calendar_epoch(l->cal, t);
    count[0] = ss->ndays;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "time", &id), path, "time");
    AF_CHECK_NC(ncmpi_put_vara_double(ncid, id, start, count, dbl), path, "put time");

    count[0] = (MPI_Offset)rows;
    static const struct { const char *name; size_t width; size_t off; } strs[3] = {
        { "sample_id", AF_ID_MAX, offsetof(af_sample, id) },
        { "fips", AF_FIPS_LEN, offsetof(af_sample, fips) },
        { "scenario", AF_ID_MAX, offsetof(af_sample, scenario) },
    };
    for (int s = 0; s < 3; s++) {
        for (size_t r = 0; r < rows; r++)
            put_cell(text + r * strs[s].width, strs[s].width, (const char *)&l->samples[first + r] + strs[s].off);
        count[1] = (MPI_Offset)strs[s].width;
        AF_CHECK_NC(ncmpi_inq_varid(ncid, strs[s].name, &id), path, strs[s].name);
        AF_CHECK_NC(ncmpi_put_vara_text(ncid, id, start, count, text), path, strs[s].name);
    }
    for (size_t r = 0; r < rows; r++) dbl[r] = (double)(first + r);
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "sample", &id), path, "sample");
    AF_CHECK_NC(ncmpi_put_vara_double(ncid, id, start, count, dbl), path, "put sample");
    for (size_t r = 0; r < rows; r++) kind[r] = l->samples[first + r].kind == AF_SAMPLE_SITE ? 1 : 0;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "kind", &id), path, "kind");
    AF_CHECK_NC(ncmpi_put_vara_schar(ncid, id, start, count, kind), path, "put kind");
    for (size_t r = 0; r < rows; r++) dbl[r] = l->samples[first + r].lat;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "lat", &id), path, "lat");
    AF_CHECK_NC(ncmpi_put_vara_double(ncid, id, start, count, dbl), path, "put lat");
    for (size_t r = 0; r < rows; r++) dbl[r] = l->samples[first + r].lon;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "lon", &id), path, "lon");
    AF_CHECK_NC(ncmpi_put_vara_double(ncid, id, start, count, dbl), path, "put lon");
    AF_CHECK(put_names(ss, k, text, path, err));
cleanup:
    free(text);
    free(dbl);
    free(kind);
    return rc;
}
