/* SPDX-License-Identifier: MIT */
/*
 * shard_finish.c: the end and the restart of a shardset (agroflux/output.h):
 * sync (flush every rank's data to disk, for a resumable checkpoint), seal
 * (close, then SHA-256 and fsync, each shard by a rank that wrote it, with one
 * open(2) and the size checked against its plan; optionally the last
 * checkpoint's digests from the same read), publish (rename to final names),
 * reopen (continue .partial files left by an interrupted run), and reading
 * rows back (af_shard_read_row, af_shard_read_block: not collective).
 */
#define _GNU_SOURCE /* sync_file_range (Linux); without it writeback starts at the fsync */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Close shard k collectively. No MPI_File_sync here: the rank that hashes the shard reads every
 * byte of it after the close (which makes every writer's data visible to it) and fsyncs it then,
 * so the data go to disk once, while the hash runs, and before the rename. */
static int close_shard(af_shardset *ss, size_t k, af_error *err)
{
    int rc = AF_OK;
    char name[64];
    int ncid = ss->sh[k].ncid;
    af__shard_name(k, 1, name, sizeof name);
    if (ncid < 0) goto cleanup;
    ss->sh[k].ncid = -1;
    AF_CHECK_NC(ncmpi_close(ncid), name, "close");
cleanup:
    return rc;
}

void af__shard_start_writeback(const af_shardset *ss, size_t k)
{
#ifdef SYNC_FILE_RANGE_WRITE
    char path[4200];
    af_error ignore = AF_ERROR_INIT;
    if (af__shard_path(ss, k, 1, path, sizeof path, &ignore) != AF_OK) return;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    /* asynchronous: queues the dirty pages for writing and returns; a failure shows at the fsync */
    (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    close(fd);
#else
    (void)ss;
    (void)k;
#endif
}

/* Size and SHA-256 of a closed shard (fd, at offset 0), read once, then fsync: the disk writes the
 * pages (their writeback started before) while the hash reads them from the page cache. The same
 * read feeds the checkpoint digests of ds, when given. */
/* Bytes per read of the seal: one buffer for every shard a rank seals (a fresh one per shard was
 * a new mapping faulted in page by page, ~1,000 faults a shard). */
enum { SEAL_BUF = 4 << 20 };

static int hash_and_sync(int fd, const char *path, unsigned char *buf, af__digest_stream *ds, long long *bytes,
                         char hex[65], af_error *err)
{
    int rc = AF_OK;
    af_sha256 *h = NULL;
    long long n = 0;
    h = af_sha256_begin();
    AF_CHECK_ALLOC(h);
    for (;;) {
        ssize_t got = read(fd, buf, SEAL_BUF);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) AF_FAIL(AF_EIO, "read error on '%s': %s", path, strerror(errno));
        if (got == 0) break;
        af_sha256_update(h, buf, (size_t)got);
        if (ds) af__digest_stream_feed(ds, buf, (size_t)got);
        n += got;
    }
    if (fsync(fd) != 0 && errno != EINVAL) AF_FAIL(AF_EIO, "fsync '%s': %s", path, strerror(errno));
    af_sha256_end(&h, hex);
    *bytes = n;
cleanup:
    if (h) {
        char ignore[65];
        af_sha256_end(&h, ignore);
    }
    return rc;
}

/* Hash and fsync shard k (closed); with check, also its checkpoint digests. The hasher's plan (made
 * at create or reopen) checks the size against the header and places the digested bytes, so the
 * shard is opened once, with open(2): its days come from the same read as the SHA-256 when the
 * plan's ranges are in file order (af__digest_stream), else from preads of the same descriptor.
 * Without a plan (a header none fits), PnetCDF checks and digests the file. */
static int seal_one(af_shardset *ss, size_t k, const af_seal_check *check, unsigned char *buf, af_shard_info *in,
                    af_shard_digest *dg, af_error *err)
{
    int rc = AF_OK, fd = -1;
    char path[4200];
    struct stat st;
    const af__shard_plan *plan = ss->sh[k].plan;
    af__digest_stream *ds = NULL;
    AF_CHECK(af__shard_path(ss, k, 1, path, sizeof path, err));
    if (!plan) AF_CHECK(af__shard_check_complete(path, -1, err)); /* no short shard is hashed */
    fd = open(path, O_RDONLY);
    if (fd < 0) AF_FAIL(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (plan) {
        if (fstat(fd, &st) != 0) AF_FAIL(AF_EIO, "cannot stat '%s': %s", path, strerror(errno));
        AF_CHECK(af__shard_plan_check_size(plan, path, (long long)st.st_size, -1, err)); /* no short shard is hashed */
        if (check) AF_CHECK(af__digest_stream_new(plan, path, check->want_static, check->t0, check->t1, &ds, err));
    }
    AF_CHECK(hash_and_sync(fd, path, buf, ds, &in->bytes, in->sha256, err));
    if (ds) AF_CHECK(af__digest_stream_end(ds, dg, err));
    else if (check && plan)
        AF_CHECK(af__shard_plan_digest_fd(plan, fd, path, in->bytes, check->want_static, check->t0, check->t1, dg, err));
    else if (check) AF_CHECK(af_shard_digest_file(path, check->want_static, check->t0, check->t1, dg, err));
    af__shard_name(k, 0, in->path, sizeof in->path);
    in->sample_start = k * ss->layout.shard_samples;
    in->sample_count = af__shard_rows(&ss->layout, k);
cleanup:
    af__digest_stream_free(&ds);
    if (fd >= 0) close(fd);
    return rc;
}

int af_shardset_sync(af_shardset *ss, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(ss != NULL && !ss->sealed);
    int lrc = AF_OK;
    for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < ss->nshards; k++) {
        if (!af__shard_turn(ss, k, pass)) continue;
        int ncrc = ncmpi_sync(ss->sh[k].ncid); /* collective over the shard's ranks */
        if (ncrc != NC_NOERR && lrc == AF_OK) {
            char name[64];
            af__shard_name(k, 1, name, sizeof name);
            lrc = af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': sync: %s", name,
                               ncmpi_strerror(ncrc));
        }
    }
    AF_CHECK(af_error_sync(ss->comm, err));
cleanup:
    return rc;
}

