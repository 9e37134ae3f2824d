/* SPDX-License-Identifier: MIT */
/*
 * verify.c: implements af_index_verify of agroflux/index.h. Checks that the
 * shards of the index cover every sample exactly once, then re-checks each
 * shard file: presence, byte size, SHA-256, format, NetCDF dimensions, the data
 * variables (one (time, sample) variable per input and target, x_qc, y_qc,
 * y_valid last) and the sample ids row by row. Stops at the first mismatch with AF_EVERIFY naming
 * shard, field, expected and found. Not collective (PnetCDF on MPI_COMM_SELF).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pnetcdf.h>

#include "agroflux/index.h"
#include "af_check.h"
#include "af_util.h"

/* Every sample in exactly one shard, shards inside [0, nsamples). */
static int check_coverage(const af_index *idx, af_error *err)
{
    int rc = AF_OK;
    unsigned char *seen = NULL;
    seen = calloc(idx->nsamples ? idx->nsamples : 1, 1);
    AF_CHECK_ALLOC(seen);
    for (size_t k = 0; k < idx->nshards; k++) {
        const af_shard_info *s = &idx->shards[k];
        if (s->sample_start > idx->nsamples || s->sample_count > idx->nsamples - s->sample_start)
            AF_FAIL(AF_EVERIFY, "%s: samples %zu..%zu lie outside the index's %zu samples", s->path,
                    s->sample_start, s->sample_start + s->sample_count, idx->nsamples);
        for (size_t i = s->sample_start; i < s->sample_start + s->sample_count; i++) {
            if (seen[i])
                AF_FAIL(AF_EVERIFY, "sample '%s' (index %zu) lies in more than one shard (again in %s)",
                        idx->samples[i].id, i, s->path);
            seen[i] = 1;
        }
    }
    for (size_t i = 0; i < idx->nsamples; i++)
        if (!seen[i]) AF_FAIL(AF_EVERIFY, "sample '%s' (index %zu) lies in no shard", idx->samples[i].id, i);
cleanup:
    free(seen);
    return rc;
}

/* Dimension length, 0 when the dimension is absent (zero inputs or targets). */
static int nc_dim(int ncid, const char *name, MPI_Offset *len)
{
    int id, ncrc = ncmpi_inq_dimid(ncid, name, &id);
    *len = 0;
    if (ncrc == NC_EBADDIM) return NC_NOERR;
    if (ncrc != NC_NOERR) return ncrc;
    return ncmpi_inq_dimlen(ncid, id, len);
}

/* Variable `name` exists with ndims dimensions, the first two (time, sample). */
static int check_var(int ncid, const af_shard_info *s, const char *name, int ndims_want, const char *what,
                     af_error *err)
{
    int rc = AF_OK, id, ndims = 0, dims[3];
    char d0[NC_MAX_NAME + 1] = "", d1[NC_MAX_NAME + 1] = "";
    if (ncmpi_inq_varid(ncid, name, &id) != NC_NOERR)
        AF_FAIL(AF_EVERIFY, "%s: %s variable %s is missing", s->path, what, name);
    /* ndims is checked before the dimension ids are read into dims[3] */
    if (ncmpi_inq_varndims(ncid, id, &ndims) != NC_NOERR || ndims != ndims_want ||
        ncmpi_inq_vardimid(ncid, id, dims) != NC_NOERR || ncmpi_inq_dimname(ncid, dims[0], d0) != NC_NOERR ||
        ncmpi_inq_dimname(ncid, dims[1], d1) != NC_NOERR || strcmp(d0, "time") || strcmp(d1, "sample"))
        AF_FAIL(AF_EVERIFY, "%s: variable %s: expected %d dimensions starting (time, sample)", s->path, name,
                ndims_want);
cleanup:
    return rc;
}

/* Every input and target the index lists is a (time, sample) variable; the stacked quality
 * variables exist; y_valid is the last variable. */
static int check_vars(int ncid, const af_index *idx, const af_shard_info *s, af_error *err)
{
    int rc = AF_OK, nvars = 0, id;
    for (size_t i = 0; i < idx->ninputs; i++) AF_CHECK(check_var(ncid, s, idx->inputs[i].name, 2, "input", err));
    for (size_t i = 0; i < idx->ntargets; i++) AF_CHECK(check_var(ncid, s, idx->targets[i].name, 2, "target", err));
    if (idx->ninputs > 0) AF_CHECK(check_var(ncid, s, "x_qc", 3, "quality", err));
    if (idx->ntargets > 0) {
        AF_CHECK(check_var(ncid, s, "y_qc", 3, "quality", err));
        AF_CHECK(check_var(ncid, s, "y_valid", 3, "validity", err));
    }
    if (idx->ntargets > 0 && ncmpi_inq_nvars(ncid, &nvars) == NC_NOERR &&
        ncmpi_inq_varid(ncid, "y_valid", &id) == NC_NOERR && id != nvars - 1)
        AF_FAIL(AF_EVERIFY, "%s: y_valid is variable %d of %d, it must be the last", s->path, id + 1, nvars);
cleanup:
    return rc;
}

