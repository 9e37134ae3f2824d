/* SPDX-License-Identifier: MIT */
/*
 * fuzz_index.c: libFuzzer harness for the index.json reader (src/output/index.c,
 * af_index_read), which `verify`, `inspect`, `export` and the training side trust:
 * the input is written as OUTDIR/index.json and read.
 * Invariants: a read index is consistent (calendar days >= 1, samples at the
 * shard and row their position gives, shard hashes of 64 hex digits, relative
 * shard paths); every sample id is found again; a failed read frees everything.
 */
#include <string.h>

#include "agroflux/index.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    af_error err = AF_ERROR_INIT;
    af_index idx;
    fz_write(AF_INDEX_NAME, data, size, path, sizeof path);
    if (af_index_read(fz_dir(), &idx, &err) == AF_OK) {
        FZ_ASSERT(idx.ndays >= 1 && idx.shard_samples >= 1);
        for (size_t k = 0; k < idx.nshards; k++) {
            FZ_ASSERT(strlen(idx.shards[k].sha256) == 64);
            FZ_ASSERT(idx.shards[k].path[0] != '\0' && idx.shards[k].path[0] != '/');
        }
        for (size_t i = 0; i < idx.nsamples; i++) {
            long f = af_index_find_sample(&idx, idx.samples[i].id);
            FZ_ASSERT(f >= 0 && (size_t)f <= i);
        }
        FZ_ASSERT(af_index_find_sample(&idx, "") == -1);
        af_index_dispose(&idx);
    } else {
        fz_rejected("index", &err);
        FZ_ASSERT(err.msg[0] != '\0' && idx.samples == NULL && idx.shards == NULL);
    }
    return 0;
}
