/* SPDX-License-Identifier: MIT */
/*
 * shard.c: implements the shardset of agroflux/output.h with PnetCDF. Shard k
 * holds global samples [k*S, min((k+1)*S, N)); a rank opens only the shards
 * holding samples it writes, each on a communicator of the ranks that write it
 * (shard_comm.c), and keeps them open for the run. Headers and static
 * variables are written by the shard's lead rank; data blocks by nonblocking
 * iput + wait_all.
 * Layout and alignment are fixed explicitly so that files are byte-identical
 * for any rank count. create/write_block/finish/destroy are collective.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pnetcdf.h>

#include "agroflux/output.h"
#include "af_check.h"
#include "af_util.h"
#include "shard_impl.h"

#ifndef AF_VERSION
#define AF_VERSION "unknown"
#endif

#define AF_FIPS_LEN 8
/* Fixed header/data alignment passed to ncmpi__enddef: file layout never
 * depends on MPI-IO hints, the file system, or the rank count. */
#define AF_NC_VALIGN 512
#define AF_NC_RALIGN 4
/* CDF-2: every fixed-size variable but the last must stay under 4 GiB. */
#define AF_CDF2_VAR_LIMIT 4294967292LL

size_t af_output_nshards(size_t nsamples, size_t shard_samples)
{
    if (shard_samples == 0) return 0;
    return (nsamples + shard_samples - 1) / shard_samples;
}

static long long pad4(long long n) { return (n + 3) / 4 * 4; }

long long af_output_estimate_bytes(const af_layout *layout)
{
    if (!layout || !layout->cal || layout->shard_samples == 0) return 0;
    long long nd = af_calendar_ndays(layout->cal);
    long long ni = (long long)layout->ninputs, nt = (long long)layout->ntargets;
    size_t nsh = af_output_nshards(layout->nsamples, layout->shard_samples);
    long long total = 0;
    for (size_t k = 0; k < nsh; k++) {
        size_t s0 = k * layout->shard_samples;
        long long r = (long long)((layout->nsamples - s0 < layout->shard_samples)
                                      ? layout->nsamples - s0 : layout->shard_samples);
        /* header: fixed part, ~24 variables with attributes, joined name lists */
        long long header = 2560 + (ni + nt) * 48;
        header = (header + AF_NC_VALIGN - 1) / AF_NC_VALIGN * AF_NC_VALIGN;
        long long st_bytes = nd * 8 + r * (2 * AF_ID_MAX + AF_FIPS_LEN + 16) + pad4(r) +
                         (ni + nt) * (2 * AF_NAME_MAX + AF_LONGNAME_MAX);
        long long data = r * nd * (ni * 8 + nt * 8) + pad4(r * nd * nt);
        total += header + st_bytes + data;
    }
    return total;
}

void af__shard_name(size_t k, int partial, char *buf, size_t n)
{
    snprintf(buf, n, "shard-%05zu.nc%s", k, partial ? ".partial" : "");
}

int af__shard_path(const af_shardset *ss, size_t k, int partial, char *out, size_t n,
                      af_error *err)
{
    char name[64];
    af__shard_name(k, partial, name, sizeof name);
    return af_path_join(ss->outdir, name, out, n, err);
}

size_t af__shard_rows(const af_layout *l, size_t k)
{
    size_t s0 = k * l->shard_samples;
    size_t left = l->nsamples - s0;
    return left < l->shard_samples ? left : l->shard_samples;
}

static int put_text_att(int ncid, int varid, const char *name, const char *value,
                        const char *path, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_NC(ncmpi_put_att_text(ncid, varid, name, (MPI_Offset)strlen(value), value), path, name);
cleanup:
    return rc;
}

/* sep-joined list of one string field of the descriptors (malloc'd). */
static char *join_field_sep(const af_var_desc *v, size_t n, size_t offset, const char *sep)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen((const char *)&v[i] + offset) + strlen(sep);
    char *s = malloc(len);
    if (!s) return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(s, sep);
        strcat(s, (const char *)&v[i] + offset);
    }
    return s;
}

static char *join_field(const af_var_desc *v, size_t n, size_t offset)
{
    return join_field_sep(v, n, offset, ",");
}

