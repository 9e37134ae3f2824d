/* SPDX-License-Identifier: MIT */
/*
 * shard_plan.c: the digests of shard_check.c (af_shard_digest_file) taken from a
 * shard's raw bytes instead of through PnetCDF, so checkpoints and the seal never
 * open a shard through MPI-IO again (each MPI_File_open creates and deletes lock
 * and shared-memory files). The rank that hashes a shard plans it once, from the
 * ncid it created or reopened it with (af__shard_plan_new: header extent, each
 * variable's begin and bytes per day); the plan then says where every digested
 * byte lies. A checkpoint preads the new days' ranges (af__shard_plan_digest),
 * the seal feeds them from its single sequential read (af__digest_stream), and
 * both check the file size against the plan first (the lost-write check of
 * af__shard_check_complete). Values are big-endian in the file and swapped to
 * the host's order, as PnetCDF's reads give them, so the digests are the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pnetcdf.h>

#include "agroflux/output.h"
#include "af_check.h"
#include "af_util.h"
#include "shard_impl.h"

/* Dimensions a planned variable may have (as shard_check.c). */
#define PLAN_MAX_DIMS 8
/* Bytes the seal's stream swaps at a time; bytes a checkpoint preads at a time (at most). */
#define SWAP_BYTES 65536
#define PREAD_BYTES (1 << 20)

/* ---- The plan ---- */

/* Variable v of ncid into *pv; 0 when it does not fit a plan (a record variable, time not its first
 * dimension, too many dimensions, a type without a size), 1 when it does. */
static int plan_var_of(int ncid, int v, int tdim, int unlim, af__plan_var *pv, int *fits, const char *path,
                       af_error *err)
{
    int rc = AF_OK, ndims, dimids[PLAN_MAX_DIMS];
    nc_type type;
    MPI_Offset begin;
    *fits = 0;
    AF_CHECK_NC(ncmpi_inq_varndims(ncid, v, &ndims), path, "inq_varndims");
    if (ndims > PLAN_MAX_DIMS) goto cleanup;
    AF_CHECK_NC(ncmpi_inq_var(ncid, v, pv->name, &type, NULL, dimids, NULL), path, "inq_var");
    AF_CHECK_NC(ncmpi_inq_varoffset(ncid, v, &begin), path, pv->name);
    pv->esz = (int)af__nc_type_size(type);
    if (pv->esz == 0) goto cleanup;
    pv->begin = (long long)begin;
    pv->timed = 0;
    long long other = 1;
    for (int d = 0; d < ndims; d++) {
        MPI_Offset len;
        if (dimids[d] == unlim) goto cleanup;
        if (dimids[d] == tdim) {
            if (d != 0) goto cleanup; /* a day's values would not be contiguous */
            pv->timed = 1;
            continue;
        }
        AF_CHECK_NC(ncmpi_inq_dimlen(ncid, dimids[d], &len), path, pv->name);
        other *= (long long)len;
    }
    pv->row = other * pv->esz;
    *fits = 1;
cleanup:
    return rc;
}

int af__shard_plan_new(int ncid, const char *path, af__shard_plan **out, af_error *err)
{
    int rc = AF_OK, tdim = -1, nvars = 0, unlim = -1, fits = 1;
    af__shard_plan *p = NULL;
    MPI_Offset extent = 0, tlen = 0;
    AF_CHECK_ARG(out != NULL);
    *out = NULL;
    int ncrc = ncmpi_inq_dimid(ncid, "time", &tdim);
    if (ncrc == NC_EBADDIM) goto cleanup; /* not a shard: no plan */
    AF_CHECK_NC(ncrc, path, "time dimension");
    AF_CHECK_NC(ncmpi_inq_dimlen(ncid, tdim, &tlen), path, "time dimension");
    AF_CHECK_NC(ncmpi_inq_nvars(ncid, &nvars), path, "inq_nvars");
    AF_CHECK_NC(ncmpi_inq_unlimdim(ncid, &unlim), path, "inq_unlimdim");
    AF_CHECK_NC(ncmpi_inq_header_extent(ncid, &extent), path, "header extent");
    if (tlen > INT_MAX) goto cleanup;
    p = calloc(1, sizeof *p);
    AF_CHECK_ALLOC(p);
    p->v = calloc(nvars > 0 ? (size_t)nvars : 1, sizeof *p->v);
    AF_CHECK_ALLOC(p->v);
    p->header = (long long)extent;
    p->ndays = (int)tlen;
    for (int v = 0; v < nvars && fits; v++) AF_CHECK(plan_var_of(ncid, v, tdim, unlim, &p->v[v], &fits, path, err));
    if (!fits) goto cleanup;
    p->nv = (size_t)nvars;
    *out = p;
    p = NULL;
cleanup:
    af__shard_plan_free(&p);
    return rc;
}