void af_shardset_keep_partial(af_shardset *ss, int keep)
{
    if (ss) ss->keep_partial = keep ? 1 : 0;
}

int af_shardset_seal(af_shardset *ss, af_shard_info **infos, size_t *ninfos, af_error *err)
{
    return af_shardset_seal_checked(ss, NULL, infos, ninfos, err);
}

int af_shardset_seal_checked(af_shardset *ss, af_seal_check *check, af_shard_info **infos, size_t *ninfos,
                             af_error *err)
{
    int rc = AF_OK;
    af_shard_info *all = NULL;
    AF_CHECK_ARG(ss != NULL && infos != NULL && ninfos != NULL && !ss->sealed);
    AF_CHECK_ARG(!check || (check->out != NULL && check->t0 >= 0 && check->t1 >= check->t0));
    *infos = NULL;
    *ninfos = 0;
    /* Each shard is hashed by one of the ranks that wrote it: one nobody wrote has no file. */
    if (ss->orphan >= 0)
        AF_FAIL(AF_EINVAL, "shard %lld holds samples that no rank wrote (the ranks' sample ranges given at "
                "create leave a gap): it cannot be sealed", ss->orphan);
    int lrc = AF_OK;
    for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < ss->nshards; k++) {
        if (!af__shard_turn(ss, k, pass)) continue;
        af_error tmp = AF_ERROR_INIT;
        int c = close_shard(ss, k, lrc == AF_OK ? err : &tmp);
        if (lrc == AF_OK) lrc = c;
    }
    AF_CHECK(af_error_sync(ss->comm, err));

    size_t nbytes = (ss->nshards ? ss->nshards : 1) * sizeof *all;
    if (nbytes > (size_t)INT_MAX) AF_FAIL(AF_EINVAL, "%zu shards are too many", ss->nshards);
    all = calloc(1, nbytes);
    AF_CHECK_ALLOC(all);
    /* One member of each shard hashes and fsyncs it (sh[k].hasher: the rank that wrote it when one
     * rank writes it alone, so on a cluster it reads the shard from its own node's cache); the
     * others leave zeros. The writeback of what the blocks left starts first, so the disk is busy
     * while the rank hashes. */
    for (size_t k = 0; k < ss->nshards && lrc == AF_OK; k++)
        if (ss->sh[k].hasher) af__shard_start_writeback(ss, k);
    if (check) memset(check->out, 0, ss->nshards * sizeof *check->out);
    unsigned char *buf = NULL;
    for (size_t k = 0; k < ss->nshards && lrc == AF_OK; k++) {
        if (!ss->sh[k].hasher) continue;
        if (!buf && !(buf = malloc(SEAL_BUF))) {
            lrc = af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for the seal's reads");
            break;
        }
        lrc = seal_one(ss, k, check, buf, &all[k], check ? &check->out[k] : NULL, err);
    }
    free(buf);
    AF_CHECK(af_error_sync(ss->comm, err));
    /* Exactly one rank filled each entry: a bitwise OR is an exact, ordered gather. */
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, all, (int)nbytes, MPI_BYTE, MPI_BOR, ss->comm));
    if (check && ss->nshards > 0)
        AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, check->out, (int)(ss->nshards * sizeof *check->out), MPI_BYTE,
                                   MPI_BOR, ss->comm));
    ss->sealed = 1;
    *infos = all;
    *ninfos = ss->nshards;
    all = NULL;
