/* SPDX-License-Identifier: MIT */
/*
 * shard.c: implements the shardset of agroflux/output.h with PnetCDF. Shard k
 * holds global samples [k*S, min((k+1)*S, N)); a rank opens only the shards
 * holding samples it writes, each on a communicator of the ranks that write it
 * (shard_comm.c), and keeps them open for the run. Headers and static
 * variables are written by the shard's lead rank; data blocks are transposed
 * into the file's order and written by nonblocking iput + wait.
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
        /* header: fixed part, ~20 variables, one variable with attributes per feature */
        long long header = 2560 + (ni + nt) * 640; /* a variable with ~12 attributes per feature */
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
    AF_CHECK(af__shard_check_names(l, err));
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
    ss->var_ids = malloc((ss->nshards * (layout->ninputs + layout->ntargets) + 1) * sizeof *ss->var_ids);
    AF_CHECK_ALLOC(ss->var_ids);
    for (size_t k = 0; k < ss->nshards; k++)
        ss->sh[k] = (shard_vars){ .ncid = -1, .var = ss->var_ids + k * (layout->ninputs + layout->ntargets),
                                  .xqc = -1, .yqc = -1, .yvalid = -1, .comm = MPI_COMM_NULL };
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
    af__shard_define(ss, k, path, err);
    AF_CHECK(af_error_sync(comm, err));
    /* Once the header is defined, the rank that digests and hashes the shard plans where its bytes
     * lie, so checkpoints and the seal read them without opening the shard again (shard_plan.c). */
    ncrc = ncmpi__enddef(ss->sh[k].ncid, 0, AF_NC_VALIGN, 0, AF_NC_RALIGN);
    if (ncrc != NC_NOERR)
        af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': enddef: %s", path,
                     ncmpi_strerror(ncrc));
    else if (ss->sh[k].hasher)
        af__shard_plan_new(ss->sh[k].ncid, path, &ss->sh[k].plan, err);
    AF_CHECK(af_error_sync(comm, err));
    /* The shard's lead rank writes static variables; every member brackets independent mode. */
    int lrc = AF_OK;
    int ncrc2 = ncmpi_begin_indep_data(ss->sh[k].ncid);
    if (ncrc2 != NC_NOERR)
        lrc = af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': begin_indep_data: %s",
                           path, ncmpi_strerror(ncrc2));
    if (lrc == AF_OK && ss->sh[k].lead) lrc = af__shard_write_statics(ss, k, path, err);
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
    for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < ss->nshards; k++) {
        if (!af__shard_turn(ss, k, pass)) continue;
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

/* The caller's block is dense [ns][nt][nv] (sample, day, component); a file variable is (time,
 * sample) or (time, sample, nv). Each shard's part is transposed here into the file's order, so
 * every iput is one contiguous buffer: PnetCDF's mapped puts (imap) packed element by element
 * through an MPI datatype, which cost more than the write itself. */

/* Component i of src[rows][nt][nv] into dst[nt][rows]; NaN everywhere when src is NULL. */
static void transpose_comp(const float *src, size_t rows, size_t nt, size_t nv, size_t i, float *dst)
{
    for (size_t t = 0; t < nt; t++) {
        float *o = dst + t * rows;
        if (!src) {
            for (size_t r = 0; r < rows; r++) o[r] = NAN;
            continue;
        }
        const float *in = src + t * nv + i;
        for (size_t r = 0; r < rows; r++) o[r] = in[r * nt * nv];
    }
}

/* src[rows][nt][nv] into dst[nt][rows][nv] (elements of esz bytes); NaN floats when src is NULL. */
static void transpose_rows(const void *src, size_t rows, size_t nt, size_t nv, size_t esz, void *dst)
{
    size_t row = nv * esz;
    for (size_t t = 0; t < nt; t++) {
        unsigned char *o = (unsigned char *)dst + t * rows * row;
        if (!src) {
            for (size_t k = 0; k < rows * nv; k++) ((float *)(void *)o)[k] = NAN;
            continue;
        }
        for (size_t r = 0; r < rows; r++) memcpy(o + r * row, (const unsigned char *)src + (r * nt + t) * row, row);
    }
}

/* Scratch for one block's transposed values (kept between blocks). */
static int scratch_reserve(af_shardset *ss, size_t bytes, af_error *err)
{
    int rc = AF_OK;
    if (bytes <= ss->scratch_cap) goto cleanup;
    void *nb = realloc(ss->scratch, bytes);
    AF_CHECK_ALLOC(nb);
    ss->scratch = nb;
    ss->scratch_cap = bytes;
cleanup:
    return rc;
}

/* Post this rank's iput requests for samples [s0, s0+ns) x days [t0, t0+nt); the transposed
 * values stay in ss->scratch until the wait. */
static int post_block(af_shardset *ss, size_t s0, size_t ns, int t0, int nt, const float *x,
                      const float *xqc, const float *y, const unsigned char *yvalid, const float *yqc,
                      af_error *err)
{
    int rc = AF_OK;
    const af_layout *l = &ss->layout;
    size_t S = l->shard_samples, ni = l->ninputs, ntg = l->ntargets, cells = ns * (size_t)nt;
    char path[64];
    if (ns == 0 || nt == 0) goto cleanup;
    /* floats, then each shard's y_valid bytes padded to a float boundary (at most ns / S + 2 shards) */
    AF_CHECK(scratch_reserve(ss, cells * (2 * ni + 2 * ntg) * sizeof(float) + cells * ntg +
                                     (ns / S + 2) * sizeof(float), err));
    float *f = ss->scratch;
    for (size_t k = s0 / S; k <= (s0 + ns - 1) / S; k++) {
        size_t lo = s0 > k * S ? s0 : k * S;
        size_t hi = (s0 + ns) < (k + 1) * S ? s0 + ns : (k + 1) * S, rows = hi - lo;
        size_t off = (lo - s0) * (size_t)nt, n = rows * (size_t)nt; /* cells before / of this overlap */
        int ncid = ss->sh[k].ncid;
        const int *var = ss->sh[k].var;
        af__shard_name(k, 1, path, sizeof path);
        MPI_Offset start[3] = { t0, (MPI_Offset)(lo - k * S), 0 };
        MPI_Offset count[3] = { nt, (MPI_Offset)rows, 0 };
        for (size_t i = 0; i < ni; i++, f += n) {
            transpose_comp(x + off * ni, rows, (size_t)nt, ni, i, f);
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, var[i], start, count, f, NULL), path, l->inputs[i].name);
        }
        for (size_t i = 0; i < ntg; i++, f += n) {
            transpose_comp(y + off * ntg, rows, (size_t)nt, ntg, i, f);
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, var[ni + i], start, count, f, NULL), path, l->targets[i].name);
        }
        if (ni > 0) {
            count[2] = (MPI_Offset)ni;
            transpose_rows(xqc ? xqc + off * ni : NULL, rows, (size_t)nt, ni, sizeof(float), f);
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, ss->sh[k].xqc, start, count, f, NULL), path, "iput x_qc");
            f += n * ni;
        }
        if (ntg > 0) {
            count[2] = (MPI_Offset)ntg;
            transpose_rows(yqc + off * ntg, rows, (size_t)nt, ntg, sizeof(float), f);
            AF_CHECK_NC(ncmpi_iput_vara_float(ncid, ss->sh[k].yqc, start, count, f, NULL), path, "iput y_qc");
            f += n * ntg;
            signed char *b = (signed char *)(void *)f;
            transpose_rows(yvalid + off * ntg, rows, (size_t)nt, ntg, 1, b);
            AF_CHECK_NC(ncmpi_iput_vara_schar(ncid, ss->sh[k].yvalid, start, count, b, NULL), path, "iput y_valid");
            f += (n * ntg + sizeof(float) - 1) / sizeof(float); /* the next shard's floats stay aligned */
        }
    }
