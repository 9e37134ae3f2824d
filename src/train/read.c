/* SPDX-License-Identifier: MIT */
/*
 * read.c: reads a rectangle (samples x days) of inputs and targets back from
 * finished shards (af_shard_read_block of agroflux/output.h, which knows the
 * layout), one call per shard touched. Used by the scaler pass and the export.
 * Not collective.
 */
#include <stdio.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "train_impl.h"

int af__train_read(const af_train_view *v, size_t s0, size_t ns, int t0, int nt, float *x, float *y,
                   af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    size_t s = s0;
    AF_CHECK_ARG(v != NULL && v->shard_samples > 0 && s0 + ns <= v->nsamples);
    while (s < s0 + ns) {
        size_t k = s / v->shard_samples, row = s % v->shard_samples;
        AF_CHECK_ARG(k < v->nshards);
        size_t rows = v->shards[k].sample_count - row;
        if (rows > s0 + ns - s) rows = s0 + ns - s;
        AF_CHECK(af_path_join(v->outdir, v->shards[k].path, path, sizeof path, err));
        size_t off = (s - s0) * (size_t)nt;
        AF_CHECK(af_shard_read_block(path, row, rows, t0, nt, x ? x + off * v->ninputs : NULL,
                                     y ? y + off * v->ntargets : NULL, err));
        s += rows;
    }
cleanup:
    return rc;
}