cleanup:
    free(all);
    return rc;
}

int af_shardset_publish(af_shardset *ss, af_error *err)
{
    int rc = AF_OK;
    char path[4200], final_path[4200];
    AF_CHECK_ARG(ss != NULL && ss->sealed && !ss->finished);
    int lrc = AF_OK;
    /* Every rename, then one fsync of the directory makes them all durable (one journal commit
     * instead of one per shard); the index, written after this returns, is still the last. */
    if (ss->rank == 0) {
        for (size_t k = 0; k < ss->nshards && lrc == AF_OK; k++) {
            if ((lrc = af__shard_path(ss, k, 1, path, sizeof path, err)) != AF_OK) break;
            if ((lrc = af__shard_path(ss, k, 0, final_path, sizeof final_path, err)) != AF_OK) break;
            lrc = af_rename(path, final_path, err);
        }
        if (lrc == AF_OK) lrc = af_fsync_path(ss->outdir, err);
    }
    AF_CHECK(af_error_sync(ss->comm, err));
    ss->finished = 1;
cleanup:
    return rc;
}

int af_shardset_finish(af_shardset *ss, af_shard_info **infos, size_t *ninfos, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(af_shardset_seal(ss, infos, ninfos, err));
    rc = af_shardset_publish(ss, err);
    if (rc != AF_OK) {
        free(*infos);
        *infos = NULL;
        *ninfos = 0;
    }
cleanup:
    return rc;
}

/* Open shard k's .partial file for writing and check it belongs to this layout. */
static int reopen_one(af_shardset *ss, size_t k, af_error *err)
{
    int rc = AF_OK, ncid = -1;
    char path[4200];
    const af_layout *l = &ss->layout;
    AF_CHECK(af__shard_path(ss, k, 1, path, sizeof path, err));
    if (access(path, F_OK) != 0) AF_FAIL(AF_ENOTFOUND, "'%s' is missing", path);
    AF_CHECK_NC(ncmpi_open(ss->sh[k].comm, path, NC_WRITE, MPI_INFO_NULL, &ncid), path, "open");
    ss->sh[k].ncid = ncid;
    static const char *const dims[4] = { "sample", "time", "input", "target" };
    long long want[4] = { (long long)af__shard_rows(l, k), ss->ndays, (long long)l->ninputs,
                          (long long)l->ntargets };
    for (int d = 0; d < 4; d++) {
        int id;
        MPI_Offset len = 0;
        int ncrc = ncmpi_inq_dimid(ncid, dims[d], &id);
        if (ncrc == NC_NOERR) ncrc = ncmpi_inq_dimlen(ncid, id, &len);
        else if (ncrc == NC_EBADDIM) ncrc = NC_NOERR;
        AF_CHECK_NC(ncrc, path, dims[d]);
        if ((long long)len != want[d])
            AF_FAIL(AF_EFORMAT, "'%s': dimension %s is %lld, this run needs %lld", path, dims[d],
                    (long long)len, want[d]);
    }
    char sha[80] = "";
    MPI_Offset alen = 0;
    int ncrc = ncmpi_inq_attlen(ncid, NC_GLOBAL, "config_sha256", &alen);
    if (ncrc == NC_NOERR && alen < (MPI_Offset)sizeof sha) ncrc = ncmpi_get_att_text(ncid, NC_GLOBAL, "config_sha256", sha);
    AF_CHECK_NC(ncrc, path, "config_sha256");
    if (strcmp(sha, l->config_sha256 ? l->config_sha256 : "") != 0)
        AF_FAIL(AF_EFORMAT, "'%s' was written for config %s, this run is %s", path, sha,
                l->config_sha256 ? l->config_sha256 : "");
    shard_vars *v = &ss->sh[k];
    for (size_t i = 0; i < l->ninputs + l->ntargets; i++) {
        const char *name = i < l->ninputs ? l->inputs[i].name : l->targets[i - l->ninputs].name;
        AF_CHECK_NC(ncmpi_inq_varid(ncid, name, &v->var[i]), path, name);
    }
    if (l->ninputs > 0) AF_CHECK_NC(ncmpi_inq_varid(ncid, "x_qc", &v->xqc), path, "x_qc");
    if (l->ntargets > 0) {
        AF_CHECK_NC(ncmpi_inq_varid(ncid, "y_qc", &v->yqc), path, "y_qc");
        AF_CHECK_NC(ncmpi_inq_varid(ncid, "y_valid", &v->yvalid), path, "y_valid");
    }
    /* the rank that digests and hashes the shard plans it from this header (shard_plan.c) */
    if (v->hasher) AF_CHECK(af__shard_plan_new(ncid, path, &v->plan, err));
cleanup:
    return rc;
}