/* Per-target sign conventions and source units, "; "-joined (signs may contain commas). */
static int put_target_conventions(int ncid, int varid, const af_layout *l, const char *path, af_error *err)
{
    int rc = AF_OK;
    char *signs = join_field_sep(l->targets, l->ntargets, offsetof(af_var_desc, sign), "; ");
    char *srcu = join_field_sep(l->targets, l->ntargets, offsetof(af_var_desc, source_units), "; ");
    AF_CHECK_ALLOC(signs);
    AF_CHECK_ALLOC(srcu);
    AF_CHECK(put_text_att(ncid, varid, "sign_conventions", signs, path, err));
    AF_CHECK(put_text_att(ncid, varid, "source_units_list", srcu, path, err));
cleanup:
    free(signs);
    free(srcu);
    return rc;
}

static int def_float3(int ncid, const char *name, const int dims[3], const char *long_name,
                      const char *list_att, const char *list, const char *units_list,
                      const char *path, int *varid, af_error *err)
{
    int rc = AF_OK;
    float nan_fill = NAN;
    AF_CHECK_NC(ncmpi_def_var(ncid, name, NC_FLOAT, 3, dims, varid), path, name);
    AF_CHECK_NC(ncmpi_put_att_float(ncid, *varid, "_FillValue", NC_FLOAT, 1, &nan_fill), path, name);
    AF_CHECK(put_text_att(ncid, *varid, "long_name", long_name, path, err));
    AF_CHECK(put_text_att(ncid, *varid, "coordinates", "lat lon sample_id", path, err));
    if (list_att) AF_CHECK(put_text_att(ncid, *varid, list_att, list, path, err));
    if (units_list) AF_CHECK(put_text_att(ncid, *varid, "units_list", units_list, path, err));
cleanup:
    return rc;
}

