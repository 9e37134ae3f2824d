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
 * The same digests can also be taken from the raw bytes of the file as one
 * sequential read streams by (af__digest_stream, used by the seal so the last
 * checkpoint and the whole-file SHA-256 share a read): the header says where
 * each variable's days lie, and big-endian values are swapped to the host's
 * order, as PnetCDF's reads give them.
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

static size_t type_size(nc_type t)
{
    switch (t) {
    case NC_BYTE: case NC_CHAR: case NC_UBYTE: return 1;
    case NC_SHORT: case NC_USHORT: return 2;
    case NC_INT: case NC_UINT: case NC_FLOAT: return 4;
    case NC_DOUBLE: case NC_INT64: case NC_UINT64: return 8;
    default: return 0;
    }
}

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
    size_t esz = type_size(type);
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
        if ((long long)(off + n * (MPI_Offset)type_size(type)) > need) {
            need = (long long)(off + n * (MPI_Offset)type_size(type));
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

int af_shardset_digest(af_shardset *ss, int want_static, int t0, int t1, af_shard_digest *out, af_error *err)
{
    int rc = AF_OK;
    char path[4200];
    AF_CHECK_ARG(ss != NULL && out != NULL && !ss->sealed);
    if (ss->orphan >= 0)
        AF_FAIL(AF_EINVAL, "shard %lld holds samples that no rank wrote (the ranks' sample ranges given at "
                "create leave a gap): it has no digest", ss->orphan);
    size_t nbytes = ss->nshards * sizeof *out;
    if (nbytes > (size_t)INT_MAX) AF_FAIL(AF_EINVAL, "%zu shards are too many", ss->nshards);
    memset(out, 0, nbytes);
    int lrc = AF_OK;
    for (size_t k = 0; k < ss->nshards && lrc == AF_OK; k++) {
        if (!ss->sh[k].hasher) continue;
        if ((lrc = af__shard_path(ss, k, 1, path, sizeof path, err)) != AF_OK) break;
        lrc = af_shard_digest_file(path, want_static, t0, t1, &out[k], err);
    }
    AF_CHECK(af_error_sync(ss->comm, err));
    /* Exactly one rank filled each entry: a bitwise OR is an exact gather. */
    if (nbytes > 0) AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, out, (int)nbytes, MPI_BYTE, MPI_BOR, ss->comm));
cleanup:
    return rc;
}

/* ---- The same digests from the file's raw bytes, streamed in order ---- */

/* One byte range of the file that feeds a digest: the variable's name first, then its values. */
typedef struct stream_range {
    long long start, end;    /* [start, end) in the file */
    int esz;                 /* element size: values are swapped from big-endian in units of esz */
    int to_days;             /* 0: static digest, 1: days digest */
    int raw;                 /* the header: no name, no swap */
    char name[NC_MAX_NAME + 1];
} stream_range;

struct af__digest_stream {
    stream_range *r;
    size_t nr, cur;          /* ranges in file order; the first not yet finished */
    int name_done;           /* the current range's name went into its digest */
    unsigned char carry[8];  /* an element split between two reads */
    int ncarry;
    unsigned char *swap;     /* scratch for swapped values */
    af_sha256 *hs, *hd;
    int want_static, want_days, t0, t1;
    long long pos;           /* bytes fed so far */
    char path[4200];
};

#define SWAP_BYTES 65536

/* Append a range; 0 when it would not follow the previous one (the caller then cannot stream). */
static int stream_add(af__digest_stream *ds, size_t *cap, long long start, long long end, int esz, int to_days,
                      const char *name)
{
    if (ds->nr > 0 && start < ds->r[ds->nr - 1].end) return 0;
    if (ds->nr == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        stream_range *nr = realloc(ds->r, ncap * sizeof *nr);
        if (!nr) return -1;
        ds->r = nr;
        *cap = ncap;
    }
    stream_range *x = &ds->r[ds->nr++];
    x->start = start;
    x->end = end;
    x->esz = esz;
    x->to_days = to_days;
    x->raw = name == NULL;
    snprintf(x->name, sizeof x->name, "%s", name ? name : "");
    return 1;
}

/* The ranges af_shard_digest_file would read, from the header of the file at path; *ok = 0 when
 * they are not in ascending file order (for example days that are not contiguous). */