int af_shardset_reopen_owned(MPI_Comm comm, const char *outdir, const af_layout *layout, size_t s0,
                             size_t ns, af_shardset **out, af_error *err)
{
    int rc = AF_OK;
    af_shardset *ss = NULL;
    AF_CHECK_ARG(out != NULL);
    *out = NULL;
    AF_CHECK(af__shardset_alloc(comm, outdir, layout, s0, ns, &ss, err));
    /* The files are the previous run's state: never remove them on a failed reopen. */
    ss->keep_partial = 1;
    for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < ss->nshards; k++) {
        if (!af__shard_turn(ss, k, pass)) continue;
        /* ncmpi_open is collective over the shard's ranks: every member tries, then they agree;
         * a failure does not stop them from opening their later shards (others wait there) */
        af_error e = AF_ERROR_INIT;
        reopen_one(ss, k, &e);
        af_error_sync(ss->sh[k].comm, &e);
        af__shard_keep_error(err, &e);
    }
    AF_CHECK(af_error_sync(ss->comm, err));
    *out = ss;
    ss = NULL;
cleanup:
    if (ss) af_shardset_destroy(&ss);
    return rc;
}

int af_shardset_reopen(MPI_Comm comm, const char *outdir, const af_layout *layout, af_shardset **out,
                       af_error *err)
{
    return af_shardset_reopen_owned(comm, outdir, layout, 0, layout ? layout->nsamples : 0, out, err);
}

/* Length of an optional dimension: 0 when absent. */
static int dim_len(int ncid, const char *name, int required, MPI_Offset *len, const char *path,
                   af_error *err)
{
    int rc = AF_OK, id;
    *len = 0;
    int ncrc = ncmpi_inq_dimid(ncid, name, &id);
    if (ncrc == NC_EBADDIM && !required) goto cleanup;
    AF_CHECK_NC(ncrc, path, name);
    AF_CHECK_NC(ncmpi_inq_dimlen(ncid, id, len), path, name);
cleanup:
    return rc;
}

/* The names of a role's variables: rows of the char coordinate variable `role` (malloc'd, n x width). */
static int read_names(int ncid, const char *role, MPI_Offset n, char **names, MPI_Offset *width,
                      const char *path, af_error *err)
{
    int rc = AF_OK, id, dims[2];
    char *raw = NULL;
    *names = NULL;
    AF_CHECK_NC(ncmpi_inq_varid(ncid, role, &id), path, role);
    AF_CHECK_NC(ncmpi_inq_vardimid(ncid, id, dims), path, role);
    AF_CHECK_NC(ncmpi_inq_dimlen(ncid, dims[1], width), path, role);
    raw = malloc((size_t)(n * *width) + 1);
    *names = calloc((size_t)(n * (*width + 1)) + 1, 1);
    AF_CHECK_ALLOC(raw);
    AF_CHECK_ALLOC(*names);
    MPI_Offset start[2] = { 0, 0 }, count[2] = { n, *width };
    AF_CHECK_NC(ncmpi_get_vara_text_all(ncid, id, start, count, raw), path, role);
    for (MPI_Offset i = 0; i < n; i++) memcpy(*names + i * (*width + 1), raw + i * *width, (size_t)*width);
cleanup:
    free(raw);
    return rc;
}

/* Rows [row, row+rows) x days [t0, t0+nt) of every (time, sample) variable of a role
 * into out[rows][nt][n], in the order of the role's coordinate variable. */