/* Define dims, variables and attributes of shard k (define mode, collective). */
static int define_shard(af_shardset *ss, size_t k, const char *path, af_error *err)
{
    int rc = AF_OK;
    const af_layout *l = &ss->layout;
    shard_vars *v = &ss->sh[k];
    int ncid = v->ncid, d_sample, d_time, d_input = -1, d_target = -1, d_id, d_fips, d_name, d_long;
    int id;
    char *in_names = NULL, *in_units = NULL, *tg_names = NULL, *tg_units = NULL;
    size_t rows = af__shard_rows(l, k);

    AF_CHECK_NC(ncmpi_def_dim(ncid, "sample", (MPI_Offset)rows, &d_sample), path, "def_dim sample");
    AF_CHECK_NC(ncmpi_def_dim(ncid, "time", ss->ndays, &d_time), path, "def_dim time");
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
    int ival;
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "Conventions", "CF-1.8", path, err));
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "title", "agroflux shard", path, err));
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "institution", "agroflux", path, err));
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "source", "agroflux " AF_VERSION, path, err));
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "history", "written by agroflux " AF_VERSION, path, err));
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "pipeline", l->pipeline_name ? l->pipeline_name : "", path, err));
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "config_sha256", l->config_sha256 ? l->config_sha256 : "", path, err));
    AF_CHECK(put_text_att(ncid, NC_GLOBAL, "agroflux_format", l->cdf5 ? "cdf5" : "cdf2", path, err));
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

    /* static variables first, the big ones last (CDF-2 lets only the last exceed 4 GiB) */
    AF_CHECK_NC(ncmpi_def_var(ncid, "time", NC_DOUBLE, 1, &d_time, &id), path, "def_var time");
    AF_CHECK(put_text_att(ncid, id, "standard_name", "time", path, err));
    AF_CHECK(put_text_att(ncid, id, "units", "days since 1970-01-01", path, err));
    AF_CHECK(put_text_att(ncid, id, "calendar", "standard", path, err));
    AF_CHECK(put_text_att(ncid, id, "axis", "T", path, err));
    AF_CHECK(put_text_att(ncid, id, "agroflux_calendar",
                          af_calendar_kind_name(af_calendar_kind_of(l->cal)), path, err));
    AF_CHECK(put_text_att(ncid, id, "comment",
                          af_calendar_kind_of(l->cal) == AF_CAL_NOLEAP
                              ? "noleap axis: every real day except Dec 31 of leap years, which is "
                                "dropped (365 days a year, Feb 29 kept); values are real dates, so "
                                "the axis has a gap where a day was dropped"
                              : "standard axis: every real day",
                          path, err));

    int dims2[2] = { d_sample, d_id };
    AF_CHECK_NC(ncmpi_def_var(ncid, "sample_id", NC_CHAR, 2, dims2, &id), path, "def_var sample_id");
    AF_CHECK(put_text_att(ncid, id, "long_name", "sample identifier", path, err));
    AF_CHECK(put_text_att(ncid, id, "cf_role", "timeseries_id", path, err));
    AF_CHECK_NC(ncmpi_def_var(ncid, "kind", NC_BYTE, 1, &d_sample, &id), path, "def_var kind");
    signed char flags[2] = { 0, 1 };
    AF_CHECK(put_text_att(ncid, id, "long_name", "sample kind", path, err));
    AF_CHECK_NC(ncmpi_put_att_schar(ncid, id, "flag_values", NC_BYTE, 2, flags), path, "kind flag_values");
    AF_CHECK(put_text_att(ncid, id, "flag_meanings", "county site", path, err));
    dims2[1] = d_fips;
    AF_CHECK_NC(ncmpi_def_var(ncid, "fips", NC_CHAR, 2, dims2, &id), path, "def_var fips");
    AF_CHECK(put_text_att(ncid, id, "long_name", "5-digit county FIPS code, empty for sites", path, err));
    dims2[1] = d_id;
    AF_CHECK_NC(ncmpi_def_var(ncid, "scenario", NC_CHAR, 2, dims2, &id), path, "def_var scenario");
    AF_CHECK(put_text_att(ncid, id, "long_name", "scenario name, empty for sites", path, err));
    AF_CHECK_NC(ncmpi_def_var(ncid, "lat", NC_DOUBLE, 1, &d_sample, &id), path, "def_var lat");
    AF_CHECK(put_text_att(ncid, id, "standard_name", "latitude", path, err));
    AF_CHECK(put_text_att(ncid, id, "units", "degrees_north", path, err));
    AF_CHECK_NC(ncmpi_def_var(ncid, "lon", NC_DOUBLE, 1, &d_sample, &id), path, "def_var lon");
    AF_CHECK(put_text_att(ncid, id, "standard_name", "longitude", path, err));
    AF_CHECK(put_text_att(ncid, id, "units", "degrees_east", path, err));

    static const char *const fields[3] = { "name", "units", "long_name" };
    for (int which = 0; which < 2; which++) {
        int d = which == 0 ? d_input : d_target;
        const char *prefix = which == 0 ? "input" : "target";
        if (d < 0) continue;
        for (int f = 0; f < 3; f++) {
            char vname[32];
            snprintf(vname, sizeof vname, "%s_%s", prefix, fields[f]);
            int dd[2] = { d, f == 2 ? d_long : d_name };
            AF_CHECK_NC(ncmpi_def_var(ncid, vname, NC_CHAR, 2, dd, &id), path, vname);
        }
    }

    if (l->ninputs > 0) {
        in_names = join_field(l->inputs, l->ninputs, offsetof(af_var_desc, name));
        in_units = join_field(l->inputs, l->ninputs, offsetof(af_var_desc, units));
        AF_CHECK_ALLOC(in_names);
        AF_CHECK_ALLOC(in_units);
        int dims3[3] = { d_sample, d_time, d_input };
        AF_CHECK(def_float3(ncid, "x", dims3, "input features", "input_names", in_names, in_units,
                            path, &v->x, err));
        AF_CHECK(def_float3(ncid, "x_qc", dims3,
                            "input quality: fraction of the sample covered by valid source data, NaN if none",
                            "input_names", in_names, NULL, path, &v->xqc, err));
        AF_CHECK(put_text_att(ncid, v->xqc, "units", "1", path, err));
        AF_CHECK(put_text_att(ncid, v->xqc, "comment",
                              "gridded inputs: valid-weight fraction of the county (1 for a site whose "
                              "cell is valid, 0 otherwise); NaN where the source reports no quality",
                              path, err));
    }
    if (l->ntargets > 0) {
        tg_names = join_field(l->targets, l->ntargets, offsetof(af_var_desc, name));
        tg_units = join_field(l->targets, l->ntargets, offsetof(af_var_desc, units));
        AF_CHECK_ALLOC(tg_names);
        AF_CHECK_ALLOC(tg_units);
        int dims3[3] = { d_sample, d_time, d_target };
        AF_CHECK(def_float3(ncid, "y", dims3, "targets", "target_names", tg_names, tg_units, path,
                            &v->y, err));
        AF_CHECK(put_target_conventions(ncid, v->y, l, path, err));
        AF_CHECK(def_float3(ncid, "y_qc", dims3, "target quality flag from the source, NaN if none",
                            "target_names", tg_names, NULL, path, &v->yqc, err));
        AF_CHECK_NC(ncmpi_def_var(ncid, "y_valid", NC_BYTE, 3, dims3, &v->yvalid), path, "def_var y_valid");
        /* y_valid is the last variable: collective writes leave whatever the MPI-IO
         * aggregator's buffer held in the padding after a byte variable, so no
         * byte variable may be followed by collectively written data. */
        AF_CHECK(put_text_att(ncid, v->yvalid, "long_name", "target validity", path, err));
        AF_CHECK_NC(ncmpi_put_att_schar(ncid, v->yvalid, "flag_values", NC_BYTE, 2, flags), path,
                    "y_valid flag_values");
        AF_CHECK(put_text_att(ncid, v->yvalid, "flag_meanings", "missing valid", path, err));
        AF_CHECK(put_text_att(ncid, v->yvalid, "target_names", tg_names, path, err));
    }