static int check_netcdf(const char *path, const af_index *idx, const af_shard_info *s, af_error *err)
{
    int rc = AF_OK, ncid = -1, ncrc, fmt = 0, id;
    char *ids = NULL;
    ncrc = ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid);
    if (ncrc != NC_NOERR) AF_FAIL(AF_EVERIFY, "%s: not a readable NetCDF file: %s", s->path, ncmpi_strerror(ncrc));
    ncrc = ncmpi_inq_format(ncid, &fmt);
    if (ncrc != NC_NOERR) AF_FAIL(AF_ENC, "%s: inq_format: %s", s->path, ncmpi_strerror(ncrc));
    const char *found = fmt == NC_FORMAT_CDF5 ? "cdf5" : fmt == NC_FORMAT_CDF2 ? "cdf2" : "cdf1";
    if (strcmp(found, idx->format) != 0)
        AF_FAIL(AF_EVERIFY, "%s: format: index says %s, file is %s", s->path, idx->format, found);

    static const char *const names[4] = { "sample", "time", "input", "target" };
    long long want[4] = { (long long)s->sample_count, idx->ndays, (long long)idx->ninputs,
                          (long long)idx->ntargets };
    for (int d = 0; d < 4; d++) {
        MPI_Offset len;
        ncrc = nc_dim(ncid, names[d], &len);
        if (ncrc != NC_NOERR) AF_FAIL(AF_EVERIFY, "%s: dimension %s: %s", s->path, names[d], ncmpi_strerror(ncrc));
        if ((long long)len != want[d])
            AF_FAIL(AF_EVERIFY, "%s: dimension %s: index says %lld, file has %lld", s->path, names[d],
                    want[d], (long long)len);
    }

    AF_CHECK(check_vars(ncid, idx, s, err));

    MPI_Offset idlen;
    ncrc = nc_dim(ncid, "id_len", &idlen);
    if (ncrc != NC_NOERR || idlen <= 0)
        AF_FAIL(AF_EVERIFY, "%s: dimension id_len missing", s->path);
    if (s->sample_count > 0) {
        ids = malloc(s->sample_count * (size_t)idlen);
        AF_CHECK_ALLOC(ids);
        MPI_Offset start[2] = { 0, 0 }, count[2] = { (MPI_Offset)s->sample_count, idlen };
        ncrc = ncmpi_inq_varid(ncid, "sample_id", &id);
        if (ncrc == NC_NOERR) ncrc = ncmpi_get_vara_text_all(ncid, id, start, count, ids);
        if (ncrc != NC_NOERR) AF_FAIL(AF_EVERIFY, "%s: variable sample_id: %s", s->path, ncmpi_strerror(ncrc));
        for (size_t r = 0; r < s->sample_count; r++) {
            const char *cell = ids + r * (size_t)idlen;
            char got[AF_ID_MAX + 1];
            size_t n = strnlen(cell, (size_t)idlen);
            if (n > AF_ID_MAX) n = AF_ID_MAX;
            memcpy(got, cell, n);
            got[n] = '\0';
            const char *expect = idx->samples[s->sample_start + r].id;
            if (strcmp(got, expect) != 0)
                AF_FAIL(AF_EVERIFY, "%s: sample_id of row %zu: index says '%s', file has '%s'", s->path,
                        r, expect, got);
        }
    }
cleanup:
    free(ids);
    if (ncid >= 0) ncmpi_close(ncid);
    return rc;
}

/* provenance.json or coverage.json, when the index references it: size and SHA-256. */
static int check_provenance_file(const char *outdir, const af_prov_ref *ref, af_error *err)
{
    int rc = AF_OK;
    char path[4200], hex[65];
    long long bytes = 0;
    if (!ref->path[0]) goto cleanup;
    AF_CHECK(af_path_join(outdir, ref->path, path, sizeof path, err));
    int frc = af_file_size(path, &bytes, err);
    if (frc == AF_ENOTFOUND) AF_FAIL(AF_EVERIFY, "%s: missing (looked for '%s')", ref->path, path);
    AF_CHECK(frc);
    AF_CHECK(af_file_sha256(path, hex, err));
    if (bytes != ref->bytes || strcmp(hex, ref->sha256) != 0)
        AF_FAIL(AF_EVERIFY, "%s: does not match the index (%lld bytes, sha256 %s; index says %lld, %s)",
                ref->path, bytes, hex, ref->bytes, ref->sha256);
cleanup:
    return rc;
}

int af_index_verify(const char *outdir, const af_index *idx, size_t *nchecked, af_error *err)
{
    int rc = AF_OK;
    char path[4200], hex[65];
    AF_CHECK_ARG(outdir != NULL && idx != NULL);
    AF_CHECK_ARG(idx->nsamples == 0 || idx->samples != NULL);
    AF_CHECK_ARG(idx->nshards == 0 || idx->shards != NULL);
    if (nchecked) *nchecked = 0;
    AF_CHECK(check_coverage(idx, err));
    for (size_t k = 0; k < idx->nshards; k++) {
        const af_shard_info *s = &idx->shards[k];
        long long bytes = 0;
        AF_CHECK(af_path_join(outdir, s->path, path, sizeof path, err));
        int frc = af_file_size(path, &bytes, err);
        if (frc == AF_ENOTFOUND) AF_FAIL(AF_EVERIFY, "%s: missing (looked for '%s')", s->path, path);
        AF_CHECK(frc);
        if (bytes != s->bytes)
            AF_FAIL(AF_EVERIFY, "%s: size mismatch: index says %lld bytes, file has %lld", s->path,
                    s->bytes, bytes);
        AF_CHECK(af_file_sha256(path, hex, err));
        if (strcmp(hex, s->sha256) != 0)
            AF_FAIL(AF_EVERIFY, "%s: sha256 mismatch: index says %s, file has %s", s->path, s->sha256, hex);
        AF_CHECK(check_netcdf(path, idx, s, err));
        if (nchecked) *nchecked = k + 1;
    }
    AF_CHECK(check_provenance_file(outdir, &idx->prov_ref, err));
    AF_CHECK(check_provenance_file(outdir, &idx->coverage_ref, err));
cleanup:
    return rc;
}