void af__shard_plan_free(af__shard_plan **p)
{
    if (!p || !*p) return;
    free((*p)->v);
    free(*p);
    *p = NULL;
}

/* Bytes [begin, begin + plan_bytes) of variable v hold its first `days` days (days < 0: all). */
static long long plan_bytes(const af__shard_plan *p, const af__plan_var *v, int days)
{
    if (!v->timed) return v->row;
    return (long long)(days < 0 ? p->ndays : days) * v->row;
}

int af__shard_plan_check_size(const af__shard_plan *p, const char *path, long long bytes, int days, af_error *err)
{
    int rc = AF_OK;
    long long need = 0;
    const char *vname = "";
    for (size_t i = 0; i < p->nv; i++) {
        const af__plan_var *v = &p->v[i];
        if (v->timed && days == 0) continue;
        long long end = v->begin + plan_bytes(p, v, days);
        if (end > need) {
            need = end;
            vname = v->name;
        }
    }
    /* the words of af__shard_check_complete: tests and users match on them */
    if (bytes < need)
        AF_FAIL(AF_EIO, "'%s' is %lld bytes, but its header places variable '%s' up to byte %lld: a write was lost "
                "(full disk, file size limit or quota?)", path, bytes, vname, need);
cleanup:
    return rc;
}

/* ---- Digests by pread ---- */

/* m big-endian elements of esz bytes at p, in place, into the host's order. */
static void swap_in_place(unsigned char *p, size_t m, int esz)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    (void)p;
    (void)m;
    (void)esz;
#else
    if (esz == 4) {
        for (size_t i = 0; i < m; i++) {
            uint32_t v;
            memcpy(&v, p + 4 * i, 4);
            v = __builtin_bswap32(v);
            memcpy(p + 4 * i, &v, 4);
        }
        return;
    }
    for (size_t i = 0; i < m; i++) {
        unsigned char *e = p + i * (size_t)esz;
        for (int b = 0; b < esz / 2; b++) {
            unsigned char t = e[b];
            e[b] = e[esz - 1 - b];
            e[esz - 1 - b] = t;
        }
    }
#endif
}

/* m big-endian elements of esz bytes from src into dst in the host's order (the copy then the swap
 * in place: the buffers are a few cache-resident KiB, and one swap serves both callers). */
static void swap_into(unsigned char *dst, const unsigned char *src, size_t m, int esz)
{
    memcpy(dst, src, m * (size_t)esz);
    swap_in_place(dst, m, esz);
}

/* Bytes [start, end) of fd into h, as values of esz bytes in the host's order (raw: as they are),
 * read cap bytes at a time (cap a multiple of every element size). */
static int pread_range(int fd, const char *path, long long start, long long end, int esz, int raw, af_sha256 *h,
                       unsigned char *buf, size_t cap, const char *what, af_error *err)
{
    int rc = AF_OK;
    long long at = start;
    while (at < end) {
        size_t want = end - at < (long long)cap ? (size_t)(end - at) : cap;
        ssize_t got = pread(fd, buf, want, (off_t)at);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) AF_FAIL(AF_EIO, "read error on '%s' at byte %lld (%s): %s", path, at, what, strerror(errno));
        if ((size_t)got < want)
            AF_FAIL(AF_EIO, "'%s' ended at byte %lld, inside %s (up to byte %lld): it shrank while it was read",
                    path, at + (long long)got, what, end);
        if (!raw && esz > 1) swap_in_place(buf, want / (size_t)esz, esz);
        af_sha256_update(h, buf, want);
        at += (long long)want;
    }