cleanup:
    free(in_names);
    free(in_units);
    free(tg_names);
    free(tg_units);
    return rc;
}

/* Copy a string into a zero-padded fixed-width cell. */
static void put_cell(char *dst, size_t width, const char *src)
{
    size_t n = strlen(src);
    memset(dst, 0, width);
    memcpy(dst, src, n < width ? n : width);
}

/* Rank 0, independent mode: write every static variable of shard k. */
static int write_statics(af_shardset *ss, size_t k, const char *path, af_error *err)
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
            put_cell(text + r * strs[s].width, strs[s].width,
                     (const char *)&l->samples[first + r] + strs[s].off);
        count[1] = (MPI_Offset)strs[s].width;
        AF_CHECK_NC(ncmpi_inq_varid(ncid, strs[s].name, &id), path, strs[s].name);
        AF_CHECK_NC(ncmpi_put_vara_text(ncid, id, start, count, text), path, strs[s].name);
    }
    for (size_t r = 0; r < rows; r++) kind[r] = l->samples[first + r].kind == AF_SAMPLE_SITE ? 1 : 0;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "kind", &id), path, "kind");
    AF_CHECK_NC(ncmpi_put_vara_schar(ncid, id, start, count, kind), path, "put kind");
    for (size_t r = 0; r < rows; r++) dbl[r] = l->samples[first + r].lat;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "lat", &id), path, "lat");
    AF_CHECK_NC(ncmpi_put_vara_double(ncid, id, start, count, dbl), path, "put lat");
    for (size_t r = 0; r < rows; r++) dbl[r] = l->samples[first + r].lon;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, "lon", &id), path, "lon");
    AF_CHECK_NC(ncmpi_put_vara_double(ncid, id, start, count, dbl), path, "put lon");

    static const struct { const char *suffix; size_t width; size_t off; } flds[3] = {
        { "name", AF_NAME_MAX, offsetof(af_var_desc, name) },
        { "units", AF_NAME_MAX, offsetof(af_var_desc, units) },
        { "long_name", AF_LONGNAME_MAX, offsetof(af_var_desc, long_name) },
    };
    for (int which = 0; which < 2; which++) {
        const af_var_desc *vd = which == 0 ? l->inputs : l->targets;
        size_t n = which == 0 ? l->ninputs : l->ntargets;
        if (n == 0) continue;
        for (int f = 0; f < 3; f++) {
            char vname[32];
            snprintf(vname, sizeof vname, "%s_%s", which == 0 ? "input" : "target", flds[f].suffix);
            for (size_t i = 0; i < n; i++)
                put_cell(text + i * flds[f].width, flds[f].width, (const char *)&vd[i] + flds[f].off);
            count[0] = (MPI_Offset)n;
            count[1] = (MPI_Offset)flds[f].width;
            AF_CHECK_NC(ncmpi_inq_varid(ncid, vname, &id), path, vname);
            AF_CHECK_NC(ncmpi_put_vara_text(ncid, id, start, count, text), path, vname);
        }
    }
