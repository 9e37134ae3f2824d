/* SPDX-License-Identifier: MIT */
/*
 * fuzz_index.c: libFuzzer harness for the index.json reader (src/output/index.c,
 * af_index_read), which `verify`, `inspect`, `export` and the training side trust:
 * the input is written as OUTDIR/index.json and read; an index that reads is
 * written back with af_index_write and read again.
 * Invariants: a read index is consistent (calendar days >= 1, shard hashes of 64
 * hex digits, relative shard paths, every sample id found again); the writer
 * accepts whatever the reader accepted, and the index it writes reads back the
 * same (reals to the 10 significant digits the writer keeps); a failed read frees
 * everything.
 */
#include <math.h>
#include <string.h>

#include "agroflux/index.h"
#include "fuzz_common.h"

static void check_index(const af_index *idx)
{
    FZ_ASSERT(idx->ndays >= 1 && idx->shard_samples >= 1);
    for (size_t k = 0; k < idx->nshards; k++) {
        FZ_ASSERT(strlen(idx->shards[k].sha256) == 64);
        FZ_ASSERT(idx->shards[k].path[0] != '\0' && idx->shards[k].path[0] != '/');
    }
    for (size_t i = 0; i < idx->nsamples; i++) {
        long f = af_index_find_sample(idx, idx->samples[i].id);
        FZ_ASSERT(f >= 0 && (size_t)f <= i);
    }
    FZ_ASSERT(af_index_find_sample(idx, "") == -1);
}

static int near(double a, double b) { return fabs(a - b) <= 1e-9 * fabs(a) + 1e-300; }

static void check_same(const af_index *a, const af_index *b)
{
    FZ_ASSERT(!strcmp(a->pipeline_name, b->pipeline_name) && !strcmp(a->config_sha256, b->config_sha256));
    FZ_ASSERT(!strcmp(a->calendar, b->calendar) && a->ndays == b->ndays && !strcmp(a->format, b->format));
    FZ_ASSERT(a->shard_samples == b->shard_samples && a->ninputs == b->ninputs && a->ntargets == b->ntargets);
    for (size_t i = 0; i < a->ninputs; i++) FZ_ASSERT(!strcmp(a->inputs[i].name, b->inputs[i].name));
    for (size_t i = 0; i < a->ntargets; i++) FZ_ASSERT(!strcmp(a->targets[i].sign, b->targets[i].sign));
    FZ_ASSERT(a->nshards == b->nshards && a->nsamples == b->nsamples);
    for (size_t k = 0; k < a->nshards; k++) {
        const af_shard_info *x = &a->shards[k], *y = &b->shards[k];
        FZ_ASSERT(!strcmp(x->path, y->path) && !strcmp(x->sha256, y->sha256) && x->bytes == y->bytes &&
                  x->sample_start == y->sample_start && x->sample_count == y->sample_count);
    }
    for (size_t i = 0; i < a->nsamples; i++) {
        const af_sample *x = &a->samples[i], *y = &b->samples[i];
        FZ_ASSERT(!strcmp(x->id, y->id) && x->kind == y->kind && !strcmp(x->fips, y->fips) &&
                  !strcmp(x->scenario, y->scenario) && x->county_rank == y->county_rank);
        FZ_ASSERT(near(x->lat, y->lat) && near(x->lon, y->lon));
    }
    FZ_ASSERT(a->ranks == b->ranks && a->peak_rss_bytes == b->peak_rss_bytes &&
              a->resumed_from_day == b->resumed_from_day && !strcmp(a->created, b->created));
    FZ_ASSERT(a->nprov_inputs == b->nprov_inputs && a->ntimings == b->ntimings);
    FZ_ASSERT(!strcmp(a->prov_ref.path, b->prov_ref.path) && a->prov_ref.count == b->prov_ref.count);
    FZ_ASSERT(a->nrank_peak_rss == b->nrank_peak_rss && a->nrank_max_fds == b->nrank_max_fds);
    FZ_ASSERT((a->extra_json == NULL) == (b->extra_json == NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    af_error err = AF_ERROR_INIT;
    af_index idx, back;
    fz_write(AF_INDEX_NAME, data, size, path, sizeof path);
    if (af_index_read(fz_dir(), &idx, &err) == AF_OK) {
        check_index(&idx);
        FZ_ASSERT(af_index_write(fz_dir(), &idx, &err) == AF_OK);
        FZ_ASSERT(af_index_read(fz_dir(), &back, &err) == AF_OK);
        check_same(&idx, &back);
        af_index_dispose(&back);
        af_index_dispose(&idx);
    } else {
        fz_rejected("index", &err);
        FZ_ASSERT(err.msg[0] != '\0' && idx.samples == NULL && idx.shards == NULL);
    }
    return 0;
}
