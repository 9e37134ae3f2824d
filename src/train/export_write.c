/* SPDX-License-Identifier: MIT */
/*
 * export_write.c: the array writers of the AgroFlux export. County arrays
 * (days, samples, k) are written collectively with MPI-IO: each rank reads a
 * contiguous run of the global (shard) order a year at a time (with
 * AF_EXPORT_GAP + 1 days either side, so the gap fill sees whole gaps), fills
 * it once (export_fill.c), and writes each of its samples' rows at the
 * sample's AgroFlux position (county list position x scenario, export_impl.h
 * pos[]) into every file of every experiment through an indexed file view at
 * the offset the .npy header fixes. pos[] is a permutation and the ranks' runs
 * partition the samples, so every byte is written exactly once and the bytes
 * do not depend on the rank count; files are written under .partial names and
 * renamed by rank 0 only once every file is complete (and, with --missing
 * error, only when nothing is missing). Masks do not depend on the scalers:
 * written once, hard-linked into the other experiments. Site files are small
 * and written whole by the rank that owns the site (af_write_atomic).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_check.h"
#include "af_util.h"
#include "export_impl.h"

float af__export_scale(float v, double mean, double std)
{
    if (!isfinite(v) || !isfinite(mean) || !isfinite(std)) return NAN;
    double d = (double)v - mean;
    return (float)(std > 0.0 ? d / std : d);
}

/* Little-endian float32 in place (no-op on little-endian hosts, which is all we build on). */
static void to_le(float *buf, size_t n)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    if (first == 1) return;
    for (size_t i = 0; i < n; i++) {
        unsigned char *b = (unsigned char *)&buf[i], t;
        t = b[0]; b[0] = b[3]; b[3] = t;
        t = b[1]; b[1] = b[2]; b[2] = t;
    }
}

/* This rank's county samples [s0, s0+ns) sorted by AgroFlux position: ent[q] = local sample index. */
typedef struct row_ent {
    size_t pos, s;
} row_ent;

static int cmp_ent(const void *a, const void *b)
{
    const row_ent *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Filetype of one block of nt days: for each day, this rank's rows (runs of consecutive AgroFlux
 * positions) of k elements, at displacements (t * ncounty + pos) * k elements from the block start. */
static int block_type(const af_export *e, const row_ent *ent, size_t ns, int nt, int k, MPI_Datatype et,
                      MPI_Datatype *ft, af_error *err)
{
    int rc = AF_OK;
    size_t nruns = 0, nc = e->ncounty;
    int *blen = NULL, *disp = NULL;
    for (size_t q = 0; q < ns; q++) nruns += q == 0 || ent[q].pos != ent[q - 1].pos + 1;
    blen = malloc((nruns * (size_t)nt + 1) * sizeof *blen);
    disp = malloc((nruns * (size_t)nt + 1) * sizeof *disp);
    AF_CHECK_ALLOC(blen);
    AF_CHECK_ALLOC(disp);
    size_t m = 0;
    for (int t = 0; t < nt; t++)
        for (size_t q = 0; q < ns;) {
            size_t r = q + 1;
            while (r < ns && ent[r].pos == ent[r - 1].pos + 1) r++;
            disp[m] = (int)(((size_t)t * nc + ent[q].pos) * (size_t)k);
            blen[m++] = (int)((r - q) * (size_t)k);
            q = r;
        }
    AF_CHECK_MPI(MPI_Type_indexed((int)m, blen, disp, et, ft));
    AF_CHECK_MPI(MPI_Type_commit(ft));
cleanup:
    free(blen);
    free(disp);
    return rc;
}

/* One array file being written: an experiment's scaled array (exp >= 0) or a shared mask (exp < 0). */
typedef struct t0_file {
    int is_x, k, exp;
    int cols[AF_Y_N];            /* index column per file column, -1: absent target */
    char path[4400], tmp[4500];
    size_t hl;
    MPI_File fh;
} t0_file;