cleanup:
    free(text);
    free(dbl);
    free(kind);
    return rc;
}

static int check_layout(const af_layout *l, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(l->cal != NULL);
    AF_CHECK_ARG(l->shard_samples >= 1);
    AF_CHECK_ARG(l->nsamples == 0 || l->samples != NULL);
    AF_CHECK_ARG(l->ninputs == 0 || l->inputs != NULL);
    AF_CHECK_ARG(l->ntargets == 0 || l->targets != NULL);
    if (l->nsamples > (size_t)INT_MAX)
        AF_FAIL(AF_EINVAL, "%zu samples: at most %d are supported", l->nsamples, INT_MAX);
    if (!l->cdf5) {
        long long cells = (long long)(l->shard_samples < l->nsamples ? l->shard_samples : l->nsamples) *
                          af_calendar_ndays(l->cal);
        long long nv = (long long)(l->ninputs > l->ntargets ? l->ninputs : l->ntargets);
        if (cells * nv * 4 > AF_CDF2_VAR_LIMIT)
            AF_FAIL(AF_EINVAL, "shard_samples = %zu makes a variable of %lld bytes, over the CDF-2 "
                    "limit of 4 GiB: lower shard_samples or use CDF-5", l->shard_samples, cells * nv * 4);
    }
cleanup:
    return rc;
}

int af__shardset_alloc(MPI_Comm comm, const char *outdir, const af_layout *layout, size_t s0, size_t ns,
                       af_shardset **out, af_error *err)
{
    int rc = AF_OK;
    af_shardset *ss = NULL;
    AF_CHECK_ARG(outdir != NULL && layout != NULL && out != NULL);
    *out = NULL;
    AF_CHECK(check_layout(layout, err));
    ss = calloc(1, sizeof *ss);
    AF_CHECK_ALLOC(ss);
    ss->comm = MPI_COMM_NULL;
    AF_CHECK(af_strlcpy_checked(ss->outdir, outdir, sizeof ss->outdir, "output directory", err));
    ss->layout = *layout;
    ss->ndays = af_calendar_ndays(layout->cal);
    ss->nshards = af_output_nshards(layout->nsamples, layout->shard_samples);
    ss->sh = malloc((ss->nshards ? ss->nshards : 1) * sizeof *ss->sh);
    AF_CHECK_ALLOC(ss->sh);
    for (size_t k = 0; k < ss->nshards; k++)
        ss->sh[k] = (shard_vars){ -1, -1, -1, -1, -1, -1, MPI_COMM_NULL, 0 };
    AF_CHECK_MPI(MPI_Comm_dup(comm, &ss->comm));
    AF_CHECK_MPI(MPI_Comm_set_errhandler(ss->comm, MPI_ERRORS_RETURN));
    MPI_Comm_rank(ss->comm, &ss->rank);
    MPI_Comm_size(ss->comm, &ss->size);
    if (s0 + ns > layout->nsamples) /* agreed on inside af__shard_comms_build */
        af_error_set(err, AF_EINVAL, __FILE__, __LINE__, __func__, "samples %zu..%zu are outside the "
                     "layout's %zu", s0, s0 + ns, layout->nsamples);
    AF_CHECK(af__shard_comms_build(ss, s0, ns, err));
    *out = ss;
    ss = NULL;
cleanup:
    if (ss) af_shardset_destroy(&ss);
    return rc;
}

/* Create, define and fill the statics of shard k; collective over the shard's ranks, which
 * agree on the outcome at every step (af_error_sync on its communicator). */
