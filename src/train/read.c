/* SPDX-License-Identifier: MIT */
/*
 * read.c: reads a rectangle (samples x days) of x and y back from finished
 * shards with PnetCDF on MPI_COMM_SELF, one get per shard touched. Used by the
 * scaler pass and the export. Not collective.
 */
#include <stdio.h>
#include <string.h>

#include <pnetcdf.h>

#include "af_check.h"
#include "af_util.h"
#include "train_impl.h"

static int get_var(int ncid, const char *path, const char *name, size_t row, size_t rows, int t0, int nt,
                   size_t nv, float *out, af_error *err)
{
    int rc = AF_OK, id, ncrc;
    MPI_Offset start[3] = { (MPI_Offset)row, t0, 0 }, count[3] = { (MPI_Offset)rows, nt, (MPI_Offset)nv };
    ncrc = ncmpi_inq_varid(ncid, name, &id);
    if (ncrc == NC_NOERR) ncrc = ncmpi_get_vara_float_all(ncid, id, start, count, out);
    if (ncrc != NC_NOERR) AF_FAIL(AF_ENC, "'%s': variable %s: %s", path, name, ncmpi_strerror(ncrc));
cleanup:
    return rc;
}

int af__train_read(const af_train_view *v, size_t s0, size_t ns, int t0, int nt, float *x, float *y,
                   af_error *err)
{
    int rc = AF_OK, ncid = -1, ncrc;
    char path[4400];
    size_t s = s0;
    AF_CHECK_ARG(v != NULL && v->shard_samples > 0 && s0 + ns <= v->nsamples);
    while (s < s0 + ns) {
        size_t k = s / v->shard_samples, row = s % v->shard_samples;
        AF_CHECK_ARG(k < v->nshards);
        size_t rows = v->shards[k].sample_count - row;
        if (rows > s0 + ns - s) rows = s0 + ns - s;
        AF_CHECK(af_path_join(v->outdir, v->shards[k].path, path, sizeof path, err));
        ncrc = ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid);
        if (ncrc != NC_NOERR) AF_FAIL(AF_ENC, "cannot open shard '%s': %s", path, ncmpi_strerror(ncrc));
        size_t off = (s - s0) * (size_t)nt;
        if (x && v->ninputs) AF_CHECK(get_var(ncid, path, "x", row, rows, t0, nt, v->ninputs, x + off * v->ninputs, err));
        if (y && v->ntargets) AF_CHECK(get_var(ncid, path, "y", row, rows, t0, nt, v->ntargets, y + off * v->ntargets, err));
        ncmpi_close(ncid);
        ncid = -1;
        s += rows;
    }
cleanup:
    if (ncid >= 0) ncmpi_close(ncid);
    return rc;
}
