/* SPDX-License-Identifier: MIT */
/*
 * shard_check.c: digests of shard files for resume checks (agroflux/output.h).
 * A digest covers what a resumed run must be able to trust in a .partial file:
 * its size, its static part (the raw header bytes up to the first variable, and
 * every variable without a "time" dimension) and, for a range of days, every
 * time-dimensioned variable restricted to those days. Values are read through
 * PnetCDF variable by variable, in variable-id order, a fixed number of days at a
 * time, so the digest depends only on the file's contents and the day range,
 * never on the rank count or on which variables a shard layout defines.
 * This is the reference, used on resume (and for a file no plan fits); the
 * writing ranks take the same digests from the raw bytes (shard_plan.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pnetcdf.h>

#include "agroflux/output.h"
#include "af_check.h"
#include "af_util.h"
#include "shard_impl.h"

/* Days read per slab: bounds memory to rows x CHECK_DAYS x (last dims) values per variable. */
#define CHECK_DAYS 32
/* Dimensions a shard variable may have (PnetCDF's NC_MAX_VAR_DIMS is too large for the stack). */
#define CHECK_MAX_DIMS 8

/* Read a slab in the variable's own type (no conversion). */
static int get_slab(int ncid, int varid, nc_type t, const MPI_Offset *start, const MPI_Offset *count, void *buf)
{
    switch (t) {
    case NC_BYTE: return ncmpi_get_vara_schar_all(ncid, varid, start, count, buf);
    case NC_CHAR: return ncmpi_get_vara_text_all(ncid, varid, start, count, buf);
    case NC_UBYTE: return ncmpi_get_vara_uchar_all(ncid, varid, start, count, buf);
    case NC_SHORT: return ncmpi_get_vara_short_all(ncid, varid, start, count, buf);
    case NC_USHORT: return ncmpi_get_vara_ushort_all(ncid, varid, start, count, buf);
    case NC_INT: return ncmpi_get_vara_int_all(ncid, varid, start, count, buf);
    case NC_UINT: return ncmpi_get_vara_uint_all(ncid, varid, start, count, buf);
    case NC_FLOAT: return ncmpi_get_vara_float_all(ncid, varid, start, count, buf);
    case NC_DOUBLE: return ncmpi_get_vara_double_all(ncid, varid, start, count, buf);
    case NC_INT64: return ncmpi_get_vara_longlong_all(ncid, varid, start, count, buf);
    case NC_UINT64: return ncmpi_get_vara_ulonglong_all(ncid, varid, start, count, buf);
    default: return NC_EBADTYPE;
    }
}

/* The raw header bytes [0, extent) into the digest. */
static int hash_header(int ncid, const char *path, af_sha256 *h, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char *buf = NULL;
    MPI_Offset extent = 0;
    AF_CHECK_NC(ncmpi_inq_header_extent(ncid, &extent), path, "header extent");
    buf = malloc((size_t)extent + 1);
    AF_CHECK_ALLOC(buf);
    fp = fopen(path, "rb");
    if (!fp) AF_FAIL(AF_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (fread(buf, 1, (size_t)extent, fp) != (size_t)extent)
        AF_FAIL(AF_EFORMAT, "'%s': shorter than its %lld-byte header", path, (long long)extent);
    af_sha256_update(h, buf, (size_t)extent);
cleanup:
    if (fp) fclose(fp);
    free(buf);
    return rc;
}

/* One variable into the digest: whole (tpos < 0) or days [t0, t1) along dimension tpos. */
static int hash_var(int ncid, int varid, int ndims, const int *dimids, int tpos, int t0, int t1,
                    const char *path, af_sha256 *h, void **buf, size_t *cap, af_error *err)
{
    int rc = AF_OK;
    char name[NC_MAX_NAME + 1];
    nc_type type;
    MPI_Offset start[CHECK_MAX_DIMS], count[CHECK_MAX_DIMS];
    AF_CHECK_NC(ncmpi_inq_var(ncid, varid, name, &type, NULL, NULL, NULL), path, "inq_var");
    size_t esz = af__nc_type_size(type);
    if (esz == 0) AF_FAIL(AF_EFORMAT, "'%s': variable %s has an unsupported type %d", path, name, (int)type);
    size_t other = 1;
    for (int d = 0; d < ndims; d++) {
        MPI_Offset len;
        AF_CHECK_NC(ncmpi_inq_dimlen(ncid, dimids[d], &len), path, name);
        start[d] = 0;
        count[d] = len;
        if (d != tpos) other *= (size_t)len;
    }
    af_sha256_update(h, name, strlen(name) + 1);
    int lo = tpos < 0 ? 0 : t0, hi = tpos < 0 ? 1 : t1;
    for (int t = lo; t < hi; t += CHECK_DAYS) {
        int nt = tpos < 0 ? 1 : (hi - t < CHECK_DAYS ? hi - t : CHECK_DAYS);
        if (tpos >= 0) {
            start[tpos] = t;
            count[tpos] = nt;
        }
        size_t bytes = other * (size_t)nt * esz;
        if (bytes > *cap) {
            void *nb = realloc(*buf, bytes);
            AF_CHECK_ALLOC(nb);
            *buf = nb;
            *cap = bytes;
        }
        if (bytes == 0) continue;
        AF_CHECK_NC(get_slab(ncid, varid, type, start, count, *buf), path, name);
        af_sha256_update(h, *buf, bytes);
    }
cleanup:
    return rc;
}

/*
 * A shard whose first `days` days (days < 0: all) are written and synced must reach every byte its
 * header places those days at (static variables whole; (time, ...) variables up to that day). A write
 * that the MPI-IO layer lost (a full disk, RLIMIT_FSIZE's EFBIG, a quota: OMPIO prints "error in
 * writev" and PnetCDF returns success) leaves the file short; it was once hashed, published and
 * verified with garbage values. Checked at every checkpoint, on resume and at sealing.
 */
int af__shard_check_complete(const char *path, int days, af_error *err)
{
    int rc = AF_OK, ncid = -1, nvars = 0, udim = -1, tdim = -1;
    long long bytes = 0, need = 0;
    char vname[NC_MAX_NAME + 1] = "";
    AF_CHECK(af_file_size(path, &bytes, err));
    AF_CHECK_NC(ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid), path, "open");
    AF_CHECK_NC(ncmpi_inq_nvars(ncid, &nvars), path, "inq_nvars");
    AF_CHECK_NC(ncmpi_inq_unlimdim(ncid, &udim), path, "inq_unlimdim");
    if (days >= 0) AF_CHECK_NC(ncmpi_inq_dimid(ncid, "time", &tdim), path, "time dimension");
    for (int v = 0; v < nvars; v++) {
        int ndims, dimids[CHECK_MAX_DIMS];
        nc_type type;
        MPI_Offset off, n = 1;
        AF_CHECK_NC(ncmpi_inq_varndims(ncid, v, &ndims), path, "inq_varndims");
        if (ndims > CHECK_MAX_DIMS) continue;
        AF_CHECK_NC(ncmpi_inq_vardimid(ncid, v, dimids), path, "inq_vardimid");
        AF_CHECK_NC(ncmpi_inq_vartype(ncid, v, &type), path, "inq_vartype");
        AF_CHECK_NC(ncmpi_inq_varoffset(ncid, v, &off), path, "inq_varoffset");
        int rec = 0, timed = 0;
        for (int d = 0; d < ndims; d++) {
            MPI_Offset len;
            if (dimids[d] == udim) rec = 1;
            AF_CHECK_NC(ncmpi_inq_dimlen(ncid, dimids[d], &len), path, "inq_dimlen");
            if (dimids[d] == tdim) {
                timed = d == 0 ? 1 : -1;
                if (d == 0) len = days; /* time-major: the first `days` rows are contiguous */
            }
            n *= len;
        }
        if (rec || timed < 0) continue; /* no record variables in shards; time is always their first dim */
        if (timed && days == 0) continue;
        if ((long long)(off + n * (MPI_Offset)af__nc_type_size(type)) > need) {
            need = (long long)(off + n * (MPI_Offset)af__nc_type_size(type));
            AF_CHECK_NC(ncmpi_inq_varname(ncid, v, vname), path, "inq_varname");
        }
    }
    if (bytes < need)
        AF_FAIL(AF_EIO, "'%s' is %lld bytes, but its header places variable '%s' up to byte %lld: a write was lost "
                "(full disk, file size limit or quota?)", path, bytes, vname, need);
cleanup:
    if (ncid >= 0) ncmpi_close(ncid);
    return rc;
}