cleanup:
    return rc;
}

int af__shard_plan_digest_fd(const af__shard_plan *p, int fd, const char *path, long long bytes, int want_static,
                             int t0, int t1, af_shard_digest *out, af_error *err)
{
    int rc = AF_OK;
    af_sha256 *hs = NULL, *hd = NULL;
    unsigned char *buf = NULL;
    AF_CHECK_ARG(p != NULL && path != NULL && out != NULL && t0 >= 0 && t1 >= t0);
    memset(out, 0, sizeof *out);
    if (t1 > p->ndays) AF_FAIL(AF_EINVAL, "'%s': days %d..%d outside its %d days", path, t0, t1, p->ndays);
    AF_CHECK(af__shard_plan_check_size(p, path, bytes, t1, err));
    out->bytes = bytes;
    /* one buffer, as large as the longest range up to PREAD_BYTES (small shards touch few pages) */
    long long longest = want_static ? p->header : 0;
    for (size_t i = 0; i < p->nv; i++) {
        long long n = p->v[i].timed ? (long long)(t1 - t0) * p->v[i].row : want_static ? p->v[i].row : 0;
        if (n > longest) longest = n;
    }
    size_t cap = longest < PREAD_BYTES ? (size_t)((longest + 7) / 8 * 8) : PREAD_BYTES;
    buf = malloc(cap ? cap : 8);
    hs = af_sha256_begin();
    hd = af_sha256_begin();
    AF_CHECK_ALLOC(buf);
    AF_CHECK_ALLOC(hs);
    AF_CHECK_ALLOC(hd);
    if (want_static) AF_CHECK(pread_range(fd, path, 0, p->header, 1, 1, hs, buf, cap, "the header", err));
    for (size_t i = 0; i < p->nv; i++) {
        const af__plan_var *v = &p->v[i];
        af_sha256 *h = v->timed ? hd : hs;
        long long a = v->begin, b = v->begin + v->row;
        if (v->timed) {
            if (t1 <= t0) continue;
            a = v->begin + (long long)t0 * v->row;
            b = v->begin + (long long)t1 * v->row;
        } else if (!want_static) {
            continue;
        }
        af_sha256_update(h, v->name, strlen(v->name) + 1);
        AF_CHECK(pread_range(fd, path, a, b, v->esz, 0, h, buf, cap, v->name, err));
    }
    af_sha256_end(&hs, out->static_sha256);
    af_sha256_end(&hd, out->days_sha256);
    if (!want_static) out->static_sha256[0] = '\0';
    if (t1 <= t0) out->days_sha256[0] = '\0';
cleanup:
    if (hs || hd) {
        char ignore[65];
        af_sha256_end(&hs, ignore);
        af_sha256_end(&hd, ignore);
    }
    free(buf);
    return rc;
}

int af__shard_plan_digest(const af__shard_plan *p, const char *path, int want_static, int t0, int t1,
                          af_shard_digest *out, af_error *err)
{
    int rc = AF_OK, fd = -1;
    struct stat st;
    AF_CHECK_ARG(p != NULL && path != NULL && out != NULL);
    fd = open(path, O_RDONLY);
    if (fd < 0) AF_FAIL(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) AF_FAIL(AF_EIO, "cannot stat '%s': %s", path, strerror(errno));
    AF_CHECK(af__shard_plan_digest_fd(p, fd, path, (long long)st.st_size, want_static, t0, t1, out, err));
cleanup:
    if (fd >= 0) close(fd);
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
        /* the plan made at create or reopen: a pread of the new days, no open through MPI-IO */
        if (ss->sh[k].plan) lrc = af__shard_plan_digest(ss->sh[k].plan, path, want_static, t0, t1, &out[k], err);
        else lrc = af_shard_digest_file(path, want_static, t0, t1, &out[k], err);
    }
    AF_CHECK(af_error_sync(ss->comm, err));
    /* Exactly one rank filled each entry: a bitwise OR is an exact gather. */
    if (nbytes > 0) AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, out, (int)nbytes, MPI_BYTE, MPI_BOR, ss->comm));