static int create_one(af_shardset *ss, size_t k, int cmode, af_error *err)
{
    int rc = AF_OK;
    char path[4200];
    MPI_Comm comm = ss->sh[k].comm;
    if (af__shard_path(ss, k, 1, path, sizeof path, err) != AF_OK) goto sync;
    int ncid = -1;
    int ncrc = ncmpi_create(comm, path, cmode, MPI_INFO_NULL, &ncid);
    if (ncrc == NC_NOERR) ss->sh[k].ncid = ncid;
    else af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': create: %s", path,
                      ncmpi_strerror(ncrc));
    AF_CHECK(af_error_sync(comm, err));
    define_shard(ss, k, path, err);
    AF_CHECK(af_error_sync(comm, err));
    ncrc = ncmpi__enddef(ss->sh[k].ncid, 0, AF_NC_VALIGN, 0, AF_NC_RALIGN);
    if (ncrc != NC_NOERR)
        af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': enddef: %s", path,
                     ncmpi_strerror(ncrc));
    AF_CHECK(af_error_sync(comm, err));
    /* The shard's lead rank writes static variables; every member brackets independent mode. */
    int lrc = AF_OK;
    int ncrc2 = ncmpi_begin_indep_data(ss->sh[k].ncid);
    if (ncrc2 != NC_NOERR)
        lrc = af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': begin_indep_data: %s",
                           path, ncmpi_strerror(ncrc2));
    if (lrc == AF_OK && ss->sh[k].lead) lrc = write_statics(ss, k, path, err);
    if (ncrc2 == NC_NOERR) {
        ncrc2 = ncmpi_end_indep_data(ss->sh[k].ncid);
        if (ncrc2 != NC_NOERR && lrc == AF_OK)
            af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': end_indep_data: %s",
                         path, ncmpi_strerror(ncrc2));
    }
sync:
    rc = af_error_sync(comm, err);
cleanup:
    return rc;
}

int af_shardset_create_owned(MPI_Comm comm, const char *outdir, const af_layout *layout, size_t s0,
                             size_t ns, af_shardset **out, af_error *err)
{
    int rc = AF_OK;
    af_shardset *ss = NULL;
    AF_CHECK_ARG(out != NULL);
    *out = NULL;
    AF_CHECK(af__shardset_alloc(comm, outdir, layout, s0, ns, &ss, err));
    int cmode = NC_CLOBBER | (ss->layout.cdf5 ? NC_64BIT_DATA : NC_64BIT_OFFSET);
    /* A failed shard does not stop its members from creating their later shards (other
     * ranks wait for them there); the first error is kept and agreed at the end. */
    for (size_t k = 0; k < ss->nshards; k++) {
        if (!af__shard_mine(ss, k)) continue;
        af_error e = AF_ERROR_INIT;
        create_one(ss, k, cmode, &e);
        af__shard_keep_error(err, &e);
    }
    AF_CHECK(af_error_sync(ss->comm, err));
    *out = ss;
    ss = NULL;
cleanup:
    if (ss) af_shardset_destroy(&ss);
    return rc;
}

int af_shardset_create(MPI_Comm comm, const char *outdir, const af_layout *layout,
                       af_shardset **out, af_error *err)
{
    size_t n = layout ? layout->nsamples : 0;
    return af_shardset_create_owned(comm, outdir, layout, 0, n, out, err);
}

/* Post this rank's iput requests for samples [s0, s0+ns) x days [t0, t0+nt). */
static int post_block(af_shardset *ss, size_t s0, size_t ns, int t0, int nt, const float *x,
                      const float *xqc, const float *y, const unsigned char *yvalid, const float *yqc,
                      af_error *err)
{
    int rc = AF_OK;
    const af_layout *l = &ss->layout;
    size_t S = l->shard_samples, ni = l->ninputs, ntg = l->ntargets;
    char path[64];
    if (ns == 0 || nt == 0) goto cleanup;
    for (size_t k = s0 / S; k <= (s0 + ns - 1) / S; k++) {
        size_t lo = s0 > k * S ? s0 : k * S;
        size_t hi = (s0 + ns) < (k + 1) * S ? s0 + ns : (k + 1) * S;
        size_t off = (lo - s0) * (size_t)nt; /* (sample, day) cells before this overlap */
        int ncid = ss->sh[k].ncid;
        af__shard_name(k, 1, path, sizeof path);
        MPI_Offset start[3] = { (MPI_Offset)(lo - k * S), t0, 0 };
        MPI_Offset count[3] = { (MPI_Offset)(hi - lo), nt, 0 };
        if (ni > 0) {
            count[2] = (MPI_Offset)ni;
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, ss->sh[k].x, start, count, x + off * ni, NULL),
                        path, "iput x");
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, ss->sh[k].xqc, start, count, xqc + off * ni, NULL),
                        path, "iput x_qc");
        }
        if (ntg > 0) {
            count[2] = (MPI_Offset)ntg;
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, ss->sh[k].y, start, count, y + off * ntg, NULL),
                        path, "iput y");
            AF_CHECK_NC(ncmpi_iput_vara_schar(ncid, ss->sh[k].yvalid, start, count,
                                              (const signed char *)yvalid + off * ntg, NULL),
                        path, "iput y_valid");
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, ss->sh[k].yqc, start, count, yqc + off * ntg, NULL),
                        path, "iput y_qc");
        }
    }