static int stream_plan(af__digest_stream *ds, const char *path, int *ok, af_error *err)
{
    int rc = AF_OK, ncid = -1, tdim = -1, nvars = 0, added = 1, unlim = -1;
    size_t cap = 0;
    *ok = 0;
    AF_CHECK_NC(ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid), path, "open");
    AF_CHECK_NC(ncmpi_inq_dimid(ncid, "time", &tdim), path, "time dimension");
    AF_CHECK_NC(ncmpi_inq_nvars(ncid, &nvars), path, "inq_nvars");
    AF_CHECK_NC(ncmpi_inq_unlimdim(ncid, &unlim), path, "inq_unlimdim");
    if (ds->want_static) {
        MPI_Offset extent = 0;
        AF_CHECK_NC(ncmpi_inq_header_extent(ncid, &extent), path, "header extent");
        added = stream_add(ds, &cap, 0, (long long)extent, 1, 0, NULL);
    }
    for (int v = 0; v < nvars && added == 1; v++) {
        int ndims, dimids[CHECK_MAX_DIMS], tpos = -1, isrec = 0;
        char name[NC_MAX_NAME + 1];
        nc_type type;
        MPI_Offset begin;
        AF_CHECK_NC(ncmpi_inq_var(ncid, v, name, &type, &ndims, NULL, NULL), path, "inq_var");
        if (ndims > CHECK_MAX_DIMS)
            AF_FAIL(AF_EFORMAT, "'%s': variable %d has %d dimensions, at most %d are expected", path, v, ndims,
                    CHECK_MAX_DIMS);
        AF_CHECK_NC(ncmpi_inq_vardimid(ncid, v, dimids), path, name);
        AF_CHECK_NC(ncmpi_inq_varoffset(ncid, v, &begin), path, name);
        size_t esz = type_size(type);
        if (esz == 0) AF_FAIL(AF_EFORMAT, "'%s': variable %s has an unsupported type %d", path, name, (int)type);
        long long other = 1, tlen = 1;
        for (int d = 0; d < ndims; d++) {
            MPI_Offset len;
            AF_CHECK_NC(ncmpi_inq_dimlen(ncid, dimids[d], &len), path, name);
            if (dimids[d] == unlim) isrec = 1;
            if (dimids[d] == tdim) {
                tpos = d;
                tlen = (long long)len;
            } else {
                other *= (long long)len;
            }
        }
        if (isrec || (tpos > 0 && other > 1)) { /* days of a record or (x, time) variable are not contiguous */
            added = 0;
            break;
        }
        long long row = other * (long long)esz;
        if (tpos < 0 && ds->want_static)
            added = stream_add(ds, &cap, (long long)begin, (long long)begin + row, (int)esz, 0, name);
        else if (tpos >= 0 && ds->want_days && ds->t1 <= tlen)
            added = stream_add(ds, &cap, (long long)begin + ds->t0 * row, (long long)begin + ds->t1 * row, (int)esz,
                               1, name);
        else if (tpos >= 0 && ds->want_days)
            AF_FAIL(AF_EINVAL, "'%s': days %d..%d outside its %lld days", path, ds->t0, ds->t1, tlen);
    }
    if (added < 0) AF_FAIL(AF_ENOMEM, "out of memory planning the digest of '%s'", path);
    *ok = added == 1;
cleanup:
    if (ncid >= 0) ncmpi_close(ncid);
    return rc;
}

int af__digest_stream_new(const char *path, int want_static, int t0, int t1, af__digest_stream **out,
                          af_error *err)
{
    int rc = AF_OK, ok = 0;
    af__digest_stream *ds = NULL;
    AF_CHECK_ARG(path != NULL && out != NULL && t0 >= 0 && t1 >= t0);
    *out = NULL;
    ds = calloc(1, sizeof *ds);
    AF_CHECK_ALLOC(ds);
    ds->want_static = want_static != 0;
    ds->want_days = t1 > t0;
    ds->t0 = t0;
    ds->t1 = t1;
    snprintf(ds->path, sizeof ds->path, "%s", path);
    ds->swap = malloc(SWAP_BYTES);
    ds->hs = af_sha256_begin();
    ds->hd = af_sha256_begin();
    AF_CHECK_ALLOC(ds->swap);
    AF_CHECK_ALLOC(ds->hs);
    AF_CHECK_ALLOC(ds->hd);
    AF_CHECK(stream_plan(ds, path, &ok, err));
    if (ok) {
        *out = ds;
        ds = NULL;
    }
cleanup:
    af__digest_stream_free(&ds);
    return rc;
}