cleanup:
    return rc;
}

/* ---- The same digests from one sequential read (the seal's) ---- */

/* One byte range of the file that feeds a digest: the variable's name first, then its values. */
typedef struct stream_range {
    long long start, end;    /* [start, end) in the file */
    int esz;                 /* element size: values are swapped from big-endian in units of esz */
    int to_days;             /* 0: static digest, 1: days digest */
    const char *name;        /* the plan's; NULL for the header: no name, no swap */
} stream_range;

struct af__digest_stream {
    stream_range *r;
    size_t nr, cur;          /* ranges in file order; the first not yet finished */
    int name_done;           /* the current range's name went into its digest */
    unsigned char carry[8];  /* an element split between two reads */
    int ncarry;
    unsigned char *swap;     /* scratch for swapped values */
    af_sha256 *hs, *hd;
    int want_static, want_days;
    long long pos;           /* bytes fed so far */
    char path[4200];
};

/* Append a range; 0 when it would not follow the previous one (the caller then cannot stream). */
static int stream_add(af__digest_stream *ds, long long start, long long end, int esz, int to_days, const char *name)
{
    if (ds->nr > 0 && start < ds->r[ds->nr - 1].end) return 0;
    ds->r[ds->nr++] = (stream_range){ start, end, esz, to_days, name };
    return 1;
}

int af__digest_stream_new(const af__shard_plan *p, const char *path, int want_static, int t0, int t1,
                          af__digest_stream **out, af_error *err)
{
    int rc = AF_OK, added = 1;
    af__digest_stream *ds = NULL;
    AF_CHECK_ARG(p != NULL && path != NULL && out != NULL && t0 >= 0 && t1 >= t0);
    *out = NULL;
    if (t1 > p->ndays) AF_FAIL(AF_EINVAL, "'%s': days %d..%d outside its %d days", path, t0, t1, p->ndays);
    ds = calloc(1, sizeof *ds);
    AF_CHECK_ALLOC(ds);
    ds->want_static = want_static != 0;
    ds->want_days = t1 > t0;
    snprintf(ds->path, sizeof ds->path, "%s", path);
    ds->r = malloc((p->nv + 1) * sizeof *ds->r);
    ds->swap = malloc(SWAP_BYTES);
    ds->hs = af_sha256_begin();
    ds->hd = af_sha256_begin();
    AF_CHECK_ALLOC(ds->r);
    AF_CHECK_ALLOC(ds->swap);
    AF_CHECK_ALLOC(ds->hs);
    AF_CHECK_ALLOC(ds->hd);
    if (ds->want_static) added = stream_add(ds, 0, p->header, 1, 0, NULL);
    for (size_t i = 0; i < p->nv && added; i++) {
        const af__plan_var *v = &p->v[i];
        if (!v->timed && ds->want_static)
            added = stream_add(ds, v->begin, v->begin + v->row, v->esz, 0, v->name);
        else if (v->timed && ds->want_days)
            added = stream_add(ds, v->begin + (long long)t0 * v->row, v->begin + (long long)t1 * v->row, v->esz, 1,
                               v->name);
    }
    if (added) { /* else the ranges are not in file order: the caller digests with preads */
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

/* n bytes of range r (in order) into its digest, as values in the host's order. */
static void range_update(af__digest_stream *ds, const stream_range *r, const unsigned char *p, size_t n)
{
    af_sha256 *h = r->to_days ? ds->hd : ds->hs;
    size_t esz = (size_t)r->esz;
    if (!r->name || esz == 1) {
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
        if (!ds->name_done && r->name)
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
                ds->pos, ds->r[ds->cur].name ? ds->r[ds->cur].name : "(header)", ds->r[ds->cur].end);
    out->bytes = ds->pos;
    af_sha256_end(&ds->hs, out->static_sha256);
    af_sha256_end(&ds->hd, out->days_sha256);
    if (!ds->want_static) out->static_sha256[0] = '\0';
    if (!ds->want_days) out->days_sha256[0] = '\0';
cleanup:
    return rc;
}