static int read_role(int ncid, const char *role, MPI_Offset n, size_t row, size_t rows, int t0, int nt,
                     float *out, const char *path, af_error *err)
{
    int rc = AF_OK, id;
    char *names = NULL;
    MPI_Offset width;
    AF_CHECK(read_names(ncid, role, n, &names, &width, path, err));
    for (MPI_Offset i = 0; i < n; i++) {
        const char *name = names + i * (width + 1);
        MPI_Offset start[2] = { t0, (MPI_Offset)row }, count[2] = { nt, (MPI_Offset)rows };
        MPI_Offset imap[2] = { n, (MPI_Offset)nt * n };
        AF_CHECK_NC(ncmpi_inq_varid(ncid, name, &id), path, name);
        AF_CHECK_NC(ncmpi_get_varm_float_all(ncid, id, start, count, NULL, imap, out + i), path, name);
    }
cleanup:
    free(names);
    return rc;
}

int af_shard_read_block(const char *path, size_t row, size_t rows, int t0, int nt, float *x, float *y,
                        af_error *err)
{
    int rc = AF_OK, ncid = -1;
    MPI_Offset ns, nd, ni, ntg;
    AF_CHECK_ARG(path != NULL && t0 >= 0 && nt >= 0);
    AF_CHECK_NC(ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid), path, "open");
    AF_CHECK(dim_len(ncid, "sample", 1, &ns, path, err));
    AF_CHECK(dim_len(ncid, "time", 1, &nd, path, err));
    AF_CHECK(dim_len(ncid, "input", 0, &ni, path, err));
    AF_CHECK(dim_len(ncid, "target", 0, &ntg, path, err));
    if ((MPI_Offset)(row + rows) > ns || t0 + nt > nd)
        AF_FAIL(AF_EINVAL, "'%s': rows %zu..%zu x days %d..%d outside %lld x %lld", path, row, row + rows,
                t0, t0 + nt, (long long)ns, (long long)nd);
    if (rows == 0 || nt == 0) goto cleanup;
    if (x && ni > 0) AF_CHECK(read_role(ncid, "input", ni, row, rows, t0, nt, x, path, err));
    if (y && ntg > 0) AF_CHECK(read_role(ncid, "target", ntg, row, rows, t0, nt, y, path, err));
cleanup:
    if (ncid >= 0) ncmpi_close(ncid);
    return rc;
}

/* Row `row` of a stacked (time, sample, n) variable into out[nd][n]. */
static int read_stacked(int ncid, const char *name, MPI_Offset n, MPI_Offset nd, size_t row, void *out,
                        int is_byte, const char *path, af_error *err)
{
    int rc = AF_OK, id;
    MPI_Offset start[3] = { 0, (MPI_Offset)row, 0 }, count[3] = { nd, 1, n };
    AF_CHECK_NC(ncmpi_inq_varid(ncid, name, &id), path, name);
    if (is_byte) AF_CHECK_NC(ncmpi_get_vara_schar_all(ncid, id, start, count, out), path, name);
    else AF_CHECK_NC(ncmpi_get_vara_float_all(ncid, id, start, count, out), path, name);
cleanup:
    return rc;
}

int af_shard_read_row(const char *path, size_t row, float *x, float *xqc, float *y,
                      unsigned char *yvalid, float *yqc, af_error *err)
{
    int rc = AF_OK, ncid = -1;
    MPI_Offset ns, nd, ni, ntg;
    AF_CHECK_ARG(path != NULL);
    AF_CHECK_NC(ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid), path, "open");
    AF_CHECK(dim_len(ncid, "sample", 1, &ns, path, err));
    AF_CHECK(dim_len(ncid, "time", 1, &nd, path, err));
    AF_CHECK(dim_len(ncid, "input", 0, &ni, path, err));
    AF_CHECK(dim_len(ncid, "target", 0, &ntg, path, err));
    if ((MPI_Offset)row >= ns)
        AF_FAIL(AF_EINVAL, "'%s': row %zu outside 0..%lld", path, row, (long long)ns - 1);
    if (x && ni > 0) AF_CHECK(read_role(ncid, "input", ni, row, 1, 0, (int)nd, x, path, err));
    if (xqc && ni > 0) AF_CHECK(read_stacked(ncid, "x_qc", ni, nd, row, xqc, 0, path, err));
    if (y && ntg > 0) AF_CHECK(read_role(ncid, "target", ntg, row, 1, 0, (int)nd, y, path, err));
    if (yvalid && ntg > 0) AF_CHECK(read_stacked(ncid, "y_valid", ntg, nd, row, yvalid, 1, path, err));
    if (yqc && ntg > 0) AF_CHECK(read_stacked(ncid, "y_qc", ntg, nd, row, yqc, 0, path, err));
cleanup:
    if (ncid >= 0) ncmpi_close(ncid);
    return rc;
}