int af_shard_digest_file(const char *path, int want_static, int t0, int t1, af_shard_digest *out, af_error *err)
{
    int rc = AF_OK, ncid = -1, tdim = -1, nvars = 0;
    af_sha256 *hs = NULL, *hd = NULL;
    void *buf = NULL;
    size_t cap = 0;
    AF_CHECK_ARG(path != NULL && out != NULL && t0 >= 0 && t1 >= t0);
    memset(out, 0, sizeof *out);
    AF_CHECK(af_file_size(path, &out->bytes, err));
    AF_CHECK(af__shard_check_complete(path, t1, err));
    AF_CHECK_NC(ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid), path, "open");
    AF_CHECK_NC(ncmpi_inq_dimid(ncid, "time", &tdim), path, "time dimension");
    AF_CHECK_NC(ncmpi_inq_nvars(ncid, &nvars), path, "inq_nvars");
    hs = af_sha256_begin();
    hd = af_sha256_begin();
    AF_CHECK_ALLOC(hs);
    AF_CHECK_ALLOC(hd);
    if (want_static) AF_CHECK(hash_header(ncid, path, hs, err));
    for (int v = 0; v < nvars; v++) {
        int ndims, dimids[CHECK_MAX_DIMS], tpos = -1;
        AF_CHECK_NC(ncmpi_inq_varndims(ncid, v, &ndims), path, "inq_varndims");
        if (ndims > CHECK_MAX_DIMS)
            AF_FAIL(AF_EFORMAT, "'%s': variable %d has %d dimensions, at most %d are expected", path, v, ndims,
                    CHECK_MAX_DIMS);
        AF_CHECK_NC(ncmpi_inq_vardimid(ncid, v, dimids), path, "inq_vardimid");
        for (int d = 0; d < ndims; d++)
            if (dimids[d] == tdim) tpos = d;
        if (tpos < 0 && want_static)
            AF_CHECK(hash_var(ncid, v, ndims, dimids, -1, 0, 0, path, hs, &buf, &cap, err));
        else if (tpos >= 0 && t1 > t0)
            AF_CHECK(hash_var(ncid, v, ndims, dimids, tpos, t0, t1, path, hd, &buf, &cap, err));
    }
    af_sha256_end(&hs, out->static_sha256);
    af_sha256_end(&hd, out->days_sha256);
    if (!want_static) out->static_sha256[0] = '\0';
    if (t1 <= t0) out->days_sha256[0] = '\0';
cleanup:
    if (ncid >= 0) ncmpi_close(ncid);
    char ignore[65];
    af_sha256_end(&hs, ignore);
    af_sha256_end(&hd, ignore);
    free(buf);
    return rc;
}