/* Write this rank's rows of days [t0, t0+nt) at their AgroFlux positions (collective). */
static int write_block(af_export *e, t0_file *f, const row_ent *ent, size_t ns, int t0, int nt, const void *buf,
                       af_error *err)
{
    int rc = AF_OK;
    MPI_Datatype ft = MPI_DATATYPE_NULL, et = f->exp < 0 ? MPI_UNSIGNED_CHAR : MPI_FLOAT;
    MPI_Offset es = f->exp < 0 ? 1 : 4;
    MPI_Offset at = (MPI_Offset)f->hl + (MPI_Offset)t0 * (MPI_Offset)e->ncounty * (MPI_Offset)f->k * es;
    if (ns > 0) {
        AF_CHECK(block_type(e, ent, ns, nt, f->k, et, &ft, err));
        AF_CHECK_MPI(MPI_File_set_view(f->fh, at, et, ft, "native", MPI_INFO_NULL));
    } else {
        AF_CHECK_MPI(MPI_File_set_view(f->fh, (MPI_Offset)f->hl, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    }
    AF_CHECK_MPI(MPI_File_write_all(f->fh, buf, (int)(ns * (size_t)nt * (size_t)f->k), et, MPI_STATUS_IGNORE));
cleanup:
    if (ft != MPI_DATATYPE_NULL) MPI_Type_free(&ft);
    return rc;
}

/* The files of the t0 arrays: per experiment X, the four modules, Combined; masks once (fill). */
static size_t plan_files(af_export *e, t0_file *fs)
{
    const char *sub = e->opts->subset;
    size_t n = 0;
    for (int x = -1; x < e->nexp; x++) {
        if (x < 0 && e->missing != AF_MISS_FILL) continue;
        const char *root = e->exp[x < 0 ? 0 : x].dest;
        for (int m = -1; m <= AF_NMODULES; m++) {
            t0_file *f = &fs[n++];
            memset(f, 0, sizeof *f);
            f->exp = x;
            f->fh = MPI_FILE_NULL;
            f->is_x = m < 0;
            if (m < 0) {
                f->k = AF_X_N;
                memcpy(f->cols, e->xcol, sizeof e->xcol);
                snprintf(f->path, sizeof f->path, "%s/data_files/t0_%s/X_%s_%s.npy", root, sub, sub, x < 0 ? "mask" : "scaled");
            } else if (m == AF_NMODULES) {
                f->k = AF_COMB_N;
                memcpy(f->cols, e->comb, sizeof e->comb);
            } else {
                int k0 = 0;
                for (int i = 0; i < m; i++) k0 += af__agx_module_size[i];
                f->k = af__agx_module_size[m];
                memcpy(f->cols, e->ycol + k0, (size_t)f->k * sizeof(int));
            }
            if (m >= 0)
                snprintf(f->path, sizeof f->path, "%s/data_files/t0_%s/Y_%s_%s_%s.npy", root, sub, sub,
                         x < 0 ? "mask" : "scaled", m == AF_NMODULES ? "Combined" : af__agx_modules[m]);
        }
    }
    return n;
}

static int open_file(af_export *e, t0_file *f, af_error *err)
{
    int rc = AF_OK;
    char hdr[256];
    size_t shape[3] = { (size_t)e->idx.ndays, e->ncounty, (size_t)f->k };
    f->hl = af__npy_header(hdr, sizeof hdr, f->exp < 0 ? "|u1" : "<f4", shape, 3);
    snprintf(f->tmp, sizeof f->tmp, "%s.partial", f->path);
    if (e->rank == 0) unlink(f->tmp);
    AF_CHECK_MPI(MPI_Barrier(e->comm));
    if (MPI_File_open(e->comm, f->tmp, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &f->fh) != MPI_SUCCESS) {
        f->fh = MPI_FILE_NULL;
        AF_FAIL(AF_EIO, "cannot create '%s': MPI_File_open failed (is the destination writable?)", f->tmp);
    }
    if (e->rank == 0) AF_CHECK_MPI(MPI_File_write_at(f->fh, 0, hdr, (int)f->hl, MPI_CHAR, MPI_STATUS_IGNORE));
cleanup:
    return rc;
}

/* out[nt][ns][k] of file f from the filled block (AgroFlux position order), scaled with its experiment's
 * scalers in the export's sign; a mask file gets 1 where observed. Cells left for the mean: 0. */
static void fill_out(const af_export *e, const t0_file *f, const float *x, const float *y, const unsigned char *st,
                     size_t L, size_t m0, const row_ent *ent, size_t ns, int nt, void *out)
{
    size_t ni = e->idx.ninputs, nt_ = e->idx.ntargets, nv = ni + nt_;
    float *o = out;
    unsigned char *ob = out;
    const af_export_exp *x_ = f->exp >= 0 ? &e->exp[f->exp] : NULL;
    for (int t = 0; t < nt; t++)
        for (size_t q = 0; q < ns; q++)
            for (int c = 0; c < f->k; c++) {
                size_t s = ent[q].s, at = ((size_t)t * ns + q) * (size_t)f->k + (size_t)c;
                int j = f->cols[c];
                size_t var = j < 0 ? 0 : f->is_x ? (size_t)j : ni + (size_t)j;
                unsigned char state = j < 0 ? 2 : st[(s * (size_t)nt + (size_t)t) * nv + var];
                if (!x_) {
                    ob[at] = state == 0;
                    continue;
                }
                if (j < 0) {
                    o[at] = e->missing == AF_MISS_FILL ? 0.0f : NAN;
                    continue;
                }
                float v = f->is_x ? x[(s * L + m0 + (size_t)t) * ni + (size_t)j] : y[(s * L + m0 + (size_t)t) * nt_ + (size_t)j];
                if (state == 2 && e->missing == AF_MISS_FILL) {
                    o[at] = 0.0f;
                    continue;
                }
                if (e->negate[var]) v = -v;
                o[at] = af__export_scale(v, x_->mean[var], x_->std[var]);
            }
    if (x_) to_le(o, (size_t)nt * ns * (size_t)f->k);
}

/* Fill this rank's block in place: every exported variable of every sample, days [m0, m0+nt) of the
 * window of L days; state[s][t][var]. */
static void fill_block(af_export *e, float *x, float *y, size_t ns, size_t L, size_t m0, int nt, unsigned char *st)
{
    size_t ni = e->idx.ninputs, ntg = e->idx.ntargets, nv = ni + ntg;
    int fill = e->missing == AF_MISS_FILL;
    for (size_t s = 0; s < ns; s++) {
        for (int c = 0; c < AF_X_N; c++) {
            size_t j = (size_t)e->xcol[c];
            af__export_fill(x + s * L * ni + j, L, ni, m0, m0 + (size_t)nt, fill, st + s * (size_t)nt * nv + j, nv,
                            e->miss + 2 * j);
        }
        for (int c = 0; c < AF_Y_N; c++) {
            if (e->ycol[c] < 0) continue;
            size_t j = (size_t)e->ycol[c];
            af__export_fill(y + s * L * ntg + j, L, ntg, m0, m0 + (size_t)nt, fill, st + s * (size_t)nt * nv + ni + j,
                            nv, e->miss + 2 * (ni + j));
        }
    }
}

/* Rank 0: rename every file into place (masks hard-linked into the other experiments), or remove them. */
static int finish_files(af_export *e, t0_file *fs, size_t nf, int keep, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < nf; i++) {
        if (!keep) { unlink(fs[i].tmp); continue; }
        AF_CHECK(af_fsync_path(fs[i].tmp, err));
        AF_CHECK(af_rename_durable(fs[i].tmp, fs[i].path, err));
        if (fs[i].exp >= 0) continue;
        for (int x = 1; x < e->nexp; x++) {
            char link_to[4400];
            const char *rel = fs[i].path + strlen(e->exp[0].dest);
            snprintf(link_to, sizeof link_to, "%s%s", e->exp[x].dest, rel);
            unlink(link_to);
            if (link(fs[i].path, link_to) != 0)
                AF_FAIL(AF_EIO, "cannot link '%s' to '%s': %s", link_to, fs[i].path, strerror(errno));
        }
    }
cleanup:
    return rc;
}

int af__export_t0(af_export *e, af_error *err)
{
    int rc = AF_OK, ndays = e->idx.ndays;
    size_t nc = e->ncounty, s0 = nc * (size_t)e->rank / (size_t)e->size;
    size_t ns = nc * (size_t)(e->rank + 1) / (size_t)e->size - s0, nf = 0;
    size_t ni = e->idx.ninputs, nt = e->idx.ntargets, nv = ni + nt, M = AF_EXPORT_GAP + 1, W = 365 + 2 * M;
    t0_file *fs = calloc((size_t)(e->nexp + 1) * (AF_NMODULES + 2), sizeof *fs);
    float *x = malloc((ns * W * ni + 1) * sizeof *x), *y = malloc((ns * W * nt + 1) * sizeof *y);
    unsigned char *st = malloc(ns * 365 * nv + 1);
    void *out = malloc((ns * 365 * AF_Y_N + 1) * 4);
    row_ent *ent = malloc((ns + 1) * sizeof *ent);
    if (!fs || !x || !y || !st || !out || !ent) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    AF_CHECK(af_error_sync(e->comm, err));
    if ((double)nc * 365.0 * AF_Y_N > (double)INT_MAX)
        AF_FAIL(AF_EINVAL, "%zu county samples: a year of the array exceeds the MPI-IO limit", nc);
    nf = plan_files(e, fs);
    for (size_t i = 0; i < nf; i++) AF_CHECK(open_file(e, &fs[i], err));
    /* the rows this rank reads (a contiguous run of the global order) and where AgroFlux puts them */
    for (size_t s = 0; s < ns; s++) {
        ent[s].pos = e->pos[s0 + s];
        ent[s].s = s;
    }
    qsort(ent, ns, sizeof *ent, cmp_ent);
    for (int t0 = 0; t0 < ndays; t0 += 365) {
        int len = ndays - t0 < 365 ? ndays - t0 : 365;
        int w0 = t0 >= (int)M ? t0 - (int)M : 0, w1 = t0 + len + (int)M <= ndays ? t0 + len + (int)M : ndays;
        size_t L = (size_t)(w1 - w0), m0 = (size_t)(t0 - w0);
        if (ns > 0) af__train_read(&e->view, s0, ns, w0, (int)L, x, y, err);
        AF_CHECK(af_error_sync(e->comm, err));
        fill_block(e, x, y, ns, L, m0, len, st);
        for (size_t i = 0; i < nf; i++) {
            fill_out(e, &fs[i], x, y, st, L, m0, ent, ns, len, out);
            AF_CHECK(write_block(e, &fs[i], ent, ns, t0, len, out, err));
        }
    }
    for (size_t i = 0; i < nf; i++) AF_CHECK_MPI(MPI_File_close(&fs[i].fh));
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, e->miss, (int)(2 * nv), MPI_UNSIGNED_LONG_LONG, MPI_SUM, e->comm));
    int keep = 1;
    /* --missing error: the county cells counted here and the site inputs counted before (site_flags) */
    for (size_t j = 0; j < 2 * nv && e->missing == AF_MISS_ERROR; j++) keep &= e->miss[j] == 0 && e->miss_site[j] == 0;
    for (int c = 0; c < AF_Y_N && e->missing == AF_MISS_ERROR; c++) keep &= e->ycol[c] >= 0;
    if (e->rank == 0) finish_files(e, fs, nf, keep, err);
    AF_CHECK(af_error_sync(e->comm, err));
    if (!keep) {
        char rep[4096];
        af__export_report(e, rep, sizeof rep);
        AF_FAIL(AF_EINVAL, "--missing error: missing cells (nothing written):\n%s"
                "(--missing fill fills them, --missing keep keeps NaN)", rep);
    }
cleanup:
    for (size_t i = 0; i < nf; i++)
        if (fs[i].fh != MPI_FILE_NULL) MPI_File_close(&fs[i].fh);
    free(fs);
    free(x);
    free(y);
    free(st);
    free(out);
    free(ent);
    return rc;
}