cleanup:
    return rc;
}

int af_shardset_write_block(af_shardset *ss, size_t s0, size_t ns, int t0, int nt,
                            const float *x, const float *xqc, const float *y,
                            const unsigned char *yvalid, const float *yqc, af_error *err)
{
    int rc = AF_OK;
    float *nanqc = NULL;
    AF_CHECK_ARG(ss != NULL && !ss->finished);
    AF_CHECK_ARG(t0 >= 0 && nt >= 0 && t0 + nt <= ss->ndays);
    AF_CHECK_ARG(s0 + ns <= ss->layout.nsamples);
    AF_CHECK_ARG(ns == 0 || nt == 0 || ss->layout.ninputs == 0 || x != NULL);
    AF_CHECK_ARG(ns == 0 || nt == 0 || ss->layout.ntargets == 0 ||
                 (y != NULL && yvalid != NULL && yqc != NULL));
    if (ns > 0 && (s0 < ss->own_begin || s0 + ns > ss->own_end))
        AF_FAIL(AF_EINVAL, "samples %zu..%zu are not this rank's (%zu..%zu, given at create)", s0, s0 + ns,
                ss->own_begin, ss->own_end);

    /* No input QC given: the block's x_qc cells are NaN ("the source reports none"). */
    size_t nqc = ns * (size_t)(nt > 0 ? nt : 0) * ss->layout.ninputs;
    if (!xqc && nqc > 0) {
        nanqc = malloc(nqc * sizeof *nanqc);
        AF_CHECK_ALLOC(nanqc);
        for (size_t i = 0; i < nqc; i++) nanqc[i] = NAN;
        xqc = nanqc;
    }
    /* A local failure must not skip the collective wait_all calls below: every member of a
     * shard waits on it, with or without requests. */
    int lrc = post_block(ss, s0, ns, t0, nt, x, xqc, y, yvalid, yqc, err);
    for (size_t k = 0; k < ss->nshards; k++) {
        if (!af__shard_mine(ss, k)) continue;
        int ncrc = ncmpi_wait_all(ss->sh[k].ncid, NC_REQ_ALL, NULL, NULL);
        if (ncrc != NC_NOERR && lrc == AF_OK) {
            char name[64];
            af__shard_name(k, 1, name, sizeof name);
            lrc = af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': wait_all: %s", name,
                               ncmpi_strerror(ncrc));
        }
    }
    AF_CHECK(af_error_sync(ss->comm, err));
cleanup:
    free(nanqc);
    return rc;
}

void af_shardset_destroy(af_shardset **ssp)
{
    if (!ssp || !*ssp) return;
    af_shardset *ss = *ssp;
    for (size_t k = 0; k < ss->nshards; k++) {
        if (ss->sh[k].ncid >= 0) ncmpi_close(ss->sh[k].ncid); /* collective over the shard's ranks */
        ss->sh[k].ncid = -1;
    }
    af__shard_comms_free(ss);
    if (ss->comm != MPI_COMM_NULL) MPI_Barrier(ss->comm); /* every shard closed before any unlink */
    if (!ss->finished && !ss->keep_partial && ss->rank == 0 && ss->comm != MPI_COMM_NULL) {
        for (size_t k = 0; k < ss->nshards; k++) {
            char path[4200];
            af_error ignore = AF_ERROR_INIT;
            if (af__shard_path(ss, k, 1, path, sizeof path, &ignore) == AF_OK) unlink(path);
        }
    }
    if (ss->comm != MPI_COMM_NULL) {
        MPI_Barrier(ss->comm);
        MPI_Comm_free(&ss->comm);
    }
    free(ss->sh);
    free(ss);
    *ssp = NULL;
}