void af__digest_stream_free(af__digest_stream **ds)
{
    if (!ds || !*ds) return;
    char ignore[65];
    if ((*ds)->hs) af_sha256_end(&(*ds)->hs, ignore);
    if ((*ds)->hd) af_sha256_end(&(*ds)->hd, ignore);
    free((*ds)->r);
    free((*ds)->swap);
    free(*ds);
    *ds = NULL;
}

/* m big-endian elements of esz bytes from src into dst in the host's order. */
static void swap_into(unsigned char *dst, const unsigned char *src, size_t m, int esz)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    memcpy(dst, src, m * (size_t)esz);
#else
    if (esz == 4) {
        for (size_t i = 0; i < m; i++) {
            uint32_t v;
            memcpy(&v, src + 4 * i, 4);
            v = __builtin_bswap32(v);
            memcpy(dst + 4 * i, &v, 4);
        }
        return;
    }
    for (size_t i = 0; i < m; i++) {
        const unsigned char *s = src + i * (size_t)esz;
        unsigned char *d = dst + i * (size_t)esz;
        for (int b = 0; b < esz; b++) d[b] = s[esz - 1 - b];
    }
#endif
}

/* n bytes of range r (in order) into its digest, as values in the host's order. */
static void range_update(af__digest_stream *ds, const stream_range *r, const unsigned char *p, size_t n)
{
    af_sha256 *h = r->to_days ? ds->hd : ds->hs;
    size_t esz = (size_t)r->esz;
    if (r->raw || esz == 1) {
        af_sha256_update(h, p, n);
        return;
    }
    if (ds->ncarry > 0) {
        size_t take = esz - (size_t)ds->ncarry < n ? esz - (size_t)ds->ncarry : n;
        memcpy(ds->carry + ds->ncarry, p, take);
        ds->ncarry += (int)take;
        p += take;
        n -= take;
        if ((size_t)ds->ncarry < esz) return;
        swap_into(ds->swap, ds->carry, 1, r->esz);
        af_sha256_update(h, ds->swap, esz);
        ds->ncarry = 0;
    }
    while (n >= esz) {
        size_t m = n / esz;
        if (m * esz > SWAP_BYTES) m = SWAP_BYTES / esz;
        swap_into(ds->swap, p, m, r->esz);
        af_sha256_update(h, ds->swap, m * esz);
        p += m * esz;
        n -= m * esz;
    }
    memcpy(ds->carry, p, n);
    ds->ncarry = (int)n;
}

void af__digest_stream_feed(af__digest_stream *ds, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    long long off = ds->pos, endc = off + (long long)n;
    while (ds->cur < ds->nr) {
        const stream_range *r = &ds->r[ds->cur];
        if (r->start > endc || (r->start == endc && r->end > r->start)) break; /* not reached yet */
        if (!ds->name_done && !r->raw)
            af_sha256_update(r->to_days ? ds->hd : ds->hs, r->name, strlen(r->name) + 1);
        ds->name_done = 1;
        long long a = r->start > off ? r->start : off, b = r->end < endc ? r->end : endc;
        if (b > a) range_update(ds, r, p + (a - off), (size_t)(b - a));
        if (r->end > endc) break;
        ds->cur++;
        ds->name_done = 0;
        ds->ncarry = 0;
    }
    ds->pos = endc;
}

int af__digest_stream_end(af__digest_stream *ds, af_shard_digest *out, af_error *err)
{
    int rc = AF_OK;
    const char *path = ds->path;
    memset(out, 0, sizeof *out);
    af__digest_stream_feed(ds, NULL, 0);
    if (ds->cur < ds->nr)
        AF_FAIL(AF_EFORMAT, "'%s': %lld bytes, shorter than its header says (variable %s ends at %lld)", path,
                ds->pos, ds->r[ds->cur].raw ? "(header)" : ds->r[ds->cur].name, ds->r[ds->cur].end);
    out->bytes = ds->pos;
    af_sha256_end(&ds->hs, out->static_sha256);
    af_sha256_end(&ds->hd, out->days_sha256);
    if (!ds->want_static) out->static_sha256[0] = '\0';
    if (!ds->want_days) out->days_sha256[0] = '\0';
cleanup:
    return rc;
}