cleanup:
    return rc;
}

/* Complete this rank's requests on shard k (collective over the shard's ranks). A shard that one
 * rank writes alone waits in independent mode: MPI-IO then writes the rank's pieces straight from
 * PnetCDF's buffer instead of going through collective buffering. */
static int wait_shard(af_shardset *ss, size_t k)
{
    int ncid = ss->sh[k].ncid, n = 0;
    MPI_Comm_size(ss->sh[k].comm, &n);
    if (n > 1) return ncmpi_wait_all(ncid, NC_REQ_ALL, NULL, NULL);
    int ncrc = ncmpi_begin_indep_data(ncid);
    if (ncrc != NC_NOERR) return ncrc;
    ncrc = ncmpi_wait(ncid, NC_REQ_ALL, NULL, NULL);
    int ncrc2 = ncmpi_end_indep_data(ncid);
    return ncrc != NC_NOERR ? ncrc : ncrc2;
}

int af_shardset_write_block(af_shardset *ss, size_t s0, size_t ns, int t0, int nt,
                            const float *x, const float *xqc, const float *y,
                            const unsigned char *yvalid, const float *yqc, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(ss != NULL && !ss->finished);
    AF_CHECK_ARG(t0 >= 0 && nt >= 0 && t0 + nt <= ss->ndays);
    AF_CHECK_ARG(s0 + ns <= ss->layout.nsamples);
    AF_CHECK_ARG(ns == 0 || nt == 0 || ss->layout.ninputs == 0 || x != NULL);
    AF_CHECK_ARG(ns == 0 || nt == 0 || ss->layout.ntargets == 0 ||
                 (y != NULL && yvalid != NULL && yqc != NULL));
    if (ns > 0 && (s0 < ss->own_begin || s0 + ns > ss->own_end))
        AF_FAIL(AF_EINVAL, "samples %zu..%zu are not this rank's (%zu..%zu, given at create)", s0, s0 + ns,
                ss->own_begin, ss->own_end);

    /* No input QC given (xqc NULL): the block's x_qc cells are NaN ("the source reports none"). */
    /* A local failure must not skip the collective wait_all calls below: every member of a
     * shard waits on it, with or without requests. */
    int lrc = post_block(ss, s0, ns, t0, nt, x, xqc, y, yvalid, yqc, err);
    for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < ss->nshards; k++) {
        if (!af__shard_turn(ss, k, pass)) continue;
        int ncrc = wait_shard(ss, k);
        if (ncrc != NC_NOERR && lrc == AF_OK) {
            char name[64];
            af__shard_name(k, 1, name, sizeof name);
            lrc = af_error_set(err, AF_ENC, __FILE__, __LINE__, __func__, "'%s': wait_all: %s", name,
                               ncmpi_strerror(ncrc));
        }
    }
    /* No writeback is started here: the kernel's flusher writes the pages in the background, and
     * a checkpoint or the seal fsyncs what is left. Starting each block's writeback
     * (sync_file_range) blocked in the submission, and wrote each shard as the block's ~40 small
     * extents: 0.09 s more in write + finish on 1 and on 2 ranks (bench_scale pipeline, checkpoints
     * once a minute). The seal still starts every shard's writeback before it hashes. */
    AF_CHECK(af_error_sync(ss->comm, err));
cleanup:
    return rc;
}

void af_shardset_destroy(af_shardset **ssp)
{
    if (!ssp || !*ssp) return;
    af_shardset *ss = *ssp;
    for (int pass = 0; pass < 2; pass++) /* the shared shards first (af__shard_turn), then any left */
    for (size_t k = 0; k < ss->nshards; k++) {
        if (pass == 0 && !af__shard_turn(ss, k, 0)) continue;
        if (ss->sh[k].ncid >= 0) ncmpi_close(ss->sh[k].ncid); /* collective over the shard's ranks */
        ss->sh[k].ncid = -1;
        af__shard_plan_free(&ss->sh[k].plan);
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
    free(ss->var_ids);
    free(ss->scratch);
    free(ss);
    *ssp = NULL;
}

