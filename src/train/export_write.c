/* SPDX-License-Identifier: MIT */
/*
 * export_write.c: the array writers of the AgroFlux export. County arrays
 * (days, samples, k) are written collectively with MPI-IO: each rank reads a
 * contiguous run of the global (shard) order and writes each of its samples'
 * rows at the sample's AgroFlux position (county list position x scenario,
 * export_impl.h pos[]), a year at a time through an indexed file view at the
 * offset the .npy header fixes. pos[] is a permutation and the ranks' runs
 * partition the samples, so every byte is written exactly once and the bytes
 * do not depend on the rank count; the file is written under a .partial name,
 * fsynced and renamed by rank 0. Site files are small and written whole by
 * the rank that owns the site (af_write_atomic).
 */
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
 * positions) of k floats, at displacements (t * ncounty + pos) * k floats from the block start. */
static int block_type(const af_export *e, const row_ent *ent, size_t ns, int nt, int k, MPI_Datatype *ft,
                      af_error *err)
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
    AF_CHECK_MPI(MPI_Type_indexed((int)m, blen, disp, MPI_FLOAT, ft));
    AF_CHECK_MPI(MPI_Type_commit(ft));
cleanup:
    free(blen);
    free(disp);
    return rc;
}

/* Write this rank's rows of days [t0, t0+nt) at their AgroFlux positions (collective). */
static int write_block(af_export *e, MPI_File fh, size_t hl, const row_ent *ent, size_t ns, int t0, int nt, int k,
                       const float *buf, af_error *err)
{
    int rc = AF_OK;
    MPI_Datatype ft = MPI_DATATYPE_NULL;
    MPI_Offset at = (MPI_Offset)hl + (MPI_Offset)t0 * (MPI_Offset)e->ncounty * (MPI_Offset)k * 4;
    if (ns > 0) {
        AF_CHECK(block_type(e, ent, ns, nt, k, &ft, err));
        AF_CHECK_MPI(MPI_File_set_view(fh, at, MPI_FLOAT, ft, "native", MPI_INFO_NULL));
    } else {
        AF_CHECK_MPI(MPI_File_set_view(fh, (MPI_Offset)hl, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    }
    AF_CHECK_MPI(MPI_File_write_all(fh, buf, (int)(ns * (size_t)nt * (size_t)k), MPI_FLOAT, MPI_STATUS_IGNORE));
cleanup:
    if (ft != MPI_DATATYPE_NULL) MPI_Type_free(&ft);
    return rc;
}

/* Fill out[nt][ns][k] from this rank's rows in AgroFlux position order, in the export's sign,
 * scaled with the county scalers (whose means are already in that sign). */
static void reorder(const af_export *e, const float *src, size_t nvar, const row_ent *ent, size_t ns, int nt,
                    int is_x, const int *cols, int k, float *out)
{
    for (int t = 0; t < nt; t++)
        for (size_t q = 0; q < ns; q++)
            for (int c = 0; c < k; c++) {
                size_t j = (size_t)cols[c], s = ent[q].s;
                float v = src[(s * (size_t)nt + (size_t)t) * nvar + j];
                size_t var = is_x ? j : e->idx.ninputs + j;
                if (e->negate[var]) v = -v;
                out[((size_t)t * ns + q) * (size_t)k + (size_t)c] = af__export_scale(v, e->t0_mean[var], e->t0_std[var]);
            }
}

int af__export_t0_file(af_export *e, const char *rel, int is_x, const int *cols, int k, af_error *err)
{
    int rc = AF_OK, frc;
    MPI_File fh = MPI_FILE_NULL;
    char path[4400], tmp[4500], hdr[256];
    float *raw = NULL, *out = NULL;
    row_ent *ent = NULL;
    size_t nc = e->ncounty, s0 = nc * (size_t)e->rank / (size_t)e->size;
    size_t ns = nc * (size_t)(e->rank + 1) / (size_t)e->size - s0;
    size_t nvar = is_x ? e->idx.ninputs : e->idx.ntargets;
    int ndays = e->idx.ndays;
    size_t shape[3] = { (size_t)ndays, nc, (size_t)k };
    size_t hl = af__npy_header(hdr, sizeof hdr, "<f4", shape, 3);
    if ((double)nc * 365.0 * (double)k > (double)INT_MAX)
        AF_FAIL(AF_EINVAL, "%zu county samples x %d columns: a year of the array exceeds the MPI-IO limit", nc, k);
    snprintf(path, sizeof path, "%s/%s", e->dest, rel);
    snprintf(tmp, sizeof tmp, "%s.partial", path);
    if (e->rank == 0) unlink(tmp);
    AF_CHECK_MPI(MPI_Barrier(e->comm));
    frc = MPI_File_open(e->comm, tmp, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
    if (frc != MPI_SUCCESS) AF_FAIL(AF_EIO, "cannot create '%s' (is the destination writable?)", tmp);
    if (e->rank == 0) AF_CHECK_MPI(MPI_File_write_at(fh, 0, hdr, (int)hl, MPI_CHAR, MPI_STATUS_IGNORE));
    raw = malloc((ns * 366 * nvar + 1) * sizeof *raw);
    out = malloc((ns * 366 * (size_t)k + 1) * sizeof *out);
    ent = malloc((ns + 1) * sizeof *ent);
    if (!raw || !out || !ent) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    AF_CHECK(af_error_sync(e->comm, err));
    /* the rows this rank reads (a contiguous run of the global order) and where AgroFlux puts them */
    for (size_t s = 0; s < ns; s++) {
        ent[s].pos = e->pos[s0 + s];
        ent[s].s = s;
    }
    qsort(ent, ns, sizeof *ent, cmp_ent);
    for (int t0 = 0; t0 < ndays; t0 += 365) {
        int nt = ndays - t0 < 365 ? ndays - t0 : 365;
        if (ns > 0) af__train_read(&e->view, s0, ns, t0, nt, is_x ? raw : NULL, is_x ? NULL : raw, err);
        AF_CHECK(af_error_sync(e->comm, err));
        reorder(e, raw, nvar, ent, ns, nt, is_x, cols, k, out);
        to_le(out, ns * (size_t)nt * (size_t)k);
        AF_CHECK(write_block(e, fh, hl, ent, ns, t0, nt, k, out, err));
    }
    AF_CHECK_MPI(MPI_File_close(&fh));
    if (e->rank == 0 && af_fsync_path(tmp, err) == AF_OK) af_rename_durable(tmp, path, err);
    AF_CHECK(af_error_sync(e->comm, err));
cleanup:
    if (fh != MPI_FILE_NULL) MPI_File_close(&fh);
    free(raw);
    free(out);
    free(ent);
    return rc;
}

/* One site's files: X (days,1,11)/(365,years,11) and Y with the given target columns. */
static int site_files(af_export *e, size_t g, int chamber, const int *tcols, int nt, size_t num, af_error *err)
{
    int rc = AF_OK;
    size_t nd = (size_t)e->idx.ndays, ni = e->idx.ninputs, ntg = e->idx.ntargets, ny = (size_t)e->nyears;
    float *x = NULL, *y = NULL, *ox = NULL, *oy = NULL;
    char path[4400];
    x = malloc((nd * ni + 1) * sizeof *x);
    y = malloc((nd * ntg + 1) * sizeof *y);
    ox = malloc((nd * AF_X_N + 1) * sizeof *ox);
    oy = malloc((nd * (size_t)nt + 1) * sizeof *oy);
    AF_CHECK_ALLOC(x);
    AF_CHECK_ALLOC(y);
    AF_CHECK_ALLOC(ox);
    AF_CHECK_ALLOC(oy);
    AF_CHECK(af__train_read(&e->view, g, 1, 0, (int)nd, x, y, err));
    for (size_t t = 0; t < nd; t++) {
        /* towers: row t; chambers: day-of-year d = t % 365, year column t / 365 */
        size_t o = chamber ? (t % 365) * ny + t / 365 : t;
        for (int c = 0; c < AF_X_N; c++) {
            size_t j = (size_t)e->xcol[c];
            ox[o * AF_X_N + (size_t)c] = af__export_scale(x[t * ni + j], e->t1_mean[j], e->t1_std[j]);
        }
        for (int c = 0; c < nt; c++) {
            size_t j = (size_t)tcols[c];
            oy[o * (size_t)nt + (size_t)c] = af__export_scale(y[t * ntg + j], e->t1_mean[ni + j], e->t1_std[ni + j]);
        }
    }
    size_t sx[3] = { chamber ? 365 : nd, chamber ? ny : 1, AF_X_N }, sy[3] = { sx[0], sx[1], (size_t)nt };
    snprintf(path, sizeof path, chamber ? "%s/data_files/t1_n2o/X_real_scaled_%zu.npy"
                                        : "%s/data_files/t1_co2/X_real_scaled_ECfluxnet_%zu.npy", e->dest, num);
    AF_CHECK(af__npy_write_f32(path, ox, sx, 3, err));
    snprintf(path, sizeof path, chamber ? "%s/data_files/t1_n2o/Y_real_scaled_Combined_%zu.npy"
                                        : "%s/data_files/t1_co2/Y_real_scaled_ECfluxnet_Combined_%zu.npy", e->dest, num);
    AF_CHECK(af__npy_write_f32(path, oy, sy, 3, err));
cleanup:
    free(x);
    free(y);
    free(ox);
    free(oy);
    return rc;
}

int af__export_sites(af_export *e, size_t *nfiles, af_error *err)
{
    int rc = AF_OK;
    size_t nsite = e->idx.nsamples - e->ncounty, a = nsite * (size_t)e->rank / (size_t)e->size;
    size_t b = nsite * (size_t)(e->rank + 1) / (size_t)e->size, nco2 = 0, nn2o = 0;
    int co2cols[2] = { e->gpp, e->nee }, n2ocols[1] = { e->n2o };
    *nfiles = 0;
    for (size_t s = 0; s < b; s++) {
        int mine = s >= a;
        if (e->co2[s]) {
            if (mine) AF_CHECK(site_files(e, e->ncounty + s, 0, co2cols, 2, nco2, err));
            if (mine) *nfiles += 2;
            nco2++;
        }
        if (e->n2o_site[s]) {
            if (mine) AF_CHECK(site_files(e, e->ncounty + s, 1, n2ocols, 1, nn2o, err));
            if (mine) *nfiles += 2;
            nn2o++;
        }
    }
cleanup:
    return rc;
}
